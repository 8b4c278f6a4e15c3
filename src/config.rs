//! Settings: one typed value read from Rocket's figment — `Rocket.toml` profiles,
//! then `ROCKET_*`, then `CARNET_*` environment variables — and passed around as state.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use rand::RngCore;
use rocket::figment::providers::{Env, Format, Serialized, Toml};
use rocket::figment::{Figment, Profile};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailTransport {
    Log,
    Smtp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    None,
    Starttls,
    Tls,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Registration {
    Open,
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CommentsMode {
    Open,
    Members,
    Closed,
}

/// Rocket's `ip_header` is either a header name or `false`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum IpHeader {
    Off(bool),
    Header(String),
}

impl IpHeader {
    pub fn name(&self) -> Option<&str> {
        match self {
            IpHeader::Header(h) if !h.is_empty() => Some(h),
            _ => None,
        }
    }
}

/// Every Carnet setting, resolved (derived defaults filled in).
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    pub profile: String,
    pub address: IpAddr,
    pub port: u16,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub media_dir: PathBuf,
    pub site_url: String,
    pub site_title: String,
    pub site_description: String,
    pub site_lang: String,
    pub mail_transport: MailTransport,
    pub smtp_host: String,
    pub smtp_port: u16,
    pub smtp_security: SmtpSecurity,
    pub smtp_username: Option<String>,
    #[serde(skip_serializing)]
    pub smtp_password: Option<String>,
    pub mail_from: String,
    pub registration: Registration,
    pub comments: CommentsMode,
    pub max_upload_bytes: u64,
    pub ip_header: Option<String>,
    pub posts_per_page: u32,
    /// Top-level comments (each with its replies) on one page of a post.
    pub comments_per_page: u32,
    pub rates: RateLimits,
    /// First retry delay of a failed mail, doubled at each attempt (capped at one hour).
    pub mail_retry_base_secs: u64,
    /// Attempts before a mail is marked failed (kept, visible to admins).
    pub mail_max_attempts: u32,
    /// Days a sent or failed mail's record (and a `log` transport's outbox
    /// file) is kept before housekeeping removes it.
    pub mail_retention_days: u32,
    /// Anonymous comments sent sooner than this after the page was shown wait
    /// for moderation (a hint of a bot, never a reason to drop them).
    pub comment_min_seconds: i64,
    /// Comments with more links than this are stored as spam.
    pub comment_max_links: usize,
    /// Words or addresses that make a comment spam (case-insensitive).
    pub comment_blocklist: Vec<String>,
    /// True when `secret_key` came from the configuration rather than the key file.
    pub secret_key_configured: bool,
}

/// The raw form of the settings as they appear in the figment: derived values optional.
#[derive(Debug, Deserialize, Serialize)]
struct Raw {
    address: IpAddr,
    port: u16,
    data_dir: PathBuf,
    #[serde(skip_serializing_if = "Option::is_none")]
    database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    media_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    site_url: Option<String>,
    site_title: String,
    site_description: String,
    site_lang: String,
    mail_transport: MailTransport,
    smtp_host: String,
    smtp_port: u16,
    smtp_security: SmtpSecurity,
    #[serde(skip_serializing_if = "Option::is_none")]
    smtp_username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    smtp_password: Option<String>,
    mail_from: String,
    registration: Registration,
    comments: CommentsMode,
    max_upload_bytes: u64,
    ip_header: IpHeader,
    posts_per_page: u32,
    comments_per_page: u32,
    #[serde(flatten)]
    rates: RateLimits,
    mail_retry_base_secs: u64,
    mail_max_attempts: u32,
    mail_retention_days: u32,
    comment_min_seconds: i64,
    comment_max_links: usize,
    comment_blocklist: Vec<String>,
}

