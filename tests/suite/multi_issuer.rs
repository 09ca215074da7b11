//! One layer, several issuers: each token is routed by its `iss` to that issuer's keys and
//! audiences before any key is looked up.

use crate::common;

use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use common::*;
use serde_json::{Value, json};
use tower_jwt_auth::clock::ManualClock;
use tower_jwt_auth::keys::TrustedIssuer;
use tower_jwt_auth::{Algorithm, Auth, JwtLayer, VerifyingKey};

const A: &str = "https://a.example";
const B: &str = "https://b.example/realms/demo";
const SECRET_B: &[u8] = b"the-b-issuer-secret-of-32-bytes-or-more";

fn app() -> Router {
    let layer = JwtLayer::<Value>::for_issuers([
        TrustedIssuer::new(
            A,
            VerifyingKey::from_pem(pem("ec256_public"), Algorithm::ES256).unwrap(),
        )
        .audience("orders"),
        TrustedIssuer::new(B, VerifyingKey::hs256(SECRET_B).unwrap()).audience("billing"),
    ])
    .clock(ManualClock::new(NOW));
    Router::new()
        .route(
            "/",
            get(|Auth(c): Auth<Value>| async move { Json(json!({"iss": c["iss"]})) }),
        )
        .layer(layer)
}

fn claims_for(iss: &str, aud: &str) -> Value {
    let mut claims = claims();
    claims["iss"] = json!(iss);
    claims["aud"] = json!(aud);
    claims
}

#[tokio::test]
async fn each_issuers_tokens_verify_with_that_issuers_keys() {
    let from_a = signed_token(Algorithm::ES256, "ec256_private", &claims_for(A, "orders"));
    let from_b = hs256_token(&hs256_header(), &claims_for(B, "billing"), SECRET_B);
    assert_eq!(with_bearer(&app(), &from_a).await.body, json!({"iss": A}));
    assert_eq!(with_bearer(&app(), &from_b).await.body, json!({"iss": B}));
}

#[tokio::test]
async fn a_token_claiming_one_issuer_signed_with_anothers_key_is_refused() {
    // Claims to come from A but is HMAC-signed with B's secret: A's key is ES256 only.
    let forged = hs256_token(&hs256_header(), &claims_for(A, "orders"), SECRET_B);
    assert_eq!(
        with_bearer(&app(), &forged).await.description(),
        "algorithm not allowed"
    );
}

#[tokio::test]
async fn audiences_are_per_issuer() {
    let wrong = hs256_token(&hs256_header(), &claims_for(B, "orders"), SECRET_B);
    assert_eq!(
        with_bearer(&app(), &wrong).await.description(),
        "invalid audience"
    );
}

#[tokio::test]
async fn unknown_or_missing_issuers_are_refused() {
    let unknown = hs256_token(
        &hs256_header(),
        &claims_for("https://evil.example", "billing"),
        SECRET_B,
    );
    let reply = with_bearer(&app(), &unknown).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.description(), "invalid issuer");
    let none = hs256_token(&hs256_header(), &claims(), SECRET_B);
    assert_eq!(
        with_bearer(&app(), &none).await.description(),
        "missing required claim"
    );
}

#[test]
#[should_panic(expected = "TrustedIssuer::audience")]
fn layer_wide_audience_on_a_multi_issuer_layer_is_a_build_error() {
    let _ = JwtLayer::<Value>::for_issuers([TrustedIssuer::new(
        A,
        VerifyingKey::hs256(SECRET_B).unwrap(),
    )])
    .audience("orders");
}

#[tokio::test]
async fn a_trusted_issuers_audience_replaces_the_one_before_and_audiences_accepts_each() {
    let app = |issuer: TrustedIssuer| {
        Router::new()
            .route("/", get(|| async { "ok" }))
            .layer(JwtLayer::<Value>::for_issuers([issuer]).clock(ManualClock::new(NOW)))
    };
    let key = || VerifyingKey::hs256(SECRET_B).unwrap();
    let token = |aud: &str| hs256_token(&hs256_header(), &claims_for(B, aud), SECRET_B);

    let replaced = app(TrustedIssuer::new(B, key())
        .audience("orders")
        .audience("billing"));
    assert_eq!(
        with_bearer(&replaced, &token("orders")).await.description(),
        "invalid audience"
    );
    assert_eq!(
        with_bearer(&replaced, &token("billing")).await.status,
        StatusCode::OK
    );

    let both = app(TrustedIssuer::new(B, key()).audiences(["orders", "billing"]));
    assert_eq!(
        with_bearer(&both, &token("orders")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        with_bearer(&both, &token("billing")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        with_bearer(&both, &token("reports")).await.description(),
        "invalid audience"
    );
}
