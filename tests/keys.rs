//! Key construction: what `VerifyingKey` and `SigningKey` refuse, and what they never print.

mod common;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use common::*;
use serde_json::{Value, json};
use tower_jwt_auth::clock::ManualClock;
use tower_jwt_auth::keys::KeyError;
use tower_jwt_auth::{Algorithm, JwtLayer, SigningKey, VerifyingKey};

#[test]
fn hmac_secrets_shorter_than_the_hash_are_refused() {
    for (alg, min) in [
        (Algorithm::HS256, 32),
        (Algorithm::HS384, 48),
        (Algorithm::HS512, 64),
    ] {
        let short = vec![1u8; min - 1];
        let err = VerifyingKey::hmac(&short, alg).unwrap_err();
        assert_eq!(
            err,
            KeyError::SecretTooShort {
                algorithm: alg,
                len: min - 1,
                min
            }
        );
        assert!(err.to_string().contains(&format!("at least {min} bytes")));
        assert!(SigningKey::hmac(&short, alg).is_err());
        assert!(VerifyingKey::hmac(vec![1u8; min], alg).is_ok());
    }
}

#[test]
fn hmac_keys_refuse_asymmetric_algorithms_and_pem_keys_refuse_hmac() {
    assert_eq!(
        VerifyingKey::hmac([1u8; 64], Algorithm::RS256).unwrap_err(),
        KeyError::WrongAlgorithm(Algorithm::RS256)
    );
    let public = pem("rsa_public");
    assert_eq!(
        VerifyingKey::from_pem(&public, Algorithm::HS256).unwrap_err(),
        KeyError::WrongAlgorithm(Algorithm::HS256)
    );
    assert_eq!(
        SigningKey::from_pem(pem("rsa_private"), Algorithm::HS256).unwrap_err(),
        KeyError::WrongAlgorithm(Algorithm::HS256)
    );
}

#[test]
fn a_pem_of_the_wrong_family_is_refused() {
    assert_eq!(
        VerifyingKey::from_pem(pem("rsa_public"), Algorithm::ES256).unwrap_err(),
        KeyError::InvalidPem(Algorithm::ES256)
    );
    assert_eq!(
        VerifyingKey::from_pem(pem("ec256_public"), Algorithm::EdDSA).unwrap_err(),
        KeyError::InvalidPem(Algorithm::EdDSA)
    );
}

#[test]
fn rsa_keys_under_2048_bits_are_refused() {
    let err = VerifyingKey::from_pem(pem("rsa1024_public"), Algorithm::RS256).unwrap_err();
    assert_eq!(err, KeyError::RsaKeyTooSmall { bits: 1024 });
    assert!(VerifyingKey::from_pem(pem("rsa_public"), Algorithm::RS256).is_ok());
}

#[test]
fn an_ec_key_on_the_wrong_curve_is_refused() {
    assert_eq!(
        VerifyingKey::from_pem(pem("ec384_public"), Algorithm::ES256).unwrap_err(),
        KeyError::CurveMismatch(Algorithm::ES256)
    );
    assert_eq!(
        VerifyingKey::from_pem(pem("ec256_public"), Algorithm::ES384).unwrap_err(),
        KeyError::CurveMismatch(Algorithm::ES384)
    );
}

#[test]
fn secret_from_env_fails_clearly_when_missing_or_short() {
    // Each test process sets its own variables; names are unique to this test.
    let missing =
        VerifyingKey::hmac_from_env("TJA_TEST_UNSET_SECRET", Algorithm::HS256).unwrap_err();
    assert_eq!(
        missing,
        KeyError::MissingEnv("TJA_TEST_UNSET_SECRET".into())
    );
    assert!(missing.to_string().contains("TJA_TEST_UNSET_SECRET"));
    // Only this test touches these names, and no other test in this binary reads the environment.
    // SAFETY: no other test of this binary reads or writes the environment (see above), so
    // no other thread does while this one writes it.
    unsafe { std::env::set_var("TJA_TEST_SHORT_SECRET", "short") };
    assert!(matches!(
        VerifyingKey::hmac_from_env("TJA_TEST_SHORT_SECRET", Algorithm::HS256),
        Err(KeyError::SecretTooShort { len: 5, .. })
    ));
    // SAFETY: as above.
    unsafe { std::env::set_var("TJA_TEST_GOOD_SECRET", std::str::from_utf8(SECRET).unwrap()) };
    assert!(VerifyingKey::hmac_from_env("TJA_TEST_GOOD_SECRET", Algorithm::HS256).is_ok());
    assert!(SigningKey::hmac_from_env("TJA_TEST_GOOD_SECRET", Algorithm::HS256).is_ok());
}

#[test]
fn debug_output_never_shows_key_material() {
    let key = VerifyingKey::hs256(SECRET).unwrap();
    let text = format!("{key:?} {:?}", SigningKey::hs256(SECRET).unwrap());
    assert!(!text.contains("test-secret"), "{text}");
    let layer = JwtLayer::<Value>::new(key);
    assert!(!format!("{layer:?}").contains("test-secret"));
}

