//! Browser tokens in cookies, done safely: the access and refresh tokens in `HttpOnly; Secure;
//! SameSite=Lax` cookies that scripts cannot read, and a readable CSRF cookie whose value the
//! page echoes in a header (double submit), bound to the token through its `csrf` claim.

use cookie::time::Duration as CookieDuration;
use cookie::{Cookie, SameSite};
use http::{HeaderMap, HeaderName, HeaderValue};
use serde::Serialize;
use serde_json::Value;

use super::errors::{IssueError, SessionError};
use super::issuer::{claims_object, random_id};
use super::sessions::{JwtSessions, TokenPair};
use crate::claims;
use crate::error::AuthError;
use crate::middleware::DEFAULT_CSRF_HEADER;
use crate::verify::Csrf;

/// Names, paths and attributes of the auth cookies, and the `Set-Cookie` values that set and
/// clear them.
///
/// ```
/// use tower_jwt_auth::tokens::AuthCookies;
///
/// let cookies = AuthCookies::new();
/// let csrf = AuthCookies::csrf_value()?;
/// // Mint the pair with `{"csrf": csrf}` among its claims, then send
/// // `cookies.set(&pair, &csrf)` as `Set-Cookie` headers; on logout, `cookies.clear()`.
/// assert!(cookies.clear().iter().all(|c| c.to_str().unwrap().contains("Max-Age=0")));
/// # Ok::<(), tower_jwt_auth::tokens::IssueError>(())
/// ```
#[derive(Clone, Debug)]
pub struct AuthCookies {
    access: String,
    refresh: String,
    csrf: String,
    refresh_path: String,
    csrf_header: HeaderName,
    secure: bool,
}

impl Default for AuthCookies {
    fn default() -> Self {
        Self::new()
    }
}

impl AuthCookies {
    /// `access_token` (path `/`), `refresh_token` (path `/refresh`), `csrf_token` (path `/`,
    /// readable by the page), all `Secure` and `SameSite=Lax`.
    pub fn new() -> Self {
        Self {
            access: "access_token".into(),
            refresh: "refresh_token".into(),
            csrf: "csrf_token".into(),
            refresh_path: "/refresh".into(),
            csrf_header: DEFAULT_CSRF_HEADER,
            secure: true,
        }
    }

    /// The path the refresh cookie is sent to (default `/refresh`): nowhere else sees it.
    ///
    /// ```
    /// let cookies = tower_jwt_auth::tokens::AuthCookies::new().refresh_path("/auth/refresh");
    /// ```
    #[must_use]
    pub fn refresh_path(mut self, path: impl Into<String>) -> Self {
        self.refresh_path = path.into();
        self
    }

    /// The header the page echoes the CSRF value in (default
    /// [`DEFAULT_CSRF_HEADER`], `x-csrf-token`), read by
    /// [`JwtSessions::refresh_cookies`]. Give the layer the same name
    /// ([`JwtLayer::csrf_header`](crate::JwtLayer::csrf_header)).
    ///
    /// ```
    /// use http::HeaderName;
    /// let cookies = tower_jwt_auth::tokens::AuthCookies::new().csrf_header(HeaderName::from_static("x-xsrf-token"));
    /// assert_eq!(cookies.csrf_header_name(), "x-xsrf-token");
    /// ```
    #[must_use]
    pub fn csrf_header(mut self, name: HeaderName) -> Self {
        self.csrf_header = name;
        self
    }

