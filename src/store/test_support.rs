//! Helpers the store's unit tests share.

use chrono::{DateTime, Utc};

use super::Store;
use super::users::{self, NewUser, User};
use crate::domain::Role;

/// A fixed argon2 hash keeps the tests fast; nobody signs in with it.
pub const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";

/// Adds `name@agency.example`, called `name`, with `role` (scoring as the role does by
/// default), added at `at`.
pub fn add_user(store: &Store, name: &str, role: Role, at: DateTime<Utc>) -> User {
    let new = NewUser {
        email: format!("{name}@agency.example"),
        name: name.into(),
        role,
        scores: role.scores_by_default(),
        password_hash: HASH.into(),
    };
    store
        .write_blocking(|tx| users::insert_user(tx, &new, at))
        .unwrap()
}
