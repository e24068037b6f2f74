//! Links: one link with a short link per channel in one step, the link's page (its short links,
//! QR codes, analytics and cascade), event QR codes and their print sheet.

use super::{UiError, Viewer, check_form, see_other};
use crate::clock::now_ms;
use crate::domain::campaign::CampaignName;
use crate::domain::channel::{BuiltinChannel, Channel, Medium};
use crate::domain::code::{Code, Slug};
use crate::domain::destination::Destination;
use crate::domain::share_tree::{self, TreeLimits, TreeShare};
use crate::mint::MintError;
use crate::state::AppState;
use crate::store::{CampaignRecord, MintRefusal, NewCode, NewLink, NewShare, Scope, ShareLink, StoreError};
use crate::web::link_lifecycle::LinkLifecycleView;
use crate::web::pages::{
    ChannelChoice, EventPage, EventSummary, EventsPage, FieldErrors, LinkFormValues, LinkPage, NewLinkPage,
    PageOrRedirect, QrSheetPage, ShortLink, Shown,
};
use crate::web::report::{ReportQuery, TIME_ZONE_COOKIE, View, build_report};
use actix_web::http::{StatusCode, header};
use actix_web::{Either, HttpRequest, HttpResponse, Responder, web};
use serde::Deserialize;
use std::collections::HashMap;

/// The channels a marketer is offered, in button order; `address_bar`, `native` and `direct`
/// only ever come from the share buttons.
const OFFERED: [BuiltinChannel; 15] = [
    BuiltinChannel::Whatsapp,
    BuiltinChannel::Email,
    BuiltinChannel::Slack,
    BuiltinChannel::Sms,
    BuiltinChannel::Linkedin,
    BuiltinChannel::Telegram,
    BuiltinChannel::Messenger,
    BuiltinChannel::Signal,
    BuiltinChannel::Teams,
    BuiltinChannel::Discord,
    BuiltinChannel::X,
    BuiltinChannel::Facebook,
    BuiltinChannel::Reddit,
    BuiltinChannel::Qr,
    BuiltinChannel::Copy,
];
const MAX_CHANNELS: usize = 30;
const MAX_PLACEMENTS: usize = 50;
const TREE_LOAD_LIMIT: i64 = 20_000;

#[derive(Deserialize)]
pub struct NewLinkQuery {
    campaign: Option<i64>,
}

pub async fn new_form(
    state: web::Data<AppState>,
    viewer: Viewer,
    query: web::Query<NewLinkQuery>,
) -> Result<Shown<NewLinkPage>, UiError> {
    let values = LinkFormValues {
        campaign_id: query.campaign.map(|id| id.to_string()).unwrap_or_default(),
        ..LinkFormValues::default()
    };
    link_form(&state, &viewer, values, FieldErrors::default(), StatusCode::OK).await
}

async fn link_form(
    state: &AppState,
    viewer: &Viewer,
    values: LinkFormValues,
    errors: FieldErrors,
    status: StatusCode,
) -> Result<Shown<NewLinkPage>, UiError> {
    let campaigns = open_campaigns(state).await?;
    let mut choices: Vec<ChannelChoice> = OFFERED
        .iter()
        .map(|c| ChannelChoice::new(c.as_str(), &values.channels))
        .collect();
    for custom in state.store.list_custom_channels().await? {
        choices.push(ChannelChoice::new(&custom.name, &values.channels));
    }
    Ok(NewLinkPage {
        nav: viewer.nav("links"),
        campaigns,
        choices,
        values,
        errors,
    }
    .customize()
    .with_status(status))
}

async fn open_campaigns(state: &AppState) -> Result<Vec<CampaignRecord>, UiError> {
    Ok(state.store.list_campaigns(false).await?)
}

/// A form's CSRF token, read on its own: `#[serde(flatten)]` beside the form's fields would
/// lose serde_html_form's grouping of repeated fields.
#[derive(serde::Deserialize)]
struct CsrfField {
    csrf: Option<String>,
}

