//! `JwtLayer::dpop` through the public API, with proofs from the independent client in
//! `tests/common/dpop.rs`: a bound token with its proof passes once; every departure (replay,
//! wrong method, path, key, stale proof, missing or repeated proof, a bound token as `Bearer`,
//! an unbound token as `DPoP`) is refused with the RFC 9449 §7.1 challenge; `Dpop::required`
//! refuses bearer tokens; the replay check holds across two instances through a real
//! `redis-server` and fails closed when it is down; the token cache keeps every check.
#![cfg(all(feature = "axum", feature = "test-util"))]

use crate::common;
#[cfg(feature = "redis")]
use crate::redis_server;

use axum::body::Body;
use axum::extract::Path;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use common::dpop::Client;
use common::{Reply, send};
use serde_json::{Value, json};
use tower_jwt_auth::JwtLayer;
use tower_jwt_auth::dpop::{Dpop, ProofRules};
use tower_jwt_auth::middleware::TokenCache;
use tower_jwt_auth::revocation::MemoryStore;
use tower_jwt_auth::test_util::TestKey;
use tower_jwt_auth::{Auth, clock::ManualClock};

const NOW: u64 = 1_800_000_000;
const ORIGIN: &str = "https://api.example.com";

struct Setup {
    key: TestKey,
    client: Client,
    layer: JwtLayer<Value>,
}

fn setup(dpop: Dpop) -> Setup {
    let key = TestKey::hs256();
    let layer = JwtLayer::<Value>::new(key.verifying_key())
        .clock(ManualClock::new(NOW))
        .dpop(dpop);
    Setup {
        key,
        client: Client::new(7),
        layer,
    }
}

impl Setup {
    /// An access token bound to `client`'s key (or to none).
    fn token(&self, bound_to: Option<&Client>) -> String {
        match bound_to {
            Some(client) => common::bound_token(&self.key, &self.layer, client),
            None => {
                let tokens = self.key.issuer_for(&self.layer);
                tokens.issue(&json!({"sub": "ada"})).unwrap().token
            }
        }
    }

    fn app(&self) -> Router {
        app(self.layer.clone())
    }
}

fn app(layer: JwtLayer<Value>) -> Router {
    Router::new()
        .route(
            "/orders",
            get(|Auth(c): Auth<Value>| async move { Json(c) }).post(|| async { "posted" }),
        )
        .layer(layer)
}

/// Sends `method /orders` with `Authorization: <scheme> <token>` and these proofs.
async fn call(app: &Router, method: &str, scheme: &str, token: &str, proofs: &[&str]) -> Reply {
    let mut request = Request::builder()
        .method(method)
        .uri("/orders?page=1")
        .header("authorization", format!("{scheme} {token}"));
    for proof in proofs {
        request = request.header("dpop", *proof);
    }
    send(app, request.body(Body::empty()).unwrap()).await
}

const ALGS: &str = r#"algs="ES256 ES384 EdDSA RS256 PS256""#;

