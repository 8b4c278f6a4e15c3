//! Versioned SQL migrations, embedded in the binary (refinery), one tree per
//! backend under `migrations/<backend>/` with identical version names.
//! Pending migrations are applied in one transaction: all of them or none.

use super::{Conn, Db};
use crate::error::{Error, Result};

mod sqlite_tree {
    refinery::embed_migrations!("migrations/sqlite");
}

/// One migration and whether the database has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub version: i64,
    pub name: String,
    pub applied: bool,
}

fn runner(conn: &Conn) -> refinery::Runner {
    let runner = match conn {
        Conn::Sqlite(_) => sqlite_tree::migrations::runner(),
    };
    runner
        .set_grouped(true)
        .set_abort_divergent(true)
        .set_abort_missing(true)
}

fn migration_error(e: refinery::Error) -> Error {
    Error::internal("migration failed", e)
}

/// Every embedded migration, with whether it has been applied.
pub fn list(db: &Db) -> Result<Vec<Status>> {
    let mut conn = db.conn()?;
    let runner = runner(&conn);
    let applied: Vec<i64> = applied_versions(&mut conn, &runner)?;
    let mut all: Vec<Status> = runner
        .get_migrations()
        .iter()
        .map(|m| Status {
            version: i64::from(m.version()),
            name: m.name().to_string(),
            applied: applied.contains(&i64::from(m.version())),
        })
        .collect();
    all.sort_by_key(|m| m.version);
    Ok(all)
}

fn applied_versions(conn: &mut Conn, runner: &refinery::Runner) -> Result<Vec<i64>> {
    let applied = match conn {
        Conn::Sqlite(c) => {
            let c: &mut rusqlite::Connection = c;
            let exists: i64 = c.query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'refinery_schema_history'",
                [],
                |r| r.get(0),
            )?;
            if exists == 0 {
                return Ok(Vec::new());
            }
            runner.get_applied_migrations(c).map_err(migration_error)?
        }
    };
    Ok(applied.iter().map(|m| i64::from(m.version())).collect())
}

/// How many embedded migrations the database lacks.
pub fn pending(db: &Db) -> Result<usize> {
    Ok(list(db)?.iter().filter(|m| !m.applied).count())
}

/// Applies every pending migration; returns the ones applied.
pub fn apply(db: &Db) -> Result<Vec<Status>> {
    let mut conn = db.conn()?;
    let runner = runner(&conn);
    let report = match &mut conn {
        Conn::Sqlite(c) => {
            let c: &mut rusqlite::Connection = c;
            runner.run(c).map_err(migration_error)?
        }
    };
    Ok(report
        .applied_migrations()
        .iter()
        .map(|m| Status {
            version: i64::from(m.version()),
            name: m.name().to_string(),
            applied: true,
        })
        .collect())
}
