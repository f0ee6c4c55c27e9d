//! Organizations, users, memberships and access tokens.

use serde_json::json;
use sqlx::Row;
use zeroize::Zeroizing;

use crate::{
    Actor, Member, Org, Role, Store, StoreError, TokenInfo, User,
    db::{audit, new_id, now, unique_violation},
    secrets::{self, TokenKind},
};

/// How long a login lasts.
const SESSION_LIFETIME_MS: i64 = 30 * 24 * 3600 * 1000;
/// `last_used_at` is written at most this often per token.
const LAST_USED_RESOLUTION_MS: i64 = 60 * 1000;

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

/// Whoever a valid token belongs to. (Setup tokens authenticate nothing: they are spent
/// by `POST /v1/setup` alone.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A user's login session.
    User {
        /// The session token's id.
        token_id: String,
        /// The user.
        user_id: String,
    },
    /// A robot (CI) token of one organization.
    Robot {
        /// The token's id.
        token_id: String,
        /// Its organization.
        org_id: String,
        /// Its role there (below owner).
        role: Role,
        /// The apps it is limited to; all of the organization's when `None`.
        app_ids: Option<Vec<String>>,
    },
}

impl Principal {
    /// The token's id.
    pub fn token_id(&self) -> &str {
        match self {
            Principal::User { token_id, .. } | Principal::Robot { token_id, .. } => token_id,
        }
    }

