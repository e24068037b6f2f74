//! The "Preview card" section of a link's page: each card with a picture of how a messaging
//! app shows it, and the forms that set and remove them.

use crate::domain::channel::BuiltinChannel;
use crate::store::PreviewCardRecord;
use crate::web::report::{channel_class, channel_name};

/// One card as the page shows and edits it.
pub struct CardView {
    /// The form's value for the card's channel: empty for the default card.
    pub key: String,
    /// "Default" or the channel as people know it ("WhatsApp").
    pub name: String,
    /// The channel's colour class; empty for the default card.
    pub class: String,
    pub title: String,
    pub description: String,
    pub image_url: String,
}

impl CardView {
    fn new(record: PreviewCardRecord) -> CardView {
        let (key, name, class) = match &record.channel {
            Some(channel) => (channel.clone(), channel_name(channel), channel_class(channel)),
            None => (String::new(), "Default".to_owned(), String::new()),
        };
        CardView {
            key,
            name,
            class,
            title: record.title,
            description: record.description.unwrap_or_default(),
            image_url: record.image_url.unwrap_or_default(),
        }
    }

    /// Unique in the page: the ids of this card's fields start with it.
    pub fn id(&self) -> String {
        match self.key.as_str() {
            "" => "card-default".to_owned(),
            key => format!("card-{key}"),
        }
    }
}

pub struct PreviewSection {
    pub link_id: i64,
    /// The host apps show above a card: the short links'.
    pub host: String,
    /// The default card first, then the variants by channel name.
    pub cards: Vec<CardView>,
    pub has_default: bool,
    /// (value, name) of the channels that have no variant yet.
    pub free_channels: Vec<(String, String)>,
}

impl PreviewSection {
    /// The section for a link with these cards; `custom_channels` are the names marketers defined.
    pub fn new(link_id: i64, base_url: &str, records: Vec<PreviewCardRecord>, custom_channels: Vec<String>) -> Self {
        let cards: Vec<CardView> = records.into_iter().map(CardView::new).collect();
        let taken = |name: &str| cards.iter().any(|card| card.key == name);
        let free_channels = BuiltinChannel::ALL
            .iter()
            .map(|channel| channel.as_str().to_owned())
            .chain(custom_channels)
            .filter(|name| !taken(name))
            .map(|name| {
                let label = channel_name(&name);
                (name, label)
            })
            .collect();
        PreviewSection {
            link_id,
            host: url::Url::parse(base_url)
                .ok()
                .and_then(|url| url.host_str().map(str::to_owned))
                .unwrap_or_default(),
            has_default: cards.iter().any(|card| card.key.is_empty()),
            cards,
            free_channels,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(channel: Option<&str>, title: &str) -> PreviewCardRecord {
        PreviewCardRecord {
            channel: channel.map(str::to_owned),
            title: title.to_owned(),
            description: None,
            image_url: None,
            updated_at: 0,
        }
    }

    #[test]
    fn channels_with_a_variant_are_no_longer_offered_for_a_new_one() {
        let section = PreviewSection::new(
            7,
            "https://go.example.com",
            vec![record(None, "Default"), record(Some("whatsapp"), "For WhatsApp")],
            vec!["newsletter".to_owned()],
        );
        assert!(section.has_default);
        assert_eq!(section.host, "go.example.com");
        let names: Vec<&str> = section.cards.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["Default", "WhatsApp"]);
        let ids: Vec<String> = section.cards.iter().map(CardView::id).collect();
        assert_eq!(ids, ["card-default", "card-whatsapp"]);
        let free: Vec<&str> = section.free_channels.iter().map(|(value, _)| value.as_str()).collect();
        assert!(!free.contains(&"whatsapp"));
        assert!(free.contains(&"slack") && free.contains(&"newsletter"));
    }
}
