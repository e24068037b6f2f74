//! CSV files with a header row: sharetrail's own columns, and a YOURLS `yourls_url` table
//! exported as CSV. Columns are found by name, in any order; others are ignored.

use super::{FileError, ImportedCode, ParsedImport, RawLink, RowProblem};

/// The columns of one CSV layout: which must be there and what each field means.
struct Layout {
    /// What the layout is called in messages.
    name: &'static str,
    code: &'static str,
    url: &'static str,
    title: &'static str,
    campaign: Option<&'static str>,
    created_at: &'static str,
    clicks: &'static str,
}

const SHARETRAIL: Layout = Layout {
    name: "sharetrail's CSV (code,url,title,campaign,created_at[,clicks])",
    code: "code",
    url: "url",
    title: "title",
    campaign: Some("campaign"),
    created_at: "created_at",
    clicks: "clicks",
};

const YOURLS_TABLE: Layout = Layout {
    name: "YOURLS' yourls_url table as CSV (keyword,url,title,timestamp,ip,clicks)",
    code: "keyword",
    url: "url",
    title: "title",
    campaign: None,
    created_at: "timestamp",
    clicks: "clicks",
};

pub(super) fn parse_sharetrail(text: &str, now: i64) -> Result<ParsedImport, FileError> {
    parse(text, &SHARETRAIL, now)
}

pub(super) fn parse_yourls_table(text: &str, now: i64) -> Result<ParsedImport, FileError> {
    parse(text, &YOURLS_TABLE, now)
}

fn parse(text: &str, layout: &Layout, now: i64) -> Result<ParsedImport, FileError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header = reader
        .headers()
        .map_err(|e| FileError(format!("the header row could not be read: {e}")))?
        .clone();
    let column = |name: &str| header.iter().position(|h| h.eq_ignore_ascii_case(name));
    let (Some(code), Some(url)) = (column(layout.code), column(layout.url)) else {
        return Err(FileError(format!(
            "the first row must name the columns of {}; it has: {}",
            layout.name,
            header.iter().collect::<Vec<_>>().join(",")
        )));
    };
    let (title, created_at, clicks) = (column(layout.title), column(layout.created_at), column(layout.clicks));
    let campaign = layout.campaign.and_then(column);
    let mut parsed = ParsedImport::default();
    for record in reader.records() {
        parsed.rows += 1;
        let record = match record {
            Ok(record) => record,
            Err(err) => {
                let line = err.position().map_or(0, |p| p.line() as usize);
                parsed.problems.push(RowProblem {
                    line,
                    message: format!("the row could not be read: {err}"),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line() as usize);
        let field = |index: Option<usize>| index.and_then(|i| record.get(i)).filter(|v| !v.is_empty());
        let mut raw = RawLink::new(line, ImportedCode::parse(field(Some(code)).unwrap_or_default()));
        raw.url = field(Some(url));
        raw.title = field(title);
        raw.tags = field(campaign).into_iter().collect();
        raw.created_at = field(created_at);
        let clicks = field(clicks).map(|c| c.parse::<u64>().map_err(|_| format!("'{c}' is not a number of clicks")));
        let checked = match clicks.transpose() {
            Ok(clicks) => {
                raw.clicks = clicks;
                raw.check(now)
            }
            Err(message) => Err(RowProblem { line, message }),
        };
        match checked {
            Ok(link) => parsed.links.push(link),
            Err(problem) => parsed.problems.push(problem),
        }
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000;

    #[test]
    fn sharetrail_csv_reads_columns_by_name_and_reports_bad_rows_by_line() {
        let text = "url,code,campaign,title,created_at,clicks\n\
                    https://example.com/a,promo,Black Friday,\"Soldes, été\",2026-11-27,3\n\
                    https://example.com/b,api,,,,\n\
                    https://example.com/c,c-code,,\"two\nlines\",,x\n\
                    https://example.com/d,d-code,,,,\n";
        let parsed = parse_sharetrail(text, NOW).unwrap();
        assert_eq!(parsed.rows, 4);
        let first = &parsed.links[0];
        assert_eq!((first.line, first.codes[0].as_str(), first.clicks), (2, "promo", 3));
        assert_eq!(first.title.as_ref().unwrap().as_str(), "Soldes, été");
        assert_eq!(first.campaign.as_ref().unwrap().slug(), "black-friday");
        let lines: Vec<usize> = parsed.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, [3, 4]);
        assert_eq!(parsed.links[1].line, 6, "a quoted line break moves the next row down");
        assert_eq!(parsed.links[1].created_at, NOW, "no date: the time of the import");
    }

    #[test]
    fn a_file_without_the_required_columns_is_refused_whole() {
        let err = parse_sharetrail("short,long\na,https://example.com\n", NOW).unwrap_err();
        assert!(err.0.contains("code,url"), "{err}");
    }

    #[test]
    fn a_yourls_table_reads_keyword_and_timestamp() {
        let text =
            "keyword,url,title,timestamp,ip,clicks\n1,https://yourls.org,YOURLS,2009-10-02 10:00:00,127.0.0.1,42\n";
        let parsed = parse_yourls_table(text, NOW).unwrap();
        assert_eq!(parsed.links[0].codes[0].as_str(), "1");
        assert_eq!(parsed.links[0].clicks, 42);
    }
}
