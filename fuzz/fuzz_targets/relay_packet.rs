//! libFuzzer target: see `fuzz/harness/relay_packet.rs` (also replayed on stable by
//! `tests/fuzz_corpus.rs`).
#![no_main]

#[path = "../harness/relay_packet.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::run(data));
