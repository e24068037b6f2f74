//! CSV exports of visits and shares, streamed page by page so a link with millions of visits
//! never sits in memory.

use super::{UiError, Viewer};
use crate::clock::iso;
use crate::state::AppState;
use crate::store::Scope;
use crate::web::report::{ReportQuery, View};
use actix_web::http::header;
use actix_web::{HttpResponse, web};
use std::sync::Arc;

const PAGE: i64 = 5_000;

pub async fn link_visits(
    state: web::Data<AppState>,
    _viewer: Viewer,
    path: web::Path<i64>,
    query: web::Query<ReportQuery>,
) -> Result<HttpResponse, UiError> {
    let (scope, name) = link_scope(&state, path.into_inner()).await?;
    visits(state, scope, &query, &name)
}

pub async fn campaign_visits(
    state: web::Data<AppState>,
    _viewer: Viewer,
    path: web::Path<i64>,
    query: web::Query<ReportQuery>,
) -> Result<HttpResponse, UiError> {
    let (scope, name) = campaign_scope(&state, path.into_inner()).await?;
    visits(state, scope, &query, &name)
}

pub async fn link_shares(
    state: web::Data<AppState>,
    _viewer: Viewer,
    path: web::Path<i64>,
) -> Result<HttpResponse, UiError> {
    let (scope, name) = link_scope(&state, path.into_inner()).await?;
    Ok(shares(state, scope, &name))
}

pub async fn campaign_shares(
    state: web::Data<AppState>,
    _viewer: Viewer,
    path: web::Path<i64>,
) -> Result<HttpResponse, UiError> {
    let (scope, name) = campaign_scope(&state, path.into_inner()).await?;
    Ok(shares(state, scope, &name))
}

/// What a link's export covers, and the name its files get.
async fn link_scope(state: &AppState, id: i64) -> Result<(Scope, String), UiError> {
    let link = state.store.get_link(id).await?.ok_or(UiError::NotFound)?;
    Ok((Scope::Link(link.id), format!("link-{}", link.id)))
}

/// What a campaign's export covers, and the name its files get.
async fn campaign_scope(state: &AppState, id: i64) -> Result<(Scope, String), UiError> {
    let campaign = state.store.get_campaign(id).await?.ok_or(UiError::NotFound)?;
    let name = format!("campaign-{id}");
    Ok((Scope::Campaign(campaign.slug), name))
}

/// The visits of the period the page showed (its `range`, dates and `tz`), every one of them:
/// the page's filters narrow what it shows, not the raw data.
fn visits(state: web::Data<AppState>, scope: Scope, query: &ReportQuery, name: &str) -> Result<HttpResponse, UiError> {
    let view = View::parse(query, None, chrono::Utc::now(), 0);
    if let Some(problem) = view.problems.first() {
        return Err(UiError::BadForm(problem.clone()));
    }
    let (from_ms, to_ms) = view.period.millis();
    let header_row = [
        "visit_id",
        "link_id",
        "time_utc",
        "code",
        "channel",
        "depth",
        "kind",
        "app",
        "referrer_host",
        "device",
        "browser",
        "os",
        "country",
    ];
    let scope = Arc::new(scope);
    let body = paged(header_row.as_slice(), move |after| {
        let state = state.clone();
        let scope = scope.clone();
        async move {
            let rows = state.store.export_visits(&scope, from_ms, to_ms, after, PAGE).await?;
            let last = rows.last().map(|r| r.id);
            let records = rows
                .into_iter()
                .map(|v| {
                    vec![
                        v.id.to_string(),
                        v.link_id.to_string(),
                        iso(v.at),
                        v.code,
                        v.channel,
                        v.depth.to_string(),
                        v.kind,
                        v.app.unwrap_or_default(),
                        v.referrer_host.unwrap_or_default(),
                        v.device,
                        v.browser.unwrap_or_default(),
                        v.os.unwrap_or_default(),
                        v.country.unwrap_or_default(),
                    ]
                })
                .collect();
            Ok((records, last))
        }
    });
    Ok(csv_response(
        body,
        &format!("sharetrail-{name}-visits-{}-{}.csv", view.period.from, view.period.to),
    ))
}

