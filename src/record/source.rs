//! A recording (`--record FILE`) as sources: one placeholder per source the
//! recording names, then the file itself, whose task replays the events into
//! them (at once, or paced). Commands are refused in such a session.
//!
//! The file is read as it is replayed, one line at a time (see
//! [`crate::record::Reader`]), each event forwarded through the emitter as it
//! comes: the emitter's bounded queue holds the reading back, so memory stays
//! bounded by the store's limits, not by the file's size.

use std::time::Duration;

use tokio::sync::mpsc;

use crate::event::{Command, ConnState, EventKind, Fact, Level, LogRecord, SourceId};
use crate::record::{Line, SourceDecl};
use crate::source::{Caps, Emitter, Source, SourceKind, Started, Starting};

/// The sources `roomtap open FILE` shows: the recorded ones, then the file.
/// The recorded ones are attached first, so they take the ids right before
/// the file's; the replay readdresses each event to them.
/// Only the header is read here (a file that is not a regular file or has
/// no header is refused before anything starts); the body as it replays.
/// `kind_of` finds a recorded source's kind by the name the recording gives
/// (the protocol list's `kind_named`).
pub fn sources(
    file: &std::path::Path,
    speed: Option<f64>,
    kind_of: fn(&str) -> SourceKind,
) -> Result<Vec<Box<dyn Source>>, String> {
    let reader = crate::record::open(file)?;
    let mut out: Vec<Box<dyn Source>> = reader
        .header()
        .sources
        .iter()
        .map(|d| Box::new(Recorded(d.clone(), kind_of(&d.kind))) as Box<dyn Source>)
        .collect();
    out.push(Box::new(Replay {
        file: file.display().to_string(),
        speed,
        reader,
    }));
    Ok(out)
}

/// A source as the recording declared it, and its kind: its events come
/// from the replay.
struct Recorded(SourceDecl, SourceKind);

impl Source for Recorded {
    fn kind(&self) -> SourceKind {
        self.1
    }
    fn label(&self) -> String {
        self.0.label.clone()
    }
    fn url(&self) -> String {
        self.0.url.clone()
    }
    fn shown_url(&self) -> String {
        // Recorded as shown already.
        self.0.url.clone()
    }
    fn caps(&self) -> Caps {
        Caps {
            targets_instances: self.0.targets_instances,
            ..self.kind().caps()
        }
    }
    fn start(self: Box<Self>, _em: Emitter, _commands: mpsc::Receiver<Command>) -> Starting {
        Box::pin(async { Ok(Started::default()) })
    }
}

use crate::record::FileReader;

/// The recording file: replays its events.
struct Replay {
    file: String,
    speed: Option<f64>,
    reader: FileReader,
}

impl Source for Replay {
    fn kind(&self) -> SourceKind {
        SourceKind::RECORDING
    }
    fn label(&self) -> String {
        "file".into()
    }
    fn url(&self) -> String {
        self.file.clone()
    }
    fn shown_url(&self) -> String {
        self.file.clone()
    }
    fn narrow(&mut self, q: &crate::query::Query) {
        self.reader.narrow(q);
    }
    fn start(self: Box<Self>, em: Emitter, _commands: mpsc::Receiver<Command>) -> Starting {
        Box::pin(async move {
            let n = self.reader.header().sources.len();
            let me = em.source;
            // The recorded sources were attached right before this one.
            let base = usize::from(me).checked_sub(n).ok_or_else(|| {
                "internal: the recorded sources were not attached first".to_string()
            })?;
            tokio::spawn(replay(em, self.reader, base, self.speed));
            Ok(Started {
                read_only: Some("replaying a recording: commands are disabled".into()),
                ..Started::default()
            })
        })
    }
}

/// A recorded source id as attached in this session.
fn readdress(id: SourceId, base: usize, n: usize) -> SourceId {
    if usize::from(id) < n {
        (base + usize::from(id)) as SourceId
    } else {
        SourceId::MAX
    }
}

/// Lines are handed from the reading thread to the replay in batches of
/// at most this many lines and bytes (one handoff per line costs more than
/// the line), at most [`READ_AHEAD`] batches ahead: the reading thread
/// waits beyond that.
const BATCH_LINES: usize = 256;
const BATCH_BYTES: u64 = 4 << 20;
const READ_AHEAD: usize = 4;

