//! Where other devices find duet: the machine's LAN addresses, the URLs built from them
//! (printed at start, shown on the home page), and `/lan.svg`, a QR code of that URL so a
//! phone can open it by pointing its camera at the screen.

use crate::pages::LanLink;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

/// What the server knows about how it is reached, fixed at start.
#[derive(Clone, Debug)]
pub struct Lan {
    /// `http` or `https`.
    scheme: &'static str,
    /// Where the server listens (the real port, even if the settings asked for port 0).
    listen: SocketAddr,
    /// [`lan_urls`] for `listen`.
    urls: Vec<String>,
    /// The SHA-256 fingerprint of the certificate served, with TLS on.
    fingerprint: Option<String>,
}

impl Lan {
    /// `listen` with the machine's `addresses` (see [`addresses`]).
    pub fn new(
        scheme: &'static str,
        listen: SocketAddr,
        addresses: &[IpAddr],
        fingerprint: Option<String>,
    ) -> Self {
        Self {
            scheme,
            listen,
            urls: lan_urls(scheme, listen, addresses),
            fingerprint,
        }
    }

    /// The URLs other devices on the LAN can open, best first.
    pub fn urls(&self) -> &[String] {
        &self.urls
    }

    /// The URL to offer a phone: the first LAN URL, or else the listening address (loopback
    /// for "every interface"). Never the request's `Host`, which the client writes: the page
    /// and its QR code would otherwise show whatever address a link or proxy put there.
    pub fn link(&self) -> LanLink {
        let url = match self.urls.first() {
            Some(url) => url.clone(),
            None => format!("{}://{}/", self.scheme, this_machine(self.listen)),
        };
        LanLink {
            url,
            on_lan: !self.urls.is_empty(),
            secure: self.scheme == "https",
            fingerprint: self.fingerprint.clone(),
        }
    }
}

/// The machine's addresses that other devices may reach, IPv4 first: every interface
/// address except loopback, and except IPv6 link-local ones (a URL would need the
/// interface's zone, which browsers do not take). Empty, with a warning, if the interfaces
/// cannot be listed: duet still serves, only without LAN URLs.
pub fn addresses() -> Vec<IpAddr> {
    let interfaces = match if_addrs::get_if_addrs() {
        Ok(interfaces) => interfaces,
        Err(err) => {
            tracing::warn!("cannot list this machine's network addresses: {err}");
            return Vec::new();
        }
    };
    let mut found: Vec<(bool, bool, IpAddr)> = interfaces
        .iter()
        .filter(|i| i.oper_status != if_addrs::IfOperStatus::Down)
        .map(|i| (i.ip().is_ipv6(), is_virtual(&i.name), i.ip()))
        .filter(|(_, _, ip)| reachable(ip))
        .collect();
    // Stable: within each kind, the order the system lists its interfaces in.
    found.sort_by_key(|&(v6, virtual_, _)| (v6, virtual_));
    let mut ips: Vec<IpAddr> = Vec::new();
    for (_, _, ip) in found {
        if !ips.contains(&ip) {
            ips.push(ip);
        }
    }
    ips
}

/// An address another device could use in a URL.
fn reachable(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => !v4.is_loopback() && !v4.is_unspecified(),
        IpAddr::V6(v6) => !v6.is_loopback() && !v6.is_unspecified() && !v6.is_unicast_link_local(),
    }
}

/// Bridges for containers and virtual machines: their addresses are not the LAN's, so the
/// QR code should not pick them first.
fn is_virtual(interface: &str) -> bool {
    [
        "docker", "br-", "veth", "virbr", "vmnet", "vboxnet", "cni", "flannel",
    ]
    .iter()
    .any(|prefix| interface.starts_with(prefix))
}

/// The URLs other devices can open when the server listens on `listen`: one per address of
/// `addresses` when it listens on every interface (`0.0.0.0` takes IPv4 only, `[::]` both),
/// else the one address, unless that is loopback (no other device reaches it).
pub fn lan_urls(scheme: &str, listen: SocketAddr, addresses: &[IpAddr]) -> Vec<String> {
    let url = |ip: IpAddr| format!("{scheme}://{}/", SocketAddr::new(ip, listen.port()));
    match listen.ip() {
        IpAddr::V4(any) if any.is_unspecified() => addresses
            .iter()
            .filter(|ip| ip.is_ipv4())
            .map(|&ip| url(ip))
            .collect(),
        IpAddr::V6(any) if any.is_unspecified() => addresses.iter().map(|&ip| url(ip)).collect(),
        ip if ip.is_loopback() => Vec::new(),
        ip => vec![url(ip)],
    }
}

