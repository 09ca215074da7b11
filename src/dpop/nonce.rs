//! Server-provided nonces for DPoP proofs (RFC 9449 §9), made without state: a nonce names a
//! time window and carries an HMAC of it, so every instance that shares the secret makes and
//! accepts the same nonces, and a client cannot make one.

use std::fmt;
use std::time::Duration;

use jsonwebtoken::Algorithm;

use crate::keys::{KeyError, SigningKey, VerifyingKey};

/// The longest nonce [`Nonces::check`] reads; longer ones are refused unread.
const MAX_NONCE_LEN: usize = 128;

/// Server nonces for DPoP proofs: with [`Dpop::nonces`](super::Dpop::nonces), a layer takes
/// only proofs whose `nonce` claim is one it gave out lately, and answers the others 401
/// `use_dpop_nonce` with a fresh nonce in the `DPoP-Nonce` header (RFC 9449 §9). A nonce stays
/// good for between one and two lifetimes; instances sharing the secret share the nonces.
///
/// ```
/// use std::time::Duration;
/// use tower_jwt_auth::dpop::Nonces;
///
/// let nonces = Nonces::new(b"a secret of at least 32 bytes, shared!")?.lifetime(Duration::from_secs(60));
/// let nonce = nonces.current(1_800_000_000);
/// assert!(nonces.check(&nonce, 1_800_000_000 + 60));
/// assert!(!nonces.check(&nonce, 1_800_000_000 + 120));
/// assert!(!nonces.check("1.forged", 1_800_000_000));
/// # Ok::<(), tower_jwt_auth::keys::KeyError>(())
/// ```
#[derive(Clone)]
pub struct Nonces {
    signing: SigningKey,
    verifying: VerifyingKey,
    lifetime: u64,
}

impl Nonces {
    /// Nonces authenticated with `secret` (HMAC-SHA256, at least 32 bytes), each for 5 minutes.
    ///
    /// ```
    /// let nonces = tower_jwt_auth::dpop::Nonces::new(b"a secret of at least 32 bytes, shared!")?;
    /// assert!(tower_jwt_auth::dpop::Nonces::new(b"short").is_err());
    /// # Ok::<(), tower_jwt_auth::keys::KeyError>(())
    /// ```
    ///
    /// # Errors
    /// [`KeyError`] for a secret shorter than 32 bytes.
    pub fn new(secret: impl AsRef<[u8]>) -> Result<Self, KeyError> {
        let secret = secret.as_ref();
        Ok(Self {
            signing: SigningKey::hmac(secret, Algorithm::HS256)?,
            verifying: VerifyingKey::hmac(secret, Algorithm::HS256)?,
            lifetime: 300,
        })
    }

    /// How long a nonce is given out (default 5 minutes, at least 1 second): one is accepted
    /// for the rest of its lifetime and the whole next one, so a client that just got a nonce
    /// is never told at once to fetch another.
    ///
    /// ```
    /// let nonces = tower_jwt_auth::dpop::Nonces::new(b"a secret of at least 32 bytes, shared!")?
    ///     .lifetime(std::time::Duration::from_secs(60));
    /// # Ok::<(), tower_jwt_auth::keys::KeyError>(())
    /// ```
    pub fn lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime.as_secs().max(1);
        self
    }

    /// The nonce to give out at `now` (seconds since the epoch).
    pub fn current(&self, now: u64) -> String {
        let window = now / self.lifetime;
        format!("{window}.{}", self.mac(window))
    }

    /// Whether `nonce` was given out by these nonces (this secret) at `now`, in the lifetime
    /// before, or in the next one (by an instance whose clock runs ahead).
    pub fn check(&self, nonce: &str, now: u64) -> bool {
        self.window_of(nonce, now).is_some()
    }

    /// The current nonce, when `nonce` is one [`check`](Self::check) takes but was given out
    /// in an earlier lifetime: what to send in `DPoP-Nonce` with a successful response, so
    /// that a client moves on before its nonce expires (RFC 9449 §8.2). `None` for a nonce
    /// of this lifetime or the next, and for one `check` refuses.
    ///
    /// ```
    /// # let nonces = tower_jwt_auth::dpop::Nonces::new(b"a secret of at least 32 bytes, shared!")?
    /// #     .lifetime(std::time::Duration::from_secs(60));
    /// let nonce = nonces.current(1_800_000_000);
    /// assert_eq!(nonces.renewal(&nonce, 1_800_000_059), None);
    /// assert_eq!(nonces.renewal(&nonce, 1_800_000_060), Some(nonces.current(1_800_000_060)));
    /// assert_eq!(nonces.renewal("0.forged", 1_800_000_060), None);
    /// # Ok::<(), tower_jwt_auth::keys::KeyError>(())
    /// ```
    pub fn renewal(&self, nonce: &str, now: u64) -> Option<String> {
        let window = self.window_of(nonce, now)?;
        self.renewal_after(window, now)
    }

    /// The current nonce when `window` (a nonce's that passed) is an earlier lifetime's.
    pub(crate) fn renewal_after(&self, window: u64, now: u64) -> Option<String> {
        (window < now / self.lifetime).then(|| self.current(now))
    }

    /// The window `nonce` names, when these nonces gave it out at `now`, in the lifetime
    /// before, or in the next one.
    pub(crate) fn window_of(&self, nonce: &str, now: u64) -> Option<u64> {
        if nonce.len() > MAX_NONCE_LEN {
            return None;
        }
        let (window, mac) = nonce.split_once('.')?;
        // The number as `current` writes it: `+5` or `05` would be second spellings of `5`.
        let window = window
            .parse::<u64>()
            .ok()
            .filter(|w| w.to_string() == window)?;
        // This window, the one before, or the next: an instance whose clock runs a little
        // ahead may have given it out.
        let current = now / self.lifetime;
        let near = (window.saturating_sub(1)..=window.saturating_add(1)).contains(&current);
        let genuine = near
            && self
                .verifying
                .check_signature(message(window).as_bytes(), mac)
                .is_ok();
        genuine.then_some(window)
    }

    fn mac(&self, window: u64) -> String {
        // HMAC over a short message with a key that was accepted: it cannot fail.
        jsonwebtoken::crypto::sign(
            message(window).as_bytes(),
            &self.signing.key,
            Algorithm::HS256,
        )
        .unwrap_or_default()
    }
}

/// What a nonce's HMAC covers: its window, under a label of its own, so no other HMAC made
/// with a shared secret (a token's signature) can pass for a nonce.
fn message(window: u64) -> String {
    format!("tower-jwt-auth DPoP nonce {window}")
}

impl fmt::Debug for Nonces {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Nonces")
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}
