//! OAuth 2.0 Protected Resource Metadata (RFC 9728) through the public API: the document field
//! by field from the layer's configuration and the routes' requirements, its well-known URL,
//! `resource_metadata` in every `Bearer` challenge under the layer, and the discovery an MCP
//! client makes over a real socket (401, metadata, token for the resource, 200).
#![cfg(all(feature = "axum", feature = "jwks", feature = "test-util"))]

use crate::common;

use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use common::{request, with_bearer};
use serde_json::{Value, json};
use tower_jwt_auth::keys::TrustedIssuer;
use tower_jwt_auth::metadata::{MetadataError, ResourceMetadata};
use tower_jwt_auth::test_util::{MockProvider, TestKey};
use tower_jwt_auth::{Auth, AuthError, JwtLayer, RemoteJwks, Requirement, TokenSource};

const RESOURCE: &str = "https://api.example.com/mcp";
const METADATA_URL: &str = "https://api.example.com/.well-known/oauth-protected-resource/mcp";

fn document(metadata: &ResourceMetadata) -> Value {
    serde_json::from_slice(&metadata.json()).unwrap()
}

#[test]
fn the_document_comes_from_the_layer_and_the_requirements_and_has_no_nulls() {
    let key = TestKey::hs256();
    let layer = JwtLayer::<Value>::new(key.verifying_key())
        .issuer("https://auth.example.com")
        .audience(RESOURCE);
    let read = Requirement::<Value>::scope("orders:read");
    let write = Requirement::all_of([
        Requirement::<Value>::scope("orders:write"),
        Requirement::role("admin"),
    ]);
    let metadata = layer
        .resource_metadata_for(RESOURCE)
        .unwrap()
        .scopes_of(&read)
        .scopes_of(&write)
        .scopes_of(&read);
    assert_eq!(
        document(&metadata),
        json!({
            "resource": RESOURCE,
            "authorization_servers": ["https://auth.example.com"],
            "scopes_supported": ["orders:read", "orders:write"],
            "bearer_methods_supported": ["header"],
        })
    );
    // Optional members appear only when set, and never as null.
    let named = metadata
        .resource_name("Orders")
        .resource_documentation("https://docs.example.com/orders")
        .unwrap();
    let named = document(&named);
    assert_eq!(named["resource_name"], "Orders");
    assert_eq!(
        named["resource_documentation"],
        "https://docs.example.com/orders"
    );
    assert!(named.as_object().unwrap().values().all(|v| !v.is_null()));
    // The resource signs none of its responses: no resource_signing_alg_values_supported.
    assert!(named.get("resource_signing_alg_values_supported").is_none());
}

#[test]
fn a_cookie_only_layer_names_no_bearer_method_and_a_bare_resource_no_issuer() {
    let key = TestKey::hs256();
    let layer = JwtLayer::<Value>::new(key.verifying_key())
        .token_source(TokenSource::cookie("access_token"));
    let metadata = layer
        .resource_metadata_for("https://app.example.com")
        .unwrap();
    assert_eq!(
        document(&metadata),
        json!({"resource": "https://app.example.com"})
    );
}

#[tokio::test]
async fn several_issuers_or_a_discovered_one_are_the_authorization_servers() {
    let (a, b) = (
        MockProvider::start().await.unwrap(),
        MockProvider::start().await.unwrap(),
    );
    let trusted = |idp: &MockProvider| {
        TrustedIssuer::new(idp.issuer(), RemoteJwks::new(&idp.jwks_url()).unwrap())
    };
    let layer = JwtLayer::<Value>::for_issuers([trusted(&a), trusted(&b)]);
    let metadata = layer.resource_metadata_for(RESOURCE).unwrap();
    assert_eq!(
        document(&metadata)["authorization_servers"],
        json!([a.issuer(), b.issuer()])
    );

    let discovered = JwtLayer::<Value>::new(RemoteJwks::discover(a.issuer()).unwrap());
    let metadata = discovered.resource_metadata_for(RESOURCE).unwrap();
    assert_eq!(
        document(&metadata)["authorization_servers"],
        json!([a.issuer()])
    );
}

#[test]
fn the_well_known_url_goes_between_the_host_and_the_path() {
    let cases = [
        (
            "https://api.example.com",
            "https://api.example.com/.well-known/oauth-protected-resource",
        ),
        (
            "https://api.example.com/",
            "https://api.example.com/.well-known/oauth-protected-resource",
        ),
        ("https://api.example.com/mcp", METADATA_URL),
        (
            "https://api.example.com:8443/v1/orders",
            "https://api.example.com:8443/.well-known/oauth-protected-resource/v1/orders",
        ),
        (
            "https://api.example.com/mcp?tenant=a",
            "https://api.example.com/.well-known/oauth-protected-resource/mcp?tenant=a",
        ),
        (
            "http://127.0.0.1:3000/mcp",
            "http://127.0.0.1:3000/.well-known/oauth-protected-resource/mcp",
        ),
    ];
    for (resource, url) in cases {
        let metadata = ResourceMetadata::new(resource).unwrap();
        assert_eq!(metadata.url(), url, "{resource}");
        // Kept byte for byte: a client sends it back as the token request's `resource`.
        assert_eq!(metadata.resource(), resource);
        assert_eq!(document(&metadata)["resource"], resource);
    }
    assert_eq!(
        ResourceMetadata::new("https://api.example.com/mcp?tenant=a")
            .unwrap()
            .path(),
        "/.well-known/oauth-protected-resource/mcp"
    );
}

