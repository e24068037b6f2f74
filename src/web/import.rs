//! The import page's view: the upload form, then the report of a preview or of an import.

use super::Nav;
use crate::domain::import::ImportFormat;
use crate::domain::import::plan::{ImportReport, Outcome, ReportEntry};
use askama::Template;
use askama_web::WebTemplate;

#[derive(Template, WebTemplate)]
#[template(path = "app/import.html")]
pub struct ImportPage {
    pub nav: Nav,
    pub formats: Vec<FormatChoice>,
    /// Why the upload could not be read at all (too large, not the format chosen …).
    pub error: Option<String>,
    pub file_name: String,
    pub report: Option<ReportView>,
    /// The kept upload a preview's confirmation imports; `None` once imported, or when a
    /// preview found nothing to create.
    pub confirm_token: Option<String>,
    pub max_upload: String,
}

pub struct FormatChoice {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

impl FormatChoice {
    pub fn all(selected: Option<ImportFormat>) -> Vec<FormatChoice> {
        ImportFormat::ALL
            .into_iter()
            .map(|format| FormatChoice {
                value: format.as_str(),
                label: match format {
                    ImportFormat::Bitly => "Bitly — API v4 bitlinks list (JSON)",
                    ImportFormat::Shlink => "Shlink — REST API v3 short URLs list (JSON)",
                    ImportFormat::Yourls => "YOURLS — API stats (JSON) or yourls_url table (CSV)",
                    ImportFormat::Csv => "CSV — code,url,title,campaign,created_at[,clicks]",
                },
                selected: selected == Some(format),
            })
            .collect()
    }
}

/// A report as the page shows it: totals first, then each line of the file that matters.
pub struct ReportView {
    pub dry_run: bool,
    pub tool: &'static str,
    pub rows: usize,
    pub summary: String,
    pub created: usize,
    pub entries: Vec<EntryView>,
}

pub struct EntryView {
    pub line: usize,
    pub code: String,
    pub outcome: &'static str,
    /// A CSS class: problems and conflicts stand out.
    pub tone: &'static str,
    pub detail: String,
}

impl ReportView {
    pub fn of(report: &ImportReport) -> ReportView {
        ReportView {
            dry_run: report.dry_run,
            tool: report.format.tool_name(),
            rows: report.rows,
            summary: report.summary(),
            created: report.count(Outcome::Created),
            entries: report.entries.iter().map(EntryView::of).collect(),
        }
    }
}

impl EntryView {
    fn of(entry: &ReportEntry) -> EntryView {
        EntryView {
            line: entry.line,
            code: entry.code.clone().unwrap_or_default(),
            outcome: entry.outcome.as_str(),
            tone: match entry.outcome {
                Outcome::Conflict | Outcome::Problem => "error",
                _ => "",
            },
            detail: entry.detail.clone(),
        }
    }
}