/// The new-link form and its CSRF token.
fn read_link_form(body: &[u8]) -> Result<(Option<String>, LinkFormValues), UiError> {
    let unreadable = |err: serde_html_form::de::Error| UiError::BadForm(format!("the form could not be read: {err}"));
    let CsrfField { csrf } = serde_html_form::from_bytes(body).map_err(unreadable)?;
    Ok((csrf, serde_html_form::from_bytes(body).map_err(unreadable)?))
}

pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    body: web::Bytes,
) -> Result<PageOrRedirect<NewLinkPage>, UiError> {
    // serde_html_form, unlike actix's `Form`, gathers the repeated `channel` fields.
    let (csrf, values) = read_link_form(&body)?;
    check_form(&req, &viewer, csrf.as_deref())?;
    let mut errors = FieldErrors::default();
    let url = Destination::parse(values.url.trim())
        .map_err(|e| errors.add("url", e))
        .ok();
    let title = optional_text(&values.title, 200, "title", &mut errors);
    let campaign = resolve_campaign(&state, &values, &mut errors).await?;

    let mut channels: Vec<Channel> = Vec::new();
    for raw in values
        .channels
        .iter()
        .map(String::as_str)
        .chain(values.other_channels.split([',', ' ']))
    {
        let raw = raw.trim().to_lowercase();
        if raw.is_empty() {
            continue;
        }
        match Channel::parse(&raw) {
            Ok(channel) if !channels.contains(&channel) => channels.push(channel),
            Ok(_) => {}
            Err(e) => errors.add("other_channels", format!("'{raw}': {e}")),
        }
    }
    if channels.is_empty() && errors.get("other_channels").is_none() {
        errors.add("channels", "tick at least one channel");
    }
    if channels.len() > MAX_CHANNELS {
        errors.add("channels", format!("at most {MAX_CHANNELS} channels at once"));
    }
    let medium = match values.other_medium.as_str() {
        "" => Medium::referral(),
        raw => Medium::parse(raw).unwrap_or_else(|e| {
            errors.add("other_medium", e);
            Medium::referral()
        }),
    };
    let codes = slug_codes(&state, &values.slug, &channels, &mut errors).await?;
    let (Some(url), Some(campaign), true) = (url, campaign, errors.is_empty()) else {
        return link_form(&state, &viewer, values, errors, StatusCode::UNPROCESSABLE_ENTITY)
            .await
            .map(Either::Left);
    };
    for channel in &channels {
        if let Channel::Custom(name) = channel
            && !state.store.custom_channel_exists(name).await?
        {
            match state.store.create_custom_channel(name, medium.as_str(), now_ms()).await {
                Ok(()) | Err(StoreError::ChannelExists) => {}
                Err(err) => return Err(err.into()),
            }
        }
    }
    let link = state
        .store
        .create_link(
            &NewLink {
                url,
                title,
                campaign: campaign.map(|c| c.slug),
            },
            now_ms(),
        )
        .await?;
    let shares = channels
        .into_iter()
        .zip(codes)
        .map(|(channel, code)| (channel, code, None));
    mint(&state, link.id, shares).await?;
    Ok(Either::Right(see_other(&format!("/app/links/{}", link.id))))
}

/// `None` (outer) when the form has an error; `Some(None)` for no campaign.
async fn resolve_campaign(
    state: &AppState,
    values: &LinkFormValues,
    errors: &mut FieldErrors,
) -> Result<Option<Option<CampaignRecord>>, UiError> {
    if !values.new_campaign.trim().is_empty() {
        let name = match CampaignName::parse(&values.new_campaign) {
            Ok(name) => name,
            Err(e) => {
                errors.add("new_campaign", e);
                return Ok(None);
            }
        };
        if let Some(existing) = state.store.campaign_by_slug(&name.slug()).await? {
            return Ok(Some(Some(existing)));
        }
        if !errors.is_empty() {
            return Ok(None);
        }
        return match state.store.create_campaign(&name.slug(), name.as_str(), now_ms()).await {
            Ok(created) => Ok(Some(Some(created))),
            Err(StoreError::CampaignExists) => Ok(Some(state.store.campaign_by_slug(&name.slug()).await?)),
            Err(err) => Err(err.into()),
        };
    }
    match values.campaign_id.trim() {
        "" => Ok(Some(None)),
        raw => match raw.parse::<i64>().ok() {
            Some(id) => match state.store.get_campaign(id).await? {
                Some(c) => Ok(Some(Some(c))),
                None => {
                    errors.add("campaign_id", "that campaign no longer exists");
                    Ok(None)
                }
            },
            None => {
                errors.add("campaign_id", "choose a campaign from the list");
                Ok(None)
            }
        },
    }
}

