//! `/api/v1/links`: the destinations people share.

use super::auth::ApiKeyAuth;
use crate::clock::{iso, now_ms};
use crate::domain::destination::Destination;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{LinkRecord, NewLink};
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

const MAX_TEXT: usize = 200;

#[derive(Deserialize)]
pub struct CreateLink {
    url: String,
    title: Option<String>,
    campaign: Option<String>,
}

#[derive(Deserialize)]
pub struct UpdateLink {
    disabled: Option<bool>,
}

#[derive(Serialize)]
pub struct LinkDocument {
    id: i64,
    url: String,
    title: Option<String>,
    campaign: Option<String>,
    created_at: String,
    disabled: bool,
    stats_url: String,
}

impl LinkDocument {
    fn new(link: LinkRecord) -> Self {
        LinkDocument {
            stats_url: format!("/api/v1/links/{}/stats", link.id),
            id: link.id,
            url: link.url,
            title: link.title,
            campaign: link.campaign,
            created_at: iso(link.created_at),
            disabled: link.disabled_at.is_some(),
        }
    }
}

/// Trims, turns blank into absent, and bounds the length of free text.
pub fn optional_text(field: &'static str, value: Option<String>) -> Result<Option<String>, ApiError> {
    let value = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    match value {
        Some(v) if v.chars().count() > MAX_TEXT => {
            Err(ApiError::invalid(field, format!("at most {MAX_TEXT} characters")))
        }
        Some(v) if v.chars().any(char::is_control) => {
            Err(ApiError::invalid(field, "control characters are not allowed"))
        }
        other => Ok(other),
    }
}

pub async fn create(
    _auth: ApiKeyAuth,
    state: web::Data<AppState>,
    body: web::Json<CreateLink>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let url = Destination::parse(&body.url).map_err(|e| ApiError::invalid("url", e))?;
    let new = NewLink {
        url,
        title: optional_text("title", body.title)?,
        campaign: optional_text("campaign", body.campaign)?,
    };
    let link = state.store.create_link(&new, now_ms()).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/links/{}", link.id)))
        .json(LinkDocument::new(link)))
}

pub async fn show(_auth: ApiKeyAuth, state: web::Data<AppState>, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let link = state.store.get_link(*id).await?.ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(LinkDocument::new(link)))
}

/// `{"disabled": true}` stops every share of the link redirecting (410), on every instance.
pub async fn update(
    _auth: ApiKeyAuth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: web::Json<UpdateLink>,
) -> Result<HttpResponse, ApiError> {
    let id = *id;
    if let Some(disabled) = body.disabled {
        let disabled_at = disabled.then(now_ms);
        if !state.store.set_link_disabled(id, disabled_at).await? {
            return Err(ApiError::NotFound);
        }
        // That link's codes only: every other cached redirect stays warm, here and elsewhere.
        let codes = state.store.codes_of_link(id).await?;
        state.invalidate(Some(&codes)).await;
    }
    let link = state.store.get_link(id).await?.ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(LinkDocument::new(link)))
}
