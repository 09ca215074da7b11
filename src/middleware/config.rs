//! What a [`JwtLayer`](super::JwtLayer) and its services share behind one `Arc`: the rules, where
//! the token comes from, the CSRF decision, and the one responder every refusal under the layer
//! goes through (gRPC status, the app's `on_error`, or the RFC 6750 default).

use std::sync::Arc;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Response};

use super::respond::{ErrorContext, ErrorResponder};
use crate::dpop::Dpop;
use crate::error::AuthError;
use crate::observe;
use crate::token_source::{Found, TokenSource};
use crate::verify::{Csrf, Rules};

/// The header that carries a server's DPoP nonce to the client (RFC 9449 §8.1, §9).
pub(super) const DPOP_NONCE: HeaderName = HeaderName::from_static("dpop-nonce");

/// The header that must echo the CSRF value of a cookie-carried token on unsafe requests,
/// unless a layer names another ([`JwtLayer::csrf_header`](super::JwtLayer::csrf_header)).
///
/// ```
/// assert_eq!(tower_jwt_auth::middleware::DEFAULT_CSRF_HEADER, "x-csrf-token");
/// ```
pub const DEFAULT_CSRF_HEADER: HeaderName = HeaderName::from_static("x-csrf-token");

#[derive(Clone)]
pub(crate) struct Config {
    pub(crate) rules: Rules,
    pub(crate) source: TokenSource,
    /// The header that must echo the token's CSRF value on cookie-authenticated unsafe
    /// requests; `None` turns the check off.
    pub(crate) csrf_header: Option<HeaderName>,
    pub(crate) anonymous: bool,
    pub(crate) realm: Option<Box<str>>,
    /// The URL of the protected-resource metadata (RFC 9728) that challenges name.
    pub(crate) resource_metadata: Option<Box<str>>,
    /// DPoP-bound tokens and their proofs (RFC 9449), when the layer takes them.
    pub(crate) dpop: Option<Arc<Dpop>>,
    pub(crate) on_error: Option<Arc<ErrorResponder>>,
}

impl Config {
    /// The CSRF check this request needs: only tokens the browser attaches by itself (cookies),
    /// on unsafe methods.
    pub(crate) fn csrf<'a>(
        &self,
        found: &Found<'_>,
        method: &Method,
        headers: &'a HeaderMap,
    ) -> Csrf<&'a str> {
        let safe = matches!(
            *method,
            Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
        );
        match &self.csrf_header {
            Some(name) if found.needs_csrf && !safe => {
                Csrf::Required(headers.get(name).and_then(|v| v.to_str().ok()))
            }
            _ => Csrf::Off,
        }
    }

    /// The response for a request the layer refuses: a gRPC status for gRPC calls, else the
    /// layer's own answer.
    pub(crate) fn reject(&self, error: &AuthError, headers: &HeaderMap) -> Response<Bytes> {
        tracing::debug!(target: "tower_jwt_auth", error = %error, "request refused");
        observe::refused(error.reason());
        let grpc = is_grpc(headers);
        let mut response = if grpc {
            error.to_grpc_response()
        } else {
            self.respond(error)
        };
        if let Some(dpop) = &self.dpop {
            if !grpc {
                let scheme = headers
                    .get(http::header::AUTHORIZATION)
                    .and_then(|v| v.as_bytes().split(|&b| b == b' ').next())
                    .is_some_and(|s| s.eq_ignore_ascii_case(b"dpop"));
                self.dpop_challenges(dpop, error, scheme, response.headers_mut());
            }
            if let Some(nonce) = dpop.nonce_header(error, self.rules.clock.now()) {
                response.headers_mut().insert(DPOP_NONCE, nonce);
            }
        }
        response
    }

    /// An inner service's own `Bearer` challenge (a `RequireLayer` with its own realm, a
    /// handler's 401) on a DPoP request or a layer that requires DPoP: the same parameters
    /// under the `DPoP` scheme, with the algorithms.
    pub(crate) fn dpop_inner_challenge(
        &self,
        dpop: &Dpop,
        dpop_request: bool,
        headers: &mut HeaderMap,
    ) {
        if !(dpop_request || dpop.is_required()) {
            return;
        }
        let Some(Ok(challenge)) = headers.get(WWW_AUTHENTICATE).map(|v| v.to_str()) else {
            return;
        };
        let Some(params) = challenge.strip_prefix("Bearer") else {
            return;
        };
        let params = params.trim();
        let algs = format!("algs=\"{}\"", dpop.algorithm_names());
        let value = if params.is_empty() {
            format!("DPoP {algs}")
        } else {
            format!("DPoP {params}, {algs}")
        };
        if let Ok(value) = HeaderValue::try_from(value) {
            headers.insert(WWW_AUTHENTICATE, value);
        }
    }

    /// The `DPoP` challenges of a refusal on a DPoP layer (RFC 9449 §7.1): the refusal's own
    /// challenge is a `DPoP` one for a DPoP request or error and on a layer that requires DPoP;
    /// otherwise a `DPoP` challenge with the algorithms follows the `Bearer` one (which stays
    /// first, where clients that read one challenge look).
    pub(crate) fn dpop_challenges(
        &self,
        dpop: &Dpop,
        error: &AuthError,
        scheme: bool,
        headers: &mut HeaderMap,
    ) {
        let Some(bearer) = headers.get(WWW_AUTHENTICATE) else {
            return; // A 503, or an app's response without a challenge.
        };
        if !bearer.as_bytes().starts_with(b"Bearer") {
            return; // The app's own challenge.
        }
        let realm = self.realm.as_deref();
        let dpop_error = matches!(
            error,
            AuthError::InvalidDpopProof(_) | AuthError::DpopBinding | AuthError::DpopRequired
        );
        if scheme || dpop_error || dpop.is_required() {
            headers.insert(WWW_AUTHENTICATE, dpop.challenge(error, realm));
        } else {
            headers.append(
                WWW_AUTHENTICATE,
                dpop.challenge(&AuthError::MissingToken, realm),
            );
        }
    }

    /// The HTTP answer to `error`: the app's `on_error`, or the RFC 6750 default with the realm.
    pub(crate) fn respond(&self, error: &AuthError) -> Response<Bytes> {
        let context = ErrorContext {
            error,
            realm: self.realm.as_deref(),
            resource_metadata: self.resource_metadata.as_deref(),
        };
        match &self.on_error {
            Some(respond) => respond(context),
            None => context.default_response(),
        }
    }

    /// Whether refusals made inside the layer must be answered anew (a realm, a metadata URL
    /// or `on_error` that the inner default response does not have).
    pub(crate) fn answers_inner_refusals(&self) -> bool {
        self.realm.is_some()
            || self.resource_metadata.is_some()
            || self.on_error.is_some()
            || self.dpop.is_some()
    }
}

/// Whether the request is a gRPC call, which must be answered with a gRPC status.
pub(crate) fn is_grpc(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/grpc"))
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    #[test]
    fn grpc_calls_are_told_apart_by_their_content_type() {
        let mut headers = HeaderMap::new();
        assert!(!is_grpc(&headers));
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/grpc+proto"),
        );
        assert!(is_grpc(&headers));
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        assert!(!is_grpc(&headers));
    }
}
