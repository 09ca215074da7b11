//! The checks every key goes through when it is made: secret length, RSA modulus size, curve
//! and point length, the algorithm a JWK names, and the crypto backend being installed.

use jsonwebtoken::jwk::KeyAlgorithm;
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, DecodingKeyKind};
use simple_asn1::ASN1Block;

use super::KeyError;

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
    ensure_crypto_provider();
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
/// into a panic inside a request: this crate's own feature choice is installed explicitly. A
/// build without a backend stops at the `compile_error!` in `lib.rs`.
pub(crate) fn ensure_crypto_provider() {
    use jsonwebtoken::crypto::CryptoProvider;
    if CryptoProvider::try_get_default().is_some() {
        return;
    }
    #[cfg(feature = "aws_lc_rs")]
    let ours = &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER;
    #[cfg(all(feature = "rust_crypto", not(feature = "aws_lc_rs")))]
    let ours = &jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER;
    // Losing a race to another installer is fine: a provider is there either way.
    let _ = ours.install_default();
}
