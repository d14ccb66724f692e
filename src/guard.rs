//! What roomtap's servers admit. The apps behind roomtap's relay evaluate
//! the text of a dispatched `ACTION`, so whoever talks to it as a monitor can
//! run code in them. Browsers let any web page open a WebSocket to
//! loopback (WebSockets are not bound by the same-origin policy) and DNS
//! rebinding reaches a loopback-only server through a public name. So every
//! server of roomtap's checks an upgrade's `Origin` and `Host` before
//! anything else:
//!
//! - no `Origin` (Node, native clients): allowed;
//! - an `Origin` of `http(s)://localhost`, `127.0.0.0/8` or `[::1]`, any
//!   port (a local dev server's page): allowed;
//! - any other `Origin`: refused, unless named with `--allow-origin` (`*`
//!   allows every origin, explicitly);
//! - `Host` must name loopback, the address listened on, or a name given
//!   with `--allow-host`; otherwise refused (rebinding).

use std::net::{IpAddr, SocketAddr};

use clap::Args;

/// The flags of every server's guard.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "roomtap's servers (every one it runs)")]
#[group(skip)]
pub struct GuardArgs {
    /// Also accept WebSocket upgrades from web pages of this origin (e.g.
    /// `https://devtools.example.com`); repeatable; `*` accepts every origin. Loopback origins
    /// are always accepted.
    #[arg(long = "allow-origin", global = true, value_name = "ORIGIN")]
    pub allow_origins: Vec<String>,
    /// Also accept this name in the `Host` header (loopback and the bind address always are);
    /// repeatable.
    #[arg(long = "allow-host", global = true, value_name = "NAME")]
    pub allow_hosts: Vec<String>,
}

/// What a server admits.
#[derive(Debug, Clone, Default)]
pub struct Guard {
    /// Origins allowed besides loopback ones; `*` allows any.
    pub allow_origins: Vec<String>,
    /// Host names allowed besides loopback and the address listened on.
    pub allow_hosts: Vec<String>,
    /// The address listened on.
    pub bind: Option<SocketAddr>,
}

/// Why an upgrade was refused (HTTP 403).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Origin(String),
    Host(String),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Origin(o) => write!(
                f,
                "foreign Origin {} (a web page; start roomtap with --allow-origin {} to allow it)",
                crate::text::sanitize_capped(o, 120),
                crate::text::sanitize_capped(o, 120)
            ),
            Refusal::Host(h) => write!(
                f,
                "foreign Host {} (DNS rebinding?; start roomtap with --allow-host NAME to allow a name)",
                crate::text::sanitize_capped(h, 120)
            ),
        }
    }
}

/// Upgrades a server refused because of `Origin` or `Host`, for the
/// Connections pane.
#[derive(Debug, Default)]
pub struct Refused {
    origin: std::sync::atomic::AtomicU64,
    host: std::sync::atomic::AtomicU64,
}

impl Refused {
    pub fn count(&self, r: &Refusal) {
        let c = match r {
            Refusal::Origin(_) => &self.origin,
            Refusal::Host(_) => &self.host,
        };
        c.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// `("refused", "3 (foreign Origin 2, foreign Host 1)")`, once any.
    pub fn fact(&self) -> Option<(String, String)> {
        let o = self.origin.load(std::sync::atomic::Ordering::Relaxed);
        let h = self.host.load(std::sync::atomic::Ordering::Relaxed);
        (o + h > 0).then(|| {
            (
                "refused (web pages)".to_string(),
                format!("{} (foreign Origin {o}, foreign Host {h})", o + h),
            )
        })
    }
}

impl GuardArgs {
    pub fn guard(&self) -> Guard {
        Guard {
            allow_origins: self.allow_origins.clone(),
            allow_hosts: self.allow_hosts.clone(),
            bind: None,
        }
    }
}

impl Guard {
    /// The guard of a server listening on `bind`.
    pub fn on(mut self, bind: SocketAddr) -> Guard {
        self.bind = Some(bind);
        self
    }

    /// Check an upgrade's headers as a server listening on `bind` does,
    /// counting a refusal in `refused` (every server of roomtap's calls
    /// this first).
    pub fn screen(
        &self,
        bind: SocketAddr,
        headers: &tokio_tungstenite::tungstenite::http::HeaderMap,
        refused: &Refused,
    ) -> Result<(), Refusal> {
        let out = self.clone().on(bind).check_headers(headers);
        if let Err(r) = &out {
            refused.count(r);
        }
        out
    }

    /// Check an upgrade request's `Origin` and `Host` headers.
    pub fn check(&self, origin: Option<&str>, host: Option<&str>) -> Result<(), Refusal> {
        if let Some(h) = host
            && !self.host_ok(h)
        {
            return Err(Refusal::Host(h.to_string()));
        }
        match origin {
            None => Ok(()),
            Some(o) if self.origin_ok(o) => Ok(()),
            Some(o) => Err(Refusal::Origin(o.to_string())),
        }
    }

