//! Where the token comes from: the `Authorization: Bearer` header (RFC 6750 §2.1) by default, a
//! named cookie, either (header first), or a function of the app's. Query-string tokens are not
//! offered: they end up in logs.

use std::fmt;
use std::sync::Arc;

use cookie::Cookie;
use http::HeaderMap;
use http::header::{AUTHORIZATION, COOKIE};

use crate::error::AuthError;

type Custom = dyn for<'a> Fn(&'a HeaderMap) -> Result<Option<&'a str>, AuthError> + Send + Sync;

/// Where a [`JwtLayer`](crate::JwtLayer) looks for the token.
///
/// Requests authenticated by cookie with an unsafe method (POST, PUT, PATCH, DELETE) must also
/// pass the CSRF check; see [`JwtLayer::csrf_header`](crate::JwtLayer::csrf_header).
///
/// ```
/// use tower_jwt_auth::TokenSource;
///
/// let header = TokenSource::header();                  // the default
/// let cookie = TokenSource::cookie("access_token");
/// let both = TokenSource::header_or_cookie("access_token"); // the header wins when present
/// let custom = TokenSource::custom_header(|headers| Ok(headers.get("x-api-token").and_then(|v| v.to_str().ok())));
/// ```
#[derive(Clone)]
pub struct TokenSource(Kind);

#[derive(Clone)]
enum Kind {
    Header,
    Cookie(Box<str>),
    HeaderOrCookie(Box<str>),
    /// The app's function; `ambient` when the browser may attach its token by itself.
    Custom {
        find: Arc<Custom>,
        ambient: bool,
    },
}

/// A token, and whether it came from a cookie or somewhere else the browser may attach it by
/// itself (which makes CSRF protection necessary on unsafe methods).
pub(crate) struct Found<'a> {
    token: Token<'a>,
    pub(crate) needs_csrf: bool,
    /// Sent as `Authorization: DPoP <token>` (RFC 9449 §7.1), with a proof to check.
    pub(crate) dpop: bool,
}

/// A token checked to be token68 (RFC 7235), or the bytes of bearer credentials not checked
/// yet: a verified-token cache compares them with tokens that passed every check, so a hit
/// needs no scan of its own, and a miss checks them before anything else reads them.
enum Token<'a> {
    Checked(&'a str),
    Bearer(&'a [u8]),
}

impl<'a> Found<'a> {
    /// The bytes as found, for a comparison with tokens verified before.
    pub(crate) fn bytes(&self) -> &'a [u8] {
        match self.token {
            Token::Checked(token) => token.as_bytes(),
            Token::Bearer(bytes) => bytes,
        }
    }

    /// The token, once its characters are checked: [`AuthError::InvalidRequest`] for bearer
    /// credentials that are not token68.
    pub(crate) fn token(&self) -> Result<&'a str, AuthError> {
        match self.token {
            Token::Checked(token) => Ok(token),
            Token::Bearer(bytes) => token68(bytes).ok_or(AuthError::InvalidRequest),
        }
    }
}

