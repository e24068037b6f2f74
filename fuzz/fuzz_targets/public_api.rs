//! The public API (`/api/v1/public/*`), end to end: the real application (`Application::build`,
//! the same code path as `main`) runs in this process on a loopback port against a fresh SQLite
//! file, with one site, and each input is one request to it, the way the snippet sends them:
//! a JSON body posted as `text/plain`, from an `Origin`.
//!
//! Bodies are either raw bytes or JSON objects built field by field, each field absent, null, of
//! a wrong type, arbitrary text, or a value that gets further: the site's key, a page of the
//! site, a known channel, the code of a share minted earlier in the run.
//!
//! Asserts: no panic anywhere in the server; never a 5xx; every 4xx but a refused preflight
//! carries the documented error body `{"error": {"code", "message", "field"?}}`; every success
//! is a JSON document, and a minted share has a code that `Code::parse` takes.
//!
//! `SHARETRAIL_LOG=debug` (or any filter) shows the server's logs.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};
use sharetrail::config::Settings;
use sharetrail::domain::code::Code;
use sharetrail::startup::Application;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::{LazyLock, Mutex};

const ORIGIN: &str = "http://localhost:9999";
const BROWSER_UA: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

/// The running application and what the fuzzer knows about it.
struct Server {
    port: u16,
    site_key: String,
    /// Codes of shares that exist: the site's own and one on a link of another host.
    codes: Mutex<Vec<String>>,
    connection: Mutex<Option<TcpStream>>,
    /// Answers by endpoint and status, printed now and then: how deep the inputs get.
    seen: Mutex<BTreeMap<(&'static str, u16), u64>>,
    /// Kept so the database directory outlives the run.
    _dir: PathBuf,
}

static SERVER: LazyLock<Server> = LazyLock::new(start);

fn start() -> Server {
    if std::env::var_os("SHARETRAIL_LOG").is_some() {
        let log = sharetrail::config::LogSettings::from_env().expect("SHARETRAIL_LOG and SHARETRAIL_LOG_FORMAT");
        sharetrail::telemetry::init(&log);
    }
    let dir = std::env::temp_dir().join(format!("sharetrail-fuzz-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a directory for the database");
    let url = format!("sqlite://{}", dir.join("sharetrail.db").display());
    let mut settings = Settings::for_database(&url);
    settings.listen = "127.0.0.1:0".parse().expect("address");
    settings.workers = Some(1);
    // The fuzzer is one client sending as fast as it can: rate limits would hide the handlers.
    settings.public_rate_per_ip = 1_000_000_000;
    settings.public_rate_per_site = 1_000_000_000;

    let (tx, rx) = std::sync::mpsc::channel();
    let db_url = url.clone();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async move {
            let app = Application::build(settings).await.expect("the application builds");
            let port = app.port();
            tokio::spawn(app.run_until_stopped());
            let store = sharetrail::store::connect(&db_url, 1).await.expect("the store");
            let key = sharetrail::domain::api_key::generate();
            store.create_api_key("fuzz", &key, 0).await.expect("an API key");
            tx.send((port, key.plaintext)).expect("the fuzzer waits");
            std::future::pending::<()>().await;
        });
    });
    let (port, api_key) = rx.recv().expect("the application starts");
    let server = Server {
        port,
        site_key: String::new(),
        codes: Mutex::new(Vec::new()),
        connection: Mutex::new(None),
        seen: Mutex::new(BTreeMap::new()),
        _dir: dir,
    };

    let admin = |path: &str, body: Value| -> Value {
        let (status, body) = server.send(
            "POST",
            path,
            &[
                ("authorization", &format!("Bearer {api_key}")),
                ("content-type", "application/json"),
            ],
            body.to_string().as_bytes(),
        );
        assert!(
            (200..300).contains(&status),
            "{path}: {status} {}",
            String::from_utf8_lossy(&body)
        );
        serde_json::from_slice(&body).expect("JSON")
    };
    let site = admin(
        "/api/v1/sites",
        json!({"name": "Blog", "domains": ["localhost"], "origins": [ORIGIN]}),
    );
    let other = admin("/api/v1/links", json!({"url": "https://elsewhere.example/page"}));
    let share = admin("/api/v1/shares", json!({"link_id": other["id"], "channel": "email"}));
    let server = Server {
        site_key: site["key"].as_str().expect("a site key").to_owned(),
        ..server
    };
    server
        .codes
        .lock()
        .unwrap()
        .push(share["code"].as_str().expect("a code").to_owned());
    server
}

