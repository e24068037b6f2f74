//! A link's lifecycle through the API: a click limit that only people use up, exactly; a
//! fallback for ended links that counts no click; password-protected links; per-link UTM tags;
//! and the bad input each of those can get.

use crate::helpers::*;
use crate::on_both_backends;
use serde_json::{Value, json};

const DESTINATION: &str = "https://example.com/launch";
const FALLBACK: &str = "https://example.com/offer-ended";
const PASSWORD: &str = "spring-2027";

impl TestApp {
    /// Creates a link with these extra fields and returns its document.
    async fn create_link_with(&self, fields: Value) -> Value {
        let response = self
            .post_json("/api/v1/links", &with(json!({"url": DESTINATION}), &fields))
            .await;
        assert_eq!(response.status(), 201, "creating a link");
        response.json().await.unwrap()
    }

    async fn patch_link(&self, link: i64, body: Value) -> reqwest::Response {
        self.client
            .patch(self.url(&format!("/api/v1/links/{link}")))
            .bearer_auth(&self.api_key)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    async fn link_document(&self, link: i64) -> Value {
        self.get_api(&format!("/api/v1/links/{link}"))
            .await
            .json()
            .await
            .unwrap()
    }

    async fn give_password(&self, code: &str, password: &str) -> reqwest::Response {
        self.post_form(code, &[("password", password)]).await
    }

    /// Posts a form to a short link, as a browser would.
    async fn post_form(&self, code: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        self.client
            .post(self.url(&format!("/{code}")))
            .header("user-agent", BROWSER_UA)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap()
    }
}

/// `base` with the fields of `extra` added.
fn with(mut base: Value, extra: &Value) -> Value {
    base.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    base
}

fn id(link: &Value) -> i64 {
    link["id"].as_i64().unwrap()
}

/// Where a response sends people: the destination (with its tags), elsewhere, or nowhere.
fn destination_of(response: &reqwest::Response) -> String {
    location(response.headers())
}

on_both_backends! {
    async fn a_click_limit_lets_exactly_that_many_people_through_and_bots_use_none_of_it(app) {
        let link = app.create_link_with(json!({"max_clicks": 3})).await;
        assert_eq!((link["max_clicks"].as_i64(), link["clicks_remaining"].as_i64()), (Some(3), Some(3)));
        let whatsapp = app.share_code(id(&link), "whatsapp").await;
        let email = app.share_code(id(&link), "email").await;

        // Slack draws a preview when the link is pasted, a crawler passes, and five people click,
        // on either of the link's two short links: the limit is the link's.
        let mut answers = Vec::new();
        for (code, agent) in [
            (&whatsapp, BROWSER_UA),
            (&whatsapp, SLACK_UNFURL_UA),
            (&whatsapp, GOOGLEBOT_UA),
            (&email, BROWSER_UA),
            (&whatsapp, BROWSER_UA),
            (&email, BROWSER_UA),
            (&whatsapp, BROWSER_UA),
        ] {
            let response = app.follow(code, agent).await;
            answers.push((agent, response.status().as_u16(), destination_of(&response)));
        }

        let people: Vec<(u16, bool)> = answers
            .iter()
            .filter(|(agent, ..)| *agent == BROWSER_UA)
            .map(|(_, status, to)| (*status, to.starts_with(DESTINATION)))
            .collect();
        assert_eq!(people, [(302, true), (302, true), (302, true), (410, false), (410, false)], "{answers:?}");
        let bots: Vec<u16> = answers.iter().filter(|(agent, ..)| *agent != BROWSER_UA).map(|a| a.1).collect();
        assert_eq!(bots, [302, 302], "before the limit, a preview and a crawler go through and use none of it");
        assert_eq!(app.follow(&whatsapp, SLACK_UNFURL_UA).await.status(), 410, "used up, it is ended for everyone");

        app.wait_for_visits(5).await;
        let stats = app.stats(id(&link)).await;
        assert_eq!(stats["clicks"]["total"], 3, "{stats}");
        assert_eq!(stats["clicks"]["by_channel"], json!({"whatsapp": 2, "email": 1}), "{stats}");
        assert_eq!(stats["unfurls"]["total"], 1, "{stats}");
        assert_eq!(stats["bots"], 1, "{stats}");
        assert_eq!(app.link_document(id(&link)).await["clicks_remaining"], 0);

        // A higher limit has room again, for exactly the difference.
        assert_eq!(app.patch_link(id(&link), json!({"max_clicks": 4})).await.status(), 200);
        assert_eq!(app.follow(&email, BROWSER_UA).await.status(), 302);
        assert_eq!(app.follow(&email, BROWSER_UA).await.status(), 410);
        assert_eq!(app.patch_link(id(&link), json!({"max_clicks": null})).await.status(), 200);
        assert_eq!(app.follow(&email, BROWSER_UA).await.status(), 302, "no limit any more");
        app.wait_for_visits(7).await;
        assert_eq!(app.stats(id(&link)).await["clicks"]["total"], 5);
    }

    async fn people_clicking_at_once_never_get_past_the_limit(app) {
        let link = app.create_link_with(json!({"max_clicks": 5})).await;
        let code = app.share_code(id(&link), "sms").await;

        let clicks = (0..20).map(|_| app.follow(&code, BROWSER_UA));
        let statuses: Vec<u16> = futures_util::future::join_all(clicks).await.iter().map(|r| r.status().as_u16()).collect();

        assert_eq!(statuses.iter().filter(|&&s| s == 302).count(), 5, "{statuses:?}");
        assert_eq!(statuses.iter().filter(|&&s| s == 410).count(), 15, "{statuses:?}");
        app.wait_for_visits(5).await;
        assert_eq!(app.stats(id(&link)).await["clicks"]["total"], 5);
    }

    async fn clicks_from_before_a_limit_was_set_count_against_it(app) {
        let link = app.create_link(DESTINATION, None).await;
        let code = app.share_code(link, "slack").await;
        for _ in 0..2 {
            assert_eq!(app.follow(&code, BROWSER_UA).await.status(), 302);
        }
        app.wait_for_visits(2).await;

        let limited: Value = app.patch_link(link, json!({"max_clicks": 3})).await.json().await.unwrap();

        assert_eq!(limited["clicks_remaining"], 1, "{limited}");
        assert_eq!(app.follow(&code, BROWSER_UA).await.status(), 302, "the cached redirect knows the limit at once");
        assert_eq!(app.follow(&code, BROWSER_UA).await.status(), 410);
        app.wait_for_visits(3).await;
        assert_eq!(app.stats(link).await["clicks"]["total"], 3);
    }

    async fn an_ended_link_sends_people_to_its_fallback_and_counts_no_click_for_it(app) {
        let link = app.create_link_with(json!({"max_clicks": 1, "fallback_url": FALLBACK})).await;
        assert_eq!(link["fallback_url"], FALLBACK);
        let code = app.share_code(id(&link), "email").await;

        let first = app.follow(&code, BROWSER_UA).await;
        assert!(destination_of(&first).starts_with(DESTINATION), "the one click");
        for _ in 0..2 {
            let used_up = app.follow(&code, BROWSER_UA).await;
            assert_eq!(used_up.status(), 302);
            assert_eq!(destination_of(&used_up), FALLBACK, "exactly the fallback: no tags, no share code");
            assert_eq!(used_up.headers()["cache-control"], "private, no-store");
        }
        let head = app.client.head(app.url(&format!("/{code}"))).send().await.unwrap();
        assert_eq!(destination_of(&head), FALLBACK);

        // Expired by date, or switched off: the same fallback.
        app.patch_link(id(&link), json!({"max_clicks": null, "expires_at": "2020-01-01T00:00:00Z"})).await;
        assert_eq!(destination_of(&app.follow(&code, BROWSER_UA).await), FALLBACK, "expired");
        app.patch_link(id(&link), json!({"expires_at": null, "disabled": true})).await;
        assert_eq!(destination_of(&app.follow(&code, BROWSER_UA).await), FALLBACK, "switched off");
        app.patch_link(id(&link), json!({"fallback_url": null})).await;
        assert_eq!(app.follow(&code, BROWSER_UA).await.status(), 410, "no fallback: gone");

        app.wait_for_visits(1).await;
        // Give a stray visit of the fallback time to be (wrongly) written before reading.
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        let stats = app.stats(id(&link)).await;
        assert_eq!(stats["clicks"]["total"], 1, "the fallback's visitors are not the link's clicks: {stats}");
        assert_eq!(app.metric("sharetrail_visits_written_total").await, 1);
    }

    async fn a_protected_link_shows_a_form_and_counts_the_visit_once_the_password_is_right(app) {
        let link = app.create_link_with(json!({"password": PASSWORD, "campaign": "Spring"})).await;
        assert_eq!(link["password_protected"], true);
        assert!(link.get("password").is_none() && !link.to_string().contains(PASSWORD), "{link}");
        let code = app.share_code(id(&link), "whatsapp").await;

        let form = app.follow(&code, BROWSER_UA).await;
        assert_eq!(form.status(), 200);
        assert_eq!(form.headers()["cache-control"], "no-store");
        assert_eq!(form.headers()["x-robots-tag"], "noindex, nofollow");
        let html = form.text().await.unwrap();
        assert!(html.contains("<meta name=\"robots\" content=\"noindex\">"), "{html}");
        assert!(html.contains("type=\"password\"") && html.contains("<label for=\"password\">"), "{html}");
        assert!(!html.contains("example.com"), "the page says nothing of where the link goes: {html}");
        let preview = app.follow(&code, SLACK_UNFURL_UA).await;
        assert_eq!(preview.status(), 200, "a preview gets the form too");
        assert!(!preview.text().await.unwrap().contains("example.com"));

        let wrong = app.give_password(&code, "autumn").await;
        assert_eq!(wrong.status(), 401);
        let again = wrong.text().await.unwrap();
        assert!(again.contains("role=\"alert\"") && again.contains("aria-invalid=\"true\""), "{again}");
        assert!(!again.contains("example.com"));

        let right = app.give_password(&code, PASSWORD).await;
        assert_eq!(right.status(), 303);
        assert_eq!(
            destination_of(&right),
            format!("{DESTINATION}?utm_source=whatsapp&utm_medium=social&utm_campaign=spring&st={code}")
        );

        app.wait_for_visits(2).await;
        let stats = app.stats(id(&link)).await;
        assert_eq!(stats["clicks"]["total"], 1, "one person gave the password: {stats}");
        assert_eq!(stats["unfurls"]["total"], 1, "{stats}");

        // Without the password any more, the short link redirects; a form still open gets there too.
        let open: Value = app.patch_link(id(&link), json!({"password": null})).await.json().await.unwrap();
        assert_eq!(open["password_protected"], false);
        assert_eq!(app.follow(&code, BROWSER_UA).await.status(), 302);
        let late = app.give_password(&code, PASSWORD).await;
        assert_eq!((late.status().as_u16(), destination_of(&late)), (303, format!("/{code}")));
    }

    async fn wrong_passwords_are_held_back_per_address_and_link(app) {
        let link = app.create_link_with(json!({"password": PASSWORD})).await;
        let code = app.share_code(id(&link), "email").await;
        let other = app.create_link_with(json!({"password": PASSWORD})).await;
        let other_code = app.share_code(id(&other), "email").await;

        for attempt in 1..=5 {
            assert_eq!(app.give_password(&code, "guess").await.status(), 401, "wrong password {attempt}");
        }
        let held = app.give_password(&code, "guess").await;
        assert_eq!(held.status(), 429);
        let retry: u64 = held.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&retry), "{retry}");
        assert!(held.text().await.unwrap().contains("Too many wrong passwords"));
        assert_eq!(app.give_password(&code, PASSWORD).await.status(), 429, "held back, even with the right one");
        assert_eq!(app.give_password(&other_code, PASSWORD).await.status(), 303, "another link is not held back");

