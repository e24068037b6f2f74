//! `/api/v1/links/{id}/stats`: read from rollups, never from raw visits.

use super::auth::ApiKeyAuth;
use crate::domain::cascade::{reshare_rate, structural_virality_from_sums};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::LinkStatsRows;
use actix_web::{HttpResponse, web};
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
struct StatsDocument {
    link_id: i64,
    clicks: Breakdown,
    unfurls: AppBreakdown,
    bots: i64,
    /// People, counted once per link per day (the visitor hash's salt changes daily).
    unique_visitors: i64,
    shares: Breakdown,
    cascade: CascadeDocument,
    daily: Vec<DayDocument>,
    conversions: ConversionsDocument,
    attribution: AttributionDocument,
}

/// Conversions reported by the site. The share a visitor arrived through converts; the shares
/// before it in the chain assist.
#[derive(Serialize, ToSchema)]
struct ConversionsDocument {
    total: i64,
    value: f64,
    by_name: BTreeMap<String, i64>,
    by_channel: BTreeMap<String, i64>,
    by_depth: Vec<DepthConversions>,
    assists_by_channel: BTreeMap<String, i64>,
}

#[derive(Serialize, ToSchema)]
struct DepthConversions {
    depth: i64,
    conversions: i64,
}

/// "How did you hear about us?" beside what was measured: the attribution gap.
#[derive(Serialize, ToSchema)]
struct AttributionDocument {
    self_reported: BTreeMap<String, i64>,
    measured_clicks: BTreeMap<String, i64>,
    by_channel: Vec<AttributionRow>,
}

#[derive(Serialize, ToSchema)]
struct AttributionRow {
    channel: String,
    self_reported: i64,
    clicks: i64,
    conversions: i64,
}

#[derive(Serialize, ToSchema)]
struct Breakdown {
    total: i64,
    by_channel: BTreeMap<String, i64>,
}

#[derive(Serialize, ToSchema)]
struct AppBreakdown {
    total: i64,
    by_app: BTreeMap<String, i64>,
}

#[derive(Serialize, ToSchema)]
struct CascadeDocument {
    max_depth: i64,
    by_depth: Vec<DepthDocument>,
    reshare_rate: f64,
    structural_virality: f64,
}

#[derive(Serialize, ToSchema)]
struct DepthDocument {
    depth: i64,
    shares: i64,
    clicks: i64,
}

#[derive(Serialize, ToSchema)]
struct DayDocument {
    /// A UTC day.
    #[schema(format = Date)]
    date: String,
    clicks: i64,
    shares: i64,
    unfurls: i64,
    bots: i64,
}

/// The stats document with what the link's imported codes brought from another shortener.
#[derive(Serialize, ToSchema)]
struct StatsWithImports {
    #[serde(flatten)]
    stats: StatsDocument,
    imported: ImportedDocument,
}

/// Codes imported from another shortener and the clicks it had counted on them: measured by
/// another tool, in its own way, so never part of `clicks` or any other figure here.
#[derive(Serialize, ToSchema)]
struct ImportedDocument {
    codes: i64,
    /// What the other tool counted on them: people only where it tells bots apart.
    clicks: i64,
    /// The visits the other tool logged one by one, where its export held them (Shlink's);
    /// all zero and empty otherwise.
    history: ImportedHistoryDocument,
}

/// Imported visits: people (`clicks`) apart from what the other tool took for bots.
#[derive(Serialize, ToSchema)]
struct ImportedHistoryDocument {
    /// Visits by people, all days.
    clicks: i64,
    bots: i64,
    /// By UTC day, oldest first; days without visits are left out.
    daily: Vec<ImportedDayDocument>,
    /// Visits by people per ISO 3166-1 alpha-2 country code, `unknown` where the other tool
    /// could not tell; countries with bots alone are left out.
    countries: BTreeMap<String, i64>,
}

#[derive(Serialize, ToSchema)]
struct ImportedDayDocument {
    /// A UTC day.
    #[schema(format = Date)]
    date: String,
    clicks: i64,
    bots: i64,
}

/// A link's figures, all time: clicks (people only), unfurls by app, bots, shares, the
/// cascade, days, conversions and the attribution gap.
#[utoipa::path(get, path = "/api/v1/links/{id}/stats", tag = "links", params(("id" = i64, Path, description = "The link's id")),
    responses((status = 200, description = "The link's figures", body = StatsWithImports)))]
