//! MySQL and MariaDB through the sync `mysql` client and an r2d2 pool. Each
//! connection is put in ANSI-style SQL mode (double quotes name identifiers,
//! backslashes are plain characters, strict tables) so the store's SQL reads the
//! same as on SQLite and PostgreSQL; the driver caches prepared statements.

use mysql::prelude::Queryable;

use super::{Row, Value};
use crate::error::{Error, Result};

/// What every connection runs first.
const SESSION_SETUP: &[&str] = &[
    "SET NAMES utf8mb4 COLLATE utf8mb4_bin",
    "SET SESSION sql_mode = 'ANSI_QUOTES,PIPES_AS_CONCAT,NO_BACKSLASH_ESCAPES,STRICT_ALL_TABLES,\
     NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'",
    "SET time_zone = '+00:00'",
];

pub struct Connection {
    pub(super) conn: mysql::Conn,
    pub(super) in_transaction: bool,
}

pub struct Manager {
    opts: mysql::Opts,
}

impl r2d2::ManageConnection for Manager {
    type Connection = Connection;
    type Error = mysql::Error;

    fn connect(&self) -> Result<Connection, mysql::Error> {
        Ok(Connection {
            conn: mysql::Conn::new(self.opts.clone())?,
            in_transaction: false,
        })
    }

    fn is_valid(&self, c: &mut Connection) -> Result<(), mysql::Error> {
        c.conn.query_drop("SELECT 1")
    }

    /// True for a connection given back inside a transaction (a panic while
    /// it was open): dropping it makes the server roll back, instead of the
    /// next user joining a transaction nobody will commit.
    fn has_broken(&self, c: &mut Connection) -> bool {
        c.in_transaction
    }
}

pub type Pool = r2d2::Pool<Manager>;
pub type Conn = r2d2::PooledConnection<Manager>;

pub fn pool(url: &str) -> Result<Pool> {
    let opts = mysql::Opts::from_url(url)
        .map_err(|e| Error::Config(format!("invalid MySQL database_url: {e}")))?;
    let opts = mysql::OptsBuilder::from_opts(opts)
        .init(SESSION_SETUP.iter().map(|s| s.to_string()).collect())
        // Count matched rows, not changed ones, like SQLite and PostgreSQL.
        .additional_capabilities(mysql::consts::CapabilityFlags::CLIENT_FOUND_ROWS)
        .stmt_cache_size(Some(256));
    super::pool_builder()
        .build(Manager { opts: opts.into() })
        .map_err(|e| Error::Config(format!("cannot connect to MySQL: {e}")))
}

impl Connection {
    pub fn batch(&mut self, sql: &str) -> Result<()> {
        self.conn
            .query_drop(sql)
            .map_err(|e| database_error(e, sql))
    }
}

fn database_error(e: mysql::Error, sql: &str) -> Error {
    let detail = format!("{e} (in: {sql})");
    match &e {
        // ER_DUP_ENTRY, ER_LOCK_DEADLOCK: another request got there first.
        mysql::Error::MySqlError(m) if m.code == 1062 || m.code == 1213 => Error::Conflict(detail),
        _ => Error::internal("database", detail),
    }
}

fn bind(params: &[Value]) -> mysql::Params {
    if params.is_empty() {
        return mysql::Params::Empty;
    }
    mysql::Params::Positional(
        params
            .iter()
            .map(|v| match v {
                Value::Null => mysql::Value::NULL,
                Value::Int(i) => mysql::Value::Int(*i),
                Value::Real(f) => mysql::Value::Double(*f),
                Value::Text(s) => mysql::Value::Bytes(s.clone().into_bytes()),
            })
            .collect(),
    )
}

fn value(v: mysql::Value) -> Value {
    match v {
        mysql::Value::NULL => Value::Null,
        mysql::Value::Int(i) => Value::Int(i),
        mysql::Value::UInt(u) => Value::Int(i64::try_from(u).unwrap_or(i64::MAX)),
        mysql::Value::Float(f) => Value::Real(f.into()),
        mysql::Value::Double(f) => Value::Real(f),
        mysql::Value::Bytes(b) => Value::Text(String::from_utf8_lossy(&b).into_owned()),
        other => Value::Text(other.as_sql(true)),
    }
}

pub fn query(c: &mut Conn, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
    let rows: Vec<mysql::Row> = c
        .conn
        .exec(sql, bind(params))
        .map_err(|e| database_error(e, sql))?;
    Ok(rows
        .into_iter()
        .map(|row| Row(row.unwrap().into_iter().map(value).collect()))
        .collect())
}

pub fn execute(c: &mut Conn, sql: &str, params: &[Value]) -> Result<u64> {
    c.conn
        .exec_drop(sql, bind(params))
        .map_err(|e| database_error(e, sql))?;
    Ok(c.conn.affected_rows())
}

pub fn insert(c: &mut Conn, sql: &str, params: &[Value]) -> Result<i64> {
    execute(c, sql, params)?;
    i64::try_from(c.conn.last_insert_id())
        .map_err(|e| Error::internal("database", format!("insert id: {e}")))
}
