//! A token's signature checked with a [`VerifyingKey`]. With the AWS-LC backend an HMAC key's
//! schedule is made once, when the key is (jsonwebtoken's `crypto::verify` makes a boxed
//! verifier, and the key schedule, on every call); every other key goes through jsonwebtoken.

#[cfg(feature = "aws_lc_rs")]
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

use super::VerifyingKey;
use crate::error::AuthError;

/// An HMAC key ready to verify: its key schedule made once.
#[cfg(feature = "aws_lc_rs")]
#[derive(Clone)]
pub(crate) struct HmacKey(aws_lc_rs::hmac::Key);

#[cfg(feature = "aws_lc_rs")]
impl HmacKey {
    /// The key for `secret` under an HS* `algorithm`; `None` for any other algorithm.
    pub(crate) fn new(algorithm: jsonwebtoken::Algorithm, secret: &[u8]) -> Option<Self> {
        use aws_lc_rs::hmac;
        use jsonwebtoken::Algorithm::{HS256, HS384, HS512};
        let algorithm = match algorithm {
            HS256 => hmac::HMAC_SHA256,
            HS384 => hmac::HMAC_SHA384,
            HS512 => hmac::HMAC_SHA512,
            _ => return None,
        };
        Some(Self(hmac::Key::new(algorithm, secret)))
    }

    /// Whether `tag` is the HMAC of `message`, compared in constant time.
    fn verify(&self, message: &[u8], tag: &[u8]) -> bool {
        aws_lc_rs::hmac::verify(&self.0, message, tag).is_ok()
    }
}

/// Room for the longest HMAC tag (HS512, 64 bytes) as base64's length estimate counts it (86
/// characters: 66 bytes), so that every tag decodes on the stack.
#[cfg(feature = "aws_lc_rs")]
const MAX_TAG: usize = 96;

impl VerifyingKey {
    /// Checks `signature` (base64url) over `message`: [`AuthError::Malformed`] when it is not
    /// base64url, [`AuthError::InvalidSignature`] when it does not verify.
    pub(crate) fn check_signature(&self, message: &[u8], signature: &str) -> Result<(), AuthError> {
        #[cfg(feature = "aws_lc_rs")]
        if let Some(hmac) = &self.hmac {
            let mut tag = [0u8; MAX_TAG];
            let verified = if base64::decoded_len_estimate(signature.len()) <= MAX_TAG {
                let n = URL_SAFE_NO_PAD
                    .decode_slice(signature, &mut tag)
                    .map_err(|_| AuthError::Malformed)?;
                hmac.verify(message, &tag[..n])
            } else {
                // Too long for any HMAC tag, so it cannot verify; still refused as malformed
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
