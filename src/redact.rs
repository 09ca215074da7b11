//! URLs as errors and logs may show them: a URL can carry a credential in its user information
//! (`user:password@`), its query (`?api_key=…`) or its fragment, so none of these is shown.

use std::fmt;

/// Text given as a URL, parsed or not, shown without user information (as `…@`), query or
/// fragment.
pub(crate) struct UrlText<'a>(pub(crate) &'a str);

impl fmt::Display for UrlText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.0;
        let text = &text[..text.find(['?', '#']).unwrap_or(text.len())];
        let (scheme, rest) = match text.split_once("://") {
            Some((scheme, rest)) => (Some(scheme), rest),
            None => (None, text),
        };
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        if let Some(scheme) = scheme {
            write!(f, "{scheme}://")?;
        }
        match authority.rsplit_once('@') {
            Some((_, host)) => write!(f, "…@{host}{path}"),
            None => write!(f, "{authority}{path}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::UrlText;

    #[test]
    fn user_information_query_and_fragment_are_never_shown() {
        for (given, shown) in [
            ("https://idp.example/jwks", "https://idp.example/jwks"),
            (
                "https://u:pw@idp.example:8443/a/b?k=v#f",
                "https://…@idp.example:8443/a/b",
            ),
            ("u:pw@idp.example/jwks", "…@idp.example/jwks"),
            ("idp.example?key=pw", "idp.example"),
            ("https://idp.example/a@b/c", "https://idp.example/a@b/c"),
            ("https://a@b@idp.example/", "https://…@idp.example/"),
            ("", ""),
        ] {
            assert_eq!(UrlText(given).to_string(), shown, "{given}");
        }
    }
}
