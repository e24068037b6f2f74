//! The one harness: starts the real application on a random port with a fresh database.
//!
//! SQLite tests get a new file in their own temporary directory; PostgreSQL tests get a new
//! schema inside the throwaway database that `scripts/test` creates and names in
//! `SHARETRAIL_TEST_DATABASE_URL`. Set `TEST_LOG=1` to see the application's logs.

use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use sharetrail::config::Settings;
use sharetrail::domain::code::Code;
use sharetrail::domain::visit::{DeviceClass, VisitKind, VisitorHash};
use sharetrail::ingest::VisitRecord;
use sharetrail::lookup::VisitTarget;
use sharetrail::startup::Application;
use sharetrail::store::Store;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const BROWSER_UA: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
pub const SLACK_UNFURL_UA: &str = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)";
pub const GOOGLEBOT_UA: &str = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh, empty database of one backend: a SQLite file or a PostgreSQL schema.
pub struct TestDatabase {
    pub url: String,
    /// The SQLite file's directory, removed with it when the database is dropped.
    _dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    pub async fn new(backend: Backend) -> TestDatabase {
        let name = format!(
            "t_{}",
            nanoid::nanoid!(12, &nanoid::alphabet::SAFE)
                .to_lowercase()
                .replace('-', "_")
        );
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::Builder::new()
                    .prefix(&format!("sharetrail-{name}-"))
                    .tempdir()
                    .expect("temporary directory");
                let url = format!("sqlite://{}", dir.path().join("sharetrail.db").display());
                TestDatabase { url, _dir: Some(dir) }
            }
            Backend::Postgres => {
                let base = std::env::var("SHARETRAIL_TEST_DATABASE_URL").expect(
                    "SHARETRAIL_TEST_DATABASE_URL must name a PostgreSQL database: run the tests with scripts/test",
                );
                use sqlx::Connection;
                let mut admin = sqlx::PgConnection::connect(&base)
                    .await
                    .expect("connect to the test database");
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {name}")))
                    .execute(&mut admin)
                    .await
                    .expect("create a schema");
                let separator = if base.contains('?') { '&' } else { '?' };
                let url = format!("{base}{separator}options=-c%20search_path%3D{name}");
                TestDatabase { url, _dir: None }
            }
        }
    }
}

impl TestDatabase {
    /// A database the test made its own way, such as on a PostgreSQL server it may stop.
    pub fn elsewhere(url: &str) -> TestDatabase {
        TestDatabase {
            url: url.to_owned(),
            _dir: None,
        }
    }

    /// The same database, for one more instance: dropping it deletes nothing.
    pub fn shared(&self) -> TestDatabase {
        TestDatabase::elsewhere(&self.url)
    }

    /// Reads one text column straight from the database, for facts the API does not expose.
    pub async fn strings(&self, sql: &'static str) -> Vec<Option<String>> {
        if self.url.starts_with("postgres") {
            let pool = sqlx::PgPool::connect(&self.url).await.expect("connect");
            sqlx::query_scalar(sql).fetch_all(&pool).await.expect("query")
        } else {
            let pool = sqlx::SqlitePool::connect(&self.url).await.expect("connect");
            sqlx::query_scalar(sql).fetch_all(&pool).await.expect("query")
        }
    }
}

