//! Every registered claim that is present is type-checked and refused when repeated, whatever
//! the layer's configuration (RFC 7519 §4.1); NumericDates are any JSON number (§2); and the
//! freshness rule `max_age` (`iat` required, not in the future, not too old).

use crate::common;

use std::time::Duration;

use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use common::*;
use serde::Deserialize;
use serde_json::{Value, json};
use tower_jwt_auth::clock::ManualClock;
use tower_jwt_auth::{Auth, JwtLayer, NumericDate, TokenType, VerifyingKey};

/// A layer that configures nothing but the type claim: every check below comes from the
/// registered-claim rules alone.
fn plain() -> JwtLayer<Value> {
    JwtLayer::new(VerifyingKey::hs256(SECRET).unwrap())
        .clock(ManualClock::new(NOW))
        .token_type(TokenType::claim("type", "access"))
}

fn app(layer: JwtLayer<Value>) -> Router {
    Router::new()
        .route("/", get(|Auth(c): Auth<Value>| async move { Json(c) }))
        .layer(layer)
}

/// The claims of `claims()` with `name` set to the raw JSON `value`, as a raw payload.
fn with_raw(name: &str, value: &str) -> String {
    let mut object = claims();
    object.as_object_mut().unwrap().remove(name);
    let rest = object.to_string();
    format!(r#"{{"{name}":{value},{}"#, &rest[1..])
}

/// Each registered claim (and the configured type claim) with a value of the wrong JSON type.
const WRONG_TYPES: &[(&str, &str)] = &[
    ("iss", "1"),
    ("iss", r#"["https://a.example"]"#),
    ("sub", "1"),
    ("sub", "null"),
    ("aud", "1"),
    ("aud", "[1]"),
    ("aud", r#"{"a":1}"#),
    ("exp", r#""9999999999""#),
    ("exp", "true"),
    ("nbf", r#""1""#),
    ("iat", r#""1800000000""#),
    ("iat", "[1800000000]"),
    ("jti", "42"),
    ("jti", r#"{"id":"j-1"}"#),
    ("type", "1"),
];

#[tokio::test]
async fn a_registered_claim_of_the_wrong_type_is_refused_whatever_the_configuration() {
    let app = app(plain());
    for (name, value) in WRONG_TYPES {
        let token = hs256_token_raw(&hs256_header(), &with_raw(name, value), SECRET);
        let reply = with_bearer(&app, &token).await;
        assert_eq!(
            (reply.status, reply.description()),
            (StatusCode::UNAUTHORIZED, "invalid claims"),
            "{name}: {value}"
        );
    }
}

#[tokio::test]
async fn the_same_claims_well_typed_are_accepted() {
    let app = app(plain());
    for (name, value) in [
        ("iss", r#""https://a.example""#),
        ("sub", r#""1""#),
        ("iat", "1800000000.5"),
        ("jti", r#""j-2""#),
        ("nbf", "1799999000"),
    ] {
        let token = hs256_token_raw(&hs256_header(), &with_raw(name, value), SECRET);
        assert_accepted(&app, &token).await;
    }
}

#[tokio::test]
async fn a_registered_claim_given_twice_is_refused_whatever_the_configuration() {
    let app = app(plain());
    for (name, value) in [
        ("iss", r#""https://a.example""#),
        ("sub", r#""1""#),
        ("aud", r#""orders""#),
        ("exp", &(NOW + 900).to_string()),
        ("nbf", &(NOW - 10).to_string()),
        ("iat", &NOW.to_string()),
        ("jti", r#""j-1""#),
        ("type", r#""access""#),
    ] {
        // `claims()` already holds some of these: add the name twice after the rest.
        let base = with_raw(name, value);
        let payload = format!(r#"{},"{name}":{value}}}"#, &base[..base.len() - 1]);
        let token = hs256_token_raw(&hs256_header(), &payload, SECRET);
        let reply = with_bearer(&app, &token).await;
        assert_eq!(
            reply.description(),
            "invalid claims",
            "{name} twice: {payload}"
        );
    }
}

#[tokio::test]
async fn numeric_dates_are_any_json_number() {
    #[derive(Clone, Deserialize)]
    struct Claims {
        sub: String,
        exp: NumericDate,
        iat: NumericDate,
    }
    let layer =
        JwtLayer::<Claims>::new(VerifyingKey::hs256(SECRET).unwrap()).clock(ManualClock::new(NOW));
    let app = Router::new()
        .route(
            "/",
            get(|Auth(c): Auth<Claims>| async move {
                Json(json!({"sub": c.sub, "exp": c.exp.as_secs(), "iat": c.iat.as_secs()}))
            }),
        )
        .layer(layer);
    // NOW is 1.8e9: an exponent, a fraction and an integer, all valid RFC 7519 NumericDates.
    for (exp, iat) in [
        ("1.9e9", "1.8e9"),
        ("1800000900.6", "1800000000.25"),
        ("1800000900", "1800000000"),
    ] {
        let payload = format!(r#"{{"sub":"1","exp":{exp},"iat":{iat}}}"#);
        let token = hs256_token_raw(&hs256_header(), &payload, SECRET);
        let reply = with_bearer(&app, &token).await;
        assert_eq!(reply.status, StatusCode::OK, "exp {exp}: {:?}", reply.body);
        assert_eq!(reply.body["iat"], NOW, "iat {iat}");
    }
    // An exp that has passed is refused in every form.
    let expired = hs256_token_raw(
        &hs256_header(),
        r#"{"sub":"1","exp":1.7e9,"iat":1.6e9}"#,
        SECRET,
    );
    assert_eq!(
        with_bearer(&app, &expired).await.description(),
        "token expired"
    );
}

#[tokio::test]
async fn max_age_requires_iat_and_refuses_old_and_future_tokens() {
    let app = app(plain()
        .max_age(Duration::from_secs(600))
        .leeway(Duration::from_secs(30)));
    let at = |iat: Option<u64>| {
        let mut c = claims();
        match iat {
            Some(iat) => c["iat"] = json!(iat),
            None => {
                c.as_object_mut().unwrap().remove("iat");
            }
        }
        hs256_token(&hs256_header(), &c, SECRET)
    };
    assert_accepted(&app, &at(Some(NOW - 600))).await; // at the limit, inside the leeway
    assert_accepted(&app, &at(Some(NOW + 30))).await; // clock skew
    assert_eq!(
        with_bearer(&app, &at(Some(NOW - 631))).await.description(),
        "token expired"
    );
    assert_eq!(
        with_bearer(&app, &at(Some(NOW + 31))).await.description(),
        "token not yet valid"
    );
    assert_eq!(
        with_bearer(&app, &at(None)).await.description(),
        "missing required claim"
    );
    // Without max_age, the same old or future `iat` is no reason to refuse.
    let lenient = self::app(plain());
    assert_accepted(&lenient, &at(Some(NOW - 86_400))).await;
    assert_accepted(&lenient, &at(None)).await;
}

#[tokio::test]
async fn a_forged_token_with_well_typed_claims_is_still_refused() {
    let app = app(plain().max_age(Duration::from_secs(600)));
    let forged = hs256_token(
        &hs256_header(),
        &claims(),
        b"another-secret-of-32-bytes-or-more!",
    );
    assert_eq!(
        with_bearer(&app, &forged).await.description(),
        "invalid signature"
    );
}

/// A token from raw header and payload JSON, HS256-signed.
fn raw_token(header: &str, payload: &str) -> String {
    let message = format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()));
    let signature = hs256_sign(SECRET, &message);
    format!("{message}.{signature}")
}

fn deep(depth: usize) -> String {
    format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
}

#[tokio::test]
async fn the_jose_header_is_parsed_as_strictly_as_the_payload() {
    let app = app(plain());
    let payload = claims().to_string();
    let alg = r#""alg":"HS256""#;
    for header in [
        format!(r#"{{{alg},"x":1e400}}"#),
        format!(r#"{{{alg},"x":[1e400]}}"#),
        format!(r#"{{{alg},"x":{}}}"#, deep(200)),
        format!(r#"{{{alg},{alg}}}"#),
        format!(r#"{{{alg},"kid":"a","kid":"b"}}"#),
        format!(r#"{{{alg},"typ":"JWT","typ":"JWT"}}"#),
        format!(r#"{{{alg},"x5t":"a","x5t":"b"}}"#),
        r#"{"typ":"JWT"}"#.to_owned(),
    ] {
        let reply = with_bearer(&app, &raw_token(&header, &payload)).await;
        assert_eq!(
            (reply.status, reply.description()),
            (StatusCode::UNAUTHORIZED, "malformed token"),
            "{header}"
        );
    }
    // Members this crate does not read are fine when they are well-formed JSON.
    let header = format!(
        r#"{{{alg},"typ":"JWT","x5t":"abc","x":[1,{{"a":[2.5]}}],"y":{}}}"#,
        deep(20)
    );
    assert_accepted(&app, &raw_token(&header, &payload)).await;
}

#[tokio::test]
async fn hostile_json_inside_a_claim_is_refused_at_any_depth() {
    let app = app(plain());
    let header = r#"{"alg":"HS256","typ":"JWT"}"#;
    let base = claims().to_string();
    let with = |extra: &str| format!(r#"{},"x":{extra}}}"#, &base[..base.len() - 1]);
    for extra in ["1e400", "[1e400]", r#"{"a":[1e400]}"#, &deep(200)] {
        let reply = with_bearer(&app, &raw_token(header, &with(extra))).await;
        assert_eq!(reply.description(), "invalid claims", "{extra}");
    }
    assert_accepted(&app, &raw_token(header, &with(&deep(20)))).await;
}
