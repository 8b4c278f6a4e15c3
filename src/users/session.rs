//! Server-side sessions. The browser holds a random 256-bit token in a private
//! (encrypted, HttpOnly, SameSite=Lax) cookie; the database holds only its
//! SHA-256, so a copy of the database opens no session. Sessions slide: each use
//! pushes the expiry back (written at most once a minute).

use rocket::http::{Cookie, CookieJar, SameSite};

use super::{Role, User};
use crate::db::Conn;
use crate::error::Result;
use crate::ground::dates;
use crate::ground::tokens::{digest, random_token};
use crate::params;

pub const COOKIE: &str = crate::web::identity::SESSION_COOKIE;
/// A session unused for this long ends.
pub const IDLE_SECS: i64 = 14 * 24 * 3600;

/// The logged-in user of a request, with the session's CSRF token.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    pub user: User,
    pub csrf_token: String,
    /// The expiry was pushed back by this request: the cookie's Max-Age is
    /// sent again, so the browser keeps it as long as the server does.
    pub renewed: bool,
}

/// Starts a new session for `user_id`; returns the cookie value. A new id at
/// every login means a session id planted before login is worthless.
pub fn create(
    c: &mut Conn,
    user_id: i64,
    ip: Option<String>,
    user_agent: Option<String>,
) -> Result<String> {
    let token = random_token();
    let now = dates::now();
    c.execute(
        "INSERT INTO sessions (id, user_id, csrf_token, created_at, last_seen_at, expires_at, ip, user_agent) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        params![digest(&token), user_id, random_token(), now, now, now + IDLE_SECS, ip, user_agent],
    )?;
    Ok(token)
}

/// The live session of a cookie token, its expiry pushed back.
pub fn lookup(c: &mut Conn, token: &str) -> Result<Option<Session>> {
    let now = dates::now();
    let id = digest(token);
    let Some(r) = c.query_opt(
        "SELECT s.csrf_token, s.last_seen_at, u.id, u.username, u.email, u.display_name, u.bio, u.avatar, \
         u.role, u.is_active, u.email_confirmed, u.created_at \
         FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.id = ? AND s.expires_at > ? AND u.is_active = 1",
        params![&id, now],
    )?
    else {
        return Ok(None);
    };
    let last_seen: i64 = r.get(1)?;
    let renewed = now - last_seen > 60;
    if renewed {
        c.execute(
            "UPDATE sessions SET last_seen_at = ?, expires_at = ? WHERE id = ?",
            params![now, now + IDLE_SECS, &id],
        )?;
    }
    let role: String = r.get(8)?;
    Ok(Some(Session {
        id,
        renewed,
        csrf_token: r.get(0)?,
        user: User {
            id: r.get(2)?,
            username: r.get(3)?,
            email: r.get(4)?,
            display_name: r.get(5)?,
            bio: r.get(6)?,
            avatar: r.get(7)?,
            role: Role::parse(&role).unwrap_or(Role::Member),
            is_active: r.get(9)?,
            email_confirmed: r.get(10)?,
            created_at: r.get(11)?,
        },
    }))
}

pub fn delete(c: &mut Conn, id: &str) -> Result<()> {
    c.execute("DELETE FROM sessions WHERE id = ?", params![id])?;
    Ok(())
}

/// Ends every session of a user (password change, reset, deactivation).
pub fn delete_all(c: &mut Conn, user_id: i64) -> Result<()> {
    c.execute("DELETE FROM sessions WHERE user_id = ?", params![user_id])?;
    Ok(())
}

/// Removes expired sessions (run now and then by the housekeeping task).
pub fn purge_expired(c: &mut Conn) -> Result<u64> {
    c.execute(
        "DELETE FROM sessions WHERE expires_at <= ?",
        params![dates::now()],
    )
}

/// Sets the session cookie: private, HttpOnly, SameSite=Lax, Secure on https sites.
pub fn set_cookie(jar: &CookieJar<'_>, token: String, secure: bool) {
    let cookie = Cookie::build((COOKIE, token))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .path("/")
        .max_age(time::Duration::seconds(IDLE_SECS));
    jar.add_private(cookie);
}

pub fn clear_cookie(jar: &CookieJar<'_>) {
    jar.remove_private(Cookie::build(COOKIE).path("/"));
}
