//! A token's signature checked with a [`VerifyingKey`]. With the AWS-LC backend a key is made
//! ready once, when the key is: an HMAC key's schedule, a public key parsed (jsonwebtoken's
//! `crypto::verify` makes a boxed verifier and the key schedule, or parses the public key, on
//! every call). Keys the backend cannot prepare, and every key on the RustCrypto backend, go
//! through jsonwebtoken.

#[cfg(feature = "aws_lc_rs")]
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

use super::VerifyingKey;
use crate::error::AuthError;

/// A key ready to verify: an HMAC key's schedule, or a public key parsed.
#[cfg(feature = "aws_lc_rs")]
#[derive(Clone)]
#[allow(
    clippy::large_enum_variant,
    reason = "the HMAC schedule stays inline, as it was: a box would add a pointer chase to \
              every HS* verification, and keys are few"
)]
pub(crate) enum Prepared {
    Hmac(aws_lc_rs::hmac::Key),
    Public(aws_lc_rs::signature::ParsedPublicKey),
}

#[cfg(feature = "aws_lc_rs")]
impl Prepared {
    /// The HMAC key for `secret` under an HS* `algorithm`; `None` for any other algorithm.
    pub(crate) fn hmac(algorithm: jsonwebtoken::Algorithm, secret: &[u8]) -> Option<Self> {
        use aws_lc_rs::hmac;
        use jsonwebtoken::Algorithm::{HS256, HS384, HS512};
        let algorithm = match algorithm {
            HS256 => hmac::HMAC_SHA256,
            HS384 => hmac::HMAC_SHA384,
            HS512 => hmac::HMAC_SHA512,
            _ => return None,
        };
        Some(Self::Hmac(hmac::Key::new(algorithm, secret)))
    }

    /// The public `key` parsed for `algorithm`, with the verification algorithms jsonwebtoken's
    /// AWS-LC backend uses (so that both accept and refuse alike); `None` for an HMAC
    /// algorithm, or a key that does not parse (jsonwebtoken then refuses it at each use).
    pub(crate) fn public(
        algorithm: jsonwebtoken::Algorithm,
        key: &jsonwebtoken::DecodingKey,
    ) -> Option<Self> {
        use aws_lc_rs::signature::{self as sig, ParsedPublicKey, RsaPublicKeyComponents};
        use jsonwebtoken::Algorithm::*;
        let rsa: Option<&'static sig::RsaParameters> = match algorithm {
            RS256 => Some(&sig::RSA_PKCS1_2048_8192_SHA256),
            RS384 => Some(&sig::RSA_PKCS1_2048_8192_SHA384),
            RS512 => Some(&sig::RSA_PKCS1_2048_8192_SHA512),
            PS256 => Some(&sig::RSA_PSS_2048_8192_SHA256),
            PS384 => Some(&sig::RSA_PSS_2048_8192_SHA384),
            PS512 => Some(&sig::RSA_PSS_2048_8192_SHA512),
            _ => None,
        };
        let parsed = match (key.kind(), rsa) {
            (jsonwebtoken::DecodingKeyKind::RsaModulusExponent { n, e }, Some(rsa)) => {
                RsaPublicKeyComponents { n, e }.to_parsed_public_key(rsa)
            }
            (jsonwebtoken::DecodingKeyKind::SecretOrDer(bytes), rsa) => {
                let algorithm: &'static dyn sig::VerificationAlgorithm = match (rsa, algorithm) {
                    (Some(rsa), _) => rsa,
                    (None, ES256) => &sig::ECDSA_P256_SHA256_FIXED,
                    (None, ES384) => &sig::ECDSA_P384_SHA384_FIXED,
                    (None, EdDSA) => &sig::ED25519,
                    (None, _) => return None,
                };
                ParsedPublicKey::new(algorithm, bytes)
            }
            _ => return None,
        };
        parsed.ok().map(Self::Public)
    }

    /// Whether `signature` is the signature (or HMAC tag, compared in constant time) of
    /// `message`.
    fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            Self::Hmac(key) => aws_lc_rs::hmac::verify(key, message, signature).is_ok(),
            Self::Public(key) => key.verify_sig(message, signature).is_ok(),
        }
    }
}

