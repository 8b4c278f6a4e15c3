//! Versioned SQL migrations, embedded in the binary (refinery), one tree per
//! backend under `migrations/<backend>/` with identical version names.
//! Pending migrations are applied in one transaction: all of them or none.

use super::{Backend, Conn, Db, Link};
use crate::error::{Error, Result};

mod sqlite_tree {
    refinery::embed_migrations!("migrations/sqlite");
}
#[cfg(feature = "postgres")]
mod postgres_tree {
    refinery::embed_migrations!("migrations/postgres");
}
#[cfg(feature = "mysql")]
mod mysql_tree {
    refinery::embed_migrations!("migrations/mysql");
}

/// One migration and whether the database has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub version: i64,
    pub name: String,
    pub applied: bool,
}

fn runner(conn: &Conn) -> refinery::Runner {
    let runner = match &conn.link {
        Link::Sqlite(_) => sqlite_tree::migrations::runner(),
        #[cfg(feature = "postgres")]
        Link::Postgres(_) => postgres_tree::migrations::runner(),
        #[cfg(feature = "mysql")]
        Link::Mysql(_) => mysql_tree::migrations::runner(),
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
            name: m.name().to_owned(),
            applied: applied.contains(&i64::from(m.version())),
        })
        .collect();
    all.sort_by_key(|m| m.version);
    Ok(all)
}

fn applied_versions(conn: &mut Conn, runner: &refinery::Runner) -> Result<Vec<i64>> {
    // refinery fails on a database it never touched: look for its table first.
    let has_history: i64 = conn.query_scalar(
        match conn.backend() {
            Backend::Sqlite => {
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'refinery_schema_history'"
            }
            Backend::Postgres => {
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'refinery_schema_history'"
            }
            Backend::Mysql => {
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'refinery_schema_history'"
            }
        },
        &[],
    )?;
    if has_history == 0 {
        return Ok(Vec::new());
    }
    let applied = match &mut conn.link {
        Link::Sqlite(c) => {
            let c: &mut rusqlite::Connection = c;
            runner.get_applied_migrations(c)
        }
        #[cfg(feature = "postgres")]
        Link::Postgres(c) => runner.get_applied_migrations(&mut c.client),
        #[cfg(feature = "mysql")]
        Link::Mysql(c) => runner.get_applied_migrations(&mut c.conn),
    }
    .map_err(migration_error)?;
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
    let report = match &mut conn.link {
        Link::Sqlite(c) => {
            let c: &mut rusqlite::Connection = c;
            runner.run(c)
        }
        #[cfg(feature = "postgres")]
        Link::Postgres(c) => runner.run(&mut c.client),
        #[cfg(feature = "mysql")]
        Link::Mysql(c) => runner.run(&mut c.conn),
    }
    .map_err(migration_error)?;
    Ok(report
        .applied_migrations()
        .iter()
        .map(|m| Status {
            version: i64::from(m.version()),
            name: m.name().to_owned(),
            applied: true,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    /// The file names under `migrations/<backend>/`, sorted.
    fn tree(backend: &str) -> Vec<String> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(backend);
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn every_backend_has_the_same_migrations() {
        let sqlite = tree("sqlite");
        assert!(!sqlite.is_empty());
        assert_eq!(tree("postgres"), sqlite, "migrations/postgres differs");
        assert_eq!(tree("mysql"), sqlite, "migrations/mysql differs");
    }
}
