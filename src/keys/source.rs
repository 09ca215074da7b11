//! Where a layer's keys come from: fixed keys, or a remote JWKS kept fresh in the background;
//! and, for layers that accept several issuers, which keys and audiences belong to each.

use std::sync::Arc;

use super::{KeySet, VerifyingKey};

/// The keys a [`JwtLayer`](crate::JwtLayer) verifies with: a [`VerifyingKey`], a [`KeySet`], or
/// (feature `jwks`) a `RemoteJwks`. Anything of these converts with `.into()`.
///
/// ```
/// use tower_jwt_auth::keys::KeySource;
/// use tower_jwt_auth::{KeySet, VerifyingKey};
///
/// let one: KeySource = VerifyingKey::hs256([7u8; 32])?.into();
/// let set: KeySource = KeySet::new([VerifyingKey::hs256([8u8; 32])?.with_kid("k1")]).into();
/// # Ok::<(), tower_jwt_auth::keys::KeyError>(())
/// ```
#[derive(Clone, Debug)]
pub struct KeySource(pub(crate) Source);

#[derive(Clone, Debug)]
pub(crate) enum Source {
    Static(Arc<KeySet>),
    #[cfg(feature = "jwks")]
    Remote(super::RemoteJwks),
}

impl KeySource {
    /// Starts fetching remote keys now (when a runtime is at hand) rather than on first use.
    pub(crate) fn warm(&self) {
        #[cfg(feature = "jwks")]
        if let Source::Remote(remote) = &self.0 {
            let _ = remote.cached();
        }
    }

    /// The issuer these keys were discovered for (OIDC discovery), which the layer then requires.
    pub(crate) fn discovered_issuer(&self) -> Option<&str> {
        match &self.0 {
            Source::Static(_) => None,
            #[cfg(feature = "jwks")]
            Source::Remote(remote) => remote.issuer(),
        }
    }
}

impl From<KeySet> for KeySource {
    fn from(keys: KeySet) -> Self {
        Self(Source::Static(Arc::new(keys)))
    }
}

impl From<VerifyingKey> for KeySource {
    fn from(key: VerifyingKey) -> Self {
        KeySet::from(key).into()
    }
}

#[cfg(feature = "jwks")]
impl From<super::RemoteJwks> for KeySource {
    fn from(remote: super::RemoteJwks) -> Self {
        Self(Source::Remote(remote))
    }
}

/// One issuer a multi-issuer layer accepts: its `iss`, its keys, and the audiences its tokens
/// must name. The layer picks the issuer by the token's `iss` before any key is looked up, so a
/// token from an unknown issuer never triggers a fetch.
///
/// ```
/// use tower_jwt_auth::{JwtLayer, VerifyingKey};
/// use tower_jwt_auth::keys::TrustedIssuer;
///
/// let layer = JwtLayer::<serde_json::Value>::for_issuers([
///     TrustedIssuer::new("https://a.example", VerifyingKey::hs256([1u8; 32])?).audience("api"),
///     TrustedIssuer::new("https://b.example", VerifyingKey::hs256([2u8; 32])?).audience("api"),
/// ]);
/// # Ok::<(), tower_jwt_auth::keys::KeyError>(())
/// ```
#[derive(Clone, Debug)]
pub struct TrustedIssuer {
    /// One issuer, held as a one-element array so that verification can lend it as the
    /// `&[Box<str>]` of accepted issuers, like a single-key layer's list.
    pub(crate) issuer: [Box<str>; 1],
    pub(crate) keys: KeySource,
    pub(crate) audiences: Vec<Box<str>>,
}

impl TrustedIssuer {
    /// Tokens whose `iss` is `issuer` are verified with `keys`.
    pub fn new(issuer: impl Into<String>, keys: impl Into<KeySource>) -> Self {
        Self {
            issuer: [issuer.into().into_boxed_str()],
            keys: keys.into(),
            audiences: Vec::new(),
        }
    }

    /// This issuer's tokens must name `audience` in `aud`: this one audience, replacing any set
    /// before ([`audiences`](Self::audiences) for several).
    ///
    /// ```
    /// # use tower_jwt_auth::{keys::TrustedIssuer, VerifyingKey};
    /// let issuer = TrustedIssuer::new("https://a.example", VerifyingKey::hs256([1u8; 32])?)
    ///     .audience("orders");
    /// # Ok::<(), tower_jwt_auth::keys::KeyError>(())
    /// ```
    #[must_use]
    pub fn audience(self, audience: impl Into<String>) -> Self {
        self.audiences([audience])
    }

    /// This issuer's tokens must name one of `audiences` in `aud`; replaces any audience set
    /// before.
    ///
    /// ```
    /// # use tower_jwt_auth::{keys::TrustedIssuer, VerifyingKey};
    /// let issuer = TrustedIssuer::new("https://a.example", VerifyingKey::hs256([1u8; 32])?)
    ///     .audiences(["orders", "billing"]);
    /// # Ok::<(), tower_jwt_auth::keys::KeyError>(())
    /// ```
    #[must_use]
    pub fn audiences<I: IntoIterator<Item = impl Into<String>>>(mut self, audiences: I) -> Self {
        self.audiences = audiences
            .into_iter()
            .map(|a| a.into().into_boxed_str())
            .collect();
        self
    }
}
