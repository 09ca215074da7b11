//! `RemoteJwks` against a real JWKS provider on loopback: an axum app whose keys, headers and
//! failures the tests switch, counting the requests it gets.
#![cfg(feature = "jwks")]

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use common::keys::signing_key;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::{sleep, Instant};
use tower_jwt_auth::{Algorithm, KeyError, PublicJwks, RemoteJwks, SigningKey};

const LONG: Duration = Duration::from_secs(5);

fn all_keys() -> Vec<SigningKey> {
    vec![
        signing_key("rsa", Algorithm::RS256, "k-rsa"),
        signing_key("ec256", Algorithm::ES256, "k-ec256"),
        signing_key("ec384", Algorithm::ES384, "k-ec384"),
        signing_key("ed25519", Algorithm::EdDSA, "k-ed"),
    ]
}

fn jwks(keys: &[SigningKey]) -> Vec<u8> {
    PublicJwks::new(keys).unwrap().json().to_vec()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Up,
    Unavailable,
    Garbage,
    Huge,
    Hang,
}

/// What the provider serves, switched by the tests.
struct Behaviour {
    jwks: Vec<u8>,
    cache_control: Option<String>,
    mode: Mode,
    delay: Duration,
    /// The `issuer` the discovery document names; `None`: the real one.
    issuer: Option<String>,
    user_agent: Option<String>,
}

struct Provider {
    base: String,
    behaviour: Mutex<Behaviour>,
    jwks_hits: AtomicUsize,
    discovery_hits: AtomicUsize,
}

impl Provider {
    fn set(&self, change: impl FnOnce(&mut Behaviour)) {
        change(&mut self.behaviour.lock().unwrap());
    }

    fn hits(&self) -> usize {
        self.jwks_hits.load(Ordering::SeqCst)
    }

    fn url(&self) -> String {
        format!("{}/jwks.json", self.base)
    }

    fn realm(&self) -> String {
        format!("{}/realms/demo", self.base)
    }
}

/// A running provider; `stop` closes its port (connections are then refused).
struct Server {
    provider: Arc<Provider>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Server {
    async fn start() -> Self {
        Self::on(TcpListener::bind("127.0.0.1:0").await.unwrap()).await
    }

    async fn on(listener: TcpListener) -> Self {
        let base = format!("http://{}", listener.local_addr().unwrap());
        let provider = Arc::new(Provider {
            base,
            behaviour: Mutex::new(Behaviour {
                jwks: jwks(&all_keys()),
                cache_control: None,
                mode: Mode::Up,
                delay: Duration::ZERO,
                issuer: None,
                user_agent: None,
            }),
            jwks_hits: AtomicUsize::new(0),
            discovery_hits: AtomicUsize::new(0),
        });
        let app = Router::new()
            .route("/jwks.json", get(serve_jwks))
            .route("/realms/demo/certs", get(serve_jwks))
            .route(
                "/realms/demo/.well-known/openid-configuration",
                get(serve_discovery),
            )
            .with_state(Arc::clone(&provider));
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        Self {
            provider,
            stop: Some(stop),
            task,
        }
    }

    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.task.await.unwrap();
    }
}

impl std::ops::Deref for Server {
    type Target = Provider;
    fn deref(&self) -> &Provider {
        &self.provider
    }
}

async fn serve_jwks(State(provider): State<Arc<Provider>>, headers: HeaderMap) -> Response {
    provider.jwks_hits.fetch_add(1, Ordering::SeqCst);
    let (mode, delay, body, cache_control) = {
        let mut b = provider.behaviour.lock().unwrap();
        b.user_agent = headers
            .get(header::USER_AGENT)
            .map(|v| v.to_str().unwrap().to_owned());
        (b.mode, b.delay, b.jwks.clone(), b.cache_control.clone())
    };
    sleep(delay).await;
    match mode {
        Mode::Up => {
            let mut response = ([(header::CONTENT_TYPE, "application/json")], body).into_response();
            if let Some(value) = cache_control {
                response
                    .headers_mut()
                    .insert(header::CACHE_CONTROL, value.parse().unwrap());
            }
            response
        }
        Mode::Unavailable => StatusCode::SERVICE_UNAVAILABLE.into_response(),
        Mode::Garbage => "<html>maintenance</html>".into_response(),
        Mode::Huge => vec![b' '; 2 << 20].into_response(),
        Mode::Hang => std::future::pending().await,
    }
}

