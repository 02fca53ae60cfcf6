//! Which `Host` a request may name. A browser sends the name it was told to
//! load, so a hostile page whose own name is re-pointed at this machine
//! (DNS rebinding) arrives with its name, not ours: only loopback names, the
//! address the interface is bound to, the address the connection arrived
//! on, and names the operator allowed are answered.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use axum::extract::connect_info::Connected;
use axum::http::uri::Authority;
use axum::http::{HeaderMap, header};
use axum::serve::IncomingStream;

/// A host name the operator allows besides the loopback names (for a
/// reverse proxy or a name on the local network), without a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHost(String);

impl FromStr for AllowedHost {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let name = normalize(s.trim());
        let parsed = Authority::from_str(&name)
            .map_err(|_| format!("{s:?} is not a host name (expected e.g. archive.example.org)"))?;
        if parsed.port().is_some() || name.is_empty() || name.contains('@') {
            return Err(format!(
                "{s:?}: give the host name alone, without a port (any port is accepted)"
            ));
        }
        Ok(AllowedHost(name))
    }
}

/// Where a connection arrived: its local address (with a wildcard bind, the
/// interface the client reached), when the system could say.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Arrival(pub Option<SocketAddr>);

impl Connected<IncomingStream<'_, tokio::net::TcpListener>> for Arrival {
    fn connect_info(stream: IncomingStream<'_, tokio::net::TcpListener>) -> Self {
        Arrival(stream.io().local_addr().ok())
    }
}

/// The names this interface answers to.
#[derive(Debug, Clone)]
pub(crate) struct HostPolicy {
    bound: SocketAddr,
    allowed: Vec<AllowedHost>,
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The `Host` header is not a host at all.
    Malformed(String),
    /// A name or address this interface does not answer to.
    Foreign(String),
}

impl HostPolicy {
    pub(crate) fn new(bound: SocketAddr, allowed: Vec<AllowedHost>) -> Self {
        Self { bound, allowed }
    }

    /// Whether a request with these headers, arrived at `arrival`, may be
    /// answered. A request without any `Host` cannot come from a browser,
    /// so it cannot be a rebinding attack.
    pub(crate) fn check(
        &self,
        headers: &HeaderMap,
        arrival: Option<Arrival>,
    ) -> Result<(), Refusal> {
        let Some(value) = headers.get(header::HOST) else {
            return Ok(());
        };
        let text = value
            .to_str()
            .map_err(|_| Refusal::Malformed(String::from_utf8_lossy(value.as_bytes()).into()))?;
        let authority =
            Authority::from_str(text.trim()).map_err(|_| Refusal::Malformed(text.into()))?;
        if text.contains('@') {
            return Err(Refusal::Malformed(text.into()));
        }
        let host = normalize(authority.host());
        if self.allows(&host, arrival) {
            Ok(())
        } else {
            Err(Refusal::Foreign(text.into()))
        }
    }

    fn allows(&self, host: &str, arrival: Option<Arrival>) -> bool {
        if host == "localhost" || host.ends_with(".localhost") {
            return true;
        }
        if self.allowed.iter().any(|a| a.0 == host) {
            return true;
        }
        let literal = host.trim_start_matches('[').trim_end_matches(']');
        let Ok(ip) = literal.parse::<IpAddr>() else {
            return false;
        };
        ip.is_loopback()
            || ip == self.bound.ip()
            || arrival.and_then(|a| a.0).is_some_and(|a| a.ip() == ip)
    }

    /// The names a person may use, for the refusal message.
    pub(crate) fn described(&self) -> String {
        let mut names = vec![
            "localhost".to_string(),
            "127.0.0.1".to_string(),
            "[::1]".to_string(),
        ];
        let bound = match self.bound.ip() {
            IpAddr::V6(ip) => format!("[{ip}]"),
            IpAddr::V4(ip) => ip.to_string(),
        };
        if !self.bound.ip().is_loopback() {
            names.push(bound);
        }
        names.extend(self.allowed.iter().map(|a| a.0.clone()));
        names.join(", ")
    }
}

/// Lower case, without the trailing dot of a fully qualified name.
fn normalize(host: &str) -> String {
    host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with_host(host: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_str(host).unwrap());
        h
    }

    fn loopback_policy() -> HostPolicy {
        HostPolicy::new("127.0.0.1:8080".parse().unwrap(), vec![])
    }

    #[test]
    fn loopback_names_with_or_without_port_are_answered() {
        let p = loopback_policy();
        for host in [
            "localhost",
            "LOCALHOST:8080",
            "localhost.",
            "127.0.0.1",
            "127.0.0.1:8080",
            "[::1]",
            "[::1]:8080",
        ] {
            assert_eq!(p.check(&with_host(host), None), Ok(()), "{host}");
        }
    }

    #[test]
    fn other_names_and_addresses_are_refused() {
        let p = loopback_policy();
        for host in [
            "evil.example",
            "evil.example:8080",
            "localhost.evil.example",
            "203.0.113.9",
        ] {
            assert!(
                matches!(p.check(&with_host(host), None), Err(Refusal::Foreign(_))),
                "{host}"
            );
        }
        assert!(matches!(
            p.check(&with_host("a b"), None),
            Err(Refusal::Malformed(_))
        ));
        assert!(matches!(
            p.check(&with_host("user@localhost"), None),
            Err(Refusal::Malformed(_))
        ));
    }

    #[test]
    fn the_bound_and_arrival_addresses_and_allowed_names_are_answered() {
        let public = HostPolicy::new(
            "203.0.113.9:80".parse().unwrap(),
            vec!["Archive.Example.ORG".parse().unwrap()],
        );
        assert_eq!(public.check(&with_host("203.0.113.9"), None), Ok(()));
        assert_eq!(
            public.check(&with_host("archive.example.org:80"), None),
            Ok(())
        );
        assert!(public.check(&with_host("other.example.org"), None).is_err());
        let wildcard = HostPolicy::new("0.0.0.0:80".parse().unwrap(), vec![]);
        let arrival = Arrival(Some("198.51.100.4:80".parse().unwrap()));
        assert_eq!(
            wildcard.check(&with_host("198.51.100.4:80"), Some(arrival)),
            Ok(())
        );
        assert!(
            wildcard
                .check(&with_host("198.51.100.5"), Some(arrival))
                .is_err()
        );
    }

    #[test]
    fn allowed_hosts_are_names_without_ports() {
        assert!("archive.example.org".parse::<AllowedHost>().is_ok());
        assert!("archive.example.org:80".parse::<AllowedHost>().is_err());
        assert!("".parse::<AllowedHost>().is_err());
        assert!("a b".parse::<AllowedHost>().is_err());
    }
}
