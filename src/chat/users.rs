//! Users, passwords and login tokens, and the first-start seed (admin, `rocket.cat`, `#general`).
//!
//! Passwords are stored as an argon2 hash of the lower-case hex SHA-256 of the password: that digest is what
//! Meteor clients send over DDP, so REST logins (plain password) and DDP logins (digest) share one
//! credential. Login tokens are stored hashed.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use serde_json::{json, Map, Value};

use super::permissions::{default_permissions, default_roles};
use super::Chat;
use crate::error::{Error, Result};
use crate::model::{Email, LoginToken, Room, Subscription, User};
use crate::store::DbError;
use crate::util::{hash_token, new_id, new_login_token, now_ms, random_id, sha256_hex};

/// What `users.create` (and the seed) takes.
#[derive(Clone, Debug, Default)]
pub struct NewUser {
    pub username: String,
    pub name: String,
    pub email: String,
    pub password: String,
    pub roles: Option<Vec<String>>,
    pub active: bool,
    pub kind: String,
    pub verified: bool,
    pub join_default_channels: bool,
    pub extra: Map<String, Value>,
}

/// How a login names its user.
#[derive(Clone, Debug)]
pub enum LoginName {
    Username(String),
    Email(String),
    Id(String),
}

/// Valid usernames, as Rocket.Chat's default `UTF8_User_Names_Validation`.
pub fn valid_username(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

fn valid_email(email: &str) -> bool {
    let mut parts = email.splitn(2, '@');
    let (local, domain) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    !local.is_empty() && !domain.is_empty() && !email.contains(char::is_whitespace)
}

/// Hashes a password digest off the async threads (argon2 is deliberately slow).
pub async fn hash_digest(digest: String) -> Result<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(digest.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| Error::Internal(format!("hashing password: {e}")))
    })
    .await
    .map_err(|e| Error::Internal(e.to_string()))?
}

async fn verify_digest(digest: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || match PasswordHash::new(&hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(digest.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    })
    .await
    .unwrap_or(false)
}

fn field_taken(e: DbError, username: &str, email: &str) -> Error {
    match e {
        DbError::Unique(m) if m.contains("email") => Error::meteor_details(
            "error-field-unavailable",
            format!("{email} is already in use :("),
            json!({ "field": email }),
        ),
        DbError::Unique(_) => Error::meteor_details(
            "error-field-unavailable",
            format!("{username} is already in use :("),
            json!({ "field": username }),
        ),
        e => e.into(),
    }
}

impl Chat {
    /// First start: roles, permissions (insert-if-missing, so upgrades add new ones), and on an empty
    /// database the admin, `rocket.cat` and `#general`. Returns the generated admin password, if one was made.
    pub async fn seed(
        &self,
        admin_username: &str,
        admin_password: &str,
        admin_email: &str,
    ) -> Result<Option<String>> {
        let now = now_ms();
        self.store.seed_roles(&default_roles()).await?;
        self.store
            .seed_permissions(&default_permissions(now))
            .await?;
        self.perms.replace(&self.store.permissions().await?);
        if self.store.count_users().await? > 0 {
            return Ok(None);
        }
        let generated = admin_password.is_empty().then(|| random_id(20));
        let password = generated
            .clone()
            .unwrap_or_else(|| admin_password.to_string());
        let general = Room {
            id: "GENERAL".into(),
            t: "c".into(),
            name: Some("general".into()),
            fname: Some("general".into()),
            u: None,
            ts: now,
            updated_at: now,
            msgs: 0,
            users_count: 0,
            ro: false,
            archived: false,
            default: true,
            topic: None,
            lm: None,
            last_message: None,
            usernames: vec![],
            uids: vec![],
            extra: Map::new(),
        };
        self.store.create_room(&general, &[], &[]).await?;
        self.create_user(NewUser {
            username: "rocket.cat".into(),
            name: "Rocket.Cat".into(),
            email: "rocket.cat@localhost".into(),
            password: random_id(32),
            roles: Some(vec!["bot".into()]),
            active: true,
            kind: "bot".into(),
            verified: true,
            join_default_channels: false,
            extra: Map::new(),
        })
        .await?;
        self.create_user(NewUser {
            username: admin_username.into(),
            name: "Administrator".into(),
            email: admin_email.into(),
            password,
            roles: Some(vec!["admin".into()]),
            active: true,
            kind: "user".into(),
            verified: true,
            join_default_channels: true,
            extra: Map::new(),
        })
        .await?;
        Ok(generated)
    }

