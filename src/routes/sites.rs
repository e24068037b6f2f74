//! `/api/v1/sites`: the websites that embed the share buttons.

use super::auth::ApiKeyAuth;
use super::body::JsonBody;
use super::links::optional_text;
use super::snippet::Snippet;
use crate::clock::{iso, now_ms};
use crate::domain::site::{Domains, Origins, SiteKey};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{NewSite, SiteRecord, SiteUpdate};
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The UTM tags a site's shares add to its pages' addresses.
#[derive(Deserialize, Default, ToSchema)]
pub struct UtmProfile {
    /// Whether shares of the site's pages carry UTM tags at all (default true).
    enabled: Option<bool>,
    /// The `utm_campaign` they carry.
    campaign: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct CreateSite {
    #[schema(example = "Our blog")]
    name: String,
    /// Host names whose pages the site's key may mint shares for.
    #[schema(example = json!(["example.com", "www.example.com"]))]
    domains: Vec<String>,
    /// Origins allowed to call the public API with the key; by default https:// of each domain.
    origins: Option<Vec<String>>,
    utm: Option<UtmProfile>,
}

#[derive(Deserialize, ToSchema)]
pub struct UpdateSite {
    name: Option<String>,
    domains: Option<Vec<String>>,
    origins: Option<Vec<String>>,
    utm: Option<UtmProfile>,
    disabled: Option<bool>,
}

#[derive(Serialize, ToSchema)]
struct UtmDocument {
    enabled: bool,
    campaign: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SiteDocument {
    id: i64,
    name: String,
    key: String,
    domains: Vec<String>,
    origins: Vec<String>,
    utm: UtmDocument,
    disabled: bool,
    #[schema(format = DateTime)]
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

/// `POST /api/v1/sites`: a website that embeds the share buttons, with its public key.
#[utoipa::path(post, path = "/api/v1/sites", tag = "sites", request_body = CreateSite,
    responses((status = 201, description = "The site, its key and the snippet to paste", body = SiteDocument)))]
pub async fn create(
    _auth: ApiKeyAuth,
    state: web::Data<AppState>,
    body: JsonBody<CreateSite>,
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

/// Every site.
#[derive(Serialize, ToSchema)]
pub struct SiteList {
    sites: Vec<SiteDocument>,
}

/// `GET /api/v1/sites`: every site, its key and its snippet.
#[utoipa::path(get, path = "/api/v1/sites", tag = "sites", responses((status = 200, description = "Every site", body = SiteList)))]
pub async fn list(_auth: ApiKeyAuth, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let sites = state.store.list_sites().await?;
    let sites = sites.into_iter().map(|s| SiteDocument::new(&state, s)).collect();
    Ok(HttpResponse::Ok().json(SiteList { sites }))
}

/// One site.
#[utoipa::path(get, path = "/api/v1/sites/{id}", tag = "sites", params(("id" = i64, Path, description = "The site's id")),
    responses((status = 200, description = "The site", body = SiteDocument)))]
pub async fn show(_auth: ApiKeyAuth, state: web::Data<AppState>, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let site = state.store.get_site(*id).await?.ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(SiteDocument::new(&state, site)))
}

/// `PATCH /api/v1/sites/{id}`: what is given changes; `disabled` stops its buttons minting.
#[utoipa::path(patch, path = "/api/v1/sites/{id}", tag = "sites", params(("id" = i64, Path, description = "The site's id")),
    request_body = UpdateSite,
    responses((status = 200, description = "The site as changed", body = SiteDocument)))]
pub async fn update(
    _auth: ApiKeyAuth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: JsonBody<UpdateSite>,
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
