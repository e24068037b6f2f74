//! UTM tags and the redirect target.
//!
//! The values follow GA4's default channel grouping, so the destination's own analytics files a
//! visit under the right channel: messaging apps and social networks are `social` with the app as
//! source, e-mail is `email`/`email`, SMS is `sms`/`sms`. A link may override any of the five
//! tags, or ask for one not to be added at all (`UtmOverrides`).

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

/// The five UTM parameters, in the order a redirect appends them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UtmTag {
    Source,
    Medium,
    Campaign,
    Term,
    Content,
}

impl UtmTag {
    pub const ALL: [UtmTag; 5] = [
        UtmTag::Source,
        UtmTag::Medium,
        UtmTag::Campaign,
        UtmTag::Term,
        UtmTag::Content,
    ];

    /// The query parameter: `utm_source`.
    pub fn key(self) -> &'static str {
        match self {
            UtmTag::Source => "utm_source",
            UtmTag::Medium => "utm_medium",
            UtmTag::Campaign => "utm_campaign",
            UtmTag::Term => "utm_term",
            UtmTag::Content => "utm_content",
        }
    }

    /// The short name the API, the forms and the command line use: `source`.
    pub fn name(self) -> &'static str {
        &self.key()["utm_".len()..]
    }

    /// `source` or `utm_source`, in any case.
    pub fn parse(raw: &str) -> Option<UtmTag> {
        let raw = raw.trim().to_ascii_lowercase();
        let name = raw.strip_prefix("utm_").unwrap_or(&raw);
        UtmTag::ALL.into_iter().find(|tag| tag.name() == name)
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Longer than any tag analytics tools show in full.
pub const MAX_UTM_VALUE_CHARS: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UtmError {
    #[error("a UTM value is 1 to {MAX_UTM_VALUE_CHARS} characters, without control characters")]
    Value,
}

/// What a link says about one UTM tag instead of sharetrail's per-channel value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UtmOverride {
    /// This value, as typed: case is kept, since analytics tools tell `Spring` from `spring`.
    Value(String),
    /// No such tag at all.
    Omit,
}

impl UtmOverride {
    pub fn value(raw: &str) -> Result<UtmOverride, UtmError> {
        let value = raw.trim();
        let chars = value.chars().count();
        if chars == 0 || chars > MAX_UTM_VALUE_CHARS || value.chars().any(char::is_control) {
            return Err(UtmError::Value);
        }
        Ok(UtmOverride::Value(value.to_owned()))
    }
}

/// A link's UTM overrides, tag by tag; a tag with none gets sharetrail's own value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UtmOverrides([Option<UtmOverride>; 5]);

impl UtmOverrides {
    pub fn get(&self, tag: UtmTag) -> Option<&UtmOverride> {
        self.0[tag.index()].as_ref()
    }

    /// `None` gives the tag back to sharetrail.
    pub fn set(&mut self, tag: UtmTag, value: Option<UtmOverride>) {
        self.0[tag.index()] = value;
    }

    pub fn is_empty(&self) -> bool {
        self.0.iter().all(Option::is_none)
    }

    /// The overridden tags, in order.
    pub fn iter(&self) -> impl Iterator<Item = (UtmTag, &UtmOverride)> {
        UtmTag::ALL.into_iter().filter_map(|tag| Some((tag, self.get(tag)?)))
    }

    /// From the five stored columns (in `UtmTag::ALL` order): NULL is no override, `''` omits
    /// the tag, any other text is its value.
    pub fn from_stored(columns: [Option<&str>; 5]) -> UtmOverrides {
        UtmOverrides(columns.map(|column| {
            column.map(|text| match text {
                "" => UtmOverride::Omit,
                value => UtmOverride::Value(value.to_owned()),
            })
        }))
    }

    /// The five columns `from_stored` reads back.
    pub fn to_stored(&self) -> [Option<String>; 5] {
        self.0.clone().map(|tag| {
            tag.map(|o| match o {
                UtmOverride::Value(value) => value,
                UtmOverride::Omit => String::new(),
            })
        })
    }

