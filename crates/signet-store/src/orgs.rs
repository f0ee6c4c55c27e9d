//! Organizations and their members (at least one owner stays; robots go with their creator).

use serde_json::json;
use sqlx::Row;

use crate::{
    Actor, Member, Org, OrgId, Role, Store, StoreError, TokenId, UserId,
    db::{audit, now},
    users::check_name,
};

/// Revokes the robots `user` created in `org`: all of them (`keeps: None`, the user
/// left), or those with a role above `keeps` (the user was demoted). Audited per robot.
async fn revoke_robots_of(
    tx: &mut sqlx::AnyConnection,
    actor: &Actor,
    org: &OrgId,
    user: &UserId,
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
        let id: TokenId = row.try_get("id")?;
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

impl Store {
    pub(crate) async fn insert_org(
        &self,
        tx: &mut sqlx::AnyConnection,
        actor: &Actor,
        name: &str,
        owner: &UserId,
    ) -> Result<Org, StoreError> {
        check_name("name", name)?;
        let id = OrgId::mint()?;
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
        owner: &UserId,
    ) -> Result<Org, StoreError> {
        let mut tx = self.begin().await?;
        let org = self.insert_org(&mut tx, actor, name, owner).await?;
        tx.commit().await?;
        Ok(org)
    }

    /// The organizations `user` belongs to, with the user's role.
    pub async fn orgs_of(&self, user: &UserId) -> Result<Vec<Org>, StoreError> {
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
    pub async fn org(&self, id: &OrgId) -> Result<Org, StoreError> {
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
    pub async fn delete_org(&self, actor: &Actor, org: &OrgId) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        audit(&mut tx, None, actor, "org.delete", org, &json!({})).await?;
        for table in [
            "play_app_signing",
            "app_links",
            "ios_build_pairs",
            "android_build_sets",
            "certificate_requests",
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
    pub async fn role_of(&self, org: &OrgId, user: &UserId) -> Result<Option<Role>, StoreError> {
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
    pub async fn members(&self, org: &OrgId) -> Result<Vec<Member>, StoreError> {
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
        org: &OrgId,
        email: &str,
        role: Role,
    ) -> Result<Member, StoreError> {
        let mut tx = self.begin().await?;
        let user: UserId = sqlx::query("SELECT id FROM users WHERE email = $1")
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

    pub(crate) async fn keep_an_owner(
        &self,
        tx: &mut sqlx::AnyConnection,
        org: &OrgId,
        leaving: &UserId,
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
        org: &OrgId,
        user: &UserId,
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
}
