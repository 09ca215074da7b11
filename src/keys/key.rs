//! Keys, each bound to the one algorithm it was made for: a token signed with any other `alg`
//! (`none`, HS256 with a public key's bytes, RS256 against an EC key, ...) never reaches the
//! crypto.

use std::fmt;

use jsonwebtoken::jwk::{
    AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, KeyOperations, PublicKeyUse,
};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, DecodingKeyKind, EncodingKey};
use simple_asn1::ASN1Block;

/// Why a key could not be made.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// An HMAC secret shorter than the hash output (RFC 7518 §3.2, RFC 8725 §3.5).
    SecretTooShort {
        /// The algorithm the secret was meant for.
        algorithm: Algorithm,
        /// The secret's length in bytes.
        len: usize,
        /// The least length the algorithm takes.
        min: usize,
    },
    /// The environment variable holding the secret is not set (or not UTF-8).
    MissingEnv(String),
    /// The algorithm does not fit this kind of key (an HS* algorithm for a PEM key, or an
    /// asymmetric algorithm for a shared secret).
    WrongAlgorithm(Algorithm),
    /// The PEM could not be read as a key of the algorithm's family.
    InvalidPem(Algorithm),
    /// An RSA key under 2048 bits (RFC 8725 §3.5).
    RsaKeyTooSmall {
        /// The modulus size in bits.
        bits: u64,
    },
    /// An EC key on another curve than the algorithm's (P-256 for ES256, P-384 for ES384).
    CurveMismatch(Algorithm),
    /// A JWK this crate does not verify with: not a signing key (`"use": "enc"`), a symmetric
    /// (`oct`) key, or an unsupported key type, curve or algorithm.
    UnsupportedJwk,
    /// A JWKS document that is not `{"keys": [...]}` JSON.
    InvalidJwks,
    /// A JWKS document without any usable signing key.
    NoUsableKey,
    /// Only asymmetric keys have a public half to publish.
    NotPublishable,
    /// A JWKS or issuer URL that is not an absolute `http(s)` URL.
    InvalidUrl(String),
    /// Keys could not be fetched (network error, HTTP status, timeout, or a document that is not
    /// a usable JWKS or discovery document). The text names the URL and the cause, never a
    /// credential.
    FetchFailed(String),
    /// The discovery document's `issuer` is not the issuer it was fetched for (OpenID Connect
    /// Discovery §4.3).
    IssuerMismatch {
        /// The issuer the document was fetched for.
        expected: String,
        /// The issuer the document names.
        found: String,
    },
    /// No crypto backend is available to jsonwebtoken in this build; see the crate docs on the
    /// `aws_lc_rs` and `rust_crypto` features.
    NoCryptoBackend,
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SecretTooShort {
                algorithm,
                len,
                min,
            } => write!(
                f,
                "the {algorithm:?} secret is {len} bytes long; it must be at least {min} bytes \
                 (generate one with `openssl rand -base64 48`)"
            ),
            Self::MissingEnv(var) => write!(
                f,
                "environment variable `{var}` is not set; set it to the HMAC secret \
                 (e.g. `export {var}=$(openssl rand -base64 48)`)"
            ),
            Self::WrongAlgorithm(alg) => {
                write!(f, "algorithm {alg:?} does not fit this kind of key")
            }
            Self::InvalidPem(alg) => write!(f, "the PEM is not a valid key for {alg:?}"),
            Self::RsaKeyTooSmall { bits } => {
                write!(f, "the RSA key has {bits} bits; at least 2048 are required")
            }
            Self::CurveMismatch(alg) => write!(
                f,
                "the EC key is not on the curve of {alg:?} (ES256 takes P-256, ES384 takes P-384)"
            ),
            Self::UnsupportedJwk => f.write_str(
                "the JWK is not a supported signing key (RSA, EC P-256/P-384 or Ed25519)",
            ),
            Self::InvalidJwks => f.write_str("the JWKS document is not {\"keys\": [...]} JSON"),
            Self::NoUsableKey => f.write_str("the JWKS document has no usable signing key"),
            Self::NotPublishable => {
                f.write_str("an HMAC secret has no public half: only asymmetric keys are published")
            }
            Self::InvalidUrl(url) => write!(f, "`{url}` is not an absolute http(s) URL"),
            Self::FetchFailed(why) => write!(f, "keys could not be fetched: {why}"),
            Self::IssuerMismatch { expected, found } => write!(
                f,
                "the discovery document for `{expected}` names another issuer, `{found}`"
            ),
            Self::NoCryptoBackend => f.write_str(
                "jsonwebtoken has no crypto backend: enable exactly one of the `aws_lc_rs` \
                 or `rust_crypto` features of tower-jwt-auth",
            ),
        }
    }
}

