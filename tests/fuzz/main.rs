//! A seeded, structure-aware fuzzer on stable Rust. Tokens grow from valid ones by mutating the
//! header and payload JSON, its rendering, the base64url and the final characters; half are
//! re-signed with the right key (so the header and claim rules are reached past the signature),
//! half keep an old, wrong or forged signature. Each is decided by `JwtLayer::verify` and by an
//! oracle written from the RFCs (`oracle.rs`, its own JSON and base64url, HMAC by `hmac` +
//! `sha2`, ECDSA by `p256`); a disagreement or a panic fails the test, printing the token and
//! the command that replays it.
//!
//! `FUZZ_ITERATIONS` (default 3000: seconds in a debug build) and `FUZZ_SEED` choose the run,
//! `FUZZ_CASE=n` replays case `n` alone. A long run:
//! `FUZZ_ITERATIONS=10000000 cargo test --release --test fuzz -- --nocapture`.

#[path = "../common/mod.rs"]
mod common;
mod json;
mod mutate;
mod oracle;

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use common::{NOW, SECRET, b64, pem, ready};
use hmac::{Hmac, Mac};
use mutate::{Object, Rng, quoted};
use oracle::{Key, Rules, Verdict};
use p256::ecdsa::signature::Signer as _;
use p256::pkcs8::{DecodePrivateKey, DecodePublicKey};
use serde_json::Value;
use sha2::Sha256;
use tower_jwt_auth::clock::ManualClock;
use tower_jwt_auth::middleware::TokenCache;
use tower_jwt_auth::{Algorithm, AuthError, JwtLayer, TokenType, VerifyingKey};

const DEFAULT_ITERATIONS: u64 = 3000;
const DEFAULT_SEED: u64 = 0x7a11_5eed;

enum Signer {
    Hs256(&'static [u8]),
    Es256(p256::ecdsa::SigningKey),
}

impl Signer {
    fn sign(&self, input: &str, high_s: bool) -> Vec<u8> {
        match self {
            Signer::Hs256(secret) => {
                let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
                mac.update(input.as_bytes());
                mac.finalize().into_bytes().to_vec()
            }
            Signer::Es256(key) => {
                let signature: p256::ecdsa::Signature = key.sign(input.as_bytes());
                let mut bytes = signature.to_bytes().to_vec();
                if high_s {
                    negate_s(&mut bytes[32..]);
                }
                bytes
            }
        }
    }
}

/// `s` becomes `n - s` (n the order of P-256): the other valid signature of the same message.
fn negate_s(s: &mut [u8]) {
    const N: [u8; 32] = [
        0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63,
        0x25, 0x51,
    ];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let mut d = i16::from(N[i]) - i16::from(s[i]) - borrow;
        borrow = i16::from(d < 0);
        if d < 0 {
            d += 256;
        }
        s[i] = d as u8;
    }
}

/// A layer, the oracle's reading of its rules, its key and a valid token to grow cases from.
struct Target {
    name: &'static str,
    rules: Rules,
    layer: JwtLayer<Value>,
    /// The same layer with the verified-token cache: it must decide every token alike, the
    /// first time (a miss) and the second (a hit, for an accepted token).
    cached: JwtLayer<Value>,
    signer: Signer,
    /// A key of the same kind that is not the layer's.
    stranger: Signer,
    header: Object,
    payload: Object,
}

impl Target {
    /// The signing input of the valid token.
    fn message(&self) -> String {
        format!(
            "{}.{}",
            b64(&self.header.compact()),
            b64(&self.payload.compact())
        )
    }
}

fn layer(rules: &Rules, key: VerifyingKey) -> JwtLayer<Value> {
    let mut layer = JwtLayer::new(key)
        .clock(ManualClock::new(rules.now))
        .leeway(Duration::from_secs(rules.leeway))
        .max_token_length(rules.max_len)
        .allow_any_audience(rules.any_audience);
    if let Some(max_age) = rules.max_age {
        layer = layer.max_age(Duration::from_secs(max_age));
    }
    if let Some(issuer) = rules.issuer {
        layer = layer.issuer(issuer);
    }
    if !rules.audiences.is_empty() {
        layer = layer.audiences(rules.audiences.iter().copied());
    }
    if let Some(subject) = rules.subject {
        layer = layer.subject(subject);
    }
    match (rules.type_claim, rules.type_header) {
        (Some((name, value)), None) => layer.token_type(TokenType::claim(name, value)),
        (None, Some(typ)) => layer.token_type(TokenType::header(typ)),
        (None, None) => layer,
        _ => unreachable!("one type rule at most"),
    }
}

