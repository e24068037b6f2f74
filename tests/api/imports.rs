//! Imports from other shorteners, on both backends: each sample export through the admins' web
//! upload and through `sharetrail import`, codes that keep redirecting, re-runs that add nothing,
//! dry runs that write nothing, conflicts and bad rows reported by line, and figures that keep
//! imported clicks apart from measured ones.

use crate::helpers::*;
use crate::on_both_backends;
use crate::web_ui::{PASSWORD, Visitor};
use serde_json::{Value, json};
use std::process::Command;

/// The code every sample export also holds, which sharetrail already uses for another page.
const TAKEN: &str = "launch";
const TAKEN_URL: &str = "https://example.com/elsewhere";

struct Sample {
    format: &'static str,
    file: &'static str,
    /// Each created code and the destination it keeps.
    codes: &'static [(&'static str, &'static str)],
    /// The line of the row with a bad destination.
    bad_line: usize,
    summary: &'static str,
}

const SAMPLES: [Sample; 4] = [
    Sample {
        format: "bitly",
        file: "bitly.json",
        codes: &[
            ("3Tq8ZkA", "https://example.com/menu?lang=fr"),
            ("spring-menu", "https://example.com/menu?lang=fr"),
            ("4aBcDeF", "https://example.com/pricing"),
            ("2xYz9Ab", "https://example.com/blog/matcha"),
        ],
        bad_line: 45,
        summary: "4 created, 0 already imported, 1 duplicate, 1 conflict, 1 row with a problem",
    },
    Sample {
        format: "shlink",
        file: "shlink.json",
        codes: &[
            ("12Kb3", "https://example.org/docs/getting-started"),
            ("summer-party", "https://example.org/events/summer?ref=poster"),
        ],
        bad_line: 46,
        summary: "2 created, 0 already imported, 1 duplicate, 1 conflict, 1 row with a problem",
    },
    Sample {
        format: "yourls",
        file: "yourls.json",
        codes: &[
            ("1", "https://example.net/"),
            ("ozh", "https://example.net/about?from=yourls"),
        ],
        bad_line: 27,
        summary: "2 created, 0 already imported, 1 duplicate, 1 conflict, 1 row with a problem",
    },
    Sample {
        format: "csv",
        file: "sharetrail.csv",
        codes: &[
            ("autumn-menu", "https://example.com/menu/autumn"),
            ("Kx7pQr2m", "https://example.com/gift-cards"),
            ("recipe", "https://example.com/recettes/cr%C3%A8me-br%C3%BBl%C3%A9e"),
        ],
        bad_line: 5,
        summary: "3 created, 0 already imported, 1 duplicate, 1 conflict, 1 row with a problem",
    },
];

fn fixture_path(file: &str) -> String {
    format!("{}/tests/fixtures/{file}", env!("CARGO_MANIFEST_DIR"))
}

fn fixture(file: &str) -> Vec<u8> {
    std::fs::read(fixture_path(file)).expect("a sample export")
}

/// The code sharetrail had before any import: `launch`, a custom slug for another page.
async fn take_the_shared_code(app: &TestApp) {
    let link = app.create_link(TAKEN_URL, None).await;
    let made = app
        .post_json(
            "/api/v1/shares",
            &json!({"link_id": link, "channel": "qr", "slug": TAKEN}),
        )
        .await;
    assert_eq!(made.status(), 201);
}

/// The imported history of a link whose export held none.
static NO_HISTORY: std::sync::LazyLock<Value> =
    std::sync::LazyLock::new(|| json!({"clicks": 0, "bots": 0, "daily": [], "countries": {}}));

