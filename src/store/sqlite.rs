//! The SQLite backend: the zero-setup default. WAL mode; one writer connection (SQLite allows one writer at
//! a time, and a single connection avoids `SQLITE_BUSY` upgrade deadlocks between concurrent transactions)
//! and a small pool of readers that see every committed write.
//!
//! The writer is a plain thread owning a synchronous connection. Every write — a statement, a transaction
//! statement by statement, or a whole group commit — is one message to it, run with cached prepared
//! statements; an async driver would pay a channel round trip per statement, and that round trip, not
//! SQLite, was what bounded webhook throughput. The thread also gathers group commits itself (see
//! [`super::batch`]): jobs queue on its channel, and whatever queued while the last commit ran goes into the
//! next, answered straight from this thread, with no task in between. Readers stay on sqlx's pool, off the
//! writer's thread.

use std::str::FromStr;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::types::ValueRef;
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Row as _, Sqlite, SqlitePool, TypeInfo, ValueRef as _};
use tokio::sync::{oneshot, Mutex, OwnedMutexGuard};

use super::{batch, Arg, Backend, BackendKind, DbError, DbResult, Row, Stmt, Tx, Val};

pub struct SqliteBackend {
    writer: Writer,
    /// Connections for reads outside transactions.
    reader: SqlitePool,
}

impl SqliteBackend {
    pub async fn connect(url: &str, synchronous: &str) -> anyhow::Result<SqliteBackend> {
        let (sync, sync_name) = match synchronous.to_ascii_lowercase().as_str() {
            "off" => (SqliteSynchronous::Off, "OFF"),
            "normal" => (SqliteSynchronous::Normal, "NORMAL"),
            "extra" => (SqliteSynchronous::Extra, "EXTRA"),
            _ => (SqliteSynchronous::Full, "FULL"),
        };
        let opts = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(sync)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        // Migrations run through sqlx (they are embedded with its macro) on a connection used only for them.
        let migrator = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opts.clone())
            .await?;
        sqlx::migrate!("migrations/sqlite").run(&migrator).await?;
        migrator.close().await;

        let path = opts.get_filename().to_path_buf();
        let pragmas = format!(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = {sync_name}; PRAGMA foreign_keys = ON; \
             PRAGMA busy_timeout = 10000;"
        );
        // Under FULL and EXTRA the WAL is synced before each commit becomes visible, which is what lets
        // the writer's VFS gather a commit's frames into one write (see `sqlite_vfs`).
        let gather_frames = matches!(sync, SqliteSynchronous::Full | SqliteSynchronous::Extra);
        let writer = Writer::start(path, pragmas, gather_frames)?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(opts.read_only(true))
            .await?;
        Ok(SqliteBackend { writer, reader })
    }
}

// ---- the writer thread ----------------------------------------------------------------------------------

enum Cmd {
    Execute(Stmt, oneshot::Sender<DbResult<u64>>),
    Query(Stmt, oneshot::Sender<DbResult<Vec<Row>>>),
    /// Statements applied in one transaction, all or nothing.
    Batch(Vec<Stmt>, oneshot::Sender<DbResult<()>>),
    /// A job for the next group commit, and how many recorded requests each hook keeps.
    Group(batch::Job, i64),
    /// Ends a transaction opened with `BEGIN IMMEDIATE` by a [`Tx`] dropped without commit.
    Rollback,
    Close(oneshot::Sender<()>),
}

/// The handle on the writer thread. `session` gives one caller at a time the connection: a transaction holds
/// it from BEGIN to COMMIT so no other caller's statement lands inside it. Group-commit jobs skip the
/// session: the writer thread itself holds them back while a transaction is open.
struct Writer {
    tx: mpsc::Sender<Cmd>,
    session: Arc<Mutex<()>>,
}

