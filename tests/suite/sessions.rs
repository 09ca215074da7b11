//! Token lifecycle with the in-memory store: pairs, refresh rotation with reuse detection,
//! logout, and the layer's revocation check (fail closed when the store cannot answer).

use crate::common;

use std::time::Duration;

use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use common::*;
use serde::Deserialize;
use serde_json::json;
use tower_jwt_auth::clock::ManualClock;
use tower_jwt_auth::revocation::{
    MemoryStore, Revocation, RevocationStore, StoreError, StoreFuture,
};
use tower_jwt_auth::tokens::{IssueError, SessionError, TokenPair};
use tower_jwt_auth::{Auth, AuthError, JwtLayer, JwtSessions, SigningKey, VerifyingKey};

#[derive(Clone, Debug, Deserialize)]
struct Claims {
    sub: String,
    sid: Option<String>,
}

fn sessions(store: MemoryStore, clock: &ManualClock) -> JwtSessions {
    JwtSessions::new(
        SigningKey::hs256(SECRET).unwrap(),
        VerifyingKey::hs256(SECRET).unwrap(),
        store,
    )
    .clock(clock.clone())
}

fn app(sessions: &JwtSessions) -> Router {
    Router::new()
        .route(
            "/",
            get(|Auth(c): Auth<Claims>| async move { Json(json!({"sub": c.sub, "sid": c.sid})) }),
        )
        .layer(sessions.layer::<Claims>())
}

fn login(sessions: &JwtSessions) -> TokenPair {
    sessions
        .issue(&json!({"sub": "1", "username": "john"}))
        .unwrap()
}

#[tokio::test]
async fn a_pair_shares_its_family_and_each_token_works_only_where_it_belongs() {
    let clock = ManualClock::new(NOW);
    let sessions = sessions(MemoryStore::new(), &clock);
    let pair = login(&sessions);
    let (access, refresh) = (payload(&pair.access.token), payload(&pair.refresh.token));
    assert_eq!(access["sid"], pair.sid.as_str());
    assert_eq!(refresh["sid"], pair.sid.as_str());
    assert_ne!(access["jti"], refresh["jti"]);
    assert_eq!(
        (access["type"].as_str(), refresh["type"].as_str()),
        (Some("access"), Some("refresh"))
    );
    assert_eq!(access["exp"], NOW + 900);
    assert_eq!(refresh["exp"], NOW + 7 * 24 * 3600);
    assert_eq!(refresh["username"], "john");

    let app = app(&sessions);
    assert_eq!(
        with_bearer(&app, &pair.access.token).await.body,
        json!({"sub": "1", "sid": pair.sid})
    );
    assert_eq!(
        with_bearer(&app, &pair.refresh.token).await.description(),
        "wrong token type"
    );
    let err = sessions.refresh(&pair.access.token).await.unwrap_err();
    assert!(
        matches!(err, SessionError::Invalid(AuthError::WrongTokenType)),
        "{err:?}"
    );
}

#[tokio::test]
async fn refresh_returns_a_new_pair_of_the_same_family_once() {
    let clock = ManualClock::new(NOW);
    let sessions = sessions(MemoryStore::new(), &clock);
    let first = login(&sessions);
    clock.advance(Duration::from_secs(600));
    let second = sessions.refresh(&first.refresh.token).await.unwrap();
    assert_eq!(second.sid, first.sid);
    assert_ne!(second.refresh.jti, first.refresh.jti);
    let claims = payload(&second.access.token);
    assert_eq!(
        (claims["sub"].as_str(), claims["username"].as_str()),
        (Some("1"), Some("john"))
    );
    assert_eq!(claims["iat"], NOW + 600);
    assert_eq!(claims["exp"], NOW + 600 + 900);
    assert_accepted(&app(&sessions), &second.access.token).await;
}

#[tokio::test]
async fn reusing_a_refresh_token_revokes_the_whole_family() {
    let clock = ManualClock::new(NOW);
    let sessions = sessions(MemoryStore::new(), &clock);
    let other_login = login(&sessions);
    let first = login(&sessions);
    let second = sessions.refresh(&first.refresh.token).await.unwrap();

    // The stolen (already used) refresh token comes back.
    let err = sessions.refresh(&first.refresh.token).await.unwrap_err();
    assert!(matches!(err, SessionError::Reused), "{err:?}");
    assert_eq!(err.status(), StatusCode::UNAUTHORIZED);

    let app = app(&sessions);
    for token in [&first.access.token, &second.access.token] {
        assert_eq!(
            with_bearer(&app, token).await.description(),
            "token revoked"
        );
    }
    let err = sessions.refresh(&second.refresh.token).await.unwrap_err();
    assert!(
        matches!(err, SessionError::Invalid(AuthError::Revoked)),
        "{err:?}"
    );
    // Another login of the same user is untouched.
    assert_accepted(&app, &other_login.access.token).await;
}

