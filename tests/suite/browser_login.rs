//! The browser example's login-CSRF defence, over plain HTTP: a login posted from another
//! origin is refused whichever of `Sec-Fetch-Site`, `Origin` and `Referer` the browser sends,
//! and one from the app's own pages (or from a client that is not a browser) logs in.

use crate::examples;

use std::process::{Command, Stdio};

use examples::{Example, example_binary};
use reqwest::StatusCode;
use reqwest::redirect::Policy;

/// Posts the login form for john with these extra headers: the status and how many cookies
/// were set.
async fn log_in(app: &Example, headers: &[(&str, &str)]) -> (StatusCode, usize) {
    let client = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    let mut request = client
        .post(app.url("/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("username=john&password=secret123");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let cookies = response.headers().get_all("set-cookie").iter().count();
    (response.status(), cookies)
}

/// `http://127.0.0.1:<port>`, the origin of the app's own pages.
fn own_origin(app: &Example) -> String {
    app.url("")
}

#[tokio::test]
async fn a_login_from_another_origin_is_refused_and_sets_no_cookie() {
    let app = Example::run("browser", &[]);
    let own = own_origin(&app);
    let refused: &[&[(&str, &str)]] = &[
        // What the issue found: a cross-origin Origin, no Sec-Fetch-Site (older browsers).
        &[("origin", "http://evil.example")],
        // The same host on another port or scheme is another origin.
        &[("origin", &own.replace("127.0.0.1", "localhost"))],
        &[("origin", &own.replace("http://", "https://"))],
        &[("origin", "null")],
        &[("origin", "not an origin")],
        // No Origin: the Referer tells.
        &[("referer", "http://evil.example/page")],
        // Sec-Fetch-Site wins over a same-origin Origin.
        &[("sec-fetch-site", "cross-site"), ("origin", &own)],
        &[("sec-fetch-site", "same-site"), ("origin", &own)],
    ];
    for headers in refused {
        assert_eq!(
            log_in(&app, headers).await,
            (StatusCode::FORBIDDEN, 0),
            "{headers:?}"
        );
    }
}

#[tokio::test]
async fn a_login_from_the_apps_own_pages_or_a_non_browser_client_logs_in() {
    let app = Example::run("browser", &[]);
    let own = own_origin(&app);
    let accepted: &[&[(&str, &str)]] = &[
        &[("origin", &own)],
        &[("origin", &own), ("sec-fetch-site", "same-origin")],
        &[("referer", &format!("{own}/"))],
        // curl, scripts: no browser header at all.
        &[],
    ];
    for headers in accepted {
        // A redirect to the app page, with the access, refresh and CSRF cookies.
        assert_eq!(
            log_in(&app, headers).await,
            (StatusCode::SEE_OTHER, 3),
            "{headers:?}"
        );
    }
}

#[tokio::test]
async fn behind_a_proxy_the_public_origin_is_the_one_that_counts() {
    let app = Example::run("browser", &[("PUBLIC_ORIGIN", "https://app.example.com")]);
    assert_eq!(
        log_in(&app, &[("origin", "https://app.example.com")]).await,
        (StatusCode::SEE_OTHER, 3)
    );
    // The host the request reached is no longer what browsers see.
    let own = own_origin(&app);
    assert_eq!(
        log_in(&app, &[("origin", &own)]).await,
        (StatusCode::FORBIDDEN, 0)
    );
    assert_eq!(
        log_in(&app, &[("origin", "http://app.example.com")]).await,
        (StatusCode::FORBIDDEN, 0)
    );
}

#[test]
fn a_public_origin_with_a_path_is_refused_at_start() {
    for bad in [
        "https://app.example.com/",
        "https://app.example.com/app",
        "app.example.com",
    ] {
        let output = Command::new(example_binary("browser"))
            .env("PUBLIC_ORIGIN", bad)
            .env("BIND", "127.0.0.1:0")
            .stdout(Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{bad}: {stderr}");
        assert!(stderr.contains("PUBLIC_ORIGIN"), "{bad}: {stderr}");
    }
}
