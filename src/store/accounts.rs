//! Who may use sharetrail: web UI users and their sessions, and API keys.

use super::models::{ApiKeyRecord, NewSession, NewUser, SessionRecord, UserCredentials, UserRecord};
use super::{Backend, StoreError, StoreResult};
use crate::domain::api_key::{KeyHash, NewApiKey};
use async_trait::async_trait;
use sqlx::AssertSqlSafe;

const SESSION_BY_HASH: &str = "SELECT s.token_hash, s.csrf_token, s.created_at, s.last_seen_at, \
     u.id AS user_id, u.email, u.name, u.role, u.disabled_at \
     FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1";

const USER_COLUMNS: &str = "SELECT id, email, name, role, created_at, disabled_at FROM users";

#[async_trait]
pub trait AccountStore: Send + Sync {
    async fn count_users(&self) -> StoreResult<i64>;
    /// Creates the first admin; `None` when any user already exists.
    async fn create_first_user(&self, user: &NewUser, now: i64) -> StoreResult<Option<UserRecord>>;
    async fn create_user(&self, user: &NewUser, now: i64) -> StoreResult<UserRecord>;
    async fn user_credentials(&self, email: &str) -> StoreResult<Option<UserCredentials>>;
    async fn list_users(&self) -> StoreResult<Vec<UserRecord>>;
    /// Disabling also ends every session of that user. False when no user has that id.
    async fn set_user_disabled(&self, id: i64, disabled_at: Option<i64>) -> StoreResult<bool>;

    async fn create_session(&self, session: &NewSession) -> StoreResult<()>;
    async fn session(&self, token_hash: &str) -> StoreResult<Option<SessionRecord>>;
    async fn touch_session(&self, token_hash: &str, now: i64) -> StoreResult<()>;
    async fn delete_session(&self, token_hash: &str) -> StoreResult<()>;
    /// Deletes sessions idle since before `idle_before` or created before `created_before`.
    async fn purge_sessions(&self, idle_before: i64, created_before: i64) -> StoreResult<u64>;

    async fn create_api_key(&self, name: &str, key: &NewApiKey, now: i64) -> StoreResult<i64>;
    async fn api_key_is_active(&self, hash: &KeyHash) -> StoreResult<bool>;
    async fn list_api_keys(&self) -> StoreResult<Vec<ApiKeyRecord>>;
    async fn revoke_api_key(&self, id: i64, now: i64) -> StoreResult<bool>;
}

#[async_trait]
impl AccountStore for Backend {
    async fn count_users(&self) -> StoreResult<i64> {
        Ok(with_pool!(self.reader(), |pool| {
            sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(pool).await?
        }))
    }

    async fn create_first_user(&self, user: &NewUser, now: i64) -> StoreResult<Option<UserRecord>> {
        let sql = "INSERT INTO users (email, name, role, password_hash, created_at) \
                   SELECT $1, $2, $3, $4, $5 WHERE NOT EXISTS (SELECT 1 FROM users) \
                   RETURNING id, email, name, role, created_at, disabled_at";
        self.insert_user(sql, user, now).await
    }

    async fn create_user(&self, user: &NewUser, now: i64) -> StoreResult<UserRecord> {
        let sql = "INSERT INTO users (email, name, role, password_hash, created_at) VALUES ($1, $2, $3, $4, $5) \
                   ON CONFLICT (email) DO NOTHING RETURNING id, email, name, role, created_at, disabled_at";
        let created = self.insert_user(sql, user, now).await?;
        created.ok_or(StoreError::EmailTaken)
    }

    async fn user_credentials(&self, email: &str) -> StoreResult<Option<UserCredentials>> {
        let sql = "SELECT id, password_hash, disabled_at FROM users WHERE email = $1";
        self.reader().row(sql, email).await
    }

    async fn list_users(&self) -> StoreResult<Vec<UserRecord>> {
        self.reader()
            .rows(AssertSqlSafe(format!("{USER_COLUMNS} ORDER BY email")))
            .await
    }

    async fn set_user_disabled(&self, id: i64, disabled_at: Option<i64>) -> StoreResult<bool> {
        with_pool!(self.writer(), |pool| {
            let mut tx = pool.begin().await?;
            let done = sqlx::query("UPDATE users SET disabled_at = $2 WHERE id = $1")
                .bind(id)
                .bind(disabled_at)
                .execute(&mut *tx)
                .await?;
            if disabled_at.is_some() {
                sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(done.rows_affected() == 1)
        })
    }

    async fn create_session(&self, session: &NewSession) -> StoreResult<()> {
        with_pool!(self.writer(), |pool| {
            sqlx::query(
                "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at) \
                 VALUES ($1, $2, $3, $4, $4)",
            )
            .bind(&session.token_hash)
            .bind(session.user_id)
            .bind(&session.csrf_token)
            .bind(session.now)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    async fn session(&self, token_hash: &str) -> StoreResult<Option<SessionRecord>> {
        self.reader().row(SESSION_BY_HASH, token_hash).await
    }

    async fn touch_session(&self, token_hash: &str, now: i64) -> StoreResult<()> {
        with_pool!(self.writer(), |pool| {
            sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1")
                .bind(token_hash)
                .bind(now)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        with_pool!(self.writer(), |pool| {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                .bind(token_hash)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    async fn purge_sessions(&self, idle_before: i64, created_before: i64) -> StoreResult<u64> {
        let done = with_pool!(self.writer(), |pool| {
            sqlx::query("DELETE FROM sessions WHERE last_seen_at < $1 OR created_at < $2")
                .bind(idle_before)
                .bind(created_before)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(done)
    }

    async fn create_api_key(&self, name: &str, key: &NewApiKey, now: i64) -> StoreResult<i64> {
        let (id,): (i64,) = with_pool!(self.writer(), |pool| {
            sqlx::query_as(
                "INSERT INTO api_keys (name, prefix, key_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(name)
            .bind(&key.display_prefix)
            .bind(key.hash.as_str())
            .bind(now)
            .fetch_one(pool)
            .await?
        });
        Ok(id)
    }

    async fn api_key_is_active(&self, hash: &KeyHash) -> StoreResult<bool> {
        let sql = "SELECT id FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL";
        let row: Option<(i64,)> = self.reader().row(sql, hash.as_str()).await?;
        Ok(row.is_some())
    }

    async fn list_api_keys(&self) -> StoreResult<Vec<ApiKeyRecord>> {
        let sql =
            "SELECT id, name, prefix, created_at, revoked_at FROM api_keys ORDER BY revoked_at IS NOT NULL, id DESC";
        self.reader().rows(sql).await
    }

    async fn revoke_api_key(&self, id: i64, now: i64) -> StoreResult<bool> {
        let sql = "UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL";
        self.writer().update_row(sql, id, now).await
    }
}

impl Backend {
    /// Runs `sql`, an `INSERT` of `user` (`$1` to `$5`) returning the new row; `None` when it
    /// inserted none.
    async fn insert_user(&self, sql: &'static str, user: &NewUser, now: i64) -> StoreResult<Option<UserRecord>> {
        Ok(with_pool!(self.writer(), |pool| {
            sqlx::query_as(sql)
                .bind(user.email.as_str())
                .bind(user.name.as_str())
                .bind(user.role.as_str())
                .bind(&user.password_hash)
                .bind(now)
                .fetch_optional(pool)
                .await?
        }))
    }
}
