//! [`Auth<C>`]: the verified claims, as a request extension (tonic, plain Tower) and, with the
//! `axum` feature, as an extractor (`Auth<C>` and `Option<Auth<C>>`).

use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use crate::layer::Config;

/// The verified claims of the request.
///
/// [`JwtLayer<C>`](crate::JwtLayer) puts an `Auth<C>` in the request extensions. In axum, take
/// it as a handler argument; elsewhere, read it with `extensions().get::<Auth<C>>()`.
///
/// ```
/// use serde::Deserialize;
/// use tower_jwt_auth::Auth;
///
/// #[derive(Clone, Deserialize)]
/// struct Claims { sub: String }
///
/// async fn profile(Auth(claims): Auth<Claims>) -> String {
///     format!("hello {}", claims.sub)
/// }
///
/// async fn greeting(auth: Option<Auth<Claims>>) -> String {
///     auth.map_or("hello stranger".into(), |Auth(c)| format!("hello {}", c.sub))
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Auth<C>(pub C);

impl<C> Deref for Auth<C> {
    type Target = C;

    fn deref(&self) -> &C {
        &self.0
    }
}

impl<C> DerefMut for Auth<C> {
    fn deref_mut(&mut self) -> &mut C {
        &mut self.0
    }
}

/// Left by an optional layer on a request that carried no token, so the extractor can tell
/// "anonymous" from "no layer at all".
pub(crate) struct Unauthenticated<C> {
    #[cfg_attr(not(feature = "axum"), allow(dead_code))]
    config: Arc<Config>,
    _claims: PhantomData<fn() -> C>,
}

impl<C> Unauthenticated<C> {
    pub(crate) fn new(config: Arc<Config>) -> Self {
        Self {
            config,
            _claims: PhantomData,
        }
    }
}

impl<C> Clone for Unauthenticated<C> {
    fn clone(&self) -> Self {
        Self::new(self.config.clone())
    }
}

#[cfg(feature = "axum")]
mod axum_impls {
    use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
    use axum_core::response::{IntoResponse, Response};
    use bytes::Bytes;
    use http::request::Parts;
    use http::StatusCode;

    use super::{Auth, Unauthenticated};
    use crate::error::AuthError;

    /// Why the [`Auth<C>`] extractor refused a request.
    #[derive(Debug)]
    #[non_exhaustive]
    pub enum AuthRejection {
        /// The route is not behind a `JwtLayer<C>` for this claims type: a server bug, answered
        /// 500 with a message that names the fix.
        MissingLayer {
            /// The claims type the extractor asked for.
            claims_type: &'static str,
        },
        /// The layer is optional and the request carried no token: the layer's 401.
        Unauthenticated(http::Response<Bytes>),
    }

    impl std::fmt::Display for AuthRejection {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            match self {
                Self::MissingLayer { claims_type } => write!(
                    f,
                    "Auth<{claims_type}> extractor used on a route without JwtLayer<{claims_type}>: \
                     add `.layer(JwtLayer::<{claims_type}>::new(..))` (or `.route_layer`) to the router"
                ),
                Self::Unauthenticated(_) => f.write_str("no bearer token"),
            }
        }
    }

    impl std::error::Error for AuthRejection {}

    impl IntoResponse for AuthRejection {
        fn into_response(self) -> Response {
            match self {
                Self::MissingLayer { .. } => {
                    let message = self.to_string();
                    tracing::error!(target: "tower_jwt_auth", "{message}");
                    (StatusCode::INTERNAL_SERVER_ERROR, message).into_response()
                }
                Self::Unauthenticated(response) => response.map(axum_core::body::Body::from),
            }
        }
    }

    impl IntoResponse for AuthError {
        fn into_response(self) -> Response {
            self.to_response(None).map(axum_core::body::Body::from)
        }
    }

    impl<C, S> OptionalFromRequestParts<S> for Auth<C>
    where
        C: Clone + Send + Sync + 'static,
        S: Send + Sync,
    {
        type Rejection = AuthRejection;

        async fn from_request_parts(
            parts: &mut Parts,
            _state: &S,
        ) -> Result<Option<Self>, Self::Rejection> {
            if let Some(auth) = parts.extensions.get::<Auth<C>>() {
                return Ok(Some(auth.clone()));
            }
            if parts.extensions.get::<Unauthenticated<C>>().is_some() {
                return Ok(None);
            }
            Err(AuthRejection::MissingLayer {
                claims_type: std::any::type_name::<C>(),
            })
        }
    }

    impl<C, S> FromRequestParts<S> for Auth<C>
    where
        C: Clone + Send + Sync + 'static,
        S: Send + Sync,
    {
        type Rejection = AuthRejection;

        async fn from_request_parts(
            parts: &mut Parts,
            _state: &S,
        ) -> Result<Self, Self::Rejection> {
            if let Some(auth) = parts.extensions.get::<Auth<C>>() {
                return Ok(auth.clone());
            }
            match parts.extensions.get::<Unauthenticated<C>>() {
                Some(anonymous) => Err(AuthRejection::Unauthenticated(
                    anonymous
                        .config
                        .reject(&AuthError::MissingToken, &parts.headers),
                )),
                None => Err(AuthRejection::MissingLayer {
                    claims_type: std::any::type_name::<C>(),
                }),
            }
        }
    }
}

#[cfg(feature = "axum")]
pub use axum_impls::AuthRejection;
