//! What importing a file would do to the codes sharetrail already has, and the report of it.
//!
//! A code sharetrail has with the same destination was imported before (or made here for that
//! page): nothing to do, so a second run of the same file creates nothing. A code it has with
//! another destination is a conflict: reported and skipped, never overwritten. A code an earlier
//! row of the same file took is a duplicate (same destination) or a conflict (another one).
//! A code of a deleted link is a conflict whatever its destination: it answers 410 Gone for
//! good and is never handed out again, not even to the link it used to lead to.

use super::{ImportFormat, ImportedCode, ImportedLink, ParsedImport};
use std::collections::HashMap;
use std::fmt;

/// A code sharetrail has already, and where it leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingCode {
    pub code: String,
    /// Set for custom slugs, which are unique ignoring case.
    pub slug_key: Option<String>,
    pub link_id: i64,
    pub url: String,
    /// Its link was deleted.
    pub deleted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Create,
    AlreadyImported,
    /// The same code and destination as an earlier line of the file.
    Duplicate {
        line: usize,
    },
    Conflict(String),
}

/// Which link the new codes of a row go to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    New,
    /// The link an already-imported code of the row leads to: a code added to a Bitly link
    /// since the last run joins it.
    Existing(i64),
}

#[derive(Debug, Clone)]
pub struct PlannedLink<'a> {
    pub link: &'a ImportedLink,
    pub target: Target,
    pub codes: Vec<(ImportedCode, Decision)>,
}

impl PlannedLink<'_> {
    pub fn creates(&self) -> impl Iterator<Item = &ImportedCode> {
        self.codes
            .iter()
            .filter(|(_, d)| *d == Decision::Create)
            .map(|(c, _)| c)
    }
}

/// Decides each code of each link against `existing` and the rows before it.
pub fn plan<'a>(links: &'a [ImportedLink], existing: &[ExistingCode]) -> Vec<PlannedLink<'a>> {
    let mut seen: HashMap<String, (usize, &str)> = HashMap::new();
    links
        .iter()
        .map(|link| {
            let mut target = Target::New;
            let codes = link
                .codes
                .iter()
                .map(|code| {
                    let decision = match (seen.get(&code.slug_key()), find(existing, code)) {
                        (Some(&(line, url)), _) if url == link.url.as_str() => Decision::Duplicate { line },
                        (Some(&(line, url)), _) => {
                            Decision::Conflict(format!("line {line} of this file gives '{}' to {url}", code.as_str()))
                        }
                        (None, Some(found)) if found.deleted => Decision::Conflict(format!(
                            "'{}' belonged to a deleted link and is never reused",
                            found.code
                        )),
                        (None, Some(found)) if found.url == link.url.as_str() => {
                            if target == Target::New {
                                target = Target::Existing(found.link_id);
                            }
                            Decision::AlreadyImported
                        }
                        (None, Some(found)) => {
                            Decision::Conflict(format!("sharetrail already sends '{}' to {}", found.code, found.url))
                        }
                        (None, None) => Decision::Create,
                    };
                    seen.entry(code.slug_key()).or_insert((link.line, link.url.as_str()));
                    (code.clone(), decision)
                })
                .collect();
            PlannedLink { link, target, codes }
        })
        .collect()
}

/// The share that answers `code` in sharetrail: the exact code, else a slug in any case.
fn find<'e>(existing: &'e [ExistingCode], code: &ImportedCode) -> Option<&'e ExistingCode> {
    let key = code.slug_key();
    existing
        .iter()
        .find(|e| e.code == code.as_str())
        .or_else(|| existing.iter().find(|e| e.slug_key.as_deref() == Some(key.as_str())))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created,
    AlreadyImported,
    Duplicate,
    Conflict,
    Problem,
}

/// One line of a report: a code of a row, or a row that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportEntry {
    pub line: usize,
    pub code: Option<String>,
    pub outcome: Outcome,
    pub detail: String,
}

