//! What a legume session measures from its own view of the wire: round
//! trips, the ids it has seen (duplicates, loss), and the metrics it
//! reports. Pure: times are given, never read.

use std::collections::{HashSet, VecDeque};
use std::time::Duration;

use crate::event::{Metric, Unit};

/// Round trips: the last 4 (legume's latency is their mean), and the
/// least, the most and the jitter of all of them.
#[derive(Debug, Default, Clone)]
pub struct Rtt {
    last: VecDeque<Duration>,
    pub min: Option<Duration>,
    pub max: Option<Duration>,
    /// Mean absolute difference of consecutive samples (RFC 3550's, as a
    /// running mean with gain 1/16).
    pub jitter: f64,
    prev: Option<Duration>,
    pub samples: u64,
}

impl Rtt {
    pub fn sample(&mut self, d: Duration) {
        if self.last.len() == 4 {
            self.last.pop_front();
        }
        self.last.push_back(d);
        self.min = Some(self.min.map_or(d, |m| m.min(d)));
        self.max = Some(self.max.map_or(d, |m| m.max(d)));
        if let Some(p) = self.prev {
            let diff = (d.as_secs_f64() - p.as_secs_f64()).abs();
            self.jitter += (diff - self.jitter) / 16.0;
        }
        self.prev = Some(d);
        self.samples += 1;
    }

    /// The mean of the last 4 round trips (legume's `latency`).
    pub fn mean(&self) -> Option<Duration> {
        if self.last.is_empty() {
            return None;
        }
        Some(self.last.iter().sum::<Duration>() / self.last.len() as u32)
    }
}

/// The ids of the last [`RecentIds::WINDOW`] messages received, to know a
/// duplicate (legume keeps 1000).
#[derive(Debug, Default)]
pub struct RecentIds {
    order: VecDeque<u16>,
    set: HashSet<u16>,
}

impl RecentIds {
    pub const WINDOW: usize = 1024;

    /// False when `id` was seen within the window (a duplicate).
    pub fn insert(&mut self, id: u16) -> bool {
        if !self.set.insert(id) {
            return false;
        }
        if self.order.len() == Self::WINDOW
            && let Some(old) = self.order.pop_front()
        {
            self.set.remove(&old);
        }
        self.order.push_back(id);
        true
    }
}

/// Estimated loss of the server's messages: the ids a session expected
/// (from its first to its newest, ids wrapping at 65 536) and the distinct
/// ones it got. A message resent until it arrived counts as got: this is
/// what stays lost.
#[derive(Debug, Default)]
pub struct Span {
    first: Option<u16>,
    newest: u16,
    /// Ids expected so far (newest − first + 1, across wraps).
    expected: u64,
    /// Distinct ids got.
    got: u64,
}

impl Span {
    /// A new (not duplicate) id arrived.
    pub fn got(&mut self, id: u16) {
        self.got += 1;
        match self.first {
            None => {
                self.first = Some(id);
                self.newest = id;
                self.expected = 1;
            }
            Some(_) => {
                // Serial number arithmetic: ahead by less than half the
                // space is newer.
                let ahead = id.wrapping_sub(self.newest);
                if ahead != 0 && ahead < 0x8000 {
                    self.expected += u64::from(ahead);
                    self.newest = id;
                }
            }
        }
    }

    /// Percent of the expected ids never got.
    pub fn lost_pct(&self) -> f64 {
        if self.expected == 0 {
            return 0.0;
        }
        100.0 * self.expected.saturating_sub(self.got) as f64 / self.expected as f64
    }
}

/// Everything a session counts, for its metrics.
#[derive(Debug, Default)]
pub struct Counts {
    pub keepalives: u64,
    pub resends: u64,
    pub duplicates: u64,
    pub given_up: u64,
    pub pings_sent: u64,
    pub pongs: u64,
    pub acks_sent: u64,
    pub stale_acks: u64,
}

/// What the session holds when its metrics are reported.
pub struct Snapshot<'a> {
    pub rtt: &'a Rtt,
    pub counts: &'a Counts,
    pub span: &'a Span,
    pub pending_acks: usize,
    pub reorder_queue: usize,
    pub out_buffer_bytes: usize,
    /// Bytes in and out per second since the last report.
    pub rate_in: f64,
    pub rate_out: f64,
}

impl Snapshot<'_> {
    pub fn metrics(&self) -> Vec<Metric> {
        let ms = |d: Option<Duration>| d.map_or(0.0, |d| d.as_secs_f64() * 1000.0);
        let c = self.counts;
        // Pings whose pong never came, as one way's share: a round trip is
        // lost when either way is (1 − (1 − p)²).
        let rt = if c.pings_sent > 1 {
            // The newest ping may still be on its way.
            let answered = (c.pongs as f64 / (c.pings_sent - 1) as f64).min(1.0);
            100.0 * (1.0 - answered.sqrt())
        } else {
            0.0
        };
        vec![
            Metric::new("latency", ms(self.rtt.mean()), Unit::Ms).charted(),
            Metric::new("in", self.rate_in, Unit::Rate).charted(),
            Metric::new("out", self.rate_out, Unit::Rate).charted(),
            Metric::new("rtt min", ms(self.rtt.min), Unit::Ms),
            Metric::new("max", ms(self.rtt.max), Unit::Ms),
            Metric::new("jitter", self.rtt.jitter * 1000.0, Unit::Ms),
            Metric::new("pending acks", self.pending_acks as f64, Unit::Count),
            Metric::new("reorder queue", self.reorder_queue as f64, Unit::Count),
            Metric::new("out buffer", self.out_buffer_bytes as f64, Unit::Bytes),
            Metric::new("keep-alives", c.keepalives as f64, Unit::Count),
            Metric::new("resends", c.resends as f64, Unit::Count),
            Metric::new("duplicates", c.duplicates as f64, Unit::Count),
            Metric::new("given up", c.given_up as f64, Unit::Count),
            Metric::new("loss in", self.span.lost_pct(), Unit::Percent),
            Metric::new("loss (pings)", rt, Unit::Percent),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_is_the_mean_of_the_last_four() {
        let mut r = Rtt::default();
        assert_eq!(r.mean(), None);
        for ms in [10, 2, 4, 6, 8] {
            r.sample(Duration::from_millis(ms));
        }
        assert_eq!(r.mean(), Some(Duration::from_millis(5)));
        assert_eq!(r.min, Some(Duration::from_millis(2)));
        assert_eq!(r.max, Some(Duration::from_millis(10)));
        assert!(r.jitter > 0.0);
    }

    #[test]
    fn a_duplicate_is_known_within_the_window() {
        let mut ids = RecentIds::default();
        assert!(ids.insert(7));
        assert!(!ids.insert(7));
        for i in 0..RecentIds::WINDOW as u16 {
            ids.insert(1000 + i);
        }
        // 7 left the window.
        assert!(ids.insert(7));
    }

    #[test]
    fn loss_counts_ids_never_got_across_the_wrap() {
        let mut s = Span::default();
        for id in [65_530u16, 65_531, 65_533, 65_535, 0, 1, 3] {
            s.got(id);
        }
        // 65530..=3 is 10 ids; 3 never came (65532, 65534, 2).
        assert!((s.lost_pct() - 30.0).abs() < 1e-9, "{}", s.lost_pct());
        // A late one (reordered) fills its gap.
        s.got(2);
        assert!((s.lost_pct() - 20.0).abs() < 1e-9);
    }
}
