//! DPoP-bound sessions (`JwtSessions::issue_bound`, `refresh_bound`), with proofs from the
//! independent client in `tests/common/dpop.rs`: a bound login's access token passes only a
//! DPoP layer with its key's proof; its refresh token is traded only with a proof of its key,
//! and a refusal spends nothing; each proof is accepted once; forged or otherwise bound refresh
//! tokens are refused; a store that cannot answer fails closed.
#![cfg(feature = "axum")]

use crate::common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::dpop::Client;
use common::{NOW, Reply, SECRET, b64, send};
use serde_json::{Value, json};
use tower_jwt_auth::clock::ManualClock;
use tower_jwt_auth::dpop::{Dpop, DpopError, Proof, ProofRequest, ProofRules};
use tower_jwt_auth::revocation::{
    MemoryStore, Revocation, RevocationStore, StoreError, StoreFuture,
};
use tower_jwt_auth::tokens::{SessionError, TokenPair};
use tower_jwt_auth::{
    Auth, AuthError, JwtSessions, SigningKey, TokenIssuer, TokenType, VerifyingKey,
};

const APP: &str = "https://app.example";

fn sessions(store: impl RevocationStore) -> JwtSessions {
    JwtSessions::new(
        SigningKey::hs256(SECRET).unwrap(),
        VerifyingKey::hs256(SECRET).unwrap(),
        store,
    )
    .clock(ManualClock::new(NOW))
}

/// `client`'s proof for `POST {APP}{path}`, checked as the app's route would.
fn proof(client: &Client, path: &str, jti: &str) -> Proof {
    let uri = format!("{APP}{path}");
    let header = client.proof_without_token("POST", &uri, NOW, jti);
    let request = ProofRequest {
        method: &Method::POST,
        uri: &uri,
        access_token: None,
    };
    ProofRules::new().verify(&header, &request, NOW).unwrap()
}

/// The payload of a token, as JSON.
fn payload(token: &str) -> Value {
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// A login bound to `client`'s key, with a proof whose `jti` is `jti`.
async fn bound_login(sessions: &JwtSessions, client: &Client, jti: &str) -> TokenPair {
    sessions
        .issue_bound(&json!({"sub": "ada"}), &proof(client, "/login", jti))
        .await
        .unwrap()
}

/// `GET {APP}/me` with `Authorization: <scheme> <token>` and, when given, `client`'s proof.
async fn me(app: &Router, scheme: &str, token: &str, client: Option<&Client>, jti: &str) -> Reply {
    let mut request = Request::builder()
        .uri("/me")
        .header("authorization", format!("{scheme} {token}"));
    if let Some(client) = client {
        let proof = client.proof_for("GET", &format!("{APP}/me"), token, NOW, jti);
        request = request.header("dpop", proof);
    }
    send(app, request.body(Body::empty()).unwrap()).await
}

#[tokio::test]
async fn a_bound_logins_access_token_passes_only_with_a_proof_of_its_key() {
    let sessions = sessions(MemoryStore::new());
    let (client, thief) = (Client::new(7), Client::new(8));
    let login = bound_login(&sessions, &client, "login-1").await;
    assert_eq!(
        payload(&login.access.token)["cnf"],
        json!({"jkt": client.thumbprint()})
    );
    assert_eq!(
        payload(&login.refresh.token)["cnf"],
        json!({"jkt": client.thumbprint()})
    );

    let app = Router::new()
        .route("/me", get(|Auth(c): Auth<Value>| async move { Json(c) }))
        .layer(sessions.layer::<Value>().dpop(Dpop::allowed(APP).unwrap()));
    let token = &login.access.token;
    let ok = me(&app, "DPoP", token, Some(&client), "me-1").await;
    assert_eq!(
        (ok.status, &ok.body["sub"]),
        (StatusCode::OK, &json!("ada"))
    );
    let binding = AuthError::DpopBinding.description();
    let stolen = me(&app, "DPoP", token, Some(&thief), "me-2").await;
    assert_eq!(
        (stolen.status, stolen.description()),
        (StatusCode::UNAUTHORIZED, binding)
    );
    let as_bearer = me(&app, "Bearer", token, None, "").await;
    assert_eq!(
        (as_bearer.status, as_bearer.description()),
        (StatusCode::UNAUTHORIZED, binding)
    );
    // The sessions' plain layer takes no bound token at all.
    let plain = Router::new()
        .route("/me", get(|Auth(_): Auth<Value>| async { "ok" }))
        .layer(sessions.layer::<Value>());
    let reply = me(&plain, "Bearer", token, None, "").await;
    assert_eq!(
        (reply.status, reply.description()),
        (StatusCode::UNAUTHORIZED, binding)
    );
}

#[tokio::test]
async fn a_bound_refresh_token_is_traded_only_with_a_proof_of_its_key_and_a_refusal_spends_nothing()
{
    let sessions = sessions(MemoryStore::new());
    let (client, thief) = (Client::new(7), Client::new(8));
    let login = bound_login(&sessions, &client, "login-1").await;
    let refresh = &login.refresh.token;

    let err = sessions
        .refresh_bound(refresh, &proof(&thief, "/refresh", "r-1"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, SessionError::Invalid(AuthError::DpopBinding)),
        "{err:?}"
    );
    assert_eq!(err.status(), StatusCode::UNAUTHORIZED);
    let err = sessions.refresh(refresh).await.unwrap_err();
    assert!(
        matches!(err, SessionError::Invalid(AuthError::DpopBinding)),
        "{err:?}"
    );

    // Neither refusal spent the token: its holder trades it, once, for a pair bound alike.
    let next = sessions
        .refresh_bound(refresh, &proof(&client, "/refresh", "r-2"))
        .await
        .unwrap();
    assert_eq!(next.sid, login.sid);
    for token in [&next.access.token, &next.refresh.token] {
        assert_eq!(payload(token)["cnf"], json!({"jkt": client.thumbprint()}));
    }
    let err = sessions
        .refresh_bound(refresh, &proof(&client, "/refresh", "r-3"))
        .await
        .unwrap_err();
    assert!(matches!(err, SessionError::Reused), "{err:?}");
}

#[tokio::test]
async fn an_unbound_refresh_token_is_not_traded_with_a_proof() {
    let sessions = sessions(MemoryStore::new());
    let login = sessions.issue(&json!({"sub": "ada"})).unwrap();
    let err = sessions
        .refresh_bound(
            &login.refresh.token,
            &proof(&Client::new(7), "/refresh", "r-1"),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, SessionError::Invalid(AuthError::DpopBinding)),
        "{err:?}"
    );
    let next = sessions.refresh(&login.refresh.token).await.unwrap();
    assert!(payload(&next.access.token).get("cnf").is_none());
}

