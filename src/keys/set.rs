//! [`KeySet`]: several verifying keys, the token's `kid` choosing among them.

use std::fmt;

use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::Jwk;

use super::{KeyError, VerifyingKey};
use crate::error::AuthError;

/// Several verifying keys; a token's `kid` picks one, and that key's algorithm bounds the `alg`
/// it is accepted with. A token without `kid` is accepted only when exactly one key could apply.
/// Keys without a `kid` of their own stand for "any name": a token whose `kid` names no key is
/// verified by the one unnamed key that fits its `alg`, if there is exactly one.
///
/// ```
/// use tower_jwt_auth::{Algorithm, KeySet, VerifyingKey};
///
/// let keys = KeySet::new([
///     VerifyingKey::hs256([1u8; 32])?.with_kid("2026-10"),
///     VerifyingKey::hs256([2u8; 32])?.with_kid("2026-11"),
/// ]);
/// assert_eq!(keys.len(), 2);
/// # Ok::<(), tower_jwt_auth::keys::KeyError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct KeySet {
    keys: Vec<VerifyingKey>,
}

impl KeySet {
    /// A set of these keys.
    ///
    /// ```
    /// use tower_jwt_auth::{KeySet, VerifyingKey};
    ///
    /// let keys = KeySet::new([
    ///     VerifyingKey::hs256([1u8; 32])?.with_kid("2026-11"),
    ///     VerifyingKey::hs256([2u8; 32])?.with_kid("2026-12"),
    /// ]);
    /// assert_eq!(keys.len(), 2);
    /// assert!(!keys.is_empty());
    /// assert_eq!(keys.kids().collect::<Vec<_>>(), ["2026-11", "2026-12"]);
    /// # Ok::<(), tower_jwt_auth::keys::KeyError>(())
    /// ```
    pub fn new(keys: impl IntoIterator<Item = VerifyingKey>) -> Self {
        Self {
            keys: keys.into_iter().collect(),
        }
    }

    /// The signing keys of a JWKS document (RFC 7517). Keys not meant for signatures (`"use":
    /// "enc"`), symmetric (`oct`) keys, keys of unsupported types, curves or algorithms
    /// (`ES512`), and keys jsonwebtoken cannot read are skipped, each on its own; a document with
    /// no usable key is an error. A JWK without `alg` serves every algorithm of its key type and
    /// never another type's: RSA keys RS256/384/512 and PS256/384/512, EC keys the ES* of their
    /// curve, Ed25519 keys EdDSA (also under its RFC 9864 name `Ed25519`).
    ///
    /// ```
    /// use tower_jwt_auth::KeySet;
    ///
    /// let jwks = br#"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k1","alg":"EdDSA",
    ///     "x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#;
    /// let keys = KeySet::from_jwks(jwks)?;
    /// assert_eq!(keys.kids().collect::<Vec<_>>(), ["k1"]);
    /// assert!(KeySet::from_jwks(br#"{"keys":[]}"#).is_err());
    /// # Ok::<(), tower_jwt_auth::keys::KeyError>(())
    /// ```
    ///
    /// # Errors
    /// [`KeyError::InvalidJwks`] when `document` is not a JWKS, [`KeyError::NoUsableKey`] when it
    /// holds no signing key this crate verifies with.
    pub fn from_jwks(document: &[u8]) -> Result<Self, KeyError> {
        let (keys, skipped) = Self::read_jwks(document);
        for Skipped { kid, error } in &skipped {
            tracing::warn!(target: "tower_jwt_auth", ?kid, reason = %error, "JWK skipped");
        }
        keys
    }

    /// [`from_jwks`](Self::from_jwks) without the logging: the keys, and the JWKs skipped with
    /// the reason of each, for a caller that reports them once rather than at every fetch.
    pub(crate) fn read_jwks(document: &[u8]) -> (Result<Self, KeyError>, Vec<Skipped>) {
        #[derive(serde::Deserialize)]
        struct Document {
            keys: Vec<serde_json::Value>,
        }
        let set: Document = match serde_json::from_slice(document) {
            Ok(set) => set,
            Err(_) => return (Err(KeyError::InvalidJwks), Vec::new()),
        };
        let mut keys = Vec::with_capacity(set.keys.len());
        let mut skipped = Vec::new();
        for value in set.keys {
            let kid = value.get("kid").and_then(|k| k.as_str()).map(str::to_owned);
            match jwk_keys(value) {
                Ok(made) => keys.extend(made),
                Err(error) => skipped.push(Skipped { kid, error }),
            }
        }
        if keys.is_empty() {
            return (Err(KeyError::NoUsableKey), skipped);
        }
        (Ok(Self { keys }), skipped)
    }

