//! A remote JWKS through cold starts, outages and keys the crate cannot use, against a real
//! provider on loopback: keys arrive at the first request after the provider answers, an outage
//! is logged when it starts and when it ends (not per request or per retry), and a skipped JWK
//! once, with its `kid`, the reason and the `jwks_uri` it came from. Its own binary: the log
//! capture is process-wide, so each test counts only the lines its own provider caused.
#![cfg(feature = "jwks")]

mod common;

use std::sync::OnceLock;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use common::jwks::JwksProvider;
use common::keys::{jwks_document, signing_key};
use common::logs::{Line, Lines};
use common::*;
use serde_json::{Value, json};
use tower_jwt_auth::clock::ManualClock;
use tower_jwt_auth::{Algorithm, Auth, JwtLayer, RemoteJwks, SigningKey, TokenIssuer};
use tracing::Level;

fn lines() -> &'static Lines {
    static LINES: OnceLock<Lines> = OnceLock::new();
    LINES.get_or_init(|| {
        let lines = Lines::default();
        tracing::subscriber::set_global_default(lines.subscriber()).unwrap();
        lines
    })
}

/// A provider for one test, with what it caused to be logged: the lines naming its port that
/// were recorded after it started. The port alone is not enough: the OS hands a finished test's
/// port to the next provider, and that test's lines are still in the capture.
struct Provider {
    server: JwksProvider,
    port: String,
    since: usize,
}

impl Provider {
    async fn start(document: Vec<u8>) -> Self {
        let since = lines().mark();
        let server = JwksProvider::start(document).await;
        let url = server.url();
        let port = url.split(':').nth(2).unwrap().split('/').next().unwrap();
        let port = format!(":{port}/");
        Provider {
            server,
            port,
            since,
        }
    }

    /// The lines at `level` starting with `prefix` that this provider caused.
    fn about(&self, level: Level, prefix: &str) -> Vec<Line> {
        lines()
            .matching_since(self.since, level, prefix)
            .into_iter()
            .filter(|l| l.fields.contains(&self.port))
            .collect()
    }
}

impl std::ops::Deref for Provider {
    type Target = JwksProvider;

    fn deref(&self) -> &JwksProvider {
        &self.server
    }
}

fn token(signer: &SigningKey) -> String {
    token_with(signer, json!({"sub": "alice"}))
}

fn token_with(signer: &SigningKey, claims: Value) -> String {
    TokenIssuer::new(signer.clone())
        .clock(ManualClock::new(NOW))
        .issue(&claims)
        .unwrap()
        .token
}

fn app(keys: RemoteJwks) -> Router {
    let layer = JwtLayer::<Value>::new(keys).clock(ManualClock::new(NOW));
    Router::new()
        .route("/", get(|Auth(_): Auth<Value>| async { "ok" }))
        .layer(layer)
}

