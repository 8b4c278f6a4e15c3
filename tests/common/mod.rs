//! Shared test helpers: a fresh data folder and configuration per test, the app
//! built through `carnet::rocket`, and the fixture site.
#![allow(dead_code)]

pub mod backend;
pub mod server;
pub mod site;
pub mod smtp;

use std::path::{Path, PathBuf};

use carnet::config::{self, Loaded};
use carnet::db::Db;
use rocket::local::blocking::Client;

pub const FIXTURE: &str = include_str!("../fixtures/site.json");

pub struct TestApp {
    pub dir: tempfile::TempDir,
    pub loaded: Loaded,
    pub db: Db,
}

impl TestApp {
    /// A new app in its own temporary folder; `extra` is appended to `[default]`.
    pub fn with_config(extra: &str) -> TestApp {
        Self::build(extra, true)
    }

    /// A new app on SQLite, whatever backend the test runs on.
    pub fn on_sqlite() -> TestApp {
        Self::build("", false)
    }

    fn build(extra: &str, on_test_backend: bool) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = dir.path().join("Rocket.toml");
        let data = dir.path().join("data");
        let database = on_test_backend
            .then(|| backend::database_url(dir.path()))
            .flatten()
            .map(|url| format!("database_url = {url:?}\n"))
            .unwrap_or_default();
        std::fs::write(
            &config,
            format!(
                "[default]\ndata_dir = {:?}\nsite_url = \"https://blog.example.com\"\nlog_level = \"off\"\n{database}{extra}\n",
                data.display().to_string()
            ),
        )
        .expect("write config");
        let loaded = config::load(Some(&config)).expect("settings");
        let db = carnet::open_db(&loaded, true).expect("database");
        TestApp { dir, loaded, db }
    }

    pub fn new() -> TestApp {
        Self::with_config("")
    }

    /// A new app with the fixture site imported.
    pub fn with_fixture() -> TestApp {
        let app = Self::new();
        app.import(FIXTURE).expect("fixture imports");
        app
    }

    pub fn import(&self, json: &str) -> carnet::error::Result<carnet::transfer::Report> {
        let site = carnet::transfer::parse(json)?;
        carnet::transfer::import(&mut self.db.conn()?, &site)
    }

    pub fn client(&self) -> Client {
        Client::tracked(carnet::rocket(&self.loaded, self.db.clone()).expect("rocket"))
            .expect("client")
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs one SQL statement against the app's database.
    pub fn sql(&self, sql: &str, params: &[carnet::db::Value]) -> u64 {
        self.db.conn().unwrap().execute(sql, params).unwrap()
    }

    pub fn count(&self, sql: &str) -> i64 {
        self.db.conn().unwrap().query_scalar(sql, &[]).unwrap()
    }
}

/// GETs a page and returns (status, body).
pub fn get(client: &Client, uri: &str) -> (u16, String) {
    let res = client.get(uri.to_owned()).dispatch();
    let status = res.status().code;
    (status, res.into_string().unwrap_or_default())
}
