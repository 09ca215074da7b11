//! Scopes, roles and predicates: 403 `insufficient_scope` for a valid token that lacks them.

use crate::common;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use common::*;
use serde::Deserialize;
use serde_json::{Value, json};
use tower_jwt_auth::authorize::HasRoles;
use tower_jwt_auth::clock::ManualClock;
use tower_jwt_auth::{Auth, JwtLayer, Requirement, VerifyingKey};

fn layer<C>() -> JwtLayer<C> {
    JwtLayer::new(VerifyingKey::hs256(SECRET).unwrap()).clock(ManualClock::new(NOW))
}

fn guarded(requirement: Requirement<Value>) -> Router {
    Router::new()
        .route("/", get(|| async { "ok" }))
        .route_layer(requirement.layer())
        .layer(layer::<Value>())
}

fn token_with(extra: Value) -> String {
    let mut claims = claims();
    for (k, v) in extra.as_object().unwrap() {
        claims[k] = v.clone();
    }
    hs256_token(&hs256_header(), &claims, SECRET)
}

#[tokio::test]
async fn a_missing_scope_is_403_insufficient_scope_naming_it() {
    let app = guarded(Requirement::scope("orders:write"));
    let reply = with_bearer(&app, &token_with(json!({"scope": "orders:read profile"}))).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(
        reply.www_authenticate(),
        r#"Bearer error="insufficient_scope", error_description="insufficient scope", scope="orders:write""#
    );
    assert_eq!(
        reply.body,
        json!({"error": "insufficient_scope", "error_description": "insufficient scope"})
    );
    let ok = with_bearer(
        &app,
        &token_with(json!({"scope": "orders:read orders:write"})),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK);
}

