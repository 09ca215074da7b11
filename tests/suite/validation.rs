//! Every way a token is accepted or refused, driven through an axum `Router` with `oneshot`.

use crate::common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use common::*;
use serde::Deserialize;
use serde_json::{Value, json};
use tower_jwt_auth::clock::ManualClock;
use tower_jwt_auth::{Algorithm, Auth, JwtLayer, TokenType, VerifyingKey};

#[derive(Clone, Debug, Deserialize)]
struct Claims {
    sub: String,
    username: String,
}

async fn whoami(Auth(claims): Auth<Claims>) -> Json<Value> {
    Json(json!({"sub": claims.sub, "username": claims.username}))
}

fn hs256() -> VerifyingKey {
    VerifyingKey::hs256(SECRET).unwrap()
}

fn layer(key: VerifyingKey) -> JwtLayer<Claims> {
    JwtLayer::new(key).clock(ManualClock::new(NOW))
}

fn app(layer: JwtLayer<Claims>) -> Router {
    Router::new().route("/", get(whoami)).layer(layer)
}

fn hs256_app() -> Router {
    app(layer(hs256()))
}

/// An HS256 token with the standard test header.
fn token(claims: &Value) -> String {
    hs256_token(&hs256_header(), claims, SECRET)
}

async fn assert_refused(app: &Router, token: &str, description: &str) {
    let reply = with_bearer(app, token).await;
    assert_eq!(
        reply.status,
        StatusCode::UNAUTHORIZED,
        "{description}: {:?}",
        reply.body
    );
    assert_eq!(
        reply.www_authenticate(),
        format!(r#"Bearer error="invalid_token", error_description="{description}""#)
    );
    assert_eq!(
        reply.body,
        json!({"error": "invalid_token", "error_description": description})
    );
}

#[tokio::test]
async fn valid_hs256_token_hands_claims_to_handler() {
    let token = token(&claims());
    let reply = with_bearer(&hs256_app(), &token).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, json!({"sub": "1", "username": "john"}));
}

#[tokio::test]
async fn every_asymmetric_algorithm_verifies_with_its_public_key() {
    let cases = [
        (Algorithm::RS256, "rsa"),
        (Algorithm::RS384, "rsa"),
        (Algorithm::RS512, "rsa"),
        (Algorithm::PS256, "rsa"),
        (Algorithm::PS384, "rsa"),
        (Algorithm::PS512, "rsa"),
        (Algorithm::ES256, "ec256"),
        (Algorithm::ES384, "ec384"),
        (Algorithm::EdDSA, "ed25519"),
    ];
    for (alg, name) in cases {
        let key = VerifyingKey::from_pem(pem(&format!("{name}_public")), alg).unwrap();
        let token = signed_token(alg, &format!("{name}_private"), &claims());
        let reply = with_bearer(&app(layer(key)), &token).await;
        assert_eq!(reply.status, StatusCode::OK, "{alg:?}: {:?}", reply.body);
        assert_eq!(reply.body["sub"], "1");
    }
}

#[tokio::test]
async fn hs384_and_hs512_keys_verify_their_own_algorithm_only() {
    let secret = [9u8; 64];
    for alg in [Algorithm::HS384, Algorithm::HS512] {
        let key = VerifyingKey::hmac(secret, alg).unwrap();
        let token = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(alg),
            &claims(),
            &jsonwebtoken::EncodingKey::from_secret(&secret[..]).unwrap(),
        )
        .unwrap();
        assert_accepted(&app(layer(key.clone())), &token).await;
        let hs256 = hs256_token(&hs256_header(), &claims(), &secret);
        assert_refused(&app(layer(key)), &hs256, "algorithm not allowed").await;
    }
}

#[tokio::test]
async fn missing_token_is_401_bearer_challenge_without_error_code() {
    let reply = request(&hs256_app(), "/", &[]).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.www_authenticate(), "Bearer");
    assert_eq!(reply.body["error_description"], "no bearer token");
}

#[tokio::test]
async fn realm_appears_in_every_challenge() {
    let app = app(layer(hs256()).realm("orders"));
    assert_eq!(
        request(&app, "/", &[]).await.www_authenticate(),
        r#"Bearer realm="orders""#
    );
    let reply = with_bearer(&app, "a.b.c").await;
    assert_eq!(
        reply.www_authenticate(),
        r#"Bearer realm="orders", error="invalid_token", error_description="malformed token""#
    );
}

