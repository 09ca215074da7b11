//! Authorization after authentication: [`Requirement`]s over the verified claims (scopes, roles,
//! any predicate), checked per route by [`RequireLayer`] or in a handler by [`Auth::require`].
//! A valid token that lacks what is required is answered 403 `insufficient_scope`.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use serde_json::Value;
use tower_layer::Layer;
use tower_service::Service;

use crate::body::ResponseBody;
use crate::error::{is_grpc, AuthError};
use crate::extract::{Auth, Unauthenticated};
use crate::future::ResponseFuture;
use crate::layer::ErrorResponder;

/// What a set of claims grants: OAuth scopes and roles.
///
/// Implemented for `serde_json::Value`, reading the space-delimited `scope` claim (RFC 8693,
/// RFC 9068), `scp` (a string or an array), `permissions` (Auth0), and roles from `roles` and
/// Keycloak's `realm_access.roles`. Implement it for your own claims type to use
/// [`Requirement::scope`] and [`Requirement::role`] with it.
pub trait Grants {
    /// Whether `scope` is granted.
    fn has_scope(&self, scope: &str) -> bool;

    /// Whether the role `role` is granted.
    fn has_role(&self, role: &str) -> bool {
        let _ = role;
        false
    }
}

impl Grants for Value {
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
}

impl<C> Clone for Requirement<C> {
    fn clone(&self) -> Self {
        Self {
            check: self.check.clone(),
            scope: self.scope.clone(),
        }
    }
}

impl<C> fmt::Debug for Requirement<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Requirement")
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl<C: Grants + 'static> Requirement<C> {
    /// The scope `scope` must be granted.
    pub fn scope(scope: impl Into<String>) -> Self {
        let scope: String = scope.into();
        let wanted = scope.clone();
        Self::predicate(scope, move |claims: &C| claims.has_scope(&wanted))
    }

    /// The role `role` must be granted.
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
        }
    }

    /// Every one of `requirements` must be met.
    pub fn all_of(requirements: impl IntoIterator<Item = Self>) -> Self {
        let all: Vec<Self> = requirements.into_iter().collect();
        let scope = join(&all);
        Self::predicate(scope, move |claims: &C| {
            all.iter().all(|r| r.is_met(claims))
        })
    }

    /// At least one of `requirements` must be met.
    pub fn any_of(requirements: impl IntoIterator<Item = Self>) -> Self {
        let any: Vec<Self> = requirements.into_iter().collect();
        let scope = join(&any);
        Self::predicate(scope, move |claims: &C| {
            any.iter().any(|r| r.is_met(claims))
        })
    }

    /// Whether `claims` meet this requirement.
    pub fn is_met(&self, claims: &C) -> bool {
        (self.check)(claims)
    }

    /// `Ok` when met, else [`AuthError::InsufficientScope`] (403).
    pub fn check(&self, claims: &C) -> Result<(), AuthError> {
        if self.is_met(claims) {
            Ok(())
        } else {
            Err(AuthError::InsufficientScope {
                scope: self.scope.to_string(),
            })
        }
    }

    /// This requirement as a layer, for `Router::route_layer` behind a `JwtLayer<C>`.
    pub fn layer(self) -> RequireLayer<C> {
        RequireLayer {
            requirement: self,
            realm: None,
            on_error: None,
            _claims: PhantomData,
        }
    }
}

fn join<C>(requirements: &[Requirement<C>]) -> String {
    requirements
        .iter()
        .map(|r| &*r.scope)
        .collect::<Vec<_>>()
        .join(" ")
}

impl<C> Auth<C> {
    /// Checks a requirement inside a handler: `auth.require(&write)?;` answers 403 when unmet.
    ///
    /// ```
    /// use serde_json::{json, Value};
    /// use tower_jwt_auth::{Auth, Requirement};
    ///
    /// let auth = Auth(json!({"scope": "orders:read"}));
    /// assert!(auth.require(&Requirement::scope("orders:read")).is_ok());
    /// assert_eq!(auth.require(&Requirement::scope("orders:write")).unwrap_err().status(), 403);
    /// ```
    pub fn require(&self, requirement: &Requirement<C>) -> Result<(), AuthError>
    where
        C: 'static,
    {
        requirement.check(&self.0)
    }
}

