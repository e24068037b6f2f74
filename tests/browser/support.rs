//! What the browser tests need around the application: chromedriver, headless Chromium sessions
//! with a fresh profile each, and a page on another origin that embeds the snippet under a
//! strict Content Security Policy.

use crate::helpers::TestApp;
use actix_web::dev::ServerHandle;
use actix_web::http::header;
use actix_web::{App, HttpResponse, HttpServer, web};
use fantoccini::actions::{InputSource, KeyAction, KeyActions, MouseActions, PointerAction};
use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
    "--window-size=960,720",
];
/// Chromium announces itself as `HeadlessChrome`, which sharetrail rightly counts as a bot; the
/// visitors these tests play are people, so the browser presents a desktop Chrome's user agent.
const VISITOR_UA: &str = crate::helpers::BROWSER_UA;
/// How long anything in a browser may take before a test gives up on it.
const PATIENCE: Duration = Duration::from_secs(15);
const POLL: Duration = Duration::from_millis(25);

/// The article the test page shows; `&` proves the title is encoded where it is used.
pub const PAGE_TITLE: &str = "Ten rules for dark social & why they work";
/// The channels the page's share bar shows.
pub const PAGE_CHANNELS: &[&str] = &["whatsapp", "email", "copy", "slack"];
/// The API route the snippet mints shares on.
pub const MINT_PATH: &str = "/api/v1/public/shares";

/// Creates a site whose pages live on `localhost`, allowed to call the public API from `origins`,
/// and returns its publishable key.
pub async fn create_site(app: &TestApp, origins: &[&str]) -> String {
    let body = json!({"name": "Blog", "domains": ["localhost"], "origins": origins});
    let response = app.post_json("/api/v1/sites", &body).await;
    assert_eq!(response.status(), 201, "creating a site");
    let site: Value = response.json().await.expect("json");
    site["key"].as_str().expect("key").to_owned()
}

/// A share document from the API.
pub async fn share(app: &TestApp, code: &str) -> Value {
    let response = app.get_api(&format!("/api/v1/shares/{code}")).await;
    assert_eq!(response.status(), 200, "reading share {code}");
    response.json().await.expect("json")
}

/// The link a share belongs to.
pub async fn link_of(app: &TestApp, code: &str) -> i64 {
    share(app, code).await["link_id"].as_i64().expect("a link id")
}

/// The code of a short link of this app (`{app}/CODE`), or `None` for anything else.
pub fn code_in<'a>(app: &TestApp, short_url: &'a str) -> Option<&'a str> {
    let code = short_url.strip_prefix(&format!("{}/", app.address))?;
    (code.len() == 8 && code.bytes().all(|b| b.is_ascii_alphanumeric())).then_some(code)
}

/// Polls `check` until it yields a value: the browser and the batch writer work at their pace.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(POLL).await;
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

struct DriverProcess {
    child: Child,
    port: u16,
}

impl Drop for DriverProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One chromedriver, killed when it and every browser it opened are dropped.
pub struct Driver(Arc<DriverProcess>);

impl Driver {
    /// Starts chromedriver on a free port and waits until it reports itself ready. The port is
    /// free when chosen but could be taken before chromedriver binds it: then it exits, and
    /// another port is tried.
    pub async fn start() -> Driver {
        for _ in 0..3 {
            if let Some(process) = Self::try_start(free_port()).await {
                return Driver(Arc::new(process));
            }
        }
        panic!("chromedriver did not start on any of three free ports");
    }

