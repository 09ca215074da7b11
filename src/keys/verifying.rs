//! [`VerifyingKey`]: a key that checks signatures, bound to the one algorithm it was made for, so
//! a token signed with any other `alg` (`none`, HS256 with a public key's bytes, RS256 against an
//! EC key, ...) never reaches the crypto.

use std::fmt;

use jsonwebtoken::jwk::{
    AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, KeyOperations, PublicKeyUse,
};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, DecodingKeyKind};

use super::KeyError;
use super::checks::{
    check_strength, checked_secret, ensure_crypto_provider, is_private_pem, jwk_algorithm,
    rsa_bits, secret_from_env, spki_key,
};

/// A key that checks signatures, and the one algorithm it accepts.
///
/// ```
/// use tower_jwt_auth::VerifyingKey;
///
/// let key = VerifyingKey::hs256(b"an HS256 secret of at least 32 bytes!")?;
/// assert!(VerifyingKey::hs256(b"too short").is_err());
/// # Ok::<(), tower_jwt_auth::keys::KeyError>(())
/// ```
#[derive(Clone)]
pub struct VerifyingKey {
    pub(crate) key: DecodingKey,
    pub(crate) algorithm: Algorithm,
    pub(crate) kid: Option<Box<str>>,
    /// With the AWS-LC backend, the key made ready once: an HMAC key's schedule, a public key
    /// parsed.
    #[cfg(feature = "aws_lc_rs")]
    pub(crate) prepared: Option<super::signature::Prepared>,
}

impl VerifyingKey {
    /// An HMAC-SHA256 shared secret (at least 32 bytes).
    ///
    /// ```
    /// use tower_jwt_auth::{Algorithm, VerifyingKey};
    ///
    /// let key = VerifyingKey::hs256(b"an HS256 secret of at least 32 bytes!")?;
    /// assert_eq!(key.algorithm(), Algorithm::HS256);
    /// assert!(VerifyingKey::hs256(b"too short").is_err());
    /// # Ok::<(), tower_jwt_auth::keys::KeyError>(())
    /// ```
    ///
    /// # Errors
    /// [`KeyError::SecretTooShort`] for a secret under 32 bytes.
    pub fn hs256(secret: impl AsRef<[u8]>) -> Result<Self, KeyError> {
        Self::hmac(secret, Algorithm::HS256)
    }

    /// An HMAC shared secret for `algorithm` (HS256, HS384 or HS512), at least as long as the
    /// hash output.
    ///
    /// ```
    /// use tower_jwt_auth::{Algorithm, VerifyingKey};
    ///
    /// let key = VerifyingKey::hmac([7u8; 64], Algorithm::HS512)?;
    /// assert!(VerifyingKey::hmac([7u8; 32], Algorithm::HS512).is_err());
    /// # Ok::<(), tower_jwt_auth::keys::KeyError>(())
    /// ```
    ///
    /// # Errors
    /// [`KeyError::WrongAlgorithm`] for a non-HMAC `algorithm`, [`KeyError::SecretTooShort`] for a
    /// secret shorter than its hash output.
    pub fn hmac(secret: impl AsRef<[u8]>, algorithm: Algorithm) -> Result<Self, KeyError> {
        let secret = checked_secret(secret.as_ref(), algorithm)?;
        let key = Self::bound(
            DecodingKey::from_secret(secret).map_err(|_| KeyError::WrongAlgorithm(algorithm))?,
            algorithm,
        );
        #[cfg(feature = "aws_lc_rs")]
        let key = Self {
            prepared: super::signature::Prepared::hmac(algorithm, secret),
            ..key
        };
        Ok(key)
    }

    /// An HMAC secret read from the environment variable `var` (its UTF-8 bytes).
    ///
    /// ```
    /// use tower_jwt_auth::{Algorithm, VerifyingKey};
    /// use tower_jwt_auth::keys::KeyError;
    ///
    /// let err = VerifyingKey::hmac_from_env("SURELY_UNSET_VARIABLE", Algorithm::HS256).unwrap_err();
    /// assert_eq!(err, KeyError::MissingEnv("SURELY_UNSET_VARIABLE".into()));
    /// ```
    ///
    /// # Errors
    /// [`KeyError::MissingEnv`] when `var` is unset or not UTF-8; else as [`hmac`](Self::hmac).
    pub fn hmac_from_env(var: &str, algorithm: Algorithm) -> Result<Self, KeyError> {
        Self::hmac(secret_from_env(var)?, algorithm)
    }

