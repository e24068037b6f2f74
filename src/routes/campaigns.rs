//! `/api/v1/campaigns`: the campaigns links are grouped by, as the web UI lists and changes them.

use super::auth::ApiKeyAuth;
use super::body::JsonBody;
use crate::clock::{iso, now_ms};
use crate::domain::campaign::CampaignName;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{CampaignRecord, CampaignTotals};
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct CampaignDocument {
    id: i64,
    /// The `utm_campaign` of its links: it stays when the campaign is renamed.
    slug: String,
    name: String,
    #[schema(format = DateTime)]
    created_at: String,
    archived: bool,
}

impl CampaignDocument {
    fn new(campaign: CampaignRecord) -> Self {
        CampaignDocument {
            id: campaign.id,
            slug: campaign.slug,
            name: campaign.name,
            created_at: iso(campaign.created_at),
            archived: campaign.archived_at.is_some(),
        }
    }
}

/// A campaign in the list, with its links' totals (all time; clicks are people only).
#[derive(Serialize, ToSchema)]
pub struct CampaignListItem {
    #[serde(flatten)]
    campaign: CampaignDocument,
    links: i64,
    clicks: i64,
    shares: i64,
    max_depth: i64,
    conversions: i64,
    conversion_value: f64,
}

impl CampaignListItem {
    fn new(c: CampaignTotals) -> Self {
        CampaignListItem {
            campaign: CampaignDocument {
                id: c.id,
                slug: c.slug,
                name: c.name,
                created_at: iso(c.created_at),
                archived: c.archived_at.is_some(),
            },
            links: c.links,
            clicks: c.clicks,
            shares: c.shares,
            max_depth: c.max_depth,
            conversions: c.conversions,
            conversion_value: c.conversion_value + 0.0,
        }
    }
}

#[derive(Deserialize)]
pub struct ListQuery {
    /// `true` lists archived campaigns too.
    archived: Option<bool>,
}

/// Campaigns with their links' totals.
#[derive(Serialize, ToSchema)]
pub struct CampaignList {
    campaigns: Vec<CampaignListItem>,
}

/// `GET /api/v1/campaigns`: every campaign that is not archived, with its links' totals.
#[utoipa::path(get, path = "/api/v1/campaigns", tag = "campaigns",
    params(("archived" = Option<bool>, Query, description = "`true` lists archived campaigns too")),
    responses((status = 200, description = "Campaigns, newest first, with their totals (clicks are people only)", body = CampaignList)))]
pub async fn list(
    _auth: ApiKeyAuth,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let campaigns = state.store.campaign_totals(query.archived.unwrap_or(false)).await?;
    let campaigns = campaigns.into_iter().map(CampaignListItem::new).collect();
    Ok(HttpResponse::Ok().json(CampaignList { campaigns }))
}

#[derive(Deserialize, ToSchema)]
pub struct CreateCampaign {
    /// Its slug (the links' `utm_campaign`) is made from it and never changes.
    #[schema(example = "Spring sale 2027")]
    name: String,
}

fn name_of(raw: &str) -> Result<CampaignName, ApiError> {
    CampaignName::parse(raw).map_err(|e| ApiError::invalid("name", e))
}

/// `POST /api/v1/campaigns`: a new campaign, its slug made from its name.
#[utoipa::path(post, path = "/api/v1/campaigns", tag = "campaigns", request_body = CreateCampaign,
    responses(
        (status = 201, description = "The campaign", body = CampaignDocument),
        (status = 409, description = "A campaign has that slug already", body = crate::error::ErrorBody),
    ))]
pub async fn create(
    _auth: ApiKeyAuth,
    state: web::Data<AppState>,
    body: JsonBody<CreateCampaign>,
) -> Result<HttpResponse, ApiError> {
    let name = name_of(&body.name)?;
    let campaign = state
        .store
        .create_campaign(&name.slug(), name.as_str(), now_ms())
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/campaigns/{}", campaign.id)))
        .json(CampaignDocument::new(campaign)))
}

/// One campaign.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}", tag = "campaigns", params(("id" = i64, Path, description = "The campaign's id")),
    responses((status = 200, description = "The campaign", body = CampaignDocument)))]
pub async fn show(_auth: ApiKeyAuth, state: web::Data<AppState>, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let campaign = state.store.get_campaign(*id).await?.ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(CampaignDocument::new(campaign)))
}

/// A new name (the slug, and so every link's `utm_campaign`, stays) and archiving: an
/// archived campaign leaves the list, its links keep working.
#[derive(Deserialize, ToSchema)]
pub struct UpdateCampaign {
    name: Option<String>,
    archived: Option<bool>,
}

/// Renames a campaign (its slug stays) or archives it (its links keep working).
#[utoipa::path(patch, path = "/api/v1/campaigns/{id}", tag = "campaigns", params(("id" = i64, Path, description = "The campaign's id")),
    request_body = UpdateCampaign,
    responses((status = 200, description = "The campaign as changed", body = CampaignDocument)))]
pub async fn update(
    _auth: ApiKeyAuth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: JsonBody<UpdateCampaign>,
) -> Result<HttpResponse, ApiError> {
    let id = *id;
    let name = body.name.as_deref().map(name_of).transpose()?;
    state.store.get_campaign(id).await?.ok_or(ApiError::NotFound)?;
    if let Some(name) = name {
        state.store.rename_campaign(id, name.as_str()).await?;
    }
    if let Some(archived) = body.archived {
        state.store.set_campaign_archived(id, archived.then(now_ms)).await?;
    }
    let campaign = state.store.get_campaign(id).await?.ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(CampaignDocument::new(campaign)))
}
