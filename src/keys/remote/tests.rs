//! The crate-private side of `RemoteJwks` (`cached`, `refetch`) against a real JWKS provider on
//! loopback; the public side is covered in `tests/remote_jwks.rs`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, Barrier};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::{sleep, Instant};

use super::RemoteJwks;
use crate::keys::{PublicJwks, SigningKey};
use crate::Algorithm;

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

/// Serves `document` at `/jwks.json` (503 while `up` is false), after `delay`, counting hits.
struct Provider {
    document: Mutex<Vec<u8>>,
    up: Mutex<bool>,
    delay: Mutex<Duration>,
    cache_control: Mutex<Option<&'static str>>,
    hits: AtomicUsize,
}

struct Server {
    url: String,
    provider: Arc<Provider>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Server {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
        let provider = Arc::new(Provider {
            document: Mutex::new(document(&[
                signing_key("rsa", Algorithm::RS256, "k-rsa"),
                signing_key("ec256", Algorithm::ES256, "k-ec256"),
            ])),
            up: Mutex::new(true),
            delay: Mutex::new(Duration::ZERO),
            cache_control: Mutex::new(None),
            hits: AtomicUsize::new(0),
        });
        let app = Router::new()
            .route("/jwks.json", get(serve))
            .with_state(Arc::clone(&provider));
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        Self {
            url,
            provider,
            stop: Some(stop),
            task,
        }
    }

    fn hits(&self) -> usize {
        self.provider.hits.load(Ordering::SeqCst)
    }

    /// Closes the port: connections are refused from now on.
    async fn stop(&mut self) {
        let _ = self.stop.take().unwrap().send(());
        (&mut self.task).await.unwrap();
    }
}

async fn serve(State(provider): State<Arc<Provider>>) -> Response {
    provider.hits.fetch_add(1, Ordering::SeqCst);
    let delay = *provider.delay.lock().unwrap();
    sleep(delay).await;
    if !*provider.up.lock().unwrap() {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let document = provider.document.lock().unwrap().clone();
    let mut response = document.into_response();
    if let Some(value) = *provider.cache_control.lock().unwrap() {
        let headers = response.headers_mut();
        headers.insert("cache-control", value.parse().unwrap());
    }
    response
}

fn kids(jwks: &RemoteJwks) -> Vec<String> {
    let keys = jwks.cached().expect("keys cached");
    let mut kids: Vec<String> = keys.kids().map(str::to_owned).collect();
    kids.sort();
    kids
}

/// Polls `done` every 20 ms until it holds, at most `within`.
async fn eventually(within: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        sleep(Duration::from_millis(20)).await;
    }
    done()
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
async fn reading_the_cache_starts_the_first_fetch() {
    let server = Server::start().await;
    let jwks = RemoteJwks::new(&server.url).unwrap();
    assert!(jwks.cached().is_none());
    assert!(eventually(LONG, || jwks.cached().is_some()).await);
    assert_eq!(kids(&jwks), ["k-ec256", "k-rsa"]);
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn refetch_picks_up_a_rotated_key_and_drops_the_old_one() {
    let server = Server::start().await;
    let jwks = RemoteJwks::new(&server.url)
        .unwrap()
        .refetch_cooldown(Duration::ZERO);
    jwks.ready(LONG).await.unwrap();
    assert_eq!(kids(&jwks), ["k-ec256", "k-rsa"]);

    *server.provider.document.lock().unwrap() =
        document(&[signing_key("ed25519", Algorithm::EdDSA, "2026-11")]);
    let keys = jwks.refetch().await.unwrap();
    assert_eq!(keys.kids().collect::<Vec<_>>(), ["2026-11"]);
    assert_eq!(kids(&jwks), ["2026-11"]);
    assert_eq!(server.hits(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_misses_share_one_fetch() {
    let server = Server::start().await;
    *server.provider.delay.lock().unwrap() = Duration::from_millis(300);
    // No cooldown: only the single flight keeps 200 misses to one fetch.
    let jwks = RemoteJwks::new(&server.url)
        .unwrap()
        .refetch_cooldown(Duration::ZERO);
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
    let server = Server::start().await;
    let jwks = RemoteJwks::new(&server.url).unwrap(); // default cooldown: 10 s
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
    let server = Server::start().await;
    let jwks = RemoteJwks::new(&server.url)
        .unwrap()
        .refetch_cooldown(Duration::from_millis(300));
    jwks.ready(LONG).await.unwrap();
    jwks.refetch().await.unwrap();
    jwks.refetch().await.unwrap();
    assert_eq!(server.hits(), 2, "the load, then one fetch for both misses");
    sleep(Duration::from_millis(350)).await;
    jwks.refetch().await.unwrap();
    assert_eq!(server.hits(), 3);
}

#[tokio::test]
async fn failed_refetches_keep_the_cached_keys() {
    let mut server = Server::start().await;
    let jwks = RemoteJwks::new(&server.url)
        .unwrap()
        .refetch_cooldown(Duration::ZERO);
    jwks.ready(LONG).await.unwrap();

    *server.provider.up.lock().unwrap() = false;
    assert_eq!(jwks.refetch().await.unwrap().len(), 2);
    assert_eq!(server.hits(), 2, "the refetch was tried");
    *server.provider.up.lock().unwrap() = true;
    *server.provider.document.lock().unwrap() = b"<html>maintenance</html>".to_vec();
    assert_eq!(jwks.refetch().await.unwrap().len(), 2);
    assert_eq!(server.hits(), 3);
    server.stop().await;
    assert_eq!(jwks.refetch().await.unwrap().len(), 2);
    assert_eq!(kids(&jwks), ["k-ec256", "k-rsa"]);
}

#[tokio::test]
async fn without_keys_refetch_answers_none() {
    let mut server = Server::start().await;
    server.stop().await;
    let jwks = RemoteJwks::new(&server.url)
        .unwrap()
        .refetch_cooldown(Duration::ZERO);
    assert!(jwks.refetch().await.is_none());
    assert!(jwks.cached().is_none());
}

#[test]
fn a_task_lost_with_its_runtime_restarts_in_the_next_one() {
    let provider_runtime = tokio::runtime::Runtime::new().unwrap();
    let server = provider_runtime.block_on(Server::start());
    *server.provider.cache_control.lock().unwrap() = Some("max-age=1");
    let jwks = RemoteJwks::new(&server.url)
        .unwrap()
        .cache_bounds(Duration::from_secs(1), Duration::from_secs(1))
        .refetch_cooldown(Duration::ZERO);

    let first = tokio::runtime::Runtime::new().unwrap();
    first.block_on(jwks.ready(LONG)).unwrap();
    drop(first);
    assert_eq!(server.hits(), 1);

    let second = tokio::runtime::Runtime::new().unwrap();
    second.block_on(async {
        assert!(jwks.refetch().await.is_some());
        assert!(
            eventually(LONG, || server.hits() >= 3).await,
            "refetched, then refreshing again"
        );
    });
}
