//! Links exported from other shorteners, read into one shape.
//!
//! Each format has its own parser (`bitly`, `shlink`, `yourls`, `table` for sharetrail's own
//! CSV) producing `ImportedLink`s, whose fields cannot hold a bad value. A row that does not
//! hold is a `RowProblem` with its line number; only a file that cannot be read at all (not
//! UTF-8, not JSON, no header) stops an import. What the rows then do to a database is decided
//! by `plan`.

mod bitly;
pub mod history;
pub mod plan;
mod shlink;
mod table;
mod yourls;

use super::campaign::CampaignName;
use super::code::{Code, is_reserved};
use super::destination::Destination;
use chrono::{DateTime, NaiveDate, NaiveDateTime};
use std::fmt;

/// The longest title kept; longer page titles are cut at a character boundary.
pub const MAX_TITLE_CHARS: usize = 200;

/// Where an export comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFormat {
    Bitly,
    Shlink,
    Yourls,
    /// sharetrail's own columns: `code,url,title,campaign,created_at[,clicks]`.
    Csv,
}

impl ImportFormat {
    pub const ALL: [ImportFormat; 4] = [Self::Bitly, Self::Shlink, Self::Yourls, Self::Csv];

    pub fn parse(raw: &str) -> Option<ImportFormat> {
        Self::ALL
            .into_iter()
            .find(|f| f.as_str() == raw.trim().to_ascii_lowercase())
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bitly => "bitly",
            Self::Shlink => "shlink",
            Self::Yourls => "yourls",
            Self::Csv => "csv",
        }
    }

    /// How people call the tool the file came from.
    pub fn tool_name(self) -> &'static str {
        match self {
            Self::Bitly => "Bitly",
            Self::Shlink => "Shlink",
            Self::Yourls => "YOURLS",
            Self::Csv => "CSV",
        }
    }
}

impl fmt::Display for ImportFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A short code another tool handed out, kept as it was: any length a code may have (YOURLS'
/// first codes are `1`, `2` …), but never a word sharetrail's own paths need.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImportedCode(Code);

impl ImportedCode {
    pub fn parse(raw: &str) -> Result<ImportedCode, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err("the short code is empty".into());
        }
        let code = Code::parse(raw).ok_or_else(|| {
            format!("'{raw}' cannot be a sharetrail short code: at most 64 of a-z, A-Z, 0-9, '-' and '_'")
        })?;
        if is_reserved(raw) {
            return Err(format!(
                "'{raw}' is a path of sharetrail's own and cannot be a short code"
            ));
        }
        Ok(ImportedCode(code))
    }

    /// The code at the end of a short URL (`https://bit.ly/3xYz9Ab`, `bit.ly/3xYz9Ab`).
    pub fn from_short_url(raw: &str) -> Result<ImportedCode, String> {
        let path = raw.trim().split(['?', '#']).next().unwrap_or_default();
        let last = path.trim_end_matches('/').rsplit('/').next().unwrap_or_default();
        ImportedCode::parse(last)
    }

    pub fn code(&self) -> &Code {
        &self.0
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// Imported codes become custom slugs: unique ignoring case.
    pub fn slug_key(&self) -> String {
        self.0.slug_key()
    }
}

/// A link's title: trimmed, without control characters, at most `MAX_TITLE_CHARS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title(String);

impl Title {
    /// `None` for a blank title.
    pub fn clean(raw: &str) -> Option<Title> {
        let spaced: String = raw.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
        let words = spaced.split_whitespace().collect::<Vec<_>>().join(" ");
        if words.is_empty() {
            return None;
        }
        Some(Title(words.chars().take(MAX_TITLE_CHARS).collect()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One link of an export, ready to import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedLink {
    /// The line of the file its row or object starts on.
    pub line: usize,
    /// Its short code first, then any other code that led to it (Bitly's custom back-halves).
    pub codes: Vec<ImportedCode>,
    pub url: Destination,
    pub title: Option<Title>,
    pub campaign: Option<CampaignName>,
    /// When the other tool made it, Unix milliseconds; never in the future.
    pub created_at: i64,
    /// Clicks the other tool counted, as it counted them (people only where it tells them apart).
    pub clicks: u64,
    /// The visits it logged one by one, where the export holds them (Shlink's, per short URL).
    pub history: Option<history::VisitHistory>,
}

/// A row that could not be imported, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    pub line: usize,
    pub message: String,
}

/// What a file held: the links that can be imported, and the rows that cannot, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedImport {
    pub links: Vec<ImportedLink>,
    pub problems: Vec<RowProblem>,
    /// Rows or objects read, good and bad.
    pub rows: usize,
}

/// A file that cannot be read as the format it was said to be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FileError(pub String);

/// Reads `bytes` as an export of `format`. `now` bounds creation dates.
pub fn parse(format: ImportFormat, bytes: &[u8], now: i64) -> Result<ParsedImport, FileError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        FileError(format!(
            "the file is not UTF-8 text (byte {} is not); export it again as UTF-8",
            e.valid_up_to() + 1
        ))
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(FileError("the file is empty".into()));
    }
    let mut parsed = match format {
        ImportFormat::Bitly => bitly::parse(text, now)?,
        ImportFormat::Shlink => shlink::parse(text, now)?,
        ImportFormat::Yourls => yourls::parse(text, now)?,
        ImportFormat::Csv => table::parse_sharetrail(text, now)?,
    };
    parsed.links.sort_by_key(|l| l.line);
    parsed.problems.sort_by_key(|p| p.line);
    Ok(parsed)
}

