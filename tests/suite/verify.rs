//! `JwtLayer::verify`: a token checked outside a request (WebSocket first message, jobs, CLIs)
//! is accepted or refused exactly as the layer would, with the same claims or the same error.

use crate::common;

use axum::routing::get;
use axum::{Json, Router};
use common::*;
use serde_json::{Value, json};
use tower_jwt_auth::clock::ManualClock;
use tower_jwt_auth::{Auth, AuthError, JwtLayer, TokenType, VerifyingKey};

fn layer() -> JwtLayer<Value> {
    JwtLayer::new(VerifyingKey::hs256(SECRET).unwrap())
        .clock(ManualClock::new(NOW))
        .audience("api")
        .token_type(TokenType::claim("type", "access"))
        .max_token_length(2048)
}

fn echo(layer: JwtLayer<Value>) -> Router {
    Router::new()
        .route("/", get(|Auth(claims): Auth<Value>| async { Json(claims) }))
        .layer(layer)
}

fn with(changes: Value) -> Value {
    let mut claims = claims();
    claims["aud"] = json!("api");
    for (name, value) in changes.as_object().unwrap() {
        claims[name] = value.clone();
    }
    claims
}

fn hs(claims: &Value) -> String {
    hs256_token(&hs256_header(), claims, SECRET)
}

/// Tokens the layer accepts and tokens it refuses for every reason it has.
fn tokens() -> Vec<(&'static str, String)> {
    let valid = hs(&with(json!({})));
    let (head, rest) = valid.split_once('.').unwrap();
    let (_, signature) = rest.split_once('.').unwrap();
    vec![
        ("valid", valid.clone()),
        ("an array audience", hs(&with(json!({"aud": ["x", "api"]})))),
        ("expired", hs(&with(json!({"exp": NOW - 3600})))),
        ("not yet valid", hs(&with(json!({"nbf": NOW + 3600})))),
        ("another audience", hs(&with(json!({"aud": "other"})))),
        ("no audience", {
            let mut claims = with(json!({}));
            claims.as_object_mut().unwrap().remove("aud");
            hs(&claims)
        }),
        ("a refresh token", hs(&with(json!({"type": "refresh"})))),
        (
            "another key",
            hs256_token(
                &hs256_header(),
                &with(json!({})),
                b"another secret of at least 32 bytes!",
            ),
        ),
        (
            "a tampered payload",
            format!(
                "{head}.{}.{signature}",
                b64(with(json!({"sub": "admin"})).to_string().as_bytes())
            ),
        ),
        (
            "alg none",
            format!(
                "{}.{}.",
                b64(br#"{"alg":"none"}"#),
                b64(with(json!({})).to_string().as_bytes())
            ),
        ),
        ("RS256 over the HMAC secret", {
            let header = json!({"alg": "RS256", "typ": "JWT"});
            let signing = format!(
                "{}.{}",
                b64(header.to_string().as_bytes()),
                b64(with(json!({})).to_string().as_bytes())
            );
            format!("{signing}.{}", hs256_sign(SECRET, &signing))
        }),
        ("garbage", "not.a.token".into()),
        ("opaque", "2YotnFZFEjr1zCsicMWpAA".into()),
        ("oversized", hs(&with(json!({"pad": "x".repeat(4096)})))),
    ]
}

#[tokio::test]
async fn verify_accepts_and_refuses_the_tokens_the_layer_does_with_the_same_answer() {
    let layer = layer();
    let app = echo(layer.clone());
    let mut accepted = 0;
    for (what, token) in tokens() {
        let reply = with_bearer(&app, &token).await;
        match layer.verify(&token).await {
            Ok(claims) => {
                accepted += 1;
                assert_eq!(
                    reply.status, 200,
                    "{what}: the layer refused what verify accepted"
                );
                assert_eq!(reply.body, claims, "{what}");
                assert_eq!(claims["sub"], "1", "{what}");
            }
            Err(error) => {
                assert_eq!(reply.status, error.status(), "{what}: {error}");
                assert_eq!(
                    reply.www_authenticate(),
                    error.www_authenticate(None),
                    "{what}"
                );
                assert_eq!(reply.description(), error.description(), "{what}");
            }
        }
    }
    assert_eq!(accepted, 2, "only the valid tokens pass");
}

#[tokio::test]
async fn verify_names_the_reason_of_each_refusal() {
    let layer = layer();
    let reason = |what: &str| {
        let token = tokens().into_iter().find(|(w, _)| *w == what).unwrap().1;
        let layer = layer.clone();
        async move { layer.verify(&token).await.unwrap_err() }
    };
    assert_eq!(reason("expired").await, AuthError::Expired);
    assert_eq!(reason("not yet valid").await, AuthError::NotYetValid);
    assert_eq!(reason("another audience").await, AuthError::InvalidAudience);
    assert_eq!(reason("another key").await, AuthError::InvalidSignature);
    assert_eq!(
        reason("a tampered payload").await,
        AuthError::InvalidSignature
    );
    assert_eq!(reason("garbage").await, AuthError::Malformed);
    assert_eq!(reason("opaque").await, AuthError::NotJwt);
    assert!(matches!(
        reason("oversized").await,
        AuthError::TooLong { max: 2048, .. }
    ));
}

#[cfg(feature = "jwks")]
#[tokio::test]
async fn verify_waits_for_remote_keys_like_the_layer() {
    use common::jwks::JwksProvider;
    use common::keys::{jwks_document, signing_key};
    use tower_jwt_auth::{Algorithm, RemoteJwks};

    let key = signing_key("rsa", Algorithm::RS256, "k1");
    let mut server = JwksProvider::start(jwks_document([&key])).await;
    let layer = JwtLayer::<Value>::new(RemoteJwks::new(&server.url()).unwrap());
    let token = tower_jwt_auth::TokenIssuer::new(key.clone())
        .issue(&json!({"sub": "remote"}))
        .unwrap()
        .token;

    assert_eq!(layer.verify(&token).await.unwrap()["sub"], "remote");
    assert_eq!(server.hits(), 1, "the first verify fetched the keys");
    let (head, rest) = token.split_once('.').unwrap();
    let (_, signature) = rest.split_once('.').unwrap();
    let forged = format!(
        "{head}.{}.{signature}",
        b64(br#"{"sub":"admin","exp":9999999999}"#)
    );
    assert_eq!(
        layer.verify(&forged).await,
        Err(AuthError::InvalidSignature)
    );

    server.set_up(false);
    let unknown = signing_key("rsa", Algorithm::RS256, "k2");
    let unknown = tower_jwt_auth::TokenIssuer::new(unknown)
        .issue(&json!({"sub": "remote"}))
        .unwrap()
        .token;
    let refused = layer.verify(&unknown).await.unwrap_err();
    assert!(
        matches!(refused, AuthError::KeysUnavailable | AuthError::UnknownKey),
        "an unknown kid with the JWKS down fails closed: {refused:?}"
    );
    server.stop().await;
}
