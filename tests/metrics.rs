//! The `metrics` feature, counted by a real recorder (metrics-util's debugging recorder,
//! installed for this whole binary, so everything is one test): requests by outcome and
//! reason, refusals inside the layer, cache lookups and JWKS fetches by outcome, and nothing of
//! a token or a secret in any name or label.
#![cfg(all(
    feature = "metrics",
    feature = "axum",
    feature = "jwks",
    feature = "test-util"
))]

mod common;

use std::collections::HashMap;
use std::time::Duration;

use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use common::{request, with_bearer};
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use serde_json::{Value, json};
use tower_jwt_auth::middleware::TokenCache;
use tower_jwt_auth::test_util::{MockProvider, TestKey};
use tower_jwt_auth::{Auth, JwtLayer, RemoteJwks, Requirement};

/// Counter totals: the debugging recorder's snapshots hand out what was counted since the
/// last one, so they are added up here.
struct Totals {
    snapshotter: Snapshotter,
    seen: HashMap<(String, Vec<(String, String)>), u64>,
}

impl Totals {
    /// The total of counter `name` with exactly these labels (0 when never incremented).
    fn get(&mut self, name: &str, labels: &[(&str, &str)]) -> u64 {
        for (key, _, _, value) in self.snapshotter.snapshot().into_vec() {
            if let DebugValue::Counter(n) = value {
                let key = key.key();
                let mut have: Vec<(String, String)> = key
                    .labels()
                    .map(|l| (l.key().to_owned(), l.value().to_owned()))
                    .collect();
                have.sort();
                *self.seen.entry((key.name().to_owned(), have)).or_default() += n;
            }
        }
        let mut wanted: Vec<(String, String)> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        wanted.sort();
        self.seen
            .get(&(name.to_owned(), wanted))
            .copied()
            .unwrap_or(0)
    }
}

#[tokio::test]
async fn requests_cache_lookups_and_jwks_fetches_are_counted_without_token_data() {
    let recorder = DebuggingRecorder::new();
    let mut totals = Totals {
        snapshotter: recorder.snapshotter(),
        seen: HashMap::new(),
    };
    recorder.install().unwrap();
    let requests = "tower_jwt_auth_requests_total";

    let key = TestKey::hs256();
    let layer = JwtLayer::<Value>::new(key.verifying_key()).token_cache(TokenCache::new(100));
    let admin = Requirement::<Value>::scope("admin");
    let app = Router::new()
        .route("/", get(|Auth(c): Auth<Value>| async move { Json(c) }))
        .route("/admin", get(|| async { "ok" }).layer(admin.layer()))
        .layer(layer.clone());
    let token = key.token_for(&layer, &json!({"sub": "ada"})).await;
    // `token_for` checks its token with the layer once: a cache miss, not a request.
    assert_eq!(totals.get(requests, &[("outcome", "accepted")]), 0);

    assert_eq!(with_bearer(&app, &token).await.status, StatusCode::OK);
    assert_eq!(with_bearer(&app, &token).await.status, StatusCode::OK);
    let expired = key
        .issuer_for(&layer)
        .issue(&json!({"sub": "ada", "iat": 1_000, "exp": 1_060}))
        .unwrap()
        .token;
    assert_eq!(
        with_bearer(&app, &expired).await.status,
        StatusCode::UNAUTHORIZED
    );
    let forged = TestKey::hs256()
        .issuer_for(&layer)
        .issue(&json!({"sub": "ada"}))
        .unwrap()
        .token;
    assert_eq!(
        with_bearer(&app, &forged).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        request(&app, "/", &[]).await.status,
        StatusCode::UNAUTHORIZED
    );
    let bearer = format!("Bearer {token}");
    let forbidden = request(&app, "/admin", &[("authorization", bearer.as_str())]).await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);

    assert_eq!(totals.get(requests, &[("outcome", "accepted")]), 3);
    for reason in ["expired", "invalid_signature", "missing_token"] {
        let labels = [("outcome", "refused"), ("reason", reason)];
        assert_eq!(totals.get(requests, &labels), 1, "{reason}");
    }
    let scope = [("reason", "insufficient_scope")];
    assert_eq!(totals.get("tower_jwt_auth_forbidden_total", &scope), 1);
    let lookups = "tower_jwt_auth_token_cache_lookups_total";
    // token_for's check, the expired and the forged tokens missed; the other three hit.
    assert_eq!(totals.get(lookups, &[("result", "hit")]), 3);
    assert_eq!(totals.get(lookups, &[("result", "miss")]), 3);

    // JWKS: one good fetch, then a provider that is down.
    let idp = MockProvider::start().await.unwrap();
    let keys = RemoteJwks::builder(&idp.jwks_url())
        .refetch_cooldown(Duration::ZERO)
        .build()
        .unwrap();
    let remote = JwtLayer::<Value>::new(keys.clone());
    idp.token_for(&remote, &json!({"sub": "ada"})).await;
    let fetches = "tower_jwt_auth_jwks_fetches_total";
    assert_eq!(totals.get(fetches, &[("outcome", "ok")]), 1);
    idp.set_failing(true);
    idp.rotate();
    let unknown = idp
        .issuer_for(&remote)
        .issue(&json!({"sub": "ada"}))
        .unwrap()
        .token;
    assert!(remote.verify(&unknown).await.is_err());
    tokio::time::timeout(Duration::from_secs(10), async {
        while totals.get(fetches, &[("outcome", "status")]) == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the failed fetch is counted");

    // Nothing of a token or the key in any name or label.
    totals.get("", &[]);
    for (name, labels) in totals.seen.keys() {
        let text = std::iter::once(name.clone())
            .chain(labels.iter().map(|(k, v)| format!("{k}={v}")))
            .collect::<Vec<_>>()
            .join(" ");
        for secret in [&token, &expired, &forged, &unknown] {
            let signature = secret.rsplit('.').next().unwrap();
            assert!(!text.contains(signature), "{text}");
        }
        assert!(!text.contains("ada"), "{text}");
    }
}
