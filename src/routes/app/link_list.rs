//! Managing links: the list with search, filters, order and pages, and a link's edits (title,
//! campaign, destination) and its switch (off and on again).

use super::{UiError, Viewer, check_form, see_other};
use crate::clock::now_ms;
use crate::domain::channel::BuiltinChannel;
use crate::domain::destination::Destination;
use crate::state::AppState;
use crate::store::{LinkChange, LinkDeletion};
use crate::web::link_query::{self, LinkListQuery};
use crate::web::pages::LinksPage;

/// Trims, and turns blank into absent.
fn clean(raw: &Option<String>) -> Option<String> {
    raw.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}
use crate::web::report::channel_name;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

/// Links a page of the list shows.
const PAGE: i64 = 50;

pub async fn index(
    state: web::Data<AppState>,
    viewer: Viewer,
    query: web::Query<LinkListQuery>,
) -> Result<LinksPage, UiError> {
    // The page's own size: a `limit` in the address is not the web UI's.
    let query = LinkListQuery {
        limit: None,
        ..query.into_inner()
    };
    let (link_query, problems) = link_query::parse(&query, PAGE);
    let problems: Vec<String> = problems.into_iter().map(|p| p.message).collect();
    let mut links = state.store.find_links(&link_query).await?;
    let next = match links.len() as i64 > PAGE {
        true => {
            links.truncate(PAGE as usize);
            links.last().map(|last| {
                let mut params = url::form_urlencoded::Serializer::new(String::new());
                for (name, value) in [
                    ("q", &query.q),
                    ("campaign", &query.campaign),
                    ("channel", &query.channel),
                    ("status", &query.status),
                    ("sort", &query.sort),
                ] {
                    if let Some(value) = clean(value) {
                        params.append_pair(name, &value);
                    }
                }
                params.append_pair("after", &link_query::cursor_of(last, link_query.order));
                format!("?{}", params.finish())
            })
        }
        false => None,
    };
    let campaigns = state.store.list_campaigns(true).await?;
    let mut channels: Vec<(String, String)> = BuiltinChannel::ALL
        .iter()
        .map(|c| (c.as_str().to_owned(), c.display_name().to_owned()))
        .collect();
    channels.extend(
        state
            .store
            .list_custom_channels()
            .await?
            .into_iter()
            .map(|c| (c.name.clone(), channel_name(&c.name))),
    );
    Ok(LinksPage {
        nav: viewer.nav("links"),
        links,
        query,
        problems,
        next,
        first_page: link_query.after.is_some(),
        campaigns: campaigns.into_iter().map(|c| (c.slug, c.name)).collect(),
        channels,
    })
}

#[derive(Deserialize)]
pub struct EditForm {
    csrf: Option<String>,
    title: Option<String>,
    campaign: Option<String>,
    url: Option<String>,
    /// The last day (UTC) its short links redirect, `YYYY-MM-DD`; empty for never.
    expires_on: Option<String>,
    /// The click limit, fallback, password and UTM tags.
    #[serde(flatten)]
    lifecycle: super::link_lifecycle::LifecycleForm,
}

/// The end of `day` (UTC) as Unix milliseconds: a link that expires on a day works all of it.
fn end_of(day: &str) -> Result<i64, UiError> {
    chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.succ_opt())
        .and_then(|next| next.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp_millis())
        .ok_or_else(|| UiError::BadForm(format!("expires on: '{day}' is not a date (YYYY-MM-DD)")))
}

