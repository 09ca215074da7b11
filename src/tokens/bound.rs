//! DPoP-bound sessions (RFC 9449 §5), for apps that are their own authorization server: a login
//! bound to the key of the proof that came with it, and refresh tokens that only that key's
//! proofs can trade. Each proof is accepted once, in the sessions' store.

use serde::Serialize;

use super::errors::SessionError;
use super::issuer::{bind, claims_object, random_id};
use super::sessions::{JwtSessions, TokenPair};
use crate::dpop::{DpopError, Proof};
use crate::error::AuthError;
use crate::verify::Csrf;

impl JwtSessions {
    /// Starts a login bound to the key of `proof` (the request's `DPoP` proof, checked with
    /// [`ProofRules::verify`](crate::dpop::ProofRules::verify)): both tokens carry its
    /// thumbprint as `cnf.jkt`. The access token is then accepted only by a layer with
    /// [`JwtLayer::dpop`](crate::JwtLayer::dpop) and a proof of that key, and the refresh token
    /// only by [`refresh_bound`](Self::refresh_bound). The proof is accepted once.
    ///
    /// ```
    /// use axum::http::{HeaderMap, Method, StatusCode};
    /// use tower_jwt_auth::dpop::{ProofRequest, ProofRules, proof_header};
    /// use tower_jwt_auth::JwtSessions;
    /// use tower_jwt_auth::tokens::{SessionError, TokenPair};
    ///
    /// // The login route of an app at https://app.example.
    /// async fn login(sessions: &JwtSessions, headers: &HeaderMap, now: u64) -> Result<TokenPair, StatusCode> {
    ///     let request = ProofRequest { method: &Method::POST, uri: "https://app.example/login", access_token: None };
    ///     let proof = proof_header(headers)
    ///         .and_then(|proof| ProofRules::new().verify(proof, &request, now))
    ///         .map_err(|_| StatusCode::BAD_REQUEST)?;
    ///     // ...the user's password checked here...
    ///     sessions
    ///         .issue_bound(&serde_json::json!({"sub": "1"}), &proof)
    ///         .await
    ///         .map_err(token_endpoint_status)
    /// }
    ///
    /// /// RFC 6749 §5.2 and RFC 9449 §5: a token endpoint answers a refused grant or proof 400.
    /// fn token_endpoint_status(err: SessionError) -> StatusCode {
    ///     match err {
    ///         SessionError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
    ///         SessionError::Issue(_) => StatusCode::INTERNAL_SERVER_ERROR,
    ///         _ => StatusCode::BAD_REQUEST, // invalid_grant, invalid_dpop_proof
    ///     }
    /// }
    /// ```
    ///
    /// # Errors
    /// [`SessionError::Invalid`] with [`DpopError::Replayed`] for a proof used before,
    /// [`SessionError::Unavailable`] when the store cannot answer, and as
    /// [`issue`](Self::issue).
    pub async fn issue_bound<T: Serialize + ?Sized>(
        &self,
        claims: &T,
        proof: &Proof,
    ) -> Result<TokenPair, SessionError> {
        let mut claims = claims_object(claims)?;
        bind(&mut claims, proof.jkt());
        let sid = random_id()?;
        self.first_use(proof, self.refresh_rules.clock.now())
            .await?;
        self.pair(claims, sid)
    }

    /// [`refresh`](Self::refresh) for a refresh token bound to a DPoP key: `proof` (the refresh
    /// request's, checked with [`ProofRules::verify`](crate::dpop::ProofRules::verify)) must be
    /// signed with that key. The new pair is bound to the same key. A token bound to another
    /// key, or not bound at all, is refused before anything is spent; the proof is accepted
    /// once.
    ///
    /// ```
    /// use axum::http::{HeaderMap, Method, StatusCode};
    /// use tower_jwt_auth::dpop::{ProofRequest, ProofRules, proof_header};
    /// use tower_jwt_auth::JwtSessions;
    /// use tower_jwt_auth::tokens::{SessionError, TokenPair};
    ///
    /// async fn refresh(sessions: &JwtSessions, refresh_token: &str, headers: &HeaderMap, now: u64) -> Result<TokenPair, StatusCode> {
    ///     let request = ProofRequest { method: &Method::POST, uri: "https://app.example/refresh", access_token: None };
    ///     let proof = proof_header(headers)
    ///         .and_then(|proof| ProofRules::new().verify(proof, &request, now))
    ///         .map_err(|_| StatusCode::BAD_REQUEST)?;
    ///     sessions.refresh_bound(refresh_token, &proof).await.map_err(|err| match err {
    ///         SessionError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
    ///         _ => StatusCode::BAD_REQUEST, // RFC 6749 §5.2: invalid_grant, invalid_dpop_proof
    ///     })
    /// }
    /// ```
    ///
    /// # Errors
    /// As [`refresh`](Self::refresh); [`SessionError::Invalid`] with
    /// [`AuthError::DpopBinding`] for a token not bound to the proof's key, and with
    /// [`DpopError::Replayed`] for a proof used before.
    pub async fn refresh_bound(
        &self,
        refresh_token: &str,
        proof: &Proof,
    ) -> Result<TokenPair, SessionError> {
        self.rotate(refresh_token, Csrf::Off, None, Some(proof))
            .await
    }

    /// Accepts `proof` once: a second use, here or on any instance sharing the store, is
    /// refused.
    pub(super) async fn first_use(&self, proof: &Proof, now: u64) -> Result<(), SessionError> {
        match proof.replay(now).take(&*self.store).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(SessionError::Invalid(AuthError::InvalidDpopProof(
                DpopError::Replayed,
            ))),
            Err(err) => Err(SessionError::Unavailable(err)),
        }
    }
}

/// A refresh token bound to a DPoP key (`cnf.jkt`, as its verification read it) is taken only
/// with a proof of that key, and one not bound only without a proof.
pub(super) fn check_binding(
    bound_to: Option<&str>,
    proof: Option<&Proof>,
) -> Result<(), SessionError> {
    match (bound_to, proof) {
        (None, None) => Ok(()),
        (Some(jkt), Some(proof)) if proof.check_binding(jkt).is_ok() => Ok(()),
        _ => Err(SessionError::Invalid(AuthError::DpopBinding)),
    }
}
