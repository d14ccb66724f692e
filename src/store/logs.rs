//! The log buffer: one line per event from every source, bounded, with an
//! incrementally maintained filter index (new entries are tested once, on
//! arrival; the whole buffer is scanned only when the filter changes).

use std::borrow::Cow;
use std::collections::VecDeque;

use crate::event::{Level, SourceId};
use crate::query::{ParseError, Query, Record};
use crate::text::sanitize_capped;

use super::sealed::Sealed;

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
    /// The newest entries, whole.
    hot: VecDeque<LogEntry>,
    /// Older entries, compact ([`super::sealed`]).
    sealed: Sealed,
    /// Hot entries past which the oldest are sealed (0: never).
    seal_at: usize,
    cap: usize,
    /// Most bytes kept, as the allocator hands them out (see [`Logs::bytes`]).
    max_bytes: usize,
    /// What the hot entries' own allocations cost (texts and data).
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

/// The view's entries over time: bars of equal time, each with its
/// entries' counts by level and its first entry (to jump to).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Histogram {
    /// Start of the first bar, and each bar's length (ms).
    pub t0: u64,
    pub dt: u64,
    pub bars: Vec<HistBar>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct HistBar {
    /// Entries by level (`Level as usize`: trace, debug, info, warn, error).
    pub counts: [u32; 5],
    /// Its first entry's sequence number.
    pub first: Option<u64>,
}

impl HistBar {
    pub fn total(&self) -> u64 {
        self.counts.iter().map(|&c| u64::from(c)).sum()
    }

    /// The most severe level it holds.
    pub fn worst(&self) -> Option<Level> {
        const LEVELS: [Level; 5] = [
            Level::Trace,
            Level::Debug,
            Level::Info,
            Level::Warn,
            Level::Error,
        ];
        (0..5)
            .rev()
            .find(|&i| self.counts[i] > 0)
            .map(|i| LEVELS[i])
    }
}

/// A bar's length: the span over the bars, rounded up to a readable one.
fn bar_length(span: u64, bars: u64) -> u64 {
    const NICE: [u64; 24] = [
        1, 2, 5, 10, 20, 50, 100, 200, 250, 500, 1_000, 2_000, 5_000, 10_000, 15_000, 30_000,
        60_000, 120_000, 300_000, 600_000, 1_800_000, 3_600_000, 10_800_000, 21_600_000,
    ];
    let want = span.div_ceil(bars.max(1)).max(1);
    NICE.iter()
        .copied()
        .find(|&n| n >= want)
        .unwrap_or_else(|| want.next_multiple_of(86_400_000))
}

/// Hot entries kept whole before the oldest are sealed, by default.
pub const HOT: usize = 2048;

/// Sealed entries past which a full rescan takes tens of milliseconds
/// (a query with no level unpacks every frame): a filter being typed then
/// waits for a pause instead of rescanning at every key.
pub const SLOW_RESCAN: usize = 150_000;

/// A log entry as the query language sees it.
pub struct EntryRecord<'a> {
    pub source: SourceId,
    pub level: Level,
    pub kind: &'a str,
    pub summary: &'a str,
    pub data: Option<&'a str>,
    pub labels: &'a [Box<str>],
}

impl Record for EntryRecord<'_> {
    fn source(&self) -> &str {
        self.labels.get(usize::from(self.source)).map_or("", |l| l)
    }
    fn kind(&self) -> &str {
        self.kind
    }
    fn level(&self) -> Option<Level> {
        Some(self.level)
    }
    fn summary(&self) -> &str {
        self.summary
    }
    fn data(&self) -> Option<&str> {
        self.data
    }
}

impl<'a> EntryRecord<'a> {
    pub fn of(entry: &'a LogEntry, labels: &'a [Box<str>]) -> Self {
        EntryRecord {
            source: entry.source,
            level: entry.level,
            kind: &entry.kind,
            summary: &entry.summary,
            data: entry.data.as_deref(),
            labels,
        }
    }
}

/// Entries a full rescan handles per thread (smaller scans stay on one).
const PARALLEL_CHUNK: usize = 64 * 1024;

/// Sequence numbers of the entries of `slice` matching `q`, in order;
/// split over the machine's cores when the slice is large.
fn scan(slice: &[LogEntry], q: &Query, labels: &[Box<str>], out: &mut VecDeque<u64>) {
    let hit = |e: &LogEntry| q.matches(&EntryRecord::of(e, labels));
    split_scan(slice, PARALLEL_CHUNK, out, |part| {
        part.iter().filter(|e| hit(e)).map(|e| e.seq).collect()
    });
}