fn target(name: &'static str, rules: Rules) -> Target {
    let (key, signer, stranger) = match &rules.key {
        Key::Hs256(secret) => (
            VerifyingKey::hs256(*secret).unwrap(),
            Signer::Hs256(secret),
            Signer::Hs256(b"another secret, also of 32 bytes or more"),
        ),
        Key::Es256(_) => (
            VerifyingKey::from_pem(pem("ec256_public"), Algorithm::ES256).unwrap(),
            Signer::Es256(
                p256::ecdsa::SigningKey::from_pkcs8_pem(
                    &String::from_utf8(pem("ec256_private")).unwrap(),
                )
                .unwrap(),
            ),
            Signer::Es256(p256::ecdsa::SigningKey::from_slice(&[7; 32]).unwrap()),
        ),
    };
    let key = match rules.kid {
        Some(kid) => key.with_kid(kid),
        None => key,
    };
    let alg = match rules.key {
        Key::Hs256(_) => "HS256",
        Key::Es256(_) => "ES256",
    };
    let mut header = Object(Vec::new());
    header.set("alg", quoted(alg));
    header.set("typ", quoted(rules.type_header.unwrap_or("JWT")));
    if let Some(kid) = rules.kid {
        header.set("kid", quoted(kid));
    }
    let mut payload = Object(Vec::new());
    payload.set("iss", quoted(rules.issuer.unwrap_or("https://elsewhere")));
    payload.set("sub", quoted(rules.subject.unwrap_or("1")));
    match (rules.audiences.first(), rules.any_audience) {
        (Some(aud), _) => payload.set("aud", quoted(aud)),
        (None, true) => payload.set("aud", quoted("elsewhere")),
        (None, false) => {}
    }
    payload.set("exp", (rules.now + 300).to_string());
    payload.set("nbf", (rules.now - 10).to_string());
    payload.set("iat", (rules.now - 10).to_string());
    payload.set("jti", quoted("j-1"));
    if let Some((name, value)) = rules.type_claim {
        payload.set(name, quoted(value));
    }
    payload.set("scope", quoted("orders:read"));
    Target {
        name,
        cached: layer(&rules, key.clone()).token_cache(TokenCache::new(1024)),
        layer: layer(&rules, key),
        rules,
        signer,
        stranger,
        header,
        payload,
    }
}

fn targets() -> Vec<Target> {
    let es256 = p256::ecdsa::VerifyingKey::from_public_key_pem(
        &String::from_utf8(pem("ec256_public")).unwrap(),
    )
    .unwrap();
    let base = || Rules {
        key: Key::Hs256(SECRET),
        kid: None,
        now: NOW,
        leeway: 30,
        max_len: 8192,
        max_age: None,
        issuer: None,
        audiences: &[],
        any_audience: false,
        subject: None,
        type_claim: None,
        type_header: None,
    };
    vec![
        target(
            "hs256: issuer, audience, type claim",
            Rules {
                issuer: Some("https://issuer.example"),
                audiences: &["api"],
                type_claim: Some(("type", "access")),
                ..base()
            },
        ),
        target(
            "es256: kid, typ header, audiences, subject, max_age",
            Rules {
                key: Key::Es256(es256),
                kid: Some("ec-1"),
                leeway: 5,
                max_len: 2048,
                max_age: Some(600),
                audiences: &["a", "b"],
                subject: Some("svc"),
                type_header: Some("at+jwt"),
                ..base()
            },
        ),
        target(
            "hs256: nothing configured, no leeway",
            Rules {
                leeway: 0,
                max_len: 1024,
                ..base()
            },
        ),
        target(
            "hs256: any audience, max_age",
            Rules {
                any_audience: true,
                max_age: Some(3600),
                ..base()
            },
        ),
    ]
}

