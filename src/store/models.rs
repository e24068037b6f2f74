//! Rows as the store hands them out.

use crate::domain::destination::Destination;
use crate::domain::site::{Domains, Origins, SiteKey};
use serde::Serialize;

pub struct NewLink {
    pub url: Destination,
    pub title: Option<String>,
    pub campaign: Option<String>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct LinkRecord {
    pub id: i64,
    pub url: String,
    pub title: Option<String>,
    pub campaign: Option<String>,
    pub created_at: i64,
    pub disabled_at: Option<i64>,
    pub expires_at: Option<i64>,
    /// The site whose page this is, for links created by the share buttons.
    pub site_id: Option<i64>,
    /// Human clicks so far, as the visit writer has stored them.
    pub clicks: i64,
    #[sqlx(flatten)]
    pub lifecycle: LinkLifecycle,
}

/// What a link asks of its visits beyond a plain redirect, as stored: every field `None` for a
/// link that asks nothing. The routes parse it into domain types (`crate::domain::lifecycle`,
/// `UtmOverrides`) before it is shown or used.
#[derive(Debug, Clone, Default, Serialize, sqlx::FromRow)]
pub struct LinkLifecycle {
    /// Human clicks after which its short links behave as expired.
    pub max_clicks: Option<i64>,
    /// Where its ended short links send people instead of answering 410.
    pub fallback_url: Option<String>,
    /// An argon2id PHC string: never serialised, never shown.
    #[serde(skip)]
    pub password_hash: Option<String>,
    pub utm_source: Option<String>,
    pub utm_medium: Option<String>,
    pub utm_campaign: Option<String>,
    pub utm_term: Option<String>,
    pub utm_content: Option<String>,
}

impl LinkLifecycle {
    pub fn utm_overrides(&self) -> crate::domain::utm::UtmOverrides {
        crate::domain::utm::UtmOverrides::from_stored([
            self.utm_source.as_deref(),
            self.utm_medium.as_deref(),
            self.utm_campaign.as_deref(),
            self.utm_term.as_deref(),
            self.utm_content.as_deref(),
        ])
    }

    pub fn set_utm_overrides(&mut self, overrides: &crate::domain::utm::UtmOverrides) {
        let [source, medium, campaign, term, content] = overrides.to_stored();
        (self.utm_source, self.utm_medium, self.utm_campaign) = (source, medium, campaign);
        (self.utm_term, self.utm_content) = (term, content);
    }