    async fn try_start(port: u16) -> Option<DriverProcess> {
        let quiet = std::env::var_os("TEST_LOG").is_none();
        let output = || if quiet { Stdio::null() } else { Stdio::inherit() };
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(output())
            .stderr(output())
            .spawn()
            .unwrap_or_else(|e| panic!("{CHROMEDRIVER} could not start ({e}): scripts/test installs it"));
        let mut process = DriverProcess { child, port };
        let status = format!("http://127.0.0.1:{port}/status");
        let client = reqwest::Client::new();
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Ok(Some(_)) = process.child.try_wait() {
                return None;
            }
            if let Ok(response) = client.get(&status).send().await
                && let Ok(body) = response.json::<Value>().await
                && body["value"]["ready"] == true
            {
                return Some(process);
            }
            assert!(Instant::now() < deadline, "chromedriver did not become ready");
            tokio::time::sleep(POLL).await;
        }
    }

    /// A new Chromium with a profile of its own: no storage shared with any other browser.
    pub async fn browser(&self) -> Browser {
        let profile = tempfile::Builder::new()
            .prefix("sharetrail-chromium-")
            .tempdir()
            .expect("profile directory");
        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|f| (*f).to_owned()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        args.push(format!("--user-agent={VISITOR_UA}"));
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": args,
                // chromedriver turns the popup blocker off by default; the buttons must open
                // their windows with it on, as a visitor's browser has it.
                "excludeSwitches": ["disable-popup-blocking"],
            },
        });
        let capabilities = match capabilities {
            Value::Object(map) => map,
            _ => unreachable!("an object"),
        };
        let driver_url = format!("http://127.0.0.1:{}", self.0.port);
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&driver_url)
            .await
            .expect("a Chromium session");
        let session = client.session_id().await.expect("session id").expect("a session id");
        Browser {
            client,
            session,
            driver: self.0.clone(),
            driver_url,
            _profile: profile,
        }
    }
}

/// One Chromium window (and whatever it opens), driven over WebDriver.
pub struct Browser {
    pub client: Client,
    session: String,
    driver: Arc<DriverProcess>,
    driver_url: String,
    /// Removed after `drop` has ended the session (fields drop after `Drop::drop`).
    _profile: tempfile::TempDir,
}

