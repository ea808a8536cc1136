//! Storage. [`Backend`] is the storage trait — a deliberately small SQL surface (execute, query,
//! transactions) implemented once for SQLite ([`sqlite`]) and once for PostgreSQL ([`postgres`]), each with
//! its own embedded migrations. [`Store`] is the typed, aggregate-level API the rest of the server uses
//! (users, tokens, permissions, rooms and memberships, messages), written once over any backend: every
//! compound write (a room with its first members, a message with its room counters) is one transaction.
//!
//! Documents are kept as JSON text beside the columns that are looked up, sorted or counted, because
//! Rocket.Chat's documents are open-ended (attachments carry unknown keys that must round-trip).

pub mod batch;
pub mod postgres;
pub mod sqlite;
mod sqlite_vfs;

use std::sync::Arc;

use async_trait::async_trait;
use serde::de::DeserializeOwned;

use crate::model::{
    DeliveryJob, HookRequest, Integration, LoginToken, Message, OutgoingHistory, Permission, Role,
    Room, Subscription, User,
};

/// A bound SQL parameter. Typed even when null, because PostgreSQL wants to know the type of a NULL.
#[derive(Clone, Debug)]
pub enum Arg {
    Int(Option<i64>),
    Text(Option<String>),
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(Some(v))
    }
}
impl From<bool> for Arg {
    fn from(v: bool) -> Self {
        Arg::Int(Some(v as i64))
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Arg::Int(v)
    }
}
impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(Some(v.to_string()))
    }
}
impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Arg::Text(Some(v.clone()))
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(Some(v))
    }
}
impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Arg::Text(v)
    }
}
impl From<Option<&str>> for Arg {
    fn from(v: Option<&str>) -> Self {
        Arg::Text(v.map(str::to_string))
    }
}

/// Builds a `Vec<Arg>` from values of mixed types.
macro_rules! args {
    ($($x:expr),* $(,)?) => { vec![$($crate::store::Arg::from($x)),*] };
}
#[allow(unused_imports)]
pub(crate) use args;

/// A column value as read back.
#[derive(Clone, Debug)]
pub enum Val {
    Null,
    Int(i64),
    Text(String),
}

#[derive(Clone, Debug)]
pub struct Row(pub Vec<Val>);

impl Row {
    pub fn int(&self, i: usize) -> i64 {
        match self.0.get(i) {
            Some(Val::Int(v)) => *v,
            Some(Val::Text(s)) => s.parse().unwrap_or(0),
            _ => 0,
        }
    }
    pub fn opt_int(&self, i: usize) -> Option<i64> {
        match self.0.get(i) {
            Some(Val::Int(v)) => Some(*v),
            _ => None,
        }
    }
    pub fn text(&self, i: usize) -> String {
        self.opt_text(i).unwrap_or_default()
    }
    pub fn opt_text(&self, i: usize) -> Option<String> {
        match self.0.get(i) {
            Some(Val::Text(s)) => Some(s.clone()),
            Some(Val::Int(v)) => Some(v.to_string()),
            _ => None,
        }
    }
    fn json<T: DeserializeOwned>(&self, i: usize) -> Result<T, DbError> {
        match self.0.get(i) {
            Some(Val::Text(s)) => serde_json::from_str(s)
                .map_err(|e| DbError::Other(format!("corrupt document: {e}"))),
            _ => Err(DbError::Other("missing document column".into())),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// A unique constraint failed; the text names the constraint or column.
    #[error("unique constraint violated: {0}")]
    Unique(String),
    #[error("database error: {0}")]
    Other(String),
}

impl DbError {
    pub fn from_sqlx(e: sqlx::Error) -> DbError {
        if let sqlx::Error::Database(d) = &e {
            if d.is_unique_violation() {
                return DbError::Unique(format!(
                    "{} {}",
                    d.constraint().unwrap_or(""),
                    d.message()
                ));
            }
        }
        DbError::Other(e.to_string())
    }
}

pub type DbResult<T> = Result<T, DbError>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendKind {
    Sqlite,
    Postgres,
}

impl BackendKind {
    /// The column that orders rows inserted in the same millisecond.
    fn seq_column(self) -> &'static str {
        match self {
            BackendKind::Sqlite => "rowid",
            BackendKind::Postgres => "seq",
        }
    }
}

/// One statement with its parameters, for [`Backend::write_batch`].
#[derive(Clone, Debug)]
pub struct Stmt {
    pub sql: std::borrow::Cow<'static, str>,
    pub args: Vec<Arg>,
}

impl Stmt {
    pub fn new(sql: impl Into<String>, args: Vec<Arg>) -> Stmt {
        Stmt {
            sql: std::borrow::Cow::Owned(sql.into()),
            args,
        }
    }

    /// A statement whose text is a constant (the common case on the hot path: no allocation for the SQL).
    pub fn fixed(sql: &'static str, args: Vec<Arg>) -> Stmt {
        Stmt {
            sql: std::borrow::Cow::Borrowed(sql),
            args,
        }
    }
}

/// The storage trait: what a database must offer. Both implementations accept `$1`-style numbered
/// parameters, so ordinary statements are shared text; where SQL differs, [`Store`] asks [`Backend::kind`].
#[async_trait]
pub trait Backend: Send + Sync {
    fn kind(&self) -> BackendKind;
    async fn execute(&self, sql: &str, args: Vec<Arg>) -> DbResult<u64>;
    async fn query(&self, sql: &str, args: Vec<Arg>) -> DbResult<Vec<Row>>;
    async fn begin(&self) -> DbResult<Box<dyn Tx>>;
    /// Applies `stmts` in one transaction, all or nothing. Backends whose driver pays a round trip per
    /// statement override this to ship the whole batch at once.
    async fn write_batch(&self, stmts: Vec<Stmt>) -> DbResult<()> {
        let mut tx = self.begin().await?;
        for s in stmts {
            tx.execute(&s.sql, s.args).await?;
        }
        tx.commit().await
    }
    /// A backend that gathers group commits itself (SQLite's writer thread does, saving the hand-over to
    /// and from a gathering task) returns where to send them; the default gathers them on a task.
    fn group_sink(&self, _keep_requests: i64) -> Option<batch::Sink> {
        None
    }
    async fn close(&self);
}

/// An open transaction; dropped without `commit` it rolls back.
#[async_trait]
pub trait Tx: Send {
    async fn execute(&mut self, sql: &str, args: Vec<Arg>) -> DbResult<u64>;
    async fn query(&mut self, sql: &str, args: Vec<Arg>) -> DbResult<Vec<Row>>;
    async fn commit(self: Box<Self>) -> DbResult<()>;
}

/// Opens the database named by `url` (`sqlite://…` or `postgres://…`) and runs its migrations.
pub async fn connect(url: &str, sqlite_synchronous: &str) -> anyhow::Result<Store> {
    let backend: Arc<dyn Backend> =
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Arc::new(postgres::PostgresBackend::connect(url).await?)
        } else if url.starts_with("sqlite:") {
            Arc::new(sqlite::SqliteBackend::connect(url, sqlite_synchronous).await?)
        } else {
            anyhow::bail!("unsupported database URL (expected sqlite://… or postgres://…): {url}");
        };
    Ok(Store { db: backend })
}

/// Paging of list queries.
#[derive(Clone, Copy, Debug)]
pub struct Page {
    pub offset: i64,
    pub count: i64,
}

