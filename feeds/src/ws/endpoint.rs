//! Endpoints (`ws://`, `wss://`, `http://`, `https://`) and the TLS client configuration.
//!
//! Certificates are always verified: against Mozilla's roots (webpki-roots) for the real venue,
//! plus an optional extra CA file (PEM) for a local test venue. There is no switch to turn
//! verification off.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};

/// A parsed endpoint URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub tls: bool,
    pub host: String,
    pub port: u16,
    /// Path and query, starting with `/`.
    pub path: String,
}

impl Endpoint {
    /// Parses `scheme://host[:port][/path]` for the four schemes Pulse speaks.
    pub fn parse(url: &str) -> Result<Endpoint, String> {
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| format!("`{url}` has no scheme"))?;
        let (tls, default_port) = match scheme {
            "ws" | "http" => (false, 80),
            "wss" | "https" => (true, 443),
            _ => return Err(format!("`{url}`: scheme must be ws, wss, http or https")),
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => {
                let port = p.parse().map_err(|_| format!("`{url}`: bad port `{p}`"))?;
                (h, port)
            }
            _ => (authority, default_port),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(format!("`{url}` has no host"));
        }
        Ok(Endpoint {
            tls,
            host: host.to_string(),
            port,
            path: path.to_string(),
        })
    }

    /// Resolves the host. Blocking (DNS): call it off the hot path.
    pub fn resolve(&self) -> io::Result<Vec<SocketAddr>> {
        let addrs: Vec<SocketAddr> = (self.host.as_str(), self.port).to_socket_addrs()?.collect();
        if addrs.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{} resolves to nothing", self.host),
            ));
        }
        Ok(addrs)
    }

    /// The host is this machine by name or address (`localhost`, 127.0.0.0/8, `::1`), so
    /// nothing sent to it crosses a network: the one case where a plain scheme is not clear text
    /// on a wire. Decided from the text, not by resolving: a name that merely resolves to a
    /// loopback address today is not trusted.
    pub fn is_loopback(&self) -> bool {
        self.host.eq_ignore_ascii_case("localhost")
            || self
                .host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }

    pub fn server_name(&self) -> io::Result<ServerName<'static>> {
        ServerName::try_from(self.host.clone())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))
    }

    /// `host` or `host:port` as a `Host` header value.
    pub fn host_header(&self) -> String {
        let default = if self.tls { 443 } else { 80 };
        if self.port == default {
            self.host.clone()
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// A rustls client configuration that verifies certificates against Mozilla's roots and,
/// when given, the CAs in `extra_ca_file` (PEM).
pub fn tls_config(extra_ca_file: Option<&Path>) -> io::Result<Arc<rustls::ClientConfig>> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = extra_ca_file {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
            .map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: {e}", path.display()),
                )
            })?
            .collect::<Result<_, _>>()
            .map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: {e}", path.display()),
                )
            })?;
        if certs.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: no certificate in the file", path.display()),
            ));
        }
        for cert in certs {
            roots.add(cert).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: {e}", path.display()),
                )
            })?;
        }
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| io::Error::other(e.to_string()))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_four_schemes() {
        let e =
            Endpoint::parse("wss://stream.binance.com:9443/stream?streams=btcusdt@trade").unwrap();
        assert_eq!(
            e,
            Endpoint {
                tls: true,
                host: "stream.binance.com".into(),
                port: 9443,
                path: "/stream?streams=btcusdt@trade".into()
            }
        );
        assert_eq!(e.host_header(), "stream.binance.com:9443");
        let e = Endpoint::parse("https://api.binance.com").unwrap();
        assert_eq!(
            (e.tls, e.port, e.path.as_str(), e.host_header()),
            (true, 443, "/", "api.binance.com".into())
        );
        let e = Endpoint::parse("ws://127.0.0.1:9001/ws").unwrap();
        assert_eq!((e.tls, e.host.as_str(), e.port), (false, "127.0.0.1", 9001));
        let e = Endpoint::parse("http://[::1]:8080/x").unwrap();
        assert_eq!((e.host.as_str(), e.port), ("::1", 8080));
        for bad in [
            "stream.binance.com",
            "ftp://x",
            "ws://:80/",
            "ws://h:99999/",
        ] {
            assert!(Endpoint::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn loopback_is_decided_by_the_host_as_written() {
        for (url, loopback) in [
            ("ws://127.0.0.1:9001/ws-api/v3", true),
            ("ws://127.8.9.10/", true),
            ("http://[::1]:8080", true),
            ("ws://LocalHost:1/", true),
            ("ws://10.0.0.5/", false),
            ("http://api.binance.com", false),
            ("ws://localhost.example.com/", false),
        ] {
            assert_eq!(
                Endpoint::parse(url).unwrap().is_loopback(),
                loopback,
                "{url}"
            );
        }
    }

    #[test]
    fn a_missing_or_empty_ca_file_is_an_error() {
        assert!(tls_config(None).is_ok());
        assert!(tls_config(Some(Path::new("/nonexistent/ca.pem"))).is_err());
        let empty = std::env::temp_dir().join(format!("pulse-empty-ca-{}.pem", std::process::id()));
        std::fs::write(&empty, "").unwrap();
        assert!(tls_config(Some(&empty)).is_err());
        let _ = std::fs::remove_file(&empty);
    }
}
