//! Properties over generated inputs, checked through `JwtLayer::verify`: no single-character
//! edit of a valid HS256 or ES256 token is accepted, and a registered claim (or the type claim)
//! of the wrong JSON type is refused as invalid claims, in tokens signed without this crate.

use crate::common;

use std::sync::LazyLock;

use common::*;
use p256::ecdsa::signature::Signer;
use p256::pkcs8::DecodePrivateKey;
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Value, json};
use tower_jwt_auth::clock::ManualClock;
use tower_jwt_auth::{Algorithm, AuthError, JwtLayer, TokenType, VerifyingKey};

fn layer(key: VerifyingKey) -> JwtLayer<Value> {
    JwtLayer::new(key)
        .clock(ManualClock::new(NOW))
        .audience("api")
        .token_type(TokenType::claim("type", "access"))
}

static HS256: LazyLock<JwtLayer<Value>> =
    LazyLock::new(|| layer(VerifyingKey::hs256(SECRET).unwrap()));
static ES256: LazyLock<JwtLayer<Value>> = LazyLock::new(|| {
    layer(common::keys::verifying_key(
        "ec256",
        Algorithm::ES256,
        "ec-1",
    ))
});
/// No audience, issuer or subject to match, only the type claim (without it `type` is an
/// ordinary claim): the type rules hold whatever the configuration.
static PLAIN: LazyLock<JwtLayer<Value>> = LazyLock::new(|| {
    JwtLayer::new(VerifyingKey::hs256(SECRET).unwrap())
        .clock(ManualClock::new(NOW))
        .allow_any_audience(true)
        .token_type(TokenType::claim("type", "access"))
});

fn valid_claims() -> Value {
    let mut claims = claims();
    claims["aud"] = json!("api");
    claims["iss"] = json!("https://issuer.example");
    claims["nbf"] = json!(NOW - 60);
    claims
}

/// HS256 by hand (hmac + sha2, see `common::hs256_token`).
static HS256_TOKEN: LazyLock<String> =
    LazyLock::new(|| hs256_token(&hs256_header(), &valid_claims(), SECRET));

/// ES256 signed with the RustCrypto `p256` crate, not jsonwebtoken.
static ES256_TOKEN: LazyLock<String> = LazyLock::new(|| {
    let pem = String::from_utf8(pem("ec256_private")).unwrap();
    let key = p256::ecdsa::SigningKey::from_pkcs8_pem(&pem).unwrap();
    let header = json!({"alg": "ES256", "typ": "JWT", "kid": "ec-1"});
    let message = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(valid_claims().to_string().as_bytes())
    );
    let signature: p256::ecdsa::Signature = key.sign(message.as_bytes());
    format!("{message}.{}", b64(&signature.to_bytes()))
});

#[test]
fn the_unedited_tokens_are_accepted() {
    // Without this the properties below would hold for a layer that refuses everything.
    for (layer, token) in [(&*HS256, &*HS256_TOKEN), (&*ES256, &*ES256_TOKEN)] {
        assert_eq!(ready(layer.verify(token)).unwrap()["sub"], "1");
    }
    assert_eq!(ready(PLAIN.verify(&HS256_TOKEN)).unwrap()["sub"], "1");
}

/// One edit of one character at a position. The tokens are ASCII, so an ASCII character is
/// one byte; a byte of 0x80 or above alone would not be UTF-8 and cannot reach `verify(&str)`
/// (nor an HTTP header value the layer reads), so non-ASCII edits insert whole characters.
#[derive(Debug, Clone)]
enum Edit {
    Replace(usize, char),
    Insert(usize, char),
    Delete(usize),
    /// Keeps this many characters, fewer than the token has.
    Truncate(usize),
}

fn character() -> impl Strategy<Value = char> {
    prop_oneof![
        8 => (0u8..0x80).prop_map(char::from),
        1 => any::<char>(),
    ]
}

/// Any edit of a token of `len` characters.
fn edit(len: usize) -> impl Strategy<Value = Edit> {
    prop_oneof![
        (0..len, character()).prop_map(|(i, c)| Edit::Replace(i, c)),
        (0..=len, character()).prop_map(|(i, c)| Edit::Insert(i, c)),
        (0..len).prop_map(Edit::Delete),
        (0..len).prop_map(Edit::Truncate),
    ]
}

fn apply(token: &str, edit: &Edit) -> String {
    let mut chars: Vec<char> = token.chars().collect();
    match *edit {
        Edit::Replace(i, c) => chars[i] = c,
        Edit::Insert(i, c) => chars.insert(i, c),
        Edit::Delete(i) => {
            chars.remove(i);
        }
        Edit::Truncate(n) => chars.truncate(n),
    }
    chars.into_iter().collect()
}

