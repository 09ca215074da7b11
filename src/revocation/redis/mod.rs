//! [`RedisStore`]: revocations shared by every instance through Redis, checked against a local
//! mirror so that a request never waits on the network.
//!
//! Each revocation is one key, `{prefix}:revoked:jti:{id}` or `{prefix}:revoked:sid:{id}`, that
//! Redis drops (`EXAT`) when the token would have expired anyway, written together with a message
//! on `{prefix}:revocations`. A background task subscribes to that channel, then scans the keys
//! into the mirror, then applies each message as it arrives. Whenever that task is not in sync
//! (not yet connected, or its connection lost), `check` answers `Unavailable`, so the layer fails
//! closed rather than miss a revocation.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use ::redis::{Client, IntoConnectionInfo, ProtocolVersion, RedisError, Value};

use super::{Revocation, RevocationStore, StoreError, StoreFuture};
use crate::clock::Clock;
use crate::task::Task;
use names::message;
use sync::{State, Timeouts};

mod names;
mod sync;

const DEFAULT_PREFIX: &str = "tower-jwt-auth";
const NOT_SYNCED: &str = "the local mirror of Redis revocations is not in sync";

/// A [`RevocationStore`] shared by every instance through Redis (cargo feature `redis`).
///
/// `check` answers from a local mirror, so a request costs a hash lookup, not a round trip.
/// A background task keeps the mirror current through pub/sub, a revocation reaching every
/// instance within milliseconds, and resyncs by itself after any disconnect. Until it is in
/// sync, `check` returns [`StoreError::Unavailable`] and the layer fails closed; the app can
/// start while Redis is down and recovers when Redis is back.
///
/// Each revocation is a key `{prefix}:revoked:jti:{id}` or `{prefix}:revoked:sid:{id}` holding
/// its expiry and expiring then (`SET .. EXAT`); a used refresh token is `{prefix}:used:{jti}`.
/// Needs Redis 6.2 or later (or a compatible server speaking RESP3, which the store uses).
/// Revocations last as long as Redis keeps its data: give it persistence if a restart of Redis
/// must not forget them (running instances keep what their mirror already holds).
///
/// The background task starts as soon as a Tokio runtime is at hand: at
/// [`build`](RedisStoreBuilder::build) when it runs inside one, else at the first use inside
/// one; nothing panics outside a runtime. Clones share one mirror and one connection; the
/// task stops with the last clone.
///
/// ```no_run
/// use std::time::Duration;
/// use tower_jwt_auth::revocation::RedisStore;
///
/// # #[tokio::main] async fn main() -> Result<(), tower_jwt_auth::revocation::StoreError> {
/// let store = RedisStore::builder("redis://127.0.0.1:6379").prefix("orders-api").build()?;
/// store.ready(Duration::from_secs(5)).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    inner: Arc<Inner>,
}

/// What the handles own: dropping the last one stops the background task.
struct Inner {
    state: Arc<State>,
    task: Task,
}

/// Settings of a [`RedisStore`], made by [`RedisStore::builder`]; nothing connects before
/// [`build`](Self::build).
///
/// ```
/// use tower_jwt_auth::revocation::RedisStore;
///
/// let store = RedisStore::builder("redis://127.0.0.1:6379").prefix("orders-api").build()?;
/// assert!(RedisStore::builder("not a url").build().is_err());
/// # Ok::<(), tower_jwt_auth::revocation::StoreError>(())
/// ```
#[must_use = "a RedisStoreBuilder does nothing until it is built"]
#[derive(Clone)]
pub struct RedisStoreBuilder {
    url: String,
    prefix: String,
    timeouts: Timeouts,
}

impl RedisStore {
    /// The builder of a store on the Redis at `url`
    /// (`redis://[user:password@]host[:port][/db]`).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), tower_jwt_auth::revocation::StoreError> {
    /// let store = tower_jwt_auth::revocation::RedisStore::builder("redis://127.0.0.1:6379")
    ///     .prefix("myapp")
    ///     .build()?;
    /// assert!(format!("{store:?}").contains(r#"prefix: "myapp""#));
    /// # Ok(()) }
    /// ```
    pub fn builder(url: &str) -> RedisStoreBuilder {
        RedisStoreBuilder {
            url: url.to_owned(),
            prefix: DEFAULT_PREFIX.to_owned(),
            timeouts: Timeouts::default(),
        }
    }

