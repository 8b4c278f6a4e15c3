//! SQLite through rusqlite (bundled) and an r2d2 pool: WAL, foreign keys on,
//! a busy timeout, and cached prepared statements on every connection.

use std::path::Path;
use std::time::Duration;

use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::types::ValueRef;

use super::{Row, Value};
use crate::error::{Error, Result};

pub type Pool = r2d2::Pool<SqliteConnectionManager>;
pub type Conn = r2d2::PooledConnection<SqliteConnectionManager>;

pub fn pool(path: &Path) -> Result<Pool> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        crate::config::create_dir_with_mode(dir, 0o700).map_err(|e| {
            Error::Config(format!(
                "cannot create database folder {}: {e}",
                dir.display()
            ))
        })?;
    }
    private_files(path).map_err(|e| {
        Error::Config(format!(
            "cannot make database {} private: {e}",
            path.display()
        ))
    })?;
    let manager = SqliteConnectionManager::file(path).with_init(|c| {
        c.busy_timeout(Duration::from_secs(5))?;
        c.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             PRAGMA foreign_keys = ON;
             PRAGMA temp_store = MEMORY;",
        )?;
        c.set_prepared_statement_cache_capacity(128);
        Ok(())
    });
    super::pool_builder()
        .build(manager)
        .map_err(|e| Error::Config(format!("cannot open database {}: {e}", path.display())))
}

/// The database file is created 0600 before SQLite opens it, whatever the
/// umask: SQLite gives its write-ahead log and shared-memory files the mode of
/// the database, so they are private too. Files of an older install are made
/// private as well.
fn private_files(path: &Path) -> std::io::Result<()> {
    if !path.exists() {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(path) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => return Err(e),
            _ => {}
        }
    }
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        crate::config::make_private(Path::new(&name))?;
    }
    Ok(())
}

fn bind(params: &[Value]) -> Vec<rusqlite::types::Value> {
    params
        .iter()
        .map(|v| match v {
            Value::Null => rusqlite::types::Value::Null,
            Value::Int(i) => rusqlite::types::Value::Integer(*i),
            Value::Real(f) => rusqlite::types::Value::Real(*f),
            Value::Text(s) => rusqlite::types::Value::Text(s.clone()),
        })
        .collect()
}

fn value(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Int(i),
        ValueRef::Real(f) => Value::Real(f),
        ValueRef::Text(t) | ValueRef::Blob(t) => {
            Value::Text(String::from_utf8_lossy(t).into_owned())
        }
    }
}

pub fn query(c: &mut Conn, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
    let mut stmt = c.prepare_cached(sql)?;
    let columns = stmt.column_count();
    let mut rows = stmt.query(rusqlite::params_from_iter(bind(params)))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let mut values = Vec::with_capacity(columns);
        for i in 0..columns {
            values.push(value(row.get_ref(i)?));
        }
        out.push(Row(values));
    }
    Ok(out)
}

pub fn execute(c: &mut Conn, sql: &str, params: &[Value]) -> Result<u64> {
    let mut stmt = c.prepare_cached(sql)?;
    Ok(stmt.execute(rusqlite::params_from_iter(bind(params)))? as u64)
}

pub fn insert(c: &mut Conn, sql: &str, params: &[Value]) -> Result<i64> {
    execute(c, sql, params)?;
    Ok(c.last_insert_rowid())
}

pub fn backup(pool: &Pool, dest: &Path) -> Result<()> {
    let dir = dest
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = tempfile::NamedTempFile::new_in(dir)
        .map_err(|e| Error::invalid(format!("cannot write in {}: {e}", dir.display())))?;
    {
        let src = pool.get()?;
        let mut dst = rusqlite::Connection::open(tmp.path())?;
        let backup = rusqlite::backup::Backup::new(&src, &mut dst)?;
        // Copy in steps so writers are only paused briefly while `serve` runs.
        backup.run_to_completion(256, Duration::from_millis(5), None)?;
    }
    tmp.persist(dest)
        .map_err(|e| Error::invalid(format!("cannot write {}: {}", dest.display(), e.error)))?;
    Ok(())
}
