//! Managing links in the web UI: the list searched, filtered, ordered and paged exactly; a
//! link's title, campaign and destination edited (its short links follow at once); a link
//! switched off and on; and the bad input each of those can get.

use crate::helpers::*;
use crate::on_both_backends;
use crate::web_ui::Visitor;

/// The ids of the links a list page shows, in order, and its next page's address.
async fn listed(marketer: &mut Visitor<'_>, query: &str) -> (Vec<i64>, Option<String>) {
    let (status, html) = marketer.get(&format!("/app/links?{query}")).await;
    assert_eq!(status, 200, "{query}: {html}");
    let ids = html
        .split("data-link=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().parse().expect("a link id"))
        .collect();
    let next = html.split("id=\"next-page\"").next().and_then(|before| {
        html.contains("id=\"next-page\"").then(|| {
            before
                .rsplit("href=\"")
                .next()
                .unwrap()
                .split('"')
                .next()
                .unwrap()
                .replace("&#38;", "&")
                .replace("&amp;", "&")
        })
    });
    (ids, next)
}

async fn click(app: &TestApp, link_id: i64, channel: &str, times: usize) -> String {
    let code = app.share_code(link_id, channel).await;
    for _ in 0..times {
        assert_eq!(app.follow(&code, BROWSER_UA).await.status(), 302);
    }
    code
}

on_both_backends! {
    async fn the_list_finds_filters_orders_and_pages_links_exactly(app) {
        let spring = app.create_link("https://example.com/spring-launch", Some("spring")).await;
        let autumn = app.create_link("https://example.com/autumn", Some("autumn")).await;
        let careers = app.create_link("https://example.com/jobs?ref=50%25_off", None).await;
        click(&app, spring, "whatsapp", 3).await;
        click(&app, autumn, "email", 1).await;
        click(&app, careers, "whatsapp", 2).await;
        app.wait_for_visits(6).await;
        let mut marketer = Visitor::new(&app);
        marketer.set_up_admin().await;

        assert_eq!(listed(&mut marketer, "").await.0, [careers, autumn, spring], "newest first");
        assert_eq!(listed(&mut marketer, "sort=clicks").await.0, [spring, careers, autumn]);
        assert_eq!(listed(&mut marketer, "q=LAUNCH").await.0, [spring], "search ignores case");
        assert_eq!(listed(&mut marketer, "q=_").await.0, [careers], "_ is searched for, not a wildcard");
        assert_eq!(listed(&mut marketer, "q=%25").await.0, [careers], "% is searched for, not a wildcard");
        assert_eq!(listed(&mut marketer, "campaign=autumn").await.0, [autumn]);
        assert_eq!(listed(&mut marketer, "channel=whatsapp&sort=clicks").await.0, [spring, careers]);
        let (none, _) = listed(&mut marketer, "q=nothing-like-this").await;
        assert!(none.is_empty());
        let (_, html) = marketer.get("/app/links?q=nothing-like-this").await;
        assert!(html.contains("No links match"), "an empty search says so: {html}");

        // 55 more links: two pages of 50 and 8, every link once, in order.
        let mut made = vec![spring, autumn, careers];
        for n in 0..55 {
            made.push(app.create_link(&format!("https://example.com/page-{n}"), None).await);
        }
        made.reverse();
        let (first, next) = listed(&mut marketer, "").await;
        assert_eq!(first.len(), 50);
        let next = next.expect("a next page");
        let (second, last) = listed(&mut marketer, next.trim_start_matches('?')).await;
        assert!(last.is_none(), "two pages hold them all");
        assert_eq!([first, second].concat(), made, "every link once, newest first");
        // Ordered by clicks, the cursor keeps ties (0 clicks) in id order across the page break.
        let (first, next) = listed(&mut marketer, "sort=clicks").await;
        let (second, _) = listed(&mut marketer, next.expect("a next page").trim_start_matches('?')).await;
        let all = [first, second].concat();
        assert_eq!(&all[..3], [spring, careers, autumn]);
        let mut rest = all[3..].to_vec();
        rest.sort_unstable_by(|a, b| b.cmp(a));
        assert_eq!(all[3..], rest[..], "ties newest first");
        assert_eq!(all.len(), made.len());
    }

    async fn a_link_is_edited_switched_off_and_on_and_its_short_links_follow(app) {
        let link = app.create_link("https://example.com/old", Some("spring")).await;
        let code = app.share_code(link, "email").await;
        assert!(location(app.follow(&code, BROWSER_UA).await.headers()).starts_with("https://example.com/old"));
        let mut marketer = Visitor::new(&app);
        marketer.set_up_admin().await;
        let page = format!("/app/links/{link}");
        let csrf = marketer.csrf(&page).await;

        let edit = format!("{page}/edit");
        let saved = marketer
            .post(&edit, &[("csrf", &csrf), ("title", "New home"), ("campaign", ""), ("url", "https://example.com/new")])
            .await;
        assert_eq!(saved.status(), 303);
        assert!(
            location(app.follow(&code, BROWSER_UA).await.headers()).starts_with("https://example.com/new"),
            "the short link goes to the new destination at once"
        );
        let (_, html) = marketer.get(&page).await;
        assert!(html.contains("<h1>New home</h1>"), "{html}");
        assert_eq!(listed(&mut marketer, "campaign=spring").await.0, Vec::<i64>::new(), "out of its campaign");

        for (fields, said) in [
            (vec![("title", "x"), ("url", "javascript:alert(1)")], "destination"),
            (vec![("title", "x"), ("url", "https://example.com/x"), ("campaign", "no-such-campaign")], "choose a campaign"),
        ] {
            let mut form = vec![("csrf", csrf.as_str())];
            form.extend(fields);
            let refused = marketer.post(&edit, &form).await;
            assert_eq!(refused.status(), 400);
            assert!(refused.text().await.unwrap().contains(said), "{said}");
        }
        assert!(location(app.follow(&code, BROWSER_UA).await.headers()).starts_with("https://example.com/new"), "nothing changed");
        let forged = marketer.post(&edit, &[("csrf", "forged"), ("url", "https://evil.example/")]).await;
        assert_eq!(forged.status(), 403);

        // An expiry day: the links work all of it, and stop after.
        let with = |expires_on: &'static str| vec![("title", "New home"), ("url", "https://example.com/new"), ("expires_on", expires_on)];
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend(with("2020-01-01"));
        assert_eq!(marketer.post(&edit, &form).await.status(), 303);
        assert_eq!(app.follow(&code, BROWSER_UA).await.status(), 410, "expired after 2020-01-01");
        let (_, expired) = marketer.get(&page).await;
        assert!(expired.contains("value=\"2020-01-01\""), "the form shows the day it works until");
        let api: serde_json::Value = app.get_api(&format!("/api/v1/links/{link}")).await.json().await.unwrap();
        assert_eq!(api["expires_at"], "2020-01-02T00:00:00.000Z", "the end of that day, UTC");
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend(with(""));
        assert_eq!(marketer.post(&edit, &form).await.status(), 303);
        assert_eq!(app.follow(&code, BROWSER_UA).await.status(), 302, "no expiry any more");
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend(with("31/12/2027"));
        assert_eq!(marketer.post(&edit, &form).await.status(), 400, "a day that is not YYYY-MM-DD");

        let switch = format!("{page}/switch");
        assert_eq!(marketer.post(&switch, &[("csrf", &csrf), ("off", "1")]).await.status(), 303);
        assert_eq!(app.follow(&code, BROWSER_UA).await.status(), 410, "switched off");
        assert_eq!(listed(&mut marketer, "status=off").await.0, [link]);
        assert_eq!(marketer.post(&switch, &[("csrf", &csrf), ("off", "maybe")]).await.status(), 400);
        assert_eq!(marketer.post(&switch, &[("csrf", &csrf), ("off", "0")]).await.status(), 303);
        assert_eq!(app.follow(&code, BROWSER_UA).await.status(), 302, "on again");
        assert_eq!(listed(&mut marketer, "status=off").await.0, Vec::<i64>::new());
        assert_eq!(marketer.post("/app/links/999999/switch", &[("csrf", &csrf), ("off", "1")]).await.status(), 404);
    }
}