/// The pieces of a row before they are checked, as each parser finds them.
#[derive(Debug)]
struct RawLink<'a> {
    line: usize,
    code: Result<ImportedCode, String>,
    aliases: Vec<&'a str>,
    url: Option<&'a str>,
    title: Option<&'a str>,
    tags: Vec<&'a str>,
    created_at: Option<&'a str>,
    clicks: Option<u64>,
    history: Option<history::VisitHistory>,
}

impl<'a> RawLink<'a> {
    fn new(line: usize, code: Result<ImportedCode, String>) -> RawLink<'a> {
        RawLink {
            line,
            code,
            aliases: Vec::new(),
            url: None,
            title: None,
            tags: Vec::new(),
            created_at: None,
            clicks: None,
            history: None,
        }
    }

    /// Checks every piece; the first that does not hold is the row's problem.
    fn check(self, now: i64) -> Result<ImportedLink, RowProblem> {
        let line = self.line;
        let problem = |message: String| RowProblem { line, message };
        let code = self.code.map_err(problem)?;
        let raw_url = self.url.map(str::trim).filter(|u| !u.is_empty());
        let raw_url =
            raw_url.ok_or_else(|| problem(format!("'{code}' has no destination URL", code = code.as_str())))?;
        let url = Destination::parse(raw_url).map_err(|e| problem(format!("'{}': {e}", shorten(raw_url))))?;
        let created_at = match self.created_at.map(str::trim).filter(|d| !d.is_empty()) {
            Some(raw) => timestamp(raw).ok_or_else(|| problem(format!("'{raw}' is not a date this format writes")))?,
            None => now,
        };
        if created_at > now {
            return Err(problem(format!(
                "the creation date '{}' is in the future",
                self.created_at.unwrap_or_default()
            )));
        }
        let mut codes = vec![code];
        for alias in self.aliases {
            let alias = ImportedCode::from_short_url(alias).map_err(problem)?;
            if !codes.iter().any(|c| c.slug_key() == alias.slug_key()) {
                codes.push(alias);
            }
        }
        Ok(ImportedLink {
            line,
            codes,
            url,
            title: self.title.and_then(Title::clean),
            // The first tag that makes a campaign name: a link is in one campaign.
            campaign: self.tags.iter().find_map(|t| CampaignName::parse(t).ok()),
            created_at,
            // A history alone still says how many people came.
            clicks: self
                .clicks
                .or_else(|| self.history.as_ref().map(history::VisitHistory::clicks))
                .unwrap_or(0),
            history: self.history,
        })
    }
}

/// Long values cut for messages.
fn shorten(raw: &str) -> String {
    match raw.chars().count() > 80 {
        true => format!("{}…", raw.chars().take(80).collect::<String>()),
        false => raw.to_owned(),
    }
}

/// The dates the supported exports write: RFC 3339 (Shlink), ISO 8601 with a `+0000` offset
/// (Bitly), `YYYY-MM-DD HH:MM:SS` (YOURLS, in the server's zone, taken as UTC) and a bare date.
fn timestamp(raw: &str) -> Option<i64> {
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Some(t.timestamp_millis());
    }
    if let Ok(t) = DateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%z") {
        return Some(t.timestamp_millis());
    }
    for format in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(raw, format) {
            return Some(t.and_utc().timestamp_millis());
        }
    }
    let day = NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok()?;
    Some(day.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis())
}

/// The 1-based line of byte `offset` in `text`.
fn line_at(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The line a JSON value borrowed from `text` starts on.
fn line_of(text: &str, value: &serde_json::value::RawValue) -> usize {
    let offset = (value.get().as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
    line_at(text, offset)
}

/// Reads one JSON object of an export, or says what is wrong with it.
fn object<'a, T: serde::Deserialize<'a>>(raw: &'a serde_json::value::RawValue) -> Result<T, String> {
    serde_json::from_str(raw.get()).map_err(|e| {
        let message = e.to_string();
        // serde's position is inside the object; the row's line is what helps.
        let message = message.split(" at line ").next().unwrap_or(&message).to_owned();
        format!("the object could not be read: {message}")
    })
}

/// A whole file's JSON, or a `FileError` naming where it breaks.
fn json<'a, T: serde::Deserialize<'a>>(text: &'a str, expected: &str) -> Result<T, FileError> {
    serde_json::from_str(text).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => FileError(format!("the file is JSON but not {expected}: {e}")),
        _ => FileError(format!("the file is not valid JSON: {e}")),
    })
}

