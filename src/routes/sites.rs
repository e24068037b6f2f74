//! `/api/v1/sites`: the websites that embed the share buttons.

use super::auth::ApiKeyAuth;
use super::links::optional_text;
use super::snippet::Snippet;
use crate::clock::{iso, now_ms};
use crate::domain::site::{Domains, Origins, SiteKey};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{NewSite, SiteRecord, SiteUpdate};
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

#[derive(Deserialize, Default)]
pub struct UtmProfile {
    enabled: Option<bool>,
    campaign: Option<String>,
}

#[derive(Deserialize)]
pub struct CreateSite {
    name: String,
    domains: Vec<String>,
    origins: Option<Vec<String>>,
    utm: Option<UtmProfile>,
}

#[derive(Deserialize)]
pub struct UpdateSite {
    name: Option<String>,
    domains: Option<Vec<String>>,
    origins: Option<Vec<String>>,
    utm: Option<UtmProfile>,
    disabled: Option<bool>,
}

#[derive(Serialize)]
struct UtmDocument {
    enabled: bool,
    campaign: Option<String>,
}

#[derive(Serialize)]
pub struct SiteDocument {
    id: i64,
    name: String,
    key: String,
    domains: Vec<String>,
    origins: Vec<String>,
    utm: UtmDocument,
    disabled: bool,
    created_at: String,
    /// The tag to paste into a page.
    snippet: String,
    /// The same, pinned to this version of the script with Subresource Integrity.
    snippet_pinned: String,
}

impl SiteDocument {
    pub fn new(state: &AppState, site: SiteRecord) -> Self {
        let snippet = Snippet::get();
        SiteDocument {
            snippet: snippet.tag(&state.base_url, &site.public_key),
            snippet_pinned: snippet.pinned_tag(&state.base_url, &site.public_key),
            domains: site.domains().hosts().to_vec(),
            origins: site.origins().list().to_vec(),
            utm: UtmDocument {
                enabled: site.utm_enabled != 0,
                campaign: site.utm_campaign,
            },
            disabled: site.disabled_at.is_some(),
            created_at: iso(site.created_at),
            id: site.id,
            name: site.name,
            key: site.public_key,
        }
    }
}

fn site_name(raw: &str) -> Result<String, ApiError> {
    optional_text("name", Some(raw.to_owned()))?.ok_or_else(|| ApiError::invalid("name", "a site needs a name"))
}

pub async fn create(
    _auth: ApiKeyAuth,
    state: web::Data<AppState>,
    body: web::Json<CreateSite>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let domains = Domains::parse(&body.domains).map_err(|e| ApiError::invalid("domains", e))?;
    let origins = match &body.origins {
        Some(origins) => Origins::parse(origins).map_err(|e| ApiError::invalid("origins", e))?,
        None => domains.default_origins(),
    };
    let utm = body.utm.unwrap_or_default();
    let site = NewSite {
        name: site_name(&body.name)?,
        key: SiteKey::generate(),
        domains,
        origins,
        utm_enabled: utm.enabled.unwrap_or(true),
        utm_campaign: optional_text("utm.campaign", utm.campaign)?,
        is_demo: false,
    };
    let site = state.store.create_site(&site, now_ms()).await?;
    state.gate.forget_sites();
    Ok(HttpResponse::Created().json(SiteDocument::new(&state, site)))
}

pub async fn list(_auth: ApiKeyAuth, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let sites = state.store.list_sites().await?;
    let sites: Vec<SiteDocument> = sites.into_iter().map(|s| SiteDocument::new(&state, s)).collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "sites": sites })))
}

pub async fn show(_auth: ApiKeyAuth, state: web::Data<AppState>, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let site = state.store.get_site(*id).await?.ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(SiteDocument::new(&state, site)))
}

pub async fn update(
    _auth: ApiKeyAuth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: web::Json<UpdateSite>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let utm = body.utm.unwrap_or_default();
    let update = SiteUpdate {
        name: body.name.as_deref().map(site_name).transpose()?,
        domains: body
            .domains
            .map(|d| Domains::parse(&d))
            .transpose()
            .map_err(|e| ApiError::invalid("domains", e))?,
        origins: body
            .origins
            .map(|o| Origins::parse(&o))
            .transpose()
            .map_err(|e| ApiError::invalid("origins", e))?,
        utm_enabled: utm.enabled,
        utm_campaign: utm
            .campaign
            .map(|c| optional_text("utm.campaign", Some(c)))
            .transpose()?,
        disabled: body.disabled,
    };
    let site = state
        .store
        .update_site(*id, &update, now_ms())
        .await?
        .ok_or(ApiError::NotFound)?;
    state.gate.forget_sites();
    // The UTM profile is part of every cached redirect of the site's links.
    state.invalidate(None).await;
    Ok(HttpResponse::Ok().json(SiteDocument::new(&state, site)))
}
