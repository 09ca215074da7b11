//! Presets against tokens shaped like each provider's, as their published documentation shows
//! them (header and claims; values made up, RS256 with the test key): the RFC 9068 access-token
//! profile, and `GrantPaths` for Keycloak, Amazon Cognito, Microsoft Entra ID and Auth0 with
//! the layer settings the README gives for each. Every provider's ID token (or another
//! client's token) is refused.
#![cfg(feature = "axum")]

use crate::common;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use common::{NOW, pem, request};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};
use tower_jwt_auth::authorize::GrantPaths;
use tower_jwt_auth::clock::ManualClock;
use tower_jwt_auth::{AuthError, JwtLayer, Requirement, TokenType, VerifyingKey};

/// A token with this `typ` header (none when `None`) and these claims, as the provider signs it.
fn token(typ: Option<&str>, claims: &Value) -> String {
    common::jsonwebtoken_ready();
    let header = Header {
        typ: typ.map(str::to_owned),
        kid: Some("provider-key-1".into()),
        ..Header::new(Algorithm::RS256)
    };
    let key = EncodingKey::from_rsa_pem(&pem("rsa_private")).unwrap();
    encode(&header, claims, &key).unwrap()
}

fn layer() -> JwtLayer<Value> {
    let key = VerifyingKey::from_pem(pem("rsa_public"), Algorithm::RS256).unwrap();
    JwtLayer::new(key).clock(ManualClock::new(NOW))
}

/// `/read` and `/admin`, each behind its requirement, under `layer`.
fn app(layer: JwtLayer<Value>, read: Requirement<Value>, admin: Requirement<Value>) -> Router {
    Router::new()
        .route("/read", get(|| async { "read" }).layer(read.layer()))
        .route("/admin", get(|| async { "admin" }).layer(admin.layer()))
        .layer(layer)
}

async fn status(app: &Router, path: &str, token: &str) -> StatusCode {
    let bearer = format!("Bearer {token}");
    request(app, path, &[("authorization", bearer.as_str())])
        .await
        .status
}

/// RFC 9068 §2.2's example access token (its claims, this test's times).
fn rfc9068_claims() -> Value {
    json!({
        "iss": "https://authorization-server.example.com/",
        "sub": "5ba552d67",
        "aud": "https://rs.example.com/",
        "exp": NOW + 300,
        "iat": NOW,
        "jti": "dbe39bf3a3ba4238a513f51d6e1691c4",
        "client_id": "s6BhdRkqt3",
        "scope": "openid profile reademail",
    })
}

#[tokio::test]
async fn the_rfc_9068_profile_accepts_its_example_and_refuses_every_departure() {
    let layer = layer()
        .access_token_profile()
        .issuer("https://authorization-server.example.com/")
        .audience("https://rs.example.com/");
    let claims = rfc9068_claims();
    let good = token(Some("at+jwt"), &claims);
    assert_eq!(
        layer.verify(&good).await.unwrap()["client_id"],
        "s6BhdRkqt3"
    );
    // The media type in full, as RFC 7515 §4.1.9 allows.
    let long = token(Some("application/at+jwt"), &claims);
    assert!(layer.verify(&long).await.is_ok());

    // An ID token of the same server: typ JWT or none.
    for typ in [Some("JWT"), None] {
        let id_token = token(typ, &claims);
        assert_eq!(
            layer.verify(&id_token).await,
            Err(AuthError::WrongTokenType)
        );
    }
    for claim in ["iss", "aud", "sub", "client_id", "iat", "jti"] {
        let mut missing = claims.clone();
        missing.as_object_mut().unwrap().remove(claim);
        let refused = layer.verify(&token(Some("at+jwt"), &missing)).await;
        assert_eq!(
            refused,
            Err(AuthError::MissingClaim(claim.into())),
            "{claim}"
        );
    }
    let mut elsewhere = claims.clone();
    elsewhere["aud"] = json!("https://other-rs.example.com/");
    let refused = layer.verify(&token(Some("at+jwt"), &elsewhere)).await;
    assert_eq!(refused, Err(AuthError::InvalidAudience));
}

/// A Keycloak access token (`typ` header JWT, `typ` claim Bearer, roles per client in
/// `resource_access`, the API in `aud` through an audience mapper).
fn keycloak_claims(typ: &str) -> Value {
    json!({
        "exp": NOW + 300, "iat": NOW, "jti": "a8f5e1c2-7d4b-4f7a-9c2e-3b1d5f6a7e8c",
        "iss": "https://sso.example.com/realms/demo",
        "aud": ["orders-api", "account"],
        "sub": "f3c9a1b2-4d5e-6f70-8192-a3b4c5d6e7f8",
        "typ": typ,
        "azp": "web-app",
        "sid": "0c4f3c6e-1e0b-4a55-9f62-7a2d8f3b9c11",
        "scope": "openid profile email orders:read",
        "realm_access": {"roles": ["offline_access", "uma_authorization"]},
        "resource_access": {
            "orders-api": {"roles": ["clerk"]},
            "account": {"roles": ["manage-account", "admin"]},
        },
        "preferred_username": "ada",
    })
}

