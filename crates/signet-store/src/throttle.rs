//! Attempt budgets that every replica sees: a fixed window of attempts per key, kept in
//! the database. An attempt is counted *before* the work it guards (a password check),
//! so parallel attempts cannot all pass a check made before any of them is counted.
//!
//! A window whose budget was used up is followed by one twice as long (up to a
//! maximum), so a guesser who keeps at it is slowed down more and more; a window that
//! ends with budget left is followed by one of the base length.

use std::time::Duration;

use sqlx::Row;

use crate::{Store, StoreError, db::now};

/// How many attempts a key gets per window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Attempts per window.
    pub attempts: u32,
    /// The first window's length.
    pub window: Duration,
    /// The longest a window grows to.
    pub max_window: Duration,
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Keys are stored hashed: fixed size whatever the caller puts in them, and no e-mail
/// address or client address in the table.
fn bucket(key: &str) -> String {
    crate::secrets::token_hash(key)
}

impl Store {
    /// Counts one attempt for `key`; refused ([`StoreError::Throttled`], with the time
    /// until the window ends) when the window's budget is spent. Atomic: concurrent
    /// attempts on any number of replicas get consecutive counts.
    pub async fn take_attempt(&self, key: &str, budget: &Budget) -> Result<(), StoreError> {
        let t = now();
        let row = sqlx::query(
            "INSERT INTO login_attempts (bucket, attempts, window_start, window_ms) VALUES ($1, 1, $2, $3) \
             ON CONFLICT (bucket) DO UPDATE SET \
               attempts = CASE WHEN login_attempts.window_start + login_attempts.window_ms <= $4 \
                 THEN 1 ELSE login_attempts.attempts + 1 END, \
               window_ms = CASE WHEN login_attempts.window_start + login_attempts.window_ms > $5 \
                 THEN login_attempts.window_ms \
                 WHEN login_attempts.attempts < $6 THEN $7 \
                 WHEN login_attempts.window_ms * 2 > $8 THEN $9 \
                 ELSE login_attempts.window_ms * 2 END, \
               window_start = CASE WHEN login_attempts.window_start + login_attempts.window_ms <= $10 \
                 THEN $11 ELSE login_attempts.window_start END \
             RETURNING attempts, window_start, window_ms",
        )
        .bind(bucket(key))
        .bind(t)
        .bind(millis(budget.window))
        .bind(t)
        .bind(t)
        .bind(i64::from(budget.attempts))
        .bind(millis(budget.window))
        .bind(millis(budget.max_window))
        .bind(millis(budget.max_window))
        .bind(t)
        .bind(t)
        .fetch_one(&self.pool)
        .await?;
        let attempts: i64 = row.try_get("attempts")?;
        if attempts <= i64::from(budget.attempts) {
            return Ok(());
        }
        let start: i64 = row.try_get("window_start")?;
        let length: i64 = row.try_get("window_ms")?;
        let left = (start.saturating_add(length) - t).max(1000);
        Err(StoreError::Throttled {
            retry_after: Duration::from_millis(u64::try_from(left).unwrap_or(1000)),
        })
    }

    /// Gives one attempt back (one that did not check a password after all, or that
    /// succeeded).
    pub async fn refund_attempt(&self, key: &str) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE login_attempts SET attempts = attempts - 1 WHERE bucket = $1 AND attempts > 0",
        )
        .bind(bucket(key))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Forgets a key's attempts (a successful login from that address).
    pub async fn forget_attempts(&self, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM login_attempts WHERE bucket = $1")
            .bind(bucket(key))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Drops budgets whose window ended more than `idle` ago; returns how many.
    pub async fn purge_attempts(&self, idle: Duration) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM login_attempts WHERE window_start + window_ms < $1")
            .bind(now().saturating_sub(millis(idle)))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
