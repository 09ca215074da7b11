//! Minting tokens: [`TokenIssuer`] signs the app's claims with the right header and fills the
//! registered claims (`iat`, `exp`, `jti`, `iss`, `aud`, the token type).

use std::fmt;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Header;
use serde::Serialize;
use serde_json::{Map, Value};

use super::errors::IssueError;
use crate::claims::{TokenType, TypeRule};
use crate::clock::Clock;
use crate::keys::SigningKey;

/// A signed token and what the caller needs to hand it out.
///
/// ```
/// use tower_jwt_auth::{SigningKey, TokenIssuer};
///
/// let issued = TokenIssuer::new(SigningKey::hs256([7u8; 32])?).issue(&serde_json::json!({"sub": "1"}))?;
/// let body = serde_json::json!({
///     "access_token": issued.token,
///     "token_type": "bearer",
///     "expires_in": issued.expires_in(),
/// });
/// // `{issued:?}` never shows the token itself.
/// assert!(!format!("{issued:?}").contains(&issued.token));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IssuedToken {
    /// The compact JWT.
    pub token: String,
    /// Its `jti`.
    pub jti: String,
    /// Its `iat`, in seconds since the Unix epoch.
    pub issued_at: u64,
    /// Its `exp`, in seconds since the Unix epoch.
    pub expires_at: u64,
}

impl IssuedToken {
    /// Seconds from `iat` to `exp` (the OAuth `expires_in`).
    pub fn expires_in(&self) -> u64 {
        self.expires_at.saturating_sub(self.issued_at)
    }
}

impl fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The token is a credential: never print it.
        f.debug_struct("IssuedToken")
            .field("jti", &self.jti)
            .field("issued_at", &self.issued_at)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Signs tokens: the app's claims plus `iat`, `exp` (default lifetime 15 minutes), a random
/// `jti`, and the configured `iss`, `aud` and token type. Claims the app sets itself are kept,
/// so never copy user input into the claims unchecked: a user-supplied `"type"`, `"exp"` or
/// `"aud"` key would override the issuer's.
///
/// ```
/// use std::time::Duration;
/// use serde::Serialize;
/// use tower_jwt_auth::{SigningKey, TokenIssuer, TokenType};
///
/// #[derive(Serialize)]
/// struct Claims<'a> { sub: &'a str }
///
/// let access = TokenIssuer::new(SigningKey::hs256(b"an HS256 secret of at least 32 bytes!")?)
///     .ttl(Duration::from_secs(15 * 60))
///     .token_type(TokenType::claim("type", "access"));
/// let issued = access.issue(&Claims { sub: "1" })?;
/// assert_eq!(issued.expires_in(), 900);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct TokenIssuer {
    key: SigningKey,
    ttl: Duration,
    issuer: Option<String>,
    audience: Vec<String>,
    token_type: Option<TokenType>,
    clock: Clock,
}

