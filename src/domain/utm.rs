//! UTM tags and the redirect target.
//!
//! The values follow GA4's default channel grouping, so the destination's own analytics files a
//! visit under the right channel: messaging apps and social networks are `social` with the app as
//! source, e-mail is `email`/`email`, SMS is `sms`/`sms`.

use super::channel::{BuiltinChannel, Channel};
use super::code::Code;
use super::destination::Destination;
use url::form_urlencoded;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UtmTags {
    pub source: String,
    pub medium: String,
}

impl UtmTags {
    fn new(source: &str, medium: &str) -> Self {
        UtmTags {
            source: source.to_owned(),
            medium: medium.to_owned(),
        }
    }

    /// Tags for a share of `channel`. `inferred_app` is the app an unfurl revealed for a `copy`,
    /// `address_bar` or `native` share; `custom_medium` is what a marketer set for a custom channel.
    pub fn for_channel(channel: &Channel, inferred_app: Option<&str>, custom_medium: Option<&str>) -> Self {
        if let (true, Some(app)) = (channel.is_inferable(), inferred_app) {
            return Self::for_app(app);
        }
        match channel {
            Channel::Builtin(builtin) => Self::for_builtin(*builtin),
            Channel::Custom(name) => Self::new(name, custom_medium.unwrap_or("referral")),
        }
    }

    fn for_builtin(channel: BuiltinChannel) -> Self {
        use BuiltinChannel as B;
        match channel {
            B::Email => Self::new("email", "email"),
            B::Sms => Self::new("sms", "sms"),
            // GA4 has no QR grouping; `print` keeps scans apart from online traffic.
            B::Qr => Self::new("qr", "print"),
            // A plain link with no channel: credit sharetrail as the referrer rather than "direct".
            B::Direct => Self::new("sharetrail", "referral"),
            other => Self::new(other.as_str(), "social"),
        }
    }

    /// An app named by an unfurl: messaging apps are social, except Apple's Messages, which is SMS.
    fn for_app(app: &str) -> Self {
        match app {
            "imessage" => Self::new("imessage", "sms"),
            "email" => Self::new("email", "email"),
            other => Self::new(other, "social"),
        }
    }
}

/// Everything the redirect appends to a destination.
pub struct RedirectTags<'a> {
    /// `None` when the site asked for no UTM tags: only `st` is added.
    pub utm: Option<&'a UtmTags>,
    pub campaign: Option<&'a str>,
    /// The QR placement or share label, so a destination can tell the poster from the badge.
    pub content: Option<&'a str>,
    pub code: &'a Code,
}

/// The `Location` of a redirect: the destination's own query kept byte for byte, UTM tags it
/// already carries left alone, ours appended (lower case), and `st=<code>` always ours.
pub fn redirect_location(destination: &Destination, tags: &RedirectTags<'_>) -> String {
    let mut url = destination.url().clone();
    let existing = url.query().unwrap_or_default().to_owned();
    let mut kept: Vec<&str> = Vec::new();
    let mut present: Vec<String> = Vec::new();
    for pair in existing.split('&').filter(|p| !p.is_empty()) {
        let key = decoded_key(pair);
        if key == "st" {
            continue;
        }
        present.push(key.to_ascii_lowercase());
        kept.push(pair);
    }
    let mut ours = form_urlencoded::Serializer::new(String::new());
    let lower = |v: &str| v.to_lowercase();
    let candidates = match tags.utm {
        Some(utm) => [
            ("utm_source", Some(lower(&utm.source))),
            ("utm_medium", Some(lower(&utm.medium))),
            ("utm_campaign", tags.campaign.map(lower)),
            ("utm_content", tags.content.map(lower)),
        ],
        None => Default::default(),
    };
    for (key, value) in candidates {
        if let Some(value) = value.filter(|v| !v.is_empty() && !present.iter().any(|p| p == key)) {
            ours.append_pair(key, &value);
        }
    }
    ours.append_pair("st", tags.code.as_str());
    let ours = ours.finish();
    let query = if kept.is_empty() {
        ours
    } else {
        format!("{}&{ours}", kept.join("&"))
    };
    url.set_query(Some(&query));
    url.into()
}

