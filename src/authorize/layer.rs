//! [`RequireLayer`]: a [`Requirement`] checked per route, inside a `JwtLayer<C>`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http::{Request, Response};
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use super::Requirement;
use crate::auth::{Auth, Unauthenticated, missing_layer};
use crate::error::{AuthError, Refused};
use crate::middleware::{
    ErrorContext, ErrorResponder, IntoErrorResponse, ResponseBody, is_grpc, responder,
};
use crate::observe;

/// A layer that lets a request through only when its verified claims meet a [`Requirement`];
/// it must sit inside (after) a `JwtLayer<C>`. Made by [`Requirement::layer`].
///
/// A refusal is a 403 `insufficient_scope` answered like the enclosing `JwtLayer`'s own
/// refusals (its realm and `on_error`), unless this layer sets a [`realm`](Self::realm) or an
/// [`on_error`](Self::on_error) of its own. gRPC calls get `PERMISSION_DENIED`.
/// ```
/// use axum::{body::Body, routing::get, Router};
/// use http::{Request, StatusCode};
/// use serde_json::{json, Value};
/// use tower::ServiceExt;
/// use tower_jwt_auth::{JwtLayer, Requirement, SigningKey, TokenIssuer, VerifyingKey};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let secret = b"an HS256 secret of at least 32 bytes!";
/// let app = Router::new()
///     .route("/admin", get(|| async { "hello, admin" }))
///     .route_layer(Requirement::<Value>::role("admin").layer())
///     .layer(JwtLayer::<Value>::new(VerifyingKey::hs256(secret)?).realm("staff"));
///
/// let token = TokenIssuer::new(SigningKey::hs256(secret)?).issue(&json!({"sub": "1", "roles": ["user"]}))?.token;
/// let request = Request::get("/admin").header("authorization", format!("Bearer {token}")).body(Body::empty())?;
/// let response = app.oneshot(request).await?;
/// assert_eq!(response.status(), StatusCode::FORBIDDEN);
/// assert_eq!(
///     response.headers()["www-authenticate"],
///     r#"Bearer realm="staff", error="insufficient_scope", error_description="insufficient scope", scope="admin""#,
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
/// ```
#[must_use = "a RequireLayer protects nothing until it wraps a service"]
pub struct RequireLayer<C> {
    requirement: Requirement<C>,
    realm: Option<Arc<str>>,
    on_error: Option<Arc<ErrorResponder>>,
}

impl<C> RequireLayer<C> {
    /// A layer that checks `requirement`; the same as [`Requirement::layer`].
    ///
    /// ```
    /// use tower_jwt_auth::authorize::RequireLayer;
    /// use tower_jwt_auth::Requirement;
    ///
    /// let readers = RequireLayer::<serde_json::Value>::new(Requirement::scope("orders:read"));
    /// ```
    pub fn new(requirement: Requirement<C>) -> Self {
        Self {
            requirement,
            realm: None,
            on_error: None,
        }
    }

    /// The `realm` of this layer's challenges, instead of the enclosing `JwtLayer`'s.
    ///
    /// ```
    /// let admins = tower_jwt_auth::Requirement::<serde_json::Value>::role("admin").layer().realm("admin-area");
    /// ```
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = Some(realm.into().into());
        self
    }

    /// This layer's own answer to its refusals, instead of the enclosing `JwtLayer`'s, e.g. an
    /// HTML 403 page on one route. Takes the same handlers as
    /// [`JwtLayer::on_error`](crate::JwtLayer::on_error), and keeps the challenge the same way.
    ///
    /// ```
    /// use http::StatusCode;
    ///
    /// let admins = tower_jwt_auth::Requirement::<serde_json::Value>::role("admin")
    ///     .layer()
    ///     .on_error(|_| (StatusCode::FORBIDDEN, "<h1>Admins only</h1>"));
    /// ```
    pub fn on_error<F, R>(mut self, respond: F) -> Self
    where
        F: Fn(ErrorContext<'_>) -> R + Send + Sync + 'static,
        R: IntoErrorResponse,
    {
        self.on_error = Some(responder(respond));
        self
    }

    /// The answer to `error`: the route's own policy, or the default marked for the
    /// enclosing layer to answer anew with its policy.
    fn respond(&self, error: AuthError) -> Response<Bytes> {
        observe::forbidden(error.reason());
        let realm = self.realm.as_deref();
        match &self.on_error {
            // The enclosing `JwtLayer` adds its metadata URL to the challenge.
            Some(respond) => respond(ErrorContext {
                error: &error,
                realm,
                resource_metadata: None,
            }),
            None if realm.is_some() => error.to_response(realm),
            None => {
                let mut response = error.to_response(None);
                response.extensions_mut().insert(Refused(error));
                response
            }
        }
    }
}

