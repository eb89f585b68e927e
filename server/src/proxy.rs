//! The client's address behind a reverse proxy. Only a peer listed in
//! `FAIRGROUND_TRUSTED_PROXIES` is believed about whom it forwards
//! (`X-Forwarded-For`); the client is the right-most address in that
//! header that is not itself a trusted proxy, so an address the client
//! typed into the header (to the left of what the proxy appended) is never
//! taken. With no trusted proxies (the default) the header is ignored.

use std::net::{IpAddr, SocketAddr};

/// One address or a CIDR range (`10.0.0.0/8`, `fd00::/8`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Net {
    addr: IpAddr,
    prefix: u8,
}

impl Net {
    fn parse(s: &str) -> Result<Net, String> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr
            .trim()
            .parse()
            .map_err(|_| format!("{s:?} is not an IP address or CIDR range"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{s:?}: the prefix must be 0 to {max}"))?,
            None => max,
        };
        Ok(Net { addr, prefix })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// An IPv4 address seen through an IPv6 socket (`::ffff:a.b.c.d`) as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// The proxies whose `X-Forwarded-For` is believed.
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(Vec<Net>);

impl TrustedProxies {
    /// A comma-separated list of addresses and CIDR ranges; empty for none.
    pub fn parse(list: &str) -> Result<TrustedProxies, String> {
        list.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(Net::parse)
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|n| n.contains(ip))
    }

    /// The client's address for a request from `peer` with these
    /// `X-Forwarded-For` values (in the order received).
    pub fn client(&self, peer: SocketAddr, forwarded: &[&str]) -> SocketAddr {
        if !self.trusts(peer.ip()) {
            return peer;
        }
        let hops: Vec<&str> = forwarded
            .iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        let mut client = peer.ip();
        for hop in hops.iter().rev() {
            let Ok(ip) = hop.parse::<IpAddr>() else {
                // Not an address: believe nothing further to the left.
                break;
            };
            client = canonical(ip);
            if !self.trusts(client) {
                break;
            }
        }
        SocketAddr::new(client, peer.port())
    }
}

#[cfg(test)]
mod tests {
    use super::TrustedProxies;
    use std::net::SocketAddr;

    fn peer(s: &str) -> SocketAddr {
        format!("{s}:4000").parse().expect("addr")
    }

    #[test]
    fn only_a_trusted_peer_is_believed_and_only_for_what_it_appended() {
        let none = TrustedProxies::parse("").expect("empty");
        assert_eq!(
            none.client(peer("127.0.0.1"), &["203.0.113.7"]),
            peer("127.0.0.1")
        );
        let p = TrustedProxies::parse("127.0.0.1, 10.0.0.0/8").expect("list");
        assert_eq!(
            p.client(peer("127.0.0.1"), &["203.0.113.7"]),
            peer("203.0.113.7")
        );
        // A forged left part is skipped: the proxy appended the real peer.
        assert_eq!(
            p.client(peer("127.0.0.1"), &["1.2.3.4, 203.0.113.9"]),
            peer("203.0.113.9")
        );
        // Chained trusted proxies are walked through.
        assert_eq!(
            p.client(peer("10.1.2.3"), &["198.51.100.2", "10.9.9.9"]),
            peer("198.51.100.2")
        );
        // An untrusted peer's header is ignored.
        assert_eq!(
            p.client(peer("192.0.2.1"), &["203.0.113.7"]),
            peer("192.0.2.1")
        );
        // Garbage stops the walk at the last believed hop.
        assert_eq!(
            p.client(peer("127.0.0.1"), &["<script>"]),
            peer("127.0.0.1")
        );
        assert_eq!(p.client(peer("127.0.0.1"), &[]), peer("127.0.0.1"));
    }

    #[test]
    fn lists_are_checked() {
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("proxy.local").is_err());
        assert!(TrustedProxies::parse("fd00::/8, ::1").is_ok());
    }
}
