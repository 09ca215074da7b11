//! The background task of a [`RemoteJwks`](super::RemoteJwks): one fetch whenever a refresh is
//! due or a miss asks for one, the keys kept on failure, backoff while the provider is down.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, MutexGuard, RwLock};
use std::time::Duration;

use reqwest::{Client, Url};
use tokio::sync::{Notify, watch};
use tokio::time::Instant;

use super::error::FetchError;
use super::fetch::{self, Fetched};
use super::{Config, Source};
use crate::keys::{KeySet, Skipped};
use crate::task::{lock, read, write};

const MIN_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// What the handles share with the background task.
pub(super) struct Shared {
    pub(super) source: Source,
    pub(super) config: Config,
    client: Client,
    /// Read on every request.
    keys: RwLock<Option<Arc<KeySet>>>,
    pub(super) loaded: watch::Sender<bool>,
    /// Whether the background task exists; cleared only with `state` locked, by the task's
    /// [`Running`] guard.
    pub(super) running: AtomicBool,
    state: Mutex<State>,
    /// Asks the task for a fetch now.
    pub(super) wake: Notify,
    /// Tells the callers waiting on a fetch that it has ended.
    pub(super) fetched: Notify,
}

pub(super) struct State {
    /// A fetch is asked for or running: its end is announced on `fetched`.
    pub(super) in_flight: bool,
    pub(super) last_fetch: Option<Instant>,
    /// When a miss last caused a fetch: the cooldown counts from here, so a key rotated in just
    /// after a scheduled refresh is still picked up at its first token, while a flood of random
    /// kids causes at most one fetch per cooldown.
    pub(super) last_miss_fetch: Option<Instant>,
    next_due: Instant,
    backoff: Duration,
    failures: u32,
    pub(super) last_error: Option<FetchError>,
    /// The `jwks_uri` discovery found, forgotten when a fetch fails so that it is looked up again.
    jwks_uri: Option<Url>,
    /// The JWKs the last document skipped, each logged at `warn` once, when first seen.
    skipped: Vec<Skipped>,
    /// The last document read, to tell a refresh that changed nothing.
    document: Option<Vec<u8>>,
    /// While fetches fail: when the first failed, when the last `warn` was written, and how many
    /// failed since.
    outage: Option<Outage>,
}

struct Outage {
    since: Instant,
    last_line: Instant,
    failed_since_line: u32,
}

/// Held by the background task: when the task ends (aborted, or its runtime shut down), marks
/// it gone so that the next use starts another, and releases the callers waiting on its fetch.
struct Running(Arc<Shared>);

impl Drop for Running {
    fn drop(&mut self) {
        let mut state = self.0.lock_state();
        self.0.running.store(false, Ordering::Release);
        state.in_flight = false;
        self.0.fetched.notify_waiters();
    }
}

impl Shared {
    pub(super) fn new(source: Source, config: Config, client: Client) -> Self {
        Self {
            source,
            config,
            client,
            keys: RwLock::new(None),
            loaded: watch::channel(false).0,
            running: AtomicBool::new(false),
            state: Mutex::new(State {
                in_flight: false,
                last_fetch: None,
                last_miss_fetch: None,
                next_due: Instant::now(),
                backoff: MIN_BACKOFF,
                failures: 0,
                last_error: None,
                jwks_uri: None,
                skipped: Vec::new(),
                document: None,
                outage: None,
            }),
            wake: Notify::new(),
            fetched: Notify::new(),
        }
    }

    /// The background task: one fetch whenever one is due or asked for, never ending on its own.
    pub(super) async fn run(self: Arc<Self>) {
        let _running = Running(Arc::clone(&self));
        loop {
            self.until_due().await;
            let fetched = self.fetch().await;
            self.store(fetched);
        }
    }
    /// Waits until a refresh is due or a fetch is asked for, then marks it in flight.
    async fn until_due(&self) {
        loop {
            let due = {
                let mut state = self.lock_state();
                let now = Instant::now();
                if state.in_flight || state.next_due <= now {
                    state.in_flight = true;
                    state.last_fetch = Some(now);
                    return;
                }
                state.next_due
            };
            tokio::select! {
                () = tokio::time::sleep_until(due) => {}
                () = self.wake.notified() => {}
            }
        }
    }