    /// A public key in PEM for an asymmetric `algorithm`: RSA (`RS*`, `PS*`), EC P-256/P-384
    /// (`ES256`, `ES384`) or Ed25519 (`EdDSA`).
    ///
    /// ```
    /// use tower_jwt_auth::{Algorithm, VerifyingKey};
    /// use tower_jwt_auth::keys::KeyError;
    ///
    /// let err = VerifyingKey::from_pem(b"not a pem", Algorithm::RS256).unwrap_err();
    /// assert_eq!(err, KeyError::InvalidPem(Algorithm::RS256));
    /// // A PEM key never verifies HMAC: that is the algorithm-confusion attack.
    /// assert!(VerifyingKey::from_pem(b"", Algorithm::HS256).is_err());
    /// ```
    ///
    /// # Errors
    /// [`KeyError::WrongAlgorithm`] for an HMAC `algorithm`, [`KeyError::InvalidPem`] when the PEM
    /// is no public key (or certificate) of its family, [`KeyError::RsaKeyTooSmall`] or
    /// [`KeyError::CurveMismatch`] for a key too weak or on another curve.
    pub fn from_pem(pem: impl AsRef<[u8]>, algorithm: Algorithm) -> Result<Self, KeyError> {
        ensure_crypto_provider();
        let pem = pem.as_ref();
        let key = match algorithm.family() {
            AlgorithmFamily::Rsa => DecodingKey::from_rsa_pem(pem),
            AlgorithmFamily::Ec => DecodingKey::from_ec_pem(pem),
            AlgorithmFamily::Ed => DecodingKey::from_ed_pem(pem),
            AlgorithmFamily::Hmac => return Err(KeyError::WrongAlgorithm(algorithm)),
        };
        if is_private_pem(pem) {
            return Err(KeyError::PrivateKeyGiven(algorithm));
        }
        let key = key.map_err(|_| KeyError::InvalidPem(algorithm))?;
        check_strength(&key, algorithm)?;
        Ok(Self::bound(key, algorithm))
    }

    /// A public key in DER for an asymmetric `algorithm`: a SubjectPublicKeyInfo (what `openssl
    /// pkey -pubout -outform DER` writes) of any of the three families, or PKCS#1
    /// `RSAPublicKey` for RSA, the SEC 1 point for EC, the 32 raw bytes for Ed25519.
    ///
    /// ```
    /// use tower_jwt_auth::{Algorithm, VerifyingKey};
    /// use tower_jwt_auth::keys::KeyError;
    ///
    /// assert_eq!(VerifyingKey::from_der([4u8; 10], Algorithm::ES256).unwrap_err(), KeyError::CurveMismatch(Algorithm::ES256));
    /// ```
    ///
    /// # Errors
    /// As [`from_pem`](Self::from_pem), for DER bytes.
    pub fn from_der(der: impl AsRef<[u8]>, algorithm: Algorithm) -> Result<Self, KeyError> {
        ensure_crypto_provider();
        if algorithm.family() == AlgorithmFamily::Hmac {
            return Err(KeyError::WrongAlgorithm(algorithm));
        }
        let spki = spki_key(der.as_ref(), algorithm).transpose()?;
        let der = spki.as_deref().unwrap_or(der.as_ref());
        let key = match algorithm.family() {
            AlgorithmFamily::Rsa => DecodingKey::from_rsa_der(der),
            AlgorithmFamily::Ec => DecodingKey::from_ec_der(der),
            AlgorithmFamily::Ed => DecodingKey::from_ed_der(der),
            AlgorithmFamily::Hmac => return Err(KeyError::WrongAlgorithm(algorithm)),
        };
        check_strength(&key, algorithm)?;
        Ok(Self::bound(key, algorithm))
    }

    /// A public key from a JWK (RFC 7517): RSA, EC (P-256, P-384) or Ed25519, signing use only.
    /// Its algorithm is the JWK's `alg`, or, when absent, the one its type implies (RS256 for
    /// RSA, ES256/ES384 by curve, EdDSA); its `kid` is kept. A JWK without `alg` read through
    /// [`KeySet::from_jwks`](crate::KeySet::from_jwks) serves every algorithm of its type.
    ///
    /// ```
    /// use tower_jwt_auth::{Algorithm, VerifyingKey};
    ///
    /// let jwk = serde_json::from_str(r#"{"kty":"OKP","crv":"Ed25519","kid":"k1",
    ///     "x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#)?;
    /// let key = VerifyingKey::from_jwk(&jwk)?;
    /// assert_eq!(key.algorithm(), Algorithm::EdDSA);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`KeyError::UnsupportedJwk`] for an encryption, symmetric or unsupported key,
    /// [`KeyError::UnsupportedAlgorithm`] for an `alg` this crate cannot verify (`ES512`: no
    /// crypto backend has P-521), and the errors of [`from_der`](Self::from_der) for a weak one.
    pub fn from_jwk(jwk: &Jwk) -> Result<Self, KeyError> {
        let algorithm = match jwk.common.key_algorithm {
            None => None,
            Some(alg) => Some(jwk_algorithm(alg).ok_or_else(|| {
                KeyError::UnsupportedAlgorithm(match alg {
                    KeyAlgorithm::UNKNOWN_ALGORITHM => "unknown".into(),
                    alg => format!("{alg:?}"),
                })
            })?),
        };
        Self::from_jwk_as(jwk, algorithm)
    }

