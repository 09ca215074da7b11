//! The FastAPI + PyJWT tutorial app, in axum: log in, get a token pair, call protected routes.
//!
//! ```sh
//! cargo run --example quickstart
//! TOKEN=$(curl -s localhost:3000/login -H 'content-type: application/json' \
//!     -d '{"username":"john","password":"secret123"}' | jq -r .access_token)
//! curl -s localhost:3000/profile -H "authorization: Bearer $TOKEN"
//! ```
//!
//! `POST /refresh` trades the refresh token (as the bearer token) for a new pair, once;
//! `POST /logout` revokes the login: its access and refresh tokens are refused from then on.
//!
//! `JWT_SECRET` (at least 32 bytes) is the HS256 secret; unset, a random one is made at start.
//! `BIND` is the address to listen on (default `127.0.0.1:3000`). `REDIS_URL` (with
//! `--features redis`) keeps revocations in Redis, shared by every instance; unset, in memory.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use argon2::{Argon2, PasswordHash, PasswordVerifier};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tower_jwt_auth::revocation::{MemoryStore, RevocationStore};
use tower_jwt_auth::tokens::{SessionError, TokenPair};
use tower_jwt_auth::{Algorithm, Auth, JwtSessions, NumericDate, SigningKey, VerifyingKey};

/// What the access token carries besides `iat`, `exp`, `jti` and `type`.
#[derive(Clone, Serialize, Deserialize)]
struct Claims {
    sub: String,
    username: String,
    jti: String,
    exp: NumericDate,
    /// The login (token family); tokens minted elsewhere may not carry one.
    sid: Option<String>,
}

struct User {
    id: &'static str,
    /// Argon2id PHC string: passwords are never stored.
    password_hash: &'static str,
}

/// The demo user `john` / `secret123`.
const USERS: &[(&str, User)] = &[(
    "john",
    User {
        id: "1",
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$3zlL0RsLlhGxyknX2ZoYRw$YHPxuaomUToPmw15QMGrJPdZun1WNg+jVb2dg0NJ1QE",
    },
)];

/// Verified against when the user does not exist, so both cases take the same time.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$zTE2997EwW4APz/PXcv+4A$fFan5ZIDWm3zBA/vpvzTmmWECfLdLif6RrC9QxFStYc";

struct AppState {
    users: HashMap<&'static str, &'static User>,
    sessions: JwtSessions,
}

#[derive(Deserialize)]
struct Login {
    username: String,
    password: String,
}

async fn login(
    State(state): State<Arc<AppState>>,
    Json(mut form): Json<Login>,
) -> Result<Json<Value>, (StatusCode, Json<Value>)> {
    let user = state.users.get(form.username.as_str()).copied();
    let stored = user.map_or(DUMMY_HASH, |u| u.password_hash);
    let password = std::mem::take(&mut form.password);
    // Argon2 takes tens of milliseconds of CPU on purpose: keep it off the async workers.
    let password_ok = tokio::task::spawn_blocking(move || {
        let hash = PasswordHash::new(stored)?;
        Ok::<_, argon2::password_hash::Error>(
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok(),
        )
    })
    .await
    .map_err(internal)?
    .map_err(internal)?;
    let Some(user) = user.filter(|_| password_ok) else {
        let detail = json!({"detail": "Incorrect username or password"});
        return Err((StatusCode::UNAUTHORIZED, Json(detail)));
    };
    let claims = json!({"sub": user.id, "username": form.username});
    let pair = state.sessions.issue(&claims).map_err(internal)?;
    Ok(Json(pair_json(&pair)))
}

fn pair_json(pair: &TokenPair) -> Value {
    json!({
        "access_token": pair.access.token,
        "refresh_token": pair.refresh.token,
        "token_type": "bearer",
        "expires_in": pair.access.expires_in(),
    })
}

/// `Authorization: Bearer <refresh token>` -> a new pair; the old refresh token is spent.
async fn refresh(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Json<Value>, SessionError> {
    let pair = state.sessions.refresh_from_headers(&headers).await?;
    Ok(Json(pair_json(&pair)))
}

/// Revokes the caller's login: this access token and its refresh token stop working.
async fn logout(
    State(state): State<Arc<AppState>>,
    Auth(claims): Auth<Claims>,
) -> Result<StatusCode, SessionError> {
    match &claims.sid {
        Some(sid) => state.sessions.logout(sid).await?,
        None => {
            state
                .sessions
                .revoke_token(&claims.jti, claims.exp.as_secs())
                .await?
        }
    }
    Ok(StatusCode::NO_CONTENT)
}

fn internal(err: impl std::fmt::Display) -> (StatusCode, Json<Value>) {
    tracing::error!("login failed: {err}");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Json(json!({"detail": "internal error"})),
    )
}

async fn protected(Auth(claims): Auth<Claims>) -> Json<Value> {
    Json(json!({"message": format!("Hello, {}!", claims.username), "user_id": claims.sub}))
}

async fn profile(Auth(claims): Auth<Claims>) -> Json<Value> {
    Json(json!({"user_id": claims.sub, "username": claims.username}))
}

async fn health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

fn secret() -> Vec<u8> {
    match std::env::var("JWT_SECRET") {
        Ok(secret) => secret.into_bytes(),
        Err(_) => {
            eprintln!(
                "JWT_SECRET is not set: using a random secret; tokens will not survive a restart"
            );
            let mut secret = vec![0u8; 32];
            getrandom::fill(&mut secret).expect("the system random number generator failed");
            secret
        }
    }
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
    let secret = secret();
    let sessions = JwtSessions::new(
        SigningKey::hmac(&secret, Algorithm::HS256)?,
        VerifyingKey::hmac(&secret, Algorithm::HS256)?,
        revocation_store().await?,
    )
    .access_ttl(Duration::from_secs(15 * 60))
    .refresh_ttl(Duration::from_secs(7 * 24 * 3600));
    let auth = sessions.layer::<Claims>();

    let users = USERS.iter().map(|(name, user)| (*name, user)).collect();
    let state = Arc::new(AppState { users, sessions });
    let app = Router::new()
        .route("/protected", get(protected))
        .route("/profile", get(profile))
        .route("/logout", post(logout))
        .route_layer(auth)
        .route("/login", post(login))
        .route("/refresh", post(refresh))
        .route("/health", get(health))
        .with_state(state);

    let bind = std::env::var("BIND").unwrap_or_else(|_| "127.0.0.1:3000".into());
    let listener = tokio::net::TcpListener::bind(&bind)
        .await
        .map_err(|e| format!("cannot listen on {bind}: {e}"))?;
    eprintln!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown())
        .await?;
    Ok(())
}

/// Redis when `REDIS_URL` is set (every instance then shares one view), else this process's memory.
async fn revocation_store() -> Result<Arc<dyn RevocationStore>, Box<dyn std::error::Error>> {
    let Ok(url) = std::env::var("REDIS_URL") else {
        return Ok(Arc::new(MemoryStore::new()));
    };
    #[cfg(feature = "redis")]
    {
        let store = tower_jwt_auth::revocation::RedisStore::new(&url)?;
        if let Err(err) = store.ready(Duration::from_secs(5)).await {
            // Requests fail closed (503) until Redis answers; the store keeps retrying.
            eprintln!("Redis not ready yet ({err}); protected routes answer 503 until it is");
        }
        Ok(Arc::new(store))
    }
    #[cfg(not(feature = "redis"))]
    {
        let _ = url;
        Err(
            "REDIS_URL is set but this build has no Redis support: run with `--features redis`"
                .into(),
        )
    }
}

async fn shutdown() {
    let _ = tokio::signal::ctrl_c().await;
}