impl Server {
    /// One HTTP/1.1 request on a kept-alive connection: (status, body).
    fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, Vec<u8>) {
        let mut request = format!(
            "{method} {path} HTTP/1.1\r\nhost: 127.0.0.1:{}\r\ncontent-length: {}\r\n",
            self.port,
            body.len()
        )
        .into_bytes();
        for (name, value) in headers {
            request.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        request.extend_from_slice(b"\r\n");
        request.extend_from_slice(body);

        let mut slot = self.connection.lock().unwrap();
        // A connection the server closed since is opened again, once.
        for attempt in 0..2 {
            let stream = match slot.take() {
                Some(stream) => stream,
                None => TcpStream::connect(("127.0.0.1", self.port)).expect("the server listens"),
            };
            match exchange(stream, &request) {
                Ok((status, body, stream)) => {
                    *slot = stream;
                    return (status, body);
                }
                Err(err) if attempt == 0 => eprintln!("reconnecting after: {err}"),
                Err(err) => panic!("the server did not answer {method} {path}: {err}"),
            }
        }
        unreachable!()
    }
}

fn exchange(stream: TcpStream, request: &[u8]) -> std::io::Result<(u16, Vec<u8>, Option<TcpStream>)> {
    let broken = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    (&stream).write_all(request)?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Err(broken("connection closed"));
    }
    let status: u16 = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| broken("status line"))?;
    let (mut length, mut chunked, mut close) = (0usize, false, false);
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':').ok_or_else(|| broken("header"))?;
        let (name, value) = (name.to_ascii_lowercase(), value.trim());
        match name.as_str() {
            "content-length" => length = value.parse().map_err(|_| broken("content-length"))?,
            "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
            "connection" => close = value.eq_ignore_ascii_case("close"),
            _ => {}
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            line.clear();
            reader.read_line(&mut line)?;
            let size = usize::from_str_radix(line.trim(), 16).map_err(|_| broken("chunk size"))?;
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk)?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else {
        body.resize(length, 0);
        reader.read_exact(&mut body)?;
    }
    let stream = (!close).then(|| reader.into_inner());
    Ok((status, body, stream))
}

#[derive(Debug, Arbitrary, Clone, Copy)]
enum Endpoint {
    Shares,
    Sent,
    Arrivals,
    Conversions,
    Heard,
    /// The CORS preflight, which takes no body.
    Preflight,
}

impl Endpoint {
    fn path(self) -> &'static str {
        match self {
            Endpoint::Shares => "/api/v1/public/shares",
            Endpoint::Sent => "/api/v1/public/sent",
            Endpoint::Arrivals => "/api/v1/public/arrivals",
            Endpoint::Conversions => "/api/v1/public/conversions",
            Endpoint::Heard => "/api/v1/public/heard",
            Endpoint::Preflight => "/api/v1/public/shares",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Endpoint::Preflight => "preflight",
            _ => self.path().trim_start_matches("/api/v1/public/"),
        }
    }

    /// The fields its body has (the others are tried too, as noise).
    fn fields(self) -> &'static [&'static str] {
        match self {
            Endpoint::Shares => &["site", "url", "channel", "parent", "title", "reserve"],
            Endpoint::Sent => &["site", "code", "url", "channel", "parent", "title"],
            Endpoint::Arrivals => &["site", "url", "token", "parent"],
            Endpoint::Conversions => &["site", "url", "code", "name", "value"],
            Endpoint::Heard => &["site", "url", "code", "answer", "channel"],
            Endpoint::Preflight => &[],
        }
    }
}

#[derive(Debug, Arbitrary)]
enum Origin<'a> {
    Allowed,
    Missing,
    Other(&'a str),
}

