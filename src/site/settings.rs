//! Site settings stored in the database (the `site_settings` table's owner),
//! edited in the admin: they override the
//! `Rocket.toml` values for the title, description, comments and registration
//! modes and list length. Read on every request, so every instance agrees.

use crate::config::{CommentsMode, Registration, Settings};
use crate::db::Conn;
use crate::error::Result;
use crate::params;

/// Every key an admin can override.
pub const KEYS: &[&str] = &[
    "site_title",
    "site_description",
    "comments",
    "registration",
    "comment_blocklist",
    "posts_per_page",
];

/// The stored overrides, by key (export).
pub fn all(c: &mut Conn) -> Result<std::collections::BTreeMap<String, String>> {
    c.query("SELECT \"key\", value FROM site_settings", params![])?
        .iter()
        .map(|row| Ok((row.get(0)?, row.get(1)?)))
        .collect()
}

/// The settings with the database overrides applied.
pub fn effective(c: &mut Conn, base: &Settings) -> Result<Settings> {
    let mut s = base.clone();
    for row in c.query("SELECT \"key\", value FROM site_settings", params![])? {
        let key: String = row.get(0)?;
        let value: String = row.get(1)?;
        apply(&mut s, &key, &value);
    }
    Ok(s)
}

/// Applies one override; unknown keys and invalid values are ignored.
fn apply(s: &mut Settings, key: &str, value: &str) {
    match key {
        "site_title" => s.site_title = value.to_owned(),
        "site_description" => s.site_description = value.to_owned(),
        "comments" => {
            if let Some(mode) = parse_comments(value) {
                s.comments = mode;
            }
        }
        "registration" => {
            if let Some(mode) = parse_registration(value) {
                s.registration = mode;
            }
        }
        "comment_blocklist" => s.comment_blocklist = parse_blocklist(value),
        "posts_per_page" => {
            if let Ok(n @ 1..=100) = value.parse::<u32>() {
                s.posts_per_page = n;
            }
        }
        _ => {}
    }
}

/// One word or address per line; blank lines ignored.
pub fn parse_blocklist(value: &str) -> Vec<String> {
    value
        .lines()
        .map(|l| l.trim().to_lowercase())
        .filter(|l| !l.is_empty())
        .collect()
}

pub fn parse_comments(value: &str) -> Option<CommentsMode> {
    match value {
        "open" => Some(CommentsMode::Open),
        "members" => Some(CommentsMode::Members),
        "closed" => Some(CommentsMode::Closed),
        _ => None,
    }
}

pub fn parse_registration(value: &str) -> Option<Registration> {
    match value {
        "open" => Some(Registration::Open),
        "closed" => Some(Registration::Closed),
        _ => None,
    }
}

/// Stores the overrides (one transaction).
pub fn save(c: &mut Conn, values: &[(&str, String)]) -> Result<()> {
    c.transaction(|c| {
        for (key, value) in values {
            c.execute("DELETE FROM site_settings WHERE \"key\" = ?", params![*key])?;
            c.execute(
                "INSERT INTO site_settings (\"key\", value) VALUES (?, ?)",
                params![*key, value],
            )?;
        }
        Ok(())
    })
}
