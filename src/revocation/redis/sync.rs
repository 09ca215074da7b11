//! The background task of a [`RedisStore`](super::RedisStore): connect, subscribe, load every
//! live revocation into the local mirror, then follow the channel; after any loss, out of sync
//! (checks fail closed) until the next session has loaded again.

use std::convert::Infallible;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use ::redis::aio::MultiplexedConnection;
use ::redis::{AsyncConnectionConfig, Client, PushInfo, PushKind, RedisError, Value};
use tokio::sync::{mpsc, watch};

use super::names::{KeyNames, parse_message};
use super::unix_now;
use crate::revocation::{Entries, StoreError};
use crate::task::{lock, read, write};

const PING_EVERY: Duration = Duration::from_secs(1);
const MIN_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(1);
const SCAN_COUNT: usize = 1000;

/// How long the store waits to connect, and for the answer to each command: the PING's too,
/// so a half-dead connection is noticed within `PING_EVERY + response`.
#[derive(Clone, Copy, Debug)]
pub(super) struct Timeouts {
    pub(super) connect: Duration,
    pub(super) response: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(1),
            response: Duration::from_millis(500),
        }
    }
}

/// What the handles share with the background task.
pub(super) struct State {
    client: Client,
    timeouts: Timeouts,
    pub(super) names: KeyNames,
    mirror: RwLock<Entries>,
    /// Whether the background task exists; cleared by its [`Running`] guard.
    pub(super) running: AtomicBool,
    /// Read on every request: a load, where the watch channel would take a lock.
    pub(super) synced: AtomicBool,
    pub(super) synced_tx: watch::Sender<bool>,
    /// The task's current connection, cloned out for writes; `None` while disconnected.
    conn: Mutex<Option<MultiplexedConnection>>,
    last_error: Mutex<Option<String>>,
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
    pub(super) fn new(client: Client, prefix: &str, timeouts: Timeouts) -> Self {
        Self {
            client,
            timeouts,
            names: KeyNames::new(prefix),
            mirror: RwLock::default(),
            running: AtomicBool::new(false),
            synced: AtomicBool::new(false),
            synced_tx: watch::channel(false).0,
            conn: Mutex::new(None),
            last_error: Mutex::new(None),
        }
    }

    /// The background task: one session after another, never ending on its own.
    pub(super) async fn run(self: Arc<Self>) {
        let _running = Running(Arc::clone(&self));
        let mut backoff = MIN_BACKOFF;
        let mut quiet = false;
        loop {
            let Err(lost) = self.session().await;
            let was_synced = self.unsync();
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
            .set_connection_timeout(Some(self.timeouts.connect))
            .set_response_timeout(Some(self.timeouts.response))
            .set_push_sender(push_tx);
        let mut conn = self
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        // Subscribe before the scan: a revocation written meanwhile is then in one or the other.
        conn.subscribe(&self.names.channel).await?;
        *lock(&self.conn) = Some(conn.clone());
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
                .arg(&self.names.pattern)
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
                        .and_then(|k| self.names.parse(k));
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

    /// Marks the mirror out of sync (checks fail closed) and drops the connection; whether it
    /// was in sync.
    fn unsync(&self) -> bool {
        let was_synced = self.synced.swap(false, Ordering::AcqRel);
        self.synced_tx.send_replace(false);
        *lock(&self.conn) = None;
        was_synced
    }

    pub(super) fn connection(&self) -> Result<MultiplexedConnection, StoreError> {
        let conn = lock(&self.conn).clone();
        conn.ok_or_else(|| StoreError::unavailable("not connected to Redis"))
    }

    pub(super) fn addr(&self) -> &redis::ConnectionAddr {
        self.client.get_connection_info().addr()
    }

    pub(super) fn lock_last_error(&self) -> MutexGuard<'_, Option<String>> {
        lock(&self.last_error)
    }

    pub(super) fn read_mirror(&self) -> RwLockReadGuard<'_, Entries> {
        read(&self.mirror)
    }

    pub(super) fn write_mirror(&self) -> RwLockWriteGuard<'_, Entries> {
        write(&self.mirror)
    }
}

/// Held by the background task: when it ends (aborted, or its runtime shut down), the mirror
/// is out of sync and the next use starts another task.
struct Running(Arc<State>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.unsync();
        self.0.running.store(false, Ordering::Release);
    }
}
