//! The microservice demo as the README runs it: the issuer example signs tokens and serves its
//! JWKS and discovery document; the resource_server example verifies them from it.
#![cfg(feature = "jwks")]

use crate::common::jwks;
use crate::examples;

use std::time::{Duration, Instant};

use examples::Example;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tower_jwt_auth::keys::PublicJwks;
use tower_jwt_auth::{Algorithm, SigningKey, TokenIssuer, TokenType};

async fn token(issuer: &Example) -> String {
    let response = reqwest::Client::new()
        .post(issuer.url("/token"))
        .json(&json!({"username": "john", "password": "secret123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

async fn me(server: &Example, token: &str) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .get(server.url("/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn wait_ready(server: &Example) {
    let start = Instant::now();
    while reqwest::get(server.url("/ready")).await.unwrap().status() != StatusCode::OK {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "resource server never became ready"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn the_resource_server_verifies_the_issuers_tokens_by_discovery() {
    let issuer = Example::run("issuer", &[]);
    let server = Example::run(
        "resource_server",
        &[
            ("OIDC_ISSUER", issuer.url("").as_str()),
            ("JWT_AUDIENCE", "demo-api"),
        ],
    );
    wait_ready(&server).await;
    let (status, claims) = me(&server, &token(&issuer).await).await;
    assert_eq!(status, StatusCode::OK, "{claims}");
    assert_eq!(claims["sub"], "1");
    assert_eq!(claims["username"], "john");
    assert_eq!(claims["iss"], issuer.url(""));
    assert_eq!(claims["aud"], "demo-api");
}

#[tokio::test]
async fn the_resource_server_checks_issuer_and_audience_when_set() {
    let issuer = Example::run("issuer", &[]);
    let jwks = issuer.url("/.well-known/jwks.json");
    let wrong_aud = Example::run(
        "resource_server",
        &[("JWKS_URL", jwks.as_str()), ("JWT_AUDIENCE", "other-api")],
    );
    let wrong_iss = Example::run(
        "resource_server",
        &[
            ("JWKS_URL", jwks.as_str()),
            ("JWT_ISSUER", "https://elsewhere"),
        ],
    );
    // No audience configured: a token that names one was meant for another API.
    let open = Example::run("resource_server", &[("JWKS_URL", jwks.as_str())]);
    let any = Example::run(
        "resource_server",
        &[("JWKS_URL", jwks.as_str()), ("JWT_ANY_AUDIENCE", "true")],
    );
    let token = token(&issuer).await;
    for server in [&wrong_aud, &wrong_iss, &open, &any] {
        wait_ready(server).await;
    }
    assert_eq!(
        me(&wrong_aud, &token).await.1["error_description"],
        "invalid audience"
    );
    assert_eq!(
        me(&wrong_iss, &token).await.1["error_description"],
        "invalid issuer"
    );
    assert_eq!(
        me(&open, &token).await.1["error_description"],
        "invalid audience"
    );
    assert_eq!(me(&any, &token).await.0, StatusCode::OK);
}

/// Tokens of a provider that signs with the test EC key: an RFC 9068 access token and an
/// OpenID Connect ID token, both for the audience `demo-api`.
fn provider_tokens(key: SigningKey) -> (String, String) {
    let claims = json!({"sub": "1"});
    let issuer = TokenIssuer::new(key).audience("demo-api");
    let access = issuer
        .clone()
        .token_type(TokenType::header("at+jwt"))
        .issue(&claims)
        .unwrap();
    let id = issuer.issue(&claims).unwrap(); // `typ: JWT`, as ID tokens are
    (access.token, id.token)
}

// Two workers: `Example::run` blocks its thread until the example prints that it listens, and
// the example first waits (up to 3 s) for the keys of the provider this runtime serves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_resource_server_takes_access_tokens_and_refuses_id_tokens_by_default() {
    let pem = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/keys/ec256_private.pem"
    ))
    .unwrap();
    let key = SigningKey::from_pem(pem, Algorithm::ES256)
        .unwrap()
        .with_kid("k1");
    let provider =
        jwks::JwksProvider::start(PublicJwks::new([&key]).unwrap().json().to_vec()).await;
    let env = [
        ("JWKS_URL", provider.url()),
        ("JWT_AUDIENCE", "demo-api".into()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let strict = Example::run("resource_server", &env);
    let mut lenient_env = env.clone();
    lenient_env.push(("JWT_TYP", "any"));
    let lenient = Example::run("resource_server", &lenient_env);
    wait_ready(&strict).await;
    wait_ready(&lenient).await;
    let (access, id) = provider_tokens(key);
    assert_eq!(me(&strict, &access).await.0, StatusCode::OK);
    let (status, body) = me(&strict, &id).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error_description"], "wrong token type");
    assert_eq!(me(&lenient, &id).await.0, StatusCode::OK);
}

#[test]
fn the_resource_server_refuses_cache_settings_that_are_not_seconds() {
    let output = std::process::Command::new(examples::example_binary("resource_server"))
        .env("JWKS_URL", "http://127.0.0.1:9/jwks.json")
        .env("JWKS_CACHE_MIN_SECS", "soon")
        .env("BIND", "127.0.0.1:0")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("JWKS_CACHE_MIN_SECS"), "{stderr}");
}

#[tokio::test]
async fn tokens_from_another_issuer_instance_are_refused() {
    // Each issuer run generates its own key: the other one's tokens do not verify.
    let issuer = Example::run("issuer", &[]);
    let impostor = Example::run("issuer", &[]);
    let server = Example::run(
        "resource_server",
        &[("JWKS_URL", issuer.url("/.well-known/jwks.json").as_str())],
    );
    wait_ready(&server).await;
    let (status, body) = me(&server, &token(&impostor).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error_description"], "unknown signing key");
    assert_eq!(me(&server, "not-a-token").await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_resource_server_starts_while_the_provider_is_down_and_answers_503() {
    let server = Example::run(
        "resource_server",
        &[("JWKS_URL", "http://127.0.0.1:9/jwks.json")],
    );
    assert_eq!(
        reqwest::get(server.url("/ready")).await.unwrap().status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    let (status, body) = me(
        &server,
        "eyJhbGciOiJFUzI1NiJ9.eyJleHAiOjQxMDI0NDQ4MDB9.c2ln",
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["error"], "temporarily_unavailable");
}

#[test]
fn the_resource_server_needs_a_key_source() {
    let output = std::process::Command::new(examples::example_binary("resource_server"))
        .env_remove("JWKS_URL")
        .env_remove("OIDC_ISSUER")
        .env("BIND", "127.0.0.1:0")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("JWKS_URL"));
}
