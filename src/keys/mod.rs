//! Keys: one key bound to its algorithm ([`VerifyingKey`], [`SigningKey`]), several chosen by
//! `kid` ([`KeySet`], from PEM or a JWKS document), keys fetched from a provider
//! ([`RemoteJwks`], feature `jwks`), what a layer verifies with ([`KeySource`]) and the issuers
//! a multi-issuer layer trusts ([`TrustedIssuer`]), the public JWKS an issuer serves
//! ([`PublicJwks`]), and why a key could not be made ([`KeyError`]) or fetched
//! ([`FetchError`], feature `jwks`).

mod checks;
mod error;
mod publish;
#[cfg(feature = "jwks")]
mod remote;
mod set;
mod signature;
mod signing;
mod source;
mod verifying;

pub use error::KeyError;
pub use publish::PublicJwks;
#[cfg(feature = "jwks")]
#[cfg_attr(docsrs, doc(cfg(feature = "jwks")))]
pub use remote::{FetchError, RemoteJwks, RemoteJwksBuilder, error::FetchErrorKind};
pub use set::KeySet;
#[cfg(feature = "jwks")]
pub(crate) use set::Skipped;
pub use signing::SigningKey;
pub(crate) use source::Source;
pub use source::{KeySource, TrustedIssuer};
pub use verifying::VerifyingKey;
