//! Password rules and argon2id hashing (PHC strings).

use argon2::password_hash::{phc::PasswordHash, PasswordHasher, PasswordVerifier};
use argon2::Argon2;

use crate::error::{Error, Result};

pub const MIN_LENGTH: usize = 10;

/// Checks the rules every password must meet; the message says what is wrong.
pub fn validate(password: &str, username: &str) -> Result<(), String> {
    if password.chars().count() < MIN_LENGTH {
        return Err(format!(
            "the password must have at least {MIN_LENGTH} characters"
        ));
    }
    if password.chars().all(|c| c.is_ascii_digit()) {
        return Err("the password cannot be only digits".into());
    }
    if password.eq_ignore_ascii_case(username) {
        return Err("the password cannot be the username".into());
    }
    if is_common(password) {
        return Err("this password is too common: choose another".into());
    }
    Ok(())
}

static COMMON: &str = include_str!("common_passwords.txt");

fn is_common(password: &str) -> bool {
    let lower = password.to_lowercase();
    COMMON.lines().any(|line| line == lower)
}

/// Hashes with argon2id and its default parameters; returns the PHC string.
pub fn hash(password: &str) -> Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| Error::internal("password hashing", e))
}

/// True when `password` matches the PHC string `phc`.
pub fn verify(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// True when `phc` was made with other parameters than today's (or another
/// algorithm): the password is then hashed again at the next login.
pub fn needs_rehash(phc: &str) -> bool {
    let p = argon2::Params::default();
    let current = format!(
        "$argon2id$v=19$m={},t={},p={}$",
        p.m_cost(),
        p.t_cost(),
        p.p_cost()
    );
    !phc.starts_with(&current)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        assert!(validate("short", "bob").is_err());
        assert!(validate("1234567890123", "bob").is_err());
        assert!(validate("bobbobbobbob", "bobbobbobbob").is_err());
        assert!(validate("password123", "bob").is_err());
        assert!(validate("correct horse battery", "bob").is_ok());
    }

    #[test]
    fn hash_is_argon2id_and_verifies() {
        let h = hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$"), "{h}");
        assert!(verify("correct horse battery", &h));
        assert!(!verify("wrong horse battery", &h));
        assert!(!verify("x", "not a hash"));
        assert!(!needs_rehash(&h));
        assert!(needs_rehash(
            "$argon2id$v=19$m=4096,t=3,p=1$c2FsdHNhbHQ$aGFzaA"
        ));
    }
}
