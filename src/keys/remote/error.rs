//! [`FetchError`]: why remote keys could not be had, as a kind a caller can match and a text
//! that names the URL (without credentials) and the cause.

use std::fmt;

use http::StatusCode;

/// Why a [`RemoteJwks`](crate::RemoteJwks) could not be built or has no keys: its
/// [`kind`](Self::kind) to match on, the [`url`](Self::url) it concerns (user, password, query
/// and fragment removed), and a human text (`Display`).
///
/// ```
/// use tower_jwt_auth::RemoteJwks;
/// use tower_jwt_auth::keys::FetchErrorKind;
///
/// let err = RemoteJwks::new("ftp://idp.example/jwks").unwrap_err();
/// assert_eq!(err.kind(), &FetchErrorKind::BadUrl);
/// assert_eq!(err.to_string(), "`ftp://idp.example/jwks` is not an absolute http(s) URL");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchError {
    url: Box<str>,
    kind: FetchErrorKind,
    detail: Box<str>,
}

/// What went wrong in a [`FetchError`].
///
/// ```no_run
/// use tower_jwt_auth::RemoteJwks;
/// use tower_jwt_auth::keys::FetchErrorKind;
///
/// # #[tokio::main] async fn main() -> Result<(), tower_jwt_auth::keys::FetchError> {
/// let keys = RemoteJwks::new("https://idp.example.com/.well-known/jwks.json")?;
/// if let Err(err) = keys.ready(std::time::Duration::from_secs(3)).await {
///     match err.kind() {
///         FetchErrorKind::Status(status) if status.is_server_error() => eprintln!("provider down: {err}"),
///         FetchErrorKind::Timeout | FetchErrorKind::Network => eprintln!("provider unreachable: {err}"),
///         _ => return Err(err), // a configuration error: stop
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FetchErrorKind {
    /// The JWKS URL or issuer given is not an absolute `http(s)` URL (an issuer also must have
    /// no query or fragment), or a discovery document's `jwks_uri` is not one (or is `http`
    /// for an `https` issuer).
    BadUrl,
    /// The HTTP client could not be built (no TLS backend).
    Client,
    /// No complete answer within the total timeout, or [`ready`](crate::RemoteJwks::ready)'s
    /// timeout passed before any fetch ended.
    Timeout,
    /// The connection failed: DNS, TCP, TLS, or a response cut off.
    Network,
    /// The server answered with a status other than 2xx.
    Status(StatusCode),
    /// The document is over 1 MiB; it was not read to its end.
    TooLarge,
    /// The answer is not a usable document: not a JWKS with a signing key this crate can use, or
    /// not a discovery document with `issuer` and `jwks_uri`.
    BadDocument,
    /// The discovery document names another issuer than the one it was fetched for (OpenID
    /// Connect Discovery §4.3): no key is taken from it.
    IssuerMismatch {
        /// The issuer the document was fetched for.
        expected: String,
        /// The issuer the document names (its first 256 characters).
        found: String,
    },
}

impl FetchErrorKind {
    /// A snake_case name of the kind, the `outcome` label of a failed fetch's metric.
    pub(crate) fn label(&self) -> &'static str {
        match self {
            Self::BadUrl => "bad_url",
            Self::Client => "client",
            Self::Timeout => "timeout",
            Self::Network => "network",
            Self::Status(_) => "status",
            Self::TooLarge => "too_large",
            Self::BadDocument => "bad_document",
            Self::IssuerMismatch { .. } => "issuer_mismatch",
        }
    }
}

impl FetchError {
    pub(crate) fn new(
        url: impl fmt::Display,
        kind: FetchErrorKind,
        detail: impl fmt::Display,
    ) -> Self {
        Self {
            url: url.to_string().into(),
            kind,
            detail: detail.to_string().into(),
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> &FetchErrorKind {
        &self.kind
    }

    /// The URL fetched (or given, for [`FetchErrorKind::BadUrl`]), without user, password,
    /// query or fragment.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            FetchErrorKind::BadUrl if self.detail.is_empty() => {
                write!(f, "`{}` is not an absolute http(s) URL", self.url)
            }
            FetchErrorKind::BadUrl => write!(f, "`{}`: {}", self.url, self.detail),
            FetchErrorKind::IssuerMismatch { expected, found } => write!(
                f,
                "GET {}: the discovery document for `{expected}` names another issuer, `{found}`",
                self.url
            ),
            _ => write!(f, "GET {}: {}", self.url, self.detail),
        }
    }
}

impl std::error::Error for FetchError {}
