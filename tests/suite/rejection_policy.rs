//! One rejection policy: a `JwtLayer`'s `on_error` and realm answer every refusal made under it
//! (its own 401, a `RequireLayer`'s 403, a handler's `require()?` 403), keeping the RFC 6750
//! challenge unless the response opts out.

use crate::common;

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::routing::get;
use common::*;
use serde_json::{Value, json};
use tower_jwt_auth::clock::ManualClock;
use tower_jwt_auth::middleware::{ErrorContext, NoChallenge};
use tower_jwt_auth::{Auth, AuthError, JwtLayer, Requirement, VerifyingKey};

fn layer() -> JwtLayer<Value> {
    JwtLayer::new(VerifyingKey::hs256(SECRET).unwrap()).clock(ManualClock::new(NOW))
}

/// The app's own refusal page: plain text naming the error and the realm.
fn page(refused: ErrorContext<'_>) -> (StatusCode, String) {
    let realm = refused.realm.unwrap_or("-");
    let text = format!("refused in {realm}: {}", refused.error.description());
    (refused.error.status(), text)
}

fn token_with(extra: Value) -> String {
    let mut claims = claims();
    for (name, value) in extra.as_object().unwrap() {
        claims[name] = value.clone();
    }
    hs256_token(&hs256_header(), &claims, SECRET)
}

/// `/open` needs a token, `/admin` the `admin` role through a `RequireLayer`, `/write` the
/// `orders:write` scope through `require()?` in its handler.
fn app(layer: JwtLayer<Value>) -> Router {
    async fn write(auth: Auth<Value>) -> Result<&'static str, AuthError> {
        auth.require(&Requirement::scope("orders:write"))?;
        Ok("written")
    }
    let admin = Router::new()
        .route("/admin", get(|| async { "admin" }))
        .route_layer(Requirement::<Value>::role("admin").layer());
    Router::new()
        .route("/open", get(|| async { "open" }))
        .route("/write", get(write))
        .merge(admin)
        .layer(layer)
}

async fn get_with(app: &Router, uri: &str, token: Option<&str>) -> Reply {
    let bearer = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = bearer.iter().map(|b| ("authorization", &**b)).collect();
    request(app, uri, &headers).await
}

#[tokio::test]
async fn on_error_answers_the_layers_own_401_and_keeps_the_challenge() {
    let app = app(layer().realm("shop").on_error(page));
    let reply = get_with(&app, "/open", None).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.body, json!("refused in shop: no bearer token"));
    assert_eq!(reply.headers["content-type"], "text/plain; charset=utf-8");
    assert_eq!(reply.www_authenticate(), r#"Bearer realm="shop""#);
}

#[tokio::test]
async fn on_error_answers_a_require_layers_403_without_being_repeated_on_it() {
    let app = app(layer().realm("shop").on_error(page));
    let reply = get_with(
        &app,
        "/admin",
        Some(&token_with(json!({"roles": ["user"]}))),
    )
    .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.body, json!("refused in shop: insufficient scope"));
    assert_eq!(reply.headers["content-type"], "text/plain; charset=utf-8");
    assert_eq!(
        reply.www_authenticate(),
        r#"Bearer realm="shop", error="insufficient_scope", error_description="insufficient scope", scope="admin""#
    );
}

