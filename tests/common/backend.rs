//! Which database a test runs on. `backend_tests!` turns every test of a suite
//! into three: `name::sqlite`, `name::postgres` and `name::mysql`. The server
//! runs use the database named by `TEST_POSTGRES_URL` / `TEST_MYSQL_URL` (and a
//! binary built with that feature); without it they print a notice and pass.
//! Each site a test makes gets its own fresh PostgreSQL schema or MySQL
//! database, dropped when the test ends, so tests run in parallel.
#![allow(dead_code)]

use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

pub use carnet::db::Backend;
use carnet::db::{Db, FromValue, Row, Value};

thread_local! {
    static CURRENT: Cell<Backend> = const { Cell::new(Backend::Sqlite) };
    /// The databases made for this test: (site folder, name, URL).
    static DATABASES: RefCell<Vec<(PathBuf, String, String)>> = const { RefCell::new(Vec::new()) };
}

/// Generates one `#[test]` per backend for each named test function.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                use $crate::common::backend::{run, Backend};
                #[test]
                fn sqlite() {
                    run(Backend::Sqlite, super::$name)
                }
                #[test]
                fn postgres() {
                    run(Backend::Postgres, super::$name)
                }
                #[test]
                fn mysql() {
                    run(Backend::Mysql, super::$name)
                }
            }
        )+
    };
}

/// The backend of the test running on this thread.
pub fn current() -> Backend {
    CURRENT.with(Cell::get)
}

fn server_url(backend: Backend) -> Option<String> {
    let (feature, var) = match backend {
        Backend::Sqlite => return None,
        Backend::Postgres => (cfg!(feature = "postgres"), "TEST_POSTGRES_URL"),
        Backend::Mysql => (cfg!(feature = "mysql"), "TEST_MYSQL_URL"),
    };
    if !feature {
        return None;
    }
    std::env::var(var).ok().filter(|v| !v.is_empty())
}

/// Runs `test` against `backend`, or skips it with a notice when that backend
/// is not available to this run.
pub fn run(backend: Backend, test: fn()) {
    if backend != Backend::Sqlite && server_url(backend).is_none() {
        let (feature, var) = match backend {
            Backend::Postgres => ("postgres", "TEST_POSTGRES_URL"),
            _ => ("mysql", "TEST_MYSQL_URL"),
        };
        // Once per suite, and past the test harness's output capture.
        static NOTICES: [std::sync::Once; 2] = [std::sync::Once::new(), std::sync::Once::new()];
        NOTICES[usize::from(backend == Backend::Mysql)].call_once(|| {
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "note: {backend:?} runs skipped: they need `--features {feature}` and {var} (see README, Testing)"
            );
        });
        return;
    }
    CURRENT.with(|c| c.set(backend));
    let _cleanup = Cleanup;
    test();
}

/// Drops the test's databases when it ends, passed or failed.
struct Cleanup;

impl Drop for Cleanup {
    fn drop(&mut self) {
        let made = DATABASES.with(|d| std::mem::take(&mut *d.borrow_mut()));
        if made.is_empty() {
            return;
        }
        let backend = current();
        let admin = admin(backend);
        for (_, name, _) in made {
            let sql = match backend {
                Backend::Postgres => format!("DROP SCHEMA IF EXISTS {name} CASCADE"),
                _ => format!("DROP DATABASE IF EXISTS {name}"),
            };
            if let Err(e) = admin.conn().and_then(|mut c| c.execute(&sql, &[])) {
                eprintln!("could not drop {name}: {e}");
            }
        }
        CURRENT.with(|c| c.set(Backend::Sqlite));
    }
}

/// A pool on the server database itself, to create and drop test databases.
fn admin(backend: Backend) -> &'static Db {
    static POSTGRES: OnceLock<Db> = OnceLock::new();
    static MYSQL: OnceLock<Db> = OnceLock::new();
    let cell = match backend {
        Backend::Postgres => &POSTGRES,
        _ => &MYSQL,
    };
    cell.get_or_init(|| {
        let url = server_url(backend).expect("server URL");
        Db::open(&url).unwrap_or_else(|e| panic!("cannot reach {url}: {e}"))
    })
}

/// The `database_url` for the site in `dir` on the current backend, made on
/// first use; `None` on SQLite (the site's default file is used).
pub fn database_url(dir: &Path) -> Option<String> {
    let backend = current();
    let base = server_url(backend)?;
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    if let Some(url) = DATABASES.with(|d| {
        d.borrow()
            .iter()
            .find(|(site, _, _)| *site == dir)
            .map(|(_, _, url)| url.clone())
    }) {
        return Some(url);
    }
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let name = format!(
        "carnet_test_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let (create, url) = match backend {
        Backend::Postgres => (
            format!("CREATE SCHEMA {name}"),
            format!(
                "{base}{}options=-c%20search_path%3D{name}",
                if base.contains('?') { '&' } else { '?' }
            ),
        ),
        _ => (
            format!("CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"),
            with_database(&base, &name),
        ),
    };
    admin(backend)
        .conn()
        .and_then(|mut c| c.execute(&create, &[]))
        .unwrap_or_else(|e| panic!("{create}: {e}"));
    DATABASES.with(|d| d.borrow_mut().push((dir, name, url.clone())));
    Some(url)
}

/// `mysql://user@host:port/old?x` → `mysql://user@host:port/name?x`.
fn with_database(url: &str, name: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("URL with a scheme");
    let (rest, query) = rest
        .split_once('?')
        .map_or((rest, None), |(r, q)| (r, Some(q)));
    let host = rest.split('/').next().unwrap_or(rest);
    let mut out = format!("{scheme}://{host}/{name}");
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// The database of the site in `dir` (its data folder is `dir/data`).
pub fn site_db(dir: &Path) -> TestDb {
    let url = database_url(dir)
        .unwrap_or_else(|| format!("sqlite://{}", dir.join("data/carnet.db").display()));
    TestDb(Db::open(&url).expect("open the site's database"))
}

/// A test's view of a site database, through Carnet's own portable layer.
pub struct TestDb(pub Db);

impl TestDb {
    pub fn rows(&self, sql: &str, params: &[Value]) -> Vec<Row> {
        self.0
            .conn()
            .and_then(|mut c| c.query(sql, params))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    pub fn row(&self, sql: &str, params: &[Value]) -> Row {
        self.rows(sql, params)
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no row for {sql}"))
    }

    pub fn scalar<T: FromValue>(&self, sql: &str, params: &[Value]) -> T {
        self.row(sql, params).get(0).unwrap()
    }

    pub fn exec(&self, sql: &str, params: &[Value]) -> u64 {
        self.0
            .conn()
            .and_then(|mut c| c.execute(sql, params))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }
}