/// Room for the longest signature as base64's length estimate counts it: RSA-8192's 1024 bytes
/// (1366 characters: 1026 bytes estimated), so that every signature decodes on the stack.
#[cfg(feature = "aws_lc_rs")]
const MAX_SIGNATURE: usize = 1032;

impl VerifyingKey {
    /// Checks `signature` (base64url) over `message`: [`AuthError::Malformed`] when it is not
    /// base64url, [`AuthError::InvalidSignature`] when it does not verify.
    pub(crate) fn check_signature(&self, message: &[u8], signature: &str) -> Result<(), AuthError> {
        #[cfg(feature = "aws_lc_rs")]
        if let Some(prepared) = &self.prepared {
            let mut decoded = [0u8; MAX_SIGNATURE];
            let verified = if base64::decoded_len_estimate(signature.len()) <= MAX_SIGNATURE {
                let n = URL_SAFE_NO_PAD
                    .decode_slice(signature, &mut decoded)
                    .map_err(|_| AuthError::Malformed)?;
                prepared.verify(message, &decoded[..n])
            } else {
                // Too long for any signature, so it cannot verify; still refused as malformed
                // when it is not base64url, as on the other path.
                URL_SAFE_NO_PAD
                    .decode(signature)
                    .map_err(|_| AuthError::Malformed)?;
                false
            };
            return if verified {
                Ok(())
            } else {
                Err(AuthError::InvalidSignature)
            };
        }
        match jsonwebtoken::crypto::verify(signature, message, &self.key, self.algorithm) {
            Ok(true) => Ok(()),
            Ok(false) => Err(AuthError::InvalidSignature),
            Err(e) => Err(match e.kind() {
                jsonwebtoken::errors::ErrorKind::Base64(_) => AuthError::Malformed,
                _ => AuthError::InvalidSignature,
            }),
        }
    }
}

#[cfg(all(test, feature = "aws_lc_rs"))]
mod tests {
    use jsonwebtoken::Algorithm::{self, *};

    use super::Prepared;
    use crate::keys::{SigningKey, VerifyingKey};

    fn pem(name: &str) -> Vec<u8> {
        std::fs::read(format!("tests/keys/{name}.pem")).unwrap()
    }

    /// Every asymmetric algorithm, from a PEM key and from its JWK (RSA: modulus and exponent),
    /// verifies through the key parsed once, and refuses a signature one bit off.
    #[test]
    fn public_keys_are_parsed_once_and_verify_alike() {
        super::super::checks::ensure_crypto_provider();
        let cases: [(Algorithm, &str); 9] = [
            (RS256, "rsa"),
            (RS384, "rsa"),
            (RS512, "rsa"),
            (PS256, "rsa"),
            (PS384, "rsa"),
            (PS512, "rsa"),
            (ES256, "ec256"),
            (ES384, "ec384"),
            (EdDSA, "ed25519"),
        ];
        for (algorithm, name) in cases {
            let signing = SigningKey::from_pem(pem(&format!("{name}_private")), algorithm).unwrap();
            let from_pem =
                VerifyingKey::from_pem(pem(&format!("{name}_public")), algorithm).unwrap();
            let from_jwk = VerifyingKey::from_jwk(&signing.public_jwk().unwrap()).unwrap();
            let message = b"header.payload";
            let signature = jsonwebtoken::crypto::sign(message, &signing.key, algorithm).unwrap();
            let mut forged = signature.clone().into_bytes();
            forged[4] = if forged[4] == b'A' { b'B' } else { b'A' };
            let forged = String::from_utf8(forged).unwrap();
            for key in [&from_pem, &from_jwk] {
                assert!(
                    matches!(key.prepared, Some(Prepared::Public(_))),
                    "{algorithm:?} {name}: not parsed"
                );
                assert_eq!(
                    key.check_signature(message, &signature),
                    Ok(()),
                    "{algorithm:?}"
                );
                assert!(
                    key.check_signature(message, &forged).is_err(),
                    "{algorithm:?}"
                );
                assert!(key.check_signature(b"header.other", &signature).is_err());
            }
        }
    }
}
