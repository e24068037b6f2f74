//! Upgrading a database whose visits were stored a row each, before the visit log became runs:
//! every visit is still there, under its id, and new ids follow the old ones.

use crate::helpers::*;
use sharetrail::clock::now_ms;
use sharetrail::ingest::VisitBatch;

/// The migration that turned the visit log into runs.
const RUNS_VERSION: &str = "20261130000003";

/// Applies `backend`'s migrations older than the runs, as an install of that time had them.
async fn migrate_to_before_runs(db: &TestDatabase, backend: &str) {
    let folder = std::env::temp_dir().join(format!("sharetrail-migrations-{}", nanoid::nanoid!(10)));
    std::fs::create_dir_all(&folder).expect("a folder for the old migrations");
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    for entry in std::fs::read_dir(&source).expect("the migrations") {
        let path = entry.expect("a migration").path();
        let name = path.file_name().expect("a file name").to_string_lossy().into_owned();
        if name.as_str() < RUNS_VERSION {
            std::fs::copy(&path, folder.join(&name)).expect("copy a migration");
        }
    }
    let migrator = sqlx::migrate::Migrator::new(folder.as_path())
        .await
        .expect("read the old migrations");
    if backend == "postgres" {
        let pool = sqlx::PgPool::connect(&db.url).await.expect("connect");
        migrator.run(&pool).await.expect("the old migrations");
        insert_old_visits(&pool).await;
    } else {
        let options = db
            .url
            .parse::<sqlx::sqlite::SqliteConnectOptions>()
            .expect("a SQLite URL");
        let pool = sqlx::SqlitePool::connect_with(options.create_if_missing(true))
            .await
            .expect("connect");
        migrator.run(&pool).await.expect("the old migrations");
        insert_old_visits(&pool).await;
    }
    let _ = std::fs::remove_dir_all(&folder);
}

/// Three visits of link 7 in the old row-per-visit form; the second has no optional field.
async fn insert_old_visits<'c, E>(pool: E)
where
    E: sqlx::Executor<'c> + Copy,
    for<'q> <E::Database as sqlx::Database>::Arguments: sqlx::IntoArguments<E::Database>,
{
    for (at, country) in [(1_000, "'NZ'"), (2_000, "NULL"), (3_000, "'DE'")] {
        let sql = format!(
            "INSERT INTO visits (share_id, link_id, at, kind, app, visitor, referrer_host, device, browser, os, country) \
             VALUES (70, 7, {at}, 'click', NULL, 'ab', 'news.example', 'desktop', 'Firefox', 'Linux', {country})"
        );
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(pool)
            .await
            .expect("an old visit");
    }
}

async fn upgrading_keeps_every_visit_under_its_id(backend: Backend, name: &str) {
    let db = TestDatabase::new(backend).await;
    migrate_to_before_runs(&db, name).await;
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
