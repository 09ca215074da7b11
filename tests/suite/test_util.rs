//! The `test-util` feature through the public API: `TestKey` tokens that the layer they were
//! made for accepts (and nothing else does), `token_for` failing loudly with the layer's reason,
//! and `MockProvider` as a real identity provider on loopback: discovery, JWKS, rotation,
//! outages, several issuers.
#![cfg(all(feature = "test-util", feature = "jwks", feature = "axum"))]

use crate::common;

use std::time::Duration;

use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use common::{header, payload, with_bearer};
use serde_json::{Value, json};
use tower_jwt_auth::keys::TrustedIssuer;
use tower_jwt_auth::test_util::{MockProvider, TestKey};
use tower_jwt_auth::{Algorithm, Auth, AuthError, JwtLayer, RemoteJwks, TokenType};

fn app(layer: JwtLayer<Value>) -> Router {
    Router::new()
        .route("/", get(|Auth(c): Auth<Value>| async move { Json(c) }))
        .layer(layer)
}

fn keys() -> Vec<(Algorithm, TestKey)> {
    let mut keys = vec![
        (Algorithm::HS256, TestKey::hs256()),
        (Algorithm::EdDSA, TestKey::ed25519()),
    ];
    #[cfg(feature = "aws_lc_rs")]
    keys.push((Algorithm::ES256, TestKey::es256()));
    keys
}

#[tokio::test]
async fn a_test_key_makes_tokens_its_layer_accepts_with_the_layers_rules() {
    for (alg, key) in keys() {
        let key = key.with_kid("t1");
        let layer = JwtLayer::<Value>::new(key.verifying_key())
            .issuer("https://auth.example.com")
            .audiences(["orders-api", "billing-api"])
            .token_type(TokenType::header("at+jwt"))
            .subject("service-7");
        let token = key
            .token_for(&layer, &json!({"scope": "orders:read"}))
            .await;
        let reply = with_bearer(&app(layer), &token).await;
        assert_eq!(reply.status, StatusCode::OK, "{alg:?}: {:?}", reply.body);
        assert_eq!(reply.body["iss"], "https://auth.example.com", "{alg:?}");
        assert_eq!(reply.body["aud"], json!(["orders-api", "billing-api"]));
        assert_eq!(reply.body["sub"], "service-7");
        assert_eq!(reply.body["scope"], "orders:read");
        let (iat, exp) = (reply.body["iat"].as_u64(), reply.body["exp"].as_u64());
        assert_eq!(exp.unwrap() - iat.unwrap(), 15 * 60);
        assert!(reply.body["jti"].as_str().is_some_and(|j| !j.is_empty()));
        let header = header(&token);
        assert_eq!(header["alg"], format!("{alg:?}"));
        assert_eq!(
            (header["typ"].as_str(), header["kid"].as_str()),
            (Some("at+jwt"), Some("t1"))
        );
    }
}

