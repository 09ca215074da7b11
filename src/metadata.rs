//! OAuth 2.0 Protected Resource Metadata (RFC 9728): the document a resource server publishes
//! at `/.well-known/oauth-protected-resource` so that clients (MCP clients among them) learn
//! which authorization servers issue its tokens and which scopes it knows, and the
//! `resource_metadata` parameter its challenges point them to it with.

use std::fmt;

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderValue, Response, Uri};
use serde::Serialize;

use crate::authorize::Requirement;
use crate::middleware::JwtLayer;
use crate::redact::UrlText;

/// The well-known path segment of RFC 9728 §3.
const WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";

/// A protected resource's metadata document (RFC 9728 §2), and where it is served.
///
/// Build it from the layer that protects the resource ([`JwtLayer::resource_metadata_for`]: the
/// layer's issuers become `authorization_servers`, its token source `bearer_methods_supported`),
/// add the scopes of the routes' [`Requirement`]s, serve it at [`path`](Self::path), and let the
/// layer's challenges point to it ([`JwtLayer::resource_metadata`]). Members with no value are
/// left out of the document, never `null`. `resource` is kept byte for byte: clients send it
/// back as the token request's `resource`, and tokens for it carry it as `aud`.
///
/// ```
/// use tower_jwt_auth::{JwtLayer, Requirement, VerifyingKey};
///
/// let layer = JwtLayer::<serde_json::Value>::new(VerifyingKey::hs256([7u8; 32])?)
///     .issuer("https://auth.example.com")
///     .audience("https://api.example.com/mcp");
/// let tools = Requirement::<serde_json::Value>::scope("mcp:tools");
/// let metadata = layer
///     .resource_metadata_for("https://api.example.com/mcp")?
///     .scopes_of(&tools)
///     .resource_name("Example MCP server");
/// assert_eq!(metadata.path(), "/.well-known/oauth-protected-resource/mcp");
/// assert_eq!(metadata.url(), "https://api.example.com/.well-known/oauth-protected-resource/mcp");
/// assert_eq!(
///     std::str::from_utf8(&metadata.json())?,
///     r#"{"resource":"https://api.example.com/mcp","authorization_servers":["https://auth.example.com"],"scopes_supported":["mcp:tools"],"bearer_methods_supported":["header"],"resource_name":"Example MCP server"}"#
/// );
/// // Every challenge of the layer now names the document.
/// let layer = layer.resource_metadata(&metadata);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ResourceMetadata {
    resource: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    authorization_servers: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    scopes_supported: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    bearer_methods_supported: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_documentation: Option<String>,
    /// Where the document is served (not a member of it).
    #[serde(skip)]
    url: String,
    #[serde(skip)]
    path: String,
}

/// Why a resource identifier or a URL in the metadata was refused; each holds the URL as
/// given less its user information, query and fragment, which may carry a credential.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MetadataError {
    /// Not an absolute URL (`https://host/path`).
    NotAUrl(String),
    /// Not `https` (plain `http` is accepted for `localhost` and loopback addresses only).
    NotHttps(String),
    /// A fragment (`#…`), which RFC 9728 §1.2 forbids in a resource identifier.
    Fragment(String),
    /// User information (`user@`), which RFC 9110 §4.2.4 forbids in an `http(s)` URI and which
    /// would reach every client in the challenges.
    UserInfo(String),
}

impl fmt::Display for MetadataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotAUrl(url) => write!(f, "`{url}` is not an absolute URL"),
            Self::NotHttps(url) => write!(
                f,
                "`{url}` is not https (http is only for localhost and loopback addresses)"
            ),
            Self::Fragment(url) => write!(f, "`{url}` has a fragment, which RFC 9728 forbids"),
            Self::UserInfo(url) => write!(f, "`{url}` has user information (`…@`)"),
        }
    }
}

impl std::error::Error for MetadataError {}