impl TokenSource {
    /// `Authorization: Bearer <token>` (the scheme is case-insensitive).
    ///
    /// ```
    /// use http::HeaderMap;
    /// use tower_jwt_auth::TokenSource;
    ///
    /// let mut headers = HeaderMap::new();
    /// headers.insert("authorization", "bearer eyJ.x.y".parse()?);
    /// assert_eq!(TokenSource::header().find(&headers)?, Some("eyJ.x.y"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn header() -> Self {
        Self(Kind::Header)
    }

    /// The cookie `name`.
    ///
    /// ```
    /// use http::HeaderMap;
    /// use tower_jwt_auth::TokenSource;
    ///
    /// let mut headers = HeaderMap::new();
    /// headers.insert("cookie", "theme=dark; access_token=eyJ.x.y".parse()?);
    /// assert_eq!(TokenSource::cookie("access_token").find(&headers)?, Some("eyJ.x.y"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn cookie(name: impl Into<String>) -> Self {
        Self(Kind::Cookie(name.into().into_boxed_str()))
    }

    /// The `Authorization` header when the request has one, else the cookie `name`.
    ///
    /// ```
    /// use http::HeaderMap;
    /// use tower_jwt_auth::TokenSource;
    ///
    /// let either = TokenSource::header_or_cookie("access_token");
    /// let mut headers = HeaderMap::new();
    /// headers.insert("cookie", "access_token=from.the.cookie".parse()?);
    /// assert_eq!(either.find(&headers)?, Some("from.the.cookie"));
    /// headers.insert("authorization", "Bearer from.the.header".parse()?);
    /// assert_eq!(either.find(&headers)?, Some("from.the.header")); // the header wins
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn header_or_cookie(name: impl Into<String>) -> Self {
        Self(Kind::HeaderOrCookie(name.into().into_boxed_str()))
    }

    /// The app's own function: `Ok(None)` for "no token", an error to refuse the request.
    ///
    /// The layer cannot tell where the function found the token, so it treats it like a cookie:
    /// unsafe methods need the CSRF header (fail closed). For a token the browser never attaches
    /// by itself (a custom header), use [`custom_header`](Self::custom_header).
    ///
    /// ```
    /// use tower_jwt_auth::{AuthError, TokenSource};
    ///
    /// // A token in a `Sec-WebSocket-Protocol` value such as `bearer.<token>`.
    /// let ws = TokenSource::custom(|headers| {
    ///     let Some(value) = headers.get("sec-websocket-protocol") else { return Ok(None) };
    ///     let value = value.to_str().map_err(|_| AuthError::InvalidRequest)?;
    ///     Ok(value.split(',').map(str::trim).find_map(|p| p.strip_prefix("bearer.")))
    /// });
    /// ```
    pub fn custom<F>(find: F) -> Self
    where
        F: for<'a> Fn(&'a HeaderMap) -> Result<Option<&'a str>, AuthError> + Send + Sync + 'static,
    {
        Self(Kind::Custom {
            find: Arc::new(find),
            ambient: true,
        })
    }

    /// Like [`custom`](Self::custom), for a token read from a request header that browsers never
    /// send on their own (e.g. `x-api-token`): no CSRF check, as for `Authorization`.
    ///
    /// ```
    /// use tower_jwt_auth::TokenSource;
    ///
    /// let api = TokenSource::custom_header(|headers| Ok(headers.get("x-api-token").and_then(|v| v.to_str().ok())));
    /// ```
    pub fn custom_header<F>(find: F) -> Self
    where
        F: for<'a> Fn(&'a HeaderMap) -> Result<Option<&'a str>, AuthError> + Send + Sync + 'static,
    {
        Self(Kind::Custom {
            find: Arc::new(find),
            ambient: false,
        })
    }

    /// The token of a request with these headers, if any.
    ///
    /// ```
    /// use http::HeaderMap;
    /// use tower_jwt_auth::TokenSource;
    ///
    /// let mut headers = HeaderMap::new();
    /// headers.insert("cookie", "theme=dark; refresh_token=abc.def.ghi".parse().unwrap());
    /// assert_eq!(TokenSource::cookie("refresh_token").find(&headers), Ok(Some("abc.def.ghi")));
    /// ```
    ///
    /// # Errors
    /// [`AuthError::InvalidRequest`] for a malformed or repeated credential (400), or
    /// [`AuthError::Malformed`] for a cookie value that cannot be a token.
    pub fn find<'a>(&self, headers: &'a HeaderMap) -> Result<Option<&'a str>, AuthError> {
        self.locate(headers, false)?
            .map(|found| found.token())
            .transpose()
    }

    /// Whether tokens are read from the `Authorization` header (RFC 6750 §2.1).
    pub(crate) fn reads_authorization_header(&self) -> bool {
        matches!(self.0, Kind::Header | Kind::HeaderOrCookie(_))
    }

    /// The token of a request, and how it came; with `dpop`, `Authorization: DPoP` counts as
    /// well as `Bearer`.
    pub(crate) fn locate<'a>(
        &self,
        headers: &'a HeaderMap,
        dpop: bool,
    ) -> Result<Option<Found<'a>>, AuthError> {
        let from_header = |(dpop, bytes)| Found {
            token: Token::Bearer(bytes),
            needs_csrf: false,
            dpop,
        };
        let from_cookie = |token| Found {
            token: Token::Checked(token),
            needs_csrf: true,
            dpop: false,
        };
        match &self.0 {
            Kind::Header => Ok(credentials(headers, dpop)?.map(from_header)),
            Kind::Cookie(name) => Ok(cookie(headers, name)?.map(from_cookie)),
            Kind::HeaderOrCookie(name) => match credentials(headers, dpop)? {
                Some(found) => Ok(Some(from_header(found))),
                None => Ok(cookie(headers, name)?.map(from_cookie)),
            },
            Kind::Custom { find, ambient } => Ok(find(headers)?.map(|token| Found {
                token: Token::Checked(token),
                needs_csrf: *ambient,
                dpop: false,
            })),
        }
    }
}

