//! Access tokens: login sessions, robot tokens for CI, authentication.

use serde_json::json;
use sqlx::Row;
use zeroize::Zeroizing;

use crate::{
    Actor, AppId, Named, OrgId, Role, Store, StoreError, TokenId, TokenInfo, User, UserId,
    db::{audit, now},
    ids::no_such_app,
    secrets::{self, TokenKind},
    users::{MAX_EMAIL_BYTES, MAX_PASSWORD_BYTES, check_name},
};

/// How long a login lasts.
const SESSION_LIFETIME_MS: i64 = 30 * 24 * 3600 * 1000;

/// `last_used_at` is written at most this often per token.
const LAST_USED_RESOLUTION_MS: i64 = 60 * 1000;

/// Whoever a valid token belongs to. (Setup tokens authenticate nothing: they are spent
/// by `POST /v1/setup` alone.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A user's login session.
    User {
        /// The session token's id.
        token_id: TokenId,
        /// The user.
        user_id: UserId,
    },
    /// A robot (CI) token of one organization.
    Robot {
        /// The token's id.
        token_id: TokenId,
        /// Its organization.
        org_id: OrgId,
        /// Its role there (below owner).
        role: Role,
        /// The apps it is limited to; all of the organization's when `None`.
        app_ids: Option<Vec<AppId>>,
    },
}

impl Principal {
    /// The token's id.
    pub fn token_id(&self) -> &TokenId {
        match self {
            Principal::User { token_id, .. } | Principal::Robot { token_id, .. } => token_id,
        }
    }

    /// The apps a robot is limited to.
    pub fn app_ids(&self) -> Option<&[AppId]> {
        match self {
            Principal::Robot {
                app_ids: Some(apps),
                ..
            } => Some(apps),
            _ => None,
        }
    }

    /// The audit name: `user:<id>` or `robot:<token id>`.
    pub fn who(&self) -> String {
        match self {
            Principal::User { user_id, .. } => format!("user:{user_id}"),
            Principal::Robot { token_id, .. } => format!("robot:{token_id}"),
        }
    }
}

fn token_info(row: &sqlx::any::AnyRow) -> Result<TokenInfo, StoreError> {
    let role: Option<String> = row.try_get("role")?;
    let apps: Option<String> = row.try_get("app_ids")?;
    Ok(TokenInfo {
        id: row.try_get("id")?,
        kind: row.try_get("kind")?,
        name: row.try_get("name")?,
        role: role.as_deref().and_then(Role::parse),
        app_ids: apps.and_then(|a| serde_json::from_str(&a).ok()),
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        last_used_at: row.try_get("last_used_at")?,
        revoked_at: row.try_get("revoked_at")?,
        created_by: row.try_get("created_by")?,
    })
}

const TOKEN_COLUMNS: &str =
    "id, kind, name, role, app_ids, created_by, created_at, expires_at, last_used_at, revoked_at";

