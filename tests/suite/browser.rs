//! The browser example in real headless Chromium, driven over WebDriver (chromedriver): log in
//! through the form, call the protected API from the page, fail to forge its POST without the
//! CSRF header, find the token cookies out of the script's reach, log out and be refused.
//!
//! Needs Debian's `chromium` and `chromium-driver` (no browser is downloaded). Without them the
//! test prints a notice and passes, unless `CI` is set: then it fails.

use crate::common;
use crate::examples;

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use common::wait::eventually_some;
use examples::Example;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Everything one test does in the browser must be over by then.
const TEST_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a page gets to show what the test waits for.
const WAIT: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread")]
async fn john_uses_the_api_with_csrf_and_is_refused_after_logout() {
    let Some(tools) = Tools::find() else { return };
    let app = Example::run("browser", &[]);
    let browser = Browser::start(tools).await;
    tokio::time::timeout(TEST_TIMEOUT, john(&app, &browser.client))
        .await
        .expect("the browser test took too long");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_sees_the_admin_page() {
    let Some(tools) = Tools::find() else { return };
    let app = Example::run("browser", &[]);
    let browser = Browser::start(tools).await;
    tokio::time::timeout(TEST_TIMEOUT, admin(&app, &browser.client))
        .await
        .expect("the browser test took too long");
    browser.close().await;
}

async fn john(app: &Example, client: &Client) {
    client.goto(&app.url("/")).await.unwrap();
    client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("form input[name=username]"))
        .await
        .unwrap();
    save_screenshot(client, "browser-login.png").await;

    log_in(client, "john", "secret123").await;
    assert_eq!(text(client, "#user").await, "john");
    assert_eq!(text(client, "#role").await, "user");

    // The button's fetch carries the CSRF header: 200, shown on the page.
    click(client, "#action").await;
    let shown = eventually_some(WAIT, || async {
        Some(text(client, "#result").await).filter(|t| t.starts_with("200"))
    })
    .await
    .expect("timed out waiting for the API result on the page");
    assert_eq!(shown, "200 action done for john");
    let shot = save_screenshot(client, "browser-protected.png").await;
    publish_for_readme(&shot);

    // The same POST forged from the page's script: refused without the header or with a wrong one.
    let forged = fetch_from_page(client, "/api/action", "POST", None).await;
    assert_eq!(forged, json!([403, "CSRF token missing"]));
    let forged = fetch_from_page(client, "/api/action", "POST", Some("forged-value")).await;
    assert_eq!(forged, json!([403, "CSRF token does not match"]));

    // Refresh is a POST like any other: refused without the CSRF header; with it, the cookies are
    // replaced (a new CSRF value too) and the page keeps working on them.
    let old_csrf = cookie_value(client, "csrf_token").await;
    assert_eq!(post_status(client, "/refresh", None).await, 403);
    assert_eq!(post_status(client, "/refresh", Some(&old_csrf)).await, 204);
    let new_csrf = cookie_value(client, "csrf_token").await;
    assert_ne!(new_csrf, old_csrf);
    let after = fetch_from_page(client, "/api/action", "POST", Some(&new_csrf)).await;
    assert_eq!(after[0], 200, "{after}");
    let stale = fetch_from_page(client, "/api/action", "POST", Some(&old_csrf)).await;
    assert_eq!(stale, json!([403, "CSRF token does not match"]));

    // Scripts see the CSRF cookie, never the tokens.
    let readable = client
        .execute("return document.cookie", vec![])
        .await
        .unwrap();
    let readable = readable.as_str().unwrap();
    assert!(readable.contains("csrf_token="), "{readable}");
    assert!(!readable.contains("access_token"), "{readable}");
    assert!(!readable.contains("refresh_token"), "{readable}");
    let access = client.get_named_cookie("access_token").await.unwrap();
    assert_eq!(access.http_only(), Some(true));
    let access = access.value().to_owned();
    let csrf = client
        .get_named_cookie("csrf_token")
        .await
        .unwrap()
        .value()
        .to_owned();

    // The admin page is not for a user.
    assert_eq!(fetch_status(client, "/admin").await, 403);
    client.goto(&app.url("/admin")).await.unwrap();
    assert!(
        client
            .source()
            .await
            .unwrap()
            .contains("insufficient_scope")
    );

    // Outside the browser, the stolen pair works until logout...
    assert_eq!(replay(app, &access, &csrf).await, StatusCode::OK);

    client.goto(&app.url("/app")).await.unwrap();
    click(client, "#logout").await;
    let home = app.url("/");
    eventually_some(WAIT, || async {
        let here = client.current_url().await.unwrap();
        (here.as_str() == home).then_some(())
    })
    .await
    .expect("timed out waiting for the login page after logout");
    let readable = client
        .execute("return document.cookie", vec![])
        .await
        .unwrap();
    assert_eq!(readable, "", "logout clears the cookies");

    // ...and not after: the page sends the visitor to log in, the API answers 401, and the old
    // cookie replayed from elsewhere is revoked.
    client.goto(&app.url("/app")).await.unwrap();
    assert_eq!(client.current_url().await.unwrap().as_str(), home);
    let refused = fetch_from_page(client, "/api/action", "POST", Some(&csrf)).await;
    assert_eq!(refused, json!([401, "no bearer token"]));
    assert_eq!(replay(app, &access, &csrf).await, StatusCode::UNAUTHORIZED);
}

