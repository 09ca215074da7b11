//! DPoP proof checks (RFC 9449 §4.3) against proofs made by an independent implementation
//! written from the RFC here: P-256 by the RustCrypto `p256` crate, JSON by serde_json,
//! base64url by `base64`, the RFC 7638 thumbprint by `sha2`. Every check has its refused twin.

use crate::common;

use common::dpop::Client;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tower_jwt_auth::Algorithm;
use tower_jwt_auth::dpop::{DpopError, ProofRequest, ProofRules};

const NOW: u64 = 1_800_000_000;
const URI: &str = "https://api.example.com/orders";
const TOKEN: &str = "eyJhbGciOiJFUzI1NiJ9.eyJjbmYiOnsiamt0IjoieCJ9fQ.c2ln";

/// The proof a conforming client sends with `TOKEN` for `GET URI` at `NOW`.
trait Conforming {
    fn proof(&self) -> (Value, Value);
}

impl Conforming for Client {
    fn proof(&self) -> (Value, Value) {
        let claims = json!({
            "jti": "e1j3V_bKic8-LAEB",
            "htm": "GET",
            "htu": URI,
            "iat": NOW,
            "ath": URL_SAFE_NO_PAD.encode(Sha256::digest(TOKEN.as_bytes())),
        });
        (self.header(), claims)
    }
}

fn request(method: &Method) -> ProofRequest<'_> {
    ProofRequest {
        method,
        uri: URI,
        access_token: Some(TOKEN),
    }
}

fn verify(proof: &str) -> Result<tower_jwt_auth::dpop::Proof, DpopError> {
    common::jsonwebtoken_ready();
    ProofRules::new().verify(proof, &request(&Method::GET), NOW)
}

#[test]
fn a_conforming_proof_passes_and_names_its_keys_thumbprint() {
    let client = Client::new(7);
    let (header, claims) = client.proof();
    let proof = verify(&client.sign(&header, &claims)).unwrap();
    assert_eq!(proof.jkt(), client.thumbprint());
    assert_eq!((proof.jti(), proof.iat()), ("e1j3V_bKic8-LAEB", NOW));
    assert_eq!(proof.check_binding(&client.thumbprint()), Ok(()));
    assert_eq!(
        proof.check_binding(&Client::new(8).thumbprint()),
        Err(DpopError::KeyMismatch)
    );
}

#[test]
fn each_claim_that_does_not_match_the_request_is_refused() {
    let client = Client::new(7);
    let (header, claims) = client.proof();
    let with = |name: &str, value: Value| {
        let mut claims = claims.clone();
        claims[name] = value;
        verify(&client.sign(&header, &claims))
    };
    assert_eq!(
        with("htm", json!("POST")).unwrap_err(),
        DpopError::MethodMismatch
    );
    assert_eq!(
        with("htm", json!("get")).unwrap_err(),
        DpopError::MethodMismatch
    );
    for htu in [
        "https://api.example.com/orders/1",
        "https://api.example.com/order",
        "https://evil.example.com/orders",
        "http://api.example.com/orders",
        "https://api.example.com:8443/orders",
        "/orders",
        "not a uri",
        "https://api.example.com:99999/orders",
        "https://api.example.com:443443/orders",
        "https://api.example.com:/orders",
        "https://attacker@api.example.com/orders",
        "https://user:pw@api.example.com/orders",
        "https://api.example.com/orders/..",
        "https://api.example.com/a/../order",
        "https://api.example.com/../other/orders",
        "https://api.example.com/orders/.",
    ] {
        assert_eq!(
            with("htu", json!(htu)).unwrap_err(),
            DpopError::UriMismatch,
            "{htu}"
        );
    }
    // The same target: query and fragment ignored, case, default port, percent-encodings and
    // dot segments normalized (RFC 3986 §6.2.2).
    for htu in [
        "https://api.example.com/orders?page=2",
        "https://api.example.com/orders#top",
        "HTTPS://API.Example.COM/orders",
        "https://api.example.com:443/orders",
        "https://api.example.com/%6Frders",
        "https://api.example.com/./orders",
        "https://api.example.com/a/../orders",
        "https://api.example.com/a/b/../../orders",
        "https://api.example.com/../orders",
        "https://api.example.com/a/%2E%2E/orders",
        "https://api.example.com/v1/./../orders",
    ] {
        assert!(with("htu", json!(htu)).is_ok(), "{htu}");
    }
    assert_eq!(with("iat", json!(NOW - 61)).unwrap_err(), DpopError::Stale);
    assert_eq!(with("iat", json!(NOW + 61)).unwrap_err(), DpopError::Stale);
    assert!(with("iat", json!(NOW - 60)).is_ok());
    assert_eq!(with("iat", json!("now")).unwrap_err(), DpopError::Malformed);
    let other_token = URL_SAFE_NO_PAD.encode(Sha256::digest(b"another.access.token"));
    assert_eq!(
        with("ath", json!(other_token)).unwrap_err(),
        DpopError::AccessTokenHashMismatch
    );
    for missing in ["jti", "htm", "htu", "iat", "ath"] {
        let mut claims = claims.clone();
        claims.as_object_mut().unwrap().remove(missing);
        let refused = verify(&client.sign(&header, &claims)).unwrap_err();
        assert_eq!(refused, DpopError::MissingClaim(missing), "{missing}");
    }
    assert_eq!(
        with("jti", json!("")).unwrap_err(),
        DpopError::MissingClaim("jti")
    );
}

