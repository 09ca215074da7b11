//! Helpers for the app's own tests (cargo feature `test-util`): keys made for one test run,
//! tokens that a given [`JwtLayer`] accepts in one call, and [`MockProvider`], an identity
//! provider on a loopback port (JWKS and OIDC discovery, key rotation and outages on demand).
//!
//! Turn the feature on for tests only:
//!
//! ```toml
//! [dev-dependencies]
//! tower-jwt-auth = { version = "0.1", features = ["test-util"] }
//! ```
//!
//! An axum app tested with a token its own layer accepts:
//!
//! ```
//! use axum::{body::Body, http::Request, routing::get, Router};
//! use tower::ServiceExt;
//! use tower_jwt_auth::test_util::TestKey;
//! use tower_jwt_auth::{Auth, JwtLayer, TokenType};
//!
//! #[derive(Clone, serde::Deserialize)]
//! struct Claims { sub: String }
//!
//! // The app under test: its layer is built from a key the test chooses.
//! fn app(layer: JwtLayer<Claims>) -> Router {
//!     Router::new()
//!         .route("/me", get(|Auth(claims): Auth<Claims>| async move { claims.sub.clone() }))
//!         .layer(layer)
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//! let key = TestKey::hs256();
//! let layer = JwtLayer::<Claims>::new(key.verifying_key())
//!     .issuer("https://auth.example.com")
//!     .audience("orders-api")
//!     .token_type(TokenType::header("at+jwt"));
//! // iss, aud, typ, iat, exp and jti as the layer wants them; checked by the layer itself.
//! let token = key.token_for(&layer, &serde_json::json!({"sub": "ada"})).await;
//!
//! let request = Request::get("/me")
//!     .header("authorization", format!("Bearer {token}"))
//!     .body(Body::empty())?;
//! let response = app(layer).oneshot(request).await?;
//! assert_eq!(response.status(), 200);
//! # Ok::<(), Box<dyn std::error::Error>>(()) })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod provider;

pub use provider::MockProvider;

use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::keys::TrustedIssuer;
use crate::middleware::JwtLayer;
use crate::tokens::claims_object;
use crate::verify::Keys;
use crate::{Algorithm, SigningKey, TokenIssuer, VerifyingKey};

/// A key pair (or an HMAC secret) made for one test run: never written anywhere, gone with the
/// process.
///
/// ```
/// use tower_jwt_auth::test_util::TestKey;
/// use tower_jwt_auth::Algorithm;
///
/// let key = TestKey::ed25519().with_kid("test-1");
/// assert_eq!(key.verifying_key().algorithm(), Algorithm::EdDSA);
/// assert_eq!(key.verifying_key().kid(), Some("test-1"));
/// ```
#[derive(Clone)]
pub struct TestKey {
    signing: SigningKey,
    verifying: VerifyingKey,
}

impl TestKey {
    /// A random 32-byte HS256 secret.
    ///
    /// ```
    /// let key = tower_jwt_auth::test_util::TestKey::hs256();
    /// assert_eq!(key.signing_key().algorithm(), tower_jwt_auth::Algorithm::HS256);
    /// ```
    ///
    /// # Panics
    /// When the operating system gives no random bytes.
    pub fn hs256() -> Self {
        let secret = random_bytes::<32>();
        Self {
            signing: SigningKey::hs256(secret).expect("a 32-byte HS256 secret"),
            verifying: VerifyingKey::hs256(secret).expect("a 32-byte HS256 secret"),
        }
    }

    /// A new P-256 key pair for ES256 (with the `aws_lc_rs` backend, which makes it).
    ///
    /// ```
    /// let key = tower_jwt_auth::test_util::TestKey::es256();
    /// assert_eq!(key.signing_key().algorithm(), tower_jwt_auth::Algorithm::ES256);
    /// ```
    ///
    /// # Panics
    /// When the backend cannot make a key.
    #[cfg(feature = "aws_lc_rs")]
    #[cfg_attr(docsrs, doc(cfg(feature = "aws_lc_rs")))]
    pub fn es256() -> Self {
        use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
            .expect("AWS-LC makes a P-256 key");
        let pkcs8 = pair.to_pkcs8v1().expect("AWS-LC encodes a P-256 key");
        Self::asymmetric(pkcs8.as_ref(), Algorithm::ES256)
    }

    /// A new Ed25519 key pair for EdDSA, with either crypto backend.
    ///
    /// ```
    /// let key = tower_jwt_auth::test_util::TestKey::ed25519();
    /// assert_eq!(key.signing_key().algorithm(), tower_jwt_auth::Algorithm::EdDSA);
    /// ```
    ///
    /// # Panics
    /// When the operating system gives no random bytes.
    pub fn ed25519() -> Self {
        // PKCS#8 v1 of an Ed25519 private key is this fixed prefix and the 32-byte seed
        // (RFC 8410 §7 and its example in §10.3).
        const PREFIX: [u8; 16] = [
            0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22,
            0x04, 0x20,
        ];
        let pkcs8 = [&PREFIX[..], &random_bytes::<32>()].concat();
        Self::asymmetric(&pkcs8, Algorithm::EdDSA)
    }

    fn asymmetric(pkcs8: &[u8], algorithm: Algorithm) -> Self {
        let signing = SigningKey::from_der(pkcs8, algorithm).expect("a key made just now");
        let jwk = signing
            .public_jwk()
            .expect("an asymmetric key's public half");
        let verifying = VerifyingKey::from_jwk(&jwk).expect("a key made just now");
        Self { signing, verifying }
    }

