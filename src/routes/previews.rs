//! `/api/v1/links/{id}/preview`: the card a preview bot gets for a link's short links.
//!
//! Each card is a resource of its own — the default at `/preview`, a channel's variant at
//! `/preview/{channel}` — so two people editing two channels never overwrite each other and a
//! bad variant never holds up the rest. `GET /preview` reads them all at once, and every `PUT`
//! answers with that same document, the link's cards after the change.

use super::auth::ApiKeyAuth;
use super::body::JsonBody;
use crate::clock::{iso, now_ms};
use crate::domain::channel::Channel;
use crate::domain::preview::PreviewCard;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::PreviewCardRecord;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// A card as sent: the title is required; a blank or absent description or image is none.
#[derive(Deserialize, ToSchema)]
pub struct CardBody {
    /// Required: one line, at most 200 characters.
    title: Option<String>,
    /// At most 500 characters; line breaks are kept.
    description: Option<String>,
    /// An absolute http(s) address of the picture.
    image_url: Option<String>,
}

/// A stored card.
#[derive(Serialize, ToSchema)]
pub struct CardDocument {
    /// `null` for the default card.
    channel: Option<String>,
    title: String,
    description: Option<String>,
    image_url: Option<String>,
    #[schema(format = DateTime)]
    updated_at: String,
}

/// A link's cards: the default (or `null`) and the variants by channel.
#[derive(Serialize, ToSchema)]
pub struct PreviewDocument {
    link_id: i64,
    default: Option<CardDocument>,
    channels: BTreeMap<String, CardDocument>,
}

impl CardDocument {
    fn new(record: PreviewCardRecord) -> CardDocument {
        CardDocument {
            channel: record.channel,
            title: record.title,
            description: record.description,
            image_url: record.image_url,
            updated_at: iso(record.updated_at),
        }
    }
}

impl CardBody {
    fn parse(&self) -> Result<PreviewCard, ApiError> {
        PreviewCard::parse(
            self.title.as_deref().unwrap_or_default(),
            self.description.as_deref(),
            self.image_url.as_deref(),
        )
        .map_err(|e| ApiError::invalid(e.field(), e))
    }
}

/// `GET /api/v1/links/{id}/preview`: the link's cards, the default and each channel's.
#[utoipa::path(get, path = "/api/v1/links/{id}/preview", tag = "previews", params(("id" = i64, Path, description = "The link's id")),
    responses((status = 200, description = "The link's cards", body = PreviewDocument)))]
pub async fn show(_auth: ApiKeyAuth, state: web::Data<AppState>, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(document(&state, *id).await?))
}

/// `PUT /api/v1/links/{id}/preview`: sets the default card.
#[utoipa::path(put, path = "/api/v1/links/{id}/preview", tag = "previews", params(("id" = i64, Path, description = "The link's id")), request_body = CardBody,
    responses((status = 200, description = "The link's cards after the change", body = PreviewDocument)))]
pub async fn put_default(
    _auth: ApiKeyAuth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: JsonBody<CardBody>,
) -> Result<HttpResponse, ApiError> {
    put(&state, *id, None, &body).await
}

/// `DELETE /api/v1/links/{id}/preview`: removes the default card; the variants stay.
#[utoipa::path(delete, path = "/api/v1/links/{id}/preview", tag = "previews", params(("id" = i64, Path, description = "The link's id")),
    responses((status = 204, description = "The link has no default card (now, or already)")))]
pub async fn delete_default(
    _auth: ApiKeyAuth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    delete(&state, *id, None).await
}

/// `GET /api/v1/links/{id}/preview/{channel}`: one channel's card.
#[utoipa::path(get, path = "/api/v1/links/{id}/preview/{channel}", tag = "previews", params(("id" = i64, Path, description = "The link's id"), ("channel" = String, Path, description = "A built-in channel or a defined custom one")),
    responses((status = 200, description = "The channel's card", body = CardDocument)))]
pub async fn show_variant(
    _auth: ApiKeyAuth,
    state: web::Data<AppState>,
    path: web::Path<(i64, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, channel) = path.into_inner();
    let channel = known_channel(&state, &channel).await?;
    let mut document = document(&state, id).await?;
    let card = document.channels.remove(channel.as_str()).ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(card))
}