    /// Check a request's headers (all `Origin` and `Host` values).
    pub fn check_headers(
        &self,
        headers: &tokio_tungstenite::tungstenite::http::HeaderMap,
    ) -> Result<(), Refusal> {
        let text = |v: &tokio_tungstenite::tungstenite::http::HeaderValue| {
            String::from_utf8_lossy(v.as_bytes()).into_owned()
        };
        for h in headers.get_all("host") {
            self.check(None, Some(&text(h)))?;
        }
        for o in headers.get_all("origin") {
            self.check(Some(&text(o)), None)?;
        }
        Ok(())
    }

    fn origin_ok(&self, origin: &str) -> bool {
        let o = origin.trim();
        if self
            .allow_origins
            .iter()
            .any(|a| a == "*" || a.trim_end_matches('/').eq_ignore_ascii_case(o))
        {
            return true;
        }
        let Some(rest) = o
            .strip_prefix("http://")
            .or_else(|| o.strip_prefix("https://"))
        else {
            // `null` (a file or a sandboxed frame), extensions, anything else.
            return false;
        };
        if rest.contains(['/', '@', '?', '#']) {
            return false;
        }
        host_is_loopback(strip_port(rest))
    }

    fn host_ok(&self, host: &str) -> bool {
        let name = strip_port(host.trim());
        if host_is_loopback(name) {
            return true;
        }
        if self
            .allow_hosts
            .iter()
            .any(|a| a == "*" || a.eq_ignore_ascii_case(name))
        {
            return true;
        }
        let Some(ip) = parse_ip(name) else {
            return false;
        };
        match self.bind {
            // Listening on every address: an address is how others reach
            // it; rebinding needs a name.
            Some(b) if b.ip().is_unspecified() => true,
            Some(b) => b.ip() == ip,
            None => false,
        }
    }
}

/// `host:port`, `[v6]:port`, `host`, `[v6]` → the host part (brackets off).
fn strip_port(s: &str) -> &str {
    if let Some(rest) = s.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match s.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') && p.chars().all(|c| c.is_ascii_digit()) => h,
        _ => s,
    }
}

fn parse_ip(s: &str) -> Option<IpAddr> {
    s.parse().ok()
}

fn host_is_loopback(name: &str) -> bool {
    name.eq_ignore_ascii_case("localhost")
        || name
            .to_ascii_lowercase()
            .strip_suffix(".localhost")
            .is_some_and(|p| !p.is_empty())
        || parse_ip(name).is_some_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> Guard {
        Guard::default().on("127.0.0.1:8000".parse().unwrap())
    }

    #[test]
    fn loopback_pages_and_native_clients_pass() {
        let g = guard();
        for o in [
            "http://localhost:3000",
            "https://localhost",
            "http://127.0.0.1:8080",
            "http://127.1.2.3",
            "http://[::1]:5173",
            "http://app.localhost:3000",
        ] {
            assert_eq!(g.check(Some(o), Some("127.0.0.1:8000")), Ok(()), "{o}");
        }
        assert_eq!(g.check(None, Some("localhost:8000")), Ok(()));
        assert_eq!(g.check(None, None), Ok(()));
        assert_eq!(g.check(None, Some("[::1]:8000")), Ok(()));
    }

    #[test]
    fn foreign_pages_are_refused_and_said_so() {
        let g = guard();
        for o in [
            "https://evil.example",
            "null",
            "http://localhost.evil.example",
            "http://127.0.0.1.evil.example",
            "http://evil.example@localhost",
            "chrome-extension://abc",
            "http://192.168.1.5:3000",
            "",
        ] {
            let e = g.check(Some(o), Some("127.0.0.1:8000")).unwrap_err();
            assert_eq!(e, Refusal::Origin(o.to_string()));
        }
        let said = g
            .check(Some("https://evil.example"), None)
            .unwrap_err()
            .to_string();
        assert!(
            said.contains("https://evil.example") && said.contains("--allow-origin"),
            "{said}"
        );
    }

    #[test]
    fn rebinding_names_are_refused() {
        let g = guard();
        for h in [
            "evil.example:8000",
            "attacker.com",
            "127.0.0.1.nip.io:8000",
            "10.0.0.1:8000",
        ] {
            assert_eq!(
                g.check(None, Some(h)),
                Err(Refusal::Host(h.to_string())),
                "{h}"
            );
        }
        // The bind address itself, and an address when listening on all.
        let lan = Guard::default().on("192.168.1.5:8000".parse().unwrap());
        assert_eq!(lan.check(None, Some("192.168.1.5:8000")), Ok(()));
        let any = Guard::default().on("0.0.0.0:8000".parse().unwrap());
        assert_eq!(any.check(None, Some("10.1.2.3:8000")), Ok(()));
        assert!(any.check(None, Some("evil.example:8000")).is_err());
    }

    #[test]
    fn allowed_names_pass() {
        let g = Guard {
            allow_origins: vec!["https://devtools.example.com".into()],
            allow_hosts: vec!["devbox".into()],
            ..guard()
        };
        assert_eq!(
            g.check(Some("https://devtools.example.com"), Some("devbox:8000")),
            Ok(())
        );
        assert!(g.check(Some("https://other.example.com"), None).is_err());
        let all = Guard {
            allow_origins: vec!["*".into()],
            ..guard()
        };
        assert_eq!(all.check(Some("https://anything.example"), None), Ok(()));
    }
}
