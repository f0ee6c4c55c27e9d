//! Users (Argon2id passwords) and first-run setup.

use serde_json::json;
use sqlx::Row;
use zeroize::Zeroizing;

use crate::{
    Actor, Org, Store, StoreError, User, UserId,
    db::{audit, now, unique_violation},
    secrets::{self, TokenKind},
};

/// What [`Store::issue_setup_token`] did.
#[derive(Debug)]
pub enum SetupToken {
    /// Users exist: no setup needed.
    NotNeeded,
    /// The token given is still the one stored.
    Kept,
    /// A new token, to be shown once.
    Issued(Zeroizing<String>),
    /// Another server (a replica) issued the token that is stored.
    HeldElsewhere,
}

fn check_email(email: &str) -> Result<(), StoreError> {
    let ok = email.len() <= MAX_EMAIL_BYTES
        && email
            .split_once('@')
            .is_some_and(|(a, b)| !a.is_empty() && b.contains('.') && !b.starts_with('.'))
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid {
            field: "email",
            reason: "not an e-mail address".into(),
        })
    }
}

/// The longest password accepted: Argon2 reads all of it, and no one types more.
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// The longest e-mail address (RFC 5321's path limit less the brackets).
pub const MAX_EMAIL_BYTES: usize = 254;

fn check_password(password: &str) -> Result<(), StoreError> {
    if password.chars().count() < 10 || password.len() > MAX_PASSWORD_BYTES {
        return Err(StoreError::Invalid {
            field: "password",
            reason: format!("10 characters to {MAX_PASSWORD_BYTES} bytes"),
        });
    }
    Ok(())
}

pub(crate) fn check_name(field: &'static str, name: &str) -> Result<(), StoreError> {
    if name.trim().is_empty() || name.len() > 200 || name.chars().any(char::is_control) {
        return Err(StoreError::Invalid {
            field,
            reason: "1 to 200 printable characters".into(),
        });
    }
    Ok(())
}

/// Inserts a user with a hashed password, audited as `action`.
pub(crate) async fn insert_user(
    tx: &mut sqlx::AnyConnection,
    actor: &Actor,
    email: &str,
    hash: String,
    action: &str,
) -> Result<User, StoreError> {
    let user = User {
        id: UserId::mint()?,
        email: email.to_owned(),
    };
    sqlx::query("INSERT INTO users (id, email, password_hash, created_at) VALUES ($1, $2, $3, $4)")
        .bind(&user.id)
        .bind(email)
        .bind(hash)
        .bind(now())
        .execute(&mut *tx)
        .await
        .map_err(|e| unique_violation(e, || format!("a user with e-mail {email}")))?;
    audit(
        tx,
        None,
        actor,
        action,
        &user.id,
        &json!({ "email": email }),
    )
    .await?;
    Ok(user)
}

impl Store {
    /// Checks an e-mail and password and hashes the password in a hashing slot (Argon2id
    /// takes tens of milliseconds of CPU and 19 MiB by design).
    pub(crate) async fn hashed(&self, email: &str, password: &str) -> Result<String, StoreError> {
        check_email(email)?;
        check_password(password)?;
        let password = Zeroizing::new(password.to_owned());
        self.hasher
            .run(move |memory| secrets::hash_password_with(&password, memory))
            .await?
    }

    /// How many users exist (0 before bootstrap).
    pub async fn user_count(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM users")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("n")?)
    }

