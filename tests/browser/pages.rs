//! Every page of the web UI as a laptop (1366 px) and a phone (390 px) show it: nothing wider
//! than the phone's screen, no serious or critical accessibility violation that axe-core finds,
//! and an analytics page narrowed by a click on a chart's bar. The screenshots, at both widths,
//! land in `target/screenshots/` and are the README's pictures.

use crate::on_both_backends;
use crate::support::*;
use fantoccini::Locator;
use fantoccini::key::Key;
use serde_json::{Value, json};

const LAPTOP: (u32, u32) = (1366, 900);
const PHONE: (u32, u32) = (390, 844);

fn axe_source() -> String {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/axe/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{} ({e}): scripts/test installs axe-core", path.display()))
}

async fn resize(browser: &Browser, (width, height): (u32, u32)) {
    browser.viewport(width, height).await;
}

/// What is wrong with the page as shown: wider than the viewport, or axe-core's serious and
/// critical findings.
async fn problems(browser: &Browser, axe: &str, width: u32) -> Vec<String> {
    let mut found = Vec::new();
    let widths = browser
        .eval(
            "return [document.documentElement.scrollWidth, window.innerWidth, \
             [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1) \
               .slice(0, 3).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))]",
            vec![],
        )
        .await;
    assert_eq!(widths[1], json!(width), "the viewport is {width} px wide");
    if widths[0].as_u64() > widths[1].as_u64() {
        found.push(format!("{} px wide at {width} px, from {}", widths[0], widths[2]));
    }
    let injected = browser.eval(&format!("{axe}; return typeof axe"), vec![]).await;
    assert_eq!(injected, "object", "axe-core loaded into the page");
    let violations = browser
        .eval(
            "return axe.run(document, {resultTypes: ['violations']}).then(r => r.violations \
               .filter(v => v.impact === 'serious' || v.impact === 'critical') \
               .map(v => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')}`))",
            vec![],
        )
        .await;
    for violation in violations.as_array().into_iter().flatten() {
        found.push(violation.as_str().unwrap_or_default().to_owned());
    }
    found
}

