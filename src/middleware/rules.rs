//! The [`JwtLayer`] setters for what a token must be: issuer, audience, subject, required
//! claims, type, time (leeway, clock), size, and revocation.

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::Algorithm;

use super::layer::JwtLayer;
use crate::claims::{TokenType, TypeRule, is_registered};
use crate::clock::Clock;
use crate::revocation::RevocationStore;
use crate::verify::{Keys, MAX_REQUIRED_CLAIMS};

impl<C> JwtLayer<C> {
    /// Accepts only tokens whose `iss` is `issuer`; a token without `iss` is refused. Replaces
    /// any issuer set before.
    ///
    /// # Panics
    /// On a [`for_issuers`](Self::for_issuers) layer, like [`issuers`](Self::issuers).
    ///
    /// ```
    /// # let key = tower_jwt_auth::VerifyingKey::hs256([1u8; 32]).unwrap();
    /// let layer = tower_jwt_auth::JwtLayer::<serde_json::Value>::new(key).issuer("https://auth.example.com");
    /// ```
    pub fn issuer(self, issuer: impl Into<String>) -> Self {
        self.issuers([issuer])
    }

    /// Accepts tokens whose `iss` is any of `issuers`; a token without `iss` is refused.
    /// Replaces any issuer set before.
    ///
    /// # Panics
    /// On a [`for_issuers`](Self::for_issuers) layer, whose issuers come from its
    /// [`TrustedIssuer`](crate::keys::TrustedIssuer)s.
    ///
    /// ```
    /// # let key = tower_jwt_auth::VerifyingKey::hs256([1u8; 32]).unwrap();
    /// let layer = tower_jwt_auth::JwtLayer::<serde_json::Value>::new(key).issuers(["https://a", "https://b"]);
    /// ```
    pub fn issuers<I: IntoIterator<Item = impl Into<String>>>(mut self, issuers: I) -> Self {
        let rules = &mut self.config().rules;
        assert!(
            matches!(rules.keys, Keys::One(_)),
            "JwtLayer::issuers: a for_issuers layer takes its issuers from TrustedIssuer"
        );
        rules.issuers = boxed(issuers);
        self
    }

    /// Accepts only tokens whose `aud` (a string or an array) contains `audience`; a token
    /// without `aud` is refused. Replaces any audience set before.
    ///
    /// # Panics
    /// On a [`for_issuers`](Self::for_issuers) layer, like [`audiences`](Self::audiences).
    ///
    /// ```
    /// # let key = tower_jwt_auth::VerifyingKey::hs256([1u8; 32]).unwrap();
    /// let layer = tower_jwt_auth::JwtLayer::<serde_json::Value>::new(key).audience("orders-api");
    /// ```
    pub fn audience(self, audience: impl Into<String>) -> Self {
        self.audiences([audience])
    }

    /// Accepts tokens whose `aud` contains any of `audiences`; a token without `aud` is refused.
    /// Replaces any audience set before.
    ///
    /// # Panics
    /// On a [`for_issuers`](Self::for_issuers) layer, whose audiences come from its
    /// [`TrustedIssuer`](crate::keys::TrustedIssuer)s.
    ///
    /// ```
    /// # let key = tower_jwt_auth::VerifyingKey::hs256([1u8; 32]).unwrap();
    /// let layer = tower_jwt_auth::JwtLayer::<serde_json::Value>::new(key).audiences(["orders", "billing"]);
    /// ```
    pub fn audiences<I: IntoIterator<Item = impl Into<String>>>(mut self, audiences: I) -> Self {
        let rules = &mut self.config().rules;
        assert!(
            matches!(rules.keys, Keys::One(_)),
            "JwtLayer::audiences: a for_issuers layer takes audiences from TrustedIssuer::audience"
        );
        rules.audiences = boxed(audiences);
        self
    }

    /// With `true`, accepts tokens whatever their `aud` when no audience is configured. By
    /// default a token that names audiences is refused by a layer that has none (RFC 7519
    /// §4.1.3): it was meant for someone else.
    ///
    /// ```
    /// # let key = tower_jwt_auth::VerifyingKey::hs256([1u8; 32]).unwrap();
    /// let layer = tower_jwt_auth::JwtLayer::<serde_json::Value>::new(key).allow_any_audience(true);
    /// ```
    pub fn allow_any_audience(mut self, allow: bool) -> Self {
        self.config().rules.any_audience = allow;
        self
    }

