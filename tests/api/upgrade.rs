//! Upgrading databases of earlier releases: whatever they hold stays what it was.
//! - Visits stored a row each, before the visit log became runs: every visit is still there,
//!   under its id, and new ids follow the old ones.
//! - Shares made before reservations existed: each stays a share, and cascades go on under it.
//! - Cascades deep before webhooks existed: `cascade.depth_reached` reports only levels new since.
//! - Links made before lifecycles: each asks nothing more of its visits than before (no click
//!   limit, fallback, password or UTM overrides), keeps its clicks and expiry, and takes them.

use crate::helpers::*;
use sharetrail::clock::now_ms;
use sharetrail::domain::channel::Channel;
use sharetrail::domain::code::Code;
use sharetrail::store::{self, NewCode, NewShare, ShareLink, VisitBatch};

/// The migration that turned the visit log into runs.
const RUNS_VERSION: &str = "20261130000003";
/// The migration that added reservations.
const RESERVATIONS_VERSION: &str = "20261206000001";
/// The migration that added click limits, fallbacks, passwords and UTM overrides.
const LIFECYCLE_VERSION: &str = "20261208000001";

/// Applies `backend`'s migrations older than `version`, as an install of that time had them,
/// then runs `seed` (SQL statements) on it.
async fn install_before(db: &TestDatabase, backend: &str, version: &str, seed: &[&str]) {
    let folder = tempfile::Builder::new()
        .prefix("sharetrail-migrations-")
        .tempdir()
        .expect("a folder for the old migrations");
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    for entry in std::fs::read_dir(&source).expect("the migrations") {
        let path = entry.expect("a migration").path();
        let name = path.file_name().expect("a file name").to_string_lossy().into_owned();
        if name.as_str() < version {
            std::fs::copy(&path, folder.path().join(&name)).expect("copy a migration");
        }
    }
    let migrator = sqlx::migrate::Migrator::new(folder.path())
        .await
        .expect("read the old migrations");
    if backend == "postgres" {
        let pool = sqlx::PgPool::connect(&db.url).await.expect("connect");
        migrator.run(&pool).await.expect("the old migrations");
        run_all(&pool, seed).await;
    } else {
        let options = db
            .url
            .parse::<sqlx::sqlite::SqliteConnectOptions>()
            .expect("a SQLite URL");
        let pool = sqlx::SqlitePool::connect_with(options.create_if_missing(true))
            .await
            .expect("connect");
        migrator.run(&pool).await.expect("the old migrations");
        run_all(&pool, seed).await;
    }
}

