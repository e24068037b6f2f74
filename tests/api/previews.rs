//! Preview cards: what each preview bot gets for a share, and the API that sets the cards.

use crate::helpers::*;
use crate::on_both_backends;
use crate::web_ui::Visitor;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const IMESSAGE_UA: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 \
    (KHTML, like Gecko) Version/9.0.1 Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0";

/// Every preview bot named in the product: its agent, the app its unfurls count for, and the
/// channel of the share it is given.
const PREVIEW_BOTS: [(&str, &str, &str); 9] = [
    (SLACK_UNFURL_UA, "slack", "slack"),
    ("WhatsApp/2.23.20.0 A", "whatsapp", "whatsapp"),
    (IMESSAGE_UA, "imessage", "sms"),
    (
        "Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5 skype-url-preview@microsoft.com",
        "teams",
        "teams",
    ),
    (
        "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
        "linkedin",
        "linkedin",
    ),
    ("Twitterbot/1.0", "x", "x"),
    (
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "facebook",
        "facebook",
    ),
    (
        "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
        "discord",
        "discord",
    ),
    ("TelegramBot (like TwitterBot)", "telegram", "telegram"),
];

const WHATSAPP_UA: &str = "WhatsApp/2.23.20.0 A";

impl TestApp {
    async fn put_card(&self, link: i64, channel: Option<&str>, card: &Value) -> reqwest::Response {
        let path = match channel {
            Some(channel) => format!("/api/v1/links/{link}/preview/{channel}"),
            None => format!("/api/v1/links/{link}/preview"),
        };
        self.client
            .put(self.url(&path))
            .bearer_auth(&self.api_key)
            .json(card)
            .send()
            .await
            .expect("request")
    }

    async fn delete_card(&self, link: i64, channel: Option<&str>) -> reqwest::Response {
        let path = match channel {
            Some(channel) => format!("/api/v1/links/{link}/preview/{channel}"),
            None => format!("/api/v1/links/{link}/preview"),
        };
        self.client
            .delete(self.url(&path))
            .bearer_auth(&self.api_key)
            .send()
            .await
            .expect("request")
    }

    /// A link with a default card and WhatsApp and SMS variants.
    async fn link_with_cards(&self) -> i64 {
        let link = self.create_link("https://example.com/launch", Some("Spring")).await;
        let default = json!({"title": "Spring launch", "description": "Ten new things",
            "image_url": "https://cdn.example.com/spring.png"});
        assert_eq!(self.put_card(link, None, &default).await.status(), 200);
        let whatsapp = json!({"title": "Forwarded to you: spring launch"});
        assert_eq!(self.put_card(link, Some("whatsapp"), &whatsapp).await.status(), 200);
        let sms = json!({"title": "Texted: spring launch", "image_url": "https://cdn.example.com/sms.png"});
        assert_eq!(self.put_card(link, Some("sms"), &sms).await.status(), 200);
        link
    }
}

/// The `content` of the `<meta>` whose attribute is `key` (`property="og:title"`), unescaped.
fn meta(html: &str, key: &str) -> Option<String> {
    let start = html.find(&format!("<meta {key} content=\""))? + key.len() + 16;
    let end = start + html[start..].find('"')?;
    let unescaped = [
        ("&#60;", "<"),
        ("&#62;", ">"),
        ("&#39;", "'"),
        ("&#34;", "\""),
        ("&#38;", "&"),
    ]
    .iter()
    .fold(html[start..end].to_owned(), |text, (escaped, plain)| {
        text.replace(escaped, plain)
    });
    Some(unescaped)
}

