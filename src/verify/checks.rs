//! The checks on what the payload scan saw, one function each, in the order they run: times,
//! issuer, audience, subject, token type, required claims, CSRF, revocation. Each takes plain
//! data and answers the first refusal.

use std::borrow::Cow;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use subtle::ConstantTimeEq;

use super::scan::{Presence, Seen};
use crate::clock::Clock;
use crate::error::AuthError;
use crate::revocation::{RevocationStore, StoreError};

/// `exp` is required; `now` must be before `exp` and not before `nbf`, `leeway` seconds allowed.
pub(crate) fn times(seen: &Seen<'_>, now: u64, leeway: u64) -> Result<(), AuthError> {
    let (now, leeway) = (now as f64, leeway as f64);
    let exp = seen
        .exp
        .ok_or(AuthError::MissingClaim(Cow::Borrowed("exp")))?;
    // RFC 7519 §4.1.4: the current time must be *before* `exp`.
    if now >= exp + leeway {
        return Err(AuthError::Expired);
    }
    if seen.nbf.is_some_and(|nbf| now + leeway < nbf) {
        return Err(AuthError::NotYetValid);
    }
    Ok(())
}

/// With a maximum age: `iat` is required, not beyond `leeway` in the future, and at most
/// `max_age` (plus `leeway`) seconds in the past.
pub(crate) fn fresh(
    seen: &Seen<'_>,
    now: u64,
    leeway: u64,
    max_age: Option<u64>,
) -> Result<(), AuthError> {
    let Some(max_age) = max_age else {
        return Ok(());
    };
    let iat = seen
        .iat
        .ok_or(AuthError::MissingClaim(Cow::Borrowed("iat")))?;
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
pub(crate) fn csrf(seen: &Seen<'_>, header: Option<&str>) -> Result<(), AuthError> {
    let header = header.ok_or(AuthError::CsrfMissing)?;
    let claim = seen.csrf.as_deref().unwrap_or("");
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
    seen: &Seen<'_>,
    store: &dyn RevocationStore,
    now: u64,
    fail_open: bool,
) -> Result<(), AuthError> {
    let jti = seen
        .jti
        .as_deref()
        .ok_or(AuthError::MissingClaim(Cow::Borrowed("jti")))?;
    match store.check(jti, seen.sid.as_deref(), now) {
        Ok(revoked) => {
            REVOCATION_OUTAGE.answered();
            if revoked {
                Err(AuthError::Revoked)
            } else {
                Ok(())
            }
        }
        Err(err) => {
            REVOCATION_OUTAGE.failed(&err, fail_open);
            if fail_open {
                Ok(())
            } else {
                Err(AuthError::RevocationUnavailable)
            }
        }
    }
}

/// The process's revocation-store outages, logged as transitions rather than per request: under
/// load a line per refused request is megabytes a second.
static REVOCATION_OUTAGE: OutageLog = OutageLog::new();

/// One `warn` when an outage starts, then at most one a minute with the count of requests it
/// touched meanwhile, and one `info` when the store answers again.
struct OutageLog {
    down: AtomicBool,
    /// Unix seconds of the last line written.
    last: AtomicU64,
    /// Requests touched since the last line.
    touched: AtomicU64,
}

impl OutageLog {
    const EVERY: u64 = 60;

    const fn new() -> Self {
        Self {
            down: AtomicBool::new(false),
            last: AtomicU64::new(0),
            touched: AtomicU64::new(0),
        }
    }

    fn failed(&self, err: &StoreError, fail_open: bool) {
        let now = Clock::system().now();
        let what = if fail_open {
            "accepting tokens unchecked (fail-open)"
        } else {
            "refusing requests with 503 (fail closed)"
        };
        if !self.down.swap(true, Ordering::AcqRel) {
            self.last.store(now, Ordering::Relaxed);
            self.touched.store(1, Ordering::Relaxed);
            tracing::warn!(target: "tower_jwt_auth", error = %err, "revocation store unavailable: {what} until it answers");
            return;
        }
        let touched = self.touched.fetch_add(1, Ordering::Relaxed) + 1;
        let last = self.last.load(Ordering::Relaxed);
        if now >= last + Self::EVERY
            && self
                .last
                .compare_exchange(last, now, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        {
            self.touched.store(0, Ordering::Relaxed);
            tracing::warn!(target: "tower_jwt_auth", error = %err, requests = touched, "revocation store still unavailable: {what}");
        }
    }

    fn answered(&self) {
        // One relaxed load on the hot path; the swap only after an outage.
        if self.down.load(Ordering::Relaxed) && self.down.swap(false, Ordering::AcqRel) {
            let touched = self.touched.swap(0, Ordering::Relaxed);
            tracing::info!(target: "tower_jwt_auth", requests = touched, "revocation store answering again");
        }
    }
}
