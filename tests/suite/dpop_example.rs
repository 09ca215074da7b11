//! `examples/dpop.rs` as its README section runs it: the server on a free port, then the
//! client against it, over real sockets.
#![cfg(feature = "axum")]

use crate::examples;

use std::process::Command;

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
    assert!(line("the same proof again:").contains("401") && stdout.contains("invalid_dpop_proof"));
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