#[tokio::test]
async fn logout_refuses_the_access_token_and_its_refresh_token() {
    let clock = ManualClock::new(NOW);
    let sessions = sessions(MemoryStore::new(), &clock);
    let pair = login(&sessions);
    let app = app(&sessions);
    assert_accepted(&app, &pair.access.token).await;
    sessions.logout(&pair.sid).await.unwrap();
    let reply = with_bearer(&app, &pair.access.token).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        reply.www_authenticate(),
        r#"Bearer error="invalid_token", error_description="token revoked""#
    );
    let err = sessions.refresh(&pair.refresh.token).await.unwrap_err();
    assert!(
        matches!(err, SessionError::Invalid(AuthError::Revoked)),
        "{err:?}"
    );
}

#[tokio::test]
async fn revoking_one_token_leaves_its_family_alone() {
    let clock = ManualClock::new(NOW);
    let sessions = sessions(MemoryStore::new(), &clock);
    let pair = login(&sessions);
    sessions
        .revoke_token(&pair.access.jti, pair.access.expires_at)
        .await
        .unwrap();
    let app = app(&sessions);
    assert_eq!(
        with_bearer(&app, &pair.access.token).await.description(),
        "token revoked"
    );
    let next = sessions.refresh(&pair.refresh.token).await.unwrap();
    assert_accepted(&app, &next.access.token).await;
}

#[tokio::test]
async fn a_refresh_token_without_sid_from_another_library_works_once_and_its_reuse_kills_what_it_made()
 {
    let clock = ManualClock::new(NOW);
    let sessions = sessions(MemoryStore::new(), &clock);
    let foreign = hs256_token(
        &hs256_header(),
        &json!({"sub": "1", "iat": NOW, "exp": NOW + 3600, "jti": "py-1", "type": "refresh"}),
        SECRET,
    );
    let pair = sessions.refresh(&foreign).await.unwrap();
    assert_eq!(pair.sid, "py-1");
    assert!(matches!(
        sessions.refresh(&foreign).await,
        Err(SessionError::Reused)
    ));
    assert_eq!(
        with_bearer(&app(&sessions), &pair.access.token)
            .await
            .description(),
        "token revoked"
    );
}

#[tokio::test]
async fn an_expired_or_forged_refresh_token_is_refused() {
    let clock = ManualClock::new(NOW);
    let sessions = sessions(MemoryStore::new(), &clock);
    let pair = login(&sessions);
    let forged = hs256_token(
        &hs256_header(),
        &json!({"sub": "1", "exp": NOW + 3600, "jti": "x", "type": "refresh"}),
        b"another-secret-of-at-least-32-bytes",
    );
    assert!(matches!(
        sessions.refresh(&forged).await,
        Err(SessionError::Invalid(AuthError::InvalidSignature))
    ));
    clock.advance(Duration::from_secs(7 * 24 * 3600 + 60));
    assert!(matches!(
        sessions.refresh(&pair.refresh.token).await,
        Err(SessionError::Invalid(AuthError::Expired))
    ));
}

#[tokio::test]
async fn a_token_without_jti_is_refused_where_revocation_is_on() {
    let layer = JwtLayer::<Claims>::new(VerifyingKey::hs256(SECRET).unwrap())
        .clock(ManualClock::new(NOW))
        .revocation(MemoryStore::new());
    let app = Router::new()
        .route("/", get(|Auth(_): Auth<Claims>| async { "ok" }))
        .layer(layer);
    let mut claims = claims();
    claims.as_object_mut().unwrap().remove("jti");
    let reply = with_bearer(&app, &hs256_token(&hs256_header(), &claims, SECRET)).await;
    assert_eq!(reply.description(), "missing required claim");
}

/// A store whose backend is down.
struct DownStore;

impl RevocationStore for DownStore {
    fn revoke<'a>(&'a self, _: Revocation<'a>, _: u64) -> StoreFuture<'a, ()> {
        Box::pin(async { Err(StoreError::unavailable("down")) })
    }
    fn consume<'a>(&'a self, _: &'a str, _: u64) -> StoreFuture<'a, bool> {
        Box::pin(async { Err(StoreError::unavailable("down")) })
    }
    fn check(&self, _: &str, _: Option<&str>, _: u64) -> Result<bool, StoreError> {
        Err(StoreError::unavailable("down"))
    }
}

