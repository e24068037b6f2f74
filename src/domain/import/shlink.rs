//! Shlink: REST API v3's `GET /rest/v3/short-urls` (`{"shortUrls": {"data": [...]}}`), or its
//! `data` array alone (one page or pages joined).
//!
//! `shortCode`, `longUrl`, `dateCreated`, `title`, `tags` (the first makes the campaign) and
//! `visitsSummary`: its `nonBots` when Shlink tells bots apart, as sharetrail counts only people;
//! else its `total`, or the `visitsCount` of API v1 and v2.

use super::{Count, FileError, ImportedCode, ParsedImport, RawLink, RowProblem, json, line_of, object};
use serde::Deserialize;
use serde_json::value::RawValue;

#[derive(Deserialize)]
struct Listing<'a> {
    #[serde(borrow, rename = "shortUrls")]
    short_urls: Page<'a>,
}

#[derive(Deserialize)]
struct Page<'a> {
    #[serde(borrow)]
    data: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ShortUrl<'a> {
    #[serde(borrow)]
    short_code: Option<&'a str>,
    long_url: Option<&'a str>,
    date_created: Option<&'a str>,
    title: Option<&'a str>,
    #[serde(default)]
    tags: Vec<&'a str>,
    visits_summary: Option<VisitsSummary>,
    visits_count: Option<Count>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VisitsSummary {
    total: Option<Count>,
    non_bots: Option<Count>,
}

impl ShortUrl<'_> {
    fn clicks(&self) -> Result<Option<u64>, String> {
        let summary = self.visits_summary.as_ref();
        let count = summary
            .and_then(|s| s.non_bots.as_ref().or(s.total.as_ref()))
            .or(self.visits_count.as_ref());
        count.map(|c| c.clone().value()).transpose()
    }
}

pub(super) fn parse(text: &str, now: i64) -> Result<ParsedImport, FileError> {
    let expected = "a list of short URLs ({\"shortUrls\": {\"data\": [...]}} from GET /rest/v3/short-urls)";
    let items: Vec<&RawValue> = match text.trim_start().starts_with('[') {
        true => json(text, expected)?,
        false => json::<Listing>(text, expected)?.short_urls.data,
    };
    let mut parsed = ParsedImport {
        rows: items.len(),
        ..ParsedImport::default()
    };
    for item in items {
        let line = line_of(text, item);
        let checked = object::<ShortUrl>(item).and_then(|s| {
            let code = s.short_code.ok_or("the short URL has no shortCode")?;
            let mut raw = RawLink::new(line, ImportedCode::parse(code));
            raw.clicks = s.clicks()?;
            raw.url = s.long_url;
            raw.title = s.title;
            raw.tags = s.tags;
            raw.created_at = s.date_created;
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
    fn people_are_counted_where_shlink_tells_bots_apart() {
        let text = r#"{"shortUrls": {"data": [
    {"shortCode": "12Kb3", "longUrl": "https://shlink.io", "dateCreated": "2016-05-01T20:34:16+02:00",
     "visitsSummary": {"total": 10, "nonBots": 7, "bots": 3}, "tags": ["shlink"], "title": null},
    {"shortCode": "old", "longUrl": "https://shlink.io/old", "dateCreated": "2016-05-01T20:34:16+02:00",
     "visitsCount": 1029, "tags": []},
    {"shortCode": "a/b", "longUrl": "https://shlink.io"}
  ], "pagination": {"currentPage": 1, "pagesCount": 1}}}"#;
        let parsed = parse(text, NOW).unwrap();
        let clicks: Vec<u64> = parsed.links.iter().map(|l| l.clicks).collect();
        assert_eq!(clicks, [7, 1029]);
        assert_eq!(parsed.links[0].created_at, 1_462_127_656_000);
        assert_eq!(parsed.links[0].campaign.as_ref().unwrap().slug(), "shlink");
        assert_eq!(parsed.problems.len(), 1);
        assert_eq!(parsed.problems[0].line, 6);
    }

    #[test]
    fn an_object_of_the_wrong_shape_is_a_row_problem_not_a_failed_file() {
        let text = "[\n{\"shortCode\": 5},\n{\"shortCode\": \"ok\", \"longUrl\": \"https://example.com\"}\n]";
        let parsed = parse(text, NOW).unwrap();
        assert_eq!(parsed.links.len(), 1);
        assert_eq!(parsed.problems[0].line, 2);
    }
}