    /// A store on the Redis at `url`, keys under the prefix `tower-jwt-auth`:
    /// `RedisStore::builder(url).build()`.
    ///
    /// ```
    /// use tower_jwt_auth::revocation::RedisStore;
    ///
    /// // Outside a runtime: nothing starts, nothing panics; the task starts at first use in one.
    /// let store = RedisStore::new("redis://127.0.0.1:6379")?;
    /// assert!(!store.is_synced());
    /// assert!(RedisStore::new("http://127.0.0.1:6379").is_err());
    /// # Ok::<(), tower_jwt_auth::revocation::StoreError>(())
    /// ```
    ///
    /// # Errors
    /// As [`RedisStoreBuilder::build`].
    pub fn new(url: &str) -> Result<Self, StoreError> {
        Self::builder(url).build()
    }

    /// Waits until the mirror is in sync with Redis, at most `timeout`, starting the background
    /// task if it has not started.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] when it is not in sync after `timeout`, with the last
    /// connection error if there was one.
    pub async fn ready(&self, timeout: Duration) -> Result<(), StoreError> {
        let state = &self.inner.state;
        let mut synced = state.synced_tx.subscribe();
        self.inner.ensure_running();
        if let Ok(Ok(_)) = tokio::time::timeout(timeout, synced.wait_for(|&s| s)).await {
            return Ok(());
        }
        let last_error = state.lock_last_error().clone();
        let cause = last_error.map_or_else(String::new, |e| format!(": {e}"));
        Err(StoreError::unavailable(format!(
            "not in sync with Redis at {} after {timeout:?}{cause}",
            state.addr()
        )))
    }

    /// Whether the mirror is in sync with Redis now, i.e. whether `check` answers: for
    /// readiness probes. Starts the background task if it has not started.
    pub fn is_synced(&self) -> bool {
        self.state().synced.load(Ordering::Acquire)
    }

    /// The shared state, the background task started first if a runtime is at hand.
    fn state(&self) -> &State {
        self.inner.ensure_running();
        &self.inner.state
    }
}

impl RedisStoreBuilder {
    /// The namespace of the store's keys and channel (default `tower-jwt-auth`): stores that
    /// share one Redis see each other's revocations only when their prefixes are equal.
    ///
    /// ```
    /// let builder = tower_jwt_auth::revocation::RedisStore::builder("redis://127.0.0.1:6379").prefix("myapp");
    /// ```
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The connect timeout (default 1 s) and the response timeout of every command (default
    /// 500 ms). A write (`revoke`, `consume`) that gets no answer in time fails alone; the
    /// PING sent every second that gets none ends the connection, and the layer fails closed
    /// until the store has resynced. Raise them for a Redis that can be slow to answer (another
    /// region, a busy server) rather than fail closed on each slow reply, knowing what it
    /// costs: during a stall each `consume` (refresh rotation, a DPoP proof's single use)
    /// waits that long, and a connection that died silently is trusted for up to a second
    /// plus the response timeout, revocations made elsewhere meanwhile unseen.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_jwt_auth::revocation::RedisStore;
    ///
    /// let store = RedisStore::builder("redis://127.0.0.1:6379")
    ///     .timeouts(Duration::from_secs(2), Duration::from_secs(2))
    ///     .build()?;
    /// assert!(RedisStore::builder("redis://127.0.0.1:6379").timeouts(Duration::ZERO, Duration::ZERO).build().is_err());
    /// # Ok::<(), tower_jwt_auth::revocation::StoreError>(())
    /// ```
    pub fn timeouts(mut self, connect: Duration, response: Duration) -> Self {
        self.timeouts = Timeouts { connect, response };
        self
    }

    /// The store: the URL checked, and the background task (connect, load the live
    /// revocations, follow them, retry with backoff) started when a Tokio runtime is current,
    /// else at the first use inside one. Returns at once, whether Redis is up or not: await
    /// [`RedisStore::ready`] before serving if the app should wait for it.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] when the URL is not a Redis URL this build can use, or a
    /// timeout is zero (no command could ever answer).
    pub fn build(self) -> Result<RedisStore, StoreError> {
        if self.timeouts.connect.is_zero() || self.timeouts.response.is_zero() {
            return Err(StoreError::unavailable(
                "Redis timeouts of zero: no command could ever answer; give each at least a few milliseconds",
            ));
        }
        let invalid = |e: RedisError| StoreError::unavailable(format!("invalid Redis URL: {e}"));
        let info = self.url.as_str().into_connection_info().map_err(invalid)?;
        // Pub/sub and commands share one connection, which RESP3 allows.
        let settings = info
            .redis_settings()
            .clone()
            .set_protocol(ProtocolVersion::RESP3);
        let client = Client::open(info.set_redis_settings(settings)).map_err(invalid)?;
        let inner = Arc::new(Inner {
            state: Arc::new(State::new(client, &self.prefix, self.timeouts)),
            task: Task::default(),
        });
        inner.ensure_running();
        Ok(RedisStore { inner })
    }
}

impl Inner {
    /// Starts the background task unless it runs; `false` when no Tokio runtime is current.
    fn ensure_running(&self) -> bool {
        let state = &self.state;
        self.task
            .ensure_running(&state.running, || Arc::clone(state).run())
    }
}

impl RevocationStore for RedisStore {
    /// Refuses the token on this instance at once, then writes the key and publishes the
    /// revocation in one transaction. An `until` already past stores nothing.
    ///
    /// Fails with `Unavailable` when Redis cannot be written; this instance still refuses.
    fn revoke<'a>(&'a self, what: Revocation<'a>, until: u64) -> StoreFuture<'a, ()> {
        let state = self.state();
        let now = unix_now();
        if until <= now {
            return Box::pin(std::future::ready(Ok(())));
        }
        state.write_mirror().insert(what, until, now);
        Box::pin(async move {
            let mut conn = state.connection()?;
            redis::pipe()
                .atomic()
                .cmd("SET")
                .arg(state.names.revoked(what))
                .arg(until)
                .arg("EXAT")
                .arg(until)
                .ignore()
                .cmd("PUBLISH")
                .arg(&state.names.channel)
                .arg(message(what, until))
                .ignore()
                .query_async::<()>(&mut conn)
                .await
                .map_err(StoreError::unavailable)?;
            tracing::debug!(?what, until, "revoked in Redis");
            Ok(())
        })
    }