#[tokio::test]
async fn no_token_or_a_bad_token_is_still_401_not_403() {
    let app = guarded(Requirement::scope("orders:write"));
    assert_eq!(
        request(&app, "/", &[]).await.status,
        StatusCode::UNAUTHORIZED
    );
    let forged = hs256_token(
        &hs256_header(),
        &json!({"exp": NOW + 60, "scope": "orders:write"}),
        b"another-secret-of-at-least-32-bytes",
    );
    assert_eq!(
        with_bearer(&app, &forged).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn scopes_and_roles_are_read_from_every_usual_claim() {
    let cases = [
        (
            Requirement::scope("read"),
            json!({"scope": "write read"}),
            true,
        ),
        (
            Requirement::scope("read"),
            json!({"scope": "reader"}),
            false,
        ),
        (Requirement::scope("read"), json!({"scp": ["read"]}), true),
        (Requirement::scope("read"), json!({"scp": "read"}), true),
        (
            Requirement::scope("read"),
            json!({"permissions": ["read"]}),
            true,
        ),
        (
            Requirement::role("admin"),
            json!({"roles": ["user", "admin"]}),
            true,
        ),
        (
            Requirement::role("admin"),
            json!({"realm_access": {"roles": ["admin"]}}),
            true,
        ),
        (Requirement::role("admin"), json!({"roles": "admin"}), false),
        (Requirement::role("admin"), json!({"scope": "admin"}), false),
    ];
    for (requirement, extra, allowed) in cases {
        let reply = with_bearer(&guarded(requirement.clone()), &token_with(extra.clone())).await;
        let expected = if allowed {
            StatusCode::OK
        } else {
            StatusCode::FORBIDDEN
        };
        assert_eq!(reply.status, expected, "{requirement:?} with {extra}");
    }
}

#[tokio::test]
async fn requirements_compose_with_all_of_and_any_of() {
    let all = || Requirement::all_of([Requirement::scope("a"), Requirement::scope("b")]);
    let any = || Requirement::any_of([Requirement::role("admin"), Requirement::scope("c")]);
    let nested = || Requirement::all_of([all(), any()]);
    let table = [
        (all(), json!({"scope": "a b"}), StatusCode::OK),
        (all(), json!({"scope": "a"}), StatusCode::FORBIDDEN),
        (any(), json!({"scope": "c"}), StatusCode::OK),
        (any(), json!({"roles": ["admin"]}), StatusCode::OK),
        (any(), json!({"scope": "a b"}), StatusCode::FORBIDDEN),
        (nested(), json!({"scope": "a b c"}), StatusCode::OK),
        (
            nested(),
            json!({"scope": "a b", "roles": ["admin"]}),
            StatusCode::OK,
        ),
        (nested(), json!({"scope": "a c"}), StatusCode::FORBIDDEN),
    ];
    for (requirement, extra, status) in table {
        let reply = with_bearer(&guarded(requirement.clone()), &token_with(extra.clone())).await;
        assert_eq!(reply.status, status, "{requirement:?} with {extra}");
    }
    let reply = with_bearer(&guarded(all()), &token_with(json!({"scope": "a"}))).await;
    assert!(
        reply.www_authenticate().ends_with(r#"scope="a b""#),
        "{}",
        reply.www_authenticate()
    );
}

#[derive(Clone, Deserialize)]
struct Claims {
    tenant: String,
    groups: Vec<String>,
}

impl HasRoles for Claims {
    fn has_role(&self, role: &str) -> bool {
        self.groups.iter().any(|g| g == role)
    }
}

#[tokio::test]
async fn typed_claims_use_their_own_grants_and_predicates() {
    let acme = Requirement::predicate("tenant:acme", |c: &Claims| c.tenant == "acme");
    let app = Router::new()
        .route("/", get(|| async { "ok" }))
        .route_layer(Requirement::all_of([acme, Requirement::role("ops")]).layer())
        .layer(layer::<Claims>());
    let ok = token_with(json!({"tenant": "acme", "groups": ["ops"]}));
    assert_accepted(&app, &ok).await;
    let other = token_with(json!({"tenant": "globex", "groups": ["ops"]}));
    assert_eq!(
        with_bearer(&app, &other).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_handler_can_check_a_requirement_itself() {
    async fn delete(auth: Auth<Value>) -> Result<&'static str, tower_jwt_auth::AuthError> {
        auth.require(&Requirement::scope("orders:delete"))?;
        Ok("deleted")
    }
    let app = Router::new()
        .route("/", get(delete))
        .layer(layer::<Value>());
    let reply = with_bearer(&app, &token_with(json!({"scope": "orders:read"}))).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(
        reply
            .www_authenticate()
            .contains(r#"scope="orders:delete""#)
    );
    let reply = with_bearer(&app, &token_with(json!({"scope": "orders:delete"}))).await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn grpc_calls_get_permission_denied() {
    let app = guarded(Requirement::scope("orders:write"));
    let token = token_with(json!({"scope": "orders:read"}));
    let reply = request(
        &app,
        "/",
        &[
            ("authorization", &format!("Bearer {token}")),
            ("content-type", "application/grpc"),
        ],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.headers["grpc-status"], "7");
    assert_eq!(reply.headers["grpc-message"], "insufficient scope");
}

#[tokio::test]
async fn a_requirement_without_a_jwt_layer_is_a_500_saying_only_that() {
    let app = Router::new()
        .route("/", get(|| async { "ok" }))
        .route_layer(Requirement::<Value>::scope("x").layer());
    let reply = with_bearer(&app, &token_with(json!({"scope": "x"}))).await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(reply.body, json!("authentication layer missing"));
}

#[tokio::test]
async fn behind_an_optional_layer_an_anonymous_request_is_401() {
    let app = Router::new()
        .route("/", get(|| async { "ok" }))
        .route_layer(Requirement::<Value>::scope("x").layer())
        .layer(layer::<Value>().allow_anonymous(true));
    let reply = request(&app, "/", &[]).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.www_authenticate(), "Bearer");
}

#[tokio::test]
async fn a_require_layer_takes_its_own_realm_and_error_page() {
    let with_realm = Router::new()
        .route("/", get(|| async { "ok" }))
        .route_layer(
            Requirement::<Value>::role("admin")
                .layer()
                .realm("admin-area"),
        )
        .layer(layer::<Value>());
    let reply = with_bearer(&with_realm, &token_with(json!({"roles": ["user"]}))).await;
    assert!(
        reply
            .www_authenticate()
            .starts_with(r#"Bearer realm="admin-area", error="insufficient_scope""#)
    );

    let page = Requirement::<Value>::role("admin").layer().on_error(|err| {
        let mut response =
            axum::http::Response::new(bytes::Bytes::from_static(b"<h1>Admins only</h1>"));
        *response.status_mut() = err.error.status();
        response
    });
    let app = Router::new()
        .route("/", get(|| async { "ok" }))
        .route_layer(page)
        .layer(layer::<Value>());
    let reply = with_bearer(&app, &token_with(json!({"roles": ["user"]}))).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.body, json!("<h1>Admins only</h1>"));
}
