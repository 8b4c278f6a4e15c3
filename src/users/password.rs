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

/// The most work one stored hash may ask of a login: RFC 9106's second
/// recommended argon2id setting (64 MiB, 3 passes, 4 lanes) with room to
/// spare, far under what an attacker's imported hash could demand otherwise
/// (m=262144, t=30 costs 5.8 s and 256 MiB per failed login).
const MAX_MEMORY_KIB: u32 = 64 * 1024;
const MAX_PASSES: u32 = 10;
const MAX_LANES: u32 = 4;

/// A valid argon2id hash of a random string: verified in place of a missing or
/// unusable hash, so a login costs the same whatever the account.
pub const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$2kEtNlxbMbpPOp2IbCKdyA$dCgNtu2u6xlUZCzzdD3q+Cdj2IadyxZMnszQt24UkUs";

/// Parses a PHC string, refusing other algorithms and parameters past the bounds.
fn parse_bounded(phc: &str) -> Result<PasswordHash, String> {
    let parsed =
        PasswordHash::new(phc).map_err(|_| "not a PHC string ($argon2id$v=19$m=…)".to_owned())?;
    if !matches!(
        parsed.algorithm.as_str(),
        "argon2id" | "argon2i" | "argon2d"
    ) {
        return Err("only argon2 PHC strings ($argon2id$…) are accepted".into());
    }
    let params =
        argon2::Params::try_from(&parsed).map_err(|e| format!("invalid argon2 parameters: {e}"))?;
    if params.m_cost() > MAX_MEMORY_KIB
        || params.t_cost() > MAX_PASSES
        || params.p_cost() > MAX_LANES
    {
        return Err(format!(
            "argon2 parameters m={}, t={}, p={} exceed the accepted bounds (m ≤ {MAX_MEMORY_KIB}, t ≤ {MAX_PASSES}, p ≤ {MAX_LANES})",
            params.m_cost(),
            params.t_cost(),
            params.p_cost()
        ));
    }
    Ok(parsed)
}

/// Checks a hash from an import file: an argon2 PHC string within the bounds.
pub fn check_imported(phc: &str) -> Result<(), String> {
    parse_bounded(phc).map(|_| ())
}

/// True when `password` matches the PHC string `phc`. A missing or unusable
/// hash costs the same work as a real check (and never matches).
pub fn verify(password: &str, phc: Option<&str>) -> bool {
    let usable = phc.and_then(|h| parse_bounded(h).ok());
    let (hash, real) = match usable {
        Some(parsed) => (parsed, true),
        None => match PasswordHash::new(DUMMY_HASH) {
            Ok(dummy) => (dummy, false),
            Err(_) => return false,
        },
    };
    let matches = Argon2::default()
        .verify_password(password.as_bytes(), &hash)
        .is_ok();
    matches && real
}

/// `verify` on a blocking thread, holding no database connection (argon2
/// takes tens of milliseconds and must not keep a pooled connection busy).
pub async fn verify_apart(password: String, phc: Option<String>) -> Result<bool> {
    rocket::tokio::task::spawn_blocking(move || verify(&password, phc.as_deref()))
        .await
        .map_err(|e| Error::internal("password check", e))
}

/// `hash` on a blocking thread, holding no database connection.
pub async fn hash_apart(password: String) -> Result<String> {
    rocket::tokio::task::spawn_blocking(move || hash(&password))
        .await
        .map_err(|e| Error::internal("password hashing", e))?
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
        assert!(verify("correct horse battery", Some(&h)));
        assert!(!verify("wrong horse battery", Some(&h)));
        assert!(!verify("x", Some("not a hash")));
        assert!(!verify("x", None));
        assert!(!needs_rehash(&h));
        assert!(needs_rehash(
            "$argon2id$v=19$m=4096,t=3,p=1$c2FsdHNhbHQ$aGFzaA"
        ));
    }
}

#[cfg(test)]
mod bounds {
    use super::*;

    #[test]
    fn hashes_that_ask_too_much_are_refused_without_running_them() {
        // m=262144 (256 MiB), t=30: 5.8 s per failed login if it were run.
        let greedy = "$argon2id$v=19$m=262144,t=30,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g";
        let err = check_imported(greedy).unwrap_err();
        assert!(err.contains("m=262144"), "{err}");
        let started = std::time::Instant::now();
        assert!(!verify("anything", Some(greedy)));
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "verified against the dummy hash, not the greedy one"
        );
        assert!(check_imported("$pbkdf2-sha256$i=1000$c2FsdA$aGFzaA").is_err());
        assert!(check_imported("plain text").is_err());
        assert!(check_imported(&hash("correct horse battery").unwrap()).is_ok());
        assert!(check_imported("$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g").is_ok());
    }
}