impl Store {
    pub(crate) async fn insert_token(
        &self,
        tx: &mut sqlx::AnyConnection,
        kind: TokenKind,
        user: Option<&UserId>,
        org: Option<&OrgId>,
        role: Option<Role>,
        app_ids: Option<&[AppId]>,
        name: &str,
        created_by: &str,
        expires_at: Option<i64>,
    ) -> Result<(TokenInfo, Zeroizing<String>), StoreError> {
        let token = secrets::mint(kind)?;
        let id = TokenId::mint()?;
        let t = now();
        let apps = app_ids.map(|a| json!(a).to_string());
        sqlx::query(
            "INSERT INTO tokens (id, hash, kind, user_id, org_id, role, app_ids, name, created_by, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&id)
        .bind(secrets::token_hash(&token))
        .bind(kind.name())
        .bind(user.cloned())
        .bind(org.cloned())
        .bind(role.map(|r| r.name().to_owned()))
        .bind(apps)
        .bind(name)
        .bind(created_by)
        .bind(t)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        Ok((
            TokenInfo {
                id,
                kind: kind.name().into(),
                name: name.to_owned(),
                role,
                app_ids: app_ids.map(<[AppId]>::to_vec),
                created_at: t,
                expires_at,
                last_used_at: None,
                revoked_at: None,
                created_by: created_by.to_owned(),
            },
            token,
        ))
    }

    /// Checks an e-mail and password; on success mints a session token (shown once).
    /// The check runs in a hashing slot ([`StoreError::Busy`] when none is free soon),
    /// against a real Argon2id hash even when no user has the e-mail (constant work).
    pub async fn login(
        &self,
        actor: &Actor,
        email: &str,
        password: &str,
    ) -> Result<(User, TokenInfo, Zeroizing<String>), StoreError> {
        if email.len() > MAX_EMAIL_BYTES || password.len() > MAX_PASSWORD_BYTES {
            return Err(StoreError::Unauthenticated);
        }
        let row = sqlx::query("SELECT id, password_hash FROM users WHERE email = $1")
            .bind(email)
            .fetch_optional(&self.pool)
            .await?;
        let (id, stored) = match &row {
            Some(r) => (
                Some(r.try_get::<UserId, _>("id")?),
                Some(r.try_get::<String, _>("password_hash")?),
            ),
            None => (None, None),
        };
        let password = Zeroizing::new(password.to_owned());
        let ok = self
            .hasher
            .run(move |memory| match stored {
                Some(stored) => secrets::verify_password_with(&password, &stored, memory),
                None => {
                    let dummy = secrets::dummy_hash(memory);
                    secrets::verify_password_with(&password, dummy, memory)
                }
            })
            .await?;
        let Some(id) = id.filter(|_| ok) else {
            return Err(StoreError::Unauthenticated);
        };
        let mut tx = self.begin().await?;
        let (info, token) = self
            .insert_token(
                &mut tx,
                TokenKind::Session,
                Some(&id),
                None,
                None,
                None,
                "login",
                &format!("user:{id}"),
                Some(now() + SESSION_LIFETIME_MS),
            )
            .await?;
        let actor = Actor {
            who: format!("user:{id}"),
            ..actor.clone()
        };
        audit(&mut tx, None, &actor, "user.login", &info.id, &json!({})).await?;
        tx.commit().await?;
        Ok((
            User {
                id,
                email: email.to_owned(),
            },
            info,
            token,
        ))
    }

    /// Resolves a bearer token; unknown, revoked and expired tokens are `Unauthenticated`.
    /// Records the last use (at most once a minute per token).
    pub async fn authenticate(&self, token: &str) -> Result<Principal, StoreError> {
        let kind = secrets::parse(token).ok_or(StoreError::Unauthenticated)?;
        if kind == TokenKind::Setup {
            return Err(StoreError::Unauthenticated);
        }
        let t = now();
        let row = sqlx::query(
            "SELECT id, user_id, org_id, role, app_ids, last_used_at FROM tokens \
             WHERE hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)",
        )
        .bind(secrets::token_hash(token))
        .bind(t)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::Unauthenticated)?;
        let id: TokenId = row.try_get("id")?;
        let last: Option<i64> = row.try_get("last_used_at")?;
        if last.is_none_or(|l| t - l > LAST_USED_RESOLUTION_MS) {
            sqlx::query("UPDATE tokens SET last_used_at = $1 WHERE id = $2")
                .bind(t)
                .bind(&id)
                .execute(&self.pool)
                .await?;
        }
        let role: Option<String> = row.try_get("role")?;
        let apps: Option<String> = row.try_get("app_ids")?;
        let user_id: Option<UserId> = row.try_get("user_id")?;
        let org_id: Option<OrgId> = row.try_get("org_id")?;
        // A row that does not make a whole principal (a scope that cannot be read, a robot
        // without organization or role) is no token, never an organization-wide one.
        match (kind, user_id, org_id, role.as_deref().and_then(Role::parse)) {
            (TokenKind::Session, Some(user_id), _, _) => Ok(Principal::User {
                token_id: id,
                user_id,
            }),
            (TokenKind::Robot, _, Some(org_id), Some(role)) => Ok(Principal::Robot {
                token_id: id,
                org_id,
                role,
                app_ids: match apps {
                    None => None,
                    Some(a) => Some(
                        serde_json::from_str::<Vec<AppId>>(&a)
                            .map_err(|_| StoreError::Unauthenticated)?,
                    ),
                },
            }),
            _ => Err(StoreError::Unauthenticated),
        }
    }

