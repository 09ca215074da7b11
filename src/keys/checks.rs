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

/// Whether `pem` holds a private key (`-----BEGIN … PRIVATE KEY-----`).
pub(super) fn is_private_pem(pem: &[u8]) -> bool {
    let text = String::from_utf8_lossy(pem);
    text.lines()
        .any(|line| line.starts_with("-----BEGIN") && line.contains("PRIVATE KEY"))
}

/// The key bits of a SubjectPublicKeyInfo (RFC 5280 §4.1, what `openssl pkey -pubout -outform
/// DER` writes) whose algorithm fits `algorithm`'s family: for RSA the PKCS#1 `RSAPublicKey`,
/// for EC the SEC 1 point, for Ed25519 the 32 bytes; `None` when `der` is not an SPKI.
pub(super) fn spki_key(der: &[u8], algorithm: Algorithm) -> Option<Result<Vec<u8>, KeyError>> {
    let blocks = simple_asn1::from_der(der).ok()?;
    let [ASN1Block::Sequence(_, items)] = blocks.as_slice() else {
        return None;
    };
    let [ASN1Block::Sequence(_, id), ASN1Block::BitString(_, _, bits)] = items.as_slice() else {
        return None;
    };
    let Some(ASN1Block::ObjectIdentifier(_, oid)) = id.first() else {
        return None;
    };
    let fits = match algorithm.family() {
        AlgorithmFamily::Rsa => *oid == simple_asn1::oid!(1, 2, 840, 113549, 1, 1, 1),
        AlgorithmFamily::Ec => *oid == simple_asn1::oid!(1, 2, 840, 10045, 2, 1),
        AlgorithmFamily::Ed => *oid == simple_asn1::oid!(1, 3, 101, 112),
        AlgorithmFamily::Hmac => false,
    };
    Some(if fits {
        Ok(bits.clone())
    } else {
        Err(KeyError::InvalidPem(algorithm))
    })
}

/// The DER of a key given in PEM (its base64 body) or already in DER.
fn key_der(key: &[u8]) -> Option<Vec<u8>> {
    use base64::Engine;
    match std::str::from_utf8(key)
        .ok()
        .filter(|t| t.contains("-----BEGIN"))
    {
        Some(text) => {
            let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
            base64::engine::general_purpose::STANDARD.decode(body).ok()
        }
        None => Some(key.to_vec()),
    }
}

/// The modulus size of an RSA private key in PEM or DER (PKCS#8 or PKCS#1), for a clear error
/// when a crypto backend refuses a weak key without saying why.
pub(super) fn rsa_private_bits(key: &[u8]) -> Option<u64> {
    fn bits(der: &[u8]) -> Option<u64> {
        let blocks = simple_asn1::from_der(der).ok()?;
        let Some(ASN1Block::Sequence(_, items)) = blocks.first() else {
            return None;
        };
        match items.as_slice() {
            // PKCS#1 RSAPrivateKey: version, modulus, ...
            [ASN1Block::Integer(_, _), ASN1Block::Integer(_, n), ..] => Some(n.bits()),
            // PKCS#8 PrivateKeyInfo: version, algorithm, OCTET STRING holding the PKCS#1 key.
            [_, _, ASN1Block::OctetString(_, inner), ..] => bits(inner),
            _ => None,
        }
    }
    bits(&key_der(key)?)
}

/// The ES algorithm of an EC private key's curve (PKCS#8), for a clear error when a backend
/// refuses a key on another curve than the algorithm's.
pub(super) fn ec_private_algorithm(key: &[u8]) -> Option<Algorithm> {
    let blocks = simple_asn1::from_der(&key_der(key)?).ok()?;
    let Some(ASN1Block::Sequence(_, items)) = blocks.first() else {
        return None;
    };
    let Some(ASN1Block::Sequence(_, id)) = items.get(1) else {
        return None;
    };
    match id.get(1) {
        Some(ASN1Block::ObjectIdentifier(_, curve)) => {
            if *curve == simple_asn1::oid!(1, 2, 840, 10045, 3, 1, 7) {
                Some(Algorithm::ES256)
            } else if *curve == simple_asn1::oid!(1, 3, 132, 0, 34) {
                Some(Algorithm::ES384)
            } else {
                None
            }
        }
        _ => None,
    }
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