#[tokio::test]
async fn on_error_answers_a_handlers_require_403() {
    let app = app(layer().realm("shop").on_error(page));
    let token = token_with(json!({"scope": "orders:read"}));
    let reply = get_with(&app, "/write", Some(&token)).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.body, json!("refused in shop: insufficient scope"));
    assert!(
        reply
            .www_authenticate()
            .starts_with(r#"Bearer realm="shop", error="insufficient_scope""#),
        "{}",
        reply.www_authenticate()
    );
    assert!(
        reply
            .www_authenticate()
            .ends_with(r#"scope="orders:write""#)
    );
}

#[tokio::test]
async fn without_on_error_the_layers_realm_still_reaches_inner_refusals() {
    let app = app(layer().realm("shop"));
    let reply = get_with(&app, "/admin", Some(&token_with(json!({"roles": []})))).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.body["error"], "insufficient_scope");
    assert!(
        reply
            .www_authenticate()
            .starts_with(r#"Bearer realm="shop", error="insufficient_scope""#)
    );
}

#[tokio::test]
async fn granted_requests_pass_the_policy_untouched() {
    let app = app(layer().realm("shop").on_error(page));
    let token = token_with(json!({"roles": ["admin"], "scope": "orders:write"}));
    for (uri, body) in [
        ("/open", "open"),
        ("/admin", "admin"),
        ("/write", "written"),
    ] {
        let reply = get_with(&app, uri, Some(&token)).await;
        assert_eq!(reply.status, StatusCode::OK, "{uri}");
        assert_eq!(reply.body, json!(body), "{uri}");
        assert!(!reply.headers.contains_key("www-authenticate"), "{uri}");
    }
}

#[tokio::test]
async fn no_challenge_removes_the_challenge_on_purpose() {
    let hide = layer().on_error(|_| {
        let mut response = axum::http::Response::new(bytes::Bytes::from_static(b"not found"));
        *response.status_mut() = StatusCode::NOT_FOUND;
        response.extensions_mut().insert(NoChallenge);
        response
    });
    let app = app(hide);
    for uri in ["/open", "/admin", "/write"] {
        let token = token_with(json!({}));
        let token = (uri != "/open").then_some(token.as_str());
        let reply = get_with(&app, uri, token).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(reply.body, json!("not found"), "{uri}");
        assert!(!reply.headers.contains_key("www-authenticate"), "{uri}");
    }
}

#[tokio::test]
async fn a_response_with_its_own_challenge_keeps_it() {
    let own = layer().on_error(|refused: ErrorContext<'_>| {
        let mut headers = HeaderMap::new();
        headers.insert("www-authenticate", HeaderValue::from_static("Custom"));
        (refused.error.status(), headers, "no")
    });
    let reply = get_with(&app(own), "/open", None).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.www_authenticate(), "Custom");
}

#[tokio::test]
async fn a_bare_status_or_body_takes_the_refusals_status_and_challenge() {
    let status = app(layer().on_error(|_| StatusCode::IM_A_TEAPOT));
    let reply = get_with(&status, "/open", None).await;
    assert_eq!(reply.status, StatusCode::IM_A_TEAPOT);
    assert_eq!(reply.www_authenticate(), "Bearer");

    let body = app(layer().on_error(|_| "go away"));
    let reply = get_with(&body, "/admin", Some(&token_with(json!({})))).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.body, json!("go away"));
    assert!(
        reply
            .www_authenticate()
            .starts_with(r#"Bearer error="insufficient_scope""#)
    );
}

#[tokio::test]
async fn a_redirect_gets_no_challenge() {
    let login = layer().on_error(|_| {
        let mut headers = HeaderMap::new();
        headers.insert("location", HeaderValue::from_static("/login"));
        (StatusCode::SEE_OTHER, headers, "")
    });
    let reply = get_with(&app(login), "/open", None).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.headers["location"], "/login");
    assert!(!reply.headers.contains_key("www-authenticate"));
}

#[tokio::test]
async fn a_require_layer_with_its_own_page_keeps_it_under_the_layers_policy() {
    let own = Router::new()
        .route("/admin", get(|| async { "admin" }))
        .route_layer(
            Requirement::<Value>::role("admin")
                .layer()
                .on_error(|_| (StatusCode::FORBIDDEN, "admins only")),
        )
        .layer(layer().realm("shop").on_error(page));
    let reply = get_with(&own, "/admin", Some(&token_with(json!({})))).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.body, json!("admins only"));
    // The route's page has no realm of its own: its challenge names none.
    assert!(
        reply
            .www_authenticate()
            .starts_with(r#"Bearer error="insufficient_scope""#)
    );
}

#[tokio::test]
async fn grpc_calls_keep_their_grpc_status_under_on_error() {
    let app = app(layer().on_error(page));
    let token = format!("Bearer {}", token_with(json!({})));
    let grpc = [
        ("content-type", "application/grpc"),
        ("authorization", token.as_str()),
    ];
    let reply = request(&app, "/admin", &grpc).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.headers["grpc-status"], "7");
    let reply = request(&app, "/open", &grpc[..1]).await;
    assert_eq!(reply.headers["grpc-status"], "16");
}
