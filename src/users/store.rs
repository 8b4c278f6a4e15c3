//! SQL for users.

use super::{Role, User};
use crate::db::{Conn, Row};
use crate::error::{Error, Result};
use crate::params;

const COLUMNS: &str =
    "id, username, email, display_name, bio, avatar, role, is_active, email_confirmed, created_at";

fn from_row(r: &Row) -> Result<User> {
    let role: String = r.get(6)?;
    Ok(User {
        id: r.get(0)?,
        username: r.get(1)?,
        email: r.get(2)?,
        display_name: r.get(3)?,
        bio: r.get(4)?,
        avatar: r.get(5)?,
        role: Role::parse(&role).unwrap_or(Role::Member),
        is_active: r.get(7)?,
        email_confirmed: r.get(8)?,
        created_at: r.get(9)?,
    })
}

/// The fields of a new account.
pub struct NewUser<'a> {
    pub username: &'a str,
    pub email: &'a str,
    pub display_name: &'a str,
    pub role: Role,
    pub password_hash: Option<&'a str>,
    pub email_confirmed: bool,
    pub created_at: i64,
}

pub fn create(c: &mut Conn, u: &NewUser<'_>) -> Result<i64> {
    c.insert(
        "INSERT INTO users (username, email, display_name, role, password_hash, email_confirmed, created_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        params![u.username, u.email, u.display_name, u.role.as_str(), u.password_hash, u.email_confirmed, u.created_at, u.created_at],
    )
}

pub fn by_username(c: &mut Conn, username: &str) -> Result<Option<User>> {
    c.query_opt(
        &format!("SELECT {COLUMNS} FROM users WHERE username = ?"),
        params![username],
    )?
    .as_ref()
    .map(from_row)
    .transpose()
}

/// A page of users, oldest first.
pub fn list(c: &mut Conn, limit: u32, offset: i64) -> Result<Vec<User>> {
    c.query(
        &format!("SELECT {COLUMNS} FROM users ORDER BY id LIMIT ? OFFSET ?"),
        params![limit, offset],
    )?
    .iter()
    .map(from_row)
    .collect()
}

pub fn by_id(c: &mut Conn, id: i64) -> Result<Option<User>> {
    c.query_opt(
        &format!("SELECT {COLUMNS} FROM users WHERE id = ?"),
        params![id],
    )?
    .as_ref()
    .map(from_row)
    .transpose()
}

pub fn by_email(c: &mut Conn, email: &str) -> Result<Option<User>> {
    c.query_opt(
        &format!("SELECT {COLUMNS} FROM users WHERE email = ?"),
        params![email],
    )?
    .as_ref()
    .map(from_row)
    .transpose()
}

/// The user with this username, or an error that names it.
pub fn require(c: &mut Conn, username: &str) -> Result<User> {
    by_username(c, username)?.ok_or_else(|| Error::invalid(format!("no user named {username:?}")))
}

pub fn admin_count(c: &mut Conn) -> Result<i64> {
    c.query_scalar(
        "SELECT COUNT(*) FROM users WHERE role = 'admin' AND is_active = 1",
        params![],
    )
}

pub fn password_hash(c: &mut Conn, user_id: i64) -> Result<Option<String>> {
    match c.query_opt(
        "SELECT password_hash FROM users WHERE id = ?",
        params![user_id],
    )? {
        Some(row) => row.get(0),
        None => Ok(None),
    }
}

/// Sets a new password hash and ends every session of the user.
pub fn set_password(c: &mut Conn, user_id: i64, hash: &str) -> Result<()> {
    c.transaction(|c| {
        c.execute(
            "UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?",
            params![hash, crate::dates::now(), user_id],
        )?;
        c.execute("DELETE FROM sessions WHERE user_id = ?", params![user_id])?;
        Ok(())
    })
}

/// Authors with at least one public post, with the count (for the sitemap and the author page).
pub fn published_post_count(c: &mut Conn, user_id: i64, now: i64) -> Result<i64> {
    c.query_scalar(
        "SELECT COUNT(*) FROM posts WHERE author_id = ? AND status = 'published' AND published_at <= ?",
        params![user_id, now],
    )
}

/// Emails of every active admin (contact form recipients).
pub fn admin_emails(c: &mut Conn) -> Result<Vec<String>> {
    c.query(
        "SELECT email FROM users WHERE role = 'admin' AND is_active = 1 ORDER BY id",
        params![],
    )?
    .iter()
    .map(|r| r.get(0))
    .collect()
}

pub fn update_profile(c: &mut Conn, user_id: i64, display_name: &str, bio: &str) -> Result<()> {
    c.execute(
        "UPDATE users SET display_name = ?, bio = ?, updated_at = ? WHERE id = ?",
        params![display_name, bio, crate::dates::now(), user_id],
    )?;
    Ok(())
}

/// Sets (or clears) the avatar file name; returns the previous one.
pub fn set_avatar(c: &mut Conn, user_id: i64, avatar: Option<&str>) -> Result<Option<String>> {
    let previous: Option<String> =
        match c.query_opt("SELECT avatar FROM users WHERE id = ?", params![user_id])? {
            Some(r) => r.get(0)?,
            None => None,
        };
    c.execute(
        "UPDATE users SET avatar = ?, updated_at = ? WHERE id = ?",
        params![avatar, crate::dates::now(), user_id],
    )?;
    Ok(previous)
}