        app.wait_for_visits(1).await;
        assert_eq!(app.stats(id(&link)).await["clicks"]["total"], 0);
    }

    async fn a_protected_link_with_a_click_limit_counts_only_unlocked_visits(app) {
        let link = app.create_link_with(json!({"password": PASSWORD, "max_clicks": 1, "fallback_url": FALLBACK})).await;
        let code = app.share_code(id(&link), "sms").await;

        assert_eq!(app.follow(&code, BROWSER_UA).await.status(), 200, "the form uses nothing");
        assert!(destination_of(&app.give_password(&code, PASSWORD).await).starts_with(DESTINATION));
        let after = app.give_password(&code, PASSWORD).await;
        assert_eq!((after.status().as_u16(), destination_of(&after)), (303, FALLBACK.to_owned()));
        let visit = app.follow(&code, BROWSER_UA).await;
        assert_eq!((visit.status().as_u16(), destination_of(&visit)), (302, FALLBACK.to_owned()), "no form once ended");

        app.wait_for_visits(1).await;
        assert_eq!(app.stats(id(&link)).await["clicks"]["total"], 1);
    }

    async fn a_post_to_a_short_link_without_a_password_or_to_no_link_is_answered_plainly(app) {
        assert_eq!(app.give_password("NoSuchCd", PASSWORD).await.status(), 404);
        let link = app.create_link_with(json!({"password": PASSWORD})).await;
        let code = app.share_code(id(&link), "sms").await;
        let empty = app.post_form(&code, &[("password", "")]).await;
        assert_eq!(empty.status(), 400);
        let huge = app.client.post(app.url(&format!("/{code}"))).body("password=".to_owned() + &"x".repeat(100_000))
            .header("content-type", "application/x-www-form-urlencoded").send().await.unwrap();
        assert!(huge.status().is_client_error(), "{}", huge.status());
        assert_eq!(app.give_password(&code, PASSWORD).await.status(), 303, "nothing held it back");
    }

    async fn a_link_sets_or_leaves_out_utm_tags_over_sharetrails_own(app) {
        let link = app
            .create_link_with(json!({"campaign": "Spring", "utm": {"source": "Newsletter", "medium": false, "term": "shoes"}}))
            .await;
        assert_eq!(link["utm"], json!({"source": "Newsletter", "medium": false, "term": "shoes"}));
        let code = app.share_code(id(&link), "whatsapp").await;
        assert_eq!(
            destination_of(&app.follow(&code, BROWSER_UA).await),
            format!("{DESTINATION}?utm_source=Newsletter&utm_campaign=spring&utm_term=shoes&st={code}")
        );

        let merged: Value = app.patch_link(id(&link), json!({"utm": {"source": null, "utm_content": "hero"}})).await.json().await.unwrap();
        assert_eq!(merged["utm"], json!({"medium": false, "term": "shoes", "content": "hero"}), "merged tag by tag");
        assert_eq!(
            destination_of(&app.follow(&code, BROWSER_UA).await),
            format!("{DESTINATION}?utm_source=whatsapp&utm_campaign=spring&utm_term=shoes&utm_content=hero&st={code}")
        );
        let cleared: Value = app.patch_link(id(&link), json!({"utm": null})).await.json().await.unwrap();
        assert_eq!(cleared["utm"], json!({}));
        assert_eq!(
            destination_of(&app.follow(&code, BROWSER_UA).await),
            format!("{DESTINATION}?utm_source=whatsapp&utm_medium=social&utm_campaign=spring&st={code}")
        );
    }

    async fn every_lifecycle_field_round_trips_through_the_api_and_the_list(app) {
        let link = app
            .create_link_with(json!({
                "expires_at": "2099-06-30T12:00:00Z", "max_clicks": 100, "fallback_url": FALLBACK,
                "password": PASSWORD, "utm": {"content": false}
            }))
            .await;
        let shown = app.link_document(id(&link)).await;
        for (field, value) in [
            ("expires_at", json!("2099-06-30T12:00:00.000Z")),
            ("max_clicks", json!(100)),
            ("clicks_remaining", json!(100)),
            ("fallback_url", json!(FALLBACK)),
            ("password_protected", json!(true)),
            ("utm", json!({"content": false})),
        ] {
            assert_eq!(shown[field], value, "{field} in {shown}");
            assert_eq!(link[field], value, "{field} as created");
        }
        let listed: Value = app.get_api("/api/v1/links").await.json().await.unwrap();
        assert_eq!(listed["links"][0]["password_protected"], true, "{listed}");
        assert!(!listed.to_string().contains("argon2"), "never the hash");

        let plain: Value = app
            .patch_link(id(&link), json!({"expires_at": null, "max_clicks": null, "fallback_url": null, "password": null, "utm": null}))
            .await
            .json()
            .await
            .unwrap();
        for (field, value) in [("expires_at", Value::Null), ("max_clicks", Value::Null), ("clicks_remaining", Value::Null),
            ("fallback_url", Value::Null), ("password_protected", json!(false)), ("utm", json!({}))] {
            assert_eq!(plain[field], value, "{field} in {plain}");
        }
        let untouched: Value = app.patch_link(id(&link), json!({"title": "Only a title"})).await.json().await.unwrap();
        assert_eq!(untouched["max_clicks"], Value::Null);
        let expiring = app.create_link_with(json!({"expires_at": "2020-01-01T00:00:00Z"})).await;
        let code = app.share_code(id(&expiring), "sms").await;
        assert_eq!(app.follow(&code, BROWSER_UA).await.status(), 410, "created already expired");
    }

    async fn bad_lifecycle_values_are_refused_and_change_nothing(app) {
        let link = app.create_link_with(json!({"max_clicks": 10, "password": PASSWORD})).await;
        let own_short_link = app.url("/AbCd2345");
        for (body, field) in [
            (json!({"max_clicks": 0}), "max_clicks"),
            (json!({"max_clicks": -3}), "max_clicks"),
            (json!({"max_clicks": 1_000_000_000_001_i64}), "max_clicks"),
            (json!({"max_clicks": "3"}), "body"),
            (json!({"max_clicks": 2.5}), "body"),
            (json!({"fallback_url": "ftp://example.com/file"}), "fallback_url"),
            (json!({"fallback_url": "javascript:alert(1)"}), "fallback_url"),
            (json!({"fallback_url": "https://user:pw@example.com/"}), "fallback_url"),
            (json!({"fallback_url": own_short_link}), "fallback_url"),
            (json!({"password": "abc"}), "password"),
            (json!({"password": "x".repeat(129)}), "password"),
            (json!({"utm": {"source": true}}), "utm"),
            (json!({"utm": {"source": ""}}), "utm"),
            (json!({"utm": {"medium": "a\u{7}b"}}), "utm"),
            (json!({"utm": {"id": "x"}}), "body"),
            (json!({"utm": "newsletter"}), "body"),
            (json!({"expires_at": "tomorrow"}), "expires_at"),
        ] {
            let patched = app.patch_link(id(&link), with(json!({"title": "Changed"}), &body)).await;
            assert_error(patched, 422, "invalid_value", Some(field)).await;
            let created = app.post_json("/api/v1/links", &with(json!({"url": DESTINATION}), &body)).await;
            assert_error(created, 422, "invalid_value", Some(field)).await;
        }
        let unchanged = app.link_document(id(&link)).await;
        assert_eq!((unchanged["title"].clone(), unchanged["max_clicks"].clone()), (Value::Null, json!(10)), "{unchanged}");
        let code = app.share_code(id(&link), "sms").await;
        assert_eq!(app.give_password(&code, PASSWORD).await.status(), 303, "the password stayed");
        let listed: Value = app.get_api("/api/v1/links").await.json().await.unwrap();
        assert_eq!(listed["links"].as_array().unwrap().len(), 1, "no link was created");
    }
}

