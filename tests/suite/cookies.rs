//! Tokens in cookies: where the layer finds them, the CSRF double submit bound to the token,
//! and the `Set-Cookie` values the helpers write.

use crate::common;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use common::*;
use serde_json::{Value, json};
use tower_jwt_auth::clock::ManualClock;
use tower_jwt_auth::revocation::MemoryStore;
use tower_jwt_auth::tokens::{AuthCookies, SessionError, TokenPair};
use tower_jwt_auth::{
    Auth, AuthError, JwtLayer, JwtSessions, SigningKey, TokenSource, VerifyingKey,
};

fn layer(source: TokenSource) -> JwtLayer<Value> {
    JwtLayer::new(VerifyingKey::hs256(SECRET).unwrap())
        .clock(ManualClock::new(NOW))
        .token_source(source)
}

fn app(layer: JwtLayer<Value>) -> Router {
    let echo = |Auth(c): Auth<Value>| async move { Json(json!({"sub": c["sub"]})) };
    Router::new()
        .route("/", get(echo).post(echo).put(echo).delete(echo).patch(echo))
        .layer(layer)
}

fn token(sub: &str, csrf: Option<&str>) -> String {
    let mut claims = claims();
    claims["sub"] = json!(sub);
    if let Some(csrf) = csrf {
        claims["csrf"] = json!(csrf);
    }
    hs256_token(&hs256_header(), &claims, SECRET)
}

/// Sends `method /` with these headers through `app`.
async fn send_with_method(app: &Router, method: Method, headers: &[(&str, &str)]) -> Reply {
    let mut request = Request::builder().method(method).uri("/");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    send(app, request.body(Body::empty()).unwrap()).await
}

#[tokio::test]
async fn a_cookie_token_authenticates_safe_requests_without_a_csrf_header() {
    let app = app(layer(TokenSource::cookie("access_token")));
    let cookie = format!("theme=dark; access_token={}", token("1", Some("c-1")));
    for method in [Method::GET, Method::HEAD, Method::OPTIONS] {
        let reply = send_with_method(&app, method.clone(), &[("cookie", &cookie)]).await;
        assert_ne!(reply.status, StatusCode::FORBIDDEN, "{method}");
        assert_ne!(reply.status, StatusCode::UNAUTHORIZED, "{method}");
    }
    assert_eq!(
        send_with_method(&app, Method::GET, &[("cookie", &cookie)])
            .await
            .body,
        json!({"sub": "1"})
    );
}

#[tokio::test]
async fn unsafe_cookie_requests_need_the_csrf_header_of_their_own_token() {
    let app = app(layer(TokenSource::cookie("access_token")));
    let cookie = format!("access_token={}", token("1", Some("c-1")));
    for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
        let missing = send_with_method(&app, method.clone(), &[("cookie", &cookie)]).await;
        assert_eq!(missing.status, StatusCode::FORBIDDEN, "{method}");
        assert_eq!(missing.description(), "CSRF token missing");
        let wrong = send_with_method(
            &app,
            method.clone(),
            &[("cookie", &cookie), ("x-csrf-token", "c-2")],
        )
        .await;
        assert_eq!(wrong.status, StatusCode::FORBIDDEN, "{method}");
        assert_eq!(wrong.description(), "CSRF token does not match");
        let right = send_with_method(
            &app,
            method.clone(),
            &[("cookie", &cookie), ("x-csrf-token", "c-1")],
        )
        .await;
        assert_eq!(right.status, StatusCode::OK, "{method}");
    }
}

