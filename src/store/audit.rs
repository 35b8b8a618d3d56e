//! Who did what: the actor of an administrative act (a signed-in user on the admin
//! page, or someone at the server's command line).

use super::users::User;

/// Who did an administrative act.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A signed-in jobrank user.
    User {
        id: String,
        name: String,
        email: String,
    },
    /// Someone at the server's command line, named by their unix account (and the
    /// account that ran `sudo`, when there is one).
    CommandLine { unix_user: String },
}

impl Actor {
    /// A signed-in user.
    pub fn user(u: &User) -> Actor {
        Actor::User {
            id: u.id.clone(),
            name: u.name.clone(),
            email: u.email.clone(),
        }
    }

    /// The jobrank user, when the actor is one.
    pub fn user_id(&self) -> Option<&str> {
        match self {
            Actor::User { id, .. } => Some(id),
            Actor::CommandLine { .. } => None,
        }
    }

    /// The actor as pages show it: "Claire Dupont <claire@agency.example>" or
    /// "command line (unix user root)".
    pub fn describe(&self) -> String {
        match self {
            Actor::User { name, email, .. } => format!("{name} <{email}>"),
            Actor::CommandLine { unix_user } => format!("command line (unix user {unix_user})"),
        }
    }
}
