//! The real `sharetrail` executable, run the way an operator runs it: each test in a fresh
//! temporary directory with its own SQLite file and no `SHARETRAIL_*` variable it did not set.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A command that has not exited by then is taken as hung (for `serve`: as started).
const TIMEOUT: Duration = Duration::from_secs(30);

/// A temporary directory holding one SQLite database; removed when dropped.
struct Sandbox {
    dir: tempfile::TempDir,
}

struct Outcome {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl Sandbox {
    fn new() -> Sandbox {
        let dir = tempfile::Builder::new()
            .prefix("sharetrail-cli-")
            .tempdir()
            .expect("temporary directory");
        Sandbox { dir }
    }

    fn database_file(&self) -> PathBuf {
        self.dir.path().join("sharetrail.db")
    }

    fn database_url(&self) -> String {
        format!("sqlite://{}", self.database_file().display())
    }

    /// Runs `sharetrail ARGS` against this sandbox's database.
    fn run(&self, args: &[&str]) -> Outcome {
        self.run_with(args, &[("SHARETRAIL_DATABASE_URL", &self.database_url())])
    }

    /// Runs `sharetrail ARGS` with exactly these `SHARETRAIL_*` variables, from this directory.
    fn run_with(&self, args: &[&str], vars: &[(&str, &str)]) -> Outcome {
        let (stdout_path, stderr_path) = (self.dir.path().join("stdout"), self.dir.path().join("stderr"));
        let mut command = Command::new(env!("CARGO_BIN_EXE_sharetrail"));
        command.args(args).current_dir(self.dir.path()).stdin(Stdio::null());
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("SHARETRAIL_") {
                command.env_remove(name);
            }
        }
        command.envs(vars.iter().copied());
        command.stdout(File::create(&stdout_path).expect("stdout file"));
        command.stderr(File::create(&stderr_path).expect("stderr file"));
        let mut child = command.spawn().expect("start sharetrail");
        let deadline = Instant::now() + TIMEOUT;
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for sharetrail") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("`sharetrail {}` still running after {TIMEOUT:?}", args.join(" "));
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        Outcome {
            status,
            stdout: read(&stdout_path),
            stderr: read(&stderr_path),
        }
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).expect("captured output")
}

/// An API key as `api-key create` prints it: `stk_` and 32 letters or digits.
fn is_api_key(text: &str) -> bool {
    text.strip_prefix("stk_")
        .is_some_and(|secret| secret.len() == 32 && secret.bytes().all(|b| b.is_ascii_alphanumeric()))
}

#[test]
fn api_key_create_prints_the_key_alone_on_one_line_of_stdout() {
    let sandbox = Sandbox::new();

    let outcome = sandbox.run(&["api-key", "create", "--name", "ci"]);

    assert!(outcome.status.success(), "{}", outcome.stderr);
    let key = outcome.stdout.strip_suffix('\n').unwrap_or_default();
    assert!(is_api_key(key), "stdout was {:?}", outcome.stdout);
    assert_eq!(
        outcome.stdout,
        format!("{key}\n"),
        "stdout must hold the key and nothing else"
    );
}

#[test]
fn each_api_key_create_prints_a_different_key() {
    let sandbox = Sandbox::new();

    let first = sandbox.run(&["api-key", "create", "--name", "ci"]);
    let second = sandbox.run(&["api-key", "create", "--name", "ci"]);

    assert!(
        first.status.success() && second.status.success(),
        "{}{}",
        first.stderr,
        second.stderr
    );
    assert!(is_api_key(first.stdout.trim_end()), "{:?}", first.stdout);
    assert!(is_api_key(second.stdout.trim_end()), "{:?}", second.stdout);
    assert_ne!(first.stdout, second.stdout);
}

#[test]
fn api_key_create_with_an_empty_name_fails_with_a_message_on_stderr() {
    let sandbox = Sandbox::new();

    let outcome = sandbox.run(&["api-key", "create", "--name", ""]);

    assert!(!outcome.status.success(), "exit status {}", outcome.status);
    assert!(outcome.stderr.contains("--name"), "stderr: {:?}", outcome.stderr);
    assert_eq!(outcome.stdout, "", "no key may be printed");
}

#[test]
fn help_works_for_the_binary_and_lists_its_commands() {
    let sandbox = Sandbox::new();

    let outcome = sandbox.run(&["--help"]);

    assert!(outcome.status.success(), "{}", outcome.stderr);
    for command in ["serve", "migrate", "api-key", "channel", "import"] {
        assert!(outcome.stdout.contains(command), "no {command} in\n{}", outcome.stdout);
    }
}

#[test]
fn help_for_serve_names_the_database_and_listen_variables() {
    let sandbox = Sandbox::new();

    let outcome = sandbox.run(&["serve", "--help"]);

    assert!(outcome.status.success(), "{}", outcome.stderr);
    assert!(outcome.stdout.contains("SHARETRAIL_DATABASE_URL"), "{}", outcome.stdout);
    assert!(outcome.stdout.contains("SHARETRAIL_LISTEN"), "{}", outcome.stdout);
}

