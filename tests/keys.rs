//! Key construction: what `VerifyingKey` and `SigningKey` refuse, and what they never print.

mod common;

use common::*;
use serde_json::Value;
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
    std::env::set_var("TJA_TEST_SHORT_SECRET", "short");
    assert!(matches!(
        VerifyingKey::hmac_from_env("TJA_TEST_SHORT_SECRET", Algorithm::HS256),
        Err(KeyError::SecretTooShort { len: 5, .. })
    ));
    std::env::set_var("TJA_TEST_GOOD_SECRET", std::str::from_utf8(SECRET).unwrap());
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