#[tokio::test]
async fn a_type_claim_rule_is_met_in_the_claims() {
    let key = TestKey::hs256();
    let layer =
        JwtLayer::<Value>::new(key.verifying_key()).token_type(TokenType::claim("type", "access"));
    let token = key.token_for(&layer, &json!({"sub": "1"})).await;
    assert_eq!(payload(&token)["type"], "access");
    assert_eq!(
        with_bearer(&app(layer), &token).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn another_test_keys_tokens_are_refused() {
    for (alg, key) in keys() {
        let layer = JwtLayer::<Value>::new(key.verifying_key());
        // Same algorithm, same claims, another key: a forgery as far as the layer knows.
        let other = match alg {
            Algorithm::HS256 => TestKey::hs256(),
            Algorithm::EdDSA => TestKey::ed25519(),
            #[cfg(feature = "aws_lc_rs")]
            Algorithm::ES256 => TestKey::es256(),
            _ => unreachable!(),
        };
        let forged = other
            .issuer_for(&layer)
            .issue(&json!({"sub": "1"}))
            .unwrap();
        let reply = with_bearer(&app(layer), &forged.token).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{alg:?}");
        assert!(
            reply.www_authenticate().contains("invalid_token"),
            "{alg:?}"
        );
    }
}

#[tokio::test]
async fn issuer_for_makes_the_tokens_a_test_wants_refused() {
    let key = TestKey::hs256();
    let layer = JwtLayer::<Value>::new(key.verifying_key()).audience("api");
    let tokens = key.issuer_for(&layer);
    let expired = tokens.issue(&json!({"iat": 1_000, "exp": 1_060})).unwrap();
    assert_eq!(layer.verify(&expired.token).await, Err(AuthError::Expired));
    let elsewhere = tokens.issue(&json!({"aud": "another-api"})).unwrap();
    assert_eq!(
        layer.verify(&elsewhere.token).await,
        Err(AuthError::InvalidAudience)
    );
}

#[tokio::test]
#[should_panic(
    expected = "the layer refuses the token made for it: required claim `client_id` is missing"
)]
async fn token_for_says_which_required_claim_the_test_did_not_give() {
    let key = TestKey::hs256();
    let layer = JwtLayer::<Value>::new(key.verifying_key()).require_claims(["client_id"]);
    key.token_for(&layer, &json!({"sub": "1"})).await;
}

#[tokio::test]
#[should_panic(expected = "the layer refuses the token made for it: invalid signature")]
async fn token_for_refuses_a_key_the_layer_does_not_trust() {
    let layer = JwtLayer::<Value>::new(TestKey::hs256().verifying_key());
    TestKey::hs256()
        .token_for(&layer, &json!({"sub": "1"}))
        .await;
}

#[tokio::test]
#[should_panic(expected = "the claims must be a JSON object")]
async fn token_for_refuses_claims_that_are_not_an_object() {
    let key = TestKey::hs256();
    let layer = JwtLayer::<Value>::new(key.verifying_key());
    key.token_for(&layer, &json!(["not", "an", "object"])).await;
}

#[tokio::test]
async fn a_mock_provider_serves_discovery_and_its_keys() {
    let idp = MockProvider::start().await.unwrap();
    let client = reqwest::Client::new();
    let get_json = |url: String| {
        let request = client.get(url).send();
        async move { request.await.unwrap().json::<Value>().await.unwrap() }
    };
    let discovery = get_json(format!("{}/.well-known/openid-configuration", idp.issuer())).await;
    assert_eq!(discovery["issuer"], idp.issuer());
    assert_eq!(discovery["jwks_uri"], idp.jwks_url());
    let jwks = get_json(idp.jwks_url()).await;
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids, ["key-1"]);
    // Only the public half is published.
    assert!(jwks["keys"][0].get("d").is_none(), "{jwks}");
    assert_eq!((idp.discovery_requests(), idp.jwks_requests()), (1, 1));
    let missing = client
        .get(format!("{}/token", idp.issuer()))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn a_layer_on_a_mock_providers_discovery_accepts_its_tokens_and_no_others() {
    let idp = MockProvider::start().await.unwrap();
    let keys = RemoteJwks::discovery_builder(idp.issuer()).build().unwrap();
    let layer = JwtLayer::<Value>::new(keys).audience("orders-api");
    let token = idp.token_for(&layer, &json!({"sub": "ada"})).await;
    assert_eq!(payload(&token)["iss"], idp.issuer());
    assert_eq!(header(&token)["kid"], "key-1");
    let app = app(layer.clone());
    assert_eq!(with_bearer(&app, &token).await.status, StatusCode::OK);

    // The provider's own `token` names no audience: this layer wants one.
    let unaddressed = with_bearer(&app, &idp.token(&json!({"sub": "ada"}))).await;
    assert_eq!(unaddressed.status, StatusCode::UNAUTHORIZED);
    // Another provider's token with this provider's issuer and kid: refused.
    let impostor = MockProvider::start().await.unwrap();
    let forged = impostor
        .issuer_for(&layer)
        .issuer(idp.issuer())
        .issue(&json!({"sub": "ada"}))
        .unwrap();
    assert_eq!(header(&forged.token)["kid"], "key-1");
    let refused = with_bearer(&app, &forged.token).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert!(refused.www_authenticate().contains("invalid_token"));
}