/// Requests allowed per client IP (and, for login failures, per account).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimits {
    pub rate_login_per_minute: u32,
    pub rate_login_failures_per_account: u32,
    pub rate_signup_per_hour: u32,
    pub rate_reset_per_hour: u32,
    pub rate_comments_per_minute: u32,
    pub rate_contact_per_hour: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            rate_login_per_minute: 10,
            rate_login_failures_per_account: 5,
            rate_signup_per_hour: 5,
            rate_reset_per_hour: 5,
            rate_comments_per_minute: 5,
            rate_contact_per_hour: 3,
        }
    }
}

impl Default for Raw {
    fn default() -> Self {
        Raw {
            address: IpAddr::from([127, 0, 0, 1]),
            port: 8000,
            data_dir: PathBuf::from("data"),
            database_url: None,
            media_dir: None,
            site_url: None,
            site_title: "Carnet".into(),
            site_description: String::new(),
            site_lang: "en".into(),
            mail_transport: MailTransport::Log,
            smtp_host: "localhost".into(),
            smtp_port: 587,
            smtp_security: SmtpSecurity::Starttls,
            smtp_username: None,
            smtp_password: None,
            mail_from: "Carnet <noreply@localhost>".into(),
            registration: Registration::Open,
            comments: CommentsMode::Open,
            max_upload_bytes: 10 * 1024 * 1024,
            // Off unless a proxy that overwrites the header sits in front (Rocket's own
            // default trusts X-Real-IP from anyone, which lets clients spoof their IP).
            ip_header: IpHeader::Off(false),
            posts_per_page: 10,
            // WordPress's default when comments are paged.
            comments_per_page: 50,
            rates: RateLimits::default(),
            mail_retry_base_secs: 15,
            mail_max_attempts: 12,
            mail_retention_days: 30,
            comment_min_seconds: 3,
            comment_max_links: 3,
            comment_blocklist: Vec::new(),
        }
    }
}

/// Settings plus the figment Rocket itself is configured from.
pub struct Loaded {
    pub settings: Settings,
    pub figment: Figment,
}

/// Which configuration file to read: `--config`, then `CARNET_CONFIG`, then
/// `ROCKET_CONFIG`, then `Rocket.toml` in the current folder (optional).
fn config_path(explicit: Option<&Path>) -> Result<Option<PathBuf>> {
    let named = explicit
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os("CARNET_CONFIG").map(PathBuf::from))
        .or_else(|| std::env::var_os("ROCKET_CONFIG").map(PathBuf::from));
    match named {
        Some(path) if path.is_file() => Ok(Some(path)),
        Some(path) => Err(Error::Config(format!(
            "configuration file {} does not exist",
            path.display()
        ))),
        None => {
            let default = PathBuf::from("Rocket.toml");
            Ok(default.is_file().then_some(default))
        }
    }
}

fn profile() -> Profile {
    Profile::from_env("CARNET_PROFILE")
        .or_else(|| Profile::from_env("ROCKET_PROFILE"))
        .unwrap_or(rocket::Config::DEFAULT_PROFILE)
}

/// Builds the figment: Rocket's defaults, ours, the TOML file, then the environment.
fn figment(path: Option<&Path>) -> Figment {
    // Blocking work is database work, and the pool has 8 connections: more
    // blocking threads than that only wait, each with its own memory.
    let rocket_defaults = rocket::Config {
        max_blocking: 16,
        ..rocket::Config::default()
    };
    let mut figment = Figment::from(rocket_defaults).merge(Serialized::defaults(Raw::default()));
    if let Some(path) = path {
        figment = figment.merge(Toml::file_exact(path).nested());
    }
    figment
        .merge(
            Env::prefixed("ROCKET_")
                .ignore(&["PROFILE", "CONFIG"])
                .global(),
        )
        .merge(
            Env::prefixed("CARNET_")
                .ignore(&["PROFILE", "CONFIG", "SUPERUSER_PASSWORD"])
                .global(),
        )
        .select(profile())
}

