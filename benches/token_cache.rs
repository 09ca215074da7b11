//! What the verified-token cache saves: for each algorithm, one authenticated request through
//! `JwtLayer` without the cache (cold: the signature checked every time), with it (warm: the
//! same token again), an empty router, and the empty router behind a no-op Tower layer (what
//! axum's wrapping of any layer costs, the floor of a layer's request), in the same run. Every
//! router is finished with `with_state(())`, as `axum::serve` does, so that no arm pays for
//! building its route again per request.
//!
//! Before criterion's groups it prints the figures this machine can resolve: the arms
//! interleaved (each round runs a batch of every arm in turn, so background load hits them
//! alike) as medians of per-round ratios to the empty router, and the heap allocations per
//! request of each arm, counted by a counting global allocator.
//!
//! Run with `cargo bench --bench token_cache -- --noplot`.

#[path = "common/alloc.rs"]
mod alloc;
mod common;

use common::{Claims, User, bench_arm, config, send};

use std::hint::black_box;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use alloc::ALLOCATIONS;
use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode};
use axum::routing::get;
use criterion::{Criterion, criterion_group};
use tokio::runtime::Runtime;
use tower::Layer;
use tower::util::MapRequestLayer;
use tower_jwt_auth::middleware::{JwtService, TokenCache};
use tower_jwt_auth::{Algorithm, Auth, JwtLayer, SigningKey, TokenIssuer, TokenType, VerifyingKey};

const HS256_SECRET: &[u8] = b"a bench-only HS256 secret, 32 bytes or more";

fn key_pair(alg: Algorithm) -> (SigningKey, VerifyingKey) {
    let pem = |name: &str, half: &str| {
        std::fs::read(format!(
            "{}/tests/keys/{name}_{half}.pem",
            env!("CARGO_MANIFEST_DIR")
        ))
        .expect("test key")
    };
    let name = match alg {
        Algorithm::HS256 => {
            return (
                SigningKey::hs256(HS256_SECRET).expect("HS256"),
                VerifyingKey::hs256(HS256_SECRET).expect("HS256"),
            );
        }
        Algorithm::RS256 => "rsa",
        Algorithm::ES256 => "ec256",
        Algorithm::EdDSA => "ed25519",
        other => panic!("no bench key for {other:?}"),
    };
    (
        SigningKey::from_pem(pem(name, "private"), alg).expect("signing key"),
        VerifyingKey::from_pem(pem(name, "public"), alg).expect("verifying key"),
    )
}

