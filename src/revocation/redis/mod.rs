//! [`RedisStore`]: revocations shared by every instance through Redis, checked against a local
//! mirror so that a request never waits on the network.
//!
//! Each revocation is one key, `{prefix}:revoked:jti:{id}` or `{prefix}:revoked:sid:{id}`, that
//! Redis drops (`EXAT`) when the token would have expired anyway, written together with a message
//! on `{prefix}:revocations`. A background task subscribes to that channel, then scans the keys
//! into the mirror, then applies each message as it arrives. Whenever that task is not in sync
//! (not yet connected, or its connection lost), `check` answers `Unavailable`, so the layer fails
//! closed rather than miss a revocation.

use std::convert::Infallible;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use ::redis::aio::MultiplexedConnection;
use ::redis::{
    AsyncConnectionConfig, Client, IntoConnectionInfo, ProtocolVersion, PushInfo, PushKind,
    RedisError, Value,
};
use tokio::sync::{mpsc, watch};
use tokio::task::AbortHandle;

use super::{Entries, Revocation, RevocationStore, StoreError, StoreFuture};
use crate::clock::Clock;

const DEFAULT_PREFIX: &str = "tower-jwt-auth";
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// Bounds every command, the PING included: a half-dead connection is noticed within
/// `PING_EVERY + RESPONSE_TIMEOUT`.
const RESPONSE_TIMEOUT: Duration = Duration::from_millis(500);
const PING_EVERY: Duration = Duration::from_secs(1);
const MIN_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(1);
const SCAN_COUNT: usize = 1000;
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
/// Clones share one mirror and one connection; the background task stops with the last clone.
///
/// ```no_run
/// use std::time::Duration;
/// use tower_jwt_auth::revocation::RedisStore;
///
/// # #[tokio::main] async fn main() -> Result<(), tower_jwt_auth::revocation::StoreError> {
/// let store = RedisStore::new("redis://127.0.0.1:6379")?;
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
    task: AbortHandle,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What the handles share with the background task.
struct State {
    client: Client,
    keys: Keys,
    mirror: RwLock<Entries>,
    /// Read on every request: a load, where the watch channel would take a lock.
    synced: AtomicBool,
    synced_tx: watch::Sender<bool>,
    /// The task's current connection, cloned out for writes; `None` while disconnected.
    conn: Mutex<Option<MultiplexedConnection>>,
    last_error: Mutex<Option<String>>,
}

impl RedisStore {
    /// A store on the Redis at `url` (`redis://[user:password@]host[:port][/db]`), with keys
    /// under the prefix `tower-jwt-auth`.
    ///
    /// Returns at once, whether Redis is up or not: a background task connects, loads the live
    /// revocations and keeps them current, retrying with backoff. Await [`ready`](Self::ready)
    /// before serving if the app should wait for it.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] when `url` is not a Redis URL this build can use.
    ///
    /// # Panics
    ///
    /// When called outside a Tokio runtime: the background task needs one.
    pub fn new(url: &str) -> Result<Self, StoreError> {
        let invalid = |e: RedisError| StoreError::unavailable(format!("invalid Redis URL: {e}"));
        let info = url.into_connection_info().map_err(invalid)?;
        // Pub/sub and commands share one connection, which RESP3 allows.
        let settings = info
            .redis_settings()
            .clone()
            .set_protocol(ProtocolVersion::RESP3);
        let client = Client::open(info.set_redis_settings(settings)).map_err(invalid)?;
        Ok(Self::spawn(client, DEFAULT_PREFIX))
    }

    /// The namespace of this store's keys and channel (default `tower-jwt-auth`): stores that
    /// share one Redis see each other's revocations only when their prefixes are equal.
    ///
    /// Restarts the background task, so call it right after [`new`](Self::new); clones made
    /// before keep the old prefix.
    ///
    /// ```
    /// # #[tokio::main] async fn main() -> Result<(), tower_jwt_auth::revocation::StoreError> {
    /// let store = tower_jwt_auth::revocation::RedisStore::new("redis://127.0.0.1:6379")?.prefix("myapp");
    /// assert!(format!("{store:?}").contains(r#"prefix: "myapp""#));
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn prefix(self, prefix: impl Into<String>) -> Self {
        Self::spawn(self.inner.state.client.clone(), &prefix.into())
    }

