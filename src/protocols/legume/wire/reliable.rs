//! One end of a legume connection, as roomtap keeps it (its client and its
//! server alike), pure (times are given): message ids (u16, wrapping), our
//! reliable messages until acked (resent after a delay from the measured
//! round trip, given up after a number of sends), the ids seen (a duplicate
//! is acked again, counted, not delivered again), pings and round trips.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use super::datagram::{self, Body, Decoded, Message, RELIABLE, Rest};
use super::stats::{Counts, RecentIds, Rtt, Span};

/// The resend delay before a round trip is measured (legume's 0.3 s).
pub const FIRST_RESEND: Duration = Duration::from_millis(300);
/// The least and the most a resend waits.
pub const RESEND_MIN: Duration = Duration::from_millis(20);
pub const RESEND_MAX: Duration = Duration::from_secs(2);

/// One of our reliable messages, until its ack.
#[derive(Debug)]
pub struct Pending {
    pub bytes: Vec<u8>,
    pub what: String,
    pub sends: u32,
    pub first: Instant,
    pub next_at: Instant,
    /// The ConnectRequest: giving it up ends the session.
    pub connect: bool,
}

/// What came in, once duplicates are known.
#[derive(Debug, Default)]
pub struct Inbound {
    /// Acks to send (every reliable message, duplicates included), packed.
    pub acks: Vec<Vec<u8>>,
    /// Messages not seen before, in order.
    pub fresh: Vec<Message>,
    /// What could not be decoded, unless it is a duplicate.
    pub rest: Option<Rest>,
}

/// What is due now.
#[derive(Debug, Default)]
pub struct Due {
    /// Resends, packed.
    pub datagrams: Vec<Vec<u8>>,
    /// Messages given up (sent `give_up_after` times, never acked).
    pub given_up: Vec<(u16, Pending)>,
}

pub struct Endpoint {
    ids: Arc<AtomicU16>,
    pub pending: BTreeMap<u16, Pending>,
    seen: RecentIds,
    pub span: Span,
    pub rtt: Rtt,
    pub counts: Counts,
    pings: HashMap<u16, Instant>,
    next_ping_id: u16,
    pub give_up_after: u32,
    pub max_pending: usize,
}

impl Endpoint {
    /// An end whose message ids come from `ids` (shared with whoever may
    /// send on its behalf).
    pub fn new(ids: Arc<AtomicU16>, give_up_after: u32, max_pending: usize) -> Endpoint {
        Endpoint {
            ids,
            pending: BTreeMap::new(),
            seen: RecentIds::default(),
            span: Span::default(),
            rtt: Rtt::default(),
            counts: Counts::default(),
            pings: HashMap::new(),
            next_ping_id: 1,
            give_up_after,
            max_pending,
        }
    }

    /// The next message id: u16, wrapping (legume fails at 65 536).
    pub fn next_id(&self) -> u16 {
        self.ids.fetch_add(1, Ordering::Relaxed)
    }

    /// One of legume's own messages, kept until acked when reliable.
    pub fn system(&mut self, body: &Body, flags: u8, now: Instant) -> Vec<u8> {
        let id = self.next_id();
        let bytes = datagram::system(id, flags, body);
        if flags & RELIABLE != 0 {
            self.keep(
                id,
                bytes.clone(),
                body.line(),
                matches!(body, Body::ConnectRequest { .. }),
                now,
            );
        }
        bytes
    }

    /// Keep message `id` until acked.
    pub fn keep(&mut self, id: u16, bytes: Vec<u8>, what: String, connect: bool, now: Instant) {
        let next_at = now + self.resend_delay(1);
        self.pending.insert(
            id,
            Pending {
                bytes,
                what,
                sends: 1,
                first: now,
                next_at,
                connect,
            },
        );
    }

    /// Whether one more reliable message may wait for its ack.
    pub fn has_room(&self) -> bool {
        self.pending.len() < self.max_pending
    }

    /// How long a message sent `sends` times waits before the next send:
    /// twice the measured round trip (in seconds, not legume's ms-as-s),
    /// doubling with each send, within [20 ms, 2 s].
    pub fn resend_delay(&self, sends: u32) -> Duration {
        let base = self
            .rtt
            .mean()
            .map_or(FIRST_RESEND, |m| (m * 2).clamp(RESEND_MIN, RESEND_MAX));
        base.saturating_mul(1 << sends.saturating_sub(1).min(8))
            .min(RESEND_MAX)
    }

    /// A decoded datagram: acks for every reliable message in it (a
    /// duplicate's too: one lost ack must not make its sender resend
    /// forever), and what was not seen before.
    pub fn take_in(&mut self, decoded: Decoded) -> Inbound {
        let mut acks: Vec<u16> = Vec::new();
        let mut fresh = Vec::with_capacity(decoded.messages.len());
        for m in decoded.messages {
            if m.header.wants_ack() {
                acks.push(m.header.id);
            }
            if self.seen.insert(m.header.id) {
                self.span.got(m.header.id);
                fresh.push(m);
            } else {
                self.counts.duplicates += 1;
            }
        }
        let rest = decoded.rest.and_then(|rest| {
            let Some(h) = rest.header else {
                return Some(rest);
            };
            if h.wants_ack() {
                acks.push(h.id);
            }
            if self.seen.insert(h.id) {
                self.span.got(h.id);
                Some(rest)
            } else {
                self.counts.duplicates += 1;
                None
            }
        });
        self.counts.acks_sent += acks.len() as u64;
        let msgs: Vec<Vec<u8>> = acks
            .into_iter()
            .map(|id| datagram::system(self.next_id(), 0, &Body::MessageAck { id: i32::from(id) }))
            .collect();
        Inbound {
            acks: datagram::pack(msgs.iter().map(Vec::as_slice)),
            fresh,
            rest,
        }
    }

