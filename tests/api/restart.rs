//! The real binary, stopped with SIGTERM: nothing recorded before the signal may be lost.

use crate::helpers::*;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

struct RunningBinary {
    child: Child,
    base_url: String,
}

/// Starts `sharetrail serve` on a free port and waits for its "listening" log line.
///
/// Batches may wait a minute to fill, so nothing is written before SIGTERM: only the drain on
/// shutdown can store the visits.
fn start_binary(database_url: &str) -> RunningBinary {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sharetrail"))
        .arg("serve")
        .env("SHARETRAIL_DATABASE_URL", database_url)
        .env("SHARETRAIL_LISTEN", "127.0.0.1:0")
        .env("SHARETRAIL_LOG", "info")
        .env("SHARETRAIL_LOG_FORMAT", "json")
        .env("SHARETRAIL_VISIT_FLUSH_MS", "60000")
        .env_remove("SHARETRAIL_BASE_URL")
        .stderr(Stdio::piped())
        .spawn()
        .expect("start sharetrail");
    let stderr = child.stderr.take().expect("stderr");
    let (found, url) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let Ok(entry) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            if let Some(base) = entry["fields"]["url"].as_str() {
                let _ = found.send(base.to_owned());
            }
        }
    });
    let base_url = url
        .recv_timeout(Duration::from_secs(60))
        .expect("sharetrail reported its address");
    RunningBinary { child, base_url }
}

impl RunningBinary {
    /// Sends SIGTERM and returns how long the process took to exit.
    fn terminate(mut self) -> Duration {
        let started = Instant::now();
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        let exit = self.child.wait().expect("wait for exit");
        assert!(exit.success(), "sharetrail exited with {exit}");
        started.elapsed()
    }
}

async fn visits_survive_a_sigterm(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let api_key = create_api_key(&db.url).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let server = start_binary(&db.url);
    let link: Value = client
        .post(format!("{}/api/v1/links", server.base_url))
        .bearer_auth(&api_key)
        .json(&json!({"url": "https://example.com/"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let share: Value = client
        .post(format!("{}/api/v1/shares", server.base_url))
        .bearer_auth(&api_key)
        .json(&json!({"link_id": link["id"], "channel": "whatsapp"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let short_url = share["short_url"].as_str().unwrap();
    const CLICKS: u64 = 300;
    for _ in 0..CLICKS {
        let response = client
            .get(short_url)
            .header("user-agent", BROWSER_UA)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 302);
    }
    let metrics = client
        .get(format!("{}/metrics", server.base_url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("sharetrail_visits_written_total 0"),
        "visits are still queued: {metrics}"
    );

    let took = server.terminate();

    assert!(took < Duration::from_secs(5), "shutdown took {took:?}");
    let restarted = start_binary(&db.url);
    let stats: Value = client
        .get(format!("{}/api/v1/links/{}/stats", restarted.base_url, link["id"]))
        .bearer_auth(&api_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["clicks"]["total"], CLICKS);
    restarted.terminate();
}

mod every_visit_recorded_before_sigterm_is_there_after_a_restart {
    use super::*;

    #[tokio::test]
    async fn sqlite() {
        visits_survive_a_sigterm(Backend::Sqlite).await;
    }

    #[tokio::test]
    async fn postgres() {
        visits_survive_a_sigterm(Backend::Postgres).await;
    }
}
