//! Unix-socket links: a listening socket in a private place, whose
//! connections each carry one document read to its end (bounded in size and
//! time), and sending one document on a connection of its own — how the
//! TracimDaemon and its clients talk, and what any source on a Unix socket
//! can use. The shared meter counts what crosses them.
//!
//! A socket file is created only in a directory that is ours and private
//! (`$XDG_RUNTIME_DIR/roomtap/`, mode 0700), the socket itself 0600; a stale
//! socket left by a crashed run is replaced, but never one a live process
//! still listens on, and never through a symlink.

use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{Semaphore, mpsc};

use crate::link::meter::Meter;

/// The largest document a connection may carry (the largest frame
/// roomtap takes anywhere).
pub const MAX_DOCUMENT: usize = 16 << 20;

/// How long a peer may hold a connection open before its document is whole.
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Connections read at once; more wait to be accepted.
const MAX_READING: usize = 64;

/// Bytes the connections being read (and their documents waiting for their
/// turn) may hold together; a read waits for room (within its timeout).
pub const MAX_HELD: usize = 64 << 20;

/// Documents a link hands over ahead of its reader: with [`MAX_HELD`], what
/// a link holds is at most `MAX_HELD + QUEUED × max document`.
pub const QUEUED: usize = 4;

/// roomtap's private directory for its sockets: `$XDG_RUNTIME_DIR/roomtap`,
/// else `/tmp/roomtap-<uid>`; made 0700 when it is made, and refused when
/// it is a symlink or another user's or open to others.
pub fn private_dir() -> io::Result<PathBuf> {
    let base = std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .map(|p| p.join("roomtap"))
        .unwrap_or_else(|| PathBuf::from(format!("/tmp/roomtap-{}", uid())));
    private_dir_at(base)
}

/// `base` as a private directory: made 0700 when it is not there; used
/// when it is a directory of ours open to nobody else; otherwise an error
/// in words (a symlink, a file, another user's or a shared directory).
pub fn private_dir_at(base: PathBuf) -> io::Result<PathBuf> {
    match std::fs::symlink_metadata(&base) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            std::fs::create_dir_all(&base)?;
            std::fs::set_permissions(&base, std::fs::Permissions::from_mode(0o700))?;
        }
        Err(e) => return Err(e),
        Ok(m) if m.file_type().is_symlink() => {
            return Err(io::Error::other(format!(
                "{} is a symlink: roomtap does not put its sockets through one",
                base.display()
            )));
        }
        Ok(m) if !m.is_dir() => {
            return Err(io::Error::other(format!(
                "{} is not a directory",
                base.display()
            )));
        }
        Ok(m) if m.uid() != uid() || m.mode() & 0o077 != 0 => {
            return Err(io::Error::other(format!(
                "{} is not private (another user's, or open to others)",
                base.display()
            )));
        }
        Ok(_) => {}
    }
    Ok(base)
}

fn uid() -> u32 {
    // The owner of a file we just made is us: no libc call needed.
    std::fs::metadata("/proc/self")
        .map(|m| m.uid())
        .unwrap_or(u32::MAX)
}

/// Listen on `path`: a stale socket file there (nobody listens) is
/// replaced; a live one, a symlink or any other file is an error in words.
/// The socket is made 0600.
pub async fn listen(path: &Path) -> io::Result<UnixListener> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
        Ok(m) if m.file_type().is_symlink() => {
            return Err(io::Error::other(format!(
                "{} is a symlink: not replaced",
                path.display()
            )));
        }
        Ok(m) if m.file_type().is_socket() => {
            if UnixStream::connect(path).await.is_ok() {
                return Err(io::Error::new(
                    io::ErrorKind::AddrInUse,
                    format!("{}: a live process listens there", path.display()),
                ));
            }
            // Left by a run that did not end cleanly: nobody listens.
            std::fs::remove_file(path)?;
        }
        Ok(_) => {
            return Err(io::Error::other(format!(
                "{} exists and is not a socket: not replaced",
                path.display()
            )));
        }
    }
    let l = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    Ok(l)
}

pub use super::Received;