impl ResourceMetadata {
    /// The metadata of the resource identified by `resource` (an `https` URL without a
    /// fragment; `http` for `localhost` and loopback addresses, for development), with no
    /// member but `resource` yet.
    ///
    /// ```
    /// use tower_jwt_auth::metadata::{MetadataError, ResourceMetadata};
    ///
    /// assert!(ResourceMetadata::new("https://api.example.com").is_ok());
    /// assert!(ResourceMetadata::new("http://127.0.0.1:3000/mcp").is_ok());
    /// assert!(matches!(ResourceMetadata::new("http://api.example.com"), Err(MetadataError::NotHttps(_))));
    /// assert!(matches!(ResourceMetadata::new("https://api.example.com/#x"), Err(MetadataError::Fragment(_))));
    /// assert!(matches!(ResourceMetadata::new("/mcp"), Err(MetadataError::NotAUrl(_))));
    /// ```
    ///
    /// # Errors
    /// [`MetadataError`] for anything else.
    pub fn new(resource: impl Into<String>) -> Result<Self, MetadataError> {
        let resource = resource.into();
        let uri = checked_url(&resource)?;
        // RFC 9728 §3.1: the well-known path goes between the host and the path, a lone `/`
        // path dropped; the query, if any, stays at the end.
        let path = match uri.path() {
            "/" | "" => WELL_KNOWN.to_owned(),
            path => format!("{WELL_KNOWN}{path}"),
        };
        let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
        let scheme = uri.scheme_str().unwrap_or("https");
        let authority = uri.authority().map_or("", |a| a.as_str());
        Ok(Self {
            url: format!("{scheme}://{authority}{path}{query}"),
            path,
            resource,
            authorization_servers: Vec::new(),
            scopes_supported: Vec::new(),
            bearer_methods_supported: Vec::new(),
            resource_name: None,
            resource_documentation: None,
        })
    }

    /// The authorization server (its issuer identifier) whose tokens this resource accepts,
    /// replacing any set before ([`authorization_servers`](Self::authorization_servers) for
    /// several).
    ///
    /// ```
    /// # use tower_jwt_auth::metadata::ResourceMetadata;
    /// let metadata = ResourceMetadata::new("https://api.example.com")?.authorization_server("https://auth.example.com");
    /// # Ok::<(), tower_jwt_auth::metadata::MetadataError>(())
    /// ```
    pub fn authorization_server(self, issuer: impl Into<String>) -> Self {
        self.authorization_servers([issuer])
    }

    /// The authorization servers whose tokens this resource accepts, replacing any set before.
    ///
    /// ```
    /// # use tower_jwt_auth::metadata::ResourceMetadata;
    /// let metadata = ResourceMetadata::new("https://api.example.com")?
    ///     .authorization_servers(["https://a.example.com", "https://b.example.com"]);
    /// # Ok::<(), tower_jwt_auth::metadata::MetadataError>(())
    /// ```
    pub fn authorization_servers<I: IntoIterator<Item = impl Into<String>>>(
        mut self,
        issuers: I,
    ) -> Self {
        self.authorization_servers = issuers.into_iter().map(Into::into).collect();
        self
    }

    /// Adds the OAuth scopes a [`Requirement`] demands to `scopes_supported` (each once): the
    /// list comes from the values that enforce the scopes.
    ///
    /// ```
    /// # use tower_jwt_auth::metadata::ResourceMetadata;
    /// use tower_jwt_auth::Requirement;
    ///
    /// let read = Requirement::<serde_json::Value>::scope("orders:read");
    /// let metadata = ResourceMetadata::new("https://api.example.com")?.scopes_of(&read);
    /// # Ok::<(), tower_jwt_auth::metadata::MetadataError>(())
    /// ```
    pub fn scopes_of<C>(mut self, requirement: &Requirement<C>) -> Self {
        for scope in requirement.scopes() {
            if !self.scopes_supported.iter().any(|s| s == scope) {
                self.scopes_supported.push(scope.to_owned());
            }
        }
        self
    }

