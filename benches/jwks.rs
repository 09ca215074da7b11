//! What a warm JWKS cache adds to a validated RS256 or ES256 request: the same route behind
//! `JwtLayer` with the public key itself (`static_key`), with a `KeySet` of three keys the
//! token's `kid` picks from (`static_keyset`), and with a `RemoteJwks` whose cache holds the same
//! three keys, fetched once from a real axum JWKS server on loopback (`warm_jwks`). The server
//! counts its hits: a fetch while a sample is timed (other than a scheduled refresh) fails the
//! bench.
//!
//! Run with `cargo bench --features jwks --bench jwks -- --noplot`.

mod common;

use common::{Claims, User, bench_arm, config};

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::{HeaderValue, StatusCode};
use axum::routing::get;
use criterion::{Criterion, criterion_group, criterion_main};
use tower_jwt_auth::keys::PublicJwks;
use tower_jwt_auth::{
    Algorithm, Auth, JwtLayer, KeySet, RemoteJwks, SigningKey, TokenIssuer, TokenType, VerifyingKey,
};

/// How long the provider lets verifiers cache its JWKS (`Cache-Control: max-age`).
const JWKS_MAX_AGE: u32 = 300;
/// `RemoteJwks` refreshes at 85% of the document's lifetime: the only fetches it may make
/// while the bench runs come every this many seconds.
const REFRESH_SECS: u64 = JWKS_MAX_AGE as u64 * 17 / 20;

/// A key pair of the test suite and the `kid` it is published under.
struct KeyFile {
    algorithm: Algorithm,
    private: &'static [u8],
    public: &'static [u8],
    kid: &'static str,
}

const RSA: KeyFile = KeyFile {
    algorithm: Algorithm::RS256,
    private: include_bytes!("../tests/keys/rsa_private.pem"),
    public: include_bytes!("../tests/keys/rsa_public.pem"),
    kid: "rsa-2026-11",
};
const EC256: KeyFile = KeyFile {
    algorithm: Algorithm::ES256,
    private: include_bytes!("../tests/keys/ec256_private.pem"),
    public: include_bytes!("../tests/keys/ec256_public.pem"),
    kid: "ec256-2026-11",
};
const ED25519: KeyFile = KeyFile {
    algorithm: Algorithm::EdDSA,
    private: include_bytes!("../tests/keys/ed25519_private.pem"),
    public: include_bytes!("../tests/keys/ed25519_public.pem"),
    kid: "ed25519-2026-11",
};

impl KeyFile {
    fn signing(&self) -> SigningKey {
        SigningKey::from_pem(self.private, self.algorithm)
            .expect("signing key")
            .with_kid(self.kid)
    }

    fn verifying(&self) -> VerifyingKey {
        VerifyingKey::from_pem(self.public, self.algorithm).expect("verifying key")
    }
}

/// One algorithm's group: the token's key, and the two others published beside it.
struct Setup {
    name: &'static str,
    key: &'static KeyFile,
    others: [&'static KeyFile; 2],
}

impl Setup {
    /// The three keys, the token's last, so that picking it by `kid` scans the whole set.
    fn keys(&self) -> [&'static KeyFile; 3] {
        [self.others[0], self.others[1], self.key]
    }

    /// A header with a token carrying the key's `kid`.
    fn auth(&self) -> HeaderValue {
        let token = TokenIssuer::new(self.key.signing())
            .ttl(Duration::from_secs(365 * 24 * 3600))
            .token_type(TokenType::claim("type", "access"))
            .issue(&User {
                sub: "4f1c2a9e-7b3d-4c8a-9e21-5d6f0a7b8c9d",
                username: "ada.lovelace",
            })
            .expect("token")
            .token;
        HeaderValue::try_from(format!("Bearer {token}")).expect("header")
    }

    fn key_set(&self) -> KeySet {
        KeySet::new(self.keys().map(|k| k.verifying().with_kid(k.kid)))
    }

    fn jwks(&self) -> PublicJwks {
        let signing = self.keys().map(KeyFile::signing);
        PublicJwks::new(&signing)
            .expect("JWKS")
            .max_age(JWKS_MAX_AGE)
    }
}

/// The JWKS endpoint of an identity provider, on loopback, counting the documents it serves.
struct JwksServer {
    url: String,
    hits: Arc<AtomicUsize>,
}

impl JwksServer {
    async fn start(jwks: PublicJwks) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("loopback listener");
        let url = format!(
            "http://{}/.well-known/jwks.json",
            listener.local_addr().expect("address")
        );
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&hits);
        let app = Router::new().route(
            "/.well-known/jwks.json",
            get(move || async move {
                counter.fetch_add(1, Ordering::Relaxed);
                jwks
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await.expect("JWKS server") });
        Self { url, hits }
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::Relaxed)
    }
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

fn jwks(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    // The provider and the cache's refresh task run on a thread of their own, as in a server:
    // the bench's runtime has no timer and runs only while a sample is timed. `ready` below is
    // the first use of each `RemoteJwks`, so its task starts here, and a fetch during timing
    // would be counted by the server rather than hidden.
    let provider = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("provider runtime");
    let setups = [
        Setup {
            name: "jwks_rs256",
            key: &RSA,
            others: [&EC256, &ED25519],
        },
        Setup {
            name: "jwks_es256",
            key: &EC256,
            others: [&RSA, &ED25519],
        },
    ];
    for setup in &setups {
        let auth = setup.auth();
        let server = provider.block_on(JwksServer::start(setup.jwks()));
        let remote = RemoteJwks::new(&server.url).expect("JWKS URL");
        provider
            .block_on(remote.ready(Duration::from_secs(5)))
            .expect("JWKS loaded");
        assert_eq!(
            server.hits(),
            1,
            "{}: one fetch warms the cache",
            setup.name
        );

        let mut group = c.benchmark_group(setup.name);
        let static_key = router(JwtLayer::new(setup.key.verifying()));
        bench_arm(&mut group, &rt, "static_key", &static_key, &auth);
        let static_keyset = router(JwtLayer::new(setup.key_set()));
        bench_arm(&mut group, &rt, "static_keyset", &static_keyset, &auth);
        let warm_jwks = router(JwtLayer::new(remote));
        let before = server.hits();
        let started = Instant::now();
        bench_arm(&mut group, &rt, "warm_jwks", &warm_jwks, &auth);
        let fetched = server.hits() - before;
        let scheduled = started.elapsed().as_secs() / REFRESH_SECS;
        println!(
            "{}/warm_jwks: {fetched} JWKS fetches while timed ({scheduled} scheduled), {} in all",
            setup.name,
            server.hits()
        );
        assert!(
            fetched as u64 <= scheduled,
            "{}: the warm cache fetched {fetched} times while timed",
            setup.name
        );
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = config();
    targets = jwks
}
criterion_main!(benches);
