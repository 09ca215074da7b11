//! A tonic gRPC service behind `JwtLayer`: the handler reads the verified claims from the
//! request extensions.
//!
//! ```sh
//! cargo run --example grpc
//! ```
//!
//! Without `JWT_SECRET` it makes a random HS256 secret and prints a 15-minute access token and a
//! `grpcurl` command that uses it (the token dies with the process). With `JWT_SECRET` (at least
//! 32 bytes, shared with the service that mints the tokens) it prints no token: one signed with
//! a real secret does not belong in logs. `BIND` is the listen address (default
//! `127.0.0.1:50051`).
//!
//! `Server::builder().layer(..)` guards every service on the server. To guard one service and
//! leave others (say `grpc.health.v1`) open, add it with
//! `.add_service(tonic::service::LayerExt::named_layer(&jwt_layer, GreeterServer::new(..)))`.

use std::error::Error;
use std::net::SocketAddr;
use std::process::ExitCode;

use serde::{Deserialize, Serialize};
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tonic::{Request, Response, Status};
use tower_jwt_auth::{Auth, JwtLayer, SigningKey, TokenIssuer, TokenType, VerifyingKey};

#[path = "grpc_proto/greeter.rs"]
#[expect(dead_code, reason = "GreeterClient is used by tests/suite/grpc.rs")]
mod greeter;

use greeter::{Greeter, GreeterServer, HelloReply, HelloRequest};

/// The claims of our access tokens.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
}

struct MyGreeter;

impl Greeter for MyGreeter {
    async fn say_hello(
        &self,
        request: Request<HelloRequest>,
    ) -> Result<Response<HelloReply>, Status> {
        // JwtLayer refuses calls without a valid token, so a missing `Auth` is a server bug.
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

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt::init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn Error>> {
    let bind = std::env::var("BIND").unwrap_or_else(|_| "127.0.0.1:50051".to_owned());
    let addr: SocketAddr = bind
        .parse()
        .map_err(|e| format!("BIND={bind:?} is not a socket address: {e}"))?;
    let (secret, random) = secret_from_env()?;
    let verifying = VerifyingKey::hs256(&secret).map_err(|e| format!("JWT_SECRET: {e}"))?;
    let signing = SigningKey::hs256(&secret).map_err(|e| format!("JWT_SECRET: {e}"))?;

    // Bind before printing, so the address shown is the real one (`BIND=127.0.0.1:0` works).
    let incoming = TcpIncoming::bind(addr)
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?
        .with_nodelay(Some(true));
    let addr = incoming.local_addr()?;

    let access = TokenType::claim("type", "access");
    let layer = JwtLayer::<Claims>::new(verifying).token_type(access.clone());
    if random {
        let issuer = TokenIssuer::new(signing).token_type(access);
        let demo = issuer.issue(&Claims {
            sub: "demo-user".to_owned(),
        })?;
        eprintln!(
            "greeter listening on {addr}; try it (the token expires in {} s):\n\n  \
             grpcurl -plaintext -proto examples/grpc_proto/greeter.proto \\\n    \
             -H 'authorization: Bearer {}' \\\n    \
             -d '{{\"name\": \"Ferris\"}}' {addr} greeter.Greeter/SayHello\n",
            demo.expires_in(),
            demo.token,
        );
    } else {
        eprintln!(
            "greeter listening on {addr}; tokens: HS256 under JWT_SECRET, with the claim \
             \"type\": \"access\""
        );
    }

    Server::builder()
        .layer(layer)
        .add_service(GreeterServer::new(MyGreeter))
        .serve_with_incoming_shutdown(incoming, async {
            // Stop taking calls on Ctrl-C and let the ones in flight finish.
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

/// The HS256 secret from `JWT_SECRET`, or a random one for this run when it is unset.
/// `JWT_SECRET`, or a random secret (`true`) when it is unset.
fn secret_from_env() -> Result<(Vec<u8>, bool), Box<dyn Error>> {
    match std::env::var("JWT_SECRET") {
        Ok(secret) => Ok((secret.into_bytes(), false)),
        Err(std::env::VarError::NotPresent) => {
            let mut bytes = [0u8; 32];
            getrandom::fill(&mut bytes).map_err(|e| format!("no randomness for a secret: {e}"))?;
            eprintln!(
                "JWT_SECRET is unset: using a random secret, so tokens die with this process"
            );
            Ok((bytes.to_vec(), true))
        }
        Err(std::env::VarError::NotUnicode(_)) => Err("JWT_SECRET is not valid UTF-8".into()),
    }
}
