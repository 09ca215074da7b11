//! The names a [`RedisStore`](super::RedisStore) uses under its prefix (keys, channel, SCAN
//! pattern) and the pub/sub message that carries one revocation.

use crate::revocation::Revocation;

/// The names under one prefix.
pub(super) struct KeyNames {
    pub(super) prefix: Box<str>,
    pub(super) channel: String,
    token: String,
    family: String,
    pub(super) used: String,
    /// SCAN's MATCH pattern for every revocation key, the prefix escaped.
    pub(super) pattern: String,
}

impl KeyNames {
    pub(super) fn new(prefix: &str) -> Self {
        let escaped: String = prefix
            .chars()
            .flat_map(|c| {
                let escape = matches!(c, '*' | '?' | '[' | ']' | '\\').then_some('\\');
                escape.into_iter().chain([c])
            })
            .collect();
        Self {
            prefix: prefix.into(),
            channel: format!("{prefix}:revocations"),
            token: format!("{prefix}:revoked:jti:"),
            family: format!("{prefix}:revoked:sid:"),
            used: format!("{prefix}:used:"),
            pattern: format!("{escaped}:revoked:*"),
        }
    }

    pub(super) fn revoked(&self, what: Revocation<'_>) -> String {
        match what {
            Revocation::Token(jti) => format!("{}{jti}", self.token),
            Revocation::Family(sid) => format!("{}{sid}", self.family),
        }
    }

    pub(super) fn parse<'k>(&self, key: &'k str) -> Option<Revocation<'k>> {
        let token = key.strip_prefix(&self.token).map(Revocation::Token);
        token.or_else(|| key.strip_prefix(&self.family).map(Revocation::Family))
    }
}

/// `t <until> <jti>` or `f <until> <sid>`: the id comes last, so it may hold any character.
pub(super) fn message(what: Revocation<'_>, until: u64) -> String {
    match what {
        Revocation::Token(jti) => format!("t {until} {jti}"),
        Revocation::Family(sid) => format!("f {until} {sid}"),
    }
}

pub(super) fn parse_message(message: &str) -> Option<(Revocation<'_>, u64)> {
    let mut parts = message.splitn(3, ' ');
    let kind = parts.next()?;
    let until = parts.next()?.parse().ok()?;
    let id = parts.next()?;
    match kind {
        "t" => Some((Revocation::Token(id), until)),
        "f" => Some((Revocation::Family(id), until)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_ids_with_spaces() {
        for what in [
            Revocation::Token("a b  c"),
            Revocation::Family(" lead"),
            Revocation::Token(""),
        ] {
            assert_eq!(parse_message(&message(what, 42)), Some((what, 42)));
        }
        assert_eq!(parse_message("x 1 id"), None);
        assert_eq!(parse_message("t soon id"), None);
        assert_eq!(parse_message("t 1"), None);
    }

    #[test]
    fn keys_parse_back_and_the_scan_pattern_escapes_the_prefix() {
        let keys = KeyNames::new("a*b");
        assert_eq!(keys.pattern, "a\\*b:revoked:*");
        let key = keys.revoked(Revocation::Family("s:1"));
        assert_eq!(key, "a*b:revoked:sid:s:1");
        assert_eq!(keys.parse(&key), Some(Revocation::Family("s:1")));
        assert_eq!(
            keys.parse("a*b:revoked:jti:j"),
            Some(Revocation::Token("j"))
        );
        assert_eq!(keys.parse("a*b:used:j"), None);
    }
}
