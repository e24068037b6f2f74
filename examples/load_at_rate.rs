//! Open-loop load for `scripts/bench-mint`: mint requests sent at a fixed rate, whatever the
//! server answers, the way visitors arrive on a viral page.
//!
//! wrk keeps a fixed number of connections busy, so its rate is that number divided by the
//! latency: it says how fast sharetrail answers sixteen clients in a row, not whether it keeps
//! up with 5,000 requests a second. Here request `i` is due at `start + i / rate`, sent on its
//! own task, and its latency runs from when it was due (so a server that falls behind is charged
//! for the wait, not forgiven it). The rate reported is the 201s over the time from the first
//! request due to the last answer.
//!
//!     load_at_rate URL RATE SECONDS
//!
//! The request is built as `scripts/bench-mint.lua` builds it, from the same environment:
//! `BODY` (JSON with two `%s`: a channel, then a parent code picked from `PARENTS_FILE`), and
//! `KEY` (a Bearer key, JSON) or else `ORIGIN` (a share button's request, JSON as text/plain).
//! It prints one line, the fields `scripts/lib/bench_http.py wrk-parse` prints for wrk:
//! `req/s p50_ms p99_ms completed sent not_201 errors created`.

use std::sync::Arc;
use std::time::{Duration, Instant};

const CHANNELS: [&str; 6] = ["whatsapp", "email", "slack", "sms", "copy", "telegram"];
/// A request unanswered this long counts as an error.
const TIMEOUT: Duration = Duration::from_secs(10);

enum Outcome {
    Answered { status: u16, latency: Duration },
    Failed,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, url, rate, seconds] = args.as_slice() else {
        eprintln!("usage: load_at_rate URL RATE SECONDS");
        std::process::exit(2);
    };
    let rate: f64 = rate.parse().expect("RATE: requests a second");
    let seconds: f64 = seconds.parse().expect("SECONDS: how long to send");
    let body = std::env::var("BODY").expect("BODY: the request's JSON with two %s");
    let parents: Vec<String> = std::fs::read_to_string(std::env::var("PARENTS_FILE").expect("PARENTS_FILE"))
        .expect("PARENTS_FILE readable")
        .lines()
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect();
    assert!(!parents.is_empty(), "PARENTS_FILE lists no parent");
    let key = std::env::var("KEY").unwrap_or_default();
    let origin = std::env::var("ORIGIN").unwrap_or_default();

    let client = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .pool_idle_timeout(Duration::from_secs(30))
        .build()
        .expect("an HTTP client");
    let request = Arc::new(move |body: String| {
        let request = client.post(url.as_str()).body(body);
        match key.is_empty() {
            true => request
                .header("origin", origin.as_str())
                .header("content-type", "text/plain;charset=UTF-8"),
            false => request
                .header("authorization", format!("Bearer {key}"))
                .header("content-type", "application/json"),
        }
    });

    let total = (rate * seconds).round() as u64;
    let mut random = XorShift::seeded();
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(total as usize);
    for i in 0..total {
        let due = start + Duration::from_secs_f64(i as f64 / rate);
        tokio::time::sleep_until(due.into()).await;
        let channel = CHANNELS[random.below(CHANNELS.len())];
        let parent = &parents[random.below(parents.len())];
        let sent = request(body.replacen("%s", channel, 1).replacen("%s", parent, 1)).send();
        tasks.push(tokio::spawn(async move {
            match sent.await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    // The answer counts once its body is read, as a browser's would.
                    match response.bytes().await {
                        Ok(_) => Outcome::Answered {
                            status,
                            latency: due.elapsed(),
                        },
                        Err(_) => Outcome::Failed,
                    }
                }
                Err(_) => Outcome::Failed,
            }
        }));
    }

    let mut latencies = Vec::with_capacity(tasks.len());
    let (mut created, mut not_created, mut failed) = (0u64, 0u64, 0u64);
    for task in tasks {
        match task.await.expect("a request task") {
            Outcome::Answered { status, latency } => {
                latencies.push(latency);
                match status {
                    201 => created += 1,
                    _ => not_created += 1,
                }
            }
            Outcome::Failed => failed += 1,
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let percentile = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p).ceil() as usize).saturating_sub(1))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "{:.2} {:.2} {:.2} {} {} {} {} {}",
        created as f64 / elapsed,
        percentile(0.50),
        percentile(0.99),
        latencies.len(),
        total,
        not_created,
        failed,
        created
    );
}

/// Enough randomness to spread requests over parents and channels, with no dependency.
struct XorShift(u64);

impl XorShift {
    fn seeded() -> XorShift {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.subsec_nanos());
        XorShift(u64::from(nanos) | 1)
    }

    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}
