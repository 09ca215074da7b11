//! What DPoP costs a request: the same HS256-authenticated route behind `JwtLayer` without DPoP
//! (`bearer`, the baseline), behind a layer that allows DPoP with a plain bearer token
//! (`bearer_on_dpop_layer`: the extra look at `cnf`), and with a DPoP-bound token and a fresh
//! ES256 proof each request (`dpop`: proof parse, signature, thumbprint, the in-memory replay
//! check and the boxed future it needs). Proofs are made before timing (the client's cost, not
//! the server's). Arms interleaved (each round a batch of every arm in turn), medians of
//! per-round ratios to `bearer`, and allocations per request from a counting allocator.
//!
//! Run with `cargo bench --bench dpop`.

#[path = "common/alloc.rs"]
mod alloc;
#[path = "../tests/common/dpop.rs"]
mod client;

use std::hint::black_box;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use alloc::ALLOCATIONS;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use client::Client;
use serde_json::{Value, json};
use tower::ServiceExt;
use tower_jwt_auth::dpop::Dpop;
use tower_jwt_auth::{Auth, JwtLayer, SigningKey, TokenIssuer, VerifyingKey};

const SECRET: &[u8] = b"a bench-only HS256 secret, 32 bytes or more";
const ORIGIN: &str = "https://api.example.com";
const BATCH: usize = 50;

fn app(layer: JwtLayer<Value>) -> Router {
    Router::new()
        .route(
            "/orders",
            get(|Auth(c): Auth<Value>| async move {
                black_box(c);
                StatusCode::OK
            }),
        )
        .layer(layer)
        .with_state(())
}

async fn send(app: &Router, scheme: &str, token: &str, proof: Option<&str>) -> StatusCode {
    let mut request = Request::get("/orders").header("authorization", format!("{scheme} {token}"));
    if let Some(proof) = proof {
        request = request.header("dpop", proof);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await;
    response.unwrap().status()
}

fn main() {
    let rounds: usize = std::env::var("DPOP_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(100);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let verifying = VerifyingKey::hs256(SECRET).unwrap();
    let issuer =
        TokenIssuer::new(SigningKey::hs256(SECRET).unwrap()).ttl(Duration::from_secs(3600));
    let client = Client::new(7);
    let plain_token = issuer.issue(&json!({"sub": "ada"})).unwrap().token;
    let bound_token = issuer
        .issue(&json!({"sub": "ada", "cnf": {"jkt": client.thumbprint()}}))
        .unwrap()
        .token;
    let plain = app(JwtLayer::new(verifying.clone()));
    let dpop_layer = app(JwtLayer::new(verifying).dpop(Dpop::allowed(ORIGIN).unwrap()));

    // One fresh proof per DPoP request, made before timing.
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let uri = format!("{ORIGIN}/orders");
    let total = rounds * BATCH + 1000 + 1;
    let proofs: Vec<String> = (0..total)
        .map(|i| client.proof_for("GET", &uri, &bound_token, now, &format!("bench-{i}")))
        .collect();
    let mut next = proofs.iter();

    rt.block_on(async {
        assert_eq!(
            send(&plain, "Bearer", &plain_token, None).await,
            StatusCode::OK
        );
        assert_eq!(
            send(&dpop_layer, "Bearer", &plain_token, None).await,
            StatusCode::OK
        );
        let proof = next.next().unwrap();
        assert_eq!(
            send(&dpop_layer, "DPoP", &bound_token, Some(proof)).await,
            StatusCode::OK
        );
    });

    let mut ratios: [Vec<f64>; 2] = Default::default();
    for round in 0..rounds {
        let mut times = [0f64; 3];
        for k in 0..3 {
            let arm = (round + k) % 3;
            let start = Instant::now();
            rt.block_on(async {
                for _ in 0..BATCH {
                    let status = match arm {
                        0 => send(&plain, "Bearer", &plain_token, None).await,
                        1 => send(&dpop_layer, "Bearer", &plain_token, None).await,
                        _ => {
                            send(&dpop_layer, "DPoP", &bound_token, next.next().map(|p| &**p)).await
                        }
                    };
                    black_box(status);
                }
            });
            times[arm] = start.elapsed().as_secs_f64();
        }
        ratios[0].push(times[1] / times[0]);
        ratios[1].push(times[2] / times[0]);
    }
    let per_request = |arm: usize, next: &mut std::slice::Iter<'_, String>| {
        let before = ALLOCATIONS.load(Ordering::Relaxed);
        rt.block_on(async {
            for _ in 0..500 {
                match arm {
                    0 => send(&plain, "Bearer", &plain_token, None).await,
                    1 => send(&dpop_layer, "Bearer", &plain_token, None).await,
                    _ => send(&dpop_layer, "DPoP", &bound_token, next.next().map(|p| &**p)).await,
                };
            }
        });
        (ALLOCATIONS.load(Ordering::Relaxed) - before) as f64 / 500.0
    };
    let allocations = [0, 1, 2].map(|arm| per_request(arm, &mut next));
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let [bearer_on_dpop, dpop] = ratios.map(median);
    println!("dpop: medians of {rounds} interleaved rounds of {BATCH} requests per arm");
    println!(
        "| bearer_on_dpop_layer / bearer | dpop / bearer | allocations: bearer, bearer_on_dpop_layer, dpop |"
    );
    println!("|---|---|---|");
    let [a, b, c] = allocations;
    println!("| {bearer_on_dpop:.2} | {dpop:.2} | {a:.1}, {b:.1}, {c:.1} |");
}
