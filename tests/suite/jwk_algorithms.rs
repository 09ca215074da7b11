//! Which algorithms a provider's JWK serves, through a real loopback JWKS server: a JWK without
//! `alg` serves every algorithm of its key type and never another type's, `Ed25519` is EdDSA
//! (RFC 9864), `ES512` is refused with its own error, and a layer may narrow the list.
#![cfg(feature = "jwks")]

use crate::common;

use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use common::jwks::JwksProvider;
use common::keys::{jwks_document, signing_key};
use common::*;
use serde_json::{Value, json};
use tower_jwt_auth::clock::ManualClock;
use tower_jwt_auth::keys::KeyError;
use tower_jwt_auth::{Algorithm, Auth, JwtLayer, KeySet, RemoteJwks, SigningKey, TokenIssuer};

fn token(signer: &SigningKey) -> String {
    TokenIssuer::new(signer.clone())
        .clock(ManualClock::new(NOW))
        .issue(&json!({"sub": "1"}))
        .unwrap()
        .token
}

fn app(layer: JwtLayer<Value>) -> Router {
    Router::new()
        .route("/", get(|Auth(c): Auth<Value>| async move { Json(c) }))
        .layer(layer.clock(ManualClock::new(NOW)))
}

/// The JWKS of `keys` with each key's `alg` replaced by `alg` (removed when `None`).
fn document_with_alg(keys: &[SigningKey], alg: Option<&str>) -> Vec<u8> {
    let mut doc: Value = serde_json::from_slice(&jwks_document(keys)).unwrap();
    for key in doc["keys"].as_array_mut().unwrap() {
        let key = key.as_object_mut().unwrap();
        match alg {
            Some(alg) => key.insert("alg".into(), json!(alg)),
            None => key.remove("alg"),
        };
    }
    serde_json::to_vec(&doc).unwrap()
}

async fn remote(document: Vec<u8>) -> (JwksProvider, RemoteJwks) {
    let server = JwksProvider::start(document).await;
    let keys = RemoteJwks::new(&server.url()).unwrap();
    keys.ready(std::time::Duration::from_secs(5)).await.unwrap();
    (server, keys)
}

const RSA: [Algorithm; 6] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
];

#[tokio::test]
async fn an_rsa_jwk_without_alg_serves_every_rsa_algorithm_and_nothing_else() {
    let published = signing_key("rsa", Algorithm::RS256, "rsa-1");
    let (_server, keys) = remote(document_with_alg(&[published], None)).await;
    let app = app(JwtLayer::new(keys));
    for alg in RSA {
        assert_accepted(&app, &token(&signing_key("rsa", alg, "rsa-1"))).await;
    }
    // Another type's algorithm under the same kid, or an HMAC token keyed with the public key's
    // bytes (the HS/RS confusion): refused.
    let ec = signing_key("ec256", Algorithm::ES256, "rsa-1");
    assert_eq!(
        with_bearer(&app, &token(&ec)).await.description(),
        "algorithm not allowed"
    );
    let public_pem = pem("rsa_public");
    let confused = SigningKey::hmac(&public_pem, Algorithm::HS256)
        .unwrap()
        .with_kid("rsa-1");
    assert_eq!(
        with_bearer(&app, &token(&confused)).await.description(),
        "algorithm not allowed"
    );
    // The right key and algorithm, the claims changed after signing: refused.
    let good = token(&signing_key("rsa", Algorithm::PS256, "rsa-1"));
    let mut parts: Vec<&str> = good.split('.').collect();
    let tampered = b64(json!({"sub": "admin", "exp": NOW + 900})
        .to_string()
        .as_bytes());
    parts[1] = &tampered;
    assert_eq!(
        with_bearer(&app, &parts.join(".")).await.description(),
        "invalid signature"
    );
}

#[tokio::test]
async fn a_layer_can_narrow_what_an_alg_less_key_serves() {
    let published = signing_key("rsa", Algorithm::RS256, "rsa-1");
    let (_server, keys) = remote(document_with_alg(&[published], None)).await;
    let app = app(JwtLayer::new(keys).algorithms([Algorithm::PS256]));
    assert_accepted(&app, &token(&signing_key("rsa", Algorithm::PS256, "rsa-1"))).await;
    for alg in [Algorithm::RS256, Algorithm::PS384] {
        let reply = with_bearer(&app, &token(&signing_key("rsa", alg, "rsa-1"))).await;
        assert_eq!(reply.description(), "algorithm not allowed", "{alg:?}");
    }
}

#[tokio::test]
async fn an_ec_jwk_without_alg_serves_the_es_algorithm_of_its_curve_only() {
    let published = signing_key("ec256", Algorithm::ES256, "ec-1");
    let (_server, keys) = remote(document_with_alg(std::slice::from_ref(&published), None)).await;
    let app = app(JwtLayer::new(keys));
    assert_accepted(&app, &token(&published)).await;
    let p384 = signing_key("ec384", Algorithm::ES384, "ec-1");
    assert_eq!(
        with_bearer(&app, &token(&p384)).await.description(),
        "algorithm not allowed"
    );
}