    /// Waits until the mirror is in sync with Redis, at most `timeout`.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] when it is not in sync after `timeout`, with the last
    /// connection error if there was one.
    pub async fn ready(&self, timeout: Duration) -> Result<(), StoreError> {
        let state = &self.inner.state;
        let mut synced = state.synced_tx.subscribe();
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
    /// readiness probes.
    pub fn is_synced(&self) -> bool {
        self.inner.state.synced.load(Ordering::Acquire)
    }

    fn spawn(client: Client, prefix: &str) -> Self {
        let runtime = tokio::runtime::Handle::try_current()
            .expect("RedisStore must be created within a Tokio runtime: it spawns a task");
        let state = Arc::new(State {
            client,
            keys: Keys::new(prefix),
            mirror: RwLock::default(),
            synced: AtomicBool::new(false),
            synced_tx: watch::channel(false).0,
            conn: Mutex::new(None),
            last_error: Mutex::new(None),
        });
        let task = runtime.spawn(Arc::clone(&state).run()).abort_handle();
        Self {
            inner: Arc::new(Inner { state, task }),
        }
    }
}

impl RevocationStore for RedisStore {
    /// Refuses the token on this instance at once, then writes the key and publishes the
    /// revocation in one transaction. An `until` already past stores nothing.
    ///
    /// Fails with `Unavailable` when Redis cannot be written; this instance still refuses.
    fn revoke<'a>(&'a self, what: Revocation<'a>, until: u64) -> StoreFuture<'a, ()> {
        let state = &self.inner.state;
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
                .arg(state.keys.revoked(what))
                .arg(until)
                .arg("EXAT")
                .arg(until)
                .ignore()
                .cmd("PUBLISH")
                .arg(&state.keys.channel)
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
        let state = &self.inner.state;
        Box::pin(async move {
            if until <= unix_now() {
                return Ok(false);
            }
            let mut conn = state.connection()?;
            let reply: Value = redis::cmd("SET")
                .arg(format!("{}{jti}", state.keys.used))
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
        let state = &self.inner.state;
        if !state.synced.load(Ordering::Acquire) {
            return Err(StoreError::unavailable(NOT_SYNCED));
        }
        Ok(state.read_mirror().is_revoked(jti, sid, now))
    }
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The address only: the URL may carry a password.
        let state = &self.inner.state;
        f.debug_struct("RedisStore")
            .field("addr", &format_args!("{}", state.addr()))
            .field("prefix", &state.keys.prefix)
            .field("synced", &self.is_synced())
            .field("entries", &state.read_mirror().len())
            .finish()
    }
}

/// Why a session with Redis ended.
enum Lost {
    Redis(RedisError),
    Disconnected,
    Unsubscribed,
}

impl From<RedisError> for Lost {
    fn from(e: RedisError) -> Self {
        Self::Redis(e)
    }
}

impl fmt::Display for Lost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Redis(e) => e.fmt(f),
            Self::Disconnected => f.write_str("connection closed"),
            Self::Unsubscribed => f.write_str("unsubscribed from the revocation channel"),
        }
    }
}