pub struct TestApp {
    pub address: String,
    pub api_key: String,
    pub client: reqwest::Client,
    /// The first-run setup link (no account exists when a test app starts).
    pub setup_url: String,
    /// Kept for the app's lifetime: dropping it deletes a SQLite test file.
    pub db: TestDatabase,
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// Like `spawn_app`, with settings adjusted first (a GeoIP file, trusted proxy headers…).
pub async fn spawn_app_with(backend: Backend, configure: impl FnOnce(&mut Settings)) -> TestApp {
    let db = TestDatabase::new(backend).await;
    spawn_app_in(db, configure).await
}

/// The app on a database of the test's own making, such as a PostgreSQL server it may stop.
pub async fn spawn_app_on(database_url: &str, configure: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_in(TestDatabase::elsewhere(database_url), configure).await
}

async fn spawn_app_in(db: TestDatabase, configure: impl FnOnce(&mut Settings)) -> TestApp {
    if std::env::var_os("TEST_LOG").is_some() {
        let log = sharetrail::config::LogSettings::from_env().expect("SHARETRAIL_LOG and SHARETRAIL_LOG_FORMAT");
        sharetrail::telemetry::init(&log);
    }
    let mut settings = Settings::for_database(&db.url);
    settings.listen = "127.0.0.1:0".parse().expect("address");
    settings.workers = Some(2);
    configure(&mut settings);
    let app = Application::build(settings).await.expect("the application builds");
    let address = app.base_url().to_owned();
    let setup_url = app.setup_url().expect("a fresh database has no account").to_owned();
    tokio::spawn(app.run_until_stopped());
    let api_key = create_api_key(&db.url).await;
    TestApp {
        setup_url,
        ..TestApp::client_of(address, &api_key, db)
    }
}

pub async fn create_api_key(url: &str) -> String {
    let store = sharetrail::store::connect(url, 1).await.expect("open the store");
    store.migrate().await.expect("migrate");
    let key = sharetrail::domain::api_key::generate();
    store.create_api_key("tests", &key, 0).await.expect("store the key");
    key.plaintext
}

impl TestApp {
    /// A client of an app running elsewhere (another process) on `db`.
    pub fn client_of(address: String, api_key: &str, db: TestDatabase) -> TestApp {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client");
        TestApp {
            address,
            api_key: api_key.to_owned(),
            client,
            setup_url: String::new(),
            db,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(&self.api_key)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn get_api(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(&self.api_key)
            .send()
            .await
            .expect("request")
    }

    /// Creates a link and returns its id.
    pub async fn create_link(&self, url: &str, campaign: Option<&str>) -> i64 {
        let response = self
            .post_json("/api/v1/links", &json!({"url": url, "campaign": campaign}))
            .await;
        assert_eq!(response.status(), 201, "creating a link");
        response.json::<Value>().await.expect("json")["id"]
            .as_i64()
            .expect("id")
    }

    /// Mints a share with no parent and returns its code.
    pub async fn share_code(&self, link_id: i64, channel: &str) -> String {
        self.create_share(link_id, channel, None).await["code"]
            .as_str()
            .expect("a code")
            .to_owned()
    }

    /// Mints a share and returns its document.
    pub async fn create_share(&self, link_id: i64, channel: &str, parent: Option<&str>) -> Value {
        let response = self
            .post_json(
                "/api/v1/shares",
                &json!({"link_id": link_id, "channel": channel, "parent": parent}),
            )
            .await;
        assert_eq!(response.status(), 201, "minting a {channel} share");
        response.json().await.expect("json")
    }

    pub async fn follow(&self, code: &str, user_agent: &str) -> reqwest::Response {
        self.client
            .get(self.url(&format!("/{code}")))
            .header("user-agent", user_agent)
            .send()
            .await
            .expect("request")
    }

    pub async fn stats(&self, link_id: i64) -> Value {
        let response = self.get_api(&format!("/api/v1/links/{link_id}/stats")).await;
        assert_eq!(response.status(), 200, "reading stats");
        response.json().await.expect("json")
    }

    pub async fn metric(&self, name: &str) -> u64 {
        let text = self
            .client
            .get(self.url("/metrics"))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text");
        text.lines()
            .find_map(|line| line.strip_prefix(name).and_then(|rest| rest.trim().parse().ok()))
            .unwrap_or(0)
    }

    /// Waits until the batch writer has stored `count` visits in all (visits are written in the
    /// background, after the redirect has been answered).
    pub async fn wait_for_visits(&self, count: u64) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while self.metric("sharetrail_visits_written_total").await < count {
            assert!(Instant::now() < deadline, "visits were not written in time");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Asserts an error answer: its status and its JSON `code` (and `field` when given).
pub async fn assert_error(response: reqwest::Response, status: u16, code: &str, field: Option<&str>) {
    assert_eq!(response.status(), status, "status");
    let body: Value = response.json().await.expect("error bodies are JSON");
    assert_eq!(body["error"]["code"], code, "error code in {body}");
    assert!(
        body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()),
        "a message in {body}"
    );
    if let Some(field) = field {
        assert_eq!(body["error"]["field"], field, "error field in {body}");
    }
}

pub fn location(headers: &HeaderMap) -> String {
    headers
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// The app's store, opened beside it, for tests that hand the visit writer's batches in directly.
pub async fn open_store(app: &TestApp) -> Arc<dyn Store> {
    sharetrail::store::connect(&app.db.url, 1)
        .await
        .expect("open the store")
}

/// A new `channel` share of `link_id`, as (share id, code).
pub async fn create_share_row(app: &TestApp, store: &dyn Store, link_id: i64, channel: &str) -> (i64, String) {
    let code = app.create_share(link_id, channel, None).await["code"]
        .as_str()
        .expect("code")
        .to_owned();
    let share = store
        .get_share(&Code::parse(&code).expect("a valid code"))
        .await
        .expect("read the share")
        .expect("the share exists");
    (share.id, code)
}

/// A desktop click on an `email` share, as a redirect would record it.
pub fn email_click(link_id: i64, share_id: i64, at: i64, visitor: u8) -> VisitRecord {
    VisitRecord {
        share: Arc::new(VisitTarget {
            share_id,
            link_id,
            channel: Arc::from("email"),
            depth: 0,
            infers_channel: false,
        }),
        at,
        kind: VisitKind::Click,
        app: None,
        device: DeviceClass::Desktop,
        visitor: VisitorHash::from_bytes([visitor; 16]),
        referrer_host: None,
        software: None,
        country: None,
    }
}

/// The figures of the four-visitor story that the API and the browser tests both play: A shares
/// on Slack and WhatsApp; B arrives through A's Slack link and e-mails it; C opens the address B
/// had in the address bar and shares on WhatsApp; D arrives through B's e-mail and signs up.
/// Tree: the link → A's Slack (→ B's e-mail, → the address-bar share → C's WhatsApp) and A's
/// WhatsApp: Wiener index 31 over 15 pairs.
pub fn assert_four_visitor_cascade(stats: &Value) {
    assert_eq!(stats["shares"]["total"], 5, "{stats}");
    assert_eq!(
        stats["shares"]["by_channel"],
        json!({"address_bar": 1, "email": 1, "slack": 1, "whatsapp": 2}),
        "{stats}"
    );
    let depths: Vec<&Value> = stats["cascade"]["by_depth"]
        .as_array()
        .expect("by_depth")
        .iter()
        .map(|d| &d["shares"])
        .collect();
    assert_eq!(depths, [2, 2, 1], "{stats}");
    assert_eq!(stats["cascade"]["max_depth"], 3, "{stats}");
    assert_eq!(stats["clicks"]["total"], 3, "B, C and D: {stats}");
    assert_eq!(
        stats["cascade"]["reshare_rate"], 1.0,
        "three reshares, three clicks: {stats}"
    );
    let virality = stats["cascade"]["structural_virality"].as_f64().expect("a number");
    assert!((virality - 31.0 / 15.0).abs() < 1e-9, "2.07: {stats}");
    assert_eq!(stats["conversions"]["total"], 1, "{stats}");
    assert_eq!(stats["conversions"]["by_channel"], json!({"email": 1}), "{stats}");
    assert_eq!(
        stats["conversions"]["assists_by_channel"],
        json!({"slack": 1}),
        "{stats}"
    );
}

/// Runs each test body once against SQLite and once against PostgreSQL:
/// `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! on_both_backends {
    ($($(#[$meta:meta])* async fn $name:ident($app:ident) $body:block)*) => {
        $(
            $(#[$meta])*
            mod $name {
                #[allow(unused_imports)]
                use super::*;
                #[tokio::test]
                async fn sqlite() {
                    let $app = $crate::helpers::spawn_app($crate::helpers::Backend::Sqlite).await;
                    $body
                }
                #[tokio::test]
                async fn postgres() {
                    let $app = $crate::helpers::spawn_app($crate::helpers::Backend::Postgres).await;
                    $body
                }
            }
        )*
    };
}
