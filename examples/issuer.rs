//! A small identity provider: `POST /token` signs ES256 access tokens, and the public key is
//! served as a JWKS (and an OIDC discovery document) so resource servers verify them without
//! sharing a secret. Pair it with `examples/resource_server.rs`.
//!
//! ```sh
//! cargo run --example issuer
//! ```
//!
//! `SIGNING_KEY_PEM`: path to a PKCS#8 P-256 private key (`openssl genpkey -algorithm EC
//! -pkeyopt ec_paramgen_curve:P-256 -out key.pem`); unset, a key is generated for this run.
//! `ISSUER_URL`: the `iss` of its tokens and the base of its discovery document (default
//! `http://<BIND>`). `JWT_AUDIENCE`: the `aud` of its tokens (default `demo-api`). `BIND`: the
//! address to listen on (default `127.0.0.1:3003`).

use std::sync::Arc;
use std::time::Duration;

use argon2::{Argon2, PasswordHash, PasswordVerifier};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use tower_jwt_auth::keys::PublicJwks;
use tower_jwt_auth::{Algorithm, SigningKey, TokenIssuer, TokenType};

/// `john` / `secret123`, as an Argon2id hash.
const JOHN: (&str, &str, &str) = (
    "john",
    "1",
    "$argon2id$v=19$m=19456,t=2,p=1$3zlL0RsLlhGxyknX2ZoYRw$YHPxuaomUToPmw15QMGrJPdZun1WNg+jVb2dg0NJ1QE",
);
/// Checked when the user is unknown, so both answers take as long.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$zTE2997EwW4APz/PXcv+4A$fFan5ZIDWm3zBA/vpvzTmmWECfLdLif6RrC9QxFStYc";

struct AppState {
    issuer: TokenIssuer,
    jwks: PublicJwks,
    discovery: Value,
}

#[derive(Deserialize)]
struct Credentials {
    username: String,
    password: String,
}

async fn token(
    State(state): State<Arc<AppState>>,
    Json(creds): Json<Credentials>,
) -> Result<Json<Value>, (StatusCode, Json<Value>)> {
    let known = creds.username == JOHN.0;
    let hash = if known { JOHN.2 } else { DUMMY_HASH };
    let password = creds.password;
    let valid = tokio::task::spawn_blocking(move || {
        PasswordHash::new(hash).is_ok_and(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
    })
    .await
    .unwrap_or(false);
    if !(known && valid) {
        return Err((
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "invalid_grant"})),
        ));
    }
    let claims = json!({"sub": JOHN.1, "username": creds.username, "scope": "profile"});
    match state.issuer.issue(&claims) {
        Ok(issued) => Ok(Json(json!({
            "access_token": issued.token,
            "token_type": "bearer",
            "expires_in": issued.expires_in(),
        }))),
        Err(err) => {
            tracing::error!("signing failed: {err}");
            Err((
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({"error": "server_error"})),
            ))
        }
    }
}

fn signing_key() -> Result<SigningKey, Box<dyn std::error::Error>> {
    let key = match std::env::var("SIGNING_KEY_PEM") {
        Ok(path) => {
            let pem = std::fs::read(&path)
                .map_err(|e| format!("cannot read SIGNING_KEY_PEM={path}: {e}"))?;
            SigningKey::from_pem(pem, Algorithm::ES256)?
        }
        Err(_) => {
            eprintln!("SIGNING_KEY_PEM is not set: generated a P-256 key for this run");
            let pair = aws_lc_rs::signature::EcdsaKeyPair::generate(
                &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            )
            .map_err(|_| "key generation failed")?;
            let pkcs8 = pair.to_pkcs8v1().map_err(|_| "key encoding failed")?;
            SigningKey::from_der(pkcs8.as_ref(), Algorithm::ES256)?
        }
    };
    // A kid lets verifiers tell this key from the next one during a rotation.
    let kid = key
        .public_jwk()?
        .thumbprint(jsonwebtoken::jwk::ThumbprintHash::SHA256)?;
    Ok(key.with_kid(kid))
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt::init();
    if let Err(err) = run().await {
        eprintln!("error: {err}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let bind = std::env::var("BIND").unwrap_or_else(|_| "127.0.0.1:3003".into());
    let listener = tokio::net::TcpListener::bind(&bind)
        .await
        .map_err(|e| format!("cannot listen on {bind}: {e}"))?;
    let addr = listener.local_addr()?;
    let issuer_url = std::env::var("ISSUER_URL").unwrap_or_else(|_| format!("http://{addr}"));
    let audience = std::env::var("JWT_AUDIENCE").unwrap_or_else(|_| "demo-api".into());

    let key = signing_key()?;
    let jwks = PublicJwks::new([&key])?.max_age(300);
    let issuer = TokenIssuer::new(key)
        .issuer(issuer_url.clone())
        .audience(audience)
        .ttl(Duration::from_secs(15 * 60))
        .token_type(TokenType::header("at+jwt"));
    let discovery = json!({
        "issuer": issuer_url,
        "jwks_uri": format!("{issuer_url}/.well-known/jwks.json"),
        "token_endpoint": format!("{issuer_url}/token"),
        "id_token_signing_alg_values_supported": ["ES256"],
    });
    let state = Arc::new(AppState {
        issuer,
        jwks,
        discovery,
    });
    let app = Router::new()
        .route("/token", post(token))
        .route(
            "/.well-known/jwks.json",
            get(|State(s): State<Arc<AppState>>| async move { s.jwks.clone() }),
        )
        .route(
            "/.well-known/openid-configuration",
            get(|State(s): State<Arc<AppState>>| async move { Json(s.discovery.clone()) }),
        )
        .with_state(state);
    eprintln!("listening on http://{addr} (issuer {issuer_url})");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
