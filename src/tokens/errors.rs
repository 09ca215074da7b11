//! Why minting or a session operation failed: [`IssueError`] and [`SessionError`], each with
//! the response a server sends for it.

use std::fmt;

use http::HeaderValue;
use http::header::CONTENT_TYPE;

use crate::error::AuthError;
use crate::revocation::StoreError;

/// Why a token could not be minted.
///
/// ```
/// use tower_jwt_auth::tokens::IssueError;
/// use tower_jwt_auth::{SigningKey, TokenIssuer};
///
/// let issuer = TokenIssuer::new(SigningKey::hs256([7u8; 32])?);
/// let err = issuer.issue(&"a string is not a claims object").unwrap_err();
/// assert!(matches!(err, IssueError::ClaimsNotAnObject));
/// # Ok::<(), tower_jwt_auth::keys::KeyError>(())
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum IssueError {
    /// The claims do not serialize to a JSON object.
    ClaimsNotAnObject,
    /// Serializing the claims failed.
    Serialize(serde_json::Error),
    /// Signing failed (the key does not fit its algorithm).
    Sign(jsonwebtoken::errors::Error),
    /// The system's random number generator failed (for `jti`).
    Random,
    /// A key thumbprint to bind a token to that is not an RFC 7638 SHA-256 thumbprint
    /// (43 base64url characters).
    InvalidThumbprint,
}

impl fmt::Display for IssueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ClaimsNotAnObject => f.write_str("claims must serialize to a JSON object"),
            Self::Serialize(e) => write!(f, "claims could not be serialized: {e}"),
            Self::Sign(e) => write!(f, "token could not be signed: {e}"),
            Self::Random => f.write_str("the system random number generator failed"),
            Self::InvalidThumbprint => {
                f.write_str("not an RFC 7638 SHA-256 key thumbprint (43 base64url characters)")
            }
        }
    }
}

impl std::error::Error for IssueError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Serialize(e) => Some(e),
            Self::Sign(e) => Some(e),
            _ => None,
        }
    }
}

/// Why a refresh or logout failed; in axum it is a response as it is (the same RFC 6750 answer
/// the layer gives).
///
/// ```
/// use tower_jwt_auth::tokens::SessionError;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// # use tower_jwt_auth::{JwtSessions, SigningKey, VerifyingKey, revocation::MemoryStore};
/// # let secret = b"an HS256 secret of at least 32 bytes!";
/// # let sessions = JwtSessions::new(SigningKey::hs256(secret)?, VerifyingKey::hs256(secret)?, MemoryStore::new());
/// let err = sessions.refresh("not.a.token").await.unwrap_err();
/// assert!(matches!(err, SessionError::Invalid(_)));
/// assert_eq!(err.status(), 401);
/// assert!(err.to_response().headers().contains_key("www-authenticate"));
/// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum SessionError {
    /// The refresh token was refused (expired, forged, revoked, an access token, ...).
    Invalid(AuthError),
    /// The refresh token had been used already: its whole family is now revoked.
    Reused,
    /// The revocation store cannot answer; nothing was issued.
    Unavailable(StoreError),
    /// Minting the new tokens failed.
    Issue(IssueError),
}

impl SessionError {
    /// The HTTP status: 401 for a refused or reused token, 503 when the store is down, 500 when
    /// minting failed.
    pub fn status(&self) -> http::StatusCode {
        match self {
            Self::Invalid(err) => err.status(),
            Self::Reused => http::StatusCode::UNAUTHORIZED,
            Self::Unavailable(_) => http::StatusCode::SERVICE_UNAVAILABLE,
            Self::Issue(_) => http::StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The same answer the layer gives (RFC 6750 challenge and JSON body).
    pub fn to_response(&self) -> http::Response<bytes::Bytes> {
        match self {
            Self::Invalid(err) => err.to_response(None),
            Self::Reused => AuthError::Revoked.to_response(None),
            Self::Unavailable(_) => AuthError::RevocationUnavailable.to_response(None),
            Self::Issue(_) => {
                let mut response =
                    http::Response::new(bytes::Bytes::from_static(br#"{"error":"server_error"}"#));
                *response.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
                response
                    .headers_mut()
                    .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                response
            }
        }
    }
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Invalid(err) => write!(f, "refresh token refused: {err}"),
            Self::Reused => f.write_str("refresh token reused: its login has been revoked"),
            Self::Unavailable(err) => err.fmt(f),
            Self::Issue(err) => err.fmt(f),
        }
    }
}

impl std::error::Error for SessionError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Invalid(err) => Some(err),
            Self::Unavailable(err) => Some(err),
            Self::Issue(err) => Some(err),
            Self::Reused => None,
        }
    }
}

impl From<IssueError> for SessionError {
    fn from(err: IssueError) -> Self {
        Self::Issue(err)
    }
}

#[cfg(feature = "axum")]
impl axum_core::response::IntoResponse for SessionError {
    fn into_response(self) -> axum_core::response::Response {
        match &self {
            Self::Issue(err) => {
                tracing::error!(target: "tower_jwt_auth", error = %err, "minting tokens failed");
            }
            Self::Unavailable(err) => {
                tracing::warn!(target: "tower_jwt_auth", error = %err, "refresh refused: revocation store unavailable");
            }
            _ => {}
        }
        self.to_response().map(axum_core::body::Body::from)
    }
}