impl Writer {
    fn start(
        path: std::path::PathBuf,
        pragmas: String,
        gather_frames: bool,
    ) -> anyhow::Result<Writer> {
        let conn = if gather_frames {
            super::sqlite_vfs::register().map_err(anyhow::Error::msg)?;
            rusqlite::Connection::open_with_flags_and_vfs(
                &path,
                rusqlite::OpenFlags::default(),
                super::sqlite_vfs::NAME,
            )?
        } else {
            rusqlite::Connection::open(&path)?
        };
        conn.execute_batch(&pragmas)?;
        conn.set_prepared_statement_cache_capacity(128);
        let (tx, rx) = mpsc::channel::<Cmd>();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || WriterThread { conn }.run(rx))?;
        Ok(Writer {
            tx,
            session: Arc::new(Mutex::new(())),
        })
    }
}

fn stopped<T>(_: T) -> DbError {
    DbError::Other("the database writer has stopped".into())
}

/// Sends the writer one command and waits for its answer.
async fn ask<T>(
    tx: &mpsc::Sender<Cmd>,
    make: impl FnOnce(oneshot::Sender<DbResult<T>>) -> Cmd,
) -> DbResult<T> {
    let (reply, rx) = oneshot::channel();
    tx.send(make(reply)).map_err(stopped)?;
    rx.await.map_err(stopped)?
}

struct WriterThread {
    conn: rusqlite::Connection,
}

impl WriterThread {
    fn run(mut self, rx: mpsc::Receiver<Cmd>) {
        let mut pending: Vec<batch::Job> = Vec::new();
        let mut keep = 0;
        loop {
            // Group jobs gather while more are queued; the group commits once the queue is empty, or before
            // the next command of another kind, so commands keep their order. Inside a transaction, they
            // wait for it to end.
            let idle = pending.is_empty() || !self.conn.is_autocommit();
            let cmd = if idle {
                rx.recv().ok()
            } else {
                match rx.try_recv() {
                    Ok(c) => Some(c),
                    Err(mpsc::TryRecvError::Empty) => {
                        self.group(std::mem::take(&mut pending), keep);
                        continue;
                    }
                    Err(mpsc::TryRecvError::Disconnected) => None,
                }
            };
            let Some(cmd) = cmd else { break };
            let is_group = matches!(cmd, Cmd::Group(..));
            if !is_group && !pending.is_empty() && self.conn.is_autocommit() {
                self.group(std::mem::take(&mut pending), keep);
            }
            match cmd {
                Cmd::Group(job, k) => {
                    keep = k;
                    pending.push(job);
                    if pending.len() >= batch::MAX_BATCH && self.conn.is_autocommit() {
                        self.group(std::mem::take(&mut pending), keep);
                    }
                }
                Cmd::Execute(s, reply) => {
                    let _ = reply.send(execute(&self.conn, &s));
                }
                Cmd::Query(s, reply) => {
                    let _ = reply.send(query(&self.conn, &s));
                }
                Cmd::Batch(stmts, reply) => {
                    let _ = reply.send(batch_tx(&self.conn, &stmts));
                }
                Cmd::Rollback => {
                    if !self.conn.is_autocommit() {
                        if let Err(e) = self.conn.execute_batch("ROLLBACK") {
                            tracing::warn!(error = %e, "rolling back an abandoned transaction failed");
                        }
                    }
                }
                Cmd::Close(reply) => {
                    drop(self.conn);
                    let _ = reply.send(());
                    return;
                }
            }
        }
        if !pending.is_empty() {
            self.group(pending, keep);
        }
    }

    /// Applies a group commit and answers its jobs. New messages, nearly all of a busy group, are bound
    /// straight from their rows; the rest goes through the shared statements of [`super::group_statements`].
    fn group(&mut self, jobs: Vec<batch::Job>, keep: i64) {
        batch::run_group(jobs, |ops| {
            let mut msgs = Vec::with_capacity(ops.len());
            let mut rest = Vec::new();
            for op in ops {
                match op {
                    batch::WriteOp::Message(m) => msgs.push(&**m),
                    other => rest.push(*other),
                }
            }
            let stmts = super::group_statements(BackendKind::Sqlite, &rest, keep);
            if msgs.is_empty() && stmts.is_empty() {
                return Ok(());
            }
            in_transaction(&self.conn, |conn| {
                insert_messages(conn, &msgs)?;
                stmts.iter().try_for_each(|s| execute(conn, s).map(drop))
            })
        });
    }
}

