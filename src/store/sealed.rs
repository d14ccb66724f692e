//! Older log entries, kept compact: the logs keep their newest entries as
//! [`LogEntry`]s (the hot end, where they are tested against the filter as
//! they come and drawn as they scroll) and seal older ones into chunks of
//! about [`BLOCK`] bytes of text beside a small per-entry index (time,
//! source, level). A chunk's texts are compressed with zstd in one frame
//! per level, so that a filter on the level (`level>=warn`, the usual first
//! step) unpacks only the frames it may match. An entry of a sealed chunk
//! is made whole again when it is viewed, from a few recently unpacked
//! frames; a filter scan unpacks each frame it needs once.
//!
//! A recording of a million entries of ~200 B of JSON data each is kept in
//! well under a tenth of what its entries would take as objects.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use super::logs::LogEntry;
use crate::event::{Level, SourceId};
use crate::query::Query;

/// Text bytes a sealed chunk gathers before it is compressed (in a
/// frame per level).
pub const BLOCK: usize = 128 << 10;

/// Unpacked frames kept for viewing (a screen of entries spans a few).
const CACHED: usize = 16;

/// zstd's fast level: tens of KiB of log JSON pack 5–8× at ~1 GB/s.
const LEVEL: i32 = 1;

/// "None" for a length in an entry's header.
const NONE: u32 = u32::MAX;

/// The texts of a chunk's entries of one level, compressed.
struct Frame {
    level: Level,
    /// Length of the texts unpacked.
    raw_len: usize,
    /// zstd, or the texts as they are when `stored` (packing failed).
    packed: Box<[u8]>,
    stored: bool,
}

impl Frame {
    fn unpack(&self, z: &mut zstd::bulk::Decompressor<'static>) -> Option<Vec<u8>> {
        if self.stored {
            return Some(self.packed.to_vec());
        }
        z.decompress(&self.packed, self.raw_len)
            .ok()
            .filter(|raw| raw.len() == self.raw_len)
    }
}

/// Entries sealed together: their index beside their texts.
struct Chunk {
    first_seq: u64,
    at_ms: Box<[u64]>,
    source: Box<[SourceId]>,
    level: Box<[Level]>,
    frames: Box<[Frame]>,
}

impl Chunk {
    fn len(&self) -> usize {
        self.at_ms.len()
    }

    /// What its allocations cost.
    fn heap(&self) -> usize {
        use super::heap::{alloc, buffer};
        let n = self.len();
        buffer::<u64>(n)
            + buffer::<SourceId>(n)
            + buffer::<Level>(n)
            + buffer::<Frame>(self.frames.len())
            + self
                .frames
                .iter()
                .map(|f| alloc(f.packed.len()))
                .sum::<usize>()
    }

    /// Entry `k`'s frame, and its place among the frame's entries.
    fn frame_of(&self, k: usize) -> Option<(&Frame, usize)> {
        let level = *self.level.get(k)?;
        let rank = self.level[..k].iter().filter(|&&l| l == level).count();
        let f = self.frames.iter().find(|f| f.level == level)?;
        Some((f, rank))
    }
}

/// One entry's texts in an unpacked block, as bytes: a text is checked
/// to be UTF-8 only when it is read (a filter on the level reads none).
struct Texts<'a> {
    kind: &'a [u8],
    summary: &'a [u8],
    data: Option<&'a [u8]>,
    bytes: Option<&'a [u8]>,
}

/// A text of roomtap's own block (written from a `str`): one cut or not
/// UTF-8 would be a bug, and reads as empty rather than panicking.
fn text(b: &[u8]) -> &str {
    std::str::from_utf8(b).unwrap_or_default()
}

/// A sealed entry as the query language sees it.
struct SealedRecord<'a> {
    source: SourceId,
    level: Level,
    texts: Texts<'a>,
    labels: &'a [Box<str>],
}

impl crate::query::Record for SealedRecord<'_> {
    fn source(&self) -> &str {
        self.labels.get(usize::from(self.source)).map_or("", |l| l)
    }
    fn kind(&self) -> &str {
        text(self.texts.kind)
    }
    fn level(&self) -> Option<Level> {
        Some(self.level)
    }
    fn summary(&self) -> &str {
        text(self.texts.summary)
    }
    fn data(&self) -> Option<&str> {
        self.texts.data.map(text)
    }
}

