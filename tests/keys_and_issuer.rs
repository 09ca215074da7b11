//! Key construction errors, and tokens minted by `TokenIssuer`.

mod common;

use std::time::Duration;

use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use common::*;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tower_jwt_auth::{
    Algorithm, Auth, JwtLayer, KeyError, ManualClock, SigningKey, TokenIssuer, TokenType,
    VerifyingKey,
};

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

#[derive(Serialize)]
struct NewClaims<'a> {
    sub: &'a str,
    username: &'a str,
}

#[test]
fn issuer_fills_iat_exp_jti_iss_aud_and_the_type_claim() {
    let issuer = TokenIssuer::new(SigningKey::hs256(SECRET).unwrap())
        .clock(ManualClock::new(NOW))
        .ttl(Duration::from_secs(900))
        .issuer("https://auth.example")
        .audience(["orders"])
        .token_type(TokenType::claim("type", "access"));
    let issued = issuer
        .issue(&NewClaims {
            sub: "1",
            username: "john",
        })
        .unwrap();
    let claims = payload(&issued.token);
    assert_eq!(claims["iat"], NOW);
    assert_eq!(claims["exp"], NOW + 900);
    assert_eq!(claims["iss"], "https://auth.example");
    assert_eq!(claims["aud"], "orders");
    assert_eq!(claims["type"], "access");
    assert_eq!(claims["sub"], "1");
    assert_eq!(claims["jti"], issued.jti.as_str());
    assert_eq!(issued.expires_in(), 900);
    assert_eq!(header(&issued.token), json!({"alg": "HS256", "typ": "JWT"}));
    // Signed with HMAC-SHA256 over header.payload, checked by an independent implementation.
    let (message, signature) = issued.token.rsplit_once('.').unwrap();
    assert_eq!(hs256_sign(SECRET, message), signature);
}

#[test]
fn every_token_gets_its_own_unguessable_jti() {
    let issuer = TokenIssuer::new(SigningKey::hs256(SECRET).unwrap());
    let a = issuer.issue(&json!({"sub": "1"})).unwrap();
    let b = issuer.issue(&json!({"sub": "1"})).unwrap();
    assert_ne!(a.jti, b.jti);
    assert!(a.jti.len() >= 22, "128 bits at least: {}", a.jti);
}

#[test]
fn claims_the_app_sets_are_kept() {
    let issuer = TokenIssuer::new(SigningKey::hs256(SECRET).unwrap()).clock(ManualClock::new(NOW));
    let issued = issuer
        .issue(&json!({"sub": "1", "exp": NOW + 60, "jti": "mine", "aud": ["a", "b"]}))
        .unwrap();
    let claims = payload(&issued.token);
    assert_eq!(claims["exp"], NOW + 60);
    assert_eq!(claims["jti"], "mine");
    assert_eq!(issued.jti, "mine");
    assert_eq!(issued.expires_at, NOW + 60);
    assert_eq!(claims["aud"], json!(["a", "b"]));
}

#[test]
fn claims_that_are_not_an_object_are_refused() {
    let issuer = TokenIssuer::new(SigningKey::hs256(SECRET).unwrap());
    assert!(matches!(
        issuer.issue(&json!([1, 2])),
        Err(tower_jwt_auth::IssueError::ClaimsNotAnObject)
    ));
}

#[test]
fn typ_header_and_kid_are_written_to_the_header() {
    let issuer = TokenIssuer::new(
        SigningKey::from_pem(pem("ec256_private"), Algorithm::ES256)
            .unwrap()
            .with_kid("k1"),
    )
    .token_type(TokenType::header("at+jwt"));
    let issued = issuer.issue(&json!({"sub": "1"})).unwrap();
    assert_eq!(
        header(&issued.token),
        json!({"alg": "ES256", "typ": "at+jwt", "kid": "k1"})
    );
}

#[test]
fn issued_token_debug_hides_the_token() {
    let issued = TokenIssuer::new(SigningKey::hs256(SECRET).unwrap())
        .issue(&json!({"sub": "1"}))
        .unwrap();
    assert!(!format!("{issued:?}").contains(&issued.token));
}

#[derive(Clone, Deserialize)]
struct Claims {
    sub: String,
}

#[tokio::test]
async fn tokens_from_the_issuer_pass_a_layer_with_matching_rules_for_every_algorithm() {
    let cases = [
        (Algorithm::RS256, "rsa"),
        (Algorithm::PS512, "rsa"),
        (Algorithm::ES256, "ec256"),
        (Algorithm::ES384, "ec384"),
        (Algorithm::EdDSA, "ed25519"),
    ];
    for (alg, name) in cases {
        let issuer =
            TokenIssuer::new(SigningKey::from_pem(pem(&format!("{name}_private")), alg).unwrap())
                .issuer("https://auth.example")
                .audience(["orders"])
                .token_type(TokenType::header("at+jwt"));
        let layer = JwtLayer::<Claims>::new(
            VerifyingKey::from_pem(pem(&format!("{name}_public")), alg).unwrap(),
        )
        .issuer("https://auth.example")
        .audience("orders")
        .token_type(TokenType::header("at+jwt"))
        .require_claims(["jti", "iat", "sub"]);
        let app = Router::new()
            .route(
                "/",
                get(|Auth(c): Auth<Claims>| async move { Json(json!({"sub": c.sub})) }),
            )
            .layer(layer);
        let token = issuer.issue(&json!({"sub": "7"})).unwrap().token;
        let reply = with_bearer(&app, &token).await;
        assert_eq!(reply.status, StatusCode::OK, "{alg:?}");
        assert_eq!(reply.body, json!({"sub": "7"}));
    }
}
