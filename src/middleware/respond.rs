//! The app's own answer to a refusal: what an `on_error` handler sees ([`ErrorContext`]), what
//! it may return ([`IntoErrorResponse`]), and how it opts out of the challenge ([`NoChallenge`]).

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderValue, Response, StatusCode};

use crate::error::AuthError;

/// What an [`on_error`](crate::JwtLayer::on_error) handler is told about a refusal.
///
/// ```
/// use http::StatusCode;
/// use tower_jwt_auth::{AuthError, JwtLayer, VerifyingKey};
///
/// let layer = JwtLayer::<serde_json::Value>::new(VerifyingKey::hs256([7u8; 32])?)
///     .realm("orders")
///     .on_error(|refused| match refused.error {
///         // The app's own text; the layer still adds `WWW-Authenticate: Bearer realm="orders"`.
///         AuthError::MissingToken => (StatusCode::UNAUTHORIZED, "please log in".to_owned()),
///         other => (other.status(), format!("refused: {}", other.description())),
///     });
/// # Ok::<(), tower_jwt_auth::keys::KeyError>(())
/// ```
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct ErrorContext<'a> {
    /// Why the request was refused.
    pub error: &'a AuthError,
    /// The layer's `realm`, if it has one.
    pub realm: Option<&'a str>,
    /// The URL of the layer's protected-resource metadata (RFC 9728), if it names one: the
    /// challenge's `resource_metadata`.
    pub resource_metadata: Option<&'a str>,
}

impl ErrorContext<'_> {
    /// The response the layer would send without a handler (RFC 6750 challenge, JSON body).
    pub fn default_response(&self) -> Response<Bytes> {
        self.error.response(self.realm, self.resource_metadata)
    }

    /// The `WWW-Authenticate` challenge of this refusal, with the realm and the metadata URL.
    pub fn challenge(&self) -> HeaderValue {
        self.error.challenge(self.realm, self.resource_metadata)
    }
}

/// Put in the extensions of an `on_error` response to send it without a `WWW-Authenticate`
/// challenge; by default the layer adds the RFC 6750 challenge to any custom 4xx response
/// that has none.
///
/// ```
/// use bytes::Bytes;
/// use http::{Response, StatusCode};
/// use tower_jwt_auth::middleware::NoChallenge;
///
/// # let key = tower_jwt_auth::VerifyingKey::hs256([1u8; 32]).unwrap();
/// // Hide protected routes: every refusal looks like a missing page.
/// let layer = tower_jwt_auth::JwtLayer::<serde_json::Value>::new(key).on_error(|_| {
///     let mut response = Response::new(Bytes::from_static(b"not found"));
///     *response.status_mut() = StatusCode::NOT_FOUND;
///     response.extensions_mut().insert(NoChallenge);
///     response
/// });
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct NoChallenge;

/// What an `on_error` handler may return: a full `http::Response` over any body convertible to
/// [`Bytes`], a `(StatusCode, body)` or `(StatusCode, HeaderMap, body)` tuple, a bare status, or
/// a body alone (sent with the refusal's status).
///
/// Text bodies (`String`, `&'static str`) are sent as `text/plain; charset=utf-8` unless the
/// headers given set another `content-type`.
///
/// ```
/// use http::{HeaderMap, StatusCode};
/// use tower_jwt_auth::middleware::IntoErrorResponse;
///
/// let mut headers = HeaderMap::new();
/// headers.insert("content-type", "application/problem+json".parse()?);
/// let body = r#"{"title":"token expired"}"#;
/// let response = (StatusCode::UNAUTHORIZED, headers, body).into_error_response(StatusCode::UNAUTHORIZED);
/// assert_eq!(response.headers()["content-type"], "application/problem+json");
///
/// // A body alone keeps the refusal's status.
/// let response = "go away".into_error_response(StatusCode::FORBIDDEN);
/// assert_eq!(response.status(), StatusCode::FORBIDDEN);
/// assert_eq!(response.headers()["content-type"], "text/plain; charset=utf-8");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait IntoErrorResponse {
    /// The response, with `status` as the status when the value names none.
    fn into_error_response(self, status: StatusCode) -> Response<Bytes>;
}

/// A body an `on_error` handler may return in a tuple or alone, with the content type it
/// implies (text for strings, none for bytes).
///
/// ```
/// use tower_jwt_auth::middleware::ErrorBody;
///
/// assert_eq!(String::from("denied").into_parts().1, Some("text/plain; charset=utf-8"));
/// assert_eq!(b"\x00\x01".to_vec().into_parts().1, None);
/// ```
pub trait ErrorBody {
    /// The bytes, and the content type they imply.
    fn into_parts(self) -> (Bytes, Option<&'static str>);
}

impl ErrorBody for String {
    fn into_parts(self) -> (Bytes, Option<&'static str>) {
        (self.into(), Some(TEXT))
    }
}

impl ErrorBody for &'static str {
    fn into_parts(self) -> (Bytes, Option<&'static str>) {
        (self.into(), Some(TEXT))
    }
}

impl ErrorBody for Bytes {
    fn into_parts(self) -> (Bytes, Option<&'static str>) {
        (self, None)
    }
}

impl ErrorBody for Vec<u8> {
    fn into_parts(self) -> (Bytes, Option<&'static str>) {
        (self.into(), None)
    }
}

impl<B: Into<Bytes>> IntoErrorResponse for Response<B> {
    fn into_error_response(self, _status: StatusCode) -> Response<Bytes> {
        self.map(Into::into)
    }
}

impl IntoErrorResponse for StatusCode {
    fn into_error_response(self, _status: StatusCode) -> Response<Bytes> {
        with_status(self, (Bytes::new(), None))
    }
}

