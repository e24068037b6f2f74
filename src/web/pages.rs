//! The web UI's pages: one struct per template, and the small view types they show.

use crate::domain::share_tree::{TreeItem, TreeRow};
use crate::store::{
    ApiKeyRecord, AttributionRows, CampaignRecord, CampaignTotals, LinkSummary, ShareRow, SiteRecord, UserRecord,
};
use crate::web::report::Report;
use crate::web::{Nav, NewUserValues};
use actix_web::HttpResponse;
use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;
use askama::Template;
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

fn render(page: &impl Template, status: StatusCode, cookie: Option<Cookie<'static>>) -> HttpResponse {
    match page.render() {
        Ok(body) => {
            let mut response = HttpResponse::build(status);
            if let Some(cookie) = cookie {
                response.cookie(cookie);
            }
            response.content_type("text/html; charset=utf-8").body(body)
        }
        Err(err) => {
            tracing::error!(error = %err, "a page could not be rendered");
            message_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "The page could not be shown.",
            )
        }
    }
}

macro_rules! page {
    ($name:ident, $path:literal { $($field:ident : $ty:ty),* $(,)? }) => {
        #[derive(Template)]
        #[template(path = $path)]
        pub struct $name {
            $(pub $field: $ty),*
        }

        impl $name {
            pub fn respond(&self, status: StatusCode, cookie: Option<Cookie<'static>>) -> HttpResponse {
                render(self, status, cookie)
            }
        }
    };
}

page!(MessagePage, "app/message.html" { title: String, message: String });

pub fn message_page(status: StatusCode, title: &str, message: &str) -> HttpResponse {
    MessagePage {
        title: title.to_owned(),
        message: message.to_owned(),
    }
    .respond(status, None)
}

page!(SetupPage, "app/setup.html" { csrf: String, token: String, name: String, email: String, errors: FieldErrors });
page!(LoginPage, "app/login.html" { csrf: String, next: String, email: String, error: Option<String>, setup_pending: bool });
page!(UsersPage, "app/users.html" {
    nav: Nav, me: i64, users: Vec<UserRecord>, values: NewUserValues, errors: FieldErrors,
    notice: Option<String>,
});

pub struct CampaignRow {
    pub totals: CampaignTotals,
    pub dark_share: String,
    pub sparkline: String,
}

page!(CampaignsPage, "app/campaigns.html" {
    nav: Nav, campaigns: Vec<CampaignRow>, show_archived: bool, name: String, errors: FieldErrors,
});
page!(CampaignPage, "app/campaign.html" {
    nav: Nav, campaign: CampaignRecord, links: Vec<LinkSummary>, range_from: String, range_to: String,
    range_error: Option<String>, report: Report, attribution: AttributionRows, errors: FieldErrors,
});
page!(LinksPage, "app/links.html" { nav: Nav, links: Vec<LinkSummary> });

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

page!(NewLinkPage, "app/link_new.html" {
    nav: Nav, campaigns: Vec<CampaignRecord>, choices: Vec<ChannelChoice>, values: LinkFormValues, errors: FieldErrors,
});

/// A share as the link page lists it: its short URL, ready to copy, and its QR code.
pub struct ShortLink {
    pub share: ShareRow,
    pub short_url: String,
}

page!(LinkPage, "app/link.html" {
    nav: Nav, short_url_base: String, link: LinkSummary, campaign: Option<CampaignRecord>,
    short_links: Vec<ShortLink>, tree: Vec<TreeRow>, attribution: AttributionRows, range_from: String,
    range_to: String, range_error: Option<String>, report: Report, channels: Vec<&'static str>,
});

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

page!(EventPage, "app/event_new.html" {
    nav: Nav, campaigns: Vec<CampaignRecord>, values: EventValues, errors: FieldErrors,
});
page!(QrSheetPage, "app/qr_sheet.html" { nav: Nav, link: LinkSummary, codes: Vec<ShortLink> });

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

page!(SitesPage, "app/sites.html" { nav: Nav, sites: Vec<SiteRecord>, values: SiteValues, errors: FieldErrors });
page!(SitePage, "app/site.html" {
    nav: Nav, site: SiteRecord, tag: String, pinned_tag: String, values: SiteValues, errors: FieldErrors,
    notice: Option<String>,
});
page!(KeysPage, "app/keys.html" {
    nav: Nav, keys: Vec<ApiKeyRecord>, new_key: Option<String>, name: String, errors: FieldErrors,
});

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