/// Which rooms a list query returns.
#[derive(Clone, Debug, Default)]
pub struct RoomFilter {
    /// Room types (`c`, `p`, `d`); empty means all.
    pub types: Vec<&'static str>,
    /// Only rooms this user is subscribed to.
    pub member: Option<String>,
    /// Case-insensitive substring of the name.
    pub name_contains: Option<String>,
}

/// Which messages a history query returns.
#[derive(Clone, Debug, Default)]
pub struct MessageFilter {
    pub rid: String,
    /// Only messages older than this (newer when `inclusive`… see below).
    pub latest: Option<i64>,
    pub oldest: Option<i64>,
    pub inclusive: bool,
    /// Include thread replies (messages with `tmid`).
    pub threads: bool,
    /// Oldest first instead of newest first.
    pub ascending: bool,
}

const ROOM_COLS: &str = "doc, msgs, users_count, lm, last_message, updated_at";
const USER_COLS: &str = "doc";

/// The typed storage API, shared by both backends.
#[derive(Clone)]
pub struct Store {
    db: Arc<dyn Backend>,
}

fn to_json<T: serde::Serialize>(v: &T) -> String {
    // Sized for a typical message document, so the text is not copied again and again as it grows.
    let mut out = Vec::with_capacity(512);
    serde_json::to_writer(&mut out, v).expect("documents always serialise");
    // serde_json writes UTF-8 only.
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

fn room_from_row(r: &Row) -> DbResult<Room> {
    let mut room: Room = r.json(0)?;
    room.msgs = r.int(1);
    room.users_count = r.int(2);
    room.lm = r.opt_int(3);
    room.last_message = match r.opt_text(4) {
        Some(s) => serde_json::from_str(&s).ok(),
        None => None,
    };
    room.updated_at = r.int(5);
    Ok(room)
}

fn lower(s: &str) -> String {
    s.to_lowercase()
}

fn like_pattern(s: &str) -> String {
    let escaped: String = s
        .to_lowercase()
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    format!("%{escaped}%")
}

impl Store {
    pub fn kind(&self) -> BackendKind {
        self.db.kind()
    }

    pub fn backend(&self) -> &Arc<dyn Backend> {
        &self.db
    }

    pub async fn close(&self) {
        self.db.close().await
    }

    /// Runs a `SELECT COUNT(*)`-style query and returns its single number.
    async fn count(&self, sql: &str, args: Vec<Arg>) -> DbResult<i64> {
        let rows = self.db.query(sql, args).await?;
        Ok(rows.first().map(|r| r.int(0)).unwrap_or(0))
    }

    // ---- users ------------------------------------------------------------------------------------------

    pub async fn count_users(&self) -> DbResult<i64> {
        self.count("SELECT COUNT(*) FROM users", vec![]).await
    }

    /// Inserts a user. A taken username or email is [`DbError::Unique`] naming the column.
    pub async fn insert_user(&self, u: &User, password_hash: Option<&str>) -> DbResult<()> {
        self.insert_user_with_jobs(u, password_hash, &[]).await
    }

    /// Inserts a user together with the outgoing delivery jobs its creation fires (`userCreated`).
    pub async fn insert_user_with_jobs(
        &self,
        u: &User,
        password_hash: Option<&str>,
        jobs: &[DeliveryJob],
    ) -> DbResult<()> {
        let mut tx = self.db.begin().await?;
        tx.execute(
            "INSERT INTO users (id, username_lower, email_lower, password_hash, updated_at, doc) VALUES ($1, $2, $3, $4, $5, $6)",
            args![&u.id, lower(&u.username), u.email().map(lower), password_hash, u.updated_at, to_json(u)],
        )
        .await?;
        insert_jobs(&mut *tx, &jobs.iter().collect::<Vec<_>>()).await?;
        tx.commit().await
    }

    pub async fn update_user(&self, u: &User) -> DbResult<()> {
        self.db
            .execute(
                "UPDATE users SET username_lower = $2, email_lower = $3, updated_at = $4, doc = $5 WHERE id = $1",
                args![&u.id, lower(&u.username), u.email().map(lower), u.updated_at, to_json(u)],
            )
            .await?;
        Ok(())
    }

    pub async fn set_password_hash(&self, uid: &str, hash: &str) -> DbResult<()> {
        self.db
            .execute(
                "UPDATE users SET password_hash = $2 WHERE id = $1",
                args![uid, hash],
            )
            .await?;
        Ok(())
    }

    pub async fn password_hash(&self, uid: &str) -> DbResult<Option<String>> {
        let rows = self
            .db
            .query("SELECT password_hash FROM users WHERE id = $1", args![uid])
            .await?;
        Ok(rows.first().and_then(|r| r.opt_text(0)))
    }

    /// Deletes a user with their tokens and memberships, in one transaction.
    pub async fn delete_user(&self, uid: &str) -> DbResult<Vec<String>> {
        let mut tx = self.db.begin().await?;
        let rooms: Vec<String> = tx
            .query("SELECT rid FROM subscriptions WHERE uid = $1", args![uid])
            .await?
            .iter()
            .map(|r| r.text(0))
            .collect();
        for rid in &rooms {
            tx.execute(
                "UPDATE rooms SET users_count = users_count - 1 WHERE id = $1",
                args![rid],
            )
            .await?;
        }
        tx.execute("DELETE FROM subscriptions WHERE uid = $1", args![uid])
            .await?;
        tx.execute("DELETE FROM login_tokens WHERE user_id = $1", args![uid])
            .await?;
        tx.execute("DELETE FROM users WHERE id = $1", args![uid])
            .await?;
        tx.commit().await?;
        Ok(rooms)
    }

    async fn one_user(&self, sql: &str, args: Vec<Arg>) -> DbResult<Option<User>> {
        let rows = self.db.query(sql, args).await?;
        rows.first().map(|r| r.json(0)).transpose()
    }

    pub async fn user_by_id(&self, id: &str) -> DbResult<Option<User>> {
        self.one_user("SELECT doc FROM users WHERE id = $1", args![id])
            .await
    }

    pub async fn user_by_username(&self, username: &str) -> DbResult<Option<User>> {
        self.one_user(
            "SELECT doc FROM users WHERE username_lower = $1",
            args![lower(username)],
        )
        .await
    }

    pub async fn user_by_email(&self, email: &str) -> DbResult<Option<User>> {
        self.one_user(
            "SELECT doc FROM users WHERE email_lower = $1",
            args![lower(email)],
        )
        .await
    }

    pub async fn user_by_id_or_username(&self, key: &str) -> DbResult<Option<User>> {
        match self.user_by_id(key).await? {
            Some(u) => Ok(Some(u)),
            None => self.user_by_username(key).await,
        }
    }

    pub async fn users_by_ids(&self, ids: &[String]) -> DbResult<Vec<User>> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(u) = self.user_by_id(id).await? {
                out.push(u);
            }
        }
        Ok(out)
    }

    /// Users sorted by username (or by creation when `by_created`), with the total.
    pub async fn list_users(
        &self,
        page: Page,
        name_contains: Option<&str>,
        desc: bool,
    ) -> DbResult<(Vec<User>, i64)> {
        let pattern = name_contains.map(like_pattern);
        let order = if desc { "DESC" } else { "ASC" };
        let sql = format!(
            "SELECT {USER_COLS} FROM users WHERE ($1 IS NULL OR username_lower LIKE $1 ESCAPE '\\') ORDER BY username_lower {order} LIMIT $2 OFFSET $3"
        );
        let rows = self
            .db
            .query(&sql, args![pattern.clone(), page.count, page.offset])
            .await?;
        let total = self
            .count("SELECT COUNT(*) FROM users WHERE ($1 IS NULL OR username_lower LIKE $1 ESCAPE '\\')", args![pattern])
            .await?;
        let users = rows
            .iter()
            .map(|r| r.json(0))
            .collect::<DbResult<Vec<User>>>()?;
        Ok((users, total))
    }

    // ---- login tokens -----------------------------------------------------------------------------------

    pub async fn insert_token(&self, t: &LoginToken) -> DbResult<()> {
        self.db
            .execute(
                "INSERT INTO login_tokens (hashed, user_id, kind, name, created_at, expires_at, last_part, bypass_2fa) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                args![&t.hashed, &t.user_id, &t.kind, t.name.clone(), t.created_at, t.expires_at, t.last_part.clone(), t.bypass_2fa],
            )
            .await?;
        Ok(())
    }

    /// The live token with this hash, and its user.
    pub async fn token(&self, hashed: &str, now: i64) -> DbResult<Option<(LoginToken, User)>> {
        let rows = self
            .db
            .query(
                "SELECT t.hashed, t.user_id, t.kind, t.name, t.created_at, t.expires_at, t.last_part, t.bypass_2fa, u.doc \
                 FROM login_tokens t JOIN users u ON u.id = t.user_id WHERE t.hashed = $1 AND (t.expires_at IS NULL OR t.expires_at > $2)",
                args![hashed, now],
            )
            .await?;
        let Some(r) = rows.first() else {
            return Ok(None);
        };
        let token = LoginToken {
            hashed: r.text(0),
            user_id: r.text(1),
            kind: r.text(2),
            name: r.opt_text(3),
            created_at: r.int(4),
            expires_at: r.opt_int(5),
            last_part: r.opt_text(6),
            bypass_2fa: r.int(7) != 0,
        };
        Ok(Some((token, r.json(8)?)))
    }

    pub async fn delete_token(&self, hashed: &str) -> DbResult<()> {
        self.db
            .execute("DELETE FROM login_tokens WHERE hashed = $1", args![hashed])
            .await?;
        Ok(())
    }

    pub async fn personal_tokens(&self, uid: &str) -> DbResult<Vec<LoginToken>> {
        let rows = self
            .db
            .query(
                "SELECT hashed, name, created_at, last_part, bypass_2fa FROM login_tokens WHERE user_id = $1 AND kind = 'pat' ORDER BY created_at",
                args![uid],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| LoginToken {
                hashed: r.text(0),
                user_id: uid.to_string(),
                kind: "pat".into(),
                name: r.opt_text(1),
                created_at: r.int(2),
                expires_at: None,
                last_part: r.opt_text(3),
                bypass_2fa: r.int(4) != 0,
            })
            .collect())
    }

    pub async fn delete_personal_token(&self, uid: &str, name: &str) -> DbResult<bool> {
        let n = self
            .db
            .execute(
                "DELETE FROM login_tokens WHERE user_id = $1 AND kind = 'pat' AND name = $2",
                args![uid, name],
            )
            .await?;
        Ok(n > 0)
    }

    // ---- permissions and roles --------------------------------------------------------------------------

    pub async fn permissions(&self) -> DbResult<Vec<Permission>> {
        let rows = self
            .db
            .query(
                "SELECT id, roles, updated_at FROM permissions ORDER BY id",
                vec![],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Permission {
                    id: r.text(0),
                    roles: r.json(1)?,
                    updated_at: r.int(2),
                })
            })
            .collect()
    }

    /// Inserts permissions that do not exist yet (first start, and upgrades that add permissions).
    pub async fn seed_permissions(&self, perms: &[Permission]) -> DbResult<()> {
        let mut tx = self.db.begin().await?;
        for p in perms {
            tx.execute(
                "INSERT INTO permissions (id, roles, updated_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING",
                args![&p.id, to_json(&p.roles), p.updated_at],
            )
            .await?;
        }
        tx.commit().await
    }

    pub async fn set_permissions(&self, perms: &[Permission]) -> DbResult<()> {
        let mut tx = self.db.begin().await?;
        for p in perms {
            tx.execute(
                "UPDATE permissions SET roles = $2, updated_at = $3 WHERE id = $1",
                args![&p.id, to_json(&p.roles), p.updated_at],
            )
            .await?;
        }
        tx.commit().await
    }

    pub async fn roles(&self) -> DbResult<Vec<Role>> {
        let rows = self
            .db
            .query("SELECT doc FROM roles ORDER BY id", vec![])
            .await?;
        rows.iter().map(|r| r.json(0)).collect()
    }

    pub async fn seed_roles(&self, roles: &[Role]) -> DbResult<()> {
        let mut tx = self.db.begin().await?;
        for r in roles {
            tx.execute(
                "INSERT INTO roles (id, doc) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
                args![&r.id, to_json(r)],
            )
            .await?;
        }
        tx.commit().await
    }

    // ---- rooms and memberships --------------------------------------------------------------------------

    /// Creates a room together with its first subscriptions and messages, atomically.
    pub async fn create_room(
        &self,
        room: &Room,
        subs: &[Subscription],
        msgs: &[Message],
    ) -> DbResult<()> {
        self.create_room_with_jobs(room, subs, msgs, &[]).await
    }

    /// [`Self::create_room`] plus the outgoing delivery jobs the creation fires, in the same transaction.
    pub async fn create_room_with_jobs(
        &self,
        room: &Room,
        subs: &[Subscription],
        msgs: &[Message],
        jobs: &[DeliveryJob],
    ) -> DbResult<()> {
        let mut tx = self.db.begin().await?;
        insert_jobs(&mut *tx, &jobs.iter().collect::<Vec<_>>()).await?;
        tx.execute(
            "INSERT INTO rooms (id, t, name_lower, ts, msgs, users_count, lm, last_message, updated_at, doc) VALUES ($1, $2, $3, $4, 0, 0, NULL, NULL, $5, $6)",
            args![&room.id, &room.t, room.name.as_deref().map(lower), room.ts, room.updated_at, to_json(room)],
        )
        .await?;
        insert_subs(&mut *tx, subs).await?;
        insert_msgs(&mut *tx, msgs).await?;
        tx.commit().await
    }

    /// Rewrites a room's document (topic, archived, …); counters are left alone.
    pub async fn update_room(&self, room: &Room, subs_archived: Option<bool>) -> DbResult<()> {
        self.update_room_with_jobs(room, subs_archived, &[]).await
    }

    /// [`Self::update_room`] plus outgoing delivery jobs (`roomArchived`), in the same transaction.
    pub async fn update_room_with_jobs(
        &self,
        room: &Room,
        subs_archived: Option<bool>,
        jobs: &[DeliveryJob],
    ) -> DbResult<()> {
        let mut tx = self.db.begin().await?;
        insert_jobs(&mut *tx, &jobs.iter().collect::<Vec<_>>()).await?;
        tx.execute(
            "UPDATE rooms SET name_lower = $2, updated_at = $3, doc = $4 WHERE id = $1",
            args![
                &room.id,
                room.name.as_deref().map(lower),
                room.updated_at,
                to_json(room)
            ],
        )
        .await?;
        if let Some(archived) = subs_archived {
            let rows = tx
                .query(
                    "SELECT doc FROM subscriptions WHERE rid = $1",
                    args![&room.id],
                )
                .await?;
            for r in rows {
                let mut s: Subscription = r.json(0)?;
                s.archived = archived;
                s.updated_at = room.updated_at;
                tx.execute(
                    "UPDATE subscriptions SET updated_at = $2, doc = $3 WHERE id = $1",
                    args![&s.id, s.updated_at, to_json(&s)],
                )
                .await?;
            }
        }
        tx.commit().await
    }

    /// Deletes a room, its messages and memberships; leaves a tombstone for `rooms.get?updatedSince`.
    pub async fn delete_room(&self, rid: &str, now: i64) -> DbResult<Vec<Subscription>> {
        let mut tx = self.db.begin().await?;
        let subs = tx
            .query("SELECT doc FROM subscriptions WHERE rid = $1", args![rid])
            .await?
            .iter()
            .map(|r| r.json(0))
            .collect::<DbResult<Vec<Subscription>>>()?;
        tx.execute("DELETE FROM messages WHERE rid = $1", args![rid])
            .await?;
        tx.execute("DELETE FROM subscriptions WHERE rid = $1", args![rid])
            .await?;
        let t = tx
            .query("SELECT t FROM rooms WHERE id = $1", args![rid])
            .await?;
        tx.execute("DELETE FROM rooms WHERE id = $1", args![rid])
            .await?;
        tx.execute(
            "INSERT INTO room_tombstones (id, t, deleted_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET deleted_at = $3",
            args![rid, t.first().map(|r| r.text(0)).unwrap_or_default(), now],
        )
        .await?;
        for s in &subs {
            tx.execute(
                "INSERT INTO subscription_tombstones (id, uid, deleted_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET deleted_at = $3",
                args![&s.id, &s.u.id, now],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(subs)
    }

    pub async fn room_by_id(&self, id: &str) -> DbResult<Option<Room>> {
        let rows = self
            .db
            .query(
                &format!("SELECT {ROOM_COLS} FROM rooms WHERE id = $1"),
                args![id],
            )
            .await?;
        rows.first().map(room_from_row).transpose()
    }

    pub async fn room_by_name(&self, name: &str) -> DbResult<Option<Room>> {
        let rows = self
            .db
            .query(
                &format!("SELECT {ROOM_COLS} FROM rooms WHERE name_lower = $1"),
                args![lower(name)],
            )
            .await?;
        rows.first().map(room_from_row).transpose()
    }

    pub async fn room_by_id_or_name(&self, key: &str) -> DbResult<Option<Room>> {
        match self.room_by_id(key).await? {
            Some(r) => Ok(Some(r)),
            None => self.room_by_name(key).await,
        }
    }

    pub async fn list_rooms(
        &self,
        f: &RoomFilter,
        page: Page,
        sort: RoomSort,
    ) -> DbResult<(Vec<Room>, i64)> {
        let mut conds = vec!["1 = 1".to_string()];
        let mut a: Vec<Arg> = Vec::new();
        if !f.types.is_empty() {
            let list: Vec<String> = f.types.iter().map(|t| format!("'{t}'")).collect();
            conds.push(format!("r.t IN ({})", list.join(", ")));
        }
        if let Some(uid) = &f.member {
            a.push(uid.into());
            conds.push(format!(
                "EXISTS (SELECT 1 FROM subscriptions s WHERE s.rid = r.id AND s.uid = ${})",
                a.len()
            ));
        }
        if let Some(n) = &f.name_contains {
            a.push(like_pattern(n).into());
            conds.push(format!("r.name_lower LIKE ${} ESCAPE '\\'", a.len()));
        }
        let wh = conds.join(" AND ");
        let total = self
            .count(
                &format!("SELECT COUNT(*) FROM rooms r WHERE {wh}"),
                a.clone(),
            )
            .await?;
        a.push(page.count.into());
        a.push(page.offset.into());
        let sql = format!(
            "SELECT r.doc, r.msgs, r.users_count, r.lm, r.last_message, r.updated_at FROM rooms r WHERE {wh} ORDER BY {} LIMIT ${} OFFSET ${}",
            sort.sql(),
            a.len() - 1,
            a.len()
        );
        let rows = self.db.query(&sql, a).await?;
        Ok((
            rows.iter().map(room_from_row).collect::<DbResult<_>>()?,
            total,
        ))
    }

    /// Every room the user is subscribed to, optionally only those changed after `since`.
    pub async fn rooms_of_user(&self, uid: &str, since: Option<i64>) -> DbResult<Vec<Room>> {
        let rows = self
            .db
            .query(
                "SELECT r.doc, r.msgs, r.users_count, r.lm, r.last_message, r.updated_at FROM rooms r JOIN subscriptions s ON s.rid = r.id \
                 WHERE s.uid = $1 AND ($2 IS NULL OR r.updated_at > $2) ORDER BY r.ts",
                args![uid, since],
            )
            .await?;
        rows.iter().map(room_from_row).collect()
    }

    pub async fn deleted_rooms_since(&self, uid: &str, since: i64) -> DbResult<Vec<(String, i64)>> {
        // Tombstones are not per user; a client only acts on ids it knows, so listing all is harmless
        // apart from revealing ids of deleted rooms, which we avoid by joining on the user's old memberships.
        let rows = self
            .db
            .query(
                "SELECT r.id, r.deleted_at FROM room_tombstones r WHERE r.deleted_at > $2 AND EXISTS \
                 (SELECT 1 FROM subscription_tombstones s WHERE s.uid = $1 AND s.deleted_at = r.deleted_at)",
                args![uid, since],
            )
            .await?;
        Ok(rows.iter().map(|r| (r.text(0), r.int(1))).collect())
    }

    pub async fn subscription(&self, rid: &str, uid: &str) -> DbResult<Option<Subscription>> {
        let rows = self
            .db
            .query(
                "SELECT doc FROM subscriptions WHERE rid = $1 AND uid = $2",
                args![rid, uid],
            )
            .await?;
        rows.first().map(|r| r.json(0)).transpose()
    }

    pub async fn subscriptions_of_user(
        &self,
        uid: &str,
        since: Option<i64>,
    ) -> DbResult<Vec<Subscription>> {
        let rows = self
            .db
            .query(
                "SELECT doc FROM subscriptions WHERE uid = $1 AND ($2 IS NULL OR updated_at > $2) ORDER BY updated_at",
                args![uid, since],
            )
            .await?;
        rows.iter().map(|r| r.json(0)).collect()
    }

    pub async fn deleted_subscriptions_since(
        &self,
        uid: &str,
        since: i64,
    ) -> DbResult<Vec<(String, i64)>> {
        let rows = self
            .db
            .query(
                "SELECT id, deleted_at FROM subscription_tombstones WHERE uid = $1 AND deleted_at > $2",
                args![uid, since],
            )
            .await?;
        Ok(rows.iter().map(|r| (r.text(0), r.int(1))).collect())
    }

    /// Adds members (skipping existing ones) and their "joined"/"added" messages in one transaction;
    /// returns the subscriptions actually created.
    pub async fn add_members(
        &self,
        rid: &str,
        subs: &[Subscription],
        msgs: &[Message],
    ) -> DbResult<Vec<Subscription>> {
        self.add_members_with_jobs(rid, subs, msgs, |_| Vec::new())
            .await
    }

    /// [`Self::add_members`] plus the outgoing delivery jobs (`roomJoined`) for the memberships actually
    /// created, which `jobs_for` builds from them, all in the same transaction.
    pub async fn add_members_with_jobs(
        &self,
        rid: &str,
        subs: &[Subscription],
        msgs: &[Message],
        jobs_for: impl Fn(&[Subscription]) -> Vec<DeliveryJob> + Send,
    ) -> DbResult<Vec<Subscription>> {
        let mut tx = self.db.begin().await?;
        let mut created = Vec::new();
        let mut created_msgs = Vec::new();
        for (i, s) in subs.iter().enumerate() {
            let exists = tx
                .query(
                    "SELECT 1 FROM subscriptions WHERE rid = $1 AND uid = $2",
                    args![rid, &s.u.id],
                )
                .await?;
            if exists.is_empty() {
                created.push(s.clone());
                if let Some(m) = msgs.get(i) {
                    created_msgs.push(m.clone());
                }
            }
        }
        insert_subs(&mut *tx, &created).await?;
        insert_msgs(&mut *tx, &created_msgs).await?;
        let jobs = jobs_for(&created);
        insert_jobs(&mut *tx, &jobs.iter().collect::<Vec<_>>()).await?;
        tx.commit().await?;
        Ok(created)
    }

    /// Removes a membership and records why (a "left"/"removed" message), atomically.
    pub async fn remove_member(
        &self,
        rid: &str,
        uid: &str,
        msg: Option<&Message>,
        now: i64,
    ) -> DbResult<bool> {
        self.remove_member_with_jobs(rid, uid, msg, now, &[]).await
    }

    /// [`Self::remove_member`] plus outgoing delivery jobs (`roomLeft`), written only if the membership
    /// existed, in the same transaction.
    pub async fn remove_member_with_jobs(
        &self,
        rid: &str,
        uid: &str,
        msg: Option<&Message>,
        now: i64,
        jobs: &[DeliveryJob],
    ) -> DbResult<bool> {
        let mut tx = self.db.begin().await?;
        let rows = tx
            .query(
                "SELECT id FROM subscriptions WHERE rid = $1 AND uid = $2",
                args![rid, uid],
            )
            .await?;
        let Some(r) = rows.first() else {
            return Ok(false);
        };
        let sid = r.text(0);
        tx.execute("DELETE FROM subscriptions WHERE id = $1", args![&sid])
            .await?;
        tx.execute(
            "UPDATE rooms SET users_count = users_count - 1, updated_at = $2 WHERE id = $1",
            args![rid, now],
        )
        .await?;
        tx.execute(
            "INSERT INTO subscription_tombstones (id, uid, deleted_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET deleted_at = $3",
            args![&sid, uid, now],
        )
        .await?;
        if let Some(m) = msg {
            insert_msgs(&mut *tx, std::slice::from_ref(m)).await?;
        }
        insert_jobs(&mut *tx, &jobs.iter().collect::<Vec<_>>()).await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn update_subscription(&self, s: &Subscription) -> DbResult<()> {
        self.db
            .execute(
                "UPDATE subscriptions SET updated_at = $2, doc = $3 WHERE id = $1",
                args![&s.id, s.updated_at, to_json(s)],
            )
            .await?;
        Ok(())
    }

    pub async fn member_ids(&self, rid: &str) -> DbResult<Vec<String>> {
        let rows = self
            .db
            .query("SELECT uid FROM subscriptions WHERE rid = $1", args![rid])
            .await?;
        Ok(rows.iter().map(|r| r.text(0)).collect())
    }

    pub async fn members(
        &self,
        rid: &str,
        page: Page,
        filter: Option<&str>,
    ) -> DbResult<(Vec<User>, i64)> {
        let pattern = filter.map(like_pattern);
        let wh = "s.rid = $1 AND ($2 IS NULL OR u.username_lower LIKE $2 ESCAPE '\\')";
        let total = self
            .count(
                &format!(
                    "SELECT COUNT(*) FROM subscriptions s JOIN users u ON u.id = s.uid WHERE {wh}"
                ),
                args![rid, pattern.clone()],
            )
            .await?;
        let rows = self
            .db
            .query(
                &format!("SELECT u.doc FROM subscriptions s JOIN users u ON u.id = s.uid WHERE {wh} ORDER BY u.username_lower LIMIT $3 OFFSET $4"),
                args![rid, pattern, page.count, page.offset],
            )
            .await?;
        Ok((
            rows.iter().map(|r| r.json(0)).collect::<DbResult<_>>()?,
            total,
        ))
    }

    // ---- messages ---------------------------------------------------------------------------------------

    /// Inserts messages and bumps their rooms' counters in one transaction. Callers batch here: one commit
    /// for many concurrent posts is what makes webhook ingestion fast.
    pub async fn insert_messages(&self, msgs: &[Message]) -> DbResult<()> {
        let mut tx = self.db.begin().await?;
        insert_msgs(&mut *tx, msgs).await?;
        tx.commit().await
    }

    pub async fn message_by_id(&self, id: &str) -> DbResult<Option<Message>> {
        let rows = self
            .db
            .query("SELECT doc FROM messages WHERE id = $1", args![id])
            .await?;
        rows.first().map(|r| r.json(0)).transpose()
    }

    pub async fn update_message(&self, m: &Message) -> DbResult<()> {
        self.update_message_with_jobs(m, &[]).await
    }

    /// [`Self::update_message`] plus outgoing delivery jobs (`sendMessage` with `runOnEdits`).
    pub async fn update_message_with_jobs(
        &self,
        m: &Message,
        jobs: &[DeliveryJob],
    ) -> DbResult<()> {
        let mut tx = self.db.begin().await?;
        insert_jobs(&mut *tx, &jobs.iter().collect::<Vec<_>>()).await?;
        tx.execute(
            "UPDATE messages SET updated_at = $2, doc = $3 WHERE id = $1",
            args![&m.id, m.updated_at, to_json(m)],
        )
        .await?;
        // Keep the room's embedded lastMessage in step when the edited message is the latest one.
        tx.execute(
            "UPDATE rooms SET last_message = $1 WHERE id = $2 AND lm = $3",
            args![to_json(m), &m.rid, m.ts],
        )
        .await?;
        tx.commit().await
    }

    pub async fn delete_message(&self, m: &Message) -> DbResult<()> {
        let mut tx = self.db.begin().await?;
        tx.execute("DELETE FROM messages WHERE id = $1", args![&m.id])
            .await?;
        tx.execute(
            "UPDATE rooms SET msgs = msgs - 1 WHERE id = $1",
            args![&m.rid],
        )
        .await?;
        tx.commit().await
    }

    /// A page of a room's messages, newest first unless `ascending`, with the total.
    pub async fn messages(&self, f: &MessageFilter, page: Page) -> DbResult<(Vec<Message>, i64)> {
        let (lt, gt) = if f.inclusive {
            ("<=", ">=")
        } else {
            ("<", ">")
        };
        let wh = format!(
            "rid = $1 AND ($2 IS NULL OR ts {lt} $2) AND ($3 IS NULL OR ts {gt} $3) AND ($4 = 1 OR tmid IS NULL)"
        );
        let a = args![&f.rid, f.latest, f.oldest, f.threads];
        let total = self
            .count(
                &format!("SELECT COUNT(*) FROM messages WHERE {wh}"),
                a.clone(),
            )
            .await?;
        let order = if f.ascending { "ASC" } else { "DESC" };
        // Messages posted within the same millisecond keep their insertion order.
        let seq = match self.kind() {
            BackendKind::Sqlite => "rowid",
            BackendKind::Postgres => "seq",
        };
        let mut a = a;
        a.push(page.count.into());
        a.push(page.offset.into());
        let rows = self
            .db
            .query(&format!("SELECT doc FROM messages WHERE {wh} ORDER BY ts {order}, {seq} {order} LIMIT $5 OFFSET $6"), a)
            .await?;
        Ok((
            rows.iter().map(|r| r.json(0)).collect::<DbResult<_>>()?,
            total,
        ))
    }
}

impl Store {
    // ---- integrations -----------------------------------------------------------------------------------

    pub async fn insert_integration(&self, i: &Integration) -> DbResult<()> {
        self.db
            .execute(
                "INSERT INTO integrations (id, kind, name_lower, created_by, created_at, updated_at, doc) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                args![&i.id, &i.kind, lower(&i.name), i.created_by.as_ref().map(|a| a.id.clone()), i.created_at, i.updated_at, to_json(i)],
            )
            .await?;
        Ok(())
    }

    pub async fn update_integration(&self, i: &Integration) -> DbResult<()> {
        self.db
            .execute(
                "UPDATE integrations SET name_lower = $2, updated_at = $3, doc = $4 WHERE id = $1",
                args![&i.id, lower(&i.name), i.updated_at, to_json(i)],
            )
            .await?;
        Ok(())
    }

    /// Deletes an integration and everything recorded about it.
    pub async fn delete_integration(&self, id: &str) -> DbResult<()> {
        let mut tx = self.db.begin().await?;
        tx.execute(
            "DELETE FROM hook_requests WHERE integration_id = $1",
            args![id],
        )
        .await?;
        tx.execute(
            "DELETE FROM outgoing_history WHERE integration_id = $1",
            args![id],
        )
        .await?;
        tx.execute(
            "DELETE FROM delivery_jobs WHERE integration_id = $1",
            args![id],
        )
        .await?;
        tx.execute("DELETE FROM integrations WHERE id = $1", args![id])
            .await?;
        tx.commit().await
    }

    pub async fn integration_by_id(&self, id: &str) -> DbResult<Option<Integration>> {
        let rows = self
            .db
            .query("SELECT doc FROM integrations WHERE id = $1", args![id])
            .await?;
        rows.first().map(|r| r.json(0)).transpose()
    }

    /// Integrations of the given kinds, optionally only one creator's, optionally by name substring.
    pub async fn list_integrations(
        &self,
        kinds: &[&str],
        created_by: Option<&str>,
        name_contains: Option<&str>,
        page: Page,
    ) -> DbResult<(Vec<Integration>, i64)> {
        if kinds.is_empty() {
            return Ok((vec![], 0));
        }
        let list: Vec<String> = kinds
            .iter()
            .map(|k| format!("'{}'", k.replace('\'', "")))
            .collect();
        let wh = format!(
            "kind IN ({}) AND ($1 IS NULL OR created_by = $1) AND ($2 IS NULL OR name_lower LIKE $2 ESCAPE '\\')",
            list.join(", ")
        );
        let pattern = name_contains.map(like_pattern);
        let total = self
            .count(
                &format!("SELECT COUNT(*) FROM integrations WHERE {wh}"),
                args![created_by, pattern.clone()],
            )
            .await?;
        let rows = self
            .db
            .query(
                &format!("SELECT doc FROM integrations WHERE {wh} ORDER BY created_at, id LIMIT $3 OFFSET $4"),
                args![created_by, pattern, page.count, page.offset],
            )
            .await?;
        Ok((
            rows.iter().map(|r| r.json(0)).collect::<DbResult<_>>()?,
            total,
        ))
    }

    // ---- recorded hook requests -------------------------------------------------------------------------

    pub async fn hook_requests(
        &self,
        integration_id: &str,
        page: Page,
    ) -> DbResult<(Vec<HookRequest>, i64)> {
        let total = self
            .count(
                "SELECT COUNT(*) FROM hook_requests WHERE integration_id = $1",
                args![integration_id],
            )
            .await?;
        let seq = self.seq_column();
        let rows = self
            .db
            .query(
                &format!("SELECT doc FROM hook_requests WHERE integration_id = $1 ORDER BY created_at DESC, {seq} DESC LIMIT $2 OFFSET $3"),
                args![integration_id, page.count, page.offset],
            )
            .await?;
        Ok((
            rows.iter().map(|r| r.json(0)).collect::<DbResult<_>>()?,
            total,
        ))
    }

    pub async fn hook_request(
        &self,
        integration_id: &str,
        id: &str,
    ) -> DbResult<Option<HookRequest>> {
        let rows = self
            .db
            .query(
                "SELECT doc FROM hook_requests WHERE integration_id = $1 AND id = $2",
                args![integration_id, id],
            )
            .await?;
        rows.first().map(|r| r.json(0)).transpose()
    }

    pub async fn clear_hook_requests(&self, integration_id: &str) -> DbResult<()> {
        self.db
            .execute(
                "DELETE FROM hook_requests WHERE integration_id = $1",
                args![integration_id],
            )
            .await?;
        Ok(())
    }

    /// The column that orders rows inserted in the same millisecond.
    fn seq_column(&self) -> &'static str {
        self.kind().seq_column()
    }

    /// Applies a batch of independent writes in one transaction (see [`batch`]): messages with their room
    /// counters, recorded hook requests, and the trimming of each touched integration's request history to
    /// its newest `keep_requests`.
    pub async fn apply_writes(&self, ops: &[&batch::WriteOp], keep_requests: i64) -> DbResult<()> {
        self.db
            .write_batch(group_statements(self.kind(), ops, keep_requests))
            .await
    }

    /// Where this backend takes group commits directly, when it gathers them itself (see [`batch`]).
    pub(crate) fn group_sink(&self, keep_requests: i64) -> Option<batch::Sink> {
        self.db.group_sink(keep_requests)
    }
}

/// The statements of one group commit (see [`Store::apply_writes`]).
pub(crate) fn group_statements(
    kind: BackendKind,
    ops: &[&batch::WriteOp],
    keep_requests: i64,
) -> Vec<Stmt> {
    let mut msgs: Vec<&MessageRow> = Vec::new();
    let mut records: Vec<&HookRequest> = Vec::new();
    let mut jobs: Vec<&DeliveryJob> = Vec::new();
    let mut done: Vec<&str> = Vec::new();
    let mut retries: Vec<(&str, i64)> = Vec::new();
    let mut history: Vec<&HistoryRow> = Vec::new();
    for op in ops {
        match *op {
            batch::WriteOp::Message(m) => msgs.push(m),
            batch::WriteOp::HookRequest(r) => records.push(r),
            batch::WriteOp::Job(j) => jobs.push(j),
            batch::WriteOp::JobDone(id) => done.push(id),
            batch::WriteOp::JobRetry { id, due_at } => retries.push((id, *due_at)),
            batch::WriteOp::History(h) => history.push(h),
        }
    }
    // SQLite binds numbered parameters directly and caches one prepared statement per shape, so one
    // row per statement is cheapest there; PostgreSQL pays a network round trip per statement.
    let per = match kind {
        BackendKind::Sqlite => 1,
        BackendKind::Postgres => ROWS_PER_STATEMENT,
    };
    let mut stmts = Vec::new();
    msg_stmts(&mut stmts, &msgs, per);
    job_stmts(&mut stmts, &jobs, per);
    for chunk in done.chunks(per) {
        let list = (1..=chunk.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        stmts.push(Stmt::new(
            format!("DELETE FROM delivery_jobs WHERE id IN ({list})"),
            chunk.iter().map(|id| Arg::from(*id)).collect(),
        ));
    }
    for (id, due_at) in retries {
        stmts.push(Stmt::fixed(
            "UPDATE delivery_jobs SET due_at = $2 WHERE id = $1",
            args![id, due_at],
        ));
    }
    let mut a = Vec::with_capacity(history.len() * 5);
    for h in &history {
        a.extend(args![
            &h.id,
            &h.integration_id,
            h.created_at,
            h.updated_at,
            h.doc.as_str()
        ]);
    }
    insert_rows(
        &mut stmts,
        "INSERT INTO outgoing_history (id, integration_id, created_at, updated_at, doc) VALUES ",
        " ON CONFLICT (id) DO UPDATE SET updated_at = excluded.updated_at, doc = excluded.doc",
        5,
        a,
        per,
    );
    let mut a = Vec::with_capacity(records.len() * 4);
    for r in &records {
        a.extend(args![&r.id, &r.integration_id, r.created_at, to_json(r)]);
    }
    insert_rows(
        &mut stmts,
        "INSERT INTO hook_requests (id, integration_id, created_at, doc) VALUES ",
        "",
        4,
        a,
        per,
    );
    let mut trimmed: Vec<&str> = records.iter().map(|r| r.integration_id.as_str()).collect();
    trimmed.sort_unstable();
    trimmed.dedup();
    let seq = match kind {
        BackendKind::Sqlite => "rowid",
        BackendKind::Postgres => "seq",
    };
    for id in trimmed {
        stmts.push(Stmt::new(
            format!(
                "DELETE FROM hook_requests WHERE integration_id = $1 AND id NOT IN \
                 (SELECT id FROM hook_requests WHERE integration_id = $1 ORDER BY created_at DESC, {seq} DESC LIMIT $2)"
            ),
            args![id, keep_requests],
        ));
    }
    stmts
}

impl Store {
    // ---- outgoing delivery queue and history ------------------------------------------------------------

    /// Claims up to `limit` due jobs: each becomes invisible to other claimers until `lease_until` (when a
    /// worker that died holding it lets it be claimed again) and its attempt counter goes up by one. On
    /// PostgreSQL, `FOR UPDATE SKIP LOCKED` lets several nodes claim concurrently without waiting for each
    /// other; SQLite has a single writer, so the one statement is already exclusive.
    pub async fn claim_jobs(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> DbResult<Vec<DeliveryJob>> {
        let lock = match self.kind() {
            BackendKind::Sqlite => "",
            BackendKind::Postgres => "FOR UPDATE SKIP LOCKED",
        };
        let sql = format!(
            "UPDATE delivery_jobs SET due_at = $1, attempts = attempts + 1 WHERE id IN \
             (SELECT id FROM delivery_jobs WHERE due_at <= $2 ORDER BY due_at LIMIT $3 {lock}) \
             RETURNING attempts, doc"
        );
        let mut tx = self.db.begin().await?;
        let rows = tx.query(&sql, args![lease_until, now, limit]).await?;
        tx.commit().await?;
        let mut jobs = Vec::with_capacity(rows.len());
        for r in &rows {
            let mut j: DeliveryJob = r.json(1)?;
            j.attempts = r.int(0);
            jobs.push(j);
        }
        jobs.sort_by_key(|j| (j.created_at, j.due_at));
        Ok(jobs)
    }

    /// Adds one job outside any other write (replays).
    pub async fn insert_job(&self, job: &DeliveryJob) -> DbResult<()> {
        let mut tx = self.db.begin().await?;
        insert_jobs(&mut *tx, &[job]).await?;
        tx.commit().await
    }

    /// Jobs still queued for an integration (delivered ones are gone).
    pub async fn pending_jobs(&self, integration_id: &str) -> DbResult<i64> {
        let rows = self
            .db
            .query(
                "SELECT COUNT(*) FROM delivery_jobs WHERE integration_id = $1",
                args![integration_id],
            )
            .await?;
        Ok(rows.first().map(|r| r.int(0)).unwrap_or(0))
    }

    /// A page of an integration's history, most recently updated first.
    pub async fn outgoing_history(
        &self,
        integration_id: &str,
        page: Page,
    ) -> DbResult<(Vec<OutgoingHistory>, i64)> {
        let total = self
            .count(
                "SELECT COUNT(*) FROM outgoing_history WHERE integration_id = $1",
                args![integration_id],
            )
            .await?;
        let seq = self.seq_column();
        let rows = self
            .db
            .query(
                &format!("SELECT id, integration_id, created_at, updated_at, doc FROM outgoing_history WHERE integration_id = $1 ORDER BY updated_at DESC, {seq} DESC LIMIT $2 OFFSET $3"),
                args![integration_id, page.count, page.offset],
            )
            .await?;
        Ok((
            rows.iter().map(history_from_row).collect::<DbResult<_>>()?,
            total,
        ))
    }

    pub async fn outgoing_history_record(
        &self,
        integration_id: &str,
        id: &str,
    ) -> DbResult<Option<OutgoingHistory>> {
        let rows = self
            .db
            .query(
                "SELECT id, integration_id, created_at, updated_at, doc FROM outgoing_history WHERE integration_id = $1 AND id = $2",
                args![integration_id, id],
            )
            .await?;
        rows.first().map(history_from_row).transpose()
    }

    pub async fn clear_outgoing_history(&self, integration_id: &str) -> DbResult<()> {
        self.db
            .execute(
                "DELETE FROM outgoing_history WHERE integration_id = $1",
                args![integration_id],
            )
            .await?;
        Ok(())
    }

    /// Deletes history records last updated before `before` (the retention period); returns how many.
    pub async fn purge_outgoing_history(&self, before: i64) -> DbResult<u64> {
        self.db
            .execute(
                "DELETE FROM outgoing_history WHERE updated_at < $1",
                args![before],
            )
            .await
    }

    /// Every outgoing integration (for the in-memory trigger registry).
    pub async fn outgoing_integrations(&self) -> DbResult<Vec<Integration>> {
        let rows = self
            .db
            .query(
                "SELECT doc FROM integrations WHERE kind = 'webhook-outgoing' ORDER BY created_at, id",
                vec![],
            )
            .await?;
        rows.iter().map(|r| r.json(0)).collect()
    }
}

fn history_from_row(r: &Row) -> DbResult<OutgoingHistory> {
    Ok(OutgoingHistory {
        id: r.text(0),
        integration_id: r.text(1),
        created_at: r.int(2),
        updated_at: r.int(3),
        doc: r.json(4)?,
    })
}

/// Inserts delivery jobs (multi-row), inside the transaction of the event that caused them.
async fn insert_jobs(tx: &mut dyn Tx, jobs: &[&DeliveryJob]) -> DbResult<()> {
    let mut stmts = Vec::new();
    job_stmts(&mut stmts, jobs, ROWS_PER_STATEMENT);
    run_in(tx, stmts).await
}

fn job_stmts(out: &mut Vec<Stmt>, jobs: &[&DeliveryJob], per: usize) {
    let mut a = Vec::with_capacity(jobs.len() * 5);
    for j in jobs {
        a.extend(args![
            &j.id,
            &j.integration_id,
            j.due_at,
            j.created_at,
            to_json(j)
        ]);
    }
    insert_rows(
        out,
        "INSERT INTO delivery_jobs (id, integration_id, due_at, created_at, doc) VALUES ",
        "",
        5,
        a,
        per,
    );
}

/// Runs statements one after another inside an open transaction.
async fn run_in(tx: &mut dyn Tx, stmts: Vec<Stmt>) -> DbResult<()> {
    for s in stmts {
        tx.execute(&s.sql, s.args).await?;
    }
    Ok(())
}

/// Appends INSERTs of `args` (rows of `cols` values, flattened) with up to `per` rows per statement:
/// `{head}($1, $2), ($3, $4){tail}`.
fn insert_rows(
    out: &mut Vec<Stmt>,
    head: &str,
    tail: &str,
    cols: usize,
    args: Vec<Arg>,
    per: usize,
) {
    if args.is_empty() {
        return;
    }
    let mut args = args.into_iter();
    let rows = args.len() / cols;
    let mut done = 0;
    while done < rows {
        let n = per.min(rows - done);
        let chunk: Vec<Arg> = args.by_ref().take(n * cols).collect();
        out.push(Stmt::new(
            format!("{head}{}{tail}", placeholders(n, cols)),
            chunk,
        ));
        done += n;
    }
}

/// Rows per multi-row INSERT on PostgreSQL (and inside explicit transactions), where every statement is a
/// round trip.
const ROWS_PER_STATEMENT: usize = 32;

/// `($1, $2, $3), ($4, $5, $6)` for `rows` rows of `cols` parameters.
fn placeholders(rows: usize, cols: usize) -> String {
    let mut out = String::with_capacity(rows * cols * 5);
    for r in 0..rows {
        if r > 0 {
            out.push_str(", ");
        }
        out.push('(');
        for c in 0..cols {
            if c > 0 {
                out.push_str(", ");
            }
            out.push('$');
            out.push_str(&(r * cols + c + 1).to_string());
        }
        out.push(')');
    }
    out
}

/// Sort orders for room lists.
#[derive(Clone, Copy, Debug)]
pub enum RoomSort {
    NameAsc,
    NameDesc,
    UpdatedDesc,
    CreatedAsc,
    MsgsDesc,
}

impl RoomSort {
    fn sql(self) -> &'static str {
        match self {
            RoomSort::NameAsc => "r.name_lower ASC, r.id ASC",
            RoomSort::NameDesc => "r.name_lower DESC, r.id DESC",
            RoomSort::UpdatedDesc => "r.updated_at DESC, r.id DESC",
            RoomSort::CreatedAsc => "r.ts ASC, r.id ASC",
            RoomSort::MsgsDesc => "r.msgs DESC, r.id ASC",
        }
    }
}

async fn insert_subs(tx: &mut dyn Tx, subs: &[Subscription]) -> DbResult<()> {
    for s in subs {
        tx.execute(
            "INSERT INTO subscriptions (id, rid, uid, updated_at, doc) VALUES ($1, $2, $3, $4, $5)",
            args![&s.id, &s.rid, &s.u.id, s.updated_at, to_json(s)],
        )
        .await?;
        tx.execute(
            "UPDATE rooms SET users_count = users_count + 1, updated_at = $2 WHERE id = $1",
            args![&s.rid, s.updated_at],
        )
        .await?;
    }
    Ok(())
}

async fn insert_msgs(tx: &mut dyn Tx, msgs: &[Message]) -> DbResult<()> {
    let rows: Vec<MessageRow> = msgs.iter().map(MessageRow::of).collect();
    let refs: Vec<&MessageRow> = rows.iter().collect();
    insert_msgs_ref(tx, &refs).await
}

/// Inserts messages (multi-row) and bumps each room's counters once.
async fn insert_msgs_ref(tx: &mut dyn Tx, msgs: &[&MessageRow]) -> DbResult<()> {
    let mut stmts = Vec::new();
    msg_stmts(&mut stmts, msgs, ROWS_PER_STATEMENT);
    run_in(tx, stmts).await
}

/// A message as a write stores it: its indexed columns and its serialised document. Group-commit callers
/// build it themselves, so the serialising happens on their threads rather than the single writer's.
#[derive(Clone, Debug)]
pub struct MessageRow {
    pub id: String,
    pub rid: String,
    pub ts: i64,
    pub tmid: Option<String>,
    pub t: Option<String>,
    pub updated_at: i64,
    pub doc: String,
}

impl MessageRow {
    pub fn of(m: &Message) -> MessageRow {
        MessageRow {
            id: m.id.clone(),
            rid: m.rid.clone(),
            ts: m.ts,
            tmid: m.tmid.clone(),
            t: m.t.clone(),
            updated_at: m.updated_at,
            doc: to_json(m),
        }
    }
}

/// An outgoing history record as a write stores it, serialised by the caller (see [`MessageRow`]).
#[derive(Clone, Debug)]
pub struct HistoryRow {
    pub id: String,
    pub integration_id: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub doc: String,
}

impl HistoryRow {
    pub fn of(h: &OutgoingHistory) -> HistoryRow {
        HistoryRow {
            id: h.id.clone(),
            integration_id: h.integration_id.clone(),
            created_at: h.created_at,
            updated_at: h.updated_at,
            doc: to_json(&h.doc),
        }
    }
}

/// The room counter updates a group of new messages needs: per room, how many messages it gained and
/// which of them (an index into `msgs`) is the newest, to become its `lastMessage`.
pub(crate) fn room_counters<'a>(msgs: &[&'a MessageRow]) -> Vec<(&'a str, i64, usize)> {
    let mut rooms: Vec<(&str, i64, usize)> = Vec::new();
    for (i, m) in msgs.iter().enumerate() {
        match rooms.iter_mut().find(|(rid, _, _)| *rid == m.rid) {
            Some(entry) => {
                entry.1 += 1;
                if m.ts >= msgs[entry.2].ts {
                    entry.2 = i;
                }
            }
            None => rooms.push((&m.rid, 1, i)),
        }
    }
    rooms
}

