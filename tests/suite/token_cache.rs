//! The verified-token cache (`JwtLayer::token_cache`): a token verified once is answered from
//! the cache, and every hit checks again what can change: expiry, revocation, the CSRF binding,
//! the key set (a JWKS rotation). Forged tokens never get in nor evict good ones; the bound
//! holds; many tasks share it; a layer never serves another layer's rules.

use crate::common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, Request, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use common::*;
use serde_json::{Value, json};
use tower_jwt_auth::clock::ManualClock;
use tower_jwt_auth::middleware::{CacheStats, TokenCache};
use tower_jwt_auth::revocation::{MemoryStore, Revocation, RevocationStore};
use tower_jwt_auth::{Auth, AuthError, JwtLayer, TokenSource, VerifyingKey};

fn layer(clock: &ManualClock) -> JwtLayer<Value> {
    JwtLayer::new(VerifyingKey::hs256(SECRET).unwrap())
        .clock(clock.clone())
        .token_cache(TokenCache::new(1000))
}

fn app(layer: JwtLayer<Value>) -> Router {
    Router::new()
        .route(
            "/",
            get(|Auth(c): Auth<Value>| async move { Json(c) })
                .post(|Auth(c): Auth<Value>| async move { Json(c) }),
        )
        .layer(layer)
}

fn token(changes: Value) -> String {
    let mut claims = claims();
    for (name, value) in changes.as_object().unwrap() {
        claims[name] = value.clone();
    }
    hs256_token(&hs256_header(), &claims, SECRET)
}

fn stats(layer: &JwtLayer<Value>) -> CacheStats {
    layer.token_cache_stats().unwrap()
}

#[tokio::test]
async fn the_same_token_again_is_a_hit_with_the_same_claims() {
    let layer = layer(&ManualClock::new(NOW));
    let app = app(layer.clone());
    let token = token(json!({}));
    let first = with_bearer(&app, &token).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(
        stats(&layer),
        CacheStats {
            hits: 0,
            misses: 1,
            evictions: 0,
            entries: 1
        }
    );
    let second = with_bearer(&app, &token).await;
    assert_eq!((second.status, &second.body), (StatusCode::OK, &first.body));
    assert_eq!(first.body["username"], "john");
    assert_eq!(stats(&layer).hits, 1);
    // `verify` outside a request takes the same path.
    assert_eq!(layer.verify(&token).await.unwrap()["sub"], "1");
    assert_eq!(stats(&layer).hits, 2);
}

#[tokio::test]
async fn a_cached_token_is_refused_once_it_expires() {
    let clock = ManualClock::new(NOW);
    let layer = layer(&clock);
    let app = app(layer.clone());
    let token = token(json!({"exp": NOW + 60}));
    assert_accepted(&app, &token).await;
    assert_accepted(&app, &token).await;
    // Within the leeway (30 s) past exp: still accepted, as a full verification would.
    clock.advance(Duration::from_secs(80));
    assert_accepted(&app, &token).await;
    clock.advance(Duration::from_secs(20));
    assert_eq!(
        with_bearer(&app, &token).await.description(),
        "token expired"
    );
    assert_eq!(stats(&layer).entries, 0, "an expired entry is dropped");
    assert_eq!(layer.verify(&token).await, Err(AuthError::Expired));
}

#[tokio::test]
async fn a_cached_token_is_refused_once_revoked() {
    let clock = ManualClock::new(NOW);
    let store = MemoryStore::new();
    let layer = layer(&clock).revocation(store.clone());
    let app = app(layer.clone());
    let token = token(json!({"jti": "j-7", "sid": "login-1"}));
    assert_accepted(&app, &token).await;
    assert_accepted(&app, &token).await;
    assert_eq!(stats(&layer).hits, 1);
    store
        .revoke(Revocation::Token("j-7"), NOW + 3600)
        .await
        .unwrap();
    assert_eq!(
        with_bearer(&app, &token).await.description(),
        "token revoked"
    );
    // The family too.
    let other = token_with_family("j-8", "login-2");
    assert_accepted(&app, &other).await;
    assert_accepted(&app, &other).await;
    store
        .revoke(Revocation::Family("login-2"), NOW + 3600)
        .await
        .unwrap();
    assert_eq!(
        with_bearer(&app, &other).await.description(),
        "token revoked"
    );
}

fn token_with_family(jti: &str, sid: &str) -> String {
    token(json!({"jti": jti, "sid": sid}))
}

