//! The analytics part of a link page, read as a marketer reads it: a known story of visits,
//! shares and a conversion, and every figure of the page checked against it — per period, in
//! two time zones, under filters set by following the page's own links, and with bad input.

use crate::helpers::*;
use crate::on_both_backends;
use crate::public::{PAGE, code_of, create_site, mint, post_public};
use crate::web_ui::Visitor;
use chrono::{Days, NaiveDate, Utc};
use serde_json::json;
use sharetrail::domain::code::Code;
use sharetrail::domain::visit::{Country, DeviceClass, VisitKind, VisitorHash};
use sharetrail::ingest::VisitRecord;
use sharetrail::lookup::VisitTarget;
use sharetrail::store::{Store, VisitBatch};
use std::sync::Arc;

/// The figure of the element with `id` on a page: the text up to the next tag.
fn figure(html: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\">");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no #{id} on the page:\n{html}"))
        + marker.len();
    html[start..].split('<').next().unwrap().trim().to_owned()
}

/// The cells of the table with `id`, row by row, tags stripped.
fn table(html: &str, id: &str) -> Vec<Vec<String>> {
    let start = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no table #{id}"));
    let rest = &html[start..];
    let body = &rest[rest.find("<tbody>").unwrap() + 7..rest.find("</tbody>").unwrap()];
    body.split("</tr>")
        .filter(|row| row.contains("<t"))
        .map(|row| {
            let marked = row.replace("</td>", "\u{1}").replace("</th>", "\u{1}");
            let mut text = String::new();
            let mut in_tag = false;
            for c in marked.chars() {
                match c {
                    '<' => in_tag = true,
                    '>' => in_tag = false,
                    c if !in_tag => text.push(c),
                    _ => {}
                }
            }
            let mut cells: Vec<String> = text.split('\u{1}').map(|c| c.trim().to_owned()).collect();
            cells.pop();
            cells
        })
        .collect()
}

/// The `href` of the first link whose text is `text`, unescaped.
fn href_of(html: &str, text: &str) -> String {
    let end = html
        .find(&format!(">{text}</a>"))
        .unwrap_or_else(|| panic!("no link '{text}' on the page"));
    let start = html[..end].rfind("href=\"").unwrap() + 6;
    unescape(html[start..end].split('"').next().unwrap())
}

/// An attribute's value as the browser reads it.
fn unescape(attribute: &str) -> String {
    attribute.replace("&#38;", "&").replace("&amp;", "&")
}

/// The `href` of the chart bar whose tooltip is `title`.
fn href_of_bar(html: &str, title: &str) -> String {
    let end = html
        .find(&format!("<title>{title}</title>"))
        .unwrap_or_else(|| panic!("no bar '{title}' on the page"));
    let start = html[..end].rfind("href=\"").unwrap() + 6;
    unescape(html[start..end].split('"').next().unwrap())
}

struct Story {
    link_id: i64,
    yesterday: NaiveDate,
}

async fn share_target(store: &dyn Store, code: &str) -> Arc<VisitTarget> {
    let share = store
        .get_share(&Code::parse(code).unwrap())
        .await
        .expect("read the share")
        .expect("the share exists");
    Arc::new(VisitTarget {
        share_id: share.id,
        link_id: share.link_id,
        channel: Arc::from(share.channel.as_str()),
        depth: share.depth,
        infers_channel: false,
    })
}

fn utc(day: NaiveDate, hour: u32, minute: u32) -> i64 {
    day.and_hms_opt(hour, minute, 0).unwrap().and_utc().timestamp_millis()
}

