//! Taking tokens back: the [`RevocationStore`] trait that [`JwtLayer`](crate::JwtLayer) asks on
//! every request, and [`MemoryStore`], the embedded default.
//!
//! A store revokes one token (by `jti`) or a whole login (by its family id, the `sid` claim) until
//! a given time: the moment the revoked token would have expired anyway, after which the entry
//! is dropped. The per-request check answers from local memory with no I/O, so revocation costs a
//! hash lookup, not a network round trip; stores shared between instances (Redis) keep a local
//! mirror current in the background.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};

use crate::clock::Clock;
use crate::task;

#[cfg(feature = "redis")]
mod redis;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use self::redis::{RedisStore, RedisStoreBuilder};

/// What to revoke.
///
/// ```
/// use tower_jwt_auth::revocation::{MemoryStore, Revocation, RevocationStore};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let store = MemoryStore::new();
/// let now = 1_700_000_000;
/// store.revoke(Revocation::Family("login-42"), now + 3600).await?;
/// assert!(store.check("any-jti-of-that-login", Some("login-42"), now)?);
/// assert!(!store.check("any-jti-of-that-login", Some("another-login"), now)?);
/// # Ok::<(), tower_jwt_auth::revocation::StoreError>(()) }).unwrap();
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Revocation<'a> {
    /// One token, by its `jti`.
    Token(&'a str),
    /// Every token of a login (an access/refresh family), by its `sid`.
    Family(&'a str),
}

/// A store could not answer. The layer then fails closed (503) unless told to fail open.
///
/// ```
/// use tower_jwt_auth::revocation::StoreError;
///
/// let down = StoreError::unavailable("connection refused");
/// assert_eq!(down.to_string(), "revocation store unavailable: connection refused");
/// assert!(std::error::Error::source(&down).is_some());
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreError {
    /// The backing service cannot be reached, or the local mirror has lost its subscription and
    /// not yet resynced: its view may be missing revocations.
    Unavailable(Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    /// An `Unavailable` error with this cause.
    pub fn unavailable(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Unavailable(cause.into())
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unavailable(cause) => write!(f, "revocation store unavailable: {cause}"),
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Unavailable(cause) => Some(&**cause),
        }
    }
}

/// The future of a store operation.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// Where revocations live.
///
/// Writes (`revoke`, `consume`) are async and may do I/O. The read that runs on every request,
/// [`check`](RevocationStore::check), must answer from local state without blocking: keep a local
/// view current in the background, as [`MemoryStore`] and the Redis store do.
///
/// ```
/// use std::collections::HashSet;
/// use tower_jwt_auth::revocation::{Revocation, RevocationStore, StoreError, StoreFuture};
/// use tower_jwt_auth::{JwtLayer, VerifyingKey};
///
/// /// Tokens refused by a list read at start; nothing is written at run time.
/// struct Denylist(HashSet<String>);
///
/// impl RevocationStore for Denylist {
///     fn revoke<'a>(&'a self, _: Revocation<'a>, _until: u64) -> StoreFuture<'a, ()> {
///         Box::pin(async { Err(StoreError::unavailable("the denylist is read-only")) })
///     }
///     fn consume<'a>(&'a self, _jti: &'a str, _until: u64) -> StoreFuture<'a, bool> {
///         Box::pin(async { Err(StoreError::unavailable("the denylist is read-only")) })
///     }
///     fn check(&self, jti: &str, _sid: Option<&str>, _now: u64) -> Result<bool, StoreError> {
///         Ok(self.0.contains(jti))
///     }
/// }
///
/// let denied = Denylist(HashSet::from(["a-leaked-jti".to_owned()]));
/// let layer = JwtLayer::<serde_json::Value>::new(VerifyingKey::hs256([7u8; 32])?).revocation(denied);
/// # Ok::<(), tower_jwt_auth::keys::KeyError>(())
/// ```
pub trait RevocationStore: Send + Sync + 'static {
    /// Revokes `what` until `until` (Unix seconds), after which the entry may be forgotten.
    fn revoke<'a>(&'a self, what: Revocation<'a>, until: u64) -> StoreFuture<'a, ()>;

    /// Marks the refresh token `jti` as used, until `until`: `true` the first time it is used,
    /// `false` every time after, atomically across every instance sharing the store.
    fn consume<'a>(&'a self, jti: &'a str, until: u64) -> StoreFuture<'a, bool>;

    /// Whether the token `jti` or its family `sid` is revoked at `now`, from local state.
    ///
    /// # Errors
    /// [`StoreError`] when the store cannot answer now; the layer then fails closed (503).
    fn check(&self, jti: &str, sid: Option<&str>, now: u64) -> Result<bool, StoreError>;
}

/// The entries of a store, each with the time it may be forgotten.
#[derive(Default)]
pub(crate) struct Entries {
    tokens: HashMap<Box<str>, u64>,
    families: HashMap<Box<str>, u64>,
    used: HashMap<Box<str>, u64>,
    next_sweep: u64,
}

