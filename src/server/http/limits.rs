//! What bounds a connection before it is a signaling socket: how long it may take over its
//! headers and stay silent, and how many one address may hold at once. Without them, a
//! client that opens connections and sends half a request each holds them for as long as it
//! likes (a "slowloris"), until the server runs out of descriptors.

use crate::server::settings::Settings;
use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv6Addr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The limits of [`Settings`], for [`super::serve::serve`].
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// For the TLS handshake, and for each request's headers from the moment the
    /// connection is ready for it (so also between requests on a kept-alive connection).
    pub header_timeout: Duration,
    /// For a connection that neither sends nor reads anything, until it is upgraded.
    pub idle_timeout: Duration,
    /// Connections one address may hold until they are upgraded.
    pub per_address: usize,
}

impl Limits {
    pub fn of(settings: &Settings) -> Self {
        Self {
            header_timeout: Duration::from_secs(settings.header_timeout_secs),
            idle_timeout: Duration::from_secs(settings.idle_timeout_secs),
            per_address: settings.max_connections_per_ip,
        }
    }
}

/// How many connections each address holds.
#[derive(Debug)]
pub struct PerAddress {
    max: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One connection counted against its address until dropped.
#[derive(Debug)]
pub struct Admitted {
    table: Arc<PerAddress>,
    key: IpAddr,
}

impl PerAddress {
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(Self {
            max,
            open: Mutex::new(HashMap::new()),
        })
    }

    /// Counts one more connection from `ip`, unless that address is at the limit.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<Admitted> {
        let key = key(ip);
        let mut open = self
            .open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let count = open.entry(key).or_insert(0);
        if *count >= self.max {
            return None;
        }
        *count += 1;
        Some(Admitted {
            table: self.clone(),
            key,
        })
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut open = self
            .table
            .open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(count) = open.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.key);
            }
        }
    }
}

/// What counts as one address: an IPv4 address (also when it arrives IPv4-mapped on an
/// IPv6 socket), or an IPv6 /64, the block one home or phone is given, which holds more
/// addresses than anyone could use up.
fn key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let mut segments = v6.segments();
            segments[4..].fill(0);
            IpAddr::V6(Ipv6Addr::from(segments))
        }
        v4 => v4,
    }
}

/// A connection's stream that notes when anything is read or written, for the idle
/// timeout. It stays in place after an upgrade, where nobody looks at the note any more.
#[derive(Debug)]
pub struct Watched<T> {
    inner: T,
    heard: Arc<AtomicBool>,
}

impl<T> Watched<T> {
    pub fn new(inner: T) -> (Self, Arc<AtomicBool>) {
        let heard = Arc::new(AtomicBool::new(false));
        (
            Self {
                inner,
                heard: heard.clone(),
            },
            heard,
        )
    }

    fn note<R>(
        &self,
        moved: Poll<io::Result<R>>,
        any: impl FnOnce(&R) -> bool,
    ) -> Poll<io::Result<R>> {
        if let Poll::Ready(Ok(done)) = &moved
            && any(done)
        {
            self.heard.store(true, Ordering::Relaxed);
        }
        moved
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let read = Pin::new(&mut self.inner).poll_read(cx, buf);
        let after = buf.filled().len();
        self.note(read, |()| after > before)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.note(written, |&n| n > 0)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.note(written, |&n| n > 0)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_address_is_admitted_up_to_the_limit_and_again_once_one_leaves() {
        let table = PerAddress::new(2);
        let a = ip("192.0.2.1");
        let first = table.admit(a).expect("first");
        let _second = table.admit(a).expect("second");
        assert!(table.admit(a).is_none(), "third refused");
        assert!(table.admit(ip("192.0.2.2")).is_some(), "another address");
        drop(first);
        let _again = table.admit(a).expect("room again");
        assert!(table.admit(a).is_none(), "and full again");
    }

    #[test]
    fn counts_are_forgotten_at_zero() {
        let table = PerAddress::new(1);
        drop(table.admit(ip("192.0.2.1")));
        assert!(table.open.lock().unwrap().is_empty());
    }

    #[test]
    fn one_ipv6_slash_64_is_one_address_and_mapped_ipv4_is_ipv4() {
        let table = PerAddress::new(1);
        let _held = table.admit(ip("2001:db8:1:2::1")).unwrap();
        assert!(table.admit(ip("2001:db8:1:2:ffff::9")).is_none());
        assert!(table.admit(ip("2001:db8:1:3::1")).is_some());
        let _v4 = table.admit(ip("192.0.2.7")).unwrap();
        assert!(table.admit(ip("::ffff:192.0.2.7")).is_none());
    }
}
