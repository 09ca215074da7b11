//! JWT authentication for any [Tower](https://docs.rs/tower) service.
//!
//! [`JwtLayer`] checks the token of every request and puts the typed claims in the request
//! extensions; the [`Auth<C>`](Auth) extractor hands them to axum handlers as a parameter, the
//! way FastAPI's `Depends(get_current_user)` does. The same layer works unchanged in tonic
//! (gRPC) servers. Safe by default ([RFC 8725]): the algorithm is bound to the key (never
//! `none`, never HS/RS confusion), `exp` is required, a configured `iss`/`aud` is required,
//! tokens over 8 KiB are refused before decoding, and every refusal is an [RFC 6750] challenge.
//!
//! [RFC 8725]: https://www.rfc-editor.org/rfc/rfc8725
//! [RFC 6750]: https://www.rfc-editor.org/rfc/rfc6750
//!
//! # Quickstart
//!
//! ```no_run
//! use axum::{routing::get, Router};
//! use tower_jwt_auth::{Algorithm, Auth, JwtLayer, TokenType, VerifyingKey};
//!
//! #[derive(Clone, serde::Deserialize)]
//! struct Claims { sub: String, username: String }
//!
//! async fn profile(Auth(claims): Auth<Claims>) -> String {
//!     format!("Hello, {} (user {})", claims.username, claims.sub)
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let key = VerifyingKey::hmac_from_env("JWT_SECRET", Algorithm::HS256)?;
//!     let auth = JwtLayer::<Claims>::new(key).token_type(TokenType::claim("type", "access"));
//!     let app = Router::new().route("/profile", get(profile)).layer(auth);
//!     axum::serve(tokio::net::TcpListener::bind("127.0.0.1:3000").await?, app).await?;
//!     Ok(())
//! }
//! ```
//!
//! A request without a token gets `401` and `WWW-Authenticate: Bearer`; a bad one `401` and
//! `Bearer error="invalid_token", error_description="…"`; the handler runs only with verified
//! claims. The repository's `examples/` are whole apps (login, refresh and logout; browsers on
//! cookies; a resource server on a remote JWKS; gRPC), each run with `cargo run --example <name>`.
//!
//! # What is checked
//!
//! | Rule | Default | Builder |
//! |---|---|---|
//! | Algorithm | the key's one algorithm; `none` and every other `alg` refused | [`VerifyingKey`] |
//! | `exp` | required, a [`NumericDate`] (any JSON number); the current time must be before it | always on |
//! | `nbf` | a [`NumericDate`]; checked when present | always on |
//! | `iat` | a [`NumericDate`] when present; not checked | [`max_age`](JwtLayer::max_age): then required, not in the future, at most that old |
//! | `jti` | a string when present | required with [`revocation`](JwtLayer::revocation) |
//! | Clock skew | 30 s on `exp`/`nbf`/`iat` | [`leeway`](JwtLayer::leeway) |
//! | `iss` | a string when present; not checked | [`issuer`](JwtLayer::issuer) / [`issuers`](JwtLayer::issuers): then required |
//! | `aud` (a string or an array of strings) | a token that names audiences is refused (it was meant for someone else) | [`audience`](JwtLayer::audience) / [`audiences`](JwtLayer::audiences): then required; [`allow_any_audience`](JwtLayer::allow_any_audience) |
//! | `sub` | a string when present; not checked | [`subject`](JwtLayer::subject) |
//! | Other claims | none required | [`require_claims`](JwtLayer::require_claims) |
//! | Token type | not checked | [`token_type`](JwtLayer::token_type) with [`TokenType::claim`] or [`TokenType::header`] |
//! | Size | 8 KiB, before any decoding | [`max_token_length`](JwtLayer::max_token_length) |
//! | `crit` header | refused (no extension is implemented) | — |
//! | `kid` | must match the key's when both are set | [`VerifyingKey::with_kid`] |
//! | Key strength | short HMAC secrets, RSA under 2048 bits, EC keys on the wrong curve, a public key given to sign or a private one to verify: refused when the key is made, on both sides | — |
//! | Revocation | off | [`revocation`](JwtLayer::revocation): `jti` then required |
//! | A registered claim (or the type claim) twice, or of the wrong JSON type | refused, whatever the configuration | — |
//! | Clock | system clock | [`clock`](JwtLayer::clock) with [`clock::ManualClock`] in tests |
//!
//! # Keys
//!
//! A [`VerifyingKey`] accepts exactly the one algorithm it was made with: HMAC secrets (at least
//! the hash size: 32/48/64 bytes for HS256/384/512), RSA (`RS*`, `PS*`), EC (`ES256` on P-256,
//! `ES384` on P-384) and Ed25519 (`EdDSA`) public keys from PEM, DER or a [`jwk::Jwk`].
//!
//! ```
//! use tower_jwt_auth::{Algorithm, JwtLayer, KeySet, VerifyingKey};
//!
//! let shared = VerifyingKey::hs256(b"an HS256 secret of at least 32 bytes!")?;
//! let ec = VerifyingKey::from_pem(std::fs::read("tests/keys/ec256_public.pem")?, Algorithm::ES256)?;
//! let ed = VerifyingKey::from_pem(std::fs::read("tests/keys/ed25519_public.pem")?, Algorithm::EdDSA)?;
//! // Several keys: the token's `kid` picks one, whose own algorithm bounds the token's `alg`.
//! let keys = KeySet::new([ec.with_kid("2026-10"), ed.with_kid("2026-11")]);
//! let layer = JwtLayer::<serde_json::Value>::new(keys);
//! # let _ = shared;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! - [`KeySet::from_jwks`] reads a JWKS document ([RFC 7517]), keeping its signing keys. A JWK
//!   without `alg` serves every algorithm of its key type and never another type's (RSA:
//!   RS256/384/512 and PS256/384/512; EC: the ES* of its curve; Ed25519: EdDSA, also under its
//!   RFC 9864 name `Ed25519`); [`JwtLayer::algorithms`] narrows what a layer accepts. `ES512`
//!   (P-521) is in neither crypto backend: such keys are skipped with
//!   [`KeyError::UnsupportedAlgorithm`](keys::KeyError::UnsupportedAlgorithm).
//! - [`RemoteJwks`] (feature `jwks`, on by default) fetches a provider's JWKS, by URL or by
//!   OpenID Connect discovery, caches it, refreshes it in the background and refetches on an
//!   unknown `kid` (rate-limited, one fetch for all waiting requests). While the provider is
//!   down the cached keys keep working; with no keys at all the answer is 503, never an
//!   accepted token, and a request then asks for a fetch itself (at most one a second), so the
//!   first keys arrive as soon as the provider answers. Why keys could not be had is a
//!   [`keys::FetchError`] whose [`kind`](keys::FetchError::kind) says timeout, HTTP status, bad
//!   document or bad URL. Outages are logged as they start and end (and once a
//!   [minute](keys::RemoteJwksBuilder::outage_log_interval) with a count), not per request; a JWK the
//!   crate cannot use is logged once at `warn` with its `kid`, the reason and the `jwks_uri`.
//! - [`JwtLayer::for_issuers`] accepts several issuers, each a [`keys::TrustedIssuer`] with its
//!   own keys and audiences; the token's `iss` picks the issuer before any key is looked up.
//! - [`keys::PublicJwks`] publishes the public halves of an app's [`SigningKey`]s, for apps that
//!   are their own identity provider.
//!
//! ```no_run
//! use tower_jwt_auth::{JwtLayer, RemoteJwks};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Reads {issuer}/.well-known/openid-configuration, then requires `iss` to be that issuer.
//! let keys = RemoteJwks::discovery_builder("https://keycloak.example.com/realms/demo")
//!     .refetch_cooldown(std::time::Duration::from_secs(30))
//!     .build()?;
//! let layer = JwtLayer::<serde_json::Value>::new(keys).audience("orders-api");
//! # Ok(()) }
//! ```
//!
//! [RFC 7517]: https://www.rfc-editor.org/rfc/rfc7517
//!
//! # Issuing tokens, sessions and revocation
//!
//! [`TokenIssuer`] signs the app's claims and fills `iat`, `exp` (15 minutes by default), a
//! random `jti` and the configured `iss`, `aud` and token type. [`JwtSessions`] adds the login
//! lifecycle on top: an access/refresh pair per login, refresh tokens taken **once** (a refresh
//! token presented twice revokes its whole family), logout by family, and a layer that refuses
//! revoked tokens.
//!
//! ```
//! use tower_jwt_auth::{JwtSessions, SigningKey, VerifyingKey};
//! use tower_jwt_auth::revocation::MemoryStore;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let secret = b"an HS256 secret of at least 32 bytes!";
//! let sessions = JwtSessions::new(SigningKey::hs256(secret)?, VerifyingKey::hs256(secret)?, MemoryStore::new());
//! let login = sessions.issue(&serde_json::json!({"sub": "1", "username": "john"}))?;
//! let next = sessions.refresh(&login.refresh.token).await?;       // works once
//! assert!(sessions.refresh(&login.refresh.token).await.is_err()); // reuse: the family is revoked
//! let layer = sessions.layer::<serde_json::Value>();              // refuses revoked tokens
//! # let _ = (next, layer); Ok(()) }
//! ```
//!
//! The per-request revocation check never does network I/O: it is a lookup in local memory.
//! [`revocation::MemoryStore`] is one process's view; `revocation::RedisStore` (feature `redis`)
//! shares revocations between instances, mirroring them locally through Redis pub/sub. When the
//! store cannot answer, the layer **fails closed** (503 with `Retry-After: 1`) unless
//! [`allow_revocation_outage`](JwtLayer::allow_revocation_outage) says otherwise; the outage is
//! logged as one `warn` when it starts, one a minute with the count of requests it touched, and
//! one `info` when the store answers again. The Redis store calls a connection lost when the
//! PING it sends every second gets no answer within its response timeout (500 ms;
//! `RedisStoreBuilder::timeouts` raises it for a Redis that can be slow to answer).
//!
//! # Authorization: scopes, roles and predicates
//!
//! A [`Requirement`] says what an authenticated caller may do. A valid token that does not meet
//! it is answered **403** with `WWW-Authenticate: Bearer error="insufficient_scope", scope="…"`
//! (RFC 6750 §3.1), or gRPC status 7. Put it on routes with [`Requirement::layer`], inside the
//! `JwtLayer`, or check it in a handler with [`Auth::require`].
//!
//! ```
//! use axum::{routing::{get, post}, Router};
//! use serde_json::Value;
//! use tower_jwt_auth::{Auth, AuthError, JwtLayer, Requirement, VerifyingKey};
//!
//! async fn delete(auth: Auth<Value>) -> Result<&'static str, AuthError> {
//!     auth.require(&Requirement::scope("orders:delete"))?;
//!     Ok("deleted")
//! }
//!
//! let write = Requirement::<Value>::all_of([Requirement::scope("orders:read"), Requirement::scope("orders:write")]);
//! let staff = Requirement::<Value>::any_of([Requirement::role("admin"), Requirement::role("support")]);
//! let app: Router = Router::new()
//!     .route("/orders", post(|| async { "created" }))
//!     .route_layer(write.layer())
//!     .merge(Router::new().route("/orders/{id}", get(|| async { "order" }).delete(delete)).route_layer(staff.layer()))
//!     .layer(JwtLayer::<Value>::new(VerifyingKey::hs256(b"an HS256 secret of at least 32 bytes!")?));
//! # Ok::<(), tower_jwt_auth::keys::KeyError>(())
//! ```
//!
//! Scopes and roles come from the [`authorize::HasScopes`] and [`authorize::HasRoles`] traits,
//! implemented for `serde_json::Value` (scopes from `scope`, `scp` and `permissions`; roles from
//! `roles` and Keycloak's `realm_access.roles`); implement them for your own claims type, or use
//! [`Requirement::predicate`] for anything else.
//!
//! # Browsers: tokens in cookies, with CSRF protection
//!
//! [`TokenSource`] says where the layer reads the token: the `Authorization: Bearer` header (the
//! default), a cookie, the header or else a cookie, or a function of yours; never the query
//! string. [`tokens::AuthCookies`] writes the access and refresh tokens in `HttpOnly; Secure;
//! SameSite=Lax` cookies and a readable CSRF cookie. A cookie-authenticated unsafe request
//! (POST, PUT, PATCH, DELETE) must echo that value in a header ([`middleware::DEFAULT_CSRF_HEADER`],
//! or [`csrf_header`](JwtLayer::csrf_header)), which the layer compares in constant time with the
//! `csrf` claim inside the signed token: 403 when missing or wrong.
//!
//! ```
//! use tower_jwt_auth::{JwtLayer, TokenSource, VerifyingKey};
//!
//! let layer = JwtLayer::<serde_json::Value>::new(VerifyingKey::hs256([7u8; 32])?)
//!     .token_source(TokenSource::header_or_cookie("access_token"));
//! # Ok::<(), tower_jwt_auth::keys::KeyError>(())
//! ```
//!
//! # Optional authentication
//!
//! [`allow_anonymous(true)`](JwtLayer::allow_anonymous) lets requests without any token through
//! without claims (a token that is present but invalid is still refused); handlers take
//! `Option<Auth<C>>`. `Auth<C>` on a route no `JwtLayer<C>` covers is a server bug, answered 500.
//!
//! ```
//! use tower_jwt_auth::Auth;
//! # #[derive(Clone, serde::Deserialize)] struct Claims { username: String }
//!
//! async fn greeting(user: Option<Auth<Claims>>) -> String {
//!     match user {
//!         Some(Auth(claims)) => format!("Hello, {}!", claims.username),
//!         None => "Hello, stranger!".into(),
//!     }
//! }
//! ```
//!
//! # Outside a request
//!
//! [`JwtLayer::verify`] checks a token string with exactly the layer's keys and rules (WebSocket
//! first-message authentication, background jobs, CLIs) and returns the typed claims or the
//! [`AuthError`] the layer would refuse the token with.
//!
//! # Protected-resource metadata (RFC 9728)
//!
//! [`JwtLayer::resource_metadata_for`] builds the [`metadata::ResourceMetadata`] document of a
//! resource from the layer (its issuers as `authorization_servers`), [`ResourceMetadata::scopes_of`]
//! adds the scopes a [`Requirement`] enforces, and [`JwtLayer::resource_metadata`] names the
//! document in every `Bearer` challenge under the layer, as MCP clients need.
//!
//! [`ResourceMetadata::scopes_of`]: metadata::ResourceMetadata::scopes_of
//!
//! # The verified-token cache
//!
//! A client sends the same token many times in its lifetime, and with asymmetric keys the
//! signature check is most of a request's cost. [`JwtLayer::token_cache`] keeps tokens that
//! passed every check, found again by a keyed hash of their bytes with the full bytes compared.
//! A hit skips only the signature check and the parse: `exp`, `nbf` and `max_age` (with the
//! layer's clock and leeway), revocation, the CSRF binding of a cookie token, and that the key
//! set the token was verified with is still current (a JWKS refresh that changes the document
//! starts it over) are checked on every hit. Only verified tokens get in, so forged ones never evict good
//! ones; [`middleware::TokenCache`] bounds the entries and the token size kept;
//! [`JwtLayer::token_cache_stats`] counts hits, misses and evictions. It is off by default.
//!
//! ```
//! use tower_jwt_auth::middleware::TokenCache;
//! use tower_jwt_auth::{JwtLayer, RemoteJwks};
//!
//! let keys = RemoteJwks::new("https://idp.example.com/.well-known/jwks.json")?;
//! let layer = JwtLayer::<serde_json::Value>::new(keys).token_cache(TokenCache::new(10_000));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # gRPC (tonic)
//!
//! The same layer goes on a tonic server; handlers read [`Auth<C>`](Auth) from the request
//! extensions. Refused gRPC calls (`content-type: application/grpc*`) get `grpc-status` 16
//! (UNAUTHENTICATED), 7 (PERMISSION_DENIED) or 14 (UNAVAILABLE) with the description as
//! `grpc-message`. The `tonic` feature adds `From<AuthError> for tonic::Status`, for checks made
//! inside a handler.
//!
//! ```ignore
//! Server::builder().layer(JwtLayer::<Claims>::new(key)).add_service(GreeterServer::new(MyGreeter));
//! // in the handler:
//! let Some(Auth(claims)) = request.extensions().get::<Auth<Claims>>() else { .. };
//! ```
//!
//! # Errors and the rejection policy
//!
//! Every refusal is an [`AuthError`] (`#[non_exhaustive]`, with [`status`](AuthError::status),
//! [`error_code`](AuthError::error_code), [`description`](AuthError::description)), traced at
//! `debug` with its reason (never the token) and answered with `WWW-Authenticate` and a JSON body
//! `{"error": …, "error_description": …}`. One policy applies to every refusal: the layer's own,
//! every [`authorize::RequireLayer`] under it and `auth.require(..)?` in a handler.
//! [`realm`](JwtLayer::realm) adds `realm="…"` to the challenges;
//! [`on_error`](JwtLayer::on_error) replaces the HTTP response with the app's own, keeping the
//! challenge unless the response carries [`middleware::NoChallenge`]. gRPC calls keep their
//! gRPC status.
//!
//! ```
//! use http::StatusCode;
//! use tower_jwt_auth::{JwtLayer, VerifyingKey};
//!
//! let layer = JwtLayer::<serde_json::Value>::new(VerifyingKey::hs256([7u8; 32])?)
//!     .realm("orders")
//!     .on_error(|refused| (refused.error.status(), format!("denied: {}", refused.error)));
//! # Ok::<(), tower_jwt_auth::keys::KeyError>(())
//! ```
//!
//! | `AuthError` | Status | `WWW-Authenticate` | gRPC |
//! |---|---|---|---|
//! | `MissingToken` | 401 | `Bearer` (plus `realm` when set) | 16 |
//! | `InvalidRequest` (repeated or malformed `Authorization`) | 400 | `Bearer error="invalid_request", …` | 16 |
//! | `TooLong` | 401 | `Bearer error="invalid_token", error_description="token too long"` | 16 |
//! | `NotJwt` (an opaque token, not three parts) | 401 | `… "malformed token: not a JWT"` | 16 |
//! | `Malformed` | 401 | `… error_description="malformed token"` | 16 |
//! | `DisallowedAlgorithm` (`none`, or not the key's) | 401 | `… "algorithm not allowed"` | 16 |
//! | `UnsupportedCriticalHeader` | 401 | `… "unsupported critical header"` | 16 |
//! | `UnknownKey` (`kid`) | 401 | `… "unknown signing key"` | 16 |
//! | `InvalidSignature` | 401 | `… "invalid signature"` | 16 |
//! | `InvalidClaims` (wrong JSON types, repeated claim, not the app's type) | 401 | `… "invalid claims"` | 16 |
//! | `Expired` | 401 | `… "token expired"` | 16 |
//! | `NotYetValid` | 401 | `… "token not yet valid"` | 16 |
//! | `MissingClaim(name)` | 401 | `… "missing required claim"` | 16 |
//! | `InvalidIssuer` / `InvalidAudience` / `InvalidSubject` | 401 | `… "invalid issuer"` etc. | 16 |
//! | `WrongTokenType` | 401 | `… "wrong token type"` | 16 |
//! | `Revoked` (by `jti` or by family `sid`) | 401 | `… "token revoked"` | 16 |
//! | `RevocationUnavailable` (store down: fail closed) | 503, `Retry-After: 1` | none | 14 |
//! | `KeysUnavailable` (no JWKS keys could be had) | 503, `Retry-After: 1` | none | 14 |
//! | `InsufficientScope { scope }` | 403 | `Bearer error="insufficient_scope", …, scope="…"` | 7 |
//! | `CsrfMissing` / `CsrfMismatch` (cookie-authenticated unsafe request) | 403 | `Bearer error="invalid_request", …` | 7 |
//!
//! Inside an axum handler, the extractor's [`extract::AuthRejection`] tells why it refused
//! (the [`AuthError`], or a missing layer).
//!
//! Refusals are logged through `tracing` (target `tower_jwt_auth`) at `debug`, never with the
//! token. Two are worth an operator's eye and come at `warn`, rate-limited so that a flood
//! cannot flood the log: an outage of a key or revocation source (see above), and a token whose
//! signature and registered claims are good but whose claims do not fit the app's claims type
//! (a provider that changed its claims, a type declared too narrowly): at most once a minute,
//! with the claim's path (`profile.emails[1]`), what serde expected (`invalid type: integer,
//! expected a string`; never the value it saw) and the count of such refusals since the last
//! line. The client gets only `invalid claims`.
//!
//! # The builder vocabulary
//!
//! Every builder in this crate follows the same rules:
//!
//! - Builders take `self` and return `Self`, and are `#[must_use]`: a layer that is built and
//!   dropped protects nothing, so the compiler says so.
//! - A singular setter (`audience`, `issuer`) **replaces** the set with one value; its plural
//!   (`audiences`, `issuers`) replaces it with many. No setter adds to what an earlier call set.
//! - Switches that loosen a default are `allow_*(bool)`, off by default: the default is always
//!   the strict choice ([`allow_any_audience`](JwtLayer::allow_any_audience),
//!   [`allow_anonymous`](JwtLayer::allow_anonymous),
//!   [`allow_cookies_without_csrf`](JwtLayer::allow_cookies_without_csrf),
//!   [`allow_revocation_outage`](JwtLayer::allow_revocation_outage)).
//! - Types that run a background task ([`RemoteJwks`], `RedisStore`) are made with
//!   `X::builder(..)…build()` (`X::new(..)` is the same with the defaults); no setter starts a
//!   task or throws a cache away. One start rule for both: the task starts at `build()` when a
//!   Tokio runtime is current, else at the first use inside one; nothing panics outside a
//!   runtime, and the task stops with the last clone.
//! - Bad input fails when the key, issuer or layer is made, with an error that says what to fix
//!   (`# Errors` on each); a request never finds a configuration error.
//!
//! # Cargo features
//!
//! | Feature | Default | Adds |
//! |---|---|---|
//! | `aws_lc_rs` | yes | jsonwebtoken's AWS-LC crypto backend |
//! | `rust_crypto` | no | jsonwebtoken's pure-Rust backend (with `default-features = false`) |
//! | `axum` | yes | the [`Auth<C>`](Auth) extractor (axum-core only) |
//! | `jwks` | yes | [`RemoteJwks`] (reqwest with rustls) |
//! | `redis` | no | `revocation::RedisStore` |
//! | `tonic` | no | `From<AuthError> for tonic::Status` |
//! | `utoipa` | no | [`openapi::JwtSecurity`]: the bearer JWT scheme and each route's scopes in an OpenAPI document |
//! | `metrics` | no | counters through the `metrics` facade (requests, cache lookups, JWKS fetches) |
//! | `test-util` | no | [`test_util`]-only: keys, tokens a layer accepts, a mock identity provider (for tests) |
//!
//! One crypto backend is needed; with both on, `aws_lc_rs` is used. Measurements and how to rerun
//! them are in the repository's README.