/// `run` over `items`, on as many threads as there are cores (each given
/// `per_thread` items at least), its sequence numbers onto `out` in order.
pub(super) fn split_scan<T: Sync>(
    items: &[T],
    per_thread: usize,
    out: &mut VecDeque<u64>,
    run: impl Fn(&[T]) -> Vec<u64> + Sync,
) {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(items.len() / per_thread.max(1))
        .max(1);
    if threads == 1 {
        out.extend(run(items));
        return;
    }
    let per = items.len().div_ceil(threads);
    let run = &run;
    let parts: Vec<Vec<u64>> = std::thread::scope(|sc| {
        let handles: Vec<_> = items
            .chunks(per)
            .map(|part| sc.spawn(move || run(part)))
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
            hot: VecDeque::new(),
            sealed: Sealed::default(),
            seal_at: HOT,
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

    /// Seal the oldest entries once more than `hot` are whole (0: never,
    /// for a run that prints entries as they come and keeps few).
    pub fn sealing(mut self, hot: usize) -> Self {
        self.seal_at = hot;
        self
    }

    /// An entry as the query language sees it (with its source label).
    pub fn record<'a>(&'a self, entry: &'a LogEntry) -> EntryRecord<'a> {
        EntryRecord::of(entry, &self.labels)
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
            let full = self.len() >= self.cap;
            let after = self.heap + size + self.buffers(1);
            let grows = self.hot.len() == self.hot.capacity();
            let fits = after <= self.max_bytes && (!grows || self.others + after <= self.max_bytes);
            if self.is_empty() || (!full && fits) {
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
            && q.matches(&EntryRecord::of(&e, &self.labels))
        {
            self.matches.push_back(seq);
        }
        self.hot.push_back(e);
        if self.seal_at > 0 && self.hot.len() > self.seal_at {
            self.seal_oldest();
        }
    }

    /// Seal the oldest hot entries: a block's worth, at most half of them.
    fn seal_oldest(&mut self) {
        let most = self.hot.len() / 2;
        let (mut n, mut text) = (0, 0);
        while n < most && text < super::sealed::BLOCK {
            let e = &self.hot[n];
            text += 16
                + e.kind.len()
                + e.summary.len()
                + e.data.as_deref().map_or(0, str::len)
                + e.bytes.as_deref().map_or(0, <[u8]>::len);
            n += 1;
        }
        let freed: usize = self.hot.iter().take(n).map(owned_heap).sum();
        self.heap -= freed;
        self.sealed.seal(self.hot.drain(..n));
        // A chunk costs far less than the entries it holds; growing the
        // chunks' buffer may not, and the budget holds whatever happens.
        while self.bytes() > self.max_bytes && self.len() > 1 {
            self.evict_front();
        }
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
            self.sealed.scan(q, &self.labels, &mut self.matches);
            let (a, b) = self.hot.as_slices();
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
            self.len()
        }
    }

    /// The sequence number of the `i`-th entry of the view.
    pub fn view_seq(&self, i: usize) -> Option<u64> {
        if self.filter.is_some() {
            self.matches.get(i).copied()
        } else {
            (i < self.len()).then(|| self.first_seq() + i as u64)
        }
    }

    /// The `i`-th entry of the view (a sealed one made whole).
    pub fn view_get(&self, i: usize) -> Option<Cow<'_, LogEntry>> {
        self.by_seq(self.view_seq(i)?)
    }

    /// How many entries of the view have a sequence number ≥ `seq`
    /// (binary search: the view is ordered by sequence number).
    pub fn view_count_since(&self, seq: u64) -> usize {
        let len = self.view_len();
        len - self.view_index_of(seq)
    }

    /// The index in the view of the first entry whose sequence number is
    /// ≥ `seq` (the view's length if none).
    pub fn view_index_of(&self, seq: u64) -> usize {
        if self.filter.is_some() {
            self.matches.partition_point(|&s| s < seq)
        } else {
            (seq.saturating_sub(self.first_seq()) as usize).min(self.len())
        }
    }

    /// Entry `seq`: a hot one as it is, a sealed one made whole.
    pub fn by_seq(&self, seq: u64) -> Option<Cow<'_, LogEntry>> {
        if let Some(first) = self.hot.front().map(|e| e.seq)
            && seq >= first
        {
            return self.hot.get((seq - first) as usize).map(Cow::Borrowed);
        }
        self.sealed.get(seq).map(Cow::Owned)
    }

    /// Time, source and level of entry `seq` (a sealed one is not unpacked).
    pub fn meta_of(&self, seq: u64) -> Option<(u64, SourceId, Level)> {
        if let Some(first) = self.hot.front().map(|e| e.seq)
            && seq >= first
        {
            return self
                .hot
                .get((seq - first) as usize)
                .map(|e| (e.at_ms, e.source, e.level));
        }
        self.sealed.meta(seq)
    }

    /// Time and level of every entry of the view, in order (a sealed one
    /// is not unpacked).
    pub fn each_in_view(&self, mut f: impl FnMut(u64, u64, Level)) {
        let hot_first = self.hot.front().map_or(self.next_seq, |e| e.seq);
        if self.filter.is_some() {
            self.sealed.metas_of(
                self.matches.iter().copied().take_while(|&s| s < hot_first),
                &mut f,
            );
            for &seq in self.matches.iter().skip_while(|&&s| s < hot_first) {
                if let Some(e) = self.hot.get((seq - hot_first) as usize) {
                    f(seq, e.at_ms, e.level);
                }
            }
        } else {
            self.sealed.each_meta(&mut f);
            for e in &self.hot {
                f(e.seq, e.at_ms, e.level);
            }
        }
    }

    /// The view in `bars` bars of equal time (up to `upto`, a freeze),
    /// from its first entry's time to its last's.
    pub fn histogram(&self, bars: usize, upto: Option<u64>) -> Histogram {
        let (mut lo, mut hi) = (u64::MAX, 0);
        let upto = upto.unwrap_or(u64::MAX);
        self.each_in_view(|seq, at, _| {
            if seq < upto {
                lo = lo.min(at);
                hi = hi.max(at);
            }
        });
        if lo > hi || bars == 0 {
            return Histogram::default();
        }
        let dt = bar_length(hi - lo + 1, bars as u64);
        let t0 = lo - lo % dt;
        let n = (((hi - t0) / dt) as usize + 1).min(bars);
        let mut out = vec![HistBar::default(); n];
        self.each_in_view(|seq, at, level| {
            if seq >= upto {
                return;
            }
            let b = &mut out[(((at - t0) / dt) as usize).min(n - 1)];
            b.counts[level as usize] = b.counts[level as usize].saturating_add(1);
            b.first.get_or_insert(seq);
        });
        Histogram { t0, dt, bars: out }
    }

    /// Sequence number of the oldest entry held (the next one's if none).
    fn first_seq(&self) -> u64 {
        self.sealed
            .first_seq()
            .or(self.hot.front().map(|e| e.seq))
            .unwrap_or(self.next_seq)
    }

    /// Total entries stored (unfiltered).
    pub fn len(&self) -> usize {
        self.sealed.len() + self.hot.len()
    }

    /// Entries of those kept compact.
    pub fn sealed_len(&self) -> usize {
        self.sealed.len()
    }

    /// Whether a full rescan ([`Logs::set_query`]) is too slow to run at
    /// every key typed ([`SLOW_RESCAN`]).
    pub fn slow_to_rescan(&self) -> bool {
        self.sealed.len() > SLOW_RESCAN
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
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

    /// Bytes held, as the allocator counts them: each hot entry's texts and
    /// data rounded to their size classes with the per-block overhead
    /// ([`super::heap`]), the sealed chunks, plus the buffers of entries
    /// and filter matches at their capacity (spare room included).
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
        self.sealed
            .oldest_ms()
            .or(self.hot.front().map(|e| e.at_ms))
    }

    /// Drop the oldest entry (counted as evicted); false when empty.
    pub fn evict_front(&mut self) -> bool {
        if !self.sealed.evict_front() {
            let Some(old) = self.hot.pop_front() else {
                return false;
            };
            self.heap -= owned_heap(&old);
        }
        self.evicted += 1;
        let first = self.first_seq();
        while self.matches.front().is_some_and(|&s| s < first) {
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
    /// the old and the new buffer are both held; the sealed entries' chunks
    /// with a chunk more when the push seals one.
    fn buffers(&self, more: usize) -> usize {
        use super::heap::buffer;
        let (len, cap) = (self.hot.len(), self.hot.capacity());
        let entries = if len + more > cap {
            buffer::<LogEntry>(cap) + buffer::<LogEntry>((cap * 2).max(len + more).max(4))
        } else {
            buffer::<LogEntry>(cap)
        };
        let seals = self.seal_at > 0 && len + more > self.seal_at;
        let sealed = self.sealed.bytes(usize::from(seals));
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
        entries + sealed + matches
    }
}

/// What a hot entry's own allocations cost (see [`entry_heap`]), its
/// bytes included.
fn owned_heap(e: &LogEntry) -> usize {
    entry_heap(&e.summary, &e.kind, e.data.as_deref())
        + e.bytes
            .as_ref()
            .map_or(0, |b| super::heap::alloc(16 + b.len()))
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

    /// Entry `i` of a varied stream: data or none, bytes now and then,
    /// non-ASCII, an owned kind.
    fn varied(l: &mut Logs, i: u64) {
        let level = [Level::Debug, Level::Info, Level::Warn, Level::Error][(i % 4) as usize];
        let data = (!i.is_multiple_of(3)).then(|| {
            std::sync::Arc::from(format!(
                r#"{{"n":{i},"msg":"été {}"}}"#,
                "x".repeat((i % 50) as usize)
            ))
        });
        let kind: Cow<'static, str> = if i.is_multiple_of(5) {
            Cow::Owned(format!("kind{}", i % 7))
        } else {
            Cow::Borrowed("k")
        };
        let p = Logs::prepare(kind, format!("entry {i} ✓"), data)
            .with_bytes((i.is_multiple_of(11)).then(|| vec![0u8, 1, 2, i as u8]));
        l.push_prepared(1000 + i, (i % 3) as SourceId, level, p);
    }

    #[test]
    fn sealed_entries_read_back_as_they_were_pushed() {
        let mut whole = Logs::new(usize::MAX).sealing(0);
        let mut compact = Logs::new(usize::MAX).sealing(256);
        for i in 0..5_000 {
            varied(&mut whole, i);
            varied(&mut compact, i);
        }
        assert!(compact.sealed_len() > 4_500, "{}", compact.sealed_len());
        assert_eq!(compact.len(), 5_000);
        for i in 0..5_000 {
            let (a, b) = (whole.view_get(i).unwrap(), compact.view_get(i).unwrap());
            assert_eq!(a.seq, b.seq);
            assert_eq!(
                (
                    a.at_ms, a.source, a.level, &*a.kind, &a.summary, &a.data, &a.bytes
                ),
                (
                    b.at_ms, b.source, b.level, &*b.kind, &b.summary, &b.data, &b.bytes
                )
            );
            assert_eq!(compact.meta_of(b.seq), Some((b.at_ms, b.source, b.level)));
        }
        assert!(compact.view_get(5_000).is_none());
        assert!(compact.by_seq(5_000).is_none());
        // Far less held than as whole entries.
        assert!(
            compact.bytes() * 3 < whole.bytes(),
            "{} vs {}",
            compact.bytes(),
            whole.bytes()
        );
    }

    #[test]
    fn a_filter_finds_the_same_in_sealed_entries_as_in_whole_ones() {
        let queries = [
            "level>=warn",
            "entry 12",
            "data.n>4000",
            "kind=kind3",
            "source=b and data.msg~/x{40}/",
            "not data.n>100",
        ];
        let mut whole = Logs::new(3_000).sealing(0);
        let mut compact = Logs::new(3_000).sealing(16);
        let labels: Vec<Box<str>> = vec!["a".into(), "b".into(), "c".into()];
        whole.set_labels(labels.clone());
        compact.set_labels(labels);
        for (n, q) in queries.iter().enumerate() {
            // Set before some entries come and after others; evictions
            // (the entry cap) cut into the sealed chunks meanwhile.
            for i in 0..2_000 {
                let i = n as u64 * 2_000 + i;
                varied(&mut whole, i);
                varied(&mut compact, i);
                if i % 2_000 == 1_000 {
                    whole.set_filter(Some(q)).unwrap();
                    compact.set_filter(Some(q)).unwrap();
                }
            }
            let seqs = |l: &Logs| {
                (0..l.view_len())
                    .map(|i| l.view_seq(i).unwrap())
                    .collect::<Vec<_>>()
            };
            assert_eq!(seqs(&whole), seqs(&compact), "{q}");
            assert!(whole.view_len() > 0, "{q}");
            // Scanned again from the start.
            whole.set_filter(None).unwrap();
            compact.set_filter(None).unwrap();
            whole.set_filter(Some(q)).unwrap();
            compact.set_filter(Some(q)).unwrap();
            assert_eq!(seqs(&whole), seqs(&compact), "{q} rescanned");
            assert_eq!(compact.len(), whole.len());
            assert_eq!(compact.evicted(), whole.evicted());
            assert_eq!(compact.oldest_ms(), whole.oldest_ms());
            // The oldest left, in a chunk partly evicted, reads back whole.
            let (a, b) = (whole.view_get(0).unwrap(), compact.view_get(0).unwrap());
            assert_eq!((a.seq, &a.summary, &a.data), (b.seq, &b.summary, &b.data));
            whole.set_filter(None).unwrap();
            compact.set_filter(None).unwrap();
        }
        assert!(compact.sealed_len() > 2_000);
        assert!(compact.evicted() > 0);
    }

    #[test]
    fn a_many_chunk_scan_splits_over_threads_and_keeps_order() {
        let mut l = Logs::new(usize::MAX).sealing(4);
        for i in 0..40_000 {
            varied(&mut l, i);
        }
        l.set_filter(Some("level=error")).unwrap();
        assert_eq!(l.view_len(), 10_000);
        let seqs: Vec<u64> = (0..l.view_len()).map(|i| l.view_seq(i).unwrap()).collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]));
        assert!(seqs.iter().all(|s| s % 4 == 3));
        assert_eq!(l.view_count_since(20_000), 5_000);
    }

    #[test]
    fn sealed_entries_stay_within_the_byte_bound() {
        for max in [50_000, 400_000] {
            let mut l = Logs::with_limits(usize::MAX, max).sealing(32);
            l.set_filter(Some("entry")).unwrap();
            for i in 0..30_000 {
                varied(&mut l, i);
                assert!(l.bytes() <= max, "{} > {max} after {i}", l.bytes());
                // Viewing unpacks blocks: counted too.
                if i % 1000 == 0 {
                    let _ = l.view_get(0);
                    assert!(l.bytes() <= max + 4 * 2 * super::super::sealed::BLOCK);
                }
            }
            assert!(l.evicted() > 0);
            assert!(l.sealed_len() > l.len() / 2);
            assert_eq!(l.view_len(), l.len());
        }
    }

    #[test]
    fn the_histogram_counts_the_view_by_level_sealed_entries_too() {
        // 5 000 entries a millisecond apart, most sealed (not unpacked to
        // be counted), a quarter at WARN.
        let mut l = Logs::new(usize::MAX).sealing(64);
        for i in 0..5_000u64 {
            let level = if i % 4 == 0 { Level::Warn } else { Level::Info };
            l.push(10_000 + i, 0, level, "k", format!("e{i}"), None);
        }
        assert!(l.sealed_len() > 4_000);
        let h = l.histogram(50, None);
        assert_eq!(h.dt, 100, "5 000 ms over 50 bars");
        assert_eq!(h.t0, 10_000);
        assert_eq!(h.bars.len(), 50);
        let total: u64 = h.bars.iter().map(|b| b.total()).sum();
        assert_eq!(total, 5_000);
        assert_eq!(h.bars[3].counts[Level::Warn as usize], 25);
        assert_eq!(h.bars[3].first, Some(300));
        assert_eq!(h.bars[3].worst(), Some(Level::Warn));
        // Filtered: only what the view shows.
        l.set_filter(Some("level=warn")).unwrap();
        let h = l.histogram(50, None);
        assert_eq!(h.bars.iter().map(|b| b.total()).sum::<u64>(), 1_250);
        assert_eq!(h.bars[3].first, Some(300));
        assert!(h.bars.iter().all(|b| b.counts[Level::Info as usize] == 0));
        // Up to a freeze.
        l.set_filter(None).unwrap();
        let h = l.histogram(50, Some(1_000));
        assert_eq!(h.bars.iter().map(|b| b.total()).sum::<u64>(), 1_000);
        assert_eq!(h.dt, 20);
        // Nothing in view: no bars.
        l.set_filter(Some("level=error")).unwrap();
        assert!(l.histogram(50, None).bars.is_empty());
    }
}
