//! Admin pages: the sites that embed the share buttons, and API keys.

use super::{Admin, UiError, Viewer, check_form, see_other};
use crate::clock::now_ms;
use crate::domain::api_key;
use crate::domain::site::{Domains, Origins, SiteKey};
use crate::state::AppState;
use crate::store::{LinkOrder, LinkQuery, NewSite, SiteRecord, SiteUpdate};

/// Pages a site's page lists by clicks.
const TOP_PAGES: i64 = 10;
use crate::web::pages::{FieldErrors, KeysPage, PageOrRedirect, Shown, SitePage, SiteValues, SitesPage};
use actix_web::http::StatusCode;
use actix_web::{Either, HttpRequest, HttpResponse, Responder, web};
use serde::Deserialize;

pub async fn sites(state: web::Data<AppState>, Admin(viewer): Admin) -> Result<Shown<SitesPage>, UiError> {
    sites_page(
        &state,
        &viewer,
        SiteValues::default(),
        FieldErrors::default(),
        StatusCode::OK,
    )
    .await
}

async fn sites_page(
    state: &AppState,
    viewer: &Viewer,
    values: SiteValues,
    errors: FieldErrors,
    status: StatusCode,
) -> Result<Shown<SitesPage>, UiError> {
    let sites = state.store.list_sites().await?;
    Ok(SitesPage {
        nav: viewer.nav("sites"),
        sites,
        values,
        errors,
    }
    .customize()
    .with_status(status))
}

#[derive(Deserialize)]
pub struct SiteForm {
    csrf: Option<String>,
    #[serde(flatten)]
    values: SiteValues,
}