impl State {
    /// The background task: one session after another, never ending on its own.
    async fn run(self: Arc<Self>) {
        let mut backoff = MIN_BACKOFF;
        let mut quiet = false;
        loop {
            let Err(lost) = self.session().await;
            let was_synced = self.synced.swap(false, Ordering::AcqRel);
            self.synced_tx.send_replace(false);
            *self.conn.lock().unwrap_or_else(PoisonError::into_inner) = None;
            *self.lock_last_error() = Some(lost.to_string());
            // One warning per outage: the retries that follow log at debug.
            if was_synced {
                backoff = MIN_BACKOFF;
                quiet = true;
                tracing::warn!(
                    redis = %self.addr(),
                    error = %lost,
                    "lost sync with Redis: failing closed until resynced"
                );
            } else if !quiet {
                quiet = true;
                tracing::warn!(
                    redis = %self.addr(),
                    error = %lost,
                    "cannot sync with Redis, retrying"
                );
            } else {
                tracing::debug!(
                    redis = %self.addr(),
                    error = %lost,
                    "cannot sync with Redis, retrying"
                );
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    /// Connects, subscribes, loads, then follows the channel until the connection fails.
    async fn session(&self) -> Result<Infallible, Lost> {
        let (push_tx, mut pushes) = mpsc::unbounded_channel();
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_push_sender(push_tx);
        let mut conn = self
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        // Subscribe before the scan: a revocation written meanwhile is then in one or the other.
        conn.subscribe(&self.keys.channel).await?;
        *self.conn.lock().unwrap_or_else(PoisonError::into_inner) = Some(conn.clone());
        tracing::debug!(redis = %self.addr(), "connected to Redis, loading revocations");
        self.load(&mut conn).await?;
        while let Ok(push) = pushes.try_recv() {
            self.apply(push)?;
        }
        self.synced.store(true, Ordering::Release);
        self.synced_tx.send_replace(true);
        let entries = self.read_mirror().len();
        tracing::info!(redis = %self.addr(), entries, "revocation mirror in sync with Redis");

        let listen = async {
            loop {
                self.apply(pushes.recv().await.ok_or(Lost::Disconnected)?)?;
            }
        };
        // A connection can die without closing (a host gone, a partition): PING notices.
        let ping = async {
            loop {
                tokio::time::sleep(PING_EVERY).await;
                redis::cmd("PING").query_async::<()>(&mut conn).await?;
            }
        };
        tokio::select! {
            lost = listen => lost,
            lost = ping => lost,
        }
    }

    /// Reads every live revocation into the mirror, a SCAN batch at a time.
    async fn load(&self, conn: &mut MultiplexedConnection) -> Result<(), RedisError> {
        let mut cursor = 0_u64;
        loop {
            let (next, keys): (u64, Vec<Vec<u8>>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&self.keys.pattern)
                .arg("COUNT")
                .arg(SCAN_COUNT)
                .query_async(conn)
                .await?;
            if !keys.is_empty() {
                let values: Vec<Option<Vec<u8>>> =
                    redis::cmd("MGET").arg(&keys).query_async(conn).await?;
                let now = unix_now();
                let mut mirror = self.write_mirror();
                for (key, value) in keys.iter().zip(values) {
                    let what = std::str::from_utf8(key)
                        .ok()
                        .and_then(|k| self.keys.parse(k));
                    let until = value.and_then(|v| std::str::from_utf8(&v).ok()?.parse().ok());
                    // A key gone between SCAN and MGET (expired) has no value: skip it.
                    if let (Some(what), Some(until)) = (what, until) {
                        mirror.insert(what, until, now);
                    }
                }
            }
            if next == 0 {
                return Ok(());
            }
            cursor = next;
        }
    }

    fn apply(&self, push: PushInfo) -> Result<(), Lost> {
        match push.kind {
            PushKind::Message => {
                let payload = match push.data.get(1) {
                    Some(Value::BulkString(bytes)) => std::str::from_utf8(bytes).ok(),
                    _ => None,
                };
                match payload.and_then(parse_message) {
                    Some((what, until)) => {
                        self.write_mirror().insert(what, until, unix_now());
                        tracing::debug!(?what, until, "revocation received");
                    }
                    None => {
                        tracing::warn!("ignoring a malformed message on the revocation channel")
                    }
                }
                Ok(())
            }
            PushKind::Disconnection => Err(Lost::Disconnected),
            PushKind::Unsubscribe => Err(Lost::Unsubscribed),
            _ => Ok(()),
        }
    }

    fn connection(&self) -> Result<MultiplexedConnection, StoreError> {
        let conn = self
            .conn
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        conn.ok_or_else(|| StoreError::unavailable("not connected to Redis"))
    }

    fn addr(&self) -> &redis::ConnectionAddr {
        self.client.get_connection_info().addr()
    }

    fn lock_last_error(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        self.last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    // Poisoning cannot leave the maps half-written in a way that matters: every write is a
    // single insert (see `MemoryStore`).
    fn read_mirror(&self) -> RwLockReadGuard<'_, Entries> {
        self.mirror.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write_mirror(&self) -> RwLockWriteGuard<'_, Entries> {
        self.mirror.write().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The names under one prefix.
struct Keys {
    prefix: Box<str>,
    channel: String,
    token: String,
    family: String,
    used: String,
    /// SCAN's MATCH pattern for every revocation key, the prefix escaped.
    pattern: String,
}

impl Keys {
    fn new(prefix: &str) -> Self {
        let escaped: String = prefix
            .chars()
            .flat_map(|c| {
                let escape = matches!(c, '*' | '?' | '[' | ']' | '\\').then_some('\\');
                escape.into_iter().chain([c])
            })
            .collect();
        Self {
            prefix: prefix.into(),
            channel: format!("{prefix}:revocations"),
            token: format!("{prefix}:revoked:jti:"),
            family: format!("{prefix}:revoked:sid:"),
            used: format!("{prefix}:used:"),
            pattern: format!("{escaped}:revoked:*"),
        }
    }

    fn revoked(&self, what: Revocation<'_>) -> String {
        match what {
            Revocation::Token(jti) => format!("{}{jti}", self.token),
            Revocation::Family(sid) => format!("{}{sid}", self.family),
        }
    }

    fn parse<'k>(&self, key: &'k str) -> Option<Revocation<'k>> {
        let token = key.strip_prefix(&self.token).map(Revocation::Token);
        token.or_else(|| key.strip_prefix(&self.family).map(Revocation::Family))
    }
}

/// `t <until> <jti>` or `f <until> <sid>`: the id comes last, so it may hold any character.
fn message(what: Revocation<'_>, until: u64) -> String {
    match what {
        Revocation::Token(jti) => format!("t {until} {jti}"),
        Revocation::Family(sid) => format!("f {until} {sid}"),
    }
}

fn parse_message(message: &str) -> Option<(Revocation<'_>, u64)> {
    let mut parts = message.splitn(3, ' ');
    let kind = parts.next()?;
    let until = parts.next()?.parse().ok()?;
    let id = parts.next()?;
    match kind {
        "t" => Some((Revocation::Token(id), until)),
        "f" => Some((Revocation::Family(id), until)),
        _ => None,
    }
}

fn unix_now() -> u64 {
    Clock::system().now()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_ids_with_spaces() {
        for what in [
            Revocation::Token("a b  c"),
            Revocation::Family(" lead"),
            Revocation::Token(""),
        ] {
            assert_eq!(parse_message(&message(what, 42)), Some((what, 42)));
        }
        assert_eq!(parse_message("x 1 id"), None);
        assert_eq!(parse_message("t soon id"), None);
        assert_eq!(parse_message("t 1"), None);
    }

    #[test]
    fn keys_parse_back_and_the_scan_pattern_escapes_the_prefix() {
        let keys = Keys::new("a*b");
        assert_eq!(keys.pattern, "a\\*b:revoked:*");
        let key = keys.revoked(Revocation::Family("s:1"));
        assert_eq!(key, "a*b:revoked:sid:s:1");
        assert_eq!(keys.parse(&key), Some(Revocation::Family("s:1")));
        assert_eq!(
            keys.parse("a*b:revoked:jti:j"),
            Some(Revocation::Token("j"))
        );
        assert_eq!(keys.parse("a*b:used:j"), None);
    }
}
