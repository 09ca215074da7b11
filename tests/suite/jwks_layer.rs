//! `JwtLayer` over a remote JWKS served by a real HTTP server on loopback: every algorithm,
//! rotation, unknown-`kid` floods, outages, discovery and several issuers.
#![cfg(feature = "jwks")]

use crate::common;

use std::time::Duration;

use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use common::jwks::JwksProvider;
use common::keys::{jwks_document, signing_key};
use common::*;
use serde_json::{Value, json};
use tower_jwt_auth::clock::ManualClock;
use tower_jwt_auth::keys::TrustedIssuer;
use tower_jwt_auth::test_util::MockProvider;
use tower_jwt_auth::{Algorithm, Auth, JwtLayer, RemoteJwks, SigningKey, TokenIssuer};

fn token(signer: &SigningKey, claims: Value) -> String {
    TokenIssuer::new(signer.clone())
        .clock(ManualClock::new(NOW))
        .issue(&claims)
        .unwrap()
        .token
}

fn app(keys: RemoteJwks) -> Router {
    let layer = JwtLayer::<Value>::new(keys).clock(ManualClock::new(NOW));
    Router::new()
        .route(
            "/",
            get(|Auth(c): Auth<Value>| async move { Json(json!({"sub": c["sub"]})) }),
        )
        .layer(layer)
}

const ALL: [(Algorithm, &str); 9] = [
    (Algorithm::RS256, "rsa"),
    (Algorithm::RS384, "rsa"),
    (Algorithm::RS512, "rsa"),
    (Algorithm::PS256, "rsa"),
    (Algorithm::PS384, "rsa"),
    (Algorithm::PS512, "rsa"),
    (Algorithm::ES256, "ec256"),
    (Algorithm::ES384, "ec384"),
    (Algorithm::EdDSA, "ed25519"),
];

fn all_keys() -> Vec<SigningKey> {
    ALL.iter()
        .map(|(alg, name)| signing_key(name, *alg, &format!("{alg:?}")))
        .collect()
}

#[tokio::test]
async fn every_algorithm_verifies_through_the_remote_jwks() {
    let keys = all_keys();
    let server = JwksProvider::start(jwks_document(&keys)).await;
    let app = app(RemoteJwks::new(&server.url()).unwrap());
    for signer in &keys {
        let reply = with_bearer(&app, &token(signer, json!({"sub": "1"}))).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "{:?}: {:?}",
            signer.algorithm(),
            reply.body
        );
    }
    assert_eq!(server.hits(), 1, "one fetch serves every request");
}

#[tokio::test]
async fn hs256_signed_with_a_published_public_key_is_refused_for_every_key_type() {
    let keys = all_keys();
    let server = JwksProvider::start(jwks_document(&keys)).await;
    let app = app(RemoteJwks::new(&server.url()).unwrap());
    for (alg, name) in ALL {
        let public = pem(&format!("{name}_public"));
        let forged = hs256_token(
            &json!({"alg": "HS256", "kid": format!("{alg:?}")}),
            &claims(),
            &public,
        );
        assert_eq!(
            with_bearer(&app, &forged).await.description(),
            "algorithm not allowed",
            "{alg:?}"
        );
    }
}

#[tokio::test]
async fn a_rotated_key_is_picked_up_and_the_retired_one_refused() {
    let old = signing_key("ec256", Algorithm::ES256, "2026-10");
    let new = signing_key("ed25519", Algorithm::EdDSA, "2026-11");
    let server = JwksProvider::start(jwks_document([&old])).await;
    let app = app(RemoteJwks::new(&server.url()).unwrap());
    assert_accepted(&app, &token(&old, json!({"sub": "1"}))).await;

    server.set_document(jwks_document([&new]));
    // An unknown kid triggers a refetch at once: the new key works on its first token.
    assert_accepted(&app, &token(&new, json!({"sub": "2"}))).await;
    assert_eq!(
        with_bearer(&app, &token(&old, json!({"sub": "1"})))
            .await
            .description(),
        "unknown signing key"
    );
}

#[tokio::test]
async fn a_flood_of_unknown_kids_fetches_a_bounded_number_of_times() {
    let signer = signing_key("ec256", Algorithm::ES256, "known");
    let server = JwksProvider::start(jwks_document([&signer])).await;
    let app = app(RemoteJwks::new(&server.url()).unwrap());
    assert_accepted(&app, &token(&signer, json!({"sub": "1"}))).await;
    let before = server.hits();
    let mut requests = Vec::new();
    for i in 0..200 {
        let app = app.clone();
        let forged = token(
            &signing_key("ec256", Algorithm::ES256, &format!("random-{i}")),
            json!({"sub": "x"}),
        );
        requests.push(tokio::spawn(async move {
            with_bearer(&app, &forged).await.status
        }));
    }
    for request in requests {
        assert_eq!(request.await.unwrap(), StatusCode::UNAUTHORIZED);
    }
    assert!(
        server.hits() - before <= 1,
        "{} fetches for 200 unknown kids",
        server.hits() - before
    );
}

