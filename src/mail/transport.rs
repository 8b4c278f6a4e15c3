//! Delivering one message: to an SMTP server (mail-send) or, with the zero-setup
//! `log` transport, to the log and an `.eml` file in `<data_dir>/outbox/`.

use std::time::Duration;

use mail_send::mail_builder::MessageBuilder;
use mail_send::smtp::tls::build_tls_connector;
use mail_send::SmtpClientBuilder;

use super::Message;
use crate::config::{MailTransport, Settings, SmtpSecurity};

const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Builds the MIME message (multipart text + HTML).
fn build<'a>(settings: &'a Settings, m: &'a Message) -> MessageBuilder<'a> {
    let (name, address) = settings.mail_from_parts();
    let mut builder = MessageBuilder::new()
        .from((name, address))
        .to(m.to.as_str())
        .subject(m.subject.as_str())
        .text_body(m.text.as_str())
        .html_body(m.html.as_str());
    if let Some(reply_to) = &m.reply_to {
        builder = builder.reply_to(reply_to.as_str());
    }
    builder
}

/// Delivers `m`; `Ok` carries a short description of where it went, `Err` the reason.
pub async fn deliver(settings: &Settings, id: i64, m: &Message) -> Result<String, String> {
    match settings.mail_transport {
        MailTransport::Log => write_to_outbox(settings, id, m),
        MailTransport::Smtp => send_smtp(settings, m).await,
    }
}

fn write_to_outbox(settings: &Settings, id: i64, m: &Message) -> Result<String, String> {
    let bytes = build(settings, m)
        .write_to_vec()
        .map_err(|e| e.to_string())?;
    let dir = settings.outbox_dir();
    crate::config::create_dir_with_mode(&dir, 0o700)
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let stamp = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
    let path = dir.join(format!("{stamp}-{id}.eml"));
    // Mails hold reset and confirmation links: readable by Carnet's user only.
    // Written beside the outbox (same file system), then renamed into it: a
    // reader of the outbox never sees a half-written mail.
    let partial = dir
        .parent()
        .unwrap_or(&dir)
        .join(format!(".outbox-{stamp}-{id}.part"));
    let write = || -> std::io::Result<()> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        std::io::Write::write_all(&mut options.open(&partial)?, &bytes)?;
        std::fs::rename(&partial, &path)
    };
    write().map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    log::info!(
        "mail to {} “{}” written to {}",
        m.to,
        m.subject,
        path.display()
    );
    Ok(format!("written to {}", path.display()))
}

/// Removes outbox files older than `keep`; returns how many.
pub fn purge_outbox(dir: &std::path::Path, keep: Duration) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > keep);
        let eml = entry.path().extension().is_some_and(|e| e == "eml");
        if old && eml && std::fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

async fn send_smtp(settings: &Settings, m: &Message) -> Result<String, String> {
    let host = settings.smtp_host.clone();
    let port = settings.smtp_port;
    let mut builder = match settings.smtp_security {
        // Plain SMTP needs no CA roots; the connector is never used.
        SmtpSecurity::None => SmtpClientBuilder::new_with_tls_connector(
            host.clone(),
            port,
            build_tls_connector(true)?,
        ),
        SmtpSecurity::Starttls | SmtpSecurity::Tls => SmtpClientBuilder::new(host.clone(), port)?,
    }
    .implicit_tls(settings.smtp_security == SmtpSecurity::Tls)
    .timeout(SMTP_TIMEOUT);
    if let (Some(user), Some(pass)) = (&settings.smtp_username, &settings.smtp_password) {
        builder = builder.credentials((user.clone(), pass.clone()));
    }
    let message = build(settings, m);
    let fail = |e: mail_send::Error| format!("{host}:{port}: {e}");
    if settings.smtp_security == SmtpSecurity::None {
        let mut client = builder.connect_plain().await.map_err(fail)?;
        client.send(message).await.map_err(fail)?;
        let _ = client.quit().await;
    } else {
        let mut client = builder.connect().await.map_err(fail)?;
        client.send(message).await.map_err(fail)?;
        let _ = client.quit().await;
    }
    Ok(format!("accepted by {host}:{port}"))
}
