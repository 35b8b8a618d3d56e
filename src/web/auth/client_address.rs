//! Which address a request comes from, for sign-in throttling: the TCP peer, or what
//! a trusted reverse proxy says in `X-Forwarded-For`.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The address of the client behind a request, the one sign-in throttling counts.
///
/// The TCP peer, unless the peer is a trusted proxy (`JOBRANK_TRUSTED_PROXIES`): then
/// `X-Forwarded-For` is believed, and the client is its right-most hop that is not itself
/// a trusted proxy (each proxy appends the address it saw, so hops to the left of an
/// untrusted one could be forged), or the left-most hop when every hop is trusted. A
/// header with a hop that is not an address is ignored (the peer counts), as is a missing
/// one. IPv4 addresses mapped into IPv6 count as IPv4.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let peer = peer.to_canonical();
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut hops = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        let Ok(text) = value.to_str() else {
            return peer;
        };
        for hop in text.split(',') {
            match forwarded_hop(hop.trim()) {
                Some(ip) => hops.push(ip.to_canonical()),
                None => return peer,
            }
        }
    }
    hops.iter()
        .rev()
        .find(|ip| !is_trusted(ip))
        .or(hops.first())
        .copied()
        .unwrap_or(peer)
}

/// One `X-Forwarded-For` hop: an address, possibly bracketed or with a port.
fn forwarded_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| hop.strip_prefix('[')?.strip_suffix(']')?.parse().ok())
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn the_client_address_believes_only_trusted_proxies() {
        let trusted: Vec<IpNet> = ["127.0.0.1/32", "::1/128", "10.0.0.0/8"]
            .iter()
            .map(|n| n.parse().unwrap())
            .collect();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        for (peer, headers, expected) in [
            // Not from a proxy: the header is whatever the client wrote.
            ("203.0.113.9", vec!["198.51.100.1"], "203.0.113.9"),
            // From Caddy on loopback.
            ("127.0.0.1", vec!["198.51.100.1"], "198.51.100.1"),
            ("::1", vec!["198.51.100.1"], "198.51.100.1"),
            ("::ffff:127.0.0.1", vec!["198.51.100.1"], "198.51.100.1"),
            // No header, an empty one, or a hop that is not an address: the peer.
            ("127.0.0.1", vec![], "127.0.0.1"),
            ("127.0.0.1", vec![""], "127.0.0.1"),
            ("127.0.0.1", vec!["unknown, 198.51.100.1"], "127.0.0.1"),
            ("127.0.0.1", vec!["198.51.100.1,,10.0.0.2"], "127.0.0.1"),
            // The right-most hop that is not a trusted proxy; forged hops to its left
            // are ignored.
            ("127.0.0.1", vec!["1.2.3.4, 198.51.100.1"], "198.51.100.1"),
            ("127.0.0.1", vec!["198.51.100.1, 10.0.0.2"], "198.51.100.1"),
            (
                "127.0.0.1",
                vec!["1.2.3.4", "198.51.100.1, 10.0.0.2"],
                "198.51.100.1",
            ),
            // Every hop trusted: the left-most.
            ("127.0.0.1", vec!["10.0.0.7, 10.0.0.2"], "10.0.0.7"),
            // Addresses with a port, bracketed IPv6.
            ("127.0.0.1", vec!["[2001:db8::1]:443"], "2001:db8::1"),
            ("127.0.0.1", vec!["[2001:db8::1]"], "2001:db8::1"),
            ("127.0.0.1", vec!["198.51.100.1:5123"], "198.51.100.1"),
        ] {
            assert_eq!(
                client_address(ip(peer), &forwarded(&headers), &trusted),
                ip(expected),
                "peer {peer}, X-Forwarded-For {headers:?}"
            );
        }
        assert_eq!(
            client_address(ip("127.0.0.1"), &forwarded(&["198.51.100.1"]), &[]),
            ip("127.0.0.1"),
            "no trusted proxies: always the peer"
        );
    }
}
