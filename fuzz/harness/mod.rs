//! The fuzz targets' bodies: each `run(data)` panics on a bug. Shared by
//! the libFuzzer targets (`fuzz/fuzz_targets/`, nightly) and the corpus
//! replay (`tests/fuzz_corpus.rs`, stable, in CI).

pub mod config;
pub mod json_scan;
pub mod leap_codec;
pub mod legume_codec;
pub mod query;
pub mod recording;
pub mod redux_codec;
pub mod relay_packet;
pub mod room_decoder;
pub mod theme;
pub mod tracim_codec;
