//! A preview bot's answer for a share whose link has a card: the card's page instead of the
//! redirect. The visit has been recorded as an unfurl already, exactly as for a redirect.

use crate::domain::app::App;
use crate::domain::channel::Channel;
use crate::domain::code::Code;
use crate::lookup::LiveShare;
use crate::state::AppState;
use crate::web::preview_card::PreviewCardPage;
use actix_web::HttpResponse;
use actix_web::http::header;
use askama::Template;

/// Apps cache previews for days on their side; a few minutes here lets a proxy or CDN spare a
/// burst of fetches (one per member of a busy chat) while an edited card still shows soon.
const CARD_CACHE_CONTROL: &str = "public, max-age=300";
/// The page shows nothing but its picture, and runs nothing.
const CARD_CSP: &str = "default-src 'none'; img-src https: http:; base-uri 'none'; form-action 'none'";

/// The card page `app`'s preview bot gets for `share`, or `None` when no card applies (or the
/// cards cannot be read now): the redirect then answers as it always does.
pub async fn answer(code: &Code, share: &LiveShare, app: App, state: &AppState) -> Option<HttpResponse> {
    let cards = state.lookup.preview_cards(share).await?;
    if cards.is_empty() {
        return None;
    }
    let channel = Channel::parse(&share.target.channel).ok()?;
    let card = cards.for_share(&channel, Some(app))?;
    let short_url = state.short_url(code.as_str());
    let page = PreviewCardPage {
        card,
        short_url: &short_url,
        destination: share.location.to_str().ok()?,
    };
    let html = match page.render() {
        Ok(html) => html,
        Err(err) => {
            tracing::error!(error = %err, "a preview card page failed to render; answering the redirect");
            return None;
        }
    };
    Some(
        HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, CARD_CACHE_CONTROL))
            // People get the redirect from the same address: a cache must tell them apart.
            .insert_header((header::VARY, "User-Agent"))
            .insert_header((header::CONTENT_SECURITY_POLICY, CARD_CSP))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .insert_header((header::HeaderName::from_static("x-robots-tag"), "noindex"))
            .body(html),
    )
}
