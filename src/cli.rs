//! The command line: `carnet [--config PATH] <command>`. Every command exits 0 on
//! success and prints one line `error: …` with a non-zero code on failure.

use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{self, Loaded};
use crate::db::{migrations, Location};
use crate::error::{Error, Result};
use crate::users::{self, password, Role};
use crate::{ground::dates, transfer};

#[derive(Parser)]
#[command(name = "carnet", version, about = "A blog engine in one binary.")]
pub struct Cli {
    /// Configuration file (default: $CARNET_CONFIG, then ./Rocket.toml if present).
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server (applies pending migrations first).
    Serve {
        /// Do not apply pending migrations; refuse to start if there are any.
        #[arg(long)]
        no_migrate: bool,
    },
    /// Apply pending database migrations.
    Migrate {
        /// Show applied and pending migrations; change nothing.
        #[arg(long, conflicts_with = "check")]
        list: bool,
        /// Exit with status 1 if any migration is pending; change nothing.
        #[arg(long)]
        check: bool,
    },
    /// Create an administrator account.
    Createsuperuser {
        #[arg(long)]
        username: Option<String>,
        #[arg(long)]
        email: Option<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        /// Never prompt: fail if a value is missing (the password may come from
        /// CARNET_SUPERUSER_PASSWORD).
        #[arg(long)]
        no_input: bool,
    },
    /// Set a user's password (ends their sessions).
    Changepassword {
        username: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Load a Carnet JSON export (idempotent); `-` reads standard input.
    Import { file: PathBuf },
    /// Write the whole site as Carnet JSON (to standard output without FILE).
    Export { file: Option<PathBuf> },
    /// Copy the database to FILE consistently, even while `serve` runs.
    Backup { file: PathBuf },
    /// Send one test mail through the configured transport, right away.
    Sendtestemail {
        /// Recipient address.
        to: String,
    },
    /// List the latest domain events (post published, comment approved…) and
    /// whether they were handled, newest first.
    Events {
        /// How many to show.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Validate the configuration.
    Check {
        /// Also flag settings unsafe for production.
        #[arg(long)]
        deploy: bool,
    },
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", one_line(&e.to_string()));
            ExitCode::FAILURE
        }
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn run(cli: Cli) -> Result<ExitCode> {
    let loaded = config::load(cli.config.as_deref())?;
    match cli.command {
        Command::Serve { no_migrate } => serve(&loaded, no_migrate),
        Command::Migrate { list, check } => migrate(&loaded, list, check),
        Command::Createsuperuser {
            username,
            email,
            password_stdin,
            no_input,
        } => createsuperuser(&loaded, username, email, password_stdin, no_input),
        Command::Changepassword {
            username,
            password_stdin,
        } => changepassword(&loaded, &username, password_stdin),
        Command::Import { file } => import(&loaded, &file),
        Command::Export { file } => export(&loaded, file.as_deref()),
        Command::Backup { file } => backup(&loaded, &file),
        Command::Sendtestemail { to } => sendtestemail(&loaded, &to),
        Command::Events { limit } => events(&loaded, limit),
        Command::Check { deploy } => check(&loaded, deploy),
    }
}

fn serve(loaded: &Loaded, no_migrate: bool) -> Result<ExitCode> {
    // Parsing the templates is most of start-up time: overlap it with opening
    // (and migrating) the database.
    let templates = crate::web::templates::parse_in_background(loaded.settings.templates_dir());
    let db = crate::open_db(loaded, !no_migrate)?;
    // Say how to create the first admin while there is none.
    let admins = users::store::admin_count(&mut db.conn()?)?;
    let hint = (admins == 0).then(|| {
        let config = std::env::args()
            .collect::<Vec<_>>()
            .windows(2)
            .find(|w| w[0] == "--config")
            .map(|w| format!(" --config {}", w[1]))
            .unwrap_or_default();
        format!("No administrator yet. Create one with:\n  carnet{config} createsuperuser")
    });
    let announce = rocket::fairing::AdHoc::on_liftoff("Announce the URL", move |r| {
        let url = format!(
            "http://{}:{}",
            display_host(&r.config().address.to_string()),
            r.config().port
        );
        let hint = hint;
        Box::pin(async move {
            println!("Carnet is running at {url}");
            if let Some(hint) = hint {
                println!("{hint}");
            }
            let _ = std::io::stdout().flush();
        })
    });
    let rocket = crate::rocket_with_templates(loaded, db, templates)?.attach(announce);
    // Our own runtime rather than `rocket::execute`, which would size it from
    // Rocket's global configuration instead of the settings loaded here.
    let config: rocket::Config = loaded
        .rocket_figment()?
        .extract()
        .map_err(|e| Error::Config(format!("invalid configuration: {e}")))?;
    let runtime = rocket::tokio::runtime::Builder::new_multi_thread()
        .worker_threads(config.workers.max(1))
        .max_blocking_threads(config.max_blocking.max(1))
        .thread_name("rocket-worker-thread")
        .enable_all()
        .build()
        .map_err(|e| Error::Config(format!("cannot start the runtime: {e}")))?;
    runtime
        .block_on(rocket.launch())
        .map_err(|e| Error::Config(launch_error(&e)))?;
    Ok(ExitCode::SUCCESS)
}

fn display_host(address: &str) -> String {
    match address {
        "0.0.0.0" => "127.0.0.1".into(),
        a if a.contains(':') => format!("[{a}]"),
        a => a.into(),
    }
}

fn launch_error(e: &rocket::Error) -> String {
    match e.kind() {
        rocket::error::ErrorKind::Bind(err) => {
            format!("cannot listen on the configured address: {err}")
        }
        rocket::error::ErrorKind::Config(err) => format!("invalid configuration: {err}"),
        other => format!("cannot start the server: {other}"),
    }
}

fn migrate(loaded: &Loaded, list: bool, check: bool) -> Result<ExitCode> {
    loaded.settings.prepare_dirs()?;
    let db = crate::db::Db::open(&loaded.settings.database_url)?;
    if list || check {
        let all = migrations::list(&db)?;
        if list {
            for m in &all {
                let mark = if m.applied { "[x]" } else { "[ ]" };
                println!("{mark} V{} {}", m.version, m.name);
            }
        }
        let pending = all.iter().filter(|m| !m.applied).count();
        if check {
            if pending > 0 {
                println!("{pending} pending migration(s)");
                return Ok(ExitCode::from(1));
            }
            println!("no pending migrations");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let applied = migrations::apply(&db)?;
    if applied.is_empty() {
        println!("no pending migrations");
    }
    for m in applied {
        println!("applied V{} {}", m.version, m.name);
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads one line from standard input, its line ending dropped.
fn read_stdin_line() -> Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Error::invalid(format!("cannot read standard input: {e}")))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

fn prompt(label: &str) -> Result<String> {
    eprint!("{label}: ");
    let _ = std::io::stderr().flush();
    read_stdin_line()
}

/// A new password from stdin, the environment, or a hidden prompt asked twice.
fn new_password(
    username: &str,
    from_stdin: bool,
    env: Option<&str>,
    interactive: bool,
) -> Result<String> {
    let check = |pw: String| {
        password::validate(&pw, username)
            .map(|_| pw)
            .map_err(Error::invalid)
    };
    if from_stdin {
        return check(read_stdin_line()?);
    }
    if let Some(var) = env {
        if let Ok(pw) = std::env::var(var) {
            return check(pw);
        }
    }
    if !interactive {
        return Err(Error::invalid(
            "no password given: use --password-stdin or CARNET_SUPERUSER_PASSWORD",
        ));
    }
    loop {
        let first = rpassword::prompt_password("Password: ")
            .map_err(|e| Error::invalid(format!("cannot read the password: {e}")))?;
        if let Err(message) = password::validate(&first, username) {
            eprintln!("{message}");
            continue;
        }
        let again = rpassword::prompt_password("Password (again): ")
            .map_err(|e| Error::invalid(format!("cannot read the password: {e}")))?;
        if first == again {
            return Ok(first);
        }
        eprintln!("The passwords do not match.");
    }
}

fn createsuperuser(
    loaded: &Loaded,
    username: Option<String>,
    email: Option<String>,
    password_stdin: bool,
    no_input: bool,
) -> Result<ExitCode> {
    let interactive = !no_input && std::io::stdin().is_terminal();
    let ask = |given: Option<String>, label: &str| -> Result<String> {
        match given {
            Some(v) => Ok(v),
            None if interactive => prompt(label),
            None => Err(Error::invalid(format!(
                "--{} is required with --no-input",
                label.to_lowercase()
            ))),
        }
    };
    let username =
        users::normalize_username(&ask(username, "Username")?).map_err(Error::invalid)?;
    let email = users::normalize_email(&ask(email, "Email")?).map_err(Error::invalid)?;
    let db = crate::open_db(loaded, false)?;
    let mut conn = db.conn()?;
    if users::store::by_username(&mut conn, &username)?.is_some() {
        return Err(Error::invalid(format!(
            "a user named {username:?} already exists"
        )));
    }
    if users::store::by_email(&mut conn, &email)?.is_some() {
        return Err(Error::invalid(format!(
            "the address {email} is already used"
        )));
    }
    let pw = new_password(
        &username,
        password_stdin,
        Some("CARNET_SUPERUSER_PASSWORD"),
        interactive && !password_stdin,
    )?;
    let hash = password::hash(&pw)?;
    users::store::create(
        &mut conn,
        &users::store::NewUser {
            username: &username,
            email: &email,
            display_name: "",
            role: Role::Admin,
            password_hash: Some(&hash),
            email_confirmed: true,
            created_at: dates::now(),
        },
    )?;
    println!("Superuser {username} created.");
    Ok(ExitCode::SUCCESS)
}

fn changepassword(loaded: &Loaded, username: &str, password_stdin: bool) -> Result<ExitCode> {
    let db = crate::open_db(loaded, false)?;
    let mut conn = db.conn()?;
    let user = users::store::require(&mut conn, &username.to_lowercase())?;
    let interactive = std::io::stdin().is_terminal();
    let pw = new_password(&user.username, password_stdin, None, interactive)?;
    users::store::set_password(&mut conn, user.id, &password::hash(&pw)?)?;
    println!(
        "Password changed for {}; their sessions have ended.",
        user.username
    );
    Ok(ExitCode::SUCCESS)
}

fn import(loaded: &Loaded, file: &Path) -> Result<ExitCode> {
    let mut json = String::new();
    if file == Path::new("-") {
        std::io::stdin()
            .read_to_string(&mut json)
            .map_err(|e| Error::invalid(format!("cannot read standard input: {e}")))?;
    } else {
        json = std::fs::read_to_string(file)
            .map_err(|e| Error::invalid(format!("cannot read {}: {e}", file.display())))?;
    }
    let site = transfer::parse(&json)?;
    let db = crate::open_db(loaded, false)?;
    let started = std::time::Instant::now();
    let report = transfer::import(&mut db.conn()?, &site)?;
    println!(
        "Imported {report} in {:.2} s.",
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

fn export(loaded: &Loaded, file: Option<&Path>) -> Result<ExitCode> {
    let db = crate::open_db(loaded, false)?;
    let site = transfer::export(&mut db.conn()?)?;
    let json = serde_json::to_vec_pretty(&site).map_err(|e| Error::internal("export", e))?;
    match file {
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(&json)?;
            out.write_all(b"\n")?;
        }
        Some(path) => {
            write_atomically(path, &json)?;
            eprintln!("Exported to {}.", path.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes a file through a temporary file renamed into place.
fn write_atomically(path: &Path, contents: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let fail = |e: std::io::Error| Error::invalid(format!("cannot write {}: {e}", path.display()));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(fail)?;
    tmp.write_all(contents).map_err(fail)?;
    tmp.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}

fn backup(loaded: &Loaded, file: &Path) -> Result<ExitCode> {
    let db = crate::open_db(loaded, false)?;
    db.backup(file)?;
    println!("Backed up to {}.", file.display());
    Ok(ExitCode::SUCCESS)
}

/// One line per event: id, time, kind, subject, state (and who handled it).
fn events(loaded: &Loaded, limit: u32) -> Result<ExitCode> {
    let db = crate::open_db(loaded, false)?;
    let mut conn = db.conn()?;
    for e in crate::events::outbox::recent(&mut conn, limit)? {
        let state = match (e.status.as_str(), &e.handled_by, &e.last_error) {
            ("done", Some(by), _) => format!("done by {by}"),
            (status, _, Some(error)) => format!("{status} after {} attempts: {error}", e.attempts),
            (status, _, None) => status.to_owned(),
        };
        println!(
            "{}\t{}\t{}\t{}\t{}\t{state}",
            e.event.id,
            dates::rfc3339(e.event.created_at),
            e.event.kind,
            e.event.subject_id,
            e.event.payload,
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Sends synchronously (not through the queue) and reports the server's answer.
fn sendtestemail(loaded: &Loaded, to: &str) -> Result<ExitCode> {
    let to = users::normalize_email(to).map_err(Error::invalid)?;
    let mailer = crate::mail::Mailer::new(loaded.settings.clone())?;
    let message = mailer.render("test", &to, None, serde_json::json!({}))?;
    let runtime = rocket::tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::internal("starting the runtime", e))?;
    let outcome = runtime.block_on(crate::mail::transport::deliver(
        &loaded.settings,
        0,
        &message,
    ));
    match outcome {
        Ok(where_to) => {
            println!("Test mail to {to} {where_to}.");
            Ok(ExitCode::SUCCESS)
        }
        Err(reason) => Err(Error::invalid(format!(
            "the test mail could not be sent: {reason}"
        ))),
    }
}

fn check(loaded: &Loaded, deploy: bool) -> Result<ExitCode> {
    let s = &loaded.settings;
    let mut problems = Vec::new();
    if let Err(e) = Location::parse(&s.database_url) {
        problems.push(e.to_string());
    }
    if let Err(e) = loaded.figment.extract::<rocket::Config>() {
        problems.push(format!(
            "invalid Rocket setting: {}",
            one_line(&e.to_string())
        ));
    }
    if deploy {
        problems.extend(deploy_problems(s));
    }
    if problems.is_empty() {
        println!(
            "No problems found{}.",
            if deploy { " for deployment" } else { "" }
        );
        return Ok(ExitCode::SUCCESS);
    }
    for p in &problems {
        println!("- {p}");
    }
    println!("{} problem(s) found.", problems.len());
    Ok(ExitCode::from(1))
}

/// Settings that are fine on a laptop but unsafe on a public server.
fn deploy_problems(s: &config::Settings) -> Vec<String> {
    use config::{MailTransport, SmtpSecurity};
    let mut out = Vec::new();
    if !s.https() {
        out.push(format!("site_url {} is not https: cookies travel in clear and links in mails and feeds are insecure", s.site_url));
    }
    if s.site_url.contains("://127.0.0.1") || s.site_url.contains("://localhost") {
        out.push(
            "site_url points at this machine: set it to the public address of the blog".into(),
        );
    }
    if s.smtp_username.is_some() && s.smtp_security == SmtpSecurity::None {
        out.push("SMTP credentials are configured with smtp_security = \"none\": they would be sent in clear".into());
    }
    if s.mail_transport == MailTransport::Log {
        out.push("mail_transport is \"log\": confirmation and password-reset mails only reach the outbox folder".into());
    } else if s.mail_from.contains("@localhost") {
        out.push(format!(
            "mail_from {:?} is not a deliverable address",
            s.mail_from
        ));
    }
    // Listening on loopback only makes sense behind a proxy on the same machine,
    // and then every client would share the proxy's address without ip_header.
    if s.ip_header.is_none() && s.address.is_loopback() {
        out.push("ip_header is unset while Carnet listens on loopback behind a proxy: set ip_header = \"X-Real-IP\" (and make the proxy overwrite it) so rate limits see real client addresses".into());
    }
    out
}