impl Browser {
    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("opening {url}: {e}"));
    }

    /// Runs a script in the page and returns its value; a returned promise is awaited.
    pub async fn eval(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("running `{script}`: {e}"))
    }

    /// Polls a script until it returns something other than null, undefined, false or "".
    pub async fn wait_for(&self, what: &str, script: &str) -> Value {
        eventually(what, || async {
            let value = self.eval(script, vec![]).await;
            let nothing = matches!(&value, Value::Null | Value::Bool(false)) || value == "";
            (!nothing).then_some(value)
        })
        .await
    }

    /// The current page's `location.href`.
    pub async fn href(&self) -> String {
        self.eval("return location.href", vec![])
            .await
            .as_str()
            .expect("a string")
            .to_owned()
    }

    /// Opens the page and waits until the snippet has rendered its buttons and is ready.
    pub async fn open_page(&self, url: &str) {
        self.goto(url).await;
        self.wait_until_ready().await;
    }

    /// Waits until the snippet has rendered its buttons and reported itself ready (after any
    /// arrival it had to report).
    pub async fn wait_until_ready(&self) {
        self.wait_for(
            "the share buttons",
            "return document.documentElement.dataset.sharetrailReady === 'true' \
             && document.querySelectorAll('[data-sharetrail] button').length > 0",
        )
        .await;
    }

    /// The share button of one channel.
    pub async fn button(&self, channel: &str) -> Element {
        self.client
            .find(Locator::Css(&format!("[data-sharetrail] button.st-{channel}")))
            .await
            .unwrap_or_else(|e| panic!("the {channel} button: {e}"))
    }

    /// Moves the mouse pointer over an element, as a visitor about to click it does.
    pub async fn hover(&self, element: &Element) {
        // From the corner first, so the pointer enters the button even if it was already there.
        let pointer = MouseActions::new("mouse".to_owned())
            .then(PointerAction::MoveTo {
                duration: None,
                x: 0.0,
                y: 0.0,
            })
            .then(PointerAction::MoveToElement {
                element: element.clone(),
                duration: None,
                x: 0.0,
                y: 0.0,
            });
        self.client.perform_actions(pointer).await.expect("hover");
        self.client.release_actions().await.expect("release");
    }

    /// Presses and releases one key, as a keyboard user does.
    pub async fn press(&self, key: Key) {
        let keyboard = KeyActions::new("keyboard".to_owned())
            .then(KeyAction::Down { value: key.into() })
            .then(KeyAction::Up { value: key.into() });
        self.client.perform_actions(keyboard).await.expect("key press");
        self.client.release_actions().await.expect("release");
    }

    /// How many shares the snippet has finished minting in this page (Resource Timing).
    pub async fn mints_done(&self) -> u64 {
        self.eval(
            "return performance.getEntriesByType('resource')
               .filter(e => new URL(e.name).pathname === arguments[0] && e.responseEnd > 0).length",
            vec![json!(MINT_PATH)],
        )
        .await
        .as_u64()
        .expect("a count")
    }

    /// Hovers over a button not primed yet and waits until the share it mints ahead has arrived.
    pub async fn hover_until_minted(&self, element: &Element) {
        let before = self.mints_done().await;
        self.hover(element).await;
        eventually("the share minted on hover", || async {
            (self.mints_done().await > before).then_some(())
        })
        .await;
    }

    /// Clicks a button that opens a new window and returns the URL that window was sent to;
    /// the window is closed and the page's window is current again afterwards. The URL is what
    /// the browser navigated to, even when (offline) the navigation itself fails.
    pub async fn click_to_popup(&self, element: &Element) -> String {
        let page = self.client.window().await.expect("current window");
        let before = self.client.windows().await.expect("windows");
        element.click().await.expect("click");
        let popup = eventually("a new window", || async {
            let now = self.client.windows().await.expect("windows");
            now.into_iter().find(|w| !before.contains(w))
        })
        .await;
        self.client
            .switch_to_window(popup)
            .await
            .expect("switch to the new window");
        // A window opened empty is pointed at the channel once the share has arrived.
        let url = eventually("the new window to navigate", || async {
            let url = self.client.current_url().await.expect("url").to_string();
            (url != "about:blank").then_some(url)
        })
        .await;
        self.client.close_window().await.expect("close the new window");
        self.client.switch_to_window(page).await.expect("back to the page");
        url
    }

    /// Waits for the snippet's record of a button's last share (its test hooks), once it
    /// differs from `previous`: the code and the URL the channel was opened with.
    pub async fn last_share(&self, element: &Element, previous: Option<&str>) -> (String, String) {
        eventually("the button's share", || async {
            let code = element.attr("data-sharetrail-last-code").await.expect("attribute")?;
            let url = element.attr("data-sharetrail-last-url").await.expect("attribute")?;
            (!code.is_empty() && Some(code.as_str()) != previous).then_some((code, url))
        })
        .await
    }

    /// Shares the page on WhatsApp as a visitor does (pointer over the button, then a click) and
    /// returns the new share's code.
    pub async fn share_on_whatsapp(&self) -> String {
        let button = self.button("whatsapp").await;
        let previous = button.attr("data-sharetrail-last-code").await.expect("attribute");
        self.hover_until_minted(&button).await;
        self.click_to_popup(&button).await;
        let code = self.last_share(&button, previous.as_deref()).await.0;
        self.pointer_to_corner().await;
        code
    }

    /// The share buttons' channels, in the order they stand on the page.
    pub async fn channels(&self) -> Vec<String> {
        let channels = self
            .eval(
                "return [...document.querySelectorAll('[data-sharetrail] button')].map(b => b.className.split('st-').pop())",
                vec![],
            )
            .await;
        serde_json::from_value(channels).expect("channel names")
    }

    /// Moves the pointer across every button of the row, as people do before picking one, and
    /// waits until each has reserved its code.
    pub async fn hover_every_button(&self) {
        for channel in self.channels().await {
            self.hover(&self.button(&channel).await).await;
        }
        self.pointer_to_corner().await;
        self.wait_for(
            "every reservation to be answered",
            "return window.mintsAsked > 0 && window.mintsAsked === window.mintsSettled",
        )
        .await;
    }

    /// Tabs through every button of the row from the top of the page, as a keyboard user does
    /// on the way to another one.
    pub async fn tab_through_every_button(&self) {
        self.eval("document.activeElement && document.activeElement.blur()", vec![])
            .await;
        for _ in self.channels().await {
            self.press(Key::Tab).await;
        }
        let focused = self
            .eval(
                "return document.activeElement.matches('[data-sharetrail] button:last-of-type')",
                vec![],
            )
            .await;
        assert_eq!(focused, true, "the last button has the focus");
    }

    /// Clicks the `channel` button and waits for the outcome the snippet reports: the code, the
    /// URL the channel was opened with and whether the share was sent.
    pub async fn click_share(&self, channel: &str) -> (String, String, String) {
        let button = self.button(channel).await;
        let previous = button.attr("data-sharetrail-last-code").await.expect("attribute");
        self.eval("delete arguments[0].dataset.sharetrailLastStatus", vec![json!(button)])
            .await;
        if matches!(
            channel,
            "whatsapp" | "telegram" | "teams" | "linkedin" | "x" | "facebook" | "reddit"
        ) {
            self.click_to_popup(&button).await;
        } else {
            button.click().await.expect("click");
        }
        let (code, url) = self.last_share(&button, previous.as_deref()).await;
        let status = eventually("the outcome of the click", || async {
            button.attr("data-sharetrail-last-status").await.expect("attribute")
        })
        .await;
        (code, url, status)
    }

    /// Shares on `channel` as a visitor does (the pointer over the whole row first) and returns
    /// the new share's code once its click is reported.
    pub async fn share_on(&self, channel: &str) -> String {
        self.hover_every_button().await;
        let (code, _, status) = self.click_share(channel).await;
        assert_eq!(status, "sent", "the {channel} share was sent");
        self.pointer_to_corner().await;
        code
    }

    /// The text a same-origin URL of the page's own site answers, fetched by the page.
    pub async fn fetch_text(&self, path: &str) -> String {
        self.eval("return fetch(arguments[0]).then(r => r.text())", vec![json!(path)])
            .await
            .as_str()
            .expect("text")
            .to_owned()
    }

    /// Moves the pointer off the share buttons, so that no page loaded next finds it resting on
    /// one (which would mint a share ahead without anyone reaching for the button).
    pub async fn pointer_to_corner(&self) {
        let pointer = MouseActions::new("mouse".to_owned()).then(PointerAction::MoveTo {
            duration: None,
            x: 0.0,
            y: 0.0,
        });
        self.client.perform_actions(pointer).await.expect("move the pointer");
        self.client.release_actions().await.expect("release");
    }

    /// How many requests this page has made to a path of the public API so far.
    pub async fn requests_to(&self, path: &str) -> u64 {
        self.eval(
            "return performance.getEntriesByType('resource')
               .filter(e => new URL(e.name).pathname === arguments[0]).length",
            vec![json!(path)],
        )
        .await
        .as_u64()
        .expect("a count")
    }

    /// Runs a Chrome DevTools Protocol command on the browser's page, through chromedriver.
    pub async fn cdp(&self, command: &str, params: Value) {
        let response = reqwest::Client::new()
            .post(format!("{}/session/{}/goog/cdp/execute", self.driver_url, self.session))
            .json(&json!({"cmd": command, "params": params}))
            .send()
            .await
            .expect("a DevTools command");
        assert_eq!(
            response.status(),
            200,
            "{command}: {}",
            response.text().await.unwrap_or_default()
        );
    }

    /// Shows pages in a viewport of `width` × `height` CSS pixels, as a phone or a laptop would
    /// (DevTools emulation: a window cannot be narrower than 500 px). Not as a "mobile" device,
    /// whose layout viewport would widen to fit content that overflows and so hide the overflow.
    pub async fn viewport(&self, width: u32, height: u32) {
        let params = json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false});
        self.cdp("Emulation.setDeviceMetricsOverride", params).await;
    }

    /// Grants a permission to the current page's origin (W3C Permissions, WebDriver extension).
    pub async fn grant(&self, permission: &str) {
        let response = reqwest::Client::new()
            .post(format!("{}/session/{}/permissions", self.driver_url, self.session))
            .json(&json!({"descriptor": {"name": permission}, "state": "granted"}))
            .send()
            .await
            .expect("permissions command");
        assert_eq!(
            response.status(),
            200,
            "granting {permission}: {}",
            response.text().await.unwrap_or_default()
        );
    }

    /// The accessible name Chromium computes for an element (WebDriver "Get Computed Label").
    pub async fn accessible_name(&self, element: &Element) -> String {
        let id = element.element_id();
        let response = reqwest::Client::new()
            .get(format!(
                "{}/session/{}/element/{}/computedlabel",
                self.driver_url,
                self.session,
                id.as_ref()
            ))
            .send()
            .await
            .expect("computed label command");
        let body: Value = response.json().await.expect("json");
        body["value"]
            .as_str()
            .unwrap_or_else(|| panic!("a label in {body}"))
            .to_owned()
    }
}

