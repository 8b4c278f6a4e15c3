//! PostgreSQL through the sync `postgres` client and an r2d2 pool. Store code
//! writes `?` placeholders; they become `$1, $2…` here, once per statement, and
//! the prepared statement is kept per connection.

use std::collections::HashMap;
use std::error::Error as StdError;
use std::str::FromStr;

use bytes::BytesMut;
use postgres::types::{to_sql_checked, IsNull, ToSql, Type};
use postgres::{Client, NoTls, Statement};

use super::{Row, Value};
use crate::error::{Error, Result};

/// Prepared statements kept per connection; the store uses far fewer.
const STATEMENT_CACHE: usize = 256;

pub struct Connection {
    pub(super) client: Client,
    statements: HashMap<String, Statement>,
    pub(super) in_transaction: bool,
}

pub struct Manager {
    config: postgres::Config,
}

impl r2d2::ManageConnection for Manager {
    type Connection = Connection;
    type Error = postgres::Error;

    fn connect(&self) -> Result<Connection, postgres::Error> {
        let mut client = self.config.connect(NoTls)?;
        // Times are stored as Unix seconds, but keep server-side text stable anyway.
        client.batch_execute("SET TIME ZONE 'UTC'")?;
        Ok(Connection {
            client,
            statements: HashMap::new(),
            in_transaction: false,
        })
    }

    fn is_valid(&self, conn: &mut Connection) -> Result<(), postgres::Error> {
        conn.client.simple_query("").map(|_| ())
    }

    /// Also true for a connection given back inside a transaction (a panic
    /// while it was open): dropping it makes the server roll back, instead of
    /// the next user joining a transaction nobody will commit.
    fn has_broken(&self, conn: &mut Connection) -> bool {
        conn.client.is_closed() || conn.in_transaction
    }
}

pub type Pool = r2d2::Pool<Manager>;
pub type Conn = r2d2::PooledConnection<Manager>;

pub fn pool(url: &str) -> Result<Pool> {
    let config = postgres::Config::from_str(url)
        .map_err(|e| Error::Config(format!("invalid PostgreSQL database_url: {e}")))?;
    super::pool_builder()
        .build(Manager { config })
        .map_err(|e| Error::Config(format!("cannot connect to PostgreSQL: {e}")))
}

/// `?` → `$n`, leaving quoted strings and identifiers alone.
pub fn numbered_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    let mut quote: Option<char> = None;
    for ch in sql.chars() {
        match (quote, ch) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(ch),
            (None, '?') => {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
                continue;
            }
            (None, _) => {}
        }
        out.push(ch);
    }
    out
}

impl Connection {
    fn statement(&mut self, sql: &str) -> Result<Statement> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self
            .client
            .prepare(&numbered_placeholders(sql))
            .map_err(|e| database_error(e, sql))?;
        if self.statements.len() >= STATEMENT_CACHE {
            self.statements.clear();
        }
        self.statements.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }

    pub fn batch(&mut self, sql: &str) -> Result<()> {
        self.client
            .batch_execute(sql)
            .map_err(|e| database_error(e, sql))
    }
}

fn database_error(e: postgres::Error, sql: &str) -> Error {
    use postgres::error::SqlState;
    let detail = e
        .as_db_error()
        .map_or_else(|| e.to_string(), |d| d.message().to_owned());
    let detail = format!("{detail} (in: {sql})");
    match e.code() {
        Some(
            &SqlState::UNIQUE_VIOLATION
            | &SqlState::T_R_DEADLOCK_DETECTED
            | &SqlState::T_R_SERIALIZATION_FAILURE,
        ) => Error::Conflict(detail),
        _ => Error::internal("database", detail),
    }
}

/// A parameter that adapts to the type PostgreSQL inferred for its placeholder,
/// as SQLite would: integers bind to any integer, boolean or text column.
#[derive(Debug)]
struct Param<'a>(&'a Value);

type BoxError = Box<dyn StdError + Sync + Send>;

impl ToSql for Param<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        match self.0 {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) => int_to_sql(*i, ty, out),
            Value::Real(f) => match *ty {
                Type::FLOAT8 => f.to_sql(ty, out),
                Type::FLOAT4 => (*f as f32).to_sql(ty, out),
                _ if is_text(ty) => f.to_string().to_sql(ty, out),
                _ => Err(format!("cannot bind a number to a {ty} parameter").into()),
            },
            Value::Text(s) => {
                if is_text(ty) {
                    s.as_str().to_sql(ty, out)
                } else {
                    let i: i64 = s
                        .parse()
                        .map_err(|_| format!("cannot bind text to a {ty} parameter"))?;
                    int_to_sql(i, ty, out)
                }
            }
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