    /// The value a redirect adds for `tag`, given what sharetrail would add.
    fn apply(&self, tag: UtmTag, ours: Option<String>) -> Option<String> {
        match self.get(tag) {
            None => ours,
            Some(UtmOverride::Value(value)) => Some(value.clone()),
            Some(UtmOverride::Omit) => None,
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
    /// The link's own say, which beats sharetrail's per-channel tags (and a site's "no UTM
    /// tags", being asked for by name) but never tags already on the destination.
    pub overrides: &'a UtmOverrides,
    pub code: &'a Code,
}

/// The `Location` of a redirect: the destination's own query kept byte for byte, UTM tags it
/// already carries left alone, ours appended (lower case; the link's overrides as typed), and
/// `st=<code>` always ours.
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
    let sharetrails = |tag: UtmTag| {
        let utm = tags.utm?;
        match tag {
            UtmTag::Source => Some(lower(&utm.source)),
            UtmTag::Medium => Some(lower(&utm.medium)),
            UtmTag::Campaign => tags.campaign.map(lower),
            UtmTag::Term => None,
            UtmTag::Content => tags.content.map(lower),
        }
    };
    for tag in UtmTag::ALL {
        let key = tag.key();
        let value = tags.overrides.apply(tag, sharetrails(tag));
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
            overrides: &UtmOverrides::default(),
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
            overrides: &UtmOverrides::default(),
            code: &code,
        };
        let without = RedirectTags {
            utm: None,
            campaign: Some("c"),
            content: None,
            overrides: &UtmOverrides::default(),
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

    fn overridden(dest: &str, channel: &str, campaign: Option<&str>, overrides: &UtmOverrides) -> String {
        let utm = UtmTags::for_channel(&Channel::parse(channel).unwrap(), None, None);
        let code = Code::parse("AbCd2345").unwrap();
        let tags = RedirectTags {
            utm: Some(&utm),
            campaign,
            content: Some("Poster"),
            overrides,
            code: &code,
        };
        redirect_location(&Destination::parse(dest).unwrap(), &tags)
    }

    fn overrides(pairs: &[(UtmTag, Option<UtmOverride>)]) -> UtmOverrides {
        let mut overrides = UtmOverrides::default();
        for (tag, value) in pairs {
            overrides.set(*tag, value.clone());
        }
        overrides
    }

    #[test]
    fn a_link_overrides_sharetrails_tags_as_typed_and_adds_a_term() {
        let set = overrides(&[
            (UtmTag::Source, UtmOverride::value("Newsletter").ok()),
            (UtmTag::Term, UtmOverride::value(" running shoes ").ok()),
        ]);
        assert_eq!(
            overridden("https://e.com/a", "whatsapp", Some("Spring"), &set),
            "https://e.com/a?utm_source=Newsletter&utm_medium=social&utm_campaign=spring\
             &utm_term=running+shoes&utm_content=poster&st=AbCd2345"
        );
    }

    #[test]
    fn a_link_can_omit_a_tag_sharetrail_would_add() {
        let omit = overrides(&[
            (UtmTag::Campaign, Some(UtmOverride::Omit)),
            (UtmTag::Content, Some(UtmOverride::Omit)),
        ]);
        assert_eq!(
            overridden("https://e.com/a", "email", Some("Spring"), &omit),
            "https://e.com/a?utm_source=email&utm_medium=email&st=AbCd2345"
        );
        let nothing = overrides(&UtmTag::ALL.map(|t| (t, Some(UtmOverride::Omit))));
        assert_eq!(
            overridden("https://e.com/a", "email", Some("Spring"), &nothing),
            "https://e.com/a?st=AbCd2345"
        );
    }

    #[test]
    fn tags_on_the_destination_beat_the_links_overrides() {
        let set = overrides(&[(UtmTag::Source, UtmOverride::value("partner").ok())]);
        assert_eq!(
            overridden("https://e.com/a?utm_source=press", "slack", None, &set),
            "https://e.com/a?utm_source=press&utm_medium=social&utm_content=poster&st=AbCd2345"
        );
    }

    #[test]
    fn a_site_without_utm_tags_still_gets_the_tags_its_link_names() {
        let code = Code::parse("AbCd2345").unwrap();
        let set = overrides(&[(UtmTag::Campaign, UtmOverride::value("launch").ok())]);
        let tags = RedirectTags {
            utm: None,
            campaign: Some("c"),
            content: None,
            overrides: &set,
            code: &code,
        };
        assert_eq!(
            redirect_location(&Destination::parse("https://e.com/").unwrap(), &tags),
            "https://e.com/?utm_campaign=launch&st=AbCd2345"
        );
    }

    #[test]
    fn overrides_are_stored_as_five_columns_and_read_back() {
        let set = overrides(&[
            (UtmTag::Medium, Some(UtmOverride::Omit)),
            (UtmTag::Content, UtmOverride::value("hero").ok()),
        ]);
        let stored = set.to_stored();
        assert_eq!(stored, [None, Some(String::new()), None, None, Some("hero".into())]);
        assert_eq!(UtmOverrides::from_stored(stored.each_ref().map(Option::as_deref)), set);
        assert!(UtmOverrides::default().is_empty() && !set.is_empty());
        let listed: Vec<&str> = set.iter().map(|(tag, _)| tag.name()).collect();
        assert_eq!(listed, ["medium", "content"]);
    }

    #[test]
    fn a_utm_value_is_short_printable_text_and_tags_are_named_either_way() {
        assert_eq!(UtmOverride::value(" x "), Ok(UtmOverride::Value("x".into())));
        assert_eq!(UtmOverride::value("   "), Err(UtmError::Value));
        assert_eq!(UtmOverride::value(&"a".repeat(101)), Err(UtmError::Value));
        assert_eq!(UtmOverride::value("a\tb"), Err(UtmError::Value));
        assert_eq!(UtmTag::parse("source"), Some(UtmTag::Source));
        assert_eq!(UtmTag::parse("UTM_Term"), Some(UtmTag::Term));
        assert_eq!(UtmTag::parse("id"), None);
        assert_eq!(UtmTag::Content.name(), "content");
    }
}
