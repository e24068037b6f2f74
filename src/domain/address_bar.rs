//! Address-bar reshares. The snippet keeps `#st=PARENT.TOKEN` in a page's URL; whoever opens a
//! copy of that URL reports the token (and the parent's code) to `/api/v1/public/arrivals`, and
//! the token names the `address_bar` share it counts as a click on.

/// The snippet draws 12; anything from 8 to 32 is accepted, so a later snippet can change its mind.
pub const MIN_TOKEN_LEN: usize = 8;
pub const MAX_TOKEN_LEN: usize = 32;

/// The token of an address-bar share: 8 to 32 ASCII letters and digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AddressBarToken(String);

impl AddressBarToken {
    /// Surrounding whitespace is ignored; anything else out of shape is refused.
    pub fn parse(raw: &str) -> Option<AddressBarToken> {
        let token = raw.trim();
        let ok =
            (MIN_TOKEN_LEN..=MAX_TOKEN_LEN).contains(&token.len()) && token.bytes().all(|b| b.is_ascii_alphanumeric());
        ok.then(|| AddressBarToken(token.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn tokens_are_letters_and_digits_of_a_bounded_length() {
        assert_eq!(
            AddressBarToken::parse(" Ab3dEf9xYz12\n").unwrap().as_str(),
            "Ab3dEf9xYz12"
        );
        for raw in [
            "",
            "short7",
            "Ab3dEf9x-z12",
            "Ab3d.f9xYz12",
            "Ab3dÉf9xYz12",
            &"a".repeat(33),
        ] {
            assert!(AddressBarToken::parse(raw).is_none(), "{raw:?}");
        }
        assert!(AddressBarToken::parse(&"a".repeat(8)).is_some());
        assert!(AddressBarToken::parse(&"a".repeat(32)).is_some());
    }

    proptest! {
        #[test]
        fn a_parsed_token_is_in_shape_and_parses_to_itself(raw in "\\s{0,2}[A-Za-z0-9._#-]{0,40}\\s{0,2}") {
            if let Some(token) = AddressBarToken::parse(&raw) {
                let text = token.as_str();
                prop_assert!((MIN_TOKEN_LEN..=MAX_TOKEN_LEN).contains(&text.len()));
                prop_assert!(text.bytes().all(|b| b.is_ascii_alphanumeric()));
                prop_assert_eq!(AddressBarToken::parse(text), Some(token.clone()));
            }
        }

        #[test]
        fn every_token_the_snippet_draws_is_accepted(raw in "[A-Za-z0-9]{12}") {
            prop_assert!(AddressBarToken::parse(&raw).is_some());
        }
    }
}
