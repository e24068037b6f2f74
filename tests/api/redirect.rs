use crate::helpers::*;
use crate::on_both_backends;
use serde_json::json;

on_both_backends! {
    async fn a_referrer_is_stored_as_its_host_and_a_huge_one_not_at_all(app) {
        let link = app.create_link("https://example.com/", None).await;
        let code = app.share_code(link, "email").await;
        let huge = format!("https://{}.example/", "a".repeat(60 * 1024));
        for referrer in ["https://News.Example.org/story?id=1", huge.as_str()] {
            let response = app.client.get(app.url(&format!("/{code}"))).header("user-agent", BROWSER_UA)
                .header("referer", referrer).send().await.unwrap();
            assert_eq!(response.status(), 302, "the visit counts either way");
        }
        app.wait_for_visits(2).await;
        let mut hosts = app.db.strings("SELECT referrer_host FROM visits").await;
        hosts.sort();
        assert_eq!(hosts, [None, Some("news.example.org".to_owned())]);
    }

    async fn following_a_share_redirects_with_utm_tags_and_the_code(app) {
        let link = app.create_link("https://example.com/post?ref=home", Some("Spring Sale")).await;
        let share = app.create_share(link, "whatsapp", None).await;
        let code = share["code"].as_str().unwrap();

        let response = app.follow(code, BROWSER_UA).await;

        assert_eq!(response.status(), 302);
        assert_eq!(response.headers()["cache-control"], "private, no-store");
        assert_eq!(
            location(response.headers()),
            format!("https://example.com/post?ref=home&utm_source=whatsapp&utm_medium=social&utm_campaign=spring+sale&st={code}")
        );
    }

    async fn utm_tags_already_on_the_destination_win(app) {
        let link = app.create_link("https://example.com/?utm_source=newsletter&utm_medium=email", None).await;
        let share = app.create_share(link, "slack", None).await;

        let response = app.follow(share["code"].as_str().unwrap(), BROWSER_UA).await;

        let location = location(response.headers());
        assert!(location.contains("utm_source=newsletter&utm_medium=email"), "{location}");
        assert!(!location.contains("utm_source=slack"), "{location}");
    }

    async fn malformed_and_unknown_codes_get_the_same_404(app) {
        let unknown = app.follow("Zz99Zz99", BROWSER_UA).await;
        let malformed = app.follow("not.a.code", BROWSER_UA).await;

        assert_eq!(unknown.status(), 404);
        assert_eq!(malformed.status(), 404);
        assert_eq!(unknown.text().await.unwrap(), malformed.text().await.unwrap());
    }

    async fn a_disabled_link_answers_410_until_enabled_again(app) {
        let link = app.create_link("https://example.com/", None).await;
        let code = app.share_code(link, "email").await;
        assert_eq!(app.follow(&code, BROWSER_UA).await.status(), 302);

        let disable = app.client.patch(app.url(&format!("/api/v1/links/{link}")))
            .bearer_auth(&app.api_key).json(&json!({"disabled": true})).send().await.unwrap();
        assert_eq!(disable.status(), 200);
        assert_eq!(app.follow(&code, BROWSER_UA).await.status(), 410);

        app.client.patch(app.url(&format!("/api/v1/links/{link}")))
            .bearer_auth(&app.api_key).json(&json!({"disabled": false})).send().await.unwrap();
        assert_eq!(app.follow(&code, BROWSER_UA).await.status(), 302);
    }

    async fn head_requests_redirect_but_are_never_clicks(app) {
        let link = app.create_link("https://example.com/", None).await;
        let code = app.share_code(link, "sms").await;

        let response = app.client.head(app.url(&format!("/{code}"))).header("user-agent", BROWSER_UA).send().await.unwrap();

        assert_eq!(response.status(), 302);
        app.wait_for_visits(1).await;
        let stats = app.stats(link).await;
        assert_eq!(stats["clicks"]["total"], 0);
        assert_eq!(stats["bots"], 1);
    }

    async fn a_prefetch_is_not_a_click(app) {
        let link = app.create_link("https://example.com/", None).await;
        let code = app.share_code(link, "sms").await;

        app.client.get(app.url(&format!("/{code}"))).header("user-agent", BROWSER_UA)
            .header("sec-purpose", "prefetch").send().await.unwrap();

        app.wait_for_visits(1).await;
        assert_eq!(app.stats(link).await["clicks"]["total"], 0);
    }

    async fn an_unfurl_names_the_app_a_copied_link_was_pasted_into(app) {
        let link = app.create_link("https://example.com/", None).await;
        let code = app.share_code(link, "copy").await;
        assert!(location(app.follow(&code, BROWSER_UA).await.headers()).contains("utm_source=copy"));

        app.follow(&code, SLACK_UNFURL_UA).await;
        app.wait_for_visits(2).await;

        let share = app.get_api(&format!("/api/v1/shares/{code}")).await.json::<serde_json::Value>().await.unwrap();
        assert_eq!(share["inferred_channel"], "slack");
        assert_eq!(share["unfurls"], 1);
        assert_eq!(share["clicks"], 1);
        let later = location(app.follow(&code, BROWSER_UA).await.headers());
        assert!(later.contains("utm_source=slack&utm_medium=social"), "{later}");
    }

    async fn a_scan_of_random_codes_never_reaches_the_database(app) {
        let link = app.create_link("https://example.com/", None).await;
        let live = app.share_code(link, "email").await;
        let codes: Vec<String> = (0..200).map(|i| format!("scan{i:04}x")).collect();

        for code in &codes {
            assert_eq!(app.follow(code, BROWSER_UA).await.status(), 404);
        }

        // A Bloom filter lets ~1% through; the rest never cost a query.
        let misses = app.metric("sharetrail_cache_misses_total").await;
        assert!(misses <= 10, "{misses} of 200 random codes reached the database");
        assert!(app.metric("sharetrail_codes_filtered_total").await >= 190);
        assert_eq!(app.follow(&live, BROWSER_UA).await.status(), 302, "real codes still pass the filter");
    }

    async fn a_slug_tried_before_it_existed_redirects_once_created(app) {
        assert_eq!(app.follow("launch-day", BROWSER_UA).await.status(), 404);
        let link = app.create_link("https://example.com/launch", None).await;

        let created = app.post_json("/api/v1/shares", &json!({"link_id": link, "channel": "email", "slug": "Launch-Day"})).await;
        assert_eq!(created.status(), 201);

        assert_eq!(app.follow("launch-day", BROWSER_UA).await.status(), 302);
        assert_eq!(app.follow("LAUNCH-DAY", BROWSER_UA).await.status(), 302);
    }
}

on_both_backends! {
    async fn a_generated_code_that_spells_a_reserved_word_still_redirects(app) {
        // Most redirects are answered before routing, which leaves reserved words to the
        // router; a generated code can still spell one (57^8 codes include "settings").
        let link = app.create_link("https://example.com/reserved", None).await;
        app.create_share(link, "email", None).await;
        let renamed = app.db.strings("UPDATE shares SET code = 'settings' RETURNING code").await;
        assert_eq!(renamed, [Some("settings".to_owned())]);
        // Any change to a link makes the app forget its cache and reload its code filter, which
        // it does in the background.
        let touch = app.client.patch(app.url(&format!("/api/v1/links/{link}")))
            .bearer_auth(&app.api_key).json(&json!({"disabled": false})).send().await.unwrap();
        assert_eq!(touch.status(), 200);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let mut response = app.follow("settings", BROWSER_UA).await;
        while response.status() == 404 && std::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            response = app.follow("settings", BROWSER_UA).await;
        }

        assert_eq!(response.status(), 302);
        assert!(location(response.headers()).ends_with("st=settings"), "{:?}", response.headers());
    }
}
