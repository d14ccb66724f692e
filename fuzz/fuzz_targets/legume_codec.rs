//! libFuzzer target: see `fuzz/harness/legume_codec.rs` (also replayed on
//! stable by `tests/fuzz_corpus.rs`).
#![no_main]

#[path = "../harness/legume_codec.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::run(data));
