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

/// Longest kind kept (a remote one: it names a type, not a story).
pub const KIND_CAP: usize = 120;

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
    /// Bytes the entry is about, as they came (shown as hex + ASCII).
    pub bytes: Option<std::sync::Arc<[u8]>>,
}

/// An entry ready to push ([`Logs::prepare`]).
pub struct Prepared {
    summary: Box<str>,
    kind: Cow<'static, str>,
    data: Option<std::sync::Arc<str>>,
    bytes: Option<std::sync::Arc<[u8]>>,
    size: usize,
}

impl Prepared {
    /// What its own allocations cost.
    pub fn size(&self) -> usize {
        self.size
    }

    /// The same entry, about `bytes` too.
    pub fn with_bytes(mut self, bytes: Option<Vec<u8>>) -> Prepared {
        if let Some(b) = bytes {
            self.size += super::heap::alloc(16 + b.len());
            self.bytes = Some(b.into());
        }
        self
    }
}

#[derive(Debug)]
pub struct Logs {
    entries: VecDeque<LogEntry>,
    cap: usize,
    /// Most bytes kept, as the allocator hands them out (see [`Logs::bytes`]).
    max_bytes: usize,
    /// What the entries' own allocations cost (texts and data).
    heap: usize,
    /// Bytes held beside the logs under the same budget (the timeline's):
    /// the buffer grows only when it fits beside them.
    others: usize,
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
            // Grown as entries come: an empty buffer costs nothing.
            entries: VecDeque::new(),
            cap: cap.max(1),
            max_bytes,
            heap: 0,
            others: 0,
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
        let p = Self::prepare(kind, summary, data);
        self.push_prepared(at_ms, source, level, p);
    }

    /// An entry's texts as they will be kept, and what they cost, before
    /// it is pushed.
    pub fn prepare(
        kind: impl Into<Cow<'static, str>>,
        summary: impl Into<String>,
        data: Option<std::sync::Arc<str>>,
    ) -> Prepared {
        let summary: String = summary.into();
        // Reuse the caller's buffer when it is already clean and short.
        let summary: Box<str> = match sanitize_capped(&summary, SUMMARY_CAP) {
            Cow::Borrowed(_) => summary.into_boxed_str(),
            Cow::Owned(clean) => clean.into_boxed_str(),
        };
        // A kind of roomtap's own is a static text; one from the wire (a
        // room's event type, a Leap event name) is sanitised like the summary.
        let kind: Cow<'static, str> = match kind.into() {
            Cow::Borrowed(k) => Cow::Borrowed(k),
            Cow::Owned(k) => match sanitize_capped(&k, KIND_CAP) {
                Cow::Borrowed(_) => Cow::Owned(k),
                Cow::Owned(clean) => Cow::Owned(clean),
            },
        };
        let size = entry_heap(&summary, &kind, data.as_deref());
        Prepared {
            summary,
            kind,
            data,
            bytes: None,
            size,
        }
    }

    pub fn push_prepared(&mut self, at_ms: u64, source: SourceId, level: Level, p: Prepared) {
        let Prepared {
            summary,
            kind,
            data,
            bytes,
            size,
        } = p;
        loop {
            let full = self.entries.len() >= self.cap;
            let after = self.heap + size + self.buffers(1);
            let grows = self.entries.len() == self.entries.capacity();
            let fits = after <= self.max_bytes && (!grows || self.others + after <= self.max_bytes);
            if self.entries.is_empty() || (!full && fits) {
                break;
            }
            self.evict_front();
        }
        self.heap += size;
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
            bytes,
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

    /// Bytes held, as the allocator counts them: each entry's texts and
    /// data rounded to their size classes with the per-block overhead
    /// ([`super::heap`]), plus the buffers of entries and filter matches
    /// at their capacity (spare room included).
    pub fn bytes(&self) -> usize {
        self.heap + self.buffers(0)
    }

    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// What else the byte budget holds (the store shares it between the
    /// logs and the timeline, and evicts the oldest of both when over): the
    /// entries' buffer grows only if it fits beside that.
    pub fn set_others(&mut self, bytes: usize) {
        self.others = bytes;
    }

    /// When the oldest entry arrived.
    pub fn oldest_ms(&self) -> Option<u64> {
        self.entries.front().map(|e| e.at_ms)
    }

    /// Drop the oldest entry (counted as evicted); false when empty.
    pub fn evict_front(&mut self) -> bool {
        let Some(old) = self.entries.pop_front() else {
            return false;
        };
        self.evicted += 1;
        self.heap -= entry_heap(&old.summary, &old.kind, old.data.as_deref())
            + old
                .bytes
                .as_ref()
                .map_or(0, |b| super::heap::alloc(16 + b.len()));
        if self.matches.front() == Some(&old.seq) {
            self.matches.pop_front();
        }
        true
    }

    /// What the next push adds for growing the entries' buffer, if it
    /// must grow (0 if not): while it grows, the old and the new are held.
    pub fn growth_cost(&self) -> usize {
        self.buffers(1) - self.buffers(0)
    }

    /// What the buffers cost with `more` entries pushed: a full buffer
    /// grows (to twice its capacity, as `VecDeque` does), and while it does
    /// the old and the new buffer are both held.
    fn buffers(&self, more: usize) -> usize {
        use super::heap::buffer;
        let (len, cap) = (self.entries.len(), self.entries.capacity());
        let entries = if len + more > cap {
            buffer::<LogEntry>(cap) + buffer::<LogEntry>((cap * 2).max(len + more).max(4))
        } else {
            buffer::<LogEntry>(cap)
        };
        let matches = if self.filter.is_some() {
            let (len, cap) = (self.matches.len(), self.matches.capacity());
            let grown = if len + more > cap {
                (cap * 2).max(4)
            } else {
                0
            };
            buffer::<u64>(cap) + buffer::<u64>(grown)
        } else {
            buffer::<u64>(self.matches.capacity())
        };
        entries + matches
    }
}