impl Drop for Browser {
    /// Ends the session (chromedriver then quits Chromium) before the profile is deleted. A
    /// plain blocking request: drop cannot await, and this must happen even after a panic.
    fn drop(&mut self) {
        let request = format!(
            "DELETE /session/{} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
            self.session, self.driver.port
        );
        if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.driver.port)) {
            let _ = stream.set_read_timeout(Some(PATIENCE));
            if stream.write_all(request.as_bytes()).is_ok() {
                read_response(&mut stream);
            }
        }
    }
}

/// Reads one HTTP response to its end: its headers, then `Content-Length` bytes of body (the
/// server may keep the connection open afterwards).
fn read_response(stream: &mut TcpStream) {
    let mut received = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = received.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&received[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if received.len() >= end + 4 + length {
                return;
            }
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => received.extend_from_slice(&chunk[..n]),
        }
    }
}

/// The web UI, as a marketer uses it.
impl Browser {
    /// Fills the form fields by id and submits the form the first one is in, as a person would.
    pub async fn submit(&self, fields: &[(&str, &str)]) {
        let fields: Vec<Value> = fields.iter().map(|(id, value)| json!([id, value])).collect();
        self.eval(
            "const [fields] = arguments; let form;
             for (const [id, value] of fields) { const el = document.getElementById(id); el.value = value; form = el.form; }
             form.requestSubmit();",
            vec![Value::Array(fields)],
        )
        .await;
    }