/// A multipart/form-data body as a browser sends the upload form.
fn upload_body(csrf: &str, format: &str, file_name: &str, file: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----sharetrail-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, value) in [("csrf", csrf), ("format", format)] {
        body.extend_from_slice(
            format!("--{boundary}\r\ncontent-disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\ncontent-disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
             content-type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Uploads `file` on the import page, as `visitor`, and returns the status and page.
async fn upload(visitor: &mut Visitor<'_>, app: &TestApp, format: &str, file_name: &str, file: &[u8]) -> (u16, String) {
    let csrf = visitor.csrf("/app/import").await;
    let (content_type, body) = upload_body(&csrf, format, file_name, file);
    let response = app
        .client
        .post(app.url("/app/import"))
        .header("cookie", visitor.cookie_header())
        .header("origin", &app.address)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("upload");
    let status = response.status().as_u16();
    (status, response.text().await.expect("page"))
}

/// The confirmation token a preview page carries, if it offers to import.
fn confirm_token(html: &str) -> Option<String> {
    let start = html.find("name=\"upload\" value=\"")? + "name=\"upload\" value=\"".len();
    Some(html[start..].split('"').next()?.to_owned())
}

async fn confirm(visitor: &mut Visitor<'_>, token: &str) -> (u16, String) {
    let csrf = visitor.csrf("/app/import").await;
    let response = visitor
        .post("/app/import/confirm", &[("csrf", &csrf), ("upload", token)])
        .await;
    let status = response.status().as_u16();
    (status, response.text().await.expect("page"))
}

async fn assert_redirects_to(app: &TestApp, code: &str, destination: &str) {
    let response = app.follow(code, BROWSER_UA).await;
    assert_eq!(response.status(), 302, "{code}");
    let location = location(response.headers());
    assert!(
        location.starts_with(destination),
        "{code} → {location}, not {destination}"
    );
    assert!(location.ends_with(&format!("st={code}")), "{location}");
}

async fn share(app: &TestApp, code: &str) -> reqwest::Response {
    app.get_api(&format!("/api/v1/shares/{code}")).await
}

/// The summary line of a report page (askama writes `'` as `&#39;`).
fn page_says(html: &str, text: &str) -> bool {
    html.contains(&text.replace('\'', "&#39;"))
}

on_both_backends! {
    async fn every_sample_export_imports_once_through_the_web_upload_and_its_codes_keep_redirecting(app) {
        take_the_shared_code(&app).await;
        let mut ana = Visitor::new(&app);
        ana.set_up_admin().await;
        for sample in &SAMPLES {
            let file = fixture(sample.file);
            let (status, preview) = upload(&mut ana, &app, sample.format, sample.file, &file).await;
            assert_eq!(status, 200, "{}: {preview}", sample.file);
            assert!(page_says(&preview, "Nothing has been written yet"), "{preview}");
            assert!(page_says(&preview, sample.summary), "{}: {preview}", sample.file);
            assert!(preview.contains(&format!("<td data-label=\"Line\">{}</td>", sample.bad_line)), "{preview}");
            let (first, _) = sample.codes[0];
            assert_eq!(app.follow(first, BROWSER_UA).await.status(), 404, "a preview writes nothing");
            assert_eq!(share(&app, first).await.status(), 404);

            let token = confirm_token(&preview).expect("a preview with new codes offers to import them");
            let (status, done) = confirm(&mut ana, &token).await;
            assert_eq!(status, 200, "{done}");
            assert!(page_says(&done, sample.summary), "{}: {done}", sample.file);
            for (code, destination) in sample.codes {
                assert_redirects_to(&app, code, destination).await;
                let doc: Value = share(&app, code).await.json().await.unwrap();
                assert_eq!((&doc["channel"], &doc["depth"]), (&json!("direct"), &json!(1)), "{doc}");
            }
            assert_redirects_to(&app, TAKEN, TAKEN_URL).await;

            let (status, again) = confirm(&mut ana, &token).await;
            assert_eq!(status, 422, "a preview imports once");
            assert!(page_says(&again, "imported already"), "{again}");
            let (_, rerun) = upload(&mut ana, &app, sample.format, sample.file, &file).await;
            let already = sample.codes.len();
            let summary = format!("0 created, {already} already imported, 1 duplicate, 1 conflict, 1 row with a problem");
            assert!(page_says(&rerun, &summary), "{rerun}");
            assert_eq!(confirm_token(&rerun), None, "nothing left to import");
        }
        let links: Value = app.get_api("/api/v1/links?limit=200").await.json().await.unwrap();
        let imported_links = links["links"].as_array().unwrap().len() - 1;
        assert_eq!(imported_links, 3 + 2 + 2 + 3, "one link per row, a back-half beside its code");
    }

    async fn an_imported_link_keeps_title_campaign_and_date_and_its_figures_stay_exact(app) {
        let mut ana = Visitor::new(&app);
        ana.set_up_admin().await;
        let (_, preview) = upload(&mut ana, &app, "csv", "sharetrail.csv", &fixture("sharetrail.csv")).await;
        confirm(&mut ana, &confirm_token(&preview).unwrap()).await;
        let doc: Value = share(&app, "autumn-menu").await.json().await.unwrap();
        let link_id = doc["link_id"].as_i64().unwrap();
        assert_eq!(doc["created_at"], "2025-09-22T08:00:00.000Z");
        let link: Value = app.get_api(&format!("/api/v1/links/{link_id}")).await.json().await.unwrap();
        assert_eq!(link["title"], "Menu d'automne, édition 2025");
        assert_eq!(link["campaign"], "autumn-2025");
        assert_eq!(link["created_at"], "2025-09-22T08:00:00.000Z");
        let campaigns: Value = app.get_api("/api/v1/campaigns").await.json().await.unwrap();
        assert!(campaigns.to_string().contains("\"Autumn 2025\""), "the tag names its campaign: {campaigns}");

        let before = app.stats(link_id).await;
        assert_eq!(before["clicks"]["total"], 0, "the other tool's clicks are not sharetrail's");
        assert_eq!(before["imported"], json!({"codes": 1, "clicks": 31, "history": NO_HISTORY.clone()}));
        assert_eq!(before["shares"], json!({"total": 1, "by_channel": {"direct": 1}}));
        assert_eq!(before["daily"], json!([{"date": "2025-09-22", "clicks": 0, "shares": 1, "unfurls": 0, "bots": 0}]));

        // Two people (one reloads), a link preview in Slack and a crawler.
        let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
        for agent in [BROWSER_UA, BROWSER_UA, firefox, SLACK_UNFURL_UA, GOOGLEBOT_UA] {
            let response = app.follow("autumn-menu", agent).await;
            assert_eq!(response.status(), 302);
            assert!(location(response.headers()).contains("utm_campaign=autumn-2025"));
        }
        app.wait_for_visits(5).await;
        let after = app.stats(link_id).await;
        assert_eq!(after["clicks"], json!({"total": 3, "by_channel": {"direct": 3}}));
        assert_eq!(after["unique_visitors"], 2);
        assert_eq!(after["unfurls"], json!({"total": 1, "by_app": {"slack": 1}}));
        assert_eq!(after["bots"], 1);
        assert_eq!(after["imported"], json!({"codes": 1, "clicks": 31, "history": NO_HISTORY.clone()}), "imported clicks stay as they were");
        assert_eq!(after["cascade"]["by_depth"], json!([{"depth": 1, "shares": 1, "clicks": 3}]));
        let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
        let days = after["daily"].as_array().unwrap();
        assert_eq!(days.len(), 2, "{days:?}");
        assert_eq!((&days[1]["date"], &days[1]["clicks"], &days[1]["shares"]), (&json!(today), &json!(3), &json!(0)));

        let (status, page) = ana.get(&format!("/app/links/{link_id}")).await;
        assert_eq!(status, 200);
        assert!(page.contains("31 imported clicks"), "{page}");
    }

    async fn only_admins_import_and_only_with_the_forms_token(app) {
        let mut ana = Visitor::new(&app);
        ana.set_up_admin().await;
        let csrf = ana.csrf("/app/users").await;
        let created = ana
            .post("/app/users", &[("csrf", &csrf), ("name", "Bo"), ("email", "bo@example.com"), ("role", "member"), ("password", PASSWORD)])
            .await;
        assert_eq!(created.status(), 200);
        let mut bo = Visitor::new(&app);
        assert_eq!(bo.sign_in("bo@example.com", PASSWORD).await.status(), 303);
        assert_eq!(bo.get("/app/import").await.0, 403);
        let (content_type, body) = upload_body(&csrf, "csv", "sharetrail.csv", &fixture("sharetrail.csv"));
        let as_bo = app
            .client
            .post(app.url("/app/import"))
            .header("cookie", bo.cookie_header())
            .header("content-type", content_type.clone())
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(as_bo.status(), 403, "a member cannot upload");
        let (_, body) = upload_body("not-the-token", "csv", "sharetrail.csv", &fixture("sharetrail.csv"));
        let forged = app
            .client
            .post(app.url("/app/import"))
            .header("cookie", ana.cookie_header())
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), 403, "an upload without the session's token is refused");
        let anonymous = app.client.get(app.url("/app/import")).send().await.unwrap();
        assert_eq!(anonymous.status(), 303, "signing in first");
        assert_eq!(share(&app, "autumn-menu").await.status(), 404, "nothing was imported");
    }

    async fn uploads_too_large_or_of_another_format_are_explained_and_write_nothing(app) {
        let mut ana = Visitor::new(&app);
        ana.set_up_admin().await;
        let mut huge = b"code,url\n".to_vec();
        while huge.len() <= 8 * 1024 * 1024 {
            huge.extend_from_slice(b"some-code,https://example.com/a-long-enough-page-address-to-fill-the-file\n");
        }
        let (status, page) = upload(&mut ana, &app, "csv", "huge.csv", &huge).await;
        assert_eq!(status, 413);
        assert!(page_says(&page, "larger than 8 MB"), "{page}");

        let (status, page) = upload(&mut ana, &app, "bitly", "sharetrail.csv", &fixture("sharetrail.csv")).await;
        assert_eq!(status, 422);
        assert!(page_says(&page, "cannot be imported as a Bitly export"), "{page}");
        let (status, page) = upload(&mut ana, &app, "csv", "links.csv", b"short,long\nx,https://example.com\n").await;
        assert_eq!(status, 422);
        assert!(page_says(&page, "code,url"), "{page}");
        let (status, _) = upload(&mut ana, &app, "word", "links.csv", b"code,url\n").await;
        assert_eq!(status, 422);
        let (status, page) = upload(&mut ana, &app, "csv", "empty.csv", b"").await;
        assert_eq!(status, 422);
        assert!(page_says(&page, "empty"), "{page}");
        assert_eq!(share(&app, "some-code").await.status(), 404);
    }

    async fn the_command_line_import_reports_the_same_in_a_dry_run_and_writes_once(app) {
        take_the_shared_code(&app).await;
        let sample = &SAMPLES[3];
        let run = |dry_run: bool| {
            let mut command = Command::new(env!("CARGO_BIN_EXE_sharetrail"));
            command.args(["import", "csv", &fixture_path(sample.file)]);
            if dry_run {
                command.arg("--dry-run");
            }
            for (name, _) in std::env::vars_os() {
                if name.to_string_lossy().starts_with("SHARETRAIL_") {
                    command.env_remove(name);
                }
            }
            let output = command.env("SHARETRAIL_DATABASE_URL", &app.db.url).output().expect("run sharetrail");
            assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
            String::from_utf8(output.stdout).expect("UTF-8")
        };
        let dry = run(true);
        assert_eq!(share(&app, "autumn-menu").await.status(), 404, "a dry run writes nothing");
        let real = run(false);
        let (first, rest) = dry.split_once('\n').unwrap();
        assert!(first.starts_with("Dry run"), "{dry}");
        assert_eq!(rest, real, "a dry run prints exactly what the import then does");
        assert!(real.contains(sample.summary), "{real}");
        assert!(real.contains("line 4: launch: conflict: sharetrail already sends 'launch' to https://example.com/elsewhere"), "{real}");
        assert!(real.contains("line 5: problem: 'notaurl'"), "{real}");
        assert!(real.contains("line 6: autumn-menu: duplicate: same as line 2"), "{real}");
        for (code, _) in sample.codes {
            assert_eq!(share(&app, code).await.status(), 200, "{code}");
        }
        if app.db.url.starts_with("postgres") {
            // Running instances hear of the new codes at once; on SQLite, when restarted.
            for (code, destination) in sample.codes {
                assert_redirects_to(&app, code, destination).await;
            }
        }
        let again = run(false);
        assert!(again.contains("0 created, 3 already imported, 1 duplicate, 1 conflict, 1 row with a problem"), "{again}");
        assert_redirects_to(&app, TAKEN, TAKEN_URL).await;
    }
}

/// Runs `statements` on the app's database, beside it.
async fn execute(app: &TestApp, statements: &[&str]) {
    for sql in statements {
        let sql = sqlx::AssertSqlSafe(sql.to_string());
        if app.db.url.starts_with("postgres") {
            let pool = sqlx::PgPool::connect(&app.db.url).await.expect("connect");
            sqlx::raw_sql(sql).execute(&pool).await.expect("the statement");
        } else {
            let pool = sqlx::SqlitePool::connect(&app.db.url).await.expect("connect");
            sqlx::raw_sql(sql).execute(&pool).await.expect("the statement");
        }
    }
}

/// Makes writing a German visit history fail, as a crash or a full disk would at that step,
/// the last of an imported link's writes.
async fn fail_german_histories(app: &TestApp) {
    if app.db.url.starts_with("postgres") {
        execute(
            app,
            &[
                "CREATE FUNCTION refuse_history() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN RAISE EXCEPTION 'the disk is full'; END $$",
                "CREATE TRIGGER refuse_history BEFORE INSERT ON imported_visits FOR EACH ROW \
             WHEN (NEW.country = 'DE') EXECUTE FUNCTION refuse_history()",
            ],
        )
        .await;
    } else {
        execute(
            app,
            &[
                "CREATE TRIGGER refuse_history BEFORE INSERT ON imported_visits WHEN NEW.country = 'DE' \
             BEGIN SELECT RAISE(ABORT, 'the disk is full'); END",
            ],
        )
        .await;
    }
}

const SHLINK_VISITS: &str = "shlink-visits.json";
const PARTY: &str = "summer-party";

/// What `shlink-visits.json` holds for `summer-party`: five visits, one a potential bot.
fn party_history() -> Value {
    json!({
        "clicks": 4,
        "bots": 1,
        "daily": [
            {"date": "2024-07-01", "clicks": 1, "bots": 0},
            {"date": "2024-07-02", "clicks": 2, "bots": 1},
            {"date": "2024-07-04", "clicks": 1, "bots": 0}
        ],
        "countries": {"FR": 2, "US": 1, "unknown": 1}
    })
}

async fn link_of(app: &TestApp, code: &str) -> i64 {
    let doc: Value = share(app, code).await.json().await.unwrap();
    doc["link_id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no share {code}: {doc}"))
}