/// Append an entry's texts to a block: four lengths, then the texts.
fn encode(out: &mut Vec<u8>, e: &LogEntry) {
    let len = |n: Option<usize>| n.map_or(NONE, |n| n.min(NONE as usize - 1) as u32);
    let data = e.data.as_deref();
    let bytes = e.bytes.as_deref();
    for n in [
        len(Some(e.kind.len())),
        len(Some(e.summary.len())),
        len(data.map(str::len)),
        len(bytes.map(<[u8]>::len)),
    ] {
        out.extend_from_slice(&n.to_le_bytes());
    }
    out.extend_from_slice(e.kind.as_bytes());
    out.extend_from_slice(e.summary.as_bytes());
    out.extend_from_slice(data.unwrap_or_default().as_bytes());
    out.extend_from_slice(bytes.unwrap_or_default());
}

/// The entry at `at` in a block, and where the next one starts (the block
/// is roomtap's own, written by [`encode`]).
fn decode(block: &[u8], at: usize) -> Option<(Texts<'_>, usize)> {
    let head = block.get(at..at + 16)?;
    let n = |i: usize| u32::from_le_bytes([head[i], head[i + 1], head[i + 2], head[i + 3]]);
    let mut pos = at + 16;
    let mut take = |len: u32| -> Option<&[u8]> {
        if len == NONE {
            return None;
        }
        let end = (pos + len as usize).min(block.len());
        let s = &block[pos.min(end)..end];
        pos = end;
        Some(s)
    };
    let kind = take(n(0)).unwrap_or_default();
    let summary = take(n(4)).unwrap_or_default();
    let data = take(n(8));
    let bytes = take(n(12));
    Some((
        Texts {
            kind,
            summary,
            data,
            bytes,
        },
        pos,
    ))
}

/// An unpacked block and where each of its entries starts.
struct Unpacked {
    key: (u64, Level),
    raw: Vec<u8>,
    starts: Vec<u32>,
}

impl Unpacked {
    fn new(key: (u64, Level), raw: Vec<u8>) -> Unpacked {
        let mut starts = Vec::new();
        let mut at = 0;
        while let Some((_, next)) = decode(&raw, at) {
            starts.push(at as u32);
            at = next;
        }
        Unpacked { key, raw, starts }
    }

    fn texts(&self, k: usize) -> Option<Texts<'_>> {
        decode(&self.raw, *self.starts.get(k)? as usize).map(|(t, _)| t)
    }

    fn heap(&self) -> usize {
        super::heap::alloc(self.raw.capacity()) + super::heap::buffer::<u32>(self.starts.capacity())
    }
}

/// The blocks unpacked last (for viewing), newest last.
struct Cache {
    blocks: VecDeque<Arc<Unpacked>>,
    unpacker: Option<zstd::bulk::Decompressor<'static>>,
    heap: usize,
}

/// The sealed entries: the older end of the logs.
pub struct Sealed {
    chunks: VecDeque<Chunk>,
    /// Entries of the front chunk already evicted.
    skip: usize,
    len: usize,
    /// What the chunks cost.
    heap: usize,
    packer: Option<zstd::bulk::Compressor<'static>>,
    /// A block being gathered (kept for its capacity).
    scratch: Vec<u8>,
    cache: Mutex<Cache>,
}

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealed")
            .field("chunks", &self.chunks.len())
            .field("len", &self.len)
            .field("heap", &self.heap)
            .finish()
    }
}

impl Default for Sealed {
    fn default() -> Self {
        Sealed {
            chunks: VecDeque::new(),
            skip: 0,
            len: 0,
            heap: 0,
            packer: None,
            scratch: Vec::new(),
            cache: Mutex::new(Cache {
                blocks: VecDeque::new(),
                unpacker: None,
                heap: 0,
            }),
        }
    }
}

impl Sealed {
    /// Entries held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Sequence number of the oldest entry held.
    pub fn first_seq(&self) -> Option<u64> {
        let c = self.chunks.front()?;
        Some(c.first_seq + self.skip as u64)
    }

    /// Sequence number after the newest entry held.
    pub fn end_seq(&self) -> Option<u64> {
        let c = self.chunks.back()?;
        Some(c.first_seq + c.len() as u64)
    }

