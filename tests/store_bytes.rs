//! `--max-bytes` measured, not only counted: under a measuring allocator
//! (mimalloc, as the binary runs, each block at the size mimalloc really
//! gives it), what the store really holds while it fills stays within what
//! it counts, and so within the bound.
//!
//! One test in this binary, so no other test allocates meanwhile.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicIsize, Ordering::Relaxed};

use roomtap::event::{EventKind, Level, LogRecord, SourceEvent};
use roomtap::protocols::redux::wire::model::{ActionRecord, AppRef, RawJson, ReduxEvent};
use roomtap::store::{Store, StoreConfig};

unsafe extern "C" {
    /// mimalloc's own (linked in through the `mimalloc` crate).
    fn mi_usable_size(p: *const std::ffi::c_void) -> usize;
}

/// Bytes of live blocks, as mimalloc sizes them (it has no block header).
static LIVE: AtomicIsize = AtomicIsize::new(0);

struct Measuring;

const SYSTEM: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn cost(p: *mut u8) -> isize {
    // SAFETY: `p` is a live block from mimalloc.
    (unsafe { mi_usable_size(p.cast()) }) as isize
}

// SAFETY: every call is passed on to mimalloc; only counts are added.
unsafe impl GlobalAlloc for Measuring {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let p = unsafe { SYSTEM.alloc(l) };
        if !p.is_null() {
            LIVE.fetch_add(cost(p), Relaxed);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        let p = unsafe { SYSTEM.alloc_zeroed(l) };
        if !p.is_null() {
            LIVE.fetch_add(cost(p), Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(cost(p), Relaxed);
        unsafe { SYSTEM.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        let old = cost(p);
        let q = unsafe { SYSTEM.realloc(p, l, n) };
        if !q.is_null() {
            LIVE.fetch_add(cost(q) - old, Relaxed);
        }
        q
    }
}

#[global_allocator]
static A: Measuring = Measuring;

fn action(app: usize, id: u64, at_ms: u64) -> SourceEvent {
    SourceEvent {
        source: 0,
        at_ms,
        kind: EventKind::Redux(ReduxEvent::Action {
            app: AppRef {
                socket_id: Some(format!("socket{app}")),
                instance_id: Some(format!("instance{app}")),
                name: Some("flood".into()),
            },
            action: ActionRecord {
                id,
                action_type: "TICK".into(),
                timestamp_ms: Some(at_ms),
                action_raw: format!(r#"{{"type":"TICK","n":{id},"pad":"{}"}}"#, "p".repeat(40))
                    .into(),
                state_raw: Some(RawJson::plain(&format!(
                    r#"{{"n":{id},"s":"{}"}}"#,
                    "s".repeat((id % 1500) as usize)
                ))),
                error: None,
            },
            is_excess: None,
        }),
    }
}

fn log(at_ms: u64, n: usize) -> SourceEvent {
    SourceEvent {
        source: 0,
        at_ms,
        kind: EventKind::Log(LogRecord {
            level: Level::Info,
            kind: format!("kind{}", n % 7),
            summary: "l".repeat(n % 300),
            data: Some("d".repeat(n % 900)),
            bytes: None,
        }),
    }
}

#[test]
fn what_the_store_really_holds_stays_within_max_bytes() {
    let max = 8 << 20;
    let mut s = Store::new(&StoreConfig {
        max_log_entries: usize::MAX,
        max_bytes: max,
        max_actions: 10_000,
        compact: true,
        keep_raw: 0,
    });
    s.add_source(
        "relay",
        roomtap::protocols::redux::CLIENT,
        "ws://127.0.0.1:8000/socketcluster/",
    );
    // What the store holds outside the budget (its sources, each app's
    // name and ids, the reused summary buffer): a few KB.
    let outside: isize = 16 << 10;
    let base = LIVE.load(Relaxed);
    let mut at = 1_000;
    let mut worst = 0isize;
    for n in 1..=80_000u64 {
        at += 1;
        let ev = if n % 4 == 0 {
            log(at, n as usize)
        } else {
            action((n % 3) as usize, n, at)
        };
        s.apply(ev);
        if n % 500 == 0 {
            let live = LIVE.load(Relaxed) - base;
            worst = worst.max(live);
            assert!(
                live <= s.bytes() as isize + outside,
                "after {n}: {live} bytes live, {} counted",
                s.bytes()
            );
            assert!(live <= max as isize + outside, "after {n}: {live} > {max}");
        }
    }
    assert!(s.logs.evicted() > 0);
    // The bound is used, and the count is not far above what is real
    // (an action's JSON is counted in its log line and its row).
    assert!(worst > (max / 2) as isize, "{worst} of {max}");
    let live = LIVE.load(Relaxed) - base;
    assert!(
        (s.bytes() as isize) < live + live / 4,
        "{} counted, {live} live",
        s.bytes()
    );
}