    pub async fn wait_for_path(&self, path_prefix: &str) -> String {
        self.wait_for(
            path_prefix,
            &format!("return document.readyState === 'complete' && location.pathname.startsWith('{path_prefix}') && location.href"),
        )
        .await
        .as_str()
        .expect("a URL")
        .to_owned()
    }

    pub async fn text(&self) -> String {
        self.eval("return document.body.innerText", vec![])
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("a screenshot");
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot directory");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("write the screenshot");
    }
}

/// The password of the accounts these tests make.
pub const PASSWORD: &str = "correct horse battery staple";

pub async fn sign_in(browser: &Browser, app: &TestApp, email: &str, password: &str) {
    browser.goto(&app.url("/app/login")).await;
    browser.submit(&[("email", email), ("password", password)]).await;
}

/// Creates the first admin through the setup link, signed in afterwards.
pub async fn set_up_admin(browser: &Browser, app: &TestApp) {
    browser.goto(&app.setup_url).await;
    browser
        .submit(&[
            ("name", "Ana"),
            ("email", "ana@example.com"),
            ("password", PASSWORD),
            ("password_again", PASSWORD),
        ])
        .await;
    browser.wait_for_path("/app/campaigns").await;
}

/// The test site's pages, served on two origins: `origin` (`http://localhost:…`, which the site
/// allows) and `foreign_origin` (`http://127.0.0.1:…`, which it does not).
pub struct Pages {
    pub origin: String,
    pub foreign_origin: String,
    /// The site's publishable key.
    pub site_key: String,
    handle: ServerHandle,
}