    /// Creates a user after validating every field; joins the default channels when asked.
    pub async fn create_user(&self, n: NewUser) -> Result<User> {
        for (value, field, label) in [
            (&n.username, "username", "Username"),
            (&n.name, "name", "Name"),
            (&n.password, "password", "Password"),
            (&n.email, "email", "Email"),
        ] {
            if value.trim().is_empty() {
                let _ = label;
                return Err(Error::invalid_params(format!(
                    "must have required property '{field}'"
                )));
            }
        }
        if !valid_username(&n.username) {
            return Err(Error::meteor(
                "error-input-is-not-a-valid-field",
                format!("{} is not a valid username", n.username),
            ));
        }
        if !valid_email(&n.email) {
            return Err(Error::meteor(
                "error-invalid-email",
                format!("Invalid email {}", n.email),
            ));
        }
        let roles = n.roles.clone().unwrap_or_else(|| vec!["user".into()]);
        let known = self.store.roles().await?;
        if roles.iter().any(|r| !known.iter().any(|k| &k.id == r)) {
            return Err(Error::meteor(
                "error-action-not-allowed",
                "The field Roles consist invalid role id",
            ));
        }
        if self.store.user_by_username(&n.username).await?.is_some() {
            return Err(field_taken(
                DbError::Unique("username".into()),
                &n.username,
                &n.email,
            ));
        }
        if self.store.user_by_email(&n.email).await?.is_some() {
            return Err(field_taken(
                DbError::Unique("email".into()),
                &n.username,
                &n.email,
            ));
        }
        let now = now_ms();
        let user = User {
            id: new_id(),
            username: n.username.clone(),
            name: n.name.clone(),
            emails: vec![Email {
                address: n.email.clone(),
                verified: n.verified,
            }],
            kind: if n.kind.is_empty() {
                "user".into()
            } else {
                n.kind.clone()
            },
            status: "offline".into(),
            active: n.active,
            roles,
            created_at: now,
            updated_at: now,
            last_login: None,
            extra: n.extra.clone(),
        };
        let hash = hash_digest(sha256_hex(&n.password)).await?;
        let jobs = self.outgoing.user_created_jobs(&user);
        self.store
            .insert_user_with_jobs(&user, Some(&hash), &jobs)
            .await
            .map_err(|e| field_taken(e, &n.username, &n.email))?;
        self.jobs_written(jobs.len());
        if n.join_default_channels {
            let (defaults, _) = self
                .store
                .list_rooms(
                    &crate::store::RoomFilter {
                        types: vec!["c", "p"],
                        ..Default::default()
                    },
                    crate::store::Page {
                        offset: 0,
                        count: 1000,
                    },
                    crate::store::RoomSort::NameAsc,
                )
                .await?;
            for room in defaults.iter().filter(|r| r.default) {
                self.join_room(&user, room, false).await?;
            }
        }
        Ok(user)
    }

    /// Checks a password digest (lower-case hex SHA-256 of the password) and, if right, issues a session.
    pub async fn login_with_digest(
        &self,
        name: &LoginName,
        digest: &str,
    ) -> Result<(User, String)> {
        let user = match name {
            LoginName::Username(u) => self.store.user_by_username(u).await?,
            LoginName::Email(e) => self.store.user_by_email(e).await?,
            LoginName::Id(i) => self.store.user_by_id(i).await?,
        }
        .ok_or(Error::LoginFailed)?;
        let hash = self
            .store
            .password_hash(&user.id)
            .await?
            .ok_or(Error::LoginFailed)?;
        if !verify_digest(digest.to_ascii_lowercase(), hash).await {
            return Err(Error::LoginFailed);
        }
        if !user.active {
            return Err(Error::meteor(
                "error-user-is-not-activated",
                "User is not activated",
            ));
        }
        let token = self.issue_session(&user).await?;
        let mut user = user;
        user.last_login = Some(now_ms());
        self.store.update_user(&user).await?;
        Ok((user, token))
    }

    /// Issues a new session token for a user.
    pub async fn issue_session(&self, user: &User) -> Result<String> {
        let token = new_login_token();
        let now = now_ms();
        self.store
            .insert_token(&LoginToken {
                hashed: hash_token(&token),
                user_id: user.id.clone(),
                kind: "session".into(),
                name: None,
                created_at: now,
                expires_at: Some(now + self.settings.login_expiration_ms),
                last_part: None,
                bypass_2fa: false,
            })
            .await?;
        Ok(token)
    }

    /// The user a (user id, token) pair authenticates, if the token is live and belongs to that id. With
    /// `user_id` `None` (DDP resume) any live token is enough.
    pub async fn authenticate(
        &self,
        user_id: Option<&str>,
        token: &str,
    ) -> Result<(User, LoginToken)> {
        let found = self.store.token(&hash_token(token), now_ms()).await?;
        match found {
            Some((t, u))
                if user_id.is_none_or(|id| crate::util::secure_eq(id, &u.id)) && u.active =>
            {
                Ok((u, t))
            }
            _ => Err(Error::Unauthenticated),
        }
    }

