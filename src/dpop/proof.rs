//! The check of one DPoP proof JWT against the request it came with and the access token it
//! accompanies (RFC 9449 §4.3), all but the replay and nonce checks, which need state.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::{HeaderMap, Method, Uri};
use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
use serde::Deserialize;
use serde_json::Value;

use crate::error::DpopError;
use crate::keys::VerifyingKey;
use crate::redact::UrlText;
use crate::revocation::{RevocationStore, StoreError};
use crate::verify::media_type_eq;

/// The most bytes a proof may have; longer ones are refused before decoding.
const MAX_PROOF_LEN: usize = 8 * 1024;

/// JWK members that only a private or symmetric key has (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037
/// §2): a proof's `jwk` must have none.
const PRIVATE_MEMBERS: [&str; 9] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k", "priv"];

/// What a proof is checked against: the algorithms allowed and how far its `iat` may be from
/// now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProofRules {
    algorithms: Vec<Algorithm>,
    window: Duration,
}

/// The request a proof came with, as the client addressed it. Its `Debug` shows neither the
/// access token nor the URI's query.
///
/// ```
/// let request = tower_jwt_auth::dpop::ProofRequest {
///     method: &http::Method::GET,
///     uri: "https://api.example.com/orders?session=s3cret",
///     access_token: Some("eyJ.s3cret.token"),
/// };
/// assert!(!format!("{request:?}").contains("s3cret"));
/// ```
#[derive(Clone, Copy)]
pub struct ProofRequest<'a> {
    /// The request's method, which `htm` must name.
    pub method: &'a Method,
    /// The request's URI as the client saw it (scheme, host, path; behind a proxy, the
    /// external one): `htu` must name it, query and fragment ignored on both sides. A path not
    /// in normal form (dot segments, percent-encoded unreserved characters) names no proof's
    /// `htu`: a router would take it as written, to another handler.
    pub uri: &'a str,
    /// The access token presented with the proof, whose hash `ath` must be.
    pub access_token: Option<&'a str>,
}

impl fmt::Debug for ProofRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProofRequest")
            .field("method", self.method)
            .field("uri", &format_args!("{}", UrlText(self.uri)))
            .field("access_token", &self.access_token.map(|_| "[redacted]"))
            .finish()
    }
}

/// A proof that passed [`ProofRules::verify`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proof {
    jkt: String,
    jti: String,
    iat: u64,
    nonce: Option<String>,
    /// The `iat` window it was checked with, in seconds: how long it must be remembered.
    window: u64,
}

/// A proof to accept once: its marker in a replay store, and until when it is kept (seconds
/// since the epoch).
pub(crate) struct Replay {
    key: String,
    until: u64,
}

impl Replay {
    /// Sets the marker if it is not set: `Ok(true)` the first time, across every instance
    /// sharing `store`.
    pub(crate) async fn take(&self, store: &dyn RevocationStore) -> Result<bool, StoreError> {
        store.consume(&self.key, self.until).await
    }
}

impl Default for ProofRules {
    fn default() -> Self {
        Self::new()
    }
}

impl ProofRules {
    /// ES256, ES384, EdDSA (Ed25519), RS256 and PS256 proofs whose `iat` is within 60 seconds
    /// of now.
    ///
    /// ```
    /// let rules = tower_jwt_auth::dpop::ProofRules::new();
    /// ```
    pub fn new() -> Self {
        use Algorithm::{ES256, ES384, EdDSA, PS256, RS256};
        Self {
            algorithms: vec![ES256, ES384, EdDSA, RS256, PS256],
            window: Duration::from_secs(60),
        }
    }

