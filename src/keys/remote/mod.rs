//! [`RemoteJwks`]: keys fetched from a JWKS URL, or found by OpenID Connect discovery, kept in a
//! cache that a background task refreshes, so that a request reads them without I/O. One task
//! does every fetch, one at a time: callers that miss a key ask it for a fetch and wait for it,
//! and no lock is ever held across the network.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, RwLock};
use std::time::Duration;

use reqwest::{Client, Url};
use tokio::runtime::Handle;
use tokio::sync::{watch, Notify};
use tokio::task::AbortHandle;
use tokio::time::Instant;

use super::{KeyError, KeySet};

mod fetch;
#[cfg(test)]
mod tests;

const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const DEFAULT_TOTAL_TIMEOUT: Duration = Duration::from_secs(5);
const DEFAULT_MIN_AGE: Duration = Duration::from_secs(60);
const DEFAULT_MAX_AGE: Duration = Duration::from_secs(24 * 60 * 60);
const DEFAULT_COOLDOWN: Duration = Duration::from_secs(10);
/// The shortest lifetime, whatever the bounds: `max-age=0` must not make the refresh a busy loop.
const FLOOR_AGE: Duration = Duration::from_secs(1);
const MIN_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
const WELL_KNOWN: &str = "/.well-known/openid-configuration";

/// Verifying keys fetched from a JWKS URL or found by OpenID Connect discovery (cargo feature
/// `jwks`).
///
/// The keys are cached and refreshed in the background before they go stale, honouring the
/// response's `Cache-Control: max-age` within [bounds](Self::cache_bounds). A token with an
/// unknown `kid` triggers one refetch, shared by every request that misses at the same time and
/// at most one per [cooldown](Self::refetch_cooldown). While the provider is down the cached
/// keys keep working; until keys were loaded once, there are none (the layer answers 503).
///
/// Nothing is fetched before first use: the first read of the keys (building the layer inside
/// a Tokio runtime), [`ready`](Self::ready) or [`is_ready`](Self::is_ready) starts the
/// background task, which retries with backoff (1 s doubling to 30 s) while the provider is
/// down. Clones share one cache; the task stops with the last clone. Keys come only from the
/// configured URL, never from a token's `jku` or `x5u`.
///
/// ```no_run
/// use std::time::Duration;
/// use tower_jwt_auth::RemoteJwks;
///
/// # #[tokio::main] async fn main() -> Result<(), tower_jwt_auth::keys::KeyError> {
/// let keys = RemoteJwks::discover("https://sso.example.com/realms/demo")?;
/// keys.ready(Duration::from_secs(10)).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RemoteJwks {
    inner: Arc<Inner>,
}

/// What the handles own: dropping the last one stops the background task.
struct Inner {
    shared: Arc<Shared>,
    /// Serializes starting the task; holds it for `Drop`.
    task: Mutex<Option<AbortHandle>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        let task = self.task.get_mut().unwrap_or_else(PoisonError::into_inner);
        if let Some(task) = task.take() {
            task.abort();
        }
    }
}

/// What the handles share with the background task.
struct Shared {
    source: Source,
    config: Config,
    /// The client built from `config` when none was given, made on first fetch.
    built_client: OnceLock<Client>,
    /// Read on every request.
    keys: RwLock<Option<Arc<KeySet>>>,
    loaded: watch::Sender<bool>,
    /// Whether the background task exists; changed only with `state` locked or by its starter.
    running: AtomicBool,
    state: Mutex<State>,
    /// Asks the task for a fetch now.
    wake: Notify,
    /// Tells the callers waiting on a fetch that it has ended.
    fetched: Notify,
}

#[derive(Clone)]
enum Source {
    Jwks(Url),
    Discovery { issuer: Box<str>, config_url: Url },
}

#[derive(Clone)]
struct Config {
    client: Option<Client>,
    connect: Duration,
    total: Duration,
    min_age: Duration,
    max_age: Duration,
    cooldown: Duration,
}

struct State {
    /// A fetch is asked for or running: its end is announced on `fetched`.
    in_flight: bool,
    last_fetch: Option<Instant>,
    /// When a miss last caused a fetch: the cooldown counts from here, so a key rotated in just
    /// after a scheduled refresh is still picked up at its first token, while a flood of random
    /// kids causes at most one fetch per cooldown.
    last_miss_fetch: Option<Instant>,
    next_due: Instant,
    backoff: Duration,
    failures: u32,
    last_error: Option<KeyError>,
    /// The `jwks_uri` discovery found, forgotten when a fetch fails so that it is looked up again.
    jwks_uri: Option<Url>,
}