/// Reads and resolves the settings; touches nothing on disk.
pub fn load(explicit: Option<&Path>) -> Result<Loaded> {
    let path = config_path(explicit)?;
    let figment = figment(path.as_deref());
    let raw: Raw = figment
        .extract()
        .map_err(|e| Error::Config(format!("invalid configuration: {}", one_line(&e))))?;
    // Rocket's own defaults carry an all-zero key; only a key from the file or
    // the environment counts as configured.
    let secret_key_configured = figment
        .find_metadata("secret_key")
        .is_some_and(|m| !m.name.starts_with("rocket::Config"));
    let settings = resolve(
        raw,
        figment.profile().as_str().to_string(),
        secret_key_configured,
    )?;
    Ok(Loaded { settings, figment })
}

fn one_line(e: &rocket::figment::Error) -> String {
    e.to_string().replace('\n', " ")
}

fn resolve(raw: Raw, profile: String, secret_key_configured: bool) -> Result<Settings> {
    let data_dir = raw.data_dir;
    let database_url = raw
        .database_url
        .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("carnet.db").display()));
    let media_dir = raw.media_dir.unwrap_or_else(|| data_dir.join("media"));
    let site_url = raw
        .site_url
        .unwrap_or_else(|| default_site_url(raw.address, raw.port));
    let site_url = site_url.trim_end_matches('/').to_owned();
    if !(site_url.starts_with("http://") || site_url.starts_with("https://")) {
        return Err(Error::Config(format!(
            "site_url must start with http:// or https:// (got {site_url:?})"
        )));
    }
    if raw.posts_per_page == 0 || raw.posts_per_page > 100 {
        return Err(Error::Config(
            "posts_per_page must be between 1 and 100".into(),
        ));
    }
    if raw.comments_per_page == 0 || raw.comments_per_page > 1000 {
        return Err(Error::Config(
            "comments_per_page must be between 1 and 1000".into(),
        ));
    }
    Ok(Settings {
        profile,
        address: raw.address,
        port: raw.port,
        data_dir,
        database_url,
        media_dir,
        site_url,
        site_title: raw.site_title,
        site_description: raw.site_description,
        site_lang: raw.site_lang,
        mail_transport: raw.mail_transport,
        smtp_host: raw.smtp_host,
        smtp_port: raw.smtp_port,
        smtp_security: raw.smtp_security,
        smtp_username: raw.smtp_username.filter(|s| !s.is_empty()),
        smtp_password: raw.smtp_password.filter(|s| !s.is_empty()),
        mail_from: raw.mail_from,
        registration: raw.registration,
        comments: raw.comments,
        max_upload_bytes: raw.max_upload_bytes,
        ip_header: raw.ip_header.name().map(str::to_owned),
        posts_per_page: raw.posts_per_page,
        comments_per_page: raw.comments_per_page,
        rates: raw.rates,
        mail_retry_base_secs: raw.mail_retry_base_secs.max(1),
        mail_max_attempts: raw.mail_max_attempts.max(1),
        mail_retention_days: raw.mail_retention_days.max(1),
        comment_min_seconds: raw.comment_min_seconds.max(0),
        comment_max_links: raw.comment_max_links,
        comment_blocklist: raw.comment_blocklist,
        secret_key_configured,
    })
}

/// "Name <addr@host>" → ("Name", "addr@host"); a bare address has no name.
fn split_mailbox(mailbox: &str) -> (String, String) {
    match (mailbox.rfind('<'), mailbox.rfind('>')) {
        (Some(open), Some(close)) if open < close => (
            mailbox[..open].trim().trim_matches('"').to_owned(),
            mailbox[open + 1..close].trim().to_owned(),
        ),
        _ => (String::new(), mailbox.trim().to_owned()),
    }
}

fn default_site_url(address: IpAddr, port: u16) -> String {
    match address {
        IpAddr::V6(a) => format!("http://[{a}]:{port}"),
        IpAddr::V4(a) if a.is_unspecified() => format!("http://127.0.0.1:{port}"),
        IpAddr::V4(a) => format!("http://{a}:{port}"),
    }
}

