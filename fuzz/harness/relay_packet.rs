//! The embedded relay's packet parser on arbitrary text: `decode` (the
//! scanner hot path first) gives exactly what `decode_reference` (serde
//! only) gives, packets or error; the facts the relay reads from app
//! messages and commands (the data of every packet) never panic.

use roomtap::protocols::redux::wire::packet::{
    Packet, app_facts, command_facts, decode, decode_reference,
};

pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let fast = decode(text);
    let slow = decode_reference(text);
    assert_eq!(fast, slow, "hot path vs serde path");
    if let Ok(packets) = &fast {
        for p in packets {
            if let Packet::Event { data: Some(d), .. } = p {
                facts(d);
            }
        }
    }
    facts(text);
}

/// What the relay reads of app messages and commands: never a panic.
fn facts(data: &str) {
    let _ = app_facts(data);
    let _ = command_facts(data);
}