#[test]
fn a_request_path_not_in_normal_form_names_no_proofs_htu() {
    let client = Client::new(7);
    let (header, claims) = client.proof();
    let proof = client.sign(&header, &claims);
    let verify_at = |uri: &str| {
        let request = ProofRequest {
            method: &Method::GET,
            uri,
            access_token: Some(TOKEN),
        };
        ProofRules::new().verify(&proof, &request, NOW)
    };
    // A router takes these as written, to another handler than `/orders`.
    for uri in [
        "https://api.example.com/a/../orders",
        "https://api.example.com/a/%2E%2E/orders",
        "https://api.example.com/a/%2e./orders",
        "https://api.example.com/./orders",
        "https://api.example.com/orders/.",
        "https://api.example.com/%6Frders",
    ] {
        assert_eq!(verify_at(uri).unwrap_err(), DpopError::UriMismatch, "{uri}");
    }
    assert!(verify_at(URI).is_ok());
    // With an `htu` of that very path, it passes: the client signed what it sent. The case of
    // a percent-encoding's hex digits changes nothing; raw UTF-8 stays what it is.
    let with_htu = |htu: &str, uri: &str| {
        let mut claims = claims.clone();
        claims["htu"] = json!(htu);
        let proof = client.sign(&header, &claims);
        let request = ProofRequest {
            method: &Method::GET,
            uri,
            access_token: Some(TOKEN),
        };
        ProofRules::new().verify(&proof, &request, NOW)
    };
    let api = "https://api.example.com";
    for (htu, path) in [
        ("/files/a%2Fb", "/files/a%2fb"),
        ("/users/%7Ealice", "/users/%7Ealice"),
        ("/a%2Eb", "/a%2Eb"),
        ("/a/../orders", "/a/../orders"),
        ("/caf\u{e9}", "/caf\u{e9}"),
        ("/caf%C3%A9", "/caf%c3%a9"),
        ("/caf\u{e9}/%7E", "/caf\u{e9}/~"),
    ] {
        let result = with_htu(&format!("{api}{htu}"), &format!("{api}{path}"));
        assert!(result.is_ok(), "{htu} for {path}: {result:?}");
    }
    for (htu, path) in [
        ("/users/~alice", "/users/%7Ealice"),
        ("/orders", "/a/../orders"),
        ("/caf\u{e9}", "/caf%C3%A9"),
        ("/caf\u{e9}", "/cafe"),
    ] {
        let result = with_htu(&format!("{api}{htu}"), &format!("{api}{path}"));
        assert_eq!(
            result.unwrap_err(),
            DpopError::UriMismatch,
            "{htu} for {path}"
        );
    }
}

#[test]
fn without_an_access_token_ath_is_not_needed() {
    common::jsonwebtoken_ready();
    let client = Client::new(7);
    let (header, mut claims) = client.proof();
    claims.as_object_mut().unwrap().remove("ath");
    let proof = client.sign(&header, &claims);
    let request = ProofRequest {
        method: &Method::GET,
        uri: URI,
        access_token: None,
    };
    assert!(ProofRules::new().verify(&proof, &request, NOW).is_ok());
}