on_both_backends! {
    async fn every_page_fits_a_phone_passes_axe_and_filters_by_a_click(app) {
        let driver = Driver::start().await;
        let browser = driver.browser().await;
        resize(&browser, LAPTOP).await;
        let axe = axe_source();
        let mut found: Vec<String> = Vec::new();

        // Signed out: the front page, the demo, the API reference and the sign-in page.
        for (name, path) in [("home", "/"), ("demo", "/demo"), ("api-docs", "/api/docs"), ("setup", app.setup_url.as_str())] {
            for size in [LAPTOP, PHONE] {
                resize(&browser, size).await;
                browser.goto(&if path.starts_with("http") { path.to_owned() } else { app.url(path) }).await;
                browser.wait_for("the page", "return document.readyState === 'complete'").await;
                browser.screenshot(&format!("{name}-{}", size.0)).await;
                found.extend(problems(&browser, &axe, size.0).await.into_iter().map(|p| format!("{name}: {p}")));
            }
        }
        resize(&browser, LAPTOP).await;
        set_up_admin(&browser, &app).await;

        // A campaign link with three channels, made in the web UI, and a site.
        browser.goto(&app.url("/app/links/new")).await;
        browser
            .eval(
                "for (const c of ['whatsapp', 'email', 'slack']) document.querySelector(`input[name=channel][value=${c}]`).checked = true;",
                vec![],
            )
            .await;
        let destination = app.url("/healthz");
        browser
            .submit(&[("url", &destination), ("title", "Launch post"), ("new_campaign", "Spring Launch")])
            .await;
        let link_page = browser.wait_for_path("/app/links/").await;
        let link_id: i64 = link_page.trim_end_matches('/').rsplit('/').next().unwrap().parse().expect("link id");
        // Its page then draws a preview card, with a picture, beside the forms that set it.
        let card = json!({"title": "Launch post", "description": "What is new", "image_url": app.url("/static/favicon.svg")});
        let card_set = app.client.put(app.url(&format!("/api/v1/links/{link_id}/preview"))).bearer_auth(&app.api_key).json(&card).send();
        assert_eq!(card_set.await.unwrap().status(), 200);
        let urls: Value = browser
            .eval(
                "return Object.fromEntries([...document.querySelectorAll('.short-link')] \
                   .map(l => [l.dataset.channel, l.querySelector('.short-url').value]))",
                vec![],
            )
            .await;
        create_site(&app, &["http://localhost:9999"]).await;
        // An event with three placements, so the list of events has one to show.
        browser.goto(&app.url("/app/events/new")).await;
        browser
            .submit(&[("url", &destination), ("event", "Web Summit"), ("placements", "Poster at the door\nBadge\nClosing slide")])
            .await;
        browser.wait_for_path("/app/links/").await;

        // The WhatsApp link is opened twice and the e-mail link once, from two browsers of this
        // machine: one visitor as sharetrail recognises people (address and user agent, with a
        // daily salt), so 3 clicks and 1 visitor.
        let first = driver.browser().await;
        first.goto(urls["whatsapp"].as_str().unwrap()).await;
        first.goto(urls["whatsapp"].as_str().unwrap()).await;
        let second = driver.browser().await;
        second.goto(urls["email"].as_str().unwrap()).await;
        app.wait_for_visits(3).await;

        browser.goto(&link_page).await;
        let figures = "return ['total-clicks', 'total-visitors', 'total-shares'] \
                         .map(id => document.getElementById(id).innerText)";
        assert_eq!(browser.eval(figures, vec![]).await, json!(["3", "1", "3"]), "the whole link");
        browser
            .client
            .find(Locator::Css("svg.bars a.bar[href*='channel=whatsapp']"))
            .await
            .expect("WhatsApp's bar")
            .click()
            .await
            .expect("click the bar");
        browser
            .wait_for("the filtered page", "return location.search.includes('channel=whatsapp') && document.readyState === 'complete'")
            .await;
        assert_eq!(browser.eval(figures, vec![]).await, json!(["2", "1", "1"]), "WhatsApp alone");
        let rows = browser.eval("return document.querySelectorAll('#channel-table tbody tr').length", vec![]).await;
        assert_eq!(rows, 1, "the channel table follows the filter");
        let chip = browser.eval("return document.getElementById('filters').innerText", vec![]).await;
        assert!(chip.as_str().unwrap().contains("Channel: WhatsApp"), "{chip}");

        // By keyboard: the e-mail bar takes focus like any link, and Enter filters by it.
        browser.goto(&link_page).await;
        browser.eval("document.querySelector(\"svg.bars a.bar[href*='channel=email']\").focus()", vec![]).await;
        let focused = browser.eval("return document.activeElement.getAttribute('href')", vec![]).await;
        assert!(focused.as_str().unwrap_or_default().contains("channel=email"), "the bar has focus: {focused}");
        browser.press(Key::Enter).await;
        browser
            .wait_for("the e-mail filter", "return location.search.includes('channel=email') && document.readyState === 'complete'")
            .await;
        assert_eq!(browser.eval(figures, vec![]).await, json!(["1", "1", "1"]), "e-mail alone");

        // A browser in Tokyo gets Tokyo's days without asking: the page's script tells the
        // server its zone (a cookie) and the page is shown again once, in that zone.
        let tokyo = driver.browser().await;
        tokyo.cdp("Emulation.setTimezoneOverride", json!({"timezoneId": "Asia/Tokyo"})).await;
        sign_in(&tokyo, &app, "ana@example.com", PASSWORD).await;
        tokyo.wait_for_path("/app/campaigns").await;
        tokyo.goto(&link_page).await;
        let period = tokyo
            .wait_for("the page in Tokyo's zone", "return document.getElementById('report')?.dataset.tz === 'Asia/Tokyo' && document.getElementById('period').innerText")
            .await;
        assert!(period.as_str().unwrap().contains("Asia/Tokyo"), "{period}");
        assert_eq!(tokyo.eval("return document.getElementById('report').dataset.tzSource", vec![]).await, "cookie");

        let campaign: String = browser
            .eval("return document.querySelector('.crumbs a[href^=\"/app/campaigns/\"]').getAttribute('href')", vec![])
            .await
            .as_str()
            .expect("the campaign's address")
            .to_owned();
        // A webhook endpoint, switched off so nothing leaves the machine, with a message waiting.
        let hook = app
            .post_json("/api/v1/webhooks", &json!({"url": "https://93.184.216.34/hook", "disabled": true}))
            .await;
        assert_eq!(hook.status(), 201);
        let hook_id = hook.json::<Value>().await.unwrap()["id"].as_i64().expect("an id");
        app.post_json(&format!("/api/v1/webhooks/{hook_id}/test"), &json!({})).await;
        let pages = [
            ("campaigns", "/app/campaigns".to_owned()),
            ("campaign", campaign),
            ("links", "/app/links".to_owned()),
            ("link", format!("/app/links/{link_id}")),
            ("new-link", "/app/links/new".to_owned()),
            ("events", "/app/events".to_owned()),
            ("event-new", "/app/events/new".to_owned()),
            ("sites", "/app/sites".to_owned()),
            ("site", "/app/sites/1".to_owned()),
            ("keys", "/app/keys".to_owned()),
            ("import", "/app/import".to_owned()),
            ("webhooks", "/app/webhooks".to_owned()),
            ("webhook", format!("/app/webhooks/{hook_id}")),
            ("people", "/app/users".to_owned()),
        ];
        for (name, path) in &pages {
            for size in [LAPTOP, PHONE] {
                resize(&browser, size).await;
                browser.goto(&app.url(path)).await;
                browser.wait_for("the page", "return document.readyState === 'complete'").await;
                browser.screenshot(&format!("{name}-{}", size.0)).await;
                found.extend(problems(&browser, &axe, size.0).await.into_iter().map(|p| format!("{name}: {p}")));
            }
        }
        assert!(found.is_empty(), "{}", found.join("\n"));
    }
}
