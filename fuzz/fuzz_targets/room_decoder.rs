//! libFuzzer target: see `fuzz/harness/room_decoder.rs` (also replayed on stable by
//! `tests/fuzz_corpus.rs`).
#![no_main]

#[path = "../harness/room_decoder.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::run(data));
