//! What the crate tells the app's telemetry: the authenticated subject on the current tracing
//! span, and (cargo feature `metrics`) counters through the `metrics` facade. Never any part of
//! a token or a secret: the subject, outcomes and fixed reason names only.

/// The field of the current tracing span that an accepted request's `sub` is recorded in
/// (OpenTelemetry's name for the end user). tracing keeps it only where the request's span
/// declares it, e.g. `tracing::info_span!("request", "enduser.id" = tracing::field::Empty)`.
pub(crate) const SUBJECT_FIELD: &str = "enduser.id";

/// Requests the layer decided, by `outcome` (`accepted`, `anonymous`, `refused`) and, for a
/// refusal, `reason` (`AuthError::reason`).
#[cfg(feature = "metrics")]
const REQUESTS: &str = "tower_jwt_auth_requests_total";
/// Refusals made inside the layer (a `RequireLayer`, a handler returning an `AuthError`, such
/// as `require()?`, or an extractor's refusal), by `reason`.
#[cfg(feature = "metrics")]
const FORBIDDEN: &str = "tower_jwt_auth_forbidden_total";
/// Verified-token cache lookups, by `result` (`hit`, `miss`).
#[cfg(feature = "metrics")]
const CACHE: &str = "tower_jwt_auth_token_cache_lookups_total";
/// JWKS and discovery fetches, by `outcome` (`ok`, or what failed: `timeout`, `network`,
/// `status`, `too_large`, `bad_document`, `issuer_mismatch`, `bad_url`, `client`).
#[cfg(feature = "metrics")]
const JWKS_FETCHES: &str = "tower_jwt_auth_jwks_fetches_total";

/// The subject of a token that passed every check, on the current span.
pub(crate) fn subject(sub: &str) {
    // An atomic load when no subscriber was ever set, instead of a span lookup.
    if tracing::dispatcher::has_been_set() {
        tracing::Span::current().record(SUBJECT_FIELD, sub);
    }
}

/// A request the layer accepted.
pub(crate) fn accepted() {
    #[cfg(feature = "metrics")]
    metrics::counter!(REQUESTS, "outcome" => "accepted").increment(1);
}

/// A request without a token let through by a layer that allows anonymous requests.
pub(crate) fn anonymous() {
    #[cfg(feature = "metrics")]
    metrics::counter!(REQUESTS, "outcome" => "anonymous").increment(1);
}

/// A request the layer refused, for `reason` (`AuthError::reason`).
pub(crate) fn refused(reason: &'static str) {
    #[cfg(feature = "metrics")]
    metrics::counter!(REQUESTS, "outcome" => "refused", "reason" => reason).increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = reason;
}

/// A request refused inside the layer, after its token was accepted.
pub(crate) fn forbidden(reason: &'static str) {
    #[cfg(feature = "metrics")]
    metrics::counter!(FORBIDDEN, "reason" => reason).increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = reason;
}

/// A lookup in the verified-token cache.
pub(crate) fn cache_lookup(hit: bool) {
    #[cfg(feature = "metrics")]
    metrics::counter!(CACHE, "result" => if hit { "hit" } else { "miss" }).increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = hit;
}

/// A JWKS (or discovery) fetch that ended: `ok`, or the kind of failure.
#[cfg(feature = "jwks")]
pub(crate) fn jwks_fetch(outcome: &'static str) {
    #[cfg(feature = "metrics")]
    metrics::counter!(JWKS_FETCHES, "outcome" => outcome).increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = outcome;
}
