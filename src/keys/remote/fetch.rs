//! The HTTP side of [`RemoteJwks`](super::RemoteJwks): one bounded `GET`, the discovery
//! document, the cache lifetime a response allows, and error text that never shows a credential.

use std::fmt;
use std::time::Duration;

use reqwest::header::{ACCEPT, AGE, CACHE_CONTROL, HeaderMap};
use reqwest::{Client, Url};
use serde::Deserialize;

use super::Config;
use super::error::{FetchError, FetchErrorKind};
use crate::keys::{KeySet, Skipped};
use crate::redact::UrlText;

/// Real documents are a few KiB: a larger one is refused before it can exhaust memory.
const MAX_DOCUMENT: usize = 1024 * 1024;
/// How long a document served without `max-age` is kept (then clamped into the bounds).
const DEFAULT_AGE: Duration = Duration::from_secs(10 * 60);
const USER_AGENT: &str = concat!("tower-jwt-auth/", env!("CARGO_PKG_VERSION"));

/// The client used when none is given: the configured connect timeout, and, for an `https`
/// source, no redirect to plain `http`. The total timeout is [`get`]'s, for every client: a
/// second one here would race it and tell the same timeout in other words.
pub(super) fn client(config: &Config, url: &Url) -> Result<Client, FetchError> {
    Client::builder()
        .connect_timeout(config.connect)
        .https_only(url.scheme() == "https")
        .user_agent(USER_AGENT)
        .build()
        .map_err(|e| {
            FetchError::new(
                Redacted(url),
                FetchErrorKind::Client,
                format_args!("the HTTP client could not be built: {}", ErrorChain(&e)),
            )
        })
}

/// `GET url`: the body (at most 1 MiB) and how long it may be cached, within the total timeout.
pub(super) async fn get(
    client: &Client,
    url: &Url,
    config: &Config,
) -> Result<(Vec<u8>, Duration), FetchError> {
    let request = async {
        let failed = |e: reqwest::Error| {
            let kind = if e.is_timeout() {
                FetchErrorKind::Timeout
            } else {
                FetchErrorKind::Network
            };
            failure(url, kind, ErrorChain(&e.without_url()))
        };
        let mut response = client
            .get(url.clone())
            .header(ACCEPT, "application/json")
            .send()
            .await
            .map_err(failed)?;
        let status = response.status();
        if !status.is_success() {
            return Err(failure(
                url,
                FetchErrorKind::Status(status),
                format_args!("HTTP {status}"),
            ));
        }
        let too_large = || {
            failure(
                url,
                FetchErrorKind::TooLarge,
                format_args!("larger than {MAX_DOCUMENT} bytes"),
            )
        };
        if response
            .content_length()
            .is_some_and(|n| n > MAX_DOCUMENT as u64)
        {
            return Err(too_large());
        }
        let lifetime = lifetime(response.headers(), config);
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(failed)? {
            if body.len() + chunk.len() > MAX_DOCUMENT {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok((body, lifetime))
    };
    let total = config.total;
    tokio::time::timeout(total, request)
        .await
        .unwrap_or_else(|_| {
            Err(failure(
                url,
                FetchErrorKind::Timeout,
                format_args!("timed out after {total:?}"),
            ))
        })
}

/// One JWKS document read: its keys, how long it may be cached, the JWKs it skipped, and the
/// URL it came from (the `jwks_uri`, after discovery).
pub(super) struct Fetched {
    pub(super) keys: KeySet,
    pub(super) lifetime: Duration,
    pub(super) skipped: Vec<Skipped>,
    pub(super) url: Url,
    /// The document's bytes.
    pub(super) document: Vec<u8>,
}

/// The JWKS document at `url`, and how long it may be cached.
pub(super) async fn jwks(
    client: &Client,
    url: &Url,
    config: &Config,
) -> Result<Fetched, FetchError> {
    let (document, lifetime) = get(client, url, config).await?;
    match KeySet::read_jwks(&document) {
        (Ok(keys), skipped) => Ok(Fetched {
            keys,
            lifetime,
            skipped,
            url: url.clone(),
            document,
        }),
        // Say why each key was unusable: the document as a whole is.
        (Err(error), skipped) if !skipped.is_empty() => {
            let why = skipped.iter().map(|s| format!("; {s}")).collect::<String>();
            Err(failure(
                url,
                FetchErrorKind::BadDocument,
                format_args!("{error}{why}"),
            ))
        }
        (Err(error), _) => Err(failure(url, FetchErrorKind::BadDocument, error)),
    }
}

/// The `jwks_uri` of the discovery document at `url`, if the document names `issuer` exactly
/// (OpenID Connect Discovery §4.3).
pub(super) async fn discover(
    client: &Client,
    issuer: &str,
    url: &Url,
    config: &Config,
) -> Result<Url, FetchError> {
    #[derive(Deserialize)]
    struct Discovery {
        issuer: String,
        jwks_uri: String,
    }
    let (document, _) = get(client, url, config).await?;
    let document: Discovery = serde_json::from_slice(&document).map_err(|_| {
        failure(
            url,
            FetchErrorKind::BadDocument,
            "not a discovery document with `issuer` and `jwks_uri`",
        )
    })?;
    if document.issuer != issuer {
        let kind = FetchErrorKind::IssuerMismatch {
            expected: issuer.to_owned(),
            found: document.issuer.chars().take(256).collect(),
        };
        return Err(failure(url, kind, ""));
    }
    let bad_uri = |why| failure(url, FetchErrorKind::BadUrl, why);
    let jwks_uri = http_url(&document.jwks_uri)
        .map_err(|_| bad_uri("its `jwks_uri` is not an absolute http(s) URL"))?;
    if url.scheme() == "https" && jwks_uri.scheme() != "https" {
        return Err(bad_uri("its `jwks_uri` is not https"));
    }
    Ok(jwks_uri)
}

/// How long a response may be cached: `max-age` less `Age`, clamped into the bounds.
fn lifetime(headers: &HeaderMap, config: &Config) -> Duration {
    let age = headers
        .get(AGE)
        .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok())
        .unwrap_or(0);
    max_age(headers)
        .map_or(DEFAULT_AGE, |max_age| {
            Duration::from_secs(max_age.saturating_sub(age))
        })
        .clamp(config.min_age, config.max_age)
}

/// The `max-age` of the `Cache-Control` headers, 0 for `no-store` or `no-cache`.
fn max_age(headers: &HeaderMap) -> Option<u64> {
    let mut max_age = None;
    let values = headers.get_all(CACHE_CONTROL).iter();
    for directive in values
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
    {
        let (name, value) = directive.split_once('=').unwrap_or((directive, ""));
        let name = name.trim();
        if name.eq_ignore_ascii_case("no-store") || name.eq_ignore_ascii_case("no-cache") {
            return Some(0);
        }
        if name.eq_ignore_ascii_case("max-age") {
            max_age = value.trim().trim_matches('"').parse().ok().or(max_age);
        }
    }
    max_age
}

/// `url` as an absolute `http(s)` URL; an error that shows it without credentials otherwise.
pub(super) fn http_url(url: &str) -> Result<Url, FetchError> {
    match Url::parse(url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.has_host() => {
            Ok(parsed)
        }
        Ok(parsed) if parsed.has_host() => Err(FetchError::new(
            Redacted(&parsed),
            FetchErrorKind::BadUrl,
            "",
        )),
        _ => Err(FetchError::new(UrlText(url), FetchErrorKind::BadUrl, "")),
    }
}

fn failure(url: &Url, kind: FetchErrorKind, why: impl fmt::Display) -> FetchError {
    FetchError::new(Redacted(url), kind, why)
}

/// A URL without user, password, query or fragment: what may carry a credential is never shown.
pub(super) struct Redacted<'a>(pub(super) &'a Url);

