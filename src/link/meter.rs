//! A source's traffic, counted once for every protocol: bytes, frames and
//! messages each way (`TrafficStats`), messages and bytes per channel, and
//! the flush that reports them every [`FLUSH_EVERY`]: `Stats` when the
//! totals changed, then one `Channel { Messages }` delta per channel seen.
//!
//! Counters are atomics and every method takes `&self`, so one meter serves
//! a client session (one task) and a server's many connection tasks alike.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::event::{ChannelChange, EventKind, TrafficStats};
use crate::source::Emitter;

/// How often sources report their traffic.
pub const FLUSH_EVERY: Duration = Duration::from_millis(250);

#[derive(Default)]
pub struct Meter {
    bytes_in: AtomicU64,
    frames_in: AtomicU64,
    messages_in: AtomicU64,
    bytes_out: AtomicU64,
    frames_out: AtomicU64,
    messages_out: AtomicU64,
    /// Messages and bytes per channel since the last flush.
    channels: Mutex<HashMap<String, (u64, u64)>>,
    /// The totals last reported.
    reported: Mutex<TrafficStats>,
    /// Where frames go as they are (`--keep-raw`), if kept.
    raw: Option<Emitter>,
}

fn add(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Ordering::Relaxed);
}

impl Meter {
    pub fn new() -> Self {
        Self::default()
    }

    /// A source's meter: with `--keep-raw`, it sends each frame as it is
    /// through `em` before the source decodes it.
    pub fn for_source(em: &Emitter) -> Self {
        Self::keeping(em, crate::source::raw_kept())
    }

    /// A source's meter that sends frames as they are through `em`, or not.
    pub fn keeping(em: &Emitter, raw: bool) -> Self {
        Self {
            raw: raw.then(|| em.clone()),
            ..Self::default()
        }
    }

    /// A frame came in, as it was (counted, and kept when asked).
    pub fn frame_in_raw(&self, b: &[u8], text: bool) {
        self.frame_in(b.len());
        self.raw(false, text, b);
    }

    /// A frame went out, as it was.
    pub fn frame_out_raw(&self, b: &[u8], text: bool) {
        self.frame_out(b.len());
        self.raw(true, text, b);
    }

    fn raw(&self, out: bool, text: bool, b: &[u8]) {
        if let Some(em) = &self.raw {
            // Never waits: a frame that does not fit the queue is not kept.
            em.try_emit(crate::event::EventKind::Raw(crate::event::RawFrame::new(
                out, text, b,
            )));
        }
    }

    /// One frame of `bytes` came in (0 for a control frame).
    pub fn frame_in(&self, bytes: usize) {
        add(&self.bytes_in, bytes as u64);
        add(&self.frames_in, 1);
    }

    /// `frames` frames of `bytes` in all went out.
    pub fn frames_out(&self, frames: u64, bytes: u64) {
        add(&self.bytes_out, bytes);
        add(&self.frames_out, frames);
    }

    /// One frame of `bytes` went out (0 for a control frame).
    pub fn frame_out(&self, bytes: usize) {
        self.frames_out(1, bytes as u64);
    }

    /// A message (what the protocol calls one) came in.
    pub fn message_in(&self) {
        add(&self.messages_in, 1);
    }

    pub fn message_out(&self) {
        add(&self.messages_out, 1);
    }

    /// One message of `bytes` on `channel`.
    pub fn channel(&self, channel: &str, bytes: usize) {
        let mut map = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        match map.get_mut(channel) {
            Some(d) => {
                d.0 += 1;
                d.1 += bytes as u64;
            }
            None => {
                map.insert(channel.to_string(), (1, bytes as u64));
            }
        }
    }

