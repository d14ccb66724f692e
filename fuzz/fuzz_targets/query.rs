//! libFuzzer target: see `fuzz/harness/query.rs` (also replayed on stable by
//! `tests/fuzz_corpus.rs`).
#![no_main]

#[path = "../harness/query.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::run(data));
