//! [`JwtService`]: find the token, verify it, put the claims in the request extensions, call
//! the inner service. A refused request never reaches the inner service.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use serde::de::DeserializeOwned;
use tower_service::Service;

use super::body::ResponseBody;
use super::config::Config;
use super::future::{Policy, ResponseFuture};
use crate::auth::{Auth, Unauthenticated};
use crate::dpop::{Dpop, NextNonce, ProofPassed};
use crate::error::AuthError;
use crate::observe;
use crate::verify::Attempt;
#[cfg(feature = "jwks")]
use crate::verify::Csrf;

/// The service made by [`JwtLayer`](crate::JwtLayer): finds the token, verifies it, inserts
/// [`Auth<C>`](crate::Auth), and calls the inner service; refusals made inside it are answered
/// with the layer's realm and `on_error`.
///
/// ```
/// use std::convert::Infallible;
/// use tower::{service_fn, Layer};
/// use tower_jwt_auth::middleware::JwtService;
/// use tower_jwt_auth::{JwtLayer, VerifyingKey};
///
/// let handler = service_fn(|_: http::Request<()>| async { Ok::<_, Infallible>(http::Response::new(String::new())) });
/// let layer = JwtLayer::<serde_json::Value>::new(VerifyingKey::hs256([7u8; 32])?);
/// let service: JwtService<_, serde_json::Value> = layer.layer(handler);
/// let _handler = service.get_ref(); // the wrapped service
/// # Ok::<(), tower_jwt_auth::keys::KeyError>(())
/// ```
pub struct JwtService<S, C> {
    inner: S,
    config: Arc<Config>,
    _claims: PhantomData<fn() -> C>,
}

impl<S, C> JwtService<S, C> {
    pub(crate) fn new(inner: S, config: Arc<Config>) -> Self {
        Self {
            inner,
            config,
            _claims: PhantomData,
        }
    }

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

impl<S, C, ReqBody, ResBody> Service<Request<ReqBody>> for JwtService<S, C>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone,
    C: DeserializeOwned + Clone + Send + Sync + 'static,
    ReqBody: Send + 'static,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S, ReqBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        let dpop = self.config.dpop.clone();
        let mut dpop_request = false;
        let attempt = match self.config.source.locate(req.headers(), dpop.is_some()) {
            Ok(Some(found)) => {
                dpop_request = found.dpop;
                let csrf = self.config.csrf(&found, req.method(), req.headers());
                let rules = &self.config.rules;
                // A hit compares all the bytes with a token that passed every check, so only a
                // miss needs the characters checked.
                let verdict = match rules.verify_hit::<C>(found.bytes(), csrf) {
                    Some(verdict) => verdict,
                    None => match found.token() {
                        Ok(token) => match rules.verify_uncached::<C>(token, csrf) {
                            Attempt::Done(verdict) => verdict,
                            #[cfg(feature = "jwks")]
                            Attempt::Fetch(pending) => {
                                let (token, csrf) = (token.to_owned(), csrf.to_owned());
                                let dpop_scheme = found.dpop;
                                return self.verify_later(req, token, csrf, pending, dpop_scheme);
                            }
                        },
                        Err(error) => Err(error),
                    },
                };
                match (verdict, dpop) {
                    // The token verified; its binding to the proof key is checked now and
                    // the proof's single use once the replay store answers.
                    (Ok(accepted), Some(dpop)) => {
                        let now = self.config.rules.clock.now();
                        let bound_to = accepted.bound_to.as_deref();
                        let checked = found
                            .token()
                            .and_then(|token| dpop.check(found.dpop, token, bound_to, &req, now));
                        let claims = accepted.claims;
                        match checked {
                            Ok(None) => Ok(Some(claims)),
                            Ok(Some(passed)) => return self.bind_later(req, claims, dpop, passed),
                            Err(error) => Err(error),
                        }
                    }
                    (verdict, _) => verdict.map(|accepted| Some(accepted.claims)),
                }
            }
            Ok(None) if self.config.anonymous => Ok(None),
            Ok(None) => Err(AuthError::MissingToken),
            Err(error) => Err(error),
        };
        match attempt {
            Ok(Some(claims)) => {
                observe::accepted();
                req.extensions_mut().insert(Auth(claims));
            }
            Ok(None) => {
                observe::anonymous();
                req.extensions_mut().insert(Unauthenticated::<C>::new());
            }
            Err(error) => {
                return ResponseFuture::rejected(self.config.reject(&error, req.headers()));
            }
        }
        ResponseFuture::inner(self.inner.call(req), self.policy(dpop_request))
    }
}

