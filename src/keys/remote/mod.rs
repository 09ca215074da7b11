//! [`RemoteJwks`]: keys fetched from a JWKS URL, or found by OpenID Connect discovery, kept in a
//! cache that a background task refreshes, so that a request reads them without I/O. One task
//! does every fetch, one at a time: callers that miss a key ask it for a fetch and wait for it,
//! and no lock is ever held across the network. This file is the public handle and its builder;
//! `task.rs` is the fetch loop, `fetch.rs` the HTTP side.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use reqwest::Url;
use tokio::time::Instant;

use super::KeySet;
use crate::task::Task;
use error::FetchErrorKind;
use task::Shared;

mod builder;
pub(crate) mod error;
mod fetch;
mod task;
#[cfg(test)]
mod tests;

pub(super) use builder::Config;
pub use builder::RemoteJwksBuilder;
pub use error::FetchError;

const WELL_KNOWN: &str = "/.well-known/openid-configuration";
/// While no keys are cached, requests cause at most one fetch per this long.
const COLD_START_COOLDOWN: Duration = Duration::from_secs(1);

/// Verifying keys fetched from a JWKS URL or found by OpenID Connect discovery (cargo feature
/// `jwks`).
///
/// The keys are cached and refreshed in the background before they go stale, honouring the
/// response's `Cache-Control: max-age` within [bounds](RemoteJwksBuilder::cache_bounds). A token
/// with an unknown `kid` triggers one refetch, shared by every request that misses at the same
/// time and at most one per [cooldown](RemoteJwksBuilder::refetch_cooldown). While the provider
/// is down the cached keys keep working; until keys were loaded once, there are none (the layer
/// answers 503), and a request then asks for a fetch itself (one at a time, at most one a
/// second) rather than waiting for the background retry, so the first keys arrive as soon as
/// the provider answers.
///
/// An outage is logged as it happens, not per request: one `warn` at the first failed fetch,
/// one a [minute](RemoteJwksBuilder::outage_log_interval) while it lasts (with the count of
/// failed fetches), one `info` with the keys when
/// a fetch succeeds again. A JWK the crate cannot use is logged once at `warn`, with its `kid`,
/// the reason and the `jwks_uri`, when it first appears in the document.
///
/// The background task starts as soon as a Tokio runtime is at hand: at
/// [`build`](RemoteJwksBuilder::build) when it runs inside one, else at the first use inside
/// one (a request, [`ready`](Self::ready), [`is_ready`](Self::is_ready)); nothing panics outside
/// a runtime. It retries with backoff (1 s doubling to 30 s) while the provider is down. Clones
/// share one cache; the task stops with the last clone. Keys come only from the configured URL,
/// never from a token's `jku` or `x5u`.
///
/// ```no_run
/// use std::time::Duration;
/// use tower_jwt_auth::RemoteJwks;
///
/// # #[tokio::main] async fn main() -> Result<(), tower_jwt_auth::keys::FetchError> {
/// let keys = RemoteJwks::discovery_builder("https://sso.example.com/realms/demo")
///     .cache_bounds(Duration::from_secs(300), Duration::from_secs(3600))
///     .build()?;
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
    task: Task,
}

#[derive(Clone)]
pub(super) enum Source {
    Jwks(Url),
    Discovery { issuer: Box<str>, config_url: Url },
}

impl RemoteJwks {
    /// The builder of keys from this JWKS URL (absolute `http` or `https`).
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_jwt_auth::RemoteJwks;
    ///
    /// let keys = RemoteJwks::builder("https://idp.example.com/.well-known/jwks.json")
    ///     .refetch_cooldown(Duration::from_secs(30))
    ///     .build()?;
    /// # Ok::<(), tower_jwt_auth::keys::FetchError>(())
    /// ```
    pub fn builder(jwks_url: &str) -> RemoteJwksBuilder {
        RemoteJwksBuilder::new(fetch::http_url(jwks_url).map(Source::Jwks))
    }

    /// The builder of keys found by OpenID Connect discovery: `{issuer}/.well-known/openid-configuration`
    /// is read (one trailing `/` of `issuer` dropped first, so a path such as a Keycloak realm
    /// is kept), its `issuer` must equal `issuer` exactly, and its `jwks_uri` is where keys come
    /// from. A document naming another issuer is refused ([`FetchErrorKind::IssuerMismatch`]):
    /// no key is ever taken from it. An `https` issuer must name an `https` `jwks_uri`. A layer
    /// on these keys requires `iss` to be `issuer`.
    ///
    /// ```
    /// use tower_jwt_auth::RemoteJwks;
    ///
    /// let keys = RemoteJwks::discovery_builder("https://sso.example.com/realms/demo").build()?;
    /// assert_eq!(keys.issuer(), Some("https://sso.example.com/realms/demo"));
    /// # Ok::<(), tower_jwt_auth::keys::FetchError>(())
    /// ```
    pub fn discovery_builder(issuer: &str) -> RemoteJwksBuilder {
        let source = (|| {
            let url = fetch::http_url(issuer)?;
            let plain = url.query().is_none()
                && url.fragment().is_none()
                && url.username().is_empty()
                && url.password().is_none()
                && issuer.trim() == issuer;
            if !plain {
                return Err(FetchError::new(
                    fetch::Redacted(&url),
                    FetchErrorKind::BadUrl,
                    "an issuer has no query, fragment, user, password or surrounding space",
                ));
            }
            let base = issuer.strip_suffix('/').unwrap_or(issuer);
            let config_url = fetch::http_url(&format!("{base}{WELL_KNOWN}"))
                .map_err(|_| FetchError::new(fetch::Redacted(&url), FetchErrorKind::BadUrl, ""))?;
            Ok(Source::Discovery {
                issuer: issuer.into(),
                config_url,
            })
        })();
        RemoteJwksBuilder::new(source)
    }

