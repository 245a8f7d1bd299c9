//! The allocations the crate holds, indexed the ways the guard asks about them on every
//! packet (by user, by client address, by relay address) so that asking costs the same
//! with three allocations or three thousand; and [`TurnAllocations`], the handle that closes
//! a user's relays when their page signs out.
//!
//! The read loop adds an allocation once the crate has made it; the crate's close
//! notification (an allocation expired, was refreshed to zero, or was released) removes it.

use super::limit::source_key;
use super::lock;
use crate::protocol::UserName;
use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, Weak};
use tokio::runtime::Handle;
use tokio::sync::mpsc;
use turn::allocation::AllocationInfo;
use turn::allocation::allocation_manager::Manager;
use turn::allocation::five_tuple::FiveTuple;

/// One allocation, as the index keeps it.
struct Held {
    /// The NAME of its `EXPIRY:NAME`.
    user: String,
    relay: SocketAddr,
}

#[derive(Default)]
pub(super) struct Index {
    held: HashMap<FiveTuple, Held>,
    by_user: HashMap<String, Vec<FiveTuple>>,
    /// How many each client address holds (see [`source_key`]).
    by_source: HashMap<IpAddr, usize>,
    relays: HashSet<SocketAddr>,
}

impl Index {
    pub fn contains(&self, five_tuple: &FiveTuple) -> bool {
        self.held.contains_key(five_tuple)
    }

    /// How many allocations `user` (a NAME) holds.
    pub fn of_user(&self, user: &str) -> usize {
        self.by_user.get(user).map_or(0, Vec::len)
    }

    /// How many allocations clients at `ip` hold.
    pub fn of_source(&self, ip: IpAddr) -> usize {
        self.by_source.get(&source_key(ip)).copied().unwrap_or(0)
    }

    /// Whether `addr` is the relay address of one of the allocations.
    pub fn is_relay(&self, addr: SocketAddr) -> bool {
        self.relays.contains(&addr)
    }

    /// `user` now holds the allocation of `five_tuple`, relaying at `relay`.
    pub fn add(&mut self, five_tuple: FiveTuple, user: String, relay: SocketAddr) {
        if self.held.contains_key(&five_tuple) {
            return;
        }
        self.by_user
            .entry(user.clone())
            .or_default()
            .push(five_tuple);
        *self
            .by_source
            .entry(source_key(five_tuple.src_addr.ip()))
            .or_default() += 1;
        self.relays.insert(relay);
        self.held.insert(five_tuple, Held { user, relay });
    }

    /// The allocation of `five_tuple` that relayed at `relay` is gone. (A new one of the
    /// same client may already stand in its place, with another relay: it stays.)
    pub fn remove(&mut self, five_tuple: &FiveTuple, relay: SocketAddr) {
        if self
            .held
            .get(five_tuple)
            .is_some_and(|held| held.relay == relay)
        {
            self.forget(five_tuple);
        }
    }

    /// Forgets `user`'s allocations and says which they were.
    pub fn remove_user(&mut self, user: &str) -> Vec<FiveTuple> {
        let five_tuples = self.by_user.get(user).cloned().unwrap_or_default();
        for five_tuple in &five_tuples {
            self.forget(five_tuple);
        }
        five_tuples
    }

    fn forget(&mut self, five_tuple: &FiveTuple) {
        let Some(held) = self.held.remove(five_tuple) else {
            return;
        };
        if let Some(tuples) = self.by_user.get_mut(&held.user) {
            tuples.retain(|t| t != five_tuple);
            if tuples.is_empty() {
                self.by_user.remove(&held.user);
            }
        }
        let source = source_key(five_tuple.src_addr.ip());
        if let Some(count) = self.by_source.get_mut(&source) {
            *count -= 1;
            if *count == 0 {
                self.by_source.remove(&source);
            }
        }
        self.relays.remove(&held.relay);
    }
}

/// Removes each allocation the crate reports closed, until the crate is gone.
pub(super) async fn forget_closed(
    index: Arc<Mutex<Index>>,
    mut closed: mpsc::Receiver<AllocationInfo>,
) {
    while let Some(info) = closed.recv().await {
        lock(&index).remove(&info.five_tuple, info.relay_addr);
    }
}

/// A cheap, cloneable handle on a TURN server's allocations, for whoever knows when a page
/// has signed out. It does not keep the server running.
#[derive(Clone)]
pub struct TurnAllocations {
    index: Arc<Mutex<Index>>,
    manager: Weak<Manager>,
    runtime: Handle,
}

impl TurnAllocations {
    pub(super) fn new(index: Arc<Mutex<Index>>, manager: Weak<Manager>) -> Self {
        Self {
            index,
            manager,
            runtime: Handle::current(),
        }
    }

    /// Closes every relay `name` holds now, freeing its port: their page has signed out, and
    /// its relays would otherwise live on until their lifetime ran out. Returns at once
    /// (it may be called holding a lock, from any thread); the relays close on a task.
    /// Relays `name` allocates afterwards are not affected.
    pub fn release(&self, name: &UserName) {
        let five_tuples = lock(&self.index).remove_user(name.as_str());
        if five_tuples.is_empty() {
            return;
        }
        let Some(manager) = self.manager.upgrade() else {
            return;
        };
        self.runtime.spawn(async move {
            for five_tuple in five_tuples {
                manager.delete_allocation(&five_tuple).await;
            }
        });
    }

    /// How many allocations `name` holds now.
    pub fn count(&self, name: &UserName) -> usize {
        lock(&self.index).of_user(name.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use turn::proto::PROTO_UDP;

    fn five_tuple(src: &str) -> FiveTuple {
        FiveTuple {
            protocol: PROTO_UDP,
            src_addr: src.parse().unwrap(),
            dst_addr: "127.0.0.1:3478".parse().unwrap(),
        }
    }

    #[test]
    fn it_counts_by_user_and_source_and_forgets_completely() {
        let mut index = Index::default();
        let a = five_tuple("192.0.2.1:1000");
        let b = five_tuple("192.0.2.1:1001");
        let c = five_tuple("[2001:db8::1]:1000");
        let relay = |port| SocketAddr::from(([127, 0, 0, 1], port));
        index.add(a, "alice".into(), relay(50_000));
        index.add(b, "bob".into(), relay(50_001));
        index.add(c, "alice".into(), relay(50_002));
        assert_eq!(index.of_user("alice"), 2);
        assert_eq!(index.of_source("192.0.2.1".parse().unwrap()), 2);
        assert_eq!(
            index.of_source("2001:db8::2".parse().unwrap()),
            1,
            "same /64"
        );
        assert!(index.is_relay(relay(50_001)));

        index.remove(&b, relay(50_009));
        assert!(index.contains(&b), "another relay of the same client stays");
        index.remove(&b, relay(50_001));
        assert!(!index.is_relay(relay(50_001)));
        assert_eq!(index.of_source("192.0.2.1".parse().unwrap()), 1);

        let mut released = index.remove_user("alice");
        released.sort_by_key(|t| t.src_addr);
        assert_eq!(released, vec![a, c]);
        assert_eq!(index.of_user("alice"), 0);
        assert!(index.held.is_empty());
        assert!(index.by_user.is_empty());
        assert!(index.by_source.is_empty());
        assert!(index.relays.is_empty());
    }
}