    /// With `true`, drops the `Secure` attribute, for plain-HTTP development on hosts browsers
    /// do not treat as secure. Never in production. Default `false`.
    ///
    /// ```
    /// use tower_jwt_auth::tokens::AuthCookies;
    ///
    /// let dev = AuthCookies::new().allow_insecure_http(true);
    /// assert!(!dev.clear()[0].to_str()?.contains("Secure"));
    /// assert!(AuthCookies::new().clear()[0].to_str()?.contains("Secure"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.secure = !allow;
        self
    }

    /// The access cookie's name, for [`TokenSource::cookie`](crate::TokenSource::cookie).
    pub fn access_name(&self) -> &str {
        &self.access
    }

    /// The refresh cookie's name.
    pub fn refresh_name(&self) -> &str {
        &self.refresh
    }

    /// The CSRF cookie's name (the page reads it and sends it back in the
    /// [CSRF header](Self::csrf_header_name)).
    pub fn csrf_name(&self) -> &str {
        &self.csrf
    }

    /// The header the page sends the CSRF value back in.
    pub fn csrf_header_name(&self) -> &HeaderName {
        &self.csrf_header
    }

    /// The claim the CSRF value goes into when the pair is minted.
    ///
    /// ```
    /// assert_eq!(tower_jwt_auth::tokens::AuthCookies::CSRF_CLAIM, "csrf");
    /// ```
    pub const CSRF_CLAIM: &'static str = claims::CSRF_CLAIM;

    /// A fresh CSRF value: 128 random bits, base64url.
    ///
    /// ```
    /// let csrf = tower_jwt_auth::tokens::AuthCookies::csrf_value()?;
    /// assert_eq!(csrf.len(), 22);
    /// # Ok::<(), tower_jwt_auth::tokens::IssueError>(())
    /// ```
    ///
    /// # Errors
    /// [`IssueError::Random`] when the system's random source fails.
    pub fn csrf_value() -> Result<String, IssueError> {
        random_id()
    }

    /// The `Set-Cookie` values for a login: the pair in `HttpOnly` cookies that live as long as
    /// the tokens, and `csrf` (the value minted into the pair's `csrf` claim) in a readable one.
    ///
    /// ```
    /// use tower_jwt_auth::tokens::AuthCookies;
    /// # use tower_jwt_auth::{JwtSessions, SigningKey, VerifyingKey, revocation::MemoryStore};
    /// # let secret = b"an HS256 secret of at least 32 bytes!";
    /// # let sessions = JwtSessions::new(SigningKey::hs256(secret)?, VerifyingKey::hs256(secret)?, MemoryStore::new());
    /// let csrf = AuthCookies::csrf_value()?;
    /// let pair = sessions.issue(&serde_json::json!({"sub": "1", AuthCookies::CSRF_CLAIM: csrf}))?;
    /// let [access, refresh, csrf_cookie] = AuthCookies::new().set(&pair, &csrf);
    /// assert!(access.to_str()?.starts_with("access_token="));
    /// assert!(refresh.to_str()?.contains("Path=/refresh"));
    /// assert!(!csrf_cookie.to_str()?.contains("HttpOnly")); // the page reads this one
    /// assert!(access.is_sensitive()); // a logged response shows no token
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set(&self, pair: &TokenPair, csrf: &str) -> [HeaderValue; 3] {
        [
            self.cookie(
                &self.access,
                &pair.access.token,
                "/",
                true,
                pair.access.expires_in(),
            ),
            self.cookie(
                &self.refresh,
                &pair.refresh.token,
                &self.refresh_path,
                true,
                pair.refresh.expires_in(),
            ),
            self.cookie(&self.csrf, csrf, "/", false, pair.refresh.expires_in()),
        ]
    }

    /// The `Set-Cookie` values that clear all three (logout).
    pub fn clear(&self) -> [HeaderValue; 3] {
        [
            self.cookie(&self.access, "", "/", true, 0),
            self.cookie(&self.refresh, "", &self.refresh_path, true, 0),
            self.cookie(&self.csrf, "", "/", false, 0),
        ]
    }

    fn cookie(
        &self,
        name: &str,
        value: &str,
        path: &str,
        http_only: bool,
        max_age: u64,
    ) -> HeaderValue {
        let cookie = Cookie::build((name, value))
            .path(path)
            .http_only(http_only)
            .secure(self.secure)
            .same_site(SameSite::Lax)
            .max_age(CookieDuration::seconds(
                i64::try_from(max_age).unwrap_or(i64::MAX),
            ))
            .build();
        let mut value = HeaderValue::try_from(cookie.to_string())
            .expect("cookie names, paths and base64url values are valid header text");
        // A token or CSRF value: `Debug` (a logged response) shows `Sensitive`, and HTTP/2
        // never adds it to its header compression tables.
        value.set_sensitive(true);
        value
    }
}

