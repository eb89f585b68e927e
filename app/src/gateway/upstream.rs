//! Where the gateway may connect: unless private upstreams are allowed (a
//! setting, on for the demo and tests), an upstream must be on a public
//! address, so a publisher cannot aim the platform at its own internal
//! services (the metadata service, the database, loopback). Names are
//! checked as they resolve, every time, so a name cannot pass the check
//! and then resolve to a private address.

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, SocketAddr};

/// Whether an address is one the platform must not be sent to.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || o[0] == 0
                // Shared address space (carrier-grade NAT), 100.64.0.0/10.
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
                // Benchmarking, 198.18.0.0/15.
                || (o[0] == 198 && (o[1] & 0xfe) == 18)
                || o[0] >= 240
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private(IpAddr::V4(v4));
            }
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                // Unique local fc00::/7, link-local fe80::/10.
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                // Documentation 2001:db8::/32.
                || (s[0] == 0x2001 && s[1] == 0xdb8)
        }
    }
}

/// Why an upstream URL may not be called.
pub fn refused_host(url: &reqwest::Url, allow_private: bool) -> Option<String> {
    if allow_private {
        return None;
    }
    let host = url.host_str()?;
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(ip) if is_private(ip) => Some(host.to_string()),
        Ok(_) => None,
        Err(_) => {
            let name = bare.trim_end_matches('.').to_ascii_lowercase();
            (name == "localhost" || name.ends_with(".localhost")).then(|| host.to_string())
        }
    }
}

/// Resolves names to public addresses only.
pub struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> =
                found.into_iter().filter(|a| !is_private(a.ip())).collect();
            if public.is_empty() {
                return Err(format!("{host} has no public address").into());
            }
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_addresses_are_known() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_private(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "2606:4700::1111", "1.1.1.1"] {
            assert!(!is_private(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn literal_private_hosts_are_refused_unless_allowed() {
        let u = |s: &str| reqwest::Url::parse(s).unwrap();
        assert!(refused_host(&u("http://169.254.169.254/v1"), false).is_some());
        assert!(refused_host(&u("http://[::1]:8080/v1"), false).is_some());
        assert!(refused_host(&u("http://localhost:8080/v1"), false).is_some());
        assert!(refused_host(&u("https://models.example.com/v1"), false).is_none());
        assert!(refused_host(&u("http://127.0.0.1:9/v1"), true).is_none());
    }
}
