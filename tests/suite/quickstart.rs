//! The quickstart example as a user runs it: the real binary, over a real TCP socket.

use crate::common;
use crate::examples as quickstart;

use std::process::Command;

use common::{b64, header, hs256_sign, hs256_token, payload};
use quickstart::{Quickstart, binary, get, login, post, tokens};
use reqwest::StatusCode;
use serde_json::{Value, json};

const SECRET: &str = "quickstart-test-secret-of-at-least-32-bytes";

#[tokio::test]
async fn login_returns_a_bearer_pair_with_the_tutorial_claims() {
    let app = Quickstart::start(Some(SECRET));
    let body = tokens(&app).await;
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 900);
    let access = body["access_token"].as_str().unwrap();
    let refresh = body["refresh_token"].as_str().unwrap();
    assert_eq!(header(access)["alg"], "HS256");
    let claims = payload(access);
    assert_eq!(claims["sub"], "1");
    assert_eq!(claims["username"], "john");
    assert_eq!(claims["type"], "access");
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        900
    );
    assert!(claims["jti"].as_str().is_some_and(|j| !j.is_empty()));
    let refresh_claims = payload(refresh);
    assert_eq!(refresh_claims["type"], "refresh");
    assert_eq!(refresh_claims["sub"], "1");
    assert_eq!(
        refresh_claims["exp"].as_u64().unwrap() - refresh_claims["iat"].as_u64().unwrap(),
        7 * 24 * 3600
    );
    assert_ne!(refresh_claims["jti"], claims["jti"]);
    // Signed with JWT_SECRET, as an independent HMAC implementation computes it.
    let (message, signature) = access.rsplit_once('.').unwrap();
    assert_eq!(hs256_sign(SECRET.as_bytes(), message), signature);
}

#[tokio::test]
async fn protected_and_profile_answer_with_the_callers_identity() {
    let app = Quickstart::start(Some(SECRET));
    let body = tokens(&app).await;
    let access = body["access_token"].as_str().unwrap();
    let (status, body, _) = get(&app, "/protected", Some(access)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"message": "Hello, john!", "user_id": "1"}));
    let (status, body, _) = get(&app, "/profile", Some(access)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"user_id": "1", "username": "john"}));
}

#[tokio::test]
async fn health_needs_no_token_and_protected_routes_do() {
    let app = Quickstart::start(Some(SECRET));
    assert_eq!(get(&app, "/health", None).await.0, StatusCode::OK);
    for path in ["/protected", "/profile"] {
        let (status, body, challenge) = get(&app, path, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(challenge, "Bearer");
        assert_eq!(body["error_description"], "no bearer token");
    }
}

#[tokio::test]
async fn the_refresh_token_is_refused_on_protected_routes() {
    let app = Quickstart::start(Some(SECRET));
    let body = tokens(&app).await;
    let refresh = body["refresh_token"].as_str().unwrap();
    for path in ["/protected", "/profile"] {
        let (status, body, challenge) = get(&app, path, Some(refresh)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            challenge,
            r#"Bearer error="invalid_token", error_description="wrong token type""#
        );
        assert_eq!(body["error"], "invalid_token");
    }
}

#[tokio::test]
async fn bad_credentials_are_401_without_tokens() {
    let app = Quickstart::start(Some(SECRET));
    for creds in [
        json!({"username": "john", "password": "wrong"}),
        json!({"username": "mallory", "password": "secret123"}),
    ] {
        let response = login(&app, creds).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let body: Value = response.json().await.unwrap();
        assert!(body.get("access_token").is_none());
    }
}

#[tokio::test]
async fn malformed_login_bodies_are_4xx() {
    let app = Quickstart::start(Some(SECRET));
    let client = reqwest::Client::new();
    let bodies = [
        ("application/json", "{\"username\":\"john\""),
        ("application/json", "{\"username\":\"john\"}"),
        ("application/json", "[]"),
        ("text/plain", "username=john&password=secret123"),
    ];
    for (content_type, body) in bodies {
        let response = client
            .post(app.url("/login"))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_client_error(),
            "{body}: {}",
            response.status()
        );
    }
}

#[tokio::test]
async fn a_token_made_by_another_implementation_with_the_same_secret_works() {
    let app = Quickstart::start(Some(SECRET));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = json!({"sub": "1", "username": "john", "iat": now, "exp": now + 900, "jti": "x1", "type": "access"});
    let token = hs256_token(
        &json!({"alg": "HS256", "typ": "JWT"}),
        &claims,
        SECRET.as_bytes(),
    );
    let (status, body, _) = get(&app, "/profile", Some(&token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"user_id": "1", "username": "john"}));
}

