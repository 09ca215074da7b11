//! [`GrantPaths`]: where a provider puts scopes and roles in its tokens, so that requirements
//! over `serde_json::Value` claims read them there (Keycloak client roles, Cognito groups,
//! Entra ID's `scp` and `roles`, Auth0 permissions) without a hand-written `HasScopes`.

use std::sync::Arc;

use serde_json::Value;

use super::Requirement;

/// Where scopes and roles are in the claims: claim names, or JSON Pointers (RFC 6901) for
/// nested claims. A scope value found there is a space-delimited string (`scope`, `scp`) or an
/// array of strings; a role value is an array of strings, or one string that is the role
/// (`"Super Admin"` grants that role, not `Admin`); anything else grants nothing. Presets name
/// each provider's places.
///
/// ```
/// use serde_json::{json, Value};
/// use tower_jwt_auth::authorize::GrantPaths;
///
/// let grants = GrantPaths::keycloak("orders-api");
/// let claims = json!({
///     "scope": "openid profile",
///     "realm_access": {"roles": ["offline_access"]},
///     "resource_access": {"orders-api": {"roles": ["clerk"]}, "account": {"roles": ["manage-account"]}},
/// });
/// assert!(grants.role("clerk").is_met(&claims));
/// assert!(!grants.role("manage-account").is_met(&claims)); // another client's role
/// assert!(grants.scope("profile").is_met(&claims));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GrantPaths {
    scopes: Arc<[Box<str>]>,
    roles: Arc<[Box<str>]>,
}

impl GrantPaths {
    /// No place at all: set them with [`scopes_at`](Self::scopes_at) and
    /// [`roles_at`](Self::roles_at), or start from a preset.
    pub fn new() -> Self {
        Self::default()
    }

    /// Where scopes are, replacing any set before: claim names (`"scp"`, `"cognito:groups"`)
    /// or JSON Pointers starting with `/` (`"/realm_access/roles"`; `~1` for a `/` and `~0`
    /// for a `~` inside a name).
    ///
    /// ```
    /// use tower_jwt_auth::authorize::GrantPaths;
    ///
    /// let grants = GrantPaths::new().scopes_at(["scope", "/ext/scopes"]);
    /// assert!(grants.scope("a").is_met(&serde_json::json!({"ext": {"scopes": ["a"]}})));
    /// ```
    pub fn scopes_at<I: IntoIterator<Item = impl Into<String>>>(mut self, paths: I) -> Self {
        self.scopes = pointers(paths);
        self
    }

    /// Where roles are, replacing any set before (as [`scopes_at`](Self::scopes_at)).
    ///
    /// ```
    /// use tower_jwt_auth::authorize::GrantPaths;
    ///
    /// // Auth0 roles from a namespaced custom claim (a name with `/` in it).
    /// let grants = GrantPaths::auth0().roles_at(["https://example.com/roles"]);
    /// assert!(grants.role("admin").is_met(&serde_json::json!({"https://example.com/roles": ["admin"]})));
    /// ```
    pub fn roles_at<I: IntoIterator<Item = impl Into<String>>>(mut self, paths: I) -> Self {
        self.roles = pointers(paths);
        self
    }

    /// Keycloak: scopes in `scope`; roles in `realm_access.roles` and in
    /// `resource_access.<client_id>.roles` (the client roles of that client only).
    ///
    /// ```
    /// let grants = tower_jwt_auth::authorize::GrantPaths::keycloak("orders-api");
    /// ```
    pub fn keycloak(client_id: &str) -> Self {
        let client = client_id.replace('~', "~0").replace('/', "~1");
        Self::new().scopes_at(["scope"]).roles_at([
            "/realm_access/roles".to_owned(),
            format!("/resource_access/{client}/roles"),
        ])
    }

    /// Amazon Cognito user pools: scopes in `scope`, groups (as roles) in `cognito:groups`.
    ///
    /// ```
    /// let grants = tower_jwt_auth::authorize::GrantPaths::cognito();
    /// ```
    pub fn cognito() -> Self {
        Self::new()
            .scopes_at(["scope"])
            .roles_at(["cognito:groups"])
    }

    /// Microsoft Entra ID: delegated scopes in `scp`, app roles in `roles`.
    ///
    /// ```
    /// let grants = tower_jwt_auth::authorize::GrantPaths::entra_id();
    /// ```
    pub fn entra_id() -> Self {
        Self::new().scopes_at(["scp"]).roles_at(["roles"])
    }

