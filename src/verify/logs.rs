//! What verification logs, written so that a flood of bad requests cannot flood the log: a
//! revocation-store outage as transitions, and a well-signed token whose claims do not fit the
//! app's claims type at most once a minute, with where and what serde expected (never the
//! token, never a claim's value).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use serde::de::DeserializeOwned;

use crate::clock::Clock;
use crate::revocation::StoreError;

/// Explains, at `warn` and at most once a minute, why the claims of a token whose signature and
/// registered claims were good do not deserialize into `C`: the path of the claim (`a.b[0]`)
/// and what was expected. The payload is parsed a second time, with the path tracked, only on
/// this refusal and only when the line is written.
pub(super) fn claims_do_not_fit<C: DeserializeOwned>(json: &[u8]) {
    static LIMIT: Every = Every::new(60);
    if !tracing::enabled!(target: "tower_jwt_auth", tracing::Level::WARN) {
        return;
    }
    let Some(suppressed) = LIMIT.allow() else {
        return;
    };
    let mut de = serde_json::Deserializer::from_slice(json);
    let Err(err) = serde_path_to_error::deserialize::<_, C>(&mut de) else {
        return;
    };
    let path = err.path().to_string();
    let expected = without_values(&err.into_inner().to_string());
    tracing::warn!(
        target: "tower_jwt_auth",
        claims_type = std::any::type_name::<C>(),
        %path,
        %expected,
        suppressed,
        "a well-signed token's claims do not fit the claims type: refused as invalid claims"
    );
}

/// serde's message without the value it saw: `invalid type: string "john", expected u64 at
/// line 1 column 9` becomes `invalid type: string, expected u64`. Messages that carry no value
/// (a missing, unknown or repeated field, a wrong length) are kept; any other (a claims type's
/// own error) is not shown, as it might hold anything.
fn without_values(message: &str) -> String {
    let message = message
        .rfind(" at line ")
        .map_or(message, |at| &message[..at]);
    for kind in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = message.strip_prefix(kind)
            && let Some((unexpected, expected)) = rest.split_once(", expected ")
        {
            let unexpected = unexpected
                .split(['`', '"'])
                .next()
                .unwrap_or_default()
                .trim_end();
            return format!("{kind}{unexpected}, expected {expected}");
        }
    }
    let safe = [
        "missing field `",
        "unknown field `",
        "duplicate field `",
        "invalid length ",
    ];
    if safe.iter().any(|prefix| message.starts_with(prefix)) {
        return message.to_owned();
    }
    "an error of the claims type's own (its text is not logged: it may hold a claim's value)"
        .to_owned()
}

/// A rate limit for log lines: [`allow`](Self::allow) says yes at most once per period and how
/// many times it said no since.
struct Every {
    secs: u64,
    /// Unix seconds of the last line; 0 before the first.
    last: AtomicU64,
    suppressed: AtomicU64,
}

impl Every {
    const fn new(secs: u64) -> Self {
        Self {
            secs,
            last: AtomicU64::new(0),
            suppressed: AtomicU64::new(0),
        }
    }

    fn allow(&self) -> Option<u64> {
        let now = Clock::system().now();
        let last = self.last.load(Ordering::Relaxed);
        if (last == 0 || now >= last + self.secs)
            && self
                .last
                .compare_exchange(last, now, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        {
            return Some(self.suppressed.swap(0, Ordering::Relaxed));
        }
        self.suppressed.fetch_add(1, Ordering::Relaxed);
        None
    }
}

/// The process's revocation-store outages, logged as transitions rather than per request: under
/// load a line per refused request is megabytes a second.
pub(super) static REVOCATION_OUTAGE: OutageLog = OutageLog::new();

/// One `warn` when an outage starts, then at most one a minute with the count of requests it
/// touched meanwhile, and one `info` when the store answers again.
pub(super) struct OutageLog {
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

    pub(super) fn failed(&self, err: &StoreError, fail_open: bool) {
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

    pub(super) fn answered(&self) {
        // One relaxed load on the hot path; the swap only after an outage.
        if self.down.load(Ordering::Relaxed) && self.down.swap(false, Ordering::AcqRel) {
            let touched = self.touched.swap(0, Ordering::Relaxed);
            tracing::info!(target: "tower_jwt_auth", requests = touched, "revocation store answering again");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_keep_what_was_expected_and_lose_what_was_seen() {
        let cases = [
            (
                r#"invalid type: string "john@example.com", expected u64 at line 1 column 30"#,
                "invalid type: string, expected u64",
            ),
            (
                "invalid value: integer `-1`, expected u8 at line 1 column 9",
                "invalid value: integer, expected u8",
            ),
            (
                "invalid type: floating point `1.5`, expected a string",
                "invalid type: floating point, expected a string",
            ),
            (
                "missing field `username` at line 1 column 40",
                "missing field `username`",
            ),
            (
                "unknown field `admin`, expected `sub` or `exp`",
                "unknown field `admin`, expected `sub` or `exp`",
            ),
        ];
        for (message, shown) in cases {
            assert_eq!(without_values(message), shown);
        }
        let custom = without_values("not a valid email: john@example.com");
        assert!(!custom.contains("john"), "{custom}");
    }

    #[test]
    fn a_limit_allows_one_line_a_period_and_counts_the_rest() {
        let every = Every::new(3600);
        assert_eq!(every.allow(), Some(0));
        assert_eq!(every.allow(), None);
        assert_eq!(every.allow(), None);
        // A period later (as if): the count of the refused comes with the next line.
        every.last.store(1, Ordering::Relaxed);
        assert_eq!(every.allow(), Some(2));
    }
}