async fn admin(app: &Example, client: &Client) {
    client.goto(&app.url("/")).await.unwrap();
    log_in(client, "admin", "admin123").await;
    assert_eq!(text(client, "#role").await, "admin");
    assert_eq!(fetch_status(client, "/admin").await, 200);
    client.goto(&app.url("/admin")).await.unwrap();
    assert_eq!(text(client, "h1").await, "Admin");
    assert_eq!(text(client, "#user").await, "admin");
}

/// Fills in the login form, submits it, and waits for the protected page.
async fn log_in(client: &Client, username: &str, password: &str) {
    let field = |name: &'static str| async move {
        let css = format!("form input[name={name}]");
        client.find(Locator::Css(&css)).await.unwrap()
    };
    field("username").await.send_keys(username).await.unwrap();
    field("password").await.send_keys(password).await.unwrap();
    click(client, "form button[type=submit]").await;
    client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("#action"))
        .await
        .expect("the protected page after logging in");
}

/// A `fetch` from the page's own context (its origin, its cookies): `[status, error_description]`.
async fn fetch_from_page(client: &Client, path: &str, method: &str, csrf: Option<&str>) -> Value {
    let script = r#"
        const [path, method, csrf] = arguments;
        const headers = csrf === null ? {} : { "x-csrf-token": csrf };
        return fetch(path, { method, headers })
            .then((r) => r.json().then((body) => [r.status, body.error_description]));
    "#;
    client
        .execute(script, vec![json!(path), json!(method), json!(csrf)])
        .await
        .unwrap()
}

/// A bodiless `POST` from the page's context: its status.
async fn post_status(client: &Client, path: &str, csrf: Option<&str>) -> u64 {
    let script = r#"
        const [path, csrf] = arguments;
        const headers = csrf === null ? {} : { "x-csrf-token": csrf };
        return fetch(path, { method: "POST", headers }).then((r) => r.status);
    "#;
    let status = client
        .execute(script, vec![json!(path), json!(csrf)])
        .await
        .unwrap();
    status.as_u64().unwrap()
}

async fn cookie_value(client: &Client, name: &str) -> String {
    client
        .get_named_cookie(name)
        .await
        .unwrap()
        .value()
        .to_owned()
}

async fn fetch_status(client: &Client, path: &str) -> u64 {
    let script = "return fetch(arguments[0]).then((r) => r.status)";
    let status = client.execute(script, vec![json!(path)]).await.unwrap();
    status.as_u64().unwrap()
}

/// The access cookie and CSRF value sent from outside the browser (as a thief would).
async fn replay(app: &Example, access: &str, csrf: &str) -> StatusCode {
    reqwest::Client::new()
        .post(app.url("/api/action"))
        .header("cookie", format!("access_token={access}"))
        .header("x-csrf-token", csrf)
        .send()
        .await
        .unwrap()
        .status()
}

async fn text(client: &Client, css: &str) -> String {
    client
        .find(Locator::Css(css))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn click(client: &Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// Saves a screenshot under `target/screenshots/` and returns its path.
async fn save_screenshot(client: &Client, name: &str) -> PathBuf {
    let png = client.screenshot().await.unwrap();
    let dir = target_dir().join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, png).unwrap();
    eprintln!("screenshot: {}", path.display());
    path
}

/// The protected page's screenshot, as the README shows it (rewritten only when it changed).
fn publish_for_readme(shot: &Path) {
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
    let published = docs.join("browser-protected.png");
    let png = std::fs::read(shot).unwrap();
    if std::fs::read(&published).ok().as_deref() != Some(&png[..]) {
        std::fs::create_dir_all(&docs).unwrap();
        std::fs::write(&published, png).unwrap();
    }
}

/// `target/` (or `$CARGO_TARGET_DIR`): this test runs from `<target>/<profile>/deps/`.
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.ancestors().nth(3).unwrap().to_path_buf()
}

/// Chromium and chromedriver, from the distribution's packages.
struct Tools {
    chromium: PathBuf,
    chromedriver: PathBuf,
}