#![deny(missing_docs, unreachable_pub)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(clippy::missing_errors_doc, clippy::missing_panics_doc)]

#[cfg(not(any(feature = "aws_lc_rs", feature = "rust_crypto")))]
compile_error!(
    "tower-jwt-auth needs a crypto backend: enable its `aws_lc_rs` feature (the default) or its \
     `rust_crypto` feature. If you set `default-features = false`, add one of them, e.g. \
     `tower-jwt-auth = { version = \"0.1\", default-features = false, features = [\"rust_crypto\"] }`."
);

mod auth;
pub mod authorize;
mod claims;
pub mod clock;
pub mod dpop;
mod error;
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod extract;
pub mod keys;
pub mod metadata;
pub mod middleware;
mod observe;
#[cfg(feature = "utoipa")]
#[cfg_attr(docsrs, doc(cfg(feature = "utoipa")))]
pub mod openapi;
mod redact;
pub mod revocation;
mod task;
#[cfg(feature = "test-util")]
#[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
pub mod test_util;
mod token_source;
pub mod tokens;
mod verify;

pub use auth::Auth;
pub use authorize::Requirement;
pub use claims::{NumericDate, TokenType};
pub use error::AuthError;
pub use jsonwebtoken::Algorithm;
pub use jsonwebtoken::jwk;
#[cfg(feature = "jwks")]
#[cfg_attr(docsrs, doc(cfg(feature = "jwks")))]
pub use keys::RemoteJwks;
pub use keys::{KeySet, SigningKey, VerifyingKey};
pub use middleware::JwtLayer;
pub use token_source::TokenSource;
pub use tokens::{JwtSessions, TokenIssuer};

// The README's examples, compiled and run as doctests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