async fn run_all<'c, E>(pool: E, statements: &[&str])
where
    E: sqlx::Executor<'c> + Copy,
    for<'q> <E::Database as sqlx::Database>::Arguments: sqlx::IntoArguments<E::Database>,
{
    for sql in statements {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
            .execute(pool)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

/// Three visits of link 7 in the old row-per-visit form; the second has no optional field.
const OLD_VISITS: &[&str] = &[
    "INSERT INTO visits (share_id, link_id, at, kind, app, visitor, referrer_host, device, browser, os, country) \
     VALUES (70, 7, 1000, 'click', NULL, 'ab', 'news.example', 'desktop', 'Firefox', 'Linux', 'NZ')",
    "INSERT INTO visits (share_id, link_id, at, kind, app, visitor, referrer_host, device, browser, os, country) \
     VALUES (70, 7, 2000, 'click', NULL, 'ab', 'news.example', 'desktop', 'Firefox', 'Linux', NULL)",
    "INSERT INTO visits (share_id, link_id, at, kind, app, visitor, referrer_host, device, browser, os, country) \
     VALUES (70, 7, 3000, 'click', NULL, 'ab', 'news.example', 'desktop', 'Firefox', 'Linux', 'DE')",
];

async fn upgrading_keeps_every_visit_under_its_id(backend: Backend, name: &str) {
    let db = TestDatabase::new(backend).await;
    install_before(&db, name, RUNS_VERSION, OLD_VISITS).await;
    let store = sharetrail::store::connect(&db.url, 1).await.expect("open the store");
    store.migrate().await.expect("the upgrade");

    let rows = db
        .strings("SELECT CAST(id AS TEXT) || ' ' || CAST(at AS TEXT) || ' ' || COALESCE(country, '-') FROM visits ORDER BY id")
        .await;
    let rows: Vec<String> = rows.into_iter().flatten().collect();
    assert_eq!(
        rows,
        ["1 1000 NZ", "2 2000 -", "3 3000 DE"],
        "the old visits, ids and fields as they were"
    );

    let new = email_click(7, 70, now_ms(), 1);
    store
        .write_visits(&VisitBatch::new(&[new.clone(), new]))
        .await
        .expect("a batch after the upgrade");
    let ids: Vec<String> = db
        .strings("SELECT CAST(id AS TEXT) FROM visits ORDER BY id")
        .await
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(
        ids,
        ["1", "2", "3", "4", "5"],
        "new visits take the ids after the old ones"
    );
}

#[tokio::test]
async fn upgrading_sqlite_keeps_every_visit_under_its_id() {
    upgrading_keeps_every_visit_under_its_id(Backend::Sqlite, "sqlite").await;
}

#[tokio::test]
async fn upgrading_postgres_keeps_every_visit_under_its_id() {
    upgrading_keeps_every_visit_under_its_id(Backend::Postgres, "postgres").await;
}

/// A link with a WhatsApp share and an e-mail reshare under it, rollups and all, as the share
/// buttons left them before reservations.
const OLD_SHARES: &[&str] = &[
    "INSERT INTO links (url, created_at, share_count, child_shares, max_depth, sum_sizes, sum_sq_sizes) \
     VALUES ('https://blog.example/post', 1000, 2, 1, 2, 3, 5)",
    "INSERT INTO shares (link_id, code, channel, depth, created_at, subtree_size) VALUES (1, 'OldRoot2', 'whatsapp', 1, 1000, 2)",
    "INSERT INTO shares (link_id, code, channel, parent_id, depth, created_at) VALUES (1, 'OldKid23', 'email', 1, 2, 1000)",
    "INSERT INTO link_channel_stats (link_id, channel, shares) VALUES (1, 'whatsapp', 1), (1, 'email', 1)",
    "INSERT INTO link_depth_stats (link_id, depth, shares) VALUES (1, 1, 1), (1, 2, 1)",
];

async fn upgrading_keeps_every_share_a_share(backend: Backend, name: &str) {
    let db = TestDatabase::new(backend).await;
    install_before(&db, name, RESERVATIONS_VERSION, OLD_SHARES).await;
    let store = store::connect(&db.url, 1).await.expect("open the store");
    store.migrate().await.expect("the upgrade");

    let mut ids = Vec::new();
    for code in ["OldRoot2", "OldKid23"] {
        let share = store.get_share(&Code::parse(code).unwrap()).await.expect("read");
        ids.push(share.unwrap_or_else(|| panic!("{code} is still a share")).id);
    }
    let grandchild = NewShare {
        link: ShareLink::Link(1),
        code: NewCode::Drawn(Code::generate()),
        channel: Channel::parse("sms").unwrap(),
        parent: Code::parse("OldKid23"),
        label: None,
        expires_at: None,
        token: None,
        reserved_until: None,
    };
    let grandchild = store::mint_one(store.as_ref(), grandchild, now_ms())
        .await
        .expect("mint")
        .expect("a share under an old one");
    assert_eq!(grandchild.depth, 3);
    let stats = store.link_stats(1).await.expect("stats").expect("the link");
    assert_eq!(stats.totals.share_count, 3);
    // A chain of three: Σ size 3 + 2 + 1, Σ size² 9 + 4 + 1.
    assert_eq!((stats.totals.sum_sizes, stats.totals.sum_sq_sizes), (6, 14));
    let children = store.share_children(ids[1], 10).await.expect("children");
    assert_eq!(children.len(), 1, "the old reshare's one child");
    assert_eq!(children[0].code, grandchild.code);
}

#[tokio::test]
async fn upgrading_sqlite_keeps_every_share_a_share() {
    upgrading_keeps_every_share_a_share(Backend::Sqlite, "sqlite").await;
}

#[tokio::test]
async fn upgrading_postgres_keeps_every_share_a_share() {
    upgrading_keeps_every_share_a_share(Backend::Postgres, "postgres").await;
}

/// The migration that added webhooks.
const WEBHOOKS_VERSION: &str = "20261208000003";

/// Before webhooks: the same link two levels deep, and a code reserved three deep but never sent.
const SHARES_BEFORE_WEBHOOKS: &[&str] = &[
    OLD_SHARES[0],
    OLD_SHARES[1],
    OLD_SHARES[2],
    "INSERT INTO shares (link_id, code, channel, parent_id, depth, created_at, reserved_until) \
     VALUES (1, 'Reserve3', 'sms', 2, 3, 1000, 99999999999999)",
];

async fn upgrading_reports_only_depths_no_share_reached_before(backend: Backend, name: &str) {
    use sharetrail::domain::webhook::EventSet;
    let db = TestDatabase::new(backend).await;
    install_before(&db, name, WEBHOOKS_VERSION, SHARES_BEFORE_WEBHOOKS).await;
    let store = store::connect(&db.url, 1).await.expect("open the store");
    store.migrate().await.expect("the upgrade");
    let events = EventSet::parse(&["cascade.depth_reached"]).unwrap();
    let endpoint = store
        .create_endpoint("https://hooks.example.com/", "whsec_c2VjcmV0", &events, now_ms())
        .await
        .expect("an endpoint");
    let under = |parent: &str| NewShare {
        link: ShareLink::Link(1),
        code: NewCode::Drawn(Code::generate()),
        channel: Channel::parse("sms").unwrap(),
        parent: Code::parse(parent),
        label: None,
        expires_at: None,
        token: None,
        reserved_until: None,
    };
    let second = store::mint_one(store.as_ref(), under("OldRoot2"), now_ms())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(second.depth, 2);
    let queued = store.deliveries(endpoint.id, None, 10).await.expect("the log");
    assert!(queued.is_empty(), "depth 2 was reached before the upgrade: {queued:?}");
    let third = store::mint_one(store.as_ref(), under("OldKid23"), now_ms())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(third.depth, 3);
    let queued = store.deliveries(endpoint.id, None, 10).await.expect("the log");
    assert_eq!(queued.len(), 1, "a reserved code never made depth 3 reached");
    assert_eq!(queued[0].event_type, "cascade.depth_reached");
}

#[tokio::test]
async fn upgrading_sqlite_reports_only_depths_no_share_reached_before() {
    upgrading_reports_only_depths_no_share_reached_before(Backend::Sqlite, "sqlite").await;
}

#[tokio::test]
async fn upgrading_postgres_reports_only_depths_no_share_reached_before() {
    upgrading_reports_only_depths_no_share_reached_before(Backend::Postgres, "postgres").await;
}

/// A link with an expiry and four clicks, and its one share, from before lifecycles.
const OLD_LINK: &[&str] = &[
    "INSERT INTO links (url, created_at, expires_at, clicks, share_count, max_depth, sum_sizes, sum_sq_sizes) \
     VALUES ('https://example.com/launch', 1000, 4102444800000, 4, 1, 1, 1, 1)",
    "INSERT INTO shares (link_id, code, channel, depth, created_at, subtree_size, clicks) \
     VALUES (1, 'OldLink2', 'sms', 1, 1000, 1, 4)",
];

async fn upgrading_leaves_every_link_asking_nothing_more(backend: Backend, name: &str) {
    let db = TestDatabase::new(backend).await;
    install_before(&db, name, LIFECYCLE_VERSION, OLD_LINK).await;
    let store = store::connect(&db.url, 1).await.expect("open the store");
    store.migrate().await.expect("the upgrade");

    let link = store.get_link(1).await.expect("read").expect("the old link");
    assert_eq!((link.clicks, link.expires_at), (4, Some(4_102_444_800_000)));
    let l = &link.lifecycle;
    assert_eq!((l.max_clicks, &l.fallback_url, &l.password_hash), (None, &None, &None));
    assert!(l.utm_overrides().is_empty());
    let target = store
        .redirect_target(&Code::parse("OldLink2").unwrap())
        .await
        .expect("read")
        .expect("the old share");
    assert_eq!((target.link_clicks, target.lifecycle.max_clicks), (4, None));

    let mut limited = link.lifecycle.clone();
    limited.max_clicks = Some(10);
    limited.utm_term = Some("launch".into());
    assert!(store.set_link_lifecycle(1, &limited).await.expect("write"));
    let link = store.get_link(1).await.expect("read").expect("the link");
    assert_eq!(
        (link.lifecycle.max_clicks, link.lifecycle.utm_term.as_deref()),
        (Some(10), Some("launch"))
    );
    let refused = sharetrail::store::LinkLifecycle {
        max_clicks: Some(0),
        ..Default::default()
    };
    assert!(
        store.set_link_lifecycle(1, &refused).await.is_err(),
        "the schema refuses a limit of 0 too"
    );
}

#[tokio::test]
async fn upgrading_sqlite_leaves_every_link_asking_nothing_more() {
    upgrading_leaves_every_link_asking_nothing_more(Backend::Sqlite, "sqlite").await;
}

#[tokio::test]
async fn upgrading_postgres_leaves_every_link_asking_nothing_more() {
    upgrading_leaves_every_link_asking_nothing_more(Backend::Postgres, "postgres").await;
}