    /// The apps a robot is limited to.
    pub fn app_ids(&self) -> Option<&[String]> {
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

fn check_name(field: &'static str, name: &str) -> Result<(), StoreError> {
    if name.trim().is_empty() || name.len() > 200 || name.chars().any(char::is_control) {
        return Err(StoreError::Invalid {
            field,
            reason: "1 to 200 printable characters".into(),
        });
    }
    Ok(())
}

/// Inserts a user with a hashed password, audited as `action`.
async fn insert_user(
    tx: &mut sqlx::AnyConnection,
    actor: &Actor,
    email: &str,
    hash: String,
    action: &str,
) -> Result<User, StoreError> {
    let user = User {
        id: new_id("usr")?,
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

/// Revokes the robots `user` created in `org`: all of them (`keeps: None`, the user
/// left), or those with a role above `keeps` (the user was demoted). Audited per robot.
async fn revoke_robots_of(
    tx: &mut sqlx::AnyConnection,
    actor: &Actor,
    org: &str,
    user: &str,
    keeps: Option<Role>,
) -> Result<(), StoreError> {
    let rows = sqlx::query(
        "SELECT id, role FROM tokens WHERE org_id = $1 AND kind = 'robot' AND created_by = $2 \
         AND revoked_at IS NULL",
    )
    .bind(org)
    .bind(format!("user:{user}"))
    .fetch_all(&mut *tx)
    .await?;
    for row in rows {
        let id: String = row.try_get("id")?;
        let role = Role::parse(&row.try_get::<String, _>("role")?);
        if keeps.is_some_and(|keeps| role.is_some_and(|r| r <= keeps)) {
            continue;
        }
        sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now())
            .bind(&id)
            .execute(&mut *tx)
            .await?;
        audit(
            tx,
            Some(org),
            actor,
            "robot.revoke",
            &id,
            &json!({ "reason": "its creator left the organization or lost the role" }),
        )
        .await?;
    }
    Ok(())
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
    /// Checks an e-mail and password and hashes the password in a hashing slot (Argon2id
    /// takes tens of milliseconds of CPU and 19 MiB by design).
    async fn hashed(&self, email: &str, password: &str) -> Result<String, StoreError> {
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

    async fn insert_org(
        &self,
        tx: &mut sqlx::AnyConnection,
        actor: &Actor,
        name: &str,
        owner: &str,
    ) -> Result<Org, StoreError> {
        check_name("name", name)?;
        let id = new_id("org")?;
        let t = now();
        sqlx::query("INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(&id)
            .bind(name)
            .bind(t)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO memberships (org_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&id)
        .bind(owner)
        .bind(Role::Owner.name())
        .bind(t)
        .execute(&mut *tx)
        .await?;
        audit(
            tx,
            Some(&id),
            actor,
            "org.create",
            &id,
            &json!({ "name": name }),
        )
        .await?;
        Ok(Org {
            id,
            name: name.to_owned(),
            role: Some(Role::Owner),
        })
    }

    /// Creates an organization owned by `owner` (a user id).
    pub async fn create_org(
        &self,
        actor: &Actor,
        name: &str,
        owner: &str,
    ) -> Result<Org, StoreError> {
        let mut tx = self.begin().await?;
        let org = self.insert_org(&mut tx, actor, name, owner).await?;
        tx.commit().await?;
        Ok(org)
    }

    /// The organizations `user` belongs to, with the user's role.
    pub async fn orgs_of(&self, user: &str) -> Result<Vec<Org>, StoreError> {
        let rows = sqlx::query(
            "SELECT o.id, o.name, m.role FROM organizations o \
             JOIN memberships m ON m.org_id = o.id WHERE m.user_id = $1 ORDER BY o.name, o.id",
        )
        .bind(user)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let role: String = r.try_get("role")?;
                Ok(Org {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    role: Role::parse(&role),
                })
            })
            .collect()
    }

    /// An organization by id.
    pub async fn org(&self, id: &str) -> Result<Org, StoreError> {
        let row = sqlx::query("SELECT id, name FROM organizations WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(Org {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            role: None,
        })
    }

    /// Deletes an organization and everything in it.
    pub async fn delete_org(&self, actor: &Actor, org: &str) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        audit(&mut tx, None, actor, "org.delete", org, &json!({})).await?;
        for table in [
            "app_links",
            "ios_build_pairs",
            "android_build_sets",
            "credential_versions",
            "credentials",
            "apps",
            "tokens",
            "memberships",
        ] {
            sqlx::query(&format!("DELETE FROM {table} WHERE org_id = $1"))
                .bind(org)
                .execute(&mut *tx)
                .await?;
        }
        let done = sqlx::query("DELETE FROM organizations WHERE id = $1")
            .bind(org)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await?;
        Ok(())
    }

    /// A user's role in an organization, if a member.
    pub async fn role_of(&self, org: &str, user: &str) -> Result<Option<Role>, StoreError> {
        let row = sqlx::query("SELECT role FROM memberships WHERE org_id = $1 AND user_id = $2")
            .bind(org)
            .bind(user)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => Role::parse(&r.try_get::<String, _>("role")?),
            None => None,
        })
    }

    /// The members of an organization.
    pub async fn members(&self, org: &str) -> Result<Vec<Member>, StoreError> {
        let rows = sqlx::query(
            "SELECT u.id, u.email, m.role FROM memberships m JOIN users u ON u.id = m.user_id \
             WHERE m.org_id = $1 ORDER BY u.email",
        )
        .bind(org)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let role: String = r.try_get("role")?;
                Ok(Member {
                    user_id: r.try_get("id")?,
                    email: r.try_get("email")?,
                    role: Role::parse(&role).unwrap_or(Role::Viewer),
                })
            })
            .collect()
    }

    /// Adds a user (by e-mail) to an organization or changes their role. The caller has
    /// checked that it may grant `role` and touch the member's current role.
    pub async fn set_member(
        &self,
        actor: &Actor,
        org: &str,
        email: &str,
        role: Role,
    ) -> Result<Member, StoreError> {
        let mut tx = self.begin().await?;
        let user: String = sqlx::query("SELECT id FROM users WHERE email = $1")
            .bind(email)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::Invalid {
                field: "email",
                reason: "no user has this e-mail; create the user first".into(),
            })?
            .try_get("id")?;
        let existing =
            sqlx::query("SELECT role FROM memberships WHERE org_id = $1 AND user_id = $2")
                .bind(org)
                .bind(&user)
                .fetch_optional(&mut *tx)
                .await?;
        if let Some(row) = existing {
            let old: String = row.try_get("role")?;
            if old == Role::Owner.name() && role != Role::Owner {
                self.keep_an_owner(&mut tx, org, &user).await?;
            }
            sqlx::query("UPDATE memberships SET role = $1 WHERE org_id = $2 AND user_id = $3")
                .bind(role.name())
                .bind(org)
                .bind(&user)
                .execute(&mut *tx)
                .await?;
            revoke_robots_of(&mut tx, actor, org, &user, Some(role)).await?;
        } else {
            sqlx::query(
                "INSERT INTO memberships (org_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(org)
            .bind(&user)
            .bind(role.name())
            .bind(now())
            .execute(&mut *tx)
            .await?;
        }
        audit(
            &mut tx,
            Some(org),
            actor,
            "member.set",
            &user,
            &json!({ "email": email, "role": role.name() }),
        )
        .await?;
        tx.commit().await?;
        Ok(Member {
            user_id: user,
            email: email.to_owned(),
            role,
        })
    }

    async fn keep_an_owner(
        &self,
        tx: &mut sqlx::AnyConnection,
        org: &str,
        leaving: &str,
    ) -> Result<(), StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM memberships WHERE org_id = $1 AND role = 'owner' AND user_id <> $2",
        )
        .bind(org)
        .bind(leaving)
        .fetch_one(&mut *tx)
        .await?;
        if row.try_get::<i64, _>("n")? == 0 {
            return Err(StoreError::Rule(crate::Rule::LastOwner));
        }
        Ok(())
    }

    /// Removes a member.
    pub async fn remove_member(
        &self,
        actor: &Actor,
        org: &str,
        user: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let role = sqlx::query("SELECT role FROM memberships WHERE org_id = $1 AND user_id = $2")
            .bind(org)
            .bind(user)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        if role.try_get::<String, _>("role")? == Role::Owner.name() {
            self.keep_an_owner(&mut tx, org, user).await?;
        }
        sqlx::query("DELETE FROM memberships WHERE org_id = $1 AND user_id = $2")
            .bind(org)
            .bind(user)
            .execute(&mut *tx)
            .await?;
        // Their sessions stay valid for their other organizations; the robots they made
        // here go with them.
        revoke_robots_of(&mut tx, actor, org, user, None).await?;
        audit(&mut tx, Some(org), actor, "member.remove", user, &json!({})).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn insert_token(
        &self,
        tx: &mut sqlx::AnyConnection,
        kind: TokenKind,
        user: Option<&str>,
        org: Option<&str>,
        role: Option<Role>,
        app_ids: Option<&[String]>,
        name: &str,
        created_by: &str,
        expires_at: Option<i64>,
    ) -> Result<(TokenInfo, Zeroizing<String>), StoreError> {
        let token = secrets::mint(kind)?;
        let id = new_id("tok")?;
        let t = now();
        let apps = app_ids.map(|a| serde_json::Value::from(a.to_vec()).to_string());
        sqlx::query(
            "INSERT INTO tokens (id, hash, kind, user_id, org_id, role, app_ids, name, created_by, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&id)
        .bind(secrets::token_hash(&token))
        .bind(kind.name())
        .bind(user.map(str::to_owned))
        .bind(org.map(str::to_owned))
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
                app_ids: app_ids.map(<[String]>::to_vec),
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
                Some(r.try_get::<String, _>("id")?),
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
        let id: String = row.try_get("id")?;
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
        let user_id: Option<String> = row.try_get("user_id")?;
        let org_id: Option<String> = row.try_get("org_id")?;
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
                        serde_json::from_str::<Vec<String>>(&a)
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
        org: &str,
        name: &str,
        role: Role,
        app_ids: Option<&[String]>,
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
        if let Some(apps) = app_ids {
            for app in apps {
                let found = sqlx::query("SELECT id FROM apps WHERE id = $1 AND org_id = $2")
                    .bind(app)
                    .bind(org)
                    .fetch_optional(&mut *tx)
                    .await?;
                if found.is_none() {
                    return Err(StoreError::Invalid {
                        field: "app_ids",
                        reason: format!("no app `{app}` in this organization"),
                    });
                }
            }
        }
        let (info, token) = self
            .insert_token(
                &mut tx,
                TokenKind::Robot,
                None,
                Some(org),
                Some(role),
                app_ids,
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
    pub async fn robots(&self, org: &str) -> Result<Vec<TokenInfo>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM tokens WHERE org_id = $1 AND kind = 'robot' ORDER BY created_at, id"
        ))
        .bind(org)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(token_info).collect()
    }

    /// A user's own sessions.
    pub async fn sessions_of(&self, user: &str) -> Result<Vec<TokenInfo>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM tokens WHERE user_id = $1 AND kind = 'session' ORDER BY created_at, id"
        ))
        .bind(user)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(token_info).collect()
    }

    /// Revokes a robot token of `org`.
    pub async fn revoke_robot(&self, actor: &Actor, org: &str, id: &str) -> Result<(), StoreError> {
        self.revoke(actor, Some(org), "org_id", org, TokenKind::Robot, id)
            .await
    }

    /// Revokes one of a user's sessions (logout).
    pub async fn revoke_session(
        &self,
        actor: &Actor,
        user: &str,
        id: &str,
    ) -> Result<(), StoreError> {
        self.revoke(actor, None, "user_id", user, TokenKind::Session, id)
            .await
    }

    /// Revokes token `id` of `kind` whose `owner_column` is `owner`.
    async fn revoke(
        &self,
        actor: &Actor,
        audit_org: Option<&str>,
        owner_column: &'static str,
        owner: &str,
        kind: TokenKind,
        id: &str,
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

    /// The user a principal is, if a user.
    pub async fn user(&self, id: &str) -> Result<User, StoreError> {
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