/// A layer that lets a request through only when its verified claims meet a [`Requirement`];
/// it must sit inside (after) a `JwtLayer<C>`. Made by [`Requirement::layer`].
pub struct RequireLayer<C> {
    requirement: Requirement<C>,
    realm: Option<Arc<str>>,
    on_error: Option<Arc<ErrorResponder>>,
    _claims: PhantomData<fn() -> C>,
}

impl<C> RequireLayer<C> {
    /// The `realm` of this layer's challenges (set it like the `JwtLayer`'s).
    ///
    /// ```
    /// let admins = tower_jwt_auth::Requirement::<serde_json::Value>::role("admin").layer().realm("api");
    /// ```
    #[must_use]
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = Some(realm.into().into());
        self
    }

    /// Replaces the HTTP response for refused requests, e.g. an HTML 403 page (gRPC calls keep
    /// their gRPC status).
    ///
    /// ```
    /// use bytes::Bytes;
    /// use http::Response;
    ///
    /// let admins = tower_jwt_auth::Requirement::<serde_json::Value>::role("admin").layer().on_error(|err| {
    ///     let mut res = Response::new(Bytes::from_static(b"<h1>Admins only</h1>"));
    ///     *res.status_mut() = err.status();
    ///     res
    /// });
    /// ```
    #[must_use]
    pub fn on_error<F>(mut self, respond: F) -> Self
    where
        F: Fn(&AuthError) -> Response<Bytes> + Send + Sync + 'static,
    {
        self.on_error = Some(Arc::new(respond));
        self
    }
}

impl<C> Clone for RequireLayer<C> {
    fn clone(&self) -> Self {
        Self {
            requirement: self.requirement.clone(),
            realm: self.realm.clone(),
            on_error: self.on_error.clone(),
            _claims: PhantomData,
        }
    }
}

impl<C> fmt::Debug for RequireLayer<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequireLayer")
            .field("requirement", &self.requirement)
            .finish()
    }
}

impl<S, C> Layer<S> for RequireLayer<C> {
    type Service = RequireService<S, C>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service made by [`RequireLayer`].
pub struct RequireService<S, C> {
    inner: S,
    layer: RequireLayer<C>,
}

impl<S: Clone, C> Clone for RequireService<S, C> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            layer: self.layer.clone(),
        }
    }
}

impl<S, C> fmt::Debug for RequireService<S, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequireService")
            .field("requirement", &self.layer.requirement)
            .finish_non_exhaustive()
    }
}

impl<S, C, ReqBody, ResBody> Service<Request<ReqBody>> for RequireService<S, C>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    C: Send + Sync + 'static,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S, ReqBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let verdict = match req.extensions().get::<Auth<C>>() {
            Some(Auth(claims)) => self.layer.requirement.check(claims),
            None if req.extensions().get::<Unauthenticated<C>>().is_some() => {
                Err(AuthError::MissingToken)
            }
            None => return ResponseFuture::rejected(missing_layer::<C>()),
        };
        match verdict {
            Ok(()) => ResponseFuture::inner(self.inner.call(req)),
            Err(error) => {
                tracing::debug!(target: "tower_jwt_auth", error = %error, "request refused");
                let response = match &self.layer.on_error {
                    _ if is_grpc(req.headers()) => error.to_grpc_response(),
                    Some(respond) => respond(&error),
                    None => error.to_response(self.layer.realm.as_deref()),
                };
                ResponseFuture::rejected(response)
            }
        }
    }
}

/// A requirement on a route no `JwtLayer<C>` covers is a server bug: 500, naming the fix.
fn missing_layer<C>() -> Response<Bytes> {
    let claims = std::any::type_name::<C>();
    let message = format!(
        "RequireLayer<{claims}> on a route without JwtLayer<{claims}>: add the JwtLayer outside (after) it"
    );
    tracing::error!(target: "tower_jwt_auth", "{message}");
    let mut response = Response::new(Bytes::from(message));
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response
}