    /// The algorithms a proof may use, replacing the default; HMAC algorithms are never
    /// accepted (a proof's key is public).
    ///
    /// ```
    /// use tower_jwt_auth::{dpop::ProofRules, Algorithm};
    ///
    /// let rules = ProofRules::new().algorithms([Algorithm::ES256]);
    /// assert_eq!(rules.algorithm_names(), "ES256");
    /// ```
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algorithms = algorithms
            .into_iter()
            .filter(|a| !matches!(a, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512))
            .collect();
        self
    }

    /// How far a proof's `iat` may be from now, either way (default 60 seconds).
    ///
    /// ```
    /// let rules = tower_jwt_auth::dpop::ProofRules::new().window(std::time::Duration::from_secs(30));
    /// ```
    pub fn window(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }

    /// The allowed algorithms as a challenge's `algs` value (RFC 9449 §7.1), space-separated.
    pub fn algorithm_names(&self) -> String {
        let names: Vec<String> = self.algorithms.iter().map(|a| format!("{a:?}")).collect();
        names.join(" ")
    }

    /// Checks `proof` (RFC 9449 §4.3, checks 2 to 9, 11 and 12): a compact JWS typed
    /// `dpop+jwt`, an allowed asymmetric `alg` matching the public `jwk` of its header, a
    /// signature that verifies with that key, `jti`, `htm` (the method), `htu` (the URI, query
    /// and fragment ignored), `iat` within the window of `now` (seconds since the epoch), and
    /// `ath` the SHA-256 of the access token when one is presented.
    ///
    /// # Errors
    /// The first check that failed, as a [`DpopError`].
    pub fn verify(
        &self,
        proof: &str,
        request: &ProofRequest<'_>,
        now: u64,
    ) -> Result<Proof, DpopError> {
        if proof.len() > MAX_PROOF_LEN {
            return Err(DpopError::Malformed);
        }
        let mut parts = proof.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(DpopError::Malformed);
        };
        let header: Header = decode_json(header)?;
        // `application/dpop+jwt` is the same media type (RFC 7515 §4.1.9).
        if !media_type_eq(&header.typ, "dpop+jwt") {
            return Err(DpopError::WrongType);
        }
        // No critical extension is understood here (RFC 7515 §4.1.11).
        if header.crit.is_some() {
            return Err(DpopError::Malformed);
        }
        let algorithm = self.algorithm(&header.alg)?;
        let jwk = public_jwk(header.jwk, &header.alg)?;
        let key =
            VerifyingKey::from_jwk_as(&jwk, Some(algorithm)).map_err(|_| DpopError::InvalidKey)?;
        let message = &proof[..header_and_payload_len(proof)];
        key.check_signature(message.as_bytes(), signature)
            .map_err(|_| DpopError::InvalidSignature)?;

        let claims: Claims = decode_json(payload)?;
        let jti = claims.jti.ok_or(DpopError::MissingClaim("jti"))?;
        let htm = claims.htm.ok_or(DpopError::MissingClaim("htm"))?;
        let htu = claims.htu.ok_or(DpopError::MissingClaim("htu"))?;
        let iat = claims.iat.ok_or(DpopError::MissingClaim("iat"))?;
        if jti.is_empty() {
            return Err(DpopError::MissingClaim("jti"));
        }
        if htm != request.method.as_str() {
            return Err(DpopError::MethodMismatch);
        }
        if !same_target(&htu, request.uri) {
            return Err(DpopError::UriMismatch);
        }
        let window = self.window.as_secs() as f64;
        if !iat.is_finite() || (iat - now as f64).abs() > window {
            return Err(DpopError::Stale);
        }
        if let Some(token) = request.access_token {
            let ath = claims.ath.ok_or(DpopError::MissingClaim("ath"))?;
            if ath != sha256_b64(token.as_bytes()) {
                return Err(DpopError::AccessTokenHashMismatch);
            }
        }
        let jkt = jwk
            .thumbprint(ThumbprintHash::SHA256)
            .map_err(|_| DpopError::InvalidKey)?;
        Ok(Proof {
            jkt,
            jti,
            iat: iat as u64,
            nonce: claims.nonce,
            window: self.window.as_secs(),
        })
    }

    /// The allowed algorithm `alg` names.
    fn algorithm(&self, alg: &str) -> Result<Algorithm, DpopError> {
        // RFC 9864's name for EdDSA over Ed25519.
        let alg = if alg == "Ed25519" { "EdDSA" } else { alg };
        let algorithm: Algorithm = alg.parse().map_err(|_| DpopError::DisallowedAlgorithm)?;
        if self.algorithms.contains(&algorithm) {
            Ok(algorithm)
        } else {
            Err(DpopError::DisallowedAlgorithm)
        }
    }
}

impl Proof {
    /// The RFC 7638 SHA-256 thumbprint of the proof's key, base64url: what an access token
    /// bound to it carries as `cnf.jkt`.
    pub fn jkt(&self) -> &str {
        &self.jkt
    }

    /// The proof's `jti`, for the replay check.
    pub fn jti(&self) -> &str {
        &self.jti
    }

    /// The proof's `iat`, in seconds since the epoch.
    pub fn iat(&self) -> u64 {
        self.iat
    }

