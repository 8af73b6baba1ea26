//! The proxy's [`ConnectionBroker`]: accepted connections and their fate go to the actor.

use std::net::IpAddr;

use async_trait::async_trait;

use super::events::{ActorHandle, Event};
use crate::proxy::{ConnectionBroker, ConnectionVerdict};
use boundary_agent_core::ConnectionId;

pub struct ActorBroker(pub ActorHandle);

#[async_trait]
impl ConnectionBroker for ActorBroker {
    async fn decide(&self, local: IpAddr, port: u16, peer_uid: Option<u32>) -> ConnectionVerdict {
        self.0
            .ask(|reply| Event::Connection {
                local,
                port,
                peer_uid,
                reply,
            })
            .await
            .unwrap_or_else(|| ConnectionVerdict::Refuse("the agent is shutting down".into()))
    }

    fn established(&self, connection: ConnectionId, connections_left: i32) {
        self.0.send(Event::TunnelEstablished {
            connection,
            connections_left,
        });
    }

    fn rejected(&self, connection: ConnectionId, error: String) {
        self.0.send(Event::TunnelRejected { connection, error });
    }

    fn closed(&self, connection: ConnectionId) {
        self.0.send(Event::ConnectionClosed { connection });
    }
}
