#![doc = include_str!("../README.md")]
#![deny(missing_docs, unreachable_pub)]
#![forbid(unsafe_code)]

#[cfg(not(any(feature = "aws_lc_rs", feature = "rust_crypto")))]
compile_error!(
    "tower-jwt-auth needs a crypto backend: enable its `aws_lc_rs` feature (the default) or its \
     `rust_crypto` feature. If you set `default-features = false`, add one of them, e.g. \
     `tower-jwt-auth = { version = \"0.1\", default-features = false, features = [\"rust_crypto\"] }`."
);

mod authorize;
mod body;
mod claims;
mod clock;
mod cookies;
mod error;
mod extract;
mod future;
mod issue;
mod keys;
mod layer;
#[cfg(feature = "redis")]
mod redis_store;
mod revoke;
mod service;
mod session;
mod token;
mod verify;

pub use authorize::{Grants, RequireLayer, RequireService, Requirement};
pub use body::ResponseBody;
pub use clock::{Clock, ManualClock};
pub use cookies::AuthCookies;
pub use error::AuthError;
pub use extract::Auth;
#[cfg(feature = "axum")]
pub use extract::AuthRejection;
pub use future::ResponseFuture;
pub use issue::{IssueError, IssuedToken, TokenIssuer};
pub use jsonwebtoken::Algorithm;
#[cfg(feature = "jwks")]
pub use keys::RemoteJwks;
pub use keys::{KeyError, KeySet, KeySource, PublicJwks, SigningKey, TrustedIssuer, VerifyingKey};
pub use layer::JwtLayer;
#[cfg(feature = "redis")]
pub use redis_store::RedisStore;
pub use revoke::{MemoryStore, RevocationStore, Revoke, StoreError, StoreFuture};
pub use service::JwtService;
pub use session::{SessionError, Sessions, TokenPair};
pub use token::TokenSource;
pub use verify::TokenType;