/// One case: the token, and whether its signature was made over its own signing input.
fn generate(rng: &mut Rng, target: &Target) -> (String, bool) {
    let rules = &target.rules;
    let (mut header, mut payload) = (target.header.clone(), target.payload.clone());
    let changes = match rng.below(10) {
        0..=2 => 0,
        n => n / 3,
    };
    for _ in 0..changes {
        mutate::mutate(rng, rules, &mut header, &mut payload);
    }
    let mut header = header.render(rng);
    let mut payload = payload.render(rng);
    if rng.percent(5) {
        let bytes = if rng.percent(50) {
            &mut header
        } else {
            &mut payload
        };
        mutate::corrupt_bytes(rng, bytes);
    }
    if rng.percent(5) {
        // A payload padded to the size cap, a few characters either side.
        let target_len = rules.max_len + rng.below(5) - 2;
        pad_to(&mut payload, target_len, b64(&header).len(), rules);
    }
    let (mut header, mut payload) = (b64(&header), b64(&payload));
    if rng.percent(8) {
        let segment = if rng.percent(50) {
            &mut header
        } else {
            &mut payload
        };
        mutate::corrupt_base64(rng, segment);
    }
    let message = format!("{header}.{payload}");
    let resigned = rng.percent(50);
    let mut signature = if resigned {
        b64(&target.signer.sign(&message, rng.percent(20)))
    } else {
        match rng.below(10) {
            0..=3 => {
                // The signature of the valid token this case grew from.
                b64(&target.signer.sign(&target.message(), false))
            }
            4 | 5 => b64(&target.stranger.sign(&message, false)),
            6 => b64(&(0..[32, 64][rng.below(2)])
                .map(|_| rng.next() as u8)
                .collect::<Vec<u8>>()),
            // HS256 keyed with the public key: the RFC 8725 §2.1 confusion.
            7 => {
                let mut mac = Hmac::<Sha256>::new_from_slice(&pem("ec256_public")).unwrap();
                mac.update(message.as_bytes());
                b64(&mac.finalize().into_bytes())
            }
            _ => String::new(),
        }
    };
    if rng.percent(5) {
        mutate::corrupt_base64(rng, &mut signature);
    }
    let mut token = format!("{message}.{signature}");
    if rng.percent(10) {
        mutate::corrupt_token(rng, &mut token);
    }
    (token, resigned)
}

/// Adds a `pad` claim so that the token is about `len` long (an HS256 signature is 43
/// characters, an ES256 one 86).
fn pad_to(payload: &mut Vec<u8>, len: usize, header_len: usize, rules: &Rules) {
    let signature = match rules.key {
        Key::Hs256(_) => 43,
        Key::Es256(_) => 86,
    };
    let Some(rest) = payload.strip_suffix(b"}") else {
        return;
    };
    let mut padded = rest.to_vec();
    padded.extend_from_slice(b",\"pad\":\"");
    let fixed = padded.len() + 2;
    let wanted = len.saturating_sub(header_len + signature + 2) * 3 / 4;
    padded.extend(std::iter::repeat_n(b'x', wanted.saturating_sub(fixed)));
    padded.extend_from_slice(b"\"}");
    *payload = padded;
}

fn env(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    let value = value.trim();
    Some(
        match value.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16),
            None => value.parse(),
        }
        .unwrap_or_else(|_| panic!("{name}={value}: not a number")),
    )
}

fn case_rng(seed: u64, case: u64) -> Rng {
    Rng::new(seed ^ case.wrapping_mul(0xd134_2543_de82_ef95))
}

fn describe(target: &Target, token: &str) -> String {
    let part = |i: usize| {
        token
            .split('.')
            .nth(i)
            .and_then(oracle::base64url)
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
    };
    format!(
        "target: {}\ntoken: {token:?}\nheader: {:?}\npayload: {:?}",
        target.name,
        part(0),
        part(1)
    )
}

#[test]
fn every_target_accepts_its_valid_token() {
    // Without this, an oracle and a layer that refuse everything would agree.
    for target in targets() {
        let message = target.message();
        let token = format!("{message}.{}", b64(&target.signer.sign(&message, false)));
        assert_eq!(
            target.rules.decide(&token),
            Verdict::Accept,
            "{}",
            target.name
        );
        assert!(
            ready(target.layer.verify(&token)).is_ok(),
            "{}",
            target.name
        );
    }
}

