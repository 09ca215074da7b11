//! Unit tests of the payload scan: what it reads, what it skips, what it refuses.

use super::*;

fn boxed(names: &[&str]) -> Vec<Box<str>> {
    names.iter().map(|&n| n.into()).collect()
}

fn plan<'r>(
    issuers: &'r [Box<str>],
    audiences: &'r [Box<str>],
    required: &'r [Box<str>],
) -> ScanPlan<'r> {
    ScanPlan {
        type_claim: Some(("type", "access")),
        subject: Some("svc"),
        required,
        revocation_ids: true,
        csrf: true,
        issuers,
        audiences,
    }
}

fn scan<'de>(plan: ScanPlan<'_>, json: &'de str) -> Result<Seen<'de>, serde_json::Error> {
    plan.deserialize(&mut serde_json::Deserializer::from_str(json))
}

#[test]
fn reads_the_claims_the_plan_asks_for_and_borrows_their_text() {
    let (iss, aud) = (boxed(&["https://a"]), boxed(&["api"]));
    let json = r#"{"exp": 10.5, "nbf": 1, "iss": "https://a", "aud": ["x", "api"], "sub": "svc",
        "type": "access", "jti": "j1", "sid": "s1", "csrf": "c1", "other": {"deep": [1]}}"#;
    let seen = scan(plan(&iss, &aud, &[]), json).unwrap();
    assert_eq!((seen.exp, seen.nbf), (Some(10.5), Some(1.0)));
    assert_eq!(
        (seen.iss, seen.aud, seen.sub, seen.typ),
        (
            Presence::Match,
            Presence::Match,
            Presence::Match,
            Presence::Match
        )
    );
    assert!(seen.aud_present);
    assert_eq!(seen.jti.as_deref(), Some("j1"));
    assert_eq!(seen.sid.as_deref(), Some("s1"));
    assert_eq!(seen.csrf.as_deref(), Some("c1"));
    assert!(
        matches!(seen.jti.unwrap().0, Cow::Borrowed(_)),
        "no allocation for plain text"
    );
}

#[test]
fn tells_absent_from_mismatched() {
    let (iss, aud) = (boxed(&["https://a"]), boxed(&["api"]));
    let seen = scan(
        plan(&iss, &aud, &[]),
        r#"{"iss": "https://b", "aud": "web", "sub": "x", "type": "refresh"}"#,
    )
    .unwrap();
    assert_eq!(
        (seen.iss, seen.aud, seen.sub, seen.typ),
        (
            Presence::Mismatch,
            Presence::Mismatch,
            Presence::Mismatch,
            Presence::Mismatch
        )
    );
    let seen = scan(plan(&iss, &aud, &[]), "{}").unwrap();
    assert_eq!(
        (seen.iss, seen.aud, seen.sub, seen.typ),
        (
            Presence::Absent,
            Presence::Absent,
            Presence::Absent,
            Presence::Absent
        )
    );
    assert!(!seen.aud_present && seen.exp.is_none() && seen.jti.is_none());
    // An empty audience array names no audience, but `aud` was there.
    let seen = scan(plan(&iss, &aud, &[]), r#"{"aud": []}"#).unwrap();
    assert_eq!(seen.aud, Presence::Absent);
    assert!(seen.aud_present);
}

#[test]
fn escaped_text_is_unescaped() {
    let seen = scan(plan(&[], &[], &[]), r#"{"jti": "a\"b\u0041"}"#).unwrap();
    assert_eq!(seen.jti.as_deref(), Some("a\"bA"));
}

#[test]
fn required_claims_count_only_when_not_null() {
    let required = boxed(&["email", "exp", "tenant"]);
    let seen = scan(
        plan(&[], &[], &required),
        r#"{"email": "a@b", "exp": 1, "tenant": null}"#,
    )
    .unwrap();
    assert_eq!(seen.required, 0b011);
    let seen = scan(plan(&[], &[], &required), r#"{"tenant": {"id": 1}}"#).unwrap();
    assert_eq!(seen.required, 0b100);
}

#[test]
fn claims_off_the_plan_are_skipped_whatever_their_type() {
    let off = ScanPlan {
        revocation_ids: false,
        csrf: false,
        type_claim: None,
        ..plan(&[], &[], &[])
    };
    let seen = scan(off, r#"{"jti": "j", "sid": null, "csrf": [], "type": 1}"#).unwrap();
    assert!(seen.jti.is_none() && seen.sid.is_none() && seen.csrf.is_none());
    assert_eq!(seen.typ, Presence::Absent);
}

#[test]
fn registered_claims_are_type_checked_even_off_the_plan() {
    let off = ScanPlan {
        revocation_ids: false,
        ..plan(&[], &[], &[])
    };
    for json in [
        r#"{"jti": 5}"#,
        r#"{"iat": "1800000000"}"#,
        r#"{"iat": 1, "iat": 2}"#,
        r#"{"jti": "a", "jti": "a"}"#,
    ] {
        assert!(scan(off, json).is_err(), "{json}");
    }
    let seen = scan(off, r#"{"iat": 1.8e9, "jti": "j"}"#).unwrap();
    assert_eq!(seen.iat, Some(1.8e9));
}

#[test]
fn refuses_repeated_registered_claims_and_wrong_types() {
    let (iss, aud) = (boxed(&["https://a"]), boxed(&["api"]));
    for json in [
        r#"{"exp": 1, "exp": 2}"#,
        r#"{"iss": "https://a", "iss": "https://a"}"#,
        r#"{"aud": "api", "aud": "web"}"#,
        r#"{"type": "access", "type": "access"}"#,
        r#"{"jti": "a", "jti": "b"}"#,
        r#"{"exp": "soon"}"#,
        r#"{"iss": ["https://a"]}"#,
        r#"{"aud": [1]}"#,
        r#"{"sub": 7}"#,
        r#"{"jti": null}"#,
        r#"["not", "an", "object"]"#,
    ] {
        assert!(scan(plan(&iss, &aud, &[]), json).is_err(), "{json}");
    }
    // Unregistered claims may repeat: the scan does not read them.
    assert!(scan(plan(&iss, &aud, &[]), r#"{"x": 1, "x": 2}"#).is_ok());
}