/// One code per channel: generated, or from the custom slug (`slug` for one channel,
/// `slug-channel` for several), each checked to be free.
async fn slug_codes(
    state: &AppState,
    raw: &str,
    channels: &[Channel],
    errors: &mut FieldErrors,
) -> Result<Vec<(Code, bool)>, UiError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(channels.iter().map(|_| (Code::generate(), false)).collect());
    }
    let mut codes = Vec::new();
    for channel in channels {
        let candidate = if channels.len() == 1 {
            raw.to_owned()
        } else {
            format!("{raw}-{}", channel.as_str().replace('_', "-"))
        };
        match Slug::parse(&candidate) {
            Ok(slug) => {
                let code = Code::from(slug);
                if state.store.get_share(&code).await?.is_some() {
                    errors.add("slug", format!("/{candidate} is already taken"));
                }
                codes.push((code, true));
            }
            Err(e) => {
                errors.add("slug", format!("/{candidate}: {e}"));
                return Ok(codes);
            }
        }
    }
    Ok(codes)
}

async fn mint(
    state: &AppState,
    link_id: i64,
    shares: impl IntoIterator<Item = (Channel, (Code, bool), Option<String>)>,
) -> Result<(), UiError> {
    let shares = shares
        .into_iter()
        .map(|(channel, (code, is_slug), label)| NewShare {
            link: ShareLink::Link(link_id),
            code: if is_slug {
                NewCode::Slug(code)
            } else {
                NewCode::Drawn(code)
            },
            channel,
            parent: None,
            label,
            expires_at: None,
            token: None,
            reserved_until: None,
        })
        .collect();
    for minted in state.minter.create_all(shares).await {
        match minted {
            // Taken between the check and now: the rest are minted, the page shows what exists.
            Ok(_) | Err(MintError::Refused(MintRefusal::CodeTaken)) => {}
            Err(err) => return Err(UiError::internal(err)),
        }
    }
    Ok(())
}

fn optional_text(raw: &str, max: usize, name: &'static str, errors: &mut FieldErrors) -> Option<String> {
    let text = raw.trim();
    if text.chars().count() > max {
        errors.add(name, format!("at most {max} characters"));
        return None;
    }
    (!text.is_empty()).then(|| text.to_owned())
}

pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<i64>,
    query: web::Query<ReportQuery>,
) -> Result<Shown<LinkPage>, UiError> {
    let link = state
        .store
        .link_summary(path.into_inner())
        .await?
        .ok_or(UiError::NotFound)?;
    let zone = req.cookie(TIME_ZONE_COOKIE);
    let view = View::parse(
        &query,
        zone.as_ref().map(|c| c.value()),
        chrono::Utc::now(),
        link.created_at,
    );
    let report = build_report(state.store.as_ref(), &Scope::Link(link.id), view, HashMap::new()).await?;
    let short_links: Vec<ShortLink> = state
        .store
        .root_shares(link.id, 500)
        .await?
        .into_iter()
        .map(|share| {
            let short_url = state.short_url(&share.code);
            ShortLink::new(share, short_url)
        })
        .collect();
    let shares = state.store.link_shares(link.id, TREE_LOAD_LIMIT).await?;
    let tree = share_tree::layout(
        shares
            .into_iter()
            .map(|s| TreeShare {
                id: s.id,
                parent_id: s.parent_id,
                code: s.code,
                channel: s.channel,
                label: s.label,
                inferred_channel: s.inferred_channel,
                clicks: s.clicks,
                subtree_size: s.subtree_size,
            })
            .collect(),
        link.share_count,
        TreeLimits::default(),
    );
    let campaign = match &link.campaign {
        Some(slug) => state.store.campaign_by_slug(slug).await?,
        None => None,
    };
    let campaigns = state
        .store
        .list_campaigns(true)
        .await?
        .into_iter()
        .map(|c| (c.slug, c.name))
        .collect();
    let previews = super::previews::section(&state, link.id).await?;
    let lifecycle = LinkLifecycleView::new(&link, state.lookup.clicks_counted(link.id), now_ms());
    let page = LinkPage {
        imported: state.store.imported_totals(link.id).await?,
        lifecycle,
        imported_history: state.store.imported_history(link.id).await?,
        campaigns,
        previews,
        nav: viewer.nav("links"),
        short_url_base: state.base_url.clone(),
        link,
        campaign,
        tree,
        has_qr: short_links.iter().any(|s| s.share.channel == "qr"),
        short_links,
        report,
        channels: OFFERED.iter().map(|c| c.as_str()).collect(),
    };
    Ok(page
        .customize()
        .insert_header((header::CONTENT_SECURITY_POLICY, super::previews::LINK_PAGE_CSP)))
}