#[tokio::test]
async fn keycloak_client_roles_are_read_for_the_apis_own_client_only() {
    let layer = layer()
        .issuer("https://sso.example.com/realms/demo")
        .audience("orders-api")
        .token_type(TokenType::claim("typ", "Bearer"));
    let grants = GrantPaths::keycloak("orders-api");
    let app = app(layer, grants.scope("orders:read"), grants.role("admin"));
    let access = token(Some("JWT"), &keycloak_claims("Bearer"));
    assert_eq!(status(&app, "/read", &access).await, StatusCode::OK);
    // `admin` is the `account` client's role, not this API's.
    assert_eq!(status(&app, "/admin", &access).await, StatusCode::FORBIDDEN);
    let clerk = app_with_role(&grants, "clerk");
    assert_eq!(status(&clerk, "/admin", &access).await, StatusCode::OK);
    // Keycloak's ID token and refresh token of the same session.
    for typ in ["ID", "Refresh"] {
        let other = token(Some("JWT"), &keycloak_claims(typ));
        assert_eq!(
            status(&app, "/read", &other).await,
            StatusCode::UNAUTHORIZED,
            "{typ}"
        );
    }
}

fn app_with_role(grants: &GrantPaths, role: &str) -> Router {
    let layer = layer()
        .issuer("https://sso.example.com/realms/demo")
        .audience("orders-api")
        .token_type(TokenType::claim("typ", "Bearer"));
    app(layer, grants.scope("openid"), grants.role(role))
}

/// An Amazon Cognito user pool access token: no `aud` and no `typ`; `client_id`, `token_use`
/// and the groups in `cognito:groups`.
fn cognito_claims(token_use: &str, client_id: &str) -> Value {
    let mut claims = json!({
        "sub": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
        "cognito:groups": ["admin"],
        "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_example",
        "version": 2,
        "client_id": client_id,
        "origin_jti": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
        "event_id": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
        "token_use": token_use,
        "scope": "phone openid profile email orders/read",
        "auth_time": NOW,
        "exp": NOW + 300,
        "iat": NOW,
        "jti": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
        "username": "ada",
    });
    if token_use == "id" {
        // ID tokens name the app client as `aud` and carry no `client_id`.
        claims["aud"] = json!(client_id);
        claims.as_object_mut().unwrap().remove("client_id");
    }
    claims
}

#[tokio::test]
async fn cognito_groups_are_roles_and_only_this_app_clients_access_tokens_pass() {
    let layer = layer()
        .issuer("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_example")
        .token_type(TokenType::claim("token_use", "access"));
    let grants = GrantPaths::cognito();
    let this_client =
        Requirement::predicate("client", |c: &Value| c["client_id"] == "1example23456789");
    let read = Requirement::all_of([this_client.clone(), grants.scope("orders/read")]);
    let admin = Requirement::all_of([this_client, grants.role("admin")]);
    let app = app(layer, read, admin);
    let access = token(None, &cognito_claims("access", "1example23456789"));
    assert_eq!(status(&app, "/read", &access).await, StatusCode::OK);
    assert_eq!(status(&app, "/admin", &access).await, StatusCode::OK);
    let other_client = token(None, &cognito_claims("access", "9other87654321"));
    assert_eq!(
        status(&app, "/read", &other_client).await,
        StatusCode::FORBIDDEN
    );
    // The ID token has an `aud` no audience was configured for, and token_use `id`.
    let id_token = token(None, &cognito_claims("id", "1example23456789"));
    assert_eq!(
        status(&app, "/read", &id_token).await,
        StatusCode::UNAUTHORIZED
    );
}

/// A Microsoft Entra ID v2.0 access token: `aud` the API's application (client) ID, delegated
/// scopes in `scp` (space-delimited), app roles in `roles`.
fn entra_claims(aud: &str) -> Value {
    json!({
        "aud": aud,
        "iss": "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0",
        "iat": NOW, "nbf": NOW, "exp": NOW + 300,
        "aio": "AXQAi/8TAAAA",
        "azp": "c44b4083-3bb0-49c1-b47d-974e53cbdf3c",
        "azpacr": "0",
        "name": "Ada Lovelace",
        "oid": "690222be-ff1a-4d56-abd1-7e4f7d38e474",
        "preferred_username": "ada@contoso.com",
        "rh": "I",
        "scp": "User.Read Orders.Read",
        "roles": ["Orders.Admin"],
        "sub": "HKZpfaHyWadeOouYlitjrI-KffTm222X5rrV3xDqfKQ",
        "tid": "72f988bf-86f1-41af-91ab-2d7cd011db47",
        "uti": "fqiBqXLPj0eQa82S-IYFAA",
        "ver": "2.0",
    })
}

