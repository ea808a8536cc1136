//! The SQLite backend: the zero-setup default. WAL mode; one writer connection (SQLite allows one writer at
//! a time, and a single connection avoids `SQLITE_BUSY` upgrade deadlocks between concurrent transactions)
//! and a small pool of readers that see every committed write.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Row as _, Sqlite, SqlitePool, TypeInfo, ValueRef};

use super::{Arg, Backend, BackendKind, DbError, DbResult, Row, Tx, Val};

pub struct SqliteBackend {
    /// The one connection that writes.
    writer: SqlitePool,
    /// Connections for reads outside transactions.
    reader: SqlitePool,
}

impl SqliteBackend {
    pub async fn connect(url: &str, synchronous: &str) -> anyhow::Result<SqliteBackend> {
        let sync = match synchronous.to_ascii_lowercase().as_str() {
            "off" => SqliteSynchronous::Off,
            "normal" => SqliteSynchronous::Normal,
            "extra" => SqliteSynchronous::Extra,
            _ => SqliteSynchronous::Full,
        };
        let opts = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(sync)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(opts.clone())
            .await?;
        sqlx::migrate!("migrations/sqlite").run(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(opts.read_only(true))
            .await?;
        Ok(SqliteBackend { writer, reader })
    }
}

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
        let r = bind(sql, args)
            .execute(&self.writer)
            .await
            .map_err(DbError::from_sqlx)?;
        Ok(r.rows_affected())
    }

    async fn query(&self, sql: &str, args: Vec<Arg>) -> DbResult<Vec<Row>> {
        let rows = bind(sql, args)
            .fetch_all(&self.reader)
            .await
            .map_err(DbError::from_sqlx)?;
        Ok(rows.iter().map(decode).collect())
    }

    async fn begin(&self) -> DbResult<Box<dyn Tx>> {
        let tx = self.writer.begin().await.map_err(DbError::from_sqlx)?;
        Ok(Box::new(SqliteTx(tx)))
    }

    async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }
}

struct SqliteTx(sqlx::Transaction<'static, Sqlite>);

#[async_trait]
impl Tx for SqliteTx {
    async fn execute(&mut self, sql: &str, args: Vec<Arg>) -> DbResult<u64> {
        let r = bind(sql, args)
            .execute(&mut *self.0)
            .await
            .map_err(DbError::from_sqlx)?;
        Ok(r.rows_affected())
    }

    async fn query(&mut self, sql: &str, args: Vec<Arg>) -> DbResult<Vec<Row>> {
        let rows = bind(sql, args)
            .fetch_all(&mut *self.0)
            .await
            .map_err(DbError::from_sqlx)?;
        Ok(rows.iter().map(decode).collect())
    }

    async fn commit(self: Box<Self>) -> DbResult<()> {
        self.0.commit().await.map_err(DbError::from_sqlx)
    }
}