impl Entries {
    pub(crate) fn insert(&mut self, what: Revocation<'_>, until: u64, now: u64) {
        self.sweep(now);
        let (map, id) = match what {
            Revocation::Token(jti) => (&mut self.tokens, jti),
            Revocation::Family(sid) => (&mut self.families, sid),
        };
        let entry = map.entry(id.into()).or_insert(until);
        *entry = (*entry).max(until);
    }

    /// `true` when `jti` had not been used (and records it), `false` when it had.
    pub(crate) fn consume(&mut self, jti: &str, until: u64, now: u64) -> bool {
        self.sweep(now);
        match self.used.get(jti) {
            Some(&live) if live > now => false,
            _ => {
                self.used.insert(jti.into(), until);
                true
            }
        }
    }

    pub(crate) fn is_revoked(&self, jti: &str, sid: Option<&str>, now: u64) -> bool {
        let live = |until: Option<&u64>| until.is_some_and(|&u| u > now);
        live(self.tokens.get(jti)) || sid.is_some_and(|sid| live(self.families.get(sid)))
    }

    /// Drops what has expired, at most once a second, so memory follows the live revocations.
    fn sweep(&mut self, now: u64) {
        if now < self.next_sweep {
            return;
        }
        self.next_sweep = now + 1;
        for map in [&mut self.tokens, &mut self.families, &mut self.used] {
            map.retain(|_, until| *until > now);
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.tokens.len() + self.families.len() + self.used.len()
    }
}

/// The in-memory store: one process's view, entries dropping out when the token would have expired
/// anyway. Clones share the same entries.
///
/// ```
/// use tower_jwt_auth::revocation::{MemoryStore, Revocation, RevocationStore};
///
/// # tokio_test_block_on(async {
/// let store = MemoryStore::new();
/// let now = 1_700_000_000;
/// store.revoke(Revocation::Token("jti-1"), now + 900).await?;
/// assert!(store.check("jti-1", None, now)?);
/// assert!(!store.check("jti-1", None, now + 900)?);
/// # Ok::<(), tower_jwt_auth::revocation::StoreError>(()) }).unwrap();
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
#[derive(Clone, Default)]
pub struct MemoryStore {
    entries: Arc<RwLock<Entries>>,
    clock: Clock,
}

impl MemoryStore {
    /// An empty store on the system clock.
    pub fn new() -> Self {
        Self::default()
    }

    /// The time source used to drop expired entries (default: the system clock).
    ///
    /// ```
    /// let store = tower_jwt_auth::revocation::MemoryStore::new().clock(tower_jwt_auth::clock::ManualClock::new(1_700_000_000));
    /// ```
    #[must_use]
    pub fn clock(mut self, clock: impl Into<Clock>) -> Self {
        self.clock = clock.into();
        self
    }

    /// How many entries (revoked tokens, revoked families, used refresh tokens) are held.
    pub fn len(&self) -> usize {
        self.read().len()
    }

    /// Whether the store holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops every expired entry now (entries are also dropped as writes come in).
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_jwt_auth::clock::ManualClock;
    /// use tower_jwt_auth::revocation::{MemoryStore, Revocation, RevocationStore};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let clock = ManualClock::new(1_700_000_000);
    /// let store = MemoryStore::new().clock(clock.clone());
    /// store.revoke(Revocation::Token("jti-1"), 1_700_000_900).await?;
    /// assert_eq!(store.len(), 1);
    /// clock.advance(Duration::from_secs(901));
    /// store.purge_expired();
    /// assert!(store.is_empty());
    /// # Ok::<(), tower_jwt_auth::revocation::StoreError>(()) }).unwrap();
    /// ```
    pub fn purge_expired(&self) {
        let now = self.clock.now();
        let mut entries = self.write();
        entries.next_sweep = 0;
        entries.sweep(now);
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Entries> {
        task::read(&self.entries)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Entries> {
        task::write(&self.entries)
    }
}

impl RevocationStore for MemoryStore {
    fn revoke<'a>(&'a self, what: Revocation<'a>, until: u64) -> StoreFuture<'a, ()> {
        self.write().insert(what, until, self.clock.now());
        Box::pin(std::future::ready(Ok(())))
    }

    fn consume<'a>(&'a self, jti: &'a str, until: u64) -> StoreFuture<'a, bool> {
        let first = self.write().consume(jti, until, self.clock.now());
        Box::pin(std::future::ready(Ok(first)))
    }

    fn check(&self, jti: &str, sid: Option<&str>, now: u64) -> Result<bool, StoreError> {
        Ok(self.read().is_revoked(jti, sid, now))
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("entries", &self.len())
            .finish()
    }
}

impl<T: RevocationStore + ?Sized> RevocationStore for Arc<T> {
    fn revoke<'a>(&'a self, what: Revocation<'a>, until: u64) -> StoreFuture<'a, ()> {
        (**self).revoke(what, until)
    }

    fn consume<'a>(&'a self, jti: &'a str, until: u64) -> StoreFuture<'a, bool> {
        (**self).consume(jti, until)
    }

    fn check(&self, jti: &str, sid: Option<&str>, now: u64) -> Result<bool, StoreError> {
        (**self).check(jti, sid, now)
    }
}
