//! Refresh-token rotation with reuse detection (OAuth 2.0 security BCP): a refresh token is
//! taken once; a second presentation revokes its whole family.

use std::sync::Arc;

use http::HeaderMap;
use serde_json::{Map, Value};

use super::bound::check_binding;
use super::errors::SessionError;
use super::sessions::{JwtSessions, TokenPair};
use crate::claims::{CSRF_CLAIM, MINTED};
use crate::dpop::Proof;
use crate::error::AuthError;
use crate::revocation::Revocation;
use crate::token_source::bearer;
use crate::verify::Csrf;

impl JwtSessions {
    /// Trades a refresh token (the bare token, or a whole `Authorization: Bearer` header map via
    /// [`refresh_from_headers`](JwtSessions::refresh_from_headers)) for a new pair of its family.
    /// A refresh token works once: presenting it again revokes the family.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// # use tower_jwt_auth::{JwtSessions, SigningKey, VerifyingKey, revocation::MemoryStore};
    /// # let secret = b"an HS256 secret of at least 32 bytes!";
    /// # let sessions = JwtSessions::new(SigningKey::hs256(secret)?, VerifyingKey::hs256(secret)?, MemoryStore::new());
    /// let login = sessions.issue(&serde_json::json!({"sub": "1"}))?;
    /// let next = sessions.refresh(&login.refresh.token).await?;
    /// assert_eq!(next.sid, login.sid); // the same login, new tokens
    /// // A second use of a refresh token revokes the login: even the new pair is refused.
    /// assert!(sessions.refresh(&login.refresh.token).await.is_err());
    /// assert!(sessions.refresh(&next.refresh.token).await.is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    /// [`SessionError::Invalid`] (401) for a token that is not a valid, unused refresh token of
    /// these sessions (a reused one revokes its family first), [`SessionError::Unavailable`] (503)
    /// when the store cannot answer.
    pub async fn refresh(&self, refresh_token: &str) -> Result<TokenPair, SessionError> {
        self.rotate(refresh_token, Csrf::Off, None, None).await
    }

    /// Verifies a refresh token (and its CSRF value when asked; its DPoP binding, to `proof`'s
    /// key when it is bound), spends it (and the proof), and mints the next pair of its family,
    /// with a new CSRF value when one is given.
    pub(super) async fn rotate(
        &self,
        refresh_token: &str,
        csrf: Csrf<&str>,
        new_csrf: Option<&str>,
        proof: Option<&Proof>,
    ) -> Result<TokenPair, SessionError> {
        let accepted = self
            .refresh_rules
            .verify_now::<Map<String, Value>>(refresh_token, csrf)
            .map_err(SessionError::Invalid)?;
        // Before anything is spent: whoever presents a bound token without its key's proof is
        // not its holder.
        check_binding(accepted.bound_to.as_deref(), proof)?;
        let mut claims = Arc::unwrap_or_clone(accepted.claims);
        let text = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_owned);
        let jti = text("jti")
            .ok_or_else(|| SessionError::Invalid(AuthError::MissingClaim("jti".into())))?;
        let sid_claim = text("sid");
        let now = self.refresh_rules.clock.now();
        if self
            .store
            .check(&jti, sid_claim.as_deref(), now)
            .map_err(SessionError::Unavailable)?
        {
            return Err(SessionError::Invalid(AuthError::Revoked));
        }
        if let Some(proof) = proof {
            self.first_use(proof, now).await?;
        }
        // A refresh token minted elsewhere may lack `sid`: its `jti` then names the family that
        // this refresh starts, so a second use of it still revokes what the first one made.
        let sid = sid_claim.unwrap_or_else(|| jti.clone());
        let exp = claims
            .get("exp")
            .and_then(Value::as_f64)
            .unwrap_or(0.0)
            .ceil() as u64;
        if !self
            .store
            // Remember the use for as long as the layer could still accept the token.
            .consume(&jti, exp.saturating_add(self.refresh_rules.leeway + 1))
            .await
            .map_err(SessionError::Unavailable)?
        {
            tracing::warn!(target: "tower_jwt_auth", "refresh token reused: revoking its family");
            self.store
                .revoke(Revocation::Family(&sid), self.family_horizon())
                .await
                .map_err(SessionError::Unavailable)?;
            return Err(SessionError::Reused);
        }
        // What the issuers mint anew (times, ids, `iss`, `aud`, the type claim) goes; `sub`,
        // the app's claims and the DPoP binding (`cnf`) carry over.
        let type_claim = self
            .refresh_rules
            .token_type
            .as_ref()
            .and_then(|t| t.0.claim_name());
        for minted in MINTED.iter().copied().chain(type_claim) {
            claims.remove(minted);
        }
        if let Some(csrf) = new_csrf {
            claims.insert(CSRF_CLAIM.into(), Value::String(csrf.to_owned()));
        }
        self.pair(claims, sid)
    }

    /// [`refresh`](JwtSessions::refresh) with the token taken from `Authorization: Bearer`.
    ///
    /// # Errors
    /// As [`refresh`](Self::refresh), and [`SessionError::Invalid`] when the headers carry no
    /// bearer token.
    pub async fn refresh_from_headers(
        &self,
        headers: &HeaderMap,
    ) -> Result<TokenPair, SessionError> {
        match bearer(headers).map_err(SessionError::Invalid)? {
            Some(token) => self.refresh(token).await,
            None => Err(SessionError::Invalid(AuthError::MissingToken)),
        }
    }

    /// No token of a family outlives this: the last refresh token is at most `refresh_ttl` old,
    /// and the layer accepts a token until its `exp` plus the leeway.
    pub(super) fn family_horizon(&self) -> u64 {
        let leeway = self.refresh_rules.leeway;
        self.refresh_rules.clock.now() + self.refresh.ttl_secs() + leeway + 1
    }
}
