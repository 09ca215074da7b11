//! What every bench does the same way: the claims of a typical access token, one request
//! through a clone of the router, an arm that first checks the router accepts the token, and
//! criterion's settings.
#![allow(dead_code)] // Each bench uses its own share of these.

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderValue, Response, StatusCode};
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion};
use serde::{Deserialize, Serialize};
use tokio::runtime::Runtime;
use tower::{Service, ServiceExt};

/// One request through a clone of `router` (an axum `Router`, or a layer around one), built the
/// same way in every arm.
pub async fn send<S, B>(router: &S, auth: &HeaderValue) -> StatusCode
where
    S: Service<Request, Response = Response<B>, Error = Infallible> + Clone,
{
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

/// The six claims of a typical access token (sub, username, iat, exp, jti, type).
#[derive(Clone, Debug, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub username: String,
    pub iat: u64,
    pub exp: u64,
    pub jti: String,
    #[serde(rename = "type")]
    pub kind: String,
}

/// What the app hands the issuer; it fills `iat`, `exp`, `jti` and `type`.
#[derive(Serialize)]
pub struct User<'a> {
    pub sub: &'a str,
    pub username: &'a str,
}

/// Short enough runs for a 2-core machine; the arms of a group run back to back.
pub fn config() -> Criterion {
    Criterion::default()
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
}