    pub fn oldest_ms(&self) -> Option<u64> {
        self.chunks.front()?.at_ms.get(self.skip).copied()
    }

    /// What the chunks, their buffer and the unpacked blocks cost; with
    /// `more` chunks sealed, a full buffer grows (both held meanwhile).
    pub fn bytes(&self, more: usize) -> usize {
        use super::heap::buffer;
        let (len, cap) = (self.chunks.len(), self.chunks.capacity());
        let buffers = if len + more > cap {
            buffer::<Chunk>(cap) + buffer::<Chunk>((cap * 2).max(len + more).max(4))
        } else {
            buffer::<Chunk>(cap)
        };
        let cache = self.cache.lock().map_or(0, |c| c.heap);
        self.heap + buffers + super::heap::alloc(self.scratch.capacity()) + cache
    }

    /// Seal `entries` (consecutive, oldest first) into one chunk.
    pub fn seal(&mut self, entries: impl ExactSizeIterator<Item = LogEntry>) {
        let entries: Vec<LogEntry> = entries.collect();
        let Some(first) = entries.first() else {
            return;
        };
        let first_seq = first.seq;
        let mut frames = Vec::new();
        for level in [
            Level::Trace,
            Level::Debug,
            Level::Info,
            Level::Warn,
            Level::Error,
        ] {
            self.scratch.clear();
            let mut any = false;
            for e in entries.iter().filter(|e| e.level == level) {
                encode(&mut self.scratch, e);
                any = true;
            }
            if any {
                frames.push(self.pack(level));
            }
        }
        // The scratch is kept for the next chunk, unless one huge entry
        // made it big.
        if self.scratch.capacity() > 4 * BLOCK {
            self.scratch = Vec::new();
        }
        let chunk = Chunk {
            first_seq,
            at_ms: entries.iter().map(|e| e.at_ms).collect(),
            source: entries.iter().map(|e| e.source).collect(),
            level: entries.iter().map(|e| e.level).collect(),
            frames: frames.into_boxed_slice(),
        };
        self.heap += chunk.heap();
        self.len += entries.len();
        self.chunks.push_back(chunk);
    }

    /// The scratch's texts, compressed (or as they are, if that fails or
    /// does not make them smaller).
    fn pack(&mut self, level: Level) -> Frame {
        let raw_len = self.scratch.len();
        let packed = self
            .packer
            .get_or_insert_with(|| {
                zstd::bulk::Compressor::new(LEVEL).expect("zstd's fast level is valid")
            })
            .compress(&self.scratch)
            .ok()
            .filter(|p| p.len() < raw_len);
        let (packed, stored) = match packed {
            Some(p) => (p.into_boxed_slice(), false),
            None => (self.scratch.as_slice().into(), true),
        };
        Frame {
            level,
            raw_len,
            packed,
            stored,
        }
    }

    /// Evict the oldest entry; its chunk goes with its last entry.
    pub fn evict_front(&mut self) -> bool {
        let Some(front) = self.chunks.front() else {
            return false;
        };
        self.skip += 1;
        self.len -= 1;
        if self.skip >= front.len() {
            let c = self.chunks.pop_front().expect("the front chunk");
            self.heap -= c.heap();
            self.skip = 0;
        }
        true
    }

    /// The chunk holding `seq`, and the entry's index in it.
    fn locate(&self, seq: u64) -> Option<(&Chunk, usize)> {
        let first = self.first_seq()?;
        if seq < first || seq >= self.end_seq()? {
            return None;
        }
        let i = self.chunks.partition_point(|c| c.first_seq <= seq) - 1;
        let c = &self.chunks[i];
        Some((c, (seq - c.first_seq) as usize))
    }

    /// Time, source and level of `seq` (no unpacking).
    pub fn meta(&self, seq: u64) -> Option<(u64, SourceId, Level)> {
        let (c, k) = self.locate(seq)?;
        Some((c.at_ms[k], c.source[k], c.level[k]))
    }

    /// Time and level of each entry held, oldest first (no unpacking).
    pub fn each_meta(&self, mut f: impl FnMut(u64, u64, Level)) {
        for (i, c) in self.chunks.iter().enumerate() {
            let from = if i == 0 { self.skip } else { 0 };
            for k in from..c.len() {
                f(c.first_seq + k as u64, c.at_ms[k], c.level[k]);
            }
        }
    }