impl<C> Clone for RequireLayer<C> {
    fn clone(&self) -> Self {
        Self {
            requirement: self.requirement.clone(),
            realm: self.realm.clone(),
            on_error: self.on_error.clone(),
        }
    }
}

impl<C> fmt::Debug for RequireLayer<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequireLayer")
            .field("requirement", &self.requirement)
            .field("realm", &self.realm)
            .field("on_error", &self.on_error.is_some())
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

/// The service made by [`RequireLayer`]; its responses are [`ResponseBody`]s over the inner
/// service's body, and its future a [`RequireFuture`].
///
/// ```
/// use std::convert::Infallible;
/// use tower::{service_fn, Layer};
/// use tower_jwt_auth::authorize::RequireService;
/// use tower_jwt_auth::Requirement;
///
/// let handler = service_fn(|_: http::Request<()>| async { Ok::<_, Infallible>(http::Response::new(String::new())) });
/// let service: RequireService<_, serde_json::Value> = Requirement::scope("orders:read").layer().layer(handler);
/// let handler = service.into_inner(); // the wrapped service, back
/// ```
pub struct RequireService<S, C> {
    inner: S,
    layer: RequireLayer<C>,
}

impl<S, C> RequireService<S, C> {
    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Consumes `self`, returning the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
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
    type Future = RequireFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let verdict = match req.extensions().get::<Auth<C>>() {
            Some(auth) => self.layer.requirement.check(auth),
            None if req.extensions().get::<Unauthenticated<C>>().is_some() => {
                Err(AuthError::MissingToken)
            }
            None => {
                let response = missing_layer("RequireLayer", std::any::type_name::<C>());
                return RequireFuture::rejected(response);
            }
        };
        match verdict {
            Ok(()) => RequireFuture::inner(self.inner.call(req)),
            Err(error) => {
                tracing::debug!(target: "tower_jwt_auth", error = %error, "request refused");
                let response = if is_grpc(req.headers()) {
                    error.to_grpc_response()
                } else {
                    self.layer.respond(error)
                };
                RequireFuture::rejected(response)
            }
        }
    }
}

pin_project! {
    /// Response future of [`RequireService`]: the inner service's, or a refusal ready at once.
    ///
    /// Named only in the types of services that wrap a [`RequireService`]; see its example.
    pub struct RequireFuture<F> {
        #[pin]
        kind: Kind<F>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<F> {
        Inner { #[pin] future: F },
        Rejected { response: Option<Response<Bytes>> },
    }
}

impl<F> RequireFuture<F> {
    fn inner(future: F) -> Self {
        Self {
            kind: Kind::Inner { future },
        }
    }

    fn rejected(response: Response<Bytes>) -> Self {
        Self {
            kind: Kind::Rejected {
                response: Some(response),
            },
        }
    }
}

impl<F, ResBody, E> Future for RequireFuture<F>
where
    F: Future<Output = Result<Response<ResBody>, E>>,
{
    type Output = Result<Response<ResponseBody<ResBody>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProj::Inner { future } => {
                let response = ready!(future.poll(cx))?;
                Poll::Ready(Ok(response.map(ResponseBody::inner)))
            }
            KindProj::Rejected { response } => {
                let response = response
                    .take()
                    .expect("RequireFuture polled after completion");
                Poll::Ready(Ok(response.map(ResponseBody::rejection)))
            }
        }
    }
}

impl<F> fmt::Debug for RequireFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequireFuture").finish_non_exhaustive()
    }
}
