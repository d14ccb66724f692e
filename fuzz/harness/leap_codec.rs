//! The Leap codec on arbitrary bytes: the first byte says text (even) or a
//! zlib binary frame (odd), the rest is the frame. Decoding never panics,
//! never inflates past the cap; a frame that decodes re-encodes to the
//! same frame; a dispatch's event is typed or an error in words; the close
//! reason checks and the `:` line parser never panic. The channel-state
//! index and diff (what a STATE_UPDATE's state goes through) are checked
//! against serde: a text indexes only if serde reads it, and the indexed
//! diff of two texts (the input split at its first NUL) is the value diff.

use roomtap::jsondiff;
use roomtap::protocols::leap::client::command;
use roomtap::protocols::leap::wire::codec;

pub fn run(data: &[u8]) {
    let Some((&mode, frame)) = data.split_first() else {
        return;
    };
    let binary = mode & 1 == 1;
    let bytes: Vec<u8> = if binary && mode & 2 == 2 {
        // Deflate the rest first, so the fuzzer reaches the JSON behind zlib.
        codec::deflate(&String::from_utf8_lossy(frame))
    } else {
        frame.to_vec()
    };
    if let Ok(text) = codec::frame_text(&bytes, binary) {
        assert!(text.len() <= codec::MAX_FRAME, "inflated past the cap");
    }
    match codec::decode_bytes(&bytes, binary) {
        Ok(f) => {
            let again = codec::decode(&codec::encode(&f))
                .unwrap_or_else(|e| panic!("{f:?} re-encoded does not decode: {e}"));
            assert_eq!(again, f, "encode/decode round trip");
            if let codec::Frame::Dispatch(d) = &f {
                let _ = codec::event(d);
            }
        }
        Err(e) => assert!(!e.0.is_empty(), "an error says why"),
    }
    if let Ok(s) = std::str::from_utf8(frame) {
        if let Ok(url) = codec::redirect_target(s) {
            assert!(url.starts_with("ws://") || url.starts_with("wss://"));
            assert!(!url.chars().any(|c| c.is_control()));
        }
        let _ = command::parse(s);
    }
    if let Ok(s) = std::str::from_utf8(frame) {
        let (a, b) = s.split_once('\0').unwrap_or((s, s));
        let parse = |t: &str| serde_json::from_str::<serde_json::Value>(t).ok();
        for t in [a, b] {
            if jsondiff::Index::build(t).is_some() {
                // What serde accepts as JSON (it skips a lone surrogate
                // escape but makes no String of it: not a value).
                assert!(
                    serde_json::from_str::<serde::de::IgnoredAny>(t).is_ok(),
                    "indexed what serde refuses: {t:?}"
                );
            }
        }
        if let (Some(va), Some(vb)) = (parse(a), parse(b)) {
            let want = jsondiff::diff(&va, &vb, 10_000);
            assert_eq!(
                jsondiff::diff_raw(a, b, 10_000),
                Some(want),
                "{a:?} → {b:?}"
            );
        }
    }
    if frame.len() >= 2 {
        let _ = codec::close_code(u16::from_be_bytes([frame[0], frame[1]]));
    }
}