fn shares(state: web::Data<AppState>, scope: Scope, name: &str) -> HttpResponse {
    let header_row = [
        "share_id",
        "link_id",
        "code",
        "parent_code",
        "channel",
        "depth",
        "label",
        "inferred_channel",
        "clicks",
        "unfurls",
        "bots",
        "created_utc",
    ];
    let scope = Arc::new(scope);
    let body = paged(header_row.as_slice(), move |after| {
        let state = state.clone();
        let scope = scope.clone();
        async move {
            let rows = state.store.export_shares(&scope, after, PAGE).await?;
            let last = rows.last().map(|r| r.id);
            let records = rows
                .into_iter()
                .map(|s| {
                    vec![
                        s.id.to_string(),
                        s.link_id.to_string(),
                        s.code,
                        s.parent_code.unwrap_or_default(),
                        s.channel,
                        s.depth.to_string(),
                        s.label.unwrap_or_default(),
                        s.inferred_channel.unwrap_or_default(),
                        s.clicks.to_string(),
                        s.unfurls.to_string(),
                        s.bots.to_string(),
                        iso(s.created_at),
                    ]
                })
                .collect();
            Ok((records, last))
        }
    });
    csv_response(body, &format!("sharetrail-{name}-shares.csv"))
}

type Page = (Vec<Vec<String>>, Option<i64>);

/// A body that writes the header, then asks `fetch` for page after page (keyset by id).
fn paged<F, Fut>(
    header_row: &[&str],
    fetch: F,
) -> impl futures_util::Stream<Item = Result<web::Bytes, actix_web::Error>> + 'static
where
    F: Fn(i64) -> Fut + 'static,
    Fut: std::future::Future<Output = Result<Page, crate::store::StoreError>> + 'static,
{
    let first = encode(&[header_row.iter().map(|s| (*s).to_owned()).collect()]);
    let fetch = std::rc::Rc::new(fetch);
    futures_util::stream::unfold((Some(first), Some(0_i64)), move |(pending, after)| {
        let fetch = fetch.clone();
        async move {
            if let Some(bytes) = pending {
                return Some((Ok(bytes), (None, after)));
            }
            let after = after?;
            match fetch(after).await {
                Ok((rows, _)) if rows.is_empty() => None,
                Ok((rows, last)) => {
                    let next = if (rows.len() as i64) < PAGE { None } else { last };
                    Some((Ok(encode(&rows)), (None, next)))
                }
                Err(err) => {
                    tracing::error!(error = %crate::telemetry::cause_chain(&err), "export failed part-way");
                    Some((
                        Err(actix_web::error::ErrorInternalServerError("export failed")),
                        (None, None),
                    ))
                }
            }
        }
    })
}

/// A cell that a spreadsheet would run as a formula is prefixed with `'` (CSV injection).
fn defuse(cell: String) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell
    }
}

fn encode(rows: &[Vec<String>]) -> web::Bytes {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in rows {
        // Writing to a Vec cannot fail.
        let _ = writer.write_record(row.iter().cloned().map(defuse));
    }
    web::Bytes::from(writer.into_inner().unwrap_or_default())
}

fn csv_response(
    body: impl futures_util::Stream<Item = Result<web::Bytes, actix_web::Error>> + 'static,
    filename: &str,
) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}\"", download_name(filename)),
        ))
        .streaming(body)
}

/// Only `[a-z0-9.-]` reaches the header: a name is built from ids and days, and whatever else
/// slipped in could end the quoted string or the header itself.
fn download_name(name: &str) -> String {
    name.chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9' | '.' | '-') => c,
            _ => '-',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn download_names_hold_nothing_but_letters_digits_dots_and_dashes() {
        assert_eq!(
            download_name("sharetrail-campaign-7-shares.csv"),
            "sharetrail-campaign-7-shares.csv"
        );
        assert_eq!(download_name("a\"; evil\r\nX: y.csv"), "a---evil--x--y.csv");
    }

    #[test]
    fn formula_cells_are_defused_and_commas_quoted() {
        let bytes = encode(&[vec![
            "=HYPERLINK(\"x\")".into(),
            "a,b".into(),
            "-1".into(),
            "plain".into(),
        ]]);
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        assert_eq!(text, "\"'=HYPERLINK(\"\"x\"\")\",\"a,b\",'-1,plain\n");
    }
}
