//! A cached share's preview cards: read from the database the first time a preview bot asks
//! for the share, then kept in the share's cache entry. People never wait for them, a share no
//! bot previews never reads them, and whatever forgets the entry (a change to the link or its
//! cards, here or announced by another instance) forgets its cards with it.

use super::{LiveShare, ShareLookup};
use crate::domain::preview::LinkPreviewCards;
use crate::health::Part;
use crate::store::link_preview_cards;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// A preview bot waits this long at most for the cards; then it gets the redirect, as without.
const CARDS_WAIT: Duration = Duration::from_millis(500);

/// The cards of a cached share's link, once read. A plain `OnceLock`, a pointer's worth in
/// every cache entry: two bots previewing one share at the same moment may both read the
/// cards, and the first answer is kept.
#[derive(Debug, Default)]
pub struct PreviewSlot(OnceLock<Arc<LinkPreviewCards>>);

impl ShareLookup {
    /// The cards of `share`'s link, from its cache entry, or read once into it. `None` when
    /// they cannot be read now: the preview then gets the redirect, as if the link had none.
    pub async fn preview_cards(&self, share: &LiveShare) -> Option<Arc<LinkPreviewCards>> {
        if let Some(cards) = share.preview.0.get() {
            return Some(cards.clone());
        }
        // While the database fails, a preview is not worth a wait.
        if self.health.is_failing(Part::Lookups) {
            return None;
        }
        let link_id = share.target.link_id;
        match tokio::time::timeout(CARDS_WAIT, self.store.preview_cards(link_id)).await {
            Ok(Ok(records)) => {
                let cards = Arc::new(link_preview_cards(&records));
                Some(share.preview.0.get_or_init(|| cards).clone())
            }
            Ok(Err(err)) => {
                self.health.failed(Part::Lookups, &crate::telemetry::cause_chain(&err));
                None
            }
            Err(_) => {
                tracing::warn!(link_id, "preview cards took too long to read; answering the redirect");
                None
            }
        }
    }
}