impl<B: ErrorBody> IntoErrorResponse for (StatusCode, B) {
    fn into_error_response(self, _status: StatusCode) -> Response<Bytes> {
        with_status(self.0, self.1.into_parts())
    }
}

impl<B: ErrorBody> IntoErrorResponse for (StatusCode, HeaderMap, B) {
    fn into_error_response(self, _status: StatusCode) -> Response<Bytes> {
        let mut response = with_status(self.0, self.2.into_parts());
        // The given headers win over the body's implied content type; `None` names continue
        // the previous header.
        let mut last = None;
        for (name, value) in self.1 {
            match (name, &last) {
                (Some(name), _) => {
                    response.headers_mut().insert(name.clone(), value);
                    last = Some(name);
                }
                (None, Some(name)) => {
                    response.headers_mut().append(name, value);
                }
                (None, None) => {}
            }
        }
        response
    }
}

impl IntoErrorResponse for String {
    fn into_error_response(self, status: StatusCode) -> Response<Bytes> {
        with_status(status, self.into_parts())
    }
}

impl IntoErrorResponse for &'static str {
    fn into_error_response(self, status: StatusCode) -> Response<Bytes> {
        with_status(status, self.into_parts())
    }
}

impl IntoErrorResponse for Bytes {
    fn into_error_response(self, status: StatusCode) -> Response<Bytes> {
        with_status(status, self.into_parts())
    }
}

const TEXT: &str = "text/plain; charset=utf-8";

fn with_status(
    status: StatusCode,
    (body, content_type): (Bytes, Option<&'static str>),
) -> Response<Bytes> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    if let Some(content_type) = content_type {
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    }
    response
}

/// A stored `on_error` handler.
pub(crate) type ErrorResponder = dyn Fn(ErrorContext<'_>) -> Response<Bytes> + Send + Sync;

/// Wraps an app's handler: its response, with the challenge added to a 4xx unless it has its
/// own, it opted out with [`NoChallenge`], or the refusal is a 503 (not a verdict on the token).
pub(crate) fn responder<F, R>(respond: F) -> std::sync::Arc<ErrorResponder>
where
    F: Fn(ErrorContext<'_>) -> R + Send + Sync + 'static,
    R: IntoErrorResponse,
{
    std::sync::Arc::new(move |context: ErrorContext<'_>| {
        let mut response = respond(context).into_error_response(context.error.status());
        // 503 is no verdict on the token; a redirect or a page is no challenge either.
        let challenged = context.error.status() != StatusCode::SERVICE_UNAVAILABLE
            && response.status().is_client_error();
        let headers = response.headers();
        if challenged
            && !headers.contains_key(http::header::WWW_AUTHENTICATE)
            && response.extensions().get::<NoChallenge>().is_none()
        {
            let challenge = context.challenge();
            response
                .headers_mut()
                .insert(http::header::WWW_AUTHENTICATE, challenge);
        }
        response
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_bodies_are_plain_text_and_take_the_refusals_status_when_alone() {
        let response = "denied".into_error_response(StatusCode::FORBIDDEN);
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert_eq!(response.headers()[CONTENT_TYPE], TEXT);
        assert_eq!(response.body(), "denied");

        let response = (StatusCode::NOT_FOUND, String::from("gone"))
            .into_error_response(StatusCode::UNAUTHORIZED);
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(response.headers()[CONTENT_TYPE], TEXT);

        let response = Bytes::from_static(b"{}").into_error_response(StatusCode::UNAUTHORIZED);
        assert!(!response.headers().contains_key(CONTENT_TYPE));
    }

    #[test]
    fn given_headers_win_over_the_implied_type_and_keep_every_value() {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/html"));
        headers.append("set-cookie", HeaderValue::from_static("a=1"));
        headers.append("set-cookie", HeaderValue::from_static("b=2"));
        let response = (StatusCode::FORBIDDEN, headers, "<h1>no</h1>")
            .into_error_response(StatusCode::UNAUTHORIZED);
        assert_eq!(response.headers()[CONTENT_TYPE], "text/html");
        let cookies: Vec<_> = response.headers().get_all("set-cookie").iter().collect();
        assert_eq!(cookies, ["a=1", "b=2"]);
    }

    #[test]
    fn the_challenge_is_added_to_4xx_only_and_never_twice() {
        let error = AuthError::MissingToken;
        let context = ErrorContext {
            error: &error,
            realm: Some("api"),
            resource_metadata: None,
        };
        let page = responder(|_| (StatusCode::UNAUTHORIZED, "sign in"));
        assert_eq!(
            page(context).headers()[http::header::WWW_AUTHENTICATE],
            r#"Bearer realm="api""#
        );
        let redirect = responder(|_| StatusCode::SEE_OTHER);
        assert!(
            !redirect(context)
                .headers()
                .contains_key(http::header::WWW_AUTHENTICATE)
        );
        let hidden = responder(|_| {
            let mut response = Response::new(Bytes::new());
            *response.status_mut() = StatusCode::NOT_FOUND;
            response.extensions_mut().insert(NoChallenge);
            response
        });
        assert!(
            !hidden(context)
                .headers()
                .contains_key(http::header::WWW_AUTHENTICATE)
        );
        let outage = AuthError::RevocationUnavailable;
        let context = ErrorContext {
            error: &outage,
            realm: None,
            resource_metadata: None,
        };
        let busy = responder(|refused: ErrorContext<'_>| (refused.error.status(), "later"));
        assert!(
            !busy(context)
                .headers()
                .contains_key(http::header::WWW_AUTHENTICATE)
        );
    }
}