impl Tools {
    /// Both tools, or `None` after a notice (a panic when `CI` is set: CI installs them).
    fn find() -> Option<&'static Self> {
        static TOOLS: OnceLock<Option<Tools>> = OnceLock::new();
        TOOLS.get_or_init(Self::look_up).as_ref()
    }

    fn look_up() -> Option<Self> {
        let chromium = ["chromium", "chromium-browser"]
            .into_iter()
            .find_map(on_path);
        let chromedriver = on_path("chromedriver");
        if let (Some(chromium), Some(chromedriver)) = (chromium, chromedriver) {
            return Some(Self {
                chromium,
                chromedriver,
            });
        }
        assert!(
            std::env::var_os("CI").is_none(),
            "browser e2e test: chromium and chromedriver are required when CI is set \
             (apt-get install chromium chromium-driver)"
        );
        // Straight to stderr: the test harness captures `eprintln!` of passing tests.
        let _ = writeln!(
            std::io::stderr(),
            "NOTICE: browser e2e test skipped: install chromium and chromium-driver"
        );
        None
    }
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// A WebDriver session in headless Chromium with a fresh profile, through its own chromedriver.
struct Browser {
    client: Client,
    _processes: Processes,
}

/// chromedriver and the profile: dropping this kills chromedriver and whatever Chromium
/// processes use the profile, then removes it.
struct Processes {
    driver: Child,
    profile: PathBuf,
}

impl Browser {
    async fn start(tools: &Tools) -> Self {
        // The port is free when picked but not held: another test may take it before
        // chromedriver binds it, which then exits (it needs the IPv4 port); another port is
        // tried.
        for _ in 0..5 {
            let port = free_port();
            let mut driver = Command::new(&tools.chromedriver)
                .arg(format!("--port={port}"))
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .expect("start chromedriver");
            if !listening(&mut driver).await {
                let _ = driver.kill();
                let _ = driver.wait();
                continue;
            }
            let profile = std::env::temp_dir().join(format!(
                "tower-jwt-auth-chromium-{}-{port}",
                std::process::id()
            ));
            let processes = Processes { driver, profile };
            let client = connect(port, tools, &processes.profile)
                .await
                .unwrap_or_else(|err| panic!("{err}"));
            return Self {
                client,
                _processes: processes,
            };
        }
        panic!("chromedriver found no free port in 5 tries");
    }

    /// Ends the session (Chromium quits); dropping then stops chromedriver.
    async fn close(self) {
        let _ = tokio::time::timeout(Duration::from_secs(10), self.client.clone().close()).await;
    }
}

impl Drop for Processes {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        kill_profile_processes(&self.profile);
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// Whether `driver` says it started (within 15 s): `false` when it exited instead, having
/// found its port taken ("IPv4 port not available. Exiting..."). Its stdout is read to the
/// end on a thread of its own, so it never blocks on a full pipe.
async fn listening(driver: &mut Child) -> bool {
    let stdout = driver
        .stdout
        .take()
        .expect("chromedriver's stdout is piped");
    let (started_tx, started) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines().map_while(Result::ok);
        let started = lines.any(|line| line.contains("was started successfully"));
        let _ = started_tx.send(started);
        lines.for_each(drop);
    });
    match tokio::time::timeout(Duration::from_secs(15), started).await {
        Ok(Ok(started)) => started,
        Ok(Err(_)) => false,
        Err(_) => {
            let _ = driver.kill();
            let _ = driver.wait();
            panic!("chromedriver neither started nor exited within 15 s");
        }
    }
}

/// Opens a session in headless Chromium through the chromedriver listening on `port`.
async fn connect(port: u16, tools: &Tools, profile: &Path) -> Result<Client, String> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let capabilities = json!({
        "goog:chromeOptions": {
            "binary": tools.chromium,
            "args": [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-quic",
                "--no-first-run",
                // Without these Chromium keeps calling out to a network this machine may not have.
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--window-size=800,640",
                format!("--user-data-dir={}", profile.display()),
            ],
        },
        "timeouts": {"script": 15_000, "pageLoad": 30_000, "implicit": 0},
    });
    let Value::Object(capabilities) = capabilities else {
        unreachable!()
    };
    let mut builder = ClientBuilder::new(HttpConnector::new());
    builder.capabilities(capabilities);
    let webdriver = format!("http://{addr}");
    match tokio::time::timeout(Duration::from_secs(60), builder.connect(&webdriver)).await {
        Ok(Ok(client)) => Ok(client),
        Ok(Err(err)) => Err(format!("no WebDriver session in Chromium: {err}")),
        Err(_) => Err("no WebDriver session in Chromium within 60 s".into()),
    }
}

/// Kills the Chromium processes started with this test's `--user-data-dir`: killing chromedriver
/// leaves them running. Linux only; elsewhere closing the session must do.
fn kill_profile_processes(profile: &Path) {
    let marker = format!("--user-data-dir={}", profile.display()).into_bytes();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        // Chromium's child processes rewrite their arguments into one space-separated string.
        let uses_profile = cmdline
            .windows(marker.len())
            .enumerate()
            .any(|(at, window)| {
                window == marker && matches!(cmdline.get(at + marker.len()), None | Some(0 | b' '))
            });
        if uses_profile {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
