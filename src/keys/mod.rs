//! Keys: one key bound to its algorithm ([`VerifyingKey`], [`SigningKey`]), several chosen by
//! `kid` ([`KeySet`], from PEM or a JWKS document), and the public JWKS an issuer serves
//! ([`PublicJwks`]).

mod error;
mod publish;
#[cfg(feature = "jwks")]
mod remote;
mod set;
mod signing;
mod source;
mod verifying;

pub use error::KeyError;
pub use publish::PublicJwks;
#[cfg(feature = "jwks")]
pub use remote::RemoteJwks;
pub use set::KeySet;
pub use signing::SigningKey;
pub(crate) use source::Source;
pub use source::{KeySource, TrustedIssuer};
pub use verifying::VerifyingKey;