fn is_text(ty: &Type) -> bool {
    matches!(
        *ty,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN
    )
}

fn int_to_sql(i: i64, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
    match *ty {
        Type::INT8 => i.to_sql(ty, out),
        Type::INT4 => i32::try_from(i)?.to_sql(ty, out),
        Type::INT2 => i16::try_from(i)?.to_sql(ty, out),
        Type::BOOL => (i != 0).to_sql(ty, out),
        Type::FLOAT8 => (i as f64).to_sql(ty, out),
        Type::FLOAT4 => (i as f32).to_sql(ty, out),
        _ if is_text(ty) => i.to_string().to_sql(ty, out),
        _ => Err(format!("cannot bind an integer to a {ty} parameter").into()),
    }
}

fn column(row: &postgres::Row, i: usize) -> Result<Value, postgres::Error> {
    let ty = row.columns()[i].type_().clone();
    Ok(match ty {
        Type::INT8 => row.try_get::<_, Option<i64>>(i)?.map(Value::Int),
        Type::INT4 => row
            .try_get::<_, Option<i32>>(i)?
            .map(|v| Value::Int(v.into())),
        Type::INT2 => row
            .try_get::<_, Option<i16>>(i)?
            .map(|v| Value::Int(v.into())),
        Type::BOOL => row
            .try_get::<_, Option<bool>>(i)?
            .map(|v| Value::Int(v.into())),
        Type::FLOAT8 => row.try_get::<_, Option<f64>>(i)?.map(Value::Real),
        Type::FLOAT4 => row
            .try_get::<_, Option<f32>>(i)?
            .map(|v| Value::Real(v.into())),
        _ => row.try_get::<_, Option<String>>(i)?.map(Value::Text),
    }
    .unwrap_or(Value::Null))
}

/// Runs `run` with the prepared statement for `sql` and its bound parameters.
fn with_statement<T>(
    c: &mut Conn,
    sql: &str,
    params: &[Value],
    run: impl FnOnce(&mut Client, &Statement, &[&(dyn ToSql + Sync)]) -> Result<T, postgres::Error>,
) -> Result<T> {
    let statement = c.statement(sql)?;
    let params: Vec<Param<'_>> = params.iter().map(Param).collect();
    let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
    run(&mut c.client, &statement, &refs).map_err(|e| database_error(e, sql))
}

fn run_query(c: &mut Conn, sql: &str, params: &[Value]) -> Result<Vec<postgres::Row>> {
    with_statement(c, sql, params, |client, statement, refs| {
        client.query(statement, refs)
    })
}

pub fn query(c: &mut Conn, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
    run_query(c, sql, params)?
        .iter()
        .map(|row| {
            (0..row.len())
                .map(|i| column(row, i))
                .collect::<Result<Vec<_>, _>>()
                .map(Row)
                .map_err(|e| database_error(e, sql))
        })
        .collect()
}

pub fn execute(c: &mut Conn, sql: &str, params: &[Value]) -> Result<u64> {
    with_statement(c, sql, params, |client, statement, refs| {
        client.execute(statement, refs)
    })
}

/// `INSERT … RETURNING id`: every table with an `id` has it as its key.
pub fn insert(c: &mut Conn, sql: &str, params: &[Value]) -> Result<i64> {
    let rows = run_query(c, &format!("{sql} RETURNING id"), params)?;
    let row = rows
        .first()
        .ok_or_else(|| Error::internal("database", format!("no id returned by {sql}")))?;
    match column(row, 0).map_err(|e| database_error(e, sql))? {
        Value::Int(id) => Ok(id),
        other => Err(Error::internal(
            "database",
            format!("id {other:?} from {sql}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::numbered_placeholders;

    #[test]
    fn placeholders_are_numbered_outside_quotes() {
        assert_eq!(
            numbered_placeholders("SELECT a FROM t WHERE b = ? AND c LIKE '?%' AND \"?\" = ?"),
            "SELECT a FROM t WHERE b = $1 AND c LIKE '?%' AND \"?\" = $2"
        );
    }
}
