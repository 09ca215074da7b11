//! A well-signed token whose claims do not fit the app's claims type: the client gets a bare
//! 401 `invalid claims`, the log one `warn` a minute with the claim's path and the type serde
//! expected, never the token or the value it held. Its own binary: the log capture is
//! process-wide.

mod common;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use common::logs::Lines;
use common::*;
use serde::Deserialize;
use serde_json::json;
use tower_jwt_auth::clock::ManualClock;
use tower_jwt_auth::{Auth, JwtLayer, NumericDate, VerifyingKey};
use tracing::Level;

#[derive(Clone, Deserialize)]
#[allow(dead_code)]
struct Claims {
    sub: String,
    exp: NumericDate,
    profile: Profile,
}

#[derive(Clone, Deserialize)]
#[allow(dead_code)]
struct Profile {
    age: u8,
    emails: Vec<String>,
}

#[tokio::test]
async fn claims_that_do_not_fit_are_logged_with_their_path_once_a_minute() {
    let lines = Lines::default();
    tracing::subscriber::set_global_default(lines.subscriber()).unwrap();
    let app = Router::new()
        .route(
            "/",
            get(|Auth(c): Auth<Claims>| async move { c.sub.clone() }),
        )
        .layer(
            JwtLayer::<Claims>::new(VerifyingKey::hs256(SECRET).unwrap())
                .clock(ManualClock::new(NOW)),
        );
    let token = |profile| {
        let mut claims = claims();
        claims["profile"] = profile;
        hs256_token(&hs256_header(), &claims, SECRET)
    };

    let fits = token(json!({"age": 42, "emails": ["a@example.com"]}));
    assert_eq!(with_bearer(&app, &fits).await.status, StatusCode::OK);
    assert!(lines.matching(Level::WARN, "").is_empty());

    let misfit = token(json!({"age": 42, "emails": ["a@example.com", 7]}));
    let reply = with_bearer(&app, &misfit).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        reply.description(),
        "invalid claims",
        "nothing more for the client"
    );
    let logged = lines.matching(Level::WARN, "a well-signed token's claims do not fit");
    assert_eq!(logged.len(), 1, "{logged:?}");
    let fields = &logged[0].fields;
    assert!(fields.contains("path=profile.emails[1] "), "{fields}");
    assert!(
        fields.contains("expected=invalid type: integer, expected a string "),
        "{fields}"
    );
    assert!(
        fields.contains("claims_type=\"claims_logs::Claims\" "),
        "{fields}"
    );
    assert!(!fields.contains(&misfit[..20]), "never the token: {fields}");

    // A flood of misfits, one with a value worth hiding: no further line within the minute.
    let private = token(json!({"age": "john.doe@example.com", "emails": []}));
    for _ in 0..50 {
        let reply = with_bearer(&app, &private).await;
        assert_eq!(
            (reply.status, reply.description()),
            (StatusCode::UNAUTHORIZED, "invalid claims")
        );
    }
    let logged = lines.matching(Level::WARN, "");
    assert_eq!(logged.len(), 1, "{logged:?}");
    assert!(logged.iter().all(|l| !l.fields.contains("john.doe")));

    // A forged token of the same shape is refused before its claims are looked at: not logged.
    let forged = hs256_token(
        &hs256_header(),
        &payload(&misfit),
        b"another secret that is 32+ bytes long",
    );
    assert_eq!(
        with_bearer(&app, &forged).await.description(),
        "invalid signature"
    );
    assert_eq!(lines.matching(Level::WARN, "").len(), 1);
}