    /// The totals so far.
    pub fn stats(&self) -> TrafficStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        TrafficStats {
            bytes_in: get(&self.bytes_in),
            bytes_out: get(&self.bytes_out),
            frames_in: get(&self.frames_in),
            frames_out: get(&self.frames_out),
            messages_in: get(&self.messages_in),
            messages_out: get(&self.messages_out),
        }
    }

    /// Report what changed since the last flush (waits for the queue).
    pub async fn flush(&self, em: &Emitter) {
        let stats = self.stats();
        let changed = {
            let mut last = self.reported.lock().unwrap_or_else(|p| p.into_inner());
            let changed = *last != stats;
            *last = stats;
            changed
        };
        if changed {
            em.emit(EventKind::Stats(stats)).await;
        }
        for ev in self.take_channels() {
            em.emit(ev).await;
        }
    }

    /// [`Meter::flush`] for callers that must not wait: what a full queue
    /// refuses is dropped, except the totals, which are offered again next
    /// time.
    pub fn try_flush(&self, em: &Emitter) {
        let stats = self.stats();
        {
            let mut last = self.reported.lock().unwrap_or_else(|p| p.into_inner());
            if *last != stats && em.try_emit(EventKind::Stats(stats)) {
                *last = stats;
            }
        }
        for ev in self.take_channels() {
            em.try_emit(ev);
        }
    }

    /// The per-channel deltas as events, counters reset.
    fn take_channels(&self) -> Vec<EventKind> {
        let map = std::mem::take(&mut *self.channels.lock().unwrap_or_else(|p| p.into_inner()));
        map.into_iter()
            .map(|(channel, (count, bytes))| EventKind::Channel {
                channel,
                change: ChannelChange::Messages { count, bytes },
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::SourceEvent;
    use tokio::sync::mpsc;

    /// A frame kept as it was (`--keep-raw`) through a source's meter:
    /// sent before what it decodes to, the run's secrets masked in it, and
    /// recorded as base64 that reads back.
    #[tokio::test]
    async fn a_kept_frame_is_masked_and_recorded() {
        let (tx, mut rx) = mpsc::channel(4);
        let em = Emitter::masking(0, tx, Default::default());
        assert!(em.mask_secret("s3cr3t-t0ken"));
        let meter = Meter::keeping(&em, true);
        let frame = br##"{"event":"#handshake","data":{"authToken":"s3cr3t-t0ken"}}"##;
        meter.frame_in_raw(frame, true);
        let ev = rx.recv().await.unwrap();
        let EventKind::Raw(r) = &ev.kind else {
            panic!("{ev:?}")
        };
        assert!(r.text && !r.out);
        assert_eq!(r.len, frame.len());
        let b = r.bytes.as_deref().unwrap();
        assert!(!b.windows(12).any(|w| w == b"s3cr3t-t0ken"), "masked");
        assert!(b.starts_with(br##"{"event":"#handshake""##));
        let text = serde_json::to_string(&ev).unwrap();
        let back: SourceEvent = serde_json::from_str(&text).unwrap();
        assert_eq!(back, ev);
        // A meter made with frames not kept sends none.
        let quiet = Meter::keeping(&em, false);
        quiet.frame_in_raw(frame, true);
        assert!(rx.try_recv().is_err());
        // A frame over the cap is cut, its length said.
        let big = Meter::keeping(&em, true);
        big.frame_out_raw(&vec![b'x'; crate::event::RAW_CAP + 10], false);
        let EventKind::Raw(r) = rx.recv().await.unwrap().kind else {
            panic!()
        };
        assert!(r.out && !r.text);
        assert_eq!(r.len, crate::event::RAW_CAP + 10);
        assert_eq!(r.bytes.unwrap().len(), crate::event::RAW_CAP);
    }

    fn drain(rx: &mut mpsc::Receiver<SourceEvent>) -> Vec<EventKind> {
        std::iter::from_fn(|| rx.try_recv().ok().map(|e| e.kind)).collect()
    }

    #[tokio::test]
    async fn reports_changes_and_channel_deltas_only() {
        let (tx, mut rx) = mpsc::channel(16);
        let em = Emitter::new(3, tx);
        let m = Meter::new();
        m.frame_in(10);
        m.message_in();
        m.channel("log", 10);
        m.channel("log", 5);
        m.frame_out(4);
        m.message_out();
        m.flush(&em).await;
        let evs = drain(&mut rx);
        assert_eq!(evs.len(), 2, "{evs:?}");
        assert!(matches!(
            &evs[0],
            EventKind::Stats(TrafficStats {
                bytes_in: 10,
                frames_in: 1,
                messages_in: 1,
                bytes_out: 4,
                frames_out: 1,
                messages_out: 1,
            })
        ));
        assert!(matches!(
            &evs[1],
            EventKind::Channel { channel, change: ChannelChange::Messages { count: 2, bytes: 15 } }
                if channel == "log"
        ));
        // Nothing new: nothing said.
        m.flush(&em).await;
        assert!(drain(&mut rx).is_empty());
    }

    #[test]
    fn a_full_queue_offers_the_totals_again() {
        let (tx, mut rx) = mpsc::channel(1);
        let em = Emitter::new(0, tx);
        assert!(em.try_emit(EventKind::Rtt(Duration::ZERO)));
        let m = Meter::new();
        m.frames_out(3, 300);
        m.try_flush(&em); // refused: the queue is full
        assert_eq!(drain(&mut rx).len(), 1);
        m.try_flush(&em);
        let evs = drain(&mut rx);
        assert!(matches!(
            &evs[..],
            [EventKind::Stats(TrafficStats {
                frames_out: 3,
                bytes_out: 300,
                ..
            })]
        ));
    }
}
