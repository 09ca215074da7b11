//! `RemoteJwks` against a real JWKS provider on loopback: an axum app whose keys, headers and
//! failures the tests switch, counting the requests it gets.
#![cfg(feature = "jwks")]

use crate::common;

use std::net::SocketAddr;
use std::time::Duration;

use axum::http::StatusCode;
use common::jwks::JwksProvider;
use common::keys::{jwks_document, signing_key};
use common::wait::eventually;
use tokio::net::TcpListener;
use tokio::time::{Instant, sleep};
use tower_jwt_auth::keys::{FetchError, FetchErrorKind};
use tower_jwt_auth::{Algorithm, RemoteJwks, SigningKey};

const LONG: Duration = Duration::from_secs(5);

fn all_keys() -> Vec<SigningKey> {
    vec![
        signing_key("rsa", Algorithm::RS256, "k-rsa"),
        signing_key("ec256", Algorithm::ES256, "k-ec256"),
        signing_key("ec384", Algorithm::ES384, "k-ec384"),
        signing_key("ed25519", Algorithm::EdDSA, "k-ed"),
    ]
}

/// The error of the fetch that ended first (the last one's, but a retry comes a second or
/// more after a failure). `ready` is asked again until a fetch has ended, rather than once
/// with a short window that a loaded machine may overrun (its error is then "no fetch ended").
async fn first_failure(jwks: &RemoteJwks) -> FetchError {
    let start = Instant::now();
    loop {
        let err = jwks.ready(Duration::from_millis(100)).await.unwrap_err();
        if !err.to_string().contains("no fetch ended") || start.elapsed() > LONG {
            return err;
        }
    }
}

/// A provider serving [`all_keys`].
async fn start_provider() -> JwksProvider {
    JwksProvider::start(jwks_document(&all_keys())).await
}

#[tokio::test]
async fn keys_load_on_first_use_and_ready_reports_it() {
    let server = start_provider().await;
    let jwks = RemoteJwks::new(&server.url()).unwrap();
    assert_eq!(jwks.issuer(), None);
    // The check starts the fetch; nothing has run yet on this single-threaded runtime.
    assert!(!jwks.is_ready());
    jwks.ready(LONG).await.unwrap();
    assert!(jwks.is_ready());
    let debug = format!("{jwks:?}");
    for kid in ["k-rsa", "k-ec256", "k-ec384", "k-ed"] {
        assert!(debug.contains(kid), "{debug}");
    }
    assert_eq!(server.hits(), 1);
    let agent = server.user_agent().unwrap();
    assert!(agent.starts_with("tower-jwt-auth/"), "{agent}");
}

