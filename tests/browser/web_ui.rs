//! The marketers' web UI in Chromium: first-run setup, signing in and out, a campaign link with
//! three channels, its analytics, event QR codes, the cascade drawing, CSV export and roles.
//! Screenshots of the main pages land in `target/screenshots/` for the docs.

use crate::helpers::*;
use crate::support::*;
use fantoccini::Locator;
use serde_json::json;

#[tokio::test]
async fn a_marketer_sets_up_signs_in_creates_shares_and_reads_a_campaign() {
    let app = spawn_app(Backend::Sqlite).await;
    let driver = Driver::start().await;
    let browser = driver.browser().await;
    browser.client.set_window_size(1280, 1000).await.expect("window size");

    // First run: the setup link creates the admin and signs them in.
    set_up_admin(&browser, &app).await;
    assert!(browser.text().await.contains("No campaigns yet"));

    // Sign out, then a wrong password is refused and the right one works.
    browser
        .client
        .find(Locator::Css(".signout button"))
        .await
        .expect("sign out")
        .click()
        .await
        .expect("click");
    browser.wait_for_path("/app/login").await;
    sign_in(&browser, &app, "ana@example.com", "not my password at all").await;
    browser
        .wait_for(
            "the refusal",
            "return document.getElementById('login-error')?.innerText",
        )
        .await;
    browser.screenshot("sign-in").await;
    sign_in(&browser, &app, "ana@example.com", PASSWORD).await;
    browser.wait_for_path("/app/campaigns").await;

    // A campaign link with three channels, in one step.
    browser.goto(&app.url("/app/links/new")).await;
    browser
        .eval(
            "for (const c of ['whatsapp', 'email', 'slack']) document.querySelector(`input[name=channel][value=${c}]`).checked = true;",
            vec![],
        )
        .await;
    browser.screenshot("new-link").await;
    // A destination the follower's browser can load: this machine has no outside network.
    let destination = app.url("/healthz");
    browser
        .submit(&[
            ("url", &destination),
            ("title", "Launch post"),
            ("new_campaign", "Spring Launch"),
        ])
        .await;
    let link_page = browser.wait_for_path("/app/links/").await;
    let short_urls = browser
        .eval(
            "return [...document.querySelectorAll('.short-url')].map(i => i.value)",
            vec![],
        )
        .await;
    let short_urls: Vec<String> = serde_json::from_value(short_urls).expect("short URLs");
    assert_eq!(short_urls.len(), 3, "{short_urls:?}");
    let channels = browser
        .eval(
            "return [...document.querySelectorAll('.short-link')].map(l => l.dataset.channel).sort()",
            vec![],
        )
        .await;
    assert_eq!(channels, json!(["email", "slack", "whatsapp"]));

    // Each is a working short link; following one shows up on the analytics page.
    for url in &short_urls {
        let response = app.client.head(url).send().await.expect("HEAD");
        assert_eq!(response.status(), 302, "{url}");
    }
    let first = &short_urls[0];
    let follower = driver.browser().await;
    follower.goto(first).await;
    // The three HEAD checks above are visits too (bots), possibly in an earlier batch.
    app.wait_for_visits(short_urls.len() as u64 + 1).await;
    browser.goto(&link_page).await;
    let clicks = browser
        .eval("return document.getElementById('total-clicks').innerText", vec![])
        .await;
    assert_eq!(clicks, "1");
    browser.screenshot("link").await;

    // The CSV export holds that visit.
    let link_id: i64 = link_page
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .expect("link id");
    let csv = browser
        .eval(
            "const [id] = arguments; return fetch(`/app/links/${id}/visits.csv`).then(r => r.text())",
            vec![json!(link_id)],
        )
        .await;
    let csv = csv.as_str().expect("CSV text");
    // The three HEAD checks above are recorded too, as bots: never as clicks.
    assert_eq!(csv.lines().count(), 1 + 3 + 1, "{csv}");
    assert_eq!(csv.lines().filter(|l| l.contains(",click,")).count(), 1, "{csv}");

    browser.goto(&app.url("/app/campaigns")).await;
    assert!(browser.text().await.contains("Spring Launch"));
    browser.screenshot("campaigns").await;
}