/// The edited token is refused, unless it is the very token: then the edit must be a character
/// replaced by itself (the only edit that gives the original back), and the case is skipped.
fn assert_edit_refused(
    layer: &JwtLayer<Value>,
    token: &str,
    edit: &Edit,
) -> Result<(), TestCaseError> {
    let edited = apply(token, edit);
    if edited == token {
        let Edit::Replace(i, c) = *edit else {
            return Err(TestCaseError::fail(format!("{edit:?} changed nothing")));
        };
        prop_assert_eq!(u32::from(token.as_bytes()[i]), u32::from(c));
        return Ok(());
    }
    let verdict = ready(layer.verify(&edited));
    prop_assert!(
        verdict.is_err(),
        "{:?} of {} accepted: {:?}",
        edit,
        token,
        edited
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn no_single_character_edit_of_an_hs256_token_is_accepted(edit in edit(HS256_TOKEN.len())) {
        assert_edit_refused(&HS256, &HS256_TOKEN, &edit)?;
    }

    #[test]
    fn no_single_character_edit_of_an_es256_token_is_accepted(edit in edit(ES256_TOKEN.len())) {
        assert_edit_refused(&ES256, &ES256_TOKEN, &edit)?;
    }
}

#[test]
fn no_single_byte_edit_of_an_hs256_token_is_accepted_exhaustively() {
    // Every position, every ASCII byte: the whole space the random cases above sample from.
    let token = &*HS256_TOKEN;
    let mut edits = Vec::new();
    for i in 0..=token.len() {
        edits.extend((0u8..0x80).map(|b| Edit::Insert(i, char::from(b))));
        if i < token.len() {
            edits.extend((0u8..0x80).map(|b| Edit::Replace(i, char::from(b))));
            edits.extend([Edit::Delete(i), Edit::Truncate(i)]);
        }
    }
    assert_eq!(edits.len(), (2 * token.len() + 1) * 128 + 2 * token.len());
    for edit in &edits {
        assert_edit_refused(&HS256, token, edit).unwrap();
    }
}

/// What JSON type a claim must have (RFC 7519 §4.1; the type claim is a string).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    /// A NumericDate: any JSON number.
    Date,
    Text,
    /// A string or an array of strings.
    Audience,
}

const REGISTERED: &[(&str, Kind)] = &[
    ("iss", Kind::Text),
    ("sub", Kind::Text),
    ("aud", Kind::Audience),
    ("exp", Kind::Date),
    ("nbf", Kind::Date),
    ("iat", Kind::Date),
    ("jti", Kind::Text),
    ("type", Kind::Text),
];

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON has no NaN or infinity", |f| f.is_finite())
            .prop_map(Value::from),
        Just(json!(NOW + 900)),
    ]
}

fn text() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<String>().prop_map(Value::from),
        Just(json!((NOW + 900).to_string())),
        Just(json!("api")),
        Just(json!("access")),
    ]
}

/// Any JSON value, nested a little.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        number(),
        text(),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::vec(("[a-z]{1,3}", inner), 0..4)
                .prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

fn object() -> BoxedStrategy<Value> {
    prop::collection::vec(("[a-z]{1,3}", any_json()), 0..3)
        .prop_map(|members| Value::Object(members.into_iter().collect()))
        .boxed()
}

fn array() -> BoxedStrategy<Value> {
    prop::collection::vec(any_json(), 0..4)
        .prop_map(Value::from)
        .boxed()
}

fn boolean() -> BoxedStrategy<Value> {
    any::<bool>().prop_map(Value::from).boxed()
}

/// A value of any JSON type that `kind` is not.
fn wrong(kind: Kind) -> BoxedStrategy<Value> {
    let null = || Just(Value::Null);
    match kind {
        Kind::Date => prop_oneof![null(), boolean(), text(), object(), array()].boxed(),
        Kind::Text => prop_oneof![null(), boolean(), number(), object(), array()].boxed(),
        // An array with at least one element that is not a string, among strings.
        Kind::Audience => {
            let not_text = prop_oneof![null(), boolean(), number(), object(), array()];
            let bad_array = (
                prop::collection::vec(text(), 0..3),
                not_text,
                any::<Index>(),
            )
                .prop_map(|(mut items, bad, at)| {
                    let at = at.index(items.len() + 1);
                    items.insert(at, bad);
                    Value::from(items)
                });
            prop_oneof![null(), boolean(), number(), object(), bad_array].boxed()
        }
    }
}

/// The valid claims with `name` set to `value`, placed at `at` among the others, as raw JSON.
fn payload_with(name: &str, value: &Value, at: Index) -> String {
    let mut members: Vec<(String, Value)> = valid_claims()
        .as_object()
        .unwrap()
        .iter()
        .filter(|(n, _)| *n != name)
        .map(|(n, v)| (n.clone(), v.clone()))
        .collect();
    members.insert(
        at.index(members.len() + 1),
        (name.to_owned(), value.clone()),
    );
    let members: Vec<String> = members
        .iter()
        .map(|(n, v)| format!("{}:{v}", Value::from(n.as_str())))
        .collect();
    format!("{{{}}}", members.join(","))
}

fn wrong_claim() -> impl Strategy<Value = (&'static str, Kind, Value)> {
    prop::sample::select(REGISTERED)
        .prop_flat_map(|(name, kind)| (Just(name), Just(kind), wrong(kind)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn a_registered_claim_of_any_wrong_type_is_refused_as_invalid_claims(
        (name, kind, value) in wrong_claim(),
        at in any::<Index>(),
        strict in any::<bool>(),
    ) {
        let payload = payload_with(name, &value, at);
        let token = hs256_token_raw(&hs256_header(), &payload, SECRET);
        let layer = if strict { &*HS256 } else { &*PLAIN };
        prop_assert_eq!(
            ready(layer.verify(&token)),
            Err(AuthError::InvalidClaims),
            "{} ({:?}) = {} in {}", name, kind, value, payload
        );
    }

    #[test]
    fn the_same_claims_of_the_right_type_are_accepted(
        (name, kind) in prop::sample::select(REGISTERED),
        at in any::<Index>(),
    ) {
        // The positive twin of the property above: only the value's type changed.
        let value = valid_claims()[name].clone();
        let right_type = match kind {
            Kind::Date => value.is_number(),
            Kind::Text | Kind::Audience => value.is_string(),
        };
        prop_assert!(right_type, "{} = {}", name, value);
        let token = hs256_token_raw(&hs256_header(), &payload_with(name, &value, at), SECRET);
        prop_assert!(ready(HS256.verify(&token)).is_ok(), "{}", name);
    }
}