    /// A MessageAck came: what it acks is no longer pending.
    pub fn acked(&mut self, id: i32) -> Option<Pending> {
        let p = u16::try_from(id).ok().and_then(|id| self.pending.remove(&id));
        if p.is_none() {
            self.counts.stale_acks += 1;
        }
        p
    }

    /// Our next Ping (pings older than `forget` are forgotten).
    pub fn ping(&mut self, now: Instant, forget: Duration) -> Vec<u8> {
        let id = self.next_ping_id;
        self.next_ping_id = id.wrapping_add(1);
        self.pings.retain(|_, at| now.duration_since(*at) < forget);
        self.pings.insert(id, now);
        self.counts.pings_sent += 1;
        self.system(&Body::Ping { id }, 0, now)
    }

    /// A Pong came: its round trip, when it answers one of our pings.
    pub fn pong(&mut self, id: u16, now: Instant) -> Option<Duration> {
        let at = self.pings.remove(&id)?;
        let d = now.duration_since(at);
        self.rtt.sample(d);
        self.counts.pongs += 1;
        Some(d)
    }

    /// Resends due at `now`, and what is given up.
    pub fn due(&mut self, now: Instant) -> Due {
        let ids: Vec<u16> = self
            .pending
            .iter()
            .filter(|(_, p)| p.next_at <= now)
            .map(|(id, _)| *id)
            .collect();
        let mut due = Due::default();
        let mut out: Vec<Vec<u8>> = Vec::new();
        for id in ids {
            let sends = self.pending.get(&id).map_or(0, |p| p.sends);
            if sends >= self.give_up_after {
                if let Some(p) = self.pending.remove(&id) {
                    self.counts.given_up += 1;
                    due.given_up.push((id, p));
                }
                continue;
            }
            let delay = self.resend_delay(sends + 1);
            if let Some(p) = self.pending.get_mut(&id) {
                p.sends += 1;
                p.next_at = now + delay;
                out.push(p.bytes.clone());
                self.counts.resends += 1;
            }
        }
        due.datagrams = datagram::pack(out.iter().map(Vec::as_slice));
        due
    }

    /// Bytes of our messages still waiting for their ack.
    pub fn out_buffer_bytes(&self) -> usize {
        self.pending.values().map(|p| p.bytes.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocols::legume::wire::datagram::{Header, decode};
    use crate::protocols::legume::wire::schema::Schema;

    fn end() -> Endpoint {
        Endpoint::new(Arc::new(AtomicU16::new(1)), 3, 4)
    }

    #[test]
    fn every_reliable_message_is_acked_a_duplicate_again_but_shown_once() {
        let mut e = end();
        let schema = Schema::default();
        // A reliable ConnectRequestAccepted (the capture's 000200000204).
        let d = [0x00, 0x02, 0x00, 0x00, 0x02, 0x04];
        let first = e.take_in(decode(&d, &schema));
        assert_eq!(first.fresh.len(), 1);
        assert_eq!(first.acks, vec![vec![0, 1, 0, 0, 0, 8, 0, 0, 0, 2]]);
        let again = e.take_in(decode(&d, &schema));
        assert!(again.fresh.is_empty());
        // Acked again, with a fresh id of ours.
        assert_eq!(again.acks, vec![vec![0, 2, 0, 0, 0, 8, 0, 0, 0, 2]]);
        assert_eq!(e.counts.duplicates, 1);
    }

    #[test]
    fn resends_double_from_the_round_trip_and_are_given_up() {
        let mut e = end();
        let t0 = Instant::now();
        let d = e.system(&Body::ConnectRequest { protocol: 4 }, RELIABLE, t0);
        assert_eq!(d, [0, 1, 0, 0, 2, 2, 4]);
        assert_eq!(e.resend_delay(1), FIRST_RESEND);
        // A 4 ms round trip: 8 ms, held to 20 ms, then doubled.
        e.ping(t0, Duration::from_secs(10));
        e.pong(1, t0 + Duration::from_millis(4)).unwrap();
        assert_eq!(e.resend_delay(1), RESEND_MIN);
        assert_eq!(e.resend_delay(2), RESEND_MIN * 2);
        assert_eq!(e.resend_delay(20), RESEND_MAX);
        // Due at 300 ms (sent before the sample), resent twice, given up.
        assert!(e.due(t0 + Duration::from_millis(299)).datagrams.is_empty());
        let due = e.due(t0 + Duration::from_millis(300));
        assert_eq!(due.datagrams, vec![d.to_vec()]);
        let due = e.due(t0 + Duration::from_secs(1));
        assert_eq!(due.datagrams.len(), 1);
        let due = e.due(t0 + Duration::from_secs(2));
        assert!(due.datagrams.is_empty());
        assert_eq!(due.given_up.len(), 1);
        assert!(due.given_up[0].1.connect);
        assert_eq!((e.counts.resends, e.counts.given_up), (2, 1));
        assert!(e.pending.is_empty());
    }

    #[test]
    fn ids_wrap_instead_of_failing() {
        let e = Endpoint::new(Arc::new(AtomicU16::new(65_535)), 3, 4);
        assert_eq!(e.next_id(), 65_535);
        assert_eq!(e.next_id(), 0);
        let h = Header {
            id: 65_535,
            ..Header::default()
        };
        assert!(!h.wants_ack());
    }
}
