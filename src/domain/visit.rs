//! What a request for a short code turned out to be.

use serde::Serialize;

/// Only `Click` counts as a click; the other kinds are kept as evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VisitKind {
    /// A person followed the link.
    Click,
    /// A messaging app fetched the link to draw a preview.
    Unfurl,
    /// Any other automated fetch: crawlers, monitors, HEAD requests, prefetches.
    Bot,
}

impl VisitKind {
    pub fn as_str(self) -> &'static str {
        match self {
            VisitKind::Click => "click",
            VisitKind::Unfurl => "unfurl",
            VisitKind::Bot => "bot",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "click" => Some(VisitKind::Click),
            "unfurl" => Some(VisitKind::Unfurl),
            "bot" => Some(VisitKind::Bot),
            _ => None,
        }
    }
}

/// The browser and OS families of a user agent, as uap-core names them ("Chrome Mobile",
/// "Android"). One allocation per agent, which every visit of that agent shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Software {
    pub browser: Option<Box<str>>,
    pub os: Option<Box<str>>,
}

/// An ISO 3166-1 alpha-2 country code, upper case: two bytes, no allocation per visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Country([u8; 2]);

impl Country {
    /// Two ASCII letters, in either case; anything else is no country.
    pub fn parse(code: &str) -> Option<Country> {
        match code.as_bytes() {
            &[a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
                Some(Country([a.to_ascii_uppercase(), b.to_ascii_uppercase()]))
            }
            _ => None,
        }
    }

    pub fn as_str(&self) -> &str {
        // Built from two ASCII letters only, so always UTF-8.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// Coarse device family of a visitor, from the user agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceClass {
    Desktop,
    Mobile,
    Tablet,
    Bot,
    Unknown,
}

impl DeviceClass {
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceClass::Desktop => "desktop",
            DeviceClass::Mobile => "mobile",
            DeviceClass::Tablet => "tablet",
            DeviceClass::Bot => "bot",
            DeviceClass::Unknown => "unknown",
        }
    }
}

/// A visitor as the redirect hashed them (see `privacy`): 128 bits, held inline so that a queued
/// visit carries no heap string for it, and stored as 32 lower-case hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VisitorHash([u8; 16]);

impl VisitorHash {
    pub fn from_bytes(bytes: [u8; 16]) -> VisitorHash {
        VisitorHash(bytes)
    }

    /// The stored form, built on the stack.
    pub fn hex(&self) -> VisitorHex {
        let mut out = [0u8; 32];
        // 16 bytes always fill 32 digits exactly.
        let _ = hex::encode_to_slice(self.0, &mut out);
        VisitorHex(out)
    }
}

impl std::fmt::Display for VisitorHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.hex().as_str())
    }
}

/// A [`VisitorHash`] as the 32 hex digits the database keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VisitorHex([u8; 32]);

impl VisitorHex {
    pub fn as_str(&self) -> &str {
        // Only ASCII hex digits are ever written into it.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

#[cfg(test)]
mod visitor_tests {
    use super::VisitorHash;

    #[test]
    fn a_visitor_hash_is_stored_as_32_lower_case_hex_digits_in_byte_order() {
        let mut bytes = [0u8; 16];
        bytes[0] = 0xab;
        bytes[15] = 0x0f;
        let hash = VisitorHash::from_bytes(bytes);
        assert_eq!(hash.hex().as_str(), "ab00000000000000000000000000000f");
        assert_eq!(hash.to_string(), hash.hex().as_str());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_country_is_two_letters_kept_in_upper_case() {
        assert_eq!(
            Country::parse("GB").map(|c| c.as_str().to_owned()).as_deref(),
            Some("GB")
        );
        assert_eq!(
            Country::parse("nz").map(|c| c.as_str().to_owned()).as_deref(),
            Some("NZ")
        );
        for bad in ["", "G", "GBR", "G1", "é", "--"] {
            assert_eq!(Country::parse(bad), None, "{bad:?}");
        }
    }
}
