//! Several keys chosen by `kid`, JWKS documents read and published.

use crate::common;

use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use common::keys::{signing_key, verifying_key};
use common::*;
use serde::Deserialize;
use serde_json::{Value, json};
use tower_jwt_auth::clock::ManualClock;
use tower_jwt_auth::keys::{KeyError, PublicJwks};
use tower_jwt_auth::{Algorithm, Auth, JwtLayer, KeySet, SigningKey, TokenIssuer, VerifyingKey};

#[derive(Clone, Deserialize)]
struct Claims {
    sub: String,
}

fn app(keys: KeySet) -> Router {
    Router::new()
        .route(
            "/",
            get(|Auth(c): Auth<Claims>| async move { Json(json!({"sub": c.sub})) }),
        )
        .layer(JwtLayer::<Claims>::new(keys).clock(ManualClock::new(NOW)))
}

const KEYS: [(Algorithm, &str, &str); 4] = [
    (Algorithm::RS256, "rsa", "k-rsa"),
    (Algorithm::ES256, "ec256", "k-ec256"),
    (Algorithm::ES384, "ec384", "k-ec384"),
    (Algorithm::EdDSA, "ed25519", "k-ed"),
];

fn set() -> KeySet {
    KeySet::new(KEYS.map(|(alg, name, kid)| verifying_key(name, alg, kid)))
}

fn mint(key: SigningKey) -> String {
    TokenIssuer::new(key)
        .clock(ManualClock::new(NOW))
        .issue(&json!({"sub": "1"}))
        .unwrap()
        .token
}

/// A token with exactly this header, signed by `key`.
fn with_header(header: Value, alg: Algorithm, name: &str) -> String {
    jsonwebtoken_ready();
    let message = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims().to_string().as_bytes())
    );
    let key = match alg {
        Algorithm::RS256 => {
            jsonwebtoken::EncodingKey::from_rsa_pem(&pem(&format!("{name}_private")))
        }
        Algorithm::EdDSA => {
            jsonwebtoken::EncodingKey::from_ed_pem(&pem(&format!("{name}_private")))
        }
        _ => jsonwebtoken::EncodingKey::from_ec_pem(&pem(&format!("{name}_private"))),
    }
    .unwrap();
    format!(
        "{message}.{}",
        jsonwebtoken::crypto::sign(message.as_bytes(), &key, alg).unwrap()
    )
}

#[tokio::test]
async fn the_kid_picks_the_key_of_each_token() {
    let app = app(set());
    for (alg, name, kid) in KEYS {
        let reply = with_bearer(&app, &mint(signing_key(name, alg, kid))).await;
        assert_eq!(reply.status, StatusCode::OK, "{kid}");
    }
}

#[tokio::test]
async fn a_kid_naming_a_key_of_another_algorithm_is_refused() {
    // Signed with the ES256 key but naming the RSA key's kid.
    let token = with_header(
        json!({"alg": "ES256", "kid": "k-rsa"}),
        Algorithm::ES256,
        "ec256",
    );
    assert_eq!(
        with_bearer(&app(set()), &token).await.description(),
        "algorithm not allowed"
    );
}

#[tokio::test]
async fn an_unknown_kid_is_refused() {
    let token = with_header(
        json!({"alg": "ES256", "kid": "k-gone"}),
        Algorithm::ES256,
        "ec256",
    );
    assert_eq!(
        with_bearer(&app(set()), &token).await.description(),
        "unknown signing key"
    );
}

#[tokio::test]
async fn a_token_without_kid_passes_only_when_exactly_one_key_fits() {
    let token = with_header(json!({"alg": "ES256"}), Algorithm::ES256, "ec256");
    assert_accepted(&app(set()), &token).await;
    let two_ec256 = set().with(verifying_key("ec256", Algorithm::ES256, "k-ec256-next"));
    assert_eq!(
        with_bearer(&app(two_ec256), &token).await.description(),
        "unknown signing key"
    );
    let no_ed = with_header(json!({"alg": "PS256"}), Algorithm::RS256, "rsa");
    assert_eq!(
        with_bearer(&app(set()), &no_ed).await.description(),
        "algorithm not allowed"
    );
}

#[tokio::test]
async fn hs256_signed_with_any_public_key_is_refused_by_the_set() {
    for (_, name, kid) in KEYS {
        let public = pem(&format!("{name}_public"));
        for header in [json!({"alg": "HS256", "kid": kid}), json!({"alg": "HS256"})] {
            let forged = hs256_token(&header, &claims(), &public);
            let reply = with_bearer(&app(set()), &forged).await;
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{kid}");
            assert_eq!(
                reply.description(),
                "algorithm not allowed",
                "{kid} {header}"
            );
        }
    }
}

#[tokio::test]
async fn a_published_jwks_verifies_the_issuers_tokens() {
    let signers = KEYS.map(|(alg, name, kid)| signing_key(name, alg, kid));
    let jwks = PublicJwks::new(&signers).unwrap();
    let document: Value = serde_json::from_slice(jwks.json()).unwrap();
    for key in document["keys"].as_array().unwrap() {
        assert_eq!(key["use"], "sig");
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(
                key.get(private).is_none(),
                "private part {private} published: {key}"
            );
        }
    }
    let keys = KeySet::from_jwks(jwks.json()).unwrap();
    assert_eq!(
        keys.kids().collect::<Vec<_>>(),
        ["k-rsa", "k-ec256", "k-ec384", "k-ed"]
    );
    let app = app(keys);
    for signer in signers {
        assert_accepted(&app, &mint(signer)).await;
    }
}

