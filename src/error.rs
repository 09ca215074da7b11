//! Why a request was refused, and the response that says so: RFC 6750 `WWW-Authenticate` and a
//! small JSON body over HTTP, a gRPC status for gRPC calls.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{HeaderValue, Response, StatusCode};

/// Why a request was refused: no acceptable token (401), malformed or repeated credentials
/// (400), a valid token that lacks a scope or its CSRF value (403), or a revocation store or
/// key source that cannot answer (503).
///
/// `status()` and the RFC 6750 error code follow from the variant; [`JwtLayer::on_error`]
/// replaces the default response of every refusal under the layer.
///
/// ```
/// use http::StatusCode;
/// use tower_jwt_auth::AuthError;
///
/// let refused = AuthError::Expired;
/// assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
/// assert_eq!(refused.error_code(), Some("invalid_token"));
/// assert_eq!(refused.description(), "token expired");
/// assert_eq!(
///     refused.www_authenticate(Some("api")),
///     r#"Bearer realm="api", error="invalid_token", error_description="token expired""#,
/// );
/// // Match to map refusals to the app's own answers.
/// let retry = matches!(refused, AuthError::RevocationUnavailable | AuthError::KeysUnavailable);
/// assert!(!retry);
/// ```
///
/// [`JwtLayer::on_error`]: crate::JwtLayer::on_error
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthError {
    /// No `Authorization: Bearer` credentials at all (401, no error code).
    MissingToken,
    /// The `Authorization` header is malformed or repeated, or the token cookie is repeated
    /// (400 `invalid_request`).
    InvalidRequest,
    /// The token is longer than the configured maximum; it was not decoded.
    TooLong {
        /// The token's length in bytes.
        len: usize,
        /// The configured maximum.
        max: usize,
    },
    /// Not a JWT at all: not three `.`-separated parts (an opaque token such as an OAuth
    /// reference token, or a five-part JWE).
    NotJwt,
    /// Three parts, but not a compact JWS: a part that is not base64url, or a header or payload
    /// that is not JSON.
    Malformed,
    /// The header's `alg` is `none`, unknown, or not the algorithm of the key.
    DisallowedAlgorithm,
    /// The header lists `crit` extensions, none of which this crate implements (RFC 7515 §4.1.11).
    UnsupportedCriticalHeader,
    /// The header's `kid` names no configured key.
    UnknownKey,
    /// The signature does not verify.
    InvalidSignature,
    /// The payload is not a JSON object of the expected shape (a registered claim of the wrong
    /// JSON type, a repeated claim, or claims that do not deserialize into the app's type).
    InvalidClaims,
    /// `exp` has passed (leeway included).
    Expired,
    /// `nbf` is still ahead (leeway included).
    NotYetValid,
    /// A required claim is absent.
    MissingClaim(Cow<'static, str>),
    /// `iss` is not an accepted issuer.
    InvalidIssuer,
    /// No `aud` value is an accepted audience.
    InvalidAudience,
    /// `sub` is not the expected subject.
    InvalidSubject,
    /// The token type (`typ` header or type claim) is not the expected one, e.g. a refresh
    /// token sent where an access token belongs.
    WrongTokenType,
    /// The token, or its whole login (family), has been revoked.
    Revoked,
    /// The revocation store cannot answer, so the layer fails closed (503).
    RevocationUnavailable,
    /// No signing keys could be had (the JWKS endpoint is down and nothing is cached): 503.
    KeysUnavailable,
    /// A valid token that does not grant what the route requires: 403 `insufficient_scope`.
    InsufficientScope {
        /// The scope (or role) the route requires, for the challenge's `scope` attribute.
        scope: Arc<str>,
    },
    /// A cookie-authenticated request with an unsafe method and no CSRF header: 403.
    CsrfMissing,
    /// The CSRF header does not match the token's CSRF value: 403.
    CsrfMismatch,
    /// The DPoP proof of a `DPoP`-scheme request was refused (RFC 9449 §7.1): 401
    /// `invalid_dpop_proof`.
    InvalidDpopProof(DpopError),
    /// The token and the proof key do not go together: a `DPoP`-scheme request whose token is
    /// not bound to a key (`cnf.jkt`) or to another key, or a bound token presented as
    /// `Bearer` (no downgrade, RFC 9449 §7.2): 401 `invalid_token`.
    DpopBinding,
    /// A `Bearer` token where the layer requires DPoP: 401, a `DPoP` challenge with no error.
    DpopRequired,
    /// The store that remembers DPoP proofs cannot answer, so the layer fails closed (503).
    DpopReplayUnavailable,
}

impl AuthError {
    /// The HTTP status of the default response: 400, 401, 403 or 503.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::InvalidRequest => StatusCode::BAD_REQUEST,
            Self::RevocationUnavailable | Self::KeysUnavailable | Self::DpopReplayUnavailable => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::InsufficientScope { .. } | Self::CsrfMissing | Self::CsrfMismatch => {
                StatusCode::FORBIDDEN
            }
            _ => StatusCode::UNAUTHORIZED,
        }
    }

    /// The RFC 6750 error code, `None` when the request had no credentials at all.
    pub fn error_code(&self) -> Option<&'static str> {
        match self {
            Self::MissingToken
            | Self::RevocationUnavailable
            | Self::KeysUnavailable
            | Self::DpopRequired
            | Self::DpopReplayUnavailable => None,
            Self::InvalidDpopProof(DpopError::UseNonce) => Some("use_dpop_nonce"),
            Self::InvalidDpopProof(_) => Some("invalid_dpop_proof"),
            Self::InvalidRequest | Self::CsrfMissing | Self::CsrfMismatch => {
                Some("invalid_request")
            }
            Self::InsufficientScope { .. } => Some("insufficient_scope"),
            _ => Some("invalid_token"),
        }
    }

    /// A stable snake_case name of the variant (`expired`, `invalid_signature`,
    /// `insufficient_scope`, …): the `reason` label of the crate's metrics, and a key for the
    /// app's own logs or counters.
    ///
    /// ```
    /// use tower_jwt_auth::AuthError;
    ///
    /// assert_eq!(AuthError::Expired.reason(), "expired");
    /// assert_eq!(AuthError::MissingClaim("jti".into()).reason(), "missing_claim");
    /// ```
    pub fn reason(&self) -> &'static str {
        match self {
            Self::MissingToken => "missing_token",
            Self::InvalidRequest => "invalid_request",
            Self::TooLong { .. } => "too_long",
            Self::NotJwt => "not_jwt",
            Self::Malformed => "malformed",
            Self::DisallowedAlgorithm => "disallowed_algorithm",
            Self::UnsupportedCriticalHeader => "unsupported_critical_header",
            Self::UnknownKey => "unknown_key",
            Self::InvalidSignature => "invalid_signature",
            Self::InvalidClaims => "invalid_claims",
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::MissingClaim(_) => "missing_claim",
            Self::InvalidIssuer => "invalid_issuer",
            Self::InvalidAudience => "invalid_audience",
            Self::InvalidSubject => "invalid_subject",
            Self::WrongTokenType => "wrong_token_type",
            Self::Revoked => "revoked",
            Self::RevocationUnavailable => "revocation_unavailable",
            Self::KeysUnavailable => "keys_unavailable",
            Self::InsufficientScope { .. } => "insufficient_scope",
            Self::CsrfMissing => "csrf_missing",
            Self::CsrfMismatch => "csrf_mismatch",
            Self::InvalidDpopProof(DpopError::UseNonce) => "use_dpop_nonce",
            Self::InvalidDpopProof(_) => "invalid_dpop_proof",
            Self::DpopBinding => "dpop_binding",
            Self::DpopRequired => "dpop_required",
            Self::DpopReplayUnavailable => "dpop_replay_unavailable",
        }
    }

    /// A short, fixed description safe to send to the client (never token contents or
    /// library error text).
    pub fn description(&self) -> &'static str {
        match self {
            Self::MissingToken => "no bearer token",
            Self::InvalidRequest => "malformed or repeated credentials",
            Self::TooLong { .. } => "token too long",
            Self::NotJwt => "malformed token: not a JWT",
            Self::Malformed => "malformed token",
            Self::DisallowedAlgorithm => "algorithm not allowed",
            Self::UnsupportedCriticalHeader => "unsupported critical header",
            Self::UnknownKey => "unknown signing key",
            Self::InvalidSignature => "invalid signature",
            Self::InvalidClaims => "invalid claims",
            Self::Expired => "token expired",
            Self::NotYetValid => "token not yet valid",
            Self::MissingClaim(_) => "missing required claim",
            Self::InvalidIssuer => "invalid issuer",
            Self::InvalidAudience => "invalid audience",
            Self::InvalidSubject => "invalid subject",
            Self::WrongTokenType => "wrong token type",
            Self::Revoked => "token revoked",
            Self::RevocationUnavailable => "revocation store unavailable",
            Self::KeysUnavailable => "signing keys unavailable",
            Self::InsufficientScope { .. } => "insufficient scope",
            Self::CsrfMissing => "CSRF token missing",
            Self::CsrfMismatch => "CSRF token does not match",
            Self::InvalidDpopProof(DpopError::UseNonce) => "DPoP proof needs the server's nonce",
            Self::InvalidDpopProof(_) => "invalid DPoP proof",
            Self::DpopBinding => "token binding not satisfied",
            Self::DpopRequired => "DPoP required",
            Self::DpopReplayUnavailable => "DPoP replay store unavailable",
        }
    }

    /// The gRPC status code of gRPC refusals: 14 UNAVAILABLE when the revocation store or the
    /// keys cannot be had, 7 PERMISSION_DENIED for a valid token that lacks a scope (or CSRF
    /// value), 16 UNAUTHENTICATED for every other refusal (a malformed `authorization`
    /// included: the call is not authenticated either way).
    pub(crate) fn grpc_code(&self) -> u8 {
        match self.status() {
            StatusCode::SERVICE_UNAVAILABLE => 14,
            StatusCode::FORBIDDEN => 7,
            _ => 16,
        }
    }

    /// The `WWW-Authenticate` challenge (RFC 6750 §3) for this error.
    ///
    /// ```
    /// use tower_jwt_auth::AuthError;
    ///
    /// assert_eq!(AuthError::MissingToken.www_authenticate(Some("api")), r#"Bearer realm="api""#);
    /// assert_eq!(
    ///     AuthError::Expired.www_authenticate(None),
    ///     r#"Bearer error="invalid_token", error_description="token expired""#
    /// );
    /// ```
    pub fn www_authenticate(&self, realm: Option<&str>) -> HeaderValue {
        self.challenge(realm, None)
    }

    /// The challenge with the URL of the resource's metadata (RFC 9728 §5.1), if any.
    pub(crate) fn challenge(&self, realm: Option<&str>, metadata: Option<&str>) -> HeaderValue {
        let extra = metadata.map(|url| ("resource_metadata", url));
        self.challenge_in("Bearer", realm, extra)
    }

    /// The challenge of `scheme` (`Bearer`, RFC 6750 §3; `DPoP`, RFC 9449 §7.1): the realm,
    /// the error code, its description and the scope, then `extra` (quoted as the others).
    pub(crate) fn challenge_in(
        &self,
        scheme: &'static str,
        realm: Option<&str>,
        extra: Option<(&str, &str)>,
    ) -> HeaderValue {
        let mut params = Vec::with_capacity(5);
        if let Some(realm) = realm {
            params.push(format!("realm=\"{}\"", quoted(realm)));
        }
        if let Some(code) = self.error_code() {
            params.push(format!("error=\"{code}\""));
            params.push(format!("error_description=\"{}\"", self.description()));
        }
        if let Self::InsufficientScope { scope } = self {
            params.push(format!("scope=\"{}\"", quoted(scope)));
        }
        if let Some((name, value)) = extra {
            params.push(format!("{name}=\"{}\"", quoted(value)));
        }
        let value = if params.is_empty() {
            scheme.to_owned()
        } else {
            format!("{scheme} {}", params.join(", "))
        };
        HeaderValue::try_from(value).unwrap_or_else(|_| HeaderValue::from_static(scheme))
    }

    /// The default HTTP response: the status, `WWW-Authenticate`, and a JSON body
    /// `{"error": ..., "error_description": ...}`.
    ///
    /// ```
    /// use tower_jwt_auth::AuthError;
    ///
    /// let response = AuthError::MissingToken.to_response(None);
    /// assert_eq!(response.status(), 401);
    /// assert_eq!(response.headers()["www-authenticate"], "Bearer");
    /// assert_eq!(response.body().as_ref(), br#"{"error":"unauthorized","error_description":"no bearer token"}"#);
    /// ```
    pub fn to_response(&self, realm: Option<&str>) -> Response<Bytes> {
        self.response(realm, None)
    }

    /// The default response, its challenge naming the resource's metadata URL, if any.
    pub(crate) fn response(&self, realm: Option<&str>, metadata: Option<&str>) -> Response<Bytes> {
        let fallback = match self {
            Self::RevocationUnavailable | Self::KeysUnavailable | Self::DpopReplayUnavailable => {
                "temporarily_unavailable"
            }
            _ => "unauthorized",
        };
        let body = serde_json::json!({
            "error": self.error_code().unwrap_or(fallback),
            "error_description": self.description(),
        });
        let mut response = Response::new(Bytes::from(body.to_string()));
        *response.status_mut() = self.status();
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if self.status() == StatusCode::SERVICE_UNAVAILABLE {
            // Not a verdict on the token: no challenge, and a hint to retry soon.
            headers.insert(http::header::RETRY_AFTER, HeaderValue::from_static("1"));
        } else {
            headers.insert(WWW_AUTHENTICATE, self.challenge(realm, metadata));
        }
        response
    }

    /// The gRPC response: HTTP 200 with `grpc-status` and `grpc-message` (a trailers-only
    /// response, as gRPC servers send for a call refused before it ran).
    ///
    /// ```
    /// use tower_jwt_auth::AuthError;
    ///
    /// let response = AuthError::Expired.to_grpc_response();
    /// assert_eq!(response.status(), 200);
    /// assert_eq!(response.headers()["grpc-status"], "16"); // UNAUTHENTICATED
    /// assert_eq!(response.headers()["grpc-message"], "token expired");
    /// ```
    pub fn to_grpc_response(&self) -> Response<Bytes> {
        let mut response = Response::new(Bytes::new());
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
        headers.insert(
            "grpc-status",
            HeaderValue::from(u16::from(self.grpc_code())),
        );
        // Descriptions are fixed ASCII without '%', so they need no percent-encoding.
        headers.insert("grpc-message", HeaderValue::from_static(self.description()));
        response
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLong { len, max } => {
                write!(f, "token of {len} bytes exceeds the {max}-byte limit")
            }
            Self::MissingClaim(claim) => write!(f, "required claim `{claim}` is missing"),
            Self::InsufficientScope { scope } => {
                write!(f, "insufficient scope (requires `{scope}`)")
            }
            Self::InvalidDpopProof(why) => write!(f, "invalid DPoP proof: {why}"),
            other => f.write_str(other.description()),
        }
    }
}