impl Default for TokenSource {
    fn default() -> Self {
        Self::header()
    }
}

impl fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Kind::Header => f.write_str("TokenSource::header()"),
            Kind::Cookie(name) => write!(f, "TokenSource::cookie({name:?})"),
            Kind::HeaderOrCookie(name) => write!(f, "TokenSource::header_or_cookie({name:?})"),
            Kind::Custom { ambient: true, .. } => f.write_str("TokenSource::custom(..)"),
            Kind::Custom { ambient: false, .. } => f.write_str("TokenSource::custom_header(..)"),
        }
    }
}

/// The bearer token of a request: `Ok(None)` when it carries no bearer credentials at all,
/// an error when the header is repeated or its bearer credentials are malformed.
pub(crate) fn bearer(headers: &HeaderMap) -> Result<Option<&str>, AuthError> {
    match credentials(headers, false)? {
        Some((_, bytes)) => token68(bytes).ok_or(AuthError::InvalidRequest).map(Some),
        None => Ok(None),
    }
}

/// The credentials of `Authorization: Bearer <credentials>` (and, with `dpop`, of
/// `Authorization: DPoP <credentials>`, told by `true`), trimmed and not empty, their
/// characters not checked yet (see [`token68`]); `Ok(None)` without such credentials.
fn credentials(headers: &HeaderMap, dpop: bool) -> Result<Option<(bool, &[u8])>, AuthError> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(header) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(AuthError::InvalidRequest);
    }
    let value = header.as_bytes();
    let (scheme, rest) = match value.iter().position(|&b| b == b' ') {
        Some(space) => (&value[..space], &value[space + 1..]),
        None => (value, &[][..]),
    };
    // The auth-scheme is case-insensitive (RFC 7235 §2.1); other schemes are not ours, but
    // `Bearer:x` or `Bearer<TAB>x` is a malformed bearer credential, not another scheme.
    let is_dpop = dpop && scheme.eq_ignore_ascii_case(b"dpop");
    if !is_dpop && !scheme.eq_ignore_ascii_case(b"bearer") {
        let looks_bearer = scheme
            .get(..6)
            .is_some_and(|s| s.eq_ignore_ascii_case(b"bearer"));
        let looks_dpop = dpop
            && scheme
                .get(..4)
                .is_some_and(|s| s.eq_ignore_ascii_case(b"dpop"));
        return if looks_bearer || looks_dpop || header.to_str().is_err() {
            Err(AuthError::InvalidRequest)
        } else {
            Ok(None)
        };
    }
    let start = rest.iter().position(|&b| b != b' ').unwrap_or(rest.len());
    let end = rest
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(start, |last| last + 1);
    match rest.get(start..end) {
        Some(token) if !token.is_empty() => Ok(Some((is_dpop, token))),
        _ => Err(AuthError::InvalidRequest),
    }
}

/// `bytes` as text when every one is an RFC 7235 token68 character (which also proves them
/// visible ASCII).
fn token68(bytes: &[u8]) -> Option<&str> {
    if !all_token68(bytes) {
        return None;
    }
    std::str::from_utf8(bytes).ok()
}

/// The value of cookie `name`; the same cookie twice (cookie tossing) is refused.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, AuthError> {
    let (mut found, mut seen) = (None, false);
    for header in headers.get_all(COOKIE) {
        let Ok(header) = header.to_str() else {
            continue;
        };
        for cookie in Cookie::split_parse(header).flatten() {
            if cookie.name_raw() == Some(name) {
                if seen {
                    return Err(AuthError::InvalidRequest);
                }
                seen = true;
                found = cookie.value_raw().filter(|v| !v.is_empty());
            }
        }
    }
    match found {
        Some(token) if !all_token68(token.as_bytes()) => Err(AuthError::Malformed),
        other => Ok(other),
    }
}

