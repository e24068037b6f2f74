//! The buttons themselves: each channel opens with a fresh share of its own, and they work under
//! a strict Content Security Policy.

use crate::helpers::*;
use crate::on_both_backends;
use crate::support::*;
use fantoccini::key::Key;
use serde_json::{Value, json};

/// The query parameter `name` of a URL, decoded.
fn query_param(url: &str, name: &str) -> Option<String> {
    let url = url::Url::parse(url).ok()?;
    url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// Asserts that `code` is a share of the page's link on `channel`, a root (depth 1).
async fn assert_root_share(app: &TestApp, code: &str, channel: &str) -> Value {
    let share = share(app, code).await;
    assert_eq!(share["channel"], channel, "{share}");
    assert_eq!(share["depth"], 1, "{share}");
    assert_eq!(share["parent"], Value::Null, "{share}");
    share
}

/// Prints how long the share minted ahead for a button took to be ready, from the moment the
/// pointer or the focus reached it (visible with `--no-capture`): how soon a visitor may click
/// without the button having to wait for its share.
async fn report_mint_latency(browser: &Browser, channel: &str, by: &str) {
    let timing = browser
        .eval(
            "const intent = window.intentAt['st-b st-' + arguments[1]];
             const mint = performance.getEntriesByType('resource')
               .filter(e => new URL(e.name).pathname === arguments[0] && e.startTime >= intent)[0];
             return mint && intent !== undefined ? mint.responseEnd - intent : null;",
            vec![json!(MINT_PATH), json!(channel)],
        )
        .await;
    if let Some(ms) = timing.as_f64() {
        eprintln!("{channel}: share minted {ms:.1} ms after {by} reached the button");
    }
}

/// `encodeURIComponent`, for the characters a short link can hold.
fn encode_uri_component(raw: &str) -> String {
    raw.replace('%', "%25").replace(':', "%3A").replace('/', "%2F")
}

on_both_backends! {
    async fn clicking_whatsapp_opens_wa_me_with_a_fresh_whatsapp_share(app) {
        let pages = serve_pages(&app).await;
        let driver = Driver::start().await;
        let browser = driver.browser().await;
        browser.open_page(&pages.article()).await;
        let button = browser.button("whatsapp").await;
        // The popup blocker is on, as in a visitor's browser: only a click may open a window.
        let blocked = browser
            .eval("return window.open('about:blank', '_blank') === null", vec![])
            .await;
        assert_eq!(blocked, true, "a window opened without a click is blocked");

        browser.hover_until_minted(&button).await;
        let opened = browser.click_to_popup(&button).await;

        assert!(
            opened.starts_with("https://wa.me/") || opened.starts_with("https://api.whatsapp.com/"),
            "WhatsApp opened: {opened}"
        );
        let text = query_param(&opened, "text").expect("a text parameter");
        let short_url = text
            .strip_prefix(&format!("{PAGE_TITLE} "))
            .unwrap_or_else(|| panic!("the page title, then the link: {text:?}"));
        let code = code_in(&app, short_url).unwrap_or_else(|| panic!("a short link of the app: {short_url:?}"));
        assert_root_share(&app, code, "whatsapp").await;
        let (hooked_code, hooked_url) = browser.last_share(&button, None).await;
        assert_eq!(hooked_code, code, "the button's last-code hook");
        assert_eq!(hooked_url, opened, "the button's last-url hook");
        report_mint_latency(&browser, "whatsapp", "the pointer").await;

        // Every click is a share of its own. A click straight away, with no share minted ahead,
        // opens the window at once too and points it at the channel when the share arrives.
        browser.pointer_to_corner().await;
        browser.open_page(&pages.article()).await;
        assert_eq!(browser.mints_done().await, 0, "nothing minted ahead");
        let button = browser.button("whatsapp").await;
        let again = browser.click_to_popup(&button).await;
        let text = query_param(&again, "text").expect("a text parameter");
        let second = code_in(&app, text.rsplit(' ').next().unwrap_or_default())
            .unwrap_or_else(|| panic!("a short link in {text:?}"))
            .to_owned();
        assert_ne!(second, code, "a second click mints a new share");
        assert_root_share(&app, &second, "whatsapp").await;
    }

    async fn email_builds_a_mailto_with_the_title_and_a_fresh_link(app) {
        let pages = serve_pages(&app).await;
        let driver = Driver::start().await;
        let browser = driver.browser().await;
        browser.open_page(&pages.article()).await;
        let button = browser.button("email").await;

        // A keyboard user: Tab to the WhatsApp button, Tab to Email (each focus mints ahead), Enter.
        browser.press(Key::Tab).await;
        browser.press(Key::Tab).await;
        let focused = browser.eval("return document.activeElement", vec![]).await;
        assert_eq!(focused, json!(button), "Email has the focus");
        eventually("the shares minted on focus", || async {
            (browser.mints_done().await >= 2).then_some(())
        })
        .await;
        report_mint_latency(&browser, "email", "the focus").await;
        browser.press(Key::Enter).await;
        // Headless Chromium has no mail client to hand a mailto: URL to, so the URL is read from the
        // snippet's hook; the page itself must stay where it is.
        let (code, mailto) = browser.last_share(&button, None).await;

        let short_url = app.url(&format!("/{code}"));
        let subject = "Ten%20rules%20for%20dark%20social%20%26%20why%20they%20work";
        let body = format!("{subject}%0D%0A%0D%0A{}", encode_uri_component(&short_url));
        assert_eq!(
            mailto,
            format!("mailto:?subject={subject}&body={body}"),
            "RFC 6068 mailto"
        );
        assert!(!mailto.contains('+'), "spaces are %20, never '+': {mailto}");
        assert_root_share(&app, &code, "email").await;
        let href = browser.href().await;
        assert!(
            href.starts_with(&format!("{}#st=", pages.article())),
            "still on the page: {href}"
        );
    }

    async fn copy_puts_a_short_link_on_the_clipboard(app) {
        let pages = serve_pages(&app).await;
        let driver = Driver::start().await;
        let browser = driver.browser().await;
        browser.open_page(&pages.article()).await;
        browser.grant("clipboard-read").await;
        browser.grant("clipboard-write").await;
        let button = browser.button("copy").await;

        // No waiting for a share minted ahead: the click itself copies a link still being minted.
        button.click().await.expect("click");
        let (code, _) = browser.last_share(&button, None).await;

        let copied = browser.eval("return navigator.clipboard.readText()", vec![]).await;
        let copied = copied.as_str().expect("text on the clipboard");
        assert_eq!(
            code_in(&app, copied),
            Some(code.as_str()),
            "the clipboard holds {copied:?}"
        );
        assert_root_share(&app, &code, "copy").await;
        let toast = browser
            .wait_for(
                "the confirmation",
                "return document.querySelector('.st-toast').textContent",
            )
            .await;
        assert_eq!(toast, "Link copied");
    }

    /// With `SHARETRAIL_SNIPPET_SCREENSHOT=docs/snippet.png` it also saves what the page looks like,
    /// the picture in the README.
    async fn the_buttons_work_under_a_strict_content_security_policy(app) {
        let pages = serve_pages(&app).await;
        let driver = Driver::start().await;
        let browser = driver.browser().await;
        browser.open_page(&pages.article()).await;
        browser.grant("clipboard-read").await;
        browser.grant("clipboard-write").await;
        if let Some(path) = std::env::var_os("SHARETRAIL_SNIPPET_SCREENSHOT") {
            let png = browser.client.screenshot().await.expect("screenshot");
            std::fs::write(path, png).expect("write the screenshot");
        }

        let bar = browser
            .client
            .find(fantoccini::Locator::Css("[data-sharetrail]"))
            .await
            .expect("bar");
        assert_eq!(bar.attr("role").await.expect("role").as_deref(), Some("group"));
        assert_eq!(browser.accessible_name(&bar).await, "Share this page");
        let names = [
            ("whatsapp", "Share on WhatsApp"),
            ("email", "Share by Email"),
            ("copy", "Copy link"),
            ("slack", "Share on Slack, copies the link"),
        ];
        for (channel, name) in names {
            let button = browser.button(channel).await;
            assert_eq!(button.tag_name().await.expect("tag"), "button", "{channel}");
            assert_eq!(
                button.attr("type").await.expect("type").as_deref(),
                Some("button"),
                "{channel}"
            );
            assert_eq!(browser.accessible_name(&button).await, name, "{channel}");
        }
        // The snippet's styles apply (a constructed style sheet, which `style-src 'self'` allows).
        let whatsapp = browser.button("whatsapp").await;
        let background = browser
            .eval(
                "return getComputedStyle(arguments[0]).backgroundColor",
                vec![json!(whatsapp)],
            )
            .await;
        assert_eq!(background, "rgb(11, 122, 95)", "WhatsApp's colour");

        // Every kind of button: a new window, a mailto: link, the clipboard, a copy for an app.
        let opened = browser.click_to_popup(&whatsapp).await;
        assert!(opened.starts_with("https://wa.me/"), "{opened}");
        for channel in PAGE_CHANNELS {
            let button = browser.button(channel).await;
            if *channel != "whatsapp" {
                button.click().await.expect("click");
            }
            let (code, _) = browser.last_share(&button, None).await;
            assert_eq!(share(&app, &code).await["channel"], *channel);
        }

        let violations = browser.eval("return window.cspViolations", vec![]).await;
        assert_eq!(violations, json!([]), "Content Security Policy violations");
        // The listener is live and the policy enforced: an inline style is refused and reported.
        browser
            .eval(
                "document.body.insertAdjacentHTML('beforeend', '<i style=\"color: red\"></i>')",
                vec![],
            )
            .await;
        browser
            .wait_for("the violation report", "return window.cspViolations.length === 1")
            .await;
    }
}
