//! Where the token comes from: the `Authorization: Bearer` header (RFC 6750 §2.1).

use http::header::AUTHORIZATION;
use http::HeaderMap;

use crate::error::AuthError;

/// The bearer token of a request: `Ok(None)` when it carries no bearer credentials at all,
/// an error when the header is repeated or its bearer credentials are malformed.
pub(crate) fn bearer(headers: &HeaderMap) -> Result<Option<&str>, AuthError> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(AuthError::InvalidRequest);
    }
    let value = value.to_str().map_err(|_| AuthError::InvalidRequest)?;
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    // The auth-scheme is case-insensitive (RFC 7235 §2.1); other schemes are not ours, but
    // `Bearer:x` or `Bearer<TAB>x` is a malformed bearer credential, not another scheme.
    if !scheme.eq_ignore_ascii_case("bearer") {
        let looks_bearer = scheme
            .get(..6)
            .is_some_and(|s| s.eq_ignore_ascii_case("bearer"));
        return if looks_bearer {
            Err(AuthError::InvalidRequest)
        } else {
            Ok(None)
        };
    }
    let token = rest.trim_start_matches(' ').trim_end();
    if token.is_empty() || !token.bytes().all(is_token68) {
        return Err(AuthError::InvalidRequest);
    }
    Ok(Some(token))
}

/// RFC 7235 token68 characters.
fn is_token68(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/' | b'=')
}
