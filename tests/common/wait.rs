//! Waiting for what happens in the background (a refresh, a mirror's sync, a page update), for
//! at most a given time. The crate's unit tests include this file too: it uses only tokio.

use std::future::Future;
use std::time::{Duration, Instant};

/// Polls `done` until it holds: `Some(how long that took)`, or `None` once `within` has passed.
///
/// Every millisecond, so that a test printing how long it took measures the event, not the poll.
pub async fn eventually(within: Duration, mut done: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < within {
        if done() {
            return Some(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    // Once more: a poll scheduled late may have come after the event but past `within`.
    done().then(|| start.elapsed())
}

/// Awaits `check` until it gives a value, or `None` once `within` has passed.
///
/// Every 50 ms, as each check is a round trip (to a browser, say).
pub async fn eventually_some<T, F>(within: Duration, mut check: impl FnMut() -> F) -> Option<T>
where
    F: Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(value) = check().await {
            return Some(value);
        }
        if start.elapsed() >= within {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