/// The browser side of [`JwtSessions`]: the pair in cookies, the CSRF value minted into it.
impl JwtSessions {
    /// Starts a browser login: a fresh CSRF value goes into the pair's `csrf` claim, and the
    /// answer carries the three `Set-Cookie` values of `cookies` (see [`AuthCookies`]).
    ///
    /// ```
    /// use tower_jwt_auth::{JwtSessions, SigningKey, VerifyingKey};
    /// use tower_jwt_auth::revocation::MemoryStore;
    /// use tower_jwt_auth::tokens::AuthCookies;
    ///
    /// let secret = b"an HS256 secret of at least 32 bytes!";
    /// let sessions = JwtSessions::new(SigningKey::hs256(secret)?, VerifyingKey::hs256(secret)?, MemoryStore::new());
    /// let (pair, set_cookies) = sessions.issue_cookies(&serde_json::json!({"sub": "1"}), &AuthCookies::new())?;
    /// assert_eq!(set_cookies.len(), 3);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`issue`](Self::issue).
    pub fn issue_cookies<T: Serialize + ?Sized>(
        &self,
        claims: &T,
        cookies: &AuthCookies,
    ) -> Result<(TokenPair, [HeaderValue; 3]), SessionError> {
        let mut claims = claims_object(claims)?;
        let csrf = AuthCookies::csrf_value()?;
        claims.insert(claims::CSRF_CLAIM.into(), Value::String(csrf.clone()));
        let pair = self.pair(claims, random_id()?)?;
        let set = cookies.set(&pair, &csrf);
        Ok((pair, set))
    }

    /// Refresh for browsers: takes the refresh token from its cookie, requires the request's
    /// CSRF header ([`AuthCookies::csrf_header`]) to match that token's `csrf` claim (a refresh
    /// is a state-changing POST), and answers a new pair with a new CSRF value and the cookies
    /// that install them. Reuse detection works as in [`refresh`](JwtSessions::refresh).
    ///
    /// ```
    /// use http::HeaderMap;
    /// use tower_jwt_auth::{JwtSessions, SigningKey, VerifyingKey};
    /// use tower_jwt_auth::revocation::MemoryStore;
    /// use tower_jwt_auth::tokens::AuthCookies;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let secret = b"an HS256 secret of at least 32 bytes!";
    /// let sessions = JwtSessions::new(SigningKey::hs256(secret)?, VerifyingKey::hs256(secret)?, MemoryStore::new());
    /// let cookies = AuthCookies::new();
    /// let csrf = AuthCookies::csrf_value()?;
    /// let login = sessions.issue(&serde_json::json!({"sub": "1", AuthCookies::CSRF_CLAIM: csrf}))?;
    ///
    /// // What the browser sends to `POST /refresh`: the refresh cookie, and the CSRF value the
    /// // page read from the `csrf_token` cookie.
    /// let mut headers = HeaderMap::new();
    /// headers.insert("cookie", format!("refresh_token={}", login.refresh.token).parse()?);
    /// headers.insert("x-csrf-token", csrf.parse()?);
    /// let (next, set_cookies) = sessions.refresh_cookies(&headers, &cookies).await?;
    /// assert_eq!(next.sid, login.sid);
    ///
    /// headers.remove("x-csrf-token"); // a cross-site form post cannot set the header
    /// assert!(sessions.refresh_cookies(&headers, &cookies).await.is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    /// As [`refresh`](Self::refresh), and [`SessionError::Invalid`] when the CSRF header does not
    /// match the refresh token's value.
    pub async fn refresh_cookies(
        &self,
        headers: &HeaderMap,
        cookies: &AuthCookies,
    ) -> Result<(TokenPair, [HeaderValue; 3]), SessionError> {
        let token = crate::token_source::cookie(headers, cookies.refresh_name())
            .map_err(SessionError::Invalid)?
            .ok_or(SessionError::Invalid(AuthError::MissingToken))?;
        let header = headers
            .get(cookies.csrf_header_name())
            .and_then(|v| v.to_str().ok());
        let csrf = AuthCookies::csrf_value()?;
        let pair = self
            .rotate(token, Csrf::Required(header), Some(&csrf), None)
            .await?;
        let set = cookies.set(&pair, &csrf);
        Ok((pair, set))
    }
}