/// Whether every byte is an RFC 7235 token68 character. Written without a branch or an
/// early exit per byte, so that the compiler checks many bytes per instruction: this runs over
/// every token of every request.
fn all_token68(bytes: &[u8]) -> bool {
    bytes.iter().fold(true, |all, &b| {
        let letter = (b | 0x20).wrapping_sub(b'a') < 26; // `| 0x20` folds A-Z onto a-z
        let digit = b.wrapping_sub(b'0') < 10;
        let sign = (b == b'-') | (b == b'.') | (b == b'_') | (b == b'~');
        let base64 = (b == b'+') | (b == b'/') | (b == b'=');
        all & (letter | digit | sign | base64)
    })
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(*name, HeaderValue::from_static(value));
        }
        headers
    }

    #[test]
    fn token68_is_exactly_the_rfc_7235_characters() {
        for b in 0..=255u8 {
            let expected = b.is_ascii_alphanumeric() || b"-._~+/=".contains(&b);
            assert_eq!(all_token68(&[b]), expected, "{b:#04x}");
            // Past the first vector's worth of bytes too.
            let mut long = vec![b'a'; 40];
            long.push(b);
            assert_eq!(all_token68(&long), expected, "{b:#04x} at 40");
        }
        assert!(all_token68(b""));
    }

    #[test]
    fn bearer_reads_the_token_of_a_case_insensitive_scheme() {
        let token = |value| {
            let headers = headers(&[("authorization", value)]);
            bearer(&headers).map(|token| token.map(str::to_owned))
        };
        let found = |token: &str| Ok(Some(token.to_owned()));
        assert_eq!(token("Bearer a.b.c"), found("a.b.c"));
        assert_eq!(token("bearer a.b.c"), found("a.b.c"));
        assert_eq!(token("BEARER   a.b.c  "), found("a.b.c"));
        assert_eq!(token("Bearer a.b.c \t"), found("a.b.c"));
        assert_eq!(token("Bearer abc-_~+/="), found("abc-_~+/="));
    }

    #[test]
    fn bearer_leaves_other_schemes_and_absent_headers_alone() {
        assert_eq!(bearer(&HeaderMap::new()), Ok(None));
        assert_eq!(
            bearer(&headers(&[("authorization", "Basic dXNlcg==")])),
            Ok(None)
        );
        assert_eq!(
            bearer(&headers(&[("authorization", "DPoP a.b.c")])),
            Ok(None)
        );
        assert_eq!(
            bearer(&headers(&[("authorization", "Bear a.b.c")])),
            Ok(None)
        );
    }

    #[test]
    fn bearer_refuses_malformed_and_repeated_credentials() {
        for value in [
            "Bearer",
            "Bearer ",
            "Bearer:a.b.c",
            "Bearer\ta.b.c",
            "Bearer a b",
            "Bearer a,b",
            "Bearerx a",
        ] {
            let value = HeaderValue::from_str(value).unwrap();
            let mut headers = HeaderMap::new();
            headers.insert(AUTHORIZATION, value);
            assert_eq!(
                bearer(&headers),
                Err(AuthError::InvalidRequest),
                "{headers:?}"
            );
        }
        // Bytes that are not visible ASCII, in the token or in another scheme's credentials.
        for value in [
            &b"Bearer a\xffb"[..],
            b"Bearer \xc3\xa9",
            b"Basic \xff",
            b"\xffBearer a",
        ] {
            let mut headers = HeaderMap::new();
            headers.insert(AUTHORIZATION, HeaderValue::from_bytes(value).unwrap());
            assert_eq!(
                bearer(&headers),
                Err(AuthError::InvalidRequest),
                "{value:?}"
            );
        }
        let twice = headers(&[("authorization", "Bearer a"), ("authorization", "Bearer b")]);
        assert_eq!(bearer(&twice), Err(AuthError::InvalidRequest));
    }

    #[test]
    fn cookie_reads_one_value_and_refuses_tossed_or_malformed_ones() {
        let jar = |value| headers(&[("cookie", value)]);
        assert_eq!(cookie(&jar("a=1; t=x.y.z; b=2"), "t"), Ok(Some("x.y.z")));
        assert_eq!(cookie(&jar("a=1"), "t"), Ok(None));
        assert_eq!(cookie(&jar("t="), "t"), Ok(None));
        assert_eq!(
            cookie(&jar("t=1; t=2"), "t"),
            Err(AuthError::InvalidRequest)
        );
        let split = headers(&[("cookie", "t=1"), ("cookie", "t=2")]);
        assert_eq!(cookie(&split, "t"), Err(AuthError::InvalidRequest));
        assert_eq!(cookie(&jar("t=a%20b"), "t"), Err(AuthError::Malformed));
    }
}
