//! Which links a list asks for, from a query string: the web UI's list of links and
//! `GET /api/v1/links` read the same parameters the same way.

use crate::domain::channel::Channel;
use crate::store::{LinkOrder, LinkQuery, LinkSummary};
use serde::Deserialize;

/// The most links one page may hold.
pub const MAX_PAGE: i64 = 200;
/// The longest search a list takes: a typo cannot make a page-long pattern.
const MAX_SEARCH: usize = 200;

/// A list's query string: `q`, `campaign`, `channel`, `status`, `sort`, the cursor the
/// previous page ended with (`after`), and, for the API, `limit`.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct LinkListQuery {
    pub q: Option<String>,
    pub campaign: Option<String>,
    pub channel: Option<String>,
    pub status: Option<String>,
    pub sort: Option<String>,
    pub after: Option<String>,
    pub limit: Option<String>,
}

/// What was wrong with one parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub field: &'static str,
    pub message: String,
}

fn clean(raw: &Option<String>) -> Option<String> {
    raw.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// What a list query asks for (`limit` links and one more, to know whether a next page exists),
/// and what in it was wrong: each wrong part is replaced by its default.
pub fn parse(query: &LinkListQuery, default_limit: i64) -> (LinkQuery, Vec<Problem>) {
    let mut problems = Vec::new();
    let search = clean(&query.q).and_then(|q| match q.chars().count() > MAX_SEARCH {
        true => {
            problems.push(Problem {
                field: "q",
                message: format!("a search is at most {MAX_SEARCH} characters"),
            });
            None
        }
        false => Some(q),
    });
    let order = match clean(&query.sort).as_deref() {
        None | Some("newest") => LinkOrder::Newest,
        Some("clicks") => LinkOrder::MostClicks,
        Some("shares") => LinkOrder::MostShares,
        Some("deepest") => LinkOrder::Deepest,
        Some(other) => {
            problems.push(Problem {
                field: "sort",
                message: format!("'{other}' is not an order (newest, clicks, shares or deepest)"),
            });
            LinkOrder::Newest
        }
    };
    let disabled = match clean(&query.status).as_deref() {
        None | Some("all") => None,
        Some("on") => Some(false),
        Some("off") => Some(true),
        Some(other) => {
            problems.push(Problem {
                field: "status",
                message: format!("'{other}' is not a status (all, on or off)"),
            });
            None
        }
    };
    let channel = clean(&query.channel).and_then(|c| match Channel::parse(&c) {
        Ok(channel) => Some(channel.as_str().to_owned()),
        Err(e) => {
            problems.push(Problem {
                field: "channel",
                message: format!("'{c}' is not a channel: {e}"),
            });
            None
        }
    });
    let after = clean(&query.after).and_then(|cursor| match parse_cursor(&cursor) {
        Some(after) => Some(after),
        None => {
            problems.push(Problem {
                field: "after",
                message: "that cursor is not one a page ended with".to_owned(),
            });
            None
        }
    });
    let limit = match clean(&query.limit).map(|l| l.parse::<i64>()) {
        None => default_limit,
        Some(Ok(n)) if (1..=MAX_PAGE).contains(&n) => n,
        Some(_) => {
            problems.push(Problem {
                field: "limit",
                message: format!("a page holds 1 to {MAX_PAGE} links"),
            });
            default_limit
        }
    };
    let link_query = LinkQuery {
        search,
        campaign: clean(&query.campaign),
        site: None,
        channel,
        disabled,
        order,
        after,
        limit: limit + 1,
    };
    (link_query, problems)
}

/// `value.id`, as `cursor_of` writes it.
fn parse_cursor(cursor: &str) -> Option<(i64, i64)> {
    let (value, id) = cursor.split_once('.')?;
    Some((value.parse().ok()?, id.parse().ok()?))
}

pub fn cursor_of(link: &LinkSummary, order: LinkOrder) -> String {
    let value = match order {
        LinkOrder::Newest => link.id,
        LinkOrder::MostClicks => link.clicks,
        LinkOrder::MostShares => link.share_count,
        LinkOrder::Deepest => link.max_depth,
    };
    format!("{value}.{}", link.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &str) -> LinkListQuery {
        actix_web::web::Query::<LinkListQuery>::from_query(pairs)
            .unwrap()
            .into_inner()
    }

    #[test]
    fn a_list_query_parses_and_says_what_it_ignored() {
        let (q, problems) = parse(
            &query("q=launch&sort=clicks&status=off&channel=whatsapp&after=12.40"),
            50,
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(q.search.as_deref(), Some("launch"));
        assert_eq!(
            (q.order, q.disabled, q.after),
            (LinkOrder::MostClicks, Some(true), Some((12, 40)))
        );
        assert_eq!(q.channel.as_deref(), Some("whatsapp"));
        assert_eq!(q.limit, 51, "one more than a page, to know whether another follows");
        let (q, problems) = parse(
            &query("sort=loudest&status=maybe&channel=Not%20a%20channel&after=x&limit=0"),
            50,
        );
        let fields: Vec<&str> = problems.iter().map(|p| p.field).collect();
        assert_eq!(fields, ["sort", "status", "channel", "after", "limit"], "{problems:?}");
        assert_eq!((q.order, q.disabled, q.after), (LinkOrder::Newest, None, None));
    }
}