    /// The algorithms a JWK without `alg` serves: every one of its key type, never another
    /// type's (RSA: RS256/384/512 and PS256/384/512; EC: the ES* of its curve; Ed25519: EdDSA).
    pub(crate) fn jwk_algorithms(jwk: &Jwk) -> &'static [Algorithm] {
        use Algorithm::*;
        match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => &[RS256, RS384, RS512, PS256, PS384, PS512],
            AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
                EllipticCurve::P256 => &[ES256],
                EllipticCurve::P384 => &[ES384],
                _ => &[],
            },
            AlgorithmParameters::OctetKeyPair(okp) if okp.curve == EllipticCurve::Ed25519 => {
                &[EdDSA]
            }
            _ => &[],
        }
    }

    /// The key of `jwk` bound to `algorithm`, or, when `None`, to the one its type implies.
    pub(crate) fn from_jwk_as(jwk: &Jwk, algorithm: Option<Algorithm>) -> Result<Self, KeyError> {
        ensure_crypto_provider();
        if jwk
            .common
            .public_key_use
            .as_ref()
            .is_some_and(|u| *u != PublicKeyUse::Signature)
        {
            return Err(KeyError::UnsupportedJwk("its `use` is not `sig`"));
        }
        // `key_ops`, when given, must allow verification (RFC 7517 §4.3).
        if jwk
            .common
            .key_operations
            .as_ref()
            .is_some_and(|ops| !ops.contains(&KeyOperations::Verify))
        {
            return Err(KeyError::UnsupportedJwk(
                "its `key_ops` do not include `verify`",
            ));
        }
        let implied = match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => Algorithm::RS256,
            AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
                EllipticCurve::P256 => Algorithm::ES256,
                EllipticCurve::P384 => Algorithm::ES384,
                _ => {
                    return Err(KeyError::UnsupportedJwk(
                        "an EC curve other than P-256 and P-384",
                    ));
                }
            },
            AlgorithmParameters::OctetKeyPair(okp) if okp.curve == EllipticCurve::Ed25519 => {
                Algorithm::EdDSA
            }
            // Never trust a shared secret fetched with the public keys.
            AlgorithmParameters::OctetKey(_) => {
                return Err(KeyError::UnsupportedJwk(
                    "a symmetric (`oct`) key: shared secrets are never taken from a JWK",
                ));
            }
            AlgorithmParameters::OctetKeyPair(_) => {
                return Err(KeyError::UnsupportedJwk("an OKP curve other than Ed25519"));
            }
            _ => {
                return Err(KeyError::UnsupportedJwk(
                    "a key type other than RSA, EC and OKP",
                ));
            }
        };
        let algorithm = algorithm.unwrap_or(implied);
        if algorithm.family() != implied.family() {
            return Err(KeyError::WrongAlgorithm(algorithm));
        }
        if algorithm.family() == AlgorithmFamily::Ec && algorithm != implied {
            return Err(KeyError::CurveMismatch(algorithm));
        }
        let key = DecodingKey::from_jwk(jwk)
            .map_err(|_| KeyError::UnsupportedJwk("its key parameters cannot be read"))?;
        if let DecodingKeyKind::RsaModulusExponent { n, .. } = key.kind() {
            let bits = rsa_bits(n);
            if bits < 2048 {
                return Err(KeyError::RsaKeyTooSmall { bits });
            }
        }
        check_strength(&key, algorithm)
            .map_err(|_| KeyError::UnsupportedJwk("its key parameters are not a valid key"))?;
        let mut key = Self::bound(key, algorithm);
        key.kid = jwk.common.key_id.as_deref().map(Into::into);
        Ok(key)
    }

    /// Names this key: a token whose header carries another `kid` is refused with it.
    ///
    /// ```
    /// use tower_jwt_auth::VerifyingKey;
    ///
    /// let key = VerifyingKey::hs256([1u8; 32])?.with_kid("2026-11");
    /// # Ok::<(), tower_jwt_auth::keys::KeyError>(())
    /// ```
    #[must_use]
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(kid.into().into_boxed_str());
        self
    }

    /// The one algorithm this key accepts.
    ///
    /// ```
    /// use tower_jwt_auth::{Algorithm, VerifyingKey};
    ///
    /// let pem = std::fs::read("tests/keys/ec256_public.pem")?;
    /// assert_eq!(VerifyingKey::from_pem(pem, Algorithm::ES256)?.algorithm(), Algorithm::ES256);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The `kid` this key answers to, if it has one.
    ///
    /// ```
    /// use tower_jwt_auth::VerifyingKey;
    ///
    /// assert_eq!(VerifyingKey::hs256([1u8; 32])?.with_kid("2026-11").kid(), Some("2026-11"));
    /// assert_eq!(VerifyingKey::hs256([1u8; 32])?.kid(), None);
    /// # Ok::<(), tower_jwt_auth::keys::KeyError>(())
    /// ```
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    fn bound(key: DecodingKey, algorithm: Algorithm) -> Self {
        Self {
            #[cfg(feature = "aws_lc_rs")]
            prepared: super::signature::Prepared::public(algorithm, &key),
            key,
            algorithm,
            kid: None,
        }
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("algorithm", &self.algorithm)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}
