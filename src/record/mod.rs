//! Recorded sessions: every `SourceEvent` as one JSON line after a header
//! naming the sources, flushed at least every second, so `roomtap open`
//! can replay a session into the same panes (timeline included) and
//! `roomtap tail open` can print it.
//!
//! ```text
//! {"roomtap_recording":1,"version":"0.1.0","started_ms":…,"sources":[{"label":"relay",…}]}
//! {"source":0,"at_ms":…,"kind":{"Log":{…}}}
//! ```
//! Secrets never reach the file: tokens and secrets are not in events to
//! begin with, and the recorder also replaces any known secret it is
//! given with `***` before a line is written.

pub mod source;

use std::io::{BufRead, BufWriter, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::event::SourceEvent;
use crate::store::Store;

pub const FORMAT: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Header {
    pub roomtap_recording: u32,
    pub version: String,
    pub started_ms: u64,
    pub sources: Vec<SourceDecl>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SourceDecl {
    pub label: String,
    pub kind: String,
    pub url: String,
    #[serde(default)]
    pub targets_instances: bool,
}

impl Header {
    pub fn of(store: &Store) -> Header {
        Header {
            roomtap_recording: FORMAT,
            version: env!("CARGO_PKG_VERSION").to_string(),
            started_ms: crate::event::now_ms(),
            sources: store
                .sources
                .iter()
                .map(|s| SourceDecl {
                    label: s.label.clone(),
                    kind: s.kind.name().to_string(),
                    url: s.url.clone(),
                    targets_instances: s.caps.targets_instances,
                })
                .collect(),
        }
    }
}

/// Appends events to a file.
pub struct Recorder {
    w: BufWriter<std::fs::File>,
    last_flush: Instant,
    secrets: Vec<String>,
    pub written: u64,
    /// The first write error (recording stops; the session goes on).
    pub error: Option<String>,
}

impl Recorder {
    /// Create (or append to) `path` and write the header. `secrets` are
    /// masked wherever they would appear. Only a file that cannot be opened
    /// is an error here; a write that fails sets [`Recorder::error`].
    pub fn create(path: &Path, store: &Store, secrets: Vec<String>) -> std::io::Result<Recorder> {
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        let mut r = Recorder {
            w: BufWriter::with_capacity(1 << 16, f),
            last_flush: Instant::now(),
            secrets: secrets.into_iter().filter(|s| s.len() >= 4).collect(),
            written: 0,
            error: None,
        };
        let head = serde_json::to_string(&Header::of(store)).unwrap_or_default();
        r.line(head);
        // A write that fails (a full disk) stops the recording, not the
        // session: the error is kept for the caller to say once.
        r.flush();
        Ok(r)
    }

    fn line(&mut self, mut text: String) {
        if self.error.is_some() {
            return;
        }
        for s in &self.secrets {
            if text.contains(s.as_str()) {
                text = text.replace(s.as_str(), "***");
            }
        }
        text.push('\n');
        if let Err(e) = self.w.write_all(text.as_bytes()) {
            self.error = Some(format!("recording stopped: {e}"));
        }
    }

    pub fn write(&mut self, ev: &SourceEvent) {
        match serde_json::to_string(ev) {
            Ok(t) => {
                self.line(t);
                self.written += 1;
            }
            Err(e) => self.error = Some(format!("recording stopped: {e}")),
        }
        self.flush_if_due();
    }

    /// Flush when the last flush is a second old.
    pub fn flush_if_due(&mut self) {
        if self.last_flush.elapsed() >= Duration::from_secs(1) {
            self.flush();
        }
    }

    pub fn flush(&mut self) {
        self.last_flush = Instant::now();
        if self.error.is_none()
            && let Err(e) = self.w.flush()
        {
            self.error = Some(format!("recording stopped: {e}"));
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.flush();
    }
}

/// A recording read back.
#[derive(Debug)]
pub struct Recording {
    pub header: Header,
    pub events: Vec<SourceEvent>,
    /// Lines that could not be read (a truncated last line after a crash,
    /// anything corrupt), said in words.
    pub warnings: Vec<String>,
}

/// Read a recording. Only a missing or foreign header is an error; bad
/// lines are skipped and reported.
pub fn read(path: &Path) -> Result<Recording, String> {
    let f =
        std::fs::File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    read_from(std::io::BufReader::new(f), &path.display().to_string())
}

pub fn read_from(mut r: impl BufRead, name: &str) -> Result<Recording, String> {
    let mut first = String::new();
    r.read_line(&mut first)
        .map_err(|e| format!("cannot read {name}: {e}"))?;
    let header: Header = serde_json::from_str(first.trim_end())
        .ok()
        .filter(|h: &Header| h.roomtap_recording >= 1)
        .ok_or_else(|| format!("{name} is not a roomtap recording (no header line)"))?;
    if header.roomtap_recording > FORMAT {
        return Err(format!(
            "{name} is recording format {} from a newer roomtap; this one reads format {FORMAT}",
            header.roomtap_recording
        ));
    }
    let mut events = Vec::new();
    let mut warnings = Vec::new();
    let mut buf = Vec::new();
    let mut n = 1usize;
    loop {
        buf.clear();
        let got = r
            .read_until(b'\n', &mut buf)
            .map_err(|e| format!("cannot read {name}: {e}"))?;
        if got == 0 {
            break;
        }
        n += 1;
        let complete = buf.last() == Some(&b'\n');
        let text = String::from_utf8_lossy(&buf);
        let text = text.trim_end();
        if text.is_empty() {
            continue;
        }
        if text.starts_with("{\"roomtap_recording\"") {
            // A later session appended to the same file: its sources must
            // match to be replayed into the same panes.
            match serde_json::from_str::<Header>(text) {
                Ok(h) if h.sources == header.sources => continue,
                _ => {
                    warnings.push(format!(
                        "line {n}: another session with other sources starts here; the rest is skipped"
                    ));
                    break;
                }
            }
        }
        match serde_json::from_str::<SourceEvent>(text) {
            Ok(ev) if usize::from(ev.source) < header.sources.len() => events.push(ev),
            Ok(ev) => warnings.push(format!(
                "line {n}: an event for source {} that the header does not name; skipped",
                ev.source
            )),
            Err(_) if !complete => warnings.push(format!(
                "line {n}: the last line is cut off ({} bytes; roomtap was stopped while writing); skipped",
                buf.len()
            )),
            Err(e) => warnings.push(format!("line {n}: not an event ({e}); skipped")),
        }
    }
    Ok(Recording {
        header,
        events,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{EventKind, Level, LogRecord};

    #[test]
    fn truncated_and_corrupt_lines_are_skipped_and_said() {
        let mut store = Store::new(&Default::default());
        store.add_source(
            "room",
            crate::protocols::kind_named("room"),
            "ws://h/rooms/r",
        );
        let head = serde_json::to_string(&Header::of(&store)).unwrap();
        let ev = SourceEvent {
            source: 0,
            at_ms: 5,
            kind: EventKind::Log(LogRecord {
                level: Level::Warn,
                kind: "k".into(),
                summary: "hello".into(),
                data: Some("{\"a\":1}".into()),
            }),
        };
        let line = serde_json::to_string(&ev).unwrap();
        let bad_source = line.replacen("\"source\":0", "\"source\":9", 1);
        let text = format!(
            "{head}\n{line}\nnot json\n{bad_source}\n{line}\n{}",
            &line[..20]
        );
        let r = read_from(text.as_bytes(), "t").unwrap();
        assert_eq!(r.events, vec![ev.clone(), ev]);
        assert_eq!(r.warnings.len(), 3, "{:?}", r.warnings);
        assert!(r.warnings[2].contains("cut off"));
        assert!(read_from("hello\n".as_bytes(), "t").is_err());
    }
}
