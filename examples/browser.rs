//! A browser app on cookies: a login form, a page for logged-in users with a button that calls a
//! protected API with `fetch`, an admin-only page, and logout.
//!
//! ```sh
//! cargo run --example browser
//! # open http://127.0.0.1:3002 and log in as john / secret123 (a user) or admin / admin123
//! ```
//!
//! The access and refresh tokens travel in `HttpOnly` cookies that no script can read, so an XSS
//! cannot steal them. What cookies bring instead is CSRF: every POST must carry `x-csrf-token`,
//! which the page's script copies from the readable `csrf_token` cookie and the layer compares
//! with the token's `csrf` claim (double submit, bound to the login). The cookies are
//! `SameSite=Lax` and `Secure`: browsers count http://127.0.0.1 and http://localhost as secure,
//! so this runs without TLS on your machine; anywhere else, serve it over HTTPS. An access token
//! lasts 15 minutes; `POST /refresh` (with the CSRF header, as any POST) spends the
//! refresh-token cookie, which only `/refresh` ever receives, for a new pair of cookies.
//!
//! `JWT_SECRET` (at least 32 bytes) is the HS256 secret; unset, a random one is made at start.
//! `BIND` is the address to listen on (default `127.0.0.1:3002`). `PUBLIC_ORIGIN` (e.g.
//! `https://app.example.com`) is the origin browsers see behind a proxy (TLS, another host);
//! unset, a login must come from `http://` and the host it was sent to.

use std::sync::Arc;

use argon2::{Argon2, PasswordHash, PasswordVerifier};
use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, HOST, LOCATION, ORIGIN, REFERER,
    SET_COOKIE, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, Response as HttpResponse, StatusCode, Uri};