    /// Keeps the keys (never dropping the old ones on failure), plans the next fetch, and wakes
    /// the waiting callers.
    fn store(&self, fetched: Result<Fetched, FetchError>) {
        let now = Instant::now();
        let mut state = self.lock_state();
        state.in_flight = false;
        match fetched {
            Ok(Fetched {
                keys,
                lifetime,
                skipped,
                url,
                document,
            }) => {
                crate::observe::jwks_fetch("ok");
                let refresh_in = lifetime / 20 * 17;
                state.next_due = later(now, refresh_in);
                state.backoff = MIN_BACKOFF;
                state.last_error = None;
                let failures = std::mem::take(&mut state.failures);
                let down_for = state.outage.take().map(|o| now - o.since);
                let reported = std::mem::replace(&mut state.skipped, skipped.clone());
                // The same document again keeps the same key set, so that what was verified
                // with it (the verified-token cache) stays valid.
                let same = state.document.as_deref() == Some(&document[..]);
                state.document = Some(document);
                let (keys, old) = match self.read_keys() {
                    Some(current) if same => (Arc::clone(&current), Some(current)),
                    _ => {
                        let keys = Arc::new(keys);
                        (Arc::clone(&keys), write(&self.keys).replace(keys))
                    }
                };
                self.loaded.send_replace(true);
                self.fetched.notify_waiters();
                drop(state);
                let jwks_uri = fetch::Redacted(&url);
                // A key the provider publishes and this crate cannot use is told once, not at
                // every refresh.
                for skip in &skipped {
                    if reported.contains(skip) {
                        tracing::debug!(%jwks_uri, kid = ?skip.kid, reason = %skip.error, "JWK skipped");
                    } else {
                        tracing::warn!(%jwks_uri, kid = ?skip.kid, reason = %skip.error, "JWK skipped");
                    }
                }
                let kids = || keys.kids().collect::<Vec<_>>();
                let changed = old.is_none_or(|old| old.kids().ne(keys.kids()));
                if changed || failures > 0 {
                    tracing::info!(%jwks_uri, keys = keys.len(), kids = ?kids(), ?refresh_in, failures, ?down_for, "JWKS fetched");
                } else {
                    tracing::debug!(%jwks_uri, keys = keys.len(), ?refresh_in, "JWKS refreshed, unchanged");
                }
            }
            Err(error) => {
                crate::observe::jwks_fetch(error.kind().label());
                let retry_in = state.backoff;
                state.next_due = later(now, retry_in);
                state.backoff = (retry_in * 2).min(MAX_BACKOFF);
                state.failures += 1;
                state.jwks_uri = None;
                let failures = state.failures;
                state.last_error = Some(error.clone());
                // One warning when the outage starts, then one per period with a count; the
                // retries in between log at debug.
                let line = match &mut state.outage {
                    None => {
                        state.outage = Some(Outage {
                            since: now,
                            last_line: now,
                            failed_since_line: 0,
                        });
                        Some(None)
                    }
                    Some(outage) => {
                        outage.failed_since_line += 1;
                        if now - outage.last_line >= self.config.outage_log_every {
                            outage.last_line = now;
                            let counted = std::mem::take(&mut outage.failed_since_line);
                            Some(Some((counted, now - outage.since)))
                        } else {
                            None
                        }
                    }
                };
                self.fetched.notify_waiters();
                drop(state);
                let stale = self.read_keys().is_some();
                let source = &self.source;
                match line {
                    Some(None) => {
                        tracing::warn!(%source, %error, serving_cached_keys = stale, ?retry_in, "JWKS fetch failed");
                    }
                    Some(Some((failed, down_for))) => {
                        tracing::warn!(%source, %error, serving_cached_keys = stale, failures, failed_since_last_line = failed, ?down_for, "JWKS fetches still failing");
                    }
                    None => {
                        tracing::debug!(%source, %error, serving_cached_keys = stale, ?retry_in, failures, "JWKS fetch failed again");
                    }
                }
            }
        }
    }

    /// One JWKS document (after discovery when needed) and how long to keep it.
    async fn fetch(&self) -> Result<Fetched, FetchError> {
        let (client, config) = (&self.client, &self.config);
        let url = match &self.source {
            Source::Jwks(url) => url.clone(),
            Source::Discovery { issuer, config_url } => {
                let known = self.lock_state().jwks_uri.clone();
                match known {
                    Some(url) => url,
                    None => {
                        let url = fetch::discover(client, issuer, config_url, config).await?;
                        self.lock_state().jwks_uri = Some(url.clone());
                        url
                    }
                }
            }
        };
        fetch::jwks(client, &url, config).await
    }

    pub(super) fn read_keys(&self) -> Option<Arc<KeySet>> {
        read(&self.keys).clone()
    }

    pub(super) fn lock_state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }
}

fn later(now: Instant, after: Duration) -> Instant {
    now.checked_add(after)
        .unwrap_or_else(|| now + Duration::from_secs(365 * 24 * 60 * 60))
}
