//! Passwords, hashed with argon2id (its default parameters: 19 MiB, two passes, OWASP's
//! recommendation) on tokio's blocking threads, never on the ones serving sockets. At
//! most as many hashes run at once as there are cores: a burst of sign-ins waits its turn
//! instead of taking the memory of a thousand hashes.
//!
//! A sign-in for a name that has no account verifies against a hash of nothing in
//! particular, so it takes as long as a wrong password: timing tells no names.

use crate::text::Words;
use crate::text::forms as words;
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use std::sync::OnceLock;
use tokio::sync::Semaphore;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("hashing a password: {0}")]
    Hash(String),
    #[error("the operating system's random numbers: {0}")]
    Random(#[from] getrandom::Error),
    #[error("a hashing task failed: {0}")]
    Task(String),
}

/// Why `password` cannot be an account's, in `t`'s words: too short or too long (a long
/// one would only make the hash slower).
pub fn rule(password: &str, t: &'static Words) -> Result<(), &'static str> {
    let chars = password.chars().count();
    if chars < words::MIN_PASSWORD_CHARS {
        Err(t.password_too_short)
    } else if chars > words::MAX_PASSWORD_CHARS {
        Err(t.password_too_long)
    } else {
        Ok(())
    }
}

/// The argon2id PHC string of `password` with a new random salt. Blocks for a fraction
/// of a second: call it from a blocking thread (or the command line).
pub fn hash_now(password: &str) -> Result<String, PasswordError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt)?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| PasswordError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// Whether `password` matches the PHC string `hash`; `None` (no such account) costs one
/// verification too, and is never a match.
pub fn verify_now(password: &str, hash: Option<&str>) -> bool {
    static NOBODY: OnceLock<String> = OnceLock::new();
    let (hash, real) = match hash {
        Some(hash) => (hash, true),
        None => (
            NOBODY
                .get_or_init(|| hash_now("not anyone's password").unwrap_or_default())
                .as_str(),
            false,
        ),
    };
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
        && real
}

/// Hashing for the server: off the async threads, a few at a time.
pub struct Hasher {
    permits: Semaphore,
}

impl Default for Hasher {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            permits: Semaphore::new(cores),
        }
    }
}

impl Hasher {
    pub async fn hash(&self, password: String) -> Result<String, PasswordError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| PasswordError::Task(e.to_string()))?;
        tokio::task::spawn_blocking(move || hash_now(&password))
            .await
            .map_err(|e| PasswordError::Task(e.to_string()))?
    }

    pub async fn verify(&self, password: String, hash: Option<String>) -> bool {
        let Ok(_permit) = self.permits.acquire().await else {
            return false;
        };
        tokio::task::spawn_blocking(move || verify_now(&password, hash.as_deref()))
            .await
            .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let hash = hash_now("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_now("correct horse", Some(&hash)));
        assert!(!verify_now("wrong horse", Some(&hash)));
        assert!(!verify_now("correct horse", None));
        assert!(!verify_now("not anyone's password", None));
        assert!(!verify_now("x", Some("not a hash")));
    }
}
