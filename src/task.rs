//! The background task behind [`RemoteJwks`](crate::RemoteJwks) and `RedisStore`, and the lock
//! helpers they share. One start rule for both: the task starts as soon as a Tokio runtime is at
//! hand (when the handle is built inside one, else at its first use inside one), starts again in
//! the next runtime if its runtime shut down, and is aborted when the last handle is dropped.
//! Nothing here panics outside a runtime.

#[cfg(any(feature = "jwks", feature = "redis"))]
use std::future::Future;
#[cfg(any(feature = "jwks", feature = "redis"))]
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

#[cfg(any(feature = "jwks", feature = "redis"))]
use tokio::{runtime::Handle, task::AbortHandle};

/// The handle of one background task, owned by what the user's handles share.
#[cfg(any(feature = "jwks", feature = "redis"))]
#[derive(Default)]
pub(crate) struct Task {
    /// Serializes starting the task; holds it for `Drop`.
    handle: Mutex<Option<AbortHandle>>,
}

#[cfg(any(feature = "jwks", feature = "redis"))]
impl Task {
    /// Starts the future `start` makes unless `running` says a task runs; `false` when no Tokio
    /// runtime is current (nothing is started then). `running` is set here and must be cleared
    /// by the task itself when it ends, aborted or with its runtime (a guard's `Drop`), so that
    /// the next use starts another.
    pub(crate) fn ensure_running<F>(&self, running: &AtomicBool, start: impl FnOnce() -> F) -> bool
    where
        F: Future<Output = ()> + Send + 'static,
    {
        if running.load(Ordering::Acquire) {
            return true;
        }
        let Ok(runtime) = Handle::try_current() else {
            return false;
        };
        let mut handle = lock(&self.handle);
        if !running.swap(true, Ordering::AcqRel) {
            *handle = Some(runtime.spawn(start()).abort_handle());
        }
        true
    }
}

#[cfg(any(feature = "jwks", feature = "redis"))]
impl Drop for Task {
    fn drop(&mut self) {
        let handle = self
            .handle
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(task) = handle.take() {
            task.abort();
        }
    }
}

// The state behind these locks is written in a few plain assignments or whole map operations
// (an insert, a retain): a panic while one is held cannot leave it half-made, so a poisoned lock
// is used as it is.

/// Locks `mutex`, poisoned or not.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Read-locks `lock`, poisoned or not.
pub(crate) fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

/// Write-locks `lock`, poisoned or not.
pub(crate) fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}