use axum::response::{AppendHeaders, Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tower_jwt_auth::authorize::HasRoles;
use tower_jwt_auth::middleware::ErrorContext;
use tower_jwt_auth::revocation::MemoryStore;
use tower_jwt_auth::tokens::{AuthCookies, SessionError};
use tower_jwt_auth::{
    Algorithm, Auth, JwtSessions, Requirement, SigningKey, TokenSource, VerifyingKey,
};

/// What the tokens carry besides `iat`, `exp`, `jti`, `type` and `csrf`.
#[derive(Clone, Serialize, Deserialize)]
struct Claims {
    sub: String,
    role: String,
    /// The login (token family): logout revokes it.
    sid: String,
}

impl HasRoles for Claims {
    fn has_role(&self, role: &str) -> bool {
        self.role == role
    }
}

struct User {
    name: &'static str,
    role: &'static str,
    /// Argon2id PHC string: passwords are never stored.
    password_hash: &'static str,
}

/// `john` / `secret123` (a user) and `admin` / `admin123` (an admin).
const USERS: &[User] = &[
    User {
        name: "john",
        role: "user",
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$t+8y9Rnr5P1AsbAk5MkY9A$jnRz+qWrgURY4TypBAuoNv2XnL5xetrDB4JOYMgENr8",
    },
    User {
        name: "admin",
        role: "admin",
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$nW4FXgE35zmCScASOmkz4g$mlrOAI0w/Vp4Hi2NGITy9Hlfb6WhGmZX+tPgk1cndp0",
    },
];

/// Verified against when the user does not exist, so both cases take the same time.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$rZpJ5jxPdmG5bWl9ocqwWQ$OUxi5b53/EdMCjCZ/Kq9YI8HYUc3ORmt/2pr1thQzrY";

const BAD_LOGIN: &str = "Incorrect username or password";

struct AppState {
    sessions: JwtSessions,
    cookies: AuthCookies,
    /// `PUBLIC_ORIGIN`, when set.
    origin: Option<String>,
}

type AppRef = State<Arc<AppState>>;

#[derive(Deserialize)]
struct Login {
    username: String,
    password: String,
}

async fn login_page() -> Response {
    page(StatusCode::OK, "Log in", &login_form(None))
}

fn login_form(error: Option<&str>) -> String {
    let error = error.map_or(String::new(), |e| {
        format!(r#"<p class="error" role="alert">{}</p>"#, escape(e))
    });
    format!(
        r#"<h1>Log in</h1>{error}
<form method="post" action="/login">
  <label>Username <input name="username" autocomplete="username" required autofocus></label>
  <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
  <button type="submit">Log in</button>
</form>
<p class="hint">Try <code>john</code> / <code>secret123</code> or <code>admin</code> / <code>admin123</code>.</p>"#
    )
}

/// `POST /login`, from the form (answered with a redirect) or as JSON (answered with JSON); the
/// tokens go into cookies either way, never into the body.
async fn login(State(app): AppRef, request: Request) -> Result<Response, Response> {
    // A cross-site form must not log the visitor in to someone else's account (login CSRF):
    // browsers say where a request comes from; clients that are not browsers send no such header.
    if !same_origin(request.headers(), app.origin.as_deref()) {
        return Err((StatusCode::FORBIDDEN, "cross-site login refused").into_response());
    }
    let is_json = request
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    let Login { username, password } = if is_json {
        let Json(login) = Json::from_request(request, &())
            .await
            .map_err(|e| e.into_response())?;
        login
    } else {
        let Form(login) = Form::from_request(request, &())
            .await
            .map_err(|e| e.into_response())?;
        login
    };

    let user = USERS.iter().find(|u| u.name == username);
    let stored = user.map_or(DUMMY_HASH, |u| u.password_hash);
    // Argon2 takes tens of milliseconds of CPU on purpose: keep it off the async workers.
    let password_ok = tokio::task::spawn_blocking(move || {
        let hash = PasswordHash::new(stored)?;
        Ok::<_, argon2::password_hash::Error>(
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok(),
        )
    })
    .await
    .map_err(internal)?
    .map_err(internal)?;
    let Some(user) = user.filter(|_| password_ok) else {
        return Err(if is_json {
            (StatusCode::UNAUTHORIZED, Json(json!({"detail": BAD_LOGIN}))).into_response()
        } else {
            page(
                StatusCode::UNAUTHORIZED,
                "Log in",
                &login_form(Some(BAD_LOGIN)),
            )
        });
    };

    let claims = json!({"sub": user.name, "role": user.role});
    let (_, cookies) = app
        .sessions
        .issue_cookies(&claims, &app.cookies)
        .map_err(|e| e.into_response())?;
    let set_cookies = AppendHeaders(cookies.map(|c| (SET_COOKIE, c)));
    Ok(if is_json {
        let body = json!({"username": user.name, "role": user.role});
        (set_cookies, Json(body)).into_response()
    } else {
        (set_cookies, Redirect::to("/app")).into_response()
    })
}

/// Whether a request comes from this app's own pages, as OWASP's CSRF cheat sheet checks it:
/// `Sec-Fetch-Site` when the browser sends it, and the `Origin` (or, without one, the
/// `Referer`) against this app's origin: `PUBLIC_ORIGIN` when set (behind a proxy), otherwise
/// `http://` and the `Host` the request was sent to. `Origin: null` (sandboxed frames,
/// cross-origin redirects) is refused. A request with none of these headers comes from a client
/// that is not a browser, which CSRF cannot drive.
fn same_origin(headers: &HeaderMap, public_origin: Option<&str>) -> bool {
    if let Some(site) = headers.get("sec-fetch-site")
        && site != "same-origin"
    {
        return false;
    }
    let Some(from) = headers.get(ORIGIN).or_else(|| headers.get(REFERER)) else {
        return true;
    };
    let Some(from) = from.to_str().ok().and_then(|v| v.parse::<Uri>().ok()) else {
        return false;
    };
    let (Some(scheme), Some(authority)) = (from.scheme_str(), from.authority()) else {
        return false;
    };
    match public_origin {
        Some(origin) => format!("{scheme}://{authority}").eq_ignore_ascii_case(origin),
        None => {
            // This app serves plain HTTP itself; behind TLS, PUBLIC_ORIGIN says so.
            scheme == "http"
                && headers.get(HOST).is_some_and(|host| {
                    host.as_bytes()
                        .eq_ignore_ascii_case(authority.as_str().as_bytes())
                })
        }
    }
}

/// Spends the refresh cookie (its CSRF header checked) for new cookies; a replayed refresh
/// cookie revokes the whole login.
async fn refresh(State(app): AppRef, headers: HeaderMap) -> Response {
    match app.sessions.refresh_cookies(&headers, &app.cookies).await {
        Ok((_, cookies)) => (
            AppendHeaders(cookies.map(|c| (SET_COOKIE, c))),
            StatusCode::NO_CONTENT,
        )
            .into_response(),
        Err(err) => err.into_response(),
    }
}

/// The page only a logged-in user sees.
async fn app_page(Auth(claims): Auth<Claims>) -> Response {
    let body = format!(
        r#"<h1>Hello, {name}</h1>
<p>Signed in as <strong id="user">{name}</strong> with the role <strong id="role">{role}</strong>.</p>
<p><button id="action" type="button">Call the protected API</button></p>
<p>Result: <output id="result">not called yet</output></p>
<p><a href="/admin">Admin page</a> (admins only)</p>
<p><button id="logout" type="button">Log out</button></p>
<script src="/app.js"></script>"#,
        name = escape(&claims.sub),
        role = escape(&claims.role),
    );
    page(StatusCode::OK, "Your account", &body)
}

/// Only admins get here: the role requirement answers everyone else 403.
async fn admin_page(Auth(claims): Auth<Claims>) -> Response {
    let body = format!(
        r#"<h1>Admin</h1><p>Welcome, <strong id="user">{}</strong>: only admins see this page.</p><p><a href="/app">Back</a></p>"#,
        escape(&claims.sub)
    );
    page(StatusCode::OK, "Admin", &body)
}

/// The protected API the page's button calls (with the CSRF header).
async fn action(Auth(claims): Auth<Claims>) -> Json<serde_json::Value> {
    Json(json!({"message": format!("action done for {}", claims.sub)}))
}

/// Revokes the login (its access and refresh tokens are refused from now on) and clears the
/// cookies.
async fn logout(State(app): AppRef, Auth(claims): Auth<Claims>) -> Result<Response, SessionError> {
    app.sessions.logout(&claims.sid).await?;
    let clear = AppendHeaders(app.cookies.clear().map(|c| (SET_COOKIE, c)));
    Ok((StatusCode::NO_CONTENT, clear).into_response())
}

/// The page's script: a file rather than inline, so the CSP can forbid inline scripts.
const SCRIPT: &str = r#""use strict";
// The CSRF value comes from the readable cookie; the token cookies are HttpOnly, out of reach.
function csrfToken() {
  const entry = document.cookie.split("; ").find((c) => c.startsWith("csrf_token="));
  return entry ? entry.slice("csrf_token=".length) : "";
}

function post(path) {
  return fetch(path, { method: "POST", headers: { "x-csrf-token": csrfToken() } });
}

document.getElementById("action").addEventListener("click", async () => {
  const response = await post("/api/action");
  if (response.status === 401) {
    window.location.assign("/");
    return;
  }
  const body = await response.json().catch(() => ({}));
  document.getElementById("result").textContent =
    `${response.status} ${body.message ?? body.error_description ?? ""}`;
});

document.getElementById("logout").addEventListener("click", async () => {
  await post("/logout");
  window.location.assign("/");
});
"#;

const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;background:#f4f5f7;color:#222;margin:0}
main{max-width:32rem;margin:2rem auto;background:#fff;padding:1.5rem 2rem;border-radius:8px;box-shadow:0 1px 4px #0002}
label{display:block;margin:.5rem 0}input{display:block;width:100%;box-sizing:border-box;padding:.4rem;font:inherit}
button{padding:.4rem 1rem;font:inherit;cursor:pointer}output{font-family:monospace}
.error{color:#b00020}.hint{color:#666;font-size:.9rem}";

async fn script() -> impl IntoResponse {
    ([(CONTENT_TYPE, "text/javascript; charset=utf-8")], SCRIPT)
}

async fn style() -> impl IntoResponse {
    ([(CONTENT_TYPE, "text/css; charset=utf-8")], STYLE)
}

/// An HTML page with the headers every page here gets: scripts and styles from this origin only,
/// no framing, and no caching of what is shown to one user.
fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title><link rel="stylesheet" href="/style.css"></head>
<body><main>{body}</main></body></html>"#,
        title = escape(title),
    );
    let headers = [
        (
            CONTENT_SECURITY_POLICY,
            "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        ),
        (CACHE_CONTROL, "no-store"),
        (X_CONTENT_TYPE_OPTIONS, "nosniff"),
    ];
    (status, headers, Html(html)).into_response()
}

/// Escapes text for HTML element content and quoted attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Pages send a visitor without a valid login to the login form instead of a JSON 401.
fn to_login_page(refused: ErrorContext<'_>) -> HttpResponse<Bytes> {
    if refused.error.status() != StatusCode::UNAUTHORIZED {
        return refused.default_response();
    }
    let mut response = HttpResponse::new(Bytes::new());
    *response.status_mut() = StatusCode::SEE_OTHER;
    response
        .headers_mut()
        .insert(LOCATION, HeaderValue::from_static("/"));
    response
}

fn internal(err: impl std::fmt::Display) -> Response {
    tracing::error!("login failed: {err}");
    (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
}

fn secret() -> Vec<u8> {
    match std::env::var("JWT_SECRET") {
        Ok(secret) => secret.into_bytes(),
        Err(_) => {
            eprintln!(
                "JWT_SECRET is not set: using a random secret; logins will not survive a restart"
            );
            let mut secret = vec![0u8; 32];
            getrandom::fill(&mut secret).expect("the system random number generator failed");
            secret
        }
    }
}

/// `PUBLIC_ORIGIN`, checked: a scheme and a host (and port), nothing else.
fn public_origin() -> Result<Option<String>, String> {
    let Ok(origin) = std::env::var("PUBLIC_ORIGIN") else {
        return Ok(None);
    };
    let uri: Uri = origin
        .parse()
        .map_err(|e| format!("PUBLIC_ORIGIN={origin:?}: {e}"))?;
    match (uri.scheme_str(), uri.authority()) {
        (Some("http" | "https"), Some(_))
            if uri.path() == "/" && uri.query().is_none() && !origin.ends_with('/') =>
        {
            Ok(Some(origin))
        }
        _ => Err(format!(
            "PUBLIC_ORIGIN={origin:?} is not an origin such as https://app.example.com (a scheme and a host, no path)"
        )),
    }
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt::init();
    if let Err(err) = run().await {
        eprintln!("error: {err}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let secret = secret();
    let sessions = JwtSessions::new(
        SigningKey::hmac(&secret, Algorithm::HS256)?,
        VerifyingKey::hmac(&secret, Algorithm::HS256)?,
        MemoryStore::new(),
    );
    let cookies = AuthCookies::new();
    // The token comes from the access cookie; unsafe methods then need the CSRF header.
    let api_auth = sessions
        .layer::<Claims>()
        .token_source(TokenSource::cookie(cookies.access_name()));
    let page_auth = api_auth.clone().on_error(to_login_page);

    let admin = Router::new()
        .route("/admin", get(admin_page))
        .route_layer(Requirement::<Claims>::role("admin").layer());
    let pages = Router::new()
        .route("/app", get(app_page))
        .merge(admin)
        .route_layer(page_auth);
    let api = Router::new()
        .route("/api/action", post(action))
        .route("/logout", post(logout))
        .route_layer(api_auth);
    let app = Router::new()
        .route("/", get(login_page))
        .route("/login", post(login))
        .route("/refresh", post(refresh))
        .route("/app.js", get(script))
        .route("/style.css", get(style))
        .merge(pages)
        .merge(api)
        .with_state(Arc::new(AppState {
            sessions,
            cookies,
            origin: public_origin()?,
        }));

    let bind = std::env::var("BIND").unwrap_or_else(|_| "127.0.0.1:3002".into());
    let listener = tokio::net::TcpListener::bind(&bind)
        .await
        .map_err(|e| format!("cannot listen on {bind}: {e}"))?;
    eprintln!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
