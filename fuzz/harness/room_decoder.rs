//! The MeshAgent packet and message decoder on arbitrary input: the input
//! is cut into frames (a big-endian u16 length before each), fed to the assembler,
//! and every completed message goes through unpack, content decoding and
//! developer-log decoding, as the room source does. Nothing may panic, and
//! a message never exceeds the assembler's cap.

use roomtap::protocols::room::wire::codec::{Assembler, Content, unpack};
use roomtap::protocols::room::wire::logs;
use serde_json::Value;

const CAP: usize = 1 << 16;

pub fn run(data: &[u8]) {
    let mut asm = Assembler::new(CAP);
    let mut rest = data;
    while rest.len() >= 2 {
        let n = u16::from_be_bytes([rest[0], rest[1]]) as usize;
        let tail = &rest[2..];
        let n = n.min(tail.len());
        let (frame, after) = tail.split_at(n);
        rest = after;
        let (_err, msg) = asm.feed(frame);
        if let Some(m) = msg {
            assert!(m.data.len() <= CAP);
            if let Ok((head, payload)) = unpack(&m.data) {
                let _ = Content::from_parts(&head, payload);
                if let Some(chunk) = head.get("chunk") {
                    let _ = Content::from_parts(chunk, payload);
                }
                let ty = head
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or("otel.log");
                let d = head.get("data").unwrap_or(&head);
                let _ = logs::lines(ty, d);
                let _ = logs::lines("otel.log", &head);
            }
        }
    }
}
