//! `From<AuthError> for tonic::Status` (feature `tonic`): a tonic handler that authenticates
//! by itself with `JwtLayer::verify` (a token in a message, a streaming call's first frame)
//! answers a real tonic client the same codes and messages the layer would.
#![cfg(feature = "tonic")]

use crate::greeter;

use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Channel, Server};
use tonic::{Code, Request, Response, Status};
use tower_jwt_auth::{JwtLayer, Requirement, SigningKey, TokenIssuer, VerifyingKey};

use greeter::{Greeter, GreeterClient, GreeterServer, HelloReply, HelloRequest};

const SECRET: &[u8] = b"the HS256 secret of tests/suite/grpc_status.rs, 32+";

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    #[serde(default)]
    scope: String,
}

/// No layer in front: the handler verifies the `name` field as a token with the layer's rules.
struct SelfVerifying(JwtLayer<serde_json::Value>);

impl Greeter for SelfVerifying {
    async fn say_hello(
        &self,
        request: Request<HelloRequest>,
    ) -> Result<Response<HelloReply>, Status> {
        let claims = self.0.verify(&request.get_ref().name).await?;
        Requirement::scope("greet").check(&claims)?;
        let message = format!("Hello, {}!", claims["sub"].as_str().unwrap_or("?"));
        Ok(Response::new(HelloReply { message }))
    }
}

async fn client() -> GreeterClient {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let layer = JwtLayer::new(VerifyingKey::hs256(SECRET).unwrap());
    let serve = Server::builder()
        .add_service(GreeterServer::new(SelfVerifying(layer)))
        .serve_with_incoming(TcpIncoming::from(listener));
    tokio::spawn(async move { serve.await.expect("the test server failed") });
    let channel = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    GreeterClient::new(channel)
}

fn token(secret: &[u8], scope: &str) -> String {
    let claims = Claims {
        sub: "user-7".into(),
        scope: scope.into(),
    };
    TokenIssuer::new(SigningKey::hs256(secret).unwrap())
        .issue(&claims)
        .unwrap()
        .token
}

async fn call(name: String) -> Result<String, Status> {
    let reply = client().await.say_hello(HelloRequest { name }).await?;
    Ok(reply.into_inner().message)
}

#[tokio::test]
async fn a_valid_token_with_the_scope_is_greeted() {
    assert_eq!(
        call(token(SECRET, "greet")).await.unwrap(),
        "Hello, user-7!"
    );
}

#[tokio::test]
async fn a_forged_token_is_unauthenticated_invalid_signature() {
    let status = call(token(b"another secret that is 32+ bytes long", "greet"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(status.message(), "invalid signature");
}

#[tokio::test]
async fn garbage_is_unauthenticated_malformed_token() {
    let status = call("not a token".into()).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(status.message(), "malformed token: not a JWT");
    let status = call("not.a.token".into()).await.unwrap_err();
    assert_eq!(status.message(), "malformed token");
}

#[tokio::test]
async fn a_missing_scope_is_permission_denied() {
    let status = call(token(SECRET, "read")).await.unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    assert_eq!(status.message(), "insufficient scope");
}
