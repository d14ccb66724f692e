//! libFuzzer target: see `fuzz/harness/recording.rs` (also replayed on stable by
//! `tests/fuzz_corpus.rs`).
#![no_main]

#[path = "../harness/recording.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::run(data));