fn invalid_proof() -> String {
    format!(r#"DPoP error="invalid_dpop_proof", error_description="invalid DPoP proof", {ALGS}"#)
}

fn invalid_token(description: &str) -> String {
    format!(r#"DPoP error="invalid_token", error_description="{description}", {ALGS}"#)
}

#[tokio::test]
async fn a_bound_token_with_its_proof_passes_once() {
    common::jsonwebtoken_ready();
    let s = setup(Dpop::allowed(ORIGIN).unwrap());
    let (app, token) = (s.app(), s.token(Some(&s.client)));
    let uri = format!("{ORIGIN}/orders");
    let proof = s.client.proof_for("GET", &uri, &token, NOW, "p-1");
    let ok = call(&app, "GET", "DPoP", &token, &[&proof]).await;
    assert_eq!(ok.status, StatusCode::OK, "{:?}", ok.body);
    assert_eq!(ok.body["cnf"]["jkt"], s.client.thumbprint());
    // The scheme is case-insensitive.
    let again = s.client.proof_for("GET", &uri, &token, NOW, "p-2");
    assert_eq!(
        call(&app, "GET", "dpop", &token, &[&again]).await.status,
        StatusCode::OK
    );

    let replayed = call(&app, "GET", "DPoP", &token, &[&proof]).await;
    assert_eq!(replayed.status, StatusCode::UNAUTHORIZED);
    assert_eq!(replayed.challenges(), [invalid_proof()]);
}

#[tokio::test]
async fn every_departure_from_the_request_or_the_binding_is_refused() {
    common::jsonwebtoken_ready();
    let s = setup(Dpop::allowed(ORIGIN).unwrap());
    let (app, token) = (s.app(), s.token(Some(&s.client)));
    let uri = format!("{ORIGIN}/orders");
    let proof = |method: &str, uri: &str, iat: u64, jti: &str| {
        s.client.proof_for(method, uri, &token, iat, jti)
    };
    let refused_proof = [
        ("POST", proof("GET", &uri, NOW, "a"), "wrong htm"),
        (
            "GET",
            proof("GET", &format!("{ORIGIN}/other"), NOW, "b"),
            "wrong htu path",
        ),
        (
            "GET",
            proof("GET", "https://evil.example.com/orders", NOW, "c"),
            "wrong htu host",
        ),
        ("GET", proof("GET", &uri, NOW - 120, "d"), "stale iat"),
        ("GET", proof("GET", &uri, NOW + 120, "e"), "future iat"),
    ];
    for (method, proof, why) in refused_proof {
        let reply = call(&app, method, "DPoP", &token, &[&proof]).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{why}");
        assert_eq!(reply.challenges(), [invalid_proof()], "{why}");
    }
    // No proof, two proofs.
    let good = proof("GET", &uri, NOW, "f");
    let none = call(&app, "GET", "DPoP", &token, &[]).await;
    assert_eq!(none.challenges(), [invalid_proof()]);
    let two = call(&app, "GET", "DPoP", &token, &[&good, &good]).await;
    assert_eq!(two.challenges(), [invalid_proof()]);
    // A proof of another key for this token: a thief's own proof.
    let thief = Client::new(9);
    let stolen = thief.proof_for("GET", &uri, &token, NOW, "g");
    let reply = call(&app, "GET", "DPoP", &token, &[&stolen]).await;
    assert_eq!(
        reply.challenges(),
        [invalid_token("token binding not satisfied")]
    );
    // The bound token without its proof, as Bearer: no downgrade.
    let bearer = call(&app, "GET", "Bearer", &token, &[]).await;
    assert_eq!(bearer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        bearer.challenges(),
        [invalid_token("token binding not satisfied")]
    );
    // An unbound token with a proof.
    let unbound = s.token(None);
    let proof = s.client.proof_for("GET", &uri, &unbound, NOW, "h");
    let reply = call(&app, "GET", "DPoP", &unbound, &[&proof]).await;
    assert_eq!(
        reply.challenges(),
        [invalid_token("token binding not satisfied")]
    );
    // A proof whose ath is another token's.
    let other = s.client.proof_for("GET", &uri, &unbound, NOW, "i");
    let reply = call(&app, "GET", "DPoP", &token, &[&other]).await;
    assert_eq!(reply.challenges(), [invalid_proof()]);
    // A bad token on a DPoP request: the DPoP scheme's invalid_token.
    let forged = TestKey::hs256()
        .issuer_for(&s.layer)
        .issue(&json!({"sub": "x"}))
        .unwrap();
    let proof = s.client.proof_for("GET", &uri, &forged.token, NOW, "j");
    let reply = call(&app, "GET", "DPoP", &forged.token, &[&proof]).await;
    assert_eq!(reply.challenges(), [invalid_token("invalid signature")]);
    // Nothing got through on the way.
    let fresh = s.client.proof_for("GET", &uri, &token, NOW, "k");
    assert_eq!(
        call(&app, "GET", "DPoP", &token, &[&fresh]).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn allowed_takes_unbound_bearer_tokens_and_offers_both_schemes() {
    common::jsonwebtoken_ready();
    let s = setup(Dpop::allowed(ORIGIN).unwrap());
    let app = s.app();
    let bearer = call(&app, "GET", "Bearer", &s.token(None), &[]).await;
    assert_eq!(bearer.status, StatusCode::OK);
    let anonymous = common::request(&app, "/orders", &[]).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        anonymous.challenges(),
        ["Bearer".to_owned(), format!("DPoP {ALGS}")]
    );
}

#[tokio::test]
async fn required_refuses_bearer_tokens_with_a_dpop_challenge() {
    common::jsonwebtoken_ready();
    let s = setup(Dpop::required(ORIGIN).unwrap());
    let app = s.app();
    let bearer = call(&app, "GET", "Bearer", &s.token(None), &[]).await;
    assert_eq!(bearer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(bearer.challenges(), [format!("DPoP {ALGS}")]);
    let anonymous = common::request(&app, "/orders", &[]).await;
    assert_eq!(anonymous.challenges(), [format!("DPoP {ALGS}")]);
    let token = s.token(Some(&s.client));
    let proof = s
        .client
        .proof_for("GET", &format!("{ORIGIN}/orders"), &token, NOW, "r");
    assert_eq!(
        call(&app, "GET", "DPoP", &token, &[&proof]).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_cache_hit_keeps_every_dpop_check() {
    common::jsonwebtoken_ready();
    let mut s = setup(Dpop::allowed(ORIGIN).unwrap());
    s.layer = s.layer.token_cache(TokenCache::new(100));
    let (app, token) = (s.app(), s.token(Some(&s.client)));
    let uri = format!("{ORIGIN}/orders");
    let first = s.client.proof_for("GET", &uri, &token, NOW, "c-1");
    assert_eq!(
        call(&app, "GET", "DPoP", &token, &[&first]).await.status,
        StatusCode::OK
    );
    assert_eq!(s.layer.token_cache_stats().unwrap().entries, 1);
    // Now a hit: the replayed proof, the Bearer downgrade and a thief's proof still fail.
    assert_eq!(
        call(&app, "GET", "DPoP", &token, &[&first]).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        call(&app, "GET", "Bearer", &token, &[]).await.status,
        StatusCode::UNAUTHORIZED
    );
    let thief = Client::new(9).proof_for("GET", &uri, &token, NOW, "c-2");
    assert_eq!(
        call(&app, "GET", "DPoP", &token, &[&thief]).await.status,
        StatusCode::UNAUTHORIZED
    );
    let second = s.client.proof_for("GET", &uri, &token, NOW, "c-3");
    assert_eq!(
        call(&app, "GET", "DPoP", &token, &[&second]).await.status,
        StatusCode::OK
    );
    assert!(s.layer.token_cache_stats().unwrap().hits >= 4);
}

#[test]
fn a_base_url_with_a_query_fragment_or_credentials_is_refused() {
    for origin in [
        "https://api.example.com/?x=1",
        "https://api.example.com#f",
        "https://user@api.example.com",
        "api.example.com",
        "ftp://api.example.com",
    ] {
        assert!(Dpop::allowed(origin).is_err(), "{origin}");
    }
    assert!(Dpop::allowed("https://api.example.com/").is_ok());
    assert!(Dpop::allowed("http://127.0.0.1:3000").is_ok());
    // The error names the URL less what may carry a credential.
    let err = Dpop::allowed("https://user:pw@api.example.com/?key=pw").unwrap_err();
    assert_eq!(err.0, "https://…@api.example.com/");
    assert!(!err.to_string().contains("pw"), "{err}");
}

#[cfg(feature = "redis")]
#[tokio::test]
async fn a_proof_is_accepted_once_across_instances_and_refused_when_redis_is_down() {
    use tower_jwt_auth::revocation::RedisStore;
    common::jsonwebtoken_ready();
    let mut redis = redis_server::RedisServer::start();
    let store = || RedisStore::new(&redis.url()).unwrap();
    let (one, two) = (store(), store());
    one.ready(std::time::Duration::from_secs(5)).await.unwrap();
    two.ready(std::time::Duration::from_secs(5)).await.unwrap();
    let s = setup(Dpop::allowed(ORIGIN).unwrap().replay_store(one));
    let other = s
        .layer
        .clone()
        .dpop(Dpop::allowed(ORIGIN).unwrap().replay_store(two));
    let token = s.token(Some(&s.client));
    let uri = format!("{ORIGIN}/orders");
    let proof = s.client.proof_for("GET", &uri, &token, NOW, "shared-1");
    assert_eq!(
        call(&s.app(), "GET", "DPoP", &token, &[&proof])
            .await
            .status,
        StatusCode::OK
    );
    let elsewhere = call(&app(other.clone()), "GET", "DPoP", &token, &[&proof]).await;
    assert_eq!(elsewhere.status, StatusCode::UNAUTHORIZED);
    assert_eq!(elsewhere.challenges(), [invalid_proof()]);

    redis.stop();
    let fresh = s.client.proof_for("GET", &uri, &token, NOW, "shared-2");
    let down = call(&app(other), "GET", "DPoP", &token, &[&fresh]).await;
    assert_eq!(down.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(down.challenges().is_empty());
}

#[tokio::test]
async fn grpc_calls_get_grpc_statuses_for_dpop_refusals() {
    common::jsonwebtoken_ready();
    let s = setup(Dpop::allowed(ORIGIN).unwrap());
    let (app, token) = (s.app(), s.token(Some(&s.client)));
    let grpc = |scheme: &str, proof: Option<String>| {
        let mut request = Request::post("/orders")
            .header("content-type", "application/grpc")
            .header("authorization", format!("{scheme} {token}"));
        if let Some(proof) = proof {
            request = request.header("dpop", proof);
        }
        request.body(Body::empty()).unwrap()
    };
    // The bound token as Bearer, and a proof for another method: UNAUTHENTICATED (16).
    let downgrade = send(&app, grpc("Bearer", None)).await;
    assert_eq!(downgrade.status, StatusCode::OK);
    assert_eq!(downgrade.headers["grpc-status"], "16");
    assert_eq!(
        downgrade.headers["grpc-message"],
        "token binding not satisfied"
    );
    let uri = format!("{ORIGIN}/orders");
    let wrong = s.client.proof_for("GET", &uri, &token, NOW, "g-1");
    let refused = send(&app, grpc("DPoP", Some(wrong))).await;
    assert_eq!(refused.headers["grpc-status"], "16");
    assert_eq!(refused.headers["grpc-message"], "invalid DPoP proof");
    assert!(refused.headers.get("www-authenticate").is_none());
}

#[tokio::test]
async fn bindings_the_layer_cannot_check_are_refused_everywhere() {
    common::jsonwebtoken_ready();
    let s = setup(Dpop::allowed(ORIGIN).unwrap());
    let plain_layer = JwtLayer::<Value>::new(s.key.verifying_key()).clock(ManualClock::new(NOW));
    let plain = app(plain_layer.clone());
    let tokens = s.key.issuer_for(&s.layer);
    // A DPoP-bound token on a layer without DPoP: no proof can be checked, so no bearer use.
    let bound = s.token(Some(&s.client));
    let reply = call(&plain, "GET", "Bearer", &bound, &[]).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert!(reply.www_authenticate().contains("invalid_token"));
    // Other confirmations (mTLS, a key given whole, null, a jkt beside another member).
    let jkt = s.client.thumbprint();
    for cnf in [
        json!({"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}),
        json!(null),
        json!({"jkt": 42}),
        json!({"jkt": jkt, "x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}),
        json!("jkt"),
    ] {
        let token = tokens
            .issue(&json!({"sub": "ada", "cnf": cnf}))
            .unwrap()
            .token;
        for app in [&plain, &s.app()] {
            let reply = call(app, "GET", "Bearer", &token, &[]).await;
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{cnf}");
        }
        let proof = s
            .client
            .proof_for("GET", &format!("{ORIGIN}/orders"), &token, NOW, "x");
        let reply = call(&s.app(), "GET", "DPoP", &token, &[&proof]).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{cnf}");
    }
    // Outside a request there is no proof: a bound token is refused by a DPoP layer.
    assert_eq!(
        s.layer.verify(&bound).await,
        Err(tower_jwt_auth::AuthError::DpopBinding)
    );
    assert!(s.layer.verify(&s.token(None)).await.is_ok());
    assert!(plain_layer.verify(&bound).await.is_err());
}

#[tokio::test]
async fn a_replay_is_refused_whatever_the_layers_clock_says() {
    common::jsonwebtoken_ready();
    // A layer clock far behind the system's: the replay marker must outlive the window.
    let past = 1_700_000_000;
    let key = TestKey::hs256();
    let layer = JwtLayer::<Value>::new(key.verifying_key())
        .clock(ManualClock::new(past))
        .dpop(Dpop::allowed(ORIGIN).unwrap());
    let client = Client::new(7);
    let token = common::bound_token(&key, &layer, &client);
    let proof = client.proof_for("GET", &format!("{ORIGIN}/orders"), &token, past, "old-1");
    let app = app(layer);
    assert_eq!(
        call(&app, "GET", "DPoP", &token, &[&proof]).await.status,
        StatusCode::OK
    );
    for _ in 0..2 {
        let again = call(&app, "GET", "DPoP", &token, &[&proof]).await;
        assert_eq!(again.status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn under_a_nested_router_the_base_url_names_the_prefix() {
    common::jsonwebtoken_ready();
    let s = setup(Dpop::allowed("https://api.example.com/api").unwrap());
    let nested = Router::new().nest("/api", s.app());
    let token = s.token(Some(&s.client));
    let full = s.client.proof_for(
        "GET",
        "https://api.example.com/api/orders",
        &token,
        NOW,
        "n-1",
    );
    let request = |proof: &str| {
        Request::get("/api/orders")
            .header("authorization", format!("DPoP {token}"))
            .header("dpop", proof)
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(send(&nested, request(&full)).await.status, StatusCode::OK);
    let short = s
        .client
        .proof_for("GET", "https://api.example.com/orders", &token, NOW, "n-2");
    assert_eq!(
        send(&nested, request(&short)).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn refusals_made_inside_the_layer_are_dpop_challenges_on_dpop_requests() {
    common::jsonwebtoken_ready();
    let s = setup(Dpop::allowed(ORIGIN).unwrap());
    let admin = tower_jwt_auth::Requirement::<Value>::scope("admin");
    let app = Router::new()
        .route(
            "/admin",
            get(|| async { "ok" }).layer(admin.clone().layer()),
        )
        .route(
            "/staff",
            get(|| async { "ok" }).layer(admin.layer().realm("staff")),
        )
        .layer(s.layer.clone());
    let token = s.token(Some(&s.client));
    for (path, realm) in [("/admin", ""), ("/staff", r#"realm="staff", "#)] {
        let uri = format!("{ORIGIN}{path}");
        let proof = s.client.proof_for("GET", &uri, &token, NOW, path);
        let request = Request::get(path)
            .header("authorization", format!("DPoP {token}"))
            .header("dpop", proof)
            .body(Body::empty())
            .unwrap();
        let reply = send(&app, request).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(
            reply.challenges(),
            [format!(
                r#"DPoP {realm}error="insufficient_scope", error_description="insufficient scope", scope="admin", {ALGS}"#
            )],
            "{path}"
        );
    }
}

#[tokio::test]
async fn a_proof_for_one_route_does_not_pass_on_another_spelled_with_dot_segments() {
    common::jsonwebtoken_ready();
    let s = setup(Dpop::allowed(ORIGIN).unwrap());
    let token = s.token(Some(&s.client));
    let app = Router::new()
        .route("/orders", get(|| async { "orders" }))
        .route(
            "/a/{id}/orders",
            get(|Path(id): Path<String>| async move { format!("other route id={id}") }),
        )
        .layer(s.layer.clone());
    let proof = |jti: &str| {
        s.client
            .proof_for("GET", &format!("{ORIGIN}/orders"), &token, NOW, jti)
    };
    for (i, path) in ["/a/../orders", "/a/%2E%2E/orders", "/a/.%2e/orders"]
        .iter()
        .enumerate()
    {
        let request = Request::get(*path)
            .header("authorization", format!("DPoP {token}"))
            .header("dpop", proof(&format!("r-{i}")));
        let reply = send(&app, request.body(Body::empty()).unwrap()).await;
        assert_eq!(
            reply.status,
            StatusCode::UNAUTHORIZED,
            "{path}: {:?}",
            reply.body
        );
        assert_eq!(reply.challenges(), [invalid_proof()], "{path}");
    }
}

#[tokio::test]
async fn a_zero_second_window_still_accepts_a_proof_only_once() {
    common::jsonwebtoken_ready();
    // The replay store on the layer's clock: a marker kept only "until now" is gone at once.
    let dpop = Dpop::allowed(ORIGIN)
        .unwrap()
        .proof_rules(ProofRules::new().window(std::time::Duration::ZERO))
        .replay_store(MemoryStore::new().clock(ManualClock::new(NOW)));
    let s = setup(dpop);
    let (app, token) = (s.app(), s.token(Some(&s.client)));
    let proof = s
        .client
        .proof_for("GET", &format!("{ORIGIN}/orders"), &token, NOW, "z-1");
    let first = call(&app, "GET", "DPoP", &token, &[&proof]).await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.body);
    let again = call(&app, "GET", "DPoP", &token, &[&proof]).await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
    assert_eq!(again.challenges(), [invalid_proof()]);
}