/// Inserts new messages and updates their rooms' counters. This is the busiest statement of the server (one
/// per hook call and chat message), so it is prepared once per group with SQLite's own `?N` parameters and
/// bound from the rows as they are: no SQL text is built, rewritten or hashed per row, and no document is
/// copied.
fn insert_messages(conn: &rusqlite::Connection, msgs: &[&super::MessageRow]) -> DbResult<()> {
    if msgs.is_empty() {
        return Ok(());
    }
    // The text is made once per group, for the statement cache's lookup; the rows reuse the statement.
    let sql = format!("{}(?1, ?2, ?3, ?4, ?5, ?6, ?7)", super::MESSAGE_INSERT);
    let mut insert = conn.prepare_cached(&sql).map_err(db_error)?;
    for m in msgs {
        insert
            .execute(rusqlite::params![
                m.id,
                m.rid,
                m.ts,
                m.tmid,
                m.t,
                m.updated_at,
                m.doc
            ])
            .map_err(db_error)?;
    }
    drop(insert);
    let mut counter = conn
        .prepare_cached(&numbered(super::ROOM_COUNTER_SQL))
        .map_err(db_error)?;
    for (rid, n, last) in super::room_counters(msgs) {
        let last = msgs[last];
        counter
            .execute(rusqlite::params![rid, n, last.ts, last.doc])
            .map_err(db_error)?;
    }
    Ok(())
}

fn batch_tx(conn: &rusqlite::Connection, stmts: &[Stmt]) -> DbResult<()> {
    in_transaction(conn, |conn| {
        stmts.iter().try_for_each(|s| execute(conn, s).map(drop))
    })
}

/// Runs `body` inside `BEGIN IMMEDIATE` … `COMMIT`, rolling back when it or the commit fails. The two
/// statements come from the statement cache: a group commit runs them thousands of times a second, and
/// parsing them each time showed up in instruction counts.
fn in_transaction(
    conn: &rusqlite::Connection,
    body: impl FnOnce(&rusqlite::Connection) -> DbResult<()>,
) -> DbResult<()> {
    let run = |sql: &str| -> rusqlite::Result<()> {
        conn.prepare_cached(sql)?.raw_execute()?;
        Ok(())
    };
    run("BEGIN IMMEDIATE").map_err(db_error)?;
    if let Err(e) = body(conn) {
        let _ = conn.execute_batch("ROLLBACK");
        return Err(e);
    }
    if let Err(e) = run("COMMIT") {
        if !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        return Err(db_error(e));
    }
    Ok(())
}

/// Prepares (from the connection's statement cache) and binds one statement. Our SQL numbers its parameters
/// `$1, $2, …` for both backends; SQLite would treat those as *names* and number them by first appearance,
/// so they are rewritten to `?1, ?2, …`, which SQLite binds by number.
fn prepare<'c>(
    conn: &'c rusqlite::Connection,
    s: &Stmt,
) -> DbResult<rusqlite::CachedStatement<'c>> {
    let sql = numbered(&s.sql);
    let mut st = conn.prepare_cached(&sql).map_err(db_error)?;
    let count = st.parameter_count();
    for (i, a) in s.args.iter().enumerate() {
        if i >= count {
            break;
        }
        let r = match a {
            Arg::Int(v) => st.raw_bind_parameter(i + 1, v),
            Arg::Text(v) => st.raw_bind_parameter(i + 1, v.as_deref()),
        };
        r.map_err(db_error)?;
    }
    Ok(st)
}

