//! A JWKS provider for the tests: a real axum server on a loopback port that serves a JWKS
//! document at `/jwks.json`, and the OpenID discovery document of the issuer `{base}/realms/demo`
//! (whose `jwks_uri`, `{base}/realms/demo/certs`, serves the same document). Tests switch what it
//! answers (document, 503, delay, `Cache-Control`, the `issuer` discovery names), count what it
//! was asked, and close its port.
//!
//! `src/keys/remote/tests.rs` includes this file too, so it uses nothing from the crate: the
//! document is bytes, and only axum, tokio and serde_json (dev-dependencies) are used.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A running provider. Dropping it leaves the server running until the runtime ends;
/// [`stop`](Self::stop) closes the port.
pub struct JwksProvider {
    base: String,
    served: Arc<Served>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

/// What the provider answers, and what it was asked.
struct Served {
    realm: String,
    knobs: Mutex<Knobs>,
    jwks_hits: AtomicUsize,
    discovery_hits: AtomicUsize,
}

struct Knobs {
    document: Vec<u8>,
    up: bool,
    delay: Duration,
    cache_control: Option<String>,
    /// The `issuer` the discovery document names; `None`: the real one, [`JwksProvider::realm`].
    issuer: Option<String>,
    user_agent: Option<String>,
}

impl JwksProvider {
    /// A provider serving `document` on a free loopback port.
    pub async fn start(document: Vec<u8>) -> Self {
        Self::start_at(SocketAddr::from(([127, 0, 0, 1], 0)), document).await
    }

    /// A provider serving `document` on `addr` (a port a test chose before the provider was up).
    pub async fn start_at(addr: SocketAddr, document: Vec<u8>) -> Self {
        let listener = TcpListener::bind(addr).await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let served = Arc::new(Served {
            realm: format!("{base}/realms/demo"),
            knobs: Mutex::new(Knobs {
                document,
                up: true,
                delay: Duration::ZERO,
                cache_control: None,
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
            .with_state(Arc::clone(&served));
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
            base,
            served,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// The JWKS URL, `{base}/jwks.json`.
    pub fn url(&self) -> String {
        format!("{}/jwks.json", self.base)
    }

    /// The issuer discovery is served for, `{base}/realms/demo`.
    pub fn realm(&self) -> String {
        self.served.realm.clone()
    }

    /// Serves `document` from now on (a rotation, or bytes that are no JWKS at all).
    pub fn set_document(&self, document: Vec<u8>) {
        self.knobs().document = document;
    }

    /// Up: 200 with the document; down: 503. Discovery is not affected.
    pub fn set_up(&self, up: bool) {
        self.knobs().up = up;
    }

    /// How long each JWKS request waits before it is answered (an hour is a provider that hangs).
    pub fn set_delay(&self, delay: Duration) {
        self.knobs().delay = delay;
    }

    /// The `Cache-Control` value sent with the document; `None`: no such header.
    pub fn set_cache_control(&self, value: Option<&str>) {
        self.knobs().cache_control = value.map(str::to_owned);
    }

    /// Makes the discovery document name `issuer` instead of [`realm`](Self::realm).
    pub fn set_issuer(&self, issuer: &str) {
        self.knobs().issuer = Some(issuer.to_owned());
    }

    /// JWKS requests so far, at either path, answered or not.
    pub fn hits(&self) -> usize {
        self.served.jwks_hits.load(Ordering::SeqCst)
    }

    /// Discovery document requests so far.
    pub fn discovery_hits(&self) -> usize {
        self.served.discovery_hits.load(Ordering::SeqCst)
    }

    /// The `User-Agent` of the last JWKS request.
    pub fn user_agent(&self) -> Option<String> {
        self.knobs().user_agent.clone()
    }

    /// Closes the port: connections are refused from now on.
    pub async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap();
        }
    }

    fn knobs(&self) -> std::sync::MutexGuard<'_, Knobs> {
        self.served.knobs.lock().unwrap()
    }
}

async fn serve_jwks(State(served): State<Arc<Served>>, headers: HeaderMap) -> Response {
    served.jwks_hits.fetch_add(1, Ordering::SeqCst);
    let delay = {
        let mut knobs = served.knobs.lock().unwrap();
        knobs.user_agent = headers
            .get(header::USER_AGENT)
            .map(|v| v.to_str().unwrap().to_owned());
        knobs.delay
    };
    tokio::time::sleep(delay).await;
    let knobs = served.knobs.lock().unwrap();
    if !knobs.up {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let mut response = (
        [(header::CONTENT_TYPE, "application/json")],
        knobs.document.clone(),
    )
        .into_response();
    if let Some(value) = &knobs.cache_control {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_str(value).unwrap());
    }
    response
}

async fn serve_discovery(State(served): State<Arc<Served>>) -> Response {
    served.discovery_hits.fetch_add(1, Ordering::SeqCst);
    let issuer = served.knobs.lock().unwrap().issuer.clone();
    let realm = &served.realm;
    Json(json!({
        "issuer": issuer.as_deref().unwrap_or(realm),
        "jwks_uri": format!("{realm}/certs"),
        "id_token_signing_alg_values_supported": ["RS256"],
    }))
    .into_response()
}
