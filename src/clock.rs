//! Where "now" comes from when `exp`, `nbf` and `iat` are checked or filled: the system clock in
//! production, a [`ManualClock`] that tests move by hand.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The time source of a [`JwtLayer`](crate::JwtLayer) or a [`TokenIssuer`](crate::TokenIssuer),
/// in whole seconds since the Unix epoch.
///
/// [`Clock::system`] is the default. Tests pass a [`ManualClock`] instead.
///
/// ```
/// use std::time::Duration;
/// use tower_jwt_auth::clock::{Clock, ManualClock};
/// use tower_jwt_auth::{JwtLayer, VerifyingKey};
///
/// assert!(Clock::system().now() > 1_700_000_000);
/// // A layer that sees a fixed time, for a test of expiry.
/// let clock = ManualClock::new(1_700_000_000);
/// let layer = JwtLayer::<serde_json::Value>::new(VerifyingKey::hs256([7u8; 32])?).clock(clock.clone());
/// clock.advance(Duration::from_secs(3600)); // the layer's tokens are now an hour older
/// # Ok::<(), tower_jwt_auth::keys::KeyError>(())
/// ```
#[derive(Clone, Default)]
pub struct Clock(Option<Arc<AtomicU64>>);

impl Clock {
    /// The operating system's wall clock.
    pub fn system() -> Self {
        Self(None)
    }

    /// Seconds since the Unix epoch.
    pub fn now(&self) -> u64 {
        match &self.0 {
            Some(manual) => manual.load(Ordering::Relaxed),
            None => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        }
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(_) => write!(f, "Clock::manual({})", self.now()),
            None => f.write_str("Clock::system"),
        }
    }
}

/// A clock that only moves when told to; clones share the same time.
///
/// ```
/// use std::time::Duration;
/// use tower_jwt_auth::clock::{Clock, ManualClock};
///
/// let clock = ManualClock::new(1_700_000_000);
/// let seen_by_layer: Clock = clock.clone().into();
/// clock.advance(Duration::from_secs(60));
/// assert_eq!(seen_by_layer.now(), 1_700_000_060);
/// ```
#[derive(Clone, Debug)]
pub struct ManualClock(Arc<AtomicU64>);

impl ManualClock {
    /// A clock standing at `unix_seconds`.
    pub fn new(unix_seconds: u64) -> Self {
        Self(Arc::new(AtomicU64::new(unix_seconds)))
    }

    /// Sets the time to `unix_seconds`.
    pub fn set(&self, unix_seconds: u64) {
        self.0.store(unix_seconds, Ordering::Relaxed);
    }

    /// Moves the time forward by `by` (whole seconds).
    pub fn advance(&self, by: Duration) {
        self.0.fetch_add(by.as_secs(), Ordering::Relaxed);
    }

    /// The time this clock stands at.
    pub fn now(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

impl From<ManualClock> for Clock {
    fn from(clock: ManualClock) -> Self {
        Clock(Some(clock.0))
    }
}
