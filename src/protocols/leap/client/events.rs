//! A server dispatch → neutral events: channel availability and state for
//! the channel-state pane, messages as log lines (with the channel in their
//! data, so `/data.channel:lobby` selects them), pipe rooms as channels
//! named `pipe:ID` (join tokens masked), unknown events kept as lines.

use std::collections::HashMap;

use crate::protocols::leap::wire::codec::{self, Dispatch, Event};
use crate::protocols::leap::wire::model::mask_token;
use crate::event::{ChannelUpdate, EventKind, Level, LogRecord};

/// A reply a command waits for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Reply {
    /// AVAILABLE or UNAVAILABLE for the channel.
    Subscribe(String),
    /// STATE_UPDATE for the channel.
    State(String),
    /// PIPE_ROOM_AVAILABLE / UNAVAILABLE for the join token (masked).
    Pipe(String),
}

impl Reply {
    pub fn describe(&self) -> String {
        match self {
            Reply::Subscribe(c) => format!("SUBSCRIBE {c} (no AVAILABLE or UNAVAILABLE)"),
            Reply::State(c) => format!("SET_CHANNEL_STATE on {c} (no STATE_UPDATE)"),
            Reply::Pipe(t) => format!("PIPE_ROOM_SUBSCRIBE {t} (no PIPE_ROOM_AVAILABLE)"),
        }
    }
}

/// What one dispatch means.
#[derive(Default)]
pub struct Out {
    pub init: Option<codec::Init>,
    /// Replies it answers.
    pub replies: Vec<Reply>,
    /// A message on a channel ("direct" for DIRECT_MESSAGE) and its size.
    pub traffic: Option<(String, usize)>,
    /// The message's event name (`e`).
    pub event_name: Option<String>,
    pub events: Vec<EventKind>,
}

fn log(level: Level, kind: &str, summary: String, data: Option<String>) -> EventKind {
    EventKind::Log(LogRecord {
        level,
        kind: kind.to_string(),
        summary,
        data,
        bytes: None,
    })
}

fn q(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// Short JSON text for a summary line.
fn preview(json: &str) -> std::borrow::Cow<'_, str> {
    match json.char_indices().nth(120) {
        Some((cut, _)) => format!("{}…", &json[..cut]).into(),
        None => json.into(),
    }
}

fn channel_state(channel: &str, update: ChannelUpdate) -> EventKind {
    EventKind::ChannelState {
        channel: channel.to_string(),
        update,
    }
}

fn pipe_facts(room: &codec::PipeRoom, connections: &[String]) -> Vec<(String, String)> {
    let mut f = vec![("type".to_string(), "pipe room".to_string())];
    let mut put = |k: &str, v: Option<String>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            f.push((k.to_string(), v));
        }
    };
    put("name", room.name.clone());
    put("room state", room.state.clone());
    put(
        "protocols",
        Some(format!(
            "{} → {}",
            room.ingest_protocol.as_deref().unwrap_or("?"),
            if room.delivery_protocols.is_empty() {
                "?".to_string()
            } else {
                room.delivery_protocols.join(", ")
            }
        )),
    );
    put("region", room.ingest_region.clone());
    put("connections", Some(connections.join(", ")));
    put("created", room.created_at.clone());
    put("join token", room.join_token.as_deref().map(mask_token));
    f
}

