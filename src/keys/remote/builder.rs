//! [`RemoteJwksBuilder`]: the settings of a [`RemoteJwks`] (HTTP client, timeouts, cache
//! bounds, refetch cooldown), all checked and applied at [`build`](RemoteJwksBuilder::build).

use std::fmt;
use std::time::Duration;

use reqwest::Client;

use super::task::Shared;
use super::{FetchError, RemoteJwks, Source, fetch};

const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const DEFAULT_TOTAL_TIMEOUT: Duration = Duration::from_secs(5);
const DEFAULT_MIN_AGE: Duration = Duration::from_secs(60);
const DEFAULT_MAX_AGE: Duration = Duration::from_secs(24 * 60 * 60);
const DEFAULT_COOLDOWN: Duration = Duration::from_secs(10);
/// The shortest lifetime, whatever the bounds: `max-age=0` must not make the refresh a busy loop.
const FLOOR_AGE: Duration = Duration::from_secs(1);

/// Settings of a [`RemoteJwks`], made by [`RemoteJwks::builder`] or
/// [`RemoteJwks::discovery_builder`]; nothing starts or is fetched before
/// [`build`](Self::build).
///
/// ```
/// use std::time::Duration;
/// use tower_jwt_auth::RemoteJwks;
///
/// let keys = RemoteJwks::builder("https://idp.example.com/.well-known/jwks.json")
///     .timeouts(Duration::from_secs(1), Duration::from_secs(3))
///     .cache_bounds(Duration::from_secs(300), Duration::from_secs(3600))
///     .refetch_cooldown(Duration::from_secs(30))
///     .build()?;
/// # Ok::<(), tower_jwt_auth::keys::FetchError>(())
/// ```
#[must_use = "a RemoteJwksBuilder does nothing until it is built"]
#[derive(Clone)]
pub struct RemoteJwksBuilder {
    source: Result<Source, FetchError>,
    config: Config,
}

#[derive(Clone)]
pub(crate) struct Config {
    pub(super) client: Option<Client>,
    pub(super) connect: Duration,
    pub(super) total: Duration,
    pub(super) min_age: Duration,
    pub(super) max_age: Duration,
    pub(super) cooldown: Duration,
    pub(super) outage_log_every: Duration,
}

impl RemoteJwksBuilder {
    pub(super) fn new(source: Result<Source, FetchError>) -> Self {
        Self {
            source,
            config: Config::default(),
        }
    }

    /// The HTTP client for every fetch, e.g. one with a custom CA, a proxy or a client
    /// certificate. The [total timeout](Self::timeouts) still bounds each request.
    ///
    /// ```
    /// let client = reqwest::Client::builder().build().expect("a TLS backend");
    /// let keys = tower_jwt_auth::RemoteJwks::builder("https://idp.example.com/jwks.json")
    ///     .client(client)
    ///     .build()?;
    /// # Ok::<(), tower_jwt_auth::keys::FetchError>(())
    /// ```
    pub fn client(mut self, client: Client) -> Self {
        self.config.client = Some(client);
        self
    }

    /// The connect timeout (default 2 s; only for the client built here, not one given to
    /// [`client`](Self::client)) and the total timeout of each request, body included
    /// (default 5 s).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let keys = tower_jwt_auth::RemoteJwks::builder("https://idp.example.com/jwks.json")
    ///     .timeouts(Duration::from_secs(1), Duration::from_secs(3))
    ///     .build()?;
    /// # Ok::<(), tower_jwt_auth::keys::FetchError>(())
    /// ```
    pub fn timeouts(mut self, connect: Duration, total: Duration) -> Self {
        self.config.connect = connect;
        self.config.total = total;
        self
    }

    /// How long keys are kept before a refresh: the response's `max-age` (less its `Age`)
    /// clamped into `[min, max]`, or 10 minutes clamped when it has none; `no-store` and
    /// `no-cache` count as 0. Defaults: 60 s and 24 h. The refresh happens at 85% of that
    /// lifetime. A `min` under 1 s is taken as 1 s, a `max` under `min` as `min`.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let keys = tower_jwt_auth::RemoteJwks::builder("https://idp.example.com/jwks.json")
    ///     .cache_bounds(Duration::from_secs(300), Duration::from_secs(3600))
    ///     .build()?;
    /// # Ok::<(), tower_jwt_auth::keys::FetchError>(())
    /// ```
    pub fn cache_bounds(mut self, min: Duration, max: Duration) -> Self {
        self.config.min_age = min.max(FLOOR_AGE);
        self.config.max_age = max.max(self.config.min_age);
        self
    }

    /// The least time between the start of one fetch and a fetch asked for by a token with an
    /// unknown `kid` (default 10 s): a flood of random `kid`s costs the provider one request
    /// per cooldown, while a key the provider rotates in is picked up within seconds.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let keys = tower_jwt_auth::RemoteJwks::builder("https://idp.example.com/jwks.json")
    ///     .refetch_cooldown(Duration::from_secs(30))
    ///     .build()?;
    /// # Ok::<(), tower_jwt_auth::keys::FetchError>(())
    /// ```
    pub fn refetch_cooldown(mut self, cooldown: Duration) -> Self {
        self.config.cooldown = cooldown;
        self
    }

    /// How often an outage of the provider is logged again while it lasts (default a minute):
    /// one `warn` when fetches start failing, then one per interval with the count of failed
    /// fetches, then one `info` when a fetch succeeds; the retries in between log at `debug`.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let keys = tower_jwt_auth::RemoteJwks::builder("https://idp.example.com/jwks.json")
    ///     .outage_log_interval(Duration::from_secs(300))
    ///     .build()?;
    /// # Ok::<(), tower_jwt_auth::keys::FetchError>(())
    /// ```
    pub fn outage_log_interval(mut self, interval: Duration) -> Self {
        self.config.outage_log_every = interval;
        self
    }

    /// The keys: the URL checked, the HTTP client built (unless one was given), and the
    /// background task started when a Tokio runtime is current (else at the first use inside
    /// one). Nothing is fetched here; await [`RemoteJwks::ready`] to wait for the first keys.
    ///
    /// ```
    /// use tower_jwt_auth::RemoteJwks;
    ///
    /// // Outside a runtime: nothing starts, nothing panics.
    /// let keys = RemoteJwks::builder("http://127.0.0.1:9/jwks.json").build()?;
    /// assert!(!keys.is_ready());
    /// # Ok::<(), tower_jwt_auth::keys::FetchError>(())
    /// ```
    ///
    /// # Errors
    /// [`FetchErrorKind::BadUrl`](super::FetchErrorKind::BadUrl) when the URL or issuer is not an absolute `http(s)` URL (an
    /// issuer with a query or fragment too), [`FetchErrorKind::Client`](super::FetchErrorKind::Client) when no HTTP client can
    /// be built.
    pub fn build(self) -> Result<RemoteJwks, FetchError> {
        let source = self.source?;
        let client = match &self.config.client {
            Some(client) => client.clone(),
            None => fetch::client(&self.config, source.url())?,
        };
        Ok(RemoteJwks::start(Shared::new(source, self.config, client)))
    }
}

impl fmt::Debug for RemoteJwksBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = self.source.as_ref().map(ToString::to_string);
        f.debug_struct("RemoteJwksBuilder")
            .field("source", &source)
            .finish_non_exhaustive()
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
            outage_log_every: Duration::from_secs(60),
        }
    }
}
