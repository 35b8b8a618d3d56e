//! Sessions as the store returned them, kept for a moment so that a page's requests
//! do not each read the store, and the lookup that applies the idle and absolute
//! expiry.

use std::collections::HashMap;
use std::sync::Mutex;

use super::{IDLE, Session, TOUCH_EVERY};
use crate::store::{self, sessions};
use crate::web::{AppState, Result};

/// Sessions the store returned, reused without a store read (a trip to the blocking
/// pool) under the rule of [`store::ReadStamp`]: signing out, deactivating a user,
/// resetting a password or touching a session is a write of this process and shows at
/// once; a change made by a command-line tool within [`store::TRUST_READ_FOR`]. Unknown
/// ids are never kept, so random cookies cannot grow it; it is emptied when it reaches
/// [`SessionCache::MAX`] entries.
#[derive(Default)]
pub struct SessionCache {
    entries: Mutex<HashMap<String, CachedSession>>,
}

struct CachedSession {
    session: sessions::StoredSession,
    stamp: store::ReadStamp,
}

impl SessionCache {
    pub const MAX: usize = 1_000;

    fn get(&self, id_hash: &str, now: &store::ReadStamp) -> Option<sessions::StoredSession> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(id_hash)
            .filter(|c| c.stamp.still_current(now))
            .map(|c| c.session.clone())
    }

    fn put(&self, session: &sessions::StoredSession, stamp: store::ReadStamp) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= Self::MAX {
            entries.clear();
        }
        entries.insert(
            session.id_hash.clone(),
            CachedSession {
                session: session.clone(),
                stamp,
            },
        );
    }
}

/// Looks a session up, applies the idle and absolute expiry and records activity.
pub(super) async fn current_session(state: &AppState, id_hash: String) -> Result<Option<Session>> {
    // Taken before the read: a write committed during it makes the entry stale.
    let stamp = state.store.read_stamp();
    let s = match state.sessions.get(&id_hash, &stamp) {
        Some(s) => s,
        None => {
            let h = id_hash.clone();
            let Some(s) = state
                .store
                .read(move |c| sessions::find_session(c, &h))
                .await?
            else {
                return Ok(None);
            };
            state.sessions.put(&s, stamp);
            s
        }
    };
    let now = store::now();
    if now >= s.expires_at || now - s.last_seen_at > IDLE {
        let h = id_hash.clone();
        state
            .store
            .write(move |tx| sessions::delete_session(tx, &h))
            .await?;
        return Ok(None);
    }
    if now - s.last_seen_at > TOUCH_EVERY {
        let h = id_hash.clone();
        match state
            .store
            .write(move |tx| sessions::touch_session(tx, &h, now))
            .await
        {
            // A full disk refuses writes, not reads: pages still show.
            Ok(()) | Err(store::StoreError::DiskFull { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Some(Session {
        user: s.user,
        csrf: s.csrf_token,
        flash: None,
        id_hash,
    }))
}
