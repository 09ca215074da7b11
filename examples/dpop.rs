//! DPoP (RFC 9449) end to end: a server that issues DPoP-bound access tokens and protects its
//! API with them, and a client that holds a P-256 key and proves it on every request.
//!
//! ```sh
//! cargo run --example dpop            # the server, on 127.0.0.1:3004
//! cargo run --example dpop -- client  # in another terminal: the client's requests
//! ```
//!
//! - `POST /token` (a form, RFC 6749) takes a `DPoP` proof for itself. With
//!   `grant_type=client_credentials` it answers an access token and a refresh token bound to
//!   the proof's key (`cnf.jkt`), `token_type: DPoP`; with `grant_type=refresh_token` and
//!   `refresh_token=…` it trades the refresh token for a new pair, only with a proof of the
//!   same key.
//! - `GET /orders` requires `Authorization: DPoP <token>` and a fresh proof for that request;
//!   a bearer token, a replayed proof or another key's proof is refused.
//!
//! Every proof is accepted once, at the token endpoint as on the API.
//!
//! `BIND` (default `127.0.0.1:3004`) is where the server listens, `ORIGIN` (default
//! `http://` and the address it listens on) the origin clients address, which proofs name in
//! `htu`; the client reads `ORIGIN` too.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::header::CACHE_CONTROL;
use axum::http::{HeaderMap, HeaderName, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Signer;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tower_jwt_auth::dpop::{Dpop, ProofRequest, ProofRules, proof_header};
use tower_jwt_auth::revocation::MemoryStore;
use tower_jwt_auth::tokens::SessionError;
use tower_jwt_auth::{Auth, AuthError, JwtSessions, SigningKey, VerifyingKey};

#[derive(Clone)]
struct Server {
    sessions: JwtSessions,
    origin: String,
}

/// A token endpoint's refusal (RFC 6749 §5.2, RFC 9449 §5): 400 `invalid_dpop_proof` for a
/// missing, bad or replayed proof, 400 `invalid_grant` for a refresh token refused (another
/// key's, reused, expired...), 503 when the store cannot answer.
struct Refusal(StatusCode, &'static str);

const INVALID_PROOF: Refusal = Refusal(StatusCode::BAD_REQUEST, "invalid_dpop_proof");

impl From<SessionError> for Refusal {
    fn from(err: SessionError) -> Self {
        match err {
            SessionError::Invalid(AuthError::InvalidDpopProof(_)) => INVALID_PROOF,
            SessionError::Invalid(_) | SessionError::Reused => {
                Refusal(StatusCode::BAD_REQUEST, "invalid_grant")
            }
            SessionError::Unavailable(_) => {
                Refusal(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable")
            }
            _ => Refusal(StatusCode::INTERNAL_SERVER_ERROR, "server_error"),
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (self.0, no_store(), Json(json!({"error": self.1}))).into_response()
    }
}

/// Token responses must not be cached (RFC 6749 §5.1).
fn no_store() -> [(HeaderName, &'static str); 1] {
    [(CACHE_CONTROL, "no-store")]
}

/// The form of a token request (RFC 6749 §4.4, §6).
#[derive(Deserialize)]
struct TokenRequest {
    grant_type: String,
    refresh_token: Option<String>,
}

/// The token endpoint: the proof of the token request names the key the tokens are bound to.
async fn token(
    State(server): State<Server>,
    headers: HeaderMap,
    form: Result<Form<TokenRequest>, FormRejection>,
) -> Result<impl IntoResponse, Refusal> {
    let Ok(Form(request)) = form else {
        return Err(Refusal(StatusCode::BAD_REQUEST, "invalid_request"));
    };
    let uri = format!("{}/token", server.origin);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let request_for_proof = ProofRequest {
        method: &Method::POST,
        uri: &uri,
        access_token: None,
    };
    let proof = proof_header(&headers)
        .and_then(|proof| ProofRules::new().verify(proof, &request_for_proof, now))
        .map_err(|_| INVALID_PROOF)?;
    let pair = match (request.grant_type.as_str(), request.refresh_token) {
        // A real server authenticates the client here (client credentials, a login...).
        ("client_credentials", _) => {
            let claims = json!({"sub": "demo-client", "scope": "orders:read"});
            server.sessions.issue_bound(&claims, &proof).await?
        }
        ("refresh_token", Some(token)) => server.sessions.refresh_bound(&token, &proof).await?,
        ("refresh_token", None) => return Err(Refusal(StatusCode::BAD_REQUEST, "invalid_request")),
        _ => return Err(Refusal(StatusCode::BAD_REQUEST, "unsupported_grant_type")),
    };
    let body = json!({
        "access_token": pair.access.token,
        "token_type": "DPoP",
        "expires_in": pair.access.expires_in(),
        "refresh_token": pair.refresh.token,
    });
    Ok((no_store(), Json(body)))
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
    let sessions = JwtSessions::new(
        SigningKey::hs256(secret)?,
        VerifyingKey::hs256(secret)?,
        MemoryStore::new(),
    )
    .access_ttl(Duration::from_secs(300));
    let auth = sessions.layer::<Value>().dpop(Dpop::required(&origin)?);
    let app = Router::new()
        .route("/orders", get(orders))
        .layer(auth)
        .route("/token", post(token))
        .with_state(Server {
            sessions,
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
        .form(&[("grant_type", "client_credentials")])
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
    let thief_key = ClientKey::new()?;
    let thief = thief_key.proof("GET", &orders, Some(&token))?;
    let stolen = with_proof(&thief, "DPoP").await?;
    println!(
        "another key's proof: {} {:?}",
        stolen.status(),
        stolen.headers().get("www-authenticate")
    );

    let refresh_token = answer["refresh_token"].as_str().ok_or("no refresh_token")?;
    let refresh = |key: &ClientKey| -> Result<_, Box<dyn std::error::Error>> {
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ];
        Ok(http
            .post(&token_uri)
            .header("dpop", key.proof("POST", &token_uri, None)?)
            .form(&form)
            .send())
    };
    let stolen = refresh(&thief_key)?.await?;
    println!(
        "refresh with another key's proof: {} {}",
        stolen.status(),
        stolen.text().await?
    );
    let renewed = refresh(&key)?.await?;
    let status = renewed.status();
    let renewed: Value = renewed.json().await?;
    println!(
        "refresh with the client's proof: {status}, token_type {}",
        renewed["token_type"]
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
