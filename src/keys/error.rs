//! Why a key could not be made ([`KeyError`]), and the checks every key goes through: secret
//! length, RSA modulus size, curve and point length, and the crypto backend being installed.

use std::fmt;

use jsonwebtoken::jwk::KeyAlgorithm;
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, DecodingKeyKind};
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

pub(super) fn checked_secret(secret: &[u8], algorithm: Algorithm) -> Result<&[u8], KeyError> {
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
pub(super) fn check_strength(key: &DecodingKey, algorithm: Algorithm) -> Result<(), KeyError> {
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
pub(super) fn jwk_algorithm(alg: KeyAlgorithm) -> Option<Algorithm> {
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
pub(super) fn rsa_bits(n: &[u8]) -> u64 {
    let n = match n.iter().position(|&b| b != 0) {
        Some(first) => &n[first..],
        None => return 0,
    };
    (n.len() as u64 - 1) * 8 + u64::from(8 - n[0].leading_zeros())
}

pub(super) fn secret_from_env(var: &str) -> Result<String, KeyError> {
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
