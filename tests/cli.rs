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

    /// Runs `sharetrail ARGS` against this sandbox's database with `input` on its stdin.
    fn run_with_stdin(&self, args: &[&str], input: &str) -> Outcome {
        self.run_fed(args, &[("SHARETRAIL_DATABASE_URL", &self.database_url())], Some(input))
    }

    /// Runs `sharetrail ARGS` with exactly these `SHARETRAIL_*` variables, from this directory.
    fn run_with(&self, args: &[&str], vars: &[(&str, &str)]) -> Outcome {
        self.run_fed(args, vars, None)
    }

    fn run_fed(&self, args: &[&str], vars: &[(&str, &str)], input: Option<&str>) -> Outcome {
        let (stdout_path, stderr_path) = (self.dir.path().join("stdout"), self.dir.path().join("stderr"));
        let mut command = Command::new(env!("CARGO_BIN_EXE_sharetrail"));
        command.args(args).current_dir(self.dir.path());
        command.stdin(if input.is_some() { Stdio::piped() } else { Stdio::null() });
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("SHARETRAIL_") {
                command.env_remove(name);
            }
        }
        command.envs(vars.iter().copied());
        command.stdout(File::create(&stdout_path).expect("stdout file"));
        command.stderr(File::create(&stderr_path).expect("stderr file"));
        let mut child = command.spawn().expect("start sharetrail");
        if let (Some(input), Some(mut stdin)) = (input, child.stdin.take()) {
            use std::io::Write;
            stdin.write_all(input.as_bytes()).expect("write to stdin");
        }
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
        &["link", "create"],
        &["link", "update"],
        &["link", "show"],
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

/// `link create` with every lifecycle flag: the id alone on stdout.
fn create_protected_link(sandbox: &Sandbox) -> String {
    let outcome = sandbox.run_with_stdin(
        &[
            "link",
            "create",
            "--url",
            "https://example.com/launch",
            "--campaign",
            "Spring",
            "--expires",
            "2099-03-31",
            "--max-clicks",
            "100",
            "--fallback",
            "https://example.com/ended",
            "--password-stdin",
            "--utm",
            "source=Newsletter",
            "--omit-utm",
            "medium",
        ],
        "spring-2027\n",
    );
    assert!(outcome.status.success(), "{}", outcome.stderr);
    let id = outcome.stdout.trim_end().to_owned();
    assert!(
        id.parse::<i64>().is_ok(),
        "stdout must hold the id alone: {:?}",
        outcome.stdout
    );
    id
}

fn show(sandbox: &Sandbox, id: &str) -> serde_json::Value {
    let outcome = sandbox.run(&["link", "show", id]);
    assert!(outcome.status.success(), "{}", outcome.stderr);
    serde_json::from_str(&outcome.stdout).expect("show prints the link's JSON document")
}

#[tokio::test]
async fn link_create_sets_every_lifecycle_field_and_show_prints_them_but_never_the_password() {
    let sandbox = Sandbox::new();

    let id = create_protected_link(&sandbox);

    let link = show(&sandbox, &id);
    assert_eq!(link["url"], "https://example.com/launch");
    assert_eq!(link["expires_at"], "2099-04-01T00:00:00.000Z", "the whole day, UTC");
    assert_eq!(
        (link["max_clicks"].as_i64(), link["clicks_remaining"].as_i64()),
        (Some(100), Some(100))
    );
    assert_eq!(link["fallback_url"], "https://example.com/ended");
    assert_eq!(link["password_protected"], true);
    assert_eq!(
        link["utm"],
        serde_json::json!({"source": "Newsletter", "medium": false})
    );
    let store = sharetrail::store::connect(&sandbox.database_url(), 1)
        .await
        .expect("open the store");
    let stored = store.get_link(id.parse().unwrap()).await.unwrap().unwrap();
    let hash = stored.lifecycle.password_hash.expect("a password hash");
    assert!(
        sharetrail::accounts::password::verify(&hash, "spring-2027"),
        "the password from stdin, hashed"
    );
    assert!(!show(&sandbox, &id).to_string().contains("argon2"));
}

#[test]
fn link_update_changes_what_it_names_and_removes_what_it_is_told() {
    let sandbox = Sandbox::new();
    let id = create_protected_link(&sandbox);

    let outcome = sandbox.run(&[
        "link",
        "update",
        &id,
        "--max-clicks",
        "5",
        "--no-password",
        "--no-fallback",
        "--reset-utm",
        "source",
        "--utm",
        "term=shoes",
        "--no-expiry",
    ]);

    assert!(outcome.status.success(), "{}", outcome.stderr);
    let printed: serde_json::Value = serde_json::from_str(&outcome.stdout).expect("update prints the document");
    let link = show(&sandbox, &id);
    assert_eq!(printed, link);
    assert_eq!(link["max_clicks"], 5);
    assert_eq!(link["password_protected"], false);
    assert_eq!(link["fallback_url"], serde_json::Value::Null);
    assert_eq!(link["expires_at"], serde_json::Value::Null);
    assert_eq!(link["utm"], serde_json::json!({"medium": false, "term": "shoes"}));

    let reset = sandbox.run(&["link", "update", &id, "--no-max-clicks", "--reset-utm", "all"]);
    assert!(reset.status.success(), "{}", reset.stderr);
    let link = show(&sandbox, &id);
    assert_eq!(
        (link["max_clicks"].clone(), link["utm"].clone()),
        (serde_json::Value::Null, serde_json::json!({}))
    );
}

#[test]
fn link_commands_refuse_bad_values_naming_the_flag_and_change_nothing() {
    let sandbox = Sandbox::new();
    let id = create_protected_link(&sandbox);
    let url = ["--url", "https://example.com/"];

    for (args, said) in [
        (vec!["--max-clicks", "0"], "--max-clicks"),
        (vec!["--max-clicks", "-2"], "--max-clicks"),
        (vec!["--fallback", "ftp://example.com/"], "--fallback"),
        (
            vec!["--fallback", "http://127.0.0.1:8080/AbCd2345"],
            "sharetrail address",
        ),
        (vec!["--utm", "ref=x"], "not a UTM tag"),
        (vec!["--utm", "source"], "TAG=VALUE"),
        (vec!["--expires", "next week"], "--expires"),
        (vec!["--password"], "--password-stdin"),
    ] {
        let create = sandbox.run(&[&["link", "create"][..], &url, &args].concat());
        assert!(!create.status.success(), "{args:?}");
        assert!(create.stderr.contains(said), "{args:?}: {}", create.stderr);
        assert_eq!(create.stdout, "", "{args:?}");
        let update = sandbox.run(&[&["link", "update", &id][..], &args].concat());
        assert!(
            !update.status.success() && update.stderr.contains(said),
            "{args:?}: {}",
            update.stderr
        );
    }
    let short = sandbox.run_with_stdin(&["link", "update", &id, "--password-stdin"], "abc\n");
    assert!(
        !short.status.success() && short.stderr.contains("password"),
        "{}",
        short.stderr
    );
    let both = sandbox.run(&["link", "update", &id, "--max-clicks", "3", "--no-max-clicks"]);
    assert!(!both.status.success(), "contradicting flags");
    let missing = sandbox.run(&["link", "show", "999"]);
    assert!(
        !missing.status.success() && missing.stderr.contains("no link"),
        "{}",
        missing.stderr
    );

    let link = show(&sandbox, &id);
    assert_eq!(
        (link["max_clicks"].as_i64(), link["password_protected"].as_bool()),
        (Some(100), Some(true))
    );
    let listed = sandbox.run(&["link", "show", "2"]);
    assert!(!listed.status.success(), "no second link was created");
}