/// The DER body of a PEM file of `tests/keys/` (for the public keys: a SubjectPublicKeyInfo,
/// what `openssl pkey -pubout -outform DER` writes).
fn der(name: &str) -> Vec<u8> {
    use base64::Engine;
    let pem = String::from_utf8(pem(name)).unwrap();
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap()
}

#[test]
fn signing_keys_are_checked_when_made() {
    // A public key, garbage, a key too weak, a curve that does not fit: refused at once, not at
    // the first `issue()`.
    for (pem_name, alg) in [
        ("ec256_public", Algorithm::ES256),
        ("rsa_public", Algorithm::RS256),
        ("ed25519_public", Algorithm::EdDSA),
    ] {
        let err = SigningKey::from_pem(pem(pem_name), alg).unwrap_err();
        assert_eq!(err, KeyError::InvalidPem(alg), "{pem_name}");
    }
    assert!(SigningKey::from_der(b"garbage", Algorithm::ES256).is_err());
    assert!(SigningKey::from_der(b"garbage", Algorithm::RS256).is_err());
    assert!(SigningKey::from_der(b"garbage", Algorithm::EdDSA).is_err());
    assert_eq!(
        SigningKey::from_pem(pem("rsa1024_private"), Algorithm::RS256).unwrap_err(),
        KeyError::RsaKeyTooSmall { bits: 1024 }
    );
    assert_eq!(
        SigningKey::from_pem(pem("ec384_private"), Algorithm::ES256).unwrap_err(),
        KeyError::CurveMismatch(Algorithm::ES256)
    );
    assert_eq!(
        SigningKey::from_pem(pem("ec256_private"), Algorithm::ES384).unwrap_err(),
        KeyError::CurveMismatch(Algorithm::ES384)
    );
    // The keys that fit still work, and their tokens verify.
    for (name, alg) in [
        ("rsa", Algorithm::PS256),
        ("ec384", Algorithm::ES384),
        ("ed25519", Algorithm::EdDSA),
    ] {
        let key = SigningKey::from_pem(pem(&format!("{name}_private")), alg).unwrap();
        let token = tower_jwt_auth::TokenIssuer::new(key)
            .issue(&claims())
            .unwrap()
            .token;
        let verifying = VerifyingKey::from_pem(pem(&format!("{name}_public")), alg).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let layer = JwtLayer::<Value>::new(verifying).clock(ManualClock::new(NOW));
        let verified = runtime.block_on(layer.verify(&token));
        assert_eq!(verified.map(|c| c["sub"].clone()), Ok(json!("1")), "{name}");
    }
}

#[test]
fn a_private_key_given_as_verifying_key_says_so() {
    for (name, alg) in [
        ("rsa", Algorithm::RS256),
        ("ec256", Algorithm::ES256),
        ("ed25519", Algorithm::EdDSA),
    ] {
        let err = VerifyingKey::from_pem(pem(&format!("{name}_private")), alg).unwrap_err();
        assert_eq!(err, KeyError::PrivateKeyGiven(alg), "{name}");
        assert!(err.to_string().contains("private key"), "{err}");
    }
}

#[tokio::test]
async fn subject_public_key_info_der_is_accepted_for_every_family() {
    for (name, alg) in [
        ("rsa", Algorithm::RS256),
        ("ec256", Algorithm::ES256),
        ("ec384", Algorithm::ES384),
        ("ed25519", Algorithm::EdDSA),
    ] {
        let key = VerifyingKey::from_der(der(&format!("{name}_public")), alg)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let app = Router::new()
            .route("/", get(|| async { "ok" }))
            .layer(JwtLayer::<Value>::new(key).clock(ManualClock::new(NOW)));
        let token = signed_token(alg, &format!("{name}_private"), &claims());
        assert_accepted(&app, &token).await;
        // Another key's signature under the same algorithm is refused.
        let forged = match alg {
            Algorithm::ES256 => {
                signed_token(alg, "ec256_private", &json!({"sub": "x", "exp": NOW + 9}))
            }
            _ => hs256_token(&hs256_header(), &claims(), SECRET),
        };
        let (head, _) = token.rsplit_once('.').unwrap();
        let (_, other_sig) = forged.rsplit_once('.').unwrap();
        let reply = with_bearer(&app, &format!("{head}.{other_sig}")).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{name}");
    }
    // An SPKI of another family than the algorithm's is refused.
    assert_eq!(
        VerifyingKey::from_der(der("ec256_public"), Algorithm::RS256).unwrap_err(),
        KeyError::InvalidPem(Algorithm::RS256)
    );
    assert_eq!(
        VerifyingKey::from_der(der("ec384_public"), Algorithm::ES256).unwrap_err(),
        KeyError::CurveMismatch(Algorithm::ES256)
    );
}