#[tokio::test]
async fn other_authorization_schemes_count_as_no_token() {
    let reply = request(
        &hs256_app(),
        "/",
        &[("authorization", "Basic am9objpzZWNyZXQ=")],
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.www_authenticate(), "Bearer");
}

#[tokio::test]
async fn bearer_scheme_is_case_insensitive() {
    let token = token(&claims());
    for scheme in ["bearer", "BEARER", "BeArEr"] {
        let reply = request(
            &hs256_app(),
            "/",
            &[("authorization", &format!("{scheme} {token}"))],
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{scheme}");
    }
}

#[tokio::test]
async fn repeated_authorization_header_is_400_invalid_request() {
    let token = token(&claims());
    let bearer = format!("Bearer {token}");
    let reply = request(
        &hs256_app(),
        "/",
        &[("authorization", &bearer), ("authorization", &bearer)],
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.body["error"], "invalid_request");
    assert!(
        reply
            .www_authenticate()
            .starts_with(r#"Bearer error="invalid_request""#)
    );
}

#[tokio::test]
async fn empty_or_non_token68_bearer_credentials_are_400() {
    for value in ["Bearer", "Bearer ", "Bearer a b", "Bearer tok\"en"] {
        let reply = request(&hs256_app(), "/", &[("authorization", value)]).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{value:?}");
    }
}

#[tokio::test]
async fn opaque_and_other_non_jwt_tokens_are_401_not_a_jwt() {
    let header = b64(hs256_header().to_string().as_bytes());
    let payload = b64(claims().to_string().as_bytes());
    let valid = hs256_token(&hs256_header(), &claims(), SECRET);
    let cases = [
        // An OAuth reference token (RFC 6749 §1.4's example), a UUID, two parts, five (a JWE).
        "2YotnFZFEjr1zCsicMWpAA".to_owned(),
        "550e8400-e29b-41d4-a716-446655440000".to_owned(),
        "a.b".to_owned(),
        format!("{header}.{payload}"),
        format!("{header}.{payload}.sig.extra"),
        format!("{valid}.x.y"),
        format!("{header}..{payload}.x.y"),
    ];
    for token in cases {
        assert_refused(&hs256_app(), &token, "malformed token: not a JWT").await;
    }
}

#[tokio::test]
async fn malformed_tokens_are_401_malformed() {
    let header = b64(hs256_header().to_string().as_bytes());
    let payload = b64(claims().to_string().as_bytes());
    let cases = [
        "a.b.c".to_owned(),
        "..".to_owned(),
        {
            // Well signed, but the payload is not base64url.
            let message = format!("{header}.{payload}+");
            format!("{message}.{}", hs256_sign(SECRET, &message))
        },
        format!("{}.{payload}.sig", b64(b"not json")),
        format!("{header}.{payload}.~~~~"),
    ];
    for token in cases {
        assert_refused(&hs256_app(), &token, "malformed token").await;
    }
}

#[tokio::test]
async fn wrong_secret_is_invalid_signature() {
    let token = hs256_token(
        &hs256_header(),
        &claims(),
        b"another-secret-of-at-least-32-bytes",
    );
    assert_refused(&hs256_app(), &token, "invalid signature").await;
}

#[tokio::test]
async fn tampered_payload_is_invalid_signature() {
    let token = token(&claims());
    let parts: Vec<&str> = token.split('.').collect();
    let forged = json!({"sub": "2", "username": "admin", "exp": NOW + 900});
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64(forged.to_string().as_bytes()),
        parts[2]
    );
    assert_refused(&hs256_app(), &tampered, "invalid signature").await;
}

#[tokio::test]
async fn alg_none_in_any_spelling_is_refused() {
    let payload = b64(claims().to_string().as_bytes());
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = b64(json!({"alg": alg, "typ": "JWT"}).to_string().as_bytes());
        for signature in ["", "AAAA"] {
            let token = format!("{header}.{payload}.{signature}");
            assert_refused(&hs256_app(), &token, "algorithm not allowed").await;
        }
        // Signed with the real secret, still refused: `none` never reaches the crypto.
        let signed = hs256_token(&json!({"alg": alg}), &claims(), SECRET);
        assert_refused(&hs256_app(), &signed, "algorithm not allowed").await;
    }
}

#[tokio::test]
async fn hs256_signed_with_the_public_key_is_refused_for_every_key_type() {
    for (alg, name) in [
        (Algorithm::RS256, "rsa"),
        (Algorithm::ES256, "ec256"),
        (Algorithm::EdDSA, "ed25519"),
    ] {
        let public = pem(&format!("{name}_public"));
        let key = VerifyingKey::from_pem(&public, alg).unwrap();
        // The classic confusion attack: HMAC keyed with the public key's PEM bytes.
        let forged = hs256_token(&hs256_header(), &claims(), &public);
        assert_refused(&app(layer(key)), &forged, "algorithm not allowed").await;
    }
}

