//! The database layer: a pool per backend chosen from the `database_url` scheme,
//! a small portable query interface (`Conn::query`, `Conn::execute`, `Conn::insert`)
//! that every store module uses, and the helpers that run blocking work off the
//! async executor. Dialect differences live here and in `migrations`, nowhere else.

pub mod migrations;
#[cfg(feature = "mysql")]
mod mysql;
#[cfg(feature = "postgres")]
mod postgres;
pub mod search;
mod sqlite;
mod value;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

pub use value::{FromValue, Row, Value};

use crate::error::{Error, Result};

/// Builds a `&[Value]` parameter list: `params![id, "text", Some(3)]`.
#[macro_export]
macro_rules! params {
    () => { &[] as &[$crate::db::Value] };
    ($($v:expr),+ $(,)?) => { &[$($crate::db::Value::from($v)),+] as &[$crate::db::Value] };
}

/// Where the database lives, parsed from `database_url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    SqliteFile(PathBuf),
    #[cfg(feature = "postgres")]
    Postgres(String),
    #[cfg(feature = "mysql")]
    Mysql(String),
}

/// The SQL dialects Carnet speaks, for the few places that differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    Mysql,
}

impl Location {
    pub fn parse(url: &str) -> Result<Location> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(Error::Config(
                    "database_url sqlite:// needs a file path".into(),
                ));
            }
            return Ok(Location::SqliteFile(PathBuf::from(path)));
        }
        for (scheme, feature) in [
            ("postgres", "postgres"),
            ("postgresql", "postgres"),
            ("mysql", "mysql"),
            ("mariadb", "mysql"),
        ] {
            if url.starts_with(&format!("{scheme}://")) {
                return Self::server(url, scheme, feature);
            }
        }
        Err(Error::Config(format!(
            "database_url must start with sqlite://, postgres:// or mysql:// (got {:?})",
            url.split("://").next().unwrap_or(url)
        )))
    }

    /// A database server URL, if this binary was built with its feature.
    #[allow(unused_variables)]
    fn server(url: &str, scheme: &str, feature: &str) -> Result<Location> {
        #[cfg(feature = "postgres")]
        if feature == "postgres" {
            return Ok(Location::Postgres(url.to_owned()));
        }
        #[cfg(feature = "mysql")]
        if feature == "mysql" {
            // The driver only knows `mysql://`; MariaDB speaks the same protocol.
            return Ok(Location::Mysql(url.replacen("mariadb://", "mysql://", 1)));
        }
        Err(Error::Config(format!(
            "database_url uses {scheme}:// but this binary was built without the `{feature}` feature (cargo build --release --features {feature})"
        )))
    }
}

enum Pool {
    Sqlite(sqlite::Pool),
    #[cfg(feature = "postgres")]
    Postgres(postgres::Pool),
    #[cfg(feature = "mysql")]
    Mysql(mysql::Pool),
}

/// A cheap, clonable handle on the connection pool.
#[derive(Clone)]
pub struct Db {
    pool: Arc<Pool>,
    writes: Arc<AtomicU64>,
}

/// One pooled connection of any backend, counting the writes it makes.
pub struct Conn {
    link: Link,
    writes: Arc<AtomicU64>,
}

/// The driver's connection. (Sizes differ by backend; a connection is checked
/// out once per unit of work and never copied around, so no boxing.)
#[allow(clippy::large_enum_variant)]
pub(crate) enum Link {
    Sqlite(sqlite::Conn),
    #[cfg(feature = "postgres")]
    Postgres(postgres::Conn),
    #[cfg(feature = "mysql")]
    Mysql(mysql::Conn),
}

impl Db {
    /// Opens (creating if needed) the database named by `url`. Migrations are not run.
    pub fn open(url: &str) -> Result<Db> {
        let pool = match Location::parse(url)? {
            Location::SqliteFile(path) => Pool::Sqlite(sqlite::pool(&path)?),
            #[cfg(feature = "postgres")]
            Location::Postgres(url) => Pool::Postgres(postgres::pool(&url)?),
            #[cfg(feature = "mysql")]
            Location::Mysql(url) => Pool::Mysql(mysql::pool(&url)?),
        };
        Ok(Db {
            pool: Arc::new(pool),
            writes: Arc::new(AtomicU64::new(0)),
        })
    }

