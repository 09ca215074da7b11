//! The crate-private side of `RemoteJwks` (`cached`, `refetch`) against a real JWKS provider on
//! loopback; the public side is covered in `tests/suite/remote_jwks.rs`.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Barrier;
use tokio::task::JoinSet;
use tokio::time::sleep;

use super::RemoteJwks;
use crate::Algorithm;
use crate::keys::{PublicJwks, SigningKey};

// The JWKS provider and the wait of the integration tests, the same files: each test binary uses
// only some of their items, and those are `pub` for the integration tests' `common` module.
#[allow(dead_code, unreachable_pub)]
#[path = "../../../tests/common/jwks.rs"]
mod provider;
#[allow(dead_code, unreachable_pub)]
#[path = "../../../tests/common/wait.rs"]
mod wait;
use provider::JwksProvider;
use wait::eventually;

const LONG: Duration = Duration::from_secs(5);

fn signing_key(name: &str, alg: Algorithm, kid: &str) -> SigningKey {
    let path = format!(
        "{}/tests/keys/{name}_private.pem",
        env!("CARGO_MANIFEST_DIR")
    );
    SigningKey::from_pem(std::fs::read(path).unwrap(), alg)
        .unwrap()
        .with_kid(kid)
}

fn document(keys: &[SigningKey]) -> Vec<u8> {
    PublicJwks::new(keys).unwrap().json().to_vec()
}

/// A provider serving an RSA and an EC key.
async fn start_provider() -> JwksProvider {
    JwksProvider::start(document(&[
        signing_key("rsa", Algorithm::RS256, "k-rsa"),
        signing_key("ec256", Algorithm::ES256, "k-ec256"),
    ]))
    .await
}

fn kids(jwks: &RemoteJwks) -> Vec<String> {
    let keys = jwks.cached().expect("keys cached");
    let mut kids: Vec<String> = keys.kids().map(str::to_owned).collect();
    kids.sort();
    kids
}

#[test]
fn the_futures_the_layer_awaits_are_send() {
    fn send<T: Send>(_: T) {}
    let jwks = RemoteJwks::new("http://127.0.0.1:1/jwks").unwrap();
    send(jwks.refetch());
    send(jwks.ready(Duration::ZERO));
}

#[test]
fn outside_a_runtime_nothing_starts_and_nothing_panics() {
    let jwks = RemoteJwks::new("http://127.0.0.1:1/jwks").unwrap();
    assert!(jwks.cached().is_none());
    assert!(!jwks.is_ready());
}