#[derive(Deserialize)]
pub struct AddShareForm {
    csrf: Option<String>,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    label: String,
}

pub async fn add_share(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<i64>,
    form: web::Form<AddShareForm>,
) -> Result<HttpResponse, UiError> {
    check_form(&req, &viewer, form.csrf.as_deref())?;
    let link = state
        .store
        .get_link(path.into_inner())
        .await?
        .ok_or(UiError::NotFound)?;
    let channel = Channel::parse(form.channel.trim())
        .map_err(|e| UiError::BadForm(format!("'{}' is not a channel: {e}", form.channel)))?;
    if let Channel::Custom(name) = &channel
        && !state.store.custom_channel_exists(name).await?
    {
        return Err(UiError::BadForm(format!(
            "'{name}' is not a channel yet: create it with a new link first"
        )));
    }
    let mut errors = FieldErrors::default();
    let label = optional_text(&form.label, 120, "label", &mut errors);
    if let Some(message) = errors.get("label") {
        return Err(UiError::BadForm(format!("label: {message}")));
    }
    mint(&state, link.id, [(channel, (Code::generate(), false), label)]).await?;
    Ok(see_other(&format!("/app/links/{}", link.id)))
}

pub async fn event_form(state: web::Data<AppState>, viewer: Viewer) -> Result<Shown<EventPage>, UiError> {
    let values = crate::web::pages::EventValues {
        placements: "Poster\nBadge\nSlide".into(),
        ..Default::default()
    };
    event_page(&state, &viewer, values, FieldErrors::default(), StatusCode::OK).await
}

async fn event_page(
    state: &AppState,
    viewer: &Viewer,
    values: crate::web::pages::EventValues,
    errors: FieldErrors,
    status: StatusCode,
) -> Result<Shown<EventPage>, UiError> {
    Ok(EventPage {
        nav: viewer.nav("events"),
        campaigns: open_campaigns(state).await?,
        values,
        errors,
    }
    .customize()
    .with_status(status))
}

#[derive(Deserialize)]
pub struct EventForm {
    csrf: Option<String>,
    #[serde(flatten)]
    values: crate::web::pages::EventValues,
}