impl TokenIssuer {
    /// An issuer signing with `key`, tokens valid for 15 minutes.
    ///
    /// ```
    /// use tower_jwt_auth::{Algorithm, SigningKey, TokenIssuer};
    ///
    /// let pem = std::fs::read("tests/keys/ec256_private.pem")?;
    /// let issuer = TokenIssuer::new(SigningKey::from_pem(pem, Algorithm::ES256)?.with_kid("2026-12"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(key: SigningKey) -> Self {
        Self {
            key,
            ttl: Duration::from_secs(15 * 60),
            issuer: None,
            audience: Vec::new(),
            token_type: None,
            clock: Clock::system(),
        }
    }

    /// Lifetime of each token (`exp - iat`), in whole seconds.
    ///
    /// ```
    /// # let key = tower_jwt_auth::SigningKey::hs256([1u8; 32]).unwrap();
    /// let issuer = tower_jwt_auth::TokenIssuer::new(key).ttl(std::time::Duration::from_secs(600));
    /// ```
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// The `iss` of every token.
    ///
    /// ```
    /// # let key = tower_jwt_auth::SigningKey::hs256([1u8; 32]).unwrap();
    /// let issuer = tower_jwt_auth::TokenIssuer::new(key).issuer("https://auth.example.com");
    /// ```
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// The `aud` of every token: this one audience, replacing any set before.
    ///
    /// ```
    /// # let key = tower_jwt_auth::SigningKey::hs256([1u8; 32]).unwrap();
    /// let issuer = tower_jwt_auth::TokenIssuer::new(key).audience("orders");
    /// ```
    pub fn audience(self, audience: impl Into<String>) -> Self {
        self.audiences([audience])
    }

    /// The `aud` of every token: these audiences (an array when there are several), replacing
    /// any set before.
    ///
    /// ```
    /// # let key = tower_jwt_auth::SigningKey::hs256([1u8; 32]).unwrap();
    /// let issuer = tower_jwt_auth::TokenIssuer::new(key).audiences(["orders", "billing"]);
    /// ```
    pub fn audiences<I: IntoIterator<Item = impl Into<String>>>(mut self, audiences: I) -> Self {
        self.audience = audiences.into_iter().map(Into::into).collect();
        self
    }

    /// Marks every token with this type: the `typ` header, or the type claim.
    ///
    /// ```
    /// use tower_jwt_auth::TokenType;
    /// # let key = tower_jwt_auth::SigningKey::hs256([1u8; 32]).unwrap();
    /// let issuer = tower_jwt_auth::TokenIssuer::new(key).token_type(TokenType::claim("type", "refresh"));
    /// ```
    pub fn token_type(mut self, token_type: TokenType) -> Self {
        self.token_type = Some(token_type);
        self
    }

    /// The time source for `iat` and `exp` (default: the system clock).
    ///
    /// ```
    /// # let key = tower_jwt_auth::SigningKey::hs256([1u8; 32]).unwrap();
    /// let issuer = tower_jwt_auth::TokenIssuer::new(key).clock(tower_jwt_auth::clock::ManualClock::new(1_700_000_000));
    /// ```
    pub fn clock(mut self, clock: impl Into<Clock>) -> Self {
        self.clock = clock.into();
        self
    }

    /// Signs `claims` into a token bound to the client key whose RFC 7638 thumbprint is `jkt`
    /// (RFC 9449 §6.1: `"cnf": {"jkt": …}`, replacing any `cnf.jkt` the claims have): a layer
    /// with [`JwtLayer::dpop`](crate::JwtLayer::dpop) accepts it only with a DPoP proof signed
    /// by that key, never as a bearer token. `jkt` is what
    /// [`Proof::jkt`](crate::dpop::Proof::jkt) gives for the proof sent to the token endpoint.
    ///
    /// ```
    /// use tower_jwt_auth::{SigningKey, TokenIssuer};
    ///
    /// let issuer = TokenIssuer::new(SigningKey::hs256(b"an HS256 secret of at least 32 bytes!")?);
    /// let jkt = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I";
    /// let issued = issuer.issue_bound(&serde_json::json!({"sub": "1"}), jkt)?;
    /// assert!(issuer.issue_bound(&serde_json::json!({"sub": "1"}), "not-a-thumbprint").is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`IssueError::InvalidThumbprint`] for a `jkt` that is not 32 bytes in base64url, and as
    /// [`issue`](Self::issue).
    pub fn issue_bound<T: Serialize + ?Sized>(
        &self,
        claims: &T,
        jkt: &str,
    ) -> Result<IssuedToken, IssueError> {
        let thumbprint = URL_SAFE_NO_PAD
            .decode(jkt)
            .map_err(|_| IssueError::InvalidThumbprint)?;
        if thumbprint.len() != 32 {
            return Err(IssueError::InvalidThumbprint);
        }
        let mut map = claims_object(claims)?;
        bind(&mut map, jkt);
        self.issue(&map)
    }

    /// Signs `claims` (any `Serialize` that makes a JSON object) into a token.
    ///
    /// ```
    /// use tower_jwt_auth::{JwtLayer, SigningKey, TokenIssuer, VerifyingKey};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let secret = b"an HS256 secret of at least 32 bytes!";
    /// let issued = TokenIssuer::new(SigningKey::hs256(secret)?)
    ///     .issuer("https://auth.example")
    ///     .issue(&serde_json::json!({"sub": "1", "role": "admin"}))?;
    /// // A layer with the same key and issuer accepts it.
    /// let layer = JwtLayer::<serde_json::Value>::new(VerifyingKey::hs256(secret)?).issuer("https://auth.example");
    /// assert_eq!(layer.verify(&issued.token).await?["role"], "admin");
    /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    /// [`IssueError`] when `claims` do not serialize to a JSON object, or signing or the random
    /// `jti` fails.
    pub fn issue<T: Serialize + ?Sized>(&self, claims: &T) -> Result<IssuedToken, IssueError> {
        let mut map = claims_object(claims)?;
        let now = self.clock.now();
        let iat = read_u64(&mut map, "iat", now);
        let exp = read_u64(&mut map, "exp", iat.saturating_add(self.ttl.as_secs()));
        let jti = match map.get("jti") {
            Some(Value::String(jti)) => jti.clone(),
            _ => {
                let jti = random_id()?;
                map.insert("jti".into(), Value::String(jti.clone()));
                jti
            }
        };
        if let Some(iss) = &self.issuer {
            map.entry("iss").or_insert_with(|| iss.clone().into());
        }
        match self.audience.as_slice() {
            [] => {}
            [one] => {
                map.entry("aud").or_insert_with(|| one.clone().into());
            }
            many => {
                map.entry("aud").or_insert_with(|| many.to_vec().into());
            }
        }
        let mut header = Header::new(self.key.algorithm);
        header.kid = self.key.kid.as_deref().map(str::to_owned);
        match &self.token_type {
            Some(TokenType(TypeRule::Header(typ))) => header.typ = Some(typ.to_string()),
            Some(TokenType(TypeRule::Claim { name, value })) => {
                map.entry(name.to_string())
                    .or_insert_with(|| value.to_string().into());
            }
            None => {}
        }
        let token = jsonwebtoken::encode(&header, &map, &self.key.key).map_err(IssueError::Sign)?;
        Ok(IssuedToken {
            token,
            jti,
            issued_at: iat,
            expires_at: exp,
        })
    }
}