/// SQL of the room counter update, shared by both backends' group commits. Messages are stamped when they
/// are made, and concurrent requests can reach the writer out of that order (or a failed group is applied
/// again job by job), so a group's newest message replaces the room's `lastMessage` only when it is not
/// older than the one already there.
pub(crate) const ROOM_COUNTER_SQL: &str = "UPDATE rooms SET msgs = msgs + $2, \
     last_message = CASE WHEN lm IS NULL OR lm <= $3 THEN $4 ELSE last_message END, \
     lm = CASE WHEN lm IS NULL OR lm < $3 THEN $3 ELSE lm END, \
     updated_at = CASE WHEN updated_at < $3 THEN $3 ELSE updated_at END WHERE id = $1";

/// The head of every message insert; the rows' placeholders follow (both backends' group commits).
pub(crate) const MESSAGE_INSERT: &str =
    "INSERT INTO messages (id, rid, ts, tmid, t, updated_at, doc) VALUES ";

fn msg_stmts(out: &mut Vec<Stmt>, msgs: &[&MessageRow], per: usize) {
    if msgs.is_empty() {
        return;
    }
    // One counter update per room: the count, and the newest message as `lastMessage`.
    let counters: Vec<Stmt> = room_counters(msgs)
        .into_iter()
        .map(|(rid, n, last)| {
            Stmt::fixed(
                ROOM_COUNTER_SQL,
                args![rid, n, msgs[last].ts, msgs[last].doc.as_str()],
            )
        })
        .collect();
    let mut a = Vec::with_capacity(msgs.len() * 7);
    for m in msgs {
        a.extend(args![
            &m.id,
            &m.rid,
            m.ts,
            m.tmid.clone(),
            m.t.clone(),
            m.updated_at,
            m.doc.as_str()
        ]);
    }
    insert_rows(out, MESSAGE_INSERT, "", 7, a, per);
    out.extend(counters);
}
