//! The agent's DNS policy: the published [`FastView`] answers almost every query on the
//! receive path (no lock, no actor hop, no controller call); only questions that may
//! change state go to the actor.
//!
//! The querying user matters only for alias names, so only for those does the policy
//! find the socket's owner (an async sock_diag lookup, inside the pending future): every
//! other name is answered inline without it. Neither is it needed for an alias whose
//! answer is the same whoever asks ([`FastView::decide_for_anyone`]: one user with a
//! token) when the query certainly comes from this host (`QueryOrigin::proven_local`):
//! the warm alias answer then stays on the receive loop too. The lookup remains where it
//! decides something: several users with tokens, a session still to authorize (for whom?),
//! and a source that may be forged (only an existing socket proves it local).

use std::sync::Arc;

use arc_swap::ArcSwap;

use super::clock::AgentClock;
use super::events::{ActorHandle, Event};
use crate::dns::{QueryOrigin, QueryPolicy, Transport, Verdict};
use crate::os::PeerUidLookup;
use boundary_agent_core::{DnsDecision, DnsQuestion, FastView};

/// Implements [`QueryPolicy`] for the daemon.
pub struct AgentDnsPolicy {
    inner: Arc<Inner>,
}

struct Inner {
    view: Arc<ArcSwap<FastView>>,
    clock: AgentClock,
    peers: Arc<dyn PeerUidLookup>,
    actor: ActorHandle,
}

impl AgentDnsPolicy {
    pub fn new(
        view: Arc<ArcSwap<FastView>>,
        clock: AgentClock,
        peers: Arc<dyn PeerUidLookup>,
        actor: ActorHandle,
    ) -> Self {
        AgentDnsPolicy {
            inner: Arc::new(Inner {
                view,
                clock,
                peers,
                actor,
            }),
        }
    }
}

impl QueryPolicy for AgentDnsPolicy {
    fn decide(&self, question: &DnsQuestion, origin: &QueryOrigin) -> Verdict {
        let inner = &self.inner;
        {
            let view = inner.view.load();
            let now = inner.clock.moment();
            let decided = if !view.depends_on_asker(&question.name) {
                view.decide(question, now)
            } else if origin.proven_local {
                view.decide_for_anyone(question, now)
            } else {
                None
            };
            if let Some(decision) = decided {
                return Verdict::Now(decision);
            }
        }
        let inner = Arc::clone(inner);
        let question = question.clone();
        let origin = *origin;
        Verdict::Pending(Box::pin(async move {
            inner.decide_later(question, origin).await
        }))
    }
}

impl Inner {
    /// Attributes the question, then asks the view again (with the user known it often
    /// can answer) and else the actor. Fails open: no actor → forward.
    ///
    /// A query whose sending socket is not on this host is forwarded like a miss: it was
    /// forged (an IPv6 packet from the LAN may carry one of the host's addresses as its
    /// source, see `dns::sources`), and it must not get an alias answer or a session
    /// made with some user's token.
    async fn decide_later(&self, mut question: DnsQuestion, origin: QueryOrigin) -> DnsDecision {
        question.uid = match self.attribute(&origin).await {
            Attribution::Owner(uid) => Some(uid),
            Attribution::Unknown => None,
            Attribution::NoLocalSocket => return DnsDecision::Forward,
        };
        if let Some(decision) = self.view.load().decide(&question, self.clock.moment()) {
            return decision;
        }
        self.actor
            .ask(|reply| Event::Dns { question, reply })
            .await
            .unwrap_or(DnsDecision::Forward)
    }

    /// The local user owning the client's socket.
    async fn attribute(&self, origin: &QueryOrigin) -> Attribution {
        let found = match origin.transport {
            Transport::Udp => {
                self.peers
                    .udp_client_uid(origin.client, origin.server)
                    .await
            }
            Transport::Tcp => {
                self.peers
                    .tcp_client_uid(origin.client, origin.server)
                    .await
            }
        };
        match found {
            Ok(Some(uid)) => Attribution::Owner(uid),
            Ok(None) => Attribution::NoLocalSocket,
            Err(error) => {
                tracing::debug!(client = %origin.client, %error, "cannot attribute a DNS query to a local user");
                Attribution::Unknown
            }
        }
    }
}

/// Who sent a query, as far as the socket lookup can tell.
enum Attribution {
    /// The local user owning the sending socket.
    Owner(u32),
    /// The lookup failed: answered for whoever may (fail open, as before).
    Unknown,
    /// No such socket on this host.
    NoLocalSocket,
}
