//! The checks on what the payload scan saw, one function each, in the order they run: times,
//! issuer, audience, subject, token type, required claims, CSRF, revocation. Each takes plain
//! data and answers the first refusal.

use std::borrow::Cow;

use subtle::ConstantTimeEq;

use super::logs;
use super::scan::{Presence, Seen};
use crate::error::AuthError;
use crate::revocation::RevocationStore;

/// `exp` is required; `now` must be before `exp` and not before `nbf`, `leeway` seconds allowed.
pub(crate) fn times(
    exp: Option<f64>,
    nbf: Option<f64>,
    now: u64,
    leeway: u64,
) -> Result<(), AuthError> {
    let (now, leeway) = (now as f64, leeway as f64);
    let exp = exp.ok_or(AuthError::MissingClaim(Cow::Borrowed("exp")))?;
    // RFC 7519 §4.1.4: the current time must be *before* `exp`.
    if now >= exp + leeway {
        return Err(AuthError::Expired);
    }
    if nbf.is_some_and(|nbf| now + leeway < nbf) {
        return Err(AuthError::NotYetValid);
    }
    Ok(())
}

/// With a maximum age: `iat` is required, not beyond `leeway` in the future, and at most
/// `max_age` (plus `leeway`) seconds in the past.
pub(crate) fn fresh(
    iat: Option<f64>,
    now: u64,
    leeway: u64,
    max_age: Option<u64>,
) -> Result<(), AuthError> {
    let Some(max_age) = max_age else {
        return Ok(());
    };
    let iat = iat.ok_or(AuthError::MissingClaim(Cow::Borrowed("iat")))?;
    let (now, leeway, max_age) = (now as f64, leeway as f64, max_age as f64);
    if iat > now + leeway {
        return Err(AuthError::NotYetValid);
    }
    if now >= iat + max_age + leeway {
        return Err(AuthError::Expired);
    }
    Ok(())
}

/// A configured value (`issuers` or `audiences` non-empty, a subject) makes its claim required
/// and the token's value one of them.
pub(crate) fn matched(
    configured: bool,
    seen: Presence,
    claim: &'static str,
    mismatch: AuthError,
) -> Result<(), AuthError> {
    match seen {
        _ if !configured => Ok(()),
        Presence::Absent => Err(AuthError::MissingClaim(Cow::Borrowed(claim))),
        Presence::Mismatch => Err(mismatch),
        Presence::Match => Ok(()),
    }
}

/// With no audience configured, a token that names audiences is refused unless any is allowed.
pub(crate) fn unaddressed(seen: &Seen<'_>, any_audience: bool) -> Result<(), AuthError> {
    // RFC 7519 §4.1.3: a token meant for named audiences is not for a receiver that does not
    // know its own name (RFC 8725 §3.9, cross-service confusion).
    if seen.aud_present && !any_audience {
        return Err(AuthError::InvalidAudience);
    }
    Ok(())
}

/// Every name of `required` was present (its bit set in `seen.required`).
pub(crate) fn required(seen: &Seen<'_>, required: &[Box<str>]) -> Result<(), AuthError> {
    match (0..required.len()).find(|i| seen.required & (1 << i) == 0) {
        Some(missing) => Err(AuthError::MissingClaim(Cow::Owned(
            required[missing].to_string(),
        ))),
        None => Ok(()),
    }
}

/// The request's CSRF header equals the token's `csrf` claim, compared in constant time.
pub(crate) fn csrf(claim: Option<&str>, header: Option<&str>) -> Result<(), AuthError> {
    let header = header.ok_or(AuthError::CsrfMissing)?;
    let claim = claim.unwrap_or("");
    // Constant time: the comparison must not tell an attacker how much of a guess is right.
    if claim.is_empty() || !bool::from(claim.as_bytes().ct_eq(header.as_bytes())) {
        return Err(AuthError::CsrfMismatch);
    }
    Ok(())
}

/// Neither the token's `jti` nor its family `sid` is revoked in `store`. A token without `jti`
/// could never be taken back, so it is refused; a store that cannot answer fails closed unless
/// `fail_open`.
pub(crate) fn not_revoked(
    jti: Option<&str>,
    sid: Option<&str>,
    store: &dyn RevocationStore,
    now: u64,
    fail_open: bool,
) -> Result<(), AuthError> {
    let jti = jti.ok_or(AuthError::MissingClaim(Cow::Borrowed("jti")))?;
    match store.check(jti, sid, now) {
        Ok(revoked) => {
            logs::REVOCATION_OUTAGE.answered();
            if revoked {
                Err(AuthError::Revoked)
            } else {
                Ok(())
            }
        }
        Err(err) => {
            logs::REVOCATION_OUTAGE.failed(&err, fail_open);
            if fail_open {
                Ok(())
            } else {
                Err(AuthError::RevocationUnavailable)
            }
        }
    }
}