impl fmt::Display for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = self.0;
        write!(
            f,
            "{}://{}",
            url.scheme(),
            url.host_str().unwrap_or_default()
        )?;
        if let Some(port) = url.port() {
            write!(f, ":{port}")?;
        }
        f.write_str(url.path())
    }
}

/// An error and its causes, `: `-separated (reqwest's own text leaves the cause out).
struct ErrorChain<'a>(&'a (dyn std::error::Error + 'static));

impl fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(*name, HeaderValue::from_static(value));
        }
        headers
    }

    #[test]
    fn max_age_is_read_from_every_cache_control_header() {
        let max_age = |pairs| max_age(&headers(pairs));
        assert_eq!(max_age(&[]), None);
        assert_eq!(
            max_age(&[("cache-control", "public, max-age=300")]),
            Some(300)
        );
        let split = [
            ("cache-control", "public"),
            ("cache-control", "Max-Age=\"42\""),
        ];
        assert_eq!(max_age(&split), Some(42));
        assert_eq!(
            max_age(&[("cache-control", "max-age=300, no-cache")]),
            Some(0)
        );
        assert_eq!(max_age(&[("cache-control", "max-age=soon")]), None);
    }

    #[test]
    fn lifetime_subtracts_age_and_clamps_into_the_bounds() {
        let config = Config {
            min_age: Duration::from_secs(10),
            max_age: Duration::from_secs(100),
            ..Config::default()
        };
        let secs = |pairs| lifetime(&headers(pairs), &config).as_secs();
        assert_eq!(secs(&[("cache-control", "max-age=50")]), 50);
        assert_eq!(secs(&[("cache-control", "max-age=50"), ("age", "45")]), 10);
        assert_eq!(secs(&[("cache-control", "max-age=5000")]), 100);
        assert_eq!(secs(&[("cache-control", "no-store")]), 10);
        assert_eq!(secs(&[]), 100, "10 minutes, clamped");
    }

    #[test]
    fn urls_are_shown_without_credentials() {
        let url = Url::parse("https://user:secret@idp.example:8443/jwks?token=abc#f").unwrap();
        assert_eq!(Redacted(&url).to_string(), "https://idp.example:8443/jwks");
    }
}