impl std::error::Error for AuthError {}

/// Left in the extensions of a refusal made inside a [`JwtLayer`](crate::JwtLayer) (a
/// `RequireLayer`, a handler's `require()?`, the extractor), so that the layer answers it with
/// its own realm and `on_error`.
#[derive(Clone, Debug)]
pub(crate) struct Refused(pub(crate) AuthError);

#[cfg(feature = "axum")]
impl axum_core::response::IntoResponse for AuthError {
    /// The default response, answered with the enclosing `JwtLayer`'s realm and `on_error`
    /// when there is one.
    fn into_response(self) -> axum_core::response::Response {
        crate::observe::forbidden(self.reason());
        let mut response = self.to_response(None);
        response.extensions_mut().insert(Refused(self));
        response.map(axum_core::body::Body::from)
    }
}

#[cfg(feature = "tonic")]
impl AuthError {
    /// The gRPC status code of this refusal, as [`to_grpc_response`](Self::to_grpc_response)
    /// sends it (cargo feature `tonic`).
    ///
    /// ```
    /// use tower_jwt_auth::AuthError;
    ///
    /// assert_eq!(AuthError::Expired.grpc_status_code(), tonic::Code::Unauthenticated);
    /// assert_eq!(AuthError::KeysUnavailable.grpc_status_code(), tonic::Code::Unavailable);
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "tonic")))]
    pub fn grpc_status_code(&self) -> tonic::Code {
        tonic::Code::from(i32::from(self.grpc_code()))
    }
}

