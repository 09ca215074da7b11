//! The quickstart example binary, started on a free loopback port and killed on drop.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use reqwest::StatusCode;
use serde_json::{json, Value};

/// The example binary, brought up to date once per test run (`cargo test --test quickstart`
/// alone does not build examples, and a stale binary would test old code).
pub fn binary() -> PathBuf {
    static BUILT: std::sync::Once = std::sync::Once::new();
    BUILT.call_once(|| {
        // The same features as this test binary, so the library is not rebuilt differently.
        let features: Vec<&str> = [
            ("aws_lc_rs", cfg!(feature = "aws_lc_rs")),
            ("rust_crypto", cfg!(feature = "rust_crypto")),
            ("axum", cfg!(feature = "axum")),
            ("redis", cfg!(feature = "redis")),
        ]
        .into_iter()
        .filter_map(|(name, on)| on.then_some(name))
        .collect();
        let status = Command::new(env!("CARGO"))
            .args([
                "build",
                "--quiet",
                "--example",
                "quickstart",
                "--no-default-features",
                "--features",
            ])
            .arg(features.join(","))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .unwrap();
        assert!(status.success(), "cargo build --example quickstart failed");
    });
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    dir.join("examples")
        .join(format!("quickstart{}", std::env::consts::EXE_SUFFIX))
}

/// A running quickstart; killed when dropped.
pub struct Quickstart {
    child: Child,
    base: String,
}

impl Quickstart {
    /// Starts it on a free port with this `JWT_SECRET` (a random one when `None`).
    pub fn start(secret: Option<&str>) -> Self {
        Self::start_with(secret, &[])
    }

    /// Starts it with more environment variables, e.g. `REDIS_URL`.
    pub fn start_with(secret: Option<&str>, env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(binary());
        command.env_remove("REDIS_URL").envs(env.iter().copied());
        command
            .env("BIND", "127.0.0.1:0")
            .env_remove("JWT_SECRET")
            .stderr(Stdio::piped())
            .stdout(Stdio::null());
        if let Some(secret) = secret {
            command.env("JWT_SECRET", secret);
        }
        let mut child = command.spawn().unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let base = loop {
            let line = lines
                .next()
                .expect("quickstart exited before listening")
                .unwrap();
            if let Some(addr) = line.strip_prefix("listening on ") {
                break addr.to_owned();
            }
        };
        // Keep draining stderr so the server never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Self { child, base }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Quickstart {
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