#[tokio::test]
async fn the_csrf_binding_of_a_cookie_token_is_checked_on_every_hit() {
    let clock = ManualClock::new(NOW);
    let layer = layer(&clock).token_source(TokenSource::cookie("access"));
    let app = app(layer.clone());
    let token = token(json!({"csrf": "right-value"}));
    let post = |csrf: Option<&str>| {
        let mut request = Request::post("/").header("cookie", format!("access={token}"));
        if let Some(csrf) = csrf {
            request = request.header("x-csrf-token", csrf);
        }
        send(&app, request.body(Body::empty()).unwrap())
    };
    // Cached by a safe request, which reads no CSRF value: the first POST verifies in full.
    let get = request(&app, "/", &[("cookie", &format!("access={token}"))]).await;
    assert_eq!(get.status, StatusCode::OK);
    assert_eq!(post(Some("wrong")).await.status, StatusCode::FORBIDDEN);
    assert_eq!(post(Some("right-value")).await.status, StatusCode::OK);
    let hits = stats(&layer).hits;
    // Now cached with its CSRF value: hits, each checked.
    assert_eq!(post(Some("right-value")).await.status, StatusCode::OK);
    let wrong = post(Some("right-valuE")).await;
    assert_eq!(
        (wrong.status, wrong.description()),
        (StatusCode::FORBIDDEN, "CSRF token does not match")
    );
    let missing = post(None).await;
    assert_eq!(
        (missing.status, missing.description()),
        (StatusCode::FORBIDDEN, "CSRF token missing")
    );
    assert_eq!(stats(&layer).hits, hits + 3);
}

#[tokio::test]
async fn a_forged_signature_on_a_cached_token_is_refused() {
    let layer = layer(&ManualClock::new(NOW));
    let app = app(layer.clone());
    let token = token(json!({}));
    assert_accepted(&app, &token).await;
    let (message, _) = token.rsplit_once('.').unwrap();
    for forged in [
        format!(
            "{message}.{}",
            hs256_sign(b"another secret that is 32+ bytes long", message)
        ),
        format!("{message}."),
        format!("{message}.AAAA"),
    ] {
        assert_eq!(
            with_bearer(&app, &forged).await.status,
            StatusCode::UNAUTHORIZED,
            "{forged}"
        );
    }
    // The forged ones did not get in.
    assert_eq!(stats(&layer).entries, 1);
}

/// The cache finds an entry by the token's length and tail (its signature): a token that
/// keeps a cached one's signature and length but changes its claims finds that entry, and
/// must be refused all the same.
#[tokio::test]
async fn a_token_that_copies_a_cached_tokens_signature_is_refused() {
    let layer = layer(&ManualClock::new(NOW));
    let app = app(layer.clone());
    let token = token(json!({"sub": "alice"}));
    assert_accepted(&app, &token).await;
    let (message, signature) = token.rsplit_once('.').unwrap();
    let (header, payload) = message.split_once('.').unwrap();
    // The same claims but another subject of the same length.
    let mut claims = claims();
    claims["sub"] = json!("malry");
    let mallory = b64(claims.to_string().as_bytes());
    assert_eq!(mallory.len(), payload.len());
    let forged = format!("{header}.{mallory}.{signature}");
    let refused = with_bearer(&app, &forged).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert!(refused.www_authenticate().contains("invalid_token"));
    // The genuine token is still served from its entry.
    let hits = stats(&layer).hits;
    assert_accepted(&app, &token).await;
    assert_eq!(stats(&layer).hits, hits + 1);
    assert_eq!(stats(&layer).entries, 1);
}

