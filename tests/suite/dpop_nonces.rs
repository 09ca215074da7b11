//! Server nonces for DPoP proofs (`Dpop::nonces`, RFC 9449 §9), with proofs from the
//! independent client in `tests/common/dpop.rs`: a proof without a nonce, or with one that is
//! stale, forged, from another secret or from two lifetimes ahead, is refused 401 `use_dpop_nonce` with a
//! fresh nonce in `DPoP-Nonce`; the client retries with it and passes; a success with a nonce
//! from the lifetime before hands out the current one; instances that share the secret share
//! the nonces; bearer tokens need none; gRPC calls get the nonce too; keys fetched from a JWKS
//! at the first request change none of this.
#![cfg(all(feature = "axum", feature = "test-util"))]

use crate::common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use common::dpop::Client;
use common::{Reply, send};
use serde_json::{Value, json};
use tower_jwt_auth::clock::ManualClock;
use tower_jwt_auth::dpop::{Dpop, Nonces};
use tower_jwt_auth::test_util::{MockProvider, TestKey};
use tower_jwt_auth::{Auth, JwtLayer, RemoteJwks, Requirement};

const NOW: u64 = 1_800_000_000;
const ORIGIN: &str = "https://api.example.com";
const SECRET: &[u8] = b"the DPoP nonce secret of the tests, 32+ bytes";
const USE_NONCE: &str = r#"DPoP error="use_dpop_nonce", error_description="DPoP proof needs the server's nonce", algs="ES256 ES384 EdDSA RS256 PS256""#;

struct Api {
    app: Router,
    clock: ManualClock,
    token: String,
    client: Client,
}

/// An API whose layer requires nonces from `secret`, each given out for 60 seconds, and an
/// access token bound to the client's key.
fn api(key: &TestKey, secret: &[u8]) -> Api {
    let clock = ManualClock::new(NOW);
    let layer = JwtLayer::<Value>::new(key.verifying_key())
        .clock(clock.clone())
        .dpop(Dpop::allowed(ORIGIN).unwrap().nonces(nonces(secret)));
    let client = Client::new(7);
    let token = common::bound_token(key, &layer, &client);
    let app = routes(layer);
    Api {
        app,
        clock,
        token,
        client,
    }
}

/// `/orders` for any authenticated caller, `/admin` for the scope `admin` only, and
/// `/own-nonce`, which sets a `DPoP-Nonce` of its own, under `layer`.
fn routes(layer: JwtLayer<Value>) -> Router {
    let admin = Requirement::<Value>::scope("admin");
    Router::new()
        .route(
            "/orders",
            get(|Auth(c): Auth<Value>| async move { Json(c) }),
        )
        .route("/admin", get(|| async { "ok" }).layer(admin.layer()))
        .route(
            "/own-nonce",
            get(|| async { ([("dpop-nonce", "the-apps-own")], "ok") }),
        )
        .layer(layer)
}

impl Api {
    /// `GET /orders` with the token and a proof made at the clock's now with `nonce`.
    async fn call(&self, jti: &str, nonce: Option<&str>) -> Reply {
        self.call_path("/orders", jti, nonce).await
    }

    /// `GET path` with the token and a proof made at the clock's now with `nonce`.
    async fn call_path(&self, path: &str, jti: &str, nonce: Option<&str>) -> Reply {
        let uri = format!("{ORIGIN}{path}");
        let now = self.clock.now();
        let proof = match nonce {
            Some(nonce) => self
                .client
                .proof_with_nonce("GET", &uri, &self.token, jti, now, nonce),
            None => self.client.proof_for("GET", &uri, &self.token, now, jti),
        };
        let request = Request::get(path)
            .header("authorization", format!("DPoP {}", self.token))
            .header("dpop", proof);
        send(&self.app, request.body(Body::empty()).unwrap()).await
    }
}

/// The nonces of `secret` as the tests' layers make them (each given out for 60 seconds), also
/// for a test to compute what a layer hands out.
fn nonces(secret: &[u8]) -> Nonces {
    Nonces::new(secret)
        .unwrap()
        .lifetime(Duration::from_secs(60))
}

/// The nonce a refusal hands out, after checking it is a `use_dpop_nonce` one.
fn use_nonce(reply: &Reply) -> String {
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{:?}", reply.body);
    assert_eq!(reply.challenges(), [USE_NONCE]);
    let nonce = reply.headers["dpop-nonce"].to_str().unwrap().to_owned();
    // RFC 9449 §8.1: NQCHAR, no quote, backslash or space.
    assert!(
        nonce
            .bytes()
            .all(|b| (0x21..=0x7e).contains(&b) && b != b'"' && b != b'\\'),
        "{nonce}"
    );
    nonce
}