    pub async fn logout(&self, token: &LoginToken) -> Result<()> {
        self.store.delete_token(&token.hashed).await?;
        Ok(())
    }

    /// `users.generatePersonalAccessToken`: returns the plain token, shown only this once.
    pub async fn generate_pat(&self, user: &User, name: &str, bypass_2fa: bool) -> Result<String> {
        if name.trim().is_empty() {
            return Err(Error::failure("The 'tokenName' param is required"));
        }
        if !self.perms.has(user, "create-personal-access-tokens") {
            return Err(Error::meteor("not-authorized", "Not Authorized"));
        }
        let token = new_login_token();
        let res = self
            .store
            .insert_token(&LoginToken {
                hashed: hash_token(&token),
                user_id: user.id.clone(),
                kind: "pat".into(),
                name: Some(name.to_string()),
                created_at: now_ms(),
                expires_at: None,
                last_part: Some(token[token.len() - 6..].to_string()),
                bypass_2fa,
            })
            .await;
        match res {
            Ok(()) => Ok(token),
            Err(DbError::Unique(_)) => Err(Error::meteor(
                "error-token-already-exists",
                "A token with this name already exists",
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// Applies `users.update` data. `actor` must be the user or hold `edit-other-user-info`.
    pub async fn update_user(
        &self,
        actor: &User,
        uid: &str,
        data: &Map<String, Value>,
    ) -> Result<User> {
        let mut user = self
            .store
            .user_by_id(uid)
            .await?
            .ok_or_else(|| Error::meteor("error-invalid-user", "Invalid user"))?;
        let is_self = actor.id == user.id;
        let may_edit_other = self.perms.has(actor, "edit-other-user-info");
        if !is_self && !may_edit_other {
            return Err(Error::meteor(
                "error-action-not-allowed",
                "Editing user is not allowed",
            ));
        }
        for (k, v) in data {
            match k.as_str() {
                "username" => {
                    let name = v
                        .as_str()
                        .ok_or_else(|| Error::invalid_params("must be string"))?;
                    if !valid_username(name) {
                        return Err(Error::meteor(
                            "error-input-is-not-a-valid-field",
                            format!("{name} is not a valid username"),
                        ));
                    }
                    if let Some(other) = self.store.user_by_username(name).await? {
                        if other.id != user.id {
                            return Err(field_taken(DbError::Unique("username".into()), name, ""));
                        }
                    }
                    user.username = name.to_string();
                }
                "name" => {
                    user.name = v
                        .as_str()
                        .ok_or_else(|| Error::invalid_params("/data/name must be string"))?
                        .to_string()
                }
                "email" => {
                    let email = v
                        .as_str()
                        .ok_or_else(|| Error::invalid_params("/data/email must be string"))?;
                    if !valid_email(email) {
                        return Err(Error::meteor(
                            "error-invalid-email",
                            format!("Invalid email {email}"),
                        ));
                    }
                    if let Some(other) = self.store.user_by_email(email).await? {
                        if other.id != user.id {
                            return Err(field_taken(DbError::Unique("email".into()), "", email));
                        }
                    }
                    user.emails = vec![Email {
                        address: email.to_string(),
                        verified: false,
                    }];
                }
                "password" => {
                    let pw = v
                        .as_str()
                        .ok_or_else(|| Error::invalid_params("/data/password must be string"))?;
                    if pw.is_empty() {
                        return Err(Error::invalid_params(
                            "/data/password must NOT have fewer than 1 characters",
                        ));
                    }
                    if !is_self && !self.perms.has(actor, "edit-other-user-password") {
                        return Err(Error::meteor(
                            "error-action-not-allowed",
                            "Editing user is not allowed",
                        ));
                    }
                    let hash = hash_digest(sha256_hex(pw)).await?;
                    self.store.set_password_hash(&user.id, &hash).await?;
                }
                "active" => {
                    let active = v
                        .as_bool()
                        .ok_or_else(|| Error::invalid_params("/data/active must be boolean"))?;
                    if !self.perms.has(actor, "edit-other-user-active-status") {
                        return Err(Error::meteor(
                            "error-action-not-allowed",
                            "Editing user is not allowed",
                        ));
                    }
                    user.active = active;
                }
                "roles" => {
                    if !self.perms.has(actor, "assign-roles") {
                        return Err(Error::meteor(
                            "error-action-not-allowed",
                            "Editing user is not allowed",
                        ));
                    }
                    let roles: Vec<String> = serde_json::from_value(v.clone())
                        .map_err(|_| Error::invalid_params("/data/roles must be array"))?;
                    let known = self.store.roles().await?;
                    if roles.iter().any(|r| !known.iter().any(|k| &k.id == r)) {
                        return Err(Error::meteor(
                            "error-action-not-allowed",
                            "The field Roles consist invalid role id",
                        ));
                    }
                    user.roles = roles;
                }
                "verified" => {
                    if is_self && !may_edit_other {
                        return Err(Error::meteor(
                            "error-action-not-allowed",
                            "Editing user is not allowed",
                        ));
                    }
                    let verified = v.as_bool().unwrap_or(false);
                    for e in &mut user.emails {
                        e.verified = verified;
                    }
                }
                "bio" | "nickname" | "statusText" | "customFields" | "requirePasswordChange" => {
                    user.extra.insert(k.clone(), v.clone());
                }
                // Accepted for compatibility and ignored: no email is ever sent.
                "sendWelcomeEmail" | "setRandomPassword" | "joinDefaultChannels" | "status" => {}
                other => {
                    return Err(Error::invalid_params(format!(
                        "must NOT have additional properties '{other}'"
                    )))
                }
            }
        }
        user.updated_at = now_ms();
        self.store
            .update_user(&user)
            .await
            .map_err(|e| field_taken(e, &user.username, ""))?;
        self.targets.invalidate();
        Ok(user)
    }

    pub async fn delete_user(&self, actor: &User, target: &User) -> Result<()> {
        if !self.perms.has(actor, "delete-user") {
            return Err(Error::unauthorized());
        }
        let rooms = self.store.delete_user(&target.id).await?;
        self.targets.invalidate();
        for rid in rooms {
            if let Some(room) = self.store.room_by_id(&rid).await? {
                self.notify_room_changed(&room, "updated").await;
            }
        }
        Ok(())
    }

    /// Finds a user by `userId` or `username` parameters, with Rocket.Chat's errors.
    pub async fn find_user(&self, user_id: Option<&str>, username: Option<&str>) -> Result<User> {
        let found = match (user_id, username) {
            (Some(id), _) => self.store.user_by_id(id).await?,
            (None, Some(name)) => {
                self.store
                    .user_by_username(name.trim_start_matches('@'))
                    .await?
            }
            (None, None) => {
                return Err(Error::meteor(
                    "error-user-param-not-provided",
                    "The required \"userId\" or \"username\" param was not provided",
                ))
            }
        };
        found.ok_or_else(|| {
            Error::meteor(
                "error-invalid-user",
                "The required \"userId\" or \"username\" param provided does not match any users",
            )
        })
    }

    /// Subscribes `user` to `room` (public join, invitation, or auto-join of a webhook poster), posting the
    /// system message and telling the user's sockets. `added_by` makes it an "added" (`au`) message.
    pub async fn add_member(
        &self,
        user: &User,
        room: &Room,
        added_by: Option<&User>,
        roles: Vec<String>,
    ) -> Result<bool> {
        let now = now_ms();
        let sub = new_subscription(room, user, roles, now, None);
        let msg = if room.is_dm() {
            None
        } else {
            Some(match added_by {
                Some(actor) => {
                    crate::model::Message::system(&room.id, "au", &user.username, actor, now)
                }
                None => crate::model::Message::system(&room.id, "uj", &user.username, user, now),
            })
        };
        let registry = self.outgoing.clone();
        let jobs_for = |created: &[crate::model::Subscription]| {
            if created.is_empty() {
                vec![]
            } else {
                registry.room_user_jobs("roomJoined", room, user)
            }
        };
        let created = self
            .store
            .add_members_with_jobs(
                &room.id,
                std::slice::from_ref(&sub),
                msg.as_slice(),
                jobs_for,
            )
            .await?;
        if created.is_empty() {
            return Ok(false);
        }
        self.jobs_written(1);
        self.targets.invalidate();
        if let Some(room) = self.store.room_by_id(&room.id).await? {
            self.publish_subscription(&sub, "inserted");
            self.publish_room_to(&user.id, &room, "inserted");
            if let Some(m) = &msg {
                self.publish_message(&room, m);
            }
        }
        Ok(true)
    }
}

/// A new subscription document for `user` in `room`; `other` is the DM partner (whose name the DM takes).
pub fn new_subscription(
    room: &Room,
    user: &User,
    roles: Vec<String>,
    now: i64,
    other: Option<&User>,
) -> Subscription {
    let (name, fname) = match other {
        Some(o) => (o.username.clone(), Some(o.name.clone())),
        None => (
            room.name.clone().unwrap_or_default(),
            room.fname.clone().or_else(|| room.name.clone()),
        ),
    };
    Subscription {
        id: new_id(),
        rid: room.id.clone(),
        u: crate::model::UserRef {
            id: user.id.clone(),
            username: user.username.clone(),
            name: Some(user.name.clone()),
        },
        t: room.t.clone(),
        name,
        fname,
        open: true,
        alert: false,
        unread: 0,
        user_mentions: 0,
        group_mentions: 0,
        ts: now,
        ls: now,
        updated_at: now,
        roles,
        archived: room.archived,
        extra: Map::new(),
    }
}
