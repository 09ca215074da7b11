//! Tokens minted by `TokenIssuer`: the claims and header it writes, and that a layer with
//! matching rules accepts them.

use crate::common;

use std::time::Duration;

use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use common::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tower_jwt_auth::clock::ManualClock;
use tower_jwt_auth::{Algorithm, Auth, JwtLayer, SigningKey, TokenIssuer, TokenType, VerifyingKey};

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
        .audience("orders")
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
        Err(tower_jwt_auth::tokens::IssueError::ClaimsNotAnObject)
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
                .audience("orders")
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

#[test]
fn audience_and_audiences_replace_what_was_set_before() {
    let key = || SigningKey::hs256(SECRET).unwrap();
    let aud = |issuer: TokenIssuer| {
        payload(&issuer.issue(&json!({"sub": "1"})).unwrap().token)["aud"].clone()
    };
    assert_eq!(
        aud(TokenIssuer::new(key())
            .audience("orders")
            .audience("billing")),
        "billing"
    );
    assert_eq!(
        aud(TokenIssuer::new(key())
            .audience("orders")
            .audiences(["billing", "reports"])),
        json!(["billing", "reports"])
    );
    assert_eq!(
        aud(TokenIssuer::new(key())
            .audiences(["billing", "reports"])
            .audience("orders")),
        "orders"
    );
    assert_eq!(aud(TokenIssuer::new(key()).audiences(["orders"])), "orders");
}