#[test]
fn resource_identifiers_that_rfc_9728_forbids_are_refused() {
    for (resource, expected) in [
        ("http://api.example.com/mcp", "NotHttps"),
        ("http://10.0.0.8/mcp", "NotHttps"),
        ("https://api.example.com/mcp#tools", "Fragment"),
        ("/mcp", "NotAUrl"),
        ("api.example.com/mcp", "NotAUrl"),
        ("ftp://api.example.com/mcp", "NotAUrl"),
        ("", "NotAUrl"),
        (
            "https://api.example.com/x\",error=\"invalid_token",
            "NotAUrl",
        ),
        ("https://api.example.com/café", "NotAUrl"),
        ("https://api.example.com/a b", "NotAUrl"),
        ("https://api.example.com/a\\b", "NotAUrl"),
        ("https://user@api.example.com/mcp", "UserInfo"),
        ("https://user:pw@api.example.com/mcp", "UserInfo"),
    ] {
        let err = ResourceMetadata::new(resource).unwrap_err();
        assert!(
            format!("{err:?}").starts_with(expected),
            "{resource}: {err:?}"
        );
        // The URL is named, less what may carry a credential (user information, fragment).
        let shown = match expected {
            "UserInfo" => "`https://…@api.example.com/mcp`",
            "Fragment" => "`https://api.example.com/mcp`",
            _ => resource,
        };
        assert!(err.to_string().contains(shown), "{err}");
        assert!(!format!("{err} {err:?}").contains("pw"), "{err}");
    }
    assert!(matches!(
        ResourceMetadata::new(RESOURCE)
            .unwrap()
            .resource_documentation("http://docs.example.com"),
        Err(MetadataError::NotHttps(_))
    ));
}

/// An app with routes refused in each way a challenge can be made under the layer.
fn app(layer: JwtLayer<Value>, metadata: &ResourceMetadata) -> Router {
    let layer = layer.resource_metadata(metadata);
    let admin = Requirement::<Value>::scope("admin");
    let served = metadata.clone();
    Router::new()
        .route("/mcp", get(|Auth(c): Auth<Value>| async move { Json(c) }))
        .route(
            "/admin",
            get(|| async { "ok" }).layer(admin.clone().layer()),
        )
        .route(
            "/staff",
            get(|| async { "ok" }).layer(admin.layer().realm("staff")),
        )
        .route(
            "/own",
            get(|| async {
                let mut response = StatusCode::UNAUTHORIZED.into_response();
                let challenges = response.headers_mut();
                challenges.append("www-authenticate", "DPoP algs=\"ES256\"".parse().unwrap());
                challenges.append(
                    "www-authenticate",
                    "Bearer error=\"invalid_token\"".parse().unwrap(),
                );
                response
            }),
        )
        .route(
            "/two",
            get(|| async {
                let mut response = StatusCode::UNAUTHORIZED.into_response();
                let both = "Bearer realm=\"x\", Basic realm=\"y, z\"";
                response
                    .headers_mut()
                    .insert("www-authenticate", both.parse().unwrap());
                response
            }),
        )
        .layer(layer)
        // Served outside the layer: the document is public.
        .route(
            metadata.path(),
            get(move || std::future::ready(served.clone())),
        )
}

