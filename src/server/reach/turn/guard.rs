//! What becomes of each datagram before the crate sees it. The guard answers every request
//! that lacks valid credentials itself (a challenge, as often as [`SourceLimiter`] allows,
//! else nothing), so the crate only ever handles authenticated requests, ChannelData, Send
//! indications and STUN Binding requests. Of those it refuses a CreatePermission or
//! ChannelBind naming a forbidden peer with 403 (Forbidden, RFC 5766 §9.1 and §11.2),
//! drops a Send indication to one, and answers an Allocate over a cap with 486 (Allocation
//! Quota Reached). Without a permission the crate relays nothing to or from a peer, so
//! refusing permissions and channels keeps relays off those peers.

use super::allocations::Index;
use super::auth::{Authenticator, Challenge};
use super::limit::SourceLimiter;
use super::peers::Peers;
use super::{error_response, lock};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use stun::attributes::ATTR_XOR_PEER_ADDRESS;
use stun::error_code::{CODE_ALLOC_QUOTA_REACHED, CODE_FORBIDDEN, ErrorCode};
use stun::message::{
    CLASS_INDICATION, CLASS_REQUEST, Getter, METHOD_ALLOCATE, METHOD_BINDING, METHOD_CHANNEL_BIND,
    METHOD_CREATE_PERMISSION, METHOD_REFRESH, METHOD_SEND, Message,
};
use turn::allocation::five_tuple::FiveTuple;
use turn::proto::PROTO_UDP;
use turn::proto::chandata::ChannelData;
use turn::proto::peeraddr::PeerAddress;

/// What becomes of a datagram.
pub(super) enum Verdict {
    /// To the crate. `nonce` is the checked nonce it must accept; `allocating`, the NAME of
    /// the user a new allocation would be for.
    Pass {
        nonce: Option<String>,
        allocating: Option<String>,
    },
    /// Answered here, with this.
    Answer(Vec<u8>),
    Drop,
}

pub(super) struct Guard {
    auth: Authenticator,
    limiter: SourceLimiter,
    peers: Peers,
    index: Arc<Mutex<Index>>,
    /// The listening address, the server's side of every five-tuple.
    local: SocketAddr,
    max_per_user: usize,
    max_per_address: usize,
}

impl Guard {
    pub fn new(
        auth: Authenticator,
        peers: Peers,
        index: Arc<Mutex<Index>>,
        local: SocketAddr,
        max_per_user: usize,
        max_per_address: usize,
    ) -> Self {
        Self {
            auth,
            limiter: SourceLimiter::new(),
            peers,
            index,
            local,
            max_per_user,
            max_per_address,
        }
    }

    pub fn verdict(&mut self, packet: &[u8], from: SocketAddr) -> Verdict {
        if ChannelData::is_channel_data(packet) {
            // The crate relays it only over a channel, which was checked when it was bound.
            return Verdict::Pass {
                nonce: None,
                allocating: None,
            };
        }
        if !stun::message::is_message(packet) {
            // Neither TURN nor STUN: the crate would answer nothing either.
            return Verdict::Drop;
        }
        let mut m = Message {
            raw: packet.to_vec(),
            ..Default::default()
        };
        if m.decode().is_err() {
            return Verdict::Drop;
        }
        let method = m.typ.method;
        if m.typ.class == CLASS_INDICATION && method == METHOD_SEND {
            return if self.names_forbidden_peer(&m) {
                Verdict::Drop
            } else {
                Verdict::Pass {
                    nonce: None,
                    allocating: None,
                }
            };
        }
        if m.typ.class != CLASS_REQUEST {
            return Verdict::Drop;
        }
        if method == METHOD_BINDING {
            // Answered unauthenticated, and larger than asked: limited like a challenge.
            return if self.limiter.allow(from.ip()) {
                Verdict::Pass {
                    nonce: None,
                    allocating: None,
                }
            } else {
                Verdict::Drop
            };
        }
        if ![
            METHOD_ALLOCATE,
            METHOD_REFRESH,
            METHOD_CREATE_PERMISSION,
            METHOD_CHANNEL_BIND,
        ]
        .contains(&method)
        {
            return Verdict::Drop;
        }
        let verified = match self.auth.check(&m, from) {
            Ok(verified) => verified,
            Err(challenge) => return self.challenge(&m, challenge, from),
        };
        // From here on the request is authenticated, and its nonce was made for its
        // source address: these answers cannot be aimed at anyone else.
        if (method == METHOD_CREATE_PERMISSION || method == METHOD_CHANNEL_BIND)
            && self.names_forbidden_peer(&m)
        {
            return self.refuse(&m, CODE_FORBIDDEN);
        }
        let mut allocating = None;
        if method == METHOD_ALLOCATE {
            let user = user_of(&verified.username);
            let five_tuple = FiveTuple {
                protocol: PROTO_UDP,
                src_addr: from,
                dst_addr: self.local,
            };
            let index = lock(&self.index);
            // An Allocate for a five-tuple that has one gets the crate's 437.
            if !index.contains(&five_tuple) {
                if index.of_user(user) >= self.max_per_user
                    || index.of_source(from.ip()) >= self.max_per_address
                {
                    drop(index);
                    return self.refuse(&m, CODE_ALLOC_QUOTA_REACHED);
                }
                allocating = Some(user.to_owned());
            }
        }
        Verdict::Pass {
            nonce: Some(verified.nonce),
            allocating,
        }
    }

    /// A challenge to an unauthenticated request, if its source has not had too many.
    fn challenge(&mut self, m: &Message, challenge: Challenge, from: SocketAddr) -> Verdict {
        if !self.limiter.allow(from.ip()) {
            return Verdict::Drop;
        }
        match self.auth.answer(m, challenge, from) {
            Ok(answer) => Verdict::Answer(answer),
            Err(err) => {
                tracing::warn!("building a TURN challenge: {err}");
                Verdict::Drop
            }
        }
    }

    fn refuse(&self, m: &Message, code: ErrorCode) -> Verdict {
        match error_response(m, code, vec![]) {
            Ok(answer) => Verdict::Answer(answer),
            Err(err) => {
                tracing::warn!("building a TURN error answer: {err}");
                Verdict::Drop
            }
        }
    }

    /// Whether any XOR-PEER-ADDRESS in `m` is forbidden (or unreadable). Each is read on
    /// its own: the crate's getter only ever returns the first.
    fn names_forbidden_peer(&mut self, m: &Message) -> bool {
        let index = lock(&self.index);
        m.attributes
            .0
            .iter()
            .filter(|attr| attr.typ == ATTR_XOR_PEER_ADDRESS)
            .any(|attr| {
                let mut one = Message::new();
                one.transaction_id = m.transaction_id;
                one.add(ATTR_XOR_PEER_ADDRESS, &attr.value);
                let mut peer = PeerAddress::default();
                if peer.get_from(&one).is_err() {
                    return true;
                }
                let peer = SocketAddr::new(peer.ip, peer.port);
                !self.peers.allow(peer, index.is_relay(peer))
            })
    }
}

/// The NAME of a TURN REST username `EXPIRY:NAME` (all of it if it has no colon).
fn user_of(username: &str) -> &str {
    username.split_once(':').map_or(username, |(_, name)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_user_is_the_name_after_the_expiry() {
        assert_eq!(user_of("1700000000:alice"), "alice");
        assert_eq!(user_of("alice"), "alice");
    }
}
