//! What revocation adds to an authenticated HS256 request: the same route behind `JwtLayer`
//! without a store (`off`), with a `MemoryStore` (`memory`), and with a `RedisStore` answering
//! from its mirror of a real `redis-server` (`redis_mirror`, cargo feature `redis`). Each store
//! holds 10,000 other logins' revocations, so the lookup probes a table of realistic size.
//! `check_only` times the store's lookup alone: the absolute cost each request pays.
//!
//! Run with `cargo bench --features redis --bench revocation -- --noplot`. Without the feature,
//! or without `redis-server` on PATH, the Redis arms are skipped with a notice.

mod common;

use common::{bench_arm, config};

use std::hint::black_box;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderValue, StatusCode};
use axum::routing::get;
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, criterion_group, criterion_main};
use serde::{Deserialize, Serialize};
#[cfg(feature = "redis")]
use tokio::runtime::Runtime;
use tower_jwt_auth::clock::Clock;
use tower_jwt_auth::revocation::{MemoryStore, Revocation, RevocationStore, StoreError};
use tower_jwt_auth::{Auth, JwtLayer, SigningKey, TokenIssuer, TokenType, VerifyingKey};

#[cfg(feature = "redis")]
#[path = "../tests/common/redis.rs"]
mod redis_server;

const HS256_SECRET: &[u8] = b"a bench-only HS256 secret, 32 bytes or more";
const TOKEN_TTL: Duration = Duration::from_secs(365 * 24 * 3600);
/// Other logins revoked in each store before timing.
const REVOKED: usize = 10_000;

/// The seven claims of an access token from a login (sub, username, iat, exp, jti, sid, type).
#[derive(Clone, Debug, Deserialize)]
#[allow(dead_code)] // Read only through `black_box`.
struct Claims {
    sub: String,
    username: String,
    iat: u64,
    exp: u64,
    jti: String,
    sid: String,
    #[serde(rename = "type")]
    kind: String,
}

/// What the app hands the issuer; it fills `iat`, `exp`, `jti` and `type`.
#[derive(Serialize)]
struct User<'a> {
    sub: &'a str,
    username: &'a str,
    sid: &'a str,
}

/// The token every arm accepts, and the ids a store looks up for it.
struct Token {
    auth: HeaderValue,
    jti: String,
    sid: String,
}

impl Token {
    fn hs256() -> Self {
        let sid = "b3e1f0c2-5a4d-4e7f-9c61-2d8a7f3e4b15";
        let issued = TokenIssuer::new(SigningKey::hs256(HS256_SECRET).expect("HS256 signing key"))
            .ttl(TOKEN_TTL)
            .token_type(TokenType::claim("type", "access"))
            .issue(&User {
                sub: "4f1c2a9e-7b3d-4c8a-9e21-5d6f0a7b8c9d",
                username: "ada.lovelace",
                sid,
            })
            .expect("token");
        Self {
            auth: HeaderValue::try_from(format!("Bearer {}", issued.token)).expect("header"),
            jti: issued.jti,
            sid: sid.to_owned(),
        }
    }
}

fn layer() -> JwtLayer<Claims> {
    JwtLayer::new(VerifyingKey::hs256(HS256_SECRET).expect("HS256 verifying key"))
}

/// The route every arm serves, with the claims from `layer`.
fn router(layer: JwtLayer<Claims>) -> Router {
    Router::new()
        .route(
            "/",
            get(|Auth(claims): Auth<Claims>| async move {
                black_box(claims);
                StatusCode::OK
            }),
        )
        .layer(layer)
}

/// Revokes `REVOKED` other logins, as `revoke_token` and `logout` would: each one's token by
/// `jti` and its family by `sid`, so both lookups of a check probe a full table.
async fn revoke_others(store: &impl RevocationStore, until: u64) -> Result<(), StoreError> {
    for i in 0..REVOKED {
        store
            .revoke(Revocation::Token(&format!("revoked-jti-{i:05}")), until)
            .await?;
        store
            .revoke(Revocation::Family(&format!("revoked-sid-{i:05}")), until)
            .await?;
    }
    Ok(())
}

