//! The `Auth<C>` extractor: required, optional, and used where no layer runs.

use crate::common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use common::*;
use serde::Deserialize;
use serde_json::{Value, json};
use tower_jwt_auth::clock::ManualClock;
use tower_jwt_auth::{Auth, JwtLayer, VerifyingKey};

#[derive(Clone, Debug, Deserialize)]
struct Claims {
    sub: String,
}

#[derive(Clone, Debug, Deserialize)]
struct OtherClaims {
    #[allow(dead_code)]
    sub: String,
}

async fn required(Auth(claims): Auth<Claims>) -> Json<Value> {
    Json(json!({"sub": claims.sub}))
}

async fn optional(auth: Option<Auth<Claims>>) -> Json<Value> {
    Json(json!({"sub": auth.map(|Auth(c)| c.sub.clone())}))
}

fn layer() -> JwtLayer<Claims> {
    JwtLayer::new(VerifyingKey::hs256(SECRET).unwrap()).clock(ManualClock::new(NOW))
}

fn token() -> String {
    hs256_token(&hs256_header(), &claims(), SECRET)
}

#[tokio::test]
async fn optional_layer_lets_anonymous_requests_through_without_claims() {
    let app = Router::new()
        .route("/", get(optional))
        .layer(layer().allow_anonymous(true));
    let reply = request(&app, "/", &[]).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, json!({"sub": null}));
}

#[tokio::test]
async fn optional_layer_still_refuses_an_invalid_token() {
    let app = Router::new()
        .route("/", get(optional))
        .layer(layer().allow_anonymous(true));
    let forged = hs256_token(
        &hs256_header(),
        &claims(),
        b"another-secret-of-at-least-32-bytes",
    );
    let reply = with_bearer(&app, &forged).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.description(), "invalid signature");
}

#[tokio::test]
async fn optional_layer_hands_over_claims_of_a_valid_token() {
    let app = Router::new()
        .route("/", get(optional))
        .layer(layer().allow_anonymous(true));
    let reply = with_bearer(&app, &token()).await;
    assert_eq!(reply.body, json!({"sub": "1"}));
}

#[tokio::test]
async fn required_extractor_behind_an_optional_layer_answers_401_with_the_layer_challenge() {
    let app = Router::new()
        .route("/", get(required))
        .layer(layer().allow_anonymous(true).realm("api"));
    let reply = request(&app, "/", &[]).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.www_authenticate(), r#"Bearer realm="api""#);
    assert_eq!(with_bearer(&app, &token()).await.body, json!({"sub": "1"}));
}

#[tokio::test]
async fn extractor_without_layer_is_500_saying_only_that_the_layer_is_missing() {
    let app = Router::new().route("/", get(required));
    let reply = with_bearer(&app, &token()).await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(reply.headers["content-type"], "text/plain; charset=utf-8");
    // The type paths go to the log; the client learns nothing about the app's types.
    assert_eq!(reply.body, json!("authentication layer missing"));
}

#[tokio::test]
async fn optional_extractor_without_layer_is_500_too() {
    let app = Router::new().route("/", get(optional));
    let reply = request(&app, "/", &[]).await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn extractor_for_another_claims_type_than_the_layer_is_500() {
    async fn other(Auth(_): Auth<OtherClaims>) -> &'static str {
        "unreachable"
    }
    let app = Router::new()
        .route("/", get(other))
        .layer(layer().allow_anonymous(true));
    assert_eq!(
        request(&app, "/", &[]).await.status,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(
        with_bearer(&app, &token()).await.status,
        StatusCode::INTERNAL_SERVER_ERROR
    );
}

#[tokio::test]
async fn route_layer_leaves_public_routes_open() {
    let app = Router::new()
        .route("/private", get(required))
        .route_layer(layer())
        .route("/public", get(|| async { "open" }));
    assert_eq!(request(&app, "/public", &[]).await.status, StatusCode::OK);
    assert_eq!(
        request(&app, "/private", &[]).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        request(&app, "/missing", &[]).await.status,
        StatusCode::NOT_FOUND
    );
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn each_rejection_is_traced_with_its_reason_and_never_the_token() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let app = Router::new().route("/", get(required)).layer(layer());
    let forged = hs256_token(
        &hs256_header(),
        &claims(),
        b"another-secret-of-at-least-32-bytes",
    );
    with_bearer(&app, &forged).await;
    let mut expired = claims();
    expired["exp"] = json!(NOW - 3600);
    let expired = hs256_token(&hs256_header(), &expired, SECRET);
    with_bearer(&app, &expired).await;

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert_eq!(text.matches("request refused").count(), 2, "{text}");
    assert!(text.contains("invalid signature"), "{text}");
    assert!(text.contains("token expired"), "{text}");
    for token in [&forged, &expired] {
        for part in token.split('.') {
            assert!(
                !text.contains(part),
                "a token part leaked into the logs: {text}"
            );
        }
    }
    assert!(!text.contains(std::str::from_utf8(SECRET).unwrap()));
}
