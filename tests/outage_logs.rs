//! A revocation-store outage is logged as transitions, not once per refused request: against a
//! real `redis-server` stopped mid-test, 200 refused requests write one `warn` line, and the
//! store's return one `info` line. Its own binary: the log capture is process-wide.
#![cfg(feature = "redis")]

mod common;
#[path = "common/redis.rs"]
mod redis_server;

use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use common::logs::Lines;
use common::wait::eventually;
use common::*;
use redis_server::RedisServer;
use serde_json::Value;
use tower_jwt_auth::revocation::RedisStore;
use tower_jwt_auth::{Auth, JwtLayer, VerifyingKey};
use tracing::Level;

#[tokio::test]
async fn an_outage_logs_its_start_and_its_end_not_every_refused_request() {
    let lines = Lines::default();
    tracing::subscriber::set_global_default(lines.subscriber()).unwrap();

    let mut redis = RedisServer::start();
    let store = RedisStore::new(&redis.url()).unwrap();
    store.ready(Duration::from_secs(5)).await.unwrap();
    let layer = JwtLayer::<Value>::new(VerifyingKey::hs256(SECRET).unwrap())
        .clock(tower_jwt_auth::clock::ManualClock::new(NOW))
        .revocation(store.clone());
    let app = Router::new()
        .route("/", get(|Auth(_): Auth<Value>| async { "ok" }))
        .layer(layer);
    let token = hs256_token(&hs256_header(), &claims(), SECRET);
    assert_accepted(&app, &token).await;

    redis.stop();
    assert!(
        eventually(Duration::from_secs(5), || !store.is_synced())
            .await
            .is_some()
    );
    for _ in 0..200 {
        assert_eq!(
            with_bearer(&app, &token).await.status,
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
    assert_eq!(
        lines.count(Level::WARN, "revocation store"),
        1,
        "one line for the outage"
    );

    redis.start_again();
    store.ready(Duration::from_secs(10)).await.unwrap();
    for _ in 0..5 {
        assert_accepted(&app, &token).await;
    }
    assert_eq!(
        lines.count(Level::INFO, "revocation store"),
        1,
        "one line for its end"
    );
    assert_eq!(lines.count(Level::WARN, "revocation store"), 1);
}
