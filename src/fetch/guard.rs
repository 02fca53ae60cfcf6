//! The address guard: the crawler connects only to public unicast
//! addresses, checked on every resolved address (so a public name that
//! resolves to 127.0.0.1 or 10.x is refused too), unless `--allow-private`.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::config::ResolvePin;

/// The class of a non-public address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forbidden {
    Loopback,
    Private,
    LinkLocal,
    Multicast,
    Unspecified,
    Broadcast,
    SharedOrReserved,
}

impl std::fmt::Display for Forbidden {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Forbidden::Loopback => "loopback",
            Forbidden::Private => "private",
            Forbidden::LinkLocal => "link-local",
            Forbidden::Multicast => "multicast",
            Forbidden::Unspecified => "unspecified",
            Forbidden::Broadcast => "broadcast",
            Forbidden::SharedOrReserved => "shared or reserved",
        })
    }
}

/// Classifies an address: `None` for a public unicast address the crawler
/// may connect to, else the reason it may not.
pub fn classify(ip: IpAddr) -> Option<Forbidden> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => {
            // IPv4-mapped and -compatible forms reach the IPv4 address.
            if let Some(v4) = v6.to_ipv4_mapped() {
                return classify_v4(v4);
            }
            classify_v6(v6)
        }
    }
}

fn classify_v4(ip: Ipv4Addr) -> Option<Forbidden> {
    let [a, b, ..] = ip.octets();
    if ip.is_unspecified() || a == 0 {
        Some(Forbidden::Unspecified)
    } else if ip.is_loopback() {
        Some(Forbidden::Loopback)
    } else if ip.is_private() {
        Some(Forbidden::Private)
    } else if ip.is_link_local() {
        Some(Forbidden::LinkLocal)
    } else if ip.is_multicast() {
        Some(Forbidden::Multicast)
    } else if ip.is_broadcast() {
        Some(Forbidden::Broadcast)
    } else if (a == 100 && (64..128).contains(&b))
        || a >= 240
        || (a == 192 && b == 0 && ip.octets()[2] == 0)
        || (a == 198 && (b == 18 || b == 19))
    {
        // 100.64/10 carrier-grade NAT, 240/4 reserved, 192.0.0/24 IETF, 198.18/15 benchmarking
        Some(Forbidden::SharedOrReserved)
    } else {
        None
    }
}

fn classify_v6(ip: Ipv6Addr) -> Option<Forbidden> {
    let first = ip.segments()[0];
    if ip.is_unspecified() {
        Some(Forbidden::Unspecified)
    } else if ip.is_loopback() {
        Some(Forbidden::Loopback)
    } else if ip.is_multicast() {
        Some(Forbidden::Multicast)
    } else if first & 0xffc0 == 0xfe80 {
        Some(Forbidden::LinkLocal)
    } else if first & 0xfe00 == 0xfc00 || first & 0xffc0 == 0xfec0 {
        // fc00::/7 unique local, fec0::/10 deprecated site-local
        Some(Forbidden::Private)
    } else if ip.segments()[..6] == [0, 0, 0, 0, 0, 0] {
        // IPv4-compatible (deprecated) addresses: judge the embedded IPv4.
        let [.., g, h] = ip.segments();
        classify_v4(Ipv4Addr::new(
            (g >> 8) as u8,
            g as u8,
            (h >> 8) as u8,
            h as u8,
        ))
    } else {
        None
    }
}

/// Refusal to connect, carried through reqwest's error chain.
#[derive(Debug, thiserror::Error, Clone)]
#[error("refused to connect to {addr} for {host}: {class} address (pass --allow-private to allow)")]
pub struct AddressRefused {
    pub host: String,
    pub addr: IpAddr,
    pub class: Forbidden,
}

/// reqwest's DNS resolver with `--resolve` pins and the address guard.
#[derive(Clone)]
pub struct GuardedResolver {
    pins: Arc<HashMap<String, Vec<IpAddr>>>,
    allow_private: bool,
}

