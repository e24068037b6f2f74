//! The web UI over plain HTTP, on both backends: setup, sign-in, CSRF, roles, campaign links and
//! exports. (The browser tests drive the same pages in Chromium.)

use crate::helpers::*;
use crate::on_both_backends;
use std::collections::HashMap;

const PASSWORD: &str = "correct horse battery staple";

/// A browser's worth of state: cookies, and the CSRF token of the last page read.
pub(crate) struct Visitor<'a> {
    app: &'a TestApp,
    cookies: HashMap<String, String>,
}

impl<'a> Visitor<'a> {
    pub(crate) fn new(app: &'a TestApp) -> Self {
        Visitor {
            app,
            cookies: HashMap::new(),
        }
    }

    fn keep_cookies(&mut self, response: &reqwest::Response) {
        for value in response.headers().get_all("set-cookie") {
            let pair = value.to_str().unwrap().split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub(crate) async fn get(&mut self, url: &str) -> (u16, String) {
        let url = if url.starts_with("http") {
            url.to_owned()
        } else {
            self.app.url(url)
        };
        let response = self
            .app
            .client
            .get(url)
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.keep_cookies(&response);
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }

    pub(crate) async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let response = self
            .app
            .client
            .post(self.app.url(path))
            .header("cookie", self.cookie_header())
            .header("origin", &self.app.address)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        self.keep_cookies(&response);
        response
    }

    /// Submits the new-link form as the browser would: with the token of the form's page.
    async fn submit_new_link(&mut self, fields: &[(&str, &str)]) -> reqwest::Response {
        let csrf = self.csrf("/app/links/new").await;
        let form: Vec<(&str, &str)> = [("csrf", csrf.as_str())]
            .into_iter()
            .chain(fields.iter().copied())
            .collect();
        self.post("/app/links", &form).await
    }

    /// The CSRF token of a page.
    pub(crate) async fn csrf(&mut self, path: &str) -> String {
        let (status, html) = self.get(path).await;
        assert_eq!(status, 200, "{path}: {html}");
        csrf_in(&html)
    }

    pub(crate) async fn set_up_admin(&mut self) {
        let setup = self.app.setup_url.clone();
        let (status, html) = self.get(&setup).await;
        assert_eq!(status, 200, "{html}");
        let token = setup.split("token=").nth(1).unwrap().to_owned();
        let csrf = csrf_in(&html);
        let response = self
            .post(
                "/app/setup",
                &[
                    ("csrf", &csrf),
                    ("token", &token),
                    ("name", "Ana"),
                    ("email", "ana@example.com"),
                    ("password", PASSWORD),
                    ("password_again", PASSWORD),
                ],
            )
            .await;
        assert_eq!(response.status(), 303);
    }

    pub(crate) async fn sign_in(&mut self, email: &str, password: &str) -> reqwest::Response {
        let csrf = self.csrf("/app/login").await;
        self.post(
            "/app/login",
            &[("csrf", &csrf), ("email", email), ("password", password)],
        )
        .await
    }
}

fn csrf_in(html: &str) -> String {
    let start = html.find("name=\"csrf\" value=\"").expect("a CSRF field") + "name=\"csrf\" value=\"".len();
    html[start..].split('"').next().unwrap().to_owned()
}

on_both_backends! {
    async fn first_run_setup_creates_an_admin_once_and_signs_them_in(app) {
        let mut ana = Visitor::new(&app);
        let (status, _) = ana.get("/app/campaigns").await;
        assert_eq!(status, 303, "signed out: sent to sign in");
        ana.set_up_admin().await;
        let (status, html) = ana.get("/app/campaigns").await;
        assert_eq!(status, 200);
        assert!(html.contains("No campaigns yet"), "an empty state that says what to do");
        let (status, _) = Visitor::new(&app).get(&app.setup_url).await;
        assert_eq!(status, 403, "the setup link works once");
    }

    async fn a_wrong_password_and_a_missing_csrf_token_are_refused(app) {
        Visitor::new(&app).set_up_admin().await;
        let mut bo = Visitor::new(&app);
        let wrong = bo.sign_in("ana@example.com", "not the password at all").await;
        assert_eq!(wrong.status(), 401);
        assert!(wrong.text().await.unwrap().contains("Wrong e-mail or password"));
        let nobody = bo.sign_in("nobody@example.com", PASSWORD).await;
        assert_eq!(nobody.status(), 401, "no hint whether the account exists");
        let right = bo.sign_in("ana@example.com", PASSWORD).await;
        assert_eq!(right.status(), 303);
        let no_token = bo.post("/app/campaigns", &[("name", "Launch")]).await;
        assert_eq!(no_token.status(), 403);
        let forged = bo.post("/app/campaigns", &[("csrf", "forged"), ("name", "Launch")]).await;
        assert_eq!(forged.status(), 403);
        let (_, html) = bo.get("/app/campaigns").await;
        assert!(!html.contains("Launch"), "nothing was created");
    }

    async fn sign_in_is_throttled_per_account_with_retry_after(app) {
        Visitor::new(&app).set_up_admin().await;
        let mut guesser = Visitor::new(&app);
        let mut last = 0;
        for _ in 0..8 {
            let response = guesser.sign_in("ana@example.com", "guess guess guess").await;
            last = response.status().as_u16();
            if last == 429 {
                assert!(response.headers().contains_key("retry-after"));
                break;
            }
        }
        assert_eq!(last, 429);
    }

    async fn signing_out_ends_the_session_on_the_server(app) {
        let mut ana = Visitor::new(&app);
        ana.set_up_admin().await;
        let old_cookies = ana.cookies.clone();
        let csrf = ana.csrf("/app/campaigns").await;
        assert_eq!(ana.post("/app/logout", &[("csrf", &csrf)]).await.status(), 303);
        let mut replay = Visitor::new(&app);
        replay.cookies = old_cookies;
        let (status, _) = replay.get("/app/campaigns").await;
        assert_eq!(status, 303, "the old cookie no longer signs anyone in");
    }

    async fn a_member_cannot_reach_admin_pages(app) {
        let mut ana = Visitor::new(&app);
        ana.set_up_admin().await;
        let csrf = ana.csrf("/app/users").await;
        let created = ana
            .post("/app/users", &[("csrf", &csrf), ("name", "Bo"), ("email", "bo@example.com"), ("role", "member"), ("password", PASSWORD)])
            .await;
        assert_eq!(created.status(), 200);
        let mut bo = Visitor::new(&app);
        assert_eq!(bo.sign_in("bo@example.com", PASSWORD).await.status(), 303);
        for page in ["/app/users", "/app/sites", "/app/keys"] {
            let (status, _) = bo.get(page).await;
            assert_eq!(status, 403, "{page}");
        }
        let (status, _) = bo.get("/app/links/new").await;
        assert_eq!(status, 200, "members make links");
    }

    async fn a_campaign_link_in_one_step_mints_one_short_link_per_channel(app) {
        let mut ana = Visitor::new(&app);
        ana.set_up_admin().await;
        let response = ana
            .submit_new_link(&[
                ("url", "https://example.com/launch"),
                ("new_campaign", "Spring Launch"),
                ("channel", "whatsapp"),
                ("channel", "email"),
                ("channel", "slack"),
                ("other_channels", "newsletter"),
                ("other_medium", "email"),
                ("slug", "spring"),
            ])
            .await;
        assert_eq!(response.status(), 303);
        let page = response.headers()["location"].to_str().unwrap().to_owned();
        let link_id: i64 = page.rsplit('/').next().unwrap().parse().unwrap();
        let (_, html) = ana.get(&page).await;
        for code in ["spring-whatsapp", "spring-email", "spring-slack", "spring-newsletter"] {
            assert!(html.contains(&app.url(&format!("/{code}"))), "{code} listed");
        }
        let followed = app.follow("spring-email", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0").await;
        let location = location(followed.headers());
        assert!(location.contains("utm_campaign=spring-launch") && location.contains("utm_medium=email"), "{location}");
        let newsletter = location_of(&app, "spring-newsletter").await;
        assert!(newsletter.contains("utm_source=newsletter") && newsletter.contains("utm_medium=email"), "{newsletter}");
        app.wait_for_visits(2).await;
        let (_, html) = ana.get(&page).await;
        assert!(html.contains("id=\"total-clicks\">2<"), "both clicks on the analytics page");
        let (status, csv) = ana.get(&format!("/app/links/{link_id}/visits.csv")).await;
        assert_eq!(status, 200);
        assert_eq!(csv.lines().count(), 3, "a header and two visits: {csv}");
        assert!(csv.lines().nth(1).unwrap().contains(",spring-email,email,1,click,"), "{csv}");
        let (_, list) = ana.get("/app/campaigns").await;
        assert!(list.contains("Spring Launch") && list.contains("utm_campaign=spring-launch"));
    }

    async fn a_form_body_over_64_kib_is_refused_before_it_is_read(app) {
        let mut ana = Visitor::new(&app);
        ana.set_up_admin().await;
        let title = "t".repeat(70 * 1024);

        let response = ana.submit_new_link(&[("url", "https://example.com/"), ("title", &title)]).await;

        assert_eq!(response.status(), 413);
        let (_, links) = ana.get("/app/links").await;
        assert!(!links.contains("https://example.com/"), "no link was made");
    }

    async fn invalid_link_input_re_renders_the_form_with_values_kept(app) {
        let mut ana = Visitor::new(&app);
        ana.set_up_admin().await;
        let response = ana
            .submit_new_link(&[("url", "ftp://example.com/x"), ("title", "Kept title"), ("slug", "api")])
            .await;
        assert_eq!(response.status(), 422);
        let html = response.text().await.unwrap();
        assert!(html.contains("value=\"ftp://example.com/x\"") && html.contains("value=\"Kept title\""));
        assert!(html.contains("id=\"url-error\"") && html.contains("tick at least one channel"));
        let (_, links) = ana.get("/app/links").await;
        assert!(links.contains("No links yet"), "nothing was created");
    }

    async fn a_malformed_medium_for_a_new_channel_is_explained_in_the_form_words(app) {
        let mut ana = Visitor::new(&app);
        ana.set_up_admin().await;
        let response = ana
            .submit_new_link(&[
                ("url", "https://example.com/launch"),
                ("other_channels", "newsletter"),
                ("other_medium", "e mail"),
            ])
            .await;
        assert_eq!(response.status(), 422);
        let html = response.text().await.unwrap();
        assert!(html.contains("a medium is 1 to 32 letters, digits"), "{html}");
        assert!(!html.contains("--medium"), "no command-line wording on a web form: {html}");
        let (_, links) = ana.get("/app/links").await;
        assert!(links.contains("No links yet"), "nothing was created");
    }
}

async fn location_of(app: &TestApp, code: &str) -> String {
    location(
        app.follow(code, "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0")
            .await
            .headers(),
    )
}