fn execute(conn: &rusqlite::Connection, s: &Stmt) -> DbResult<u64> {
    let mut st = prepare(conn, s)?;
    // `raw_execute` steps through every row, so `... RETURNING` statements run to completion as well.
    let n = st.raw_execute().map_err(db_error)?;
    Ok(n as u64)
}

fn query(conn: &rusqlite::Connection, s: &Stmt) -> DbResult<Vec<Row>> {
    let mut st = prepare(conn, s)?;
    let cols = st.column_count();
    let mut rows = st.raw_query();
    let mut out = Vec::new();
    while let Some(r) = rows.next().map_err(db_error)? {
        let mut vals = Vec::with_capacity(cols);
        for i in 0..cols {
            vals.push(match r.get_ref(i).map_err(db_error)? {
                ValueRef::Null => Val::Null,
                ValueRef::Integer(v) => Val::Int(v),
                ValueRef::Real(v) => Val::Text(v.to_string()),
                ValueRef::Text(t) | ValueRef::Blob(t) => {
                    Val::Text(crate::util::lossy(t).into_owned())
                }
            });
        }
        out.push(Row(vals));
    }
    Ok(out)
}

/// `$12` → `?12` outside string literals.
fn numbered(sql: &str) -> std::borrow::Cow<'_, str> {
    if !sql.contains('$') {
        return sql.into();
    }
    // Runs for every statement the writer executes: copy the text between the interesting bytes in one
    // piece rather than character by character.
    let bytes = sql.as_bytes();
    let mut out = String::with_capacity(sql.len());
    let mut in_string = false;
    let mut copied = 0;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'\'' => in_string = !in_string,
            b'$' if !in_string && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                out.push_str(&sql[copied..i]);
                out.push('?');
                copied = i + 1;
            }
            _ => {}
        }
    }
    out.push_str(&sql[copied..]);
    out.into()
}

fn db_error(e: rusqlite::Error) -> DbError {
    if let rusqlite::Error::SqliteFailure(f, msg) = &e {
        if f.code == rusqlite::ErrorCode::ConstraintViolation
            && matches!(
                f.extended_code,
                rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
            )
        {
            return DbError::Unique(msg.clone().unwrap_or_default());
        }
    }
    DbError::Other(e.to_string())
}

// ---- readers (sqlx) -------------------------------------------------------------------------------------

fn bind(sql: &str, args: Vec<Arg>) -> sqlx::query::Query<'_, Sqlite, SqliteArguments<'_>> {
    let mut q = sqlx::query(sql);
    for a in args {
        q = match a {
            Arg::Int(v) => q.bind(v),
            Arg::Text(v) => q.bind(v),
        };
    }
    q
}

fn decode(row: &SqliteRow) -> Row {
    let mut out = Vec::with_capacity(row.columns().len());
    for i in 0..row.columns().len() {
        let v = match row.try_get_raw(i) {
            Ok(raw) if raw.is_null() => Val::Null,
            Ok(raw) => {
                let is_int = raw.type_info().name() == "INTEGER";
                if is_int {
                    row.try_get::<i64, _>(i).map(Val::Int).unwrap_or(Val::Null)
                } else {
                    row.try_get::<String, _>(i)
                        .map(Val::Text)
                        .unwrap_or(Val::Null)
                }
            }
            Err(_) => Val::Null,
        };
        out.push(v);
    }
    Row(out)
}