    /// Creates a user. `owner_of`: also create an organization with this name, the user
    /// its owner (the bootstrap of `signet admin create-user --owner`).
    pub async fn create_user(
        &self,
        actor: &Actor,
        email: &str,
        password: &str,
        owner_of: Option<&str>,
    ) -> Result<(User, Option<Org>), StoreError> {
        if let Some(name) = owner_of {
            check_name("org", name)?;
        }
        let hash = self.hashed(email, password).await?;
        let mut tx = self.begin().await?;
        let user = insert_user(&mut tx, actor, email, hash, "user.create").await?;
        // Setup is over once a user exists, however the user was made.
        sqlx::query("DELETE FROM settings WHERE name = 'setup_token'")
            .execute(&mut *tx)
            .await?;
        let org = match owner_of {
            Some(name) => Some(self.insert_org(&mut tx, actor, name, &user.id).await?),
            None => None,
        };
        tx.commit().await?;
        Ok((user, org))
    }

    /// The user a principal is, if a user.
    pub async fn user(&self, id: &UserId) -> Result<User, StoreError> {
        let row = sqlx::query("SELECT id, email FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(User {
            id: row.try_get("id")?,
            email: row.try_get("email")?,
        })
    }

    /// At first start (no users): a one-time setup token, stored hashed, that lets the
    /// first user create themselves and an organization. `existing` is the token this
    /// server wrote before (its data dir's file), kept when it is still the one stored.
    /// Replicas starting together race to insert; one issues, the others are told.
    pub async fn issue_setup_token(
        &self,
        existing: Option<&str>,
    ) -> Result<SetupToken, StoreError> {
        if self.user_count().await? > 0 {
            return Ok(SetupToken::NotNeeded);
        }
        if let Some(existing) = existing {
            let stored = sqlx::query("SELECT value FROM settings WHERE name = 'setup_token'")
                .fetch_optional(&self.pool)
                .await?;
            if let Some(row) = stored
                && row.try_get::<String, _>("value")? == secrets::token_hash(existing.trim())
            {
                return Ok(SetupToken::Kept);
            }
        }
        let token = secrets::mint(TokenKind::Setup)?;
        let inserted = sqlx::query(
            "INSERT INTO settings (name, value) VALUES ('setup_token', $1) ON CONFLICT DO NOTHING",
        )
        .bind(secrets::token_hash(&token))
        .execute(&self.pool)
        .await?;
        Ok(if inserted.rows_affected() == 1 {
            SetupToken::Issued(token)
        } else {
            SetupToken::HeldElsewhere
        })
    }

    /// Spends the setup token: creates the first user, owner of a new organization.
    pub async fn complete_setup(
        &self,
        actor: &Actor,
        token: &str,
        email: &str,
        password: &str,
        org_name: &str,
    ) -> Result<(User, Org), StoreError> {
        if secrets::parse(token) != Some(TokenKind::Setup) {
            return Err(StoreError::Unauthenticated);
        }
        // The token is checked before any password is hashed: a wrong one costs a query.
        if self.user_count().await? > 0 {
            return Err(StoreError::SetupClosed);
        }
        let stored = sqlx::query("SELECT value FROM settings WHERE name = 'setup_token'")
            .fetch_optional(&self.pool)
            .await?;
        let hash = secrets::token_hash(token);
        match stored {
            Some(row) if row.try_get::<String, _>("value")? == hash => {}
            _ => return Err(StoreError::Unauthenticated),
        }
        check_name("org", org_name)?;
        let password_hash = self.hashed(email, password).await?;
        let mut tx = self.begin().await?;
        let spent = sqlx::query("DELETE FROM settings WHERE name = 'setup_token' AND value = $1")
            .bind(&hash)
            .execute(&mut *tx)
            .await?;
        if spent.rows_affected() != 1 {
            return Err(StoreError::Unauthenticated);
        }
        let users: i64 = sqlx::query("SELECT COUNT(*) AS n FROM users")
            .fetch_one(&mut *tx)
            .await?
            .try_get("n")?;
        if users > 0 {
            return Err(StoreError::SetupClosed);
        }
        let hash = password_hash;
        let user = insert_user(&mut tx, actor, email, hash, "setup").await?;
        let org = self.insert_org(&mut tx, actor, org_name, &user.id).await?;
        tx.commit().await?;
        Ok((user, org))
    }
}
