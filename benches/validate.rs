//! What `JwtLayer` costs per request against the code an app would write without it: an axum
//! handler that reads the bearer token itself and calls `jsonwebtoken::decode` with an
//! equivalent `Validation`. An empty router gives the floor both sit on.
//!
//! Run with `cargo bench --bench validate -- --noplot`.

mod common;

use common::{Claims, User, bench_arm, config};

use std::hint::black_box;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderValue, StatusCode};
use axum::routing::get;
use criterion::{Criterion, criterion_group, criterion_main};
use jsonwebtoken::{DecodingKey, Validation};
use tower_jwt_auth::{Algorithm, Auth, JwtLayer, SigningKey, TokenIssuer, TokenType, VerifyingKey};

const HS256_SECRET: &[u8] = b"a bench-only HS256 secret, 32 bytes or more";
const EC256_PRIVATE: &[u8] = include_bytes!("../tests/keys/ec256_private.pem");
const EC256_PUBLIC: &[u8] = include_bytes!("../tests/keys/ec256_public.pem");
/// Same as the layer's default, so both arms accept exactly the same tokens.
const LEEWAY_SECS: u64 = 30;

/// One algorithm's keys and the baseline's rules, equivalent to the layer's defaults.
struct Setup {
    name: &'static str,
    signing: SigningKey,
    verifying: VerifyingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl Setup {
    fn hs256() -> Self {
        Self::new(
            "HS256",
            SigningKey::hs256(HS256_SECRET).expect("HS256 signing key"),
            VerifyingKey::hs256(HS256_SECRET).expect("HS256 verifying key"),
            DecodingKey::from_secret(HS256_SECRET).expect("HS256 decoding key"),
        )
    }

    fn es256() -> Self {
        Self::new(
            "ES256",
            SigningKey::from_pem(EC256_PRIVATE, Algorithm::ES256).expect("ES256 signing key"),
            VerifyingKey::from_pem(EC256_PUBLIC, Algorithm::ES256).expect("ES256 verifying key"),
            DecodingKey::from_ec_pem(EC256_PUBLIC).expect("ES256 decoding key"),
        )
    }

    fn new(
        name: &'static str,
        signing: SigningKey,
        verifying: VerifyingKey,
        decoding: DecodingKey,
    ) -> Self {
        // `exp` required (the default), `nbf` checked when present, the layer's leeway.
        let mut validation = Validation::new(verifying.algorithm());
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECS;
        Self {
            name,
            signing,
            verifying,
            decoding,
            validation,
        }
    }

    fn token(&self) -> String {
        TokenIssuer::new(self.signing.clone())
            .ttl(Duration::from_secs(365 * 24 * 3600))
            .token_type(TokenType::claim("type", "access"))
            .issue(&User {
                sub: "4f1c2a9e-7b3d-4c8a-9e21-5d6f0a7b8c9d",
                username: "ada.lovelace",
            })
            .expect("token")
            .token
    }

    /// The handler an app writes without the layer: read the header, decode, answer 200 or 401.
    fn baseline_router(&self) -> Router {
        let key = self.decoding.clone();
        let validation = self.validation.clone();
        Router::new().route(
            "/",
            get(move |req: Request| async move {
                let token = req
                    .headers()
                    .get(AUTHORIZATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.strip_prefix("Bearer "));
                let Some(token) = token else {
                    return StatusCode::UNAUTHORIZED;
                };
                match jsonwebtoken::decode::<Claims>(token, &key, &validation) {
                    Ok(data) => {
                        black_box(data.claims);
                        StatusCode::OK
                    }
                    Err(_) => StatusCode::UNAUTHORIZED,
                }
            }),
        )
    }

    /// The same route with the claims from the layer.
    fn layer_router(&self) -> Router {
        Router::new()
            .route(
                "/",
                get(|Auth(claims): Auth<Claims>| async move {
                    black_box(claims);
                    StatusCode::OK
                }),
            )
            .layer(JwtLayer::<Claims>::new(self.verifying.clone()))
    }
}

/// The floor: one route, no auth at all.
fn empty_router() -> Router {
    Router::new().route("/", get(|| async { StatusCode::OK }))
}

fn validate(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    for setup in [Setup::hs256(), Setup::es256()] {
        let auth = HeaderValue::try_from(format!("Bearer {}", setup.token())).expect("header");
        let mut group = c.benchmark_group(setup.name);
        bench_arm(
            &mut group,
            &rt,
            "baseline_decode",
            &setup.baseline_router(),
            &auth,
        );
        bench_arm(&mut group, &rt, "layer", &setup.layer_router(), &auth);
        bench_arm(&mut group, &rt, "empty_router", &empty_router(), &auth);
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = config();
    targets = validate
}
criterion_main!(benches);
