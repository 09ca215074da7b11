//! [`MockProvider`]: an identity provider on a loopback port for integration tests. It serves
//! an OIDC discovery document and a JWKS over real HTTP (hyper), signs tokens with its current
//! key, rotates keys and fails on demand, and counts what it was asked.

use std::convert::Infallible;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::TestKey;
use crate::TokenIssuer;
use crate::keys::PublicJwks;
use crate::middleware::JwtLayer;

/// An identity provider on `127.0.0.1` for integration tests: OIDC discovery at
/// `{issuer}/.well-known/openid-configuration`, its keys at `{issuer}/jwks.json`, tokens signed
/// with its current key (ES256 with the `aws_lc_rs` backend, else EdDSA; `kid`s `key-1`,
/// `key-2`, …). [`rotate`](Self::rotate) brings a new key, [`retire_previous`](Self::retire_previous)
/// drops the old one from the JWKS, [`set_failing`](Self::set_failing) answers 503 to
/// everything. Dropping it closes its port.
///
/// ```
/// use tower_jwt_auth::test_util::MockProvider;
/// use tower_jwt_auth::{JwtLayer, RemoteJwks};
///
/// # tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(async {
/// let idp = MockProvider::start().await?;
/// // Keys found by discovery, as in production; tokens must name the provider as `iss`.
/// let keys = RemoteJwks::discovery_builder(idp.issuer()).build()?;
/// let layer = JwtLayer::<serde_json::Value>::new(keys).audience("orders-api");
///
/// let token = idp.token_for(&layer, &serde_json::json!({"sub": "ada"})).await;
/// assert_eq!(layer.verify(&token).await?["aud"], "orders-api");
///
/// idp.rotate(); // a new signing key, published beside the old one
/// idp.retire_previous(); // the old key leaves the JWKS: its tokens are refused once the
///                        // layer's keys are refreshed
/// idp.set_failing(true); // 503 for discovery and the JWKS
/// # Ok::<(), Box<dyn std::error::Error>>(()) })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct MockProvider {
    shared: Arc<Shared>,
    server: JoinHandle<()>,
}

/// What the server answers with, and what it was asked.
struct Shared {
    issuer: String,
    keys: Mutex<Keys>,
    jwks_requests: AtomicUsize,
    discovery_requests: AtomicUsize,
}

struct Keys {
    /// The key that signs; the JWKS publishes it.
    current: TestKey,
    /// The key before the last rotation, published until retired.
    previous: Option<TestKey>,
    made: usize,
    failing: bool,
}

impl MockProvider {
    /// Starts the provider on a free loopback port, with one key.
    ///
    /// # Errors
    /// When no loopback port can be had.
    ///
    /// # Panics
    /// Outside a tokio runtime.
    pub async fn start() -> io::Result<Self> {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let issuer = format!("http://{}", listener.local_addr()?);
        let shared = Arc::new(Shared {
            issuer,
            keys: Mutex::new(Keys {
                current: new_key(1),
                previous: None,
                made: 1,
                failing: false,
            }),
            jwks_requests: AtomicUsize::new(0),
            discovery_requests: AtomicUsize::new(0),
        });
        let server = tokio::spawn(serve(listener, Arc::clone(&shared)));
        Ok(Self { shared, server })
    }

    /// The issuer, `http://127.0.0.1:<port>`: the `iss` of its tokens and the base of its URLs.
    pub fn issuer(&self) -> &str {
        &self.shared.issuer
    }

    /// The JWKS URL, `{issuer}/jwks.json`.
    pub fn jwks_url(&self) -> String {
        format!("{}/jwks.json", self.shared.issuer)
    }

    /// A token with these claims, signed with the current key, `iss` the provider's, and
    /// `iat`, `exp` (15 minutes) and `jti` unless the claims set them.
    ///
    /// # Panics
    /// When the claims are not a JSON object.
    pub fn token<T: Serialize + ?Sized>(&self, claims: &T) -> String {
        TokenIssuer::new(self.signing_key())
            .issuer(self.shared.issuer.as_str())
            .issue(claims)
            .unwrap_or_else(|err| panic!("MockProvider::token: {err}"))
            .token
    }

    /// A [`TokenIssuer`] with the current key whose tokens carry what `layer` requires (see
    /// [`TestKey::issuer_for`]), with the provider as `iss`.
    pub fn issuer_for<C>(&self, layer: &JwtLayer<C>) -> TokenIssuer {
        super::issuer_for(layer, self.signing_key(), Some(&self.shared.issuer))
    }

