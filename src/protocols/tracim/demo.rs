//! `roomtap demo`'s TracimDaemon: roomtap's daemon in a private directory,
//! fed Tracim live messages as a busy workspace makes them (contents created
//! and modified, comments, mentions, members joining; some over 4 KiB, which
//! the real SDKs lose), and a client registered to it.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use fastrand::Rng;
use serde_json::json;
use tokio::sync::mpsc;

use super::client::TracimConfig;
use super::server::{Daemon, DaemonConfig};
use crate::event::Command;
use crate::source::{Emitter, Source, SourceKind, Started, Starting};

/// Tracim live messages as a workspace makes them.
pub struct Tlms {
    rng: Rng,
    next_id: u64,
}

/// Who acts, where, on what (also the `tracim` bench's).
pub const PEOPLE: [(&str, &str); 4] = [
    ("Ada Lovelace", "ada"),
    ("Bo Chen", "bo"),
    ("Dara Okafor", "dara"),
    ("Eli Novak", "eli"),
];
pub const SPACES: [&str; 3] = ["Recherche & <dev>", "Marketing", "Support"];
pub const DOCS: [&str; 5] = [
    "Release notes",
    "Onboarding",
    "Q3 roadmap",
    "Incident 2026-11-30",
    "Meeting notes",
];

impl Tlms {
    pub fn new(seed: u64) -> Tlms {
        Tlms {
            rng: Rng::with_seed(seed),
            next_id: 1000,
        }
    }

    /// The next message's JSON text.
    pub fn next_tlm(&mut self) -> String {
        let r = &mut self.rng;
        self.next_id += 1;
        let (name, user) = *r.choice(&PEOPLE).expect("not empty");
        let space = *r.choice(&SPACES).expect("not empty");
        let space_id = SPACES.iter().position(|s| *s == space).unwrap_or(0) + 1;
        let doc = *r.choice(&DOCS).expect("not empty");
        let content_id = 70 + DOCS.iter().position(|d| *d == doc).unwrap_or(0);
        let author = json!({"user_id": 10 + r.u64(0..4), "public_name": name, "username": user});
        let workspace = json!({"workspace_id": space_id, "label": space});
        let (event_type, fields) = match r.u64(0..10) {
            0..=3 => {
                // A big page body now and then: about 10 kB, where the SDKs
                // stop at 4 KiB.
                let body = if r.u64(0..3) == 0 {
                    "<p>".to_string() + &"Lorem ipsum dolor sit amet, consectetur. ".repeat(260) + "</p>"
                } else {
                    "<p>Short edit.</p>".to_string()
                };
                (
                    "content.modified.html-document",
                    json!({"author": author, "workspace": workspace,
                           "content": {"content_id": content_id, "label": doc, "content_type": "html-document", "raw_content": body}}),
                )
            }
            4 | 5 => (
                "content.created.comment",
                json!({"author": author, "workspace": workspace,
                       "content": {"content_id": 500 + self.next_id, "parent_id": content_id, "label": format!("Re: {doc}"), "content_type": "comment",
                                   "raw_content": "<p>Looks good to me.</p>"}}),
            ),
            6 => (
                "mention.created",
                json!({"author": author, "workspace": workspace,
                       "mention": {"recipient": PEOPLE[(r.u64(0..4)) as usize].1, "content_id": content_id},
                       "content": {"content_id": content_id, "label": doc, "content_type": "html-document"}}),
            ),
            7 => (
                "workspace_member.created",
                json!({"author": author, "workspace": workspace,
                       "user": {"user_id": 20 + r.u64(0..50), "public_name": format!("Newcomer {}", r.u64(1..99))},
                       "member": {"role": "contributor"}}),
            ),
            8 => (
                "content.created.html-document",
                json!({"author": author, "workspace": workspace,
                       "content": {"content_id": 900 + self.next_id, "label": format!("Draft {}", r.u64(1..50)), "content_type": "html-document"}}),
            ),
            _ => (
                "content.created.file",
                json!({"author": author, "workspace": workspace,
                       "content": {"content_id": 1200 + self.next_id, "label": "screenshot.png", "content_type": "file", "size": r.u64(1000..900_000)}}),
            ),
        };
        json!({
            "event_id": self.next_id,
            "event_type": event_type,
            "read": null,
            "created": crate::text::iso_time(crate::event::now_ms()),
            "fields": fields,
        })
        .to_string()
    }
}

/// Feed `daemon` a message every 0.5–2.5 s until the task is aborted.
pub fn feed(daemon: Arc<Daemon>, seed: u64) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tlms = Tlms::new(seed);
        let mut r = Rng::with_seed(seed ^ 0x7ac1);
        loop {
            tokio::time::sleep(Duration::from_millis(r.u64(500..=2500))).await;
            daemon.tracim_event(&tlms.next_tlm());
        }
    })
}

/// `roomtap demo`'s TracimDaemon and the client on it.
pub fn sources(
    _flags: &super::Flags,
    _shared: crate::source::Shared,
    seed: u64,
) -> Result<Vec<Box<dyn Source>>, String> {
    Ok(vec![Box::new(DemoTracimSource { seed })])
}

struct DemoTracimSource {
    seed: u64,
}

fn demo_paths() -> Result<(PathBuf, PathBuf), String> {
    let dir = crate::link::unix::private_dir()
        .map_err(|e| format!("no private directory for the demo's sockets: {e}"))?;
    let pid = std::process::id();
    Ok((
        dir.join(format!("demo-daemon-{pid}.sock")),
        dir.join(format!("demo-client-{pid}.sock")),
    ))
}

impl Source for DemoTracimSource {
    fn kind(&self) -> SourceKind {
        super::CLIENT
    }
    fn label(&self) -> String {
        "tracim".into()
    }
    fn url(&self) -> String {
        "unix:demo-daemon.sock".into()
    }
    fn start(self: Box<Self>, em: Emitter, commands: mpsc::Receiver<Command>) -> Starting {
        Box::pin(async move {
            let (master, own) = demo_paths()?;
            let daemon = Arc::new(
                Daemon::start(DaemonConfig::new(&master), None)
                    .await
                    .map_err(|e| format!("cannot start the demo TracimDaemon: {e}"))?,
            );
            let feeder = feed(daemon.clone(), self.seed);
            let farewell = super::client::spawn(TracimConfig::new(&master, &own), em, commands).await?;
            /// Keeps the daemon and its feeder for the run.
            struct Keep(#[allow(dead_code)] Arc<Daemon>, tokio::task::JoinHandle<()>);
            impl Drop for Keep {
                fn drop(&mut self) {
                    self.1.abort();
                }
            }
            Ok(Started {
                url: Some(format!("unix:{}", master.display())),
                goodbye: Some(Box::pin(async move { farewell.say().await })),
                ..Started::keeping(Keep(daemon, feeder))
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_messages_are_tlms_some_over_4_kib() {
        let mut t = Tlms::new(7);
        let all: Vec<String> = (0..200).map(|_| t.next_tlm()).collect();
        for m in &all {
            let tlm = crate::protocols::tracim::wire::tlm::decode(m).unwrap();
            assert!(tlm.created_ms.is_some(), "{m}");
        }
        assert!(all.iter().any(|m| m.len() > 4096));
        assert!(all.iter().any(|m| m.contains("workspace_member.created")));
        assert!(all.iter().any(|m| m.contains("mention.created")));
    }
}
