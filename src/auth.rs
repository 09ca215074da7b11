//! [`Auth<C>`]: the verified claims, as the request extension every reader relies on (the axum
//! extractor, [`RequireLayer`](crate::authorize::RequireLayer), a tonic handler), and the marker
//! an anonymous-allowing layer leaves on a request without a token.

use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::Arc;

/// The verified claims of the request.
///
/// [`JwtLayer<C>`](crate::JwtLayer) puts an `Auth<C>` in the request extensions. In axum, take
/// it as a handler argument; elsewhere (tonic, plain Tower), read it with
/// `extensions().get::<Auth<C>>()`.
///
/// The claims are shared, not copied: the layer decodes them once into an [`Arc`], and every
/// reader of the request (this extractor, [`RequireLayer`](crate::authorize::RequireLayer), a
/// cache hit of [`JwtLayer::token_cache`](crate::JwtLayer::token_cache)) takes a reference
/// count. Fields read through it as through `C` (`claims.sub`); to own one, clone it
/// (`claims.sub.clone()`), or take the whole `C` with [`Auth::into_inner`].
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
#[derive(Debug, PartialEq, Eq)]
pub struct Auth<C>(pub Arc<C>);

impl<C> Auth<C> {
    /// The claims as an owned `C`: moved out when nothing else shares them (no cache, no
    /// other reader), cloned otherwise.
    ///
    /// ```
    /// use tower_jwt_auth::Auth;
    ///
    /// let auth = Auth::from(String::from("ada"));
    /// assert_eq!(auth.into_inner(), "ada");
    /// ```
    pub fn into_inner(self) -> C
    where
        C: Clone,
    {
        Arc::unwrap_or_clone(self.0)
    }
}

impl<C> From<C> for Auth<C> {
    fn from(claims: C) -> Self {
        Self(Arc::new(claims))
    }
}

impl<C> Clone for Auth<C> {
    /// A reference count, whatever `C` is.
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<C> Deref for Auth<C> {
    type Target = C;

    fn deref(&self) -> &C {
        &self.0
    }
}

/// Left by a layer that allows anonymous requests on a request that carried no token, so that
/// readers can tell "anonymous" from "no layer at all".
pub(crate) struct Unauthenticated<C>(PhantomData<fn() -> C>);

impl<C> Unauthenticated<C> {
    pub(crate) fn new() -> Self {
        Self(PhantomData)
    }
}

impl<C> Clone for Unauthenticated<C> {
    fn clone(&self) -> Self {
        Self::new()
    }
}

/// Logs a route that reads the claims without a `JwtLayer` for them (a server bug) with the
/// type names, and answers the client a 500 that says only that.
pub(crate) fn missing_layer(reader: &str, claims: &str) -> http::Response<bytes::Bytes> {
    tracing::error!(
        target: "tower_jwt_auth",
        "{reader}<{claims}> used on a route without JwtLayer<{claims}>: add \
         `.layer(JwtLayer::<{claims}>::new(..))` (or `.route_layer`) outside it"
    );
    let mut response =
        http::Response::new(bytes::Bytes::from_static(b"authentication layer missing"));
    *response.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