/// Map one server dispatch.
pub fn on_dispatch(d: &Dispatch, pipes: &mut HashMap<String, String>) -> Out {
    let mut out = Out::default();
    let chan = d.channel.clone().unwrap_or_default();
    let ev = match codec::event(d) {
        Ok(ev) => ev,
        Err(e) => {
            out.events.push(EventKind::Malformed {
                what: format!("Leap {} event: {e}", d.event),
                raw: d.data.chars().take(4096).collect(),
            });
            return out;
        }
    };
    match ev {
        Event::Init(init) => {
            out.events.push(log(
                Level::Info,
                "INIT",
                format!(
                    "connected as {} in {} scope ({} connection{})",
                    init.cid.as_deref().unwrap_or("?"),
                    init.scope.as_deref().unwrap_or("?"),
                    init.connection_count.unwrap_or(0),
                    if init.connection_count == Some(1) {
                        ""
                    } else {
                        "s"
                    }
                ),
                Some(d.data.clone()),
            ));
            for c in &init.channels {
                out.events.push(available(c));
            }
            out.init = Some(init);
        }
        Event::Available(c) => {
            let id = if c.id.is_empty() {
                chan.clone()
            } else {
                c.id.clone()
            };
            out.replies.push(Reply::Subscribe(id.clone()));
            out.events.push(log(
                Level::Info,
                "AVAILABLE",
                format!(
                    "channel {id} available ({})",
                    c.kind.as_deref().unwrap_or("type unknown")
                ),
                None,
            ));
            out.events.push(available(&codec::Channel { id, ..c }));
        }
        Event::Unavailable {
            graceful,
            error_code,
        } => {
            out.replies.push(Reply::Subscribe(chan.clone()));
            let reason = unavailable_words(error_code.as_deref(), graceful);
            out.events.push(log(
                if graceful { Level::Info } else { Level::Warn },
                "UNAVAILABLE",
                format!("channel {chan} unavailable: {reason}"),
                None,
            ));
            out.events
                .push(channel_state(&chan, ChannelUpdate::Unavailable { reason }));
        }
        Event::StateUpdate { state: text } => {
            out.replies.push(Reply::State(chan.clone()));
            out.events.push(log(
                Level::Debug,
                "STATE_UPDATE",
                format!("{chan} state {}", preview(&text)),
                Some(format!("{{\"channel\":{},\"state\":{text}}}", q(&chan))),
            ));
            out.events
                .push(channel_state(&chan, ChannelUpdate::State { state: text }));
        }
        Event::TokenStateUpdate { state: text } => {
            out.events.push(log(
                Level::Debug,
                "TOKEN_STATE_UPDATE",
                format!("{chan} token state {}", preview(&text)),
                Some(format!("{{\"channel\":{},\"state\":{text}}}", q(&chan))),
            ));
            out.events.push(channel_state(
                &chan,
                ChannelUpdate::TokenState { state: text },
            ));
        }
        Event::Message { event, data } => {
            let direct = d.event == "DIRECT_MESSAGE" || d.channel.is_none();
            let where_ = if direct {
                "direct".to_string()
            } else {
                chan.clone()
            };
            out.traffic = Some((where_.clone(), data.len()));
            out.event_name = Some(event.clone());
            out.events.push(log(
                Level::Info,
                &d.event,
                format!("{where_} {event} {}", preview(&data)),
                Some(format!(
                    "{{\"channel\":{},\"event\":{},\"unicast\":{},\"data\":{data}}}",
                    q(&where_),
                    q(&event),
                    d.unicast
                )),
            ));
        }
        Event::PipeRoomAvailable { room, connections }
        | Event::PipeRoomUpdate { room, connections } => {
            let id = room
                .id
                .clone()
                .or_else(|| room.name.clone())
                .unwrap_or_else(|| "?".into());
            let name = format!("pipe:{id}");
            if let Some(t) = &room.join_token {
                out.replies.push(Reply::Pipe(mask_token(t)));
                pipes.insert(t.clone(), name.clone());
            }
            out.events.push(log(
                Level::Info,
                &d.event,
                format!(
                    "pipe room {id} {}",
                    room.state.as_deref().unwrap_or("state unknown")
                ),
                None,
            ));
            out.events.push(channel_state(
                &name,
                ChannelUpdate::Available {
                    facts: pipe_facts(&room, &connections),
                    state: None,
                },
            ));
        }
        Event::PipeRoomUnavailable {
            join_token,
            graceful,
            error_code,
        } => {
            let masked = join_token.as_deref().map(mask_token).unwrap_or_default();
            out.replies.push(Reply::Pipe(masked.clone()));
            let name = join_token
                .as_deref()
                .and_then(|t| pipes.get(t).cloned())
                .unwrap_or_else(|| format!("pipe:{masked}"));
            let reason = unavailable_words(error_code.as_deref(), graceful);
            out.events.push(log(
                Level::Warn,
                &d.event,
                format!("pipe room {name} unavailable: {reason}"),
                None,
            ));
            out.events
                .push(channel_state(&name, ChannelUpdate::Unavailable { reason }));
        }
        Event::Unknown => {
            out.events.push(log(
                Level::Warn,
                "leap",
                format!(
                    "unknown event {} on {} (kept, not understood)",
                    d.event,
                    if chan.is_empty() {
                        "the connection"
                    } else {
                        &chan
                    }
                ),
                Some(d.data.clone()),
            ));
        }
    }
    out
}

