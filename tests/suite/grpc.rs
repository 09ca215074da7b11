//! The gRPC example's service behind `JwtLayer`, served by tonic on a loopback port and called
//! by a tonic client: what a refused call looks like on the wire (gRPC code and message), and
//! that an accepted call hands the verified claims to the handler; and the example itself, run
//! as its README says, with the demo token it prints (only for its random secret).

use crate::common::wait::eventually_some;
use crate::examples::Example;
use crate::greeter;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Channel, Server};
use tonic::{Code, Request, Response, Status};
use tower_jwt_auth::clock::ManualClock;
use tower_jwt_auth::{Auth, JwtLayer, SigningKey, TokenIssuer, TokenType, VerifyingKey};

use greeter::{Greeter, GreeterClient, GreeterServer, HelloReply, HelloRequest};

const SECRET: &[u8] = b"the HS256 secret of tests/suite/grpc.rs, 32+ bytes";

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
}

/// The example's handler, counting the calls that reach it.
struct CountingGreeter(Arc<AtomicUsize>);

impl Greeter for CountingGreeter {
    async fn say_hello(
        &self,
        request: Request<HelloRequest>,
    ) -> Result<Response<HelloReply>, Status> {
        self.0.fetch_add(1, Ordering::SeqCst);
        let Some(Auth(claims)) = request.extensions().get::<Auth<Claims>>() else {
            return Err(Status::internal("JwtLayer<Claims> is not installed"));
        };
        let message = format!(
            "Hello, {}! You are signed in as {}.",
            request.get_ref().name,
            claims.sub
        );
        Ok(Response::new(HelloReply { message }))
    }
}

/// The greeter behind the example's layer, on a free loopback port; the server task ends with
/// the test's runtime.
struct TestServer {
    addr: SocketAddr,
    calls: Arc<AtomicUsize>,
}

