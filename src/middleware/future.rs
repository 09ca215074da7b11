//! The response future of [`JwtService`](super::JwtService): the inner service's future, a
//! rejection that is ready at once, or (only when keys must be fetched first) a boxed
//! verification that then calls the inner service. A refusal the inner service answered (a
//! `RequireLayer`, a handler's `require()?`) is answered anew with the layer's realm and
//! `on_error`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{HeaderValue, Request, Response};
use pin_project_lite::pin_project;
use tower_service::Service;

use super::body::ResponseBody;
use super::config::{Config, DPOP_NONCE};
use crate::dpop::NextNonce;
use crate::error::{Refused, quoted};

/// How the layer answers refusals made inside it: its config, and whether the request used
/// the `DPoP` scheme (its challenges are then `DPoP` ones); and the newer server nonce any
/// answer hands the client, when its proof carried an older one.
pub(crate) struct Policy {
    pub(crate) config: Arc<Config>,
    pub(crate) dpop_request: bool,
    pub(crate) next_nonce: Option<HeaderValue>,
}

/// A verification waiting for keys: the request with its claims inserted, or the rejection.
pub(crate) type PendingAuth<B> =
    Pin<Box<dyn Future<Output = Result<Request<B>, Response<Bytes>>> + Send>>;

pin_project! {
    /// Response future of [`JwtService`](super::JwtService): the inner service's future, a
    /// refusal ready at once, or (with remote keys) a key fetch in flight.
    ///
    /// Named only in the types of services that wrap a `JwtService`; see its example.
    pub struct ResponseFuture<S, B>
    where
        S: Service<Request<B>>,
    {
        #[pin]
        kind: Kind<S, B>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<S, B>
    where
        S: Service<Request<B>>,
    {
        // Built only with the `jwks` feature (pin-project-lite cannot `cfg` a variant).
        Pending { auth: PendingAuth<B>, service: Option<S>, policy: Option<Policy> },
        Inner { #[pin] future: S::Future, policy: Option<Policy> },
        Rejected { response: Option<Response<Bytes>> },
    }
}

impl<S: Service<Request<B>>, B> ResponseFuture<S, B> {
    /// The inner service's future; `policy` answers the refusals it returns, when the layer has
    /// a realm or `on_error` of its own.
    pub(crate) fn inner(future: S::Future, policy: Option<Policy>) -> Self {
        Self {
            kind: Kind::Inner { future, policy },
        }
    }

    pub(crate) fn rejected(response: Response<Bytes>) -> Self {
        Self {
            kind: Kind::Rejected {
                response: Some(response),
            },
        }
    }

    /// `service` has been polled ready; it is called once `auth` lets the request through.
    pub(crate) fn pending(auth: PendingAuth<B>, service: S, policy: Option<Policy>) -> Self {
        Self {
            kind: Kind::Pending {
                auth,
                service: Some(service),
                policy,
            },
        }
    }
}

impl<S, B, ResBody> Future for ResponseFuture<S, B>
where
    S: Service<Request<B>, Response = Response<ResBody>>,
{
    type Output = Result<Response<ResponseBody<ResBody>>, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.kind.as_mut().project() {
                KindProj::Inner { future, policy } => {
                    let response = ready!(future.poll(cx))?;
                    return Poll::Ready(Ok(match policy {
                        Some(policy) => answer_inner(policy, response),
                        None => response.map(ResponseBody::inner),
                    }));
                }
                KindProj::Rejected { response } => {
                    let response = response
                        .take()
                        .expect("ResponseFuture polled after completion");
                    return Poll::Ready(Ok(response.map(ResponseBody::rejection)));
                }
                KindProj::Pending {
                    auth,
                    service,
                    policy,
                } => match ready!(auth.as_mut().poll(cx)) {
                    Ok(mut request) => {
                        let mut service = service
                            .take()
                            .expect("ResponseFuture polled after completion");
                        let mut policy = policy.take();
                        // Taken out before the inner service sees the request.
                        let next_nonce = request.extensions_mut().remove::<NextNonce>();
                        if let (Some(policy), Some(NextNonce(nonce))) = (&mut policy, next_nonce) {
                            policy.next_nonce = Some(nonce);
                        }
                        let future = service.call(request);
                        this.kind.set(Kind::Inner { future, policy });
                    }
                    Err(response) => this.kind.set(Kind::Rejected {
                        response: Some(response),
                    }),
                },
            }
        }
    }
}

