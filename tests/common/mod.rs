//! Keys, hand-made tokens and a request helper shared by the integration tests.
#![allow(dead_code)]

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};
use sha2::Sha256;
use tower::ServiceExt;

pub mod dpop;
pub mod jwks;
pub mod keys;
pub mod logs;
pub mod wait;

/// A test-only HS256 secret (34 bytes).
pub const SECRET: &[u8] = b"test-secret-of-at-least-32-bytes!!";
/// A fixed "now" for tests that drive a `ManualClock`.
pub const NOW: u64 = 1_800_000_000;

/// A test-only key from `tests/keys/`.
pub fn pem(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/keys/{name}.pem",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("test key")
}

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// HMAC-SHA256 over `message`, computed with the RustCrypto crates, not jsonwebtoken.
pub fn hs256_sign(secret: &[u8], message: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
    mac.update(message.as_bytes());
    b64(&mac.finalize().into_bytes())
}

/// A token with exactly this header and payload, HS256-signed by hand.
pub fn hs256_token(header: &Value, payload: &Value, secret: &[u8]) -> String {
    hs256_token_raw(header, &payload.to_string(), secret)
}

/// A token with this header and raw payload JSON (to test duplicate keys and odd types).
pub fn hs256_token_raw(header: &Value, payload_json: &str, secret: &[u8]) -> String {
    let message = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(payload_json.as_bytes())
    );
    let signature = hs256_sign(secret, &message);
    format!("{message}.{signature}")
}

/// The decoded JSON of a token's header (part 0).
pub fn header(token: &str) -> Value {
    decode_part(token, 0)
}

/// The decoded JSON of a token's payload (part 1), read without checking the signature.
pub fn payload(token: &str) -> Value {
    decode_part(token, 1)
}

fn decode_part(token: &str, index: usize) -> Value {
    let part = token.split('.').nth(index).expect("a JWT has three parts");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// Makes jsonwebtoken usable directly (as the tests that sign by hand use it): with both of
/// its backends on (`--all-features`) it needs a provider installed, which this crate does when
/// its first key is made. Without this, such a test panics when it runs before any other.
pub fn jsonwebtoken_ready() {
    let _ = tower_jwt_auth::VerifyingKey::hs256([0u8; 32]);
}

/// An access token (`sub` "ada") that `layer` accepts, bound to `client`'s DPoP key
/// (`cnf.jkt`, put in by `TokenIssuer::issue_bound`).
pub fn bound_token(
    key: &tower_jwt_auth::test_util::TestKey,
    layer: &tower_jwt_auth::JwtLayer<Value>,
    client: &dpop::Client,
) -> String {
    key.issuer_for(layer)
        .issue_bound(&json!({"sub": "ada"}), &client.thumbprint())
        .unwrap()
        .token
}

/// The output of a future that is ready at its first poll, as `JwtLayer::verify` is with keys
/// at hand: tests that call it thousands of times need no runtime.
pub fn ready<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut context) {
        std::task::Poll::Ready(output) => output,
        std::task::Poll::Pending => panic!("the future waited, though its keys were at hand"),
    }
}

/// A token signed with a private key from `tests/keys/`, with exactly this payload.
pub fn signed_token(alg: Algorithm, private_pem: &str, payload: &Value) -> String {
    jsonwebtoken_ready();
    let pem = pem(private_pem);
    let key = match alg {
        Algorithm::RS256
        | Algorithm::RS384
        | Algorithm::RS512
        | Algorithm::PS256
        | Algorithm::PS384
        | Algorithm::PS512 => EncodingKey::from_rsa_pem(&pem),
        Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_pem(&pem),
        Algorithm::EdDSA => EncodingKey::from_ed_pem(&pem),
        _ => EncodingKey::from_secret(&pem),
    }
    .unwrap();
    jsonwebtoken::encode(&jsonwebtoken::Header::new(alg), payload, &key).unwrap()
}

/// Claims that pass the default rules at `NOW`.
pub fn claims() -> Value {
    json!({"sub": "1", "username": "john", "iat": NOW, "exp": NOW + 900, "jti": "j-1", "type": "access"})
}

pub fn hs256_header() -> Value {
    json!({"alg": "HS256", "typ": "JWT"})
}

/// What a request came back with.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn www_authenticate(&self) -> &str {
        self.headers
            .get("www-authenticate")
            .map_or("", |v| v.to_str().unwrap())
    }

    /// Every `WWW-Authenticate` value, in order.
    pub fn challenges(&self) -> Vec<&str> {
        self.headers
            .get_all("www-authenticate")
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect()
    }

    pub fn description(&self) -> &str {
        self.body["error_description"].as_str().unwrap_or("")
    }
}

/// Sends `GET uri` with these headers through `app` and reads the reply as JSON (or as a JSON
/// string when it is not JSON).
pub async fn request(app: &Router, uri: &str, headers: &[(&str, &str)]) -> Reply {
    let mut request = Request::get(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    send(app, request.body(Body::empty()).unwrap()).await
}

pub async fn send(app: &Router, request: Request<Body>) -> Reply {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
    Reply {
        status,
        headers,
        body,
    }
}

pub async fn with_bearer(app: &Router, token: &str) -> Reply {
    request(app, "/", &[("authorization", &format!("Bearer {token}"))]).await
}

/// `token` passes `app`: 200 (the body is shown when it does not).
pub async fn assert_accepted(app: &Router, token: &str) {
    let reply = with_bearer(app, token).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
}