#[async_trait]
impl Backend for SqliteBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::Sqlite
    }

    async fn execute(&self, sql: &str, args: Vec<Arg>) -> DbResult<u64> {
        let _session = self.writer.session.lock().await;
        let s = Stmt::new(sql, args);
        ask(&self.writer.tx, |r| Cmd::Execute(s, r)).await
    }

    async fn query(&self, sql: &str, args: Vec<Arg>) -> DbResult<Vec<Row>> {
        let rows = bind(sql, args)
            .fetch_all(&self.reader)
            .await
            .map_err(DbError::from_sqlx)?;
        Ok(rows.iter().map(decode).collect())
    }

    async fn begin(&self) -> DbResult<Box<dyn Tx>> {
        let session = self.writer.session.clone().lock_owned().await;
        // The guard exists before BEGIN is sent: a caller that gives up while waiting (a cancelled task)
        // drops it, and its rollback ends whatever was begun. Otherwise the writer would be left inside a
        // transaction nobody ends, holding every later group commit back.
        let tx = SqliteTx {
            tx: self.writer.tx.clone(),
            open: true,
            _session: session,
        };
        let s = Stmt::new("BEGIN IMMEDIATE", vec![]);
        ask(&tx.tx, |r| Cmd::Execute(s, r)).await?;
        Ok(Box::new(tx))
    }

    async fn write_batch(&self, stmts: Vec<Stmt>) -> DbResult<()> {
        if stmts.is_empty() {
            return Ok(());
        }
        let _session = self.writer.session.lock().await;
        ask(&self.writer.tx, |r| Cmd::Batch(stmts, r)).await
    }

    fn group_sink(&self, keep_requests: i64) -> Option<batch::Sink> {
        let tx = self.writer.tx.clone();
        Some(Arc::new(move |job| {
            tx.send(Cmd::Group(job, keep_requests))
                .map_err(|unsent| match unsent.0 {
                    Cmd::Group(job, _) => job,
                    _ => unreachable!("only a group job was sent"),
                })
        }))
    }

    async fn close(&self) {
        self.reader.close().await;
        let _session = self.writer.session.lock().await;
        let (reply, rx) = oneshot::channel();
        if self.writer.tx.send(Cmd::Close(reply)).is_ok() {
            let _ = rx.await;
        }
    }
}

/// A transaction on the writer thread. Holds the writer's session until it ends, so it sees no one else's
/// statements; dropped without `commit`, it asks the writer to roll back before the session passes on.
struct SqliteTx {
    tx: mpsc::Sender<Cmd>,
    open: bool,
    _session: OwnedMutexGuard<()>,
}

#[async_trait]
impl Tx for SqliteTx {
    async fn execute(&mut self, sql: &str, args: Vec<Arg>) -> DbResult<u64> {
        let s = Stmt::new(sql, args);
        ask(&self.tx, |r| Cmd::Execute(s, r)).await
    }

    async fn query(&mut self, sql: &str, args: Vec<Arg>) -> DbResult<Vec<Row>> {
        let s = Stmt::new(sql, args);
        ask(&self.tx, |r| Cmd::Query(s, r)).await
    }

    async fn commit(mut self: Box<Self>) -> DbResult<()> {
        let s = Stmt::new("COMMIT", vec![]);
        let r = ask(&self.tx, |r| Cmd::Execute(s, r)).await.map(|_| ());
        // A failed COMMIT leaves the transaction open; Drop rolls it back.
        self.open = r.is_err();
        r
    }
}

impl Drop for SqliteTx {
    fn drop(&mut self) {
        // Sent before `_session` is released (fields drop after this), so the rollback reaches the writer
        // ahead of the next session's first statement.
        if self.open {
            let _ = self.tx.send(Cmd::Rollback);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn scratch() -> (SqliteBackend, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("sb-sqlite-{}", crate::util::random_id(12)));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}", dir.join("t.db").display());
        (SqliteBackend::connect(&url, "full").await.unwrap(), dir)
    }