#[tokio::test]
async fn provider_down_from_the_start_has_no_keys_until_it_comes_up() {
    // A free port, closed again: connections are refused until the provider binds it.
    let port = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let jwks = RemoteJwks::new(&format!("http://{addr}/jwks.json")).unwrap();
    let err = first_failure(&jwks).await;
    assert_eq!(
        (err.kind(), err.url()),
        (
            &FetchErrorKind::Network,
            format!("http://{addr}/jwks.json").as_str()
        ),
        "{err}"
    );
    assert!(!jwks.is_ready());

    let server = JwksProvider::start_at(addr, jwks_document(&all_keys())).await;
    // The background retry (1 s after the first failure) finds it.
    jwks.ready(LONG).await.unwrap();
    assert!(jwks.is_ready());
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn provider_answering_503_from_the_start_is_reported() {
    let server = start_provider().await;
    server.set_up(false);
    let jwks = RemoteJwks::new(&server.url()).unwrap();
    let err = first_failure(&jwks).await;
    assert_eq!(
        err.kind(),
        &FetchErrorKind::Status(StatusCode::SERVICE_UNAVAILABLE),
        "{err}"
    );
    assert!(err.to_string().contains("HTTP 503"), "{err}");
    assert!(!jwks.is_ready());
    server.set_up(true);
    jwks.ready(LONG).await.unwrap();
}

#[tokio::test]
async fn short_max_age_within_the_bounds_triggers_background_refreshes() {
    let server = start_provider().await;
    server.set_cache_control(Some("public, max-age=1"));
    let jwks = RemoteJwks::builder(&server.url())
        .cache_bounds(Duration::from_secs(1), Duration::from_secs(3600))
        .build()
        .unwrap();
    let start = Instant::now();
    jwks.ready(LONG).await.unwrap();
    // Refreshed at 85% of one second (10 minutes without `max-age`): the third fetch comes at
    // about 1.7 s.
    assert!(eventually(LONG, || server.hits() >= 3).await.is_some());
    let elapsed = start.elapsed();
    assert!(
        elapsed >= Duration::from_millis(1500),
        "not before: {elapsed:?}"
    );
}

#[tokio::test]
async fn long_max_age_is_honoured_and_no_store_is_not_a_busy_loop() {
    let long = start_provider().await;
    long.set_cache_control(Some("max-age=3600"));
    let no_store = start_provider().await;
    no_store.set_cache_control(Some("no-store"));
    let bounds = |url: String| {
        RemoteJwks::builder(&url)
            .cache_bounds(Duration::from_secs(1), Duration::from_secs(7200))
            .build()
            .unwrap()
    };
    let (long_jwks, no_store_jwks) = (bounds(long.url()), bounds(no_store.url()));
    long_jwks.ready(LONG).await.unwrap();
    no_store_jwks.ready(LONG).await.unwrap();
    // `no-store` is the lower bound, one second: a refresh about every second, not hundreds.
    assert!(eventually(LONG, || no_store.hits() >= 2).await.is_some());
    let (refreshed, start) = (no_store.hits(), Instant::now());
    sleep(Duration::from_millis(1200)).await;
    // At most one refresh per 0.85 s however long the sleep overran, not hundreds.
    let allowed = (start.elapsed().as_secs_f64() / 0.85).ceil() as usize;
    assert!(
        no_store.hits() <= refreshed + allowed,
        "{} fetches, {refreshed} + {allowed} allowed",
        no_store.hits()
    );
    assert_eq!(long.hits(), 1);
}

#[tokio::test]
async fn max_age_above_the_upper_bound_is_clamped() {
    let server = start_provider().await;
    server.set_cache_control(Some("max-age=86400"));
    let jwks = RemoteJwks::builder(&server.url())
        .cache_bounds(Duration::from_secs(1), Duration::from_secs(1))
        .build()
        .unwrap();
    jwks.ready(LONG).await.unwrap();
    assert!(eventually(LONG, || server.hits() >= 2).await.is_some());
}

#[tokio::test]
async fn discovery_with_a_realm_path_finds_the_keys() {
    let server = start_provider().await;
    let jwks = RemoteJwks::discover(&server.realm()).unwrap();
    assert_eq!(jwks.issuer(), Some(server.realm().as_str()));
    jwks.ready(LONG).await.unwrap();
    assert!(jwks.is_ready());
    assert_eq!(server.discovery_hits(), 1);
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn discovery_drops_one_trailing_slash_but_compares_the_issuer_exactly() {
    let server = start_provider().await;
    let issuer = format!("{}/", server.realm());
    server.set_issuer(&issuer);
    let jwks = RemoteJwks::discover(&issuer).unwrap();
    jwks.ready(LONG).await.unwrap();
    assert_eq!(server.discovery_hits(), 1);
}

#[tokio::test]
async fn discovery_naming_another_issuer_is_refused_and_no_key_is_fetched() {
    let server = start_provider().await;
    server.set_issuer("https://attacker.example/realms/demo");
    let jwks = RemoteJwks::discover(&server.realm()).unwrap();
    let err = first_failure(&jwks).await;
    assert_eq!(
        err.kind(),
        &FetchErrorKind::IssuerMismatch {
            expected: server.realm(),
            found: "https://attacker.example/realms/demo".into(),
        }
    );
    assert!(!jwks.is_ready());
    assert!(server.discovery_hits() >= 1);
    assert_eq!(
        server.hits(),
        0,
        "no JWKS fetched from a mismatched document"
    );
}

#[tokio::test]
async fn unresponsive_provider_fails_within_the_total_timeout() {
    let server = start_provider().await;
    server.set_delay(Duration::from_secs(3600)); // hangs
    let jwks = RemoteJwks::builder(&server.url())
        .timeouts(Duration::from_millis(200), Duration::from_millis(300))
        .build()
        .unwrap();
    // The first fetch ends, timed out after 300 ms.
    let err = first_failure(&jwks).await;
    assert_eq!(err.kind(), &FetchErrorKind::Timeout, "{err}");
    // The builder's total timeout, not the default 5 s.
    assert!(err.to_string().contains("timed out after 300ms"), "{err}");
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn oversized_document_is_refused() {
    let server = start_provider().await;
    server.set_document(vec![b' '; 2 << 20]);
    let jwks = RemoteJwks::new(&server.url()).unwrap();
    let err = first_failure(&jwks).await;
    assert_eq!(err.kind(), &FetchErrorKind::TooLarge, "{err}");
    assert!(err.to_string().contains("larger than"), "{err}");
}

#[tokio::test]
async fn a_given_client_is_used() {
    let server = start_provider().await;
    let client = reqwest::Client::builder()
        .user_agent("my-app/1.0")
        .build()
        .unwrap();
    let jwks = RemoteJwks::builder(&server.url())
        .client(client)
        .build()
        .unwrap();
    jwks.ready(LONG).await.unwrap();
    let agent = server.user_agent();
    assert_eq!(agent.as_deref(), Some("my-app/1.0"));
}

#[tokio::test]
async fn provider_down_after_the_first_fetch_keeps_the_keys_loaded() {
    let mut server = start_provider().await;
    server.set_cache_control(Some("max-age=1"));
    let jwks = RemoteJwks::builder(&server.url())
        .cache_bounds(Duration::from_secs(1), Duration::from_secs(1))
        .build()
        .unwrap();
    jwks.ready(LONG).await.unwrap();
    // The background refresh (at 0.85 s) gets a 503, its first retry (1 s later) a bad document.
    server.set_up(false);
    assert!(eventually(LONG, || server.hits() >= 2).await.is_some());
    server.set_up(true);
    server.set_document(b"<html>maintenance</html>".to_vec());
    assert!(eventually(LONG, || server.hits() >= 3).await.is_some());
    assert!(jwks.is_ready());
    jwks.ready(Duration::ZERO).await.unwrap();
    assert!(format!("{jwks:?}").contains("k-rsa"));
    server.stop().await; // connections refused from now on
    assert!(jwks.is_ready());
}

#[tokio::test]
async fn dropping_the_last_handle_stops_background_refreshes() {
    let server = start_provider().await;
    server.set_cache_control(Some("max-age=1"));
    let jwks = RemoteJwks::builder(&server.url())
        .cache_bounds(Duration::from_secs(1), Duration::from_secs(1))
        .build()
        .unwrap();
    let clone = jwks.clone();
    drop(jwks);
    clone.ready(LONG).await.unwrap();
    assert!(
        eventually(LONG, || server.hits() >= 2).await.is_some(),
        "a clone keeps it running"
    );
    drop(clone);
    sleep(Duration::from_millis(100)).await;
    let hits = server.hits();
    sleep(Duration::from_millis(1200)).await; // a refresh every 0.85 s, were it running
    assert_eq!(server.hits(), hits);
}

#[test]
fn invalid_urls_are_refused() {
    for (url, shown) in [
        ("", ""),
        ("not a url", "not a url"),
        ("/jwks.json", "/jwks.json"),
        ("ftp://idp.example/jwks", "ftp://idp.example/jwks"),
        ("mailto:a@b.example", "…@b.example"),
    ] {
        let err = RemoteJwks::new(url).unwrap_err();
        assert_eq!((err.kind(), err.url()), (&FetchErrorKind::BadUrl, shown));
    }
    // Shown without what may carry a credential: query, fragment, user and password.
    for (issuer, shown) in [
        ("idp.example/realms/demo", "idp.example/realms/demo"),
        ("https://idp.example/?realm=demo", "https://idp.example/"),
        ("https://idp.example#x", "https://idp.example/"),
        (" https://idp.example", "https://idp.example/"),
        (
            "https://user:pw@idp.example/realms/demo",
            "https://idp.example/realms/demo",
        ),
        (
            "https://user@idp.example/realms/demo",
            "https://idp.example/realms/demo",
        ),
    ] {
        let err = RemoteJwks::discover(issuer).unwrap_err();
        assert_eq!((err.kind(), err.url()), (&FetchErrorKind::BadUrl, shown));
    }
}

#[test]
fn debug_hides_credentials() {
    let jwks = RemoteJwks::builder("https://user:secret@idp.example/jwks?api_key=abc")
        .timeouts(Duration::from_secs(1), Duration::from_secs(2))
        .build()
        .unwrap();
    let debug = format!("{jwks:?}");
    assert!(debug.contains("https://idp.example/jwks"), "{debug}");
    assert!(
        !debug.contains("secret") && !debug.contains("abc"),
        "{debug}"
    );
}

#[test]
fn made_outside_a_runtime_it_starts_inside_one() {
    // The provider runs on a runtime of its own, so that this thread is in none.
    let provider_runtime = tokio::runtime::Runtime::new().unwrap();
    let server = provider_runtime.block_on(start_provider());
    let jwks = RemoteJwks::builder(&server.url())
        .timeouts(Duration::from_secs(1), Duration::from_secs(2))
        .build()
        .unwrap();
    assert!(!jwks.is_ready());

    // Made outside, used inside: the task starts with the first use in the runtime.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(jwks.ready(LONG)).unwrap();
    assert!(jwks.is_ready());
}

#[tokio::test]
async fn a_document_that_is_not_a_jwks_is_a_bad_document() {
    let server = start_provider().await;
    server.set_document(br#"{"keys": "none"}"#.to_vec());
    let jwks = RemoteJwks::new(&server.url()).unwrap();
    let err = first_failure(&jwks).await;
    assert_eq!(err.kind(), &FetchErrorKind::BadDocument, "{err}");
    assert_eq!(err.url(), server.url());
}

#[test]
fn a_bad_url_is_shown_without_its_credentials() {
    let err: FetchError =
        RemoteJwks::new("ftp://user:secret@idp.example/jwks?key=abc").unwrap_err();
    assert_eq!(err.kind(), &FetchErrorKind::BadUrl);
    assert_eq!(err.url(), "ftp://idp.example/jwks");
    assert!(!err.to_string().contains("secret"), "{err}");
    // Text that does not even parse as a URL is cut the same way.
    for (given, shown) in [
        ("idp.example/jwks?api_key=secret", "idp.example/jwks"),
        (
            "https://user:secret@idp.example:99999/jwks",
            "https://…@idp.example:99999/jwks",
        ),
        ("user:secret@idp.example/jwks#secret", "…@idp.example/jwks"),
        (
            "https://idp.example:99999/jwks?secret",
            "https://idp.example:99999/jwks",
        ),
    ] {
        let builder = RemoteJwks::builder(given);
        let debug = format!("{builder:?}");
        let err = builder.build().unwrap_err();
        assert_eq!((err.kind(), err.url()), (&FetchErrorKind::BadUrl, shown));
        for text in [err.to_string(), format!("{err:?}"), debug] {
            assert!(!text.contains("secret"), "{text}");
        }
    }
    let issuer = RemoteJwks::discover("https://user:secret@idp.example/realm").unwrap_err();
    assert_eq!(
        issuer.to_string(),
        "`https://idp.example/realm`: an issuer has no query, fragment, user, password or \
         surrounding space"
    );
}

#[test]
fn built_outside_a_runtime_nothing_starts_and_ready_reports_a_timeout() {
    let jwks = RemoteJwks::builder("http://127.0.0.1:9/jwks.json")
        .refetch_cooldown(Duration::ZERO)
        .build()
        .unwrap();
    assert!(!jwks.is_ready());
    // A runtime made afterwards, whose first use starts the task: port 9 refuses at once.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let err = runtime
        .block_on(jwks.ready(Duration::from_millis(500)))
        .unwrap_err();
    assert_eq!(err.kind(), &FetchErrorKind::Network, "{err}");
}
