//! The log buffer: one line per event from every source, bounded, with an
//! incrementally maintained filter index (new entries are tested once, on
//! arrival; the whole buffer is scanned only when the filter changes).

use std::borrow::Cow;
use std::collections::VecDeque;

use crate::event::{Level, SourceId};
use crate::text::{contains_ci, sanitize_capped};

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
    next_seq: u64,
    evicted: u64,
    filter: Option<String>,
    /// Sequence numbers of entries matching `filter` (ascending).
    matches: VecDeque<u64>,
}

impl Logs {
    pub fn new(cap: usize) -> Self {
        Self {
            entries: VecDeque::with_capacity(cap.min(4096)),
            cap: cap.max(1),
            next_seq: 0,
            evicted: 0,
            filter: None,
            matches: VecDeque::new(),
        }
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
        if self.entries.len() == self.cap
            && let Some(old) = self.entries.pop_front()
        {
            self.evicted += 1;
            if self.matches.front() == Some(&old.seq) {
                self.matches.pop_front();
            }
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let e = LogEntry {
            seq,
            at_ms,
            source,
            level,
            kind: kind.into(),
            summary,
            data,
        };
        if let Some(f) = &self.filter
            && entry_matches(&e, f)
        {
            self.matches.push_back(seq);
        }
        self.entries.push_back(e);
    }

    /// Set (or clear, with `None` or "") the substring filter.
    pub fn set_filter(&mut self, filter: Option<&str>) {
        let f = filter.map(str::to_lowercase).filter(|f| !f.is_empty());
        if f == self.filter {
            return;
        }
        self.filter = f;
        self.matches.clear();
        if let Some(f) = &self.filter {
            for e in &self.entries {
                if entry_matches(e, f) {
                    self.matches.push_back(e.seq);
                }
            }
        }
    }

    pub fn filter(&self) -> Option<&str> {
        self.filter.as_deref()
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
}

fn entry_matches(e: &LogEntry, needle_lower: &str) -> bool {
    contains_ci(&e.summary, needle_lower)
        || contains_ci(&e.kind, needle_lower)
        || contains_ci(e.level.label(), needle_lower)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        l.set_filter(Some("ALP"));
        assert_eq!(l.view_len(), 1);
        push(&mut l, "alpine");
        push(&mut l, "gamma");
        assert_eq!(l.view_len(), 2);
        push(&mut l, "delta"); // evicts "alpha"
        assert_eq!(l.view_len(), 1);
        assert_eq!(&*l.view_get(0).unwrap().summary, "alpine");
        assert_eq!(l.view_count_since(2), 1);
        assert_eq!(l.view_count_since(3), 0);
        l.set_filter(None);
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
