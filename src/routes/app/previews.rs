//! A link's preview cards in the web UI: the section of the link's page, and its two forms.

use super::{UiError, Viewer, check_form, see_other};
use crate::clock::now_ms;
use crate::domain::channel::Channel;
use crate::domain::preview::PreviewCard;
use crate::state::AppState;
use crate::web::preview_section::PreviewSection;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

/// The link page's policy with one change: a card's picture is wherever its image URL says,
/// so the preview of it may load images from any https or http address.
pub const LINK_PAGE_CSP: &str = "default-src 'self'; img-src 'self' data: https: http:; style-src 'self'; \
     script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The section of link `link_id`'s page.
pub async fn section(state: &AppState, link_id: i64) -> Result<PreviewSection, UiError> {
    let records = state.store.preview_cards(link_id).await?;
    let custom = state.store.list_custom_channels().await?;
    Ok(PreviewSection::new(
        link_id,
        &state.base_url,
        records,
        custom.into_iter().map(|c| c.name).collect(),
    ))
}

#[derive(Deserialize)]
pub struct CardForm {
    csrf: Option<String>,
    /// Empty for the default card.
    #[serde(default)]
    channel: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    image_url: String,
}

#[derive(Deserialize)]
pub struct RemoveCardForm {
    csrf: Option<String>,
    #[serde(default)]
    channel: String,
}

/// `POST /app/links/{id}/preview`: sets the default card or a channel's variant.
pub async fn save(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<i64>,
    form: web::Form<CardForm>,
) -> Result<HttpResponse, UiError> {
    check_form(&req, &viewer, form.csrf.as_deref())?;
    let link_id = path.into_inner();
    state.store.get_link(link_id).await?.ok_or(UiError::NotFound)?;
    let channel = channel_of(&state, &form.channel).await?;
    let card = PreviewCard::parse(&form.title, Some(&form.description), Some(&form.image_url))
        .map_err(|e| UiError::BadForm(format!("{}: {e}", e.field().replace('_', " "))))?;
    if !state
        .store
        .put_preview_card(link_id, channel.as_ref(), &card, now_ms())
        .await?
    {
        return Err(UiError::NotFound);
    }
    forget_link(&state, link_id).await?;
    Ok(see_other(&format!("/app/links/{link_id}#preview-card")))
}

/// `POST /app/links/{id}/preview/remove`: removes a card; removing one already gone is done.
pub async fn remove(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<i64>,
    form: web::Form<RemoveCardForm>,
) -> Result<HttpResponse, UiError> {
    check_form(&req, &viewer, form.csrf.as_deref())?;
    let link_id = path.into_inner();
    state.store.get_link(link_id).await?.ok_or(UiError::NotFound)?;
    let channel = channel_of(&state, &form.channel).await?;
    if state.store.delete_preview_card(link_id, channel.as_ref()).await? {
        forget_link(&state, link_id).await?;
    }
    Ok(see_other(&format!("/app/links/{link_id}#preview-card")))
}

/// The form's channel: none for the default card, else a built-in or defined custom channel.
async fn channel_of(state: &AppState, raw: &str) -> Result<Option<Channel>, UiError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let channel = Channel::parse(raw).map_err(|e| UiError::BadForm(format!("'{raw}' is not a channel: {e}")))?;
    if let Channel::Custom(name) = &channel
        && !state.store.custom_channel_exists(name).await?
    {
        return Err(UiError::BadForm(format!("'{name}' is not a channel yet")));
    }
    Ok(Some(channel))
}

/// Cached short links carry the cards: forgotten here and on every other instance.
async fn forget_link(state: &AppState, link_id: i64) -> Result<(), UiError> {
    let codes = state.store.codes_of_link(link_id).await?;
    state.invalidate(Some(&codes)).await;
    Ok(())
}