/// Hosts and origins arrive one per line (or separated by spaces or commas).
fn entries(raw: &str) -> Vec<String> {
    raw.split(|c: char| c.is_whitespace() || c == ',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn parse_site(values: &SiteValues, errors: &mut FieldErrors) -> Option<(String, Domains, Origins)> {
    let name = values.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 120 {
        errors.add("name", "a site name is 1 to 120 characters");
    }
    let domains = Domains::parse(&entries(&values.domains))
        .map_err(|e| errors.add("domains", e))
        .ok();
    let origins = match (entries(&values.origins), &domains) {
        (list, Some(domains)) if list.is_empty() => Some(domains.default_origins()),
        (list, _) => Origins::parse(&list).map_err(|e| errors.add("origins", e)).ok(),
    };
    match (domains, origins, errors.is_empty()) {
        (Some(d), Some(o), true) => Some((name, d, o)),
        _ => None,
    }
}

pub async fn create_site(
    req: HttpRequest,
    state: web::Data<AppState>,
    Admin(viewer): Admin,
    form: web::Form<SiteForm>,
) -> Result<PageOrRedirect<SitesPage>, UiError> {
    let form = form.into_inner();
    check_form(&req, &viewer, form.csrf.as_deref())?;
    let mut errors = FieldErrors::default();
    let Some((name, domains, origins)) = parse_site(&form.values, &mut errors) else {
        return sites_page(&state, &viewer, form.values, errors, StatusCode::UNPROCESSABLE_ENTITY)
            .await
            .map(Either::Left);
    };
    let campaign = form.values.campaign.trim().to_lowercase();
    let site = state
        .store
        .create_site(
            &NewSite {
                name,
                key: SiteKey::generate(),
                domains,
                origins,
                utm_enabled: true,
                utm_campaign: (!campaign.is_empty()).then_some(campaign),
                is_demo: false,
            },
            now_ms(),
        )
        .await?;
    state.gate.forget_sites();
    Ok(Either::Right(see_other(&format!("/app/sites/{}", site.id))))
}

pub async fn site(
    state: web::Data<AppState>,
    Admin(viewer): Admin,
    path: web::Path<i64>,
) -> Result<Shown<SitePage>, UiError> {
    let site = state
        .store
        .get_site(path.into_inner())
        .await?
        .ok_or(UiError::NotFound)?;
    let values = SiteValues::of(&site);
    site_page(
        &state,
        &viewer,
        site,
        values,
        FieldErrors::default(),
        None,
        StatusCode::OK,
    )
    .await
}

async fn site_page(
    state: &AppState,
    viewer: &Viewer,
    site: SiteRecord,
    values: SiteValues,
    errors: FieldErrors,
    notice: Option<String>,
    status: StatusCode,
) -> Result<Shown<SitePage>, UiError> {
    let snippet = super::super::snippet::Snippet::get();
    let activity = state.store.site_activity(site.id).await?;
    let top_pages = state
        .store
        .find_links(&LinkQuery {
            search: None,
            campaign: None,
            site: Some(site.id),
            channel: None,
            disabled: None,
            order: LinkOrder::MostClicks,
            after: None,
            limit: TOP_PAGES,
        })
        .await?;
    Ok(SitePage {
        activity,
        top_pages,
        nav: viewer.nav("sites"),
        tag: snippet.tag(&state.base_url, &site.public_key),
        pinned_tag: snippet.pinned_tag(&state.base_url, &site.public_key),
        site,
        values,
        errors,
        notice,
    }
    .customize()
    .with_status(status))
}

pub async fn update_site(
    req: HttpRequest,
    state: web::Data<AppState>,
    Admin(viewer): Admin,
    path: web::Path<i64>,
    form: web::Form<SiteForm>,
) -> Result<Shown<SitePage>, UiError> {
    let form = form.into_inner();
    check_form(&req, &viewer, form.csrf.as_deref())?;
    let site = state
        .store
        .get_site(path.into_inner())
        .await?
        .ok_or(UiError::NotFound)?;
    let mut errors = FieldErrors::default();
    let Some((name, domains, origins)) = parse_site(&form.values, &mut errors) else {
        return site_page(
            &state,
            &viewer,
            site,
            form.values,
            errors,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let campaign = form.values.campaign.trim().to_lowercase();
    let update = SiteUpdate {
        name: Some(name),
        domains: Some(domains),
        origins: Some(origins),
        utm_campaign: Some((!campaign.is_empty()).then_some(campaign)),
        ..SiteUpdate::default()
    };
    let updated = state
        .store
        .update_site(site.id, &update, now_ms())
        .await?
        .ok_or(UiError::NotFound)?;
    state.gate.forget_sites();
    let values = SiteValues::of(&updated);
    site_page(
        &state,
        &viewer,
        updated,
        values,
        FieldErrors::default(),
        Some("Saved.".into()),
        StatusCode::OK,
    )
    .await
}

pub async fn keys(state: web::Data<AppState>, Admin(viewer): Admin) -> Result<Shown<KeysPage>, UiError> {
    keys_page(
        &state,
        &viewer,
        None,
        String::new(),
        FieldErrors::default(),
        StatusCode::OK,
    )
    .await
}

async fn keys_page(
    state: &AppState,
    viewer: &Viewer,
    new_key: Option<String>,
    name: String,
    errors: FieldErrors,
    status: StatusCode,
) -> Result<Shown<KeysPage>, UiError> {
    Ok(KeysPage {
        nav: viewer.nav("keys"),
        keys: state.store.list_api_keys().await?,
        new_key,
        name,
        errors,
    }
    .customize()
    .with_status(status))
}

#[derive(Deserialize)]
pub struct KeyForm {
    csrf: Option<String>,
    #[serde(default)]
    name: String,
}

pub async fn create_key(
    req: HttpRequest,
    state: web::Data<AppState>,
    Admin(viewer): Admin,
    form: web::Form<KeyForm>,
) -> Result<Shown<KeysPage>, UiError> {
    let form = form.into_inner();
    check_form(&req, &viewer, form.csrf.as_deref())?;
    let name = form.name.trim();
    if name.is_empty() || name.chars().count() > 120 {
        let mut errors = FieldErrors::default();
        errors.add("name", "say who or what the key is for (1 to 120 characters)");
        return keys_page(
            &state,
            &viewer,
            None,
            form.name,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let key = api_key::generate();
    state.store.create_api_key(name, &key, now_ms()).await?;
    // Shown in this response only; the store keeps its hash.
    keys_page(
        &state,
        &viewer,
        Some(key.plaintext),
        String::new(),
        FieldErrors::default(),
        StatusCode::OK,
    )
    .await
}

#[derive(Deserialize)]
pub struct RevokeForm {
    csrf: Option<String>,
}

pub async fn revoke_key(
    req: HttpRequest,
    state: web::Data<AppState>,
    Admin(viewer): Admin,
    path: web::Path<i64>,
    form: web::Form<RevokeForm>,
) -> Result<HttpResponse, UiError> {
    check_form(&req, &viewer, form.csrf.as_deref())?;
    state.store.revoke_api_key(path.into_inner(), now_ms()).await?;
    state.api_keys.forget_all();
    Ok(see_other("/app/keys"))
}
