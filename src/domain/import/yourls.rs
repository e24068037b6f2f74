//! YOURLS: the API's `action=stats&filter=last&limit=N&format=json` answer (`{"links":
//! {"link_1": {...}}}`: `shorturl`, `url`, `title`, `timestamp`, `clicks`), or the `yourls_url`
//! table exported as CSV (`keyword,url,title,timestamp,ip,clicks`).
//!
//! YOURLS writes its timestamps in the server's time zone without saying which; they are read
//! as UTC.

use super::{Count, FileError, ImportedCode, ParsedImport, RawLink, RowProblem, json, line_of, object};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::collections::BTreeMap;

#[derive(Deserialize)]
struct Stats<'a> {
    #[serde(borrow)]
    links: &'a RawValue,
}

#[derive(Deserialize)]
struct YourlsLink<'a> {
    #[serde(borrow)]
    keyword: Option<&'a str>,
    shorturl: Option<&'a str>,
    url: Option<&'a str>,
    title: Option<&'a str>,
    timestamp: Option<&'a str>,
    clicks: Option<Count>,
}

pub(super) fn parse(text: &str, now: i64) -> Result<ParsedImport, FileError> {
    if !text.trim_start().starts_with(['{', '[']) {
        return super::table::parse_yourls_table(text, now);
    }
    let expected = "YOURLS' stats ({\"links\": {\"link_1\": {...}}} from action=stats&format=json)";
    let links: &RawValue = match text.trim_start().starts_with('[') {
        true => json(text, expected)?,
        false => json::<Stats>(text, expected)?.links,
    };
    let items: Vec<&RawValue> = match links.get().starts_with('[') {
        true => json(links.get(), expected)?,
        false => json::<BTreeMap<String, &RawValue>>(links.get(), expected)?
            .into_values()
            .collect(),
    };
    let mut parsed = ParsedImport {
        rows: items.len(),
        ..ParsedImport::default()
    };
    for item in items {
        let line = line_of(text, item);
        let checked = object::<YourlsLink>(item).and_then(|y| {
            let code = match (y.keyword, y.shorturl) {
                (Some(keyword), _) => ImportedCode::parse(keyword),
                (None, Some(short)) => ImportedCode::from_short_url(short),
                (None, None) => return Err("the link has neither keyword nor shorturl".to_owned()),
            };
            let mut raw = RawLink::new(line, code);
            raw.clicks = y.clicks.map(Count::value).transpose()?;
            raw.url = y.url;
            raw.title = y.title;
            raw.created_at = y.timestamp;
            Ok(raw)
        });
        match checked.and_then(|raw| raw.check(now).map_err(|p| p.message)) {
            Ok(link) => parsed.links.push(link),
            Err(message) => parsed.problems.push(RowProblem { line, message }),
        }
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000;

    #[test]
    fn the_stats_answer_gives_codes_from_short_urls_and_clicks_from_strings() {
        let text = r#"{"links": {
  "link_1": {"shorturl": "http://sho.rt/ozh", "url": "https://ozh.org/", "title": "Ozh", "timestamp": "2009-10-02 10:00:00", "ip": "127.0.0.1", "clicks": "8"},
  "link_2": {"shorturl": "http://sho.rt/x", "url": "ftp://files.example.com/", "timestamp": "2009-10-02 10:00:00", "clicks": "1"}
}, "stats": {"total_links": "2", "total_clicks": "9"}, "statusCode": 200, "message": "success"}"#;
        let parsed = parse(text, NOW).unwrap();
        assert_eq!(parsed.links.len(), 1);
        assert_eq!((parsed.links[0].codes[0].as_str(), parsed.links[0].clicks), ("ozh", 8));
        assert_eq!(parsed.links[0].line, 2);
        assert_eq!(parsed.problems[0].line, 3);
    }
}
