//! Campaigns: the list with totals and sparklines, one campaign's analytics, rename, archive.

use super::{UiError, Viewer, check_form, see_other};
use crate::clock::now_ms;
use crate::domain::campaign::CampaignName;
use crate::state::AppState;
use crate::store::{Scope, StoreError};
use crate::web::charts;
use crate::web::pages::{CampaignPage, CampaignRow, CampaignsPage, FieldErrors, PageOrRedirect, Shown};
use crate::web::report::{ReportQuery, TIME_ZONE_COOKIE, View, build_report, custom_mediums, is_dark, percent};
use actix_web::http::StatusCode;
use actix_web::{Either, HttpRequest, HttpResponse, Responder, web};
use serde::Deserialize;
use std::collections::HashMap;

const SPARKLINE_DAYS: u64 = 30;

pub async fn home(_viewer: Viewer) -> HttpResponse {
    see_other("/app/campaigns")
}

#[derive(Deserialize)]
pub struct ListQuery {
    archived: Option<String>,
}

pub async fn index(
    state: web::Data<AppState>,
    viewer: Viewer,
    query: web::Query<ListQuery>,
) -> Result<Shown<CampaignsPage>, UiError> {
    let show_archived = query.archived.as_deref() == Some("1");
    list_page(
        &state,
        &viewer,
        show_archived,
        String::new(),
        FieldErrors::default(),
        StatusCode::OK,
    )
    .await
}

async fn list_page(
    state: &AppState,
    viewer: &Viewer,
    show_archived: bool,
    name: String,
    errors: FieldErrors,
    status: StatusCode,
) -> Result<Shown<CampaignsPage>, UiError> {
    let totals = state.store.campaign_totals(show_archived).await?;
    let mediums = custom_mediums(state.store.as_ref()).await?;
    let mut dark: HashMap<i64, i64> = HashMap::new();
    for row in state.store.campaign_channel_clicks().await? {
        if is_dark(&row.channel, &mediums) {
            *dark.entry(row.campaign_id).or_default() += row.clicks;
        }
    }
    // UTC days: the sparkline reads the daily rollups, which are kept by UTC day.
    let today = chrono::Utc::now().date_naive();
    let days: Vec<String> = (0..SPARKLINE_DAYS)
        .rev()
        .map(|back| (today - chrono::Days::new(back)).format("%Y-%m-%d").to_string())
        .collect();
    let mut series: HashMap<i64, HashMap<String, i64>> = HashMap::new();
    for row in state.store.campaign_daily_clicks(&days[0]).await? {
        series.entry(row.campaign_id).or_default().insert(row.day, row.clicks);
    }
    let rows = totals
        .into_iter()
        .map(|c| {
            let per_day = series.remove(&c.id).unwrap_or_default();
            let values: Vec<i64> = days.iter().map(|d| per_day.get(d).copied().unwrap_or(0)).collect();
            CampaignRow {
                dark_share: percent(dark.get(&c.id).copied().unwrap_or(0), c.clicks),
                sparkline: charts::sparkline(&values),
                totals: c,
            }
        })
        .collect();
    let page = CampaignsPage {
        nav: viewer.nav("campaigns"),
        campaigns: rows,
        show_archived,
        name,
        errors,
    };
    Ok(page.customize().with_status(status))
}

#[derive(Deserialize)]
pub struct NameForm {
    csrf: Option<String>,
    #[serde(default)]
    name: String,
}

pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    form: web::Form<NameForm>,
) -> Result<PageOrRedirect<CampaignsPage>, UiError> {
    let form = form.into_inner();
    check_form(&req, &viewer, form.csrf.as_deref())?;
    let mut errors = FieldErrors::default();
    let name = match CampaignName::parse(&form.name) {
        Ok(name) => name,
        Err(e) => {
            errors.add("name", e);
            return list_page(
                &state,
                &viewer,
                false,
                form.name,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
            .map(Either::Left);
        }
    };
    match state.store.create_campaign(&name.slug(), name.as_str(), now_ms()).await {
        Ok(campaign) => Ok(Either::Right(see_other(&format!("/app/campaigns/{}", campaign.id)))),
        Err(StoreError::CampaignExists) => {
            errors.add(
                "name",
                format!(
                    "a campaign called '{}' (or one with the same utm_campaign, {}) exists",
                    name.as_str(),
                    name.slug()
                ),
            );
            list_page(&state, &viewer, false, form.name, errors, StatusCode::CONFLICT)
                .await
                .map(Either::Left)
        }
        Err(err) => Err(err.into()),
    }
}

pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<i64>,
    query: web::Query<ReportQuery>,
) -> Result<Shown<CampaignPage>, UiError> {
    let campaign = state
        .store
        .get_campaign(path.into_inner())
        .await?
        .ok_or(UiError::NotFound)?;
    campaign_page(
        &state,
        &viewer,
        campaign,
        &query,
        req.cookie(TIME_ZONE_COOKIE).map(|c| c.value().to_owned()),
        FieldErrors::default(),
        StatusCode::OK,
    )
    .await
}

async fn campaign_page(
    state: &AppState,
    viewer: &Viewer,
    campaign: crate::store::CampaignRecord,
    query: &ReportQuery,
    zone_cookie: Option<String>,
    errors: FieldErrors,
    status: StatusCode,
) -> Result<Shown<CampaignPage>, UiError> {
    let scope = Scope::Campaign(campaign.slug.clone());
    let links = state.store.list_links(Some(&campaign.slug), 500).await?;
    // "All time" starts with the campaign or its oldest link, whichever came first.
    let born = links
        .iter()
        .map(|l| l.created_at)
        .chain([campaign.created_at])
        .min()
        .unwrap_or(campaign.created_at);
    let view = View::parse(query, zone_cookie.as_deref(), chrono::Utc::now(), born);
    let names = links
        .iter()
        .map(|l| (l.id, l.title.clone().unwrap_or_else(|| l.url.clone())))
        .collect();
    let report = build_report(state.store.as_ref(), &scope, view, names).await?;
    let page = CampaignPage {
        nav: viewer.nav("campaigns"),
        campaign,
        links,
        report,
        errors,
    };
    Ok(page.customize().with_status(status))
}

pub async fn rename(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<i64>,
    form: web::Form<NameForm>,
) -> Result<PageOrRedirect<CampaignPage>, UiError> {
    let form = form.into_inner();
    check_form(&req, &viewer, form.csrf.as_deref())?;
    let campaign = state
        .store
        .get_campaign(path.into_inner())
        .await?
        .ok_or(UiError::NotFound)?;
    match CampaignName::parse(&form.name) {
        Ok(name) => {
            state.store.rename_campaign(campaign.id, name.as_str()).await?;
            Ok(Either::Right(see_other(&format!("/app/campaigns/{}", campaign.id))))
        }
        Err(e) => {
            let mut errors = FieldErrors::default();
            errors.add("name", e);
            campaign_page(
                &state,
                &viewer,
                campaign,
                &ReportQuery::default(),
                None,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
            .map(Either::Left)
        }
    }
}

#[derive(Deserialize)]
pub struct ArchiveForm {
    csrf: Option<String>,
    #[serde(default)]
    archived: String,
}

pub async fn archive(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<i64>,
    form: web::Form<ArchiveForm>,
) -> Result<HttpResponse, UiError> {
    check_form(&req, &viewer, form.csrf.as_deref())?;
    let id = path.into_inner();
    let archived_at = (form.archived == "1").then(now_ms);
    if !state.store.set_campaign_archived(id, archived_at).await? {
        return Err(UiError::NotFound);
    }
    Ok(see_other(&format!("/app/campaigns/{id}")))
}
