//! Logins as token families: [`JwtSessions`] mints access/refresh pairs that share a family id
//! (`sid`), rotates refresh tokens with reuse detection, and logs out by revoking the family.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::{Map, Value};

use super::errors::SessionError;
use super::issuer::{IssuedToken, TokenIssuer, claims_object, random_id};
use crate::claims::TokenType;
use crate::clock::Clock;
use crate::keys::{SigningKey, VerifyingKey};
use crate::middleware::JwtLayer;
use crate::revocation::{Revocation, RevocationStore};
use crate::verify::{Keys, Rules};

/// An access token and the refresh token of the same login.
///
/// ```
/// # use tower_jwt_auth::{JwtSessions, SigningKey, VerifyingKey, revocation::MemoryStore};
/// # let secret = b"an HS256 secret of at least 32 bytes!";
/// # let sessions = JwtSessions::new(SigningKey::hs256(secret)?, VerifyingKey::hs256(secret)?, MemoryStore::new());
/// let pair = sessions.issue(&serde_json::json!({"sub": "1"}))?;
/// let body = serde_json::json!({
///     "access_token": pair.access.token,
///     "refresh_token": pair.refresh.token,
///     "token_type": "bearer",
///     "expires_in": pair.access.expires_in(),
/// });
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenPair {
    /// The short-lived access token.
    pub access: IssuedToken,
    /// The long-lived refresh token; it works once.
    pub refresh: IssuedToken,
    /// The family id (`sid` claim) both carry.
    pub sid: String,
}

/// Access/refresh token pairs over one key and one [`RevocationStore`].
///
/// - [`issue`](JwtSessions::issue) starts a login: a new family id (`sid`), an access token
///   (`"type": "access"`, 15 minutes) and a refresh token (`"type": "refresh"`, 7 days), each
///   with its own `jti`.
/// - [`refresh`](JwtSessions::refresh) takes a refresh token once and returns a new pair of the same
///   family; presenting a used refresh token again revokes the whole family.
/// - [`logout`](JwtSessions::logout) revokes the family: its access and refresh tokens are refused.
/// - [`layer`](JwtSessions::layer) is the `JwtLayer` that accepts the live access tokens these
///   sessions mint: signed with their key, of the access type, not revoked.
/// - [`issue_cookies`](JwtSessions::issue_cookies) and
///   [`refresh_cookies`](JwtSessions::refresh_cookies) do the same for browsers, with the pair
///   in cookies (see [`AuthCookies`](super::AuthCookies)).
///
/// ```
/// use tower_jwt_auth::{JwtSessions, SigningKey, VerifyingKey};
/// use tower_jwt_auth::revocation::MemoryStore;
///
/// let secret = b"an HS256 secret of at least 32 bytes!";
/// let sessions = JwtSessions::new(SigningKey::hs256(secret)?, VerifyingKey::hs256(secret)?, MemoryStore::new());
/// let pair = sessions.issue(&serde_json::json!({"sub": "1"}))?;
/// let layer = sessions.layer::<serde_json::Value>();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
#[must_use]
pub struct JwtSessions {
    pub(super) access: TokenIssuer,
    pub(super) refresh: TokenIssuer,
    pub(super) verifying: VerifyingKey,
    pub(super) store: Arc<dyn RevocationStore>,
    pub(super) access_type: TokenType,
    /// What a refresh token is checked against, built once: the key, the refresh type, `iss`,
    /// `aud`, leeway and clock. [`layer`](Self::layer) reads its `iss`, `aud`, leeway and clock
    /// too. The revocation check is made by `rotate` itself, so a store error keeps its cause.
    pub(super) refresh_rules: Rules,
}

