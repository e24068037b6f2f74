//! Preview cards: what a messaging app's link preview shows for a link, and which card a share
//! gets — its channel's variant, else the link's default, else none (the app then follows the
//! redirect and previews the destination, as without cards).

use std::collections::BTreeMap;

use url::Url;

use crate::domain::app::App;
use crate::domain::channel::Channel;

/// Apps cut titles near 60–90 characters; 200 leaves room for any language without letting a
/// card carry a page of text.
pub const MAX_TITLE_CHARS: usize = 200;
/// Apps show two or three lines of it.
pub const MAX_DESCRIPTION_CHARS: usize = 500;
pub const MAX_IMAGE_URL_LEN: usize = 2048;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageUrlError {
    #[error("the image URL is longer than {MAX_IMAGE_URL_LEN} characters")]
    TooLong,
    #[error("the image URL is not an absolute URL")]
    Malformed,
    #[error("the image URL must start with https:// or http://")]
    Scheme,
    #[error("the image URL needs a host name")]
    NoHost,
    #[error("image URLs with a user name or password are refused")]
    Credentials,
}

/// Where a card's picture is: an absolute http(s) URL with a host and no credentials, which
/// the apps fetch themselves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageUrl(Url);

impl ImageUrl {
    pub fn parse(raw: &str) -> Result<ImageUrl, ImageUrlError> {
        let raw = raw.trim();
        if raw.len() > MAX_IMAGE_URL_LEN {
            return Err(ImageUrlError::TooLong);
        }
        let url = Url::parse(raw).map_err(|_| ImageUrlError::Malformed)?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ImageUrlError::Scheme);
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(ImageUrlError::NoHost);
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(ImageUrlError::Credentials);
        }
        if url.as_str().len() > MAX_IMAGE_URL_LEN {
            return Err(ImageUrlError::TooLong);
        }
        Ok(ImageUrl(url))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PreviewCardError {
    #[error("a preview card needs a title")]
    TitleMissing,
    #[error("a title is at most {MAX_TITLE_CHARS} characters")]
    TitleTooLong,
    #[error("a title is one line without control characters")]
    TitleControl,
    #[error("a description is at most {MAX_DESCRIPTION_CHARS} characters")]
    DescriptionTooLong,
    #[error("a description may break lines but holds no other control characters")]
    DescriptionControl,
    #[error("{0}")]
    Image(#[from] ImageUrlError),
}

impl PreviewCardError {
    /// The field of a card's document the error is about.
    pub fn field(&self) -> &'static str {
        match self {
            Self::TitleMissing | Self::TitleTooLong | Self::TitleControl => "title",
            Self::DescriptionTooLong | Self::DescriptionControl => "description",
            Self::Image(_) => "image_url",
        }
    }
}

/// A title, an optional description and an optional picture, each within bounds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewCard {
    title: String,
    description: Option<String>,
    image: Option<ImageUrl>,
}

impl PreviewCard {
    /// Trims each part; a blank description or image URL is none.
    pub fn parse(title: &str, description: Option<&str>, image_url: Option<&str>) -> Result<Self, PreviewCardError> {
        let title = title.trim();
        if title.is_empty() {
            return Err(PreviewCardError::TitleMissing);
        }
        if title.chars().count() > MAX_TITLE_CHARS {
            return Err(PreviewCardError::TitleTooLong);
        }
        if title.chars().any(char::is_control) {
            return Err(PreviewCardError::TitleControl);
        }
        let description = description.map(str::trim).filter(|d| !d.is_empty());
        if let Some(text) = description {
            if text.chars().count() > MAX_DESCRIPTION_CHARS {
                return Err(PreviewCardError::DescriptionTooLong);
            }
            if text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
                return Err(PreviewCardError::DescriptionControl);
            }
        }
        let image = match image_url.map(str::trim).filter(|u| !u.is_empty()) {
            Some(raw) => Some(ImageUrl::parse(raw)?),
            None => None,
        };
        Ok(PreviewCard {
            title: title.to_owned(),
            description: description.map(str::to_owned),
            image,
        })
    }

    pub fn title(&self) -> &str {
        &self.title
    }

    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    pub fn image(&self) -> Option<&ImageUrl> {
        self.image.as_ref()
    }
}

