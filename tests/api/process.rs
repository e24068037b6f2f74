//! The real `sharetrail serve` binary as a child process, for what only a process can show:
//! SIGTERM, SIGKILL and several instances on one database.

use crate::helpers::*;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

pub struct RunningBinary {
    child: Child,
    /// Every log line so far, as JSON.
    log: Arc<Mutex<Vec<Value>>>,
    /// The harness's client, pointed at this process and holding the database's API key.
    pub app: TestApp,
}

/// Starts `sharetrail serve` on a free port with `env` added, and waits for its "listening"
/// log line. `db` is the caller's; this process only uses it.
pub fn start_binary(db: &TestDatabase, api_key: &str, env: &[(&str, &str)]) -> RunningBinary {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sharetrail"))
        .arg("serve")
        .env("SHARETRAIL_DATABASE_URL", &db.url)
        .env("SHARETRAIL_LISTEN", "127.0.0.1:0")
        .env("SHARETRAIL_LOG", "info")
        .env("SHARETRAIL_LOG_FORMAT", "json")
        .envs(env.iter().copied())
        .env_remove("SHARETRAIL_BASE_URL")
        .stderr(Stdio::piped())
        .spawn()
        .expect("start sharetrail");
    let stderr = child.stderr.take().expect("stderr");
    let (found, url) = mpsc::channel();
    let log = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&log);
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let Ok(entry) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            if let Some(base) = entry["fields"]["url"].as_str() {
                let _ = found.send(base.to_owned());
            }
            kept.lock().unwrap().push(entry);
        }
    });
    let address = url
        .recv_timeout(Duration::from_secs(60))
        .expect("sharetrail reported its address");
    let app = TestApp::client_of(address, api_key, db.shared());
    RunningBinary { child, log, app }
}

impl RunningBinary {
    /// Every log line written so far, as JSON.
    pub fn log_entries(&self) -> Vec<Value> {
        self.log.lock().unwrap().clone()
    }

    /// The log lines written so far at `level` (`"WARN"`, `"ERROR"`…), as their messages.
    pub fn logged(&self, level: &str) -> Vec<String> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|entry| entry["level"] == level)
            .map(|entry| entry["fields"]["message"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// Sends SIGTERM and returns how long the process took to exit.
    pub fn terminate(mut self) -> Duration {
        let exit = self.signal("TERM");
        assert!(exit.0.success(), "sharetrail exited with {}", exit.0);
        exit.1
    }

    /// Sends SIGKILL: the process ends at once, with whatever it held in memory.
    pub fn kill(mut self) {
        self.signal("KILL");
    }

    fn signal(&mut self, signal: &str) -> (std::process::ExitStatus, Duration) {
        let started = Instant::now();
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        let exit = self.child.wait().expect("wait for exit");
        (exit, started.elapsed())
    }
}

/// A failed test leaves no server behind.
impl Drop for RunningBinary {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