/// Binds claims to a DPoP key: `cnf.jkt` (RFC 9449 §6.1), replacing any other confirmation.
pub(super) fn bind(claims: &mut Map<String, Value>, jkt: &str) {
    let jkt = Map::from_iter([("jkt".to_owned(), Value::String(jkt.to_owned()))]);
    claims.insert("cnf".into(), Value::Object(jkt));
}

/// The claims as a JSON object, the only shape a JWT payload may have.
pub(crate) fn claims_object<T: Serialize + ?Sized>(
    claims: &T,
) -> Result<Map<String, Value>, IssueError> {
    match serde_json::to_value(claims).map_err(IssueError::Serialize)? {
        Value::Object(map) => Ok(map),
        _ => Err(IssueError::ClaimsNotAnObject),
    }
}

impl TokenIssuer {
    /// The lifetime of this issuer's tokens, in seconds.
    pub(super) fn ttl_secs(&self) -> u64 {
        self.ttl.as_secs()
    }
}

/// The claim `name` as set by the app, or `default` inserted.
fn read_u64(map: &mut Map<String, Value>, name: &str, default: u64) -> u64 {
    match map.get(name).and_then(Value::as_u64) {
        Some(v) => v,
        None => {
            map.insert(name.into(), default.into());
            default
        }
    }
}

/// 128 random bits, base64url: a `jti`, a family id or a CSRF value no one can guess or collide
/// with.
pub(super) fn random_id() -> Result<String, IssueError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|_| IssueError::Random)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}