#[tokio::test]
async fn event_qr_codes_decode_the_cascade_is_drawn_and_members_stay_out_of_admin_pages() {
    let app = spawn_app(Backend::Sqlite).await;
    let driver = Driver::start().await;
    let browser = driver.browser().await;
    browser.client.set_window_size(1280, 1000).await.expect("window size");
    set_up_admin(&browser, &app).await;

    // Event QR codes: one per placement, each PNG decoding to its short link.
    browser.goto(&app.url("/app/events/new")).await;
    browser
        .submit(&[
            ("event", "Web Summit"),
            ("url", "https://example.com/booth"),
            ("placements", "Poster\nBadge"),
        ])
        .await;
    browser.wait_for_path("/app/links/").await;
    browser
        .wait_for(
            "the print sheet",
            "return location.pathname.endsWith('/qr') && document.querySelectorAll('.qr-card').length === 2",
        )
        .await;
    browser.screenshot("event-qr").await;
    let cards = browser
        .eval(
            "return [...document.querySelectorAll('.qr-card')].map(c => [c.querySelector('.label').innerText, c.querySelector('.url').innerText, c.querySelector('a.png').href])",
            vec![],
        )
        .await;
    let cards: Vec<(String, String, String)> = serde_json::from_value(cards).expect("cards");
    assert_eq!(
        cards.iter().map(|c| c.0.as_str()).collect::<Vec<_>>(),
        ["Poster", "Badge"]
    );
    for (label, short_url, png_url) in &cards {
        let png = app
            .client
            .get(png_url)
            .send()
            .await
            .expect("PNG")
            .bytes()
            .await
            .expect("bytes");
        assert_eq!(&decode_qr_png(&png), short_url, "{label}");
    }

    // A depth-3 chain made through the API is drawn three levels deep.
    let link = app.create_link("https://example.com/chain", None).await;
    let root = app.create_share(link, "slack", None).await;
    let child = app.create_share(link, "whatsapp", root["code"].as_str()).await;
    let grandchild = app.create_share(link, "email", child["code"].as_str()).await;
    browser.goto(&app.url(&format!("/app/links/{link}"))).await;
    let deepest = browser
        .eval(
            "return document.querySelector('#share-tree li[data-depth=\"3\"] code')?.innerText",
            vec![],
        )
        .await;
    assert_eq!(deepest, grandchild["code"]);
    let nested = browser
        .eval(
            "return document.querySelectorAll('#share-tree ul ul ul li[data-depth=\"3\"]').length",
            vec![],
        )
        .await;
    assert_eq!(nested, 1, "the third level hangs under the second");
    browser.screenshot("cascade").await;

    // A member is kept out of admin pages.
    browser.goto(&app.url("/app/users")).await;
    browser
        .submit(&[
            ("name", "Bo"),
            ("email", "bo@example.com"),
            ("role", "member"),
            ("password", PASSWORD),
        ])
        .await;
    browser
        .wait_for(
            "the new member",
            "return document.body.innerText.includes('bo@example.com') && document.querySelector('.notice')",
        )
        .await;
    let member = driver.browser().await;
    sign_in(&member, &app, "bo@example.com", PASSWORD).await;
    member.wait_for_path("/app/campaigns").await;
    assert!(!member.text().await.contains("API keys"), "no admin links for members");
    member.goto(&app.url("/app/keys")).await;
    assert!(member.text().await.contains("Only admins"));
}

fn decode_qr_png(png: &[u8]) -> String {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(png));
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info().expect("PNG header");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("PNG frame");
    let (w, h) = (info.width as usize, info.height as usize);
    let channels = info.color_type.samples();
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| buf[(y * w + x) * channels]);
    let grids = prepared.detect_grids();
    grids.first().expect("a QR code").decode().expect("decodable").1
}