fn decoded_key(pair: &str) -> String {
    let raw_key = pair.split('=').next().unwrap_or_default();
    form_urlencoded::parse(raw_key.as_bytes())
        .next()
        .map(|(k, _)| k.into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn location(dest: &str, channel: &str, campaign: Option<&str>) -> String {
        let channel = Channel::parse(channel).unwrap();
        let utm = UtmTags::for_channel(&channel, None, None);
        let code = Code::parse("AbCd2345").unwrap();
        let tags = RedirectTags {
            utm: Some(&utm),
            campaign,
            content: None,
            code: &code,
        };
        redirect_location(&Destination::parse(dest).unwrap(), &tags)
    }

    #[test]
    fn whatsapp_is_social_with_the_app_as_source() {
        assert_eq!(
            location("https://example.com/a", "whatsapp", Some("Spring Sale")),
            "https://example.com/a?utm_source=whatsapp&utm_medium=social&utm_campaign=spring+sale&st=AbCd2345"
        );
    }

    #[test]
    fn email_and_sms_get_their_own_medium() {
        assert!(location("https://e.com/", "email", None).contains("utm_source=email&utm_medium=email"));
        assert!(location("https://e.com/", "sms", None).contains("utm_source=sms&utm_medium=sms"));
        assert!(location("https://e.com/", "qr", None).contains("utm_source=qr"));
    }

    #[test]
    fn existing_query_and_fragment_are_kept_and_existing_utm_tags_win() {
        let got = location("https://e.com/p?a=b%20c&UTM_SOURCE=news#frag", "slack", None);
        assert_eq!(
            got,
            "https://e.com/p?a=b%20c&UTM_SOURCE=news&utm_medium=social&st=AbCd2345#frag"
        );
    }

    #[test]
    fn a_stale_st_parameter_is_replaced_by_ours() {
        let got = location("https://e.com/?st=old&x=1", "email", None);
        assert_eq!(got, "https://e.com/?x=1&utm_source=email&utm_medium=email&st=AbCd2345");
    }

    #[test]
    fn an_inferred_app_replaces_the_copy_channel() {
        let copy = Channel::parse("copy").unwrap();
        assert_eq!(UtmTags::for_channel(&copy, None, None), UtmTags::new("copy", "social"));
        assert_eq!(
            UtmTags::for_channel(&copy, Some("slack"), None),
            UtmTags::new("slack", "social")
        );
        assert_eq!(
            UtmTags::for_channel(&copy, Some("imessage"), None),
            UtmTags::new("imessage", "sms")
        );
        let whatsapp = Channel::parse("whatsapp").unwrap();
        assert_eq!(UtmTags::for_channel(&whatsapp, Some("slack"), None).source, "whatsapp");
    }

    #[test]
    fn a_site_without_utm_tags_still_gets_the_share_code() {
        let utm = UtmTags::for_channel(&Channel::parse("email").unwrap(), None, None);
        let code = Code::parse("AbCd2345").unwrap();
        let dest = Destination::parse("https://e.com/p?x=1").unwrap();
        let with = RedirectTags {
            utm: Some(&utm),
            campaign: Some("c"),
            content: None,
            code: &code,
        };
        let without = RedirectTags {
            utm: None,
            campaign: Some("c"),
            content: None,
            code: &code,
        };
        assert!(redirect_location(&dest, &with).contains("utm_source=email"));
        assert_eq!(redirect_location(&dest, &without), "https://e.com/p?x=1&st=AbCd2345");
    }

    #[test]
    fn custom_channels_use_their_medium() {
        let news = Channel::parse("newsletter").unwrap();
        assert_eq!(
            UtmTags::for_channel(&news, None, Some("email")),
            UtmTags::new("newsletter", "email")
        );
        assert_eq!(UtmTags::for_channel(&news, None, None).medium, "referral");
    }
}
