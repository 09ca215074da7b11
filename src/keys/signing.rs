//! [`SigningKey`]: a key that signs tokens with its one algorithm, and publishes its public half.

use std::fmt;

use jsonwebtoken::jwk::{Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, AlgorithmFamily, EncodingKey};

use super::checks::{
    checked_secret, ec_private_algorithm, ensure_crypto_provider, rsa_private_bits, secret_from_env,
};
use super::{KeyError, VerifyingKey};

/// A key that signs tokens, and the one algorithm it signs with.
///
/// ```
/// use tower_jwt_auth::SigningKey;
///
/// let key = SigningKey::hs256(b"an HS256 secret of at least 32 bytes!")?;
/// # Ok::<(), tower_jwt_auth::keys::KeyError>(())
/// ```
#[derive(Clone)]
pub struct SigningKey {
    pub(crate) key: EncodingKey,
    pub(crate) algorithm: Algorithm,
    pub(crate) kid: Option<Box<str>>,
}

impl SigningKey {
    /// An HMAC-SHA256 shared secret (at least 32 bytes).
    ///
    /// ```
    /// use tower_jwt_auth::{Algorithm, SigningKey};
    ///
    /// let key = SigningKey::hs256(b"an HS256 secret of at least 32 bytes!")?;
    /// assert_eq!(key.algorithm(), Algorithm::HS256);
    /// assert!(SigningKey::hs256(b"too short").is_err());
    /// # Ok::<(), tower_jwt_auth::keys::KeyError>(())
    /// ```
    ///
    /// # Errors
    /// [`KeyError::SecretTooShort`] for a secret under 32 bytes.
    pub fn hs256(secret: impl AsRef<[u8]>) -> Result<Self, KeyError> {
        Self::hmac(secret, Algorithm::HS256)
    }

    /// An HMAC shared secret for `algorithm`, at least as long as the hash output.
    ///
    /// ```
    /// use tower_jwt_auth::{Algorithm, SigningKey};
    ///
    /// let key = SigningKey::hmac([7u8; 48], Algorithm::HS384)?;
    /// # Ok::<(), tower_jwt_auth::keys::KeyError>(())
    /// ```
    ///
    /// # Errors
    /// [`KeyError::WrongAlgorithm`] for a non-HMAC `algorithm`, [`KeyError::SecretTooShort`] for a
    /// secret shorter than its hash output.
    pub fn hmac(secret: impl AsRef<[u8]>, algorithm: Algorithm) -> Result<Self, KeyError> {
        let secret = checked_secret(secret.as_ref(), algorithm)?;
        let key =
            EncodingKey::from_secret(secret).map_err(|_| KeyError::WrongAlgorithm(algorithm))?;
        Ok(Self {
            key,
            algorithm,
            kid: None,
        })
    }

    /// An HMAC secret read from the environment variable `var`.
    ///
    /// ```
    /// use tower_jwt_auth::{Algorithm, SigningKey};
    ///
    /// assert!(SigningKey::hmac_from_env("SURELY_UNSET_VARIABLE", Algorithm::HS256).is_err());
    /// ```
    ///
    /// # Errors
    /// [`KeyError::MissingEnv`] when `var` is unset or not UTF-8; else as [`hmac`](Self::hmac).
    pub fn hmac_from_env(var: &str, algorithm: Algorithm) -> Result<Self, KeyError> {
        Self::hmac(secret_from_env(var)?, algorithm)
    }

    /// A private key in PEM (PKCS#8, or PKCS#1 for RSA) for an asymmetric `algorithm`.
    ///
    /// ```
    /// use tower_jwt_auth::{Algorithm, SigningKey};
    ///
    /// assert!(SigningKey::from_pem(b"not a pem", Algorithm::ES256).is_err());
    /// // A public key cannot sign: refused now, not at the first `issue()`.
    /// assert!(SigningKey::from_pem(std::fs::read("tests/keys/ec256_public.pem")?, Algorithm::ES256).is_err());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// The key is checked as its verifying half would be: its public half derived, its size or
    /// curve checked, and a probe signature verified.
    ///
    /// # Errors
    /// [`KeyError::WrongAlgorithm`] for an HMAC `algorithm`, [`KeyError::InvalidPem`] when the PEM
    /// is no private key of its family (a public key, garbage), [`KeyError::RsaKeyTooSmall`] or [`KeyError::CurveMismatch`]
    /// for a key too weak or on another curve.
    pub fn from_pem(pem: impl AsRef<[u8]>, algorithm: Algorithm) -> Result<Self, KeyError> {
        ensure_crypto_provider();
        let pem = pem.as_ref();
        let key = match algorithm.family() {
            AlgorithmFamily::Rsa => EncodingKey::from_rsa_pem(pem),
            AlgorithmFamily::Ec => EncodingKey::from_ec_pem(pem),
            AlgorithmFamily::Ed => EncodingKey::from_ed_pem(pem),
            AlgorithmFamily::Hmac => return Err(KeyError::WrongAlgorithm(algorithm)),
        };
        let key = key.map_err(|_| weak_or_invalid(pem, algorithm))?;
        Self::checked(key, algorithm).map_err(|err| refine(err, pem))
    }