    /// Keys from this JWKS URL, with the default settings: `RemoteJwks::builder(jwks_url).build()`.
    ///
    /// ```
    /// use tower_jwt_auth::RemoteJwks;
    /// use tower_jwt_auth::keys::FetchErrorKind;
    ///
    /// let keys = RemoteJwks::new("https://idp.example.com/.well-known/jwks.json")?;
    /// assert_eq!(RemoteJwks::new("/jwks.json").unwrap_err().kind(), &FetchErrorKind::BadUrl);
    /// # Ok::<(), tower_jwt_auth::keys::FetchError>(())
    /// ```
    ///
    /// # Errors
    /// As [`RemoteJwksBuilder::build`].
    pub fn new(jwks_url: &str) -> Result<Self, FetchError> {
        Self::builder(jwks_url).build()
    }

    /// Keys found by OpenID Connect discovery, with the default settings:
    /// `RemoteJwks::discovery_builder(issuer).build()`.
    ///
    /// ```
    /// let keys = tower_jwt_auth::RemoteJwks::discover("https://sso.example.com/realms/demo")?;
    /// # Ok::<(), tower_jwt_auth::keys::FetchError>(())
    /// ```
    ///
    /// # Errors
    /// As [`RemoteJwksBuilder::build`].
    pub fn discover(issuer: &str) -> Result<Self, FetchError> {
        Self::discovery_builder(issuer).build()
    }

    /// The issuer these keys were discovered from; `None` for a plain JWKS URL.
    ///
    /// ```
    /// let keys = tower_jwt_auth::RemoteJwks::new("https://idp.example.com/jwks.json")?;
    /// assert_eq!(keys.issuer(), None);
    /// # Ok::<(), tower_jwt_auth::keys::FetchError>(())
    /// ```
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
    /// ```no_run
    /// # #[tokio::main] async fn main() -> Result<(), tower_jwt_auth::keys::FetchError> {
    /// let keys = tower_jwt_auth::RemoteJwks::new("https://idp.example.com/jwks.json")?;
    /// if let Err(err) = keys.ready(std::time::Duration::from_secs(3)).await {
    ///     // Start anyway: requests get 503 until the provider answers.
    ///     eprintln!("no signing keys yet: {err}");
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// The last fetch's [`FetchError`] when no keys are loaded after `timeout`, or one of kind
    /// [`FetchErrorKind::Timeout`] when no fetch has ended yet (outside a runtime none starts).
    pub async fn ready(&self, timeout: Duration) -> Result<(), FetchError> {
        let shared = &self.inner.shared;
        let mut loaded = shared.loaded.subscribe();
        self.inner.ensure_running();
        if let Ok(Ok(_)) = tokio::time::timeout(timeout, loaded.wait_for(|&l| l)).await {
            return Ok(());
        }
        let last_error = shared.lock_state().last_error.clone();
        Err(last_error.unwrap_or_else(|| {
            FetchError::new(
                &shared.source,
                FetchErrorKind::Timeout,
                format_args!("no fetch ended within {timeout:?}"),
            )
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
                // Without keys (a cold start, a provider that was down), any recent fetch
                // counts, the background retries too, but only for a second: the keys come as
                // soon as the provider answers, not at the next retry of the backoff.
                let has_keys = shared.read_keys().is_some();
                let (since, cooldown) = if has_keys {
                    (state.last_miss_fetch, shared.config.cooldown)
                } else {
                    let cooldown = shared.config.cooldown.min(COLD_START_COOLDOWN);
                    (state.last_fetch, cooldown)
                };
                let cooling = since
                    .map(|last| last.elapsed())
                    .filter(|since| *since < cooldown);
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

impl RemoteJwks {
    /// The handle on `shared`, its task started if a runtime is current.
    fn start(shared: Shared) -> Self {
        let inner = Arc::new(Inner {
            shared: Arc::new(shared),
            task: Task::default(),
        });
        inner.ensure_running();
        Self { inner }
    }
}

impl Inner {
    /// Starts the background task unless it runs; `false` when no Tokio runtime is current.
    fn ensure_running(&self) -> bool {
        let shared = &self.shared;
        self.task
            .ensure_running(&shared.running, || Arc::clone(shared).run())
    }
}

impl Source {
    /// The first URL fetched.
    pub(super) fn url(&self) -> &Url {
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
