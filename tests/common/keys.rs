//! Keys made from the test-only PEM files in `tests/keys/`, always named `(name, alg, kid)`, and
//! the JWKS document that publishes them.

use tower_jwt_auth::keys::PublicJwks;
use tower_jwt_auth::{Algorithm, SigningKey, VerifyingKey};

use super::pem;

/// The private key `tests/keys/{name}_private.pem` for `alg`, published under `kid`.
pub fn signing_key(name: &str, alg: Algorithm, kid: &str) -> SigningKey {
    SigningKey::from_pem(pem(&format!("{name}_private")), alg)
        .unwrap()
        .with_kid(kid)
}

/// The public key `tests/keys/{name}_public.pem` for `alg`, under `kid`.
pub fn verifying_key(name: &str, alg: Algorithm, kid: &str) -> VerifyingKey {
    VerifyingKey::from_pem(pem(&format!("{name}_public")), alg)
        .unwrap()
        .with_kid(kid)
}

/// The JWKS document publishing these keys, as a provider serves it.
pub fn jwks_document<'a>(keys: impl IntoIterator<Item = &'a SigningKey>) -> Vec<u8> {
    PublicJwks::new(keys).unwrap().json().to_vec()
}