async fn replay(em: Emitter, reader: FileReader, base: usize, speed: Option<f64>) {
    let header = reader.header();
    let n = header.sources.len();
    let started_ms = header.started_ms;
    let note = |level, summary: String| {
        EventKind::Log(LogRecord {
            level,
            kind: "recording".into(),
            summary,
            data: None,
            bytes: None,
        })
    };
    // Which roomtap wrote it, and when.
    let session = match header.version.as_str() {
        "export" => "an export".to_string(),
        v => format!(
            "recorded from {} by roomtap {}",
            crate::text::iso_time(started_ms),
            crate::text::sanitize_capped(v, 40)
        ),
    };
    if !em
        .conn(ConnState::Connected {
            session: Some(session),
        })
        .await
    {
        return;
    }
    let progress = reader.progress();
    let started = std::time::Instant::now();
    let mut said_at = started;
    // File reads block: they run on a thread of their own, a bounded
    // queue ahead of the replay (it ends when the replay is gone).
    let (tx, mut batches) = mpsc::channel::<Vec<Line>>(READ_AHEAD);
    tokio::task::spawn_blocking(move || {
        let mut reader = reader;
        loop {
            let from = reader.offset();
            let mut batch = Vec::with_capacity(BATCH_LINES);
            while let Some(line) = reader.next() {
                batch.push(line);
                if batch.len() == BATCH_LINES || reader.offset() - from >= BATCH_BYTES {
                    break;
                }
            }
            if batch.is_empty() || tx.blocking_send(batch).is_err() {
                return;
            }
        }
    });
    let mut count = 0u64;
    let mut prev: Option<u64> = None;
    let mut current = Vec::new().into_iter();
    loop {
        let line = match current.next() {
            Some(line) => line,
            None => match batches.recv().await {
                Some(b) => {
                    current = b.into_iter();
                    // How far it is, said at most 4 times a second (the
                    // Logs' title shows it while it loads).
                    if said_at.elapsed() >= PROGRESS_EVERY {
                        said_at = std::time::Instant::now();
                        let loading = loading(&progress, started.elapsed(), count);
                        if !em
                            .emit(EventKind::Facts(vec![Fact::set("loading", loading)]))
                            .await
                        {
                            return;
                        }
                    }
                    continue;
                }
                None => break,
            },
        };
        let mut ev = match line {
            Line::Event(ev) => ev,
            Line::Warning(w) => {
                if !em.emit(note(Level::Warn, w)).await {
                    return;
                }
                continue;
            }
            Line::Stopped(reason) => {
                // An error entry, and the file's row says why (`tail`
                // ends with it as its error).
                em.conn(ConnState::Errored {
                    reason,
                    will_reconnect: false,
                    retry_in: None,
                })
                .await;
                return;
            }
        };
        if let (Some(speed), Some(p)) = (speed.filter(|s| *s > 0.0), prev) {
            // Long silences are cut to 5 s so a replay never seems stuck.
            let gap = ev.at_ms.saturating_sub(p).min(5_000) as f64 / speed;
            tokio::time::sleep(Duration::from_secs_f64(gap / 1000.0)).await;
        }
        prev = Some(ev.at_ms);
        ev.source = readdress(ev.source, base, n);
        if let EventKind::CommandSent(c) = &mut ev.kind {
            c.source = readdress(c.source, base, n);
        }
        if !em.forward(ev).await {
            return;
        }
        count += 1;
    }
    let took = started.elapsed().as_secs_f64();
    em.emit(EventKind::Facts(vec![
        Fact::unset("loading"),
        Fact::set("loaded", format!("{count} events in {took:.1} s")),
    ]))
    .await;
    em.emit(note(
        Level::Info,
        format!("replay finished: {count} events"),
    ))
    .await;
}

/// How often the replay says how far it is.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// `42 % · 180 MB/s · 120000 events`: how far the file is read (its bytes
/// as stored, compressed ones too), how fast, and what came.
fn loading(p: &crate::record::Progress, took: Duration, events: u64) -> String {
    let read = p.read();
    let pct = (read as f64 * 100.0 / p.total.max(1) as f64).min(100.0);
    let rate = read as f64 / 1e6 / took.as_secs_f64().max(1e-3);
    format!("{pct:.0} % · {rate:.0} MB/s · {events} events")
}