#[derive(Debug, Arbitrary)]
enum Field<'a> {
    Absent,
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(&'a str),
    /// A value that passes this field's checks (which one: the number).
    Good(u8),
    /// A good value with arbitrary text around it.
    Around(u8, &'a str, &'a str),
    List(Vec<&'a str>),
}

#[derive(Debug, Arbitrary)]
enum Body<'a> {
    Raw(&'a [u8]),
    Fields(Vec<Field<'a>>),
}

#[derive(Debug, Arbitrary)]
struct Input<'a> {
    endpoint: Endpoint,
    origin: Origin<'a>,
    body: Body<'a>,
}

const NOISE: &[&str] = &[
    "site", "url", "channel", "parent", "title", "reserve", "code", "token", "name", "value", "answer",
];

fn good(server: &Server, field: &str, pick: u8) -> Value {
    let pick = usize::from(pick);
    let one = |options: &[&str]| Value::from(options[pick % options.len()]);
    match field {
        "site" => Value::from(server.site_key.as_str()),
        "url" => one(&[
            "http://localhost:9999/post",
            "http://localhost:9999/post?id=7&utm_source=x&st=AbCd2345#st=Ab3dEf9xYz12",
            "http://localhost:9999/",
            "https://localhost/post",
            "http://localhost:8080/post",
            "https://elsewhere.example/page",
        ]),
        "channel" => one(&["whatsapp", "email", "copy", "address_bar", "sms", "unknown-custom"]),
        "parent" | "code" => {
            let codes = server.codes.lock().unwrap();
            if codes.is_empty() {
                Value::from("Ab3dEf9x")
            } else {
                Value::from(codes[pick % codes.len()].as_str())
            }
        }
        "title" => one(&["A post", "", "   "]),
        "reserve" => Value::from(pick % 2 == 0),
        "token" => one(&["Ab3dEf9xYz12", "Ab3dEf9x", "0123456789abcdefghijABCDEFGHIJ01"]),
        "name" => one(&["signup", "purchase", "Sign Up"]),
        "value" => json!([19.99, 0, -1, 1e300])[pick % 4].clone(),
        "answer" => one(&["a friend on whatsapp", "slack", "a podcast"]),
        _ => Value::Null,
    }
}

fn body(server: &Server, endpoint: Endpoint, fields: &[Field<'_>]) -> Vec<u8> {
    let names = endpoint.fields().iter().chain(NOISE);
    let mut object = Map::new();
    for (name, field) in names.zip(fields) {
        let value = match field {
            Field::Absent => continue,
            Field::Null => Value::Null,
            Field::Bool(b) => Value::from(*b),
            Field::Int(i) => Value::from(*i),
            // JSON has no NaN or infinity: serde_json writes those as null.
            Field::Float(f) => Value::from(*f),
            Field::Text(text) => Value::from(*text),
            Field::Good(pick) => good(server, name, *pick),
            Field::Around(pick, before, after) => match good(server, name, *pick) {
                Value::String(s) => Value::from(format!("{before}{s}{after}")),
                other => other,
            },
            Field::List(items) => Value::from(items.clone()),
        };
        object.insert((*name).to_owned(), value);
    }
    Value::Object(object).to_string().into_bytes()
}

fn assert_error_body(status: u16, body: &[u8], what: &str) {
    let document: Value = serde_json::from_slice(body).unwrap_or_else(|e| {
        panic!(
            "{what}: {status} without a JSON body ({e}): {:?}",
            String::from_utf8_lossy(body)
        )
    });
    let error = document
        .get("error")
        .and_then(Value::as_object)
        .unwrap_or_else(|| panic!("{what}: {status} without an error object: {document}"));
    assert!(error.get("code").is_some_and(Value::is_string), "{what}: {document}");
    assert!(error.get("message").is_some_and(Value::is_string), "{what}: {document}");
    assert!(error.get("field").is_none_or(Value::is_string), "{what}: {document}");
    assert!(
        error.keys().all(|k| ["code", "message", "field"].contains(&k.as_str())),
        "{what}: {document}"
    );
}

fuzz_target!(|input: Input<'_>| {
    let server = &*SERVER;
    let origin = match &input.origin {
        Origin::Allowed => Some(ORIGIN),
        Origin::Missing => None,
        // Header values are visible ASCII: anything else never reaches the application.
        Origin::Other(text) if text.bytes().all(|b| (0x20..0x7f).contains(&b)) => Some(text.trim()),
        Origin::Other(_) => Some("https://evil.example"),
    };
    let mut headers = vec![("content-type", "text/plain;charset=UTF-8"), ("user-agent", BROWSER_UA)];
    if let Some(origin) = origin {
        headers.push(("origin", origin));
    }
    let endpoint = input.endpoint;
    let (method, payload) = match (&input.body, endpoint) {
        (_, Endpoint::Preflight) => ("OPTIONS", Vec::new()),
        (Body::Raw(bytes), _) => ("POST", bytes.to_vec()),
        (Body::Fields(fields), _) => ("POST", body(server, endpoint, fields)),
    };
    let (status, answer) = server.send(method, endpoint.path(), &headers, &payload);
    {
        let mut seen = server.seen.lock().unwrap();
        *seen.entry((endpoint.name(), status)).or_default() += 1;
        if seen.values().sum::<u64>() % 50_000 == 0 {
            eprintln!("answers so far (endpoint, status, count): {seen:?}");
        }
    }
    let what = format!("{method} {} {:?}", endpoint.path(), String::from_utf8_lossy(&payload));

    assert!(status < 500, "{what}: {status} {}", String::from_utf8_lossy(&answer));
    match (endpoint, status) {
        // A preflight is answered by status alone.
        (Endpoint::Preflight, 204 | 403) => {}
        (_, 200..=299) => {
            let document: Value = serde_json::from_slice(&answer).unwrap_or_else(|e| panic!("{what}: {status}: {e}"));
            if let Some(code) = document.get("code").and_then(Value::as_str) {
                assert!(Code::parse(code).is_some(), "{what}: minted {code:?}");
                let mut codes = server.codes.lock().unwrap();
                if codes.len() < 256 {
                    codes.push(code.to_owned());
                }
            } else {
                assert_eq!(document["status"], "recorded", "{what}: {document}");
            }
        }
        (_, 400..=499) => assert_error_body(status, &answer, &what),
        _ => panic!("{what}: unexpected {status}"),
    }
});