/// A hit compares the credentials' bytes with a token that passed every check, so it skips
/// their character check: anything around or inside a cached token that the check refuses
/// must still be refused, exactly as by a layer without the cache.
#[tokio::test]
async fn malformed_credentials_around_a_cached_token_are_refused_as_without_the_cache() {
    let clock = ManualClock::new(NOW);
    let cached = layer(&clock);
    let (with_cache, without) = (
        app(cached.clone()),
        app(JwtLayer::new(VerifyingKey::hs256(SECRET).unwrap()).clock(clock)),
    );
    let token = token(json!({}));
    assert_accepted(&with_cache, &token).await;
    let t = token.as_bytes();
    let value = |parts: &[&[u8]]| parts.concat();
    let cases: Vec<(Vec<u8>, StatusCode)> = vec![
        (value(&[b"Bearer ", t, b" x"]), StatusCode::BAD_REQUEST),
        (value(&[b"Bearer ", t, b",", t]), StatusCode::BAD_REQUEST),
        (value(&[b"Bearer ", t, b"\xff"]), StatusCode::BAD_REQUEST),
        (value(&[b"Bearer \xc3\xa9", t]), StatusCode::BAD_REQUEST),
        (value(&[b"Bearer\t", t]), StatusCode::BAD_REQUEST),
        (value(&[b"Bearer:", t]), StatusCode::BAD_REQUEST),
        (value(&[b"Bearer ", t, b"\""]), StatusCode::BAD_REQUEST),
        // token68 characters, but not the cached token: verified in full, and refused.
        (value(&[b"Bearer ", t, b"="]), StatusCode::UNAUTHORIZED),
        (
            value(&[b"Bearer ", &t[..t.len() - 1]]),
            StatusCode::UNAUTHORIZED,
        ),
        // The same token with other spacing and case: the same credentials, a hit.
        (value(&[b"bEaReR   ", t, b" \t "]), StatusCode::OK),
    ];
    for (value, status) in cases {
        let hits = stats(&cached).hits;
        let mut replies = Vec::new();
        for app in [&with_cache, &without] {
            let request = Request::get("/")
                .header("authorization", HeaderValue::from_bytes(&value).unwrap())
                .body(Body::empty())
                .unwrap();
            replies.push(send(app, request).await);
        }
        let shown = String::from_utf8_lossy(&value);
        let (cache_reply, plain_reply) = (&replies[0], &replies[1]);
        assert_eq!(cache_reply.status, status, "{shown}");
        assert_eq!(plain_reply.status, status, "{shown}");
        assert_eq!(
            cache_reply.www_authenticate(),
            plain_reply.www_authenticate(),
            "{shown}"
        );
        assert_eq!(cache_reply.body, plain_reply.body, "{shown}");
        let hit = u64::from(status == StatusCode::OK);
        assert_eq!(stats(&cached).hits, hits + hit, "{shown}");
    }
    assert_eq!(stats(&cached).entries, 1);
}