#[test]
fn the_layer_decides_every_fuzzed_token_as_the_oracle_does() {
    let seed = env("FUZZ_SEED").unwrap_or(DEFAULT_SEED);
    let replay = env("FUZZ_CASE").is_some();
    let cases = match env("FUZZ_CASE") {
        Some(case) => case..case + 1,
        None => 0..env("FUZZ_ITERATIONS").unwrap_or(DEFAULT_ITERATIONS),
    };
    let targets = targets();
    let mut failures = Vec::new();
    let mut outcomes: BTreeMap<String, u64> = BTreeMap::new();
    let (mut accepted, mut resigned_refusals, mut either) = (0u64, 0u64, 0u64);
    let total = cases.end - cases.start;
    for case in cases {
        let mut rng = case_rng(seed, case);
        let target = &targets[rng.below(targets.len())];
        let (token, resigned) = generate(&mut rng, target);
        let verdict = target.rules.decide(&token);
        let decision = catch_unwind(AssertUnwindSafe(|| ready(target.layer.verify(&token))));
        if replay {
            let decision = decision.as_ref().map_err(|_| "panicked");
            println!(
                "{}\noracle: {verdict:?}\nlayer: {decision:?}",
                describe(target, &token)
            );
        }
        let cached = catch_unwind(AssertUnwindSafe(|| {
            let first = ready(target.cached.verify(&token));
            (first, ready(target.cached.verify(&token)))
        }));
        let failure = match (&verdict, &decision) {
            (_, Err(_)) => Some("the layer PANICKED".to_owned()),
            (_, Ok(alone)) if !cached.as_ref().is_ok_and(|(a, b)| a == alone && b == alone) => {
                Some(format!(
                    "the layer with a token cache decided otherwise: {cached:?} against {alone:?}"
                ))
            }
            (Verdict::Refuse(why), Ok(Ok(_))) => Some(format!(
                "the layer ACCEPTED what the oracle refuses ({why})"
            )),
            (Verdict::Accept, Ok(Err(error))) => Some(format!(
                "the layer refused ({error:?}) what the oracle accepts"
            )),
            _ => None,
        };
        match (&verdict, &decision) {
            (Verdict::Either, _) => either += 1,
            (_, Ok(Ok(_))) => accepted += 1,
            (_, Ok(Err(error))) => {
                let name = format!("{error:?}");
                let name = name.split([' ', '(', '{']).next().unwrap().to_owned();
                if resigned && past_signature(error) {
                    resigned_refusals += 1;
                }
                *outcomes.entry(name).or_default() += 1;
            }
            _ => {}
        }
        if let Some(failure) = failure {
            failures.push(format!(
                "case {case}: {failure}\n{}\nreplay: FUZZ_SEED={seed:#x} FUZZ_CASE={case} cargo test --test fuzz -- --nocapture",
                describe(target, &token)
            ));
        }
    }
    println!(
        "fuzz: seed {seed:#x}, {total} cases: {accepted} accepted, {either} at a time limit (either answer), refusals {outcomes:?}"
    );
    assert!(
        failures.is_empty(),
        "{} of {total} cases disagree with the oracle (seed {seed:#x}):\n\n{}",
        failures.len(),
        failures
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n\n")
    );
    if total >= 1000 {
        // The run reached both answers, and refusals past a valid signature.
        assert!(
            accepted * 20 >= total,
            "only {accepted} of {total} accepted"
        );
        assert!(
            resigned_refusals * 20 >= total,
            "only {resigned_refusals} claim refusals"
        );
    }
}

/// A refusal that only a token with a valid signature can get.
fn past_signature(error: &AuthError) -> bool {
    matches!(
        error,
        AuthError::InvalidClaims
            | AuthError::Expired
            | AuthError::NotYetValid
            | AuthError::MissingClaim(_)
            | AuthError::InvalidIssuer
            | AuthError::InvalidAudience
            | AuthError::InvalidSubject
    )
}