on_both_backends! {
    async fn each_preview_bot_gets_its_shares_card_and_counts_one_unfurl_of_its_app(app) {
        let link = app.link_with_cards().await;
        let mut codes = Vec::new();
        for (user_agent, bot, channel) in PREVIEW_BOTS {
            let code = app.share_code(link, channel).await;
            let response = app.follow(&code, user_agent).await;

            assert_eq!(response.status(), 200, "{bot}");
            let headers = response.headers().clone();
            assert_eq!(headers["content-type"], "text/html; charset=utf-8");
            assert_eq!(headers["vary"], "User-Agent");
            assert_eq!(headers["cache-control"], "public, max-age=300");
            assert!(headers.get("location").is_none());
            let html = response.text().await.unwrap();
            let (title, image) = match channel {
                "whatsapp" => ("Forwarded to you: spring launch", None),
                "sms" => ("Texted: spring launch", Some("https://cdn.example.com/sms.png")),
                _ => ("Spring launch", Some("https://cdn.example.com/spring.png")),
            };
            assert_eq!(meta(&html, r#"property="og:title""#).as_deref(), Some(title), "{bot}: {html}");
            assert_eq!(meta(&html, r#"name="twitter:title""#).as_deref(), Some(title), "{bot}");
            assert_eq!(meta(&html, r#"property="og:image""#).as_deref(), image, "{bot}");
            let short_url = app.url(&format!("/{code}"));
            assert_eq!(meta(&html, r#"property="og:url""#), Some(short_url), "{bot}");
            let card = if image.is_some() { "summary_large_image" } else { "summary" };
            assert_eq!(meta(&html, r#"name="twitter:card""#).as_deref(), Some(card), "{bot}");
            let destination = format!("https://example.com/launch?utm_source={channel}");
            let refresh = meta(&html, r#"http-equiv="refresh""#).unwrap_or_default();
            assert!(refresh.starts_with(&format!("0; url={destination}")), "{bot}: {refresh}");
            assert!(refresh.ends_with(&format!("&st={code}")), "{bot}: {refresh}");
            codes.push((code, bot));
        }

        app.wait_for_visits(PREVIEW_BOTS.len() as u64).await;
        let stats = app.stats(link).await;
        assert_eq!(stats["unfurls"]["total"], PREVIEW_BOTS.len());
        let by_app = stats["unfurls"]["by_app"].as_object().unwrap();
        assert_eq!(by_app.len(), PREVIEW_BOTS.len(), "{by_app:?}");
        for (_, bot, _) in PREVIEW_BOTS {
            assert_eq!(by_app[bot], 1, "{bot}");
        }
        assert_eq!(stats["clicks"]["total"], 0);
        assert_eq!(stats["bots"], 0);
        assert_eq!(stats["unique_visitors"], 0);
        for (code, bot) in codes {
            let share: Value = app.get_api(&format!("/api/v1/shares/{code}")).await.json().await.unwrap();
            assert_eq!((share["unfurls"].as_i64(), share["clicks"].as_i64()), (Some(1), Some(0)), "{bot}");
        }
    }

    async fn people_and_other_crawlers_get_the_redirect_even_when_a_card_applies(app) {
        let link = app.link_with_cards().await;
        let code = app.share_code(link, "whatsapp").await;

        let person = app.follow(&code, BROWSER_UA).await;
        let crawler = app.follow(&code, GOOGLEBOT_UA).await;

        for response in [person, crawler] {
            assert_eq!(response.status(), 302);
            assert_eq!(response.headers()["cache-control"], "private, no-store");
            assert!(location(response.headers()).starts_with("https://example.com/launch?utm_source=whatsapp"));
        }
        app.wait_for_visits(2).await;
        let stats = app.stats(link).await;
        assert_eq!((stats["clicks"]["total"].as_i64(), stats["bots"].as_i64()), (Some(1), Some(1)));
        assert_eq!(stats["unfurls"]["total"], 0);
    }

    async fn without_a_card_for_the_share_preview_bots_get_the_redirect_as_before(app) {
        let bare = app.create_link("https://example.com/bare", None).await;
        let bare_code = app.share_code(bare, "slack").await;
        let variant_only = app.create_link("https://example.com/variant", None).await;
        let card = json!({"title": "Only for WhatsApp"});
        assert_eq!(app.put_card(variant_only, Some("whatsapp"), &card).await.status(), 200);
        let slack_code = app.share_code(variant_only, "slack").await;
        let whatsapp_code = app.share_code(variant_only, "whatsapp").await;

        for code in [&bare_code, &slack_code] {
            let response = app.follow(code, SLACK_UNFURL_UA).await;
            assert_eq!(response.status(), 302, "{code}");
            assert_eq!(response.headers()["cache-control"], "private, no-store");
        }
        assert_eq!(app.follow(&whatsapp_code, WHATSAPP_UA).await.status(), 200);
        app.wait_for_visits(3).await;
        assert_eq!(app.stats(bare).await["unfurls"]["by_app"]["slack"], 1);
        assert_eq!(app.stats(variant_only).await["unfurls"]["total"], 2);
    }

    async fn a_copied_link_gets_the_variant_of_the_app_it_is_pasted_into(app) {
        let link = app.link_with_cards().await;
        let code = app.share_code(link, "copy").await;

        let whatsapp = app.follow(&code, WHATSAPP_UA).await.text().await.unwrap();
        let slack = app.follow(&code, SLACK_UNFURL_UA).await.text().await.unwrap();

        assert_eq!(meta(&whatsapp, r#"property="og:title""#).as_deref(), Some("Forwarded to you: spring launch"));
        assert_eq!(meta(&slack, r#"property="og:title""#).as_deref(), Some("Spring launch"));
    }

    async fn a_preview_bots_head_request_gets_the_cards_headers_and_counts_as_an_unfurl(app) {
        let link = app.link_with_cards().await;
        let code = app.share_code(link, "slack").await;

        let response = app.client.head(app.url(&format!("/{code}")))
            .header("user-agent", SLACK_UNFURL_UA).send().await.unwrap();

        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["vary"], "User-Agent");
        assert!(response.text().await.unwrap().is_empty());
        app.wait_for_visits(1).await;
        assert_eq!(app.stats(link).await["unfurls"]["by_app"]["slack"], 1);
    }

    async fn a_disabled_or_expired_link_answers_410_to_preview_bots_too(app) {
        let link = app.link_with_cards().await;
        let code = app.share_code(link, "whatsapp").await;
        assert_eq!(app.follow(&code, WHATSAPP_UA).await.status(), 200);
        let patch = |body: Value| app.client.patch(app.url(&format!("/api/v1/links/{link}")))
            .bearer_auth(&app.api_key).json(&body).send();

        assert_eq!(patch(json!({"disabled": true})).await.unwrap().status(), 200);
        assert_eq!(app.follow(&code, WHATSAPP_UA).await.status(), 410);

        assert_eq!(patch(json!({"disabled": false, "expires_at": "2020-01-01T00:00:00Z"})).await.unwrap().status(), 200);
        assert_eq!(app.follow(&code, WHATSAPP_UA).await.status(), 410);
    }

    async fn a_changed_card_shows_at_once_and_without_one_the_redirect_is_back(app) {
        let link = app.link_with_cards().await;
        let code = app.share_code(link, "whatsapp").await;
        let title = |html: String| meta(&html, r#"property="og:title""#);
        assert_eq!(title(app.follow(&code, WHATSAPP_UA).await.text().await.unwrap()).as_deref(),
            Some("Forwarded to you: spring launch"));

        let changed = json!({"title": "Now with & more <stuff>"});
        assert_eq!(app.put_card(link, Some("whatsapp"), &changed).await.status(), 200);
        assert_eq!(title(app.follow(&code, WHATSAPP_UA).await.text().await.unwrap()).as_deref(),
            Some("Now with & more <stuff>"));

        assert_eq!(app.delete_card(link, Some("whatsapp")).await.status(), 204);
        assert_eq!(title(app.follow(&code, WHATSAPP_UA).await.text().await.unwrap()).as_deref(),
            Some("Spring launch"), "the default card, once the variant is gone");

        assert_eq!(app.delete_card(link, None).await.status(), 204);
        assert_eq!(app.follow(&code, WHATSAPP_UA).await.status(), 302);
    }

    async fn the_api_reads_sets_and_removes_each_card(app) {
        let link = app.link_with_cards().await;

        let document: Value = app.get_api(&format!("/api/v1/links/{link}/preview")).await.json().await.unwrap();
        assert_eq!(document["link_id"], link);
        assert_eq!(document["default"]["title"], "Spring launch");
        assert_eq!(document["default"]["description"], "Ten new things");
        assert_eq!(document["default"]["image_url"], "https://cdn.example.com/spring.png");
        assert_eq!(document["default"]["channel"], Value::Null);
        assert!(document["default"]["updated_at"].as_str().is_some_and(|t| t.ends_with('Z')));
        let channels: Vec<&String> = document["channels"].as_object().unwrap().keys().collect();
        assert_eq!(channels, ["sms", "whatsapp"]);
        assert_eq!(document["channels"]["whatsapp"]["description"], Value::Null);

        let variant = app.get_api(&format!("/api/v1/links/{link}/preview/sms")).await;
        assert_eq!(variant.status(), 200);
        let variant: Value = variant.json().await.unwrap();
        assert_eq!((variant["channel"].as_str(), variant["title"].as_str()), (Some("sms"), Some("Texted: spring launch")));

        // A PUT replaces the card whole: what it leaves out is gone.
        let replaced: Value = app.put_card(link, None, &json!({"title": "  Trimmed  ", "description": ""}))
            .await.json().await.unwrap();
        assert_eq!(replaced["default"]["title"], "Trimmed");
        assert_eq!(replaced["default"]["description"], Value::Null);
        assert_eq!(replaced["default"]["image_url"], Value::Null);
        assert_eq!(replaced["channels"].as_object().unwrap().len(), 2);

        assert_eq!(app.delete_card(link, None).await.status(), 204);
        let after: Value = app.get_api(&format!("/api/v1/links/{link}/preview")).await.json().await.unwrap();
        assert_eq!(after["default"], Value::Null);
        assert_eq!(after["channels"].as_object().unwrap().len(), 2, "the variants stay");
        assert_eq!(app.delete_card(link, None).await.status(), 204, "deleting what is gone is idempotent");
        assert_error(app.get_api(&format!("/api/v1/links/{link}/preview/slack")).await, 404, "not_found", None).await;

        let bare = app.create_link("https://example.com/bare", None).await;
        let empty: Value = app.get_api(&format!("/api/v1/links/{bare}/preview")).await.json().await.unwrap();
        assert_eq!(empty, json!({"link_id": bare, "default": null, "channels": {}}));
    }

    async fn a_custom_channel_has_variants_once_it_is_defined(app) {
        let link = app.create_link("https://example.com/", None).await;
        let card = json!({"title": "For readers of the newsletter"});
        assert_error(app.put_card(link, Some("newsletter"), &card).await, 422, "invalid_value", Some("channel")).await;

        let defined = app.post_json("/api/v1/channels", &json!({"name": "newsletter", "medium": "email"})).await;
        assert_eq!(defined.status(), 201);
        assert_eq!(app.put_card(link, Some("newsletter"), &card).await.status(), 200);
        let code = app.share_code(link, "newsletter").await;
        let html = app.follow(&code, SLACK_UNFURL_UA).await.text().await.unwrap();
        assert_eq!(meta(&html, r#"property="og:title""#).as_deref(), Some("For readers of the newsletter"));
    }

    async fn bad_cards_unknown_channels_and_unknown_links_get_clear_errors(app) {
        let link = app.create_link("https://example.com/", None).await;
        let long_title = "t".repeat(201);
        for (card, field) in [
            (json!({"title": long_title}), "title"),
            (json!({"title": "   "}), "title"),
            (json!({"description": "no title"}), "title"),
            (json!({"title": "T", "description": "d".repeat(501)}), "description"),
            (json!({"title": "T", "image_url": "/relative.png"}), "image_url"),
            (json!({"title": "T", "image_url": "javascript:alert(1)"}), "image_url"),
            (json!({"title": "T", "image_url": "ftp://example.com/a.png"}), "image_url"),
        ] {
            assert_error(app.put_card(link, None, &card).await, 422, "invalid_value", Some(field)).await;
        }
        let card = json!({"title": "T"});
        assert_error(app.put_card(link, Some("myspace"), &card).await, 422, "invalid_value", Some("channel")).await;
        assert_error(app.put_card(link, Some("Not%20A%20Channel"), &card).await, 422, "invalid_value", Some("channel")).await;
        assert_error(app.delete_card(link, Some("myspace")).await, 422, "invalid_value", Some("channel")).await;
        assert_error(app.put_card(999_999, None, &card).await, 404, "not_found", None).await;
        assert_error(app.put_card(999_999, Some("slack"), &card).await, 404, "not_found", None).await;
        assert_error(app.get_api("/api/v1/links/999999/preview").await, 404, "not_found", None).await;
        assert_error(app.delete_card(999_999, None).await, 404, "not_found", None).await;

        let malformed = app.client.put(app.url(&format!("/api/v1/links/{link}/preview")))
            .bearer_auth(&app.api_key).header("content-type", "application/json").body("{\"title\":").send().await.unwrap();
        assert_error(malformed, 400, "malformed_request", None).await;
        let anonymous = app.client.put(app.url(&format!("/api/v1/links/{link}/preview"))).json(&card).send().await.unwrap();
        assert_error(anonymous, 401, "unauthorized", None).await;
        let nothing: Value = app.get_api(&format!("/api/v1/links/{link}/preview")).await.json().await.unwrap();
        assert_eq!(nothing["default"], Value::Null, "no refused card was kept");
    }
}

on_both_backends! {
    async fn a_marketer_sets_and_removes_cards_on_the_links_page_and_bots_get_them_at_once(app) {
        let mut marketer = Visitor::new(&app);
        marketer.set_up_admin().await;
        let link = app.create_link("https://example.com/launch", None).await;
        let page = format!("/app/links/{link}");
        let whatsapp_code = app.share_code(link, "whatsapp").await;
        let slack_code = app.share_code(link, "slack").await;
        let (status, html) = marketer.get(&page).await;
        assert_eq!(status, 200);
        assert!(html.contains("No preview card yet."), "{html}");
        assert_eq!(app.follow(&slack_code, SLACK_UNFURL_UA).await.status(), 302);

        let csrf = marketer.csrf(&page).await;
        let saved = marketer.post(&format!("/app/links/{link}/preview"), &[("csrf", &csrf), ("channel", ""),
            ("title", r#"<b>"Tom" & Jerry</b>"#), ("description", "Both\nlines"),
            ("image_url", "https://cdn.example.com/card.png")]).await;
        assert_eq!(saved.status(), 303);
        assert_eq!(location(saved.headers()), format!("/app/links/{link}#preview-card"));
        let saved = marketer.post(&format!("/app/links/{link}/preview"), &[("csrf", &csrf), ("channel", "whatsapp"),
            ("title", "For WhatsApp"), ("description", ""), ("image_url", "")]).await;
        assert_eq!(saved.status(), 303);

        let response = app.client.get(app.url(&page)).header("cookie", marketer_cookie(&mut marketer, &page).await)
            .send().await.unwrap();
        let csp = response.headers()["content-security-policy"].to_str().unwrap().to_owned();
        assert!(csp.contains("img-src 'self' data: https: http:"), "{csp}");
        assert!(csp.contains("script-src 'self'"), "{csp}");
        let (_, html) = marketer.get(&page).await;
        assert!(html.contains(r#"<strong class="card-title">&#60;b&#62;&#34;Tom&#34; &#38; Jerry&#60;/b&#62;</strong>"#), "{html}");
        assert!(html.contains(r#"<img src="https://cdn.example.com/card.png" alt="" referrerpolicy="no-referrer""#));
        assert!(html.contains(r#"<strong class="card-title">For WhatsApp</strong>"#));
        assert!(!html.contains("Set the default card"), "a link with a default card offers to edit it instead");

        let title = |html: String| meta(&html, r#"property="og:title""#);
        let whatsapp = app.follow(&whatsapp_code, WHATSAPP_UA).await.text().await.unwrap();
        assert_eq!(title(whatsapp).as_deref(), Some("For WhatsApp"));
        let slack = app.follow(&slack_code, SLACK_UNFURL_UA).await.text().await.unwrap();
        assert_eq!(title(slack).as_deref(), Some(r#"<b>"Tom" & Jerry</b>"#));

        let removed = marketer.post(&format!("/app/links/{link}/preview/remove"), &[("csrf", &csrf), ("channel", "whatsapp")]).await;
        assert_eq!(removed.status(), 303);
        let whatsapp = app.follow(&whatsapp_code, WHATSAPP_UA).await.text().await.unwrap();
        assert_eq!(title(whatsapp).as_deref(), Some(r#"<b>"Tom" & Jerry</b>"#));
        let removed = marketer.post(&format!("/app/links/{link}/preview/remove"), &[("csrf", &csrf), ("channel", "")]).await;
        assert_eq!(removed.status(), 303);
        assert_eq!(app.follow(&whatsapp_code, WHATSAPP_UA).await.status(), 302);
    }

    async fn the_card_forms_refuse_bad_cards_channels_and_missing_tokens_and_keep_nothing(app) {
        let mut marketer = Visitor::new(&app);
        marketer.set_up_admin().await;
        let link = app.create_link("https://example.com/", None).await;
        let csrf = marketer.csrf(&format!("/app/links/{link}")).await;
        let path = format!("/app/links/{link}/preview");
        let long_title = "t".repeat(201);
        for (fields, message) in [
            (vec![("csrf", csrf.as_str()), ("title", long_title.as_str())], "title: a title is at most 200 characters"),
            (vec![("csrf", csrf.as_str()), ("title", "")], "title: a preview card needs a title"),
            (vec![("csrf", csrf.as_str()), ("title", "T"), ("image_url", "javascript:alert(1)")], "image url: the image URL must start with https:// or http://"),
            (vec![("csrf", csrf.as_str()), ("title", "T"), ("channel", "myspace")], "&#39;myspace&#39; is not a channel yet"),
        ] {
            let refused = marketer.post(&path, &fields).await;
            assert_eq!(refused.status(), 400, "{message}");
            let html = refused.text().await.unwrap();
            assert!(html.contains(message), "{message} not in {html}");
        }
        let forged = marketer.post(&path, &[("csrf", "forged"), ("title", "T")]).await;
        assert_eq!(forged.status(), 403);
        let unknown = marketer.post("/app/links/999999/preview", &[("csrf", &csrf), ("title", "T")]).await;
        assert_eq!(unknown.status(), 404);
        let stored: Value = app.get_api(&format!("/api/v1/links/{link}/preview")).await.json().await.unwrap();
        assert_eq!(stored, json!({"link_id": link, "default": null, "channels": {}}));
    }
}

/// The marketer's cookies as a header, after reading `page` to keep them fresh.
async fn marketer_cookie(marketer: &mut Visitor<'_>, page: &str) -> String {
    marketer.get(page).await;
    marketer.cookie_header()
}

#[tokio::test]
async fn a_card_set_on_one_instance_reaches_the_preview_bots_of_another() {
    let first = spawn_app(Backend::Postgres).await;
    let second = spawn_app_on(&first.db.url, |_| {}).await;
    let link = first.create_link("https://example.com/launch", None).await;
    let code = first.share_code(link, "whatsapp").await;
    // The second instance has the share cached, without cards.
    assert_eq!(second.follow(&code, WHATSAPP_UA).await.status(), 302);

    let card = json!({"title": "Set elsewhere"});
    assert_eq!(first.put_card(link, None, &card).await.status(), 200);

    let deadline = Instant::now() + Duration::from_secs(5);
    while second.follow(&code, WHATSAPP_UA).await.status() != 200 {
        assert!(Instant::now() < deadline, "the card never reached the other instance");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(first.delete_card(link, None).await.status(), 204);
    let deadline = Instant::now() + Duration::from_secs(5);
    while second.follow(&code, WHATSAPP_UA).await.status() != 302 {
        assert!(
            Instant::now() < deadline,
            "the removed card stayed on the other instance"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