#[tokio::test]
async fn the_bound_holds_and_a_flood_of_forged_tokens_evicts_nothing() {
    let layer = JwtLayer::<Value>::new(VerifyingKey::hs256(SECRET).unwrap())
        .clock(ManualClock::new(NOW))
        .token_cache(TokenCache::new(64));
    let app = app(layer.clone());
    for i in 0..500 {
        assert_accepted(&app, &token(json!({"jti": format!("unique-{i}")}))).await;
    }
    let after_flood = stats(&layer);
    assert!(after_flood.entries <= 64, "{after_flood:?}");
    assert!(after_flood.evictions >= 500 - 64, "{after_flood:?}");

    let good = token(json!({"jti": "kept"}));
    assert_accepted(&app, &good).await;
    let entries = stats(&layer).entries;
    for i in 0..500 {
        let forged = hs256_token(
            &hs256_header(),
            &json!({"jti": format!("forged-{i}"), "exp": NOW + 900}),
            b"an attacker's secret, 32 bytes long!",
        );
        assert_eq!(
            with_bearer(&app, &forged).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(stats(&layer).entries, entries, "forged tokens never get in");
    let hits = stats(&layer).hits;
    assert_accepted(&app, &good).await;
    assert_eq!(
        stats(&layer).hits,
        hits + 1,
        "the good token is still cached"
    );
}

#[tokio::test]
async fn tokens_over_the_size_limit_are_verified_every_time() {
    let layer = JwtLayer::<Value>::new(VerifyingKey::hs256(SECRET).unwrap())
        .clock(ManualClock::new(NOW))
        .token_cache(TokenCache::new(100).max_token_len(200));
    let app = app(layer.clone());
    let long = token(json!({"padding": "x".repeat(300)}));
    assert_accepted(&app, &long).await;
    assert_accepted(&app, &long).await;
    assert_eq!(stats(&layer).entries, 0);
    assert_eq!(stats(&layer).hits, 0);
}

#[tokio::test]
async fn another_layers_rules_are_never_served_from_the_cache() {
    let api = layer(&ManualClock::new(NOW)).audience("api");
    let token = token(json!({"aud": "api"}));
    assert_eq!(api.verify(&token).await.unwrap()["aud"], "api");
    // A clone given other rules starts its own, empty cache.
    let other = api.clone().audience("other");
    assert_eq!(stats(&other).entries, 0);
    assert_eq!(other.verify(&token).await, Err(AuthError::InvalidAudience));
    assert_eq!(api.verify(&token).await.unwrap()["aud"], "api");
    assert_eq!(stats(&api).hits, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_tasks_share_the_cache() {
    let layer = layer(&ManualClock::new(NOW));
    let app = app(layer.clone());
    let tokens: Vec<String> = (0..8)
        .map(|i| token(json!({"jti": format!("t-{i}")})))
        .collect();
    let mut tasks = tokio::task::JoinSet::new();
    for task in 0..32 {
        let (app, tokens) = (app.clone(), tokens.clone());
        tasks.spawn(async move {
            for round in 0..50 {
                let token = &tokens[(task + round) % tokens.len()];
                let reply = with_bearer(&app, token).await;
                assert_eq!(reply.status, StatusCode::OK);
                assert_eq!(reply.body["jti"], payload(token)["jti"]);
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    let stats = stats(&layer);
    assert_eq!(stats.hits + stats.misses, 32 * 50);
    assert_eq!(stats.entries, 8);
    assert!(stats.hits >= 32 * 50 - 8 * 32, "{stats:?}");
}

#[cfg(feature = "jwks")]
#[tokio::test]
async fn a_token_whose_key_left_the_jwks_is_refused_from_the_cache() {
    use common::jwks::JwksProvider;
    use common::keys::{jwks_document, signing_key};
    use tower_jwt_auth::{Algorithm, RemoteJwks, TokenIssuer};

    let old = signing_key("ec256", Algorithm::ES256, "old");
    let new = signing_key("ed25519", Algorithm::EdDSA, "new");
    let server = JwksProvider::start(jwks_document([&old, &new])).await;
    let keys = RemoteJwks::builder(&server.url())
        .refetch_cooldown(Duration::ZERO)
        .build()
        .unwrap();
    keys.ready(Duration::from_secs(5)).await.unwrap();
    let layer = JwtLayer::<Value>::new(keys)
        .clock(ManualClock::new(NOW))
        .token_cache(TokenCache::new(100));
    let app = app(layer.clone());
    let issue = |key: &tower_jwt_auth::SigningKey| {
        TokenIssuer::new(key.clone())
            .clock(ManualClock::new(NOW))
            .issue(&json!({"sub": "1"}))
            .unwrap()
            .token
    };
    let (by_old, by_new) = (issue(&old), issue(&new));
    for _ in 0..2 {
        assert_accepted(&app, &by_old).await;
        assert_accepted(&app, &by_new).await;
    }
    assert_eq!(stats(&layer).hits, 2);

    // The provider rotates "old" out; an unknown kid makes the layer refetch.
    server.set_document(jwks_document([&new]));
    let unknown = issue(&signing_key("ec256", Algorithm::ES256, "unknown"));
    assert_eq!(
        with_bearer(&app, &unknown).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        with_bearer(&app, &by_old).await.description(),
        "unknown signing key"
    );
    assert_eq!(
        stats(&layer).entries,
        1,
        "the old key's token is dropped from the cache"
    );
    // The token of the key that stayed verifies again against the new set, then hits.
    assert_accepted(&app, &by_new).await;
    let hits = stats(&layer).hits;
    assert_accepted(&app, &by_new).await;
    assert_eq!(stats(&layer).hits, hits + 1);
}

#[cfg(feature = "jwks")]
#[tokio::test]
async fn a_jwks_refresh_that_changes_nothing_keeps_the_cached_tokens() {
    use common::jwks::JwksProvider;
    use common::keys::{jwks_document, signing_key};
    use common::wait::eventually;
    use tower_jwt_auth::{Algorithm, RemoteJwks, TokenIssuer};

    let key = signing_key("ec256", Algorithm::ES256, "k1");
    let server = JwksProvider::start(jwks_document([&key])).await;
    server.set_cache_control(Some("max-age=1"));
    let keys = RemoteJwks::builder(&server.url())
        .cache_bounds(Duration::from_secs(1), Duration::from_secs(1))
        .build()
        .unwrap();
    keys.ready(Duration::from_secs(5)).await.unwrap();
    let layer = JwtLayer::<Value>::new(keys)
        .clock(ManualClock::new(NOW))
        .token_cache(TokenCache::new(100));
    let app = app(layer.clone());
    let token = TokenIssuer::new(key.clone())
        .clock(ManualClock::new(NOW))
        .issue(&json!({"sub": "1"}))
        .unwrap()
        .token;
    assert_accepted(&app, &token).await;
    let fetched = server.hits();
    // Refreshed in the background (about every 0.85 s), the same document each time.
    assert!(
        eventually(Duration::from_secs(5), || server.hits() >= fetched + 2)
            .await
            .is_some()
    );
    let hits = stats(&layer).hits;
    assert_accepted(&app, &token).await;
    assert_eq!(
        stats(&layer).hits,
        hits + 1,
        "still a hit after {} refreshes",
        server.hits() - fetched
    );
    assert_eq!(stats(&layer).misses, 1);
}
