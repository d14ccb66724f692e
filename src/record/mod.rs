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
//! begin with, and every event is masked where its source emits it (the
//! run's `secret::Masker`), before anything — this writer included — sees
//! it.
//!
//! A recording is a file anyone can write: the [`Reader`] reads only a
//! regular file, one line of at most [`MAX_LINE`] bytes at a time, and
//! stops where the content no longer looks like a recording.

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

/// How a recording is written: compressed with zstd when its path ends
/// with `.zst`; in parts of at most `max_part` bytes (before compression)
/// when set: `FILE`, then `FILE.1`, `FILE.2`…, each starting with the
/// header, which `roomtap open FILE` reads as one.
#[derive(Debug, Clone, Copy, Default)]
pub struct RecordOptions {
    pub max_part: Option<u64>,
}

/// The file a part is written to: zstd-compressed or not.
enum PartWriter {
    Plain(BufWriter<std::fs::File>),
    Zstd(zstd::stream::write::Encoder<'static, BufWriter<std::fs::File>>),
}

impl PartWriter {
    fn open(path: &Path, zstd: bool) -> std::io::Result<PartWriter> {
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        let w = BufWriter::with_capacity(1 << 16, f);
        Ok(if zstd {
            // A new frame, appended: frames in a row read as one stream.
            PartWriter::Zstd(zstd::stream::write::Encoder::new(w, ZSTD_LEVEL)?)
        } else {
            PartWriter::Plain(w)
        })
    }

    fn writer(&mut self) -> &mut dyn Write {
        match self {
            PartWriter::Plain(w) => w,
            PartWriter::Zstd(w) => w,
        }
    }

    /// Everything written so far on disk (a zstd frame's end written:
    /// the part is complete).
    fn finish(self) -> std::io::Result<()> {
        match self {
            PartWriter::Plain(mut w) => w.flush(),
            PartWriter::Zstd(w) => w.finish()?.flush(),
        }
    }
}

/// zstd's level for recordings: fast, and several times smaller.
const ZSTD_LEVEL: i32 = 3;

/// The path of part `k` of the recording at `path` (`FILE`, `FILE.1`…).
pub fn part_path(path: &Path, k: u32) -> std::path::PathBuf {
    if k == 0 {
        return path.to_path_buf();
    }
    let mut p = path.as_os_str().to_owned();
    p.push(format!(".{k}"));
    p.into()
}

/// Appends events to a file (or to the parts of one).
pub struct Recorder {
    w: Option<PartWriter>,
    path: std::path::PathBuf,
    zstd: bool,
    opts: RecordOptions,
    /// The part being written, and the bytes it holds (before
    /// compression; what was there before this run included).
    part: u32,
    part_bytes: u64,
    /// The header line, written at the start of every part.
    header: String,
    last_flush: Instant,
    pub written: u64,
    /// The first write error (recording stops; the session goes on).
    pub error: Option<String>,
}

impl Recorder {
    /// Create (or append to) `path` and write the header. What it writes is
    /// already masked: every event as its source emitted it, the sources'
    /// labels and URLs as the wiring registered them. Only a file that
    /// cannot be opened is an error here; a write that fails sets
    /// [`Recorder::error`].
    pub fn create(path: &Path, store: &Store) -> std::io::Result<Recorder> {
        Recorder::create_with(path, store, RecordOptions::default())
    }

    /// [`Recorder::create`], in parts and compressed as `opts` and the
    /// path say. An existing recording in parts is appended to its last.
    pub fn create_with(
        path: &Path,
        store: &Store,
        opts: RecordOptions,
    ) -> std::io::Result<Recorder> {
        let zstd = path.extension().is_some_and(|e| e == "zst");
        let mut part = 0;
        if opts.max_part.is_some() {
            while part < MAX_PARTS && part_path(path, part + 1).exists() {
                part += 1;
            }
        }
        let at = part_path(path, part);
        let part_bytes = std::fs::metadata(&at).map_or(0, |m| m.len());
        let mut r = Recorder {
            w: Some(PartWriter::open(&at, zstd)?),
            path: path.to_path_buf(),
            zstd,
            opts,
            part,
            part_bytes,
            header: serde_json::to_string(&Header::of(store)).unwrap_or_default(),
            last_flush: Instant::now(),
            written: 0,
            error: None,
        };
        r.line(r.header.clone());
        // A write that fails (a full disk) stops the recording, not the
        // session: the error is kept for the caller to say once.
        r.flush();
        Ok(r)
    }

    /// The part being written.
    pub fn part_path(&self) -> std::path::PathBuf {
        part_path(&self.path, self.part)
    }

    fn line(&mut self, mut text: String) {
        if self.error.is_some() {
            return;
        }
        text.push('\n');
        let Some(w) = self.w.as_mut() else { return };
        if let Err(e) = w.writer().write_all(text.as_bytes()) {
            self.error = Some(format!("recording stopped: {e}"));
            return;
        }
        self.part_bytes += text.len() as u64;
        if self.opts.max_part.is_some_and(|m| self.part_bytes >= m) {
            self.next_part();
        }
    }

