//! The log buffer: one line per event from every source, bounded, with an
//! incrementally maintained filter index (new entries are tested once, on
//! arrival; the whole buffer is scanned only when the filter changes).

use std::borrow::Cow;
use std::collections::VecDeque;

use crate::event::{Level, SourceId};
use crate::query::{ParseError, Query, Record};
use crate::text::sanitize_capped;

/// Longest summary kept per entry (the full data stays in `data`).
pub const SUMMARY_CAP: usize = 1024;

#[derive(Debug, Clone, PartialEq)]
pub struct LogEntry {
    pub seq: u64,
    pub at_ms: u64,
    pub source: SourceId,
    pub level: Level,
    pub kind: Cow<'static, str>,
    /// Sanitized one-line summary.
    pub summary: Box<str>,
    /// Raw JSON payload, parsed only when viewed.
    pub data: Option<std::sync::Arc<str>>,
}

#[derive(Debug)]
pub struct Logs {
    entries: VecDeque<LogEntry>,
    cap: usize,
    /// Most bytes kept (summaries, kinds, data, per-entry overhead).
    max_bytes: usize,
    bytes: usize,
    next_seq: u64,
    evicted: u64,
    filter: Option<Query>,
    /// Sequence numbers of entries matching `filter` (ascending).
    matches: VecDeque<u64>,
    /// Source labels, by source id (for `source=` predicates).
    labels: Vec<Box<str>>,
}

/// A log entry as the query language sees it.
pub struct EntryRecord<'a> {
    pub entry: &'a LogEntry,
    pub labels: &'a [Box<str>],
}

impl Record for EntryRecord<'_> {
    fn source(&self) -> &str {
        self.labels
            .get(usize::from(self.entry.source))
            .map_or("", |l| l)
    }
    fn kind(&self) -> &str {
        &self.entry.kind
    }
    fn level(&self) -> Option<Level> {
        Some(self.entry.level)
    }
    fn summary(&self) -> &str {
        &self.entry.summary
    }
    fn data(&self) -> Option<&str> {
        self.entry.data.as_deref()
    }
}

/// Entries a full rescan handles per thread (smaller scans stay on one).
const PARALLEL_CHUNK: usize = 64 * 1024;