/// `PUT /api/v1/links/{id}/preview/{channel}`: sets the channel's variant.
#[utoipa::path(put, path = "/api/v1/links/{id}/preview/{channel}", tag = "previews", params(("id" = i64, Path, description = "The link's id"), ("channel" = String, Path, description = "A built-in channel or a defined custom one")), request_body = CardBody,
    responses((status = 200, description = "The link's cards after the change", body = PreviewDocument)))]
pub async fn put_variant(
    _auth: ApiKeyAuth,
    state: web::Data<AppState>,
    path: web::Path<(i64, String)>,
    body: JsonBody<CardBody>,
) -> Result<HttpResponse, ApiError> {
    let (id, channel) = path.into_inner();
    let channel = known_channel(&state, &channel).await?;
    put(&state, id, Some(&channel), &body).await
}

/// `DELETE /api/v1/links/{id}/preview/{channel}`: removes the channel's card.
#[utoipa::path(delete, path = "/api/v1/links/{id}/preview/{channel}", tag = "previews", params(("id" = i64, Path, description = "The link's id"), ("channel" = String, Path, description = "A built-in channel or a defined custom one")),
    responses((status = 204, description = "Removed")))]
pub async fn delete_variant(
    _auth: ApiKeyAuth,
    state: web::Data<AppState>,
    path: web::Path<(i64, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, channel) = path.into_inner();
    let channel = known_channel(&state, &channel).await?;
    delete(&state, id, Some(&channel)).await
}

/// A built-in channel, or a custom one that has been defined.
pub async fn known_channel(state: &AppState, raw: &str) -> Result<Channel, ApiError> {
    let channel = Channel::parse(raw.trim()).map_err(|e| ApiError::invalid("channel", e))?;
    if let Channel::Custom(name) = &channel
        && !state.store.custom_channel_exists(name).await?
    {
        return Err(ApiError::invalid(
            "channel",
            "unknown channel: define a custom channel first",
        ));
    }
    Ok(channel)
}

async fn document(state: &AppState, link_id: i64) -> Result<PreviewDocument, ApiError> {
    state.store.get_link(link_id).await?.ok_or(ApiError::NotFound)?;
    let mut document = PreviewDocument {
        link_id,
        default: None,
        channels: BTreeMap::new(),
    };
    for record in state.store.preview_cards(link_id).await? {
        match record.channel.clone() {
            Some(channel) => {
                document.channels.insert(channel, CardDocument::new(record));
            }
            None => document.default = Some(CardDocument::new(record)),
        }
    }
    Ok(document)
}

async fn put(
    state: &AppState,
    link_id: i64,
    channel: Option<&Channel>,
    body: &CardBody,
) -> Result<HttpResponse, ApiError> {
    let card = body.parse()?;
    // The link as the API knows it: one it no longer lists has no cards to set.
    state.store.get_link(link_id).await?.ok_or(ApiError::NotFound)?;
    if !state.store.put_preview_card(link_id, channel, &card, now_ms()).await? {
        return Err(ApiError::NotFound);
    }
    forget_link(state, link_id).await?;
    Ok(HttpResponse::Ok().json(document(state, link_id).await?))
}

async fn delete(state: &AppState, link_id: i64, channel: Option<&Channel>) -> Result<HttpResponse, ApiError> {
    state.store.get_link(link_id).await?.ok_or(ApiError::NotFound)?;
    // Idempotent, like the PUT beside it: afterwards the link has no such card either way.
    if state.store.delete_preview_card(link_id, channel).await? {
        forget_link(state, link_id).await?;
    }
    Ok(HttpResponse::NoContent().finish())
}

/// The link's short links carry its cards in the redirect cache: they are forgotten here and on
/// every other instance, as for any change to the link.
pub async fn forget_link(state: &AppState, link_id: i64) -> Result<(), ApiError> {
    let codes = state.store.codes_of_link(link_id).await?;
    state.invalidate(Some(&codes)).await;
    Ok(())
}