#[tokio::test]
async fn a_token_of_another_asymmetric_algorithm_is_refused() {
    let key = VerifyingKey::from_pem(pem("ec256_public"), Algorithm::ES256).unwrap();
    let rs256 = signed_token(Algorithm::RS256, "rsa_private", &claims());
    assert_refused(&app(layer(key.clone())), &rs256, "algorithm not allowed").await;
    let es384 = signed_token(Algorithm::ES384, "ec384_private", &claims());
    assert_refused(&app(layer(key)), &es384, "algorithm not allowed").await;
}

#[tokio::test]
async fn a_signature_by_another_key_of_the_same_algorithm_is_refused() {
    let key = VerifyingKey::from_pem(pem("ec256_public"), Algorithm::ES256).unwrap();
    let other = VerifyingKey::from_pem(pem("rsa_public"), Algorithm::RS256).unwrap();
    let token = signed_token(Algorithm::ES256, "ec256_private", &claims());
    assert_accepted(&app(layer(key)), &token).await;
    let rs = signed_token(Algorithm::RS256, "rsa_private", &claims());
    let parts: Vec<&str> = rs.split('.').collect();
    let bad_sig = format!("{}.{}.{}", parts[0], parts[1], &hs256_sign(SECRET, "x"));
    assert_refused(&app(layer(other)), &bad_sig, "invalid signature").await;
}

#[tokio::test]
async fn expired_token_is_401_token_expired() {
    let mut claims = claims();
    claims["exp"] = json!(NOW - 31);
    assert_refused(&hs256_app(), &token(&claims), "token expired").await;
}

#[tokio::test]
async fn leeway_accepts_a_token_just_expired_and_no_later() {
    let clock = ManualClock::new(NOW);
    let app = app(layer(hs256())
        .clock(clock.clone())
        .leeway(Duration::from_secs(10)));
    let mut claims = claims();
    claims["exp"] = json!(NOW - 9);
    let token = token(&claims);
    assert_accepted(&app, &token).await;
    clock.advance(Duration::from_secs(1));
    assert_refused(&app, &token, "token expired").await;
}

#[tokio::test]
async fn zero_leeway_refuses_a_token_at_its_exp_second() {
    let app = app(layer(hs256()).leeway(Duration::ZERO));
    let mut claims = claims();
    claims["exp"] = json!(NOW);
    assert_refused(&app, &token(&claims), "token expired").await;
    claims["exp"] = json!(NOW + 1);
    assert_accepted(&app, &token(&claims)).await;
}

#[tokio::test]
async fn nbf_in_the_future_is_not_yet_valid_unless_within_leeway() {
    let app = app(layer(hs256()).leeway(Duration::from_secs(5)));
    let mut claims = claims();
    claims["nbf"] = json!(NOW + 6);
    assert_refused(&app, &token(&claims), "token not yet valid").await;
    claims["nbf"] = json!(NOW + 5);
    assert_accepted(&app, &token(&claims)).await;
}

#[tokio::test]
async fn exp_is_required() {
    let mut claims = claims();
    claims.as_object_mut().unwrap().remove("exp");
    assert_refused(&hs256_app(), &token(&claims), "missing required claim").await;
}

#[tokio::test]
async fn registered_time_claims_of_the_wrong_json_type_are_refused() {
    // CVE-2026-25537: a string `exp` must not count as absent (nor as valid).
    for (name, value) in [
        ("exp", json!("99999999999")),
        ("nbf", json!("0")),
        ("exp", json!(null)),
    ] {
        let mut claims = claims();
        claims[name] = value;
        assert_refused(&hs256_app(), &token(&claims), "invalid claims").await;
    }
}