impl Settings {
    pub fn outbox_dir(&self) -> PathBuf {
        self.data_dir.join("outbox")
    }

    /// The `mail_from` setting split into display name and address.
    pub fn mail_from_parts(&self) -> (String, String) {
        split_mailbox(&self.mail_from)
    }

    pub fn templates_dir(&self) -> PathBuf {
        self.data_dir.join("templates")
    }

    pub fn https(&self) -> bool {
        self.site_url.starts_with("https://")
    }

    /// Creates the data folder, the media folder and the template override
    /// folder. A data folder Carnet creates is private (0700) whatever the
    /// umask; when it holds the media folder it is 0711 instead, so a proxy
    /// serving `/media/` from disk can pass through it (it still cannot list
    /// it, and the database, key and outbox files in it are 0600). Media
    /// files are public (0644, folder 0755). Folders that already exist keep
    /// the mode their owner gave them (e.g. systemd's `StateDirectoryMode`).
    pub fn prepare_dirs(&self) -> Result<()> {
        let media_inside = self.media_dir.starts_with(&self.data_dir);
        let data_mode = if media_inside { 0o711 } else { 0o700 };
        for (dir, mode) in [
            (&self.data_dir, data_mode),
            (&self.media_dir, 0o755),
            (&self.templates_dir(), 0o700),
        ] {
            create_dir_with_mode(dir, mode).map_err(|e| {
                Error::Config(format!("cannot create folder {}: {e}", dir.display()))
            })?;
        }
        Ok(())
    }
}

impl Loaded {
    /// The figment Rocket launches with: our settings applied over Rocket's keys
    /// (secret key from the key file when none is configured, our `ip_header`
    /// default, template folder, upload limits).
    pub fn rocket_figment(&self) -> Result<Figment> {
        let s = &self.settings;
        let mut figment = self.figment.clone();
        if !s.secret_key_configured {
            figment = figment.merge(("secret_key", secret_key_from_file(&s.data_dir)?));
        }
        let upload = format!("{}B", s.max_upload_bytes + 64 * 1024);
        figment = figment
            .merge((
                "ip_header",
                s.ip_header
                    .clone()
                    .map_or(IpHeader::Off(false), IpHeader::Header),
            ))
            .join(("template_dir", s.templates_dir()))
            // Long posts and pages are sent as plain forms too (the page editor).
            .merge(("limits.form", "2MiB"))
            // A text field of a multipart form (the post editor's body) counts as a string.
            .merge(("limits.string", "2MiB"))
            .merge(("limits.data-form", upload.clone()))
            .merge(("limits.file", upload));
        Ok(figment)
    }
}

/// Reads `<data_dir>/secret_key`, creating it (mode 0600) with 64 random bytes
/// on first run so cookies survive restarts with zero setup.
pub fn secret_key_from_file(data_dir: &Path) -> Result<String> {
    let path = data_dir.join("secret_key");
    match std::fs::read_to_string(&path) {
        Ok(key) if !key.trim().is_empty() => return Ok(key.trim().to_owned()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(Error::Config(format!(
                "cannot read {}: {e}",
                path.display()
            )));
        }
    }
    let mut bytes = [0u8; 64];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let key = base64::engine::general_purpose::STANDARD.encode(bytes);
    write_private(&path, key.as_bytes())
        .map_err(|e| Error::Config(format!("cannot write {}: {e}", path.display())))?;
    Ok(key)
}

/// Creates `dir` (and its parents) if missing, giving the new folder `mode`
/// whatever the umask; an existing folder is left as it is.
pub fn create_dir_with_mode(dir: &Path, mode: u32) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode))?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    Ok(())
}

/// Makes an existing file readable by its owner only (the database, its
/// write-ahead log); a missing file is not an error.
pub fn make_private(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        match std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Writes a file readable by its owner only, atomically (temp file renamed into place).
fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    tmp.write_all(contents)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