#[tokio::test]
async fn cached_keys_keep_working_while_the_provider_is_down() {
    let signer = signing_key("ec256", Algorithm::ES256, "k1");
    let server = JwksProvider::start(jwks_document([&signer])).await;
    let app = app(RemoteJwks::new(&server.url()).unwrap());
    assert_accepted(&app, &token(&signer, json!({"sub": "1"}))).await;
    server.set_up(false);
    // An unknown kid makes it try the provider, which fails: the cache must survive that.
    let stranger = signing_key("ec256", Algorithm::ES256, "k2");
    assert_eq!(
        with_bearer(&app, &token(&stranger, json!({"sub": "1"})))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_accepted(&app, &token(&signer, json!({"sub": "1"}))).await;
}

#[tokio::test]
async fn no_keys_at_all_is_503_never_an_accepted_token_and_recovers() {
    let signer = signing_key("ec256", Algorithm::ES256, "k1");
    let server = JwksProvider::start(jwks_document([&signer])).await;
    server.set_up(false);
    let remote = RemoteJwks::builder(&server.url())
        .refetch_cooldown(Duration::from_millis(50))
        .build()
        .unwrap();
    let app = app(remote.clone());
    let reply = with_bearer(&app, &token(&signer, json!({"sub": "1"}))).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(reply.body["error_description"], "signing keys unavailable");
    // A forged token is never accepted either.
    let forged = hs256_token(
        &json!({"alg": "HS256", "kid": "k1"}),
        &claims(),
        &pem("ec256_public"),
    );
    assert_ne!(with_bearer(&app, &forged).await.status, StatusCode::OK);

    server.set_up(true);
    remote.ready(Duration::from_secs(10)).await.unwrap();
    assert_accepted(&app, &token(&signer, json!({"sub": "1"}))).await;
}

#[tokio::test]
async fn discovery_validates_iss_against_the_discovered_issuer() {
    let idp = MockProvider::start().await.unwrap();
    let app = app(RemoteJwks::discover(idp.issuer()).unwrap());
    let at = |iss: &str| json!({"sub": "1", "iat": NOW, "exp": NOW + 900, "iss": iss});
    // `token` names the provider as `iss`; a claim given to it wins.
    assert_accepted(&app, &idp.token(&at(idp.issuer()))).await;
    let other = idp.token(&at("https://evil.example"));
    assert_eq!(
        with_bearer(&app, &other).await.description(),
        "invalid issuer"
    );
    let none = token(&idp.signing_key(), json!({"sub": "1"}));
    assert_eq!(
        with_bearer(&app, &none).await.description(),
        "missing required claim"
    );
}

#[tokio::test]
async fn a_discovery_document_naming_another_issuer_is_never_trusted() {
    let signer = signing_key("ec256", Algorithm::ES256, "k1");
    let server = JwksProvider::start(jwks_document([&signer])).await;
    server.set_issuer("https://impostor.example");
    let issuer = server.realm();
    let remote = RemoteJwks::discover(&issuer).unwrap();
    assert!(remote.ready(Duration::from_millis(500)).await.is_err());
    let app = app(remote);
    let reply = with_bearer(&app, &token(&signer, json!({"sub": "1", "iss": issuer}))).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        server.hits(),
        0,
        "the JWKS of a mismatched issuer is not even fetched"
    );
}

#[tokio::test]
async fn an_unknown_issuer_never_triggers_a_fetch() {
    let signer = signing_key("ec256", Algorithm::ES256, "k1");
    let server = JwksProvider::start(jwks_document([&signer])).await;
    let remote = RemoteJwks::new(&server.url()).unwrap();
    remote.ready(Duration::from_secs(5)).await.unwrap();
    let layer = JwtLayer::<Value>::for_issuers([TrustedIssuer::new("https://idp.example", remote)])
        .clock(ManualClock::new(NOW));
    let app = Router::new()
        .route("/", get(|Auth(_): Auth<Value>| async { "ok" }))
        .layer(layer);
    let before = server.hits();
    for i in 0..50 {
        let forged = token(
            &signing_key("ec256", Algorithm::ES256, &format!("kid-{i}")),
            json!({"iss": format!("https://x{i}.example")}),
        );
        assert_eq!(
            with_bearer(&app, &forged).await.description(),
            "invalid issuer"
        );
    }
    assert_eq!(server.hits(), before);
    let good = token(&signer, json!({"iss": "https://idp.example"}));
    assert_accepted(&app, &good).await;
}