    /// The part is full: it is finished and the next begins, with the
    /// header.
    fn next_part(&mut self) {
        if self.part >= MAX_PARTS {
            self.error = Some(format!(
                "recording stopped: {MAX_PARTS} parts written (--record-max)"
            ));
            return;
        }
        let done = self.w.take().map_or(Ok(()), PartWriter::finish);
        let next = part_path(&self.path, self.part + 1);
        match done.and_then(|()| PartWriter::open(&next, self.zstd)) {
            Ok(w) => {
                self.w = Some(w);
                self.part += 1;
                self.part_bytes = 0;
                self.line(self.header.clone());
            }
            Err(e) => self.error = Some(format!("recording stopped: {}: {e}", next.display())),
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
            && let Some(w) = self.w.as_mut()
            && let Err(e) = w.writer().flush()
        {
            self.error = Some(format!("recording stopped: {e}"));
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        // A zstd part gets its frame's end.
        if let Some(w) = self.w.take() {
            let _ = w.finish();
        }
    }
}

/// Most parts a recording is written in (and read back as one).
pub const MAX_PARTS: u32 = 100_000;

/// A recording as [`open`] reads it.
pub type FileReader = Reader<std::io::BufReader<Parts>>;

/// The largest zstd window a recording may ask for (16 MiB): a frame that
/// needs more is refused (said), so no file can make roomtap hold more.
const ZSTD_WINDOW_LOG_MAX: u32 = 24;

/// zstd's frame magic number.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// A recording's bytes, whatever way it was written: its parts (`FILE`,
/// `FILE.1`… while they exist) one after the other, each read as it is
/// (zstd-compressed or not, told by its first bytes), each a regular file.
pub struct Parts {
    path: std::path::PathBuf,
    next: u32,
    cur: Box<dyn std::io::Read + Send>,
    /// Bytes read from the files so far (compressed ones as stored), and
    /// what the parts there were at the start held: how far reading is.
    read: std::sync::Arc<std::sync::atomic::AtomicU64>,
    total: u64,
}

/// A file's bytes, counted as they are read.
struct Counted<R> {
    r: R,
    read: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<R: std::io::Read> std::io::Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.r.read(buf)?;
        self.read
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

/// How far a recording has been read: bytes read of the files' bytes.
#[derive(Debug, Clone)]
pub struct Progress {
    read: std::sync::Arc<std::sync::atomic::AtomicU64>,
    pub total: u64,
}

impl Progress {
    pub fn read(&self) -> u64 {
        self.read.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Reader<std::io::BufReader<Parts>> {
    /// How far the file has been read.
    pub fn progress(&self) -> Progress {
        let p = self.r.get_ref();
        Progress {
            read: p.read.clone(),
            total: p.total,
        }
    }
}

impl Parts {
    pub fn open(path: &Path) -> Result<Parts, String> {
        let read = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let total = (0..MAX_PARTS)
            .map(|k| std::fs::metadata(part_path(path, k)))
            .take_while(|m| m.is_ok())
            .map(|m| m.map_or(0, |m| m.len()))
            .sum();
        let cur = Parts::part(path, &read).map_err(|e| {
            if e.contains("is not a regular file") {
                e + ": a recording is one"
            } else {
                e
            }
        })?;
        Ok(Parts {
            path: path.to_path_buf(),
            next: 1,
            cur,
            read,
            total,
        })
    }

    /// One part, decompressed when it is zstd, its bytes counted.
    fn part(
        path: &Path,
        read: &std::sync::Arc<std::sync::atomic::AtomicU64>,
    ) -> Result<Box<dyn std::io::Read + Send>, String> {
        let f = Counted {
            r: crate::files::open_regular(path, "")?,
            read: read.clone(),
        };
        decoded(
            std::io::BufReader::with_capacity(READ_BLOCK, f),
            &path.display().to_string(),
        )
    }
}

/// What `r` holds as a recording reads it: decompressed when it starts
/// with zstd's magic (its window capped), else as it is.
pub fn decoded<R: BufRead + Send + 'static>(
    mut r: R,
    name: &str,
) -> Result<Box<dyn std::io::Read + Send>, String> {
    let head = r
        .fill_buf()
        .map_err(|e| format!("cannot read {name}: {e}"))?;
    if !head.starts_with(&ZSTD_MAGIC) {
        return Ok(Box::new(r));
    }
    let mut d = zstd::stream::read::Decoder::with_buffer(r)
        .map_err(|e| format!("cannot read {name}: {e}"))?;
    d.window_log_max(ZSTD_WINDOW_LOG_MAX)
        .map_err(|e| format!("cannot read {name}: {e}"))?;
    Ok(Box::new(d))
}

impl std::io::Read for Parts {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let n = self.cur.read(buf)?;
            if n > 0 || buf.is_empty() || self.next > MAX_PARTS {
                return Ok(n);
            }
            // This part is over: the next one, when there is one.
            let next = part_path(&self.path, self.next);
            if !next.exists() {
                return Ok(0);
            }
            self.cur = Parts::part(&next, &self.read).map_err(std::io::Error::other)?;
            self.next += 1;
        }
    }
}

/// How much of a recording is read at a time.
const READ_BLOCK: usize = 1 << 20;

/// The longest line read: the largest frame roomtap accepts anywhere
/// (`--max-frame`). A longer line is skipped without being held.
pub const MAX_LINE: usize = 16 << 20;
/// Lines in a row that are not events after which reading stops: the file
/// does not look like a recording any more.
pub const MAX_BAD_RUN: usize = 1000;
/// NUL bytes in a row after which reading stops (the rest of a sparse or
/// zero-filled file: JSON never holds a raw NUL).
pub const MAX_NUL_RUN: u64 = 1 << 20;

/// A recording read back whole (tests and small files; `roomtap open`
/// streams it through a [`Reader`] instead).
#[derive(Debug)]
pub struct Recording {
    pub header: Header,
    pub events: Vec<SourceEvent>,
    /// Lines that could not be read (a truncated last line after a crash,
    /// anything corrupt), said in words.
    pub warnings: Vec<String>,
    /// Why reading stopped before the end, when it did (see [`Line::Stopped`]).
    pub stopped: Option<String>,
}

/// What a [`Reader`] gives, one line of the body at a time.
#[derive(Debug, PartialEq)]
pub enum Line {
    /// An event for a source the header names.
    Event(SourceEvent),
    /// A line skipped (corrupt, cut off, too long…) or the end of what can
    /// be replayed (a later session with other sources), said in words.
    Warning(String),
    /// Reading stopped before the end: the file could not be read, or its
    /// content stopped looking like a recording (a run of NUL bytes, too
    /// many lines in a row that are not events). Said in words.
    Stopped(String),
}

/// Reads a recording line by line, never holding more than one line of at
/// most [`MAX_LINE`] bytes: the header first ([`Reader::new`]), then the
/// body as an iterator of [`Line`]s.
pub struct Reader<R> {
    r: R,
    header: Header,
    /// The number of the last line read (the header is line 1).
    line: u64,
    /// Bytes consumed so far.
    offset: u64,
    /// Lines in a row that were not events.
    bad_run: usize,
    /// NUL bytes in a row, and where the run started.
    nul_run: u64,
    nul_from: u64,
    buf: Vec<u8>,
    done: bool,
    /// Reading an export (`e`'s JSON Lines), not a recording: its source
    /// labels, by the index of the source each is replayed as.
    export: Option<std::collections::HashMap<String, u16>>,
    /// Only what a query keeps is wanted ([`Reader::narrow`]).
    needs: Option<crate::query::Needs>,
    /// Log lines the query ruled out before they were parsed.
    pub skipped: u64,
}

/// Distinct source labels an export is replayed with (more share one).
const EXPORT_SOURCES: usize = 64;

/// One line of an export (`e`, `tail --json`).
#[derive(serde::Deserialize)]
struct ExportLine {
    time: String,
    source: String,
    level: String,
    kind: String,
    summary: String,
    #[serde(default)]
    data: Option<serde_json::Value>,
    #[serde(default)]
    bytes: Option<ExportBytes>,
}

#[derive(serde::Deserialize)]
struct ExportBytes {
    base64: String,
}

/// Whether `first` (a file's first line) is an export's line.
pub fn is_export_line(first: &[u8]) -> bool {
    let text = String::from_utf8_lossy(first);
    serde_json::from_str::<ExportLine>(text.trim_end()).is_ok()
}

/// The source labels of the export at `path`, in the order they first
/// appear (at most [`EXPORT_SOURCES`]; the file read once, a line at a
/// time, bounded like a recording's).
fn export_labels(path: &Path) -> Result<Vec<String>, String> {
    export_labels_from(std::io::BufReader::with_capacity(
        1 << 16,
        Parts::open(path)?,
    ))
    .map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// [`export_labels`] of what `r` reads.
fn export_labels_from(mut r: impl BufRead) -> std::io::Result<Vec<String>> {
    #[derive(serde::Deserialize)]
    struct Label {
        source: String,
    }
    let mut labels: Vec<String> = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = std::io::BufRead::read_until(
            &mut std::io::Read::take(&mut r, MAX_LINE as u64),
            b'\n',
            &mut line,
        )?;
        if n == 0 {
            break;
        }
        // Read as the reader reads a line (lossily), so that every label
        // it will meet is here.
        let text = String::from_utf8_lossy(&line);
        if let Ok(l) = serde_json::from_str::<Label>(text.trim_end())
            && !labels.contains(&l.source)
        {
            if labels.len() == EXPORT_SOURCES {
                break;
            }
            labels.push(l.source);
        }
    }
    // An entry always has a source to be replayed as.
    if labels.is_empty() {
        labels.push("export".into());
    }
    Ok(labels)
}

/// One line as read, before it is parsed.
enum Raw {
    Eof,
    /// In `buf`; `complete` when it ended with a newline.
    Text {
        complete: bool,
    },
    /// Over [`MAX_LINE`]: skipped up to its newline (or the end), not held;
    /// `len` bytes long (at least, when not skipped).
    TooLong {
        len: u64,
    },
    /// A run of [`MAX_NUL_RUN`] NUL bytes started at this byte.
    Nul {
        at: u64,
    },
}

/// Open a recording to stream it: only a regular file (symlinks followed)
/// is read; a FIFO, a device or a directory is refused before anything
/// starts, and so is a file whose first line is not a recording's header.
pub fn open(path: &Path) -> Result<FileReader, String> {
    let mut r = std::io::BufReader::with_capacity(READ_BLOCK, Parts::open(path)?);
    let name = path.display().to_string();
    // An export (`e`, `tail --json`) opens too: its lines are entries.
    let first = r
        .fill_buf()
        .map_err(|e| format!("cannot read {name}: {e}"))?;
    let first = &first[..first
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(first.len())];
    if is_export_line(first) {
        let labels = export_labels(path)?;
        return Ok(Reader::export(r, &name, labels));
    }
    Reader::new(r, &name)
}

/// Read a whole recording (see [`Recording`]). Only a file that cannot be
/// opened, is not a regular file or has no header is an error; bad lines
/// are skipped and reported.
pub fn read(path: &Path) -> Result<Recording, String> {
    collect(open(path)?)
}

/// An export (`e`, `tail --json`) read whole from `bytes`, as `open`
/// reads one (its labels first).
pub fn read_export_from(bytes: &[u8], name: &str) -> Result<Recording, String> {
    let labels = export_labels_from(bytes).map_err(|e| format!("cannot read {name}: {e}"))?;
    collect(Reader::export(bytes, name, labels))
}

/// [`read`] from any reader (`name` says what it is in messages).
pub fn read_from(r: impl BufRead, name: &str) -> Result<Recording, String> {
    collect(Reader::new(r, name)?)
}

fn collect(mut reader: Reader<impl BufRead>) -> Result<Recording, String> {
    let mut events = Vec::new();
    let mut warnings = Vec::new();
    let mut stopped = None;
    for line in &mut reader {
        match line {
            Line::Event(ev) => events.push(ev),
            Line::Warning(w) => warnings.push(w),
            Line::Stopped(why) => stopped = Some(why),
        }
    }
    Ok(Recording {
        header: reader.header,
        events,
        warnings,
        stopped,
    })
}

impl<R: BufRead> Reader<R> {
    /// Read the header line. Only a missing or foreign header (or one
    /// from a newer roomtap) is an error.
    pub fn new(r: R, name: &str) -> Result<Reader<R>, String> {
        let mut me = Reader::with(
            r,
            Header {
                roomtap_recording: 0,
                version: String::new(),
                started_ms: 0,
                sources: Vec::new(),
            },
            None,
        );
        let not_one = || format!("{name} is not a roomtap recording (no header line)");
        // Not skipped to its end when too long: a file whose first line
        // is that long is no recording.
        match me
            .read_line(false)
            .map_err(|e| format!("cannot read {name}: {e}"))?
        {
            Raw::Text { .. } => {}
            _ => return Err(not_one()),
        }
        let header: Header = serde_json::from_str(String::from_utf8_lossy(&me.buf).trim_end())
            .ok()
            .filter(|h: &Header| h.roomtap_recording >= 1)
            .ok_or_else(not_one)?;
        if header.roomtap_recording > FORMAT {
            return Err(format!(
                "{name} is recording format {} from a newer roomtap; this one reads format {FORMAT}",
                header.roomtap_recording
            ));
        }
        me.header = header;
        // A header line may be long; the body's lines are read into the
        // same buffer, which starts small again.
        me.buf = Vec::new();
        Ok(me)
    }

    /// A reader of an export whose lines name `labels` as their sources:
    /// each label a source (of kind `export`), each line a log entry.
    fn export(r: R, name: &str, labels: Vec<String>) -> Reader<R> {
        let sources = labels
            .iter()
            .map(|l| SourceDecl {
                label: l.clone(),
                kind: "export".into(),
                url: name.to_string(),
                targets_instances: false,
            })
            .collect();
        let export = labels
            .into_iter()
            .enumerate()
            .map(|(i, l)| (l, i as u16))
            .collect();
        Reader::with(
            r,
            Header {
                roomtap_recording: FORMAT,
                version: "export".into(),
                started_ms: 0,
                sources,
            },
            Some(export),
        )
    }

    /// A reader at the start of `r`, with `header`.
    fn with(
        r: R,
        header: Header,
        export: Option<std::collections::HashMap<String, u16>>,
    ) -> Reader<R> {
        Reader {
            r,
            header,
            line: 0,
            offset: 0,
            bad_run: 0,
            nul_run: 0,
            nul_from: 0,
            buf: Vec::new(),
            done: false,
            export,
            needs: None,
            skipped: 0,
        }
    }

    /// Only the log entries `q` keeps are wanted: a recorded log line the
    /// query rules out before it is parsed (see [`crate::query::Needs`]) is
    /// skipped and counted. Errors, connection entries and every other
    /// event still come (`tail` shows those whatever its filter).
    pub fn narrow(&mut self, q: &crate::query::Query) {
        let labels: Vec<&str> = self
            .header
            .sources
            .iter()
            .map(|s| s.label.as_str())
            .collect();
        let needs = q.needs(&labels);
        self.needs = (!needs.is_any()).then_some(needs);
    }

    /// An export's line as the log entry it was.
    fn export_event(&self, text: &str) -> Result<SourceEvent, String> {
        let l: ExportLine = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let map = self.export.as_ref().ok_or("not an export")?;
        // A label past the first 64 is replayed as the last one's.
        let source = map
            .get(&l.source)
            .copied()
            .unwrap_or((map.len().max(1) - 1) as u16);
        let level = match l.level.as_str() {
            "TRACE" => crate::event::Level::Trace,
            "DEBUG" => crate::event::Level::Debug,
            "WARN" => crate::event::Level::Warn,
            "ERROR" => crate::event::Level::Error,
            _ => crate::event::Level::Info,
        };
        let at_ms =
            crate::text::iso_time_ms(&l.time).ok_or_else(|| format!("a time {:?}", l.time))?;
        let bytes = match l.bytes {
            Some(b) => {
                use base64::Engine;
                Some(
                    base64::engine::general_purpose::STANDARD
                        .decode(b.base64.as_bytes())
                        .map_err(|e| format!("bytes: {e}"))?,
                )
            }
            None => None,
        };
        Ok(SourceEvent {
            source,
            at_ms,
            kind: crate::event::EventKind::Log(crate::event::LogRecord {
                level,
                kind: l.kind,
                summary: l.summary,
                data: l.data.map(|d| match d {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                }),
                bytes,
            }),
        })
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Bytes read so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The next line into `buf`, at most [`MAX_LINE`] bytes of it held:
    /// a bounded `fill_buf`/`consume` loop that also follows runs of NUL
    /// bytes. A longer line is skipped to its newline when `skip_long`,
    /// else reading stops there.
    fn read_line(&mut self, skip_long: bool) -> std::io::Result<Raw> {
        self.buf.clear();
        let mut len: u64 = 0;
        loop {
            let chunk = match self.r.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                if len == 0 {
                    return Ok(Raw::Eof);
                }
                self.line += 1;
                return Ok(if len > MAX_LINE as u64 {
                    Raw::TooLong { len }
                } else {
                    Raw::Text { complete: false }
                });
            }
            let (take, end) = match memchr::memchr(b'\n', chunk) {
                Some(i) => (i + 1, true),
                None => (chunk.len(), false),
            };
            let part = &chunk[..take];
            if let Some(at) = nul_run(&mut self.nul_run, &mut self.nul_from, self.offset, part) {
                self.line += 1;
                return Ok(Raw::Nul { at });
            }
            let body = (take - usize::from(end)) as u64;
            if len + body <= MAX_LINE as u64 {
                let need = self.buf.len() + part.len();
                if need > self.buf.capacity() {
                    // Grow as a Vec does, but never past the cap.
                    let want = need.max(self.buf.capacity() * 2).min(MAX_LINE + 1);
                    self.buf.reserve_exact(want - self.buf.len());
                }
                self.buf.extend_from_slice(part);
            } else if skip_long {
                self.buf.clear();
            } else {
                self.line += 1;
                return Ok(Raw::TooLong { len: len + body });
            }
            len += body;
            self.offset += take as u64;
            self.r.consume(take);
            if end {
                self.line += 1;
                return Ok(if len > MAX_LINE as u64 {
                    Raw::TooLong { len }
                } else {
                    Raw::Text { complete: true }
                });
            }
        }
    }

    /// A line that was not an event: said, unless too many came in a row.
    fn bad(&mut self, said: Option<String>) -> Option<Line> {
        self.bad_run += 1;
        if self.bad_run > MAX_BAD_RUN {
            self.done = true;
            return Some(Line::Stopped(format!(
                "line {}: more than {MAX_BAD_RUN} lines in a row are not events: \
                 the file does not look like a recording from here on; reading stopped",
                self.line
            )));
        }
        said.map(Line::Warning)
    }
}

/// Whether a recorded line may hold an entry a query needing `needs`
/// keeps. Only a log event's line, as roomtap writes one, is tested (before
/// it is parsed); any other line may, and so may an error or a connection
/// entry (shown whatever the filter).
pub fn may_keep(needs: &crate::query::Needs, line: &str) -> bool {
    use crate::event::Level;
    use std::sync::LazyLock;
    const LOG: &str = r#","kind":{"Log":{"level":""#;
    static LOG_AT: LazyLock<memchr::memmem::Finder<'static>> =
        LazyLock::new(|| memchr::memmem::Finder::new(LOG));
    static CONNECTION: LazyLock<memchr::memmem::Finder<'static>> =
        LazyLock::new(|| memchr::memmem::Finder::new(r#""kind":"connection""#));
    if !line.starts_with(r#"{"source":"#) || !line.ends_with('}') {
        return true;
    }
    let Some(at) = LOG_AT.find(line.as_bytes()) else {
        return true;
    };
    let level = match line[at + LOG.len()..].split('"').next() {
        Some("Trace") => Level::Trace,
        Some("Debug") => Level::Debug,
        Some("Info") => Level::Info,
        Some("Warn") => Level::Warn,
        _ => return true,
    };
    if CONNECTION.find(line.as_bytes()).is_some() {
        return true;
    }
    // Its level alone rules it out, whatever its text.
    if needs.level_rules_out(level) {
        return false;
    }
    // A kind or a summary the store would cut (`… N bytes more`) is left
    // to the full test: the cut text is not in the line.
    static KIND: LazyLock<memchr::memmem::Finder<'static>> =
        LazyLock::new(|| memchr::memmem::Finder::new(r#""kind":""#));
    static SUMMARY: LazyLock<memchr::memmem::Finder<'static>> =
        LazyLock::new(|| memchr::memmem::Finder::new(r#""summary":""#));
    if string_len(line, &KIND) > crate::store::logs::KIND_CAP
        || string_len(line, &SUMMARY) > crate::store::logs::SUMMARY_CAP
    {
        return true;
    }
    needs.holds(&crate::query::EntryText::new(line), level)
}

/// How long, escaped, the JSON string after the first `key` of `line` is
/// (at least as long as the text it holds); `usize::MAX` when there is
/// none.
fn string_len(line: &str, key: &memchr::memmem::Finder<'_>) -> usize {
    let Some(at) = key.find(line.as_bytes()) else {
        return usize::MAX;
    };
    let b = &line.as_bytes()[at + key.needle().len()..];
    let mut i = 0;
    while let Some(j) = memchr::memchr2(b'"', b'\\', &b[i..]) {
        match b[i + j] {
            b'"' => return i + j,
            _ => i += j + 2,
        }
        if i >= b.len() {
            break;
        }
    }
    usize::MAX
}

/// Follow runs of NUL bytes through `part` (which starts at byte `offset`);
/// where a run that reached [`MAX_NUL_RUN`] started.
fn nul_run(run: &mut u64, from: &mut u64, offset: u64, part: &[u8]) -> Option<u64> {
    // The common case: no NUL at all, and any run is over.
    if !part.is_empty() && memchr::memchr(0, part).is_none() {
        *run = 0;
        return None;
    }
    let mut i = 0;
    while i < part.len() {
        let zeros = part[i..]
            .iter()
            .position(|&b| b != 0)
            .unwrap_or(part.len() - i);
        if zeros > 0 {
            if *run == 0 {
                *from = offset + i as u64;
            }
            *run += zeros as u64;
            if *run >= MAX_NUL_RUN {
                return Some(*from);
            }
            i += zeros;
        }
        if i < part.len() {
            *run = 0;
            i += part[i..]
                .iter()
                .position(|&b| b == 0)
                .unwrap_or(part.len() - i);
        }
    }
    None
}

impl<R: BufRead> Iterator for Reader<R> {
    type Item = Line;

    fn next(&mut self) -> Option<Line> {
        while !self.done {
            let raw = match self.read_line(true) {
                Ok(raw) => raw,
                Err(e) => {
                    self.done = true;
                    return Some(Line::Stopped(format!(
                        "line {}: cannot read: {e}; reading stopped",
                        self.line + 1
                    )));
                }
            };
            let n = self.line;
            let complete = match raw {
                Raw::Eof => {
                    self.done = true;
                    return None;
                }
                Raw::Nul { at } => {
                    self.done = true;
                    return Some(Line::Stopped(format!(
                        "line {n}: {} MiB of NUL bytes in a row from byte {at} (a sparse or \
                         zero-filled file?): not a recording from here on; reading stopped",
                        MAX_NUL_RUN >> 20
                    )));
                }
                Raw::TooLong { len } => {
                    let said = format!(
                        "line {n}: {len} bytes long, over the {} MiB a line may be; skipped",
                        MAX_LINE >> 20
                    );
                    match self.bad(Some(said)) {
                        Some(line) => return Some(line),
                        None => continue,
                    }
                }
                Raw::Text { complete } => complete,
            };
            // Valid UTF-8 (as roomtap writes) is checked fast; anything
            // else is read lossily.
            let text = match std::str::from_utf8(&self.buf) {
                Ok(t) => std::borrow::Cow::Borrowed(t),
                Err(_) => String::from_utf8_lossy(&self.buf),
            };
            let text = text.trim_end();
            if text.is_empty() {
                // Said by nobody, but counted: a file of newlines is no
                // recording either.
                match self.bad(None) {
                    Some(line) => return Some(line),
                    None => continue,
                }
            }
            if self.export.is_some() {
                let said = match self.export_event(text) {
                    Ok(ev) => {
                        self.bad_run = 0;
                        return Some(Line::Event(ev));
                    }
                    Err(_) if !complete => format!(
                        "line {n}: the last line is cut off ({} bytes); skipped",
                        self.buf.len()
                    ),
                    Err(e) => format!("line {n}: not an exported entry ({e}); skipped"),
                };
                if let Some(line) = self.bad(Some(said)) {
                    return Some(line);
                }
                continue;
            }
            if text.starts_with("{\"roomtap_recording\"") {
                // A later session appended to the same file: its sources must
                // match to be replayed into the same panes.
                match serde_json::from_str::<Header>(text) {
                    Ok(h) if h.sources == self.header.sources => {
                        self.bad_run = 0;
                        continue;
                    }
                    _ => {
                        self.done = true;
                        return Some(Line::Warning(format!(
                            "line {n}: another session with other sources starts here; the rest is skipped"
                        )));
                    }
                }
            }
            if complete && self.needs.as_ref().is_some_and(|n| !may_keep(n, text)) {
                self.skipped += 1;
                self.bad_run = 0;
                continue;
            }
            let said = match serde_json::from_str::<SourceEvent>(text) {
                Ok(ev) if usize::from(ev.source) < self.header.sources.len() => {
                    self.bad_run = 0;
                    return Some(Line::Event(ev));
                }
                Ok(ev) => format!(
                    "line {n}: an event for source {} that the header does not name; skipped",
                    ev.source
                ),
                Err(_) if !complete => format!(
                    "line {n}: the last line is cut off ({} bytes; roomtap was stopped while writing); skipped",
                    self.buf.len()
                ),
                Err(e) => format!("line {n}: not an event ({e}); skipped"),
            };
            if let Some(line) = self.bad(Some(said)) {
                return Some(line);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{EventKind, Level, LogRecord};

    /// Whatever the query, a line the narrowed reader skips holds no entry
    /// the query keeps: thousands of entries with quotes, backslashes,
    /// escapes, non-ASCII and nested JSON in every field, written as the
    /// recorder writes them, against queries of every shape.
    #[test]
    fn a_narrowed_reader_never_skips_what_the_query_keeps() {
        let mut rng = fastrand::Rng::with_seed(21);
        let words = [
            "timeout",
            "time-out",
            "Time\\Out",
            "say \"hi\"",
            "café",
            "naïve",
            "a\nb",
            "x/y",
            "{\"k\":1}",
            "indexer",
            "room",
            "WARN",
            "ünï",
            "tab\there",
            "\\u0041",
            "42",
            "-7.5",
            "bell\u{7}",
            "bidi\u{202e}x",
            "…",
        ];
        let pick = |rng: &mut fastrand::Rng| words[rng.usize(..words.len())].to_string();
        // Matched as `tail` matches: the entry the store made of it (its
        // summary sanitized and cut, its kind too).
        let mut store = crate::store::Store::new(&Default::default());
        store.add_source("relay", crate::source::SourceKind::RECORDED, "x");
        let levels = [
            Level::Trace,
            Level::Debug,
            Level::Info,
            Level::Warn,
            Level::Error,
        ];
        let queries = [
            "timeout",
            "time.?out",
            "/time.?out/",
            "level>=warn and data.msg~/time.?out/",
            "data.msg=\"say \\\"hi\\\"\"",
            "data.msg~café or kind=indexer",
            "summary~naïve",
            "kind~x/y and level<info",
            "\"a\\nb\"",
            "data.n>10",
            "not timeout",
            "data.k=1",
            "data~\\\\u0041",
            "ünï",
            "tab",
            "level=debug",
            "data.msg~/^say/",
            "more",
            "bytes",
            "␇",
            "…",
        ];
        let queries: Vec<crate::query::Query> = queries
            .iter()
            .map(|q| {
                crate::query::Query::parse(q, rng.bool()).unwrap_or_else(|e| panic!("{q}: {e}"))
            })
            .collect();
        let mut kept = 0;
        let mut skipped = 0;
        for i in 0..3000 {
            let data = match i % 4 {
                0 => None,
                1 => Some(
                    serde_json::json!({"msg": pick(&mut rng), "n": rng.i32(-20..40)}).to_string(),
                ),
                2 => Some(
                    serde_json::json!({"msg": pick(&mut rng), "k": [pick(&mut rng)]}).to_string(),
                ),
                _ => Some(pick(&mut rng)),
            };
            // Now and then a kind or a summary the store cuts.
            let long = |rng: &mut fastrand::Rng, n: usize| match rng.usize(..20) {
                0 => "z".repeat(n),
                _ => String::new(),
            };
            let rec = LogRecord {
                level: levels[rng.usize(..5)],
                kind: format!("{}{}", pick(&mut rng), long(&mut rng, 130)),
                summary: format!(
                    "{} {}{}",
                    pick(&mut rng),
                    pick(&mut rng),
                    long(&mut rng, 1100)
                ),
                data,
                bytes: None,
            };
            let ev = SourceEvent {
                source: 0,
                at_ms: 1_795_000_000_000 + i,
                kind: EventKind::Log(rec.clone()),
            };
            let line = serde_json::to_string(&ev).unwrap();
            store.apply(ev);
            let logs = &store.logs;
            let entry = logs.by_seq(logs.next_seq() - 1).expect("the entry");
            for q in &queries {
                let needs = q.needs(&["relay"]);
                let keeps = q.matches(&logs.record(&entry));
                let may = may_keep(&needs, &line);
                assert!(
                    may || !keeps,
                    "{:?} keeps an entry its needs rule out:\n{line}",
                    q.source
                );
                if may {
                    kept += 1;
                } else {
                    skipped += 1;
                }
            }
        }
        // And the needs do rule lines out.
        assert!(skipped > kept / 4, "skipped {skipped}, kept {kept}");
    }

    /// Narrowed: the lines it skips are counted; what it gives is what the
    /// query keeps, plus every line it cannot rule out.
    #[test]
    fn a_narrowed_reader_skips_and_counts() {
        let mut text = String::from(
            r#"{"roomtap_recording":1,"version":"0","started_ms":0,"sources":[{"label":"room","kind":"room","url":"x"}]}"#,
        );
        text.push('\n');
        for (i, (level, summary)) in [
            (Level::Info, "fine"),
            (Level::Warn, "timed out"),
            (Level::Warn, "a timeout"),
            (Level::Error, "broken"),
        ]
        .into_iter()
        .enumerate()
        {
            let ev = SourceEvent {
                source: 0,
                at_ms: i as u64,
                kind: EventKind::Log(LogRecord {
                    level,
                    kind: "k".into(),
                    summary: summary.into(),
                    data: None,
                    bytes: None,
                }),
            };
            text.push_str(&serde_json::to_string(&ev).unwrap());
            text.push('\n');
        }
        let mut r = Reader::new(text.as_bytes(), "t").unwrap();
        r.narrow(&crate::query::Query::parse("level>=warn and timeout", false).unwrap());
        let got: Vec<String> = (&mut r)
            .filter_map(|l| match l {
                Line::Event(SourceEvent {
                    kind: EventKind::Log(l),
                    ..
                }) => Some(l.summary),
                _ => None,
            })
            .collect();
        // The error comes whatever the filter (tail shows it on stderr).
        assert_eq!(got, ["a timeout", "broken"]);
        assert_eq!(r.skipped, 2);
    }

    #[test]
    fn truncated_and_corrupt_lines_are_skipped_and_said() {
        let (head, line, ev) = head_and_line();
        let bad_source = line.replacen("\"source\":0", "\"source\":9", 1);
        let text = format!(
            "{head}\n{line}\nnot json\n{bad_source}\n{line}\n{}",
            &line[..20]
        );
        let r = read_from(text.as_bytes(), "t").unwrap();
        assert_eq!(r.events, vec![ev.clone(), ev]);
        assert_eq!(r.warnings.len(), 3, "{:?}", r.warnings);
        assert!(r.warnings[2].contains("cut off"));
        assert!(r.stopped.is_none());
        assert!(read_from("hello\n".as_bytes(), "t").is_err());
    }

    fn head_and_line() -> (String, String, SourceEvent) {
        let mut store = Store::new(&Default::default());
        store.add_source(
            "room",
            crate::source::SourceKind::RECORDED,
            "ws://h/rooms/r",
        );
        let head = serde_json::to_string(&Header::of(&store)).unwrap();
        let ev = SourceEvent {
            source: 0,
            at_ms: 5,
            kind: EventKind::Log(LogRecord {
                level: Level::Info,
                kind: "k".into(),
                summary: "hello".into(),
                data: None,
                bytes: None,
            }),
        };
        let line = serde_json::to_string(&ev).unwrap();
        (head, line, ev)
    }

    /// A reader that gives its bytes in chunks of at most `n` (as a file's
    /// `BufReader` does) and counts what it gave.
    struct Chunks<'a> {
        data: &'a [u8],
        n: usize,
    }

    impl std::io::Read for Chunks<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let k = out.len().min(self.n).min(self.data.len());
            out[..k].copy_from_slice(&self.data[..k]);
            self.data = &self.data[k..];
            Ok(k)
        }
    }

    #[test]
    fn a_line_over_the_cap_is_skipped_without_being_held() {
        let (head, line, ev) = head_and_line();
        let long = format!("{{\"x\":\"{}\"}}", "a".repeat(MAX_LINE + 10));
        let text = format!("{head}\n{line}\n{long}\n{line}\n{long}");
        fn lines(r: impl BufRead) -> Vec<Line> {
            let mut reader = Reader::new(r, "t").unwrap();
            let mut got = Vec::new();
            while let Some(l) = reader.next() {
                assert!(reader.buf.capacity() <= MAX_LINE + 1, "held too much");
                got.push(l);
            }
            got
        }
        let said = |n: usize| {
            Line::Warning(format!(
                "line {n}: {} bytes long, over the 16 MiB a line may be; skipped",
                long.len()
            ))
        };
        let want = vec![
            Line::Event(ev.clone()),
            said(3),
            Line::Event(ev.clone()),
            said(5),
        ];
        assert_eq!(lines(text.as_bytes()), want, "one slice");
        let chunks = Chunks {
            data: text.as_bytes(),
            n: 1 << 16,
        };
        assert_eq!(
            lines(std::io::BufReader::with_capacity(1 << 16, chunks)),
            want,
            "64 KiB reads"
        );
        // A first line that long is no header: refused without reading on.
        let endless = std::io::Read::chain(long.as_bytes(), std::io::repeat(b'a'));
        let e = Reader::new(std::io::BufReader::new(endless), "t").err();
        assert_eq!(
            e.as_deref(),
            Some("t is not a roomtap recording (no header line)")
        );
        // At the cap exactly, a line is read.
        let pad = MAX_LINE - line.len();
        let at_cap = line.replacen("\"hello\"", &format!("\"hello{}\"", " ".repeat(pad)), 1);
        assert_eq!(at_cap.len(), MAX_LINE);
        let r = read_from(format!("{head}\n{at_cap}\n").as_bytes(), "t").unwrap();
        assert_eq!(
            (r.events.len(), r.warnings.len()),
            (1, 0),
            "{:?}",
            r.warnings
        );
    }

    #[test]
    fn a_run_of_nul_bytes_stops_reading_and_a_short_one_is_a_bad_line() {
        let (head, line, ev) = head_and_line();
        // A crash can leave a block of NULs: a bad line, the rest loads.
        let mut text = format!("{head}\n{line}\n").into_bytes();
        text.extend(std::iter::repeat_n(0u8, 4096));
        text.extend(format!("\n{line}\n").bytes());
        let r = read_from(&text[..], "t").unwrap();
        assert_eq!(r.events, vec![ev.clone(), ev.clone()]);
        assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
        assert!(r.stopped.is_none());
        // The rest of a sparse file: reading stops after MAX_NUL_RUN bytes,
        // whatever comes after.
        let mut text = format!("{head}\n{line}\n{line}").into_bytes();
        let from = text.len();
        text.extend(std::iter::repeat_n(0u8, MAX_NUL_RUN as usize));
        text.extend(format!("\n{line}\n").bytes());
        for chunk in [usize::MAX, 8192, 1000] {
            let r = std::io::BufReader::new(Chunks {
                data: &text,
                n: chunk,
            });
            let r = collect(Reader::new(r, "t").unwrap()).unwrap();
            assert_eq!(r.events, vec![ev.clone()], "{chunk}");
            let why = r.stopped.expect("stopped");
            assert!(
                why.starts_with(&format!(
                    "line 3: 1 MiB of NUL bytes in a row from byte {from} "
                )),
                "{why}"
            );
        }
    }

    #[test]
    fn too_many_bad_lines_in_a_row_stop_reading_a_few_do_not() {
        let (head, line, ev) = head_and_line();
        let junk = "not json\n".repeat(MAX_BAD_RUN);
        let blank = "\n".repeat(MAX_BAD_RUN);
        // Up to MAX_BAD_RUN in a row, then an event: all read.
        let r = read_from(
            format!("{head}\n{junk}{line}\n{blank}{line}\n").as_bytes(),
            "t",
        )
        .unwrap();
        assert_eq!(r.events, vec![ev.clone(), ev.clone()]);
        assert_eq!(r.warnings.len(), MAX_BAD_RUN);
        assert!(r.stopped.is_none());
        // One more: reading stops there.
        for more in ["not json\n", "\n"] {
            let text = format!("{head}\n{line}\n{junk}{more}{line}\n");
            let r = read_from(text.as_bytes(), "t").unwrap();
            assert_eq!(r.events, vec![ev.clone()]);
            let why = r.stopped.expect("stopped");
            assert!(
                why.starts_with("line 1003: more than 1000 lines in a row are not events"),
                "{why}"
            );
        }
    }

    #[test]
    fn only_a_regular_file_is_read() {
        let dir = std::env::temp_dir().join(format!("roomtap-rec-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let (head, line, _) = head_and_line();
        let good = dir.join("good.jsonl");
        std::fs::write(&good, format!("{head}\n{line}\n")).unwrap();
        let zero = dir.join("zero.jsonl");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        let link = dir.join("link.jsonl");
        std::os::unix::fs::symlink(&good, &link).unwrap();
        let fifo = dir.join("fifo.jsonl");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        for (p, what) in [
            (&zero, "a character device"),
            (&fifo, "a FIFO"),
            (&dir, "a directory"),
        ] {
            let e = open(p).err().expect("refused");
            assert_eq!(
                e,
                format!(
                    "{} is not a regular file ({what}): a recording is one",
                    p.display()
                )
            );
        }
        assert_eq!(read(&good).unwrap().events.len(), 1);
        assert_eq!(read(&link).unwrap().events.len(), 1);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