    /// The proof's `nonce` claim, the server nonce it was made with (RFC 9449 §9), if any.
    pub fn nonce(&self) -> Option<&str> {
        self.nonce.as_deref()
    }

    /// Where a replay store remembers this proof (its key and `jti`), and until when (seconds
    /// since the epoch) for `now` by the checking clock: for as long as any clock involved could
    /// still take the proof. The window admits it for at most two windows from `now`, the
    /// memory store sweeps by the system's clock, and a shared store's own clock may run a
    /// window ahead.
    pub(crate) fn replay(&self, now: u64) -> Replay {
        let system_now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        // A window of 0 (or under a second) still keeps the marker past this second.
        let until = system_now
            .max(now)
            .saturating_add(self.window.max(1).saturating_mul(3));
        Replay {
            key: format!("dpop:{}:{}", self.jkt, self.jti),
            until,
        }
    }

    /// Whether the proof's key is the one the access token is bound to (RFC 9449 §6.1).
    ///
    /// # Errors
    /// [`DpopError::KeyMismatch`] when `cnf_jkt` is not the proof key's thumbprint.
    pub fn check_binding(&self, cnf_jkt: &str) -> Result<(), DpopError> {
        if self.jkt == cnf_jkt {
            Ok(())
        } else {
            Err(DpopError::KeyMismatch)
        }
    }
}

/// The request's one `DPoP` header (RFC 9449 §4.3 check 1).
///
/// ```
/// use http::HeaderMap;
/// use tower_jwt_auth::dpop::{proof_header, DpopError};
///
/// let mut headers = HeaderMap::new();
/// assert_eq!(proof_header(&headers), Err(DpopError::Missing));
/// headers.append("dpop", "a.b.c".parse()?);
/// assert_eq!(proof_header(&headers), Ok("a.b.c"));
/// headers.append("dpop", "d.e.f".parse()?);
/// assert_eq!(proof_header(&headers), Err(DpopError::Repeated));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`DpopError::Missing`], [`DpopError::Repeated`], or [`DpopError::Malformed`] for a value
/// that is not visible ASCII.
pub fn proof_header(headers: &HeaderMap) -> Result<&str, DpopError> {
    let mut values = headers.get_all("dpop").iter();
    let value = values.next().ok_or(DpopError::Missing)?;
    if values.next().is_some() {
        return Err(DpopError::Repeated);
    }
    value.to_str().map_err(|_| DpopError::Malformed)
}

#[derive(Deserialize)]
struct Header {
    typ: String,
    alg: String,
    jwk: Option<Value>,
    crit: Option<Value>,
}

#[derive(Deserialize)]
struct Claims {
    jti: Option<String>,
    htm: Option<String>,
    htu: Option<String>,
    iat: Option<f64>,
    ath: Option<String>,
    nonce: Option<String>,
}

/// A base64url part as JSON of type `T`.
fn decode_json<T: for<'de> Deserialize<'de>>(part: &str) -> Result<T, DpopError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| DpopError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| DpopError::Malformed)
}

/// The header's `jwk` as a public key: an object with no private member, an `alg` (if it has
/// one) that is the header's, and EC coordinates of their curve's full length (RFC 7518
/// §6.2.1.2), so that one key has one thumbprint.
fn public_jwk(jwk: Option<Value>, alg: &str) -> Result<Jwk, DpopError> {
    let Some(Value::Object(members)) = jwk else {
        return Err(DpopError::InvalidKey);
    };
    if PRIVATE_MEMBERS.iter().any(|m| members.contains_key(*m)) {
        return Err(DpopError::PrivateKey);
    }
    if members.get("alg").is_some_and(|a| a.as_str() != Some(alg)) {
        return Err(DpopError::DisallowedAlgorithm);
    }
    if members.get("kty").and_then(Value::as_str) == Some("EC") {
        let size = match members.get("crv").and_then(Value::as_str) {
            Some("P-256") => 32,
            Some("P-384") => 48,
            _ => return Err(DpopError::InvalidKey),
        };
        let full = |name: &str| {
            let coordinate = members
                .get(name)
                .and_then(Value::as_str)
                .unwrap_or_default();
            URL_SAFE_NO_PAD
                .decode(coordinate)
                .is_ok_and(|bytes| bytes.len() == size)
        };
        if !full("x") || !full("y") {
            return Err(DpopError::InvalidKey);
        }
    }
    serde_json::from_value(Value::Object(members)).map_err(|_| DpopError::InvalidKey)
}