#[tokio::test]
async fn a_rotation_is_picked_up_and_a_retired_key_refused_after_a_refresh() {
    let idp = MockProvider::start().await.unwrap();
    let keys = RemoteJwks::builder(&idp.jwks_url())
        .cache_bounds(Duration::from_secs(1), Duration::from_secs(1))
        .refetch_cooldown(Duration::ZERO)
        .build()
        .unwrap();
    let layer = JwtLayer::<Value>::new(keys.clone());
    let old = idp.token_for(&layer, &json!({"sub": "1"})).await;

    idp.rotate();
    assert_eq!(idp.current_kid(), "key-2");
    // A kid the cached keys do not know: one refetch, and both keys verify.
    let new = idp.token_for(&layer, &json!({"sub": "1"})).await;
    assert_eq!(header(&new)["kid"], "key-2");
    assert!(layer.verify(&old).await.is_ok());

    idp.retire_previous();
    let fetches = idp.jwks_requests();
    tokio::time::timeout(Duration::from_secs(10), async {
        while idp.jwks_requests() == fetches {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the layer refreshes its keys");
    // The refresh has been answered once the old key is gone from the layer's set.
    let refused = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match layer.verify(&old).await {
                Ok(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                Err(err) => return err,
            }
        }
    })
    .await
    .expect("the retired key leaves the layer's keys");
    assert_eq!(refused, AuthError::UnknownKey);
    assert!(layer.verify(&new).await.is_ok());
}

#[tokio::test]
async fn a_failing_provider_fails_closed_and_recovers() {
    let idp = MockProvider::start().await.unwrap();
    idp.set_failing(true);
    let keys = RemoteJwks::builder(&idp.jwks_url())
        .refetch_cooldown(Duration::ZERO)
        .build()
        .unwrap();
    let layer = JwtLayer::<Value>::new(keys);
    // The token is good; the keys to check it cannot be had: 503, never accepted.
    let token = idp
        .issuer_for(&layer)
        .issue(&json!({"sub": "1"}))
        .unwrap()
        .token;
    let app = app(layer.clone());
    let reply = with_bearer(&app, &token).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(idp.jwks_requests() >= 1);

    idp.set_failing(false);
    let recovered = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match with_bearer(&app, &token).await.status {
                StatusCode::OK => return,
                _ => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    })
    .await;
    assert!(
        recovered.is_ok(),
        "the layer fetches the keys once the provider is back"
    );
}

#[tokio::test]
async fn on_a_multi_issuer_layer_each_provider_gets_its_own_issuer_and_audience() {
    let (a, b) = (
        MockProvider::start().await.unwrap(),
        MockProvider::start().await.unwrap(),
    );
    let trusted = |idp: &MockProvider, audience: &str| {
        TrustedIssuer::new(idp.issuer(), RemoteJwks::new(&idp.jwks_url()).unwrap())
            .audience(audience)
    };
    let layer = JwtLayer::<Value>::for_issuers([trusted(&a, "api-a"), trusted(&b, "api-b")]);
    let from_b = b.token_for(&layer, &json!({"sub": "1"})).await;
    assert_eq!(payload(&from_b)["iss"], b.issuer());
    assert_eq!(payload(&from_b)["aud"], "api-b");
    // A's key does not verify what claims to come from B.
    let crossed = a
        .issuer_for(&layer)
        .issuer(b.issuer())
        .issue(&json!({"sub": "1"}))
        .unwrap();
    assert!(layer.verify(&crossed.token).await.is_err());
}