#[test]
fn help_for_every_database_command_names_the_database_variable() {
    let sandbox = Sandbox::new();

    for command in [
        &["migrate"][..],
        &["api-key", "create"],
        &["channel", "create"],
        &["import"],
    ] {
        let outcome = sandbox.run(&[command, &["--help"]].concat());

        assert!(outcome.status.success(), "{command:?}: {}", outcome.stderr);
        assert!(
            outcome.stdout.contains("SHARETRAIL_DATABASE_URL"),
            "{command:?}:\n{}",
            outcome.stdout
        );
    }
}

#[test]
fn import_of_a_missing_file_or_an_unknown_format_fails_with_a_message_on_stderr() {
    let sandbox = Sandbox::new();

    let missing = sandbox.run(&["import", "csv", "no-such-export.csv"]);
    let unknown = sandbox.run(&["import", "tinyurl", "links.csv"]);

    assert!(!missing.status.success());
    assert!(
        missing.stderr.contains("could not read no-such-export.csv"),
        "{}",
        missing.stderr
    );
    assert!(missing.stdout.is_empty(), "{}", missing.stdout);
    assert!(!unknown.status.success());
    assert!(
        unknown.stderr.contains("bitly"),
        "the formats are named: {}",
        unknown.stderr
    );
}

#[test]
fn help_never_prints_the_database_password_from_the_environment() {
    let sandbox = Sandbox::new();
    let url = "postgres://sharetrail:hunter2-secret@db.internal:5432/sharetrail";

    let outcome = sandbox.run_with(&["serve", "--help"], &[("SHARETRAIL_DATABASE_URL", url)]);

    assert!(outcome.status.success(), "{}", outcome.stderr);
    assert!(!outcome.stdout.contains("hunter2-secret"), "{}", outcome.stdout);
}

#[test]
fn migrate_creates_the_database_file() {
    let sandbox = Sandbox::new();
    assert!(!sandbox.database_file().exists());

    let outcome = sandbox.run(&["migrate"]);

    assert!(outcome.status.success(), "{}", outcome.stderr);
    assert!(
        sandbox.database_file().exists(),
        "no {}",
        sandbox.database_file().display()
    );
}

#[test]
fn channel_create_prints_the_channel_name() {
    let sandbox = Sandbox::new();

    let outcome = sandbox.run(&["channel", "create", "--name", "newsletter", "--medium", "email"]);

    assert!(outcome.status.success(), "{}", outcome.stderr);
    assert_eq!(outcome.stdout, "newsletter\n");
}

#[test]
fn creating_a_channel_that_already_exists_fails() {
    let sandbox = Sandbox::new();
    let args = ["channel", "create", "--name", "newsletter", "--medium", "email"];
    assert!(sandbox.run(&args).status.success());

    let again = sandbox.run(&args);

    assert!(!again.status.success(), "exit status {}", again.status);
    assert!(again.stderr.contains("already exists"), "stderr: {:?}", again.stderr);
    assert_eq!(again.stdout, "");
}

#[test]
fn serve_with_an_invalid_listen_address_exits_naming_the_problem() {
    let sandbox = Sandbox::new();
    let database_url = sandbox.database_url();

    let outcome = sandbox.run_with(
        &["serve"],
        &[
            ("SHARETRAIL_DATABASE_URL", &database_url),
            ("SHARETRAIL_LISTEN", "not-an-address"),
        ],
    );

    assert!(!outcome.status.success(), "exit status {}", outcome.status);
    assert!(
        outcome.stderr.contains("not-an-address") || outcome.stderr.contains("SHARETRAIL_LISTEN"),
        "stderr: {:?}",
        outcome.stderr
    );
}

/// A publishable site key as `site create` prints it: `pk_` and 24 letters or digits.
fn is_site_key(text: &str) -> bool {
    text.strip_prefix("pk_")
        .is_some_and(|secret| secret.len() == 24 && secret.bytes().all(|b| b.is_ascii_alphanumeric()))
}

#[test]
fn site_create_prints_only_the_publishable_key_on_one_line() {
    let sandbox = Sandbox::new();

    let outcome = sandbox.run(&["site", "create", "--name", "Blog", "--domain", "example.com"]);

    assert!(outcome.status.success(), "{}", outcome.stderr);
    let key = outcome.stdout.strip_suffix('\n').unwrap_or_default();
    assert!(is_site_key(key), "stdout was {:?}", outcome.stdout);
    assert_eq!(
        outcome.stdout,
        format!("{key}\n"),
        "stdout must hold the key and nothing else"
    );
}

#[test]
fn site_create_with_an_invalid_origin_fails_with_a_message_on_stderr() {
    let sandbox = Sandbox::new();

    let outcome = sandbox.run(&[
        "site",
        "create",
        "--name",
        "Blog",
        "--domain",
        "example.com",
        "--origin",
        "not-an-origin",
    ]);

    assert!(!outcome.status.success(), "exit status {}", outcome.status);
    assert!(outcome.stderr.contains("not-an-origin"), "stderr: {:?}", outcome.stderr);
    assert_eq!(outcome.stdout, "", "no key may be printed");
}

#[test]
fn help_for_site_create_mentions_the_domain_option() {
    let sandbox = Sandbox::new();

    let outcome = sandbox.run(&["site", "create", "--help"]);

    assert!(outcome.status.success(), "{}", outcome.stderr);
    assert!(outcome.stdout.contains("--domain"), "{}", outcome.stdout);
}
