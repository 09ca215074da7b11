//! [`SigningKey`]: a key that signs tokens with its one algorithm, and publishes its public half.

use std::fmt;

use jsonwebtoken::jwk::{Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, AlgorithmFamily, EncodingKey};

use super::checks::{checked_secret, ensure_crypto_provider, secret_from_env};
use super::KeyError;

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
    /// ```
    ///
    /// # Errors
    /// [`KeyError::WrongAlgorithm`] for an HMAC `algorithm`, [`KeyError::InvalidPem`] when the PEM
    /// is no private key of its family, [`KeyError::RsaKeyTooSmall`] or [`KeyError::CurveMismatch`]
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
        let key = key.map_err(|_| KeyError::InvalidPem(algorithm))?;
        Ok(Self {
            key,
            algorithm,
            kid: None,
        })
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
        Ok(Self {
            key,
            algorithm,
            kid: None,
        })
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
