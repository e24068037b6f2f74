//! Stats at scale: one link with 100,000 shares and 1,000,000 visits, then the stats endpoint
//! and the link's analytics page (which computes every figure from the visit log) timed over
//! HTTP against `/healthz` (the cost of any round trip) in the same run.
//!
//! `cargo run --release --example bench_stats` (SQLite in a temporary directory), or with
//! `BENCH_DATABASE_URL=postgres://…` for PostgreSQL. `BENCH_SHARES` / `BENCH_VISITS` scale it.

use sharetrail::clock::now_ms;
use sharetrail::config::Settings;
use sharetrail::domain::{
    api_key, app::App, channel::Channel, code::Code, visit::DeviceClass, visit::Software, visit::VisitKind,
    visit::VisitorHash,
};
use sharetrail::ingest::VisitRecord;
use sharetrail::lookup::VisitTarget;
use sharetrail::startup::Application;
use sharetrail::store::{self, NewCode, NewLink, NewShare, ShareLink, Store, VisitBatch};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{Lcg, env_or};

#[path = "support/mod.rs"]
mod support;

const CHANNELS: [&str; 6] = ["whatsapp", "email", "slack", "sms", "copy", "telegram"];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let shares = env_or("BENCH_SHARES", 100_000);
    let visits = env_or("BENCH_VISITS", 1_000_000);
    let (url, _dir) = support::database_url("bench-stats")?;
    let store = store::connect(&url, 8).await?;
    store.migrate().await?;
    let mut rng = Lcg(42);

    let started = Instant::now();
    let link = store
        .create_link(
            &NewLink {
                url: sharetrail::domain::destination::Destination::parse("https://example.com/")?,
                title: None,
                campaign: Some("bench".into()),
            },
            now_ms(),
        )
        .await?;
    let ids = seed_shares(store.clone(), link.id, shares, &mut rng).await?;
    println!("seeded {shares} shares in {:.1}s", started.elapsed().as_secs_f64());

    let started = Instant::now();
    seed_visits(store.as_ref(), link.id, &ids, visits, &mut rng).await?;
    println!("seeded {visits} visits in {:.1}s", started.elapsed().as_secs_f64());

    let mut settings = Settings::for_database(&url);
    settings.listen = "127.0.0.1:0".parse()?;
    let app = Application::build(settings).await?;
    let base = app.base_url().to_owned();
    let setup_url = app.setup_url().map(str::to_owned);
    tokio::spawn(app.run_until_stopped());
    let key = api_key::generate();
    store.create_api_key("bench", &key, now_ms()).await?;
    let client = reqwest::Client::new();
    let stats_url = format!("{base}/api/v1/links/{}/stats", link.id);

    let cold = time_get(&client, &stats_url, &key.plaintext).await?;
    let stats = summarize(&client, &stats_url, &key.plaintext, 200).await?;
    let health = summarize(&client, &format!("{base}/healthz"), &key.plaintext, 200).await?;
    println!("backend: {}", store.backend());
    println!("stats, first call:   {:.2} ms", ms(cold));
    println!("stats     p50 {:.2} ms  p99 {:.2} ms", ms(stats.0), ms(stats.1));
    println!("/healthz  p50 {:.2} ms  p99 {:.2} ms", ms(health.0), ms(health.1));
    println!(
        "stats p50 / healthz p50 = {:.1}",
        stats.0.as_secs_f64() / health.0.as_secs_f64()
    );
    let verdict = if stats.1 <= Duration::from_millis(50) {
        "PASS"
    } else {
        "FAIL"
    };
    println!("target p99 <= 50 ms: {verdict}");

    // The analytics page: every figure of the period and of the one before, from the raw log.
    // The setup answers 303 with the session's cookie: a client that follows it would lose it.
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let session = sign_in(
        &no_redirects,
        &base,
        &setup_url.expect("a fresh database has no account"),
    )
    .await?;
    for range in ["7d", "30d", "90d"] {
        let page = format!("{base}/app/links/{}?range={range}&tz=UTC", link.id);
        let (p50, p99) = summarize_page(&client, &page, &session, 10).await?;
        println!(
            "analytics page {range:>3}  p50 {:.0} ms  p99 {:.0} ms  p50 / stats p50 = {:.0}",
            ms(p50),
            ms(p99),
            p50.as_secs_f64() / stats.0.as_secs_f64()
        );
    }
    Ok(())
}