    #[tokio::test]
    async fn transactions_commit_roll_back_and_exclude_other_writers() {
        let (db, dir) = scratch().await;
        let insert = "INSERT INTO hook_requests (id, integration_id, created_at, doc) VALUES ($1, $2, $3, $4)";
        let count = "SELECT COUNT(*) FROM hook_requests WHERE integration_id = $1";

        // Dropped without commit: rolled back.
        let mut tx = db.begin().await.unwrap();
        tx.execute(insert, crate::store::args!["a", "i", 1, "{}"])
            .await
            .unwrap();
        assert_eq!(
            tx.query(count, crate::store::args!["i"]).await.unwrap()[0].int(0),
            1
        );
        drop(tx);
        assert_eq!(
            db.query(count, crate::store::args!["i"]).await.unwrap()[0].int(0),
            0
        );

        // A statement from elsewhere waits for the open transaction instead of landing inside it.
        let db = Arc::new(db);
        let mut tx = db.begin().await.unwrap();
        tx.execute(insert, crate::store::args!["b", "i", 2, "{}"])
            .await
            .unwrap();
        let other = {
            let db = db.clone();
            tokio::spawn(async move {
                db.execute(insert, crate::store::args!["c", "j", 3, "{}"])
                    .await
            })
        };
        tokio::task::yield_now().await;
        assert!(!other.is_finished());
        drop(tx); // rolls back "b"; "c" then commits on its own
        other.await.unwrap().unwrap();
        assert_eq!(
            db.query(count, crate::store::args!["i"]).await.unwrap()[0].int(0),
            0
        );
        assert_eq!(
            db.query(count, crate::store::args!["j"]).await.unwrap()[0].int(0),
            1
        );

        // A batch is all or nothing: a duplicate id fails it whole, as a unique violation.
        let stmts = vec![
            Stmt::new(insert, crate::store::args!["d", "k", 4, "{}"]),
            Stmt::new(insert, crate::store::args!["c", "k", 5, "{}"]),
        ];
        assert!(matches!(
            db.write_batch(stmts).await,
            Err(DbError::Unique(_))
        ));
        assert_eq!(
            db.query(count, crate::store::args!["k"]).await.unwrap()[0].int(0),
            0
        );

        // Parameters bind by number, whatever order they appear in.
        db.execute(
            "UPDATE hook_requests SET created_at = $2 WHERE id = $1",
            crate::store::args!["c", 42],
        )
        .await
        .unwrap();
        let rows = db
            .query(
                "SELECT created_at FROM hook_requests WHERE id = $1",
                crate::store::args!["c"],
            )
            .await
            .unwrap();
        assert_eq!(rows[0].int(0), 42);
        db.close().await;
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn group_commits_never_land_inside_an_open_transaction() {
        let (db, dir) = scratch().await;
        let store = crate::store::Store { db: Arc::new(db) };
        let writer = batch::BatchWriter::spawn(store.clone(), 50);
        let mut tx = store.db.begin().await.unwrap();
        tx.execute(
            "INSERT INTO hook_requests (id, integration_id, created_at, doc) VALUES ($1, $2, $3, $4)",
            crate::store::args!["a", "i", 1, "{}"],
        )
        .await
        .unwrap();
        let row = crate::store::MessageRow {
            id: "m1".into(),
            rid: "r1".into(),
            ts: 1,
            tmid: None,
            t: None,
            updated_at: 1,
            doc: "{}".into(),
        };
        let group = {
            let writer = writer.clone();
            tokio::spawn(async move {
                writer
                    .write(vec![batch::WriteOp::Message(Box::new(row))])
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!group.is_finished(), "the group waits for the transaction");
        drop(tx); // rolled back; the group then commits on its own
        group.await.unwrap().unwrap();
        let count = |sql: &'static str| {
            let store = store.clone();
            async move { store.db.query(sql, vec![]).await.unwrap()[0].int(0) }
        };
        assert_eq!(
            count("SELECT COUNT(*) FROM messages WHERE rid = 'r1'").await,
            1
        );
        assert_eq!(count("SELECT COUNT(*) FROM hook_requests").await, 0);
        store.db.close().await;
        let _ = std::fs::remove_dir_all(dir);
    }

    /// Messages bypass the shared statements on this backend, so their room bookkeeping is checked here:
    /// each room counts its new messages and keeps the newest as `lastMessage`, and a job whose message
    /// cannot be stored fails alone.
    #[tokio::test]
    async fn group_commits_count_messages_per_room() {
        let (db, dir) = scratch().await;
        let store = crate::store::Store { db: Arc::new(db) };
        for rid in ["r1", "r2"] {
            store
                .db
                .execute(
                    "INSERT INTO rooms (id, t, name_lower, ts, updated_at, doc) VALUES ($1, 'c', $1, 0, 0, '{}')",
                    crate::store::args![rid],
                )
                .await
                .unwrap();
        }
        let writer = batch::BatchWriter::spawn(store.clone(), 50);
        let row = |id: &str, rid: &str, ts: i64| {
            batch::WriteOp::Message(Box::new(crate::store::MessageRow {
                id: id.into(),
                rid: rid.into(),
                ts,
                tmid: None,
                t: None,
                updated_at: ts,
                doc: format!(r#"{{"_id":"{id}"}}"#),
            }))
        };
        // Queued together, so they usually share one group, which the duplicate "a" fails; its jobs are then
        // applied one at a time. Either way "d", committed after the newer "b", must not become r1's
        // `lastMessage`.
        let jobs = vec![
            vec![row("a", "r1", 10), row("b", "r1", 30)],
            vec![row("c", "r2", 20)],
            vec![row("a", "r2", 40)],
            vec![row("d", "r1", 25)],
        ];
        let results = futures_util::future::join_all(jobs.into_iter().map(|ops| {
            let writer = writer.clone();
            async move { writer.write(ops).await }
        }))
        .await;
        assert!(results[0].is_ok() && results[1].is_ok() && results[3].is_ok());
        assert!(matches!(results[2], Err(DbError::Unique(_))));
        let rooms = store
            .db
            .query(
                "SELECT id, msgs, lm, last_message FROM rooms ORDER BY id",
                vec![],
            )
            .await
            .unwrap();
        let room = |i: usize| (rooms[i].int(1), rooms[i].int(2), rooms[i].text(3));
        assert_eq!(room(0), (3, 30, r#"{"_id":"b"}"#.to_string()));
        assert_eq!(room(1), (1, 20, r#"{"_id":"c"}"#.to_string()));
        store.db.close().await;
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn a_transaction_given_up_while_beginning_is_rolled_back() {
        let (db, dir) = scratch().await;
        // Poll `begin` once — that sends BEGIN — and drop it before the answer is read (retried in the rare
        // case the writer answered within that first poll).
        let mut abandoned = false;
        for _ in 0..1000 {
            let mut begin = Box::pin(db.begin());
            let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
            match std::future::Future::poll(begin.as_mut(), &mut cx) {
                std::task::Poll::Pending => {
                    abandoned = true;
                    break;
                }
                std::task::Poll::Ready(tx) => drop(tx),
            }
        }
        assert!(abandoned);
        // Had the transaction stayed open, this insert would land in it and never be committed.
        db.execute(
            "INSERT INTO hook_requests (id, integration_id, created_at, doc) VALUES ($1, $2, $3, $4)",
            crate::store::args!["a", "i", 1, "{}"],
        )
        .await
        .unwrap();
        let rows = db
            .query(
                "SELECT COUNT(*) FROM hook_requests WHERE integration_id = $1",
                crate::store::args!["i"],
            )
            .await
            .unwrap();
        assert_eq!(rows[0].int(0), 1);
        db.close().await;
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn numbered_parameters_outside_strings_only() {
        assert_eq!(
            numbered(
                "UPDATE t SET a = $2 WHERE id = $1 AND j = '$1' AND k = json_extract(d, '$.x')"
            ),
            "UPDATE t SET a = ?2 WHERE id = ?1 AND j = '$1' AND k = json_extract(d, '$.x')"
        );
        assert_eq!(numbered("SELECT 1"), "SELECT 1");
        assert_eq!(
            numbered("INSERT INTO t VALUES ($1, $10), ($11, 'é$2') RETURNING $"),
            "INSERT INTO t VALUES (?1, ?10), (?11, 'é$2') RETURNING $"
        );
    }
}