#[tokio::test]
async fn a_csrf_value_from_another_session_is_refused() {
    // The attacker has a session of their own and knows its CSRF value; it is bound to their
    // token, not the victim's.
    let app = app(layer(TokenSource::cookie("access_token")));
    let victim = format!("access_token={}", token("victim", Some("victim-csrf")));
    let reply = send_with_method(
        &app,
        Method::POST,
        &[("cookie", &victim), ("x-csrf-token", "attacker-csrf")],
    )
    .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    // Even with a tossed csrf cookie of the attacker's choosing: only the token's claim counts.
    let tossed = format!("{victim}; csrf_token=attacker-csrf");
    let reply = send_with_method(
        &app,
        Method::POST,
        &[("cookie", &tossed), ("x-csrf-token", "attacker-csrf")],
    )
    .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_cookie_token_without_a_csrf_claim_cannot_make_unsafe_requests() {
    let app = app(layer(TokenSource::cookie("access_token")));
    let cookie = format!("access_token={}", token("1", None));
    let reply = send_with_method(
        &app,
        Method::POST,
        &[("cookie", &cookie), ("x-csrf-token", "")],
    )
    .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let reply = send_with_method(
        &app,
        Method::POST,
        &[("cookie", &cookie), ("x-csrf-token", "anything")],
    )
    .await;
    assert_eq!(reply.description(), "CSRF token does not match");
}

#[tokio::test]
async fn header_authenticated_requests_need_no_csrf_token() {
    let app = app(layer(TokenSource::header_or_cookie("access_token")));
    let bearer = format!("Bearer {}", token("1", None));
    assert_eq!(
        send_with_method(&app, Method::POST, &[("authorization", &bearer)])
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_header_wins_over_the_cookie_and_never_falls_back() {
    let app = app(layer(TokenSource::header_or_cookie("access_token")));
    let header = format!("Bearer {}", token("from-header", None));
    let cookie = format!("access_token={}", token("from-cookie", Some("c")));
    let reply = send_with_method(
        &app,
        Method::GET,
        &[("authorization", &header), ("cookie", &cookie)],
    )
    .await;
    assert_eq!(reply.body, json!({"sub": "from-header"}));
    let reply = send_with_method(
        &app,
        Method::GET,
        &[("authorization", "Bearer a.b.c"), ("cookie", &cookie)],
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        send_with_method(&app, Method::GET, &[("cookie", &cookie)])
            .await
            .body,
        json!({"sub": "from-cookie"})
    );
}

#[tokio::test]
async fn a_cookie_only_layer_ignores_the_authorization_header() {
    let app = app(layer(TokenSource::cookie("access_token")));
    let header = format!("Bearer {}", token("1", None));
    let reply = send_with_method(&app, Method::GET, &[("authorization", &header)]).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.description(), "no bearer token");
}

#[tokio::test]
async fn a_repeated_token_cookie_is_400() {
    let app = app(layer(TokenSource::cookie("access_token")));
    let cookie = format!(
        "access_token={}; access_token={}",
        token("1", None),
        token("2", None)
    );
    assert_eq!(
        send_with_method(&app, Method::GET, &[("cookie", &cookie)])
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn a_forged_cookie_token_is_401_whatever_the_csrf_header() {
    let app = app(layer(TokenSource::cookie("access_token")));
    let forged = hs256_token(
        &hs256_header(),
        &json!({"exp": NOW + 60, "csrf": "c"}),
        b"another-secret-of-at-least-32-bytes",
    );
    let reply = send_with_method(
        &app,
        Method::POST,
        &[
            ("cookie", &format!("access_token={forged}")),
            ("x-csrf-token", "c"),
        ],
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn without_csrf_turns_the_check_off() {
    let app = app(layer(TokenSource::cookie("access_token")).allow_cookies_without_csrf(true));
    let cookie = format!("access_token={}", token("1", None));
    assert_eq!(
        send_with_method(&app, Method::POST, &[("cookie", &cookie)])
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_custom_header_source_works_without_a_csrf_token() {
    let custom = TokenSource::custom_header(|headers| {
        Ok(headers.get("x-api-token").and_then(|v| v.to_str().ok()))
    });
    let app = app(layer(custom));
    let reply = send_with_method(&app, Method::POST, &[("x-api-token", &token("7", None))]).await;
    assert_eq!(reply.body, json!({"sub": "7"}));
}

fn cookie_sessions() -> JwtSessions {
    JwtSessions::new(
        SigningKey::hs256(SECRET).unwrap(),
        VerifyingKey::hs256(SECRET).unwrap(),
        MemoryStore::new(),
    )
}

/// A pair from `sessions` bound to a fresh CSRF value, and that value.
fn pair_with_csrf(sessions: &JwtSessions) -> (TokenPair, String) {
    let csrf = AuthCookies::csrf_value().unwrap();
    let pair = sessions
        .issue(&json!({"sub": "1", AuthCookies::CSRF_CLAIM: csrf}))
        .unwrap();
    (pair, csrf)
}

#[test]
fn the_cookie_helpers_set_safe_attributes() {
    let (pair, csrf) = pair_with_csrf(&cookie_sessions());
    assert!(csrf.len() >= 22);
    let [access, refresh, csrf_cookie] = AuthCookies::new()
        .set(&pair, &csrf)
        .map(|v| v.to_str().unwrap().to_owned());
    assert!(
        access.starts_with(&format!("access_token={};", pair.access.token)),
        "{access}"
    );
    for attribute in [
        "HttpOnly",
        "Secure",
        "SameSite=Lax",
        "Path=/",
        "Max-Age=900",
    ] {
        assert!(access.contains(attribute), "{access} lacks {attribute}");
    }
    assert!(
        refresh.contains("Path=/refresh") && refresh.contains("HttpOnly"),
        "{refresh}"
    );
    assert!(
        csrf_cookie.starts_with(&format!("csrf_token={csrf};")),
        "{csrf_cookie}"
    );
    assert!(
        !csrf_cookie.contains("HttpOnly"),
        "the page must read it: {csrf_cookie}"
    );
}

#[test]
fn a_logged_response_shows_none_of_the_cookies_values() {
    let (pair, csrf) = pair_with_csrf(&cookie_sessions());
    let mut response = http::Response::new(());
    for value in AuthCookies::new().set(&pair, &csrf) {
        response.headers_mut().append("set-cookie", value);
    }
    // What a tracing layer that logs headers prints.
    let logged = format!("{response:?}");
    for secret in [&pair.access.token, &pair.refresh.token, &csrf] {
        assert!(!logged.contains(secret.as_str()), "{logged}");
    }
    assert!(logged.contains("Sensitive"), "{logged}");
}

#[test]
fn the_cookie_helpers_clear_every_cookie() {
    for cleared in AuthCookies::new().clear() {
        assert!(cleared.to_str().unwrap().contains("Max-Age=0"));
    }
}

#[tokio::test]
async fn a_minted_access_token_passes_a_cookie_layer_with_its_csrf_value() {
    let sessions = cookie_sessions();
    let (pair, csrf) = pair_with_csrf(&sessions);
    let cookies = AuthCookies::new();
    let app = app(sessions
        .layer::<Value>()
        .token_source(TokenSource::cookie(cookies.access_name())));
    let cookie = format!("access_token={}; csrf_token={csrf}", pair.access.token);
    let reply = send_with_method(
        &app,
        Method::DELETE,
        &[("cookie", &cookie), ("x-csrf-token", &csrf)],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
}

fn cookie_header(set: &[HeaderValue]) -> String {
    set.iter()
        .map(|c| c.to_str().unwrap().split(';').next().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join("; ")
}

fn csrf_of(set: &[HeaderValue]) -> String {
    let csrf = set[2].to_str().unwrap();
    csrf.trim_start_matches("csrf_token=")
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

const CSRF_HEADER: HeaderName = HeaderName::from_static("x-csrf-token");

/// A browser's login: the sessions, their cookie names, and the `Set-Cookie` values it got.
fn browser_login() -> (JwtSessions, AuthCookies, [HeaderValue; 3]) {
    let sessions = cookie_sessions();
    let cookies = AuthCookies::new();
    let (_, set) = sessions
        .issue_cookies(&json!({"sub": "1"}), &cookies)
        .unwrap();
    (sessions, cookies, set)
}

/// The headers of the browser's next request: the cookies `set` and, if any, this CSRF header.
fn browser_request(set: &[HeaderValue], csrf: Option<&str>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("cookie", HeaderValue::try_from(cookie_header(set)).unwrap());
    if let Some(csrf) = csrf {
        headers.insert(CSRF_HEADER, HeaderValue::try_from(csrf).unwrap());
    }
    headers
}

#[tokio::test]
async fn browser_refresh_needs_the_csrf_header() {
    let (sessions, cookies, set) = browser_login();
    let err = sessions
        .refresh_cookies(&browser_request(&set, None), &cookies)
        .await
        .unwrap_err();
    assert!(
        matches!(err, SessionError::Invalid(AuthError::CsrfMissing)),
        "{err:?}"
    );
    assert_eq!(err.status(), StatusCode::FORBIDDEN);
    let err = sessions
        .refresh_cookies(&browser_request(&set, Some("guess")), &cookies)
        .await
        .unwrap_err();
    assert!(
        matches!(err, SessionError::Invalid(AuthError::CsrfMismatch)),
        "{err:?}"
    );
}

#[tokio::test]
async fn browser_refresh_rotates_the_csrf_value() {
    let (sessions, cookies, set) = browser_login();
    let first_csrf = csrf_of(&set);
    let (next, next_set) = sessions
        .refresh_cookies(&browser_request(&set, Some(&first_csrf)), &cookies)
        .await
        .unwrap();
    let next_csrf = csrf_of(&next_set);
    assert_ne!(
        next_csrf, first_csrf,
        "a refresh rotates the CSRF value too"
    );
    // The new access cookie works with the new CSRF value only.
    let app = app(sessions
        .layer::<Value>()
        .token_source(TokenSource::cookie("access_token")));
    let cookie = format!("access_token={}", next.access.token);
    assert_eq!(
        send_with_method(
            &app,
            Method::POST,
            &[("cookie", &cookie), ("x-csrf-token", &next_csrf)]
        )
        .await
        .status,
        StatusCode::OK
    );
    assert_eq!(
        send_with_method(
            &app,
            Method::POST,
            &[("cookie", &cookie), ("x-csrf-token", &first_csrf)]
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn browser_refresh_detects_a_reused_refresh_cookie_and_ends_the_family() {
    let (sessions, cookies, set) = browser_login();
    let first = browser_request(&set, Some(&csrf_of(&set)));
    let (next, next_set) = sessions.refresh_cookies(&first, &cookies).await.unwrap();
    let next_csrf = csrf_of(&next_set);
    let app = app(sessions
        .layer::<Value>()
        .token_source(TokenSource::cookie("access_token")));
    let cookie = format!("access_token={}", next.access.token);
    let with_next_csrf = [
        ("cookie", cookie.as_str()),
        ("x-csrf-token", next_csrf.as_str()),
    ];
    assert_eq!(
        send_with_method(&app, Method::POST, &with_next_csrf)
            .await
            .status,
        StatusCode::OK
    );

    // The first refresh cookie again: reuse, and the family is gone.
    let err = sessions
        .refresh_cookies(&first, &cookies)
        .await
        .unwrap_err();
    assert!(matches!(err, SessionError::Reused), "{err:?}");
    assert_eq!(
        send_with_method(&app, Method::POST, &with_next_csrf)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_custom_source_is_csrf_checked_unless_it_is_a_custom_header() {
    // Where the function found the token is unknown to the layer: a session cookie read by hand
    // must not skip CSRF.
    let by_hand = TokenSource::custom(|headers| {
        Ok(headers
            .get("cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("session=")))
    });
    let app = app(layer(by_hand));
    let cookie = format!("session={}", token("1", Some("c-1")));
    assert_eq!(
        send_with_method(&app, Method::POST, &[("cookie", &cookie)])
            .await
            .description(),
        "CSRF token missing"
    );
    assert_eq!(
        send_with_method(
            &app,
            Method::POST,
            &[("cookie", &cookie), ("x-csrf-token", "c-1")]
        )
        .await
        .status,
        StatusCode::OK
    );
}

#[test]
fn cookies_are_secure_unless_insecure_http_is_allowed() {
    let secure = |cookies: &AuthCookies| {
        cookies
            .clear()
            .iter()
            .all(|c| c.to_str().unwrap().split("; ").any(|a| a == "Secure"))
    };
    assert!(secure(&AuthCookies::new()));
    assert!(secure(&AuthCookies::new().allow_insecure_http(false)));
    let dev = AuthCookies::new().allow_insecure_http(true);
    assert!(
        dev.clear()
            .iter()
            .all(|c| !c.to_str().unwrap().contains("Secure"))
    );
}

#[tokio::test]
async fn browser_refresh_reads_the_csrf_header_the_cookies_name() {
    let sessions = cookie_sessions();
    let cookies = AuthCookies::new().csrf_header(HeaderName::from_static("x-xsrf-token"));
    let (_, set) = sessions
        .issue_cookies(&json!({"sub": "1"}), &cookies)
        .unwrap();
    let csrf = csrf_of(&set);
    // The value in the default header does not count any more.
    let err = sessions
        .refresh_cookies(&browser_request(&set, Some(&csrf)), &cookies)
        .await
        .unwrap_err();
    assert!(
        matches!(err, SessionError::Invalid(AuthError::CsrfMissing)),
        "{err:?}"
    );
    let mut headers = browser_request(&set, None);
    headers.insert("x-xsrf-token", HeaderValue::try_from(csrf).unwrap());
    let (pair, _) = sessions.refresh_cookies(&headers, &cookies).await.unwrap();
    assert_eq!(payload(&pair.access.token)["sub"], "1");
}