#[tokio::test]
async fn a_proof_without_a_nonce_gets_one_and_the_retry_with_it_passes() {
    let api = api(&TestKey::hs256(), SECRET);
    let nonce = use_nonce(&api.call("p-1", None).await);
    let ok = api.call("p-2", Some(&nonce)).await;
    assert_eq!(ok.status, StatusCode::OK, "{:?}", ok.body);
    assert_eq!(ok.body["sub"], "ada");
    assert!(ok.headers.get("dpop-nonce").is_none());
}

#[tokio::test]
async fn a_nonce_is_good_for_one_to_two_lifetimes_then_a_new_one_is_handed_out() {
    let api = api(&TestKey::hs256(), SECRET);
    let nonce = use_nonce(&api.call("p-1", None).await);
    // NOW is a multiple of 60: the nonce was given out at the start of its window.
    api.clock.advance(Duration::from_secs(119));
    assert_eq!(api.call("p-2", Some(&nonce)).await.status, StatusCode::OK);
    api.clock.advance(Duration::from_secs(1));
    let fresh = use_nonce(&api.call("p-3", Some(&nonce)).await);
    assert_ne!(fresh, nonce);
    assert_eq!(api.call("p-4", Some(&fresh)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_success_with_the_last_lifetimes_nonce_hands_out_the_current_one() {
    let api = api(&TestKey::hs256(), SECRET);
    let nonce = use_nonce(&api.call("p-1", None).await);
    api.clock.advance(Duration::from_secs(59));
    let current = api.call("p-2", Some(&nonce)).await;
    assert_eq!(current.status, StatusCode::OK);
    assert!(current.headers.get("dpop-nonce").is_none(), "still current");

    // The next lifetime: the nonce still passes, and the answer carries its successor
    // (RFC 9449 §8.2), so the client never meets a `use_dpop_nonce` refusal.
    api.clock.advance(Duration::from_secs(1));
    let renewed = api.call("p-3", Some(&nonce)).await;
    assert_eq!(renewed.status, StatusCode::OK, "{:?}", renewed.body);
    assert_eq!(renewed.body["sub"], "ada");
    let next = renewed.headers["dpop-nonce"].to_str().unwrap().to_owned();
    assert_eq!(next, nonces(SECRET).current(NOW + 60));
    assert_ne!(next, nonce);
    let moved_on = api.call("p-4", Some(&next)).await;
    assert_eq!(moved_on.status, StatusCode::OK);
    assert!(moved_on.headers.get("dpop-nonce").is_none());

    // A refusal made inside the layer (a missing scope) hands it out as well.
    let forbidden = api.call_path("/admin", "p-5", Some(&nonce)).await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    assert_eq!(forbidden.headers["dpop-nonce"], next.as_str());
    // A `DPoP-Nonce` the app sets itself is its to set.
    let own = api.call_path("/own-nonce", "p-6", Some(&nonce)).await;
    assert_eq!(own.status, StatusCode::OK);
    assert_eq!(own.headers["dpop-nonce"], "the-apps-own");
    // A refused proof gets no successor to a nonce it did not prove: a replay is refused as one.
    let replayed = api.call("p-3", Some(&nonce)).await;
    assert_eq!(replayed.status, StatusCode::UNAUTHORIZED);
    assert!(replayed.headers.get("dpop-nonce").is_none());
}

#[tokio::test]
async fn nonces_work_alike_when_the_keys_come_from_a_jwks_at_the_first_request() {
    let provider = MockProvider::start().await.unwrap();
    let clock = ManualClock::new(NOW + 60);
    // Not waited for: the first request fetches the keys, then checks the proof.
    let keys = RemoteJwks::new(&provider.jwks_url()).unwrap();
    let layer = JwtLayer::<Value>::new(keys)
        .issuer(provider.issuer())
        .clock(clock.clone())
        .dpop(Dpop::required(ORIGIN).unwrap().nonces(nonces(SECRET)));
    let client = Client::new(9);
    let token = provider
        .issuer_for(&layer)
        .issue_bound(&json!({"sub": "ada"}), &client.thumbprint())
        .unwrap()
        .token;
    let api = Api {
        app: routes(layer),
        clock,
        token,
        client,
    };
    let older = nonces(SECRET).current(NOW);
    // No keys yet: this request waits for the fetch (the layer's slow path), then the proof.
    assert_eq!(provider.jwks_requests(), 0);
    let renewed = api.call("j-1", Some(&older)).await;
    assert_eq!(renewed.status, StatusCode::OK, "{:?}", renewed.body);
    assert_eq!(
        renewed.headers["dpop-nonce"],
        nonces(SECRET).current(NOW + 60).as_str()
    );
    assert_eq!(provider.jwks_requests(), 1);
    // The same checks as with keys at hand: no nonce, a replay (the same `jti`, all else as
    // the first call), another key's proof.
    use_nonce(&api.call("j-2", None).await);
    assert_eq!(
        api.call("j-1", Some(&older)).await.description(),
        "invalid DPoP proof"
    );
    let thief = Api {
        client: Client::new(10),
        ..api
    };
    let stolen = thief.call("j-3", Some(&older)).await;
    assert_eq!(stolen.status, StatusCode::UNAUTHORIZED);
    assert!(stolen.headers.get("dpop-nonce").is_none());
}

#[tokio::test]
async fn forged_foreign_future_and_malformed_nonces_are_refused() {
    let key = TestKey::hs256();
    let api = api(&key, SECRET);
    let nonce = use_nonce(&api.call("p-0", None).await);
    let (window, mac) = nonce.split_once('.').unwrap();
    let other_secret = nonces(b"another secret of at least 32 bytes!!").current(NOW);
    // Two lifetimes ahead: no instance's clock is that far off.
    let future = nonces(SECRET).current(NOW + 120);
    let mut flipped = mac.to_owned().into_bytes();
    flipped[0] = if flipped[0] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).unwrap();
    let next_window = (window.parse::<u64>().unwrap() + 1).to_string();
    let refused = [
        other_secret,
        future,
        format!("{window}.{flipped}"),
        format!("{next_window}.{mac}"),
        format!("+{window}.{mac}"),
        format!("0{window}.{mac}"),
        format!("{window}.{mac}x"),
        window.to_owned(),
        format!("{window}."),
        String::new(),
        format!("{window}.{}", "A".repeat(200)),
    ];
    for (i, bad) in refused.iter().enumerate() {
        let reply = api.call(&format!("p-{}", i + 1), Some(bad)).await;
        assert_eq!(use_nonce(&reply), nonce, "{bad}");
    }
    // The real one still passes.
    assert_eq!(api.call("p-ok", Some(&nonce)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn instances_sharing_the_secret_share_the_nonces_and_others_do_not() {
    let key = TestKey::hs256();
    let (a, b) = (api(&key, SECRET), api(&key, SECRET));
    let other = api(&key, b"a third instance's secret, 32+ bytes long");
    let nonce = use_nonce(&a.call("p-1", None).await);
    assert_eq!(b.call("p-2", Some(&nonce)).await.status, StatusCode::OK);
    use_nonce(&other.call("p-3", Some(&nonce)).await);
    // An instance whose clock runs ahead into the next lifetime hands out the next nonce; the
    // others take it.
    let ahead = api(&key, SECRET);
    ahead.clock.set(NOW + 60);
    let next = use_nonce(&ahead.call("p-4", None).await);
    assert_ne!(next, nonce);
    assert_eq!(a.call("p-5", Some(&next)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn bearer_tokens_need_no_nonce_and_grpc_calls_get_it_in_their_metadata() {
    let key = TestKey::hs256();
    let api = api(&key, SECRET);
    let layer = JwtLayer::<Value>::new(key.verifying_key()).clock(ManualClock::new(NOW));
    let bearer = key
        .issuer_for(&layer)
        .issue(&json!({"sub": "bob"}))
        .unwrap()
        .token;
    let request = Request::get("/orders").header("authorization", format!("Bearer {bearer}"));
    let reply = send(&api.app, request.body(Body::empty()).unwrap()).await;
    assert_eq!(reply.status, StatusCode::OK);

    let uri = format!("{ORIGIN}/orders");
    let proof = api.client.proof_for("GET", &uri, &api.token, NOW, "g-1");
    let request = Request::get("/orders")
        .header("content-type", "application/grpc")
        .header("authorization", format!("DPoP {}", api.token))
        .header("dpop", proof);
    let reply = send(&api.app, request.body(Body::empty()).unwrap()).await;
    assert_eq!(reply.headers["grpc-status"], "16");
    assert_eq!(
        reply.headers["grpc-message"],
        "DPoP proof needs the server's nonce"
    );
    let nonce = reply.headers["dpop-nonce"].to_str().unwrap().to_owned();
    assert!(nonces(SECRET).check(&nonce, NOW));

    // A gRPC call with the last lifetime's nonce gets the current one in its metadata too.
    api.clock.set(NOW + 60);
    let proof = api
        .client
        .proof_with_nonce("GET", &uri, &api.token, "g-2", NOW + 60, &nonce);
    let request = Request::get("/orders")
        .header("content-type", "application/grpc")
        .header("authorization", format!("DPoP {}", api.token))
        .header("dpop", proof);
    let reply = send(&api.app, request.body(Body::empty()).unwrap()).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.headers["dpop-nonce"],
        nonces(SECRET).current(NOW + 60).as_str()
    );
}
