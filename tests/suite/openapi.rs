//! The `utoipa` feature: a small axum app documented with utoipa's macros, its OpenAPI
//! document given the bearer JWT scheme and each route's scopes by `JwtSecurity` from the same
//! `Requirement` values the routes enforce (checked by requests), field by field.
#![cfg(all(feature = "utoipa", feature = "axum", feature = "test-util"))]

use crate::common;

use axum::Router;
use axum::http::{Method, StatusCode};
use axum::routing::{get, post};
use common::request;
use serde_json::{Value, json};
use tower_jwt_auth::openapi::JwtSecurity;
use tower_jwt_auth::test_util::TestKey;
use tower_jwt_auth::{JwtLayer, Requirement};
use utoipa::{Modify, OpenApi};

/// Lists the orders.
#[utoipa::path(get, path = "/orders", responses((status = 200, description = "The orders")))]
async fn list_orders() -> &'static str {
    "orders"
}

/// Places an order.
#[utoipa::path(post, path = "/orders", responses((status = 201, description = "Placed")))]
async fn place_order() -> StatusCode {
    StatusCode::CREATED
}

/// Whether the service is up.
#[utoipa::path(get, path = "/health", responses((status = 200, description = "Up")))]
async fn health() -> &'static str {
    "ok"
}

#[derive(OpenApi)]
#[openapi(paths(list_orders, place_order, health))]
struct ApiDoc;

#[tokio::test]
async fn the_document_holds_the_scheme_and_the_scopes_the_routes_enforce() {
    let read = Requirement::<Value>::scope("orders:read");
    let write = Requirement::<Value>::all_of([read.clone(), Requirement::scope("orders:write")]);
    let key = TestKey::hs256();
    let layer = JwtLayer::<Value>::new(key.verifying_key());
    let app = Router::new()
        .route(
            "/orders",
            // Each method behind its own requirement.
            get(list_orders)
                .route_layer(read.clone().layer())
                .merge(post(place_order).route_layer(write.clone().layer())),
        )
        .layer(layer.clone())
        .route("/health", get(health));

    let mut doc = ApiDoc::openapi();
    JwtSecurity::new("bearer_jwt")
        .description("An access token of auth.example.com")
        .require(Method::GET, "/orders", &read)
        .require(Method::POST, "/orders", &write)
        .apply(&mut doc)
        .unwrap();
    let doc = serde_json::to_value(&doc).unwrap();
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer_jwt"],
        json!({
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "An access token of auth.example.com",
        })
    );
    let orders = &doc["paths"]["/orders"];
    assert_eq!(
        orders["get"]["security"],
        json!([{"bearer_jwt": ["orders:read"]}])
    );
    assert_eq!(
        orders["post"]["security"],
        json!([{"bearer_jwt": ["orders:read", "orders:write"]}])
    );
    assert!(
        doc["paths"]["/health"]["get"].get("security").is_none(),
        "{doc}"
    );
    assert!(doc.get("security").is_none());

    // The same values enforce them.
    let token = |scope: &str| {
        let claims = json!({"sub": "1", "scope": scope});
        let tokens = key.issuer_for(&layer);
        format!("Bearer {}", tokens.issue(&claims).unwrap().token)
    };
    let reader = token("orders:read");
    let get_orders = request(&app, "/orders", &[("authorization", reader.as_str())]).await;
    assert_eq!(get_orders.status, StatusCode::OK);
    let post = |auth: String| {
        let app = app.clone();
        async move {
            let request = axum::http::Request::post("/orders")
                .header("authorization", auth)
                .body(axum::body::Body::empty())
                .unwrap();
            common::send(&app, request).await.status
        }
    };
    assert_eq!(post(reader.clone()).await, StatusCode::FORBIDDEN);
    assert_eq!(
        post(token("orders:read orders:write")).await,
        StatusCode::CREATED
    );
    assert_eq!(
        request(&app, "/orders", &[]).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(request(&app, "/health", &[]).await.status, StatusCode::OK);
}

#[test]
fn every_operation_can_be_secured_and_named_ones_keep_their_scopes() {
    let read = Requirement::<Value>::scope("orders:read");
    let mut doc = ApiDoc::openapi();
    JwtSecurity::new("jwt")
        .secure_every_operation()
        .require(Method::GET, "/orders", &read)
        .apply(&mut doc)
        .unwrap();
    let doc = serde_json::to_value(&doc).unwrap();
    assert_eq!(
        doc["paths"]["/orders"]["get"]["security"],
        json!([{"jwt": ["orders:read"]}])
    );
    assert_eq!(
        doc["paths"]["/orders"]["post"]["security"],
        json!([{"jwt": []}])
    );
    assert_eq!(
        doc["paths"]["/health"]["get"]["security"],
        json!([{"jwt": []}])
    );
}

#[test]
fn any_of_is_documented_as_alternatives() {
    let either = Requirement::<Value>::any_of([
        Requirement::scope("orders:write"),
        Requirement::all_of([
            Requirement::scope("orders:read"),
            Requirement::scope("admin"),
        ]),
    ]);
    let mut doc = ApiDoc::openapi();
    JwtSecurity::new("jwt")
        .require(Method::POST, "/orders", &either)
        .apply(&mut doc)
        .unwrap();
    let doc = serde_json::to_value(&doc).unwrap();
    assert_eq!(
        doc["paths"]["/orders"]["post"]["security"],
        json!([{"jwt": ["orders:write"]}, {"jwt": ["orders:read", "admin"]}])
    );
}

#[test]
fn a_route_the_document_lacks_is_an_error_not_a_public_route() {
    let write = Requirement::<Value>::scope("orders:write");
    let mut doc = ApiDoc::openapi();
    let before = serde_json::to_value(&doc).unwrap();
    let security = JwtSecurity::new("jwt").require(Method::DELETE, "/orders", &write);
    let missing = security.apply(&mut doc).unwrap_err();
    assert_eq!(
        (missing.method.clone(), missing.path.as_str()),
        (Some(Method::DELETE), "/orders")
    );
    assert_eq!(
        missing.to_string(),
        "the OpenAPI document has no `DELETE /orders`"
    );
    assert_eq!(
        serde_json::to_value(&doc).unwrap(),
        before,
        "nothing changed"
    );
    let typo = JwtSecurity::new("jwt").secure("/order");
    assert!(typo.apply(&mut doc).is_err());
    // As a utoipa `Modify`, the same error is a panic at start-up.
    let panicked = std::panic::catch_unwind(move || typo.modify(&mut ApiDoc::openapi()));
    assert!(panicked.is_err());
}