    /// Adds a key.
    ///
    /// ```
    /// use tower_jwt_auth::{KeySet, VerifyingKey};
    ///
    /// let keys = KeySet::default().with(VerifyingKey::hs256([1u8; 32])?.with_kid("a"));
    /// # Ok::<(), tower_jwt_auth::keys::KeyError>(())
    /// ```
    #[must_use]
    pub fn with(mut self, key: VerifyingKey) -> Self {
        self.keys.push(key);
        self
    }

    /// How many keys the set holds.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the set holds no key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The key ids in the set.
    pub fn kids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().filter_map(|k| k.kid.as_deref())
    }

    /// The key for a token with this `kid` and `alg`.
    pub(crate) fn select(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Result<&VerifyingKey, AuthError> {
        if let Some(kid) = kid {
            let mut named = self
                .keys
                .iter()
                .filter(|k| k.kid.as_deref() == Some(kid))
                .peekable();
            if named.peek().is_some() {
                // A provider may publish one kid under several algorithms: the pair must match.
                return named
                    .find(|k| k.algorithm == alg)
                    .ok_or(AuthError::DisallowedAlgorithm);
            }
        }
        // No `kid`, or one no key is named by: only keys without a name of their own may apply,
        // and only when exactly one fits the algorithm.
        let mut fitting = self
            .keys
            .iter()
            .filter(|k| k.algorithm == alg && (kid.is_none() || k.kid.is_none()));
        match (fitting.next(), fitting.next()) {
            (Some(key), None) => Ok(key),
            (Some(_), Some(_)) => Err(AuthError::UnknownKey),
            (None, _) if kid.is_some() => Err(AuthError::UnknownKey),
            (None, _) => Err(AuthError::DisallowedAlgorithm),
        }
    }
}

impl From<VerifyingKey> for KeySet {
    fn from(key: VerifyingKey) -> Self {
        Self { keys: vec![key] }
    }
}

/// A JWK of a JWKS that gave no key: its `kid` (if it has a string one) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Skipped {
    pub(crate) kid: Option<String>,
    pub(crate) error: KeyError,
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kid {
            Some(kid) => write!(f, "kid {kid:?}: {}", self.error),
            None => write!(f, "a JWK without kid: {}", self.error),
        }
    }
}

/// The keys one JWK of a JWKS makes: one bound to its `alg`, or, without `alg`, one per
/// algorithm of its key type (real providers publish RSA keys without `alg` and sign PS256 or
/// RS384 with them). A JWK that is not one jsonwebtoken reads is an error of its own, so that
/// one odd key does not cost the document its other keys.
fn jwk_keys(value: serde_json::Value) -> Result<Vec<VerifyingKey>, KeyError> {
    let alg = value.get("alg").map(|a| a.as_str().map(str::to_owned));
    let jwk: Jwk = serde_json::from_value(value).map_err(|_| {
        KeyError::UnsupportedJwk(
            "not a JWK of a supported type (`kty` RSA, EC or OKP, its members)",
        )
    })?;
    let one = |alg| VerifyingKey::from_jwk_as(&jwk, Some(alg)).map(|key| vec![key]);
    match alg {
        None => {
            let algorithms = VerifyingKey::jwk_algorithms(&jwk);
            if algorithms.is_empty() {
                // The precise reason: its use, its key type or its curve.
                return Err(VerifyingKey::from_jwk_as(&jwk, None).err().unwrap_or(
                    KeyError::UnsupportedJwk("no algorithm of its key type is supported"),
                ));
            }
            algorithms
                .iter()
                .map(|&alg| VerifyingKey::from_jwk_as(&jwk, Some(alg)))
                .collect()
        }
        // RFC 9864's fully-specified name of EdDSA over Ed25519, the only EdDSA verified here.
        Some(Some(alg)) if alg == "Ed25519" => one(Algorithm::EdDSA),
        Some(Some(alg)) => match VerifyingKey::from_jwk(&jwk) {
            // jsonwebtoken folds names it does not know into one: say which it was.
            Err(KeyError::UnsupportedAlgorithm(_)) => Err(KeyError::UnsupportedAlgorithm(alg)),
            made => made.map(|key| vec![key]),
        },
        Some(None) => Err(KeyError::UnsupportedJwk("its `alg` is not a string")),
    }
}