async fn link_count(app: &TestApp) -> usize {
    let links: Value = app.get_api("/api/v1/links?limit=200").await.json().await.unwrap();
    links["links"].as_array().unwrap().len()
}

on_both_backends! {
    async fn a_link_whose_writes_fail_half_way_leaves_nothing_and_a_rerun_imports_it_whole(app) {
        fail_german_histories(&app).await;
        let store = open_store(&app).await;
        let file = fixture(SHLINK_VISITS);
        let now = chrono::Utc::now().timestamp_millis();
        let failed = sharetrail::importer::import(store.as_ref(), sharetrail::domain::import::ImportFormat::Shlink, &file, false, now).await;
        assert!(failed.is_err(), "the second link's history cannot be written");

        // The first link is whole; of the second, not its link, code, imported clicks nor history.
        assert_eq!(link_count(&app).await, 1);
        let party = link_of(&app, PARTY).await;
        let stats = app.stats(party).await;
        assert_eq!(stats["imported"], json!({"codes": 1, "clicks": 4, "history": party_history()}));
        assert_eq!(share(&app, "menu").await.status(), 404);

        let drop = match app.db.url.starts_with("postgres") {
            true => "DROP TRIGGER refuse_history ON imported_visits",
            false => "DROP TRIGGER refuse_history",
        };
        execute(&app, &[drop]).await;
        let rerun = sharetrail::importer::import(store.as_ref(), sharetrail::domain::import::ImportFormat::Shlink, &file, false, now)
            .await
            .expect("the rerun");
        assert_eq!(rerun.report.summary(), "1 created, 1 already imported, 0 duplicates, 0 conflicts, 1 row with a problem");
        assert_eq!(rerun.created, ["menu"]);
        assert_eq!(link_count(&app).await, 2);
        let menu = app.stats(link_of(&app, "menu").await).await;
        assert_eq!(menu["imported"], json!({"codes": 1, "clicks": 2, "history": {
            "clicks": 2, "bots": 0, "daily": [{"date": "2024-05-03", "clicks": 2, "bots": 0}], "countries": {"DE": 2}
        }}));
        assert_eq!(menu["shares"], json!({"total": 1, "by_channel": {"direct": 1}}), "the share counted once");
        assert_eq!(app.stats(party).await["imported"], stats["imported"], "the history is not written twice");
    }

    async fn a_new_link_none_of_whose_codes_can_be_minted_is_not_kept(app) {
        take_the_shared_code(&app).await;
        let store = open_store(&app).await;
        let code = sharetrail::domain::code::Code::parse("LAUNCH").unwrap();
        let write = sharetrail::store::imports::ImportWrite {
            link: sharetrail::store::imports::ImportTarget::New(sharetrail::store::imports::NewImportedLink {
                url: sharetrail::domain::destination::Destination::parse("https://example.com/raced").unwrap(),
                title: None,
                campaign: Some(("raced".into(), "Raced".into())),
            }),
            codes: vec![sharetrail::store::imports::ImportedCodeWrite { code, clicks: 9, history: None }],
            source: "csv",
            created_at: 1_700_000_000_000,
        };
        // As when another writer takes the code between the plan and the write.
        let written = store.import_link(&write, 1_700_000_000_000).await.expect("the write");
        assert_eq!(written.link_id, None);
        assert!(matches!(written.created[..], [Err(sharetrail::store::MintRefusal::CodeTaken)]), "{written:?}");
        assert_eq!(link_count(&app).await, 1, "no empty link");
        let campaigns: Value = app.get_api("/api/v1/campaigns").await.json().await.unwrap();
        assert!(!campaigns.to_string().contains("Raced"), "nor its campaign: {campaigns}");
    }

    async fn a_shlink_visit_history_is_imported_apart_from_measured_clicks_and_once(app) {
        let mut ana = Visitor::new(&app);
        ana.set_up_admin().await;
        let file = fixture(SHLINK_VISITS);
        let summary = "2 created, 0 already imported, 0 duplicates, 0 conflicts, 1 row with a problem";
        let (_, preview) = upload(&mut ana, &app, "shlink", SHLINK_VISITS, &file).await;
        assert!(page_says(&preview, summary), "{preview}");
        assert!(page_says(&preview, "the visits of 'paged' are page 1 of 3"), "{preview}");
        assert!(preview.contains("<td data-label=\"Line\">181</td>"), "{preview}");
        let (status, done) = confirm(&mut ana, &confirm_token(&preview).unwrap()).await;
        assert_eq!(status, 200);
        assert!(page_says(&done, summary), "{done}");

        let party = link_of(&app, PARTY).await;
        let before = app.stats(party).await;
        assert_eq!(before["imported"], json!({"codes": 1, "clicks": 4, "history": party_history()}));
        assert_eq!(before["clicks"], json!({"total": 0, "by_channel": {}}), "another tool's visits are not sharetrail's clicks");
        assert_eq!((&before["unique_visitors"], &before["bots"]), (&json!(0), &json!(0)));
        assert_eq!(before["daily"], json!([{"date": "2024-06-30", "clicks": 0, "shares": 1, "unfurls": 0, "bots": 0}]));
        assert_eq!(before["cascade"]["by_depth"], json!([{"depth": 1, "shares": 1, "clicks": 0}]));

        let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
        for agent in [BROWSER_UA, firefox] {
            assert_eq!(app.follow(PARTY, agent).await.status(), 302);
        }
        app.wait_for_visits(2).await;
        let after = app.stats(party).await;
        assert_eq!(after["clicks"], json!({"total": 2, "by_channel": {"direct": 2}}));
        assert_eq!(after["unique_visitors"], 2);
        assert_eq!(after["cascade"]["by_depth"], json!([{"depth": 1, "shares": 1, "clicks": 2}]));
        assert_eq!(after["imported"], before["imported"], "the imported history stays as it was");

        let (_, rerun) = upload(&mut ana, &app, "shlink", SHLINK_VISITS, &file).await;
        assert!(page_says(&rerun, "0 created, 2 already imported, 0 duplicates, 0 conflicts, 1 row with a problem"), "{rerun}");
        assert_eq!(app.stats(party).await["imported"], before["imported"], "a rerun doubles nothing");

        let (status, page) = ana.get(&format!("/app/links/{party}")).await;
        assert_eq!(status, 200);
        assert!(page.contains("<strong>4 imported clicks</strong>"), "{page}");
        assert!(page.contains("Imported visit history: 4 visits by people and 1 by bots, 3 days"), "{page}");
        assert!(page.contains("<td data-label=\"Day\">2024-07-02</td><td data-label=\"People\">2</td><td data-label=\"Bots\">1</td>"), "{page}");
        assert!(page.contains("<td data-label=\"Country\">FR</td><td data-label=\"People\">2</td>"), "{page}");
        let (_, menu_page) = ana.get(&format!("/app/links/{}", link_of(&app, "menu").await)).await;
        assert!(menu_page.contains("Imported visit history: 2 visits by people, 1 day"), "{menu_page}");
    }

    async fn a_code_of_a_deleted_link_is_a_conflict_never_already_imported(app) {
        take_the_shared_code(&app).await;
        let doomed = app.create_link("https://example.com/launch", None).await;
        let made = app.post_json("/api/v1/shares", &json!({"link_id": doomed, "channel": "qr", "slug": "autumn-menu"})).await;
        assert_eq!(made.status(), 201);
        let made = app.post_json("/api/v1/shares", &json!({"link_id": doomed, "channel": "qr", "slug": "Kx7pQr2m"})).await;
        assert_eq!(made.status(), 201);
        let deleted = app.client.delete(app.url(&format!("/api/v1/links/{doomed}"))).bearer_auth(&app.api_key).send().await.unwrap();
        assert_eq!(deleted.status(), 204);

        let store = open_store(&app).await;
        let now = chrono::Utc::now().timestamp_millis();
        let run = sharetrail::importer::import(store.as_ref(), sharetrail::domain::import::ImportFormat::Csv, &fixture("sharetrail.csv"), false, now)
            .await
            .expect("the import");
        let report = run.report.to_string();
        assert!(report.contains("line 2: autumn-menu: conflict: 'autumn-menu' belonged to a deleted link and is never reused; skipped, not overwritten"), "{report}");
        assert!(report.contains("line 3: Kx7pQr2m: conflict: 'Kx7pQr2m' belonged to a deleted link and is never reused"), "{report}");
        assert!(report.contains("1 created, 0 already imported, 1 duplicate, 3 conflicts, 1 row with a problem"), "{report}");
        assert_eq!(run.created, ["recipe"]);
        assert_eq!(link_count(&app).await, 2, "the shared code's link and the recipe's");
        let gone = app.follow("autumn-menu", BROWSER_UA).await;
        assert_eq!(gone.status(), 410, "the deleted link's code still answers gone");
    }
}