    /// A private key in DER (PKCS#8; PKCS#1 also for RSA) for an asymmetric `algorithm`.
    ///
    /// ```
    /// use tower_jwt_auth::{Algorithm, SigningKey};
    ///
    /// assert!(SigningKey::from_der([0u8; 4], Algorithm::HS256).is_err());
    /// ```
    ///
    /// # Errors
    /// As [`from_pem`](Self::from_pem), for DER bytes.
    pub fn from_der(der: impl AsRef<[u8]>, algorithm: Algorithm) -> Result<Self, KeyError> {
        ensure_crypto_provider();
        let der = der.as_ref();
        let key = match algorithm.family() {
            AlgorithmFamily::Rsa => EncodingKey::from_rsa_der(der),
            AlgorithmFamily::Ec => EncodingKey::from_ec_der(der),
            AlgorithmFamily::Ed => EncodingKey::from_ed_der(der),
            AlgorithmFamily::Hmac => return Err(KeyError::WrongAlgorithm(algorithm)),
        };
        Self::checked(key, algorithm).map_err(|err| refine(err, der))
    }

    /// An asymmetric key, checked as its verifying half would be: the public half derived from
    /// it (a public key or garbage has none), at least 2048 bits for RSA, on the algorithm's
    /// curve for EC, and a probe signature that the public half verifies. So a key that could
    /// only fail at `issue()` fails here.
    fn checked(key: EncodingKey, algorithm: Algorithm) -> Result<Self, KeyError> {
        // Keys the backend took but cannot use (a weak RSA key under a lenient backend) are
        // caught by the checks of their public half below.
        let invalid = || KeyError::InvalidPem(algorithm);
        let public = Jwk::from_encoding_key(&key, algorithm).map_err(|_| invalid())?;
        let verifying =
            VerifyingKey::from_jwk_as(&public, Some(algorithm)).map_err(|err| match err {
                KeyError::RsaKeyTooSmall { .. } | KeyError::CurveMismatch(_) => err,
                _ => invalid(),
            })?;
        const PROBE: &[u8] = b"tower-jwt-auth key check";
        let signature =
            jsonwebtoken::crypto::sign(PROBE, &key, algorithm).map_err(|_| invalid())?;
        match jsonwebtoken::crypto::verify(&signature, PROBE, &verifying.key, algorithm) {
            Ok(true) => Ok(Self {
                key,
                algorithm,
                kid: None,
            }),
            _ => Err(invalid()),
        }
    }

    /// Puts `kid` in the header of every token this key signs.
    ///
    /// ```
    /// use tower_jwt_auth::SigningKey;
    ///
    /// let key = SigningKey::hs256([1u8; 32])?.with_kid("2026-11");
    /// # Ok::<(), tower_jwt_auth::keys::KeyError>(())
    /// ```
    #[must_use]
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(kid.into().into_boxed_str());
        self
    }

    /// The algorithm this key signs with.
    ///
    /// ```
    /// use tower_jwt_auth::{Algorithm, SigningKey};
    ///
    /// let pem = std::fs::read("tests/keys/ec256_private.pem")?;
    /// assert_eq!(SigningKey::from_pem(pem, Algorithm::ES256)?.algorithm(), Algorithm::ES256);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The public half as a JWK (with `kid`, `alg` and `"use": "sig"`), for a JWKS document.
    /// HMAC secrets have no public half and are refused.
    ///
    /// ```
    /// use tower_jwt_auth::SigningKey;
    ///
    /// assert!(SigningKey::hs256([1u8; 32])?.public_jwk().is_err());
    /// # Ok::<(), tower_jwt_auth::keys::KeyError>(())
    /// ```
    ///
    /// # Errors
    /// [`KeyError::NotPublishable`] for an HMAC secret.
    pub fn public_jwk(&self) -> Result<Jwk, KeyError> {
        if self.algorithm.family() == AlgorithmFamily::Hmac {
            return Err(KeyError::NotPublishable);
        }
        ensure_crypto_provider();
        let mut jwk = Jwk::from_encoding_key(&self.key, self.algorithm)
            .map_err(|_| KeyError::NotPublishable)?;
        jwk.common.key_id = self.kid.as_deref().map(Into::into);
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        Ok(jwk)
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("algorithm", &self.algorithm)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// A generic refusal made precise when the key is a weak RSA key.
fn refine(err: KeyError, key: &[u8]) -> KeyError {
    match err {
        KeyError::InvalidPem(algorithm) => weak_or_invalid(key, algorithm),
        err => err,
    }
}

/// Why the backend refused an asymmetric private key: too weak an RSA key or an EC key on another
/// curve (backends refuse those without saying why), else not a key of the algorithm's family.
fn weak_or_invalid(key: &[u8], algorithm: Algorithm) -> KeyError {
    match algorithm.family() {
        AlgorithmFamily::Rsa => match rsa_private_bits(key) {
            Some(bits) if bits < 2048 => KeyError::RsaKeyTooSmall { bits },
            _ => KeyError::InvalidPem(algorithm),
        },
        AlgorithmFamily::Ec => match ec_private_algorithm(key) {
            Some(curve) if curve != algorithm => KeyError::CurveMismatch(algorithm),
            _ => KeyError::InvalidPem(algorithm),
        },
        _ => KeyError::InvalidPem(algorithm),
    }
}
