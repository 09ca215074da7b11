//! Browser tokens in cookies, done safely: the access and refresh tokens in `HttpOnly; Secure;
//! SameSite=Lax` cookies that scripts cannot read, and a readable CSRF cookie whose value the
//! page echoes in a header (double submit), bound to the token through its `csrf` claim.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use cookie::time::Duration as CookieDuration;
use cookie::{Cookie, SameSite};
use http::HeaderValue;

use super::issuer::IssueError;
use super::sessions::TokenPair;
use crate::claims::CSRF_CLAIM;

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

    /// Drops the `Secure` attribute, for plain-HTTP development on hosts browsers do not treat
    /// as secure. Never in production.
    ///
    /// ```
    /// let cookies = tower_jwt_auth::tokens::AuthCookies::new().insecure_for_development();
    /// ```
    #[must_use]
    pub fn insecure_for_development(mut self) -> Self {
        self.secure = false;
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

    /// The CSRF cookie's name (the page reads it and sends it back in `x-csrf-token`).
    pub fn csrf_name(&self) -> &str {
        &self.csrf
    }

    /// The claim the CSRF value goes into when the pair is minted (`"csrf"`).
    pub fn csrf_claim() -> &'static str {
        CSRF_CLAIM
    }

    /// A fresh CSRF value: 128 random bits, base64url.
    ///
    /// # Errors
    /// [`IssueError::Random`] when the system's random source fails.
    pub fn csrf_value() -> Result<String, IssueError> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).map_err(|_| IssueError::Random)?;
        Ok(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// The `Set-Cookie` values for a login: the pair in `HttpOnly` cookies that live as long as
    /// the tokens, and `csrf` (the value minted into the pair's `csrf` claim) in a readable one.
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
        HeaderValue::try_from(cookie.to_string())
            .expect("cookie names, paths and base64url values are valid header text")
    }
}
