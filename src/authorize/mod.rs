//! Authorization after authentication: [`Requirement`]s over the verified claims (scopes, roles,
//! any predicate), checked per route by [`RequireLayer`] or in a handler by
//! [`Auth::require`]. A valid token that lacks what is required is answered 403
//! `insufficient_scope`, through the enclosing [`JwtLayer`](crate::JwtLayer)'s realm and
//! `on_error`.

mod layer;
mod paths;

use std::fmt;
use std::sync::Arc;

use serde_json::Value;

use crate::auth::Auth;
use crate::error::AuthError;
pub use layer::{RequireFuture, RequireLayer, RequireService};
pub use paths::GrantPaths;

/// The OAuth scopes a set of claims grants, for [`Requirement::scope`].
///
/// Implemented for `serde_json::Value`, reading the space-delimited `scope` claim (RFC 8693,
/// RFC 9068), `scp` (a string or an array) and `permissions` (Auth0). Implement it for your own
/// claims type to require scopes of it.
///
/// ```
/// use tower_jwt_auth::authorize::HasScopes;
///
/// #[derive(Clone, serde::Deserialize)]
/// struct Claims { scope: String }
///
/// impl HasScopes for Claims {
///     fn has_scope(&self, scope: &str) -> bool {
///         self.scope.split(' ').any(|s| s == scope)
///     }
/// }
/// ```
pub trait HasScopes {
    /// Whether `scope` is granted.
    fn has_scope(&self, scope: &str) -> bool;
}

/// The roles a set of claims grants, for [`Requirement::role`].
///
/// Implemented for `serde_json::Value`, reading `roles` and Keycloak's `realm_access.roles`.
///
/// ```
/// use tower_jwt_auth::authorize::HasRoles;
///
/// #[derive(Clone, serde::Deserialize)]
/// struct Claims { groups: Vec<String> }
///
/// impl HasRoles for Claims {
///     fn has_role(&self, role: &str) -> bool {
///         self.groups.iter().any(|g| g == role)
///     }
/// }
/// ```
pub trait HasRoles {
    /// Whether the role `role` is granted.
    fn has_role(&self, role: &str) -> bool;
}

impl HasScopes for Value {
    fn has_scope(&self, scope: &str) -> bool {
        let in_string = |v: &Value| v.as_str().is_some_and(|s| s.split(' ').any(|s| s == scope));
        let in_array = |v: &Value| {
            v.as_array()
                .is_some_and(|a| a.iter().any(|s| s.as_str() == Some(scope)))
        };
        in_string(&self["scope"])
            || in_string(&self["scp"])
            || in_array(&self["scp"])
            || in_array(&self["permissions"])
    }
}

impl HasRoles for Value {
    fn has_role(&self, role: &str) -> bool {
        let in_array = |v: &Value| {
            v.as_array()
                .is_some_and(|a| a.iter().any(|s| s.as_str() == Some(role)))
        };
        in_array(&self["roles"]) || in_array(&self["realm_access"]["roles"])
    }
}

type Check<C> = dyn Fn(&C) -> bool + Send + Sync;

/// A condition on the verified claims `C`. Requirements compose with [`all_of`](Self::all_of)
/// and [`any_of`](Self::any_of).
///
/// ```
/// use serde_json::{json, Value};
/// use tower_jwt_auth::Requirement;
///
/// let write = Requirement::<Value>::all_of([Requirement::scope("orders:read"), Requirement::scope("orders:write")]);
/// let staff = Requirement::<Value>::any_of([Requirement::role("admin"), Requirement::role("support")]);
/// let claims = json!({"scope": "orders:read orders:write", "realm_access": {"roles": ["support"]}});
/// assert!(write.is_met(&claims) && staff.is_met(&claims));
/// assert!(!Requirement::<Value>::scope("orders:delete").is_met(&claims));
/// ```
pub struct Requirement<C> {
    check: Arc<Check<C>>,
    /// What the challenge's `scope` attribute names.
    scope: Arc<str>,
    /// The OAuth scopes it requires (made by [`scope`](Self::scope), not roles or predicates),
    /// for documents that list them, as alternatives: holding every scope of any one set meets
    /// its scope part. A role or a predicate alone is one empty set.
    scope_sets: Arc<[ScopeSet]>,
}

impl<C> Clone for Requirement<C> {
    fn clone(&self) -> Self {
        Self {
            check: self.check.clone(),
            scope: self.scope.clone(),
            scope_sets: self.scope_sets.clone(),
        }
    }
}

impl<C> Requirement<C> {
    /// The same requirement, naming these OAuth scopes (all of them required).
    fn naming_scopes(mut self, scopes: impl IntoIterator<Item = String>) -> Self {
        let set: ScopeSet = scopes.into_iter().map(String::into_boxed_str).collect();
        self.scope_sets = Arc::new([set]);
        self
    }

