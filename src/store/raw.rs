//! The last frames as they went over the wire (`--keep-raw N`), each
//! with the log entry that came next: the frames an entry came from are
//! its source's frames that arrived last before it.

use std::collections::VecDeque;

use crate::event::{RawFrame, SourceId};

/// One kept frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Kept {
    pub source: SourceId,
    /// The sequence number the next log entry got when it arrived.
    pub before_seq: u64,
    pub at_ms: u64,
    pub frame: RawFrame,
}

/// At most `cap` frames, the oldest dropped (and counted).
#[derive(Debug, Default)]
pub struct RawFrames {
    frames: VecDeque<Kept>,
    cap: usize,
    pub dropped: u64,
}

impl RawFrames {
    pub fn new(cap: usize) -> RawFrames {
        RawFrames {
            frames: VecDeque::new(),
            cap,
            dropped: 0,
        }
    }

    pub fn push(&mut self, k: Kept) {
        if self.cap == 0 {
            return;
        }
        if self.frames.len() >= self.cap {
            self.frames.pop_front();
            self.dropped += 1;
        }
        self.frames.push_back(k);
    }

    /// The frames `source`'s entry `seq` came from: that source's frames
    /// that arrived last before it (several when they came together), in
    /// order; none when they are no longer kept.
    pub fn of(&self, source: SourceId, seq: u64) -> Vec<&Kept> {
        let mut last = None;
        let mut out: Vec<&Kept> = Vec::new();
        for k in self.frames.iter().rev() {
            if k.source != source || k.before_seq > seq {
                continue;
            }
            match last {
                None => last = Some(k.before_seq),
                Some(b) if b != k.before_seq => break,
                Some(_) => {}
            }
            out.push(k);
            if out.len() >= 8 {
                break;
            }
        }
        out.reverse();
        out
    }

    pub fn len(&self) -> usize {
        self.frames.len()
    }

    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    pub fn cap(&self) -> usize {
        self.cap
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(source: SourceId, before_seq: u64, b: &[u8]) -> Kept {
        Kept {
            source,
            before_seq,
            at_ms: 0,
            frame: RawFrame::new(false, true, b),
        }
    }

    #[test]
    fn an_entry_finds_its_sources_last_frames_and_the_bound_holds() {
        let mut r = RawFrames::new(4);
        r.push(kept(0, 0, b"a"));
        r.push(kept(1, 0, b"x"));
        r.push(kept(0, 2, b"b"));
        r.push(kept(0, 2, b"c"));
        // Entries 2 and 3 of source 0 came from b and c; entry 1 from a.
        let names = |v: Vec<&Kept>| -> Vec<u8> {
            v.iter()
                .map(|k| k.frame.bytes.as_ref().unwrap()[0])
                .collect()
        };
        assert_eq!(names(r.of(0, 3)), b"bc");
        assert_eq!(names(r.of(0, 1)), b"a");
        assert_eq!(names(r.of(1, 5)), b"x");
        r.push(kept(0, 9, b"d"));
        assert_eq!(r.len(), 4);
        assert_eq!(r.dropped, 1);
        assert!(r.of(0, 1).is_empty(), "a is no longer kept");
        let off = RawFrames::new(0);
        assert!(off.of(0, 0).is_empty());
    }
}