/// The length of `header.payload` in a compact JWS.
fn header_and_payload_len(proof: &str) -> usize {
    proof.rfind('.').unwrap_or(proof.len())
}

/// base64url(SHA-256(bytes)), with the crypto backend's digest.
fn sha256_b64(bytes: &[u8]) -> String {
    #[cfg(feature = "aws_lc_rs")]
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
    #[cfg(not(feature = "aws_lc_rs"))]
    let digest = <sha256::Sha256 as sha256::Digest>::digest(bytes);
    URL_SAFE_NO_PAD.encode(digest)
}

/// Whether `htu` names the same target as `uri` (RFC 9449 §4.3 check 9): scheme and host
/// compared case-insensitively, default ports dropped, paths compared after RFC 3986 §6.2.2
/// normalization (percent-encodings, then dot segments); queries and fragments ignored.
/// A request path not in normal form (`/a/../orders`, `/%6Frders`) passes only with an `htu`
/// of that very path: a router takes it as written, to another handler than `/orders`, so a
/// proof for `/orders` must not pass there.
fn same_target(htu: &str, uri: &str) -> bool {
    match (target(htu), target(uri)) {
        (Some(claimed), Some(requested)) => {
            claimed.normalized == requested.normalized
                && (requested.normal || claimed.raw_path == requested.raw_path)
        }
        _ => false,
    }
}

/// An absolute http(s) URI as `htu` compares it.
struct Target {
    /// Scheme, host, port and path, normalized.
    normalized: (String, String, u16, String),
    /// The path as written.
    raw_path: String,
    /// Whether the path was in normal form already (hex digits' case aside).
    normal: bool,
}

fn target(uri: &str) -> Option<Target> {
    let without_fragment = uri.split('#').next().unwrap_or(uri);
    let uri: Uri = without_fragment.parse().ok()?;
    let scheme = uri.scheme_str()?.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => 443,
        "http" => 80,
        _ => return None,
    };
    let authority = uri.authority()?;
    // No userinfo (RFC 9110 §4.2.4 forbids it in http(s) URIs), and a port that is a port:
    // what follows the host is nothing, or `:` and a number that fits 16 bits.
    let rest = authority.as_str().strip_prefix(authority.host())?;
    let port = match rest {
        "" => default_port,
        _ => rest.strip_prefix(':')?.parse::<u16>().ok()?,
    };
    let host = authority.host().to_ascii_lowercase();
    let raw_path = match uri.path() {
        "" => "/",
        raw => raw,
    };
    let path = remove_dot_segments(normalize_percent(raw_path));
    Some(Target {
        normal: path.eq_ignore_ascii_case(raw_path),
        raw_path: raw_path.to_owned(),
        normalized: (scheme, host, port, path),
    })
}

/// An absolute path without its `.` and `..` segments (RFC 3986 §5.2.4, §6.2.2.3): `..` takes
/// off the segment before it, none above the root; a trailing one leaves the path ending in `/`.
fn remove_dot_segments(path: String) -> String {
    if !path.contains("/.") {
        return path;
    }
    let mut segments = path.split('/').skip(1).peekable();
    let mut out: Vec<&str> = Vec::new();
    while let Some(segment) = segments.next() {
        let last = segments.peek().is_none();
        match segment {
            "." => {}
            ".." => {
                out.pop();
            }
            segment => {
                out.push(segment);
                continue;
            }
        }
        if last {
            out.push("");
        }
    }
    format!("/{}", out.join("/"))
}

/// Percent-encodings of unreserved characters decoded, the others' hex digits upper-cased
/// (RFC 3986 §6.2.2.1 and §6.2.2.2).
fn normalize_percent(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(path.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            let c = (hi * 16 + lo) as u8;
            if c.is_ascii_alphanumeric() || b"-._~".contains(&c) {
                out.push(c);
            } else {
                out.extend([b'%', bytes[i + 1], bytes[i + 2]].map(|b| b.to_ascii_uppercase()));
            }
            i += 3;
            continue;
        }
        // Every other byte as it is (a raw UTF-8 path stays UTF-8).
        out.push(bytes[i]);
        i += 1;
    }
    // Only ASCII replaced ASCII: still UTF-8.
    String::from_utf8_lossy(&out).into_owned()
}