impl RemoteJwks {
    /// Keys from this JWKS URL (absolute `http` or `https`).
    ///
    /// ```
    /// use tower_jwt_auth::RemoteJwks;
    /// use tower_jwt_auth::keys::KeyError;
    ///
    /// let keys = RemoteJwks::new("https://idp.example.com/.well-known/jwks.json")?;
    /// assert!(matches!(RemoteJwks::new("/jwks.json"), Err(KeyError::InvalidUrl(_))));
    /// # Ok::<(), KeyError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`KeyError::InvalidUrl`] when `jwks_url` is not an absolute `http(s)` URL.
    pub fn new(jwks_url: &str) -> Result<Self, KeyError> {
        let url = fetch::http_url(jwks_url)?;
        Ok(Self::start(Source::Jwks(url), Config::default()))
    }

    /// Keys found by OpenID Connect discovery: `{issuer}/.well-known/openid-configuration` is
    /// read (one trailing `/` of `issuer` dropped first, so a path such as a Keycloak realm is
    /// kept), its `issuer` must equal `issuer` exactly, and its `jwks_uri` is where keys come
    /// from. A document naming another issuer is refused ([`KeyError::IssuerMismatch`]): no key
    /// is ever taken from it. An `https` issuer must name an `https` `jwks_uri`.
    ///
    /// ```
    /// use tower_jwt_auth::RemoteJwks;
    ///
    /// let keys = RemoteJwks::discover("https://sso.example.com/realms/demo")?;
    /// assert_eq!(keys.issuer(), Some("https://sso.example.com/realms/demo"));
    /// # Ok::<(), tower_jwt_auth::keys::KeyError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`KeyError::InvalidUrl`] when `issuer` is not an absolute `http(s)` URL without query or
    /// fragment.
    pub fn discover(issuer: &str) -> Result<Self, KeyError> {
        let invalid = || KeyError::InvalidUrl(issuer.to_owned());
        let url = fetch::http_url(issuer)?;
        if url.query().is_some() || url.fragment().is_some() || issuer.trim() != issuer {
            return Err(invalid());
        }
        let base = issuer.strip_suffix('/').unwrap_or(issuer);
        let config_url = fetch::http_url(&format!("{base}{WELL_KNOWN}")).map_err(|_| invalid())?;
        let source = Source::Discovery {
            issuer: issuer.into(),
            config_url,
        };
        Ok(Self::start(source, Config::default()))
    }

    /// The HTTP client for every fetch, e.g. one with a custom CA, a proxy or a client
    /// certificate. The [total timeout](Self::timeouts) still bounds each request.
    ///
    /// Builders make a new cache: call them right after [`new`](Self::new) or
    /// [`discover`](Self::discover); clones made before keep the old settings.
    ///
    /// ```
    /// let client = reqwest::Client::builder().build().expect("a TLS backend");
    /// let keys = tower_jwt_auth::RemoteJwks::new("https://idp.example.com/jwks.json")?.client(client);
    /// # Ok::<(), tower_jwt_auth::keys::KeyError>(())
    /// ```
    #[must_use]
    pub fn client(self, client: Client) -> Self {
        self.reconfigure(|config| config.client = Some(client))
    }

    /// The connect timeout (default 2 s; only for the client built here, not one given to
    /// [`client`](Self::client)) and the total timeout of each request, body included
    /// (default 5 s).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let keys = tower_jwt_auth::RemoteJwks::new("https://idp.example.com/jwks.json")?
    ///     .timeouts(Duration::from_secs(1), Duration::from_secs(3));
    /// # Ok::<(), tower_jwt_auth::keys::KeyError>(())
    /// ```
    #[must_use]
    pub fn timeouts(self, connect: Duration, total: Duration) -> Self {
        self.reconfigure(|config| {
            config.connect = connect;
            config.total = total;
        })
    }

    /// How long keys are kept before a refresh: the response's `max-age` (less its `Age`)
    /// clamped into `[min, max]`, or 10 minutes clamped when it has none; `no-store` and
    /// `no-cache` count as 0. Defaults: 60 s and 24 h. The refresh happens at 85% of that
    /// lifetime. A `min` under 1 s is taken as 1 s, a `max` under `min` as `min`.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let keys = tower_jwt_auth::RemoteJwks::new("https://idp.example.com/jwks.json")?
    ///     .cache_bounds(Duration::from_secs(300), Duration::from_secs(3600));
    /// # Ok::<(), tower_jwt_auth::keys::KeyError>(())
    /// ```
    #[must_use]
    pub fn cache_bounds(self, min: Duration, max: Duration) -> Self {
        self.reconfigure(|config| {
            config.min_age = min.max(FLOOR_AGE);
            config.max_age = max.max(config.min_age);
        })
    }