    /// Time and level of the entries `seqs` (ascending), those held.
    pub fn metas_of(&self, seqs: impl Iterator<Item = u64>, mut f: impl FnMut(u64, u64, Level)) {
        let mut i = 0;
        let Some(first) = self.first_seq() else {
            return;
        };
        for seq in seqs {
            if seq < first {
                continue;
            }
            while i < self.chunks.len()
                && seq >= self.chunks[i].first_seq + self.chunks[i].len() as u64
            {
                i += 1;
            }
            let Some(c) = self.chunks.get(i) else { return };
            if seq >= c.first_seq {
                let k = (seq - c.first_seq) as usize;
                f(seq, c.at_ms[k], c.level[k]);
            }
        }
    }

    /// Entry `seq` made whole.
    pub fn get(&self, seq: u64) -> Option<LogEntry> {
        let (c, k) = self.locate(seq)?;
        let (frame, rank) = c.frame_of(k)?;
        let block = self.unpacked(c.first_seq, frame)?;
        let t = block.texts(rank)?;
        Some(LogEntry {
            seq,
            at_ms: c.at_ms[k],
            source: c.source[k],
            level: c.level[k],
            kind: Cow::Owned(text(t.kind).to_owned()),
            summary: text(t.summary).into(),
            data: t.data.map(|d| Arc::from(text(d))),
            bytes: t.bytes.map(Arc::from),
        })
    }

    /// A frame of chunk `first_seq`, unpacked (from the cache, or now).
    fn unpacked(&self, first_seq: u64, f: &Frame) -> Option<Arc<Unpacked>> {
        let key = (first_seq, f.level);
        let mut cache = self.cache.lock().ok()?;
        if let Some(i) = cache.blocks.iter().position(|b| b.key == key) {
            let b = cache.blocks.remove(i)?;
            cache.blocks.push_back(b.clone());
            return Some(b);
        }
        let z = match &mut cache.unpacker {
            Some(z) => z,
            None => cache.unpacker.insert(zstd::bulk::Decompressor::new().ok()?),
        };
        let b = Arc::new(Unpacked::new(key, f.unpack(z)?));
        cache.heap += b.heap();
        cache.blocks.push_back(b.clone());
        while cache.blocks.len() > CACHED {
            if let Some(old) = cache.blocks.pop_front() {
                cache.heap -= old.heap();
            }
        }
        Some(b)
    }

    /// Sequence numbers of the entries matching `q`, in order, onto `out`;
    /// the chunks split over the machine's cores when there are many. The
    /// frame of a level the query rules out is not unpacked.
    pub fn scan(&self, q: &Query, labels: &[Box<str>], out: &mut VecDeque<u64>) {
        let chunks: Vec<&Chunk> = self.chunks.iter().collect();
        let skip = self.skip;
        let first = self.chunks.front().map(|c| c.first_seq);
        let names: Vec<&str> = labels.iter().map(|l| &**l).collect();
        let needs = q.needs(&names);
        let run = |part: &[&Chunk]| -> Vec<u64> {
            let mut hits = Vec::new();
            let Ok(mut z) = zstd::bulk::Decompressor::new() else {
                return hits;
            };
            let mut found = Vec::new();
            for c in part {
                let from = if Some(c.first_seq) == first { skip } else { 0 };
                found.clear();
                for f in c.frames.iter() {
                    if needs.level_rules_out(f.level) || !c.level[from..].contains(&f.level) {
                        continue;
                    }
                    let Some(raw) = f.unpack(&mut z) else {
                        continue;
                    };
                    let mut at = 0;
                    for k in (0..c.len()).filter(|&k| c.level[k] == f.level) {
                        let Some((texts, next)) = decode(&raw, at) else {
                            break;
                        };
                        at = next;
                        if k >= from
                            && q.matches(&SealedRecord {
                                source: c.source[k],
                                level: f.level,
                                texts,
                                labels,
                            })
                        {
                            found.push(c.first_seq + k as u64);
                        }
                    }
                }
                found.sort_unstable();
                hits.extend_from_slice(&found);
            }
            hits
        };
        super::logs::split_scan(&chunks, 64, out, run);
    }
}