    /// A token `layer` accepts, signed with the current key (see [`TestKey::token_for`]).
    ///
    /// # Panics
    /// When the layer refuses it all the same, with the layer's reason.
    pub async fn token_for<C, T>(&self, layer: &JwtLayer<C>, claims: &T) -> String
    where
        C: DeserializeOwned + Clone + Send + Sync + 'static,
        T: Serialize + ?Sized,
    {
        let tokens = self.issuer_for(layer);
        super::token_for(layer, tokens, claims, "MockProvider::token_for").await
    }

    /// A new current key (the next `kid`); the JWKS publishes it beside the one it replaces,
    /// as providers do while tokens of the old key are still in use.
    pub fn rotate(&self) {
        let mut keys = self.keys();
        keys.made += 1;
        let next = new_key(keys.made);
        keys.previous = Some(std::mem::replace(&mut keys.current, next));
    }

    /// Drops the key before the last rotation from the JWKS.
    pub fn retire_previous(&self) {
        self.keys().previous = None;
    }

    /// Failing: 503 for every request (discovery and the JWKS), as a provider that is down.
    pub fn set_failing(&self, failing: bool) {
        self.keys().failing = failing;
    }

    /// The `kid` of the current key.
    pub fn current_kid(&self) -> String {
        kid(self.keys().made)
    }

    /// JWKS requests so far, answered or not.
    pub fn jwks_requests(&self) -> usize {
        self.shared.jwks_requests.load(Ordering::SeqCst)
    }

    /// Discovery document requests so far, answered or not.
    pub fn discovery_requests(&self) -> usize {
        self.shared.discovery_requests.load(Ordering::SeqCst)
    }

    /// The current signing key (with its `kid`), for tokens a test shapes itself, such as one
    /// without `iss`.
    pub fn signing_key(&self) -> crate::SigningKey {
        self.keys().current.signing_key().clone()
    }

    fn keys(&self) -> MutexGuard<'_, Keys> {
        self.shared.keys()
    }
}

impl Drop for MockProvider {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl fmt::Debug for MockProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockProvider")
            .field("issuer", &self.shared.issuer)
            .field("current_kid", &self.current_kid())
            .finish_non_exhaustive()
    }
}

impl Shared {
    fn keys(&self) -> MutexGuard<'_, Keys> {
        // A test that panicked while holding the lock leaves keys that are still whole.
        self.keys.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn answer(&self, request: &Request<Incoming>) -> Response<Full<Bytes>> {
        let counter = match request.uri().path() {
            "/jwks.json" => &self.jwks_requests,
            "/.well-known/openid-configuration" => &self.discovery_requests,
            _ => return status(StatusCode::NOT_FOUND),
        };
        counter.fetch_add(1, Ordering::SeqCst);
        if request.method() != Method::GET {
            return status(StatusCode::METHOD_NOT_ALLOWED);
        }
        let keys = self.keys();
        if keys.failing {
            return status(StatusCode::SERVICE_UNAVAILABLE);
        }
        let body = if std::ptr::eq(counter, &self.jwks_requests) {
            let published = std::iter::once(&keys.current).chain(&keys.previous);
            let jwks = PublicJwks::new(published.map(TestKey::signing_key))
                .expect("test keys are publishable");
            Bytes::copy_from_slice(jwks.json())
        } else {
            let alg = format!("{:?}", keys.current.signing_key().algorithm());
            let document = serde_json::json!({
                "issuer": self.issuer,
                "jwks_uri": format!("{}/jwks.json", self.issuer),
                "id_token_signing_alg_values_supported": [alg],
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
            });
            Bytes::from(document.to_string())
        };
        let mut response = Response::new(Full::new(body));
        // No `Cache-Control`, as many providers send none: the layer's own bounds decide.
        response.headers_mut().insert(
            CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        response
    }
}

/// Accepts connections until the provider is dropped; each is served by hyper, in a set that
/// ends with this task, so that no kept-alive connection outlives the provider.
async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            // Out of file descriptors and the like: try again shortly, not in a busy loop.
            Err(_) => {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        while connections.try_join_next().is_some() {}
        let shared = Arc::clone(&shared);
        let service = hyper::service::service_fn(move |request| {
            let response = shared.answer(&request);
            async move { Ok::<_, Infallible>(response) }
        });
        connections.spawn(async move {
            // A client that goes away mid-request is no concern of the provider's.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn status(status: StatusCode) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    response
}

fn kid(n: usize) -> String {
    format!("key-{n}")
}

/// The provider's `n`th key.
fn new_key(n: usize) -> TestKey {
    #[cfg(feature = "aws_lc_rs")]
    let key = TestKey::es256();
    #[cfg(not(feature = "aws_lc_rs"))]
    let key = TestKey::ed25519();
    key.with_kid(kid(n))
}