    /// The least time between the start of one fetch and a fetch asked for by a token with an
    /// unknown `kid` (default 10 s): a flood of random `kid`s costs the provider one request
    /// per cooldown, while a key the provider rotates in is picked up within seconds.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let keys = tower_jwt_auth::RemoteJwks::new("https://idp.example.com/jwks.json")?
    ///     .refetch_cooldown(Duration::from_secs(30));
    /// # Ok::<(), tower_jwt_auth::keys::KeyError>(())
    /// ```
    #[must_use]
    pub fn refetch_cooldown(self, cooldown: Duration) -> Self {
        self.reconfigure(|config| config.cooldown = cooldown)
    }

    /// The issuer these keys were discovered from; `None` for a plain JWKS URL.
    pub fn issuer(&self) -> Option<&str> {
        match &self.inner.shared.source {
            Source::Jwks(_) => None,
            Source::Discovery { issuer, .. } => Some(issuer),
        }
    }

    /// Whether keys are loaded: for readiness probes. Starts the background task if it has not
    /// started yet.
    pub fn is_ready(&self) -> bool {
        self.inner.ensure_running();
        self.inner.shared.read_keys().is_some()
    }

    /// Waits until keys are loaded, at most `timeout`, starting the background task if needed.
    ///
    /// # Errors
    ///
    /// The last fetch error ([`KeyError::FetchFailed`], [`KeyError::IssuerMismatch`]) when no
    /// keys are loaded after `timeout`, or `FetchFailed` when no fetch has ended yet.
    pub async fn ready(&self, timeout: Duration) -> Result<(), KeyError> {
        let shared = &self.inner.shared;
        let mut loaded = shared.loaded.subscribe();
        self.inner.ensure_running();
        if let Ok(Ok(_)) = tokio::time::timeout(timeout, loaded.wait_for(|&l| l)).await {
            return Ok(());
        }
        let last_error = shared.lock_state().last_error.clone();
        Err(last_error.unwrap_or_else(|| {
            KeyError::FetchFailed(format!("no keys from {} after {timeout:?}", shared.source))
        }))
    }

    /// The keys in the cache now: no I/O, no await.
    pub(crate) fn cached(&self) -> Option<Arc<KeySet>> {
        self.inner.ensure_running();
        self.inner.shared.read_keys()
    }

    /// After a miss (no keys yet, or an unknown `kid`): waits for one fetch, the one already
    /// running or a new one unless a miss started one less than the cooldown ago, and returns
    /// the keys cached then.
    pub(crate) async fn refetch(&self) -> Option<Arc<KeySet>> {
        let shared = &self.inner.shared;
        if !self.inner.ensure_running() {
            return shared.read_keys();
        }
        let mut fetched = std::pin::pin!(shared.fetched.notified());
        {
            let mut state = shared.lock_state();
            // Checked under the lock: a task that ends clears it under the lock and wakes us.
            if !shared.running.load(Ordering::Acquire) {
                return shared.read_keys();
            }
            if !state.in_flight {
                // With keys cached, misses are unknown kids: at most one fetch per cooldown.
                // Without keys, any recent fetch (the background retries) counts.
                let has_keys = shared.read_keys().is_some();
                let since = if has_keys {
                    state.last_miss_fetch
                } else {
                    state.last_fetch
                };
                let cooling = since
                    .map(|last| last.elapsed())
                    .filter(|since| *since < shared.config.cooldown);
                if let Some(since) = cooling {
                    drop(state);
                    tracing::debug!(
                        url = %shared.source,
                        ?since,
                        "JWKS refetch skipped: the last fetch is more recent than the cooldown"
                    );
                    return shared.read_keys();
                }
                state.in_flight = true;
                if has_keys {
                    state.last_miss_fetch = Some(Instant::now());
                }
                shared.wake.notify_one();
            }
            fetched.as_mut().enable();
        }
        fetched.await;
        shared.read_keys()
    }

    fn start(source: Source, config: Config) -> Self {
        let shared = Arc::new(Shared {
            source,
            config,
            built_client: OnceLock::new(),
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
            }),
            wake: Notify::new(),
            fetched: Notify::new(),
        });
        Self {
            inner: Arc::new(Inner {
                shared,
                task: Mutex::new(None),
            }),
        }
    }

    fn reconfigure(self, change: impl FnOnce(&mut Config)) -> Self {
        let shared = &self.inner.shared;
        let mut config = shared.config.clone();
        change(&mut config);
        Self::start(shared.source.clone(), config)
    }
}

impl fmt::Debug for RemoteJwks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shared = &self.inner.shared;
        let keys = shared.read_keys();
        f.debug_struct("RemoteJwks")
            .field("source", &format_args!("{}", shared.source))
            .field("issuer", &self.issuer())
            .field("kids", &keys.as_ref().map(|k| k.kids().collect::<Vec<_>>()))
            .finish_non_exhaustive()
    }
}

