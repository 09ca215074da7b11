//! Tokens cross library borders both ways: PyJWT's tokens pass our layer, ours decode in PyJWT.

use crate::common;

use std::process::Command;

use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use common::*;
use serde::Deserialize;
use serde_json::{Value, json};
use tower_jwt_auth::{Algorithm, Auth, JwtLayer, SigningKey, TokenIssuer, TokenType, VerifyingKey};

#[derive(Clone, Deserialize)]
struct Claims {
    sub: String,
    username: String,
}

fn fixtures() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/pyjwt_tokens.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

const CASES: [(&str, Algorithm, &str); 6] = [
    ("rs256_access", Algorithm::RS256, "rsa"),
    ("ps256_access", Algorithm::PS256, "rsa"),
    ("es256_access", Algorithm::ES256, "ec256"),
    ("es384_access", Algorithm::ES384, "ec384"),
    ("eddsa_access", Algorithm::EdDSA, "ed25519"),
    ("hs256_access", Algorithm::HS256, ""),
];

#[tokio::test]
async fn pyjwt_tokens_of_every_algorithm_pass_the_layer() {
    let fixtures = fixtures();
    for (name, alg, key) in CASES {
        let key = if key.is_empty() {
            VerifyingKey::hmac(fixtures["secret"].as_str().unwrap(), alg).unwrap()
        } else {
            VerifyingKey::from_pem(pem(&format!("{key}_public")), alg).unwrap()
        };
        let layer = JwtLayer::<Claims>::new(key)
            .token_type(TokenType::claim("type", "access"))
            .require_claims(["jti", "iat"]);
        let app = Router::new()
            .route(
                "/",
                get(|Auth(c): Auth<Claims>| async move {
                    Json(json!({"sub": c.sub, "username": c.username}))
                }),
            )
            .layer(layer);
        let reply = with_bearer(&app, fixtures[name].as_str().unwrap()).await;
        assert_eq!(reply.status, StatusCode::OK, "{name}: {:?}", reply.body);
        assert_eq!(reply.body, json!({"sub": "1", "username": "john"}));
    }
}

const PYJWT_CHECK: &str = r#"
import json, sys, jwt
cases = json.load(sys.stdin)
out = {}
for name, case in cases.items():
    key = case["key"]
    if key.startswith("-----"):
        key = key.encode()
    out[name] = jwt.decode(case["token"], key, algorithms=[case["alg"]], audience="orders",
                           issuer="https://auth.example", options={"require": ["exp", "iat", "jti"]})
print(json.dumps(out))
"#;

/// Runs only where PyJWT is installed (`.ci/run` installs it); elsewhere it says so and passes,
/// except under CI, where a missing PyJWT is a failure.
#[test]
fn our_tokens_decode_in_pyjwt() {
    let probe = Command::new("python3")
        .args(["-c", "import jwt, cryptography"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run this test: pip install pyjwt cryptography"
        );
        eprintln!(
            "NOTICE: our_tokens_decode_in_pyjwt skipped: PyJWT not found (pip install pyjwt cryptography)"
        );
        return;
    }
    let mut cases = serde_json::Map::new();
    let secret = "interop-secret-of-at-least-32-bytes!";
    for (name, alg, key) in CASES {
        let (signing, verifying) = if key.is_empty() {
            (SigningKey::hmac(secret, alg).unwrap(), secret.to_owned())
        } else {
            let public = String::from_utf8(pem(&format!("{key}_public"))).unwrap();
            (
                SigningKey::from_pem(pem(&format!("{key}_private")), alg).unwrap(),
                public,
            )
        };
        let issued = TokenIssuer::new(signing)
            .issuer("https://auth.example")
            .audience("orders")
            .token_type(TokenType::claim("type", "access"))
            .issue(&json!({"sub": "1", "username": "john"}))
            .unwrap();
        let alg_name = name
            .split('_')
            .next()
            .unwrap()
            .to_uppercase()
            .replace("EDDSA", "EdDSA");
        cases.insert(
            name.into(),
            json!({"token": issued.token, "key": verifying, "alg": alg_name}),
        );
    }
    let mut child = Command::new("python3")
        .args(["-c", PYJWT_CHECK])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    serde_json::to_writer(child.stdin.take().unwrap(), &cases).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "PyJWT refused our token: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let decoded: Value = serde_json::from_slice(&output.stdout).unwrap();
    for (name, _, _) in CASES {
        let claims = &decoded[name];
        assert_eq!(claims["sub"], "1", "{name}");
        assert_eq!(claims["username"], "john", "{name}");
        assert_eq!(claims["type"], "access", "{name}");
        assert_eq!(claims["aud"], "orders", "{name}");
    }
}
