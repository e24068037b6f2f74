//! Conversions and self-reported channels: what a site tells sharetrail about its visitors.

use super::channel::{BuiltinChannel, Channel};

pub const MAX_ANSWER_LEN: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttributionError {
    #[error("a conversion name is 1 to 64 characters: letters, digits, '_', '-', '.' or ':'")]
    Name,
    #[error("a conversion value is a finite number between 0 and 1e12")]
    Value,
    #[error("an answer is 1 to {MAX_ANSWER_LEN} characters")]
    Answer,
}

/// `signup`, `purchase`, `newsletter:weekly` …
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversionName(String);

impl ConversionName {
    pub fn parse(raw: &str) -> Result<ConversionName, AttributionError> {
        let raw = raw.trim();
        let ok = (1..=64).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'));
        ok.then(|| ConversionName(raw.to_ascii_lowercase()))
            .ok_or(AttributionError::Name)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

pub fn parse_value(value: Option<f64>) -> Result<Option<f64>, AttributionError> {
    match value {
        Some(v) if !v.is_finite() || !(0.0..=1e12).contains(&v) => Err(AttributionError::Value),
        other => Ok(other),
    }
}

/// A free-text answer, trimmed, control characters refused.
pub fn parse_answer(raw: &str) -> Result<String, AttributionError> {
    let answer = raw.trim();
    let ok = !answer.is_empty() && answer.chars().count() <= MAX_ANSWER_LEN && !answer.chars().any(char::is_control);
    ok.then(|| answer.to_owned()).ok_or(AttributionError::Answer)
}

/// The channel an answer names, when it names one: "a colleague on Slack" → slack.
/// Checked in order, so "Facebook Messenger" is messenger before it is facebook.
pub fn channel_named_in(answer: &str) -> Option<Channel> {
    const WORDS: &[(&str, BuiltinChannel)] = &[
        ("whatsapp", BuiltinChannel::Whatsapp),
        ("telegram", BuiltinChannel::Telegram),
        ("messenger", BuiltinChannel::Messenger),
        ("signal", BuiltinChannel::Signal),
        ("slack", BuiltinChannel::Slack),
        ("teams", BuiltinChannel::Teams),
        ("discord", BuiltinChannel::Discord),
        ("linkedin", BuiltinChannel::Linkedin),
        ("twitter", BuiltinChannel::X),
        ("facebook", BuiltinChannel::Facebook),
        ("reddit", BuiltinChannel::Reddit),
        ("newsletter", BuiltinChannel::Email),
        ("e-mail", BuiltinChannel::Email),
        ("email", BuiltinChannel::Email),
        ("mail", BuiltinChannel::Email),
        ("sms", BuiltinChannel::Sms),
        ("text message", BuiltinChannel::Sms),
        ("imessage", BuiltinChannel::Sms),
        ("qr", BuiltinChannel::Qr),
        ("poster", BuiltinChannel::Qr),
    ];
    let lower = answer.to_lowercase();
    let words: Vec<&str> = lower.split(|c: char| !c.is_alphanumeric() && c != '-').collect();
    WORDS
        .iter()
        .find(|(word, _)| {
            if word.contains(' ') {
                lower.contains(word)
            } else {
                words.contains(word)
            }
        })
        .map(|(_, channel)| Channel::Builtin(*channel))
        .or_else(|| words.contains(&"x").then_some(Channel::Builtin(BuiltinChannel::X)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn answers_name_their_channel() {
        let channel = |a: &str| channel_named_in(a).map(|c| c.to_string());
        assert_eq!(channel("A colleague on Slack"), Some("slack".into()));
        assert_eq!(channel("my sister sent it on WhatsApp!"), Some("whatsapp".into()));
        assert_eq!(channel("Facebook Messenger group"), Some("messenger".into()));
        assert_eq!(channel("your newsletter"), Some("email".into()));
        assert_eq!(channel("saw it on X"), Some("x".into()));
        assert_eq!(channel("a friend told me"), None);
        assert_eq!(channel("mailbox"), None, "whole words only");
    }

    #[test]
    fn conversion_names_and_values_are_bounded() {
        assert_eq!(ConversionName::parse(" SignUp ").unwrap().as_str(), "signup");
        assert!(ConversionName::parse("").is_err());
        assert!(ConversionName::parse("sign up").is_err());
        assert_eq!(parse_value(Some(12.5)), Ok(Some(12.5)));
        assert!(parse_value(Some(f64::NAN)).is_err());
        assert!(parse_value(Some(-1.0)).is_err());
        assert!(parse_answer("  ").is_err());
        assert!(parse_answer("bad\u{0}answer").is_err());
    }

    proptest! {
        #[test]
        fn attribution_parsing_never_panics(raw in ".{0,600}") {
            let _ = ConversionName::parse(&raw);
            let _ = parse_answer(&raw);
            let _ = channel_named_in(&raw);
        }
    }
}