/// Sequence numbers of the entries of `slice` matching `q`, in order;
/// split over the machine's cores when the slice is large.
fn scan(slice: &[LogEntry], q: &Query, labels: &[Box<str>], out: &mut VecDeque<u64>) {
    let hit = |e: &LogEntry| q.matches(&EntryRecord { entry: e, labels });
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(slice.len() / PARALLEL_CHUNK)
        .max(1);
    if threads == 1 {
        out.extend(slice.iter().filter(|e| hit(e)).map(|e| e.seq));
        return;
    }
    let per = slice.len().div_ceil(threads);
    let parts: Vec<Vec<u64>> = std::thread::scope(|sc| {
        let handles: Vec<_> = slice
            .chunks(per)
            .map(|c| sc.spawn(move || c.iter().filter(|e| hit(e)).map(|e| e.seq).collect()))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    for p in parts {
        out.extend(p);
    }
}

impl Logs {
    pub fn new(cap: usize) -> Self {
        Self::with_limits(cap, usize::MAX)
    }

    /// Bounded by entries and by bytes, whichever is reached first.
    pub fn with_limits(cap: usize, max_bytes: usize) -> Self {
        Self {
            entries: VecDeque::with_capacity(cap.min(4096)),
            cap: cap.max(1),
            max_bytes,
            bytes: 0,
            next_seq: 0,
            evicted: 0,
            filter: None,
            matches: VecDeque::new(),
            labels: Vec::new(),
        }
    }

    /// An entry as the query language sees it (with its source label).
    pub fn record<'a>(&'a self, entry: &'a LogEntry) -> EntryRecord<'a> {
        EntryRecord {
            entry,
            labels: &self.labels,
        }
    }

    /// Source labels by id, for `source=` predicates.
    pub fn set_labels(&mut self, labels: Vec<Box<str>>) {
        self.labels = labels;
    }

    pub fn push(
        &mut self,
        at_ms: u64,
        source: SourceId,
        level: Level,
        kind: impl Into<Cow<'static, str>>,
        summary: impl Into<String>,
        data: Option<std::sync::Arc<str>>,
    ) {
        let summary: String = summary.into();
        // Reuse the caller's buffer when it is already clean and short.
        let summary: Box<str> = match sanitize_capped(&summary, SUMMARY_CAP) {
            Cow::Borrowed(_) => summary.into_boxed_str(),
            Cow::Owned(clean) => clean.into_boxed_str(),
        };
        let kind: Cow<'static, str> = kind.into();
        let size = entry_bytes(&summary, &LogKind(&kind), data.as_deref());
        while self.entries.len() >= self.cap
            || (self.bytes + size > self.max_bytes && !self.entries.is_empty())
        {
            let Some(old) = self.entries.pop_front() else {
                break;
            };
            self.evicted += 1;
            self.bytes -= entry_bytes(&old.summary, &LogKind(&old.kind), old.data.as_deref());
            if self.matches.front() == Some(&old.seq) {
                self.matches.pop_front();
            }
        }
        self.bytes += size;
        let seq = self.next_seq;
        self.next_seq += 1;
        let e = LogEntry {
            seq,
            at_ms,
            source,
            level,
            kind,
            summary,
            data,
        };
        if let Some(q) = &self.filter
            && q.matches(&EntryRecord {
                entry: &e,
                labels: &self.labels,
            })
        {
            self.matches.push_back(seq);
        }
        self.entries.push_back(e);
    }

    /// Set (or clear, with `None` or blank text) the filter from query
    /// text, ignoring case. A bad query changes nothing and says why.
    pub fn set_filter(&mut self, filter: Option<&str>) -> Result<(), ParseError> {
        match filter.filter(|f| !f.trim().is_empty()) {
            None => self.set_query(None),
            Some(f) => self.set_query(Some(Query::parse(f, false)?)),
        }
        Ok(())
    }

    /// Set (or clear) the filter. The whole buffer is scanned only here;
    /// entries arriving later are tested once, on arrival.
    pub fn set_query(&mut self, q: Option<Query>) {
        if let (Some(a), Some(b)) = (&q, &self.filter)
            && a.source == b.source
            && a.case_sensitive == b.case_sensitive
        {
            return;
        }
        if q.is_none() && self.filter.is_none() {
            return;
        }
        self.filter = q;
        self.matches.clear();
        if let Some(q) = &self.filter {
            let (a, b) = self.entries.as_slices();
            scan(a, q, &self.labels, &mut self.matches);
            scan(b, q, &self.labels, &mut self.matches);
        }
    }

    /// The filter's text.
    pub fn filter(&self) -> Option<&str> {
        self.filter.as_ref().map(|q| q.source.as_str())
    }

    pub fn query(&self) -> Option<&Query> {
        self.filter.as_ref()
    }

    /// Entries in view (all, or the filtered ones).
    pub fn view_len(&self) -> usize {
        if self.filter.is_some() {
            self.matches.len()
        } else {
            self.entries.len()
        }
    }

    /// The `i`-th entry of the view.
    pub fn view_get(&self, i: usize) -> Option<&LogEntry> {
        if self.filter.is_some() {
            let seq = *self.matches.get(i)?;
            self.by_seq(seq)
        } else {
            self.entries.get(i)
        }
    }

    /// How many entries of the view have a sequence number ≥ `seq`
    /// (binary search: the view is ordered by sequence number).
    pub fn view_count_since(&self, seq: u64) -> usize {
        let len = self.view_len();
        let (mut lo, mut hi) = (0usize, len);
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.view_get(mid) {
                Some(e) if e.seq < seq => lo = mid + 1,
                _ => hi = mid,
            }
        }
        len - lo
    }

    pub fn by_seq(&self, seq: u64) -> Option<&LogEntry> {
        let first = self.entries.front()?.seq;
        self.entries.get(seq.checked_sub(first)? as usize)
    }

    /// Total entries stored (unfiltered).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entries dropped because the buffer was full.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// Sequence number the next entry will get (counts every entry ever).
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    pub fn cap(&self) -> usize {
        self.cap
    }

    /// Bytes held by the entries (approximate: text plus per-entry size).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }
}

/// What an entry costs: its texts (a static kind costs nothing) and the
/// entry itself.
fn entry_bytes(summary: &str, kind: &LogKind, data: Option<&str>) -> usize {
    let kind = match &kind.0 {
        Cow::Borrowed(_) => 0,
        Cow::Owned(k) => k.len(),
    };
    std::mem::size_of::<LogEntry>() + summary.len() + kind + data.map_or(0, str::len)
}

/// A kind as stored (borrowed kinds are static and cost nothing).
struct LogKind<'a>(&'a Cow<'static, str>);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_by_bytes_too() {
        let mut l = Logs::with_limits(1000, 4 * (std::mem::size_of::<LogEntry>() + 100));
        for i in 0..10 {
            l.push(0, 0, Level::Info, "k", format!("{i:0>100}"), None);
        }
        assert_eq!(l.len(), 4);
        assert_eq!(l.evicted(), 6);
        assert!(l.bytes() <= l.max_bytes());
        // One entry bigger than the whole budget is still kept (alone).
        l.push(
            0,
            0,
            Level::Info,
            "k",
            "x".repeat(SUMMARY_CAP),
            Some("y".repeat(10_000).into()),
        );
        assert_eq!(l.len(), 1);
        assert_eq!(l.evicted(), 10);
    }

    fn push(l: &mut Logs, s: &str) {
        l.push(0, 0, Level::Info, "k", s, None);
    }

    #[test]
    fn bounded_and_counts_evictions() {
        let mut l = Logs::new(3);
        for i in 0..5 {
            push(&mut l, &format!("m{i}"));
        }
        assert_eq!(l.len(), 3);
        assert_eq!(l.evicted(), 2);
        assert_eq!(&*l.view_get(0).unwrap().summary, "m2");
        assert_eq!(l.by_seq(4).unwrap().summary.as_ref(), "m4");
        assert!(l.by_seq(1).is_none());
    }

    #[test]
    fn filter_is_incremental_and_survives_eviction() {
        let mut l = Logs::new(4);
        push(&mut l, "alpha");
        push(&mut l, "beta");
        l.set_filter(Some("ALP")).unwrap();
        assert_eq!(l.view_len(), 1);
        push(&mut l, "alpine");
        push(&mut l, "gamma");
        assert_eq!(l.view_len(), 2);
        push(&mut l, "delta"); // evicts "alpha"
        assert_eq!(l.view_len(), 1);
        assert_eq!(&*l.view_get(0).unwrap().summary, "alpine");
        assert_eq!(l.view_count_since(2), 1);
        assert_eq!(l.view_count_since(3), 0);
        l.set_filter(None).unwrap();
        assert_eq!(l.view_len(), 4);
        assert_eq!(l.view_count_since(3), 2);
    }

    #[test]
    fn summaries_are_sanitized_on_ingest() {
        let mut l = Logs::new(2);
        push(&mut l, "x\u{1b}]0;pwned\u{7}y");
        assert!(!l.view_get(0).unwrap().summary.contains('\u{1b}'));
    }
}