    /// `SET {prefix}:used:{jti} 1 NX EXAT until`: `true` for the one caller that set it.
    ///
    /// An `until` already past answers `false` without asking Redis: a marker that expires at
    /// once cannot stop a replay, so an expired refresh token never counts as a first use.
    fn consume<'a>(&'a self, jti: &'a str, until: u64) -> StoreFuture<'a, bool> {
        let state = self.state();
        Box::pin(async move {
            if until <= unix_now() {
                return Ok(false);
            }
            let mut conn = state.connection()?;
            let reply: Value = redis::cmd("SET")
                .arg(format!("{}{jti}", state.names.used))
                .arg(1)
                .arg("NX")
                .arg("EXAT")
                .arg(until)
                .query_async(&mut conn)
                .await
                .map_err(StoreError::unavailable)?;
            Ok(!matches!(reply, Value::Nil))
        })
    }

    fn check(&self, jti: &str, sid: Option<&str>, now: u64) -> Result<bool, StoreError> {
        let state = self.state();
        if !state.synced.load(Ordering::Acquire) {
            return Err(StoreError::unavailable(NOT_SYNCED));
        }
        Ok(state.read_mirror().is_revoked(jti, sid, now))
    }
}

impl fmt::Debug for RedisStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The address only: the URL may carry a password.
        let addr = self.url.as_str().into_connection_info();
        let addr = addr.as_ref().map(|info| info.addr());
        let mut debug = f.debug_struct("RedisStoreBuilder");
        match addr {
            Ok(addr) => debug.field("addr", &format_args!("{addr}")),
            Err(_) => debug.field("addr", &"(not a Redis URL)"),
        };
        debug
            .field("prefix", &self.prefix)
            .field("timeouts", &self.timeouts)
            .finish()
    }
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The address only: the URL may carry a password.
        let state = &self.inner.state;
        f.debug_struct("RedisStore")
            .field("addr", &format_args!("{}", state.addr()))
            .field("prefix", &state.names.prefix)
            .field("synced", &self.is_synced())
            .field("entries", &state.read_mirror().len())
            .finish()
    }
}

fn unix_now() -> u64 {
    Clock::system().now()
}
