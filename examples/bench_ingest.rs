//! The visit writer alone: how many visits a second `write_visits` stores, and the CPU each
//! costs, with no HTTP in the way. The redirect benchmark shares two cores between wrk, the
//! request path and this writer, so every microsecond here is throughput lost there.
//!
//! `cargo run --release --example bench_ingest` (SQLite in a temporary directory), or with
//! `BENCH_DATABASE_URL=postgres://…` (an empty database) for PostgreSQL.
//!
//! It seeds 100 links × 100 shares, then writes `BENCH_BATCHES` (16) batches of `BENCH_BATCH`
//! visits (25,000, the service's default batch) spread at random over those shares, as the
//! redirect benchmark's traffic is: 85% clicks, 10% Slack unfurls, 5% bots, from
//! `BENCH_VISITORS` (100,000) distinct visitors.

use sharetrail::clock::now_ms;
use sharetrail::domain::destination::Destination;
use sharetrail::domain::{
    app::App, channel::Channel, code::Code, visit::DeviceClass, visit::Software, visit::VisitKind, visit::VisitorHash,
};
use sharetrail::ingest::VisitRecord;
use sharetrail::lookup::VisitTarget;
use sharetrail::store::{self, NewCode, NewLink, NewShare, ShareLink, Store, VisitBatch};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{Lcg, env_or};

#[path = "support/mod.rs"]
mod support;

const LINKS: usize = 100;
const SHARES_PER_LINK: usize = 100;
const CHANNELS: [&str; 5] = ["whatsapp", "email", "slack", "sms", "telegram"];

/// CPU time this process has used, user plus system, from `/proc/self/stat` (Linux only).
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // USER_HZ is 100 on every Linux this runs on.
    Some(Duration::from_millis(ticks * 10))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let batches = env_or("BENCH_BATCHES", 16);
    let visitors = env_or("BENCH_VISITORS", 100_000);
    let batch_size = env_or("BENCH_BATCH", 25_000);
    let (url, _dir) = support::database_url("bench-ingest")?;
    let store = store::connect(&url, 4).await?;
    store.migrate().await?;
    let mut rng = Lcg(7);

    let started = Instant::now();
    let shares = seed_shares(store.as_ref()).await?;
    println!(
        "backend {}: seeded {} shares in {:.1} s",
        store.backend(),
        shares.len(),
        started.elapsed().as_secs_f64()
    );

    // The visits are made up before any clock starts; rolling them up into batches (the writer
    // task's own work) and writing the batches are timed apart.
    let visit_lists: Vec<Vec<_>> = (0..batches)
        .map(|_| (0..batch_size).map(|_| visit(&shares, visitors, &mut rng)).collect())
        .collect();
    let started = Instant::now();
    let work: Vec<VisitBatch> = visit_lists.iter().map(|visits| VisitBatch::new(visits)).collect();
    println!(
        "rolled up {} visits: {:.2} µs per visit",
        batches * batch_size,
        started.elapsed().as_secs_f64() * 1e6 / (batches * batch_size) as f64
    );
    let cpu_before = cpu_time();
    let started = Instant::now();
    for batch in &work {
        store.write_visits(batch).await?;
    }
    let elapsed = started.elapsed();
    let cpu = cpu_time()
        .zip(cpu_before)
        .map(|(after, before)| after.saturating_sub(before));
    let written = batches * batch_size;
    println!(
        "wrote {written} visits in {batches} batches of {batch_size}: {:.2} s, {:.0} visits/s, {:.1} µs per visit (wall)",
        elapsed.as_secs_f64(),
        written as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e6 / written as f64,
    );
    if let Some(cpu) = cpu {
        println!(
            "CPU in this process: {:.2} s, {:.1} µs per visit (the database server's own CPU is not counted)",
            cpu.as_secs_f64(),
            cpu.as_secs_f64() * 1e6 / written as f64
        );
    }
    Ok(())
}

async fn seed_shares(store: &dyn Store) -> anyhow::Result<Vec<Arc<VisitTarget>>> {
    let mut shares = Vec::with_capacity(LINKS * SHARES_PER_LINK);
    for l in 0..LINKS {
        let link = store
            .create_link(
                &NewLink {
                    url: Destination::parse(&format!("https://example.com/post/{l}"))?,
                    title: None,
                    campaign: Some("bench".into()),
                },
                now_ms(),
            )
            .await?;
        for s in 0..SHARES_PER_LINK {
            let channel = CHANNELS[s % CHANNELS.len()];
            let new = NewShare {
                link: ShareLink::Link(link.id),
                code: NewCode::Drawn(Code::generate()),
                channel: Channel::parse(channel)?,
                parent: None,
                label: None,
                expires_at: None,
                token: None,
                reserved_until: None,
            };
            let record = store::mint_one(store, new, now_ms()).await??;
            shares.push(Arc::new(VisitTarget {
                share_id: record.id,
                link_id: link.id,
                channel: Arc::from(channel),
                depth: record.depth,
                infers_channel: false,
            }));
        }
    }
    Ok(shares)
}

fn visit(shares: &[Arc<VisitTarget>], visitors: usize, rng: &mut Lcg) -> VisitRecord {
    let share = &shares[rng.below(shares.len())];
    let (kind, app, device) = match rng.below(100) {
        0..=84 => (VisitKind::Click, None, DeviceClass::Mobile),
        85..=94 => (VisitKind::Unfurl, Some(App::Slack), DeviceClass::Bot),
        _ => (VisitKind::Bot, None, DeviceClass::Bot),
    };
    VisitRecord {
        share: Arc::clone(share),
        at: now_ms(),
        kind,
        app,
        device,
        visitor: VisitorHash::from_bytes((rng.below(visitors) as u128).to_be_bytes()),
        referrer_host: None,
        software: Some(Arc::new(Software {
            browser: Some("Chrome Mobile".into()),
            os: Some("Android".into()),
        })),
        country: None,
    }
}