on_both_backends! {
    async fn the_link_page_edits_the_lifecycle_and_says_when_and_why_the_link_stops(app) {
        let link = app.create_link(DESTINATION, None).await;
        let code = app.share_code(link, "whatsapp").await;
        let mut marketer = crate::web_ui::Visitor::new(&app);
        marketer.set_up_admin().await;
        let page = format!("/app/links/{link}");
        let edit = format!("{page}/edit");
        let (_, html) = marketer.get(&page).await;
        assert!(html.contains("Works until you switch it off."), "{html}");
        let csrf = marketer.csrf(&page).await;
        let save = |fields: &[(&'static str, &'static str)]| {
            let mut form = vec![("csrf", csrf.clone()), ("url", DESTINATION.to_owned())];
            form.extend(fields.iter().map(|(k, v)| (*k, (*v).to_owned())));
            form
        };

        let form = save(&[
            ("max_clicks", "2"), ("fallback_url", FALLBACK), ("password", PASSWORD),
            ("utm_source", "Partner"), ("utm_medium", ""), ("omit_utm_medium", "1"), ("utm_term", ""),
        ]);
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(marketer.post(&edit, &pairs).await.status(), 303);

        let (_, html) = marketer.get(&page).await;
        assert!(html.contains("after 2 more clicks (0 of 2 clicks used)"), "{html}");
        assert!(html.contains(&format!("send people to {FALLBACK}")), "{html}");
        assert!(html.contains("Visitors must enter its password first."), "{html}");
        assert!(html.contains("name=\"max_clicks\" type=\"number\" min=\"1\" step=\"1\" inputmode=\"numeric\" value=\"2\""), "{html}");
        assert!(html.contains(&format!("value=\"{FALLBACK}\"")), "{html}");
        assert!(html.contains("name=\"utm_source\" value=\"Partner\""), "{html}");
        assert!(html.contains("name=\"omit_utm_medium\" value=\"1\" checked"), "{html}");
        assert!(html.contains("New password") && !html.contains(PASSWORD), "never shown");
        let api = app.link_document(link).await;
        assert_eq!(api["utm"], json!({"source": "Partner", "medium": false}), "{api}");

        assert_eq!(app.follow(&code, BROWSER_UA).await.status(), 200, "the password form");
        assert_eq!(
            destination_of(&app.give_password(&code, PASSWORD).await),
            format!("{DESTINATION}?utm_source=Partner&st={code}")
        );
        assert!(destination_of(&app.give_password(&code, PASSWORD).await).starts_with(DESTINATION));
        assert_eq!(destination_of(&app.give_password(&code, PASSWORD).await), FALLBACK);
        app.wait_for_visits(2).await;
        let (_, html) = marketer.get(&page).await;
        assert!(html.contains(&format!("Used up: 2 of 2 clicks used, so its short links send people to {FALLBACK}.")), "{html}");

        for (fields, said) in [
            (vec![("max_clicks", "0")], "stops after"),
            (vec![("max_clicks", "two")], "stops after"),
            (vec![("fallback_url", "ftp://example.com/")], "fallback"),
            (vec![("fallback_url", "/elsewhere")], "fallback"),
            (vec![("password", "abc")], "password"),
            (vec![("utm_term", "a\u{7}b")], "utm_term"),
        ] {
            let form = save(&fields);
            let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let refused = marketer.post(&edit, &pairs).await;
            assert_eq!(refused.status(), 400, "{fields:?}");
            assert!(refused.text().await.unwrap().contains(said), "{said}");
        }
        let own = app.url("/AbCd2345");
        let mut own_fallback = vec![("csrf", csrf.as_str()), ("url", DESTINATION)];
        own_fallback.push(("fallback_url", own.as_str()));
        assert_eq!(marketer.post(&edit, &own_fallback).await.status(), 400, "a loop back to sharetrail");
        assert_eq!(app.link_document(link).await["max_clicks"], 2, "refused forms change nothing");

        let form = save(&[("max_clicks", ""), ("fallback_url", ""), ("remove_password", "1")]);
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(marketer.post(&edit, &pairs).await.status(), 303);
        let api = app.link_document(link).await;
        assert_eq!((api["max_clicks"].clone(), api["password_protected"].clone()), (Value::Null, json!(false)));
        assert_eq!(api["utm"], json!({"source": "Partner", "medium": false}), "fields not sent stay");
        assert_eq!(app.follow(&code, BROWSER_UA).await.status(), 302);
    }
}

