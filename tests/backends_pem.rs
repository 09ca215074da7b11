//! With both crypto backends on (`--all-features`, or feature unification in a larger app),
//! jsonwebtoken alone would panic on first use; making a key installs ours explicitly instead.
//! (Its own process: the provider is installed once per process, so the PEM path needs its own.)
#![cfg(all(feature = "aws_lc_rs", feature = "rust_crypto"))]

mod common;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use common::*;
use jsonwebtoken::crypto::CryptoProvider;
use tower_jwt_auth::clock::ManualClock;
use tower_jwt_auth::{Algorithm, Auth, JwtLayer, VerifyingKey};

#[tokio::test]
async fn both_backends_on_still_verify_pem_key_tokens_without_a_panic() {
    // The only test in this process: nothing has installed a provider yet.
    assert!(
        CryptoProvider::try_get_default().is_none(),
        "jsonwebtoken sees both backends"
    );
    let key = VerifyingKey::from_pem(pem("ec256_public"), Algorithm::ES256).unwrap();
    assert!(
        CryptoProvider::try_get_default().is_some(),
        "making a key installs a provider"
    );
    let app = Router::new()
        .route("/", get(|Auth(_): Auth<serde_json::Value>| async { "ok" }))
        .layer(JwtLayer::<serde_json::Value>::new(key).clock(ManualClock::new(NOW)));
    let reply = with_bearer(
        &app,
        &signed_token(Algorithm::ES256, "ec256_private", &claims()),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
}
