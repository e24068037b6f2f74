//! Webhooks, delivered to a real receiver on 127.0.0.1 (allowed by the operator setting) and
//! verified with the Standard Webhooks reference library, not sharetrail's own signing code.

use crate::helpers::*;
use crate::process::start_binary;
use crate::public::{PAGE, code_of, create_site, post_public};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::net::TcpListener;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One request as the receiver got it.
#[derive(Clone, Debug)]
pub struct Received {
    pub headers: actix_web::http::header::HeaderMap,
    pub body: String,
    pub json: Value,
    pub at: Instant,
}

impl Received {
    pub fn id(&self) -> String {
        self.header("webhook-id")
    }

    fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }

    /// Verified as any receiver would, with the `standardwebhooks` crate.
    pub fn verify(&self, secret: &str) {
        let mut headers = reqwest::header::HeaderMap::new();
        for name in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
            headers.insert(name, self.header(name).parse().expect("a header value"));
        }
        standardwebhooks::Webhook::new(secret)
            .expect("a Standard Webhooks secret")
            .verify(self.body.as_bytes(), &headers)
            .expect("the signature verifies");
    }
}

/// A webhook receiver on 127.0.0.1 that records every request, and can be taken down and
/// brought back on the same port.
pub struct Receiver {
    port: u16,
    received: Arc<Mutex<Vec<Received>>>,
    /// What it answers: 200, or a failure status.
    answer: Arc<AtomicU16>,
    server: Option<actix_web::dev::ServerHandle>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the receiver");
        let mut receiver = Receiver {
            port: listener.local_addr().unwrap().port(),
            received: Arc::default(),
            answer: Arc::new(AtomicU16::new(200)),
            server: None,
        };
        receiver.serve(listener);
        receiver
    }

    fn serve(&mut self, listener: TcpListener) {
        let (received, answer) = (self.received.clone(), self.answer.clone());
        let server = HttpServer::new(move || {
            let (received, answer) = (received.clone(), answer.clone());
            App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
                let (received, answer) = (received.clone(), answer.clone());
                async move {
                    let body = String::from_utf8(body.to_vec()).expect("UTF-8");
                    let status = answer.load(Ordering::SeqCst);
                    if status == 200 {
                        received.lock().unwrap().push(Received {
                            headers: req.headers().clone(),
                            json: serde_json::from_str(&body).expect("a JSON body"),
                            body,
                            at: Instant::now(),
                        });
                    }
                    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).body("thanks")
                }
            }))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .expect("listen")
        .run();
        self.server = Some(server.handle());
        tokio::spawn(server);
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hooks/sharetrail", self.port)
    }

    /// Down: connections are refused.
    pub async fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            server.stop(false).await;
        }
    }

    /// Back on the same port.
    pub async fn restart(&mut self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).expect("bind the same port again");
        self.serve(listener);
    }

    pub fn answer(&self, status: u16) {
        self.answer.store(status, Ordering::SeqCst);
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    pub fn of_type(&self, event: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.json["type"] == event)
            .collect()
    }

    /// Waits until `done` holds for what was received.
    pub async fn wait_until(&self, what: &str, done: impl Fn(&[Received]) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !done(&self.received()) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}: {:#?}",
                self.bodies()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    fn bodies(&self) -> Vec<Value> {
        self.received().into_iter().map(|r| r.json).collect()
    }
}

/// Private targets allowed (the receiver is on 127.0.0.1), retries 1,000 times faster.
fn receiving(settings: &mut sharetrail::config::Settings) {
    settings.webhooks.webhook_allow_private = true;
    settings.webhooks.webhook_retry_scale = 0.001;
}

async fn create_endpoint(app: &TestApp, url: &str, events: &[&str]) -> Value {
    let response = app
        .post_json("/api/v1/webhooks", &json!({"url": url, "events": events}))
        .await;
    assert_eq!(response.status(), 201, "creating a webhook endpoint");
    response.json().await.unwrap()
}

fn secret_of(endpoint: &Value) -> String {
    endpoint["secret"].as_str().expect("the secret").to_owned()
}

fn codes_of(received: &[Received]) -> Vec<String> {
    received
        .iter()
        .map(|r| r.json["data"]["code"].as_str().unwrap().to_owned())
        .collect()
}

