//! What the store's data really costs in memory, for `--max-bytes`: an
//! allocation of `n` bytes costs its allocator's size class plus the
//! allocator's per-block overhead, not `n`.
//!
//! The model is an upper bound for both allocators roomtap runs on: glibc's
//! malloc (the library and its tests) and mimalloc (the binary). glibc
//! rounds `n + 8` (its chunk header) up to 16 bytes, 32 at least; mimalloc
//! has no header but rounds to size classes 12.5 % apart (8 bytes apart up
//! to 64). Blocks past glibc's mmap threshold cost whole pages plus one.
//! `tests/store_bytes.rs` measures it under mimalloc; glibc can do a few
//! percent worse, as it hands out a reused free block whole when the rest
//! is too small to split off.

/// Bytes an allocation of `n` bytes takes from the system (0 for none).
pub fn alloc(n: usize) -> usize {
    if n == 0 {
        return 0;
    }
    if n >= 128 << 10 {
        return n.next_multiple_of(4096) + 4096;
    }
    let glibc = (n + 8).next_multiple_of(16).max(32);
    glibc.max(mimalloc_class(n))
}

/// mimalloc's small size class for `n` bytes (its `_mi_bin` rounding).
fn mimalloc_class(n: usize) -> usize {
    let words = n.div_ceil(8);
    if words <= 8 {
        return words * 8;
    }
    let w = words - 1;
    let b = usize::BITS - 1 - w.leading_zeros();
    let step = 1usize << (b - 2);
    ((w >> (b - 2)) + 1) * step * 8
}

/// A `Box<str>` / `String` of exactly this length.
pub fn boxed_str(s: &str) -> usize {
    alloc(s.len())
}

/// An `Arc<str>`: two counters before the text.
pub fn arc_str(s: &str) -> usize {
    alloc(16 + s.len())
}

/// A container's buffer of `capacity` elements of `T`.
pub fn buffer<T>(capacity: usize) -> usize {
    alloc(capacity * std::mem::size_of::<T>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_round_up_to_what_the_allocators_hand_out() {
        assert_eq!(alloc(0), 0);
        // glibc: 32 bytes at least; 24 usable.
        assert_eq!(alloc(1), 32);
        assert_eq!(alloc(24), 32);
        assert_eq!(alloc(25), 48);
        // mimalloc's classes past 64 bytes: 80, 96, 112, 128, 160...
        assert_eq!(mimalloc_class(65), 80);
        assert_eq!(mimalloc_class(129), 160);
        assert_eq!(mimalloc_class(1025), 1280);
        assert!(alloc(1025) >= 1280);
        for n in 1..5000 {
            assert!(alloc(n) >= n + 8, "{n}");
            assert!(alloc(n) >= mimalloc_class(n), "{n}");
        }
        assert_eq!(alloc(1 << 20), (1 << 20) + 4096);
    }
}