/// Changes a link's title, campaign, destination, expiry, click limit, fallback, password and
/// UTM tags. The link's short links keep their codes and follow at once, on every instance.
pub async fn edit(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<i64>,
    form: web::Form<EditForm>,
) -> Result<HttpResponse, UiError> {
    let form = form.into_inner();
    check_form(&req, &viewer, form.csrf.as_deref())?;
    let link = state
        .store
        .get_link(path.into_inner())
        .await?
        .ok_or(UiError::NotFound)?;
    let title = clean(&form.title);
    if let Some(t) = &title
        && (t.chars().count() > 200 || t.chars().any(char::is_control))
    {
        return Err(UiError::BadForm(
            "a title is at most 200 characters, without control characters".into(),
        ));
    }
    let campaign = match clean(&form.campaign) {
        None => None,
        Some(slug) => match state.store.campaign_by_slug(&slug).await? {
            Some(campaign) => Some(campaign.slug),
            None => return Err(UiError::BadForm("campaign: choose a campaign from the list".into())),
        },
    };
    let url = match (link.site_id, clean(&form.url)) {
        // A site's link stands for one page of the site, which its buttons find it by: its
        // destination is that page's address and stays.
        (Some(_), _) | (None, None) => Destination::parse(&link.url)
            .map_err(|e| UiError::BadForm(format!("the stored destination is not valid: {e}")))?,
        (None, Some(url)) => Destination::parse(&url).map_err(|e| UiError::BadForm(format!("destination: {e}")))?,
    };
    let expires_at = clean(&form.expires_on).map(|day| end_of(&day)).transpose()?;
    let lifecycle = form.lifecycle.parse(&link.lifecycle, &state).await?;
    let change = LinkChange { title, campaign, url };
    if !state.store.update_link(link.id, &change, now_ms()).await? {
        return Err(UiError::NotFound);
    }
    state.store.set_link_expiry(link.id, expires_at).await?;
    if let Some(lifecycle) = &lifecycle {
        state.store.set_link_lifecycle(link.id, lifecycle).await?;
    }
    let codes = state.store.codes_of_link(link.id).await?;
    state.invalidate(Some(&codes)).await;
    Ok(see_other(&format!("/app/links/{}", link.id)))
}

#[derive(Deserialize)]
pub struct SwitchForm {
    csrf: Option<String>,
    /// "1" switches the link off, "0" on again.
    off: Option<String>,
}

/// Switches a link off (its short links answer 410 Gone) or on again.
pub async fn switch(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<i64>,
    form: web::Form<SwitchForm>,
) -> Result<HttpResponse, UiError> {
    check_form(&req, &viewer, form.csrf.as_deref())?;
    let id = path.into_inner();
    let disabled_at = match form.off.as_deref() {
        Some("1") => Some(now_ms()),
        Some("0") => None,
        _ => {
            return Err(UiError::BadForm(
                "say off=1 to switch the link off, off=0 to switch it on".into(),
            ));
        }
    };
    if !state.store.set_link_disabled(id, disabled_at).await? {
        return Err(UiError::NotFound);
    }
    let codes = state.store.codes_of_link(id).await?;
    state.invalidate(Some(&codes)).await;
    Ok(see_other(&format!("/app/links/{id}")))
}

#[derive(Deserialize)]
pub struct DeleteForm {
    csrf: Option<String>,
    /// The box that says the short links stop working for good.
    confirm: Option<String>,
}

/// Deletes a link for good, once its box is ticked: see `LinkStore::delete_link`.
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<i64>,
    form: web::Form<DeleteForm>,
) -> Result<HttpResponse, UiError> {
    check_form(&req, &viewer, form.csrf.as_deref())?;
    if form.confirm.as_deref() != Some("1") {
        return Err(UiError::BadForm(
            "tick the box that says its short links stop working for good".into(),
        ));
    }
    let id = path.into_inner();
    match state.store.delete_link(id, now_ms()).await? {
        LinkDeletion::Deleted => {}
        LinkDeletion::NotFound => return Err(UiError::NotFound),
        LinkDeletion::SitePage => {
            return Err(UiError::BadForm(
                "a site's page link cannot be deleted (its share buttons would find it again); switch it off instead"
                    .into(),
            ));
        }
    }
    let codes = state.store.codes_of_link(id).await?;
    state.invalidate(Some(&codes)).await;
    Ok(see_other("/app/links"))
}