/// Ann opens a WhatsApp share twice and Bob once; a crawler and Slack's preview fetch it too.
/// Cat opens a LinkedIn share at 23:30 UTC (already the next day in Berlin). Bob's click led to an
/// e-mail reshare, through which Dan arrives just after midnight and signs up (20.00).
async fn play_the_story(app: &TestApp) -> Story {
    let site = create_site(app).await;
    let whatsapp = code_of(&mint(app, &site, PAGE, "whatsapp", None).await);
    let linkedin = code_of(&mint(app, &site, PAGE, "linkedin", None).await);
    let email = code_of(&mint(app, &site, PAGE, "email", Some(&whatsapp)).await);
    let store = open_store(app).await;
    let (w, l, e) = (
        share_target(store.as_ref(), &whatsapp).await,
        share_target(store.as_ref(), &linkedin).await,
        share_target(store.as_ref(), &email).await,
    );
    let yesterday = Utc::now().date_naive() - Days::new(1);
    let today = yesterday + Days::new(1);
    let visit =
        |share: &Arc<VisitTarget>, at: i64, who: u8, kind: VisitKind, device: DeviceClass, country: Option<&str>| {
            VisitRecord {
                share: share.clone(),
                at,
                kind,
                app: (kind == VisitKind::Unfurl).then(|| sharetrail::domain::app::App::parse("slack").expect("an app")),
                device,
                visitor: VisitorHash::from_bytes([who; 16]),
                referrer_host: None,
                software: None,
                country: country.and_then(Country::parse),
            }
        };
    use DeviceClass::{Bot, Desktop, Mobile};
    use VisitKind::{Click, Unfurl};
    let visits = [
        visit(&w, utc(yesterday, 10, 0), 1, Click, Mobile, Some("DE")),
        visit(&w, utc(yesterday, 10, 30), 1, Click, Mobile, Some("DE")),
        visit(&w, utc(yesterday, 11, 0), 9, VisitKind::Bot, Bot, None),
        visit(&w, utc(yesterday, 11, 5), 8, Unfurl, Bot, None),
        visit(&w, utc(yesterday, 12, 0), 2, Click, Desktop, Some("FR")),
        visit(&l, utc(yesterday, 23, 30), 3, Click, Desktop, None),
        visit(&e, utc(today, 0, 10), 4, Click, Mobile, Some("DE")),
    ];
    store
        .write_visits(&VisitBatch::new(&visits))
        .await
        .expect("write the visits");
    let converted = post_public(
        app,
        "conversions",
        &json!({"site": site.key, "url": PAGE, "code": email, "name": "signup", "value": 20}),
    )
    .await;
    assert_eq!(converted.status(), 202, "the conversion is taken");
    Story {
        link_id: w.link_id,
        yesterday,
    }
}

