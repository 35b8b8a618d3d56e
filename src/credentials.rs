//! Credentials: random tokens (session cookies, CSRF tokens), the API token format, the
//! hashes the store keeps instead of secrets, and argon2id password hashing with the
//! process-wide bound on password checks.
//!
//! A leaf module: the store, the web layer and the command line use it; it uses only
//! `domain`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use sha2::{Digest, Sha256};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::domain::DomainError;

/// Errors of credential handling.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    /// The password breaks a rule (too short); the field is `password`.
    #[error(transparent)]
    Invalid(#[from] DomainError),
    #[error("password hashing failed: {0}")]
    Hashing(String),
    #[error("the password check did not finish: {0}")]
    Task(String),
}

/// A random 256-bit value as 64 hex digits: session cookies, CSRF tokens, API tokens.
pub fn random_token() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// The SHA-256 of a secret as hex: what the store keeps instead of the secret.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Compares two secrets in time that depends on their length only, not on where they
/// differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// What every API token starts with, so a token is recognisable where it is pasted.
pub const API_TOKEN_PREFIX: &str = "jrk_";

/// A new random API token: `jrk_` and 64 hex digits (256 bits). Shown once; the store
/// keeps its [`hash_token`].
pub fn new_api_token() -> String {
    format!("{API_TOKEN_PREFIX}{}", random_token())
}

/// The shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 10;

/// Argon2id with the OWASP-recommended parameters (19 MiB, 2 passes, 1 lane).
fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("constant argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Refuses a new password shorter than [`MIN_PASSWORD_LEN`] (naming the field
/// `password`): the rule [`hash_password`] applies, for forms that check it before
/// waiting for an argon2 turn.
pub fn check_new_password(password: &str) -> Result<(), DomainError> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(DomainError::Invalid {
            field: "password",
            reason: format!("must be at least {MIN_PASSWORD_LEN} characters"),
        });
    }
    Ok(())
}

/// Hashes a password with argon2id; refuses one that [`check_new_password`] refuses.
/// Takes tens of milliseconds and 19 MiB: the server calls it through
/// [`PasswordChecks::hash`], the command line off the async threads.
pub fn hash_password(password: &str) -> Result<String, CredentialError> {
    check_new_password(password)?;
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| CredentialError::Hashing(e.to_string()))
}

/// Checks a password against a stored hash, in constant time. A malformed hash never
/// matches.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| argon2().verify_password(password.as_bytes(), &h).is_ok())
        .unwrap_or(false)
}

/// A hash that never matches, to spend the same time when an email is unknown.
pub fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("not-a-real-password-ever").unwrap_or_default())
}

/// Argon2 runs (checking a password or hashing a new one: 19 MiB and tens of
/// milliseconds each) go at most [`PasswordChecks::AT_ONCE`] at a time in this process,
/// so a burst of sign-ins or password changes cannot take memory without bound. A
/// request waits up to [`PasswordChecks::WAIT`] for its turn and is otherwise answered
/// 503 with `Retry-After`. The counters tell how many checks and hashes ran and the most
/// argon2 runs that were ever under way at once.
#[derive(Debug)]
pub struct PasswordChecks {
    turns: Arc<Semaphore>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    checks: AtomicU64,
    hashes: AtomicU64,
}

impl Default for PasswordChecks {
    fn default() -> Self {
        PasswordChecks {
            turns: Arc::new(Semaphore::new(Self::AT_ONCE)),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            checks: AtomicU64::new(0),
            hashes: AtomicU64::new(0),
        }
    }
}

impl PasswordChecks {
    /// Argon2 runs under way at once, at most.
    pub const AT_ONCE: usize = 2;
    /// How long a request waits for a turn.
    pub const WAIT: std::time::Duration = std::time::Duration::from_secs(5);
    /// The `Retry-After` (seconds) of a request that found no turn.
    pub const RETRY_AFTER: u32 = 5;

    /// Takes a turn, waiting up to [`Self::WAIT`]; `None` when none came free. Held
    /// turns keep other requests waiting (tests use this to see a busy server).
    pub async fn take_turn(&self) -> Option<OwnedSemaphorePermit> {
        tokio::time::timeout(Self::WAIT, self.turns.clone().acquire_owned())
            .await
            .ok()?
            .ok()
    }