    /// `scopes_supported`, replacing any set before (for scopes no [`Requirement`] names, such
    /// as those a handler checks by hand).
    ///
    /// ```
    /// # use tower_jwt_auth::metadata::ResourceMetadata;
    /// let metadata = ResourceMetadata::new("https://api.example.com")?.scopes_supported(["profile"]);
    /// # Ok::<(), tower_jwt_auth::metadata::MetadataError>(())
    /// ```
    pub fn scopes_supported<I: IntoIterator<Item = impl Into<String>>>(
        mut self,
        scopes: I,
    ) -> Self {
        self.scopes_supported = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// `resource_name`: a name for people (RFC 9728 §2).
    ///
    /// ```
    /// # use tower_jwt_auth::metadata::ResourceMetadata;
    /// let metadata = ResourceMetadata::new("https://api.example.com")?.resource_name("Orders API");
    /// # Ok::<(), tower_jwt_auth::metadata::MetadataError>(())
    /// ```
    pub fn resource_name(mut self, name: impl Into<String>) -> Self {
        self.resource_name = Some(name.into());
        self
    }

    /// `resource_documentation`: where people read about the resource.
    ///
    /// ```
    /// # use tower_jwt_auth::metadata::ResourceMetadata;
    /// let metadata = ResourceMetadata::new("https://api.example.com")?
    ///     .resource_documentation("https://docs.example.com/api")?;
    /// # Ok::<(), tower_jwt_auth::metadata::MetadataError>(())
    /// ```
    ///
    /// # Errors
    /// [`MetadataError`] when `url` is not an `https` URL (as for [`new`](Self::new)).
    pub fn resource_documentation(mut self, url: impl Into<String>) -> Result<Self, MetadataError> {
        let url = url.into();
        checked_url(&url)?;
        self.resource_documentation = Some(url);
        Ok(self)
    }

    /// The resource identifier, as given.
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// Where the document is served: the resource's origin, the well-known path, then the
    /// resource's path (RFC 9728 §3.1). What [`JwtLayer::resource_metadata`] puts in the
    /// challenges.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The path to route the document at in the app (the path of [`url`](Self::url)).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The document as JSON.
    pub fn json(&self) -> Bytes {
        // Strings and lists of strings: serializing cannot fail.
        Bytes::from(serde_json::to_vec(self).unwrap_or_default())
    }

    /// The document as an HTTP response: `application/json`, cacheable for an hour.
    ///
    /// ```
    /// let metadata = tower_jwt_auth::metadata::ResourceMetadata::new("https://api.example.com")?;
    /// let response = metadata.to_response();
    /// assert_eq!(response.headers()["content-type"], "application/json");
    /// # Ok::<(), tower_jwt_auth::metadata::MetadataError>(())
    /// ```
    pub fn to_response(&self) -> Response<Bytes> {
        let mut response = Response::new(self.json());
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("max-age=3600"));
        response
    }
}

/// The document as an axum response, e.g.
/// `.route(metadata.path(), get(move || std::future::ready(metadata.clone())))`.
#[cfg(feature = "axum")]
impl axum_core::response::IntoResponse for ResourceMetadata {
    fn into_response(self) -> axum_core::response::Response {
        self.to_response().map(axum_core::body::Body::from)
    }
}

/// `url` as an error may show it.
fn shown(url: &str) -> String {
    UrlText(url).to_string()
}

/// `url` as an absolute `https` URL without a fragment (`http` for loopback hosts).
fn checked_url(url: &str) -> Result<Uri, MetadataError> {
    if url.contains('#') {
        return Err(MetadataError::Fragment(shown(url)));
    }
    // Only what a URI holds unescaped (RFC 3986 §2): no space, quote, backslash or non-ASCII,
    // which would end up unescaped or dropped in a challenge's quoted string.
    if !url
        .bytes()
        .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
    {
        return Err(MetadataError::NotAUrl(shown(url)));
    }
    let uri: Uri = url
        .parse()
        .map_err(|_| MetadataError::NotAUrl(shown(url)))?;
    let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
        return Err(MetadataError::NotAUrl(shown(url)));
    };
    if authority.as_str().contains('@') {
        return Err(MetadataError::UserInfo(shown(url)));
    }
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']');
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match scheme {
        "https" => Ok(uri),
        "http" if loopback => Ok(uri),
        "http" => Err(MetadataError::NotHttps(shown(url))),
        _ => Err(MetadataError::NotAUrl(shown(url))),
    }
}

impl<C> JwtLayer<C> {
    /// The protected-resource metadata of `resource` as this layer sees it: its issuers (the
    /// configured `iss`, the one found by discovery, or each trusted issuer) as
    /// `authorization_servers`, and `bearer_methods_supported: ["header"]` when it reads the
    /// `Authorization` header. Add the scopes with [`ResourceMetadata::scopes_of`].
    ///
    /// # Errors
    /// As [`ResourceMetadata::new`].
    pub fn resource_metadata_for(
        &self,
        resource: impl Into<String>,
    ) -> Result<ResourceMetadata, MetadataError> {
        let mut metadata = ResourceMetadata::new(resource)?
            .authorization_servers(self.issuer_names().map(str::to_owned));
        if self.reads_authorization_header() {
            metadata.bearer_methods_supported = vec!["header"];
        }
        Ok(metadata)
    }
}