#[tokio::test]
async fn pyjwt_tokens_work_and_pyjwt_refresh_tokens_do_not() {
    let fixtures: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/pyjwt_tokens.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let app = Quickstart::start(fixtures["secret"].as_str());
    let (status, body, _) = get(&app, "/protected", fixtures["hs256_access"].as_str()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"message": "Hello, john!", "user_id": "1"}));
    let (status, _, challenge) = get(&app, "/protected", fixtures["hs256_refresh"].as_str()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(challenge.contains("wrong token type"));
    let (status, _, challenge) = get(&app, "/protected", fixtures["hs256_expired"].as_str()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(challenge.contains("token expired"));
}

#[tokio::test]
async fn a_forged_token_is_refused() {
    let app = Quickstart::start(Some(SECRET));
    let body = tokens(&app).await;
    let access = body["access_token"].as_str().unwrap();
    let parts: Vec<&str> = access.split('.').collect();
    let mut claims = payload(access);
    claims["sub"] = json!("2");
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        b64(claims.to_string().as_bytes()),
        parts[2]
    );
    let (status, _, challenge) = get(&app, "/profile", Some(&forged)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(challenge.contains("invalid signature"));
}

#[tokio::test]
async fn tokens_do_not_survive_a_restart_with_a_random_secret() {
    let first = Quickstart::start(None);
    let body = tokens(&first).await;
    drop(first);
    let second = Quickstart::start(None);
    let (status, _, _) = get(&second, "/profile", body["access_token"].as_str()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[test]
fn a_short_jwt_secret_stops_the_app_with_a_clear_error() {
    let output = Command::new(binary())
        .env("BIND", "127.0.0.1:0")
        .env("JWT_SECRET", "too-short")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("at least 32 bytes"), "{stderr}");
    assert!(
        !stderr.contains("too-short"),
        "the secret must not be printed: {stderr}"
    );
}

#[tokio::test]
async fn refresh_trades_a_refresh_token_for_a_new_pair_once() {
    let app = Quickstart::start(Some(SECRET));
    let first = tokens(&app).await;
    let (status, second, _) =
        post(&app, "/refresh", first["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(second["token_type"], "bearer");
    assert_eq!(second["expires_in"], 900);
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    let new_access = second["access_token"].as_str().unwrap();
    assert_eq!(
        get(&app, "/profile", Some(new_access)).await.1,
        json!({"user_id": "1", "username": "john"})
    );
    // The spent refresh token again: reuse, and the whole login dies.
    let (status, _, challenge) =
        post(&app, "/refresh", first["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(challenge.contains("invalid_token"), "{challenge}");
    assert_eq!(
        get(&app, "/profile", Some(new_access)).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, _, _) = post(&app, "/refresh", second["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_access_token_at_refresh_is_401() {
    let app = Quickstart::start(Some(SECRET));
    let body = tokens(&app).await;
    let (status, body, challenge) =
        post(&app, "/refresh", body["access_token"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        challenge,
        r#"Bearer error="invalid_token", error_description="wrong token type""#
    );
    assert!(body.get("access_token").is_none());
    let response = reqwest::Client::new()
        .post(app.url("/refresh"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn logout_refuses_that_access_token_and_its_refresh_token() {
    let app = Quickstart::start(Some(SECRET));
    let body = tokens(&app).await;
    let access = body["access_token"].as_str().unwrap();
    let response = reqwest::Client::new()
        .post(app.url("/logout"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let (status, _, challenge) = get(&app, "/profile", Some(access)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        challenge,
        r#"Bearer error="invalid_token", error_description="token revoked""#
    );
    let (status, _, _) = post(&app, "/refresh", body["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let response = reqwest::Client::new()
        .post(app.url("/logout"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn logout_of_a_token_minted_elsewhere_revokes_that_token() {
    let app = Quickstart::start(Some(SECRET));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = json!({"sub": "1", "username": "john", "iat": now, "exp": now + 900, "jti": "ext-1", "type": "access"});
    let token = hs256_token(
        &json!({"alg": "HS256", "typ": "JWT"}),
        &claims,
        SECRET.as_bytes(),
    );
    let response = reqwest::Client::new()
        .post(app.url("/logout"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        get(&app, "/profile", Some(&token)).await.0,
        StatusCode::UNAUTHORIZED
    );
}