#[tokio::test]
async fn fractional_numeric_dates_are_accepted() {
    let mut claims = claims();
    claims["exp"] = json!(NOW as f64 + 100.5);
    let reply = with_bearer(&hs256_app(), &token(&claims)).await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn a_repeated_registered_claim_is_refused() {
    let payload = format!(
        r#"{{"sub":"1","username":"john","exp":{},"exp":{}}}"#,
        NOW - 1000,
        NOW + 900
    );
    let token = hs256_token_raw(&hs256_header(), &payload, SECRET);
    assert_refused(&hs256_app(), &token, "invalid claims").await;
}

#[tokio::test]
async fn claims_that_do_not_fit_the_app_type_are_invalid_claims() {
    let mut claims = claims();
    claims.as_object_mut().unwrap().remove("username");
    assert_refused(&hs256_app(), &token(&claims), "invalid claims").await;
    let array = hs256_token_raw(&hs256_header(), "[1,2]", SECRET);
    assert_refused(&hs256_app(), &array, "invalid claims").await;
}

#[tokio::test]
async fn configured_issuer_is_required_and_checked() {
    let app = app(layer(hs256()).issuers(["https://a.example", "https://b.example"]));
    let mut claims = claims();
    assert_refused(&app, &token(&claims), "missing required claim").await;
    claims["iss"] = json!("https://evil.example");
    assert_refused(&app, &token(&claims), "invalid issuer").await;
    claims["iss"] = json!(["https://a.example"]);
    assert_refused(&app, &token(&claims), "invalid claims").await;
    claims["iss"] = json!("https://b.example");
    assert_accepted(&app, &token(&claims)).await;
}

#[tokio::test]
async fn configured_audience_matches_a_string_or_any_array_member() {
    let app = app(layer(hs256()).audience("orders"));
    let mut claims = claims();
    assert_refused(&app, &token(&claims), "missing required claim").await;
    for (aud, ok) in [
        (json!("orders"), true),
        (json!(["billing", "orders"]), true),
        (json!("billing"), false),
        (json!(["billing", "shipping"]), false),
        (json!("ORDERS"), false),
    ] {
        claims["aud"] = aud.clone();
        let reply = with_bearer(&app, &token(&claims)).await;
        if ok {
            assert_eq!(reply.status, StatusCode::OK, "{aud}");
        } else {
            assert_eq!(reply.description(), "invalid audience", "{aud}");
        }
    }
    claims["aud"] = json!(42);
    assert_refused(&app, &token(&claims), "invalid claims").await;
}

#[tokio::test]
async fn a_token_naming_audiences_is_refused_where_no_audience_is_configured() {
    for aud in [json!("billing"), json!(["billing", "orders"]), json!([])] {
        let mut claims = claims();
        claims["aud"] = aud.clone();
        let reply = with_bearer(&hs256_app(), &token(&claims)).await;
        assert_eq!(reply.description(), "invalid audience", "{aud}");
    }
}

#[tokio::test]
async fn accept_any_audience_lets_them_through() {
    let app = app(layer(hs256()).allow_any_audience(true));
    let mut claims = claims();
    claims["aud"] = json!(["whatever"]);
    assert_accepted(&app, &token(&claims)).await;
}

#[tokio::test]
async fn configured_subject_is_checked() {
    let app = app(layer(hs256()).subject("1"));
    assert_accepted(&app, &token(&claims())).await;
    let mut claims = claims();
    claims["sub"] = json!("2");
    assert_refused(&app, &token(&claims), "invalid subject").await;
}

#[tokio::test]
async fn required_claims_must_be_present() {
    let app = app(layer(hs256()).require_claims(["jti", "iat", "tenant"]));
    let reply = with_bearer(&app, &token(&claims())).await;
    assert_eq!(reply.description(), "missing required claim");
    let mut claims = claims();
    claims["tenant"] = json!({"id": 7});
    assert_accepted(&app, &token(&claims)).await;
}

#[tokio::test]
async fn type_claim_refuses_refresh_tokens_and_untyped_tokens() {
    let app = app(layer(hs256()).token_type(TokenType::claim("type", "access")));
    assert_accepted(&app, &token(&claims())).await;
    let mut claims = claims();
    claims["type"] = json!("refresh");
    assert_refused(&app, &token(&claims), "wrong token type").await;
    claims.as_object_mut().unwrap().remove("type");
    assert_refused(&app, &token(&claims), "wrong token type").await;
}

#[tokio::test]
async fn typ_header_compares_as_a_media_type() {
    let app = app(layer(hs256()).token_type(TokenType::header("at+jwt")));
    for typ in ["at+jwt", "AT+JWT", "application/at+jwt"] {
        let token = hs256_token(&json!({"alg": "HS256", "typ": typ}), &claims(), SECRET);
        assert_eq!(
            with_bearer(&app, &token).await.status,
            StatusCode::OK,
            "{typ}"
        );
    }
    for header in [
        json!({"alg": "HS256", "typ": "JWT"}),
        json!({"alg": "HS256"}),
    ] {
        assert_refused(
            &app,
            &hs256_token(&header, &claims(), SECRET),
            "wrong token type",
        )
        .await;
    }
}

#[tokio::test]
async fn oversized_token_is_refused_before_decoding() {
    let app = app(layer(hs256()).max_token_length(1024));
    // Not even a JWT: refused for its size, not for its shape.
    let reply = with_bearer(&app, &"A".repeat(1025)).await;
    assert_eq!(reply.description(), "token too long");
    let mut claims = claims();
    claims["pad"] = json!("x".repeat(2000));
    let big = token(&claims);
    assert_refused(&app, &big, "token too long").await;
    // The default cap is 8 KiB.
    claims["pad"] = json!("x".repeat(9000));
    assert_refused(&hs256_app(), &token(&claims), "token too long").await;
}

#[tokio::test]
async fn a_large_token_under_a_raised_cap_is_accepted() {
    let app = app(layer(hs256()).max_token_length(64 * 1024));
    let mut claims = claims();
    claims["pad"] = json!("x".repeat(20_000));
    let reply = with_bearer(&app, &token(&claims)).await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn critical_header_extensions_are_refused() {
    let header = json!({"alg": "HS256", "crit": ["exp"], "exp": NOW + 900});
    assert_refused(
        &hs256_app(),
        &hs256_token(&header, &claims(), SECRET),
        "unsupported critical header",
    )
    .await;
}

#[tokio::test]
async fn a_kid_other_than_the_keys_is_refused() {
    let app = app(layer(hs256().with_kid("k1")));
    let ok = hs256_token(&json!({"alg": "HS256", "kid": "k1"}), &claims(), SECRET);
    assert_accepted(&app, &ok).await;
    let other = hs256_token(&json!({"alg": "HS256", "kid": "k2"}), &claims(), SECRET);
    assert_refused(&app, &other, "unknown signing key").await;
}

#[tokio::test]
async fn refused_requests_never_reach_the_inner_service() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let app = Router::new()
        .route(
            "/",
            get(move || {
                counter.fetch_add(1, Ordering::SeqCst);
                async { "ok" }
            }),
        )
        .layer(layer(hs256()));
    request(&app, "/", &[]).await;
    with_bearer(&app, "a.b.c").await;
    with_bearer(
        &app,
        &hs256_token(
            &hs256_header(),
            &claims(),
            b"another-secret-of-at-least-32-bytes",
        ),
    )
    .await;
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    with_bearer(&app, &token(&claims())).await;
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn grpc_requests_get_grpc_unauthenticated() {
    let reply = request(
        &hs256_app(),
        "/",
        &[("content-type", "application/grpc+proto")],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.headers["grpc-status"], "16");
    assert_eq!(reply.headers["grpc-message"], "no bearer token");
    assert_eq!(reply.headers["content-type"], "application/grpc");
}

#[tokio::test]
async fn on_error_replaces_the_http_response() {
    let app = app(layer(hs256()).on_error(|err| {
        let mut response = axum::http::Response::new(bytes::Bytes::from(format!(
            "nope: {}",
            err.error.description()
        )));
        *response.status_mut() = err.error.status();
        response
    }));
    let reply = with_bearer(&app, "a.b.c").await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.body, json!("nope: malformed token"));
}

#[tokio::test]
async fn a_null_crit_header_is_refused_too() {
    let header = json!({"alg": "HS256", "crit": null});
    assert_refused(
        &hs256_app(),
        &hs256_token(&header, &claims(), SECRET),
        "unsupported critical header",
    )
    .await;
}

#[tokio::test]
async fn a_malformed_bearer_scheme_is_400_not_anonymous() {
    let token = token(&claims());
    let optional = app(layer(hs256()).allow_anonymous(true));
    for value in [
        format!("Bearer\t{token}"),
        format!("Bearer:{token}"),
        format!("BearerX {token}"),
    ] {
        let reply = request(&optional, "/", &[("authorization", &value)]).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{value:?}");
    }
}

#[tokio::test]
async fn a_required_claim_set_to_null_counts_as_missing() {
    let app = app(layer(hs256()).require_claims(["tenant", "tenant"]));
    let mut claims = claims();
    claims["tenant"] = json!(null);
    assert_refused(&app, &token(&claims), "missing required claim").await;
    claims["tenant"] = json!([]);
    assert_accepted(&app, &token(&claims)).await;
}

#[test]
#[should_panic(expected = "registered claim")]
fn a_type_claim_named_like_a_registered_claim_is_refused_at_build_time() {
    let _ = layer(hs256()).token_type(TokenType::claim("sub", "access"));
}
