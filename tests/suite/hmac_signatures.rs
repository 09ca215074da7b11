//! HMAC signatures (HS256/384/512), checked with a key schedule made once per key: tokens
//! signed by the RustCrypto crates (not by this crate) verify, and every forged, truncated,
//! over-long, cross-algorithm or non-base64url signature is refused with the right error.

use crate::common;

use common::*;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::{Sha256, Sha384, Sha512};
use tower_jwt_auth::clock::ManualClock;
use tower_jwt_auth::{Algorithm, AuthError, JwtLayer, VerifyingKey};

const SECRET64: &[u8] = b"a 64-byte secret, long enough for HS512, and then some more bytes";

fn tag(alg: Algorithm, secret: &[u8], message: &str) -> Vec<u8> {
    fn mac<M: Mac + hmac::digest::KeyInit>(secret: &[u8], message: &str) -> Vec<u8> {
        let mut mac = <M as hmac::digest::KeyInit>::new_from_slice(secret).unwrap();
        mac.update(message.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
    match alg {
        Algorithm::HS256 => mac::<Hmac<Sha256>>(secret, message),
        Algorithm::HS384 => mac::<Hmac<Sha384>>(secret, message),
        Algorithm::HS512 => mac::<Hmac<Sha512>>(secret, message),
        other => panic!("{other:?}"),
    }
}

fn message(alg: Algorithm) -> String {
    let header = json!({"alg": format!("{alg:?}"), "typ": "JWT"});
    format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims().to_string().as_bytes())
    )
}

async fn verdict(alg: Algorithm, token: &str) -> Result<(), AuthError> {
    let layer = JwtLayer::<serde_json::Value>::new(VerifyingKey::hmac(SECRET64, alg).unwrap())
        .clock(ManualClock::new(NOW));
    layer.verify(token).await.map(drop)
}

#[tokio::test]
async fn every_hs_algorithm_verifies_its_own_tags_and_refuses_any_other() {
    for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
        let message = message(alg);
        let good = tag(alg, SECRET64, &message);
        assert_eq!(
            verdict(alg, &format!("{message}.{}", b64(&good))).await,
            Ok(()),
            "{alg:?}"
        );

        let other_secret = tag(
            alg,
            b"another secret of sixty-four bytes, for HS512 and the rest!!",
            &message,
        );
        let mut flipped = good.clone();
        flipped[0] ^= 1;
        let mut last_bit = good.clone();
        *last_bit.last_mut().unwrap() ^= 0x80;
        let other_alg = if alg == Algorithm::HS256 {
            Algorithm::HS512
        } else {
            Algorithm::HS256
        };
        let refused = [
            ("another secret", other_secret),
            ("one bit flipped", flipped),
            ("the last bit flipped", last_bit),
            ("truncated", good[..good.len() - 1].to_vec()),
            ("one byte longer", [good.as_slice(), &[0]].concat()),
            ("twice as long", good.repeat(2)),
            ("empty", Vec::new()),
            (
                "the tag of another HS algorithm",
                tag(other_alg, SECRET64, &message),
            ),
        ];
        for (what, signature) in refused {
            let token = format!("{message}.{}", b64(&signature));
            assert_eq!(
                verdict(alg, &token).await,
                Err(AuthError::InvalidSignature),
                "{alg:?}: {what}"
            );
        }
        for not_base64url in ["~~~~", "AA==", "A", "++//"] {
            let token = format!("{message}.{not_base64url}");
            assert_eq!(
                verdict(alg, &token).await,
                Err(AuthError::Malformed),
                "{alg:?}: {not_base64url}"
            );
        }
        // Over-long and not base64url: malformed, as on jsonwebtoken's path.
        let token = format!("{message}.{}~", "A".repeat(200));
        assert_eq!(
            verdict(alg, &token).await,
            Err(AuthError::Malformed),
            "{alg:?}"
        );
    }
}
