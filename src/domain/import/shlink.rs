//! Shlink: REST API v3's `GET /rest/v3/short-urls` (`{"shortUrls": {"data": [...]}}`), or its
//! `data` array alone (one page or pages joined).
//!
//! `shortCode`, `longUrl`, `dateCreated`, `title`, `tags` (the first makes the campaign) and
//! `visitsSummary`: its `nonBots` when Shlink tells bots apart, as sharetrail counts only people;
//! else its `total`, or the `visitsCount` of API v1 and v2.
//!
//! A short URL may also carry its visits: a `visits` member holding what
//! `GET /rest/v3/short-urls/{shortCode}/visits` answers under `visits` (`{"data": [...],
//! "pagination": {...}}`), or the `data` arrays of all its pages joined. In the same object, not
//! a second file: the web upload takes one file, and a visit then cannot be read against another
//! list's code. Each visit's `date`, `visitLocation.countryCode` and `potentialBot` are kept, as
//! counts per day and country; a page of visits that says more pages follow is refused, as its
//! history would fall short of what happened.

use super::super::visit::Country;
use super::history::VisitHistory;
use super::{Count, FileError, ImportedCode, ParsedImport, RawLink, RowProblem, json, line_of, object, timestamp};
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
    visits: Option<Visits>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Visits {
    Page {
        data: Vec<Visit>,
        pagination: Option<Pagination>,
    },
    All(Vec<Visit>),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Pagination {
    current_page: Option<u64>,
    pages_count: Option<u64>,
}

/// One visit as Shlink lists it; its referer, user agent and city are not read.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Visit {
    date: Option<String>,
    visit_location: Option<VisitLocation>,
    #[serde(default)]
    potential_bot: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VisitLocation {
    country_code: Option<String>,
}

impl Visits {
    /// The visits summed per day and country, or why they cannot be.
    fn history(self, code: &str, now: i64) -> Result<VisitHistory, String> {
        let visits = match self {
            Visits::Page { data, pagination } => {
                if let Some(Pagination {
                    current_page: Some(page),
                    pages_count: Some(pages),
                }) = pagination
                    && page < pages
                {
                    return Err(format!(
                        "the visits of '{code}' are page {page} of {pages}: join the data of every page"
                    ));
                }
                data
            }
            Visits::All(visits) => visits,
        };
        let mut history = VisitHistory::default();
        for (i, visit) in visits.into_iter().enumerate() {
            let nth = i + 1;
            let raw = visit.date.as_deref().map(str::trim).unwrap_or_default();
            let at =
                timestamp(raw).ok_or_else(|| format!("visit {nth} of '{code}' has no date Shlink writes ('{raw}')"))?;
            if at > now {
                return Err(format!("visit {nth} of '{code}' is dated in the future ('{raw}')"));
            }
            let country = visit
                .visit_location
                .and_then(|l| l.country_code)
                .and_then(|c| Country::parse(c.trim()));
            history
                .add(at, country, visit.potential_bot)
                .ok_or_else(|| format!("visit {nth} of '{code}' has no date Shlink writes ('{raw}')"))?;
        }
        Ok(history)
    }
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
            raw.history = s.visits.map(|v| v.history(code, now)).transpose()?;
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
    fn visits_carried_by_a_short_url_become_its_history_with_bots_apart() {
        let text = r#"[
  {"shortCode": "party", "longUrl": "https://example.org/", "visitsSummary": {"total": 9, "nonBots": 8, "bots": 1},
   "visits": {"data": [
     {"referer": "", "date": "2024-07-02T23:30:00+02:00", "userAgent": "x", "potentialBot": false,
      "visitLocation": {"countryCode": "FR", "countryName": "France", "isEmpty": false}},
     {"referer": "", "date": "2024-07-03T00:10:00+00:00", "userAgent": "x", "potentialBot": true, "visitLocation": null},
     {"referer": "", "date": "2024-07-03T08:00:00+00:00", "userAgent": "x", "potentialBot": false, "visitLocation": null}
   ], "pagination": {"currentPage": 1, "pagesCount": 1}}},
  {"shortCode": "joined", "longUrl": "https://example.org/j", "visits": [
     {"date": "2024-07-03T08:00:00+00:00", "potentialBot": false, "visitLocation": {"countryCode": "de"}}]},
  {"shortCode": "paged", "longUrl": "https://example.org/p",
   "visits": {"data": [], "pagination": {"currentPage": 1, "pagesCount": 2}}},
  {"shortCode": "undated", "longUrl": "https://example.org/u", "visits": [{"potentialBot": false}]},
  {"shortCode": "later", "longUrl": "https://example.org/l", "visits": [{"date": "2099-01-01T00:00:00+00:00"}]}
]"#;
        let parsed = parse(text, NOW).unwrap();
        assert_eq!(parsed.links.len(), 2);
        let party = parsed.links[0].history.as_ref().unwrap();
        let rows: Vec<_> = party.tallies().map(|(d, c, t)| (d, c, t.clicks, t.bots)).collect();
        assert_eq!(rows, [("2024-07-02", "FR", 1, 0), ("2024-07-03", "unknown", 1, 1)]);
        assert_eq!(
            parsed.links[0].clicks, 8,
            "the summary's count stays the imported clicks"
        );
        assert_eq!(parsed.links[1].clicks, 1, "without a summary, the history's people are");
        let messages: Vec<&str> = parsed.problems.iter().map(|p| p.message.as_str()).collect();
        assert!(messages[0].contains("page 1 of 2"), "{messages:?}");
        assert!(messages[1].contains("visit 1 of 'undated' has no date"), "{messages:?}");
        assert!(messages[2].contains("in the future"), "{messages:?}");
        assert!(
            parse("[{\"shortCode\": \"a\", \"longUrl\": \"https://a.example\"}]", NOW)
                .unwrap()
                .links[0]
                .history
                .is_none()
        );
    }

    #[test]
    fn an_object_of_the_wrong_shape_is_a_row_problem_not_a_failed_file() {
        let text = "[\n{\"shortCode\": 5},\n{\"shortCode\": \"ok\", \"longUrl\": \"https://example.com\"}\n]";
        let parsed = parse(text, NOW).unwrap();
        assert_eq!(parsed.links.len(), 1);
        assert_eq!(parsed.problems[0].line, 2);
    }
}
