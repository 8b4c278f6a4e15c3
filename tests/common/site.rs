//! A site for end-to-end tests: a data folder, `carnet serve` on a free port,
//! and a real SMTP receiver on loopback that its mail goes to.
#![allow(dead_code)]

use std::path::Path;

use super::backend::{site_db, TestDb};
use super::server::{Browser, Server};
use super::smtp::SmtpServer;

pub struct Site {
    pub dir: tempfile::TempDir,
    pub server: Server,
    pub smtp: SmtpServer,
}

/// Writes `Rocket.toml` with mail to `smtp_port` over plain SMTP, retried
/// after a second; `extra` is appended to `[default]`.
pub fn write_mail_config(dir: &Path, smtp_port: u16, extra: &str) {
    std::fs::write(
        dir.join("Rocket.toml"),
        format!(
            "[default]\nmail_transport = \"smtp\"\nsmtp_host = \"127.0.0.1\"\nsmtp_port = {smtp_port}\n\
             smtp_security = \"none\"\nmail_retry_base_secs = 1\n{extra}\n"
        ),
    )
    .unwrap();
}

impl Site {
    /// A new folder with the mail settings and `extra`, filled by `prepare`
    /// (an import…) before `serve` starts.
    pub fn start(extra: &str, prepare: impl FnOnce(&Path)) -> Site {
        let dir = tempfile::tempdir().unwrap();
        let smtp = SmtpServer::start();
        write_mail_config(dir.path(), smtp.port, extra);
        prepare(dir.path());
        let server = Server::start(dir.path());
        Site { dir, server, smtp }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn browser(&self) -> Browser {
        Browser::new(self.server.port)
    }

    pub fn db(&self) -> TestDb {
        site_db(self.path())
    }

    pub fn count(&self, sql: &str) -> i64 {
        self.db().scalar(sql, &[])
    }
}