async fn serve_discovery(State(provider): State<Arc<Provider>>) -> Response {
    provider.discovery_hits.fetch_add(1, Ordering::SeqCst);
    let issuer = provider.behaviour.lock().unwrap().issuer.clone();
    let realm = provider.realm();
    Json(json!({
        "issuer": issuer.unwrap_or_else(|| realm.clone()),
        "jwks_uri": format!("{realm}/certs"),
        "id_token_signing_alg_values_supported": ["RS256"],
    }))
    .into_response()
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

#[tokio::test]
async fn keys_load_on_first_use_and_ready_reports_it() {
    let server = Server::start().await;
    let jwks = RemoteJwks::new(&server.url()).unwrap();
    assert_eq!(jwks.issuer(), None);
    // The check starts the fetch; nothing has run yet on this single-threaded runtime.
    assert!(!jwks.is_ready());
    jwks.ready(LONG).await.unwrap();
    assert!(jwks.is_ready());
    let debug = format!("{jwks:?}");
    for kid in ["k-rsa", "k-ec256", "k-ec384", "k-ed"] {
        assert!(debug.contains(kid), "{debug}");
    }
    assert_eq!(server.hits(), 1);
    let agent = server.behaviour.lock().unwrap().user_agent.clone().unwrap();
    assert!(agent.starts_with("tower-jwt-auth/"), "{agent}");
}

#[tokio::test]
async fn provider_down_from_the_start_has_no_keys_until_it_comes_up() {
    // A free port, closed again: connections are refused until the provider binds it.
    let port = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let jwks = RemoteJwks::new(&format!("http://{addr}/jwks.json")).unwrap();
    let err = jwks.ready(Duration::from_millis(300)).await.unwrap_err();
    assert!(
        matches!(&err, KeyError::FetchFailed(why) if why.contains("/jwks.json")),
        "{err}"
    );
    assert!(!jwks.is_ready());

    let server = Server::on(TcpListener::bind(addr).await.unwrap()).await;
    // The background retry (1 s after the first failure) finds it.
    jwks.ready(LONG).await.unwrap();
    assert!(jwks.is_ready());
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn provider_answering_503_from_the_start_is_reported() {
    let server = Server::start().await;
    server.set(|b| b.mode = Mode::Unavailable);
    let jwks = RemoteJwks::new(&server.url()).unwrap();
    let err = jwks.ready(Duration::from_millis(300)).await.unwrap_err();
    assert!(
        matches!(&err, KeyError::FetchFailed(why) if why.contains("503")),
        "{err}"
    );
    assert!(!jwks.is_ready());
    server.set(|b| b.mode = Mode::Up);
    jwks.ready(LONG).await.unwrap();
}

#[tokio::test]
async fn short_max_age_within_the_bounds_triggers_background_refreshes() {
    let server = Server::start().await;
    server.set(|b| b.cache_control = Some("public, max-age=1".into()));
    let jwks = RemoteJwks::new(&server.url())
        .unwrap()
        .cache_bounds(Duration::from_secs(1), Duration::from_secs(3600));
    let start = Instant::now();
    jwks.ready(LONG).await.unwrap();
    // Refreshed at 85% of one second (10 minutes without `max-age`): the third fetch comes at
    // about 1.7 s.
    assert!(eventually(LONG, || server.hits() >= 3).await);
    let elapsed = start.elapsed();
    assert!(
        elapsed >= Duration::from_millis(1500),
        "not before: {elapsed:?}"
    );
}

#[tokio::test]
async fn long_max_age_is_honoured_and_no_store_is_not_a_busy_loop() {
    let long = Server::start().await;
    long.set(|b| b.cache_control = Some("max-age=3600".into()));
    let no_store = Server::start().await;
    no_store.set(|b| b.cache_control = Some("no-store".into()));
    let bounds = |url: String| {
        RemoteJwks::new(&url)
            .unwrap()
            .cache_bounds(Duration::from_secs(1), Duration::from_secs(7200))
    };
    let (long_jwks, no_store_jwks) = (bounds(long.url()), bounds(no_store.url()));
    long_jwks.ready(LONG).await.unwrap();
    no_store_jwks.ready(LONG).await.unwrap();
    sleep(Duration::from_millis(1200)).await;
    assert_eq!(long.hits(), 1);
    // `no-store` is the lower bound, one second: one refresh so far, not hundreds.
    assert_eq!(no_store.hits(), 2);
}

#[tokio::test]
async fn max_age_above_the_upper_bound_is_clamped() {
    let server = Server::start().await;
    server.set(|b| b.cache_control = Some("max-age=86400".into()));
    let jwks = RemoteJwks::new(&server.url())
        .unwrap()
        .cache_bounds(Duration::from_secs(1), Duration::from_secs(1));
    jwks.ready(LONG).await.unwrap();
    assert!(eventually(Duration::from_secs(2), || server.hits() >= 2).await);
}

#[tokio::test]
async fn discovery_with_a_realm_path_finds_the_keys() {
    let server = Server::start().await;
    let jwks = RemoteJwks::discover(&server.realm()).unwrap();
    assert_eq!(jwks.issuer(), Some(server.realm().as_str()));
    jwks.ready(LONG).await.unwrap();
    assert!(jwks.is_ready());
    assert_eq!(server.discovery_hits.load(Ordering::SeqCst), 1);
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn discovery_drops_one_trailing_slash_but_compares_the_issuer_exactly() {
    let server = Server::start().await;
    let issuer = format!("{}/", server.realm());
    server.set(|b| b.issuer = Some(issuer.clone()));
    let jwks = RemoteJwks::discover(&issuer).unwrap();
    jwks.ready(LONG).await.unwrap();
    assert_eq!(server.discovery_hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn discovery_naming_another_issuer_is_refused_and_no_key_is_fetched() {
    let server = Server::start().await;
    server.set(|b| b.issuer = Some("https://attacker.example/realms/demo".into()));
    let jwks = RemoteJwks::discover(&server.realm()).unwrap();
    let err = jwks.ready(Duration::from_millis(300)).await.unwrap_err();
    assert_eq!(
        err,
        KeyError::IssuerMismatch {
            expected: server.realm(),
            found: "https://attacker.example/realms/demo".into(),
        }
    );
    assert!(!jwks.is_ready());
    assert!(server.discovery_hits.load(Ordering::SeqCst) >= 1);
    assert_eq!(
        server.hits(),
        0,
        "no JWKS fetched from a mismatched document"
    );
}

#[tokio::test]
async fn unresponsive_provider_fails_within_the_total_timeout() {
    let server = Server::start().await;
    server.set(|b| b.mode = Mode::Hang);
    let jwks = RemoteJwks::new(&server.url())
        .unwrap()
        .timeouts(Duration::from_millis(200), Duration::from_millis(300));
    // The first fetch ends (timed out) well before `ready` gives up.
    let err = jwks.ready(Duration::from_millis(700)).await.unwrap_err();
    assert!(
        matches!(&err, KeyError::FetchFailed(why) if why.contains("timed out")),
        "{err}"
    );
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn oversized_document_is_refused() {
    let server = Server::start().await;
    server.set(|b| b.mode = Mode::Huge);
    let jwks = RemoteJwks::new(&server.url()).unwrap();
    let err = jwks.ready(Duration::from_millis(300)).await.unwrap_err();
    assert!(
        matches!(&err, KeyError::FetchFailed(why) if why.contains("larger than")),
        "{err}"
    );
}

#[tokio::test]
async fn a_given_client_is_used() {
    let server = Server::start().await;
    let client = reqwest::Client::builder()
        .user_agent("my-app/1.0")
        .build()
        .unwrap();
    let jwks = RemoteJwks::new(&server.url()).unwrap().client(client);
    jwks.ready(LONG).await.unwrap();
    let agent = server.behaviour.lock().unwrap().user_agent.clone();
    assert_eq!(agent.as_deref(), Some("my-app/1.0"));
}

#[tokio::test]
async fn provider_down_after_the_first_fetch_keeps_the_keys_loaded() {
    let server = Server::start().await;
    server.set(|b| b.cache_control = Some("max-age=1".into()));
    let jwks = RemoteJwks::new(&server.url())
        .unwrap()
        .cache_bounds(Duration::from_secs(1), Duration::from_secs(1));
    jwks.ready(LONG).await.unwrap();
    // The background refresh (at 0.85 s) gets a 503, its first retry (1 s later) a bad document.
    server.set(|b| b.mode = Mode::Unavailable);
    assert!(eventually(LONG, || server.hits() >= 2).await);
    server.set(|b| b.mode = Mode::Garbage);
    assert!(eventually(LONG, || server.hits() >= 3).await);
    assert!(jwks.is_ready());
    jwks.ready(Duration::ZERO).await.unwrap();
    assert!(format!("{jwks:?}").contains("k-rsa"));
    server.stop().await; // connections refused from now on
    assert!(jwks.is_ready());
}

#[tokio::test]
async fn dropping_the_last_handle_stops_background_refreshes() {
    let server = Server::start().await;
    server.set(|b| b.cache_control = Some("max-age=1".into()));
    let jwks = RemoteJwks::new(&server.url())
        .unwrap()
        .cache_bounds(Duration::from_secs(1), Duration::from_secs(1));
    let clone = jwks.clone();
    drop(jwks);
    clone.ready(LONG).await.unwrap();
    assert!(
        eventually(LONG, || server.hits() >= 2).await,
        "a clone keeps it running"
    );
    drop(clone);
    sleep(Duration::from_millis(100)).await;
    let hits = server.hits();
    sleep(Duration::from_millis(1200)).await; // a refresh every 0.85 s, were it running
    assert_eq!(server.hits(), hits);
}

#[test]
fn invalid_urls_are_refused() {
    for url in [
        "",
        "not a url",
        "/jwks.json",
        "ftp://idp.example/jwks",
        "mailto:a@b.example",
    ] {
        assert_eq!(
            RemoteJwks::new(url).unwrap_err(),
            KeyError::InvalidUrl(url.into())
        );
    }
    for issuer in [
        "idp.example/realms/demo",
        "https://idp.example/?realm=demo",
        "https://idp.example#x",
        " https://idp.example",
    ] {
        assert_eq!(
            RemoteJwks::discover(issuer).unwrap_err(),
            KeyError::InvalidUrl(issuer.into())
        );
    }
}

#[test]
fn made_outside_a_runtime_it_starts_inside_one_and_debug_hides_credentials() {
    let jwks = RemoteJwks::new("https://user:secret@idp.example/jwks?api_key=abc")
        .unwrap()
        .timeouts(Duration::from_secs(1), Duration::from_secs(2));
    assert!(!jwks.is_ready());
    let debug = format!("{jwks:?}");
    assert!(debug.contains("https://idp.example/jwks"), "{debug}");
    assert!(
        !debug.contains("secret") && !debug.contains("abc"),
        "{debug}"
    );

    // Made outside, used inside: the task starts with the first use in the runtime.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let server = Server::start().await;
        let jwks = RemoteJwks::new(&server.url()).unwrap();
        jwks.ready(LONG).await.unwrap();
    });
}