/// Accept connections on `listener` until the returned task is aborted,
/// reading each to its end (at most `max` bytes, within `read_timeout`),
/// and hand the documents over in the order their connections came (a
/// peer that sends two in a row is read in that order, as the Go daemon
/// reads one connection after the other; a connection held open delays
/// the ones after it by `read_timeout` at most). At most [`MAX_READING`]
/// connections are read at once, holding at most [`MAX_HELD`] bytes until
/// their documents are handed over; a full `out` slows the accepting down.
/// `meter` counts bytes and documents in.
pub fn inbox(
    listener: UnixListener,
    max: usize,
    read_timeout: Duration,
    meter: Arc<Meter>,
    out: mpsc::Sender<Received>,
) -> tokio::task::JoinHandle<()> {
    let max = max.min(MAX_HELD);
    tokio::spawn(async move {
        let reading = Arc::new(Semaphore::new(MAX_READING));
        let held = Arc::new(Semaphore::new(MAX_HELD >> 10));
        // Each connection's document (and the KiB it holds), in the order
        // the connections came.
        let (order_tx, mut order_rx) =
            mpsc::channel::<tokio::sync::oneshot::Receiver<(Received, u32)>>(MAX_READING);
        let budget = held.clone();
        let forward = tokio::spawn(async move {
            while let Some(next) = order_rx.recv().await {
                let Ok((got, kib)) = next.await else { continue };
                if let Received::Document(d) = &got {
                    meter.frame_in_raw(d, true);
                }
                let sent = out.send(got).await;
                budget.add_permits(kib as usize);
                if sent.is_err() {
                    return;
                }
            }
        });
        loop {
            let Ok(permit) = reading.clone().acquire_owned().await else {
                break;
            };
            let stream = match listener.accept().await {
                Ok((s, _)) => s,
                Err(_) => {
                    // Out of file descriptors, say: do not spin.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let (done_tx, done_rx) = tokio::sync::oneshot::channel();
            if order_tx.send(done_rx).await.is_err() {
                break;
            }
            let held = held.clone();
            tokio::spawn(async move {
                let mut kib = 0u32;
                let got = read_within(stream, max, read_timeout, &held, &mut kib).await;
                if done_tx.send((got, kib)).is_err() {
                    held.add_permits(kib as usize);
                }
                drop(permit);
            });
        }
        forward.abort();
    })
}

/// A Unix-socket link: our own listening socket (its documents, read to
/// their ends, in order) and a connection of its own for each document
/// sent. Metered; bound for as long as it lives.
pub struct UnixLink {
    inbox: mpsc::Receiver<Received>,
    reader: tokio::task::JoinHandle<()>,
    send_within: Duration,
    meter: Arc<Meter>,
}

impl UnixLink {
    /// Listen on `path` (see [`listen`]) and read its connections.
    pub async fn bind(
        path: &Path,
        max: usize,
        read_timeout: Duration,
        send_within: Duration,
        meter: Arc<Meter>,
    ) -> io::Result<UnixLink> {
        let listener = listen(path).await?;
        let (tx, inbox) = mpsc::channel(QUEUED);
        let reader = self::inbox(listener, max, read_timeout, meter.clone(), tx);
        Ok(UnixLink {
            inbox,
            reader,
            send_within,
            meter,
        })
    }
}

impl Drop for UnixLink {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl super::Documents for UnixLink {
    type Addr = PathBuf;

    async fn recv(&mut self) -> Option<Received> {
        self.inbox.recv().await
    }

    async fn send(&self, to: &PathBuf, doc: &[u8]) -> io::Result<()> {
        send(to, doc, self.send_within).await?;
        self.meter.frame_out_raw(doc, true);
        Ok(())
    }
}

/// Read one connection to its end: at most `max` bytes, within `within`,
/// taking a permit of `held` for every KiB it keeps (waiting for room, also
/// within `within`); `kib` says how many it took.
async fn read_within(
    mut stream: UnixStream,
    max: usize,
    within: Duration,
    held: &Semaphore,
    kib: &mut u32,
) -> Received {
    let mut buf = Vec::new();
    let read = async {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok::<_, io::Error>(true);
            }
            if buf.len() + n > max {
                return Ok(false);
            }
            let need = (buf.len() + n).div_ceil(1024) as u32;
            if need > *kib {
                held.acquire_many(need - *kib)
                    .await
                    .map_err(io::Error::other)?
                    .forget();
                *kib = need;
            }
            buf.extend_from_slice(&chunk[..n]);
        }
    };
    let head = |buf: &Vec<u8>| buf[..buf.len().min(4096)].to_vec();
    match tokio::time::timeout(within, read).await {
        Ok(Ok(true)) => Received::Document(buf),
        Ok(Ok(false)) => Received::Bad {
            why: format!("a document over {max} bytes: the connection was closed"),
            head: head(&buf),
        },
        Ok(Err(e)) => Received::Bad {
            why: format!("a connection failed while its document was read: {e}"),
            head: head(&buf),
        },
        Err(_) => Received::Bad {
            why: format!(
                "a connection was held open {:?} without finishing its document ({} bytes came)",
                within,
                buf.len()
            ),
            head: head(&buf),
        },
    }
}

/// Send `doc` to the socket at `path` on a connection of its own (connect,
/// write, close), within `within`. A peer whose accept queue is full (the
/// Python SDK listens with a backlog of one) is waited for, in the kernel,
/// until it takes the connection or `within` is over.
pub async fn send(path: &Path, doc: &[u8], within: Duration) -> io::Result<()> {
    let deadline = tokio::time::Instant::now() + within;
    let timed_out = || io::Error::new(io::ErrorKind::TimedOut, "the peer did not take it in time");
    let mut s = match UnixStream::connect(path).await {
        Ok(s) => s,
        // The peer's accept queue is full (the SDKs listen with a backlog
        // of 1): wait in the kernel for room, woken the moment there is,
        // for no longer than what is left.
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
            let (path, left) = (path.to_path_buf(), deadline - tokio::time::Instant::now());
            let std = tokio::task::spawn_blocking(move || connect_waiting(&path, left))
                .await
                .map_err(io::Error::other)?
                .map_err(|e| {
                    if e.kind() == io::ErrorKind::WouldBlock {
                        timed_out()
                    } else {
                        e
                    }
                })?;
            std.set_nonblocking(true)?;
            UnixStream::from_std(std)?
        }
        Err(e) => return Err(e),
    };
    tokio::time::timeout_at(deadline, async {
        s.write_all(doc).await?;
        s.shutdown().await
    })
    .await
    .map_err(|_| timed_out())?
}