#[test]
fn the_jwks_response_is_cacheable_json() {
    let jwks = PublicJwks::new([&signing_key("ec256", Algorithm::ES256, "k1")])
        .unwrap()
        .max_age(60);
    let response = jwks.to_response();
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.headers()["cache-control"], "public, max-age=60");
}

#[test]
fn hmac_secrets_are_never_published() {
    let err = PublicJwks::new([&SigningKey::hs256(SECRET).unwrap()]).unwrap_err();
    assert_eq!(err, KeyError::NotPublishable);
}

#[test]
fn jwks_reading_skips_encryption_symmetric_and_mismatched_keys() {
    let ec = serde_json::to_value(
        signing_key("ec256", Algorithm::ES256, "good")
            .public_jwk()
            .unwrap(),
    )
    .unwrap();
    let mut enc = ec.clone();
    enc["use"] = json!("enc");
    enc["kid"] = json!("enc");
    let mut wrong_alg = ec.clone();
    wrong_alg["alg"] = json!("RS256");
    wrong_alg["kid"] = json!("wrong-alg");
    let mut wrong_curve = ec.clone();
    wrong_curve["alg"] = json!("ES384");
    wrong_curve["kid"] = json!("wrong-curve");
    let oct = json!({"kty": "oct", "k": b64(SECRET), "kid": "oct", "alg": "HS256"});
    let mut no_alg = ec.clone();
    no_alg.as_object_mut().unwrap().remove("alg");
    no_alg["kid"] = json!("implied");
    let document = json!({"keys": [ec, enc, wrong_alg, wrong_curve, oct, no_alg]});
    let keys = KeySet::from_jwks(document.to_string().as_bytes()).unwrap();
    assert_eq!(keys.kids().collect::<Vec<_>>(), ["good", "implied"]);
}

#[test]
fn a_jwks_without_usable_keys_or_not_a_jwks_is_an_error() {
    assert_eq!(
        KeySet::from_jwks(b"{\"keys\":[]}").unwrap_err(),
        KeyError::NoUsableKey
    );
    let oct = json!({"keys": [{"kty": "oct", "k": b64(SECRET)}]});
    assert_eq!(
        KeySet::from_jwks(oct.to_string().as_bytes()).unwrap_err(),
        KeyError::NoUsableKey
    );
    assert_eq!(
        KeySet::from_jwks(b"not json").unwrap_err(),
        KeyError::InvalidJwks
    );
}

#[test]
fn a_small_rsa_jwk_is_refused() {
    // A 1024-bit modulus (the test-only key in tests/keys/rsa1024_public.pem), as a JWK.
    let small = VerifyingKey::from_pem(pem("rsa1024_public"), Algorithm::RS256);
    assert!(matches!(
        small,
        Err(KeyError::RsaKeyTooSmall { bits: 1024 })
    ));
    let jwk = json!({"kty": "RSA", "alg": "RS256", "e": "AQAB", "n": b64(&[0xC5; 128])});
    let jwk = serde_json::from_value(jwk).unwrap();
    assert_eq!(
        VerifyingKey::from_jwk(&jwk).unwrap_err(),
        KeyError::RsaKeyTooSmall { bits: 1024 }
    );
}

#[test]
fn a_short_ed25519_key_or_a_jwk_not_for_verifying_is_refused() {
    let short = json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}]});
    assert_eq!(
        KeySet::from_jwks(short.to_string().as_bytes()).unwrap_err(),
        KeyError::NoUsableKey
    );
    assert!(VerifyingKey::from_der([0u8; 3], Algorithm::EdDSA).is_err());
    let short_ec = json!({"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"});
    assert!(VerifyingKey::from_jwk(&serde_json::from_value(short_ec).unwrap()).is_err());
    let mut encrypt_only = serde_json::to_value(
        signing_key("ec256", Algorithm::ES256, "k")
            .public_jwk()
            .unwrap(),
    )
    .unwrap();
    encrypt_only.as_object_mut().unwrap().remove("use");
    encrypt_only["key_ops"] = json!(["encrypt"]);
    assert_eq!(
        VerifyingKey::from_jwk(&serde_json::from_value(encrypt_only.clone()).unwrap()).unwrap_err(),
        KeyError::UnsupportedJwk("its `key_ops` do not include `verify`")
    );
    encrypt_only["key_ops"] = json!(["verify"]);
    assert!(VerifyingKey::from_jwk(&serde_json::from_value(encrypt_only).unwrap()).is_ok());
}

#[tokio::test]
async fn one_kid_published_under_two_algorithms_picks_the_key_of_the_tokens_alg() {
    let keys = KeySet::new([
        VerifyingKey::hmac([7u8; 64], Algorithm::HS512)
            .unwrap()
            .with_kid("k"),
        VerifyingKey::hs256(SECRET).unwrap().with_kid("k"),
    ]);
    let token = hs256_token(&json!({"alg": "HS256", "kid": "k"}), &claims(), SECRET);
    assert_accepted(&app(keys), &token).await;
}
