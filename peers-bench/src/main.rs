//! tower-jwt-auth against its Rust peers in one interleaved harness: an authenticated HS256 and
//! ES256 request through each, with an empty axum router and a hand-rolled axum middleware over
//! `jsonwebtoken::decode` as the baselines, in the same run.
//!
//! Each round runs a batch of every arm in turn (the order rotated), so that background load
//! hits them alike; the figures are medians of per-round ratios to the hand-rolled middleware.
//! A counting global allocator gives allocations per request.
//!
//! Run from this directory: `cargo run --release` (`PEERS_ROUNDS`, default 150).

#[path = "../../benches/common/alloc.rs"]
mod alloc;

use std::hint::black_box;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloc::ALLOCATIONS;
use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use serde::{Deserialize, Serialize};
use tower::ServiceExt;
use tower_jwt_auth::middleware::TokenCache;
use tower_jwt_auth::{Algorithm, Auth, JwtLayer, SigningKey, TokenIssuer, TokenType, VerifyingKey};


/// The six claims of a typical access token.
#[derive(Clone, Debug, Deserialize)]
#[allow(dead_code)]
struct Claims {
    sub: String,
    username: String,
    iat: u64,
    exp: u64,
    jti: String,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Serialize)]
struct User<'a> {
    sub: &'a str,
    username: &'a str,
    aud: &'a str,
}

/// Every arm checks the audience (axum-jwt-auth requires one).
const AUDIENCE: &str = "bench-api";

fn validation(alg: jsonwebtoken::Algorithm) -> jsonwebtoken::Validation {
    let mut validation = jsonwebtoken::Validation::new(alg);
    validation.set_audience(&[AUDIENCE]);
    validation
}

const SECRET: &str = "a bench-only HS256 secret, 32 bytes or more";

fn pem(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/../tests/keys/{name}.pem",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("test key")
}

/// One arm: a router of axum 0.8 or of axum 0.7 (jwt-authorizer's).
enum Arm {
    Axum08(Router),
    Axum07(axum07::Router),
}

impl Arm {
    async fn send(&self, auth: &HeaderValue) -> StatusCode {
        match self {
            Arm::Axum08(router) => {
                let req = Request::builder()
                    .uri("/")
                    .header(AUTHORIZATION, auth.clone())
                    .body(axum::body::Body::empty())
                    .expect("request");
                router
                    .clone()
                    .oneshot(req)
                    .await
                    .expect("infallible")
                    .status()
            }
            Arm::Axum07(router) => {
                let req = Request::builder()
                    .uri("/")
                    .header(AUTHORIZATION, auth.clone())
                    .body(axum07::body::Body::empty())
                    .expect("request");
                router
                    .clone()
                    .oneshot(req)
                    .await
                    .expect("infallible")
                    .status()
            }
        }
    }
}

/// What an app writes without a crate: a `from_fn` middleware that reads the bearer header,
/// calls `jsonwebtoken::decode` and puts the claims in the extensions.
async fn hand_rolled(
    State(keys): State<Arc<(jsonwebtoken::DecodingKey, jsonwebtoken::Validation)>>,
    mut req: Request,
    next: Next,
) -> Response {
    let token = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let Some(token) = token else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    match jsonwebtoken::decode::<Claims>(token, &keys.0, &keys.1) {
        Ok(data) => {
            req.extensions_mut().insert(data.claims);
            next.run(req).await
        }
        Err(_) => StatusCode::UNAUTHORIZED.into_response(),
    }
}