    /// The OAuth scopes this requirement names: those of [`scope`](Self::scope), also inside
    /// [`all_of`](Self::all_of) and [`any_of`](Self::any_of), each once; roles and predicates
    /// are not scopes. What OpenAPI and protected-resource metadata list, from the same value
    /// that enforces them.
    ///
    /// ```
    /// use tower_jwt_auth::Requirement;
    ///
    /// let r = Requirement::<serde_json::Value>::all_of([
    ///     Requirement::scope("orders:read"),
    ///     Requirement::role("admin"),
    ///     Requirement::any_of([Requirement::scope("orders:write"), Requirement::scope("orders:read")]),
    /// ]);
    /// assert_eq!(r.scopes().collect::<Vec<_>>(), ["orders:read", "orders:write"]);
    /// ```
    pub fn scopes(&self) -> impl Iterator<Item = &str> + '_ {
        let mut seen: Vec<&str> = Vec::new();
        for scope in self.scope_sets.iter().flat_map(|set| set.iter()) {
            if !seen.contains(&&**scope) {
                seen.push(scope);
            }
        }
        seen.into_iter()
    }

    /// The OAuth scopes as alternatives: the requirement's scope part is met by holding every
    /// scope of any one of these sets ([`any_of`](Self::any_of) makes several, [`all_of`](Self::all_of)
    /// combines them). What an OpenAPI document lists as one security requirement each.
    ///
    /// ```
    /// use tower_jwt_auth::Requirement;
    ///
    /// let r = Requirement::<serde_json::Value>::all_of([
    ///     Requirement::scope("orders:read"),
    ///     Requirement::any_of([Requirement::scope("orders:write"), Requirement::scope("admin")]),
    /// ]);
    /// assert_eq!(r.scope_alternatives(), [vec!["orders:read", "orders:write"], vec!["orders:read", "admin"]]);
    /// ```
    pub fn scope_alternatives(&self) -> Vec<Vec<&str>> {
        self.scope_sets
            .iter()
            .map(|set| set.iter().map(|s| &**s).collect())
            .collect()
    }
}

impl<C> fmt::Debug for Requirement<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Requirement")
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl<C: HasScopes + 'static> Requirement<C> {
    /// The scope `scope` must be granted.
    ///
    /// ```
    /// let read = tower_jwt_auth::Requirement::<serde_json::Value>::scope("orders:read");
    /// ```
    pub fn scope(scope: impl Into<String>) -> Self {
        let scope: String = scope.into();
        let wanted = scope.clone();
        Self::predicate(scope.clone(), move |claims: &C| claims.has_scope(&wanted))
            .naming_scopes([scope])
    }
}

impl<C: HasRoles + 'static> Requirement<C> {
    /// The role `role` must be granted.
    ///
    /// ```
    /// let admins = tower_jwt_auth::Requirement::<serde_json::Value>::role("admin");
    /// ```
    pub fn role(role: impl Into<String>) -> Self {
        let role: String = role.into();
        let wanted = role.clone();
        Self::predicate(role, move |claims: &C| claims.has_role(&wanted))
    }
}

