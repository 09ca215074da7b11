//! The bearer JWT security scheme in a utoipa OpenAPI document (cargo feature `utoipa`), with
//! each secured operation's scopes taken from the [`Requirement`] that enforces them, so the
//! document and the checks have one source.

use std::fmt;

use http::Method;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Components, OpenApi};

use crate::authorize::Requirement;

/// Documents the routes a [`JwtLayer`](crate::JwtLayer) protects: a bearer JWT security scheme
/// (`type: http`, `scheme: bearer`, `bearerFormat: JWT`) and, on each secured operation, the
/// OAuth scopes its [`Requirement`] enforces: one security requirement per alternative
/// ([`Requirement::scope_alternatives`]: `any_of` makes several, which OpenAPI reads as "any
/// one of"; OpenAPI 3.1 allows a scope list on any scheme). Apply it as a
/// utoipa [`Modify`](utoipa::Modify), or with [`apply`](Self::apply) to learn of a path the
/// document lacks instead of a panic.
///
/// Paths are the document's path templates (`/orders/{id}`), not axum's (`/orders/{id}` too in
/// axum 0.8). A secured operation's `security` is replaced by this scheme's requirement.
///
/// ```
/// use http::Method;
/// use tower_jwt_auth::openapi::JwtSecurity;
/// use tower_jwt_auth::Requirement;
/// use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem, PathsBuilder};
/// use utoipa::openapi::OpenApiBuilder;
///
/// let write = Requirement::<serde_json::Value>::scope("orders:write");
/// let mut doc = OpenApiBuilder::new()
///     .paths(
///         PathsBuilder::new()
///             .path("/orders", PathItem::new(HttpMethod::Get, OperationBuilder::new()))
///             .path("/orders", PathItem::new(HttpMethod::Post, OperationBuilder::new()))
///             .path("/health", PathItem::new(HttpMethod::Get, OperationBuilder::new())),
///     )
///     .build();
/// JwtSecurity::new("bearer_jwt")
///     .secure("/orders")
///     .require(Method::POST, "/orders", &write)
///     .apply(&mut doc)?;
/// let json = serde_json::to_value(&doc)?;
/// assert_eq!(json["components"]["securitySchemes"]["bearer_jwt"]["bearerFormat"], "JWT");
/// assert_eq!(json["paths"]["/orders"]["get"]["security"], serde_json::json!([{"bearer_jwt": []}]));
/// assert_eq!(json["paths"]["/orders"]["post"]["security"], serde_json::json!([{"bearer_jwt": ["orders:write"]}]));
/// assert!(json["paths"]["/health"]["get"].get("security").is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct JwtSecurity {
    scheme: String,
    description: Option<String>,
    every_operation: bool,
    routes: Vec<Route>,
}

#[derive(Clone, Debug)]
struct Route {
    path: String,
    /// `None`: every operation of the path.
    method: Option<Method>,
    /// Alternatives: one security requirement each.
    scope_sets: Vec<Vec<String>>,
}

/// A route named in a [`JwtSecurity`] that the OpenAPI document does not have.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MissingRoute {
    /// The operation's method; `None` for every operation of the path.
    pub method: Option<Method>,
    /// The path template.
    pub path: String,
}

impl fmt::Display for MissingRoute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.method {
            Some(method) => write!(f, "the OpenAPI document has no `{method} {}`", self.path),
            None => write!(
                f,
                "the OpenAPI document has no operation at `{}`",
                self.path
            ),
        }
    }
}

impl std::error::Error for MissingRoute {}

impl JwtSecurity {
    /// A security scheme named `scheme` (the key under `components.securitySchemes`).
    ///
    /// ```
    /// let security = tower_jwt_auth::openapi::JwtSecurity::new("bearer_jwt");
    /// ```
    pub fn new(scheme: impl Into<String>) -> Self {
        Self {
            scheme: scheme.into(),
            description: None,
            every_operation: false,
            routes: Vec::new(),
        }
    }

    /// The scheme's description (Markdown), e.g. where tokens come from.
    ///
    /// ```
    /// let security = tower_jwt_auth::openapi::JwtSecurity::new("bearer_jwt")
    ///     .description("An access token from https://auth.example.com");
    /// ```
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Every operation of the document needs a token (a layer around the whole app); the
    /// operations named with [`require`](Self::require) keep their scopes.
    ///
    /// ```
    /// let security = tower_jwt_auth::openapi::JwtSecurity::new("bearer_jwt").secure_every_operation();
    /// ```
    pub fn secure_every_operation(mut self) -> Self {
        self.every_operation = true;
        self
    }