    /// A connection for blocking code (CLI commands, background tasks).
    pub fn conn(&self) -> Result<Conn> {
        let link = match &*self.pool {
            Pool::Sqlite(pool) => {
                let c = pool.get()?;
                // Given back inside a transaction (a panic while it was open):
                // roll it back rather than let this user join it.
                if !c.is_autocommit() {
                    c.execute_batch("ROLLBACK")?;
                }
                Link::Sqlite(c)
            }
            #[cfg(feature = "postgres")]
            Pool::Postgres(pool) => Link::Postgres(pool.get()?),
            #[cfg(feature = "mysql")]
            Pool::Mysql(pool) => Link::Mysql(pool.get()?),
        };
        Ok(Conn {
            link,
            writes: self.writes.clone(),
        })
    }

    /// How many writes this process has made through the pool: a number that
    /// changes after every write and every commit, so an unchanged number
    /// means nothing was written here meanwhile (what other processes write
    /// is not counted).
    pub fn writes(&self) -> u64 {
        self.writes.load(Ordering::Acquire)
    }

    pub fn backend(&self) -> Backend {
        match &*self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            #[cfg(feature = "postgres")]
            Pool::Postgres(_) => Backend::Postgres,
            #[cfg(feature = "mysql")]
            Pool::Mysql(_) => Backend::Mysql,
        }
    }

    /// Runs blocking database work on Tokio's blocking pool, never on the async executor.
    pub async fn run<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&mut Conn) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let db = self.clone();
        rocket::tokio::task::spawn_blocking(move || {
            let mut conn = db.conn()?;
            f(&mut conn)
        })
        .await
        .map_err(|e| Error::internal("blocking task", e))?
    }

    /// Consistent online copy of the whole database into `dest` (SQLite backup API),
    /// written to a temporary file first and renamed into place. Database servers
    /// have their own tools, which the error names.
    pub fn backup(&self, dest: &std::path::Path) -> Result<()> {
        match &*self.pool {
            Pool::Sqlite(pool) => sqlite::backup(pool, dest),
            #[cfg(feature = "postgres")]
            Pool::Postgres(_) => Err(Error::invalid(
                "backup copies SQLite databases only; on PostgreSQL use pg_dump (e.g. pg_dump -Fc DBNAME > carnet.dump), or carnet export for a portable copy",
            )),
            #[cfg(feature = "mysql")]
            Pool::Mysql(_) => Err(Error::invalid(
                "backup copies SQLite databases only; on MySQL/MariaDB use mariadb-dump or mysqldump (--single-transaction DBNAME > carnet.sql), or carnet export for a portable copy",
            )),
        }
    }
}

