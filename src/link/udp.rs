//! UDP links: a client's socket connected to one server (it then hears only
//! that server), and a server's socket bound to a loopback address that
//! hears every peer. Every datagram is metered as a frame, each way, resends
//! included: what the meter says is what crossed the wire.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::UdpSocket;

use super::Received;
use super::meter::Meter;

/// The largest datagram read whole (an IPv4 UDP payload's limit): a peer's
/// datagram is never cut by our buffer, whatever its protocol's MTU says.
pub const MAX_DATAGRAM: usize = 65_507;

/// A client's UDP socket, connected to its server.
pub struct UdpLink {
    sock: Arc<UdpSocket>,
    meter: Arc<Meter>,
    buf: Vec<u8>,
    peer: SocketAddr,
}

impl UdpLink {
    /// Resolve `addr` (`HOST:PORT`) and connect a fresh socket to it: bound
    /// to loopback when the server is on loopback, else to any address of
    /// its family.
    pub async fn connect(addr: &str, meter: Arc<Meter>) -> io::Result<UdpLink> {
        let peer = tokio::net::lookup_host(addr).await?.next().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("{addr} resolves to no address"),
            )
        })?;
        let local: SocketAddr = match (peer.is_ipv4(), peer.ip().is_loopback()) {
            (true, true) => "127.0.0.1:0",
            (true, false) => "0.0.0.0:0",
            (false, true) => "[::1]:0",
            (false, false) => "[::]:0",
        }
        .parse()
        .map_err(|_| io::Error::other("a local address"))?;
        let sock = UdpSocket::bind(local).await?;
        sock.connect(peer).await?;
        Ok(UdpLink {
            sock: Arc::new(sock),
            meter,
            buf: vec![0; MAX_DATAGRAM],
            peer,
        })
    }

    /// The server it is connected to.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// Its own address.
    pub fn local(&self) -> io::Result<SocketAddr> {
        self.sock.local_addr()
    }

    /// A handle that sends on the same socket (a goodbye said from
    /// elsewhere), metered the same.
    pub fn sender(&self) -> UdpSender {
        UdpSender {
            sock: self.sock.clone(),
            meter: self.meter.clone(),
        }
    }

    /// Send one datagram to the server.
    pub async fn send_datagram(&self, d: &[u8]) -> io::Result<()> {
        self.sender().send(d).await
    }
}

/// Sends datagrams on a connected [`UdpLink`]'s socket.
#[derive(Clone)]
pub struct UdpSender {
    sock: Arc<UdpSocket>,
    meter: Arc<Meter>,
}

impl UdpSender {
    pub async fn send(&self, d: &[u8]) -> io::Result<()> {
        let n = self.sock.send(d).await?;
        self.meter.frame_out_raw(&d[..n.min(d.len())], false);
        Ok(())
    }
}

impl super::Documents for UdpLink {
    /// Connected: a datagram goes to the server whatever is named.
    type Addr = ();

    async fn recv(&mut self) -> Option<Received> {
        loop {
            match self.sock.recv(&mut self.buf).await {
                Ok(n) => {
                    self.meter.frame_in_raw(&self.buf[..n], false);
                    return Some(Received::Document(self.buf[..n].to_vec()));
                }
                Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                    return Some(Received::Gone {
                        why: format!("nothing listens at {} (ICMP port unreachable)", self.peer),
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Some(Received::Bad {
                        why: format!("reading the UDP socket: {e}"),
                        head: Vec::new(),
                    });
                }
            }
        }
    }

    async fn send(&self, _: &(), doc: &[u8]) -> io::Result<()> {
        self.send_datagram(doc).await
    }
}

/// A server's UDP socket on a loopback address: datagrams from any peer,
/// each with where it came from.
pub struct UdpServer {
    sock: UdpSocket,
    meter: Arc<Meter>,
    buf: Vec<u8>,
}

impl UdpServer {
    /// Bind `addr`, which must be a loopback address (roomtap's servers
    /// are for this machine only).
    pub async fn bind(addr: SocketAddr, meter: Arc<Meter>) -> io::Result<UdpServer> {
        if !addr.ip().is_loopback() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{addr} is not a loopback address"),
            ));
        }
        Ok(UdpServer {
            sock: UdpSocket::bind(addr).await?,
            meter,
            buf: vec![0; MAX_DATAGRAM],
        })
    }

    pub fn local(&self) -> io::Result<SocketAddr> {
        self.sock.local_addr()
    }

    /// The next datagram and its sender. A peer that went away (ICMP) is
    /// skipped: it is the peer's loss, not the server's.
    pub async fn recv(&mut self) -> io::Result<(Vec<u8>, SocketAddr)> {
        loop {
            match self.sock.recv_from(&mut self.buf).await {
                Ok((n, from)) => {
                    self.meter.frame_in_raw(&self.buf[..n], false);
                    return Ok((self.buf[..n].to_vec(), from));
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::ConnectionRefused
                            | io::ErrorKind::ConnectionReset
                            | io::ErrorKind::Interrupted
                    ) => {}
                Err(e) => return Err(e),
            }
        }
    }

    pub async fn send_to(&self, d: &[u8], to: SocketAddr) -> io::Result<()> {
        let n = self.sock.send_to(d, to).await?;
        self.meter.frame_out_raw(&d[..n.min(d.len())], false);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::Documents;

    #[tokio::test]
    async fn datagrams_both_ways_metered_and_a_closed_port_said() {
        let m_srv = Arc::new(Meter::new());
        let mut srv = UdpServer::bind("127.0.0.1:0".parse().unwrap(), m_srv.clone())
            .await
            .unwrap();
        let at = srv.local().unwrap();
        let m = Arc::new(Meter::new());
        let mut link = UdpLink::connect(&at.to_string(), m.clone()).await.unwrap();
        assert!(link.local().unwrap().ip().is_loopback());
        link.send(&(), b"hello").await.unwrap();
        let (d, from) = tokio::time::timeout(std::time::Duration::from_secs(5), srv.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(d, b"hello");
        // A datagram over legume's MTU arrives whole.
        let big = vec![7u8; 4000];
        srv.send_to(&big, from).await.unwrap();
        let got = tokio::time::timeout(std::time::Duration::from_secs(5), link.recv())
            .await
            .unwrap();
        assert!(matches!(got, Some(Received::Document(d)) if d == big));
        assert_eq!((m.stats().frames_out, m.stats().bytes_out), (1, 5));
        assert_eq!((m.stats().frames_in, m.stats().bytes_in), (1, 4000));
        assert_eq!(
            (m_srv.stats().frames_in, m_srv.stats().bytes_out),
            (1, 4000)
        );
        // The server goes: the next send draws ICMP port unreachable.
        drop(srv);
        let mut gone = None;
        for _ in 0..50 {
            let _ = link.send(&(), b"anyone?").await;
            if let Ok(Some(Received::Gone { why })) =
                tokio::time::timeout(std::time::Duration::from_millis(100), link.recv()).await
            {
                gone = Some(why);
                break;
            }
        }
        let why = gone.expect("a closed port is said");
        assert!(why.contains("nothing listens at"), "{why}");
        // Not a loopback address: refused.
        assert!(
            UdpServer::bind("0.0.0.0:0".parse().unwrap(), m)
                .await
                .is_err()
        );
    }
}