#[tokio::test]
async fn at_a_cold_start_keys_come_at_the_first_request_after_the_provider_answers() {
    let key = signing_key("ec256", Algorithm::ES256, "k1");
    let server = Provider::start(jwks_document(std::slice::from_ref(&key))).await;
    server.set_up(false);
    let app = app(RemoteJwks::new(&server.url()).unwrap());
    let token = token(&key);
    assert_eq!(
        with_bearer(&app, &token).await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    // Background retries at about 0 s, 1 s and 3 s; the next is due at about 7 s.
    tokio::time::sleep(Duration::from_millis(3300)).await;
    let before = server.hits();
    server.set_up(true);
    // More than a second after the last retry: the request fetches, it does not wait for the
    // backoff (it got 503 until the retry at 7 s, or 10 s with the former cooldown).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let reply = with_bearer(&app, &token).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(server.hits(), before + 1, "one fetch, the request's");
    // Keys fetched this way verify like any others: a payload swapped under the signature is
    // refused.
    let other = token_with(&key, json!({"sub": "mallory"}));
    let (head, rest) = token.split_once('.').unwrap();
    let signature = rest.rsplit_once('.').unwrap().1;
    let swapped = other.split('.').nth(1).unwrap();
    let forged = format!("{head}.{swapped}.{signature}");
    assert_eq!(
        with_bearer(&app, &forged).await.description(),
        "invalid signature"
    );
    // The outage is one warn and one info, whatever the retries.
    assert_eq!(server.about(Level::WARN, "JWKS fetch").len(), 1);
    let fetched = server.about(Level::INFO, "JWKS fetched");
    assert_eq!(fetched.len(), 1, "{fetched:?}");
    assert!(fetched[0].fields.contains("down_for=Some("), "{fetched:?}");
}

#[tokio::test]
async fn an_outage_logs_its_start_and_its_end_not_every_failed_fetch() {
    let key = signing_key("ec256", Algorithm::ES256, "k1");
    let server = Provider::start(jwks_document(std::slice::from_ref(&key))).await;
    let keys = RemoteJwks::builder(&server.url())
        .refetch_cooldown(Duration::ZERO)
        .build()
        .unwrap();
    keys.ready(Duration::from_secs(5)).await.unwrap();
    let app = app(keys);
    let good = token(&key);
    // Unknown kids ask for a fetch each (no cooldown): every one fails while the provider is down.
    let unknown = token(&signing_key("ec256", Algorithm::ES256, "rotated-in"));

    server.set_up(false);
    let before = server.hits();
    for _ in 0..30 {
        assert_eq!(
            with_bearer(&app, &unknown).await.status,
            StatusCode::UNAUTHORIZED
        );
        // The cached keys keep serving the known kid.
        assert_eq!(with_bearer(&app, &good).await.status, StatusCode::OK);
    }
    let failed = server.hits() - before;
    assert!(failed >= 30, "{failed} failed fetches");
    let warned = server.about(Level::WARN, "JWKS fetch");
    assert_eq!(
        warned.len(),
        1,
        "one line for {failed} failures: {warned:?}"
    );
    assert!(warned[0].fields.contains("serving_cached_keys=true"));
    assert!(warned[0].fields.contains("503"), "{warned:?}");

    server.set_up(true);
    assert_eq!(
        with_bearer(&app, &unknown).await.status,
        StatusCode::UNAUTHORIZED
    );
    let fetched = server.about(Level::INFO, "JWKS fetched");
    assert_eq!(
        fetched.len(),
        2,
        "the first load and the end of the outage: {fetched:?}"
    );
    assert!(
        fetched[1].fields.contains(&format!("failures={failed} ")),
        "{fetched:?}"
    );
    assert_eq!(server.about(Level::WARN, "JWKS fetch").len(), 1);
}

#[tokio::test]
async fn a_skipped_jwk_is_logged_once_with_its_kid_its_reason_and_the_jwks_uri() {
    let key = signing_key("ec256", Algorithm::ES256, "good");
    let mut document: Value =
        serde_json::from_slice(&jwks_document(std::slice::from_ref(&key))).unwrap();
    let listed = document["keys"].as_array_mut().unwrap();
    listed.push(json!({"kty": "EC", "crv": "P-521", "alg": "ES512", "kid": "p521",
        "x": "AMaFrZ8vYMDz-NHR-ZUrBQVbSi1D8XLXgBldQmrfT7dv4bsYEPJYnX3H8rYkmTkg6EfyWZcQFo55Zzmv_7h6Bufl",
        "y": "ARg5KWYaxPrWTlRArFpqBm3tVhFc8ZpQuK2VQqRiBbNpSE1SMT9NHNLuNEU3PBRC4K0Jav5NYCs5enb-31rkJGZQ"}));
    listed
        .push(json!({"kty": "oct", "kid": "shared", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"}));
    listed.push(
        json!({"kty": "EC", "crv": "P-256", "alg": "RS256", "kid": "mixed-up",
        "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
        "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}),
    );
    let server = Provider::start(serde_json::to_vec(&document).unwrap()).await;
    // Discovery: the JWKS comes from the `jwks_uri`, which the lines must name.
    let keys = RemoteJwks::discovery_builder(&server.realm())
        .refetch_cooldown(Duration::ZERO)
        .build()
        .unwrap();
    keys.ready(Duration::from_secs(5)).await.unwrap();
    let app = app(keys);
    let claims = json!({"sub": "alice", "iss": server.realm()});
    let good = token_with(&key, claims.clone());
    let unknown = token_with(&signing_key("ec256", Algorithm::ES256, "unknown"), claims);
    for _ in 0..5 {
        // Each unknown kid refetches the same document.
        assert_eq!(
            with_bearer(&app, &unknown).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(with_bearer(&app, &good).await.status, StatusCode::OK);
    // The skipped shared secret never verifies anything: an HS256 token made with it is refused.
    let forged = hs256_token(
        &json!({"alg": "HS256", "kid": "shared"}),
        &json!({"sub": "alice", "iss": server.realm(), "exp": NOW + 600}),
        b"secret-secret-secret-secret",
    );
    assert_eq!(
        with_bearer(&app, &forged).await.status,
        StatusCode::UNAUTHORIZED
    );

    let skipped = server.about(Level::WARN, "JWK skipped");
    assert_eq!(
        skipped.len(),
        3,
        "once each, not at every fetch: {skipped:?}"
    );
    let jwks_uri = format!("jwks_uri={}/certs ", server.realm());
    for (kid, reason) in [
        ("p521", "`ES512` is not supported"),
        ("shared", "shared secrets are never taken from a JWK"),
        (
            "mixed-up",
            "algorithm RS256 is not allowed for this kind of key",
        ),
    ] {
        let line = skipped
            .iter()
            .find(|l| l.fields.contains(&format!("kid=Some({kid:?})")))
            .unwrap_or_else(|| panic!("no line for {kid}: {skipped:?}"));
        assert!(line.fields.contains(&jwks_uri), "{line:?}");
        assert!(line.fields.contains(reason), "{line:?}");
    }
    let fetched = server.about(Level::INFO, "JWKS fetched");
    assert!(fetched[0].fields.contains(&jwks_uri), "{fetched:?}");

    // A new unusable key is told when it appears; the known ones stay quiet.
    document["keys"]
        .as_array_mut()
        .unwrap()
        .push(json!({"kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB"}));
    server.set_document(serde_json::to_vec(&document).unwrap());
    assert_eq!(
        with_bearer(&app, &unknown).await.status,
        StatusCode::UNAUTHORIZED
    );
    let skipped = server.about(Level::WARN, "JWK skipped");
    assert_eq!(skipped.len(), 4, "{skipped:?}");
    assert!(skipped[3].fields.contains("kid=Some(\"enc\")"));
    assert!(
        skipped[3].fields.contains("`use` is not `sig`"),
        "{skipped:?}"
    );
}

#[tokio::test]
async fn a_long_outage_is_logged_again_each_period_with_a_count_not_at_every_failure() {
    let key = signing_key("ec256", Algorithm::ES256, "k1");
    let server = Provider::start(jwks_document(std::slice::from_ref(&key))).await;
    let jwks = RemoteJwks::builder(&server.url())
        .refetch_cooldown(Duration::ZERO)
        .outage_log_interval(Duration::from_millis(200))
        .build()
        .unwrap();
    jwks.ready(Duration::from_secs(5)).await.unwrap();

    server.set_up(false);
    let mut failures = 0;
    let app = app(jwks);
    let unknown = token(&signing_key("ec256", Algorithm::ES256, "rotated-in"));
    for _ in 0..40 {
        // An unknown kid: one failed fetch each.
        assert_eq!(
            with_bearer(&app, &unknown).await.status,
            StatusCode::UNAUTHORIZED
        );
        failures += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let first = server.about(Level::WARN, "JWKS fetch failed").len();
    let again = server.about(Level::WARN, "JWKS fetches still failing");
    assert_eq!(first, 1, "one line when the outage starts");
    assert!(!again.is_empty(), "a line each period");
    // At most one line per 200 ms period, however slowly the loop ran: load can only spread
    // the lines further apart.
    for pair in again.windows(2) {
        let apart = pair[1].at - pair[0].at;
        assert!(apart >= Duration::from_millis(190), "lines {apart:?} apart");
    }
    assert!(again.len() < failures, "{} lines", again.len());
    // The counts add up: every failure after the first is in one periodic line or still pending.
    let counted: u32 = again
        .iter()
        .map(|l| {
            let field = l.fields.split("failed_since_last_line=").nth(1).unwrap();
            field.split(' ').next().unwrap().parse::<u32>().unwrap()
        })
        .sum();
    assert!(
        counted >= 1 && counted < failures as u32,
        "{counted} of {failures}"
    );

    server.set_up(true);
    assert_eq!(
        with_bearer(&app, &unknown).await.status,
        StatusCode::UNAUTHORIZED
    );
    let ended = server.about(Level::INFO, "JWKS fetched");
    assert_eq!(ended.len(), 2, "the first load and the end: {ended:?}");
    assert!(
        ended[1].fields.contains(&format!("failures={failures} ")),
        "{ended:?}"
    );
}
