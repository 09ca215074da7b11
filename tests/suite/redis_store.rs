//! `RedisStore` against a real `redis-server` that each test starts on its own port: instances
//! sharing revocations, the mirror's resync after outages, expiry, and the background task's end.
#![cfg(feature = "redis")]

use crate::common;
use crate::redis_server;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::wait::eventually;
use redis::aio::MultiplexedConnection;
use redis_server::{Mode, Proxy, RedisServer};
use tower_jwt_auth::revocation::{RedisStore, Revocation, RevocationStore, StoreError};

const READY: Duration = Duration::from_secs(5);

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A store in sync with the Redis at `url`, with the default timeouts.
async fn synced_store(url: &str) -> RedisStore {
    let store = RedisStore::new(url).unwrap();
    store.ready(READY).await.unwrap();
    store
}

/// A plain connection to the server, to look at what the store wrote.
async fn raw(server: &RedisServer) -> MultiplexedConnection {
    let client = redis::Client::open(server.url()).unwrap();
    client.get_multiplexed_async_connection().await.unwrap()
}

async fn exists(conn: &mut MultiplexedConnection, key: &str) -> bool {
    redis::cmd("EXISTS")
        .arg(key)
        .query_async(conn)
        .await
        .unwrap()
}

fn revoked(store: &RedisStore, jti: &str, sid: Option<&str>) -> bool {
    store.check(jti, sid, now()).unwrap()
}

