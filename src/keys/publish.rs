//! [`PublicJwks`]: the JWKS document (RFC 7517) an issuer serves at `/.well-known/jwks.json`, so
//! that other services verify its tokens without sharing a secret.

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderValue, Response};
use jsonwebtoken::jwk::JwkSet;

use super::{KeyError, SigningKey};

/// The public halves of signing keys, as a JWKS document.
///
/// During a rotation, publish the next key before signing with it and keep the previous one
/// until its last token has expired.
///
/// ```
/// use tower_jwt_auth::SigningKey;
/// use tower_jwt_auth::keys::PublicJwks;
///
/// // HMAC secrets are never published.
/// assert!(PublicJwks::new([&SigningKey::hs256([1u8; 32])?]).is_err());
/// # Ok::<(), tower_jwt_auth::keys::KeyError>(())
/// ```
#[derive(Clone, Debug)]
pub struct PublicJwks {
    json: Bytes,
    max_age: u32,
}

impl PublicJwks {
    /// The JWKS document of these keys (each needs a `kid` for verifiers to tell them apart
    /// once there is more than one).
    ///
    /// ```
    /// use tower_jwt_auth::{Algorithm, SigningKey};
    /// use tower_jwt_auth::keys::PublicJwks;
    ///
    /// let pem = std::fs::read("tests/keys/ec256_private.pem")?;
    /// let key = SigningKey::from_pem(pem, Algorithm::ES256)?.with_kid("2026-12");
    /// let jwks = PublicJwks::new([&key])?;
    /// let doc: serde_json::Value = serde_json::from_slice(jwks.json())?;
    /// assert_eq!(doc["keys"][0]["kid"], "2026-12");
    /// assert!(doc["keys"][0].get("d").is_none()); // never the private half
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`KeyError::NotPublishable`] when a key has no public half (an HMAC secret).
    pub fn new<'a>(keys: impl IntoIterator<Item = &'a SigningKey>) -> Result<Self, KeyError> {
        let keys = keys
            .into_iter()
            .map(SigningKey::public_jwk)
            .collect::<Result<Vec<_>, _>>()?;
        let json = serde_json::to_vec(&JwkSet { keys }).map_err(|_| KeyError::NotPublishable)?;
        Ok(Self {
            json: Bytes::from(json),
            max_age: 300,
        })
    }

    /// How long verifiers may cache the document (`Cache-Control: max-age`, default 300 s).
    ///
    /// ```
    /// # let key = tower_jwt_auth::SigningKey::from_pem(std::fs::read("tests/keys/ec256_private.pem")?, tower_jwt_auth::Algorithm::ES256)?;
    /// let jwks = tower_jwt_auth::keys::PublicJwks::new([&key])?.max_age(60);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn max_age(mut self, seconds: u32) -> Self {
        self.max_age = seconds;
        self
    }

    /// The document's JSON.
    pub fn json(&self) -> &[u8] {
        &self.json
    }

    /// The HTTP response: JSON, `Cache-Control: public, max-age=...`.
    #[allow(clippy::missing_panics_doc)] // The `expect` cannot fail: digits are header-safe.
    pub fn to_response(&self) -> Response<Bytes> {
        let mut response = Response::new(self.json.clone());
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let cache = format!("public, max-age={}", self.max_age);
        headers.insert(
            CACHE_CONTROL,
            HeaderValue::try_from(cache).expect("digits are a valid header value"),
        );
        response
    }
}

#[cfg(feature = "axum")]
impl axum_core::response::IntoResponse for PublicJwks {
    fn into_response(self) -> axum_core::response::Response {
        self.to_response().map(axum_core::body::Body::from)
    }
}
