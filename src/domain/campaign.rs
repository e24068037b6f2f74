//! Campaigns: a name people read and the slug that travels as `utm_campaign`.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CampaignError {
    #[error("a campaign name is 1 to 80 characters")]
    Length,
    #[error("a campaign name needs at least one letter or digit (a-z, 0-9)")]
    NoSlug,
}

/// A campaign's name, with the slug derived from it when the campaign is created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignName(String);

impl CampaignName {
    pub fn parse(raw: &str) -> Result<CampaignName, CampaignError> {
        let name = raw.trim();
        let chars = name.chars().count();
        if !(1..=80).contains(&chars) || name.chars().any(char::is_control) {
            return Err(CampaignError::Length);
        }
        let name = CampaignName(name.to_owned());
        if name.slug().is_empty() {
            return Err(CampaignError::NoSlug);
        }
        Ok(name)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `Spring Sale 2026!` → `spring-sale-2026`: lower case, ASCII, one `-` between words, as
    /// analytics tools group `utm_campaign` values case- and punctuation-sensitively.
    pub fn slug(&self) -> String {
        let mut slug = String::with_capacity(self.0.len());
        for c in self.0.chars().flat_map(char::to_lowercase) {
            if c.is_ascii_alphanumeric() {
                slug.push(c);
            } else if !slug.is_empty() && !slug.ends_with('-') {
                slug.push('-');
            }
        }
        let slug = slug.trim_end_matches('-');
        slug.chars()
            .take(64)
            .collect::<String>()
            .trim_end_matches('-')
            .to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn slugs_are_lower_case_words_joined_by_dashes() {
        let name = CampaignName::parse("  Spring Sale — 2026! ").unwrap();
        assert_eq!(name.as_str(), "Spring Sale — 2026!");
        assert_eq!(name.slug(), "spring-sale-2026");
    }

    #[test]
    fn names_without_a_letter_or_digit_are_refused() {
        assert_eq!(CampaignName::parse("!!!"), Err(CampaignError::NoSlug));
        assert_eq!(CampaignName::parse("   "), Err(CampaignError::Length));
        assert_eq!(CampaignName::parse(&"a".repeat(81)), Err(CampaignError::Length));
    }

    proptest! {
        #[test]
        fn slugs_are_always_utm_safe(raw in "\\PC{1,80}") {
            if let Ok(name) = CampaignName::parse(&raw) {
                let slug = name.slug();
                prop_assert!(!slug.is_empty() && slug.len() <= 64);
                prop_assert!(slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
                prop_assert!(!slug.starts_with('-') && !slug.ends_with('-') && !slug.contains("--"));
            }
        }
    }
}