pub async fn show(_auth: ApiKeyAuth, state: web::Data<AppState>, id: web::Path<i64>) -> Result<HttpResponse, ApiError> {
    let rows = state.store.link_stats(*id).await?.ok_or(ApiError::NotFound)?;
    let imported = state.store.imported_totals(*id).await?;
    let history = state.store.imported_history(*id).await?;
    Ok(HttpResponse::Ok().json(StatsWithImports {
        stats: document(rows),
        imported: ImportedDocument {
            codes: imported.codes,
            clicks: imported.clicks,
            history: ImportedHistoryDocument {
                clicks: history.clicks(),
                bots: history.bots(),
                countries: history
                    .countries
                    .iter()
                    .filter(|c| c.clicks > 0)
                    .map(|c| (c.key.clone(), c.clicks))
                    .collect(),
                daily: history
                    .days
                    .into_iter()
                    .map(|d| ImportedDayDocument {
                        date: d.key,
                        clicks: d.clicks,
                        bots: d.bots,
                    })
                    .collect(),
            },
        },
    }))
}

fn conversions(rows: &LinkStatsRows) -> ConversionsDocument {
    let a = &rows.attribution;
    let mut by_channel = BTreeMap::new();
    let mut assists_by_channel = BTreeMap::new();
    let mut by_depth: BTreeMap<i64, i64> = BTreeMap::new();
    for credit in &a.credits {
        if credit.role == "converting" {
            *by_channel.entry(credit.channel.clone()).or_default() += credit.conversions;
            *by_depth.entry(credit.depth).or_default() += credit.conversions;
        } else {
            *assists_by_channel.entry(credit.channel.clone()).or_default() += credit.conversions;
        }
    }
    ConversionsDocument {
        total: a.names.iter().map(|n| n.conversions).sum(),
        // Not `sum()`: an empty f64 sum is -0.0, which JSON shows as `-0.0`.
        value: a.names.iter().map(|n| n.value).fold(0.0, |total, value| total + value),
        by_name: a.names.iter().map(|n| (n.name.clone(), n.conversions)).collect(),
        by_channel,
        by_depth: by_depth
            .into_iter()
            .map(|(depth, conversions)| DepthConversions { depth, conversions })
            .collect(),
        assists_by_channel,
    }
}

fn attribution(rows: &LinkStatsRows, conversions: &ConversionsDocument) -> AttributionDocument {
    let self_reported: BTreeMap<String, i64> = rows
        .attribution
        .self_reports
        .iter()
        .map(|r| (r.channel.clone(), r.reports))
        .collect();
    let measured_clicks: BTreeMap<String, i64> = rows
        .channels
        .iter()
        .filter(|c| c.clicks > 0)
        .map(|c| (c.channel.clone(), c.clicks))
        .collect();
    let mut channels: Vec<&String> = self_reported
        .keys()
        .chain(measured_clicks.keys())
        .chain(conversions.by_channel.keys())
        .collect();
    channels.sort();
    channels.dedup();
    let count = |map: &BTreeMap<String, i64>, channel: &str| map.get(channel).copied().unwrap_or(0);
    let by_channel = channels
        .into_iter()
        .map(|channel| AttributionRow {
            channel: channel.clone(),
            self_reported: count(&self_reported, channel),
            clicks: count(&measured_clicks, channel),
            conversions: count(&conversions.by_channel, channel),
        })
        .collect();
    AttributionDocument {
        self_reported,
        measured_clicks,
        by_channel,
    }
}

fn document(rows: LinkStatsRows) -> StatsDocument {
    let conversions = conversions(&rows);
    let attribution = attribution(&rows, &conversions);
    let t = &rows.totals;
    let nonzero = |pairs: Vec<(String, i64)>| pairs.into_iter().filter(|(_, n)| *n > 0).collect();
    let as_u64 = |n: i64| u64::try_from(n).unwrap_or(0);
    StatsDocument {
        link_id: t.id,
        clicks: Breakdown {
            total: t.clicks,
            by_channel: nonzero(rows.channels.iter().map(|c| (c.channel.clone(), c.clicks)).collect()),
        },
        unfurls: AppBreakdown {
            total: t.unfurls,
            by_app: nonzero(rows.unfurl_apps.iter().map(|a| (a.app.clone(), a.unfurls)).collect()),
        },
        bots: t.bots,
        unique_visitors: t.unique_visitors,
        shares: Breakdown {
            total: t.share_count,
            by_channel: nonzero(rows.channels.iter().map(|c| (c.channel.clone(), c.shares)).collect()),
        },
        cascade: CascadeDocument {
            max_depth: t.max_depth,
            by_depth: rows
                .depths
                .iter()
                .map(|d| DepthDocument {
                    depth: d.depth,
                    shares: d.shares,
                    clicks: d.clicks,
                })
                .collect(),
            reshare_rate: reshare_rate(as_u64(t.child_shares), as_u64(t.clicks)),
            structural_virality: structural_virality_from_sums(
                as_u64(t.share_count),
                as_u64(t.sum_sizes),
                as_u64(t.sum_sq_sizes),
            ),
        },
        daily: rows
            .days
            .into_iter()
            .map(|d| DayDocument {
                date: d.day,
                clicks: d.clicks,
                shares: d.shares,
                unfurls: d.unfurls,
                bots: d.bots,
            })
            .collect(),
        conversions,
        attribution,
    }
}
