//! A recording (`--record FILE`) as sources: one placeholder per source the
//! recording names, then the file itself, whose task replays the events into
//! them (at once, or paced). Commands are refused in such a session.

use std::time::Duration;

use tokio::sync::mpsc;

use crate::event::{Command, ConnState, EventKind, Level, LogRecord, SourceId};
use crate::record::{Recording, SourceDecl};
use crate::source::{Caps, Emitter, Source, SourceKind, Started, Starting};

/// The sources `roomtap open FILE` shows: the recorded ones, then the file.
/// The recorded ones are attached first, so they take the ids right before
/// the file's; the replay readdresses each event to them.
pub fn sources(file: &std::path::Path, speed: Option<f64>) -> Result<Vec<Box<dyn Source>>, String> {
    let rec = crate::record::read(file)?;
    let mut out: Vec<Box<dyn Source>> = rec
        .header
        .sources
        .iter()
        .map(|d| Box::new(Recorded(d.clone())) as Box<dyn Source>)
        .collect();
    out.push(Box::new(Replay {
        file: file.display().to_string(),
        speed,
        rec,
    }));
    Ok(out)
}

/// A source as the recording declared it: its events come from the replay.
struct Recorded(SourceDecl);

impl Source for Recorded {
    fn kind(&self) -> SourceKind {
        crate::protocols::kind_named(&self.0.kind)
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

/// The recording file: replays its events.
struct Replay {
    file: String,
    speed: Option<f64>,
    rec: Recording,
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
    fn start(self: Box<Self>, em: Emitter, _commands: mpsc::Receiver<Command>) -> Starting {
        Box::pin(async move {
            let n = self.rec.header.sources.len();
            let me = em.source;
            // The recorded sources were attached right before this one.
            let base = usize::from(me).checked_sub(n).ok_or_else(|| {
                "internal: the recorded sources were not attached first".to_string()
            })?;
            tokio::spawn(replay(em, self.rec, base, self.speed));
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

async fn replay(em: Emitter, rec: Recording, base: usize, speed: Option<f64>) {
    let n = rec.header.sources.len();
    let note = |level, summary: String| {
        EventKind::Log(LogRecord {
            level,
            kind: "recording".into(),
            summary,
            data: None,
        })
    };
    let count = rec.events.len();
    em.conn(ConnState::Connected {
        session: Some(format!(
            "{count} events recorded from {}",
            crate::text::iso_time(rec.header.started_ms)
        )),
    })
    .await;
    for w in rec.warnings {
        em.emit(note(Level::Warn, w)).await;
    }
    let mut prev: Option<u64> = None;
    for mut ev in rec.events {
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
    }
    em.emit(note(
        Level::Info,
        format!("replay finished: {count} events"),
    ))
    .await;
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_move_by_the_base() {
        assert_eq!(super::readdress(0, 3, 2), 3);
        assert_eq!(super::readdress(1, 3, 2), 4);
        assert_eq!(super::readdress(2, 3, 2), u16::MAX);
    }
}