fn unavailable(store: &RedisStore) -> bool {
    matches!(
        store.check("any", None, now()),
        Err(StoreError::Unavailable(_))
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_revoked_on_one_instance_is_refused_by_another_long_before_it_expires() {
    let redis = RedisServer::start();
    let a = synced_store(&redis.url()).await;
    let b = synced_store(&redis.url()).await;
    assert!(!revoked(&b, "jti-1", None));

    let start = Instant::now();
    a.revoke(Revocation::Token("jti-1"), now() + 60)
        .await
        .unwrap();
    assert!(
        revoked(&a, "jti-1", None),
        "the revoking instance refuses at once"
    );
    eventually(Duration::from_secs(2), || revoked(&b, "jti-1", None))
        .await
        .expect("B never saw the revocation");
    // Pub/sub brings it over in milliseconds; the bound above only says "not at expiry", so
    // that a loaded machine cannot fail it. The speed is printed, not asserted.
    eprintln!("B saw it after {:?}", start.elapsed());
    assert!(!revoked(&b, "jti-2", None));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn family_revoked_on_one_instance_is_refused_by_another_long_before_it_expires() {
    let redis = RedisServer::start();
    let a = synced_store(&redis.url()).await;
    let b = synced_store(&redis.url()).await;

    let start = Instant::now();
    a.revoke(Revocation::Family("sid-1"), now() + 60)
        .await
        .unwrap();
    eventually(Duration::from_secs(2), || {
        revoked(&b, "any-jti", Some("sid-1"))
    })
    .await
    .expect("B never saw the family revocation");
    // Pub/sub brings it over in milliseconds; the bound above only says "not at expiry", so
    // that a loaded machine cannot fail it. The speed is printed, not asserted.
    eprintln!("B saw it after {:?}", start.elapsed());
    assert!(!revoked(&b, "any-jti", Some("sid-2")));
    assert!(!revoked(&b, "any-jti", None));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instance_started_after_revocations_loads_them_all_at_sync() {
    let redis = RedisServer::start();
    let a = synced_store(&redis.url()).await;
    let until = now() + 60;
    // More than one SCAN batch, and ids with spaces and colons.
    for i in 0..2500 {
        a.revoke(Revocation::Token(&format!("jti {i}:x")), until)
            .await
            .unwrap();
    }
    a.revoke(Revocation::Family("sid-1"), until).await.unwrap();

    let b = synced_store(&redis.url()).await;
    for i in 0..2500 {
        assert!(
            revoked(&b, &format!("jti {i}:x"), None),
            "jti {i} not loaded"
        );
    }
    assert!(revoked(&b, "other", Some("sid-1")));
    assert!(!revoked(&b, "other", Some("sid-2")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_token_is_consumed_once_across_instances() {
    let redis = RedisServer::start();
    let a = synced_store(&redis.url()).await;
    let b = synced_store(&redis.url()).await;
    let until = now() + 60;

    assert!(a.consume("refresh-1", until).await.unwrap());
    assert!(!b.consume("refresh-1", until).await.unwrap());
    assert!(!a.consume("refresh-1", until).await.unwrap());
    assert!(b.consume("refresh-2", until).await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_consumes_across_instances_have_exactly_one_winner() {
    let redis = RedisServer::start();
    let stores = [
        synced_store(&redis.url()).await,
        synced_store(&redis.url()).await,
    ];
    let until = now() + 60;
    for round in 0..10 {
        let jti = format!("refresh-{round}");
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..20 {
            let store = stores[i % 2].clone();
            let jti = jti.clone();
            tasks.spawn(async move { store.consume(&jti, until).await.unwrap() });
        }
        let firsts = tasks.join_all().await.into_iter().filter(|&first| first);
        assert_eq!(firsts.count(), 1, "round {round}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_outage_fails_closed_then_both_instances_recover_without_losing_revocations() {
    let mut redis = RedisServer::start();
    let a = synced_store(&redis.url()).await;
    let b = synced_store(&redis.url()).await;
    let until = now() + 60;
    a.revoke(Revocation::Token("before"), until).await.unwrap();
    eventually(Duration::from_secs(1), || revoked(&b, "before", None))
        .await
        .unwrap();

    redis.stop();
    let took = eventually(Duration::from_secs(2), || {
        unavailable(&a) && unavailable(&b)
    })
    .await
    .expect("both instances still answer with Redis down");
    eprintln!("outage noticed after {took:?}");
    assert!(!a.is_synced() && !b.is_synced());
    assert!(a.revoke(Revocation::Token("during"), until).await.is_err());
    assert!(b.consume("refresh", until).await.is_err());

    redis.start_again();
    a.ready(READY).await.unwrap();
    // Written by A as soon as it is back, while B may still be reconnecting: B must get it,
    // from the channel or from its resync scan.
    a.revoke(Revocation::Token("after"), until).await.unwrap();
    b.ready(READY).await.unwrap();
    eventually(Duration::from_secs(1), || revoked(&b, "after", None))
        .await
        .expect("B lost the revocation made while it was reconnecting");
    // What each mirror held before the outage survives it, though this Redis kept nothing.
    assert!(revoked(&a, "before", None) && revoked(&b, "before", None));
    // A failed write is still refused by the instance that made it.
    assert!(revoked(&a, "during", None));
    assert!(!revoked(&a, "other", None) && !revoked(&b, "other", None));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_made_while_an_instance_is_cut_off_is_loaded_when_it_reconnects() {
    let redis = RedisServer::start();
    let proxy = Proxy::start(redis.port()).await;
    let a = synced_store(&redis.url()).await;
    let b = synced_store(&proxy.url()).await;

    proxy.set(Mode::Refuse);
    eventually(Duration::from_secs(2), || unavailable(&b))
        .await
        .expect("B still answers while cut off");
    a.revoke(Revocation::Token("while-away"), now() + 60)
        .await
        .unwrap();
    a.revoke(Revocation::Family("sid-away"), now() + 60)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(unavailable(&b), "B answered while still cut off");

    proxy.set(Mode::Forward);
    b.ready(READY).await.unwrap();
    assert!(revoked(&b, "while-away", None));
    assert!(revoked(&b, "x", Some("sid-away")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_dead_connection_is_noticed_by_ping_and_replaced() {
    let redis = RedisServer::start();
    let proxy = Proxy::start(redis.port()).await;
    let a = synced_store(&redis.url()).await;
    let b = synced_store(&proxy.url()).await;

    // The connection stays open but nothing comes back: only the PING can tell.
    proxy.set(Mode::Blackhole);
    let took = eventually(Duration::from_secs(5), || unavailable(&b))
        .await
        .expect("B never noticed its connection was dead");
    // PING every second, answered within 500 ms: noticed in about 1.5 s on an idle machine.
    eprintln!("noticed after {took:?}");
    a.revoke(Revocation::Token("meanwhile"), now() + 60)
        .await
        .unwrap();

    proxy.set(Mode::Forward);
    b.ready(READY).await.unwrap();
    assert!(revoked(&b, "meanwhile", None));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocations_expire_in_redis_and_in_the_mirror_at_until() {
    let redis = RedisServer::start();
    let mut conn = raw(&redis).await;
    let a = synced_store(&redis.url()).await;
    let b = synced_store(&redis.url()).await;
    let until = now() + 4;
    let key = "tower-jwt-auth:revoked:jti:short";

    a.revoke(Revocation::Token("short"), until).await.unwrap();
    eventually(Duration::from_secs(2), || revoked(&b, "short", None))
        .await
        .unwrap();
    assert!(exists(&mut conn, key).await);

    let deadline = Instant::now() + Duration::from_secs(8);
    while exists(&mut conn, key).await {
        assert!(
            Instant::now() < deadline,
            "Redis kept the key past its expiry"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(now() >= until, "Redis dropped the key before until");
    assert!(!revoked(&a, "short", None));
    assert!(!revoked(&b, "short", None));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn until_already_past_stores_nothing_and_is_no_first_use() {
    let redis = RedisServer::start();
    let mut conn = raw(&redis).await;
    let store = synced_store(&redis.url()).await;
    let past = now() - 1;

    store.revoke(Revocation::Token("old"), past).await.unwrap();
    assert!(!revoked(&store, "old", None));
    assert!(!exists(&mut conn, "tower-jwt-auth:revoked:jti:old").await);
    assert!(!store.consume("old-refresh", past).await.unwrap());
    assert!(!exists(&mut conn, "tower-jwt-auth:used:old-refresh").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_created_while_redis_is_down_becomes_ready_when_redis_starts() {
    let mut redis = RedisServer::stopped();
    let start = Instant::now();
    let store = RedisStore::new(&redis.url()).unwrap();
    // new() does not wait for Redis (it would wait for ever here).
    assert!(start.elapsed() < Duration::from_millis(500), "new() waited");

    assert!(unavailable(&store));
    assert!(!store.is_synced());
    let err = store.ready(Duration::from_millis(300)).await.unwrap_err();
    assert!(err.to_string().contains("not in sync"), "{err}");
    assert!(
        store
            .revoke(Revocation::Token("j"), now() + 60)
            .await
            .is_err()
    );

    redis.start_again();
    store.ready(READY).await.unwrap();
    assert!(store.is_synced());
    assert!(!revoked(&store, "other", None));
    store
        .revoke(Revocation::Token("k"), now() + 60)
        .await
        .unwrap();
    assert!(revoked(&store, "k", None));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_last_handle_stops_the_background_task() {
    let redis = RedisServer::start();
    let mut conn = raw(&redis).await;
    async fn subscribers(conn: &mut MultiplexedConnection) -> usize {
        let (_, n): (String, usize) = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg("tower-jwt-auth:revocations")
            .query_async(conn)
            .await
            .unwrap();
        n
    }
    async fn clients(conn: &mut MultiplexedConnection) -> usize {
        let list: String = redis::cmd("CLIENT")
            .arg("LIST")
            .query_async(conn)
            .await
            .unwrap();
        list.lines().count()
    }

    let store = synced_store(&redis.url()).await;
    let clone = store.clone();
    assert_eq!(subscribers(&mut conn).await, 1);
    assert_eq!(clients(&mut conn).await, 2);

    drop(store);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(subscribers(&mut conn).await, 1, "a clone is still alive");
    assert!(!revoked(&clone, "j", None));

    drop(clone);
    let deadline = Instant::now() + Duration::from_secs(5);
    while subscribers(&mut conn).await > 0 || clients(&mut conn).await > 1 {
        assert!(
            Instant::now() < deadline,
            "the store's connection outlived it"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_live_under_the_prefix_and_expire_at_until() {
    let redis = RedisServer::start();
    let mut conn = raw(&redis).await;
    let store = RedisStore::builder(&redis.url())
        .prefix("tja")
        .build()
        .unwrap();
    store.ready(READY).await.unwrap();
    let other_prefix = synced_store(&redis.url()).await;
    let until = now() + 100;

    store.revoke(Revocation::Token("j 1"), until).await.unwrap();
    store.revoke(Revocation::Family("s1"), until).await.unwrap();
    assert!(store.consume("r1", until).await.unwrap());

    for (key, value) in [
        ("tja:revoked:jti:j 1", until.to_string()),
        ("tja:revoked:sid:s1", until.to_string()),
        ("tja:used:r1", "1".to_owned()),
    ] {
        let stored: Option<String> = redis::cmd("GET")
            .arg(key)
            .query_async(&mut conn)
            .await
            .unwrap();
        assert_eq!(stored.as_deref(), Some(&*value), "{key}");
        let ttl: i64 = redis::cmd("TTL")
            .arg(key)
            .query_async(&mut conn)
            .await
            .unwrap();
        let left = (until - now()) as i64;
        assert!(
            (left - 2..=left + 1).contains(&ttl),
            "{key}: TTL {ttl}, {left} s left"
        );
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!revoked(&other_prefix, "j 1", None));
    assert!(!revoked(&other_prefix, "x", Some("s1")));
}

#[tokio::test]
async fn invalid_url_is_an_error_at_once() {
    for url in [
        "not a url",
        "http://127.0.0.1:6379",
        "redis://127.0.0.1:6379/notadb",
    ] {
        let err = RedisStore::new(url).unwrap_err();
        assert!(
            err.to_string().contains("invalid Redis URL"),
            "{url}: {err}"
        );
    }
}

#[tokio::test]
async fn debug_shows_the_address_but_never_the_password() {
    let url = "redis://user:s3cret-pw@127.0.0.1:1/0";
    let builder = RedisStore::builder(url);
    let store = builder.clone().build().unwrap();
    for debug in [format!("{store:?}"), format!("{builder:?}")] {
        assert!(debug.contains("127.0.0.1:1"), "{debug}");
        assert!(debug.contains("tower-jwt-auth"), "{debug}");
        assert!(!debug.contains("s3cret-pw"), "{debug}");
    }
    let unparsable = format!("{:?}", RedisStore::builder("redis://user:s3cret-pw@[::1"));
    assert!(!unparsable.contains("s3cret-pw"), "{unparsable}");
}

#[tokio::test]
async fn zero_timeouts_are_refused_at_build() {
    for (connect, response) in [
        (Duration::ZERO, Duration::from_secs(1)),
        (Duration::from_secs(1), Duration::ZERO),
    ] {
        let err = RedisStore::builder("redis://127.0.0.1:1")
            .timeouts(connect, response)
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("timeouts of zero"), "{err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_longer_response_timeout_rides_out_a_stall_the_default_one_does_not() {
    let redis = RedisServer::start();
    let proxy = Proxy::start(redis.port()).await;
    let default = synced_store(&proxy.url()).await;
    let patient = RedisStore::builder(&proxy.url())
        .timeouts(Duration::from_secs(1), Duration::from_secs(8))
        .build()
        .unwrap();
    patient.ready(READY).await.unwrap();

    // Nothing comes back through the proxy: the default store gives up on its next PING
    // (within about 1.5 s); the patient one is still waiting for its answer then, as it
    // would for a slow Redis, and keeps answering from its mirror.
    proxy.set(Mode::Blackhole);
    let stalled = Instant::now();
    eventually(Duration::from_secs(5), || unavailable(&default))
        .await
        .expect("the default store never noticed");
    // Past the default's worst case (a PING a second, answered within 500 ms), with margin:
    // the patient store cannot give up before about 1 + 8 s.
    while stalled.elapsed() < Duration::from_secs(3) {
        assert!(
            patient.is_synced(),
            "the patient store gave up within its timeout"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(!revoked(&patient, "jti", None));
    // It does notice in the end: a PING every second, answered within 8 s.
    eventually(Duration::from_secs(15), || unavailable(&patient))
        .await
        .expect("the patient store never noticed");
}

#[test]
fn built_outside_a_runtime_it_starts_at_its_first_use_inside_one() {
    let server = RedisServer::start();
    let store = RedisStore::builder(&server.url())
        .prefix("outside")
        .build()
        .unwrap();
    // No runtime yet: no task, no panic, and checks fail closed.
    assert!(!store.is_synced());
    assert!(matches!(
        store.check("jti", None, now()),
        Err(StoreError::Unavailable(_))
    ));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        store.ready(READY).await.unwrap();
        store
            .revoke(Revocation::Token("jti"), now() + 60)
            .await
            .unwrap();
    });
    assert!(revoked(&store, "jti", None));
    drop(runtime);
    // Its runtime gone, the task is gone: out of sync again until a next runtime starts one.
    assert!(!store.is_synced());
    let next = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    next.block_on(store.ready(READY)).unwrap();
    assert!(revoked(&store, "jti", None));
}