#[tokio::test]
async fn every_bearer_challenge_under_the_layer_names_the_metadata() {
    let key = TestKey::hs256();
    let layer = JwtLayer::<Value>::new(key.verifying_key()).audience(RESOURCE);
    let metadata = layer.resource_metadata_for(RESOURCE).unwrap();
    let app = app(layer.clone(), &metadata);
    let named = format!("resource_metadata=\"{METADATA_URL}\"");

    let missing = request(&app, "/mcp", &[]).await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    assert_eq!(missing.challenges(), [format!("Bearer {named}")]);

    let invalid = request(&app, "/mcp", &[("authorization", "Bearer not.a.token")]).await;
    assert_eq!(invalid.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        invalid.challenges(),
        [format!(
            r#"Bearer error="invalid_token", error_description="malformed token", {named}"#
        )]
    );

    let token = key
        .token_for(&layer, &json!({"sub": "1", "scope": "read"}))
        .await;
    let bearer = format!("Bearer {token}");
    let headers = [("authorization", bearer.as_str())];
    assert_eq!(request(&app, "/mcp", &headers).await.status, StatusCode::OK);
    let forbidden = request(&app, "/admin", &headers).await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    assert_eq!(
        forbidden.challenges(),
        [format!(
            r#"Bearer error="insufficient_scope", error_description="insufficient scope", scope="admin", {named}"#
        )]
    );
    // A RequireLayer with its own realm answers itself; the layer adds the metadata.
    let staff = request(&app, "/staff", &headers).await;
    assert_eq!(staff.status, StatusCode::FORBIDDEN);
    assert_eq!(
        staff.challenges(),
        [format!(
            r#"Bearer realm="staff", error="insufficient_scope", error_description="insufficient scope", scope="admin", {named}"#
        )]
    );
    // A handler's own challenges: the Bearer one is named, another scheme's left alone.
    let own = request(&app, "/own", &headers).await;
    assert_eq!(
        own.challenges(),
        [
            r#"DPoP algs="ES256""#.to_owned(),
            format!(r#"Bearer error="invalid_token", {named}"#)
        ]
    );
}

#[tokio::test]
async fn on_error_responses_and_outages_follow_the_same_rule() {
    let key = TestKey::hs256();
    let layer = JwtLayer::<Value>::new(key.verifying_key())
        .on_error(|refused| (refused.error.status(), "nope"));
    let metadata = layer.resource_metadata_for(RESOURCE).unwrap();
    let app = app(layer, &metadata);
    let reply = request(&app, "/mcp", &[]).await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (StatusCode::UNAUTHORIZED, Some("nope"))
    );
    assert_eq!(
        reply.challenges(),
        [format!("Bearer resource_metadata=\"{METADATA_URL}\"")]
    );

    // 503 is no verdict on the token: no challenge at all.
    let down = MockProvider::start().await.unwrap();
    down.set_failing(true);
    let layer = JwtLayer::<Value>::new(RemoteJwks::new(&down.jwks_url()).unwrap());
    let metadata = layer.resource_metadata_for(RESOURCE).unwrap();
    let token = down
        .issuer_for(&layer)
        .issue(&json!({"sub": "1"}))
        .unwrap()
        .token;
    let reply = with_bearer(&app_down(layer, &metadata), &token).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(reply.challenges().is_empty());
    assert_eq!(
        AuthError::KeysUnavailable.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
}

fn app_down(layer: JwtLayer<Value>, metadata: &ResourceMetadata) -> Router {
    Router::new()
        .route("/", get(|| async { "ok" }))
        .layer(layer.resource_metadata(metadata))
}

/// What an MCP client does (`@modelcontextprotocol/sdk`): call the resource, read
/// `resource_metadata` from the 401, fetch it, check `resource` against the called URL, get a
/// token for that resource from a listed authorization server, call again. Over a real socket.
#[tokio::test]
async fn an_mcp_client_finds_the_authorization_server_and_gets_in() {
    let idp = MockProvider::start().await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let resource = format!("{base}/mcp");
    let keys = RemoteJwks::discover(idp.issuer()).unwrap();
    let layer = JwtLayer::<Value>::new(keys).audience(resource.as_str());
    let metadata = layer
        .resource_metadata_for(resource.as_str())
        .unwrap()
        .scopes_of(&Requirement::<Value>::scope("mcp:tools"));
    let server = tokio::spawn(async move {
        axum::serve(listener, app(layer.clone(), &metadata))
            .await
            .unwrap()
    });

    let client = reqwest::Client::new();
    let first = client.get(&resource).send().await.unwrap();
    assert_eq!(first.status(), 401);
    let challenge = first.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(challenge.starts_with("Bearer"), "{challenge}");
    let url = challenge
        .split("resource_metadata=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap();
    assert_eq!(
        url,
        format!("{base}/.well-known/oauth-protected-resource/mcp")
    );
    let found: Value = client.get(url).send().await.unwrap().json().await.unwrap();
    assert_eq!(found["resource"], resource);
    assert!(resource.starts_with(found["resource"].as_str().unwrap()));
    assert_eq!(found["authorization_servers"], json!([idp.issuer()]));
    assert_eq!(found["scopes_supported"], json!(["mcp:tools"]));

    // The token the authorization server issues for `resource` (its `aud`).
    let token =
        idp.token(&json!({"sub": "agent-1", "aud": found["resource"], "scope": "mcp:tools"}));
    let second = client
        .get(&resource)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(second.status(), 200);
    let claims: Value = second.json().await.unwrap();
    assert_eq!(claims["sub"], "agent-1");
    // A token for another resource of the same server is refused.
    let elsewhere = idp.token(&json!({"sub": "agent-1", "aud": format!("{base}/other")}));
    let third = client
        .get(&resource)
        .bearer_auth(&elsewhere)
        .send()
        .await
        .unwrap();
    assert_eq!(third.status(), 401);
    server.abort();
}
