//! The verified-token cache: a token that passed every check once is found again by a keyed
//! hash of its bytes (the full bytes compared), and what can change since is checked again on
//! every hit: the times, the key set it was verified with, the CSRF binding and revocation.
//! What a hit skips is the signature and the parse. Only verified tokens get in, so a flood of
//! forged tokens never touches it; it is sharded so that readers do not queue on one lock.

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::{Accepted, Claims, Csrf, Keys, Rules};
use crate::error::AuthError;
use crate::keys::{KeySet, Source};
use crate::observe;
use crate::task::lock;

const SHARDS: usize = 16;

/// The settings of a verified-token cache (see [`JwtLayer::token_cache`]).
///
/// ```
/// use tower_jwt_auth::middleware::TokenCache;
///
/// let cache = TokenCache::new(10_000).max_token_len(2048);
/// assert_eq!(cache.max_entries(), 10_000);
/// ```
///
/// [`JwtLayer::token_cache`]: crate::JwtLayer::token_cache
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenCache {
    max_entries: usize,
    max_token_len: usize,
}

impl TokenCache {
    /// At most `max_entries` tokens (at least one per shard, 16), none longer than 4 KiB.
    pub fn new(max_entries: usize) -> Self {
        Self {
            max_entries: max_entries.max(SHARDS),
            max_token_len: 4096,
        }
    }

    /// Tokens longer than `bytes` are verified every time, never kept (default 4 KiB): the
    /// cache holds at most `max_entries` × (`bytes` + the claims) of memory.
    ///
    /// ```
    /// let cache = tower_jwt_auth::middleware::TokenCache::new(1000).max_token_len(1024);
    /// assert_eq!(cache.token_len_limit(), 1024);
    /// ```
    #[must_use]
    pub fn max_token_len(mut self, bytes: usize) -> Self {
        self.max_token_len = bytes;
        self
    }

    /// The most tokens kept.
    pub fn max_entries(&self) -> usize {
        self.max_entries
    }

    /// The longest token kept.
    pub fn token_len_limit(&self) -> usize {
        self.max_token_len
    }
}

/// What a layer's verified-token cache did since the layer was built (see
/// [`JwtLayer::token_cache_stats`](crate::JwtLayer::token_cache_stats)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Requests answered from the cache (their checks passed again).
    pub hits: u64,
    /// Lookups that found no usable entry: the token was verified in full.
    pub misses: u64,
    /// Entries dropped to make room.
    pub evictions: u64,
    /// Tokens held now.
    pub entries: u64,
}

/// A cache in use: one per layer configuration (a setter called on a layer starts an empty one).
pub(crate) struct Cache {
    pub(crate) settings: TokenCache,
    hasher: RandomState,
    shards: Box<[Mutex<Shard>]>,
    hits: AtomicU64,
    misses: AtomicU64,
    evictions: AtomicU64,
}

/// The entries of one shard, by the keyed hash [`Cache::slot`] gives (not hashed again).
type Shard = HashMap<u64, Entry, BuildHasherDefault<Prehashed>>;

/// A hasher for keys that are a keyed hash already: it passes the `u64` through.
#[derive(Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used; this keeps any other key correct, if slower.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// One verified token: its bytes, compared on every hit, and what its checks need again.
struct Entry {
    token: Box<str>,
    verified: Arc<Verified>,
}

/// What a hit hands out, shared (one reference count per hit, no copy).
pub(crate) struct Verified {
    /// The app's claims type, `C` of the layer.
    pub(crate) claims: Arc<dyn Any + Send + Sync>,
    pub(crate) facts: Facts,
    /// The key set it was verified with: a hit needs the same one to be current (held, so that
    /// its address cannot be reused by another set).
    pub(crate) keys: Arc<KeySet>,
    /// Which trusted issuer verified it, on a multi-issuer layer.
    pub(crate) issuer: Option<usize>,
}

/// The claims that the checks of a hit read.
#[derive(Clone, Debug, Default)]
pub(crate) struct Facts {
    pub(crate) exp: f64,
    pub(crate) nbf: Option<f64>,
    pub(crate) iat: Option<f64>,
    pub(crate) jti: Option<Box<str>>,
    pub(crate) sid: Option<Box<str>>,
    /// The `csrf` claim when it was read (the token was verified for a request that needed
    /// it); `None`: not read, so a request that needs it verifies the token in full.
    pub(crate) csrf: Option<Box<str>>,
    /// `sub`, recorded on the request's span at every hit.
    pub(crate) sub: Option<Box<str>>,
    /// `cnf.jkt`, for the DPoP check of a DPoP layer.
    pub(crate) bound_to: Option<Arc<str>>,
}

impl Cache {
    pub(crate) fn new(settings: TokenCache) -> Self {
        Self {
            settings,
            hasher: RandomState::new(),
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            evictions: AtomicU64::new(0),
        }
    }

