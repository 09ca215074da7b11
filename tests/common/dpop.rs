//! A DPoP client written from RFC 9449 and RFC 7638 for the tests, independent of the crate:
//! P-256 by RustCrypto's `p256`, JSON by serde_json, base64url by `base64`, SHA-256 by `sha2`.
#![allow(dead_code)]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Signer;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// A client's P-256 key, and its public JWK.
pub struct Client {
    pub key: p256::ecdsa::SigningKey,
}

impl Client {
    pub fn new(seed: u8) -> Self {
        Self {
            key: p256::ecdsa::SigningKey::from_slice(&[seed; 32]).unwrap(),
        }
    }

    pub fn jwk(&self) -> Value {
        // SEC1 uncompressed: 0x04, then x and y, 32 bytes each.
        let point = self.key.verifying_key().to_sec1_point(false);
        let bytes = point.as_bytes();
        json!({
            "kty": "EC",
            "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(&bytes[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&bytes[33..65]),
        })
    }

    /// RFC 7638: SHA-256 over the required members in lexicographic order, no whitespace.
    pub fn thumbprint(&self) -> String {
        let jwk = self.jwk();
        let canonical = format!(
            r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
            jwk["x"].as_str().unwrap(),
            jwk["y"].as_str().unwrap()
        );
        URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
    }

    /// A proof with this header and these claims, signed ES256 (r || s).
    pub fn sign(&self, header: &Value, claims: &Value) -> String {
        let message = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature: p256::ecdsa::Signature = self.key.sign(message.as_bytes());
        format!("{message}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
    }

    /// The header of this client's proofs.
    pub fn header(&self) -> Value {
        json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk()})
    }

    /// A proof for `method uri` with `token`, issued at `iat`, with this `jti`.
    pub fn proof_for(&self, method: &str, uri: &str, token: &str, iat: u64, jti: &str) -> String {
        self.sign(
            &self.header(),
            &request_claims(method, uri, token, iat, jti),
        )
    }

    /// A proof for `method uri` with `token` and the server's `nonce` (RFC 9449 §9).
    pub fn proof_with_nonce(
        &self,
        method: &str,
        uri: &str,
        token: &str,
        jti: &str,
        iat: u64,
        nonce: &str,
    ) -> String {
        let mut claims = request_claims(method, uri, token, iat, jti);
        claims["nonce"] = json!(nonce);
        self.sign(&self.header(), &claims)
    }

    /// A proof for a request that carries no access token (a login or a refresh): no `ath`.
    pub fn proof_without_token(&self, method: &str, uri: &str, iat: u64, jti: &str) -> String {
        let claims = json!({"jti": jti, "htm": method, "htu": uri, "iat": iat});
        self.sign(&self.header(), &claims)
    }
}

/// The claims of a proof for `method uri` with `token`.
fn request_claims(method: &str, uri: &str, token: &str, iat: u64, jti: &str) -> Value {
    json!({"jti": jti, "htm": method, "htu": uri, "iat": iat, "ath": ath(token)})
}

/// `ath`: base64url(SHA-256(token)).
pub fn ath(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}
