//! The master keys as the database sees them: which keys seal what (`key_usage`),
//! rewrapping under the current key, and the record of the keys servers use.

use sqlx::Row;

use crate::{
    Binding, Sealed, Store, StoreError,
    credentials::{derived_in_row, version_u},
};

impl Store {
    /// Re-wraps every secret not under the current master key; returns how many. Safe
    /// while requests run: each row is rewritten only if its version did not move. A row
    /// under a key that is not loaded is reported as [`StoreError::MissingKey`].
    pub async fn rewrap_all(&self) -> Result<u64, StoreError> {
        let ring = self.sealing_keyring()?;
        // Live rows, then kept previous versions (which never change otherwise).
        let mut n = 0;
        for (table, id_column) in [
            ("credentials", "id"),
            ("credential_versions", "credential_id"),
            ("certificate_requests", "id"),
        ] {
            n += self.rewrap_table(&ring, table, id_column).await?;
        }
        Ok(n)
    }

    /// [`Store::rewrap_all`] for one table of sealed secrets.
    async fn rewrap_table(
        &self,
        ring: &crate::Keyring,
        table: &str,
        id_column: &str,
    ) -> Result<u64, StoreError> {
        let current = ring.current();
        let rows = sqlx::query(&format!(
            "SELECT {id_column} AS id, org_id, kind, version, sealed, metadata, expires_at, apple_team \
             FROM {table} WHERE key_id <> $1"
        ))
        .bind(current)
        .fetch_all(&self.pool)
        .await?;
        let mut n = 0;
        for row in rows {
            let id: String = row.try_get("id")?;
            let org: String = row.try_get("org_id")?;
            let kind: String = row.try_get("kind")?;
            let version: i64 = row.try_get("version")?;
            let sealed = Sealed::from_bytes(row.try_get("sealed")?);
            let bound = derived_in_row(&row)?;
            let binding = Binding {
                org: &org,
                record: &id,
                kind: &kind,
                version: version_u(version)?,
                derived: Some(&bound),
            };
            let rewrapped = ring.rewrap(&sealed, &binding)?;
            let done = sqlx::query(&format!(
                "UPDATE {table} SET key_id = $1, sealed = $2 \
                 WHERE {id_column} = $3 AND version = $4 AND key_id <> $5"
            ))
            .bind(current)
            .bind(rewrapped.as_bytes().to_vec())
            .bind(&id)
            .bind(version)
            .bind(current)
            .execute(&self.pool)
            .await?;
            // Zero when a concurrent update already sealed it under the current key.
            n += done.rows_affected();
        }
        Ok(n)
    }

    /// Records this server's master keys in the database and checks them against those
    /// other servers recorded: every key id recorded must be loaded here with the same
    /// key, else [`StoreError::ForeignKeys`]. Two replicas that each made a key of their
    /// own (separate data dirs on one empty database) are refused at start, before either
    /// seals anything the other cannot open.
    pub async fn register_keys(&self) -> Result<(), StoreError> {
        let ring = self.keyring();
        let checks = ring.checks();
        // One server at a time: two replicas starting together must not both find the
        // table empty and record different keys.
        let mut tx = self.begin().await?;
        if self.backend() == crate::Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock(73696766)")
                .execute(&mut *tx)
                .await?;
        }
        let rows = sqlx::query("SELECT name, value FROM settings WHERE name LIKE 'master-key:%'")
            .fetch_all(&mut *tx)
            .await?;
        let mut foreign = Vec::new();
        for row in rows {
            let name: String = row.try_get("name")?;
            let value: String = row.try_get("value")?;
            let id = name.trim_start_matches("master-key:");
            match checks.iter().find(|(mine, _)| mine == id) {
                Some((_, check)) if *check == value => {}
                Some(_) => foreign.push(format!("{id} (a different key under the same id)")),
                None => foreign.push(format!("{id} (not loaded here)")),
            }
        }
        if !foreign.is_empty() {
            // Nothing recorded: a refused server leaves no trace of its keys.
            return Err(StoreError::ForeignKeys(foreign));
        }
        for (id, check) in &checks {
            sqlx::query(
                "INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(format!("master-key:{id}"))
            .bind(check)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Forgets a master key removed from the key file (`admin remove-key`).
    pub async fn unregister_key(&self, id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM settings WHERE name = $1")
            .bind(format!("master-key:{id}"))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// How many sealed secrets each master key id holds, over every table that holds
    /// them: `credentials` (current secrets), `credential_versions` (replaced ones
    /// kept for the restore window) and `certificate_requests` (keys made for Apple
    /// certificates). Sorted by key id.
    pub async fn key_usage(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT key_id, COUNT(*) AS n FROM (SELECT key_id FROM credentials \
             UNION ALL SELECT key_id FROM credential_versions \
             UNION ALL SELECT key_id FROM certificate_requests) k GROUP BY key_id ORDER BY key_id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("key_id")?, r.try_get("n")?)))
            .collect()
    }
}
