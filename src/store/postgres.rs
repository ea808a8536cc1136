//! The PostgreSQL backend, for real deployments and for several `switchboard serve` nodes sharing one
//! database. Integers are BIGINT and documents TEXT, so rows decode the same way as on SQLite.

use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgArguments, PgPoolOptions, PgRow};
use sqlx::{PgPool, Postgres, Row as _, TypeInfo, ValueRef};

use super::{Arg, Backend, BackendKind, DbError, DbResult, Row, Tx, Val};

pub struct PostgresBackend {
    pool: PgPool,
}

impl PostgresBackend {
    pub async fn connect(url: &str) -> anyhow::Result<PostgresBackend> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(30))
            .connect(url)
            .await?;
        sqlx::migrate!("migrations/postgres").run(&pool).await?;
        Ok(PostgresBackend { pool })
    }
}

fn bind(sql: &str, args: Vec<Arg>) -> sqlx::query::Query<'_, Postgres, PgArguments> {
    let mut q = sqlx::query(sql);
    for a in args {
        q = match a {
            Arg::Int(v) => q.bind(v),
            Arg::Text(v) => q.bind(v),
        };
    }
    q
}

fn decode(row: &PgRow) -> Row {
    let mut out = Vec::with_capacity(row.columns().len());
    for i in 0..row.columns().len() {
        let v = match row.try_get_raw(i) {
            Ok(raw) if raw.is_null() => Val::Null,
            Ok(raw) => match raw.type_info().name() {
                "INT8" => row.try_get::<i64, _>(i).map(Val::Int).unwrap_or(Val::Null),
                "INT4" => row
                    .try_get::<i32, _>(i)
                    .map(|v| Val::Int(v.into()))
                    .unwrap_or(Val::Null),
                "BOOL" => row
                    .try_get::<bool, _>(i)
                    .map(|v| Val::Int(v.into()))
                    .unwrap_or(Val::Null),
                _ => row
                    .try_get::<String, _>(i)
                    .map(Val::Text)
                    .unwrap_or(Val::Null),
            },
            Err(_) => Val::Null,
        };
        out.push(v);
    }
    Row(out)
}

#[async_trait]
impl Backend for PostgresBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::Postgres
    }

    async fn execute(&self, sql: &str, args: Vec<Arg>) -> DbResult<u64> {
        let r = bind(sql, args)
            .execute(&self.pool)
            .await
            .map_err(DbError::from_sqlx)?;
        Ok(r.rows_affected())
    }

    async fn query(&self, sql: &str, args: Vec<Arg>) -> DbResult<Vec<Row>> {
        let rows = bind(sql, args)
            .fetch_all(&self.pool)
            .await
            .map_err(DbError::from_sqlx)?;
        Ok(rows.iter().map(decode).collect())
    }

    async fn begin(&self) -> DbResult<Box<dyn Tx>> {
        let tx = self.pool.begin().await.map_err(DbError::from_sqlx)?;
        Ok(Box::new(PgTx(tx)))
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

struct PgTx(sqlx::Transaction<'static, Postgres>);

#[async_trait]
impl Tx for PgTx {
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