    /// Auth0: scopes in `scope` and RBAC permissions in `permissions`, both as scopes; Auth0
    /// puts roles only in a namespaced custom claim, so add it with
    /// [`roles_at`](Self::roles_at).
    ///
    /// ```
    /// let grants = tower_jwt_auth::authorize::GrantPaths::auth0();
    /// ```
    pub fn auth0() -> Self {
        Self::new().scopes_at(["scope", "permissions"])
    }

    /// The requirement that `scope` be granted at one of the scope paths. It names `scope` among
    /// its OAuth scopes ([`Requirement::scopes`]).
    ///
    /// ```
    /// use tower_jwt_auth::authorize::GrantPaths;
    ///
    /// let read = GrantPaths::entra_id().scope("Orders.Read");
    /// assert!(read.is_met(&serde_json::json!({"scp": "User.Read Orders.Read"})));
    /// assert_eq!(read.scopes().collect::<Vec<_>>(), ["Orders.Read"]);
    /// ```
    pub fn scope(&self, scope: impl Into<String>) -> Requirement<Value> {
        let scope: String = scope.into();
        let paths = Arc::clone(&self.scopes);
        let wanted = scope.clone();
        let requirement = Requirement::predicate(scope.clone(), move |claims: &Value| {
            granted(claims, &paths, &wanted, Split::Spaces)
        });
        requirement.naming_scopes([scope])
    }

    /// The requirement that `role` be granted at one of the role paths.
    ///
    /// ```
    /// use tower_jwt_auth::authorize::GrantPaths;
    ///
    /// let admins = GrantPaths::cognito().role("admin");
    /// assert!(admins.is_met(&serde_json::json!({"cognito:groups": ["admin"]})));
    /// ```
    pub fn role(&self, role: impl Into<String>) -> Requirement<Value> {
        let role: String = role.into();
        let paths = Arc::clone(&self.roles);
        let wanted = role.clone();
        Requirement::predicate(role, move |claims: &Value| {
            granted(claims, &paths, &wanted, Split::Whole)
        })
    }

    /// Whether `claims` grant `scope` at one of the scope paths (for a handler's own check).
    ///
    /// ```
    /// let grants = tower_jwt_auth::authorize::GrantPaths::auth0();
    /// assert!(grants.has_scope(&serde_json::json!({"permissions": ["read:orders"]}), "read:orders"));
    /// ```
    pub fn has_scope(&self, claims: &Value, scope: &str) -> bool {
        granted(claims, &self.scopes, scope, Split::Spaces)
    }

    /// Whether `claims` grant `role` at one of the role paths.
    ///
    /// ```
    /// let grants = tower_jwt_auth::authorize::GrantPaths::entra_id();
    /// assert!(grants.has_role(&serde_json::json!({"roles": ["Orders.Admin"]}), "Orders.Admin"));
    /// ```
    pub fn has_role(&self, claims: &Value, role: &str) -> bool {
        granted(claims, &self.roles, role, Split::Whole)
    }
}

/// Claim names as JSON Pointers (`scp` → `/scp`, escaped), pointers kept.
fn pointers<I: IntoIterator<Item = impl Into<String>>>(paths: I) -> Arc<[Box<str>]> {
    paths
        .into_iter()
        .map(|path| {
            let path: String = path.into();
            if path.starts_with('/') {
                path.into_boxed_str()
            } else {
                format!("/{}", path.replace('~', "~0").replace('/', "~1")).into_boxed_str()
            }
        })
        .collect()
}

/// How a string value lists what it grants: a space-delimited list (scopes), or one name
/// (roles).
#[derive(Clone, Copy)]
enum Split {
    Spaces,
    Whole,
}

/// Whether the value at one of `paths` grants `wanted` (never the empty name): a string that
/// lists it, or an array of strings that holds it.
fn granted(claims: &Value, paths: &[Box<str>], wanted: &str, split: Split) -> bool {
    !wanted.is_empty()
        && paths
            .iter()
            .any(|path| match (claims.pointer(path), split) {
                (Some(Value::String(list)), Split::Spaces) => list.split(' ').any(|s| s == wanted),
                (Some(Value::String(one)), Split::Whole) => one == wanted,
                (Some(Value::Array(list)), _) => list.iter().any(|s| s.as_str() == Some(wanted)),
                _ => false,
            })
}