/// A link's cards: the default, and a variant per channel.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkPreviewCards {
    default: Option<PreviewCard>,
    by_channel: BTreeMap<String, PreviewCard>,
}

impl LinkPreviewCards {
    /// Sets the card of `channel`, or the default card for `None`.
    pub fn set(&mut self, channel: Option<&Channel>, card: PreviewCard) {
        match channel {
            Some(channel) => {
                self.by_channel.insert(channel.as_str().to_owned(), card);
            }
            None => self.default = Some(card),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.default.is_none() && self.by_channel.is_empty()
    }

    pub fn default_card(&self) -> Option<&PreviewCard> {
        self.default.as_ref()
    }

    pub fn variant(&self, channel: &Channel) -> Option<&PreviewCard> {
        self.by_channel.get(channel.as_str())
    }

    /// The variants, in channel-name order.
    pub fn variants(&self) -> impl Iterator<Item = (&str, &PreviewCard)> {
        self.by_channel.iter().map(|(channel, card)| (channel.as_str(), card))
    }

    /// The card a preview of a share of `channel` by `app` shows: the channel's variant, else
    /// the default, else none. A copied link (`copy`, `address_bar`, `native`) was pasted into
    /// the very app fetching its preview, so that app's channel is its channel, as it becomes
    /// its inferred channel; the variant of the share's own channel comes next.
    pub fn for_share(&self, channel: &Channel, app: Option<App>) -> Option<&PreviewCard> {
        let pasted_into = match (channel.is_inferable(), app) {
            (true, Some(app)) => Channel::parse(app.as_str()).ok(),
            _ => None,
        };
        pasted_into
            .and_then(|pasted| self.variant(&pasted))
            .or_else(|| self.variant(channel))
            .or(self.default.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn card(title: &str) -> PreviewCard {
        PreviewCard::parse(title, None, None).unwrap()
    }

    fn channel(name: &str) -> Channel {
        Channel::parse(name).unwrap()
    }

    fn cards(default: Option<&str>, variants: &[(&str, &str)]) -> LinkPreviewCards {
        let mut cards = LinkPreviewCards::default();
        if let Some(title) = default {
            cards.set(None, card(title));
        }
        for (name, title) in variants {
            cards.set(Some(&channel(name)), card(title));
        }
        cards
    }

    fn chosen<'a>(cards: &'a LinkPreviewCards, share: &str, app: Option<App>) -> Option<&'a str> {
        cards.for_share(&channel(share), app).map(PreviewCard::title)
    }

    #[test]
    fn a_share_gets_its_channels_variant_else_the_default_else_none() {
        let both = cards(Some("Default"), &[("whatsapp", "For WhatsApp")]);
        assert_eq!(chosen(&both, "whatsapp", Some(App::Whatsapp)), Some("For WhatsApp"));
        assert_eq!(chosen(&both, "slack", Some(App::Slack)), Some("Default"));
        let variants_only = cards(None, &[("whatsapp", "For WhatsApp")]);
        assert_eq!(chosen(&variants_only, "slack", Some(App::Slack)), None);
        assert_eq!(
            chosen(&LinkPreviewCards::default(), "whatsapp", Some(App::Whatsapp)),
            None
        );
    }

    #[test]
    fn the_shares_channel_decides_not_the_app_fetching_the_preview() {
        let both = cards(Some("Default"), &[("whatsapp", "For WhatsApp"), ("sms", "For texts")]);
        // An SMS share previewed by iMessage is still a text message.
        assert_eq!(chosen(&both, "sms", Some(App::Imessage)), Some("For texts"));
        // A WhatsApp share forwarded to Slack keeps the card it was made with.
        assert_eq!(chosen(&both, "whatsapp", Some(App::Slack)), Some("For WhatsApp"));
    }

    #[test]
    fn a_copied_link_gets_the_variant_of_the_app_it_was_pasted_into() {
        let both = cards(Some("Default"), &[("slack", "For Slack"), ("copy", "Copied")]);
        assert_eq!(chosen(&both, "copy", Some(App::Slack)), Some("For Slack"));
        assert_eq!(chosen(&both, "address_bar", Some(App::Slack)), Some("For Slack"));
        assert_eq!(chosen(&both, "copy", Some(App::Discord)), Some("Copied"));
        assert_eq!(chosen(&both, "native", Some(App::Discord)), Some("Default"));
        assert_eq!(chosen(&both, "copy", None), Some("Copied"));
    }

    #[test]
    fn a_title_is_required_trimmed_and_bounded() {
        assert_eq!(
            PreviewCard::parse("  ", None, None),
            Err(PreviewCardError::TitleMissing)
        );
        assert_eq!(card("  Spring sale ").title(), "Spring sale");
        let longest = "é".repeat(MAX_TITLE_CHARS);
        assert!(PreviewCard::parse(&longest, None, None).is_ok());
        let error = PreviewCard::parse(&format!("{longest}e"), None, None).unwrap_err();
        assert_eq!(
            (error.clone(), error.field()),
            (PreviewCardError::TitleTooLong, "title")
        );
        assert_eq!(
            PreviewCard::parse("a\nb", None, None),
            Err(PreviewCardError::TitleControl)
        );
    }

    #[test]
    fn a_description_is_optional_bounded_and_may_break_lines() {
        let card = PreviewCard::parse("T", Some(" Two\nlines "), Some("  ")).unwrap();
        assert_eq!((card.description(), card.image()), (Some("Two\nlines"), None));
        assert_eq!(PreviewCard::parse("T", Some(""), None).unwrap().description(), None);
        let long = "x".repeat(MAX_DESCRIPTION_CHARS + 1);
        let error = PreviewCard::parse("T", Some(&long), None).unwrap_err();
        assert_eq!(
            (error.clone(), error.field()),
            (PreviewCardError::DescriptionTooLong, "description")
        );
        assert_eq!(
            PreviewCard::parse("T", Some("bell\u{7}"), None),
            Err(PreviewCardError::DescriptionControl)
        );
    }

    #[test]
    fn an_image_is_an_absolute_http_or_https_url() {
        let card = PreviewCard::parse("T", None, Some(" https://cdn.example.com/a b.png ")).unwrap();
        assert_eq!(
            card.image().map(ImageUrl::as_str),
            Some("https://cdn.example.com/a%20b.png")
        );
        for (raw, error) in [
            ("/images/card.png", ImageUrlError::Malformed),
            ("javascript:alert(1)", ImageUrlError::Scheme),
            ("data:image/png;base64,AAAA", ImageUrlError::Scheme),
            ("ftp://example.com/a.png", ImageUrlError::Scheme),
            ("https://user:pw@example.com/a.png", ImageUrlError::Credentials),
        ] {
            let refused = PreviewCard::parse("T", None, Some(raw)).unwrap_err();
            assert_eq!(
                (refused.clone(), refused.field()),
                (PreviewCardError::Image(error), "image_url"),
                "{raw}"
            );
        }
        let long = format!("https://example.com/{}", "a".repeat(MAX_IMAGE_URL_LEN));
        assert_eq!(ImageUrl::parse(&long), Err(ImageUrlError::TooLong));
    }

    proptest! {
        #[test]
        fn whatever_parses_holds_to_the_bounds(title in "\\PC{0,250}", description in "\\PC{0,600}") {
            if let Ok(card) = PreviewCard::parse(&title, Some(&description), None) {
                prop_assert!(!card.title().is_empty());
                prop_assert!(card.title().chars().count() <= MAX_TITLE_CHARS);
                prop_assert!(card.description().is_none_or(|d| d.chars().count() <= MAX_DESCRIPTION_CHARS));
            }
        }
    }
}