/// Creates the first admin through the setup link and returns the session's cookie header.
async fn sign_in(client: &reqwest::Client, base: &str, setup_url: &str) -> anyhow::Result<String> {
    let form = client.get(setup_url).send().await?;
    let cookies = cookie_pairs(&form);
    let html = form.text().await?;
    let value_of = |name: &str| {
        let marker = format!("name=\"{name}\" value=\"");
        html.split(&marker)
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .map(str::to_owned)
    };
    let (csrf, token) = (
        value_of("csrf").unwrap_or_default(),
        value_of("token").unwrap_or_default(),
    );
    let password = "correct horse battery staple";
    let done = client
        .post(format!("{base}/app/setup"))
        .header("cookie", cookies)
        .header("origin", base)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs([
                    ("csrf", csrf.as_str()),
                    ("token", token.as_str()),
                    ("name", "Bench"),
                    ("email", "bench@example.com"),
                    ("password", password),
                    ("password_again", password),
                ])
                .finish(),
        )
        .send()
        .await?;
    anyhow::ensure!(done.status().as_u16() == 303, "setup answered {}", done.status());
    Ok(cookie_pairs(&done))
}

fn cookie_pairs(response: &reqwest::Response) -> String {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_owned))
        .collect::<Vec<_>>()
        .join("; ")
}

/// p50 and p99 of `rounds` page loads with the session's cookie.
async fn summarize_page(
    client: &reqwest::Client,
    url: &str,
    cookie: &str,
    rounds: usize,
) -> anyhow::Result<(Duration, Duration)> {
    let mut times = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let started = Instant::now();
        let response = client.get(url).header("cookie", cookie).send().await?;
        anyhow::ensure!(response.status().is_success(), "{url} answered {}", response.status());
        response.bytes().await?;
        times.push(started.elapsed());
    }
    times.sort();
    Ok((
        times[times.len() / 2],
        times[(times.len() * 99 / 100).min(times.len() - 1)],
    ))
}

/// A random tree: most shares reshare an earlier one, as in a real cascade, some are new roots.
async fn seed_shares(
    store: Arc<dyn Store>,
    link_id: i64,
    count: usize,
    rng: &mut Lcg,
) -> anyhow::Result<Vec<(i64, String, i64)>> {
    let mut made: Vec<(i64, String, i64)> = Vec::with_capacity(count);
    for i in 0..count {
        let parent = (i > 0 && rng.below(10) < 7).then(|| made[rng.below(made.len())].1.clone());
        let channel = CHANNELS[rng.below(CHANNELS.len())];
        let share = NewShare {
            link: ShareLink::Link(link_id),
            code: NewCode::Drawn(Code::generate()),
            channel: Channel::parse(channel)?,
            parent: parent.map(|p| Code::parse(&p).expect("own code")),
            label: None,
            expires_at: None,
            token: None,
            reserved_until: None,
        };
        let record = store::mint_one(store.as_ref(), share, now_ms()).await??;
        made.push((record.id, record.code, record.depth));
    }
    Ok(made)
}

async fn seed_visits(
    store: &dyn Store,
    link_id: i64,
    shares: &[(i64, String, i64)],
    count: usize,
    rng: &mut Lcg,
) -> anyhow::Result<()> {
    let day = 86_400_000;
    let now = now_ms();
    for chunk in (0..count).collect::<Vec<_>>().chunks(2_000) {
        let visits: Vec<_> = chunk
            .iter()
            .map(|_| {
                let (share_id, _, depth) = &shares[rng.below(shares.len())];
                let roll = rng.below(100);
                let (kind, app) = match roll {
                    0..=84 => (VisitKind::Click, None),
                    85..=94 => (VisitKind::Unfurl, Some(App::Slack)),
                    _ => (VisitKind::Bot, None),
                };
                VisitRecord {
                    share: Arc::new(VisitTarget {
                        share_id: *share_id,
                        link_id,
                        channel: Arc::from(CHANNELS[rng.below(CHANNELS.len())]),
                        depth: *depth,
                        infers_channel: false,
                    }),
                    at: now - (rng.below(90) as i64) * day,
                    kind,
                    app,
                    device: DeviceClass::Mobile,
                    visitor: VisitorHash::from_bytes((rng.below(300_000) as u128).to_be_bytes()),
                    referrer_host: None,
                    software: Some(Arc::new(Software {
                        browser: Some("Chrome Mobile".into()),
                        os: Some("Android".into()),
                    })),
                    country: None,
                }
            })
            .collect();
        store.write_visits(&VisitBatch::new(&visits)).await?;
    }
    Ok(())
}

async fn time_get(client: &reqwest::Client, url: &str, key: &str) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let response = client.get(url).bearer_auth(key).send().await?;
    anyhow::ensure!(response.status().is_success(), "{url}: {}", response.status());
    response.bytes().await?;
    Ok(started.elapsed())
}

/// p50 and p99 of `n` sequential requests.
async fn summarize(client: &reqwest::Client, url: &str, key: &str, n: usize) -> anyhow::Result<(Duration, Duration)> {
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        times.push(time_get(client, url, key).await?);
    }
    times.sort();
    Ok((times[n / 2], times[n * 99 / 100]))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
