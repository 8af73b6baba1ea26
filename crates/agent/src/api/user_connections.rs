//! How many connections each local user holds open to the local API, capped.
//!
//! The idle and body deadlines bound how *long* a connection lives; this bounds how
//! *many* one user can have at once, so that no local user can use up the root agent's
//! file descriptors (and starve other users' CLI calls) by opening connections in a loop.
//! Connections whose client socket has no local owner (`None`) share one allowance.

use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::UNAVAILABLE;
use boundary_wire::api::ApiErrorBody;

/// How long a refused connection is kept to read (and drop) the client's request after
/// the answer: closing a socket with unread data resets the connection, and the client
/// would see the reset instead of the answer.
const REFUSAL_LINGER: Duration = Duration::from_secs(1);

/// Open connections per owner uid; see the module documentation.
pub(super) struct UserConnections {
    limit: usize,
    open: Mutex<HashMap<Option<u32>, usize>>,
}

impl UserConnections {
    pub(super) fn new(limit: usize) -> Arc<UserConnections> {
        Arc::new(UserConnections {
            limit,
            open: Mutex::new(HashMap::new()),
        })
    }

    /// A slot for one more connection of `uid`, or `None` when it already has `limit`.
    pub(super) fn try_open(self: &Arc<Self>, uid: Option<u32>) -> Option<UserConnection> {
        let mut open = self
            .open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let count = open.entry(uid).or_insert(0);
        if *count >= self.limit {
            return None;
        }
        *count += 1;
        Some(UserConnection {
            connections: self.clone(),
            uid,
        })
    }

    #[cfg(test)]
    fn open_for(&self, uid: Option<u32>) -> usize {
        let open = self.open.lock().unwrap();
        open.get(&uid).copied().unwrap_or(0)
    }
}

/// One open connection of a user; its slot is given back when this is dropped.
pub(super) struct UserConnection {
    connections: Arc<UserConnections>,
    uid: Option<u32>,
}

impl Drop for UserConnection {
    fn drop(&mut self) {
        let mut open = self
            .connections
            .open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(count) = open.get_mut(&self.uid) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.uid);
            }
        }
    }
}

/// Answers a connection over its user's limit with 503 `Unavailable` (docs/wire-contract.md §1
/// body, HTTP/1.1 as every local client speaks it) and closes it, within
/// [`REFUSAL_LINGER`].
pub(super) async fn refuse_over_limit(mut stream: TcpStream, uid: Option<u32>, limit: usize) {
    let who = uid.map_or_else(
        || "clients without a local owner".to_owned(),
        |uid| format!("uid {uid}"),
    );
    let body = ApiErrorBody::new(
        UNAVAILABLE,
        format!(
            "too many connections to the client agent from {who} (at most {limit} at once); \
             close some and try again"
        ),
    );
    let body = serde_json::to_vec(&body).unwrap_or_default();
    let head = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let _ = tokio::time::timeout(REFUSAL_LINGER, async {
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(&body).await?;
        stream.shutdown().await?;
        let mut discarded = [0u8; 4096];
        while stream.read(&mut discarded).await? > 0 {}
        Ok::<_, io::Error>(())
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_user_has_their_own_limit_and_slots_come_back() {
        let connections = UserConnections::new(2);
        let alice_1 = connections.try_open(Some(1000)).unwrap();
        let _alice_2 = connections.try_open(Some(1000)).unwrap();
        assert!(connections.try_open(Some(1000)).is_none());
        // Others are not affected, nor are sockets without a local owner.
        let _bob = connections.try_open(Some(1001)).unwrap();
        let _nobody = connections.try_open(None).unwrap();
        drop(alice_1);
        assert_eq!(connections.open_for(Some(1000)), 1);
        let _alice_3 = connections.try_open(Some(1000)).unwrap();
        assert!(connections.try_open(Some(1000)).is_none());
    }

    #[test]
    fn a_user_without_connections_leaves_no_entry() {
        let connections = UserConnections::new(1);
        drop(connections.try_open(Some(7)).unwrap());
        assert!(connections.open.lock().unwrap().is_empty());
    }
}
