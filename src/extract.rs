//! The axum extractor (cargo feature `axum`): [`Auth<C>`](crate::Auth) and
//! `Option<Auth<C>>` as handler arguments, and [`AuthRejection`], why one was refused.

use std::fmt;

use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use axum_core::response::{IntoResponse, Response};
use http::StatusCode;
use http::request::Parts;

use crate::auth::{Auth, Unauthenticated, missing_layer};
use crate::error::AuthError;

/// Why the [`Auth<C>`](crate::Auth) extractor refused a request.
///
/// ```
/// use axum_core::extract::FromRequestParts;
/// use tower_jwt_auth::{Auth, AuthError};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let (mut parts, ()) = http::Request::new(()).into_parts();
/// let rejection = Auth::<serde_json::Value>::from_request_parts(&mut parts, &()).await.unwrap_err();
/// assert!(rejection.is_missing_layer());
/// assert_eq!(rejection.status(), 500);
/// assert_eq!(rejection.error(), None);
/// # });
/// ```
#[derive(Debug)]
pub struct AuthRejection {
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    /// No `JwtLayer<C>` for this claims type covers the route.
    MissingLayer { claims_type: &'static str },
    /// The layer allows anonymous requests and this one carried no token.
    Refused(AuthError),
}

impl AuthRejection {
    /// The refusal, when the request was refused for its credentials: [`AuthError::MissingToken`]
    /// for an anonymous request to a handler that needs `Auth<C>`; `None` for a missing layer.
    pub fn error(&self) -> Option<&AuthError> {
        match &self.kind {
            Kind::Refused(error) => Some(error),
            Kind::MissingLayer { .. } => None,
        }
    }

    /// The HTTP status of the response: the refusal's, or 500 for a missing layer.
    pub fn status(&self) -> StatusCode {
        match &self.kind {
            Kind::Refused(error) => error.status(),
            Kind::MissingLayer { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Whether the route lacks a `JwtLayer` for the claims type: a server bug, not the client's.
    pub fn is_missing_layer(&self) -> bool {
        matches!(self.kind, Kind::MissingLayer { .. })
    }
}

impl fmt::Display for AuthRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::MissingLayer { claims_type } => write!(
                f,
                "Auth<{claims_type}> extractor used on a route without JwtLayer<{claims_type}>"
            ),
            Kind::Refused(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for AuthRejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error().map(|e| e as _)
    }
}

impl IntoResponse for AuthRejection {
    /// A missing layer is a 500 saying only that (the type names go to the log); a refusal is
    /// the enclosing layer's answer to it (its realm and `on_error`).
    fn into_response(self) -> Response {
        match self.kind {
            Kind::MissingLayer { claims_type } => {
                missing_layer("Auth", claims_type).map(axum_core::body::Body::from)
            }
            Kind::Refused(error) => error.into_response(),
        }
    }
}

/// The claims of the request: `Ok(Some)` when verified, `Ok(None)` when an anonymous-allowing
/// layer let a request without a token through, `Err` when no layer covers the route.
fn from_extensions<C: Send + Sync + 'static>(
    parts: &Parts,
) -> Result<Option<Auth<C>>, AuthRejection> {
    if let Some(auth) = parts.extensions.get::<Auth<C>>() {
        return Ok(Some(auth.clone()));
    }
    if parts.extensions.get::<Unauthenticated<C>>().is_some() {
        return Ok(None);
    }
    Err(AuthRejection {
        kind: Kind::MissingLayer {
            claims_type: std::any::type_name::<C>(),
        },
    })
}

impl<C, S> OptionalFromRequestParts<S> for Auth<C>
where
    C: Send + Sync + 'static,
    S: Send + Sync,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        from_extensions(parts)
    }
}

impl<C, S> FromRequestParts<S> for Auth<C>
where
    C: Send + Sync + 'static,
    S: Send + Sync,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        from_extensions(parts)?.ok_or(AuthRejection {
            kind: Kind::Refused(AuthError::MissingToken),
        })
    }
}
