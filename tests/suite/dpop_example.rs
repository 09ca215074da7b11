//! `examples/dpop.rs` as its README section runs it: the server on a free port, then the
//! client against it, over real sockets.
#![cfg(feature = "axum")]

use crate::examples;

use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::common::dpop::Client;
use serde_json::Value;

#[test]
fn the_dpop_example_client_gets_in_once_and_is_refused_otherwise() {
    let server = examples::Example::run("dpop", &[]);
    let output = Command::new(examples::example_binary("dpop"))
        .arg("client")
        .env("ORIGIN", server.url(""))
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let line = |prefix: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no `{prefix}` line in:\n{stdout}"))
            .to_owned()
    };
    assert_eq!(
        line("token endpoint:"),
        r#"token endpoint: token_type "DPoP""#
    );
    let ok = line("GET /orders with a fresh proof:");
    assert!(
        ok.contains("200 OK") && ok.contains(r#""for":"demo-client""#),
        "{ok}"
    );
    let again = line("the same proof again:");
    assert!(
        again.contains("401") && again.contains("invalid_dpop_proof"),
        "{again}"
    );
    assert!(
        line("the token as Bearer:")
            .contains(r#"401 Unauthorized Some("DPoP error=\"invalid_token\""#)
    );
    assert!(line("another key's proof:").contains("401"));
    assert_eq!(
        line("refresh with another key's proof:"),
        "refresh with another key's proof: 400 Bad Request {\"error\":\"invalid_grant\"}"
    );
    assert_eq!(
        line("refresh with the client's proof:"),
        "refresh with the client's proof: 200 OK, token_type \"DPoP\""
    );
}

#[tokio::test]
async fn the_dpop_examples_token_endpoint_answers_oauth_errors_never_cached() {
    let server = examples::Example::run("dpop", &[]);
    let token_uri = server.url("/token");
    let http = reqwest::Client::new();
    let client = Client::new(7);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let proof = |jti: &str| client.proof_without_token("POST", &token_uri, now, jti);
    let post = |proof: Option<String>, form: &'static [(&'static str, &'static str)]| {
        let mut request = http.post(&token_uri).form(form);
        if let Some(proof) = proof {
            request = request.header("dpop", proof);
        }
        request.send()
    };
    let expect = |reply: reqwest::Response, status: u16, error: &'static str| async move {
        assert_eq!(reply.status().as_u16(), status);
        assert_eq!(reply.headers()["cache-control"], "no-store");
        let body: Value = reply.json().await.unwrap();
        assert_eq!(body["error"], error, "{body}");
    };
    let credentials: &[(&str, &str)] = &[("grant_type", "client_credentials")];

    let no_proof = post(None, credentials).await.unwrap();
    expect(no_proof, 400, "invalid_dpop_proof").await;
    let password = post(Some(proof("t-1")), &[("grant_type", "password")])
        .await
        .unwrap();
    expect(password, 400, "unsupported_grant_type").await;
    let no_token = post(Some(proof("t-2")), &[("grant_type", "refresh_token")])
        .await
        .unwrap();
    expect(no_token, 400, "invalid_request").await;
    let forged = &[("grant_type", "refresh_token"), ("refresh_token", "a.b.c")];
    expect(
        post(Some(proof("t-3")), forged).await.unwrap(),
        400,
        "invalid_grant",
    )
    .await;
    let json = http
        .post(&token_uri)
        .header("dpop", proof("t-4"))
        .json(&serde_json::json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    expect(json, 400, "invalid_request").await;

    let ok = post(Some(proof("t-5")), credentials).await.unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    assert_eq!(ok.headers()["cache-control"], "no-store");
    let body: Value = ok.json().await.unwrap();
    assert_eq!(body["token_type"], "DPoP");
    // The same proof again: accepted once only.
    let replayed = post(Some(proof("t-5")), credentials).await.unwrap();
    expect(replayed, 400, "invalid_dpop_proof").await;
}
