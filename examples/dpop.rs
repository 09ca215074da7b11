//! DPoP (RFC 9449) end to end: a server that issues DPoP-bound access tokens and protects its
//! API with them, and a client that holds a P-256 key and proves it on every request.
//!
//! ```sh
//! cargo run --example dpop            # the server, on 127.0.0.1:3004
//! cargo run --example dpop -- client  # in another terminal: the client's requests
//! ```
//!
//! - `POST /token` takes a `DPoP` proof for itself and answers an access token bound to the
//!   proof's key (`cnf.jkt`), `token_type: DPoP`.
//! - `GET /orders` requires `Authorization: DPoP <token>` and a fresh proof for that request;
//!   a bearer token, a replayed proof or another key's proof is refused.
//!
//! `BIND` (default `127.0.0.1:3004`) is where the server listens, `ORIGIN` (default
//! `http://` and the address it listens on) the origin clients address, which proofs name in
//! `htu`; the client reads `ORIGIN` too.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Signer;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tower_jwt_auth::dpop::{Dpop, ProofRequest, ProofRules, proof_header};
use tower_jwt_auth::{Auth, JwtLayer, SigningKey, TokenIssuer, VerifyingKey};

#[derive(Clone)]
struct Server {
    issuer: TokenIssuer,
    origin: String,
}

/// The token endpoint: the proof of the token request names the key to bind the token to.
async fn token(
    State(server): State<Server>,
    headers: HeaderMap,
) -> Result<Json<Value>, StatusCode> {
    let proof = proof_header(&headers).map_err(|_| StatusCode::BAD_REQUEST)?;
    let uri = format!("{}/token", server.origin);
    let request = ProofRequest {
        method: &Method::POST,
        uri: &uri,
        access_token: None,
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let proof = ProofRules::new()
        .verify(proof, &request, now)
        .map_err(|_| StatusCode::BAD_REQUEST)?;
    // A real server authenticates the client here (client credentials, a login...).
    let issued = server
        .issuer
        .issue_bound(
            &json!({"sub": "demo-client", "scope": "orders:read"}),
            proof.jkt(),
        )
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    Ok(Json(json!({
        "access_token": issued.token,
        "token_type": "DPoP",
        "expires_in": issued.expires_in(),
    })))
}

async fn orders(Auth(claims): Auth<Value>) -> Json<Value> {
    Json(json!({"orders": [], "for": claims["sub"], "bound_to": claims["cnf"]["jkt"]}))
}

async fn serve() -> Result<(), Box<dyn std::error::Error>> {
    let bind = std::env::var("BIND").unwrap_or_else(|_| "127.0.0.1:3004".into());
    let listener = tokio::net::TcpListener::bind(&bind)
        .await
        .map_err(|e| format!("cannot listen on {bind}: {e}"))?;
    let origin = match std::env::var("ORIGIN") {
        Ok(origin) => origin,
        Err(_) => format!("http://{}", listener.local_addr()?),
    };
    // One secret for this run: the server both issues and verifies its tokens.
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|_| "no randomness")?;
    let issuer = TokenIssuer::new(SigningKey::hs256(secret)?).ttl(Duration::from_secs(300));
    let auth = JwtLayer::<Value>::new(VerifyingKey::hs256(secret)?).dpop(Dpop::required(&origin)?);
    let app = Router::new()
        .route("/orders", get(orders))
        .layer(auth)
        .route("/token", post(token))
        .with_state(Server {
            issuer,
            origin: origin.clone(),
        });
    eprintln!("listening on {origin}");
    axum::serve(listener, app).await?;
    Ok(())
}

/// A client's key: P-256, made for this run.
struct ClientKey(p256::ecdsa::SigningKey);

impl ClientKey {
    fn new() -> Result<Self, Box<dyn std::error::Error>> {
        loop {
            let mut scalar = [0u8; 32];
            getrandom::fill(&mut scalar).map_err(|_| "no randomness")?;
            // Not every 32 bytes are a valid scalar; try again (rarely needed).
            if let Ok(key) = p256::ecdsa::SigningKey::from_slice(&scalar) {
                return Ok(Self(key));
            }
        }
    }

    fn jwk(&self) -> Value {
        let point = self.0.verifying_key().to_sec1_point(false);
        let xy = point.as_bytes();
        json!({
            "kty": "EC",
            "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(&xy[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&xy[33..65]),
        })
    }

    /// A proof for `method uri` (with the hash of `token`, when there is one).
    fn proof(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
    ) -> Result<String, Box<dyn std::error::Error>> {
        let mut jti = [0u8; 16];
        getrandom::fill(&mut jti).map_err(|_| "no randomness")?;
        let iat = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
        let header = json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk()});
        let mut claims =
            json!({"jti": URL_SAFE_NO_PAD.encode(jti), "htm": method, "htu": uri, "iat": iat});
        if let Some(token) = token {
            claims["ath"] = json!(URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes())));
        }
        let message = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature: p256::ecdsa::Signature = self.0.sign(message.as_bytes());
        Ok(format!(
            "{message}.{}",
            URL_SAFE_NO_PAD.encode(signature.to_bytes())
        ))
    }
}

async fn client() -> Result<(), Box<dyn std::error::Error>> {
    let origin = std::env::var("ORIGIN").unwrap_or_else(|_| "http://127.0.0.1:3004".into());
    let http = reqwest::Client::new();
    let key = ClientKey::new()?;
    let token_uri = format!("{origin}/token");
    let answer: Value = http
        .post(&token_uri)
        .header("dpop", key.proof("POST", &token_uri, None)?)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let token = answer["access_token"]
        .as_str()
        .ok_or("no access_token")?
        .to_owned();
    println!("token endpoint: token_type {}", answer["token_type"]);

    let orders = format!("{origin}/orders");
    let proof = key.proof("GET", &orders, Some(&token))?;
    let with_proof = |proof: &str, scheme: &str| {
        http.get(&orders)
            .header("authorization", format!("{scheme} {token}"))
            .header("dpop", proof.to_owned())
            .send()
    };
    let ok = with_proof(&proof, "DPoP").await?;
    println!(
        "GET /orders with a fresh proof: {} {}",
        ok.status(),
        ok.text().await?
    );
    let replayed = with_proof(&proof, "DPoP").await?;
    println!(
        "the same proof again: {} {:?}",
        replayed.status(),
        replayed.headers().get("www-authenticate")
    );
    let bearer = http.get(&orders).bearer_auth(&token).send().await?;
    println!(
        "the token as Bearer: {} {:?}",
        bearer.status(),
        bearer.headers().get("www-authenticate")
    );
    let thief = ClientKey::new()?.proof("GET", &orders, Some(&token))?;
    let stolen = with_proof(&thief, "DPoP").await?;
    println!(
        "another key's proof: {} {:?}",
        stolen.status(),
        stolen.headers().get("www-authenticate")
    );
    Ok(())
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt::init();
    let run = match std::env::args().nth(1).as_deref() {
        Some("client") => client().await,
        None | Some("server") => serve().await,
        Some(other) => {
            Err(format!("unknown command `{other}`: run with no argument or `client`").into())
        }
    };
    if let Err(err) = run {
        eprintln!("error: {err}");
        std::process::exit(1);
    }
}
