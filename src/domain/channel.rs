//! Channels: the private or public route a share travels by.

use std::fmt;

/// The channels sharetrail knows without being told. Order is the order buttons are offered in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BuiltinChannel {
    Whatsapp,
    Telegram,
    Messenger,
    Signal,
    Sms,
    Email,
    Slack,
    Teams,
    Discord,
    Linkedin,
    X,
    Facebook,
    Reddit,
    Copy,
    AddressBar,
    Native,
    Qr,
    Direct,
}

impl BuiltinChannel {
    pub const ALL: [BuiltinChannel; 18] = [
        Self::Whatsapp,
        Self::Telegram,
        Self::Messenger,
        Self::Signal,
        Self::Sms,
        Self::Email,
        Self::Slack,
        Self::Teams,
        Self::Discord,
        Self::Linkedin,
        Self::X,
        Self::Facebook,
        Self::Reddit,
        Self::Copy,
        Self::AddressBar,
        Self::Native,
        Self::Qr,
        Self::Direct,
    ];

    /// The name people know the channel by, as the web UI shows it.
    pub fn display_name(self) -> &'static str {
        match self {
            Self::Whatsapp => "WhatsApp",
            Self::Telegram => "Telegram",
            Self::Messenger => "Messenger",
            Self::Signal => "Signal",
            Self::Sms => "SMS",
            Self::Email => "E-mail",
            Self::Slack => "Slack",
            Self::Teams => "Teams",
            Self::Discord => "Discord",
            Self::Linkedin => "LinkedIn",
            Self::X => "X",
            Self::Facebook => "Facebook",
            Self::Reddit => "Reddit",
            Self::Copy => "Copied link",
            Self::AddressBar => "Address bar",
            Self::Native => "Share sheet",
            Self::Qr => "QR code",
            Self::Direct => "Direct",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Whatsapp => "whatsapp",
            Self::Telegram => "telegram",
            Self::Messenger => "messenger",
            Self::Signal => "signal",
            Self::Sms => "sms",
            Self::Email => "email",
            Self::Slack => "slack",
            Self::Teams => "teams",
            Self::Discord => "discord",
            Self::Linkedin => "linkedin",
            Self::X => "x",
            Self::Facebook => "facebook",
            Self::Reddit => "reddit",
            Self::Copy => "copy",
            Self::AddressBar => "address_bar",
            Self::Native => "native",
            Self::Qr => "qr",
            Self::Direct => "direct",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Private routes web analytics files under "direct": chats, mail, texts and copied links.
    pub fn is_dark(self) -> bool {
        !matches!(
            self,
            Self::Linkedin | Self::X | Self::Facebook | Self::Reddit | Self::Qr | Self::Direct
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChannelError {
    #[error("a channel is a lower-case slug of 2 to 32 characters: a-z, 0-9, '_' or '-', starting with a letter")]
    Malformed,
}

/// The `utm_medium` a custom channel's visits carry (`email`, `referral`): 1 to 32 letters,
/// digits, '_' or '-', kept in lower case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Medium(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a medium is 1 to 32 letters, digits, '_' or '-'")]
pub struct MalformedMedium;

impl Medium {
    /// What a custom channel's visits carry when nobody named a medium.
    pub fn referral() -> Medium {
        Medium("referral".to_owned())
    }

    pub fn parse(raw: &str) -> Result<Medium, MalformedMedium> {
        let medium = raw.trim().to_ascii_lowercase();
        let ok = (1..=32).contains(&medium.len())
            && medium
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        ok.then_some(Medium(medium)).ok_or(MalformedMedium)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A channel: one of the built-ins, or a custom slug a marketer defined (`newsletter`).
///
/// Whether a custom slug has actually been defined is the store's question; this type only
/// guarantees the name is well-formed and never collides with a built-in.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Channel {
    Builtin(BuiltinChannel),
    Custom(String),
}

impl Channel {
    pub fn parse(raw: &str) -> Result<Channel, ChannelError> {
        if let Some(builtin) = BuiltinChannel::parse(raw) {
            return Ok(Channel::Builtin(builtin));
        }
        let well_formed = (2..=32).contains(&raw.len())
            && raw.starts_with(|c: char| c.is_ascii_lowercase())
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if well_formed {
            Ok(Channel::Custom(raw.to_owned()))
        } else {
            Err(ChannelError::Malformed)
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Channel::Builtin(b) => b.as_str(),
            Channel::Custom(name) => name,
        }
    }

    /// Whether clicks through this channel are dark social. A custom channel is dark when its
    /// medium is a private one (a newsletter travels by e-mail); `medium` is its `utm_medium`.
    pub fn is_dark(&self, custom_medium: Option<&str>) -> bool {
        match self {
            Channel::Builtin(b) => b.is_dark(),
            Channel::Custom(_) => matches!(custom_medium, Some("email" | "sms")),
        }
    }

    /// Channels whose real app is unknown when the share is minted; an unfurl later tells.
    pub fn is_inferable(&self) -> bool {
        matches!(
            self,
            Channel::Builtin(BuiltinChannel::Copy | BuiltinChannel::AddressBar | BuiltinChannel::Native)
        )
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn chats_mail_and_copied_links_are_dark_while_public_networks_are_not() {
        for dark in [
            "whatsapp",
            "slack",
            "email",
            "sms",
            "copy",
            "address_bar",
            "native",
            "signal",
        ] {
            assert!(Channel::parse(dark).unwrap().is_dark(None), "{dark}");
        }
        for public in ["linkedin", "x", "facebook", "reddit", "qr", "direct"] {
            assert!(!Channel::parse(public).unwrap().is_dark(None), "{public}");
        }
        let newsletter = Channel::parse("newsletter").unwrap();
        assert!(newsletter.is_dark(Some("email")));
        assert!(!newsletter.is_dark(Some("referral")));
    }

    #[test]
    fn every_builtin_round_trips_through_its_name() {
        for builtin in BuiltinChannel::ALL {
            assert_eq!(Channel::parse(builtin.as_str()), Ok(Channel::Builtin(builtin)));
        }
    }

    #[test]
    fn custom_channels_are_lower_case_slugs() {
        assert_eq!(Channel::parse("newsletter"), Ok(Channel::Custom("newsletter".into())));
        for bad in ["Newsletter", "a", "1abc", "news letter", "", "ü-news", &"a".repeat(33)] {
            assert_eq!(Channel::parse(bad), Err(ChannelError::Malformed), "{bad:?}");
        }
    }

    #[test]
    fn only_copy_address_bar_and_native_are_inferable() {
        let inferable: Vec<_> = BuiltinChannel::ALL
            .into_iter()
            .filter(|b| Channel::Builtin(*b).is_inferable())
            .map(BuiltinChannel::as_str)
            .collect();
        assert_eq!(inferable, ["copy", "address_bar", "native"]);
    }

    proptest! {
        #[test]
        fn a_parsed_channel_prints_as_what_was_parsed(raw in "[a-z][a-z0-9_-]{1,31}") {
            let channel = Channel::parse(&raw).unwrap();
            prop_assert_eq!(channel.as_str(), raw.as_str());
        }

        #[test]
        fn channel_parsing_never_panics(raw in ".{0,40}") {
            let _ = Channel::parse(&raw);
        }
    }

    #[test]
    fn a_medium_is_kept_in_lower_case_and_refused_when_empty_long_or_odd() {
        assert_eq!(
            Medium::parse(" Email ").map(Medium::into_string),
            Ok("email".to_owned())
        );
        assert_eq!(
            Medium::parse("paid-social_2").map(Medium::into_string),
            Ok("paid-social_2".to_owned())
        );
        assert_eq!(Medium::parse(&"m".repeat(32)).map(|m| m.as_str().len()), Ok(32));
        for bad in ["", "   ", "e mail", "e/mail", "émail", &"m".repeat(33)] {
            assert_eq!(Medium::parse(bad), Err(MalformedMedium), "{bad:?}");
        }
        assert_eq!(Medium::referral().as_str(), "referral");
    }
}