/// A blocking connect that waits at most `within` for room in the peer's
/// accept queue (`SO_SNDTIMEO` bounds a Unix stream connect).
fn connect_waiting(path: &Path, within: Duration) -> io::Result<std::os::unix::net::UnixStream> {
    use rustix::net::{AddressFamily, SocketAddrUnix, SocketFlags, SocketType, sockopt};
    let fd = rustix::net::socket_with(
        AddressFamily::UNIX,
        SocketType::STREAM,
        SocketFlags::CLOEXEC,
        None,
    )?;
    sockopt::set_socket_timeout(
        &fd,
        sockopt::Timeout::Send,
        Some(within.max(Duration::from_millis(1))),
    )?;
    rustix::net::connect(&fd, &SocketAddrUnix::new(path)?)?;
    Ok(std::os::unix::net::UnixStream::from(fd))
}

/// For tests: a listener with the SDKs' backlog of one, accepting nothing
/// until told to.
#[cfg(test)]
pub(crate) fn backlog_of_one(path: &Path) -> std::os::unix::net::UnixListener {
    use rustix::net::{AddressFamily, SocketAddrUnix, SocketFlags, SocketType};
    let fd = rustix::net::socket_with(
        AddressFamily::UNIX,
        SocketType::STREAM,
        SocketFlags::CLOEXEC,
        None,
    )
    .unwrap();
    rustix::net::bind(&fd, &SocketAddrUnix::new(path).unwrap()).unwrap();
    rustix::net::listen(&fd, 1).unwrap();
    std::os::unix::net::UnixListener::from(fd)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("rt-unix-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[tokio::test]
    async fn a_document_arrives_whole_and_a_stale_socket_is_replaced() {
        let d = dir("whole");
        let p = d.join("s.sock");
        drop(listen(&p).await.unwrap());
        // Nobody listens on the file now: it is replaced.
        let l = listen(&p).await.unwrap();
        let mode = std::fs::metadata(&p).unwrap().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let (tx, mut rx) = mpsc::channel(4);
        let meter = Arc::new(Meter::new());
        let task = inbox(l, 1 << 20, READ_TIMEOUT, meter.clone(), tx);
        let big = vec![b'x'; 300 * 1024];
        send(&p, &big, Duration::from_secs(5)).await.unwrap();
        match rx.recv().await.unwrap() {
            Received::Document(doc) => assert_eq!(doc.len(), big.len()),
            other => panic!("{other:?}"),
        }
        assert_eq!(meter.stats().bytes_in, big.len() as u64);
        // A live listener is never replaced.
        let e = listen(&p).await.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AddrInUse, "{e}");
        task.abort();
        let _ = std::fs::remove_dir_all(&d);
    }

    #[tokio::test]
    async fn too_big_is_said_and_a_symlink_is_refused() {
        let d = dir("big");
        let p = d.join("s.sock");
        let l = listen(&p).await.unwrap();
        let (tx, mut rx) = mpsc::channel(4);
        let task = inbox(l, 1000, READ_TIMEOUT, Arc::new(Meter::new()), tx);
        let _ = send(&p, &[b'y'; 5000], Duration::from_secs(5)).await;
        match rx.recv().await.unwrap() {
            Received::Bad { why, .. } => assert!(why.contains("over 1000 bytes"), "{why}"),
            other => panic!("{other:?}"),
        }
        task.abort();
        let link = d.join("link.sock");
        std::os::unix::fs::symlink(&p, &link).unwrap();
        assert!(
            listen(&link)
                .await
                .unwrap_err()
                .to_string()
                .contains("symlink")
        );
        let file = d.join("file");
        std::fs::write(&file, "x").unwrap();
        assert!(
            listen(&file)
                .await
                .unwrap_err()
                .to_string()
                .contains("not a socket")
        );
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn a_private_dir_is_made_0700_and_a_shared_or_linked_one_refused() {
        let d = dir("private");
        let fresh = d.join("fresh").join("roomtap");
        let got = private_dir_at(fresh.clone()).unwrap();
        assert_eq!(got, fresh);
        assert_eq!(std::fs::metadata(&fresh).unwrap().mode() & 0o777, 0o700);
        // Ours and private: used again as it is.
        assert_eq!(private_dir_at(fresh.clone()).unwrap(), fresh);
        // Open to others: refused in words, left as it was.
        let open = d.join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o755)).unwrap();
        let e = private_dir_at(open.clone()).unwrap_err().to_string();
        assert!(e.contains("not private"), "{e}");
        assert_eq!(std::fs::metadata(&open).unwrap().mode() & 0o777, 0o755);
        // A symlink to a private directory is still refused.
        let link = d.join("link");
        std::os::unix::fs::symlink(&fresh, &link).unwrap();
        let e = private_dir_at(link).unwrap_err().to_string();
        assert!(e.contains("symlink"), "{e}");
        // A file is not a directory.
        let file = d.join("file");
        std::fs::write(&file, "x").unwrap();
        let e = private_dir_at(file).unwrap_err().to_string();
        assert!(e.contains("not a directory"), "{e}");
        let _ = std::fs::remove_dir_all(&d);
    }

    #[tokio::test]
    async fn a_unix_link_receives_in_order_and_sends_metered() {
        use crate::link::Documents;
        let d = dir("link");
        let (a, b) = (d.join("a.sock"), d.join("b.sock"));
        let meter = Arc::new(Meter::new());
        let mut la = UnixLink::bind(
            &a,
            1 << 16,
            READ_TIMEOUT,
            Duration::from_secs(5),
            meter.clone(),
        )
        .await
        .unwrap();
        let mut lb = UnixLink::bind(
            &b,
            1 << 16,
            READ_TIMEOUT,
            Duration::from_secs(5),
            Arc::new(Meter::new()),
        )
        .await
        .unwrap();
        for i in 0..5u8 {
            la.send(&b, &[b'0' + i; 10]).await.unwrap();
        }
        for i in 0..5u8 {
            match tokio::time::timeout(Duration::from_secs(5), lb.recv())
                .await
                .unwrap()
            {
                Some(Received::Document(doc)) => assert_eq!(doc, vec![b'0' + i; 10]),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(meter.stats().bytes_out, 50);
        lb.send(&a, b"back").await.unwrap();
        match tokio::time::timeout(Duration::from_secs(5), la.recv())
            .await
            .unwrap()
        {
            Some(Received::Document(doc)) => assert_eq!(doc, b"back"),
            other => panic!("{other:?}"),
        }
        drop(lb);
        let _ = std::fs::remove_dir_all(&d);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_accept_queue_is_waited_for_and_bounded() {
        let d = dir("backlog");
        let p = d.join("sdk.sock");
        let l = backlog_of_one(&p);
        // More senders than the queue holds, nobody accepting yet.
        let sends: Vec<_> = (0..4u8)
            .map(|i| {
                let p = p.clone();
                tokio::spawn(async move { send(&p, &[b'a' + i; 8], Duration::from_secs(10)).await })
            })
            .collect();
        // Then it accepts: every one arrives, none given up.
        let got = tokio::task::spawn_blocking(move || {
            let mut got = Vec::new();
            for _ in 0..4 {
                let (mut c, _) = l.accept().unwrap();
                let mut b = Vec::new();
                std::io::Read::read_to_end(&mut c, &mut b).unwrap();
                got.push(b);
            }
            got
        })
        .await
        .unwrap();
        for s in sends {
            s.await.unwrap().unwrap();
        }
        let mut firsts: Vec<u8> = got.iter().map(|b| b[0]).collect();
        firsts.sort();
        assert_eq!(firsts, b"abcd");
        // A peer that never accepts: given up when the time is over, said.
        let q = d.join("stuck.sock");
        let _stuck = backlog_of_one(&q);
        let mut results = Vec::new();
        for _ in 0..4 {
            results.push(send(&q, b"x", Duration::from_millis(300)).await);
        }
        let late = results.iter().filter(|r| r.is_err()).count();
        assert!(late >= 1, "{results:?}");
        for r in results.iter().filter_map(|r| r.as_ref().err()) {
            assert_eq!(r.kind(), io::ErrorKind::TimedOut, "{r}");
        }
        let _ = std::fs::remove_dir_all(&d);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn what_is_read_and_not_taken_is_bounded_in_bytes() {
        let d = dir("held");
        let p = d.join("s.sock");
        let l = listen(&p).await.unwrap();
        // A consumer that takes nothing.
        let (tx, mut rx) = mpsc::channel(1);
        let task = inbox(l, 16 << 20, READ_TIMEOUT, Arc::new(Meter::new()), tx);
        let doc = vec![b'z'; 8 << 20];
        let n = 2 * MAX_HELD / doc.len();
        let sends: Vec<_> = (0..n)
            .map(|_| {
                let (p, doc) = (p.clone(), doc.clone());
                tokio::spawn(async move { send(&p, &doc, Duration::from_secs(3)).await })
            })
            .collect();
        let mut late = 0;
        for s in sends {
            late += usize::from(s.await.unwrap().is_err());
        }
        // Held: MAX_HELD being read or waiting, one handed over, one in the
        // hand; the rest were not read (their senders gave up).
        let most = MAX_HELD / doc.len() + 2;
        assert!(late >= n - most - 1, "{late} of {n} not taken");
        let mut taken = 0;
        while let Ok(Some(got)) = tokio::time::timeout(Duration::from_millis(500), rx.recv()).await
        {
            if matches!(got, Received::Document(ref b) if b.len() == doc.len()) {
                taken += 1;
            }
        }
        assert!(taken >= 1 && taken <= most, "{taken}");
        task.abort();
        let _ = std::fs::remove_dir_all(&d);
    }
}