impl std::error::Error for KeyError {}

/// A key that checks signatures, and the one algorithm it accepts.
///
/// ```
/// use tower_jwt_auth::VerifyingKey;
///
/// let key = VerifyingKey::hs256(b"an HS256 secret of at least 32 bytes!")?;
/// assert!(VerifyingKey::hs256(b"too short").is_err());
/// # Ok::<(), tower_jwt_auth::KeyError>(())
/// ```
#[derive(Clone)]
pub struct VerifyingKey {
    pub(crate) key: DecodingKey,
    pub(crate) algorithm: Algorithm,
    pub(crate) kid: Option<Box<str>>,
}

impl VerifyingKey {
    /// An HMAC-SHA256 shared secret (at least 32 bytes).
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
    /// # Ok::<(), tower_jwt_auth::KeyError>(())
    /// ```
    pub fn hmac(secret: impl AsRef<[u8]>, algorithm: Algorithm) -> Result<Self, KeyError> {
        let secret = checked_secret(secret.as_ref(), algorithm)?;
        Ok(Self::bound(
            DecodingKey::from_secret(secret).map_err(|_| KeyError::WrongAlgorithm(algorithm))?,
            algorithm,
        ))
    }

    /// An HMAC secret read from the environment variable `var` (its UTF-8 bytes).
    ///
    /// ```
    /// use tower_jwt_auth::{Algorithm, KeyError, VerifyingKey};
    ///
    /// let err = VerifyingKey::hmac_from_env("SURELY_UNSET_VARIABLE", Algorithm::HS256).unwrap_err();
    /// assert_eq!(err, KeyError::MissingEnv("SURELY_UNSET_VARIABLE".into()));
    /// ```
    pub fn hmac_from_env(var: &str, algorithm: Algorithm) -> Result<Self, KeyError> {
        Self::hmac(secret_from_env(var)?, algorithm)
    }

    /// A public key in PEM for an asymmetric `algorithm`: RSA (`RS*`, `PS*`), EC P-256/P-384
    /// (`ES256`, `ES384`) or Ed25519 (`EdDSA`).
    ///
    /// ```
    /// use tower_jwt_auth::{Algorithm, KeyError, VerifyingKey};
    ///
    /// let err = VerifyingKey::from_pem(b"not a pem", Algorithm::RS256).unwrap_err();
    /// assert_eq!(err, KeyError::InvalidPem(Algorithm::RS256));
    /// // A PEM key never verifies HMAC: that is the algorithm-confusion attack.
    /// assert!(VerifyingKey::from_pem(b"", Algorithm::HS256).is_err());
    /// ```
    pub fn from_pem(pem: impl AsRef<[u8]>, algorithm: Algorithm) -> Result<Self, KeyError> {
        ensure_crypto_provider()?;
        let pem = pem.as_ref();
        let key = match algorithm.family() {
            AlgorithmFamily::Rsa => DecodingKey::from_rsa_pem(pem),
            AlgorithmFamily::Ec => DecodingKey::from_ec_pem(pem),
            AlgorithmFamily::Ed => DecodingKey::from_ed_pem(pem),
            AlgorithmFamily::Hmac => return Err(KeyError::WrongAlgorithm(algorithm)),
        };
        let key = key.map_err(|_| KeyError::InvalidPem(algorithm))?;
        check_strength(&key, algorithm)?;
        Ok(Self::bound(key, algorithm))
    }