    /// Every operation of `path` needs a token, with no scope. For an operation named by both,
    /// the later of this and [`require`](Self::require) decides its scopes.
    ///
    /// ```
    /// let security = tower_jwt_auth::openapi::JwtSecurity::new("bearer_jwt").secure("/me");
    /// ```
    pub fn secure(mut self, path: impl Into<String>) -> Self {
        self.routes.push(Route {
            path: path.into(),
            method: None,
            scope_sets: vec![Vec::new()],
        });
        self
    }

    /// The `method` operation of `path` needs a token that meets `requirement`: its OAuth
    /// scopes are listed, one security requirement per alternative (roles and predicates have
    /// no OpenAPI form and are not).
    ///
    /// ```
    /// use tower_jwt_auth::{openapi::JwtSecurity, Requirement};
    ///
    /// let read = Requirement::<serde_json::Value>::scope("orders:read");
    /// let security = JwtSecurity::new("bearer_jwt").require(http::Method::GET, "/orders", &read);
    /// ```
    pub fn require<C>(
        mut self,
        method: Method,
        path: impl Into<String>,
        requirement: &Requirement<C>,
    ) -> Self {
        self.routes.push(Route {
            path: path.into(),
            method: Some(method),
            scope_sets: requirement
                .scope_alternatives()
                .into_iter()
                .map(|set| set.into_iter().map(str::to_owned).collect())
                .collect(),
        });
        self
    }

    /// Adds the scheme and the security requirements to `doc`.
    ///
    /// # Errors
    /// [`MissingRoute`] for a route named here that `doc` lacks (nothing is changed then).
    pub fn apply(&self, doc: &mut OpenApi) -> Result<(), MissingRoute> {
        for route in &self.routes {
            let found = doc
                .paths
                .paths
                .get_mut(&route.path)
                .is_some_and(|item| operations_mut(item).any(|(m, _)| route.covers(&m)));
            if !found {
                return Err(MissingRoute {
                    method: route.method.clone(),
                    path: route.path.clone(),
                });
            }
        }
        let mut scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("JWT");
        if let Some(description) = &self.description {
            scheme = scheme.description(Some(description.clone()));
        }
        doc.components
            .get_or_insert_with(Components::new)
            .add_security_scheme(&self.scheme, SecurityScheme::Http(scheme.build()));
        for (path, item) in doc.paths.paths.iter_mut() {
            for (method, operation) in operations_mut(item) {
                // The last route naming this operation wins, so `require` after `secure` adds
                // scopes.
                let route = self
                    .routes
                    .iter()
                    .rev()
                    .find(|r| r.path == *path && r.covers(&method));
                let scope_sets = match route {
                    Some(route) => route.scope_sets.clone(),
                    None if self.every_operation => vec![Vec::new()],
                    None => continue,
                };
                // Alternatives, as OpenAPI reads a list of security requirements.
                let requirements = scope_sets
                    .into_iter()
                    .map(|scopes| SecurityRequirement::new(&self.scheme, scopes))
                    .collect();
                operation.security = Some(requirements);
            }
        }
        Ok(())
    }
}

impl Route {
    fn covers(&self, method: &Method) -> bool {
        self.method.as_ref().is_none_or(|m| m == method)
    }
}

impl utoipa::Modify for JwtSecurity {
    /// As [`JwtSecurity::apply`].
    ///
    /// # Panics
    /// With [`MissingRoute`]'s message, when a route named here is not in the document: the
    /// document would otherwise show a protected route as public.
    fn modify(&self, doc: &mut OpenApi) {
        if let Err(missing) = self.apply(doc) {
            panic!("tower_jwt_auth::openapi::JwtSecurity: {missing}");
        }
    }
}

/// The operations of a path item with their methods.
fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = (Method, &mut Operation)> {
    let fixed = [
        (Method::GET, &mut item.get),
        (Method::PUT, &mut item.put),
        (Method::POST, &mut item.post),
        (Method::DELETE, &mut item.delete),
        (Method::OPTIONS, &mut item.options),
        (Method::HEAD, &mut item.head),
        (Method::PATCH, &mut item.patch),
        (Method::TRACE, &mut item.trace),
    ];
    fixed
        .into_iter()
        .filter_map(|(m, op)| Some((m, op.as_mut()?)))
}