#[tokio::test]
async fn entra_id_scopes_come_from_scp_and_roles_from_roles() {
    let api = "6e74172b-be56-4843-9ff4-e66a39bb12e3";
    let layer = layer()
        .issuer("https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0")
        .audience(api);
    let grants = GrantPaths::entra_id();
    let app = app(
        layer,
        grants.scope("Orders.Read"),
        grants.role("Orders.Admin"),
    );
    let access = token(Some("JWT"), &entra_claims(api));
    assert_eq!(status(&app, "/read", &access).await, StatusCode::OK);
    assert_eq!(status(&app, "/admin", &access).await, StatusCode::OK);
    // A token for Microsoft Graph, not this API.
    let graph = token(
        Some("JWT"),
        &entra_claims("00000003-0000-0000-c000-000000000000"),
    );
    assert_eq!(
        status(&app, "/read", &graph).await,
        StatusCode::UNAUTHORIZED
    );
    let mut fewer = entra_claims(api);
    fewer["scp"] = json!("User.Read");
    fewer["roles"] = json!([]);
    let fewer = token(Some("JWT"), &fewer);
    assert_eq!(status(&app, "/read", &fewer).await, StatusCode::FORBIDDEN);
    assert_eq!(status(&app, "/admin", &fewer).await, StatusCode::FORBIDDEN);
}

/// An Auth0 access token for an API with RBAC on: `iss` ends with `/`, `aud` the API
/// identifier (and `/userinfo` when `openid` was asked for), `permissions`.
fn auth0_claims(permissions: Value) -> Value {
    json!({
        "iss": "https://example.us.auth0.com/",
        "sub": "auth0|6413a1b2c3d4e5f600000001",
        "aud": ["https://api.example.com", "https://example.us.auth0.com/userinfo"],
        "iat": NOW, "exp": NOW + 300,
        "azp": "8DEVt3kGrHnS1pLiR2JtBGqVjVfZc0Oa",
        "scope": "openid profile email",
        "permissions": permissions,
        "https://example.com/roles": ["admin"],
    })
}

#[tokio::test]
async fn auth0_permissions_count_as_scopes_and_namespaced_roles_as_roles() {
    let layer = layer()
        .issuer("https://example.us.auth0.com/")
        .audience("https://api.example.com");
    let grants = GrantPaths::auth0().roles_at(["https://example.com/roles"]);
    let app = app(layer, grants.scope("read:orders"), grants.role("admin"));
    let access = token(
        Some("JWT"),
        &auth0_claims(json!(["read:orders", "write:orders"])),
    );
    assert_eq!(status(&app, "/read", &access).await, StatusCode::OK);
    assert_eq!(status(&app, "/admin", &access).await, StatusCode::OK);
    let none = token(Some("JWT"), &auth0_claims(json!([])));
    assert_eq!(status(&app, "/read", &none).await, StatusCode::FORBIDDEN);
    // Without the trailing `/` the issuer is another string: refused.
    let strict = layer_for("https://example.us.auth0.com");
    assert_eq!(strict.verify(&access).await, Err(AuthError::InvalidIssuer));
}

fn layer_for(issuer: &str) -> JwtLayer<Value> {
    layer().issuer(issuer).audience("https://api.example.com")
}

#[test]
fn grant_paths_read_strings_and_arrays_and_nothing_else() {
    let grants = GrantPaths::new()
        .scopes_at(["scope", "/nested/scopes"])
        .roles_at(["a/b", "/x~1y/roles"]);
    let claims = json!({
        "scope": "one two",
        "nested": {"scopes": ["three"]},
        "a/b": ["named-with-slash"],
        "x/y": {"roles": ["escaped"]},
    });
    for scope in ["one", "two", "three"] {
        assert!(grants.has_scope(&claims, scope), "{scope}");
    }
    assert!(!grants.has_scope(&claims, "one two"));
    assert!(!grants.has_scope(&claims, "on"));
    assert!(grants.has_role(&claims, "named-with-slash"));
    assert!(grants.has_role(&claims, "escaped"));
    for odd in [
        json!({"scope": 1}),
        json!({"scope": {"one": true}}),
        json!({"scope": [1, "x"]}),
        json!(null),
    ] {
        assert!(!grants.has_scope(&odd, "one"), "{odd}");
    }
    assert!(
        !GrantPaths::new().has_scope(&claims, "one"),
        "no paths, no grants"
    );
    // Scopes required through paths are listed as scopes; roles are not.
    let both = Requirement::all_of([grants.scope("one"), grants.role("escaped")]);
    assert_eq!(both.scopes().collect::<Vec<_>>(), ["one"]);
}
