//! The address guard: the crawler connects only to public unicast
//! addresses, checked on every resolved address (so a public name that
//! resolves to 127.0.0.1 or 10.x is refused too), unless `--allow-private`.
//! Special-use names (RFC 6761: `.test`, `.example`, `.invalid`,
//! `.localhost`) are never sent to DNS: a name under them without its own
//! `--resolve` is refused with the pin it lacks (`.localhost` is loopback).

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
    } else if let Some(embedded) = embedded_v4(ip) {
        embedded.into_iter().find_map(classify_v4)
    } else {
        None
    }
}

/// The IPv4 addresses that an IPv6 address reaches through a translation
/// or tunnelling prefix: the address is only as public as they are.
fn embedded_v4(ip: Ipv6Addr) -> Option<Vec<Ipv4Addr>> {
    let s = ip.segments();
    let v4 = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    match s {
        // IPv4-compatible (deprecated): ::a.b.c.d
        [0, 0, 0, 0, 0, 0, g, h] => Some(vec![v4(g, h)]),
        // NAT64, well-known prefix 64:ff9b::/96
        [0x64, 0xff9b, 0, 0, 0, 0, g, h] => Some(vec![v4(g, h)]),
        // Local-use NAT64 64:ff9b:1::/48: the translator is a local network
        // whatever the embedded address (classed as that of 10.0.0.0).
        [0x64, 0xff9b, 1, ..] => Some(vec![Ipv4Addr::new(10, 0, 0, 0)]),
        // 6to4 2002::/16: the relay's IPv4 address follows the prefix.
        [0x2002, a, b, ..] => Some(vec![v4(a, b)]),
        // Teredo 2001::/32: the server's address, and the client's,
        // stored inverted in the last 32 bits.
        [0x2001, 0, a, b, _, _, g, h] => Some(vec![v4(a, b), v4(!g, !h)]),
        _ => None,
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

/// Top-level names reserved by RFC 6761 (and RFC 2606): never in the
/// public DNS, so looking them up only leaks them to a resolver.
const SPECIAL_USE: [&str; 4] = ["test", "example", "invalid", "localhost"];

/// The special-use top-level name `host` is under (`"test"` for
/// `news.test`), if any.
pub fn special_use_suffix(host: &str) -> Option<&'static str> {
    let tld = host.trim_end_matches('.').rsplit('.').next()?;
    SPECIAL_USE
        .into_iter()
        .find(|s| tld.eq_ignore_ascii_case(s))
}

/// A special-use name with no `--resolve` pin: not looked up, and the
/// error says which pin is missing.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[error(
    "{host} was not looked up: names under .{suffix} never are; add --resolve {host}:PORT:ADDR (e.g. {host}:80:127.0.0.1, with --allow-private)"
)]
pub struct NotLookedUp {
    pub host: String,
    pub suffix: &'static str,
}

/// Where a host's addresses come from.
#[derive(Debug, PartialEq, Eq)]
enum Source {
    /// These addresses, without asking DNS (a pin, or `.localhost`).
    Known(Vec<IpAddr>),
    /// The system resolver.
    Lookup,
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

    /// Where `host`'s addresses come from: its pin, loopback for
    /// `.localhost` (RFC 6761 §6.3), never DNS for another special-use name.
    fn source(&self, host: &str) -> Result<Source, NotLookedUp> {
        if let Some(ips) = self.pins.get(host) {
            return Ok(Source::Known(ips.clone()));
        }
        match special_use_suffix(host) {
            None => Ok(Source::Lookup),
            Some("localhost") => Ok(Source::Known(vec![
                Ipv4Addr::LOCALHOST.into(),
                Ipv6Addr::LOCALHOST.into(),
            ])),
            Some(suffix) => Err(NotLookedUp {
                host: host.to_string(),
                suffix,
            }),
        }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let this = self.clone();
        Box::pin(async move {
            let host = name.as_str().to_ascii_lowercase();
            let addrs: Vec<SocketAddr> = match this.source(&host)? {
                Source::Known(ips) => ips.iter().map(|ip| SocketAddr::new(*ip, 0)).collect(),
                Source::Lookup => tokio::net::lookup_host((host.as_str(), 0)).await?.collect(),
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
    fn ipv6_forms_that_embed_ipv4_are_judged_by_the_ipv4_address() {
        let cases = [
            // NAT64 well-known prefix.
            ("64:ff9b::7f00:1", Some(Forbidden::Loopback)),
            ("64:ff9b::a00:1", Some(Forbidden::Private)),
            ("64:ff9b::a9fe:a9fe", Some(Forbidden::LinkLocal)),
            ("64:ff9b::808:808", None),
            // Local-use NAT64 is a local network.
            ("64:ff9b:1::808:808", Some(Forbidden::Private)),
            // 6to4.
            ("2002:7f00:1::1", Some(Forbidden::Loopback)),
            ("2002:c0a8:101::1", Some(Forbidden::Private)),
            ("2002:808:808::1", None),
            // Teredo: server 65.54.227.120, client stored inverted.
            (
                "2001:0:4136:e378:8000:63bf:80ff:fffe",
                Some(Forbidden::Loopback),
            ),
            (
                "2001:0:4136:e378:8000:63bf:f5ff:fffe",
                Some(Forbidden::Private),
            ),
            (
                "2001:0:7f00:1:8000:63bf:f7f7:f7f7",
                Some(Forbidden::Loopback),
            ),
            ("2001:0:4136:e378:8000:63bf:f7f7:f7f7", None),
            // IPv4-compatible.
            ("::7f00:1", Some(Forbidden::Loopback)),
        ];
        for (ip, class) in cases {
            assert_eq!(verdict(ip), class, "{ip}");
        }
    }

    #[test]
    fn special_use_names_without_a_pin_are_never_looked_up() {
        let pin = ResolvePin {
            host: "news.test".into(),
            port: 80,
            addr: "127.0.0.1".parse().unwrap(),
        };
        let resolver = GuardedResolver::new(&[pin], false);
        assert_eq!(
            resolver.source("news.test"),
            Ok(Source::Known(vec!["127.0.0.1".parse().unwrap()]))
        );
        for (host, suffix) in [
            ("wire.test", "test"),
            ("a.b.example", "example"),
            ("example", "example"),
            ("x.invalid", "invalid"),
            ("WIRE.TEST.", "test"),
        ] {
            let err = resolver.source(host).unwrap_err();
            assert_eq!(err.suffix, suffix, "{host}");
            let said = err.to_string();
            assert!(
                said.contains(&format!("--resolve {host}:PORT:ADDR")),
                "{said}"
            );
        }
        // RFC 6761: localhost names are loopback, which the guard then judges.
        let Ok(Source::Known(ips)) = resolver.source("app.localhost") else {
            panic!("app.localhost is loopback without a lookup");
        };
        assert!(
            ips.iter()
                .all(|ip| resolver.check("app.localhost", *ip).is_err())
        );
        // Public names (example.com is one) go to the resolver.
        for host in ["example.com", "news.testing.org", "test.org"] {
            assert_eq!(resolver.source(host), Ok(Source::Lookup), "{host}");
        }
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