impl Pages {
    /// The article page with the share bar and a sign-up button.
    pub fn article(&self) -> String {
        format!("{}/post", self.origin)
    }

    /// The same page, served from the origin the site does not allow.
    pub fn foreign_article(&self) -> String {
        format!("{}/post", self.foreign_origin)
    }
}

impl Drop for Pages {
    fn drop(&mut self) {
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(self.handle.clone().stop(false));
        }
    }
}

struct PageConfig {
    app_origin: String,
    site_key: String,
}

/// Serves a site's pages on two fresh origins and creates that site through the API, allowed
/// on the first origin only; the pages embed `app`'s snippet with the site's key.
pub async fn serve_pages(app: &TestApp) -> Pages {
    let allowed = TcpListener::bind("127.0.0.1:0").expect("bind");
    let foreign = TcpListener::bind("127.0.0.1:0").expect("bind");
    let origin = format!("http://localhost:{}", allowed.local_addr().expect("addr").port());
    let foreign_origin = format!("http://127.0.0.1:{}", foreign.local_addr().expect("addr").port());
    let site_key = create_site(app, &[&origin]).await;
    let config = web::Data::new(PageConfig {
        app_origin: app.address.clone(),
        site_key: site_key.clone(),
    });
    let server = HttpServer::new(move || {
        App::new()
            .app_data(config.clone())
            .route("/post", web::get().to(article))
            .route("/page.js", web::get().to(|| static_file("text/javascript", PAGE_JS)))
            .route(
                "/signup.js",
                web::get().to(|| static_file("text/javascript", SIGNUP_JS)),
            )
            .route("/page.css", web::get().to(|| static_file("text/css", PAGE_CSS)))
            .default_service(web::to(HttpResponse::NotFound))
    })
    .workers(1)
    .disable_signals()
    .listen(allowed)
    .and_then(|s| s.listen(foreign))
    .expect("listen")
    .run();
    let handle = server.handle();
    tokio::spawn(server);
    Pages {
        origin,
        foreign_origin,
        site_key,
        handle,
    }
}

async fn static_file(content_type: &'static str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(format!("{content_type}; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body)
}

/// `?channels=a,b` shows those buttons instead of `PAGE_CHANNELS`; `?refuse=1` makes the
/// phone's share sheet report a cancel and every way of copying fail (see `PAGE_JS`).
async fn article(
    config: web::Data<PageConfig>,
    query: web::Query<std::collections::HashMap<String, String>>,
) -> HttpResponse {
    let app = &config.app_origin;
    let csp = format!("default-src 'self'; script-src 'self' {app}; connect-src {app}; style-src 'self'");
    let title = PAGE_TITLE.replace('&', "&amp;");
    let channels = match query.get("channels") {
        Some(channels)
            if channels
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b',' || b == b'_') =>
        {
            channels.clone()
        }
        _ => PAGE_CHANNELS.join(","),
    };
    let key = &config.site_key;
    let html = format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="/page.css">
<script src="/page.js"></script>
<script src="{app}/share.js" data-site="{key}" defer></script>
<script src="/signup.js" defer></script>
</head>
<body>
<main>
<p class="kicker">Field notes</p>
<h1>{title}</h1>
<p>Most sharing happens where analytics cannot see it: a link pasted into a family WhatsApp
group, forwarded by e-mail, dropped into a Slack thread. Every button below mints a fresh short
link for its channel, so the visits it brings are counted where they came from.</p>
<div data-sharetrail data-channels="{channels}"></div>
<p class="signup"><button type="button" id="signup">Sign up</button>
<span id="signup-status" role="status"></span></p>
</main>
</body>
</html>
"#
    );
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, csp))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(html)
}