    pub fn max_clicks(&self) -> Option<crate::domain::lifecycle::ClickLimit> {
        self.max_clicks
            .and_then(|n| crate::domain::lifecycle::ClickLimit::new(n).ok())
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ShareRecord {
    pub id: i64,
    pub link_id: i64,
    pub code: String,
    pub channel: String,
    pub parent_code: Option<String>,
    pub depth: i64,
    pub label: Option<String>,
    pub created_at: i64,
    pub disabled_at: Option<i64>,
    pub expires_at: Option<i64>,
    pub inferred_channel: Option<String>,
    pub clicks: i64,
    pub unfurls: i64,
    pub bots: i64,
}

/// A share joined with its link: what the redirect turns into a `Location`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RedirectTarget {
    pub share_id: i64,
    pub link_id: i64,
    pub code: String,
    pub channel: String,
    pub depth: i64,
    pub label: Option<String>,
    pub inferred_channel: Option<String>,
    pub share_disabled_at: Option<i64>,
    pub share_expires_at: Option<i64>,
    pub url: String,
    pub campaign: Option<String>,
    pub link_disabled_at: Option<i64>,
    pub link_expires_at: Option<i64>,
    pub custom_medium: Option<String>,
    /// 0 when the link's site asked for no UTM tags; NULL (no site) means tags.
    pub utm_enabled: Option<i64>,
    /// Set while the code is only reserved (see `NewShare::reserved_until`).
    pub reserved_until: Option<i64>,
    /// The link's human clicks as stored: where its click limit's count starts.
    pub link_clicks: i64,
    #[sqlx(flatten)]
    pub lifecycle: LinkLifecycle,
}

/// What a batch write changed that caches must hear about.
#[derive(Debug, Default)]
pub struct WriteOutcome {
    /// Codes whose channel was inferred by this batch: their redirect tags change.
    pub newly_inferred: Vec<String>,
    /// The batch's key was already recorded: an earlier attempt stored it, and this one wrote
    /// nothing.
    pub already_stored: bool,
}

impl WriteOutcome {
    /// An earlier attempt at the batch committed; this one wrote nothing.
    pub fn already_stored() -> WriteOutcome {
        WriteOutcome {
            already_stored: true,
            ..WriteOutcome::default()
        }
    }
}

/// What an instance's change feed reports (PostgreSQL's LISTEN).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    Changed(Invalidation),
    /// The feed's connection is gone: changes may be missed until it is back.
    Lost,
    /// The feed listens again; whatever changed meanwhile was not heard.
    Restored,
}

/// A change to what codes answer, announced to every instance's lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalidation {
    /// These codes (or slugs, in any case) answer differently now.
    Codes(Vec<String>),
    /// These generated codes are new: nothing could have been cached under them but a miss.
    Created(Vec<String>),
    Everything,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LinkTotals {
    pub id: i64,
    pub share_count: i64,
    pub child_shares: i64,
    pub max_depth: i64,
    pub sum_sizes: i64,
    pub sum_sq_sizes: i64,
    pub clicks: i64,
    pub unfurls: i64,
    pub bots: i64,
    pub unique_visitors: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChannelRow {
    pub channel: String,
    pub shares: i64,
    pub clicks: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DepthRow {
    pub depth: i64,
    pub shares: i64,
    pub clicks: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AppRow {
    pub app: String,
    pub unfurls: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DayRow {
    pub day: String,
    pub clicks: i64,
    pub shares: i64,
    pub unfurls: i64,
    pub bots: i64,
}

/// The rollups a stats document is made of; never raw visits.
#[derive(Debug, Clone)]
pub struct LinkStatsRows {
    pub totals: LinkTotals,
    pub channels: Vec<ChannelRow>,
    pub depths: Vec<DepthRow>,
    pub unfurl_apps: Vec<AppRow>,
    pub days: Vec<DayRow>,
    pub attribution: AttributionRows,
}

pub struct NewSite {
    pub name: String,
    pub key: SiteKey,
    pub domains: Domains,
    pub origins: Origins,
    pub utm_enabled: bool,
    pub utm_campaign: Option<String>,
    pub is_demo: bool,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SiteRecord {
    pub id: i64,
    pub name: String,
    pub public_key: String,
    pub domains: String,
    pub origins: String,
    pub utm_enabled: i64,
    pub utm_campaign: Option<String>,
    pub is_demo: i64,
    pub created_at: i64,
    pub disabled_at: Option<i64>,
}

impl SiteRecord {
    pub fn domains(&self) -> Domains {
        Domains::from_stored(&self.domains)
    }

    pub fn origins(&self) -> Origins {
        Origins::from_stored(&self.origins)
    }
}

/// Changes to a site; `None` leaves a field as it is.
#[derive(Default)]
pub struct SiteUpdate {
    pub name: Option<String>,
    pub domains: Option<Domains>,
    pub origins: Option<Origins>,
    pub utm_enabled: Option<bool>,
    pub utm_campaign: Option<Option<String>>,
    pub disabled: Option<bool>,
}

impl SiteUpdate {
    /// `site` as this update leaves it at `now`; disabling keeps the first time it was disabled.
    pub(super) fn apply_to(&self, site: &mut SiteRecord, now: i64) {
        if let Some(name) = &self.name {
            site.name = name.clone();
        }
        if let Some(domains) = &self.domains {
            site.domains = domains.to_stored();
        }
        if let Some(origins) = &self.origins {
            site.origins = origins.to_stored();
        }
        if let Some(enabled) = self.utm_enabled {
            site.utm_enabled = i64::from(enabled);
        }
        if let Some(campaign) = &self.utm_campaign {
            site.utm_campaign = campaign.clone();
        }
        match self.disabled {
            Some(true) => site.disabled_at = site.disabled_at.or(Some(now)),
            Some(false) => site.disabled_at = None,
            None => {}
        }
    }
}

pub struct NewConversion {
    pub site_id: i64,
    pub link_id: Option<i64>,
    /// The share the visitor arrived through: it converts, its ancestors assist.
    pub share_id: Option<i64>,
    pub name: String,
    pub value: Option<f64>,
    pub at: i64,
}

pub struct NewSelfReport {
    pub site_id: i64,
    pub link_id: Option<i64>,
    pub share_id: Option<i64>,
    pub answer: String,
    pub channel: Option<String>,
    pub at: i64,
}

/// Conversions credited to shares of one channel at one depth, by role.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CreditRow {
    pub channel: String,
    pub depth: i64,
    pub role: String,
    pub conversions: i64,
    pub value: f64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConversionNameRow {
    pub name: String,
    pub conversions: i64,
    pub value: f64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SelfReportRow {
    pub channel: String,
    pub reports: i64,
}

/// What the site told sharetrail about one link's visitors.
#[derive(Debug, Clone, Default)]
pub struct AttributionRows {
    pub credits: Vec<CreditRow>,
    pub names: Vec<ConversionNameRow>,
    pub self_reports: Vec<SelfReportRow>,
}

pub struct NewUser {
    pub email: crate::domain::account::Email,
    pub name: crate::domain::account::PersonName,
    pub role: crate::domain::account::Role,
    /// An argon2id PHC string, never the password.
    pub password_hash: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRecord {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: String,
    pub created_at: i64,
    pub disabled_at: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserCredentials {
    pub id: i64,
    pub password_hash: String,
    pub disabled_at: Option<i64>,
}

pub struct NewSession {
    pub token_hash: String,
    pub user_id: i64,
    pub csrf_token: String,
    pub now: i64,
}

/// A session joined with its user.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRecord {
    pub token_hash: String,
    pub csrf_token: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub user_id: i64,
    pub email: String,
    pub name: String,
    pub role: String,
    pub disabled_at: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiKeyRecord {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CustomChannelRecord {
    pub name: String,
    pub utm_medium: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CampaignRecord {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub created_at: i64,
    pub archived_at: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CampaignTotals {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub created_at: i64,
    pub archived_at: Option<i64>,
    pub links: i64,
    pub clicks: i64,
    pub shares: i64,
    pub max_depth: i64,
    pub conversions: i64,
    pub conversion_value: f64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CampaignChannelRow {
    pub campaign_id: i64,
    pub channel: String,
    pub clicks: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CampaignDayRow {
    pub campaign_id: i64,
    pub day: String,
    pub clicks: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LinkSummary {
    pub id: i64,
    pub url: String,
    pub title: Option<String>,
    pub campaign: Option<String>,
    pub created_at: i64,
    pub disabled_at: Option<i64>,
    pub expires_at: Option<i64>,
    pub site_id: Option<i64>,
    pub share_count: i64,
    pub max_depth: i64,
    pub clicks: i64,
    pub unfurls: i64,
    #[sqlx(flatten)]
    pub lifecycle: LinkLifecycle,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ShareRow {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub code: String,
    pub channel: String,
    pub depth: i64,
    pub label: Option<String>,
    pub inferred_channel: Option<String>,
    pub clicks: i64,
    pub unfurls: i64,
    pub subtree_size: i64,
    pub created_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VisitExportRow {
    pub id: i64,
    pub link_id: i64,
    pub at: i64,
    pub code: String,
    pub channel: String,
    pub depth: i64,
    pub kind: String,
    pub app: Option<String>,
    pub referrer_host: Option<String>,
    pub device: String,
    pub browser: Option<String>,
    pub os: Option<String>,
    pub country: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ShareExportRow {
    pub id: i64,
    pub link_id: i64,
    pub code: String,
    pub parent_code: Option<String>,
    pub channel: String,
    pub depth: i64,
    pub label: Option<String>,
    pub inferred_channel: Option<String>,
    pub clicks: i64,
    pub unfurls: i64,
    pub bots: i64,
    pub created_at: i64,
}