/// A count some tools write as a number and others as a string (`"12"`).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(untagged)]
enum Count {
    Number(u64),
    Text(String),
}

impl Count {
    fn value(self) -> Result<u64, String> {
        match self {
            Count::Number(n) => Ok(n),
            Count::Text(text) => text
                .trim()
                .parse()
                .map_err(|_| format!("'{text}' is not a number of clicks")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imported_codes_keep_short_and_mixed_case_codes_but_refuse_our_paths() {
        for ok in ["1", "a", "3xYz9Ab", "spring-sale", "Black_Friday"] {
            assert_eq!(ImportedCode::parse(ok).unwrap().as_str(), ok);
        }
        for bad in ["", "api", "Admin", "a/b", "ü-ber", "a b", &"x".repeat(65)] {
            assert!(ImportedCode::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            ImportedCode::from_short_url("https://bit.ly/3xYz9Ab").unwrap().as_str(),
            "3xYz9Ab"
        );
        assert_eq!(
            ImportedCode::from_short_url("bit.ly/3xYz9Ab?x=1").unwrap().as_str(),
            "3xYz9Ab"
        );
        assert_eq!(ImportedCode::from_short_url("sho.rt/abc/").unwrap().as_str(), "abc");
    }

    #[test]
    fn titles_lose_control_characters_and_are_bounded() {
        assert_eq!(Title::clean(" Été\t2026 \n sale ").unwrap().as_str(), "Été 2026 sale");
        assert_eq!(Title::clean(" \n"), None);
        assert_eq!(
            Title::clean(&"ü".repeat(300)).unwrap().as_str().chars().count(),
            MAX_TITLE_CHARS
        );
    }

    #[test]
    fn every_date_the_exports_write_is_read() {
        let at = 1_583_869_938_000; // 2020-03-10T19:52:18Z
        assert_eq!(timestamp("2020-03-10T19:52:18+0000"), Some(at));
        assert_eq!(timestamp("2020-03-10T20:52:18+01:00"), Some(at));
        assert_eq!(timestamp("2020-03-10 19:52:18"), Some(at));
        assert_eq!(timestamp("2020-03-10T19:52:18Z"), Some(at));
        assert_eq!(timestamp("2020-03-10"), Some(1_583_798_400_000));
        assert_eq!(timestamp("10/03/2020"), None);
    }

    #[test]
    fn lines_count_from_one() {
        assert_eq!(line_at("a\nb\nc", 0), 1);
        assert_eq!(line_at("a\nb\nc", 2), 2);
        assert_eq!(line_at("a\nb\nc", 99), 3);
    }

    proptest::proptest! {
        #[test]
        fn no_file_makes_a_parser_panic(text in "(?s).{0,300}", index in 0usize..4) {
            if let Ok(parsed) = parse(ImportFormat::ALL[index], text.as_bytes(), 0) {
                every_row_is_a_link_or_a_problem(&parsed, &text);
            }
        }

        #[test]
        fn no_row_makes_a_parser_panic(row in "[a-z0-9:/,\"{}\\[\\] .-]{0,120}", index in 0usize..4) {
            let text = match ImportFormat::ALL[index] {
                ImportFormat::Bitly => format!("{{\"links\": [{row}]}}"),
                ImportFormat::Shlink => format!("{{\"shortUrls\": {{\"data\": [{row}]}}}}"),
                ImportFormat::Yourls => format!("keyword,url,title,timestamp,ip,clicks\n{row}\n"),
                ImportFormat::Csv => format!("code,url,title,campaign,created_at,clicks\n{row}\n"),
            };
            if let Ok(parsed) = parse(ImportFormat::ALL[index], text.as_bytes(), 0) {
                every_row_is_a_link_or_a_problem(&parsed, &text);
            }
        }
    }

    /// Nothing read is dropped: each row is a link or a problem, at a line of the file.
    fn every_row_is_a_link_or_a_problem(parsed: &ParsedImport, text: &str) {
        assert_eq!(parsed.links.len() + parsed.problems.len(), parsed.rows, "{text:?}");
        let last_line = text.lines().count().max(1) + 1;
        let lines = parsed
            .links
            .iter()
            .map(|l| l.line)
            .chain(parsed.problems.iter().map(|p| p.line));
        for line in lines {
            assert!((1..=last_line).contains(&line), "line {line} of {text:?}");
        }
        assert!(parsed.links.iter().all(|l| !l.codes.is_empty()));
    }

    #[test]
    fn a_file_that_is_not_text_is_refused_whole() {
        assert!(parse(ImportFormat::Csv, &[0xff, 0xfe, 0x00], 0).is_err());
        assert!(parse(ImportFormat::Shlink, b"  \n", 0).is_err());
        assert!(parse(ImportFormat::Bitly, b"{\"links\": [", 0).is_err());
    }
}
