#![doc = include_str!("../README.md")]
#![deny(missing_docs, unreachable_pub)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(clippy::missing_errors_doc, clippy::missing_panics_doc)]

#[cfg(not(any(feature = "aws_lc_rs", feature = "rust_crypto")))]
compile_error!(
    "tower-jwt-auth needs a crypto backend: enable its `aws_lc_rs` feature (the default) or its \
     `rust_crypto` feature. If you set `default-features = false`, add one of them, e.g. \
     `tower-jwt-auth = { version = \"0.1\", default-features = false, features = [\"rust_crypto\"] }`."
);

mod auth;
pub mod authorize;
mod claims;
pub mod clock;
mod error;
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod extract;
pub mod keys;
pub mod middleware;
pub mod revocation;
mod token_source;
pub mod tokens;
mod verify;

pub use auth::Auth;
pub use authorize::Requirement;
pub use claims::TokenType;
pub use error::AuthError;
pub use jsonwebtoken::jwk;
pub use jsonwebtoken::Algorithm;
#[cfg(feature = "jwks")]
#[cfg_attr(docsrs, doc(cfg(feature = "jwks")))]
pub use keys::RemoteJwks;
pub use keys::{KeySet, SigningKey, VerifyingKey};
pub use middleware::JwtLayer;
pub use token_source::TokenSource;
pub use tokens::{JwtSessions, TokenIssuer};