async fn endpoint_doc(app: &TestApp, id: i64) -> Value {
    app.get_api(&format!("/api/v1/webhooks/{id}"))
        .await
        .json()
        .await
        .unwrap()
}

async fn deliveries(app: &TestApp, id: i64, query: &str) -> Value {
    let response = app.get_api(&format!("/api/v1/webhooks/{id}/deliveries{query}")).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn patch(app: &TestApp, path: &str, body: &Value) -> reqwest::Response {
    app.client
        .patch(app.url(path))
        .bearer_auth(&app.api_key)
        .json(body)
        .send()
        .await
        .unwrap()
}

/// Each test on SQLite and on PostgreSQL, with the receiving settings.
macro_rules! on_both_backends_receiving {
    ($($(#[$meta:meta])* async fn $name:ident($app:ident) $body:block)*) => {
        $(
            $(#[$meta])*
            mod $name {
                #[allow(unused_imports)]
                use super::*;
                #[tokio::test]
                async fn sqlite() {
                    let $app = spawn_app_with(Backend::Sqlite, receiving).await;
                    $body
                }
                #[tokio::test]
                async fn postgres() {
                    let $app = spawn_app_with(Backend::Postgres, receiving).await;
                    $body
                }
            }
        )*
    };
}

on_both_backends_receiving! {
    async fn share_created_is_signed_and_sent_once_per_real_share_never_for_an_unsent_reservation(app) {
        let receiver = Receiver::start().await;
        let endpoint = create_endpoint(&app, &receiver.url(), &["share.created"]).await;
        let secret = secret_of(&endpoint);
        assert!(secret.starts_with("whsec_"), "{endpoint}");
        let link = app.create_link("https://example.com/launch", None).await;

        // The keyed API, the QR way in and a reshare.
        let api = app.share_code(link, "whatsapp").await;
        let qr = app.share_code(link, "qr").await;
        let reshare = app.create_share(link, "email", Some(&api)).await["code"].as_str().unwrap().to_owned();
        // The share buttons: one minted at once, one reserved and sent by its click, one
        // reserved and opened before its report arrived, and a row hovered but never sent.
        let site = create_site(&app).await;
        let minted_body = json!({"site": site.key, "url": PAGE, "channel": "sms"});
        let minted = code_of(&post_public(&app, "shares", &minted_body).await.json().await.unwrap());
        let mut reserved = Vec::new();
        for channel in ["whatsapp", "slack", "telegram", "email"] {
            let body = json!({"site": site.key, "url": PAGE, "channel": channel, "reserve": true});
            reserved.push(code_of(&post_public(&app, "shares", &body).await.json().await.unwrap()));
        }
        for _ in 0..2 {
            let sent = post_public(&app, "sent", &json!({"site": site.key, "code": reserved[0]})).await;
            assert_eq!(sent.status(), 200, "the click's report, and its retry");
        }
        assert_eq!(app.follow(&reserved[1], BROWSER_UA).await.status(), 302);
        assert_eq!(app.follow(&reserved[1], BROWSER_UA).await.status(), 302);

        let real = [api, qr, reshare, minted, reserved[0].clone(), reserved[1].clone()];
        receiver.wait_until("six shares", |r| r.len() >= real.len()).await;
        tokio::time::sleep(Duration::from_millis(700)).await;
        let received = receiver.received();
        let mut codes = codes_of(&received);
        codes.sort();
        let mut expected = real.to_vec();
        expected.sort();
        assert_eq!(codes, expected, "each real share once, no reservation left unsent");
        for message in &received {
            message.verify(&secret);
            assert_eq!(message.json["type"], "share.created");
            assert!(message.json["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')));
            let code = message.json["data"]["code"].as_str().unwrap();
            assert_eq!(message.json["data"]["short_url"], format!("{}/{code}", app.address));
        }
        let ids: HashSet<String> = received.iter().map(Received::id).collect();
        assert_eq!(ids.len(), received.len(), "a message id each");
        let deep = received.iter().find(|r| r.json["data"]["depth"] == 2).expect("the reshare");
        assert_eq!(deep.json["data"]["parent"], real[0].as_str());
        assert_eq!(deep.json["data"]["channel"], "email");
        assert_eq!(deep.json["data"]["link_id"], link);

        // A tampered body does not verify.
        let mut forged = received[0].clone();
        forged.body = forged.body.replace("share.created", "share.created ");
        let mut headers = reqwest::header::HeaderMap::new();
        for name in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
            headers.insert(name, forged.header(name).parse().unwrap());
        }
        let verifier = standardwebhooks::Webhook::new(&secret).unwrap();
        assert!(verifier.verify(forged.body.as_bytes(), &headers).is_err());
    }

    async fn click_totals_equal_the_human_clicks_at_most_one_request_a_second(app) {
        let receiver = Receiver::start().await;
        let endpoint = create_endpoint(&app, &receiver.url(), &["click"]).await;
        let link = app.create_link("https://example.com/launch", None).await;
        let whatsapp = app.share_code(link, "whatsapp").await;
        let email = app.share_code(link, "email").await;
        const HUMAN: usize = 23;
        for i in 0..HUMAN {
            let code = if i % 3 == 0 { &email } else { &whatsapp };
            assert_eq!(app.follow(code, BROWSER_UA).await.status(), 302);
            if i % 8 == 0 {
                assert_eq!(app.follow(code, GOOGLEBOT_UA).await.status(), 302);
                assert_eq!(app.follow(code, SLACK_UNFURL_UA).await.status(), 302);
                // A link preview fetching with HEAD is no click either.
                app.client.head(app.url(&format!("/{code}"))).send().await.unwrap();
            }
            tokio::time::sleep(Duration::from_millis(60)).await;
        }
        let total = |r: &[Received]| r.iter().map(|m| m.json["data"]["count"].as_u64().unwrap()).sum::<u64>();
        receiver.wait_until("every click", |r| total(r) >= HUMAN as u64).await;
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        let received = receiver.received();
        assert_eq!(total(&received), HUMAN as u64, "bots, unfurls and HEADs are not clicks");
        let clicks: Vec<&Value> = received.iter().flat_map(|m| m.json["data"]["clicks"].as_array().unwrap()).collect();
        assert_eq!(clicks.len(), HUMAN);
        assert_eq!(clicks.iter().filter(|c| c["code"] == email.as_str()).count(), HUMAN.div_ceil(3));
        for click in &clicks {
            assert_eq!(click["link_id"], link);
            assert_eq!(click["depth"], 1);
            assert_eq!(click["device"], "desktop");
            assert!(["whatsapp", "email"].contains(&click["channel"].as_str().unwrap()), "{click}");
            assert!(click["at"].as_str().is_some());
        }
        for message in &received {
            message.verify(&secret_of(&endpoint));
        }
        assert!(received.len() < HUMAN, "clicks travel in batches: {} requests", received.len());
        for pair in received.windows(2) {
            let gap = pair[1].at - pair[0].at;
            assert!(gap >= Duration::from_millis(900), "two click requests {gap:?} apart");
        }
    }

    async fn a_receiver_down_for_a_while_gets_every_event_in_order_once_it_is_back(app) {
        let mut receiver = Receiver::start().await;
        let endpoint = create_endpoint(&app, &receiver.url(), &["share.created", "link.disabled"]).await;
        let id = endpoint["id"].as_i64().unwrap();
        receiver.stop().await;
        let link = app.create_link("https://example.com/launch", None).await;
        let mut made = Vec::new();
        for channel in ["whatsapp", "email", "sms", "slack", "telegram"] {
            made.push(app.share_code(link, channel).await);
        }
        // Retried while down: the head of the queue, the rest waiting behind it.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let log = deliveries(&app, id, "").await;
            let oldest = log["deliveries"].as_array().unwrap().last().cloned().unwrap_or_default();
            if oldest["attempts"].as_i64() >= Some(3) {
                assert_eq!(oldest["status"], "retrying", "{log}");
                assert!(oldest["last_error"].as_str().is_some_and(|e| !e.is_empty()), "{log}");
                assert!(oldest["next_attempt_at"].as_str().is_some(), "{log}");
                assert_eq!(log["deliveries"][0]["status"], "pending", "{log}");
                break;
            }
            assert!(Instant::now() < deadline, "not retried: {log}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(patch(&app, &format!("/api/v1/links/{link}"), &json!({"disabled": true})).await.status(), 200);
        assert_eq!(patch(&app, &format!("/api/v1/links/{link}"), &json!({"disabled": true})).await.status(), 200);

        receiver.restart().await;
        receiver.wait_until("all six events", |r| r.len() >= 6).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let received = receiver.received();
        assert_eq!(received.len(), 6, "each once");
        assert_eq!(codes_of(&received[..5]), made, "in the order they happened");
        assert_eq!(received[5].json["type"], "link.disabled", "switched off once, reported once");
        assert_eq!(received[5].json["data"]["link_id"], link);
        assert_eq!(received[5].json["data"]["url"], "https://example.com/launch");
        let log = deliveries(&app, id, "").await;
        assert!(log["deliveries"].as_array().unwrap().iter().all(|d| d["status"] == "delivered" && d["response_status"] == 200), "{log}");
        assert_eq!(endpoint_doc(&app, id).await["status"], "healthy");
    }

    async fn cascade_depth_reached_fires_once_per_new_deepest_level(app) {
        let receiver = Receiver::start().await;
        create_endpoint(&app, &receiver.url(), &["cascade.depth_reached"]).await;
        let link = app.create_link("https://example.com/launch", None).await;
        let root = app.share_code(link, "whatsapp").await;
        let _sibling = app.share_code(link, "email").await;
        let second = app.create_share(link, "sms", Some(&root)).await["code"].as_str().unwrap().to_owned();
        let _another_second = app.create_share(link, "slack", Some(&root)).await;
        let third = app.create_share(link, "email", Some(&second)).await["code"].as_str().unwrap().to_owned();
        let _another_third = app.create_share(link, "sms", Some(&second)).await;
        receiver.wait_until("two levels", |r| r.len() >= 2).await;
        tokio::time::sleep(Duration::from_millis(700)).await;
        let received = receiver.received();
        let levels: Vec<(i64, String)> = received
            .iter()
            .map(|r| (r.json["data"]["depth"].as_i64().unwrap(), r.json["data"]["code"].as_str().unwrap().to_owned()))
            .collect();
        assert_eq!(levels, [(2, second), (3, third)]);
        assert!(received.iter().all(|r| r.json["type"] == "cascade.depth_reached" && r.json["data"]["link_id"] == link));
    }

    async fn a_conversion_is_reported_with_the_share_it_came_through(app) {
        let receiver = Receiver::start().await;
        create_endpoint(&app, &receiver.url(), &["conversion.created"]).await;
        let site = create_site(&app).await;
        let share: Value = post_public(&app, "shares", &json!({"site": site.key, "url": PAGE, "channel": "email"})).await.json().await.unwrap();
        let code = code_of(&share);
        let body = json!({"site": site.key, "url": PAGE, "code": code, "name": "signup", "value": 49});
        assert_eq!(post_public(&app, "conversions", &body).await.status().as_u16() / 100, 2);
        receiver.wait_until("the conversion", |r| !r.is_empty()).await;
        let data = &receiver.received()[0].json["data"];
        assert_eq!((&data["name"], &data["value"], &data["code"]), (&json!("signup"), &json!(49.0), &json!(code)));
        assert_eq!(data["link_id"], share["link_id"]);
    }
}

/// Out of retries: with the schedule scaled to a few seconds, the endpoint turns failing, shows
/// so, sends nothing more until re-enabled, and then delivers what waited, in order.
async fn failing_and_re_enabled(backend: Backend) {
    let app = spawn_app_with(backend, |settings| {
        settings.webhooks.webhook_allow_private = true;
        settings.webhooks.webhook_retry_scale = 0.00005;
    })
    .await;
    let receiver = Receiver::start().await;
    receiver.answer(503);
    let endpoint = create_endpoint(&app, &receiver.url(), &["share.created"]).await;
    let id = endpoint["id"].as_i64().unwrap();
    let link = app.create_link("https://example.com/launch", None).await;
    let first = app.share_code(link, "whatsapp").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while endpoint_doc(&app, id).await["status"] != "failing" {
        assert!(
            Instant::now() < deadline,
            "never failing: {}",
            deliveries(&app, id, "").await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let second = app.share_code(link, "email").await;
    let log = deliveries(&app, id, "").await;
    let given_up = &log["deliveries"][1];
    assert_eq!(
        (&given_up["status"], &given_up["attempts"]),
        (&json!("failed"), &json!(8)),
        "{log}"
    );
    assert_eq!(given_up["response_status"], 503);
    assert_eq!(log["deliveries"][0]["status"], "pending", "queued behind it: {log}");
    let listed: Value = app.get_api("/api/v1/webhooks").await.json().await.unwrap();
    assert_eq!(listed["webhooks"][0]["status"], "failing");
    assert!(listed["webhooks"][0]["failing_since"].as_str().is_some());

    receiver.answer(200);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(receiver.received().is_empty(), "a failing endpoint is not tried");
    let enabled = patch(&app, &format!("/api/v1/webhooks/{id}"), &json!({"disabled": false})).await;
    assert_eq!(enabled.status(), 200);
    assert_eq!(enabled.json::<Value>().await.unwrap()["status"], "healthy");
    receiver.wait_until("both shares", |r| r.len() >= 2).await;
    assert_eq!(codes_of(&receiver.received()), [first, second]);
    let log = deliveries(&app, id, "").await;
    assert_eq!(log["deliveries"][1]["attempts"], 9, "{log}");
}

mod an_endpoint_that_fails_a_day_long_is_failing_until_re_enabled {
    use super::*;

    #[tokio::test]
    async fn sqlite() {
        failing_and_re_enabled(Backend::Sqlite).await;
    }

    #[tokio::test]
    async fn postgres() {
        failing_and_re_enabled(Backend::Postgres).await;
    }
}

crate::on_both_backends! {
    async fn a_loopback_or_private_url_is_refused_at_creation_and_never_contacted(app) {
        let receiver = Receiver::start().await;
        let refused = app.post_json("/api/v1/webhooks", &json!({"url": receiver.url(), "events": ["click"]})).await;
        assert_eq!(refused.status(), 422);
        let body: Value = refused.json().await.unwrap();
        assert_eq!(body["error"]["field"], "url", "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("127.0.0.1") && message.contains("SHARETRAIL_WEBHOOK_ALLOW_PRIVATE"), "{message}");
        let port = receiver.url().split(':').nth(2).unwrap().split('/').next().unwrap().to_owned();
        for url in [
            format!("http://localhost:{port}/"),
            format!("http://[::1]:{port}/"),
            "http://10.0.0.8/hook".to_owned(),
            "http://169.254.169.254/latest/meta-data/".to_owned(),
            "http://192.168.1.1/".to_owned(),
            "http://[::ffff:127.0.0.1]/".to_owned(),
        ] {
            let response = app.post_json("/api/v1/webhooks", &json!({"url": url})).await;
            assert_error(response, 422, "invalid_value", Some("url")).await;
        }
        let listed: Value = app.get_api("/api/v1/webhooks").await.json().await.unwrap();
        assert_eq!(listed["webhooks"], json!([]));
        // Nothing was ever sent anywhere.
        let link = app.create_link("https://example.com/", None).await;
        app.share_code(link, "whatsapp").await;
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert!(receiver.received().is_empty());
    }

    async fn bad_endpoint_input_gets_clear_errors(app) {
        for (body, field) in [
            (json!({"url": "ftp://example.com/"}), "url"),
            (json!({"url": "not a url"}), "url"),
            (json!({"url": "https://user:secret@example.com/"}), "url"),
            (json!({"url": "https://93.184.216.34/", "events": []}), "events"),
            (json!({"url": "https://93.184.216.34/", "events": ["clicks"]}), "events"),
            (json!({"url": "https://93.184.216.34/", "events": ["webhook.test"]}), "events"),
        ] {
            assert_error(app.post_json("/api/v1/webhooks", &body).await, 422, "invalid_value", Some(field)).await;
        }
        assert_error(app.post_json("/api/v1/webhooks", &json!({"events": ["click"]})).await, 422, "invalid_value", None).await;
        assert_error(app.post_json("/api/v1/webhooks", &json!({"url": "https://93.184.216.34/", "colour": 1})).await, 422, "invalid_value", None).await;
        assert_error(app.get_api("/api/v1/webhooks/9999").await, 404, "not_found", None).await;
        assert_error(app.get_api("/api/v1/webhooks/9999/deliveries").await, 404, "not_found", None).await;
        assert_error(patch(&app, "/api/v1/webhooks/9999", &json!({"disabled": true})).await, 404, "not_found", None).await;
        let unauthenticated = app.client.get(app.url("/api/v1/webhooks")).send().await.unwrap();
        assert_error(unauthenticated, 401, "unauthorized", None).await;

        let made = app.post_json("/api/v1/webhooks", &json!({"url": "https://93.184.216.34/hook", "disabled": true})).await;
        assert_eq!(made.status(), 201);
        let made: Value = made.json().await.unwrap();
        let id = made["id"].as_i64().unwrap();
        assert_eq!(made["events"], json!(["share.created", "click", "cascade.depth_reached", "conversion.created", "link.disabled"]), "every event when none is named");
        assert_eq!(made["status"], "disabled");
        assert_error(patch(&app, &format!("/api/v1/webhooks/{id}"), &json!({"url": "http://127.0.0.1:9/"})).await, 422, "invalid_value", Some("url")).await;
        assert_error(patch(&app, &format!("/api/v1/webhooks/{id}"), &json!({"events": ["nope"]})).await, 422, "invalid_value", Some("events")).await;
        for query in ["?limit=0", "?limit=201", "?limit=x", "?after=abc"] {
            let response = app.get_api(&format!("/api/v1/webhooks/{id}/deliveries{query}")).await;
            assert_error(response, 422, "invalid_value", None).await;
        }
    }

    async fn endpoints_are_listed_shown_changed_tested_paged_and_deleted(app) {
        let made = app.post_json("/api/v1/webhooks", &json!({"url": "https://93.184.216.34/hook", "events": ["click"]})).await;
        let made: Value = made.json().await.unwrap();
        let id = made["id"].as_i64().unwrap();
        let secret = secret_of(&made);
        let listed: Value = app.get_api("/api/v1/webhooks").await.json().await.unwrap();
        assert_eq!(listed["webhooks"][0]["url"], "https://93.184.216.34/hook");
        assert_eq!(listed["webhooks"][0]["status"], "healthy");
        assert!(!listed.to_string().contains(&secret), "lists never show the secret");
        assert_eq!(endpoint_doc(&app, id).await["secret"], secret.as_str(), "one endpoint shows it to admins");

        let changed = patch(&app, &format!("/api/v1/webhooks/{id}"), &json!({"events": ["link.disabled", "share.created"], "disabled": true})).await;
        assert_eq!(changed.status(), 200);
        let changed: Value = changed.json().await.unwrap();
        assert_eq!(changed["events"], json!(["share.created", "link.disabled"]));
        assert_eq!(changed["status"], "disabled");
        // Switched off: no new events reach its queue; a test message still may be asked for.
        let link = app.create_link("https://example.com/", None).await;
        app.share_code(link, "sms").await;
        for _ in 0..3 {
            let queued = app.client.post(app.url(&format!("/api/v1/webhooks/{id}/test"))).bearer_auth(&app.api_key).send().await.unwrap();
            assert_eq!(queued.status(), 202);
        }
        let first = deliveries(&app, id, "?limit=2").await;
        assert_eq!(first["deliveries"].as_array().unwrap().len(), 2);
        assert!(first["deliveries"].as_array().unwrap().iter().all(|d| d["type"] == "webhook.test" && d["status"] == "pending"));
        let next = first["next"].as_str().expect("a cursor").to_owned();
        let second = deliveries(&app, id, &format!("?limit=2&after={next}")).await;
        assert_eq!(second["deliveries"].as_array().unwrap().len(), 1, "{second}");
        assert_eq!(second["next"], Value::Null);
        assert!(first["deliveries"][0]["id"].as_i64() > first["deliveries"][1]["id"].as_i64(), "newest first");
        assert!(first["deliveries"][1]["id"].as_i64() > second["deliveries"][0]["id"].as_i64());

        let delete = || app.client.delete(app.url(&format!("/api/v1/webhooks/{id}"))).bearer_auth(&app.api_key).send();
        assert_eq!(delete().await.unwrap().status(), 204);
        assert_error(delete().await.unwrap(), 404, "not_found", None).await;
        assert_error(app.get_api(&format!("/api/v1/webhooks/{id}")).await, 404, "not_found", None).await;
    }
}

on_both_backends_receiving! {
    async fn a_test_event_is_sent_on_request(app) {
        let receiver = Receiver::start().await;
        let endpoint = create_endpoint(&app, &receiver.url(), &["click"]).await;
        let id = endpoint["id"].as_i64().unwrap();
        let queued = app.client.post(app.url(&format!("/api/v1/webhooks/{id}/test"))).bearer_auth(&app.api_key).send().await.unwrap();
        assert_eq!(queued.status(), 202);
        receiver.wait_until("the test message", |r| !r.is_empty()).await;
        let message = &receiver.received()[0];
        message.verify(&secret_of(&endpoint));
        assert_eq!(message.json["type"], "webhook.test");
        assert_eq!(message.json["data"]["endpoint_id"], id);
    }
}

/// sharetrail stopped while the receiver is down, started again: every event arrives, once.
async fn nothing_is_lost_across_a_restart(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let api_key = create_api_key(&db.url).await;
    let env = [
        ("SHARETRAIL_WEBHOOK_ALLOW_PRIVATE", "true"),
        ("SHARETRAIL_WEBHOOK_RETRY_SCALE", "0.001"),
    ];
    let mut receiver = Receiver::start().await;
    let server = start_binary(&db, &api_key, &env);
    create_endpoint(&server.app, &receiver.url(), &["share.created", "click"]).await;
    receiver.stop().await;
    let link = server.app.create_link("https://example.com/", None).await;
    let mut made = Vec::new();
    for channel in ["whatsapp", "email", "sms"] {
        made.push(server.app.share_code(link, channel).await);
    }
    for _ in 0..7 {
        assert_eq!(server.app.follow(&made[0], BROWSER_UA).await.status(), 302);
    }
    server.terminate();

    let restarted = start_binary(&db, &api_key, &env);
    receiver.restart().await;
    let clicks = |r: &[Received]| r.iter().filter_map(|m| m.json["data"]["count"].as_u64()).sum::<u64>();
    receiver
        .wait_until("three shares and seven clicks", |r| {
            r.iter().filter(|m| m.json["type"] == "share.created").count() >= 3 && clicks(r) >= 7
        })
        .await;
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let received = receiver.received();
    assert_eq!(
        codes_of(&receiver.of_type("share.created")),
        made,
        "in order, each once"
    );
    assert_eq!(clicks(&received), 7);
    let ids: HashSet<String> = received.iter().map(Received::id).collect();
    assert_eq!(ids.len(), received.len());
    restarted.terminate();
}

mod every_event_survives_a_restart_while_the_receiver_is_down {
    use super::*;

    #[tokio::test]
    async fn sqlite() {
        nothing_is_lost_across_a_restart(Backend::Sqlite).await;
    }

    #[tokio::test]
    async fn postgres() {
        nothing_is_lost_across_a_restart(Backend::Postgres).await;
    }
}

/// Three instances on one PostgreSQL schema deliver each event once, in order per endpoint.
#[tokio::test]
async fn three_instances_deliver_each_event_once() {
    let db = TestDatabase::new(Backend::Postgres).await;
    let key = create_api_key(&db.url).await;
    let env = [("SHARETRAIL_WEBHOOK_ALLOW_PRIVATE", "true")];
    let instances: Vec<_> = (0..3).map(|_| start_binary(&db, &key, &env)).collect();
    let receiver = Receiver::start().await;
    create_endpoint(&instances[0].app, &receiver.url(), &["share.created", "click"]).await;
    let link = instances[0].app.create_link("https://example.com/", None).await;
    let mut made = Vec::new();
    for round in 0..8 {
        for instance in &instances {
            let code = instance
                .app
                .share_code(link, if round % 2 == 0 { "sms" } else { "email" })
                .await;
            assert_eq!(instance.app.follow(&code, BROWSER_UA).await.status(), 302);
            made.push(code);
        }
    }
    let clicks = |r: &[Received]| r.iter().filter_map(|m| m.json["data"]["count"].as_u64()).sum::<u64>();
    receiver
        .wait_until("every share and click", |r| {
            r.iter().filter(|m| m.json["type"] == "share.created").count() >= made.len()
                && clicks(r) >= made.len() as u64
        })
        .await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let received = receiver.received();
    let shares = codes_of(&receiver.of_type("share.created"));
    assert_eq!(shares, made, "each share once, in the order they were made");
    assert_eq!(clicks(&received), made.len() as u64, "each click once");
    let ids: HashSet<String> = received.iter().map(Received::id).collect();
    assert_eq!(ids.len(), received.len(), "no message twice");
    for instance in instances {
        instance.terminate();
    }
}

on_both_backends_receiving! {
    async fn admins_manage_endpoints_in_the_web_ui_and_members_cannot(app) {
        use crate::web_ui::Visitor;
        let receiver = Receiver::start().await;
        let mut ana = Visitor::new(&app);
        ana.set_up_admin().await;
        let (status, html) = ana.get("/app/webhooks").await;
        assert_eq!(status, 200);
        assert!(html.contains("No webhook endpoints yet"), "{html}");
        assert!(html.contains("href=\"/app/webhooks\" aria-current=\"page\""), "in the admin navigation");

        let csrf = ana.csrf("/app/webhooks").await;
        let refused = ana.post("/app/webhooks", &[("csrf", &csrf), ("url", "ftp://example.com/")]).await;
        assert_eq!(refused.status(), 422);
        let html = refused.text().await.unwrap();
        assert!(html.contains("http:// or https://") && html.contains("name at least one event"), "{html}");
        assert!(html.contains("value=\"ftp://example.com/\""), "the address is kept: {html}");

        let url = receiver.url();
        let created = ana
            .post("/app/webhooks", &[("csrf", &csrf), ("url", &url), ("events", "share.created"), ("events", "click")])
            .await;
        assert_eq!(created.status(), 303);
        let page = created.headers()["location"].to_str().unwrap().to_owned();
        assert!(page.ends_with("?created=1"), "{page}");
        let (status, html) = ana.get(&page).await;
        assert_eq!(status, 200);
        let secret_at = html.find("value=\"whsec_").expect("the secret, for admins") + "value=\"".len();
        let secret = html[secret_at..].split('"').next().unwrap().to_owned();
        assert!(html.contains("webhook-healthy") && html.contains("Nothing sent yet"), "{html}");
        let id: i64 = page.trim_start_matches("/app/webhooks/").split('?').next().unwrap().parse().unwrap();
        let path = format!("/app/webhooks/{id}");

        let tested = ana.post(&format!("{path}/test"), &[("csrf", &csrf)]).await;
        assert_eq!(tested.status(), 303);
        receiver.wait_until("the test event", |r| !r.is_empty()).await;
        receiver.received()[0].verify(&secret);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (_, html) = ana.get(&path).await;
            if html.contains("<td data-label=\"State\">delivered</td>") {
                assert!(html.contains("<code>webhook.test</code>") && html.contains("200"), "{html}");
                break;
            }
            assert!(Instant::now() < deadline, "the log never said delivered: {html}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }

        let off = ana.post(&format!("{path}/switch"), &[("csrf", &csrf), ("on", "false")]).await;
        assert_eq!(off.status(), 303);
        let (_, list) = ana.get("/app/webhooks").await;
        assert!(list.contains("webhook-disabled"), "{list}");
        let on = ana.post(&format!("{path}/switch"), &[("csrf", &csrf), ("on", "true")]).await;
        assert_eq!(on.status(), 303);
        let edited = ana.post(&path, &[("csrf", &csrf), ("url", &url), ("events", "link.disabled")]).await;
        assert_eq!(edited.status(), 303);
        let shown: Value = app.get_api(&format!("/api/v1/webhooks/{id}")).await.json().await.unwrap();
        assert_eq!((&shown["status"], &shown["events"]), (&json!("healthy"), &json!(["link.disabled"])));
        let bad_edit = ana.post(&path, &[("csrf", &csrf), ("url", &url)]).await;
        assert_eq!(bad_edit.status(), 422);
        let no_token = ana.post(&format!("{path}/delete"), &[]).await;
        assert_eq!(no_token.status(), 403, "CSRF");

        let password = "correct horse battery staple";
        let made = ana
            .post("/app/users", &[("csrf", &csrf), ("name", "Bo"), ("email", "bo@example.com"), ("role", "member"), ("password", password)])
            .await;
        assert_eq!(made.status(), 200);
        let mut bo = Visitor::new(&app);
        assert_eq!(bo.sign_in("bo@example.com", password).await.status(), 303);
        for page in ["/app/webhooks", path.as_str()] {
            assert_eq!(bo.get(page).await.0, 403, "{page}");
        }
        let bo_csrf = bo.csrf("/app/links/new").await;
        assert_eq!(bo.post(&format!("{path}/delete"), &[("csrf", &bo_csrf)]).await.status(), 403);

        let deleted = ana.post(&format!("{path}/delete"), &[("csrf", &csrf)]).await;
        assert_eq!(deleted.status(), 303);
        assert_eq!(ana.get(&path).await.0, 404);
    }
}