impl Conn {
    /// Runs a query and returns every row.
    pub fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        match &mut self.link {
            Link::Sqlite(c) => sqlite::query(c, sql, params),
            #[cfg(feature = "postgres")]
            Link::Postgres(c) => postgres::query(c, sql, params),
            #[cfg(feature = "mysql")]
            Link::Mysql(c) => mysql::query(c, sql, params),
        }
    }

    /// Runs a query that returns at most one row.
    pub fn query_opt(&mut self, sql: &str, params: &[Value]) -> Result<Option<Row>> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// Checks that the database answers (`/healthz`).
    pub fn ping(&mut self) -> Result<()> {
        match self.query_scalar::<i64>("SELECT 1", &[])? {
            1 => Ok(()),
            n => Err(Error::internal("ping", format!("SELECT 1 gave {n}"))),
        }
    }

    /// Runs a query that returns exactly one row with one value (`COUNT(*)`…).
    pub fn query_scalar<T: FromValue>(&mut self, sql: &str, params: &[Value]) -> Result<T> {
        match self.query_opt(sql, params)? {
            Some(row) => row.get(0),
            None => Err(Error::internal("query_scalar", format!("no row for {sql}"))),
        }
    }

    /// Runs a statement and returns how many rows it changed.
    pub fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        let changed = match &mut self.link {
            Link::Sqlite(c) => sqlite::execute(c, sql, params),
            #[cfg(feature = "postgres")]
            Link::Postgres(c) => postgres::execute(c, sql, params),
            #[cfg(feature = "mysql")]
            Link::Mysql(c) => mysql::execute(c, sql, params),
        }?;
        self.wrote();
        Ok(changed)
    }

    /// Runs an `INSERT` and returns the new row's `id`.
    pub fn insert(&mut self, sql: &str, params: &[Value]) -> Result<i64> {
        let id = match &mut self.link {
            Link::Sqlite(c) => sqlite::insert(c, sql, params),
            #[cfg(feature = "postgres")]
            Link::Postgres(c) => postgres::insert(c, sql, params),
            #[cfg(feature = "mysql")]
            Link::Mysql(c) => mysql::insert(c, sql, params),
        }?;
        self.wrote();
        Ok(id)
    }

    fn wrote(&self) {
        self.writes.fetch_add(1, Ordering::Release);
    }

    /// Runs `f` inside a transaction: committed if it returns `Ok`, rolled back
    /// otherwise. Inside an open transaction, `f` simply joins it.
    pub fn transaction<T>(&mut self, f: impl FnOnce(&mut Conn) -> Result<T>) -> Result<T> {
        if self.in_transaction() {
            return f(self);
        }
        self.batch(self.begin_sql())?;
        self.set_in_transaction(true);
        let outcome = f(self);
        let end = if outcome.is_ok() {
            "COMMIT"
        } else {
            "ROLLBACK"
        };
        let ended = self.batch(end);
        self.set_in_transaction(false);
        self.wrote();
        match (outcome, ended) {
            (Ok(value), Ok(())) => Ok(value),
            (Ok(_), Err(e)) => Err(e),
            (Err(e), ended) => {
                if let Err(rollback) = ended {
                    log::error!("rollback failed: {rollback}");
                }
                Err(e)
            }
        }
    }

    pub fn backend(&self) -> Backend {
        match &self.link {
            Link::Sqlite(_) => Backend::Sqlite,
            #[cfg(feature = "postgres")]
            Link::Postgres(_) => Backend::Postgres,
            #[cfg(feature = "mysql")]
            Link::Mysql(_) => Backend::Mysql,
        }
    }

    fn in_transaction(&self) -> bool {
        match &self.link {
            Link::Sqlite(c) => !c.is_autocommit(),
            #[cfg(feature = "postgres")]
            Link::Postgres(c) => c.in_transaction,
            #[cfg(feature = "mysql")]
            Link::Mysql(c) => c.in_transaction,
        }
    }

    #[allow(unused_variables)]
    fn set_in_transaction(&mut self, open: bool) {
        match &mut self.link {
            // SQLite tracks it itself (`is_autocommit`).
            Link::Sqlite(_) => {}
            #[cfg(feature = "postgres")]
            Link::Postgres(c) => c.in_transaction = open,
            #[cfg(feature = "mysql")]
            Link::Mysql(c) => c.in_transaction = open,
        }
    }

    fn begin_sql(&self) -> &'static str {
        match &self.link {
            // Take the write lock at once so two writers never deadlock on upgrade.
            Link::Sqlite(_) => "BEGIN IMMEDIATE",
            #[cfg(feature = "postgres")]
            Link::Postgres(_) => "BEGIN",
            #[cfg(feature = "mysql")]
            Link::Mysql(_) => "START TRANSACTION",
        }
    }

    fn batch(&mut self, sql: &str) -> Result<()> {
        match &mut self.link {
            Link::Sqlite(c) => Ok(c.execute_batch(sql)?),
            #[cfg(feature = "postgres")]
            Link::Postgres(c) => c.batch(sql),
            #[cfg(feature = "mysql")]
            Link::Mysql(c) => c.batch(sql),
        }
    }

    /// The clause that turns an `INSERT INTO table` into "or add one to `column`
    /// of the row with the same `key` (a unique key)", atomically on every backend.
    pub fn increment_on_conflict(&self, table: &str, key: &str, column: &str) -> String {
        match self.backend() {
            Backend::Sqlite | Backend::Postgres => {
                format!("ON CONFLICT ({key}) DO UPDATE SET {column} = {table}.{column} + 1")
            }
            Backend::Mysql => format!("ON DUPLICATE KEY UPDATE {column} = {column} + 1"),
        }
    }

    /// What ends a `SELECT` that locks the rows it reads until the transaction
    /// ends (PostgreSQL, MySQL). SQLite needs none: its write transaction
    /// (`BEGIN IMMEDIATE`) already excludes every other writer.
    pub fn for_update(&self) -> &'static str {
        match self.backend() {
            Backend::Sqlite => "",
            Backend::Postgres | Backend::Mysql => " FOR UPDATE",
        }
    }

    /// `?, ?, ?` for an `IN (…)` list of `n` values.
    pub fn placeholders(n: usize) -> String {
        vec!["?"; n].join(", ")
    }
}

/// The pool settings every backend shares: 8 connections (the default
/// `max_blocking` of 16 threads never waits long for one), one kept open when
/// idle (the others are opened when load needs them: a faster start, less idle
/// memory), and a bounded wait for one under overload, after which the
/// request gets a 503 with `Retry-After` (`Error::Unavailable`), not a 500.
pub(crate) fn pool_builder<M: r2d2::ManageConnection>() -> r2d2::Builder<M> {
    r2d2::Pool::builder()
        .max_size(8)
        .min_idle(Some(1))
        .connection_timeout(POOL_WAIT)
}

/// The longest a request waits for a free connection.
pub const POOL_WAIT: std::time::Duration = std::time::Duration::from_secs(5);
