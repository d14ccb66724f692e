//! The TracimDaemon codec on arbitrary bytes (one connection's document):
//! decoding never panics and says what is wrong in words; an event that
//! decodes re-encodes (in the Go daemon's form) to a document that decodes
//! to the same event; its typed payloads (a client, a client list, a user
//! id, a Tracim event's TLM) parse or err in words, and a TLM's summary and
//! time never panic. The `:` line parser never panics either.

use roomtap::protocols::tracim::client::command;
use roomtap::protocols::tracim::wire::{event, tlm};

pub fn run(data: &[u8]) {
    match event::decode(data) {
        Ok(ev) => {
            let doc = event::encode(&ev.path, &ev.ty, ev.data.as_deref());
            let again = event::decode(doc.as_bytes()).expect("a re-encoded event decodes");
            assert_eq!(again.path, ev.path);
            assert_eq!(again.ty, ev.ty);
            // `data` may be re-spaced by nothing: it is kept as its text.
            assert_eq!(again.data, ev.data);
            let d = ev.data.as_deref();
            let _ = event::Client::parse(d);
            let _ = event::parse_clients(d);
            let _ = event::parse_user_id(d);
            if let Ok(text) = event::tlm_text(d)
                && let Ok(t) = tlm::decode(&text)
            {
                let _ = (t.kind(), t.summary());
            }
        }
        Err(e) => assert!(!e.0.is_empty(), "an error says what is wrong"),
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = tlm::decode(text);
        let _ = roomtap::text::iso_time_ms(text);
        let _ = event::go_string(text);
        let _ = command::parse(text.lines().next().unwrap_or(""));
    }
}
