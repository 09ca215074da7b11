//! Keys: one key bound to its algorithm ([`VerifyingKey`], [`SigningKey`]), several chosen by
//! `kid` ([`KeySet`], from PEM or a JWKS document), and the public JWKS an issuer serves
//! ([`PublicJwks`]).

mod key;
mod publish;
mod set;

pub use key::{KeyError, SigningKey, VerifyingKey};
pub use publish::PublicJwks;
pub use set::KeySet;
