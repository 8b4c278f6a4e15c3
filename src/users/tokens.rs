//! Single-use, expiring tokens sent by mail (email confirmation, password reset,
//! change of address). Only their SHA-256 is stored.

use subtle::ConstantTimeEq;

use crate::db::Conn;
use crate::error::Result;
use crate::ground::tokens::{digest, random_token};
use crate::{ground::dates, params};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    ConfirmEmail,
    PasswordReset,
    ChangeEmail,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::ConfirmEmail => "confirm_email",
            Kind::PasswordReset => "password_reset",
            Kind::ChangeEmail => "change_email",
        }
    }

    fn parse(s: &str) -> Option<Kind> {
        match s {
            "confirm_email" => Some(Kind::ConfirmEmail),
            "password_reset" => Some(Kind::PasswordReset),
            "change_email" => Some(Kind::ChangeEmail),
            _ => None,
        }
    }

    /// How long a token of this kind lives.
    pub fn ttl_secs(self) -> i64 {
        match self {
            Kind::PasswordReset => 3600,
            Kind::ConfirmEmail | Kind::ChangeEmail => 24 * 3600,
        }
    }
}

/// A token that was valid and is now used.
#[derive(Debug, Clone)]
pub struct Redeemed {
    pub user_id: i64,
    pub kind: Kind,
    pub data: Option<String>,
}

/// Creates a token; earlier unused tokens of the same kind for the user are void.
pub fn issue(c: &mut Conn, user_id: i64, kind: Kind, data: Option<&str>) -> Result<String> {
    let now = dates::now();
    c.execute(
        "UPDATE tokens SET used_at = ? WHERE user_id = ? AND kind = ? AND used_at IS NULL",
        params![now, user_id, kind.as_str()],
    )?;
    let token = random_token();
    c.execute(
        "INSERT INTO tokens (user_id, kind, token_hash, data, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        params![user_id, kind.as_str(), digest(&token), data, now + kind.ttl_secs(), now],
    )?;
    Ok(token)
}

/// The token's details if it exists, is of one of `kinds`, unused and unexpired.
pub fn peek(c: &mut Conn, token: &str, kinds: &[Kind]) -> Result<Option<Redeemed>> {
    let hash = digest(token);
    let Some(r) = c.query_opt(
        "SELECT token_hash, user_id, kind, data FROM tokens WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?",
        params![&hash, dates::now()],
    )?
    else {
        return Ok(None);
    };
    let stored: String = r.get(0)?;
    if !bool::from(stored.as_bytes().ct_eq(hash.as_bytes())) {
        return Ok(None);
    }
    let kind: String = r.get(2)?;
    match Kind::parse(&kind) {
        Some(kind) if kinds.contains(&kind) => Ok(Some(Redeemed {
            user_id: r.get(1)?,
            kind,
            data: r.get(3)?,
        })),
        _ => Ok(None),
    }
}

/// Uses the token: returns its details once, `None` ever after.
pub fn redeem(c: &mut Conn, token: &str, kinds: &[Kind]) -> Result<Option<Redeemed>> {
    let Some(found) = peek(c, token, kinds)? else {
        return Ok(None);
    };
    let used = c.execute(
        "UPDATE tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL",
        params![dates::now(), digest(token)],
    )?;
    Ok((used == 1).then_some(found))
}

/// Removes used and expired tokens (housekeeping).
pub fn purge(c: &mut Conn) -> Result<u64> {
    let now = dates::now();
    c.execute(
        "DELETE FROM tokens WHERE expires_at <= ? OR (used_at IS NOT NULL AND used_at < ?)",
        params![now, now - 7 * 24 * 3600],
    )
}

/// The address waiting for confirmation, if the user asked to change it.
pub fn pending_email(c: &mut Conn, user_id: i64, now: i64) -> Result<Option<String>> {
    match c.query_opt(
        "SELECT data FROM tokens WHERE user_id = ? AND kind = 'change_email' AND used_at IS NULL AND expires_at > ? \
         ORDER BY id DESC LIMIT 1",
        params![user_id, now],
    )? {
        Some(r) => r.get(0),
        None => Ok(None),
    }
}