/// The arms of one algorithm: the empty router, the same behind a no-op layer, the layer
/// without and with the cache, and the layer with the cache around the whole router (a Tower
/// layer over the app, as `axum::serve` can take it, which axum neither boxes nor wraps).
struct Arms {
    name: String,
    auth: HeaderValue,
    routers: [(&'static str, Router); 4],
    around: JwtService<Router, Claims>,
}

const ARMS: usize = 5;
const NAMES: [&str; ARMS] = ["empty_router", "noop_layer", "cold", "warm", "warm_around"];

impl Arms {
    /// `n` requests through arm `i` (an index into `NAMES`).
    async fn run(&self, i: usize, n: u32) {
        for _ in 0..n {
            match self.routers.get(i) {
                Some((_, router)) => black_box(send(router, &self.auth).await),
                None => black_box(send(&self.around, &self.auth).await),
            };
        }
    }
}

fn arms(alg: Algorithm) -> Arms {
    let (signing, verifying) = key_pair(alg);
    let token = TokenIssuer::new(signing)
        .ttl(Duration::from_secs(365 * 24 * 3600))
        .token_type(TokenType::claim("type", "access"))
        .issue(&User {
            sub: "4f1c2a9e-7b3d-4c8a-9e21-5d6f0a7b8c9d",
            username: "ada.lovelace",
        })
        .expect("token")
        .token;
    let routed = |layer: JwtLayer<Claims>| {
        Router::new()
            .route(
                "/",
                get(|Auth(claims): Auth<Claims>| async move {
                    black_box(claims);
                    StatusCode::OK
                }),
            )
            .layer(layer)
            .with_state(())
    };
    let empty = || Router::new().route("/", get(|| async { StatusCode::OK }));
    let cold = JwtLayer::<Claims>::new(verifying);
    let warm = cold.clone().token_cache(TokenCache::new(10_000));
    let handler = Router::new()
        .route(
            "/",
            get(|Auth(claims): Auth<Claims>| async move {
                black_box(claims);
                StatusCode::OK
            }),
        )
        .with_state(());
    let around = cold
        .clone()
        .token_cache(TokenCache::new(10_000))
        .layer(handler);
    Arms {
        name: format!("{alg:?}"),
        auth: HeaderValue::try_from(format!("Bearer {token}")).expect("header"),
        routers: [
            ("empty_router", empty().with_state(())),
            (
                "noop_layer",
                empty()
                    .layer(MapRequestLayer::new(|req: Request| req))
                    .with_state(()),
            ),
            ("cold", routed(cold)),
            ("warm", routed(warm)),
        ],
        around,
    }
}

const ALGORITHMS: [Algorithm; 4] = [
    Algorithm::HS256,
    Algorithm::RS256,
    Algorithm::ES256,
    Algorithm::EdDSA,
];

/// Per-round ratios to the empty router, interleaved, and allocations per request.
fn interleaved(rt: &Runtime) {
    // `TOKEN_CACHE_ROUNDS` and `TOKEN_CACHE_ALGS` (e.g. `HS256,ES256`) shorten a run, for one
    // under valgrind's callgrind.
    let rounds = std::env::var("TOKEN_CACHE_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(150);
    let only = std::env::var("TOKEN_CACHE_ALGS").ok();
    const BATCH: u32 = 100;
    println!("token_cache: medians of {rounds} interleaved rounds of {BATCH} requests per arm");
    println!(
        "| alg | cold / empty | warm / empty | warm / no-op layer | warm / cold | warm around the router / empty | allocations: empty, no-op layer, cold, warm, warm around |"
    );
    println!("|---|---|---|---|---|---|---|");
    for alg in ALGORITHMS {
        let name = format!("{alg:?}");
        if only
            .as_ref()
            .is_some_and(|only| !only.split(',').any(|a| a == name))
        {
            continue;
        }
        let arms = arms(alg);
        // `TOKEN_CACHE_ARM=warm:2000`: only that many requests of that arm, then exit. Two
        // callgrind runs with different counts give the instructions of one request.
        if let Ok(arm) = std::env::var("TOKEN_CACHE_ARM") {
            let (arm, n) = arm
                .split_once(':')
                .expect("TOKEN_CACHE_ARM=<arm>:<requests>");
            let i = NAMES.iter().position(|a| *a == arm).expect("an arm name");
            rt.block_on(arms.run(i, n.parse().expect("a number of requests")));
            std::process::exit(0);
        }
        for (i, id) in NAMES.iter().enumerate() {
            let status = match arms.routers.get(i) {
                Some((_, router)) => rt.block_on(send(router, &arms.auth)),
                None => rt.block_on(send(&arms.around, &arms.auth)),
            };
            assert_eq!(status, StatusCode::OK, "{id}");
        }
        let mut ratios: [Vec<f64>; 5] = Default::default();
        for round in 0..rounds {
            let mut times = [0f64; ARMS];
            // Rotate the order too, so that no arm always runs first.
            for k in 0..ARMS {
                let i = (round + k) % ARMS;
                let start = Instant::now();
                rt.block_on(arms.run(i, BATCH));
                times[i] = start.elapsed().as_secs_f64();
            }
            let [empty, noop, cold, warm, around] = times;
            ratios[0].push(cold / empty);
            ratios[1].push(warm / empty);
            ratios[2].push(warm / noop);
            ratios[3].push(warm / cold);
            ratios[4].push(around / empty);
        }
        let allocations: [f64; ARMS] = std::array::from_fn(|i| {
            let before = ALLOCATIONS.load(Ordering::Relaxed);
            rt.block_on(arms.run(i, 1000));
            (ALLOCATIONS.load(Ordering::Relaxed) - before) as f64 / 1000.0
        });
        let [cold, warm, over_noop, gain, around] = ratios.map(median);
        let [a, b, c, d, e] = allocations;
        println!(
            "| {} | {cold:.2} | {warm:.2} | {over_noop:.2} | {gain:.3} | {around:.2} | {a:.1}, {b:.1}, {c:.1}, {d:.1}, {e:.1} |",
            arms.name
        );
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn token_cache(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    interleaved(&rt);
    for alg in ALGORITHMS {
        let arms = arms(alg);
        let mut group = c.benchmark_group(format!("token_cache/{}", arms.name));
        for (id, router) in &arms.routers {
            bench_arm(&mut group, &rt, id, router, &arms.auth);
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = config();
    targets = token_cache
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