impl JwtSessions {
    /// Sessions signing with `signing`, verifying with `verifying` (the same secret for HMAC,
    /// the public half otherwise), keeping revocations in `store`.
    ///
    /// ```
    /// use tower_jwt_auth::{Algorithm, JwtSessions, SigningKey, VerifyingKey};
    /// use tower_jwt_auth::revocation::MemoryStore;
    ///
    /// // An asymmetric pair: other services can verify the access tokens with the public half.
    /// let signing = SigningKey::from_pem(std::fs::read("tests/keys/ec256_private.pem")?, Algorithm::ES256)?;
    /// let verifying = VerifyingKey::from_pem(std::fs::read("tests/keys/ec256_public.pem")?, Algorithm::ES256)?;
    /// let sessions = JwtSessions::new(signing, verifying, MemoryStore::new());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(signing: SigningKey, verifying: VerifyingKey, store: impl RevocationStore) -> Self {
        let access_type = TokenType::claim("type", "access");
        let refresh_type = TokenType::claim("type", "refresh");
        let mut refresh_rules = Rules::new(Keys::One(verifying.clone().into()));
        refresh_rules.token_type = Some(refresh_type.clone());
        // DPoP-bound refresh tokens get through verification; `rotate` then holds them to the
        // proof's key (and refuses them without one).
        refresh_rules.dpop = true;
        Self {
            access: TokenIssuer::new(signing.clone()).token_type(access_type.clone()),
            refresh: TokenIssuer::new(signing)
                .token_type(refresh_type)
                .ttl(Duration::from_secs(7 * 24 * 3600)),
            verifying,
            store: Arc::new(store),
            access_type,
            refresh_rules,
        }
    }

    /// Lifetime of access tokens (default 15 minutes).
    ///
    /// ```
    /// # let s = b"an HS256 secret of at least 32 bytes!";
    /// # use tower_jwt_auth::{*, clock::ManualClock, keys::KeyError, revocation::MemoryStore};
    /// let sessions = JwtSessions::new(SigningKey::hs256(s)?, VerifyingKey::hs256(s)?, MemoryStore::new())
    ///     .access_ttl(std::time::Duration::from_secs(300));
    /// # Ok::<(), KeyError>(())
    /// ```
    pub fn access_ttl(mut self, ttl: Duration) -> Self {
        self.access = self.access.ttl(ttl);
        self
    }

    /// Lifetime of refresh tokens (default 7 days).
    ///
    /// ```
    /// # let s = b"an HS256 secret of at least 32 bytes!";
    /// # use tower_jwt_auth::{*, clock::ManualClock, keys::KeyError, revocation::MemoryStore};
    /// let sessions = JwtSessions::new(SigningKey::hs256(s)?, VerifyingKey::hs256(s)?, MemoryStore::new())
    ///     .refresh_ttl(std::time::Duration::from_secs(24 * 3600));
    /// # Ok::<(), KeyError>(())
    /// ```
    pub fn refresh_ttl(mut self, ttl: Duration) -> Self {
        self.refresh = self.refresh.ttl(ttl);
        self
    }

    /// Clock skew allowed on `exp`/`nbf` by [`layer`](JwtSessions::layer) and by refresh
    /// (default 30 s).
    ///
    /// ```
    /// # let s = b"an HS256 secret of at least 32 bytes!";
    /// # use tower_jwt_auth::{*, clock::ManualClock, keys::KeyError, revocation::MemoryStore};
    /// let sessions = JwtSessions::new(SigningKey::hs256(s)?, VerifyingKey::hs256(s)?, MemoryStore::new())
    ///     .leeway(std::time::Duration::from_secs(5));
    /// # Ok::<(), KeyError>(())
    /// ```
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.refresh_rules.leeway = leeway.as_secs();
        self
    }

    /// The `iss` of every token, required by [`layer`](JwtSessions::layer) and by refresh;
    /// replaces any issuer set before.
    ///
    /// ```
    /// # let s = b"an HS256 secret of at least 32 bytes!";
    /// # use tower_jwt_auth::{*, clock::ManualClock, keys::KeyError, revocation::MemoryStore};
    /// let sessions = JwtSessions::new(SigningKey::hs256(s)?, VerifyingKey::hs256(s)?, MemoryStore::new())
    ///     .issuer("https://auth.example.com");
    /// # Ok::<(), KeyError>(())
    /// ```
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        let issuer = issuer.into();
        self.refresh_rules.issuers = vec![issuer.as_str().into()];
        self.access = self.access.issuer(issuer.clone());
        self.refresh = self.refresh.issuer(issuer);
        self
    }

    /// The `aud` of every token, required by [`layer`](JwtSessions::layer) and by refresh:
    /// this one audience, replacing any set before.
    ///
    /// ```
    /// # let s = b"an HS256 secret of at least 32 bytes!";
    /// # use tower_jwt_auth::{*, clock::ManualClock, keys::KeyError, revocation::MemoryStore};
    /// let sessions = JwtSessions::new(SigningKey::hs256(s)?, VerifyingKey::hs256(s)?, MemoryStore::new())
    ///     .audience("orders-api");
    /// # Ok::<(), KeyError>(())
    /// ```
    pub fn audience(self, audience: impl Into<String>) -> Self {
        self.audiences([audience])
    }

    /// The `aud` of every token (an array when there are several), each accepted by
    /// [`layer`](JwtSessions::layer) and by refresh; replaces any audience set before.
    ///
    /// ```
    /// # let s = b"an HS256 secret of at least 32 bytes!";
    /// # use tower_jwt_auth::{*, clock::ManualClock, keys::KeyError, revocation::MemoryStore};
    /// let sessions = JwtSessions::new(SigningKey::hs256(s)?, VerifyingKey::hs256(s)?, MemoryStore::new())
    ///     .audiences(["orders-api", "billing-api"]);
    /// # Ok::<(), KeyError>(())
    /// ```
    pub fn audiences<I: IntoIterator<Item = impl Into<String>>>(mut self, audiences: I) -> Self {
        let audiences: Vec<String> = audiences.into_iter().map(Into::into).collect();
        self.refresh_rules.audiences = audiences.iter().map(|a| a.as_str().into()).collect();
        self.access = self.access.audiences(audiences.clone());
        self.refresh = self.refresh.audiences(audiences);
        self
    }

    /// The time source for minting and checking (default: the system clock).
    ///
    /// ```
    /// # let s = b"an HS256 secret of at least 32 bytes!";
    /// # use tower_jwt_auth::{*, clock::ManualClock, keys::KeyError, revocation::MemoryStore};
    /// let sessions = JwtSessions::new(SigningKey::hs256(s)?, VerifyingKey::hs256(s)?, MemoryStore::new())
    ///     .clock(ManualClock::new(1_700_000_000));
    /// # Ok::<(), KeyError>(())
    /// ```
    pub fn clock(mut self, clock: impl Into<Clock>) -> Self {
        let clock = clock.into();
        self.access = self.access.clock(clock.clone());
        self.refresh = self.refresh.clock(clock.clone());
        self.refresh_rules.clock = clock;
        self
    }

    /// The layer for routes that take these sessions' access tokens: access type only,
    /// `iss`/`aud` as configured, revocation checked in this store.
    ///
    /// ```
    /// use axum::{routing::get, Router};
    /// use tower_jwt_auth::{Auth, JwtSessions, SigningKey, VerifyingKey};
    /// use tower_jwt_auth::revocation::MemoryStore;
    ///
    /// #[derive(Clone, serde::Deserialize)]
    /// struct Claims { sub: String, sid: String }
    ///
    /// let secret = b"an HS256 secret of at least 32 bytes!";
    /// let sessions = JwtSessions::new(SigningKey::hs256(secret)?, VerifyingKey::hs256(secret)?, MemoryStore::new());
    /// let app: Router = Router::new()
    ///     .route("/me", get(|Auth(me): Auth<Claims>| async move { me.sub.clone() }))
    ///     .layer(sessions.layer::<Claims>());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn layer<C>(&self) -> JwtLayer<C> {
        let rules = &self.refresh_rules;
        let mut layer = JwtLayer::new(self.verifying.clone())
            .token_type(self.access_type.clone())
            .revocation(self.store.clone())
            .leeway(Duration::from_secs(rules.leeway))
            .clock(rules.clock.clone());
        if !rules.issuers.is_empty() {
            layer = layer.issuers(rules.issuers.iter().map(|i| i.to_string()));
        }
        if !rules.audiences.is_empty() {
            layer = layer.audiences(rules.audiences.iter().map(|a| a.to_string()));
        }
        layer
    }

    /// Starts a login: a new family and its first pair. `claims` (a JSON object) go into both
    /// tokens; `iat`, `exp`, `jti`, `sid` and the type are filled in.
    ///
    /// ```
    /// # use tower_jwt_auth::{JwtSessions, SigningKey, VerifyingKey, revocation::MemoryStore};
    /// # let secret = b"an HS256 secret of at least 32 bytes!";
    /// # let sessions = JwtSessions::new(SigningKey::hs256(secret)?, VerifyingKey::hs256(secret)?, MemoryStore::new());
    /// let login = sessions.issue(&serde_json::json!({"sub": "1", "username": "john"}))?;
    /// assert_eq!(login.access.expires_in(), 15 * 60);
    /// assert_eq!(login.refresh.expires_in(), 7 * 24 * 3600);
    /// // `login.sid` names the family, for `logout`.
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`SessionError::Issue`] when `claims` do not serialize to a JSON object or signing fails.
    pub fn issue<T: Serialize + ?Sized>(&self, claims: &T) -> Result<TokenPair, SessionError> {
        self.pair(claims_object(claims)?, random_id()?)
    }

    /// Ends a login: every access and refresh token of family `sid` is refused from now on.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// # use tower_jwt_auth::{JwtSessions, SigningKey, VerifyingKey, revocation::MemoryStore};
    /// # let secret = b"an HS256 secret of at least 32 bytes!";
    /// # let sessions = JwtSessions::new(SigningKey::hs256(secret)?, VerifyingKey::hs256(secret)?, MemoryStore::new());
    /// let login = sessions.issue(&serde_json::json!({"sub": "1"}))?;
    /// sessions.logout(&login.sid).await?;
    /// assert!(sessions.layer::<serde_json::Value>().verify(&login.access.token).await.is_err());
    /// assert!(sessions.refresh(&login.refresh.token).await.is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    /// [`SessionError::Unavailable`] when the store cannot record the revocation.
    pub async fn logout(&self, sid: &str) -> Result<(), SessionError> {
        self.store
            .revoke(Revocation::Family(sid), self.family_horizon())
            .await
            .map_err(SessionError::Unavailable)
    }

    /// Revokes one token by its `jti`, until `until` (its `exp`) plus the leeway, for as long as
    /// the layer could still accept it.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// # use tower_jwt_auth::{JwtSessions, SigningKey, VerifyingKey, revocation::MemoryStore};
    /// # let secret = b"an HS256 secret of at least 32 bytes!";
    /// # let sessions = JwtSessions::new(SigningKey::hs256(secret)?, VerifyingKey::hs256(secret)?, MemoryStore::new());
    /// let login = sessions.issue(&serde_json::json!({"sub": "1"}))?;
    /// sessions.revoke_token(&login.access.jti, login.access.expires_at).await?;
    /// assert!(sessions.layer::<serde_json::Value>().verify(&login.access.token).await.is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    /// [`SessionError::Unavailable`] when the store cannot record the revocation.
    pub async fn revoke_token(&self, jti: &str, until: u64) -> Result<(), SessionError> {
        self.store
            .revoke(
                Revocation::Token(jti),
                until.saturating_add(self.refresh_rules.leeway + 1),
            )
            .await
            .map_err(SessionError::Unavailable)
    }

    pub(super) fn pair(
        &self,
        mut claims: Map<String, Value>,
        sid: String,
    ) -> Result<TokenPair, SessionError> {
        claims.insert("sid".into(), Value::String(sid.clone()));
        let access = self.access.issue(&claims)?;
        let refresh = self.refresh.issue(&claims)?;
        Ok(TokenPair {
            access,
            refresh,
            sid,
        })
    }
}

impl fmt::Debug for JwtSessions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtSessions")
            .field("verifying", &self.verifying)
            .field("access", &self.access)
            .field("refresh", &self.refresh)
            .finish_non_exhaustive()
    }
}