/// What an entry's own allocations cost: its texts (a static kind costs
/// nothing) and its data (shared with the timeline for an action, counted
/// in both: the bound holds either way).
// The kind's Cow tells a static kind from an owned one.
#[allow(clippy::ptr_arg)]
fn entry_heap(summary: &str, kind: &Cow<'static, str>, data: Option<&str>) -> usize {
    use super::heap::{alloc, arc_str, boxed_str};
    let kind = match kind {
        Cow::Borrowed(_) => 0,
        Cow::Owned(k) => alloc(k.capacity()),
    };
    boxed_str(summary) + kind + data.map_or(0, arc_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_remote_kind_is_sanitised_like_the_summary() {
        let mut l = Logs::with_limits(10, 1 << 20);
        l.push(
            0,
            0,
            Level::Info,
            "evil\x1b[2Jtype\u{2028}".to_string(),
            "s",
            None,
        );
        l.push(0, 0, Level::Info, "x".repeat(500), "s", None);
        let kinds: Vec<String> = (0..2)
            .map(|i| l.view_get(i).unwrap().kind.to_string())
            .collect();
        assert!(
            !kinds[0].contains('\x1b') && !kinds[0].contains('\u{2028}'),
            "{:?}",
            kinds[0]
        );
        assert!(kinds[1].len() < 200, "capped: {} bytes", kinds[1].len());
    }

    #[test]
    fn bounded_by_bytes_too() {
        // 4 entries of a 100-byte summary: the texts at their size class
        // (112 bytes), the buffer of 4 entries, nothing for growing.
        let max = 4 * super::super::heap::alloc(100) + super::super::heap::buffer::<LogEntry>(4);
        let mut l = Logs::with_limits(1000, max);
        for i in 0..10 {
            l.push(0, 0, Level::Info, "k", format!("{i:0>100}"), None);
            assert!(
                l.bytes() <= l.max_bytes(),
                "{} > {}",
                l.bytes(),
                l.max_bytes()
            );
        }
        assert_eq!(l.len(), 4);
        assert_eq!(l.evicted(), 6);
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

    #[test]
    fn counted_bytes_stay_within_the_bound_while_filling() {
        // Summaries and data of many sizes, a filter (its index counts
        // too), an owned kind now and then: after every push the count,
        // spare capacity included, is within the bound.
        for max in [10_000, 100_000, 1 << 20] {
            let mut l = Logs::with_limits(usize::MAX, max);
            l.set_filter(Some("a")).unwrap();
            let mut seed = 7u64;
            for i in 0..20_000u64 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let n = (seed % 300) as usize;
                let data = (i % 3 == 0).then(|| std::sync::Arc::from("d".repeat(n * 2)));
                let kind: Cow<'static, str> = if i % 5 == 0 {
                    Cow::Owned(format!("kind{i}"))
                } else {
                    Cow::Borrowed("k")
                };
                l.push(0, 0, Level::Info, kind, "a".repeat(n), data);
                assert!(l.bytes() <= max, "{} > {max} after {i}", l.bytes());
            }
            assert!(l.evicted() > 0);
            // The bound is used, not just respected.
            assert!(l.bytes() > max / 2, "{} of {max}", l.bytes());
        }
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