/// What an import did, or would do on a dry run: the same entries either way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    pub format: ImportFormat,
    pub dry_run: bool,
    pub rows: usize,
    pub entries: Vec<ReportEntry>,
}

impl ImportReport {
    /// The report of `planned`, with the final decision of each code (a code another writer
    /// took meanwhile turns from `Create` into a conflict).
    pub fn new(format: ImportFormat, dry_run: bool, parsed: &ParsedImport, planned: &[PlannedLink<'_>]) -> Self {
        let mut entries: Vec<ReportEntry> = planned
            .iter()
            .flat_map(|p| {
                p.codes.iter().map(|(code, decision)| {
                    let url = p.link.url.as_str();
                    let (outcome, detail) = match decision {
                        Decision::Create => (Outcome::Created, format!("→ {url}")),
                        Decision::AlreadyImported => (Outcome::AlreadyImported, format!("→ {url}")),
                        Decision::Duplicate { line } => (Outcome::Duplicate, format!("same as line {line}")),
                        Decision::Conflict(why) => (Outcome::Conflict, format!("{why}; skipped, not overwritten")),
                    };
                    ReportEntry {
                        line: p.link.line,
                        code: Some(code.as_str().to_owned()),
                        outcome,
                        detail,
                    }
                })
            })
            .collect();
        entries.extend(parsed.problems.iter().map(|problem| ReportEntry {
            line: problem.line,
            code: None,
            outcome: Outcome::Problem,
            detail: problem.message.clone(),
        }));
        entries.sort_by_key(|e| e.line);
        ImportReport {
            format,
            dry_run,
            rows: parsed.rows,
            entries,
        }
    }

    pub fn count(&self, outcome: Outcome) -> usize {
        self.entries.iter().filter(|e| e.outcome == outcome).count()
    }

    /// `4 created, 1 already imported, 0 duplicates, 1 conflict, 2 rows with problems`.
    pub fn summary(&self) -> String {
        let plural = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        [
            plural(self.count(Outcome::Created), "created", "created"),
            plural(
                self.count(Outcome::AlreadyImported),
                "already imported",
                "already imported",
            ),
            plural(self.count(Outcome::Duplicate), "duplicate", "duplicates"),
            plural(self.count(Outcome::Conflict), "conflict", "conflicts"),
            plural(self.count(Outcome::Problem), "row with a problem", "rows with problems"),
        ]
        .join(", ")
    }
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Created => "created",
            Outcome::AlreadyImported => "already imported",
            Outcome::Duplicate => "duplicate",
            Outcome::Conflict => "conflict",
            Outcome::Problem => "problem",
        }
    }
}

/// The report as the command line prints it: one line per code or bad row, then the totals.
impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.dry_run {
            writeln!(f, "Dry run: nothing was written. Importing would do this:")?;
        }
        writeln!(f, "{} export: {} rows read", self.format.tool_name(), self.rows)?;
        for entry in &self.entries {
            match &entry.code {
                Some(code) => writeln!(
                    f,
                    "line {}: {code}: {}: {}",
                    entry.line,
                    entry.outcome.as_str(),
                    entry.detail
                )?,
                None => writeln!(f, "line {}: problem: {}", entry.line, entry.detail)?,
            }
        }
        writeln!(f, "{}", self.summary())
    }
}

#[cfg(test)]
mod tests {
    use super::super::{ImportFormat, parse};
    use super::*;

    const NOW: i64 = 1_800_000_000_000;

    fn links(csv: &str) -> ParsedImport {
        parse(ImportFormat::Csv, format!("code,url\n{csv}").as_bytes(), NOW).unwrap()
    }

    fn existing(code: &str, slug: bool, url: &str) -> ExistingCode {
        ExistingCode {
            code: code.into(),
            slug_key: slug.then(|| code.to_ascii_lowercase()),
            link_id: 7,
            url: url.into(),
            deleted: false,
        }
    }