    /// Creates a robot token for CI: a role below owner, optionally limited to some apps,
    /// optionally expiring at `expires_at` (ms). It is revoked when its creator leaves the
    /// organization, or drops below its role.
    pub async fn create_robot(
        &self,
        actor: &Actor,
        org: &OrgId,
        name: &str,
        role: Role,
        app_ids: Option<&[Named<AppId>]>,
        expires_at: Option<i64>,
    ) -> Result<(TokenInfo, Zeroizing<String>), StoreError> {
        check_name("name", name)?;
        if expires_at.is_some_and(|e| e <= now()) {
            return Err(StoreError::Invalid {
                field: "expires_in_days",
                reason: "must be in the future".into(),
            });
        }
        if app_ids.is_some_and(|a| a.is_empty() || a.len() > 100) {
            return Err(StoreError::Invalid {
                field: "app_ids",
                reason: "1 to 100 app ids (leave it out for every app)".into(),
            });
        }
        if role == Role::Owner {
            return Err(StoreError::Invalid {
                field: "role",
                reason: "a robot can be viewer, developer or admin".into(),
            });
        }
        let mut tx = self.begin().await?;
        // Each app in turn: the first that names none of the organization's is refused.
        let app_ids = match app_ids {
            None => None,
            Some(named) => {
                let mut apps = Vec::with_capacity(named.len());
                for app in named {
                    let app = match app {
                        Named::Id(app) => app,
                        Named::Nothing(value) => return Err(no_such_app("app_ids", value)),
                    };
                    let found = sqlx::query("SELECT id FROM apps WHERE id = $1 AND org_id = $2")
                        .bind(app)
                        .bind(org)
                        .fetch_optional(&mut *tx)
                        .await?;
                    if found.is_none() {
                        return Err(no_such_app("app_ids", app.as_str()));
                    }
                    apps.push(app.clone());
                }
                Some(apps)
            }
        };
        let (info, token) = self
            .insert_token(
                &mut tx,
                TokenKind::Robot,
                None,
                Some(org),
                Some(role),
                app_ids.as_deref(),
                name,
                &actor.who,
                expires_at,
            )
            .await?;
        audit(
            &mut tx,
            Some(org),
            actor,
            "robot.create",
            &info.id,
            &json!({ "name": name, "role": role.name(), "app_ids": app_ids, "expires_at": expires_at }),
        )
        .await?;
        tx.commit().await?;
        Ok((info, token))
    }

    /// The robot tokens of an organization.
    pub async fn robots(&self, org: &OrgId) -> Result<Vec<TokenInfo>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM tokens WHERE org_id = $1 AND kind = 'robot' ORDER BY created_at, id"
        ))
        .bind(org)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(token_info).collect()
    }

    /// A user's own sessions.
    pub async fn sessions_of(&self, user: &UserId) -> Result<Vec<TokenInfo>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM tokens WHERE user_id = $1 AND kind = 'session' ORDER BY created_at, id"
        ))
        .bind(user)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(token_info).collect()
    }

    /// Revokes a robot token of `org`.
    pub async fn revoke_robot(
        &self,
        actor: &Actor,
        org: &OrgId,
        id: &TokenId,
    ) -> Result<(), StoreError> {
        self.revoke(
            actor,
            Some(org),
            "org_id",
            org.as_str(),
            TokenKind::Robot,
            id,
        )
        .await
    }

    /// Revokes one of a user's sessions (logout).
    pub async fn revoke_session(
        &self,
        actor: &Actor,
        user: &UserId,
        id: &TokenId,
    ) -> Result<(), StoreError> {
        self.revoke(
            actor,
            None,
            "user_id",
            user.as_str(),
            TokenKind::Session,
            id,
        )
        .await
    }

    /// Revokes token `id` of `kind` whose `owner_column` is `owner`.
    pub(crate) async fn revoke(
        &self,
        actor: &Actor,
        audit_org: Option<&OrgId>,
        owner_column: &'static str,
        owner: &str,
        kind: TokenKind,
        id: &TokenId,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(&format!(
            "UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND {owner_column} = $3 AND kind = $4 AND revoked_at IS NULL"
        ))
        .bind(now())
        .bind(id)
        .bind(owner)
        .bind(kind.name())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::NotFound);
        }
        let action = format!("{}.revoke", kind.name());
        audit(&mut tx, audit_org, actor, &action, id, &json!({})).await?;
        tx.commit().await?;
        Ok(())
    }
}