/// A token whose header says `alg: Ed25519` (RFC 9864), signed with the Ed25519 test key.
fn ed25519_named_token(kid: &str) -> String {
    jsonwebtoken_ready();
    let header = json!({"alg": "Ed25519", "typ": "JWT", "kid": kid});
    let claims = json!({"sub": "1", "exp": NOW + 900});
    let message = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let key = jsonwebtoken::EncodingKey::from_ed_pem(&pem("ed25519_private")).unwrap();
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), &key, Algorithm::EdDSA).unwrap();
    format!("{message}.{signature}")
}

#[tokio::test]
async fn the_fully_specified_name_ed25519_is_eddsa_in_tokens_and_in_jwks() {
    let published = signing_key("ed25519", Algorithm::EdDSA, "ed-1");
    let (_server, keys) = remote(document_with_alg(
        std::slice::from_ref(&published),
        Some("Ed25519"),
    ))
    .await;
    let app = app(JwtLayer::new(keys));
    assert_accepted(&app, &token(&published)).await; // `alg: EdDSA`
    assert_accepted(&app, &ed25519_named_token("ed-1")).await; // `alg: Ed25519`
    // `Ed25519` names EdDSA over Ed25519 only: an RSA key published under it is not used.
    let rsa = signing_key("rsa", Algorithm::RS256, "rsa-1");
    assert!(KeySet::from_jwks(&document_with_alg(&[rsa], Some("Ed25519"))).is_err());
    // A forged `Ed25519` token (signature of another message) is refused.
    let good = ed25519_named_token("ed-1");
    let (head, _) = good.rsplit_once('.').unwrap();
    let other = ed25519_named_token("ed-2");
    let forged = format!("{head}.{}", other.rsplit_once('.').unwrap().1);
    assert_eq!(
        with_bearer(&app, &forged).await.description(),
        "invalid signature"
    );
}

#[test]
fn es512_is_refused_with_its_own_error() {
    // A P-521 key (coordinates of the curve's generator point: a valid point, no one's key).
    let jwk = json!({"kty": "EC", "crv": "P-521", "alg": "ES512", "kid": "p521",
        "x": "AMaFrZ8vYMDz-NHR-ZUrBQVbSi1D8XLXgBldQmrfT7dv4bsYEPJYnX3H8rYkmTkg6EfyWZcQFo55Zzmv_7h6Bufl",
        "y": "ARg5KWYaxPrWTlRArFpqBm3tVhFc8ZpQuK2VQqRiBbNpSE1SMT9NHNLuNEU3PBRC4K0Jav5NYCs5enb-31rkJGZQ"});
    let jwks = serde_json::to_vec(&json!({"keys": [jwk.clone()]})).unwrap();
    assert_eq!(KeySet::from_jwks(&jwks).unwrap_err(), KeyError::NoUsableKey);
    let jwk = serde_json::from_value(jwk).unwrap();
    let err = tower_jwt_auth::VerifyingKey::from_jwk(&jwk).unwrap_err();
    assert!(matches!(err, KeyError::UnsupportedAlgorithm(_)), "{err:?}");
    // One unusable key does not cost the document its others.
    let ed = signing_key("ed25519", Algorithm::EdDSA, "ed-1");
    let mut doc: Value = serde_json::from_slice(&jwks_document(&[ed])).unwrap();
    doc["keys"]
        .as_array_mut()
        .unwrap()
        .push(json!({"kty": "EC", "crv": "P-521", "alg": "ES512"}));
    doc["keys"]
        .as_array_mut()
        .unwrap()
        .push(json!({"kty": "unheard-of"}));
    let keys = KeySet::from_jwks(&serde_json::to_vec(&doc).unwrap()).unwrap();
    assert_eq!(keys.kids().collect::<Vec<_>>(), ["ed-1"]);
}

#[tokio::test]
async fn every_alg_less_key_answers_200_and_no_other_status() {
    let published = [
        signing_key("rsa", Algorithm::RS256, "rsa-1"),
        signing_key("ec384", Algorithm::ES384, "ec-1"),
        signing_key("ed25519", Algorithm::EdDSA, "ed-1"),
    ];
    let (_server, keys) = remote(document_with_alg(&published, None)).await;
    let app = app(JwtLayer::new(keys));
    for (name, alg, kid) in [
        ("rsa", Algorithm::PS384, "rsa-1"),
        ("ec384", Algorithm::ES384, "ec-1"),
        ("ed25519", Algorithm::EdDSA, "ed-1"),
    ] {
        let reply = with_bearer(&app, &token(&signing_key(name, alg, kid))).await;
        assert_eq!(reply.status, StatusCode::OK, "{alg:?}: {:?}", reply.body);
    }
}
