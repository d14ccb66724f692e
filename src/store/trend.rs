//! A value over the last minute, a second a slot: messages counted in
//! each second, or the largest round trip seen in it. Bounded: 60 slots,
//! whatever comes.

use std::collections::VecDeque;

/// Seconds a trend keeps.
pub const SECONDS: usize = 60;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Trend {
    /// The second of the newest slot.
    end: u64,
    /// Oldest first; at most [`SECONDS`].
    slots: VecDeque<u64>,
}

impl Trend {
    /// The slot of `at_ms`'s second (made, the ones between zeroed), if it
    /// is still within the minute kept.
    fn slot(&mut self, at_ms: u64) -> Option<&mut u64> {
        let s = at_ms / 1000;
        if self.slots.is_empty() {
            self.end = s;
            self.slots.push_back(0);
        }
        if s > self.end {
            for _ in 0..(s - self.end).min(SECONDS as u64) {
                self.slots.push_back(0);
                if self.slots.len() > SECONDS {
                    self.slots.pop_front();
                }
            }
            self.end = s;
        }
        let back = usize::try_from(self.end - s).ok()?;
        let i = self.slots.len().checked_sub(back + 1)?;
        self.slots.get_mut(i)
    }

    /// Count `n` more in `at_ms`'s second.
    pub fn add(&mut self, at_ms: u64, n: u64) {
        if let Some(v) = self.slot(at_ms) {
            *v = v.saturating_add(n);
        }
    }

    /// Keep `v` if it is the largest of `at_ms`'s second.
    pub fn max(&mut self, at_ms: u64, v: u64) {
        if let Some(x) = self.slot(at_ms) {
            *x = (*x).max(v);
        }
    }

    /// The last `n` seconds up to `now_ms`'s, oldest first (0 where
    /// nothing came).
    pub fn last(&self, now_ms: u64, n: usize) -> Vec<u64> {
        let now = now_ms / 1000;
        (0..n as u64)
            .rev()
            .map(|back| {
                let s = now.saturating_sub(back);
                if s > self.end || self.end - s >= self.slots.len() as u64 {
                    return 0;
                }
                let i = self.slots.len() - 1 - (self.end - s) as usize;
                self.slots[i]
            })
            .collect()
    }

    /// Whether anything was ever kept.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_fill_skip_and_age_out() {
        let mut t = Trend::default();
        t.add(10_100, 2);
        t.add(10_900, 3);
        t.add(12_000, 1);
        assert_eq!(t.last(12_500, 4), vec![0, 5, 0, 1]);
        // Later: the minute moves on.
        assert_eq!(t.last(13_000, 3), vec![0, 1, 0]);
        t.add(200_000, 7);
        assert_eq!(t.slots.len(), SECONDS);
        assert_eq!(t.last(200_000, 2), vec![0, 7]);
        // Too old to keep: dropped.
        t.add(10_000, 9);
        assert_eq!(t.last(200_000, SECONDS).iter().sum::<u64>(), 7);
        let mut m = Trend::default();
        m.max(5_000, 30);
        m.max(5_500, 10);
        m.max(6_000, 12);
        assert_eq!(m.last(6_000, 2), vec![30, 12]);
    }
}