    /// Runs one argon2 computation on the blocking pool in `turn`, and gives the turn
    /// back with the result. The turn stays held until the computation ends, even if
    /// the request is abandoned meanwhile.
    async fn run<T: Send + 'static>(
        self: &Arc<Self>,
        turn: OwnedSemaphorePermit,
        argon2: impl FnOnce() -> T + Send + 'static,
    ) -> Result<(OwnedSemaphorePermit, T), CredentialError> {
        let me = self.clone();
        tokio::task::spawn_blocking(move || {
            let now = me.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            me.max_in_flight.fetch_max(now, Ordering::SeqCst);
            let out = argon2();
            me.in_flight.fetch_sub(1, Ordering::SeqCst);
            (turn, out)
        })
        .await
        .map_err(|e| CredentialError::Task(e.to_string()))
    }

    /// Checks `password` against `hash`, in turn; without a hash (unknown email)
    /// against a hash that never matches, to take the same time. `Ok(None)` when no
    /// turn came free within [`Self::WAIT`].
    pub async fn verify(
        self: &Arc<Self>,
        password: String,
        hash: Option<String>,
    ) -> Result<Option<bool>, CredentialError> {
        let Some(turn) = self.take_turn().await else {
            return Ok(None);
        };
        let me = self.clone();
        let (_turn, ok) = self
            .run(turn, move || {
                me.checks.fetch_add(1, Ordering::SeqCst);
                match &hash {
                    Some(h) => verify_password(&password, h),
                    None => {
                        verify_password(&password, dummy_hash());
                        false
                    }
                }
            })
            .await?;
        Ok(Some(ok))
    }

    /// Hashes a new password ([`hash_password`]), in turn. `Ok(None)` when no turn came
    /// free within [`Self::WAIT`].
    pub async fn hash(
        self: &Arc<Self>,
        password: String,
    ) -> Result<Option<String>, CredentialError> {
        let Some(turn) = self.take_turn().await else {
            return Ok(None);
        };
        let (_turn, hash) = self.hash_in_turn(turn, password).await?;
        Ok(Some(hash))
    }

    /// Hashes a new password in a turn the caller took with [`Self::take_turn`], and
    /// gives the turn back: for a caller that must hold it until the new hash is
    /// stored (a reset link, so simultaneous uses of one link hash it at most
    /// [`Self::AT_ONCE`] times).
    pub async fn hash_in_turn(
        self: &Arc<Self>,
        turn: OwnedSemaphorePermit,
        password: String,
    ) -> Result<(OwnedSemaphorePermit, String), CredentialError> {
        check_new_password(&password)?;
        let me = self.clone();
        let (turn, hash) = self
            .run(turn, move || {
                me.hashes.fetch_add(1, Ordering::SeqCst);
                hash_password(&password)
            })
            .await?;
        Ok((turn, hash?))
    }

    /// Password checks run so far.
    pub fn checks(&self) -> u64 {
        self.checks.load(Ordering::SeqCst)
    }

    /// New passwords hashed so far.
    pub fn hashes(&self) -> u64 {
        self.hashes.load(Ordering::SeqCst)
    }

    /// The most argon2 runs (checks and hashes) that were ever under way at once.
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_random_bits_and_api_tokens_carry_the_prefix() {
        let (a, b) = (random_token(), random_token());
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()), "{a}");
        assert_ne!(a, b);
        let t = new_api_token();
        assert!(t.starts_with("jrk_") && t.len() == 68, "{t}");
    }

    #[test]
    fn a_token_hash_is_its_sha256_in_hex() {
        assert_eq!(
            hash_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn secrets_compare_exactly() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
        assert!(same_secret("", ""));
    }

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("wrong horse battery", &h));
        assert!(!verify_password("anything at all", dummy_hash()));
        assert!(!verify_password("correct horse battery", "not a hash"));
        match hash_password("short") {
            Err(CredentialError::Invalid(DomainError::Invalid { field, reason })) => {
                assert_eq!(field, "password");
                assert!(reason.contains("10 characters"), "{reason}");
            }
            other => panic!("a short password was not refused: {other:?}"),
        }
    }

    #[tokio::test]
    async fn password_checks_count_what_they_check() {
        let checks = Arc::new(PasswordChecks::default());
        let h = hash_password("correct horse battery").unwrap();
        let held: Vec<_> = futures_util::future::join_all(
            (0..PasswordChecks::AT_ONCE).map(|_| checks.take_turn()),
        )
        .await;
        assert!(held.iter().all(Option::is_some));
        drop(held);
        assert_eq!(
            checks
                .verify("correct horse battery".into(), Some(h))
                .await
                .unwrap(),
            Some(true)
        );
        assert_eq!(
            checks.verify("wrong".into(), None).await.unwrap(),
            Some(false)
        );
        assert_eq!(checks.checks(), 2);
        let new = checks.hash("a brand new password".into()).await.unwrap();
        assert!(verify_password("a brand new password", &new.unwrap()));
        assert!(matches!(
            checks.hash("short".into()).await,
            Err(CredentialError::Invalid(_))
        ));
        assert_eq!(checks.hashes(), 1, "a refused password is not hashed");
        assert_eq!(checks.max_in_flight(), 1);
    }
}
