//! What every bench does the same way: one request through a clone of the router, and an arm
//! that first checks the router accepts the token.

use axum::body::Body;
use axum::extract::Request;
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderValue, StatusCode};
use axum::Router;
use criterion::measurement::WallTime;
use criterion::BenchmarkGroup;
use tokio::runtime::Runtime;
use tower::ServiceExt;

/// One request through a clone of `router`, built the same way in every arm.
pub async fn send(router: &Router, auth: &HeaderValue) -> StatusCode {
    let req = Request::builder()
        .uri("/")
        .header(AUTHORIZATION, auth.clone())
        .body(Body::empty())
        .expect("request");
    router
        .clone()
        .oneshot(req)
        .await
        .expect("infallible")
        .status()
}

/// Times `router` under `id`, after checking it answers 200: a bench of a 401 or a 503 would
/// measure nothing useful.
pub fn bench_arm(
    group: &mut BenchmarkGroup<'_, WallTime>,
    rt: &Runtime,
    id: &str,
    router: &Router,
    auth: &HeaderValue,
) {
    assert_eq!(rt.block_on(send(router, auth)), StatusCode::OK, "{id}");
    // `to_async` enters the runtime once per sample; `block_on` per iteration would add its
    // own cost to every request.
    group.bench_function(id, |b| {
        b.to_async(rt).iter(|| send(router, auth));
    });
}