impl GuardedResolver {
    pub fn new(pins: &[ResolvePin], allow_private: bool) -> Self {
        let mut map: HashMap<String, Vec<IpAddr>> = HashMap::new();
        for pin in pins {
            map.entry(pin.host.clone()).or_default().push(pin.addr);
        }
        Self {
            pins: Arc::new(map),
            allow_private,
        }
    }

    /// Checks an address the crawler is about to use directly (an IP literal
    /// in a URL never reaches the resolver).
    pub fn check(&self, host: &str, ip: IpAddr) -> Result<(), AddressRefused> {
        match classify(ip) {
            Some(class) if !self.allow_private => Err(AddressRefused {
                host: host.to_string(),
                addr: ip,
                class,
            }),
            _ => Ok(()),
        }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let this = self.clone();
        Box::pin(async move {
            let host = name.as_str().to_ascii_lowercase();
            let addrs: Vec<SocketAddr> = match this.pins.get(&host) {
                Some(ips) => ips.iter().map(|ip| SocketAddr::new(*ip, 0)).collect(),
                None => tokio::net::lookup_host((host.as_str(), 0)).await?.collect(),
            };
            let mut allowed = Vec::with_capacity(addrs.len());
            let mut refused = None;
            for addr in addrs {
                match this.check(&host, addr.ip()) {
                    Ok(()) => allowed.push(addr),
                    Err(e) => refused = Some(e),
                }
            }
            match (allowed.is_empty(), refused) {
                (true, Some(e)) => Err(Box::new(e) as Box<dyn std::error::Error + Send + Sync>),
                _ => Ok(Box::new(allowed.into_iter()) as Addrs),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(s: &str) -> Option<Forbidden> {
        classify(s.parse().unwrap())
    }

    #[test]
    fn public_addresses_pass() {
        for ip in [
            "93.184.216.34",
            "1.1.1.1",
            "2606:2800:220:1:248:1893:25c8:1946",
            "8.8.8.8",
        ] {
            assert_eq!(verdict(ip), None, "{ip}");
        }
    }

    #[test]
    fn non_public_addresses_are_refused() {
        let cases = [
            ("127.0.0.1", Forbidden::Loopback),
            ("127.8.9.10", Forbidden::Loopback),
            ("::1", Forbidden::Loopback),
            ("10.1.2.3", Forbidden::Private),
            ("172.16.0.1", Forbidden::Private),
            ("172.31.255.255", Forbidden::Private),
            ("192.168.1.1", Forbidden::Private),
            ("fd00::1", Forbidden::Private),
            ("169.254.169.254", Forbidden::LinkLocal),
            ("fe80::1", Forbidden::LinkLocal),
            ("224.0.0.1", Forbidden::Multicast),
            ("ff02::1", Forbidden::Multicast),
            ("0.0.0.0", Forbidden::Unspecified),
            ("::", Forbidden::Unspecified),
            ("255.255.255.255", Forbidden::Broadcast),
            ("100.64.0.1", Forbidden::SharedOrReserved),
            ("::ffff:127.0.0.1", Forbidden::Loopback),
            ("::ffff:10.0.0.1", Forbidden::Private),
        ];
        for (ip, class) in cases {
            assert_eq!(verdict(ip), Some(class), "{ip}");
        }
        assert_eq!(verdict("172.32.0.1"), None);
    }

    #[test]
    fn allow_private_lets_everything_through() {
        let open = GuardedResolver::new(&[], true);
        assert!(open.check("a.test", "127.0.0.1".parse().unwrap()).is_ok());
        let closed = GuardedResolver::new(&[], false);
        let err = closed
            .check("a.test", "127.0.0.1".parse().unwrap())
            .unwrap_err();
        assert!(err.to_string().contains("--allow-private"));
    }
}