on_both_backends! {
    async fn every_figure_of_the_analytics_page_equals_the_story(app) {
        let story = play_the_story(&app).await;
        let mut marketer = Visitor::new(&app);
        marketer.set_up_admin().await;
        let page = format!("/app/links/{}", story.link_id);

        let (status, html) = marketer.get(&format!("{page}?range=7d&tz=UTC")).await;
        assert_eq!(status, 200);
        let tiles: Vec<String> = [
            "total-clicks", "total-visitors", "total-shares", "reshare-rate", "deepest", "dark-share",
            "total-conversions", "total-value",
        ]
        .iter()
        .map(|id| figure(&html, id))
        .collect();
        assert_eq!(tiles, ["5", "4", "3", "0.20", "2", "80%", "1", "20.00"], "the headline of the last 7 days");
        assert!(html.contains("1 link preview (an app showing the link) and 1 bot visit"), "{html}");
        assert!(!html.contains("Print sheet"), "no QR codes to print on a link without any");
        assert_eq!(figure(&html, "total-clicks-change"), "new", "nothing the 7 days before");
        let before = story.yesterday - Days::new(12);
        assert!(
            figure(&html, "comparison").contains(&format!("the previous 7 days ({}", before.format("%b %-d"))),
            "the comparison names its period"
        );
        let channels = table(&html, "channel-table");
        assert_eq!(
            channels,
            [
                ["WhatsApp", "3", "2", "1", "1", "0", "–"],
                ["E-mail", "1", "1", "1", "0", "1", "–"],
                ["LinkedIn", "1", "1", "1", "0", "0", "–"],
            ],
            "clicks, visitors, shares, reshares, conversions and answers per channel"
        );
        assert_eq!(
            table(&html, "by-country"),
            [["DE", "3", "60%"], ["FR", "1", "20%"], ["Unknown", "1", "20%"]],
            "countries of the clicks, visits without one as Unknown"
        );

        // One day, in two time zones: Cat's 23:30 UTC click is the next day in Berlin.
        let day = story.yesterday;
        let next = day + Days::new(1);
        let (_, utc_day) = marketer.get(&format!("{page}?range=custom&from={day}&to={day}&tz=UTC")).await;
        assert_eq!((figure(&utc_day, "total-clicks"), figure(&utc_day, "total-visitors")), ("4".into(), "3".into()));
        let (_, berlin_day) = marketer.get(&format!("{page}?range=custom&from={day}&to={day}&tz=Europe%2FBerlin")).await;
        assert_eq!((figure(&berlin_day, "total-clicks"), figure(&berlin_day, "total-visitors")), ("3".into(), "2".into()));
        let (_, berlin_next) = marketer.get(&format!("{page}?range=custom&from={next}&to={next}&tz=Europe%2FBerlin")).await;
        assert_eq!(figure(&berlin_next, "total-clicks"), "2");
        assert_eq!(
            figure(&berlin_next, "total-clicks-change"),
            "-33%",
            "2 clicks against the 3 of the Berlin day before"
        );

        // A click on WhatsApp's bar narrows every figure to WhatsApp.
        let bar = href_of_bar(&html, "WhatsApp 3 clicks");
        assert_eq!(bar, "?range=7d&tz=UTC&channel=whatsapp");
        assert_eq!(href_of(&html, "WhatsApp"), bar, "the table's channel name filters the same way");
        let (_, whatsapp) = marketer.get(&format!("{page}{bar}")).await;
        let tiles: Vec<String> = ["total-clicks", "total-visitors", "total-shares", "reshare-rate", "total-conversions"]
            .iter()
            .map(|id| figure(&whatsapp, id))
            .collect();
        assert_eq!(tiles, ["3", "2", "1", "0.33", "0"], "WhatsApp alone: one reshare (the e-mail) from 3 clicks");
        assert!(whatsapp.contains("Channel: WhatsApp"), "the filter is shown");
        assert_eq!(table(&whatsapp, "channel-table").len(), 1);

        // A visitor filter narrows the clicks and says shares cannot follow it.
        let (_, germany) = marketer.get(&format!("{page}?range=7d&tz=UTC&country=DE")).await;
        assert_eq!(figure(&germany, "total-clicks"), "3");
        assert_eq!((figure(&germany, "total-shares"), figure(&germany, "total-conversions")), ("–".into(), "–".into()));

        // A filter that matches nothing, in the past: nothing happened then, not "yet".
        let long_ago = day - Days::new(60);
        let (_, empty) = marketer.get(&format!("{page}?range=custom&from={long_ago}&to={long_ago}")).await;
        assert!(figure(&empty, "nothing").starts_with("Nothing happened in this period"), "{empty}");
    }

    async fn bad_analytics_addresses_explain_themselves_and_never_fail(app) {
        let story = play_the_story(&app).await;
        let mut marketer = Visitor::new(&app);
        marketer.set_up_admin().await;
        let page = format!("/app/links/{}", story.link_id);
        for (query, said) in [
            ("tz=Mars%2FOlympus", "is not a time zone"),
            ("range=custom&from=2026-13-01", "is not a date"),
            ("range=custom&from=2026-11-05&to=2026-11-01", "the start date is after the end date"),
            ("range=fortnight", "is not a range"),
            ("depth=deep", "the depth filter"),
            ("link=%27%3B--", "is not a number"),
        ] {
            let (status, html) = marketer.get(&format!("{page}?{query}")).await;
            assert_eq!(status, 200, "{query}");
            assert!(html.contains(said), "{query}: expected '{said}'");
        }
        // Markup in a filter value is shown as text.
        let (_, html) = marketer.get(&format!("{page}?channel=%3Cscript%3E")).await;
        assert!(html.contains("Channel: &#60;script&#62;") && !html.contains("<script>"), "{html}");
    }

    async fn a_copied_link_shows_the_app_it_was_pasted_into_under_the_same_filters(app) {
        let link = app.create_link("https://example.com/post", None).await;
        let copied = app.share_code(link, "copy").await;
        app.share_code(link, "whatsapp").await;
        assert_eq!(app.follow(&copied, SLACK_UNFURL_UA).await.status(), 302, "Slack unfurls the pasted link");
        app.wait_for_visits(1).await;
        let mut marketer = Visitor::new(&app);
        marketer.set_up_admin().await;
        let page = format!("/app/links/{link}");
        let html = eventually_page(&mut marketer, &page, "inferred-table").await;
        assert_eq!(table(&html, "inferred-table"), [["Copied link", "Slack", "1"]]);
        let (_, whatsapp) = marketer.get(&format!("{page}?channel=whatsapp")).await;
        assert!(!whatsapp.contains("inferred-table"), "WhatsApp's shares were pasted nowhere we know");
    }
}

/// The page once it shows the element `id` (an inference lands with the visit batch after it).
async fn eventually_page(marketer: &mut Visitor<'_>, path: &str, id: &str) -> String {
    for _ in 0..50 {
        let (_, html) = marketer.get(path).await;
        if html.contains(&format!("id=\"{id}\"")) {
            return html;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{path} never showed #{id}");
}
