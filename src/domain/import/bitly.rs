//! Bitly: one page of API v4's `GET /groups/{group_guid}/bitlinks` (`{"links": [...]}`), or its
//! `links` array alone.
//!
//! A bitlink's `id` (`bit.ly/3xYz9Ab`) gives the code, `custom_bitlinks` the custom back-halves
//! that lead to it too, its first tag the campaign. The list holds no clicks; a `total_clicks`
//! copied in from `GET /bitlinks/{id}/clicks/summary` is read when present.

use super::{Count, FileError, ImportedCode, ParsedImport, RawLink, json, line_of, object};
use serde::Deserialize;
use serde_json::value::RawValue;

#[derive(Deserialize)]
struct Page<'a> {
    #[serde(borrow)]
    links: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
struct Bitlink<'a> {
    #[serde(borrow)]
    id: Option<&'a str>,
    link: Option<&'a str>,
    long_url: Option<&'a str>,
    title: Option<&'a str>,
    created_at: Option<&'a str>,
    #[serde(default)]
    tags: Vec<&'a str>,
    #[serde(default)]
    custom_bitlinks: Vec<&'a str>,
    total_clicks: Option<Count>,
}

pub(super) fn parse(text: &str, now: i64) -> Result<ParsedImport, FileError> {
    let expected = "a list of bitlinks ({\"links\": [...]} from GET /groups/{guid}/bitlinks)";
    let items: Vec<&RawValue> = match text.trim_start().starts_with('[') {
        true => json(text, expected)?,
        false => json::<Page>(text, expected)?.links,
    };
    let mut parsed = ParsedImport {
        rows: items.len(),
        ..ParsedImport::default()
    };
    for item in items {
        let line = line_of(text, item);
        let checked = object::<Bitlink>(item).and_then(|b| {
            let short = b.id.or(b.link).ok_or("the bitlink has no id")?;
            let mut raw = RawLink::new(line, ImportedCode::from_short_url(short));
            raw.aliases = b.custom_bitlinks;
            raw.url = b.long_url;
            raw.title = b.title;
            raw.tags = b.tags;
            raw.created_at = b.created_at;
            raw.clicks = b.total_clicks.map(Count::value).transpose()?;
            Ok(raw)
        });
        match checked {
            Ok(raw) => match raw.check(now) {
                Ok(link) => parsed.links.push(link),
                Err(problem) => parsed.problems.push(problem),
            },
            Err(message) => parsed.problems.push(super::RowProblem { line, message }),
        }
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000;

    #[test]
    fn a_page_of_bitlinks_keeps_codes_back_halves_tags_and_dates() {
        let text = r#"{"links": [
  {"id": "bit.ly/3xYz9Ab", "link": "https://bit.ly/3xYz9Ab", "long_url": "https://example.com/a",
   "title": "Été", "created_at": "2020-03-10T19:52:18+0000", "tags": ["Spring Sale", "x"],
   "custom_bitlinks": ["https://bit.ly/spring-sale"], "total_clicks": 12},
  {"id": "bit.ly/bad", "long_url": "javascript:alert(1)", "created_at": "2020-03-10T19:52:18+0000"}
], "pagination": {"next": "", "size": 50}}"#;
        let parsed = parse(text, NOW).unwrap();
        assert_eq!(parsed.rows, 2);
        let link = &parsed.links[0];
        assert_eq!(link.line, 2);
        let codes: Vec<&str> = link.codes.iter().map(|c| c.as_str()).collect();
        assert_eq!(codes, ["3xYz9Ab", "spring-sale"]);
        assert_eq!(link.campaign.as_ref().unwrap().as_str(), "Spring Sale");
        assert_eq!((link.created_at, link.clicks), (1_583_869_938_000, 12));
        assert_eq!(parsed.problems[0].line, 5);
        assert!(
            parsed.problems[0].message.contains("javascript"),
            "{:?}",
            parsed.problems
        );
    }

    #[test]
    fn the_links_array_alone_is_read_and_other_json_refused() {
        let parsed = parse(r#"[{"id": "bit.ly/abc", "long_url": "https://example.com"}]"#, NOW).unwrap();
        assert_eq!(parsed.links.len(), 1);
        assert!(parse(r#"{"shortUrls": {}}"#, NOW).is_err());
        assert!(parse("code,url\n", NOW).is_err());
    }
}