#[tokio::test]
async fn a_proof_is_accepted_once_at_login_and_at_refresh() {
    let sessions = sessions(MemoryStore::new());
    let client = Client::new(7);
    let login_proof = proof(&client, "/login", "once");
    let login = sessions
        .issue_bound(&json!({"sub": "ada"}), &login_proof)
        .await
        .unwrap();
    let err = sessions
        .issue_bound(&json!({"sub": "ada"}), &login_proof)
        .await
        .unwrap_err();
    assert_replayed(&err);

    let refresh_proof = proof(&client, "/refresh", "r-1");
    sessions
        .refresh_bound(&login.refresh.token, &refresh_proof)
        .await
        .unwrap();
    // A replayed proof with another refresh token of the key: refused, the token unspent.
    let other = bound_login(&sessions, &client, "login-2").await;
    let err = sessions
        .refresh_bound(&other.refresh.token, &refresh_proof)
        .await
        .unwrap_err();
    assert_replayed(&err);
    sessions
        .refresh_bound(&other.refresh.token, &proof(&client, "/refresh", "r-2"))
        .await
        .unwrap();
}

fn assert_replayed(err: &SessionError) {
    assert!(
        matches!(
            err,
            SessionError::Invalid(AuthError::InvalidDpopProof(DpopError::Replayed))
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_refresh_token_rebound_to_another_key_or_bound_otherwise_is_refused() {
    let sessions = sessions(MemoryStore::new());
    let (client, thief) = (Client::new(7), Client::new(8));
    let login = bound_login(&sessions, &client, "login-1").await;

    // The thief's thumbprint in place of the holder's, the signature kept: a forgery.
    let mut claims = payload(&login.refresh.token);
    claims["cnf"]["jkt"] = json!(thief.thumbprint());
    let parts: Vec<&str> = login.refresh.token.split('.').collect();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        b64(claims.to_string().as_bytes()),
        parts[2]
    );
    let err = sessions
        .refresh_bound(&forged, &proof(&thief, "/refresh", "r-1"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, SessionError::Invalid(AuthError::InvalidSignature)),
        "{err:?}"
    );

    // Bound to an mTLS certificate (RFC 8705), which nothing here can check.
    let refresh_tokens = TokenIssuer::new(SigningKey::hs256(SECRET).unwrap())
        .token_type(TokenType::claim("type", "refresh"))
        .clock(ManualClock::new(NOW));
    let mtls = refresh_tokens
        .issue(&json!({"sub": "ada", "sid": "s", "cnf": {"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}}))
        .unwrap();
    for result in [
        sessions.refresh(&mtls.token).await,
        sessions
            .refresh_bound(&mtls.token, &proof(&client, "/refresh", "r-2"))
            .await,
    ] {
        let err = result.unwrap_err();
        assert!(
            matches!(err, SessionError::Invalid(AuthError::DpopBinding)),
            "{err:?}"
        );
    }
}

/// A store whose `consume` cannot answer (its other calls are the memory store's).
struct ConsumeDown(MemoryStore);

impl RevocationStore for ConsumeDown {
    fn revoke<'a>(&'a self, what: Revocation<'a>, until: u64) -> StoreFuture<'a, ()> {
        self.0.revoke(what, until)
    }
    fn consume<'a>(&'a self, _: &'a str, _: u64) -> StoreFuture<'a, bool> {
        Box::pin(async { Err(StoreError::unavailable("down")) })
    }
    fn check(&self, jti: &str, sid: Option<&str>, now: u64) -> Result<bool, StoreError> {
        self.0.check(jti, sid, now)
    }
}

#[tokio::test]
async fn a_bound_login_fails_closed_with_503_when_the_store_cannot_remember_its_proof() {
    let sessions = sessions(ConsumeDown(MemoryStore::new()));
    let err = sessions
        .issue_bound(
            &json!({"sub": "ada"}),
            &proof(&Client::new(7), "/login", "l"),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, SessionError::Unavailable(_)), "{err:?}");
    assert_eq!(err.status(), StatusCode::SERVICE_UNAVAILABLE);
}