/// `sharetrail ARGS` against the app's database, `input` on its stdin: (success, stdout, stderr).
async fn command_line(app: &TestApp, args: Vec<String>, input: &'static str) -> (bool, String, String) {
    let (database, base_url) = (app.db.url.clone(), app.address.clone());
    tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_sharetrail"));
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("SHARETRAIL_") {
                command.env_remove(name);
            }
        }
        let mut child = command
            .args(&args)
            .env("SHARETRAIL_DATABASE_URL", database)
            .env("SHARETRAIL_BASE_URL", base_url)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start sharetrail");
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        let output = child.wait_with_output().expect("sharetrail ran");
        let text = |bytes: Vec<u8>| String::from_utf8(bytes).unwrap();
        (output.status.success(), text(output.stdout), text(output.stderr))
    })
    .await
    .unwrap()
}

on_both_backends! {
    async fn the_command_line_changes_a_link_that_a_running_server_redirects(app) {
        let link = app.create_link(DESTINATION, None).await;
        let code = app.share_code(link, "sms").await;
        assert_eq!(app.follow(&code, BROWSER_UA).await.status(), 302, "now cached");
        app.wait_for_visits(1).await;
        let update = |extra: &[&str]| {
            let mut args: Vec<String> = ["link", "update", &link.to_string()].map(str::to_owned).to_vec();
            args.extend(extra.iter().map(|s| (*s).to_owned()));
            args
        };

        let looping = command_line(&app, update(&["--fallback", &app.url("/elsewhere")]), "").await;
        assert!(!looping.0 && looping.2.contains("sharetrail address"), "{looping:?}");
        let (ok, stdout, stderr) =
            command_line(&app, update(&["--max-clicks", "2", "--password-stdin", "--utm", "term=cli"]), "spring-2027\n").await;
        assert!(ok, "{stderr}");
        let printed: Value = serde_json::from_str(&stdout).expect("the link's document");
        assert_eq!((printed["max_clicks"].as_i64(), printed["password_protected"].as_bool()), (Some(2), Some(true)));
        assert_eq!(printed["clicks_remaining"], 1, "one click was stored before");

        let api = app.link_document(link).await;
        assert_eq!((api["max_clicks"].clone(), api["utm"].clone()), (json!(2), json!({"term": "cli"})));
        if app.db.url.starts_with("postgres") {
            // Announced like any change: the running instance forgets its cached redirect.
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
            while app.follow(&code, BROWSER_UA).await.status() != 200 {
                assert!(std::time::Instant::now() < deadline, "the server never heard of the change");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            let right = app.give_password(&code, "spring-2027").await;
            assert_eq!(destination_of(&right), format!("{DESTINATION}?utm_source=sms&utm_medium=sms&utm_term=cli&st={code}"));
            assert_eq!(destination_of(&app.give_password(&code, "spring-2027").await).as_str(), "", "410: two clicks in all");
        } else {
            assert!(stderr.contains("within 10 minutes"), "SQLite's one server is not told: {stderr}");
        }
    }
}

/// Two instances on one PostgreSQL: each counts its own clicks exactly and reads the others'
/// every second. Together they may let through what the other let through meanwhile, but every
/// click either redirects is in the stats, and once the counts have met, neither lets anyone else
/// through.
#[tokio::test]
async fn instances_sharing_postgres_count_every_click_and_agree_once_a_limit_is_used_up() {
    let first = spawn_app(Backend::Postgres).await;
    let second = spawn_app_on(&first.db.url, |_| {}).await;
    let link = first.create_link_with(json!({"max_clicks": 3})).await;
    let code = first.share_code(id(&link), "email").await;

    let mut redirected = [0, 0];
    for round in 0..5 {
        for (n, app) in [&first, &second].into_iter().enumerate() {
            match app.follow(&code, BROWSER_UA).await.status().as_u16() {
                302 => redirected[n] += 1,
                status => assert_eq!(status, 410, "round {round} on instance {n}"),
            }
        }
    }

    assert!(
        redirected.iter().all(|&n| n <= 3),
        "neither instance alone passes the limit: {redirected:?}"
    );
    let total = redirected[0] + redirected[1];
    assert!(total >= 3, "{redirected:?}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while first.stats(id(&link)).await["clicks"]["total"] != total {
        assert!(
            std::time::Instant::now() < deadline,
            "every redirect is a click in the stats"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // A batch's flush and a second's refresh later, both know the link is used up.
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    for app in [&first, &second] {
        assert_eq!(app.follow(&code, BROWSER_UA).await.status(), 410);
    }
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert_eq!(
        first.stats(id(&link)).await["clicks"]["total"],
        total,
        "and nothing more was counted"
    );
}
