//! The example binaries (the quickstart above all), started on a free loopback port and killed
//! on drop.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use reqwest::StatusCode;
use serde_json::{Value, json};

/// The quickstart binary.
pub fn binary() -> PathBuf {
    example_binary("quickstart")
}

/// An example binary, all of them brought up to date once per test run (`cargo test --test X`
/// alone does not build examples, and a stale binary would test old code).
pub fn example_binary(name: &str) -> PathBuf {
    static BUILT: std::sync::Once = std::sync::Once::new();
    BUILT.call_once(|| {
        // Every feature of this test binary, so that the examples `cargo test` built already
        // are fresh: one feature fewer would build the library and every example again.
        let features: Vec<&str> = [
            ("aws_lc_rs", cfg!(feature = "aws_lc_rs")),
            ("rust_crypto", cfg!(feature = "rust_crypto")),
            ("axum", cfg!(feature = "axum")),
            ("redis", cfg!(feature = "redis")),
            ("jwks", cfg!(feature = "jwks")),
            ("tonic", cfg!(feature = "tonic")),
            ("metrics", cfg!(feature = "metrics")),
            ("utoipa", cfg!(feature = "utoipa")),
            ("test-util", cfg!(feature = "test-util")),
        ]
        .into_iter()
        .filter_map(|(name, on)| on.then_some(name))
        .collect();
        let status = Command::new(env!("CARGO"))
            .args([
                "build",
                "--quiet",
                "--examples",
                "--no-default-features",
                "--features",
            ])
            .arg(features.join(","))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .unwrap();
        assert!(status.success(), "cargo build --examples failed");
    });
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    dir.join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

/// The quickstart, as its tests name it.
pub type Quickstart = Example;

/// A running example; killed when dropped.
pub struct Example {
    child: Child,
    base: String,
    stderr: Arc<Mutex<Vec<String>>>,
}

impl Example {
    /// Starts it on a free port with this `JWT_SECRET` (a random one when `None`).
    pub fn start(secret: Option<&str>) -> Self {
        Self::start_with(secret, &[])
    }

    /// Starts it with more environment variables, e.g. `REDIS_URL`.
    pub fn start_with(secret: Option<&str>, env: &[(&str, &str)]) -> Self {
        let mut env = env.to_vec();
        if let Some(secret) = secret {
            env.push(("JWT_SECRET", secret));
        }
        Self::run("quickstart", &env)
    }

    /// Starts example `name` on a free port with exactly these of the variables it reads.
    pub fn run(name: &str, env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(example_binary(name));
        for var in [
            "REDIS_URL",
            "JWT_SECRET",
            "JWKS_URL",
            "OIDC_ISSUER",
            "JWT_ISSUER",
            "JWT_AUDIENCE",
            "JWT_ANY_AUDIENCE",
            "JWT_TYP",
            "JWKS_CACHE_MIN_SECS",
            "JWKS_CACHE_MAX_SECS",
            "JWKS_REFETCH_COOLDOWN_SECS",
            "ISSUER_URL",
            "SIGNING_KEY_PEM",
            "PUBLIC_ORIGIN",
        ] {
            command.env_remove(var);
        }
        command
            .env("BIND", "127.0.0.1:0")
            .envs(env.iter().copied())
            .stderr(Stdio::piped())
            .stdout(Stdio::null());
        let mut child = command.spawn().unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let base = loop {
            let line = lines
                .next()
                .unwrap_or_else(|| panic!("example {name} exited before listening"))
                .unwrap();
            stderr.lock().unwrap().push(line.clone());
            // `listening on http://…`, or the gRPC example's `greeter listening on host:port;`.
            if let Some((_, rest)) = line.split_once("listening on ") {
                let addr = rest.split_whitespace().next().unwrap_or(rest);
                let addr = addr.trim_end_matches(';');
                break if addr.contains("://") {
                    addr.to_owned()
                } else {
                    format!("http://{addr}")
                };
            }
        };
        // Keep draining stderr so the server never blocks on a full pipe.
        let kept = Arc::clone(&stderr);
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                kept.lock().unwrap().push(line);
            }
        });
        Self {
            child,
            base,
            stderr,
        }
    }

    /// What it has written to stderr so far, one line each.
    pub fn stderr(&self) -> Vec<String> {
        self.stderr.lock().unwrap().clone()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Example {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub async fn login(app: &Quickstart, body: Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(app.url("/login"))
        .json(&body)
        .send()
        .await
        .unwrap()
}

pub async fn tokens(app: &Quickstart) -> Value {
    let response = login(app, json!({"username": "john", "password": "secret123"})).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

pub async fn post(app: &Quickstart, path: &str, token: &str) -> (StatusCode, Value, String) {
    let response = reqwest::Client::new()
        .post(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map_or(String::new(), |v| v.to_str().unwrap().to_owned());
    (
        status,
        response.json().await.unwrap_or(Value::Null),
        challenge,
    )
}

pub async fn get(app: &Quickstart, path: &str, token: Option<&str>) -> (StatusCode, Value, String) {
    let mut request = reqwest::Client::new().get(app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map_or(String::new(), |v| v.to_str().unwrap().to_owned());
    (
        status,
        response.json().await.unwrap_or(Value::Null),
        challenge,
    )
}
