//! SQL for users.

use super::{Role, User};
use crate::db::{Conn, Row};
use crate::error::{Error, Result};
use crate::ground::dates;
use crate::params;
use crate::transfer::format::UserRecord;

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
            params![hash, dates::now(), user_id],
        )?;
        super::session::delete_all(c, user_id)?;
        Ok(())
    })
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
        params![display_name, bio, dates::now(), user_id],
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
        params![avatar, dates::now(), user_id],
    )?;
    Ok(previous)
}

/// How many accounts there are.
pub fn count(c: &mut Conn) -> Result<i64> {
    c.query_scalar("SELECT COUNT(*) FROM users", params![])
}

/// Who hears about a new comment: the post's author and every active editor
/// and admin, except `commenter` (a member who wrote it).
pub fn comment_moderators(
    c: &mut Conn,
    post_author: i64,
    commenter: Option<i64>,
) -> Result<Vec<String>> {
    c.query(
        "SELECT email FROM users WHERE is_active = 1 AND (id = ? OR role IN ('admin', 'editor')) AND id <> ? ORDER BY id",
        params![post_author, commenter.unwrap_or(-1)],
    )?
    .iter()
    .map(|r| r.get(0))
    .collect()
}

/// Whether removing admin rights from (or deactivating) `id` would leave no
/// active admin. Run inside the transaction that makes the change: the active
/// admins' rows stay locked until it ends, so two admins demoting each other
/// at the same moment are taken one after the other, and the second is refused.
pub fn last_admin(c: &mut Conn, id: i64) -> Result<bool> {
    let sql = format!(
        "SELECT id FROM users WHERE role = 'admin' AND is_active = 1{}",
        c.for_update()
    );
    for row in &c.query(&sql, params![])? {
        if row.get::<i64>(0)? != id {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Sets a user's role; false when there is no such user.
pub fn set_role(c: &mut Conn, id: i64, role: Role, now: i64) -> Result<bool> {
    Ok(c.execute(
        "UPDATE users SET role = ?, updated_at = ? WHERE id = ?",
        params![role.as_str(), now, id],
    )? > 0)
}

/// Activates or deactivates an account; false when there is no such user.
pub fn set_active(c: &mut Conn, id: i64, active: bool, now: i64) -> Result<bool> {
    Ok(c.execute(
        "UPDATE users SET is_active = ?, updated_at = ? WHERE id = ?",
        params![active, now, id],
    )? > 0)
}

/// Marks the address confirmed, replacing it with `new_email` when given.
pub fn confirm_email(c: &mut Conn, id: i64, new_email: Option<&str>, now: i64) -> Result<()> {
    match new_email {
        Some(new) => c.execute(
            "UPDATE users SET email = ?, email_confirmed = 1, updated_at = ? WHERE id = ?",
            params![new, now, id],
        ),
        None => c.execute(
            "UPDATE users SET email_confirmed = 1, updated_at = ? WHERE id = ?",
            params![now, id],
        ),
    }?;
    Ok(())
}

/// Replaces a password hash without touching `updated_at` (a rehash on login).
pub fn rehash_password(c: &mut Conn, id: i64, hash: &str) -> Result<()> {
    c.execute(
        "UPDATE users SET password_hash = ? WHERE id = ?",
        params![hash, id],
    )?;
    Ok(())
}

/// Every user record for `carnet export`.
pub fn export_records(c: &mut Conn) -> Result<Vec<UserRecord>> {
    c.query(
        "SELECT username, email, display_name, bio, avatar, role, password_hash, is_active, email_confirmed, \
         created_at, updated_at FROM users ORDER BY id",
        params![],
    )?
    .iter()
    .map(|r| {
        Ok(UserRecord {
            username: r.get(0)?,
            email: r.get(1)?,
            display_name: r.get(2)?,
            bio: r.get(3)?,
            avatar: r.get(4)?,
            role: r.get(5)?,
            password_hash: r.get(6)?,
            is_active: r.get(7)?,
            email_confirmed: r.get(8)?,
            created_at: Some(dates::rfc3339(r.get(9)?)),
            updated_at: Some(dates::rfc3339(r.get(10)?)),
        })
    })
    .collect()
}

/// A user as an import file gives it.
#[derive(Debug, Clone)]
pub struct Imported<'a> {
    pub username: &'a str,
    pub email: &'a str,
    pub display_name: &'a str,
    pub bio: &'a str,
    pub avatar: Option<&'a str>,
    pub role: Role,
    /// `None` keeps an existing user's password (and leaves a new one without).
    pub password_hash: Option<&'a str>,
    pub is_active: bool,
    pub email_confirmed: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Creates the user, or replaces user `existing`; returns the id.
pub fn upsert_imported(c: &mut Conn, existing: Option<i64>, u: &Imported<'_>) -> Result<i64> {
    match existing {
        Some(id) => {
            c.execute(
                "UPDATE users SET email = ?, display_name = ?, bio = ?, avatar = ?, role = ?, is_active = ?, \
                 email_confirmed = ?, password_hash = COALESCE(?, password_hash), created_at = ?, updated_at = ? \
                 WHERE id = ?",
                params![u.email, u.display_name, u.bio, u.avatar, u.role.as_str(), u.is_active,
                    u.email_confirmed, u.password_hash, u.created_at, u.updated_at, id],
            )?;
            Ok(id)
        }
        None => c.insert(
            "INSERT INTO users (username, email, display_name, bio, avatar, role, password_hash, is_active, \
             email_confirmed, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            params![u.username, u.email, u.display_name, u.bio, u.avatar, u.role.as_str(),
                u.password_hash, u.is_active, u.email_confirmed, u.created_at, u.updated_at],
        ),
    }
}