    fn decisions(planned: &[PlannedLink<'_>]) -> Vec<Decision> {
        planned
            .iter()
            .flat_map(|p| p.codes.iter().map(|(_, d)| d.clone()))
            .collect()
    }

    #[test]
    fn codes_sharetrail_has_are_done_or_conflicts_and_never_overwritten() {
        let parsed = links("same,https://a.example/\nother,https://b.example/\nnew,https://c.example/\n");
        let known = [
            existing("same", true, "https://a.example/"),
            existing("OTHER", true, "https://elsewhere.example/"),
        ];
        let planned = plan(&parsed.links, &known);
        let d = decisions(&planned);
        assert_eq!(d[0], Decision::AlreadyImported);
        assert!(
            matches!(&d[1], Decision::Conflict(why) if why.contains("elsewhere")),
            "{d:?}"
        );
        assert_eq!(d[2], Decision::Create);
        assert_eq!(planned[0].target, Target::Existing(7));
        assert_eq!(planned[2].target, Target::New);
    }

    #[test]
    fn a_code_of_a_deleted_link_is_a_conflict_even_to_the_same_page() {
        let parsed = links("gone,https://a.example/\nGONE2,https://b.example/\n");
        let deleted = |code: &str, url: &str| ExistingCode {
            deleted: true,
            ..existing(code, true, url)
        };
        let planned = plan(
            &parsed.links,
            &[
                deleted("gone", "https://a.example/"),
                deleted("gone2", "https://c.example/"),
            ],
        );
        for (planned, code) in planned.iter().zip(["gone", "gone2"]) {
            assert_eq!(planned.target, Target::New);
            assert_eq!(
                planned.codes[0].1,
                Decision::Conflict(format!("'{code}' belonged to a deleted link and is never reused"))
            );
        }
    }

    #[test]
    fn a_generated_code_differing_in_case_is_no_conflict_but_a_slug_is() {
        let parsed = links("abcdefgh,https://a.example/\n");
        let generated = plan(&parsed.links, &[existing("ABCDEFGH", false, "https://x.example/")]);
        assert_eq!(decisions(&generated), [Decision::Create]);
        let slug = plan(&parsed.links, &[existing("ABCDEFGH", true, "https://x.example/")]);
        assert!(matches!(decisions(&slug)[0], Decision::Conflict(_)));
    }

    #[test]
    fn repeated_rows_are_duplicates_or_conflicts_with_their_first_line() {
        let parsed = links("a,https://a.example/\nA,https://a.example/\na,https://b.example/\n");
        let d = decisions(&plan(&parsed.links, &[]));
        assert_eq!(d[0], Decision::Create);
        assert_eq!(d[1], Decision::Duplicate { line: 2 });
        assert!(matches!(&d[2], Decision::Conflict(why) if why.contains("line 2")));
    }

    #[test]
    fn the_report_counts_every_row_and_a_dry_run_differs_only_in_its_first_line() {
        let parsed = parse(
            ImportFormat::Csv,
            b"code,url\nnew,https://a.example/\nsame,https://b.example/\nbad,javascript:alert(1)\n",
            NOW,
        )
        .unwrap();
        let planned = plan(&parsed.links, &[existing("same", true, "https://b.example/")]);
        let real = ImportReport::new(ImportFormat::Csv, false, &parsed, &planned);
        assert_eq!(
            real.summary(),
            "1 created, 1 already imported, 0 duplicates, 0 conflicts, 1 row with a problem"
        );
        let dry = ImportReport::new(ImportFormat::Csv, true, &parsed, &planned).to_string();
        let (first, rest) = dry.split_once('\n').unwrap();
        assert!(first.starts_with("Dry run"));
        assert_eq!(rest, real.to_string());
        assert!(rest.contains("line 4: problem:"), "{rest}");
    }
}