fn arms(alg: Algorithm) -> (String, Vec<(&'static str, Arm)>) {
    let (signing, verifying, decoding, decoding10) = match alg {
        Algorithm::HS256 => (
            SigningKey::hs256(SECRET.as_bytes()).expect("key"),
            VerifyingKey::hs256(SECRET.as_bytes()).expect("key"),
            jsonwebtoken::DecodingKey::from_secret(SECRET.as_bytes()).expect("key"),
            jsonwebtoken10::DecodingKey::from_secret(SECRET.as_bytes()),
        ),
        Algorithm::ES256 => (
            SigningKey::from_pem(pem("ec256_private"), alg).expect("key"),
            VerifyingKey::from_pem(pem("ec256_public"), alg).expect("key"),
            jsonwebtoken::DecodingKey::from_ec_pem(pem("ec256_public").as_bytes()).expect("key"),
            jsonwebtoken10::DecodingKey::from_ec_pem(pem("ec256_public").as_bytes()).expect("key"),
        ),
        other => panic!("no arm for {other:?}"),
    };
    let token = TokenIssuer::new(signing)
        .ttl(Duration::from_secs(365 * 24 * 3600))
        .token_type(TokenType::claim("type", "access"))
        .issue(&User {
            sub: "4f1c2a9e-7b3d-4c8a-9e21-5d6f0a7b8c9d",
            username: "ada.lovelace",
            aud: AUDIENCE,
        })
        .expect("token")
        .token;
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");

    let empty = Router::new().route("/", get(|| async { StatusCode::OK }));
    let jwt_alg = match alg {
        Algorithm::HS256 => jsonwebtoken::Algorithm::HS256,
        _ => jsonwebtoken::Algorithm::ES256,
    };
    let hand = Router::new()
        .route(
            "/",
            get(|Extension(claims): Extension<Claims>| async move {
                black_box(claims);
                StatusCode::OK
            }),
        )
        .layer(axum::middleware::from_fn_with_state(
            Arc::new((decoding, validation(jwt_alg))),
            hand_rolled,
        ));
    let ours = |layer: JwtLayer<Claims>| {
        Router::new()
            .route(
                "/",
                get(|Auth(claims): Auth<Claims>| async move {
                    black_box(claims);
                    StatusCode::OK
                }),
            )
            .layer(layer)
    };
    let cold = JwtLayer::<Claims>::new(verifying).audience(AUDIENCE);
    let warm = cold.clone().token_cache(TokenCache::new(10_000));

    // jwt-authorizer 0.15 (axum 0.7, jsonwebtoken 9).
    let builder = match alg {
        Algorithm::HS256 => jwt_authorizer::JwtAuthorizer::<Claims>::from_secret(SECRET),
        _ => jwt_authorizer::JwtAuthorizer::<Claims>::from_ec_pem_text(&pem("ec256_public")),
    };
    let builder = builder.validation(jwt_authorizer::Validation::new().aud(&[AUDIENCE]));
    let authorizer = rt.block_on(builder.build()).expect("jwt-authorizer");
    use jwt_authorizer::IntoLayer;
    let peer1 = axum07::Router::new()
        .route(
            "/",
            axum07::routing::get(
                |jwt_authorizer::JwtClaims(claims): jwt_authorizer::JwtClaims<Claims>| async move {
                    black_box(claims);
                    StatusCode::OK
                },
            ),
        )
        .layer(authorizer.into_layer());

    // axum-jwt-auth 0.7 (an extractor over state, jsonwebtoken 10).
    let alg10 = match alg {
        Algorithm::HS256 => jsonwebtoken10::Algorithm::HS256,
        _ => jsonwebtoken10::Algorithm::ES256,
    };
    let decoder: axum_jwt_auth::Decoder<Claims> = Arc::new(
        axum_jwt_auth::LocalDecoder::builder()
            .keys(vec![decoding10])
            .validation({
                let mut validation = jsonwebtoken10::Validation::new(alg10);
                validation.set_audience(&[AUDIENCE]);
                validation
            })
            .build()
            .expect("axum-jwt-auth"),
    );
    let peer2 = Router::new()
        .route(
            "/",
            get(|claims: axum_jwt_auth::Claims<Claims>| async move {
                black_box(claims.claims);
                StatusCode::OK
            }),
        )
        .with_state(decoder);

    let arms = vec![
        ("empty axum", Arm::Axum08(empty.with_state(()))),
        ("hand-rolled", Arm::Axum08(hand.with_state(()))),
        ("tower-jwt-auth", Arm::Axum08(ours(cold).with_state(()))),
        (
            "tower-jwt-auth, cache",
            Arm::Axum08(ours(warm).with_state(())),
        ),
        ("jwt-authorizer 0.15", Arm::Axum07(peer1.with_state(()))),
        ("axum-jwt-auth 0.7", Arm::Axum08(peer2)),
    ];
    let auth = HeaderValue::try_from(format!("Bearer {token}")).expect("header");
    (auth.to_str().unwrap().to_owned(), arms)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let rounds: usize = std::env::var("PEERS_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(150);
    const BATCH: u32 = 50;
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    println!("peers: medians of {rounds} interleaved rounds of {BATCH} requests per arm");
    for alg in [Algorithm::HS256, Algorithm::ES256] {
        let (auth, arms) = arms(alg);
        let auth = HeaderValue::try_from(auth).expect("header");
        for (name, arm) in &arms {
            assert_eq!(rt.block_on(arm.send(&auth)), StatusCode::OK, "{name}");
        }
        let n = arms.len();
        let mut ratios = vec![Vec::with_capacity(rounds); n];
        let mut per_request = vec![Vec::with_capacity(rounds); n];
        for round in 0..rounds {
            let mut times = vec![0f64; n];
            for k in 0..n {
                let i = (round + k) % n;
                let start = Instant::now();
                rt.block_on(async {
                    for _ in 0..BATCH {
                        black_box(arms[i].1.send(&auth).await);
                    }
                });
                times[i] = start.elapsed().as_secs_f64();
            }
            for i in 0..n {
                ratios[i].push(times[i] / times[1]);
                per_request[i].push(times[i] / f64::from(BATCH) * 1e6);
            }
        }
        println!("\n{alg:?}\n");
        println!("| arm | / hand-rolled | µs per request | allocations per request |");
        println!("|---|---|---|---|");
        for (i, (name, arm)) in arms.iter().enumerate() {
            let before = ALLOCATIONS.load(Ordering::Relaxed);
            rt.block_on(async {
                for _ in 0..1000 {
                    black_box(arm.send(&auth).await);
                }
            });
            let allocations = (ALLOCATIONS.load(Ordering::Relaxed) - before) as f64 / 1000.0;
            println!(
                "| {name} | {:.2} | {:.2} | {allocations:.1} |",
                median(ratios[i].clone()),
                median(per_request[i].clone()),
            );
        }
    }
}