fn down_app(fail_open: bool) -> Router {
    let mut layer = JwtLayer::<Claims>::new(VerifyingKey::hs256(SECRET).unwrap())
        .clock(ManualClock::new(NOW))
        .revocation(DownStore);
    if fail_open {
        layer = layer.allow_revocation_outage(true);
    }
    Router::new()
        .route("/", get(|Auth(_): Auth<Claims>| async { "ok" }))
        .layer(layer)
}

#[tokio::test]
async fn an_unreachable_store_fails_closed_with_503() {
    let token = hs256_token(&hs256_header(), &claims(), SECRET);
    let reply = with_bearer(&down_app(false), &token).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(reply.headers["retry-after"], "1");
    assert!(reply.headers.get("www-authenticate").is_none());
    assert_eq!(
        reply.body,
        json!({"error": "temporarily_unavailable", "error_description": "revocation store unavailable"})
    );
    let grpc = request(
        &down_app(false),
        "/",
        &[
            ("authorization", &format!("Bearer {token}")),
            ("content-type", "application/grpc"),
        ],
    )
    .await;
    assert_eq!(grpc.headers["grpc-status"], "14");
    // A forged token is still refused before the store is asked.
    let forged = hs256_token(
        &hs256_header(),
        &claims(),
        b"another-secret-of-at-least-32-bytes",
    );
    assert_eq!(
        with_bearer(&down_app(false), &forged).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn fail_open_accepts_valid_tokens_but_never_forged_ones() {
    let token = hs256_token(&hs256_header(), &claims(), SECRET);
    assert_accepted(&down_app(true), &token).await;
    let forged = hs256_token(
        &hs256_header(),
        &claims(),
        b"another-secret-of-at-least-32-bytes",
    );
    assert_eq!(
        with_bearer(&down_app(true), &forged).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn refresh_fails_with_503_when_the_store_is_down() {
    let sessions = JwtSessions::new(
        SigningKey::hs256(SECRET).unwrap(),
        VerifyingKey::hs256(SECRET).unwrap(),
        DownStore,
    );
    let pair = sessions.issue(&json!({"sub": "1"})).unwrap();
    let err = sessions.refresh(&pair.refresh.token).await.unwrap_err();
    assert!(matches!(err, SessionError::Unavailable(_)), "{err:?}");
    assert_eq!(err.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(sessions.logout(&pair.sid).await.is_err());
}

#[tokio::test]
async fn memory_store_stays_bounded_under_100k_revocations_and_drops_expired_ones() {
    let clock = ManualClock::new(NOW);
    let store = MemoryStore::new().clock(clock.clone());
    for i in 0..100_000 {
        store
            .revoke(Revocation::Token(&format!("jti-{i}")), NOW + 60 + (i % 60))
            .await
            .unwrap();
    }
    assert_eq!(store.len(), 100_000);
    assert!(store.check("jti-99999", None, NOW).unwrap());
    clock.advance(Duration::from_secs(90));
    // Half of them have expired: the next write sweeps them out.
    store
        .revoke(Revocation::Family("sid-1"), NOW + 3600)
        .await
        .unwrap();
    let live = (0..100_000u64).filter(|i| 60 + i % 60 > 90).count();
    assert_eq!(store.len(), live + 1, "only live entries stay");
    assert!(!store.check("jti-0", None, NOW + 90).unwrap());
    clock.advance(Duration::from_secs(60));
    store.purge_expired();
    assert_eq!(store.len(), 1);
}

#[tokio::test]
async fn consume_is_true_once_per_jti() {
    let store = MemoryStore::new();
    let until = u64::MAX / 2;
    assert!(store.consume("r-1", until).await.unwrap());
    assert!(!store.consume("r-1", until).await.unwrap());
    assert!(store.consume("r-2", until).await.unwrap());
}

#[tokio::test]
async fn a_refresh_token_just_past_exp_but_within_leeway_still_works_only_once() {
    let clock = ManualClock::new(NOW);
    let sessions = sessions(MemoryStore::new().clock(clock.clone()), &clock)
        .refresh_ttl(Duration::from_secs(3600))
        .leeway(Duration::from_secs(30));
    let pair = login(&sessions);
    clock.set(pair.refresh.expires_at + 10);
    assert!(sessions.refresh(&pair.refresh.token).await.is_ok());
    clock.advance(Duration::from_secs(5));
    assert!(matches!(
        sessions.refresh(&pair.refresh.token).await,
        Err(SessionError::Reused)
    ));
}

#[tokio::test]
async fn sessions_audience_replaces_and_audiences_mints_and_accepts_each() {
    let clock = ManualClock::new(NOW);
    let replaced = sessions(MemoryStore::new(), &clock)
        .audience("orders")
        .audience("billing");
    let pair = login(&replaced);
    assert_eq!(payload(&pair.access.token)["aud"], "billing");
    assert_eq!(payload(&pair.refresh.token)["aud"], "billing");
    assert!(replaced.refresh(&pair.refresh.token).await.is_ok());

    let many = sessions(MemoryStore::new(), &clock).audiences(["orders", "billing"]);
    let pair = login(&many);
    assert_eq!(
        payload(&pair.access.token)["aud"],
        json!(["orders", "billing"])
    );
    assert_eq!(
        with_bearer(&app(&many), &pair.access.token).await.status,
        StatusCode::OK
    );

    // Tokens of sessions for another audience: refused by the layer and by refresh.
    let foreign = login(&sessions(MemoryStore::new(), &clock).audience("reports"));
    assert_eq!(
        with_bearer(&app(&many), &foreign.access.token)
            .await
            .description(),
        "invalid audience"
    );
    let err = many.refresh(&foreign.refresh.token).await.unwrap_err();
    assert!(
        matches!(err, SessionError::Invalid(AuthError::InvalidAudience)),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_refresh_the_store_cannot_check_is_503_and_keeps_the_stores_error_as_its_cause() {
    let clock = ManualClock::new(NOW);
    let pair = login(&sessions(MemoryStore::new(), &clock));
    let down = JwtSessions::new(
        SigningKey::hs256(SECRET).unwrap(),
        VerifyingKey::hs256(SECRET).unwrap(),
        DownStore,
    )
    .clock(clock.clone());
    let err = down.refresh(&pair.refresh.token).await.unwrap_err();
    assert!(matches!(err, SessionError::Unavailable(_)), "{err:?}");
    assert_eq!(err.status(), StatusCode::SERVICE_UNAVAILABLE);
    let cause = std::error::Error::source(&err).expect("the store's error");
    assert_eq!(cause.to_string(), "revocation store unavailable: down");
    let response = err.to_response();
    assert_eq!(response.headers()["retry-after"], "1");
}

#[test]
fn a_login_whose_claims_are_not_an_object_is_a_500_json_answer() {
    let clock = ManualClock::new(NOW);
    let err = sessions(MemoryStore::new(), &clock)
        .issue(&json!(["not", "an", "object"]))
        .unwrap_err();
    assert!(
        matches!(err, SessionError::Issue(IssueError::ClaimsNotAnObject)),
        "{err:?}"
    );
    let response = err.to_response();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.body().as_ref(), br#"{"error":"server_error"}"#);
}

#[tokio::test]
async fn a_revoked_token_stays_refused_through_the_leeway_after_its_exp() {
    let clock = ManualClock::new(NOW);
    let sessions = sessions(MemoryStore::new(), &clock);
    let app = app(&sessions);
    let pair = login(&sessions);
    sessions
        .revoke_token(&pair.access.jti, pair.access.expires_at)
        .await
        .unwrap();
    // Past `exp` but inside the default 30 s leeway, the layer would still take the token: the
    // revocation must outlive `exp` by as much.
    clock.set(pair.access.expires_at + 20);
    assert_eq!(
        with_bearer(&app, &pair.access.token).await.description(),
        "token revoked"
    );
    clock.set(pair.access.expires_at + 31);
    assert_eq!(
        with_bearer(&app, &pair.access.token).await.description(),
        "token expired"
    );
}

#[tokio::test]
async fn a_logged_out_familys_last_tokens_stay_refused_through_the_leeway() {
    let clock = ManualClock::new(NOW);
    let sessions = sessions(MemoryStore::new(), &clock);
    let app = app(&sessions);
    let pair = login(&sessions);
    sessions.logout(&pair.sid).await.unwrap();
    clock.set(pair.refresh.expires_at + 20);
    let err = sessions.refresh(&pair.refresh.token).await.unwrap_err();
    assert!(
        matches!(err, SessionError::Invalid(AuthError::Revoked)),
        "{err:?}"
    );
    assert_eq!(
        with_bearer(&app, &pair.access.token).await.description(),
        "token expired"
    );
}
