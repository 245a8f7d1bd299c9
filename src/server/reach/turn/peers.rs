//! Which peers a relay may send to. A relay sends from this machine, from inside whatever
//! firewall it sits behind, so without `turn_allow_private` it refuses this host's own
//! addresses and the networks that are not the public Internet: private, loopback,
//! link-local, special-purpose, and the IPv6 forms that carry an IPv4 address inside
//! (which would reach the same private networks by another spelling). The one exception is
//! another relay of this server: two people who both use relays talk relay to relay, at
//! `turn_relay_ip`.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

/// IPv4 networks no relay sends to: the `denied-peer-ip` list recommended for coturn
/// (Synapse's coturn guide, `docs/setup/turn/coturn.md`, after Enable Security's advice on
/// open TURN relays), with multicast as coturn's `no-multicast-peers` refuses it.
const DENIED_V4: [(Ipv4Addr, u8); 15] = [
    // "This network": Linux delivers 0.0.0.0 to this host.
    (Ipv4Addr::new(0, 0, 0, 0), 8),
    (Ipv4Addr::new(10, 0, 0, 0), 8),
    // Carrier-grade NAT: the provider's network, not the Internet.
    (Ipv4Addr::new(100, 64, 0, 0), 10),
    (Ipv4Addr::new(127, 0, 0, 0), 8),
    // Link-local, with the cloud metadata service at 169.254.169.254.
    (Ipv4Addr::new(169, 254, 0, 0), 16),
    (Ipv4Addr::new(172, 16, 0, 0), 12),
    // IETF protocol assignments.
    (Ipv4Addr::new(192, 0, 0, 0), 24),
    // Documentation.
    (Ipv4Addr::new(192, 0, 2, 0), 24),
    // 6to4 relay anycast.
    (Ipv4Addr::new(192, 88, 99, 0), 24),
    (Ipv4Addr::new(192, 168, 0, 0), 16),
    // Benchmarking.
    (Ipv4Addr::new(198, 18, 0, 0), 15),
    // Documentation.
    (Ipv4Addr::new(198, 51, 100, 0), 24),
    (Ipv4Addr::new(203, 0, 113, 0), 24),
    // Multicast.
    (Ipv4Addr::new(224, 0, 0, 0), 4),
    // Reserved, and the broadcast address.
    (Ipv4Addr::new(240, 0, 0, 0), 4),
];

/// IPv6 networks no relay sends to: the same list's, with what coturn itself refuses beyond
/// it (site-local, multicast), and NAT64's local-use prefix beside its well-known one.
const DENIED_V6: [(Ipv6Addr, u8); 11] = [
    // IPv4-compatible (::a.b.c.d), with :: and ::1.
    (Ipv6Addr::UNSPECIFIED, 96),
    // IPv4-mapped (::ffff:a.b.c.d).
    (Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0, 0), 96),
    // NAT64 (RFC 6052 and RFC 8215): a translator would carry it to any IPv4 address.
    (Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0), 96),
    (Ipv6Addr::new(0x64, 0xff9b, 1, 0, 0, 0, 0, 0), 48),
    // Discard-only.
    (Ipv6Addr::new(0x100, 0, 0, 0, 0, 0, 0, 0), 64),
    // IETF protocol assignments, Teredo among them.
    (Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0), 23),
    // 6to4, whose next 32 bits are an IPv4 address.
    (Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0), 16),
    // Unique local.
    (Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7),
    (Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10),
    // Site-local.
    (Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0), 10),
    (Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0), 8),
];

/// How long the interfaces' addresses are trusted before they are listed again: a machine
/// can change networks while it runs.
const INTERFACES_TTL: Duration = Duration::from_secs(60);

/// Whether `ip` is in one of the networks a relay must not reach unless private peers are
/// allowed.
pub fn is_forbidden_peer(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => DENIED_V4.iter().any(|&(net, len)| {
            let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net)
        }),
        IpAddr::V6(ip) => DENIED_V6.iter().any(|&(net, len)| {
            let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net)
        }),
    }
}

/// The peer rules of one server.
pub(super) struct Peers {
    allow_private: bool,
    /// The relay and listening addresses.
    own: Vec<IpAddr>,
    /// Every interface's addresses, as last listed.
    interfaces: HashSet<IpAddr>,
    listed_at: Instant,
}

impl Peers {
    /// The rules for a server that owns `own` (its relay and listening addresses) besides
    /// its interfaces' addresses.
    pub fn new(allow_private: bool, own: impl IntoIterator<Item = IpAddr>) -> Self {
        Self {
            allow_private,
            own: own.into_iter().collect(),
            interfaces: interface_addresses(),
            listed_at: Instant::now(),
        }
    }

    /// Whether a relay may send to `peer`; `is_relay` says it is one of this server's relays.
    pub fn allow(&mut self, peer: SocketAddr, is_relay: bool) -> bool {
        self.allow_private || is_relay || !(is_forbidden_peer(peer.ip()) || self.is_own(peer.ip()))
    }

    /// Whether `ip` is one of this host's addresses.
    fn is_own(&mut self, ip: IpAddr) -> bool {
        if self.listed_at.elapsed() > INTERFACES_TTL {
            self.interfaces = interface_addresses();
            self.listed_at = Instant::now();
        }
        self.own.contains(&ip) || self.interfaces.contains(&ip)
    }
}

/// Every address of every interface, down ones too (they may come up). None, with a
/// warning, if they cannot be listed: the relay and listening addresses are still refused.
fn interface_addresses() -> HashSet<IpAddr> {
    match if_addrs::get_if_addrs() {
        Ok(interfaces) => interfaces.iter().map(|i| i.ip()).collect(),
        Err(err) => {
            tracing::warn!(
                "cannot list this machine's addresses to keep TURN relays off them: {err}"
            );
            HashSet::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_and_special_networks_are_forbidden_and_the_internet_is_not() {
        for ip in [
            "0.0.0.0",
            "10.0.0.1",
            "100.64.0.1",
            "127.0.0.1",
            "169.254.169.254",
            "172.16.0.1",
            "192.0.0.1",
            "192.0.2.1",
            "192.88.99.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.1",
            "203.0.113.1",
            "224.0.0.1",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::a00:1",
            "::ffff:8.8.8.8",
            "64:ff9b::a00:1",
            "64:ff9b:1::1",
            "100::1",
            "2001::1",
            "2001:1ff::1",
            "2002:a00:1::1",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
        ] {
            assert!(is_forbidden_peer(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "8.8.8.8",
            "1.1.1.1",
            "172.32.0.1",
            "100.128.0.1",
            "198.20.0.1",
            "223.255.255.255",
            "2001:200::1",
            "2001:4860:4860::8888",
            "2606:4700:4700::1111",
            "2003::1",
        ] {
            assert!(!is_forbidden_peer(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn this_host_is_forbidden_but_its_relays_are_not() {
        let public: IpAddr = "8.8.4.4".parse().unwrap();
        let mut peers = Peers::new(false, [public]);
        let peer = SocketAddr::new(public, 50_000);
        assert!(!peers.allow(peer, false), "the relay address itself");
        assert!(peers.allow(peer, true), "a relay of this server");
        assert!(peers.allow("1.1.1.1:53".parse().unwrap(), false));
        for ip in interface_addresses() {
            assert!(!peers.allow(SocketAddr::new(ip, 9), false), "{ip}");
        }
        let mut anywhere = Peers::new(true, [public]);
        assert!(anywhere.allow(peer, false));
        assert!(anywhere.allow("127.0.0.1:9".parse().unwrap(), false));
    }
}