    /// The shard and index of `token`: a keyed hash of its last 8 bytes, which for a JWT are
    /// signature. The index only picks the entry and the full bytes decide, so hashing the tail
    /// is as good as hashing all of it (an RS256 token is 600+ bytes): two genuine tokens share
    /// 48 bits of signature by chance only (one then replaces the other), and a forged one that
    /// copies a cached token's tail only finds an entry that does not match it. Keyed, so that
    /// nobody can choose signatures that crowd one bucket.
    fn slot(&self, token: &[u8]) -> (&Mutex<Shard>, u64) {
        // One word: SipHash over a word costs a third of what it costs over a slice.
        let mut tail = [0u8; 8];
        let last = &token[token.len().saturating_sub(8)..];
        tail[8 - last.len()..].copy_from_slice(last);
        let hash = self.hasher.hash_one(u64::from_le_bytes(tail));
        // Bits the shard map uses neither for the bucket (low) nor for the tag (top seven).
        let shard = (hash >> 32) as usize % SHARDS;
        (&self.shards[shard], hash)
    }

    /// The entry of exactly `token`, if any.
    pub(crate) fn get(&self, token: &[u8]) -> Option<Arc<Verified>> {
        if token.len() > self.settings.max_token_len {
            return None;
        }
        let (shard, hash) = self.slot(token);
        let shard = lock(shard);
        match shard.get(&hash) {
            // The hash picks the entry; the bytes decide.
            Some(entry) if entry.token.as_bytes() == token => Some(Arc::clone(&entry.verified)),
            _ => None,
        }
    }

    pub(crate) fn hit(&self) {
        self.hits.fetch_add(1, Ordering::Relaxed);
        observe::cache_lookup(true);
    }

    pub(crate) fn miss(&self) {
        self.misses.fetch_add(1, Ordering::Relaxed);
        observe::cache_lookup(false);
    }

    /// Keeps a verified token, making room if its shard is full: first by dropping the tokens
    /// whose `exp` is before `expired_before` (now less the leeway), then one chosen by the
    /// hash map's random order.
    pub(crate) fn insert(&self, token: &str, verified: Verified, expired_before: f64) {
        if token.len() > self.settings.max_token_len {
            return;
        }
        let (shard, hash) = self.slot(token.as_bytes());
        let per_shard = self.settings.max_entries / SHARDS;
        let mut shard = lock(shard);
        if shard.len() >= per_shard && !shard.contains_key(&hash) {
            let before = shard.len();
            shard.retain(|_, e| e.verified.facts.exp > expired_before);
            if shard.len() >= per_shard
                && let Some(&victim) = shard.keys().next()
            {
                shard.remove(&victim);
            }
            let dropped = (before - shard.len()) as u64;
            self.evictions.fetch_add(dropped, Ordering::Relaxed);
        }
        let entry = Entry {
            token: token.into(),
            verified: Arc::new(verified),
        };
        shard.insert(hash, entry);
    }

    /// Drops `token`'s entry (it expired, or its keys are gone).
    pub(crate) fn remove(&self, token: &[u8]) {
        let (shard, hash) = self.slot(token);
        let mut shard = lock(shard);
        if shard
            .get(&hash)
            .is_some_and(|e| e.token.as_bytes() == token)
        {
            shard.remove(&hash);
        }
    }

    pub(crate) fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            evictions: self.evictions.load(Ordering::Relaxed),
            entries: self.shards.iter().map(|s| lock(s).len() as u64).sum(),
        }
    }
}

impl Rules {
    /// A verdict from the cache, if it holds `token` verified with keys still current: the
    /// checks of what can change since (times, CSRF, revocation) run again; `None` to verify
    /// in full.
    pub(super) fn verify_from_cache<C: Claims>(
        &self,
        cache: &Cache,
        token: &[u8],
        csrf: Csrf<&str>,
    ) -> Option<Result<Accepted<C>, AuthError>> {
        let current = |hit: &Verified| {
            let source = match (&self.keys, hit.issuer) {
                (Keys::One(source), None) => source,
                (Keys::ByIssuer(issuers), Some(i)) => &issuers[i].keys,
                _ => return false,
            };
            match &source.0 {
                Source::Static(keys) => Arc::ptr_eq(keys, &hit.keys),
                #[cfg(feature = "jwks")]
                Source::Remote(remote) => remote
                    .cached()
                    .is_some_and(|keys| Arc::ptr_eq(&keys, &hit.keys)),
            }
        };
        let hit = match cache.get(token) {
            Some(hit) if !current(&hit) => {
                // Verified with keys since replaced: never served again.
                cache.remove(token);
                None
            }
            // A request that needs the CSRF binding, on a token verified without reading it.
            Some(hit) if matches!(csrf, Csrf::Required(_)) && hit.facts.csrf.is_none() => None,
            hit => hit,
        };
        let Some(hit) = hit else {
            cache.miss();
            return None;
        };
        let claims = Arc::clone(&hit.claims).downcast::<C>().ok()?;
        cache.hit();
        let facts = &hit.facts;
        let now = self.clock.now();
        let (jti, sid) = (facts.jti.as_deref(), facts.sid.as_deref());
        let checked = self
            .check_times(Some(facts.exp), facts.nbf, facts.iat, now)
            .and_then(|()| self.check_binding(facts.csrf.as_deref(), csrf, jti, sid, now));
        match (&checked, facts.sub.as_deref()) {
            (Ok(()), Some(sub)) => observe::subject(sub),
            (Err(AuthError::Expired), _) => cache.remove(token),
            _ => {}
        }
        let bound_to = facts.bound_to.clone();
        Some(checked.map(|()| Accepted { claims, bound_to }))
    }
}

impl fmt::Debug for Cache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cache")
            .field("settings", &self.settings)
            .field("stats", &self.stats())
            .finish()
    }
}