#[cfg(test)]
mod tests {
    use crate::event::{ConnState, EventKind, Level, LogRecord, SourceEvent};
    use crate::record::Recorder;
    use crate::source::{Emitter, SourceKind};
    use crate::store::Store;
    use tokio::sync::mpsc;

    fn log(at_ms: u64, summary: &str) -> SourceEvent {
        SourceEvent {
            source: 0,
            at_ms,
            kind: EventKind::Log(LogRecord {
                level: Level::Info,
                kind: "k".into(),
                summary: summary.into(),
                data: None,
                bytes: None,
            }),
        }
    }

    /// `--speed 2`: the recorded gaps halved (a long silence cut to 5 s
    /// first), the events addressed to the recorded sources, registered
    /// before them; then the end is said and the file's task ends.
    #[tokio::test(start_paused = true)]
    async fn a_recording_replays_at_its_pace_into_its_sources() {
        let path =
            std::env::temp_dir().join(format!("roomtap-replay-{}-pace.jsonl", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let mut recorded = Store::new(&Default::default());
        recorded.add_source("room", SourceKind::RECORDED, "ws://h/rooms/r");
        {
            let mut r = Recorder::create(&path, &recorded).unwrap();
            for (at, s) in [(1_000, "a"), (2_000, "b"), (60_000, "c")] {
                r.write(&log(at, s));
            }
        }
        // Started as the wiring starts them: ids in order, each its emitter.
        let sources = super::sources(&path, Some(2.0), |_| SourceKind::RECORDED).unwrap();
        assert_eq!(sources.len(), 2, "the room, then the file");
        let (tx, mut rx) = mpsc::channel(64);
        let mut keep = Vec::new();
        for (id, s) in sources.into_iter().enumerate() {
            let (ctx, crx) = mpsc::channel(1);
            keep.push(ctx);
            s.start(Emitter::new(id as u16, tx.clone()), crx)
                .await
                .unwrap();
        }
        drop(tx);
        let t0 = tokio::time::Instant::now();
        let mut got = Vec::new();
        let mut loaded = Vec::new();
        let deadline = t0 + std::time::Duration::from_secs(60);
        while let Ok(Some(ev)) = tokio::time::timeout_at(deadline, rx.recv()).await {
            let after = t0.elapsed().as_millis();
            match ev.kind {
                EventKind::Log(l) if ev.source == 0 => got.push((l.summary, after)),
                EventKind::Log(l) => got.push((l.summary, 0)),
                EventKind::Conn(ConnState::Connected { .. }) => assert_eq!(ev.source, 1),
                // The file's own facts: how far it is (none in so small a
                // file), then how it went.
                EventKind::Facts(f) => {
                    assert_eq!(ev.source, 1);
                    loaded.extend(f);
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(
            got,
            [
                ("a".to_string(), 0),
                ("b".to_string(), 500),
                ("c".to_string(), 3_000),
                ("replay finished: 3 events".to_string(), 0),
            ]
        );
        assert_eq!(loaded[0], crate::event::Fact::unset("loading"));
        assert_eq!(loaded[1].key, "loaded");
        assert!(
            loaded[1]
                .value
                .as_deref()
                .is_some_and(|v| v.starts_with("3 events in ")),
            "{loaded:?}"
        );
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn progress_says_how_far_how_fast_and_what_came() {
        let path =
            std::env::temp_dir().join(format!("roomtap-progress-{}.jsonl", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let mut recorded = Store::new(&Default::default());
        recorded.add_source("room", SourceKind::RECORDED, "ws://h/rooms/r");
        {
            let mut r = Recorder::create(&path, &recorded).unwrap();
            for i in 0..50 {
                r.write(&log(i, "x"));
            }
        }
        let size = std::fs::metadata(&path).unwrap().len();
        let reader = crate::record::open(&path).unwrap();
        let p = reader.progress();
        assert_eq!(p.total, size);
        assert_eq!(reader.count(), 50);
        assert_eq!(p.read(), size, "every byte read, and counted");
        assert_eq!(
            super::loading(&p, std::time::Duration::from_secs(1), 50),
            format!("100 % · {:.0} MB/s · 50 events", size as f64 / 1e6)
        );
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn ids_move_by_the_base() {
        assert_eq!(super::readdress(0, 3, 2), 3);
        assert_eq!(super::readdress(1, 3, 2), 4);
        assert_eq!(super::readdress(2, 3, 2), u16::MAX);
    }
}
