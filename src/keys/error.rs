//! Why a key could not be made: [`KeyError`].

use std::fmt;

use jsonwebtoken::Algorithm;

/// Why a key could not be made. Every key is checked when it is made, so a request never
/// meets a bad key.
///
/// ```
/// use tower_jwt_auth::keys::KeyError;
/// use tower_jwt_auth::{Algorithm, VerifyingKey};
///
/// let err = VerifyingKey::hs256(b"short").unwrap_err();
/// assert_eq!(err, KeyError::SecretTooShort { algorithm: Algorithm::HS256, len: 5, min: 32 });
/// assert!(err.to_string().contains("openssl rand"), "says how to fix it: {err}");
/// ```
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
    /// A private key given where a public key is expected (a `VerifyingKey`): give its public
    /// half (`openssl pkey -in key.pem -pubout`).
    PrivateKeyGiven(Algorithm),
    /// An RSA key under 2048 bits (RFC 8725 §3.5).
    RsaKeyTooSmall {
        /// The modulus size in bits.
        bits: u64,
    },
    /// An EC key on another curve than the algorithm's (P-256 for ES256, P-384 for ES384).
    CurveMismatch(Algorithm),
    /// A JWK this crate does not verify with, and why: not a signing key (`"use": "enc"`), a
    /// symmetric (`oct`) key, an unsupported key type or curve, or unreadable parameters.
    UnsupportedJwk(&'static str),
    /// A JWK whose `alg` names an algorithm this crate cannot verify with: `ES512` (P-521, in
    /// neither crypto backend of jsonwebtoken), or a name it does not know.
    UnsupportedAlgorithm(String),
    /// A JWKS document that is not `{"keys": [...]}` JSON.
    InvalidJwks,
    /// A JWKS document without any usable signing key.
    NoUsableKey,
    /// Only asymmetric keys have a public half to publish.
    NotPublishable,
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
                write!(f, "algorithm {alg:?} is not allowed for this kind of key")
            }
            Self::InvalidPem(alg) => write!(f, "the PEM is not a valid key for {alg:?}"),
            Self::PrivateKeyGiven(alg) => write!(
                f,
                "this is a private key: a verifying key for {alg:?} takes the public half \
                 (`openssl pkey -in key.pem -pubout`)"
            ),
            Self::RsaKeyTooSmall { bits } => {
                write!(f, "the RSA key has {bits} bits; at least 2048 are required")
            }
            Self::CurveMismatch(alg) => write!(
                f,
                "the EC key is not on the curve of {alg:?} (ES256 takes P-256, ES384 takes P-384)"
            ),
            Self::UnsupportedJwk(why) => write!(
                f,
                "the JWK is not a signing key this crate verifies with (RSA, EC P-256/P-384 or \
                 Ed25519): {why}"
            ),
            Self::UnsupportedAlgorithm(alg) => write!(
                f,
                "the JWK's algorithm `{alg}` is not supported (ES512/P-521 is in neither crypto backend)"
            ),
            Self::InvalidJwks => f.write_str("the JWKS document is not {\"keys\": [...]} JSON"),
            Self::NoUsableKey => f.write_str("the JWKS document has no usable signing key"),
            Self::NotPublishable => {
                f.write_str("an HMAC secret has no public half: only asymmetric keys are published")
            }
        }
    }
}

impl std::error::Error for KeyError {}