    /// Accepts only tokens whose `sub` is `subject`.
    ///
    /// ```
    /// # let key = tower_jwt_auth::VerifyingKey::hs256([1u8; 32]).unwrap();
    /// let layer = tower_jwt_auth::JwtLayer::<serde_json::Value>::new(key).subject("service-a");
    /// ```
    pub fn subject(mut self, subject: impl Into<String>) -> Self {
        self.config().rules.subject = Some(subject.into().into_boxed_str());
        self
    }

    /// The RFC 9068 access-token profile in one call: the `typ` header must be `at+jwt`
    /// (so an ID token or any other JWT of the same issuer is refused) and `iss`, `aud`, `exp`,
    /// `sub`, `client_id`, `iat` and `jti` are required. Name the issuer and the audience too
    /// ([`issuer`](Self::issuer), [`audience`](Self::audience); keys found by discovery set
    /// the issuer). Replaces an earlier [`token_type`](Self::token_type) and
    /// [`require_claims`](Self::require_claims), as they replace it.
    ///
    /// ```
    /// # let key = tower_jwt_auth::VerifyingKey::hs256([1u8; 32]).unwrap();
    /// let layer = tower_jwt_auth::JwtLayer::<serde_json::Value>::new(key)
    ///     .access_token_profile()
    ///     .issuer("https://auth.example.com")
    ///     .audience("https://api.example.com");
    /// ```
    pub fn access_token_profile(self) -> Self {
        self.token_type(TokenType::header("at+jwt"))
            .require_claims(["iss", "aud", "exp", "sub", "client_id", "iat", "jti"])
    }

    /// Refuses tokens that lack any of these claims, or hold them as `null` (`exp` is always
    /// required).
    ///
    /// ```
    /// # let key = tower_jwt_auth::VerifyingKey::hs256([1u8; 32]).unwrap();
    /// let layer = tower_jwt_auth::JwtLayer::<serde_json::Value>::new(key).require_claims(["sub", "jti", "iat"]);
    /// ```
    ///
    /// # Panics
    /// With more than 64 claim names.
    pub fn require_claims<I: IntoIterator<Item = impl Into<String>>>(mut self, claims: I) -> Self {
        let mut claims = boxed(claims);
        claims.sort();
        claims.dedup();
        assert!(
            claims.len() <= MAX_REQUIRED_CLAIMS,
            "JwtLayer::require_claims takes at most {MAX_REQUIRED_CLAIMS} claim names"
        );
        self.config().rules.required = claims;
        self
    }

    /// Accepts only tokens of this type, e.g. access tokens and never refresh tokens.
    ///
    /// ```
    /// use tower_jwt_auth::TokenType;
    /// # let key = tower_jwt_auth::VerifyingKey::hs256([1u8; 32]).unwrap();
    /// let layer = tower_jwt_auth::JwtLayer::<serde_json::Value>::new(key).token_type(TokenType::claim("type", "access"));
    /// ```
    ///
    /// # Panics
    /// With a type claim named like a claim this crate reads itself (`exp`, `nbf`, `iat`,
    /// `iss`, `aud`, `sub`, `jti`, `sid`): no token could ever pass.
    pub fn token_type(mut self, token_type: TokenType) -> Self {
        if let TokenType(TypeRule::Claim { name, .. }) = &token_type {
            assert!(
                !is_registered(name),
                "JwtLayer::token_type: `{name}` is a registered claim; name the type claim otherwise (e.g. \"type\")"
            );
        }
        self.config().rules.token_type = Some(token_type);
        self
    }

