//! The subject of an accepted token on the request's tracing span (`enduser.id`), from a full
//! verification and from a cache hit; nothing recorded for a refused token. One test: the
//! subscriber is global to this binary.
#![cfg(all(feature = "axum", feature = "test-util"))]

mod common;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use common::with_bearer;
use serde_json::{Value, json};
use tower_jwt_auth::middleware::TokenCache;
use tower_jwt_auth::test_util::TestKey;
use tower_jwt_auth::{Auth, JwtLayer};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Instrument, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

/// The values recorded in `enduser.id`, in order.
#[derive(Clone, Default)]
struct Subjects(Arc<Mutex<Vec<String>>>);

impl Visit for Subjects {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "enduser.id" {
            self.0.lock().unwrap().push(value.to_owned());
        }
    }

    fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
}

impl<S: Subscriber> Layer<S> for Subjects {
    fn on_new_span(&self, attrs: &Attributes<'_>, _: &Id, _: Context<'_, S>) {
        attrs.record(&mut self.clone());
    }

    fn on_record(&self, _: &Id, values: &Record<'_>, _: Context<'_, S>) {
        values.record(&mut self.clone());
    }
}

impl Subjects {
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut self.0.lock().unwrap())
    }
}

#[tokio::test]
async fn the_subject_of_an_accepted_token_is_recorded_on_the_request_span() {
    let subjects = Subjects::default();
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(subjects.clone()))
        .unwrap();

    let key = TestKey::hs256();
    #[derive(Clone, serde::Deserialize)]
    struct Strict {
        #[allow(dead_code)]
        level: u8,
    }
    for cached in [false, true] {
        let mut layer = JwtLayer::<Value>::new(key.verifying_key());
        if cached {
            layer = layer.token_cache(TokenCache::new(100));
        }
        let app = Router::new()
            .route("/", get(|_: Auth<Value>| async { "ok" }))
            .layer(layer.clone());
        let token = key.token_for(&layer, &json!({"sub": "user-42"})).await;
        subjects.take();
        let request = |token: String| {
            let app = app.clone();
            let span = tracing::info_span!("request", "enduser.id" = tracing::field::Empty);
            async move { with_bearer(&app, &token).await.status }.instrument(span)
        };
        // A full verification (or, with the cache, a hit) records it, each time.
        assert_eq!(request(token.clone()).await, StatusCode::OK);
        assert_eq!(request(token).await, StatusCode::OK);
        assert_eq!(subjects.take(), ["user-42", "user-42"], "cached: {cached}");

        let forged = TestKey::hs256()
            .issuer_for(&layer)
            .issue(&json!({"sub": "mallory"}))
            .unwrap();
        assert_eq!(request(forged.token).await, StatusCode::UNAUTHORIZED);
        assert!(
            subjects.take().is_empty(),
            "a refused token records nothing"
        );
    }

    // Well signed, but its claims do not fit the app's type: refused, nothing recorded.
    let strict = JwtLayer::<Strict>::new(key.verifying_key());
    let token = key
        .issuer_for(&strict)
        .issue(&json!({"sub": "user-7", "level": "high"}))
        .unwrap();
    let span = tracing::info_span!("request", "enduser.id" = tracing::field::Empty);
    let verdict = strict.verify(&token.token).instrument(span).await;
    assert!(verdict.is_err());
    assert!(subjects.take().is_empty());
}
