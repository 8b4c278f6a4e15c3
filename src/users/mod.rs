//! Users: the account model, its store, sessions and guards, password rules
//! and hashing, and the account pages.

pub mod guards;
pub mod password;
pub mod routes;
pub mod session;
pub mod store;
pub mod tokens;

use rocket::fairing::AdHoc;
use serde::Serialize;

/// The account pages, and who is logged in for the web layer
/// (`web::identity::Identify`).
pub fn stage() -> AdHoc {
    AdHoc::on_ignite("Accounts", |rocket| async {
        rocket
            .manage(crate::web::identity::Identify(guards::identify))
            .mount("/", routes::routes())
    })
}

/// What a user may do, from most to least powerful.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Member,
    Author,
    Editor,
    Admin,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "editor" => Some(Role::Editor),
            "author" => Some(Role::Author),
            "member" => Some(Role::Member),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Editor => "editor",
            Role::Author => "author",
            Role::Member => "member",
        }
    }
}

/// A user row (the password hash stays in the store).
#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub display_name: String,
    pub bio: String,
    pub avatar: Option<String>,
    pub role: Role,
    pub is_active: bool,
    pub email_confirmed: bool,
    pub created_at: i64,
}

impl User {
    /// The name shown on pages: the display name, or the username when unset.
    pub fn shown_name(&self) -> &str {
        if self.display_name.trim().is_empty() {
            &self.username
        } else {
            &self.display_name
        }
    }
}

/// Usernames: 1–30 characters among lowercase letters, digits, `_`, `.`, `-`.
pub fn normalize_username(raw: &str) -> Result<String, String> {
    let name = raw.trim().to_lowercase();
    if name.is_empty() || name.len() > 30 {
        return Err("a username has 1 to 30 characters".into());
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-".contains(&b))
    {
        return Err("a username may only use letters, digits, '_', '.' and '-'".into());
    }
    Ok(name)
}

/// A plausible email address, lowercased; no header-breaking characters.
pub fn normalize_email(raw: &str) -> Result<String, String> {
    let email = raw.trim().to_lowercase();
    let valid = email.len() <= 254
        && !email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>,;\"".contains(c))
        && matches!(email.split_once('@'), Some((local, domain)) if !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.') && !domain.contains('@'));
    if valid {
        Ok(email)
    } else {
        Err(format!("{raw:?} is not a valid email address"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_and_emails() {
        assert_eq!(normalize_username(" Alice ").unwrap(), "alice");
        assert!(normalize_username("a b").is_err());
        assert!(normalize_username("").is_err());
        assert_eq!(
            normalize_email("Bob@Example.org").unwrap(),
            "bob@example.org"
        );
        assert!(normalize_email("bob@example").is_err());
        assert!(normalize_email("a@b.c\r\nBcc: x@y.z").is_err());
        assert!(normalize_email("@b.com").is_err());
    }
}
