//! The web UI's pages: one struct per template, and the small view types they show.

use crate::domain::share_tree::{TreeItem, TreeRow};
use crate::store::{ApiKeyRecord, CampaignRecord, CampaignTotals, LinkSummary, ShareRow, SiteRecord, UserRecord};
use crate::web::report::{Report, channel_class, channel_name};
use crate::web::{Nav, NewUserValues};
use actix_web::http::StatusCode;
use actix_web::{CustomizeResponder, Either, HttpResponse};
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

/// Messages next to the fields they are about.
#[derive(Debug, Default, Clone)]
pub struct FieldErrors(Vec<(&'static str, String)>);

impl FieldErrors {
    pub fn add(&mut self, field: &'static str, message: impl ToString) {
        self.0.push((field, message.to_string()));
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.iter().find(|(f, _)| *f == field).map(|(_, m)| m.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A page answered with a status other than 200, or with a cookie: the page itself, customised
/// (`page.customize().with_status(..)`), as its handler returns it.
pub type Shown<P> = CustomizeResponder<P>;

/// What a handler answers that shows a page again (a form with its errors) or redirects.
pub type PageOrRedirect<P> = Either<Shown<P>, HttpResponse>;

#[derive(Template)]
#[template(path = "app/message.html")]
pub struct MessagePage {
    pub title: String,
    pub message: String,
}

/// The page every web UI error answers with. Built without a request (errors are turned into
/// responses where none is at hand), so it renders itself rather than through `Responder`.
pub fn message_page(status: StatusCode, title: &str, message: &str) -> HttpResponse {
    let page = MessagePage {
        title: title.to_owned(),
        message: message.to_owned(),
    };
    let body = page.render().unwrap_or_else(|err| {
        tracing::error!(error = %err, "the message page could not be rendered");
        title.to_owned()
    });
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body)
}

#[derive(Template, WebTemplate)]
#[template(path = "app/setup.html")]
pub struct SetupPage {
    pub csrf: String,
    pub token: String,
    pub name: String,
    pub email: String,
    pub errors: FieldErrors,
}

#[derive(Template, WebTemplate)]
#[template(path = "app/login.html")]
pub struct LoginPage {
    pub csrf: String,
    pub next: String,
    pub email: String,
    pub error: Option<String>,
    pub setup_pending: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "app/users.html")]
pub struct UsersPage {
    pub nav: Nav,
    pub me: i64,
    pub users: Vec<UserRecord>,
    pub values: NewUserValues,
    pub errors: FieldErrors,
    pub notice: Option<String>,
}

pub struct CampaignRow {
    pub totals: CampaignTotals,
    pub dark_share: String,
    pub sparkline: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "app/campaigns.html")]
pub struct CampaignsPage {
    pub nav: Nav,
    pub campaigns: Vec<CampaignRow>,
    pub show_archived: bool,
    pub name: String,
    pub errors: FieldErrors,
}

#[derive(Template, WebTemplate)]
#[template(path = "app/campaign.html")]
pub struct CampaignPage {
    pub nav: Nav,
    pub campaign: CampaignRecord,
    pub links: Vec<LinkSummary>,
    pub report: Report,
    pub errors: FieldErrors,
}

#[derive(Template, WebTemplate)]
#[template(path = "app/links.html")]
pub struct LinksPage {
    pub nav: Nav,
    pub links: Vec<LinkSummary>,
    pub query: crate::web::link_query::LinkListQuery,
    pub problems: Vec<String>,
    /// The next page's address, when there is one.
    pub next: Option<String>,
    /// Whether this is a later page (then a link back to the first).
    pub first_page: bool,
    /// (slug, name) of every campaign, for the filter.
    pub campaigns: Vec<(String, String)>,
    /// (channel, display name) of every channel, for the filter.
    pub channels: Vec<(String, String)>,
}

impl LinksPage {
    /// Whether the list's `field` is set to `value`, for the filter form's selections.
    pub fn chosen(&self, field: &str, value: &str) -> bool {
        let q = &self.query;
        let set = match field {
            "campaign" => &q.campaign,
            "channel" => &q.channel,
            "status" => &q.status,
            _ => &q.sort,
        };
        set.as_deref().map(str::trim) == Some(value)
    }

    pub fn search(&self) -> &str {
        self.query.q.as_deref().unwrap_or_default()
    }

    pub fn filtered(&self) -> bool {
        [
            &self.query.q,
            &self.query.campaign,
            &self.query.channel,
            &self.query.status,
        ]
        .iter()
        .any(|v| v.as_deref().is_some_and(|v| !v.trim().is_empty()))
    }
}

/// The new-link form as posted (a ticked channel box once per channel), and as shown again
/// with its errors.
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(default)]
pub struct LinkFormValues {
    pub url: String,
    pub title: String,
    pub campaign_id: String,
    pub new_campaign: String,
    pub slug: String,
    #[serde(rename = "channel")]
    pub channels: Vec<String>,
    pub other_channels: String,
    pub other_medium: String,
}

pub struct ChannelChoice {
    pub name: String,
    pub checked: bool,
}

impl ChannelChoice {
    pub fn new(name: &str, ticked: &[String]) -> ChannelChoice {
        ChannelChoice {
            name: name.to_owned(),
            checked: ticked.iter().any(|t| t == name),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "app/link_new.html")]
pub struct NewLinkPage {
    pub nav: Nav,
    pub campaigns: Vec<CampaignRecord>,
    pub choices: Vec<ChannelChoice>,
    pub values: LinkFormValues,
    pub errors: FieldErrors,
}

/// A share as the link page lists it: its short URL, ready to copy, and its QR code.
pub struct ShortLink {
    pub share: ShareRow,
    pub short_url: String,
    /// The channel as people know it ("WhatsApp"), and its colour's class.
    pub name: String,
    pub class: String,
}

impl ShortLink {
    pub fn new(share: ShareRow, short_url: String) -> ShortLink {
        ShortLink {
            name: channel_name(&share.channel),
            class: channel_class(&share.channel),
            share,
            short_url,
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "app/link.html")]
pub struct LinkPage {
    pub nav: Nav,
    pub short_url_base: String,
    pub link: LinkSummary,
    pub campaign: Option<CampaignRecord>,
    pub short_links: Vec<ShortLink>,
    pub tree: Vec<TreeRow>,
    pub report: Report,
    pub channels: Vec<&'static str>,
    /// Whether the link has QR codes to print on a sheet.
    pub has_qr: bool,
    /// (slug, name) of every campaign, for the edit form.
    pub campaigns: Vec<(String, String)>,
    pub previews: crate::web::preview_section::PreviewSection,
    /// Codes imported from another shortener, and the clicks counted there before.
    pub imported: crate::store::imports::ImportedTotals,
    /// When and why its short links stop, and the edit form's lifecycle fields.
    pub lifecycle: crate::web::link_lifecycle::LinkLifecycleView,
    /// The visits the other shortener logged on them, where its export held them.
    pub imported_history: crate::store::imports::ImportedHistory,
}

impl LinkPage {
    /// The last day (UTC) the link's short links redirect, for the edit form; empty for never.
    pub fn expires_on(&self) -> String {
        self.link
            .expires_at
            .and_then(|at| chrono::DateTime::from_timestamp_millis(at - 1))
            .map(|t| t.format("%Y-%m-%d").to_string())
            .unwrap_or_default()
    }

    pub fn channel_name(&self, channel: &str) -> String {
        channel_name(channel)
    }

    pub fn channel_class(&self, channel: &str) -> String {
        channel_class(channel)
    }
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct EventValues {
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub event: String,
    #[serde(default)]
    pub campaign_id: String,
    #[serde(default)]
    pub placements: String,
}

/// An event as the list of events shows it: its link, and its placements with their scans.
pub struct EventSummary {
    pub link_id: i64,
    pub name: String,
    pub url: String,
    pub created_at: i64,
    pub placements: Vec<(String, i64)>,
    pub scans: i64,
}

#[derive(Template, WebTemplate)]
#[template(path = "app/events.html")]
pub struct EventsPage {
    pub nav: Nav,
    pub events: Vec<EventSummary>,
}

#[derive(Template, WebTemplate)]
#[template(path = "app/event_new.html")]
pub struct EventPage {
    pub nav: Nav,
    pub campaigns: Vec<CampaignRecord>,
    pub values: EventValues,
    pub errors: FieldErrors,
}

#[derive(Template, WebTemplate)]
#[template(path = "app/qr_sheet.html")]
pub struct QrSheetPage {
    pub nav: Nav,
    pub link: LinkSummary,
    pub codes: Vec<ShortLink>,
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct SiteValues {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub domains: String,
    #[serde(default)]
    pub origins: String,
    #[serde(default)]
    pub campaign: String,
}

impl SiteValues {
    pub fn of(site: &SiteRecord) -> SiteValues {
        SiteValues {
            name: site.name.clone(),
            domains: site.domains().hosts().join("\n"),
            origins: site.origins().list().join("\n"),
            campaign: site.utm_campaign.clone().unwrap_or_default(),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "app/sites.html")]
pub struct SitesPage {
    pub nav: Nav,
    pub sites: Vec<SiteRecord>,
    pub values: SiteValues,
    pub errors: FieldErrors,
}

#[derive(Template, WebTemplate)]
#[template(path = "app/site.html")]
pub struct SitePage {
    pub nav: Nav,
    pub activity: crate::store::SiteActivity,
    /// The site's pages with the most clicks.
    pub top_pages: Vec<LinkSummary>,
    pub site: SiteRecord,
    pub tag: String,
    pub pinned_tag: String,
    pub values: SiteValues,
    pub errors: FieldErrors,
    pub notice: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "app/keys.html")]
pub struct KeysPage {
    pub nav: Nav,
    pub keys: Vec<ApiKeyRecord>,
    pub new_key: Option<String>,
    pub name: String,
    pub errors: FieldErrors,
}

/// Template helpers.
pub mod filters {
    /// `2026-11-23 14:05` in UTC.
    #[askama::filter_fn]
    pub fn when(ms: &i64, _: &dyn askama::Values) -> askama::Result<String> {
        Ok(chrono::DateTime::<chrono::Utc>::from_timestamp_millis(*ms)
            .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default())
    }
}

impl TreeRow {
    pub fn share(&self) -> Option<&crate::domain::share_tree::TreeShare> {
        match &self.item {
            TreeItem::Share(s) => Some(s),
            TreeItem::More { .. } => None,
        }
    }

    pub fn more(&self) -> i64 {
        match &self.item {
            TreeItem::More { shares } => *shares,
            TreeItem::Share(_) => 0,
        }
    }
}