    /// Names the key `kid` (in the tokens it signs, its verifying key and its JWK).
    ///
    /// ```
    /// let key = tower_jwt_auth::test_util::TestKey::hs256().with_kid("k1");
    /// assert_eq!(key.verifying_key().kid(), Some("k1"));
    /// ```
    #[must_use]
    pub fn with_kid(self, kid: impl Into<String>) -> Self {
        let kid = kid.into();
        Self {
            signing: self.signing.with_kid(kid.clone()),
            verifying: self.verifying.with_kid(kid),
        }
    }

    /// The signing half, for a [`TokenIssuer`] or a [`PublicJwks`](crate::keys::PublicJwks).
    pub fn signing_key(&self) -> &SigningKey {
        &self.signing
    }

    /// The verifying half, for the layer under test.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.verifying.clone()
    }

    /// A [`TokenIssuer`] signing with this key whose tokens carry what `layer` requires of
    /// every token: its issuer, audience and token type, `iat`, `exp` and `jti`, on the layer's
    /// clock. For tokens a test wants refused (expired, another audience), set those claims
    /// yourself: the claims given to `issue` win.
    ///
    /// ```
    /// use tower_jwt_auth::test_util::TestKey;
    /// use tower_jwt_auth::JwtLayer;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let key = TestKey::hs256();
    /// let layer = JwtLayer::<serde_json::Value>::new(key.verifying_key()).audience("api");
    /// let other = key.issuer_for(&layer).issue(&serde_json::json!({"aud": "another-api"}))?;
    /// assert!(layer.verify(&other.token).await.is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    pub fn issuer_for<C>(&self, layer: &JwtLayer<C>) -> TokenIssuer {
        issuer_for(layer, self.signing.clone(), None)
    }

    /// A token `layer` accepts, with these claims and what [`issuer_for`](Self::issuer_for)
    /// adds (and the layer's required subject, if it has one). The layer checks it as it
    /// would a request's, so a layer with a token cache holds it afterwards (its stats count
    /// that miss) and a JWKS layer has fetched its keys.
    ///
    /// # Panics
    /// When the layer refuses the token all the same, with the layer's reason: a required
    /// claim the test did not give, a key the layer does not trust, claims that do not fit
    /// `C`. A test helper fails the test rather than hand back a token that would be refused.
    pub async fn token_for<C, T>(&self, layer: &JwtLayer<C>, claims: &T) -> String
    where
        C: DeserializeOwned + Clone + Send + Sync + 'static,
        T: Serialize + ?Sized,
    {
        token_for(layer, self.issuer_for(layer), claims, "TestKey::token_for").await
    }
}

impl fmt::Debug for TestKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestKey")
            .field("algorithm", &self.signing.algorithm())
            .field("kid", &self.verifying.kid())
            .finish_non_exhaustive()
    }
}

/// `N` random bytes from the operating system.
fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("random bytes from the operating system");
    bytes
}

/// A token issuer matched to `layer`: the layer's issuer (on a multi-issuer layer, the trusted
/// issuer named `iss`, else the first), its audiences, token type and clock.
fn issuer_for<C>(layer: &JwtLayer<C>, key: SigningKey, iss: Option<&str>) -> TokenIssuer {
    let rules = layer.rules();
    let (issuer, audiences): (Option<&str>, &[Box<str>]) = match &rules.keys {
        Keys::One(_) => (
            iss.or(rules.issuers.first().map(|i| &**i)),
            &rules.audiences,
        ),
        Keys::ByIssuer(trusted) => {
            let named = |t: &&TrustedIssuer| iss.is_some_and(|iss| *t.issuer[0] == *iss);
            match trusted.iter().find(named).or(trusted.first()) {
                Some(t) => (iss.or(Some(&*t.issuer[0])), &t.audiences),
                None => (iss, &[]),
            }
        }
    };
    let mut tokens = TokenIssuer::new(key).clock(rules.clock.clone());
    if let Some(issuer) = issuer {
        tokens = tokens.issuer(issuer);
    }
    if !audiences.is_empty() {
        tokens = tokens.audiences(audiences.iter().map(|a| a.to_string()));
    }
    if let Some(token_type) = &rules.token_type {
        tokens = tokens.token_type(token_type.clone());
    }
    tokens
}

/// A token from `tokens` with `claims` (and the layer's required subject), checked by `layer`.
async fn token_for<C, T>(layer: &JwtLayer<C>, tokens: TokenIssuer, claims: &T, who: &str) -> String
where
    C: DeserializeOwned + Clone + Send + Sync + 'static,
    T: Serialize + ?Sized,
{
    let mut claims = claims_object(claims)
        .unwrap_or_else(|err| panic!("{who}: the claims must be a JSON object: {err}"));
    if let Some(subject) = &layer.rules().subject {
        claims
            .entry("sub")
            .or_insert_with(|| Value::from(subject.to_string()));
    }
    let token = tokens
        .issue(&claims)
        .unwrap_or_else(|err| panic!("{who}: signing failed: {err}"))
        .token;
    if let Err(err) = layer.verify(&token).await {
        let claims = Value::Object(claims);
        panic!("{who}: the layer refuses the token made for it: {err} (claims: {claims})");
    }
    token
}