/// Loaded before the snippet: records every CSP violation and the moment a share button first
/// got the pointer or the focus (to measure how long minting ahead takes).
const PAGE_JS: &str = r#"'use strict';
window.cspViolations = [];
document.addEventListener('securitypolicyviolation', e => {
  window.cspViolations.push(e.effectiveDirective + ' blocked ' + (e.blockedURI || 'inline') + ' from ' + e.sourceFile + ':' + e.lineNumber);
});
window.intentAt = {};
const intent = e => {
  const b = e.target.closest && e.target.closest('[data-sharetrail] button');
  if (b && !(b.className in window.intentAt)) window.intentAt[b.className] = performance.now();
};
document.addEventListener('pointerover', intent, true);
document.addEventListener('focus', intent, true); // capture: focus does not bubble
// When a click reached a share button, and when a window was opened for it: how long the click
// takes to open the channel.
window.clickAt = null;
window.openedAt = [];
document.addEventListener('click', e => {
  if (e.target.closest && e.target.closest('[data-sharetrail] button')) window.clickAt = performance.now();
}, true);
const open = window.open;
window.open = function () { window.openedAt.push(performance.now() - window.clickAt); return open.apply(this, arguments); };
// Requests to reserve or mint a share, asked and answered: the tests wait for quiet.
window.mintsAsked = 0;
window.mintsSettled = 0;
const fetchIt = window.fetch;
window.fetch = function (url) {
  const minting = new URL(url, location.href).pathname === '/api/v1/public/shares';
  if (minting) window.mintsAsked++;
  const answer = fetchIt.apply(this, arguments);
  const settle = () => { window.mintsSettled++; };
  if (minting) answer.then(settle, settle);
  return answer;
};
// ?refuse=1: a visitor who cancels the share sheet, on a device where copying fails.
if (new URLSearchParams(location.search).get('refuse') === '1') {
  Object.defineProperty(Navigator.prototype, 'share', {
    configurable: true,
    value: () => Promise.reject(new DOMException('Share canceled', 'AbortError')),
  });
  const refused = () => Promise.reject(new DOMException('Write permission denied', 'NotAllowedError'));
  Object.defineProperty(Navigator.prototype, 'clipboard', { configurable: true, get: () => ({ write: refused, writeText: refused }) });
  document.execCommand = () => false;
}
"#;

/// The site's own code: the sign-up button reports a conversion.
const SIGNUP_JS: &str = r#"'use strict';
document.getElementById('signup').addEventListener('click', () => {
  const status = document.getElementById('signup-status');
  window.sharetrail.convert('signup', { value: 5 }).then(
    () => { status.textContent = 'Welcome aboard'; document.body.dataset.signup = 'recorded'; },
    e => { status.textContent = 'Sign-up not recorded: ' + e.message; document.body.dataset.signup = 'failed'; },
  );
});
"#;

const PAGE_CSS: &str = r#"body { margin: 0; background: #f6f7f9; color: #1b1f24; font: 1rem/1.6 system-ui, sans-serif; }
main { max-width: 40rem; margin: 2.5rem auto; padding: 2rem 2.5rem; background: #fff; border-radius: .75rem; box-shadow: 0 1px 3px #0002; }
.kicker { margin: 0; color: #0b7a5f; font-weight: 600; text-transform: uppercase; letter-spacing: .06em; font-size: .8rem; }
h1 { margin: .25rem 0 1rem; font-size: 1.9rem; line-height: 1.2; }
[data-sharetrail] { min-height: 2.5rem; margin: 1.5rem 0; }
.signup button { height: 2.5rem; padding: 0 1.25rem; border: 2px solid #1b1f24; border-radius: .5rem; background: #fff; font: 600 .9rem system-ui, sans-serif; cursor: pointer; }
"#;