impl TestServer {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let calls = Arc::new(AtomicUsize::new(0));
        let layer = JwtLayer::<Claims>::new(VerifyingKey::hs256(SECRET).unwrap())
            .token_type(TokenType::claim("type", "access"));
        let serve = Server::builder()
            .layer(layer)
            .add_service(GreeterServer::new(CountingGreeter(calls.clone())))
            .serve_with_incoming(TcpIncoming::from(listener));
        tokio::spawn(async move { serve.await.expect("the test server failed") });
        Self { addr, calls }
    }

    async fn client(&self) -> GreeterClient {
        client_at(format!("http://{}", self.addr)).await
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

fn access_tokens() -> TokenIssuer {
    TokenIssuer::new(SigningKey::hs256(SECRET).unwrap())
        .token_type(TokenType::claim("type", "access"))
}

fn access_token(sub: &str) -> String {
    access_tokens()
        .issue(&Claims { sub: sub.into() })
        .unwrap()
        .token
}

/// A `SayHello { name: "Ferris" }` request carrying these `authorization` metadata values.
fn hello(authorization: &[&str]) -> Request<HelloRequest> {
    let mut request = Request::new(HelloRequest {
        name: "Ferris".into(),
    });
    for value in authorization {
        request
            .metadata_mut()
            .append("authorization", value.parse().unwrap());
    }
    request
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// Sends `request` and returns the status it was refused with, checking that the handler never
/// ran.
async fn refused(request: Request<HelloRequest>) -> Status {
    let server = TestServer::start().await;
    let status = server
        .client()
        .await
        .say_hello(request)
        .await
        .expect_err("the call should have been refused");
    assert_eq!(server.calls(), 0, "a refused call reached the handler");
    status
}

fn assert_status(status: &Status, code: Code, message: &str) {
    assert_eq!(
        (status.code(), status.message()),
        (code, message),
        "{status:?}"
    );
}

#[tokio::test]
async fn valid_access_token_reaches_the_handler_with_its_claims() {
    let server = TestServer::start().await;
    let token = access_token("user-42");

    let reply = server
        .client()
        .await
        .say_hello(hello(&[&bearer(&token)]))
        .await
        .expect("a valid access token should be accepted")
        .into_inner();

    assert_eq!(
        reply.message,
        "Hello, Ferris! You are signed in as user-42."
    );
    assert_eq!(server.calls(), 1);
}

#[tokio::test]
async fn missing_token_is_unauthenticated_no_bearer_token() {
    let status = refused(hello(&[])).await;
    assert_status(&status, Code::Unauthenticated, "no bearer token");
}

#[tokio::test]
async fn other_auth_scheme_is_unauthenticated_no_bearer_token() {
    let status = refused(hello(&["Basic dXNlcjpwYXNz"])).await;
    assert_status(&status, Code::Unauthenticated, "no bearer token");
}

#[tokio::test]
async fn token_signed_with_another_key_is_unauthenticated_invalid_signature() {
    let other_key = SigningKey::hs256(b"another secret that is 32+ bytes long").unwrap();
    let forged = TokenIssuer::new(other_key)
        .token_type(TokenType::claim("type", "access"))
        .issue(&Claims {
            sub: "user-42".into(),
        })
        .unwrap();

    let status = refused(hello(&[&bearer(&forged.token)])).await;
    assert_status(&status, Code::Unauthenticated, "invalid signature");
}

#[tokio::test]
async fn tampered_payload_is_unauthenticated_invalid_signature() {
    let token = access_token("user-42");
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut payload: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
    payload["sub"] = "admin".into();
    parts[1] = URL_SAFE_NO_PAD.encode(payload.to_string());
    let tampered = parts.join(".");

    let status = refused(hello(&[&bearer(&tampered)])).await;
    assert_status(&status, Code::Unauthenticated, "invalid signature");
}

#[tokio::test]
async fn expired_token_is_unauthenticated_token_expired() {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    // Issued an hour ago with the default 15-minute lifetime: long past the 30 s leeway.
    let an_hour_ago = ManualClock::new((now - Duration::from_secs(3600)).as_secs());
    let expired = access_tokens()
        .clock(an_hour_ago)
        .issue(&Claims {
            sub: "user-42".into(),
        })
        .unwrap();

    let status = refused(hello(&[&bearer(&expired.token)])).await;
    assert_status(&status, Code::Unauthenticated, "token expired");
}

#[tokio::test]
async fn refresh_token_is_unauthenticated_wrong_token_type() {
    let refresh = TokenIssuer::new(SigningKey::hs256(SECRET).unwrap())
        .token_type(TokenType::claim("type", "refresh"))
        .issue(&Claims {
            sub: "user-42".into(),
        })
        .unwrap();

    let status = refused(hello(&[&bearer(&refresh.token)])).await;
    assert_status(&status, Code::Unauthenticated, "wrong token type");
}

#[tokio::test]
async fn token_that_is_not_a_jwt_is_unauthenticated_malformed_token() {
    let status = refused(hello(&["Bearer not.a.jwt"])).await;
    assert_status(&status, Code::Unauthenticated, "malformed token");
}

#[tokio::test]
async fn repeated_authorization_metadata_is_unauthenticated_invalid_request() {
    let token = access_token("user-42");

    let status = refused(hello(&[&bearer(&token), &bearer(&token)])).await;
    assert_status(
        &status,
        Code::Unauthenticated,
        "malformed or repeated credentials",
    );
}

#[tokio::test]
async fn bearer_scheme_without_token_is_unauthenticated_invalid_request() {
    let status = refused(hello(&["Bearer"])).await;
    assert_status(
        &status,
        Code::Unauthenticated,
        "malformed or repeated credentials",
    );
}

/// A greeter client connected to the server at `url` (`http://host:port`).
async fn client_at(url: String) -> GreeterClient {
    let channel = Channel::from_shared(url).unwrap().connect().await.unwrap();
    GreeterClient::new(channel)
}

#[tokio::test]
async fn the_example_prints_a_demo_token_for_its_random_secret_and_it_works() {
    let example = Example::run("grpc", &[]);
    let token = eventually_some(Duration::from_secs(10), || async {
        example.stderr().iter().find_map(|line| {
            let rest = line.trim().strip_prefix("-H 'authorization: Bearer ")?;
            Some(rest.split('\'').next()?.to_owned())
        })
    })
    .await
    .expect("no demo token printed");
    let mut client = client_at(example.url("")).await;
    let reply = client.say_hello(hello(&[&bearer(&token)])).await.unwrap();
    assert_eq!(
        reply.get_ref().message,
        "Hello, Ferris! You are signed in as demo-user."
    );
    // The same token with another signature is refused.
    let (signed, signature) = token.rsplit_once('.').unwrap();
    let other = if signature.starts_with('A') { "B" } else { "A" };
    let forged = format!("{signed}.{other}{}", &signature[1..]);
    let status = client
        .say_hello(hello(&[&bearer(&forged)]))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
}

#[tokio::test]
async fn with_a_real_secret_the_example_prints_no_token_and_takes_the_issuers() {
    let secret = std::str::from_utf8(SECRET).unwrap();
    let example = Example::run("grpc", &[("JWT_SECRET", secret)]);
    let told = eventually_some(Duration::from_secs(10), || async {
        let stderr = example.stderr();
        stderr
            .iter()
            .any(|l| l.contains("tokens: HS256"))
            .then_some(stderr)
    })
    .await
    .expect("the example never said which tokens it takes");
    assert!(
        !told
            .iter()
            .any(|l| l.contains("Bearer ") || l.contains("eyJ")),
        "a token signed with the real secret was printed: {told:?}"
    );
    let mut client = client_at(example.url("")).await;
    let reply = client
        .say_hello(hello(&[&bearer(&access_token("ada"))]))
        .await
        .unwrap();
    assert_eq!(
        reply.get_ref().message,
        "Hello, Ferris! You are signed in as ada."
    );
}