#[test]
fn the_header_and_the_key_are_checked() {
    let client = Client::new(7);
    let (header, claims) = client.proof();
    let signed = |header: Value| verify(&client.sign(&header, &claims));
    let mut typ = header.clone();
    typ["typ"] = json!("JWT");
    assert_eq!(signed(typ).unwrap_err(), DpopError::WrongType);
    let mut media_type = header.clone();
    media_type["typ"] = json!("application/DPoP+JWT");
    assert!(signed(media_type).is_ok(), "the same media type");
    let mut crit = header.clone();
    crit["crit"] = json!(["exp"]);
    crit["exp"] = json!(1);
    assert_eq!(signed(crit).unwrap_err(), DpopError::Malformed);
    let mut jwk_alg = header.clone();
    jwk_alg["jwk"]["alg"] = json!("RS256");
    assert_eq!(signed(jwk_alg).unwrap_err(), DpopError::DisallowedAlgorithm);
    let mut same_alg = header.clone();
    same_alg["jwk"]["alg"] = json!("ES256");
    assert!(signed(same_alg).is_ok());
    // The same point written with a leading zero byte: another thumbprint for one key.
    let mut padded = header.clone();
    let x = URL_SAFE_NO_PAD
        .decode(header["jwk"]["x"].as_str().unwrap())
        .unwrap();
    padded["jwk"]["x"] = json!(URL_SAFE_NO_PAD.encode([&[0u8][..], &x].concat()));
    assert_eq!(signed(padded).unwrap_err(), DpopError::InvalidKey);
    let mut no_typ = header.clone();
    no_typ.as_object_mut().unwrap().remove("typ");
    assert_eq!(signed(no_typ).unwrap_err(), DpopError::Malformed);
    for alg in ["none", "HS256", "ES512", "nonsense"] {
        let mut other = header.clone();
        other["alg"] = json!(alg);
        assert_eq!(
            signed(other).unwrap_err(),
            DpopError::DisallowedAlgorithm,
            "{alg}"
        );
    }
    // An allowed algorithm that is not the key's: P-256 is not ES384's curve.
    let mut es384 = header.clone();
    es384["alg"] = json!("ES384");
    assert_eq!(signed(es384).unwrap_err(), DpopError::InvalidKey);
    // The private key in the header.
    let mut private = header.clone();
    private["jwk"]["d"] = json!(URL_SAFE_NO_PAD.encode(client.key.to_bytes()));
    assert_eq!(signed(private).unwrap_err(), DpopError::PrivateKey);
    // A symmetric key.
    let mut oct = header.clone();
    oct["jwk"] = json!({"kty": "oct", "k": "c2VjcmV0"});
    assert_eq!(signed(oct).unwrap_err(), DpopError::PrivateKey);
    let mut none = header.clone();
    none.as_object_mut().unwrap().remove("jwk");
    assert_eq!(signed(none).unwrap_err(), DpopError::InvalidKey);
    // Another client's key in the header: the signature does not verify with it.
    let mut stolen = header.clone();
    stolen["jwk"] = Client::new(8).jwk();
    assert_eq!(signed(stolen).unwrap_err(), DpopError::InvalidSignature);
    // ES256 only, by configuration.
    common::jsonwebtoken_ready();
    let only_eddsa = ProofRules::new().algorithms([Algorithm::EdDSA, Algorithm::HS256]);
    assert_eq!(only_eddsa.algorithm_names(), "EdDSA");
    let proof = client.sign(&header, &claims);
    assert_eq!(
        only_eddsa
            .verify(&proof, &request(&Method::GET), NOW)
            .unwrap_err(),
        DpopError::DisallowedAlgorithm
    );
}

#[test]
fn what_is_not_a_signed_proof_is_refused() {
    let client = Client::new(7);
    let (header, claims) = client.proof();
    let proof = client.sign(&header, &claims);
    let (message, signature) = proof.rsplit_once('.').unwrap();
    let mut flipped = URL_SAFE_NO_PAD.decode(signature).unwrap();
    flipped[5] ^= 1;
    let tampered = format!("{message}.{}", URL_SAFE_NO_PAD.encode(flipped));
    assert_eq!(verify(&tampered).unwrap_err(), DpopError::InvalidSignature);
    let mut claims2 = claims.clone();
    claims2["htm"] = json!("POST");
    let (_, payload) = message.split_once('.').unwrap();
    let swapped = proof.replace(payload, &URL_SAFE_NO_PAD.encode(claims2.to_string()));
    let post = ProofRequest {
        method: &Method::POST,
        uri: URI,
        access_token: Some(TOKEN),
    };
    common::jsonwebtoken_ready();
    let refused = ProofRules::new().verify(&swapped, &post, NOW).unwrap_err();
    assert_eq!(refused, DpopError::InvalidSignature);
    for malformed in [
        "",
        "a.b",
        "a.b.c.d",
        "!!!.e30.e30",
        message,
        &"x".repeat(9000),
    ] {
        assert_eq!(
            verify(malformed).unwrap_err(),
            DpopError::Malformed,
            "{malformed:.20}"
        );
    }
}