    /// A public key in DER for an asymmetric `algorithm`: PKCS#1 `RSAPublicKey` for RSA, the
    /// SEC 1 point for EC, the 32 raw bytes for Ed25519 (what a PEM's body holds).
    ///
    /// ```
    /// use tower_jwt_auth::{Algorithm, KeyError, VerifyingKey};
    ///
    /// assert_eq!(VerifyingKey::from_der([4u8; 10], Algorithm::ES256).unwrap_err(), KeyError::CurveMismatch(Algorithm::ES256));
    /// ```
    pub fn from_der(der: impl AsRef<[u8]>, algorithm: Algorithm) -> Result<Self, KeyError> {
        ensure_crypto_provider()?;
        let der = der.as_ref();
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
    /// RSA, ES256/ES384 by curve, EdDSA); its `kid` is kept.
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
    pub fn from_jwk(jwk: &Jwk) -> Result<Self, KeyError> {
        ensure_crypto_provider()?;
        if jwk
            .common
            .public_key_use
            .as_ref()
            .is_some_and(|u| *u != PublicKeyUse::Signature)
        {
            return Err(KeyError::UnsupportedJwk);
        }
        // `key_ops`, when given, must allow verification (RFC 7517 §4.3).
        if jwk
            .common
            .key_operations
            .as_ref()
            .is_some_and(|ops| !ops.contains(&KeyOperations::Verify))
        {
            return Err(KeyError::UnsupportedJwk);
        }
        let implied = match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => Algorithm::RS256,
            AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
                EllipticCurve::P256 => Algorithm::ES256,
                EllipticCurve::P384 => Algorithm::ES384,
                _ => return Err(KeyError::UnsupportedJwk),
            },
            AlgorithmParameters::OctetKeyPair(okp) if okp.curve == EllipticCurve::Ed25519 => {
                Algorithm::EdDSA
            }
            // Never trust a shared secret fetched with the public keys.
            _ => return Err(KeyError::UnsupportedJwk),
        };
        let algorithm = match jwk.common.key_algorithm {
            None => implied,
            Some(alg) => jwk_algorithm(alg).ok_or(KeyError::UnsupportedJwk)?,
        };
        if algorithm.family() != implied.family() {
            return Err(KeyError::WrongAlgorithm(algorithm));
        }
        if algorithm.family() == AlgorithmFamily::Ec && algorithm != implied {
            return Err(KeyError::CurveMismatch(algorithm));
        }
        let key = DecodingKey::from_jwk(jwk).map_err(|_| KeyError::UnsupportedJwk)?;
        if let DecodingKeyKind::RsaModulusExponent { n, .. } = key.kind() {
            let bits = rsa_bits(n);
            if bits < 2048 {
                return Err(KeyError::RsaKeyTooSmall { bits });
            }
        }
        check_strength(&key, algorithm).map_err(|_| KeyError::UnsupportedJwk)?;
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
    /// # Ok::<(), tower_jwt_auth::KeyError>(())
    /// ```
    #[must_use]
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(kid.into().into_boxed_str());
        self
    }

    /// The one algorithm this key accepts.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    fn bound(key: DecodingKey, algorithm: Algorithm) -> Self {
        Self {
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

/// A key that signs tokens, and the one algorithm it signs with.
///
/// ```
/// use tower_jwt_auth::SigningKey;
///
/// let key = SigningKey::hs256(b"an HS256 secret of at least 32 bytes!")?;
/// # Ok::<(), tower_jwt_auth::KeyError>(())
/// ```
#[derive(Clone)]
pub struct SigningKey {
    pub(crate) key: EncodingKey,
    pub(crate) algorithm: Algorithm,
    pub(crate) kid: Option<Box<str>>,
}

impl SigningKey {
    /// An HMAC-SHA256 shared secret (at least 32 bytes).
    pub fn hs256(secret: impl AsRef<[u8]>) -> Result<Self, KeyError> {
        Self::hmac(secret, Algorithm::HS256)
    }

    /// An HMAC shared secret for `algorithm`, at least as long as the hash output.
    ///
    /// ```
    /// use tower_jwt_auth::{Algorithm, SigningKey};
    ///
    /// let key = SigningKey::hmac([7u8; 48], Algorithm::HS384)?;
    /// # Ok::<(), tower_jwt_auth::KeyError>(())
    /// ```
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
    pub fn from_pem(pem: impl AsRef<[u8]>, algorithm: Algorithm) -> Result<Self, KeyError> {
        ensure_crypto_provider()?;
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
    pub fn from_der(der: impl AsRef<[u8]>, algorithm: Algorithm) -> Result<Self, KeyError> {
        ensure_crypto_provider()?;
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
    /// # Ok::<(), tower_jwt_auth::KeyError>(())
    /// ```
    #[must_use]
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(kid.into().into_boxed_str());
        self
    }

    /// The algorithm this key signs with.
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
    /// # Ok::<(), tower_jwt_auth::KeyError>(())
    /// ```
    pub fn public_jwk(&self) -> Result<Jwk, KeyError> {
        if self.algorithm.family() == AlgorithmFamily::Hmac {
            return Err(KeyError::NotPublishable);
        }
        ensure_crypto_provider()?;
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

fn checked_secret(secret: &[u8], algorithm: Algorithm) -> Result<&[u8], KeyError> {
    let min = match algorithm {
        Algorithm::HS256 => 32,
        Algorithm::HS384 => 48,
        Algorithm::HS512 => 64,
        other => return Err(KeyError::WrongAlgorithm(other)),
    };
    if secret.len() < min {
        return Err(KeyError::SecretTooShort {
            algorithm,
            len: secret.len(),
            min,
        });
    }
    ensure_crypto_provider()?;
    Ok(secret)
}

/// Refuses RSA keys under 2048 bits and EC keys on another curve than the algorithm's, so that a
/// key that would refuse (or weakly accept) every token fails when it is made.
fn check_strength(key: &DecodingKey, algorithm: Algorithm) -> Result<(), KeyError> {
    let DecodingKeyKind::SecretOrDer(der) = key.kind() else {
        return Ok(());
    };
    match algorithm.family() {
        AlgorithmFamily::Rsa => {
            // PKCS#1 RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }
            let blocks = simple_asn1::from_der(der).map_err(|_| KeyError::InvalidPem(algorithm))?;
            let bits = match blocks.first() {
                Some(ASN1Block::Sequence(_, items)) => match items.first() {
                    Some(ASN1Block::Integer(_, n)) => n.bits(),
                    _ => return Err(KeyError::InvalidPem(algorithm)),
                },
                _ => return Err(KeyError::InvalidPem(algorithm)),
            };
            if bits < 2048 {
                return Err(KeyError::RsaKeyTooSmall { bits });
            }
        }
        AlgorithmFamily::Ec => {
            // The SEC 1 point: 0x04 || x || y uncompressed, or 0x02/0x03 || x compressed.
            let coordinate = match algorithm {
                Algorithm::ES384 => 48,
                _ => 32,
            };
            if der.len() != 1 + 2 * coordinate && der.len() != 1 + coordinate {
                return Err(KeyError::CurveMismatch(algorithm));
            }
        }
        // An Ed25519 public key is exactly 32 bytes; a shorter one would make a backend panic.
        AlgorithmFamily::Ed if der.len() != 32 => return Err(KeyError::InvalidPem(algorithm)),
        _ => {}
    }
    Ok(())
}

/// The signature algorithm a JWK's `alg` names, if it names one.
fn jwk_algorithm(alg: KeyAlgorithm) -> Option<Algorithm> {
    Some(match alg {
        KeyAlgorithm::HS256 => Algorithm::HS256,
        KeyAlgorithm::HS384 => Algorithm::HS384,
        KeyAlgorithm::HS512 => Algorithm::HS512,
        KeyAlgorithm::ES256 => Algorithm::ES256,
        KeyAlgorithm::ES384 => Algorithm::ES384,
        KeyAlgorithm::RS256 => Algorithm::RS256,
        KeyAlgorithm::RS384 => Algorithm::RS384,
        KeyAlgorithm::RS512 => Algorithm::RS512,
        KeyAlgorithm::PS256 => Algorithm::PS256,
        KeyAlgorithm::PS384 => Algorithm::PS384,
        KeyAlgorithm::PS512 => Algorithm::PS512,
        KeyAlgorithm::EdDSA => Algorithm::EdDSA,
        _ => return None,
    })
}

/// Bits of a big-endian unsigned modulus.
fn rsa_bits(n: &[u8]) -> u64 {
    let n = match n.iter().position(|&b| b != 0) {
        Some(first) => &n[first..],
        None => return 0,
    };
    (n.len() as u64 - 1) * 8 + u64::from(8 - n[0].leading_zeros())
}

fn secret_from_env(var: &str) -> Result<String, KeyError> {
    std::env::var(var).map_err(|_| KeyError::MissingEnv(var.to_owned()))
}

/// Makes sure jsonwebtoken has a crypto provider before any key exists, so that a backend
/// conflict brought in by another dependency (both of jsonwebtoken's backends on) never turns
/// into a panic inside a request: this crate's own feature choice is installed explicitly.
pub(crate) fn ensure_crypto_provider() -> Result<(), KeyError> {
    use jsonwebtoken::crypto::CryptoProvider;
    if CryptoProvider::try_get_default().is_some() {
        return Ok(());
    }
    #[cfg(feature = "aws_lc_rs")]
    let ours = Some(&jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER);
    #[cfg(all(feature = "rust_crypto", not(feature = "aws_lc_rs")))]
    let ours = Some(&jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER);
    #[cfg(not(any(feature = "aws_lc_rs", feature = "rust_crypto")))]
    let ours: Option<&'static CryptoProvider> = None;
    if let Some(ours) = ours {
        // Losing a race to another installer is fine: a provider is there either way.
        let _ = ours.install_default();
    }
    CryptoProvider::try_get_default()
        .map(|_| ())
        .ok_or(KeyError::NoCryptoBackend)
}
