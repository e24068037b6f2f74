use crate::helpers::*;
use crate::on_both_backends;

on_both_backends! {
    async fn stats_count_clicks_unfurls_and_bots_by_channel_and_app(app) {
        let link = app.create_link("https://example.com/", Some("launch")).await;
        let whatsapp = app.share_code(link, "whatsapp").await;
        let email = app.share_code(link, "email").await;

        for _ in 0..3 {
            app.follow(&whatsapp, BROWSER_UA).await;
        }
        app.follow(&email, BROWSER_UA).await;
        app.follow(&whatsapp, SLACK_UNFURL_UA).await;
        app.follow(&email, GOOGLEBOT_UA).await;
        app.wait_for_visits(6).await;

        let stats = app.stats(link).await;
        assert_eq!(stats["link_id"], link);
        assert_eq!(stats["clicks"]["total"], 4);
        assert_eq!(stats["clicks"]["by_channel"]["whatsapp"], 3);
        assert_eq!(stats["clicks"]["by_channel"]["email"], 1);
        assert_eq!(stats["unfurls"]["total"], 1);
        assert_eq!(stats["unfurls"]["by_app"]["slack"], 1);
        assert_eq!(stats["bots"], 1);
        assert_eq!(stats["unique_visitors"], 1, "one browser on one machine is one visitor");
        assert_eq!(stats["shares"]["total"], 2);
        assert_eq!(stats["daily"].as_array().unwrap().len(), 1);
        assert_eq!(stats["daily"][0]["clicks"], 4);
        assert_eq!(stats["daily"][0]["shares"], 2);
    }

    async fn the_cascade_of_a_chain_and_a_branch(app) {
        // link ─ a ─ b ─ c
        //          └ d
        let link = app.create_link("https://example.com/", None).await;
        let a = app.share_code(link, "whatsapp").await;
        let b = app.create_share(link, "email", Some(&a)).await["code"].as_str().unwrap().to_owned();
        app.create_share(link, "sms", Some(&b)).await;
        app.create_share(link, "slack", Some(&a)).await;
        app.follow(&a, BROWSER_UA).await;
        app.follow(&a, BROWSER_UA).await;
        app.follow(&b, BROWSER_UA).await;
        app.wait_for_visits(3).await;

        let cascade = &app.stats(link).await["cascade"];

        assert_eq!(cascade["max_depth"], 3);
        assert_eq!(cascade["by_depth"][0], serde_json::json!({"depth": 1, "shares": 1, "clicks": 2}));
        assert_eq!(cascade["by_depth"][1], serde_json::json!({"depth": 2, "shares": 2, "clicks": 1}));
        assert_eq!(cascade["by_depth"][2], serde_json::json!({"depth": 3, "shares": 1, "clicks": 0}));
        // 3 child shares / 3 human clicks.
        assert_eq!(cascade["reshare_rate"], 1.0);
        // Subtree sizes a=4, b=2, c=1, d=1 with n=5: Σ s(n−s) = 4+6+4+4 = 18; 18 / 10 = 1.8.
        let virality = cascade["structural_virality"].as_f64().unwrap();
        assert!((virality - 1.8).abs() < 1e-9, "{virality}");
    }

    async fn a_link_with_no_share_has_zero_virality(app) {
        let link = app.create_link("https://example.com/", None).await;
        let stats = app.stats(link).await;
        assert_eq!(stats["cascade"]["structural_virality"], 0.0);
        assert_eq!(stats["cascade"]["max_depth"], 0);
        assert_eq!(stats["clicks"]["total"], 0);
    }

    async fn a_link_without_conversions_is_worth_zero_not_minus_zero(app) {
        let link = app.create_link("https://example.com/", None).await;
        let body = app
            .get_api(&format!("/api/v1/links/{link}/stats"))
            .await
            .text()
            .await
            .expect("body");
        let stats: serde_json::Value = serde_json::from_str(&body).expect("json");
        assert_eq!(stats["conversions"]["total"], 0);
        assert_eq!(stats["conversions"]["value"].to_string(), "0.0", "{body}");
        assert!(!body.contains("-0.0"), "{body}");
    }
}