fn unavailable_words(code: Option<&str>, graceful: bool) -> String {
    let why = match code {
        Some("NOT_GRANTED") => "NOT_GRANTED: this token may not subscribe to it",
        Some("UNKNOWN") => "UNKNOWN: no such channel, or the edge would not say",
        Some(other) => other,
        None => "no reason given",
    };
    format!("{why}{}", if graceful { " (graceful)" } else { "" })
}

fn available(c: &codec::Channel) -> EventKind {
    let mut facts = Vec::new();
    if let Some(k) = &c.kind {
        facts.push(("type".to_string(), k.clone()));
    }
    if let Some(cap) = &c.capabilities {
        facts.push(("capabilities".to_string(), cap.to_string()));
    }
    if let Some(t) = &c.created_at {
        facts.push(("created".to_string(), t.clone()));
    }
    if let Some(p) = &c.project_id {
        facts.push(("project".to_string(), p.clone()));
    }
    channel_state(
        &c.id,
        ChannelUpdate::Available {
            facts,
            state: c.state.as_ref().map(|s| s.to_string()),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dispatch(text: &str) -> Dispatch {
        match codec::decode(text).unwrap() {
            codec::Frame::Dispatch(d) => d,
            f => panic!("{f:?}"),
        }
    }

    #[test]
    fn messages_carry_their_channel_and_join_tokens_never_show() {
        let mut pipes = HashMap::new();
        let out = on_dispatch(
            &dispatch(
                r#"{"op":0,"d":{"c":"chan_1","u":false,"e":"MESSAGE","d":{"e":"chat","d":{"text":"hi"}}}}"#,
            ),
            &mut pipes,
        );
        assert_eq!(out.traffic, Some(("chan_1".into(), 13)));
        let EventKind::Log(l) = &out.events[0] else {
            panic!()
        };
        let v: serde_json::Value = serde_json::from_str(l.data.as_deref().unwrap()).unwrap();
        assert_eq!(v["channel"], "chan_1");
        assert_eq!(v["data"]["text"], "hi");
        let out = on_dispatch(
            &dispatch(
                r#"{"op":0,"d":{"c":null,"u":false,"e":"PIPE_ROOM_AVAILABLE","d":{"pipe_room":{"id":"pr1","join_token":"jt_secret_1","state":"live","delivery_protocols":["webrtc"],"ingest_protocol":"rtmp","ingest_region":"us-east-1"},"connection":{"webrtc":{},"llhls":null}}}}"#,
            ),
            &mut pipes,
        );
        let all = format!("{:?}", out.events);
        assert!(!all.contains("jt_secret_1"), "{all}");
        assert!(
            all.contains("pipe:pr1") && all.contains("rtmp → webrtc"),
            "{all}"
        );
        let out = on_dispatch(
            &dispatch(
                r#"{"op":0,"d":{"c":null,"u":false,"e":"PIPE_ROOM_UNAVAILABLE","d":{"join_token":"jt_secret_1","graceful":false,"error_code":"NOT_GRANTED"}}}"#,
            ),
            &mut pipes,
        );
        let all = format!("{:?}", out.events);
        assert!(
            !all.contains("jt_secret_1") && all.contains("pipe:pr1"),
            "{all}"
        );
    }

    #[test]
    fn a_wrongly_typed_event_is_a_visible_error() {
        let out = on_dispatch(
            &dispatch(r#"{"op":0,"d":{"c":"c","e":"STATE_UPDATE","d":{"nostate":1}}}"#),
            &mut HashMap::new(),
        );
        assert!(
            matches!(&out.events[0], EventKind::Malformed { what, .. } if what.contains("STATE_UPDATE"))
        );
    }
}