/// The inner response, or, when it is a refusal made inside the layer, the layer's answer to
/// it, keeping the headers other layers set on the way out.
fn answer_inner<B>(policy: &Policy, mut response: Response<B>) -> Response<ResponseBody<B>> {
    let config = &policy.config;
    if let Some(nonce) = &policy.next_nonce
        && !response.headers().contains_key(DPOP_NONCE)
    {
        response.headers_mut().insert(DPOP_NONCE, nonce.clone());
    }
    let Some(Refused(error)) = response.extensions_mut().remove::<Refused>() else {
        if let Some(url) = &config.resource_metadata {
            name_metadata(response.headers_mut(), url);
        }
        if let Some(dpop) = &config.dpop {
            config.dpop_inner_challenge(dpop, policy.dpop_request, response.headers_mut());
        }
        return response.map(ResponseBody::inner);
    };
    let mut answer = config.respond(&error);
    if let Some(dpop) = &config.dpop {
        config.dpop_challenges(dpop, &error, policy.dpop_request, answer.headers_mut());
    }
    let (parts, _) = response.into_parts();
    // `None` names continue the previous header: its values follow the first one's fate.
    let mut kept = None;
    for (name, value) in parts.headers {
        if let Some(name) = name {
            // The refusal's own headers (length, type, challenge) are the answer's to set.
            let refusal = [CONTENT_LENGTH, CONTENT_TYPE, WWW_AUTHENTICATE].contains(&name);
            let theirs = !refusal && !answer.headers().contains_key(&name);
            kept = theirs.then_some(name);
        }
        if let Some(name) = &kept {
            answer.headers_mut().append(name.clone(), value);
        }
    }
    answer.map(ResponseBody::rejection)
}

/// Adds `resource_metadata` (RFC 9728 §5.1) to the `Bearer` challenges made inside the layer
/// with their own policy (a `RequireLayer` with its own realm, a handler's own 401) that name
/// none; other schemes' challenges are left as they are.
fn name_metadata(headers: &mut http::HeaderMap, url: &str) {
    let named = |challenge: &http::HeaderValue| {
        let text = challenge.to_str().ok()?.trim_end();
        let scheme = text.split_once(' ').map_or(text, |(scheme, _)| scheme);
        if !scheme.eq_ignore_ascii_case("bearer")
            || text.contains("resource_metadata=")
            || holds_another_challenge(text)
        {
            return None;
        }
        let separator = if text.len() == scheme.len() {
            " "
        } else {
            ", "
        };
        let url = quoted(url);
        http::HeaderValue::try_from(format!("{text}{separator}resource_metadata=\"{url}\"")).ok()
    };
    if !headers
        .get_all(WWW_AUTHENTICATE)
        .iter()
        .any(|c| named(c).is_some())
    {
        return;
    }
    let challenges: Vec<_> = headers
        .get_all(WWW_AUTHENTICATE)
        .iter()
        .map(|c| named(c).unwrap_or_else(|| c.clone()))
        .collect();
    headers.remove(WWW_AUTHENTICATE);
    for challenge in challenges {
        headers.append(WWW_AUTHENTICATE, challenge);
    }
}

/// Whether a `WWW-Authenticate` value holds a second challenge after the first (RFC 9110
/// §11.6.1: `Bearer realm="a", Basic realm="b"`): a comma-separated element, outside quoted
/// strings, that starts with a token not followed by `=` is a new auth-scheme. Such a value is
/// left alone rather than given a parameter that would read as the last challenge's.
fn holds_another_challenge(value: &str) -> bool {
    let mut elements = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in value.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ',' if !quoted => {
                elements.push(&value[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    elements.push(&value[start..]);
    elements.iter().skip(1).any(|element| {
        let element = element.trim_start();
        let word = element.split([' ', '=']).next().unwrap_or_default();
        !word.is_empty() && !element[word.len()..].trim_start().starts_with('=')
    })
}

impl<S: Service<Request<B>>, B> std::fmt::Debug for ResponseFuture<S, B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}