impl<C: 'static> Requirement<C> {
    /// Any condition over the typed claims; `scope` is what a refusal's challenge names.
    ///
    /// ```
    /// #[derive(Clone, serde::Deserialize)]
    /// struct Claims { tenant: String }
    ///
    /// let acme = tower_jwt_auth::Requirement::predicate("tenant:acme", |c: &Claims| c.tenant == "acme");
    /// ```
    pub fn predicate(
        scope: impl Into<String>,
        check: impl Fn(&C) -> bool + Send + Sync + 'static,
    ) -> Self {
        Self {
            check: Arc::new(check),
            scope: scope.into().into(),
            scope_sets: Arc::new([ScopeSet::default()]),
        }
    }

    /// Every one of `requirements` must be met; a refusal names all their scopes.
    ///
    /// ```
    /// use serde_json::{json, Value};
    /// use tower_jwt_auth::Requirement;
    ///
    /// let both = Requirement::<Value>::all_of([Requirement::scope("orders:read"), Requirement::role("admin")]);
    /// assert!(both.is_met(&json!({"scope": "orders:read", "roles": ["admin"]})));
    /// assert!(!both.is_met(&json!({"scope": "orders:read"})));
    /// ```
    pub fn all_of(requirements: impl IntoIterator<Item = Self>) -> Self {
        let all: Vec<Self> = requirements.into_iter().collect();
        let (scope, scope_sets) = (join(&all), every_of(&all));
        Self {
            scope_sets,
            ..Self::predicate(scope, move |claims: &C| {
                all.iter().all(|r| r.is_met(claims))
            })
        }
    }

    /// At least one of `requirements` must be met.
    ///
    /// ```
    /// use serde_json::{json, Value};
    /// use tower_jwt_auth::Requirement;
    ///
    /// let staff = Requirement::<Value>::any_of([Requirement::role("admin"), Requirement::role("support")]);
    /// assert!(staff.is_met(&json!({"roles": ["support"]})));
    /// assert!(!staff.is_met(&json!({"roles": ["user"]})));
    /// ```
    pub fn any_of(requirements: impl IntoIterator<Item = Self>) -> Self {
        let any: Vec<Self> = requirements.into_iter().collect();
        let (scope, scope_sets) = (join(&any), any_of(&any));
        Self {
            scope_sets,
            ..Self::predicate(scope, move |claims: &C| {
                any.iter().any(|r| r.is_met(claims))
            })
        }
    }

    /// Whether `claims` meet this requirement.
    ///
    /// ```
    /// use serde_json::{json, Value};
    /// use tower_jwt_auth::Requirement;
    ///
    /// // `scope` is space-delimited (RFC 9068); `scp` may be a string or an array.
    /// let read = Requirement::<Value>::scope("orders:read");
    /// assert!(read.is_met(&json!({"scope": "profile orders:read"})));
    /// assert!(read.is_met(&json!({"scp": ["orders:read"]})));
    /// assert!(!read.is_met(&json!({"scope": "orders:readonly"})));
    /// ```
    pub fn is_met(&self, claims: &C) -> bool {
        (self.check)(claims)
    }

    /// `Ok` when met.
    ///
    /// ```
    /// use serde_json::{json, Value};
    /// use tower_jwt_auth::{AuthError, Requirement};
    ///
    /// let write = Requirement::<Value>::scope("orders:write");
    /// let refused = write.check(&json!({"scope": "orders:read"})).unwrap_err();
    /// assert!(matches!(refused, AuthError::InsufficientScope { .. }));
    /// assert_eq!(refused.status(), 403);
    /// ```
    ///
    /// # Errors
    /// [`AuthError::InsufficientScope`] (403) naming this requirement's scope when unmet.
    pub fn check(&self, claims: &C) -> Result<(), AuthError> {
        if self.is_met(claims) {
            Ok(())
        } else {
            Err(AuthError::InsufficientScope {
                scope: self.scope.clone(),
            })
        }
    }

    /// This requirement as a layer, for `Router::route_layer` behind a `JwtLayer<C>`.
    ///
    /// ```
    /// use axum::{routing::get, Router};
    /// use tower_jwt_auth::{JwtLayer, Requirement, VerifyingKey};
    ///
    /// # let key = VerifyingKey::hs256([1u8; 32]).unwrap();
    /// let app: Router = Router::new()
    ///     .route("/admin", get(|| async { "hi" }))
    ///     .route_layer(Requirement::<serde_json::Value>::role("admin").layer())
    ///     .layer(JwtLayer::<serde_json::Value>::new(key));
    /// ```
    #[must_use = "a RequireLayer protects nothing until it wraps a service"]
    pub fn layer(self) -> RequireLayer<C> {
        RequireLayer::new(self)
    }
}

/// Scopes all required together.
type ScopeSet = Box<[Box<str>]>;

/// The scope alternatives of requiring all of `requirements`: one set from each, combined in
/// every way (each scope once per set).
fn every_of<C>(requirements: &[Requirement<C>]) -> Arc<[ScopeSet]> {
    let mut combined: Vec<Vec<Box<str>>> = vec![Vec::new()];
    for requirement in requirements {
        let mut next = Vec::new();
        for base in &combined {
            for set in requirement.scope_sets.iter() {
                let mut union = base.clone();
                for scope in set.iter() {
                    if !union.contains(scope) {
                        union.push(scope.clone());
                    }
                }
                if !next.contains(&union) {
                    next.push(union);
                }
            }
        }
        combined = next;
    }
    combined.into_iter().map(Vec::into_boxed_slice).collect()
}

/// The scope alternatives of requiring any of `requirements`: all of theirs, each once.
fn any_of<C>(requirements: &[Requirement<C>]) -> Arc<[ScopeSet]> {
    let mut alternatives: Vec<ScopeSet> = Vec::new();
    for set in requirements.iter().flat_map(|r| r.scope_sets.iter()) {
        if !alternatives.contains(set) {
            alternatives.push(set.clone());
        }
    }
    alternatives.into()
}

fn join<C>(requirements: &[Requirement<C>]) -> String {
    requirements
        .iter()
        .map(|r| &*r.scope)
        .collect::<Vec<_>>()
        .join(" ")
}

impl<C> Auth<C> {
    /// Checks a requirement inside a handler: `auth.require(&write)?;` answers 403 when unmet,
    /// through the enclosing [`JwtLayer`](crate::JwtLayer)'s realm and `on_error`.
    ///
    /// ```
    /// use serde_json::{json, Value};
    /// use tower_jwt_auth::{Auth, Requirement};
    ///
    /// let auth = Auth::from(json!({"scope": "orders:read"}));
    /// assert!(auth.require(&Requirement::scope("orders:read")).is_ok());
    /// assert_eq!(auth.require(&Requirement::scope("orders:write")).unwrap_err().status(), 403);
    /// ```
    ///
    /// # Errors
    /// [`AuthError::InsufficientScope`] when the requirement is unmet.
    pub fn require(&self, requirement: &Requirement<C>) -> Result<(), AuthError>
    where
        C: 'static,
    {
        requirement.check(&self.0)
    }
}
