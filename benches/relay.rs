//! Relay throughput: the real `@redux-devtools/cli` relay vs `roomtap serve` (in progress).
fn main() {}
