//! Running the real `carnet` binary: commands, and `serve` on a free port driven
//! over real HTTP with a cookie-keeping client.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// `carnet` run in `dir`, isolated from the caller's environment.
pub fn carnet(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_carnet"));
    cmd.current_dir(dir);
    for (key, _) in std::env::vars() {
        if key.starts_with("CARNET_") || key.starts_with("ROCKET_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("CARNET_LOG_LEVEL", "critical");
    if let Some(url) = super::backend::database_url(dir) {
        cmd.env("CARNET_DATABASE_URL", url);
    }
    cmd
}

pub fn run(dir: &Path, args: &[&str]) -> Output {
    carnet(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run carnet")
}

pub fn run_with_stdin(dir: &Path, args: &[&str], input: &str) -> Output {
    let mut child = carnet(dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn carnet");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A failed command: non-zero exit, one `error:` line, no panic.
pub fn assert_clean_failure(out: &Output) -> String {
    let err = text(&out.stderr);
    assert!(!out.status.success(), "should fail: {err}");
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    err
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running `carnet serve`, stopped when dropped.
pub struct Server {
    child: Child,
    pub port: u16,
    pub banner: String,
    /// What serve printed after the banner, line by line, and its stderr file.
    stdout: std::sync::Mutex<mpsc::Receiver<String>>,
    stderr: std::path::PathBuf,
}

impl Server {
    pub fn start(dir: &Path) -> Server {
        // A free port can be taken by a parallel test before serve binds it: retry.
        for _ in 0..5 {
            if let Some(server) = Self::try_start(dir, free_port()) {
                return server;
            }
        }
        panic!("serve did not start after 5 ports")
    }

    /// Starts `carnet serve` on `port` (a config naming that port may be in `dir`).
    pub fn start_on(dir: &Path, port: u16) -> Server {
        Self::try_start(dir, port).expect("serve starts")
    }

    /// `None` when the port was taken meanwhile; panics on any other failure.
    fn try_start(dir: &Path, port: u16) -> Option<Server> {
        let errors = dir.join(format!("serve-{port}.err"));
        let mut child = carnet(dir)
            .args(["serve"])
            .env("CARNET_PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&errors).unwrap())
            .spawn()
            .expect("spawn serve");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            // Keep draining after start-up: a closed pipe would break the server's logging.
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut banner = String::new();
        loop {
            match rx.recv_timeout(Duration::from_secs(60)) {
                Ok(line) => {
                    banner.push_str(&line);
                    banner.push('\n');
                    if line.starts_with("Carnet is running at") {
                        // Collect the hint lines that follow, if any.
                        while let Ok(line) = rx.recv_timeout(Duration::from_millis(300)) {
                            banner.push_str(&line);
                            banner.push('\n');
                        }
                        break;
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let stderr = std::fs::read_to_string(&errors).unwrap_or_default();
                    if stderr.contains("cannot listen") {
                        return None;
                    }
                    panic!("serve did not start: {banner}{stderr}");
                }
            }
        }
        Some(Server {
            child,
            port,
            banner,
            stdout: std::sync::Mutex::new(rx),
            stderr: errors,
        })
    }

    /// Everything serve printed since the banner (and its whole stderr).
    pub fn output(&self) -> String {
        let mut out = String::new();
        if let Ok(rx) = self.stdout.lock() {
            for line in rx.try_iter() {
                out.push_str(&line);
                out.push('\n');
            }
        }
        out + &std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// The server's process id (to read its memory use, or to kill it).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the server at once (`kill -9`), as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// GET over real HTTP, one connection per request: (status, body).
    pub fn get(&self, path: &str) -> (u16, String) {
        let agent = ureq::AgentBuilder::new().max_idle_connections(0).build();
        match agent.get(&self.url(path)).call() {
            Ok(res) => (res.status(), res.into_string().unwrap()),
            Err(ureq::Error::Status(code, res)) => (code, res.into_string().unwrap_or_default()),
            Err(e) => panic!("GET {path}: {e}"),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A response read in full.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub body: String,
    pub location: Option<String>,
    pub retry_after: Option<String>,
}

impl Page {
    /// The first `csrf_token` on the page, if there is one.
    pub fn csrf_or_none(&self) -> Option<String> {
        form_field(&self.body, "csrf_token")
    }

    /// The value of the first `csrf_token` field on the page.
    pub fn csrf(&self) -> String {
        form_field(&self.body, "csrf_token")
            .unwrap_or_else(|| panic!("no csrf_token in {}", self.body))
    }
}

/// The `value` of the first input named `name` in an HTML page.
pub fn form_field(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\"");
    let at = html.find(&marker)?;
    let tag_start = html[..at].rfind('<')?;
    let tag_end = at + html[at..].find('>')?;
    let tag = &html[tag_start..tag_end];
    let v = tag.find("value=\"")? + 7;
    let end = tag[v..].find('"')? + v;
    Some(tag[v..end].replace("&amp;", "&"))
}

/// A browser: keeps cookies, does not follow redirects.
pub struct Browser {
    pub agent: ureq::Agent,
    base: String,
}

fn read(result: Result<ureq::Response, ureq::Error>) -> Page {
    let res = match result {
        Ok(res) => res,
        Err(ureq::Error::Status(_, res)) => res,
        Err(e) => panic!("request failed: {e}"),
    };
    Page {
        status: res.status(),
        location: res.header("Location").map(str::to_owned),
        retry_after: res.header("Retry-After").map(str::to_owned),
        body: res.into_string().unwrap_or_default(),
    }
}

impl Browser {
    pub fn new(port: u16) -> Browser {
        Browser {
            agent: ureq::AgentBuilder::new().redirects(0).build(),
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    /// The same client (same cookies) talking to another server on this host.
    pub fn on_port(&self, port: u16) -> Browser {
        Browser {
            agent: self.agent.clone(),
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    pub fn get(&self, path: &str) -> Page {
        read(self.agent.get(&format!("{}{path}", self.base)).call())
    }

    /// The absolute URL of `path` on this browser's server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        read(
            self.agent
                .post(&format!("{}{path}", self.base))
                .send_form(fields),
        )
    }

    /// GETs `form_page`, then POSTs `fields` plus its CSRF token to `action`.
    pub fn submit(&self, form_page: &str, action: &str, fields: &[(&str, &str)]) -> Page {
        let token = self.get(form_page).csrf();
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("csrf_token", &token));
        self.post(action, &all)
    }

    /// POSTs a multipart form with one file.
    pub fn post_multipart(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        file: (&str, &str, &[u8]),
    ) -> Page {
        let boundary = "carnet-test-boundary-7d1f";
        let mut body = Vec::new();
        for (name, value) in fields {
            body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes());
        }
        let (name, filename, bytes) = file;
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        read(
            self.agent
                .post(&format!("{}{path}", self.base))
                .set(
                    "Content-Type",
                    &format!("multipart/form-data; boundary={boundary}"),
                )
                .send_bytes(&body),
        )
    }

    /// The value of one of our cookies.
    pub fn cookie(&self, name: &str) -> Option<String> {
        let store = self.agent.cookie_store();
        let value = store
            .get("127.0.0.1", "/", name)
            .map(|c| c.value().to_owned());
        value
    }

    /// A request with exactly this cookie header (to replay an old cookie).
    pub fn get_with_cookie(&self, path: &str, cookie: &str) -> Page {
        let agent = ureq::AgentBuilder::new().redirects(0).build();
        read(
            agent
                .get(&format!("{}{path}", self.base))
                .set("Cookie", cookie)
                .call(),
        )
    }
}

/// Creates the admin `username` (`username@example.org`) with `password`.
pub fn create_admin(dir: &Path, username: &str, password: &str) {
    let email = format!("{username}@example.org");
    let out = run_with_stdin(
        dir,
        &[
            "createsuperuser",
            "--username",
            username,
            "--email",
            &email,
            "--password-stdin",
            "--no-input",
        ],
        &format!("{password}\n"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
}