/// A refusal as a tonic `Status` (cargo feature `tonic`): the code of
/// [`AuthError::grpc_status_code`] and the fixed description, for handlers that verify with
/// [`JwtLayer::verify`](crate::JwtLayer::verify) or check a
/// [`Requirement`](crate::Requirement) themselves.
///
/// ```
/// use tower_jwt_auth::AuthError;
///
/// let status = tonic::Status::from(AuthError::Expired);
/// assert_eq!(status.code(), tonic::Code::Unauthenticated);
/// assert_eq!(status.message(), "token expired");
/// ```
#[cfg(feature = "tonic")]
#[cfg_attr(docsrs, doc(cfg(feature = "tonic")))]
impl From<AuthError> for tonic::Status {
    fn from(error: AuthError) -> Self {
        tonic::Status::new(error.grpc_status_code(), error.description())
    }
}

/// Escapes a value for an RFC 7230 quoted-string, dropping what a header cannot carry.
pub(crate) fn quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value
        .chars()
        .filter(|c| c.is_ascii() && !c.is_ascii_control())
    {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_strings_escape_quotes_and_backslashes_and_drop_what_a_header_cannot_carry() {
        assert_eq!(quoted("api"), "api");
        assert_eq!(quoted(r#"a"b\c"#), r#"a\"b\\c"#);
        assert_eq!(quoted("line\r\nbreak\ttab"), "linebreaktab");
        assert_eq!(quoted("café"), "caf");
        assert_eq!(quoted(""), "");
    }

    #[test]
    fn every_refusal_has_a_status_a_grpc_code_and_a_fixed_description() {
        let cases = [
            (AuthError::MissingToken, 401, 16, None),
            (AuthError::InvalidRequest, 400, 16, Some("invalid_request")),
            (AuthError::Expired, 401, 16, Some("invalid_token")),
            (
                AuthError::MissingClaim("exp".into()),
                401,
                16,
                Some("invalid_token"),
            ),
            (AuthError::CsrfMismatch, 403, 7, Some("invalid_request")),
            (
                AuthError::InsufficientScope { scope: "a".into() },
                403,
                7,
                Some("insufficient_scope"),
            ),
            (AuthError::RevocationUnavailable, 503, 14, None),
            (AuthError::KeysUnavailable, 503, 14, None),
        ];
        for (error, status, grpc, code) in cases {
            assert_eq!(error.status().as_u16(), status, "{error:?}");
            assert_eq!(error.grpc_code(), grpc, "{error:?}");
            assert_eq!(error.error_code(), code, "{error:?}");
            assert!(!error.description().is_empty());
        }
    }
}

/// Why a DPoP proof or its binding was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DpopError {
    /// The request has no `DPoP` header.
    Missing,
    /// The request has more than one `DPoP` header (RFC 9449 §4.3 check 1).
    Repeated,
    /// Not a compact JWS with a JSON header and payload, or over 8 KiB.
    Malformed,
    /// The `typ` header is not `dpop+jwt`.
    WrongType,
    /// The `alg` is not an allowed asymmetric algorithm, or not the one of the `jwk`.
    DisallowedAlgorithm,
    /// The header has no `jwk`, or one this crate cannot use (a weak RSA key, another curve).
    InvalidKey,
    /// The `jwk` holds private or symmetric key material.
    PrivateKey,
    /// The signature does not verify with the `jwk`.
    InvalidSignature,
    /// A required claim is absent or of the wrong type (`jti`, `htm`, `htu`, `iat`, `ath`).
    MissingClaim(&'static str),
    /// `htm` is not the request's method.
    MethodMismatch,
    /// `htu` is not the request's URI.
    UriMismatch,
    /// `iat` is outside the allowed window around now.
    Stale,
    /// `ath` is not the hash of the access token presented.
    AccessTokenHashMismatch,
    /// The proof's key is not the one the access token is bound to (`cnf.jkt`).
    KeyMismatch,
    /// The proof's `jti` was seen before within its window: a replayed proof (RFC 9449 §11.1).
    Replayed,
    /// The layer requires server nonces and the proof has none, or not a current one: 401
    /// `use_dpop_nonce` with a fresh nonce in the `DPoP-Nonce` header (RFC 9449 §9).
    UseNonce,
}

impl fmt::Display for DpopError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Self::Missing => "no DPoP proof",
            Self::Repeated => "more than one DPoP proof",
            Self::Malformed => "malformed DPoP proof",
            Self::WrongType => "DPoP proof typ is not dpop+jwt",
            Self::DisallowedAlgorithm => "DPoP proof algorithm not allowed",
            Self::InvalidKey => "DPoP proof key unusable",
            Self::PrivateKey => "DPoP proof key is private",
            Self::InvalidSignature => "DPoP proof signature invalid",
            Self::MissingClaim(claim) => return write!(f, "DPoP proof lacks `{claim}`"),
            Self::MethodMismatch => "DPoP proof htm does not match the request",
            Self::UriMismatch => "DPoP proof htu does not match the request",
            Self::Stale => "DPoP proof iat outside the allowed window",
            Self::AccessTokenHashMismatch => "DPoP proof ath does not match the access token",
            Self::KeyMismatch => "DPoP proof key is not the token's key",
            Self::Replayed => "DPoP proof replayed",
            Self::UseNonce => "DPoP proof without a current server nonce",
        };
        f.write_str(text)
    }
}

impl std::error::Error for DpopError {}