/// `listen` as this machine reaches it: `0.0.0.0` and `[::]` are not addresses to open, so
/// they become loopback.
fn this_machine(listen: SocketAddr) -> SocketAddr {
    let ip = match listen.ip() {
        IpAddr::V4(any) if any.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(any) if any.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, listen.port())
}

/// `GET /lan.svg`: a QR code of [`Lan::link`]'s URL.
pub async fn lan_qr(State(lan): State<Arc<Lan>>) -> Response {
    let url = lan.link().url;
    match qr_svg(&url) {
        Ok(svg) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("image/svg+xml"),
                ),
                // The address can change with the next start.
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
            svg,
        )
            .into_response(),
        Err(err) => {
            tracing::error!("cannot make a QR code of {url}: {err}");
            (
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                crate::text::Lang::En.words().no_qr,
            )
                .into_response()
        }
    }
}

/// `text` as an SVG QR code, black on white with the standard quiet zone (phones read it
/// on a dark page too).
pub fn qr_svg(text: &str) -> Result<String, qrcode::types::QrError> {
    let code = qrcode::QrCode::new(text.as_bytes())?;
    Ok(code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    const LAN4: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 168, 1, 5));
    const LAN6: IpAddr = IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 5));

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn every_interface_gives_one_url_per_address() {
        assert_eq!(
            lan_urls("https", addr("0.0.0.0:3000"), &[LAN4, LAN6]),
            vec!["https://192.168.1.5:3000/"]
        );
        assert_eq!(
            lan_urls("https", addr("[::]:3000"), &[LAN4, LAN6]),
            vec!["https://192.168.1.5:3000/", "https://[fd00::5]:3000/"]
        );
    }

    #[test]
    fn one_address_gives_itself_unless_loopback() {
        assert_eq!(
            lan_urls("http", addr("192.168.1.5:8080"), &[LAN4, LAN6]),
            vec!["http://192.168.1.5:8080/"]
        );
        assert!(lan_urls("http", addr("127.0.0.1:3000"), &[LAN4]).is_empty());
        assert!(lan_urls("https", addr("[::1]:3000"), &[LAN4]).is_empty());
    }

    #[test]
    fn loopback_and_link_local_are_not_lan_addresses() {
        assert!(!reachable(&IpAddr::V4(Ipv4Addr::LOCALHOST)));
        assert!(!reachable(&IpAddr::V6(Ipv6Addr::LOCALHOST)));
        assert!(!reachable(&"fe80::1".parse().unwrap()));
        assert!(reachable(&LAN4));
        assert!(reachable(&LAN6));
        assert!(addresses().iter().all(reachable));
    }

    #[test]
    fn the_link_is_the_first_lan_url_else_the_listening_address() {
        let lan = Lan::new("https", addr("0.0.0.0:3000"), &[LAN4], Some("AB:CD".into()));
        let link = lan.link();
        assert_eq!(link.url, "https://192.168.1.5:3000/");
        assert!(link.on_lan && link.secure);
        assert_eq!(link.fingerprint.as_deref(), Some("AB:CD"));

        let local = Lan::new("http", addr("127.0.0.1:3000"), &[LAN4], None);
        let link = local.link();
        assert_eq!(link.url, "http://127.0.0.1:3000/");
        assert!(!link.on_lan && !link.secure);
        // Every interface but no LAN address: this machine's loopback.
        let any = Lan::new("http", addr("0.0.0.0:3000"), &[], None);
        assert_eq!(any.link().url, "http://127.0.0.1:3000/");
        let any6 = Lan::new("https", addr("[::]:3000"), &[], None);
        assert_eq!(any6.link().url, "https://[::1]:3000/");
    }

    #[test]
    fn the_qr_code_is_an_svg() {
        let svg = qr_svg("https://192.168.1.5:3000/").unwrap();
        assert!(svg.contains("<svg"), "{svg}");
        assert!(svg.ends_with("</svg>"), "{svg}");
    }
}