impl Inner {
    /// Starts the background task unless it runs; `false` when no Tokio runtime is current.
    fn ensure_running(&self) -> bool {
        let shared = &self.shared;
        if shared.running.load(Ordering::Acquire) {
            return true;
        }
        let Ok(runtime) = Handle::try_current() else {
            return false;
        };
        let mut task = self.task.lock().unwrap_or_else(PoisonError::into_inner);
        if !shared.running.swap(true, Ordering::AcqRel) {
            let run = Arc::clone(shared).run(Running(Arc::clone(shared)));
            *task = Some(runtime.spawn(run).abort_handle());
        }
        true
    }
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
    /// The background task: one fetch whenever one is due or asked for, never ending on its own.
    async fn run(self: Arc<Self>, _running: Running) {
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
    fn store(&self, fetched: Result<(KeySet, Duration), KeyError>) {
        let now = Instant::now();
        let mut state = self.lock_state();
        state.in_flight = false;
        match fetched {
            Ok((keys, lifetime)) => {
                let refresh_in = lifetime / 20 * 17;
                state.next_due = later(now, refresh_in);
                state.backoff = MIN_BACKOFF;
                state.last_error = None;
                let failures = std::mem::take(&mut state.failures);
                let keys = Arc::new(keys);
                let old = self
                    .keys
                    .write()
                    .unwrap_or_else(PoisonError::into_inner)
                    .replace(Arc::clone(&keys));
                self.loaded.send_replace(true);
                self.fetched.notify_waiters();
                drop(state);
                let kids = || keys.kids().collect::<Vec<_>>();
                let changed = old.is_none_or(|old| old.kids().ne(keys.kids()));
                if changed || failures > 0 {
                    tracing::info!(url = %self.source, keys = keys.len(), kids = ?kids(), ?refresh_in, failures, "JWKS fetched");
                } else {
                    tracing::debug!(url = %self.source, keys = keys.len(), ?refresh_in, "JWKS refreshed, unchanged");
                }
            }
            Err(error) => {
                let retry_in = state.backoff;
                state.next_due = later(now, retry_in);
                state.backoff = (retry_in * 2).min(MAX_BACKOFF);
                state.failures += 1;
                state.jwks_uri = None;
                let failures = state.failures;
                state.last_error = Some(error.clone());
                self.fetched.notify_waiters();
                drop(state);
                let stale = self.read_keys().is_some();
                // One warning per outage: the retries that follow log at debug.
                if failures == 1 {
                    tracing::warn!(url = %self.source, %error, serving_cached_keys = stale, ?retry_in, "JWKS fetch failed");
                } else {
                    tracing::debug!(url = %self.source, %error, serving_cached_keys = stale, ?retry_in, failures, "JWKS fetch failed again");
                }
            }
        }
    }

    /// One JWKS document (after discovery when needed) and how long to keep it.
    async fn fetch(&self) -> Result<(KeySet, Duration), KeyError> {
        let client = self.http_client()?;
        let config = &self.config;
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
        let (document, lifetime) = fetch::get(client, &url, config).await?;
        let keys = KeySet::from_jwks(&document)
            .map_err(|e| KeyError::FetchFailed(format!("GET {}: {e}", fetch::Redacted(&url))))?;
        Ok((keys, lifetime))
    }

    fn http_client(&self) -> Result<&Client, KeyError> {
        if let Some(client) = &self.config.client {
            return Ok(client);
        }
        if let Some(client) = self.built_client.get() {
            return Ok(client);
        }
        let client = fetch::client(&self.config, self.source.url().scheme() == "https")?;
        Ok(self.built_client.get_or_init(|| client))
    }

    fn read_keys(&self) -> Option<Arc<KeySet>> {
        self.keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    // Every write to the state is a few plain assignments: a panic cannot leave it half-made.
    fn lock_state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Source {
    /// The first URL fetched.
    fn url(&self) -> &Url {
        match self {
            Self::Jwks(url) => url,
            Self::Discovery { config_url, .. } => config_url,
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fetch::Redacted(self.url()).fmt(f)
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            client: None,
            connect: DEFAULT_CONNECT_TIMEOUT,
            total: DEFAULT_TOTAL_TIMEOUT,
            min_age: DEFAULT_MIN_AGE,
            max_age: DEFAULT_MAX_AGE,
            cooldown: DEFAULT_COOLDOWN,
        }
    }
}

fn later(now: Instant, after: Duration) -> Instant {
    now.checked_add(after)
        .unwrap_or_else(|| now + Duration::from_secs(365 * 24 * 60 * 60))
}