/// The lookup alone, as the layer makes it once the signature holds.
fn bench_check(
    group: &mut BenchmarkGroup<'_, WallTime>,
    id: &str,
    store: &impl RevocationStore,
    token: &Token,
) {
    let now = Clock::system().now();
    let check = |jti: &str, sid: &str| store.check(jti, Some(sid), now).expect(id);
    assert!(!check(&token.jti, &token.sid), "{id}: the token is live");
    assert!(check("revoked-jti-00000", &token.sid), "{id}: jtis revoked");
    assert!(check(&token.jti, "revoked-sid-09999"), "{id}: sids revoked");
    group.bench_function(BenchmarkId::new("check_only", id), |b| {
        b.iter(|| {
            store.check(
                black_box(&token.jti),
                black_box(Some(token.sid.as_str())),
                black_box(now),
            )
        });
    });
}

/// A `RedisStore` in sync with a `redis-server` of its own, holding the other logins'
/// revocations. Fields drop in order: the store's task stops before its server and runtime.
#[cfg(feature = "redis")]
struct RedisMirror {
    store: tower_jwt_auth::revocation::RedisStore,
    _server: redis_server::RedisServer,
    _runtime: Runtime,
}

#[cfg(feature = "redis")]
impl RedisMirror {
    /// `None`, with a notice, when `redis-server` is not on PATH.
    fn start(until: u64) -> Option<Self> {
        match std::process::Command::new("redis-server")
            .arg("--version")
            .output()
        {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                eprintln!(
                    "notice: redis-server is not on PATH: the redis_mirror arms are skipped \
                     (install it with `apt-get install -y redis-server`)"
                );
                return None;
            }
            Err(e) => panic!("cannot run redis-server: {e}"),
        }
        let server = redis_server::RedisServer::start();
        // The store's background task (pub/sub, PING) runs on a thread of its own, as in a
        // server: the bench's current-thread runtime runs only while a sample is timed, and not
        // at all under `check_only`, which would let the PING time out and the mirror resync.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("Redis runtime");
        let store = {
            let _in = runtime.enter();
            tower_jwt_auth::revocation::RedisStore::new(&server.url()).expect("Redis URL")
        };
        runtime
            .block_on(async {
                store.ready(Duration::from_secs(5)).await?;
                revoke_others(&store, until).await?;
                // Each revocation comes back on the subscription and is applied to the mirror
                // again: let those writes finish before any sample is timed.
                tokio::time::sleep(Duration::from_secs(1)).await;
                Ok::<_, StoreError>(())
            })
            .expect("Redis mirror in sync with the revocations");
        Some(Self {
            store,
            _server: server,
            _runtime: runtime,
        })
    }
}

fn revocation(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let token = Token::hs256();
    let until = Clock::system().now() + TOKEN_TTL.as_secs();
    let memory = MemoryStore::new();
    rt.block_on(revoke_others(&memory, until))
        .expect("memory revocations");
    #[cfg(feature = "redis")]
    let redis = RedisMirror::start(until);
    #[cfg(not(feature = "redis"))]
    eprintln!(
        "notice: built without the `redis` feature: the redis_mirror arms are skipped \
         (run with `--features redis`)"
    );

    let mut group = c.benchmark_group("revocation_hs256");
    bench_arm(&mut group, &rt, "off", &router(layer()), &token.auth);
    let with_memory = router(layer().revocation(memory.clone()));
    bench_arm(&mut group, &rt, "memory", &with_memory, &token.auth);
    #[cfg(feature = "redis")]
    if let Some(redis) = &redis {
        let with_redis = router(layer().revocation(redis.store.clone()));
        bench_arm(&mut group, &rt, "redis_mirror", &with_redis, &token.auth);
    }
    bench_check(&mut group, "memory", &memory, &token);
    #[cfg(feature = "redis")]
    if let Some(redis) = &redis {
        bench_check(&mut group, "redis_mirror", &redis.store, &token);
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = revocation
}
criterion_main!(benches);