#[tokio::test]
async fn built_inside_a_runtime_the_first_fetch_starts_at_once() {
    let server = start_provider().await;
    let jwks = RemoteJwks::new(&server.url()).unwrap();
    assert!(jwks.cached().is_none());
    assert!(eventually(LONG, || jwks.cached().is_some()).await.is_some());
    assert_eq!(kids(&jwks), ["k-ec256", "k-rsa"]);
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn refetch_picks_up_a_rotated_key_and_drops_the_old_one() {
    let server = start_provider().await;
    let jwks = RemoteJwks::builder(&server.url())
        .refetch_cooldown(Duration::ZERO)
        .build()
        .unwrap();
    jwks.ready(LONG).await.unwrap();
    assert_eq!(kids(&jwks), ["k-ec256", "k-rsa"]);

    let rotated = signing_key("ed25519", Algorithm::EdDSA, "2026-11");
    server.set_document(document(&[rotated]));
    let keys = jwks.refetch().await.unwrap();
    assert_eq!(keys.kids().collect::<Vec<_>>(), ["2026-11"]);
    assert_eq!(kids(&jwks), ["2026-11"]);
    assert_eq!(server.hits(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_misses_share_one_fetch() {
    let server = start_provider().await;
    // Long enough that every miss comes while the one fetch is in flight, however slowly the
    // 200 tasks are scheduled. No cooldown: only the single flight keeps them to one fetch.
    server.set_delay(Duration::from_secs(2));
    let jwks = RemoteJwks::builder(&server.url())
        .refetch_cooldown(Duration::ZERO)
        .build()
        .unwrap();
    let barrier = Arc::new(Barrier::new(200));
    let mut misses = JoinSet::new();
    for _ in 0..200 {
        let (jwks, barrier) = (jwks.clone(), Arc::clone(&barrier));
        misses.spawn(async move {
            barrier.wait().await;
            jwks.refetch().await.map(|keys| keys.len())
        });
    }
    let results = misses.join_all().await;
    assert!(results.iter().all(|&keys| keys == Some(2)), "{results:?}");
    assert_eq!(server.hits(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unknown_kid_flood_within_the_cooldown_fetches_nothing_more() {
    let server = start_provider().await;
    let jwks = RemoteJwks::new(&server.url()).unwrap(); // default cooldown: 10 s
    jwks.ready(LONG).await.unwrap();
    let mut misses = JoinSet::new();
    for _ in 0..200 {
        let jwks = jwks.clone();
        misses.spawn(async move { jwks.refetch().await.is_some() });
    }
    assert!(misses.join_all().await.into_iter().all(|cached| cached));
    for _ in 0..100 {
        assert!(jwks.refetch().await.is_some());
    }
    // The load, then one fetch for the whole flood.
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn refetch_is_allowed_again_once_the_cooldown_has_passed() {
    let server = start_provider().await;
    let jwks = RemoteJwks::builder(&server.url())
        .refetch_cooldown(Duration::from_secs(2))
        .build()
        .unwrap();
    jwks.ready(LONG).await.unwrap();
    jwks.refetch().await.unwrap();
    jwks.refetch().await.unwrap();
    assert_eq!(server.hits(), 2, "the load, then one fetch for both misses");
    sleep(Duration::from_millis(2050)).await;
    jwks.refetch().await.unwrap();
    assert_eq!(server.hits(), 3);
}

#[tokio::test]
async fn failed_refetches_keep_the_cached_keys() {
    let mut server = start_provider().await;
    let jwks = RemoteJwks::builder(&server.url())
        .refetch_cooldown(Duration::ZERO)
        .build()
        .unwrap();
    jwks.ready(LONG).await.unwrap();

    server.set_up(false);
    assert_eq!(jwks.refetch().await.unwrap().len(), 2);
    assert_eq!(server.hits(), 2, "the refetch was tried");
    server.set_up(true);
    server.set_document(b"<html>maintenance</html>".to_vec());
    assert_eq!(jwks.refetch().await.unwrap().len(), 2);
    assert_eq!(server.hits(), 3);
    server.stop().await;
    assert_eq!(jwks.refetch().await.unwrap().len(), 2);
    assert_eq!(kids(&jwks), ["k-ec256", "k-rsa"]);
}

#[tokio::test]
async fn without_keys_refetch_answers_none() {
    let mut server = start_provider().await;
    server.stop().await;
    let jwks = RemoteJwks::builder(&server.url())
        .refetch_cooldown(Duration::ZERO)
        .build()
        .unwrap();
    assert!(jwks.refetch().await.is_none());
    assert!(jwks.cached().is_none());
}

#[test]
fn a_task_lost_with_its_runtime_restarts_in_the_next_one() {
    let provider_runtime = tokio::runtime::Runtime::new().unwrap();
    let server = provider_runtime.block_on(start_provider());
    server.set_cache_control(Some("max-age=1"));
    let jwks = RemoteJwks::builder(&server.url())
        .cache_bounds(Duration::from_secs(1), Duration::from_secs(1))
        .refetch_cooldown(Duration::ZERO)
        .build()
        .unwrap();

    let first = tokio::runtime::Runtime::new().unwrap();
    first.block_on(jwks.ready(LONG)).unwrap();
    drop(first);
    assert_eq!(server.hits(), 1);

    let second = tokio::runtime::Runtime::new().unwrap();
    second.block_on(async {
        assert!(jwks.refetch().await.is_some());
        assert!(
            eventually(LONG, || server.hits() >= 3).await.is_some(),
            "refetched, then refreshing again"
        );
    });
}
