//! The database layer: a pool per backend chosen from the `database_url` scheme,
//! a small portable query interface (`Conn::query`, `Conn::execute`, `Conn::insert`)
//! that every store module uses, and the helpers that run blocking work off the
//! async executor. Dialect differences live here and in `migrations`, nowhere else.

pub mod migrations;
mod sqlite;
mod value;

use std::path::PathBuf;
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
        ] {
            if url.starts_with(&format!("{scheme}://")) {
                return Err(Error::Config(format!(
                    "database_url uses {scheme}:// but this binary was built without the `{feature}` feature (cargo build --release --features {feature})"
                )));
            }
        }
        Err(Error::Config(format!(
            "database_url must start with sqlite:// (got {:?})",
            url.split("://").next().unwrap_or(url)
        )))
    }

    /// True when the database does not exist yet (a first run).
    pub fn is_new(&self) -> bool {
        match self {
            Location::SqliteFile(path) => !path.exists(),
        }
    }
}

enum Pool {
    Sqlite(sqlite::Pool),
}

/// A cheap, clonable handle on the connection pool.
#[derive(Clone)]
pub struct Db {
    pool: Arc<Pool>,
}

/// One pooled connection of any backend.
pub enum Conn {
    Sqlite(sqlite::Conn),
}

impl Db {
    /// Opens (creating if needed) the database named by `url`. Migrations are not run.
    pub fn open(url: &str) -> Result<Db> {
        let location = Location::parse(url)?;
        let pool = match &location {
            Location::SqliteFile(path) => Pool::Sqlite(sqlite::pool(path)?),
        };
        Ok(Db {
            pool: Arc::new(pool),
        })
    }

    /// A connection for blocking code (CLI commands, background tasks).
    pub fn conn(&self) -> Result<Conn> {
        match &*self.pool {
            Pool::Sqlite(pool) => Ok(Conn::Sqlite(pool.get()?)),
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
    /// written to a temporary file first and renamed into place.
    pub fn backup(&self, dest: &std::path::Path) -> Result<()> {
        match &*self.pool {
            Pool::Sqlite(pool) => sqlite::backup(pool, dest),
        }
    }
}

impl Conn {
    /// Runs a query and returns every row.
    pub fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        match self {
            Conn::Sqlite(c) => sqlite::query(c, sql, params),
        }
    }

    /// Runs a query that returns at most one row.
    pub fn query_opt(&mut self, sql: &str, params: &[Value]) -> Result<Option<Row>> {
        Ok(self.query(sql, params)?.into_iter().next())
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
        match self {
            Conn::Sqlite(c) => sqlite::execute(c, sql, params),
        }
    }

    /// Runs an `INSERT` and returns the new row's `id`.
    pub fn insert(&mut self, sql: &str, params: &[Value]) -> Result<i64> {
        match self {
            Conn::Sqlite(c) => sqlite::insert(c, sql, params),
        }
    }

    /// Runs `f` inside a transaction: committed if it returns `Ok`, rolled back
    /// otherwise. Inside an open transaction, `f` simply joins it.
    pub fn transaction<T>(&mut self, f: impl FnOnce(&mut Conn) -> Result<T>) -> Result<T> {
        if self.in_transaction() {
            return f(self);
        }
        self.batch(self.begin_sql())?;
        match f(self) {
            Ok(value) => {
                self.batch("COMMIT")?;
                Ok(value)
            }
            Err(e) => {
                if let Err(rollback) = self.batch("ROLLBACK") {
                    log::error!("rollback failed: {rollback}");
                }
                Err(e)
            }
        }
    }

    fn in_transaction(&self) -> bool {
        match self {
            Conn::Sqlite(c) => !c.is_autocommit(),
        }
    }

    fn begin_sql(&self) -> &'static str {
        match self {
            // Take the write lock at once so two writers never deadlock on upgrade.
            Conn::Sqlite(_) => "BEGIN IMMEDIATE",
        }
    }

    fn batch(&mut self, sql: &str) -> Result<()> {
        match self {
            Conn::Sqlite(c) => Ok(c.execute_batch(sql)?),
        }
    }

    /// `?, ?, ?` for an `IN (…)` list of `n` values.
    pub fn placeholders(n: usize) -> String {
        vec!["?"; n].join(", ")
    }
}