impl<S, C> JwtService<S, C>
where
    C: DeserializeOwned + Clone + Send + Sync + 'static,
{
    /// The slow path, taken only when keys must be fetched first.
    #[cfg(feature = "jwks")]
    fn verify_later<ReqBody, ResBody>(
        &mut self,
        req: Request<ReqBody>,
        token: String,
        csrf: Csrf<String>,
        pending: crate::verify::PendingKeys,
        dpop_scheme: bool,
    ) -> ResponseFuture<S, ReqBody>
    where
        S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone,
        ReqBody: Send + 'static,
    {
        let config = self.config.clone();
        self.later(dpop_scheme, async move {
            let csrf = csrf.as_deref();
            let verdict = config
                .rules
                .verify_after_fetch::<C>(&token, pending, csrf)
                .await;
            let (bound, next_nonce) = match (verdict, &config.dpop) {
                (Ok(accepted), Some(dpop)) => {
                    let now = config.rules.clock.now();
                    let bound_to = accepted.bound_to.as_deref();
                    let claims = accepted.claims;
                    match dpop.check(dpop_scheme, &token, bound_to, &req, now) {
                        Ok(None) => (Ok(claims), None),
                        Ok(Some(passed)) => take_proof(dpop, claims, passed).await,
                        Err(error) => (Err(error), None),
                    }
                }
                (verdict, _) => (verdict.map(|accepted| accepted.claims), None),
            };
            admit(&config, req, bound, next_nonce)
        })
    }

    /// A DPoP request whose token and proof passed: it goes on once the replay store has
    /// taken its proof for the first time (a boxed future, as the store may be remote).
    fn bind_later<ReqBody, ResBody>(
        &mut self,
        req: Request<ReqBody>,
        claims: Arc<C>,
        dpop: Arc<Dpop>,
        passed: ProofPassed,
    ) -> ResponseFuture<S, ReqBody>
    where
        S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone,
        ReqBody: Send + 'static,
    {
        let config = self.config.clone();
        self.later(true, async move {
            let (bound, next_nonce) = take_proof(&dpop, claims, passed).await;
            admit(&config, req, bound, next_nonce)
        })
    }

    /// A request decided by `auth`, which awaits first: the ready inner service moves into
    /// the future (a fresh clone stays behind), so it is called only once the request passed.
    fn later<ReqBody, ResBody, F>(
        &mut self,
        dpop_request: bool,
        auth: F,
    ) -> ResponseFuture<S, ReqBody>
    where
        S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone,
        F: Future<Output = Result<Request<ReqBody>, Response<Bytes>>> + Send + 'static,
    {
        let clone = self.inner.clone();
        let ready = std::mem::replace(&mut self.inner, clone);
        ResponseFuture::pending(Box::pin(auth), ready, self.policy(dpop_request))
    }
}

/// The end of a DPoP request whose proof passed the checks made at once: its single use, then
/// the claims, and the nonce its response hands out.
async fn take_proof<C>(
    dpop: &Dpop,
    claims: Arc<C>,
    passed: ProofPassed,
) -> (Result<Arc<C>, AuthError>, Option<NextNonce>) {
    let verdict = dpop.first_use(&passed.replay).await.map(|()| claims);
    (verdict, passed.next_nonce)
}

/// The request with its claims (and the nonce its response hands out), on its way to the
/// inner service, or the layer's refusal.
// The output of a pending verification (`PendingAuth`), moved once per such request.
#[allow(clippy::result_large_err)]
fn admit<B, C: Send + Sync + 'static>(
    config: &Config,
    mut req: Request<B>,
    verdict: Result<Arc<C>, AuthError>,
    next_nonce: Option<NextNonce>,
) -> Result<Request<B>, Response<Bytes>> {
    match verdict {
        Ok(claims) => {
            observe::accepted();
            req.extensions_mut().insert(Auth(claims));
            if let Some(nonce) = next_nonce {
                req.extensions_mut().insert(nonce);
            }
            Ok(req)
        }
        Err(error) => Err(config.reject(&error, req.headers())),
    }
}

impl<S, C> JwtService<S, C> {
    /// The config, for the response future, when refusals made inside must be answered anew.
    fn policy(&self, dpop_request: bool) -> Option<Policy> {
        self.config.answers_inner_refusals().then(|| Policy {
            config: self.config.clone(),
            dpop_request,
            next_nonce: None,
        })
    }
}

impl<S: Clone, C> Clone for JwtService<S, C> {
    fn clone(&self) -> Self {
        Self::new(self.inner.clone(), self.config.clone())
    }
}

impl<S: fmt::Debug, C> fmt::Debug for JwtService<S, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtService")
            .field("inner", &self.inner)
            .field("claims", &std::any::type_name::<C>())
            .finish_non_exhaustive()
    }
}