    /// Accepts only these algorithms, whatever the keys would allow: a provider's alg-less RSA
    /// keys serve RS256/384/512 and PS256/384/512, and an app may want PS256 alone. Each key still
    /// accepts only its own algorithms; this narrows, it never widens. Replaces any list set
    /// before; an empty list means every key's own.
    ///
    /// ```
    /// use tower_jwt_auth::{Algorithm, JwtLayer, RemoteJwks};
    ///
    /// let keys = RemoteJwks::new("https://idp.example.com/.well-known/jwks.json")?;
    /// let layer = JwtLayer::<serde_json::Value>::new(keys).algorithms([Algorithm::PS256, Algorithm::ES256]);
    /// # Ok::<(), tower_jwt_auth::keys::FetchError>(())
    /// ```
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.config().rules.algorithms = algorithms.into_iter().collect();
        self
    }

    /// Refuses tokens issued more than `max_age` ago (jose's `maxTokenAge`, Envoy's
    /// `max_lifetime`), whatever their `exp`: `iat` is then required, and an `iat` further in
    /// the future than the [leeway](Self::leeway) is refused too (`token not yet valid`); a token
    /// older than `max_age` plus the leeway is `token expired`. Off by default: without it, `iat`
    /// is only type-checked when present.
    ///
    /// ```
    /// # let key = tower_jwt_auth::VerifyingKey::hs256([1u8; 32]).unwrap();
    /// // Access tokens from a provider that issues day-long tokens, accepted for an hour.
    /// let layer = tower_jwt_auth::JwtLayer::<serde_json::Value>::new(key)
    ///     .max_age(std::time::Duration::from_secs(3600));
    /// ```
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.config().rules.max_age = Some(max_age.as_secs());
        self
    }

    /// Clock skew allowed on `exp`, `nbf` and (with [`max_age`](Self::max_age)) `iat`, in whole
    /// seconds (default 30 s).
    ///
    /// ```
    /// # let key = tower_jwt_auth::VerifyingKey::hs256([1u8; 32]).unwrap();
    /// let layer = tower_jwt_auth::JwtLayer::<serde_json::Value>::new(key).leeway(std::time::Duration::ZERO);
    /// ```
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.config().rules.leeway = leeway.as_secs();
        self
    }

    /// Tokens longer than this many bytes are refused before any decoding (default 8 KiB).
    ///
    /// ```
    /// # let key = tower_jwt_auth::VerifyingKey::hs256([1u8; 32]).unwrap();
    /// let layer = tower_jwt_auth::JwtLayer::<serde_json::Value>::new(key).max_token_length(4096);
    /// ```
    pub fn max_token_length(mut self, bytes: usize) -> Self {
        self.config().rules.max_len = bytes;
        self
    }

    /// The time source for `exp`/`nbf` (default: the system clock).
    ///
    /// ```
    /// use tower_jwt_auth::clock::ManualClock;
    /// # let key = tower_jwt_auth::VerifyingKey::hs256([1u8; 32]).unwrap();
    /// let clock = ManualClock::new(1_700_000_000);
    /// let layer = tower_jwt_auth::JwtLayer::<serde_json::Value>::new(key).clock(clock.clone());
    /// ```
    pub fn clock(mut self, clock: impl Into<Clock>) -> Self {
        self.config().rules.clock = clock.into();
        self
    }

    /// Refuses tokens that `store` says are revoked (by `jti`, or by family through `sid`),
    /// checked after the signature. Tokens without `jti` are then refused. When the store cannot
    /// answer (Redis down, mirror not synced), requests fail closed with 503.
    ///
    /// ```
    /// use tower_jwt_auth::revocation::MemoryStore;
    /// # let key = tower_jwt_auth::VerifyingKey::hs256([1u8; 32]).unwrap();
    /// let revoked = MemoryStore::new();
    /// let layer = tower_jwt_auth::JwtLayer::<serde_json::Value>::new(key).revocation(revoked.clone());
    /// ```
    pub fn revocation(mut self, store: impl RevocationStore) -> Self {
        self.config().rules.revocation = Some(Arc::new(store));
        self
    }

    /// With `true`, accepts the token (logging a warning) when the revocation store cannot
    /// answer, instead of answering 503 (fail open). Only for apps that prefer availability over
    /// prompt logout.
    ///
    /// ```
    /// # let key = tower_jwt_auth::VerifyingKey::hs256([1u8; 32]).unwrap();
    /// let layer = tower_jwt_auth::JwtLayer::<serde_json::Value>::new(key)
    ///     .revocation(tower_jwt_auth::revocation::MemoryStore::new())
    ///     .allow_revocation_outage(true);
    /// ```
    pub fn allow_revocation_outage(mut self, allow: bool) -> Self {
        self.config().rules.fail_open = allow;
        self
    }
}

fn boxed<I: IntoIterator<Item = impl Into<String>>>(items: I) -> Vec<Box<str>> {
    items
        .into_iter()
        .map(|s| s.into().into_boxed_str())
        .collect()
}
