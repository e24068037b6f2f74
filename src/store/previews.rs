//! Preview cards: a link's default card and its per-channel variants (`link_preview_cards`).

use super::{Backend, StoreResult};
use crate::domain::channel::Channel;
use crate::domain::preview::{LinkPreviewCards, PreviewCard};
use async_trait::async_trait;

/// One stored card; `channel` is `None` for the link's default card.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PreviewCardRecord {
    pub channel: Option<String>,
    pub title: String,
    pub description: Option<String>,
    pub image_url: Option<String>,
    pub updated_at: i64,
}

impl PreviewCardRecord {
    /// The card as the domain knows it; `None` for a row that no longer parses, which is then
    /// left out rather than shown.
    pub fn card(&self) -> Option<(Option<Channel>, PreviewCard)> {
        let channel = match &self.channel {
            Some(name) => Some(Channel::parse(name).ok()?),
            None => None,
        };
        let card = PreviewCard::parse(&self.title, self.description.as_deref(), self.image_url.as_deref()).ok()?;
        Some((channel, card))
    }
}

/// A link's cards from its rows.
pub fn link_preview_cards(records: &[PreviewCardRecord]) -> LinkPreviewCards {
    let mut cards = LinkPreviewCards::default();
    for record in records {
        match record.card() {
            Some((channel, card)) => cards.set(channel.as_ref(), card),
            None => tracing::error!(channel = ?record.channel, "a stored preview card does not parse; left out"),
        }
    }
    cards
}

#[async_trait]
pub trait PreviewStore: Send + Sync {
    /// A link's cards, the default first, then the variants by channel name.
    async fn preview_cards(&self, link_id: i64) -> StoreResult<Vec<PreviewCardRecord>>;
    /// Sets the card of `channel` (`None`: the default card), replacing the one there was.
    /// False when no link has that id.
    async fn put_preview_card(
        &self,
        link_id: i64,
        channel: Option<&Channel>,
        card: &PreviewCard,
        now: i64,
    ) -> StoreResult<bool>;
    /// Removes the card of `channel` (`None`: the default card); false when there was none.
    async fn delete_preview_card(&self, link_id: i64, channel: Option<&Channel>) -> StoreResult<bool>;
}

#[async_trait]
impl PreviewStore for Backend {
    async fn preview_cards(&self, link_id: i64) -> StoreResult<Vec<PreviewCardRecord>> {
        Ok(with_pool!(self.reader(), |pool| {
            sqlx::query_as(
                "SELECT channel, title, description, image_url, updated_at FROM link_preview_cards \
                 WHERE link_id = $1 ORDER BY COALESCE(channel, '')",
            )
            .bind(link_id)
            .fetch_all(pool)
            .await?
        }))
    }

    async fn put_preview_card(
        &self,
        link_id: i64,
        channel: Option<&Channel>,
        card: &PreviewCard,
        now: i64,
    ) -> StoreResult<bool> {
        // Selected from `links`, so a link deleted meanwhile gets no card rather than a
        // foreign-key error.
        let written = with_pool!(self.writer(), |pool| {
            sqlx::query(
                "INSERT INTO link_preview_cards (link_id, channel, title, description, image_url, updated_at) \
                 SELECT id, $2, $3, $4, $5, $6 FROM links WHERE id = $1 \
                 ON CONFLICT (link_id, (COALESCE(channel, ''))) DO UPDATE SET title = excluded.title, \
                 description = excluded.description, image_url = excluded.image_url, updated_at = excluded.updated_at",
            )
            .bind(link_id)
            .bind(channel.map(Channel::as_str))
            .bind(card.title())
            .bind(card.description())
            .bind(card.image().map(|image| image.as_str()))
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(written == 1)
    }

    async fn delete_preview_card(&self, link_id: i64, channel: Option<&Channel>) -> StoreResult<bool> {
        let deleted = with_pool!(self.writer(), |pool| {
            sqlx::query("DELETE FROM link_preview_cards WHERE link_id = $1 AND COALESCE(channel, '') = $2")
                .bind(link_id)
                .bind(channel.map_or("", Channel::as_str))
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(deleted == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(channel: Option<&str>, title: &str, image_url: Option<&str>) -> PreviewCardRecord {
        PreviewCardRecord {
            channel: channel.map(str::to_owned),
            title: title.to_owned(),
            description: None,
            image_url: image_url.map(str::to_owned),
            updated_at: 0,
        }
    }

    #[test]
    fn rows_become_the_links_cards_and_a_row_that_no_longer_parses_is_left_out() {
        let cards = link_preview_cards(&[
            record(None, "Default", None),
            record(Some("whatsapp"), "For WhatsApp", Some("https://cdn.example.com/w.png")),
            record(Some("slack"), "Broken", Some("javascript:alert(1)")),
            record(Some("Not A Channel"), "Broken", None),
        ]);
        assert_eq!(cards.default_card().map(PreviewCard::title), Some("Default"));
        let variants: Vec<(&str, &str)> = cards.variants().map(|(c, card)| (c, card.title())).collect();
        assert_eq!(variants, [("whatsapp", "For WhatsApp")]);
    }
}