pub async fn create_event(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    form: web::Form<EventForm>,
) -> Result<PageOrRedirect<EventPage>, UiError> {
    let form = form.into_inner();
    check_form(&req, &viewer, form.csrf.as_deref())?;
    let values = form.values;
    let mut errors = FieldErrors::default();
    let url = Destination::parse(values.url.trim())
        .map_err(|e| errors.add("url", e))
        .ok();
    let event = optional_text(&values.event, 120, "event", &mut errors);
    if event.is_none() && errors.get("event").is_none() {
        errors.add("event", "name the event, e.g. \"Web Summit 2026\"");
    }
    let mut placements: Vec<String> = Vec::new();
    for line in values.placements.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if line.chars().count() > 120 {
            errors.add("placements", "a placement label is at most 120 characters");
        } else if !placements.iter().any(|p| p.eq_ignore_ascii_case(line)) {
            placements.push(line.to_owned());
        }
    }
    if placements.is_empty() {
        errors.add(
            "placements",
            "list at least one placement, one per line (poster, badge, slide …)",
        );
    }
    if placements.len() > MAX_PLACEMENTS {
        errors.add("placements", format!("at most {MAX_PLACEMENTS} placements per event"));
    }
    let campaign = match values.campaign_id.trim() {
        "" => None,
        raw => match raw.parse::<i64>().ok() {
            Some(id) => state.store.get_campaign(id).await?,
            None => None,
        },
    };
    if !values.campaign_id.trim().is_empty() && campaign.is_none() {
        errors.add("campaign_id", "choose a campaign from the list");
    }
    let (Some(url), Some(event), true) = (url, event, errors.is_empty()) else {
        return event_page(&state, &viewer, values, errors, StatusCode::UNPROCESSABLE_ENTITY)
            .await
            .map(Either::Left);
    };
    let link = state
        .store
        .create_link(
            &NewLink {
                url,
                title: Some(event),
                campaign: campaign.map(|c| c.slug),
            },
            now_ms(),
        )
        .await?;
    let shares = placements.into_iter().map(|label| {
        (
            Channel::Builtin(BuiltinChannel::Qr),
            (Code::generate(), false),
            Some(label),
        )
    });
    mint(&state, link.id, shares).await?;
    Ok(Either::Right(see_other(&format!("/app/links/{}/qr", link.id))))
}

/// Placements the list of events reads at most: far beyond any real list of events.
const EVENT_PLACEMENTS_SHOWN: i64 = 5_000;

pub async fn events(state: web::Data<AppState>, viewer: Viewer) -> Result<EventsPage, UiError> {
    let mut events: Vec<EventSummary> = Vec::new();
    for row in state.store.event_placements(EVENT_PLACEMENTS_SHOWN).await? {
        if events.last().is_none_or(|e| e.link_id != row.link_id) {
            events.push(EventSummary {
                link_id: row.link_id,
                name: row.title.clone().unwrap_or_else(|| row.url.clone()),
                url: row.url.clone(),
                created_at: row.created_at,
                placements: Vec::new(),
                scans: 0,
            });
        }
        if let Some(event) = events.last_mut() {
            event.scans += row.scans;
            event.placements.push((row.label.unwrap_or(row.code), row.scans));
        }
    }
    Ok(EventsPage {
        nav: viewer.nav("events"),
        events,
    })
}

pub async fn qr_sheet(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<i64>,
) -> Result<QrSheetPage, UiError> {
    let link = state
        .store
        .link_summary(path.into_inner())
        .await?
        .ok_or(UiError::NotFound)?;
    let codes: Vec<ShortLink> = state
        .store
        .root_shares(link.id, 500)
        .await?
        .into_iter()
        .filter(|s| s.channel == "qr")
        .map(|share| {
            let short_url = state.short_url(&share.code);
            ShortLink::new(share, short_url)
        })
        .collect();
    Ok(QrSheetPage {
        nav: viewer.nav("events"),
        link,
        codes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(body: &str) -> (Option<String>, LinkFormValues) {
        read_link_form(body.as_bytes()).expect("a form")
    }

    #[test]
    fn the_link_form_gathers_each_ticked_channel_and_defaults_the_rest() {
        let (csrf, form) = read("csrf=t&url=https%3A%2F%2Fa.example%2F&channel=sms&channel=email&title=Hi+there");
        assert_eq!(csrf.as_deref(), Some("t"));
        assert_eq!(form.url, "https://a.example/");
        assert_eq!(form.title, "Hi there");
        assert_eq!(form.channels, ["sms", "email"]);
        assert_eq!(read("channel=x").1.channels, ["x"], "one box ticked");
        let (csrf, empty) = read("");
        assert!(csrf.is_none() && empty.channels.is_empty() && empty.slug.is_empty());
    }
}
