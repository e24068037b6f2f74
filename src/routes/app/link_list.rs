//! Managing links: the list with search, filters, order and pages, and a link's edits (title,
//! campaign, destination) and its switch (off and on again).

use super::{UiError, Viewer, check_form, see_other};
use crate::clock::now_ms;
use crate::domain::channel::{BuiltinChannel, Channel};
use crate::domain::destination::Destination;
use crate::state::AppState;
use crate::store::{LinkChange, LinkOrder, LinkQuery, LinkSummary};
use crate::web::pages::{LinkListQuery, LinksPage};
use crate::web::report::channel_name;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

/// Links a page of the list shows.
const PAGE: i64 = 50;
/// The longest search a list takes: a typo cannot make a page-long pattern.
const MAX_SEARCH: usize = 200;

fn clean(raw: &Option<String>) -> Option<String> {
    raw.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// What a list query asks for, and what in it was wrong (said on the page, then ignored).
pub fn parse_list_query(query: &LinkListQuery) -> (LinkQuery, Vec<String>) {
    let mut problems = Vec::new();
    let search = clean(&query.q).and_then(|q| match q.chars().count() > MAX_SEARCH {
        true => {
            problems.push(format!("a search is at most {MAX_SEARCH} characters"));
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
            problems.push(format!("'{other}' is not an order (newest, clicks, shares or deepest)"));
            LinkOrder::Newest
        }
    };
    let disabled = match clean(&query.status).as_deref() {
        None | Some("all") => None,
        Some("on") => Some(false),
        Some("off") => Some(true),
        Some(other) => {
            problems.push(format!("'{other}' is not a status (all, on or off)"));
            None
        }
    };
    let channel = clean(&query.channel).and_then(|c| match Channel::parse(&c) {
        Ok(channel) => Some(channel.as_str().to_owned()),
        Err(e) => {
            problems.push(format!("'{c}' is not a channel: {e}"));
            None
        }
    });
    let after = clean(&query.after).and_then(|cursor| match parse_cursor(&cursor) {
        Some(after) => Some(after),
        None => {
            problems.push("that page link is broken; showing the first page".to_owned());
            None
        }
    });
    let link_query = LinkQuery {
        search,
        campaign: clean(&query.campaign),
        site: None,
        channel,
        disabled,
        order,
        after,
        limit: PAGE + 1,
    };
    (link_query, problems)
}

/// `value.id`, as `cursor_of` writes it.
fn parse_cursor(cursor: &str) -> Option<(i64, i64)> {
    let (value, id) = cursor.split_once('.')?;
    Some((value.parse().ok()?, id.parse().ok()?))
}

fn cursor_of(link: &LinkSummary, order: LinkOrder) -> String {
    let value = match order {
        LinkOrder::Newest => link.id,
        LinkOrder::MostClicks => link.clicks,
        LinkOrder::MostShares => link.share_count,
        LinkOrder::Deepest => link.max_depth,
    };
    format!("{value}.{}", link.id)
}

pub async fn index(
    state: web::Data<AppState>,
    viewer: Viewer,
    query: web::Query<LinkListQuery>,
) -> Result<LinksPage, UiError> {
    let (link_query, problems) = parse_list_query(&query);
    let mut links = state.store.find_links(&link_query).await?;
    let next = match links.len() as i64 > PAGE {
        true => {
            links.truncate(PAGE as usize);
            links.last().map(|last| {
                let mut params = url::form_urlencoded::Serializer::new(String::new());
                for (name, value) in [
                    ("q", &query.q),
                    ("campaign", &query.campaign),
                    ("channel", &query.channel),
                    ("status", &query.status),
                    ("sort", &query.sort),
                ] {
                    if let Some(value) = clean(value) {
                        params.append_pair(name, &value);
                    }
                }
                params.append_pair("after", &cursor_of(last, link_query.order));
                format!("?{}", params.finish())
            })
        }
        false => None,
    };
    let campaigns = state.store.campaign_totals(true).await?;
    let mut channels: Vec<(String, String)> = BuiltinChannel::ALL
        .iter()
        .map(|c| (c.as_str().to_owned(), c.display_name().to_owned()))
        .collect();
    channels.extend(
        state
            .store
            .list_custom_channels()
            .await?
            .into_iter()
            .map(|c| (c.name.clone(), channel_name(&c.name))),
    );
    Ok(LinksPage {
        nav: viewer.nav("links"),
        links,
        query: query.into_inner(),
        problems,
        next,
        first_page: link_query.after.is_some(),
        campaigns: campaigns.into_iter().map(|c| (c.slug, c.name)).collect(),
        channels,
    })
}

#[derive(Deserialize)]
pub struct EditForm {
    csrf: Option<String>,
    title: Option<String>,
    campaign: Option<String>,
    url: Option<String>,
}

/// Changes a link's title, campaign and destination. The link's short links keep their codes
/// and go to the new destination at once, on every instance.
pub async fn edit(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<i64>,
    form: web::Form<EditForm>,
) -> Result<HttpResponse, UiError> {
    check_form(&req, &viewer, form.csrf.as_deref())?;
    let link = state
        .store
        .get_link(path.into_inner())
        .await?
        .ok_or(UiError::NotFound)?;
    let title = clean(&form.title);
    if let Some(t) = &title
        && (t.chars().count() > 200 || t.chars().any(char::is_control))
    {
        return Err(UiError::BadForm(
            "a title is at most 200 characters, without control characters".into(),
        ));
    }
    let campaign = match clean(&form.campaign) {
        None => None,
        Some(slug) => match state.store.campaign_by_slug(&slug).await? {
            Some(campaign) => Some(campaign.slug),
            None => return Err(UiError::BadForm("campaign: choose a campaign from the list".into())),
        },
    };
    let url = match (link.site_id, clean(&form.url)) {
        // A site's link stands for one page of the site, which its buttons find it by: its
        // destination is that page's address and stays.
        (Some(_), _) | (None, None) => Destination::parse(&link.url)
            .map_err(|e| UiError::BadForm(format!("the stored destination is not valid: {e}")))?,
        (None, Some(url)) => Destination::parse(&url).map_err(|e| UiError::BadForm(format!("destination: {e}")))?,
    };
    let change = LinkChange { title, campaign, url };
    if !state.store.update_link(link.id, &change, now_ms()).await? {
        return Err(UiError::NotFound);
    }
    let codes = state.store.codes_of_link(link.id).await?;
    state.invalidate(Some(&codes)).await;
    Ok(see_other(&format!("/app/links/{}", link.id)))
}

#[derive(Deserialize)]
pub struct SwitchForm {
    csrf: Option<String>,
    /// "1" switches the link off, "0" on again.
    off: Option<String>,
}

/// Switches a link off (its short links answer 410 Gone) or on again.
pub async fn switch(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<i64>,
    form: web::Form<SwitchForm>,
) -> Result<HttpResponse, UiError> {
    check_form(&req, &viewer, form.csrf.as_deref())?;
    let id = path.into_inner();
    let disabled_at = match form.off.as_deref() {
        Some("1") => Some(now_ms()),
        Some("0") => None,
        _ => {
            return Err(UiError::BadForm(
                "say off=1 to switch the link off, off=0 to switch it on".into(),
            ));
        }
    };
    if !state.store.set_link_disabled(id, disabled_at).await? {
        return Err(UiError::NotFound);
    }
    let codes = state.store.codes_of_link(id).await?;
    state.invalidate(Some(&codes)).await;
    Ok(see_other(&format!("/app/links/{id}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &str) -> LinkListQuery {
        web::Query::<LinkListQuery>::from_query(pairs).unwrap().into_inner()
    }

    #[test]
    fn a_list_query_parses_and_says_what_it_ignored() {
        let (q, problems) = parse_list_query(&query("q=launch&sort=clicks&status=off&channel=whatsapp&after=12.40"));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(q.search.as_deref(), Some("launch"));
        assert_eq!(
            (q.order, q.disabled, q.after),
            (LinkOrder::MostClicks, Some(true), Some((12, 40)))
        );
        assert_eq!(q.channel.as_deref(), Some("whatsapp"));
        let (q, problems) = parse_list_query(&query("sort=loudest&status=maybe&channel=Not%20a%20channel&after=x"));
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert_eq!((q.order, q.disabled, q.after), (LinkOrder::Newest, None, None));
    }
}
