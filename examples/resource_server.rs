//! A resource server that trusts an identity provider's published keys: tokens are verified
//! against a remote JWKS (fetched, cached, refreshed and rotated in the background), never a
//! shared secret.
//!
//! ```sh
//! JWKS_URL=http://127.0.0.1:3003/.well-known/jwks.json JWT_AUDIENCE=demo-api cargo run --example resource_server
//! # or, with OIDC discovery (the issuer is then required and checked):
//! OIDC_ISSUER=http://127.0.0.1:3003 JWT_AUDIENCE=demo-api cargo run --example resource_server
//! ```
//!
//! - `JWKS_URL` or `OIDC_ISSUER`: where the keys come from (one is required).
//! - `JWT_AUDIENCE`: the `aud` this API answers to. Without it, a token that names any audience
//!   is refused (it was meant for another API) unless `JWT_ANY_AUDIENCE=true` says otherwise.
//! - `JWT_ISSUER`: the required `iss`, when the keys do not come by discovery.
//! - `JWT_TYP`: the required `typ` header, default `at+jwt` (RFC 9068 access tokens, so that an
//!   ID token is refused); `JWT_TYP=any` accepts any type.
//! - `JWKS_CACHE_MIN_SECS`, `JWKS_CACHE_MAX_SECS` (default 60 and 86400): the bounds on how long
//!   keys are kept; `JWKS_REFETCH_COOLDOWN_SECS` (default 10): the least time between refetches
//!   for unknown `kid`s.
//! - `BIND`: the address to listen on (default `127.0.0.1:3001`).
//!
//! Accepts RS256/384/512, PS256/384/512, ES256/384 and EdDSA, each key only with its own
//! algorithm. `GET /me` returns the verified claims; `GET /ready` is 200 once keys are loaded,
//! else 503.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::Value;
use tower_jwt_auth::middleware::TokenCache;
use tower_jwt_auth::{Auth, JwtLayer, RemoteJwks, TokenType};

/// The verified claims, whatever the provider puts in them.
async fn me(Auth(claims): Auth<Value>) -> Json<Arc<Value>> {
    Json(claims)
}

/// Readiness: keys are loaded (liveness is just the process answering).
async fn ready(State(keys): State<RemoteJwks>) -> StatusCode {
    if keys.is_ready() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
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
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let secs = |name: &str, default: u64| -> Result<Duration, String> {
        match env(name) {
            None => Ok(Duration::from_secs(default)),
            Some(v) => v
                .parse()
                .map(Duration::from_secs)
                .map_err(|_| format!("{name} must be a whole number of seconds, not `{v}`")),
        }
    };
    let builder = match (env("JWKS_URL"), env("OIDC_ISSUER")) {
        (Some(url), None) => RemoteJwks::builder(&url),
        (None, Some(issuer)) => RemoteJwks::discovery_builder(&issuer),
        (Some(_), Some(_)) => return Err("set JWKS_URL or OIDC_ISSUER, not both".into()),
        (None, None) => {
            return Err(
                "set JWKS_URL (a JWKS document) or OIDC_ISSUER (an OpenID provider)".into(),
            );
        }
    };
    let keys = builder
        .cache_bounds(
            secs("JWKS_CACHE_MIN_SECS", 60)?,
            secs("JWKS_CACHE_MAX_SECS", 24 * 60 * 60)?,
        )
        .refetch_cooldown(secs("JWKS_REFETCH_COOLDOWN_SECS", 10)?)
        .build()?;
    let mut auth = JwtLayer::<Value>::new(keys.clone());
    if let Some(issuer) = env("JWT_ISSUER") {
        auth = auth.issuer(issuer);
    }
    match env("JWT_TYP").as_deref() {
        Some("any") => {}
        typ => auth = auth.token_type(TokenType::header(typ.unwrap_or("at+jwt"))),
    }
    let any_audience = match env("JWT_ANY_AUDIENCE").as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(format!("JWT_ANY_AUDIENCE must be true or false, not `{other}`").into());
        }
    };
    match env("JWT_AUDIENCE") {
        Some(audience) => auth = auth.audience(audience),
        // Without a configured audience, tokens that name one are refused (meant for another
        // API), unless the operator says on purpose that any audience will do.
        None => auth = auth.allow_any_audience(any_audience),
    }
    // A client sends its token many times: verified once, then found again, its expiry and
    // its key (still in the JWKS?) checked on every hit.
    let auth = auth.token_cache(TokenCache::new(10_000));
    // Start even while the provider is down: requests answer 503 until keys arrive.
    if let Err(err) = keys.ready(Duration::from_secs(3)).await {
        eprintln!("keys not loaded yet ({err}); /me answers 503 until they are");
    }

    let app = Router::new()
        .route("/me", get(me))
        .route_layer(auth)
        .route("/ready", get(ready))
        .with_state(keys);
    let bind = env("BIND").unwrap_or_else(|| "127.0.0.1:3001".into());
    let listener = tokio::net::TcpListener::bind(&bind)
        .await
        .map_err(|e| format!("cannot listen on {bind}: {e}"))?;
    eprintln!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
