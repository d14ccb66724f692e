//! A client's frame: decoded with the Leap codec and answered. Replies go
//! through the connection's queue (so they keep their order with what the
//! server publishes); a frame that ends the connection returns the close.

use serde_json::Value;

use super::{
    HEARTBEATS_CAP, Hub, Out, RECEIVED_CAP, Scope, State, dispatch, message_data, q, state_data,
};
use crate::event::Level;
use crate::protocols::leap::wire::codec::{self, Dispatch, Frame};
use crate::text::sanitize_capped;

const INVALID_PAYLOAD: &str = "Invalid payload";

fn name(s: &str) -> std::borrow::Cow<'_, str> {
    sanitize_capped(s, 80)
}

/// Handle one frame from `cid`; returns the close (code, reason) that ends
/// the connection, if it must end.
pub(super) fn handle(
    hub: &Hub,
    cid: &str,
    identified: &mut bool,
    bytes: &[u8],
    binary: bool,
) -> Option<(u16, String)> {
    if bytes.len() > hub.cfg.max_frame {
        hub.notice(
            Level::Warn,
            format!(
                "{cid} sent a frame of {} B, over the {} B cap: closing with 4005",
                bytes.len(),
                hub.cfg.max_frame
            ),
        );
        return Some((4005, INVALID_PAYLOAD.into()));
    }
    let frame = match codec::decode_bytes(bytes, binary) {
        Ok(f) => f,
        Err(e) => {
            hub.notice(
                Level::Warn,
                format!("{cid} sent a bad frame ({e}): closing with 4005"),
            );
            return Some((4005, INVALID_PAYLOAD.into()));
        }
    };
    match frame {
        Frame::Identify { project_id, token } => {
            if *identified {
                hub.notice(Level::Warn, format!("{cid} sent IDENTIFY again (ignored)"));
                return None;
            }
            match identify(hub, cid, &project_id, token.as_deref()) {
                Ok(()) => {
                    *identified = true;
                    None
                }
                Err(close) => close,
            }
        }
        Frame::Heartbeat { tag } => {
            let ack = hub
                .acking
                .load(std::sync::atomic::Ordering::Relaxed)
                .then(|| {
                    codec::encode(&Frame::Ack {
                        tag: tag.clone(),
                        latency: Some(0),
                    })
                });
            {
                let mut st = hub.state();
                if st.heartbeats.len() >= HEARTBEATS_CAP {
                    st.heartbeats.pop_front();
                }
                st.heartbeats.push_back((cid.to_string(), tag));
                if let Some(ack) = ack {
                    hub.send_to(&mut st, cid, Out::Frame(ack));
                }
            }
            hub.changed();
            None
        }
        Frame::Dispatch(d) => {
            if !*identified {
                hub.notice(
                    Level::Warn,
                    format!(
                        "{cid} sent {} before IDENTIFY: closing with 4003",
                        name(&d.event)
                    ),
                );
                return Some((4003, "Not authenticated".into()));
            }
            service(hub, cid, d)
        }
        Frame::Hello { .. } | Frame::Ack { .. } | Frame::Unknown { .. } => {
            let op = match frame {
                Frame::Hello { .. } => codec::OP_HELLO,
                Frame::Ack { .. } => codec::OP_HEARTBEAT_ACK,
                Frame::Unknown { op, .. } => op,
                _ => -1,
            };
            hub.notice(
                Level::Warn,
                format!("{cid} sent op {op}, not a client op: closing with 4004"),
            );
            Some((4004, "Invalid opcode".into()))
        }
    }
}

/// IDENTIFY: INIT, or the close that refuses it (4001; `None` when the
/// connection is already gone).
fn identify(
    hub: &Hub,
    cid: &str,
    project: &str,
    token: Option<&str>,
) -> Result<(), Option<(u16, String)>> {
    let refuse = |why: String| {
        hub.notice(
            Level::Warn,
            format!("{cid} refused: {why}: closing with 4001"),
        );
        Err(Some((4001, "Invalid auth".to_string())))
    };
    if project != hub.cfg.project {
        return refuse(format!(
            "project {} is not served here ({} is)",
            name(project),
            name(&hub.cfg.project)
        ));
    }
    let (scope, how) = match token {
        Some(_) if hub.cfg.tokens.is_empty() => (Scope::Token, "token accepted (any token)"),
        Some(t) if hub.cfg.tokens.iter().any(|s| s.expose() == t) => (Scope::Token, "token ok"),
        Some(_) => return refuse("invalid token".into()),
        None if hub.cfg.allow_no_token => (Scope::Project, "no token"),
        None => return refuse("no token (tokens are required)".into()),
    };
    {
        let mut st = hub.state();
        let Some(c) = st.clients.get_mut(cid) else {
            return Err(None);
        };
        c.scope = Some(scope);
        let count = st.clients.values().filter(|c| c.scope.is_some()).count();
        let init = format!(
            "{{\"cid\":{},\"connection_count\":{count},\"metadata\":null,\"scope\":{},\"channels\":[]}}",
            q(cid),
            q(scope.name())
        );
        hub.send_to(
            &mut st,
            cid,
            Out::Frame(dispatch(None, false, "INIT", &init)),
        );
    }
    hub.notice(
        Level::Info,
        format!(
            "{cid} identified for {}: {how}, scope {}",
            name(project),
            scope.name()
        ),
    );
    hub.report_peers();
    hub.changed();
    Ok(())
}

fn record(st: &mut State, cid: &str, d: &Dispatch, data: &Value) {
    if st.received.len() >= RECEIVED_CAP {
        st.received.pop_front();
    }
    st.received.push_back((
        cid.to_string(),
        d.event.clone(),
        d.channel.clone(),
        data.clone(),
    ));
}

/// A service event from an identified client.
fn service(hub: &Hub, cid: &str, d: Dispatch) -> Option<(u16, String)> {
    // The codec kept `d` as raw JSON text: it parses.
    let data: Value = serde_json::from_str(&d.data).unwrap_or(Value::Null);
    let mut st = hub.state();
    record(&mut st, cid, &d, &data);
    let close = match d.event.as_str() {
        "SUBSCRIBE" | "UNSUBSCRIBE" | "MESSAGE" | "SET_CHANNEL_STATE" if d.channel.is_none() => {
            hub.notice(
                Level::Warn,
                format!(
                    "{cid} sent {} without a channel: closing with 4005",
                    d.event
                ),
            );
            Some((4005, INVALID_PAYLOAD.to_string()))
        }
        "SUBSCRIBE" => {
            subscribe(hub, &mut st, cid, d.channel.as_deref().unwrap_or_default());
            None
        }
        "UNSUBSCRIBE" => {
            let ch = d.channel.as_deref().unwrap_or_default();
            if let Some(c) = st.clients.get_mut(cid) {
                c.subs.remove(ch);
            }
            hub.forget_unwatched(&mut st);
            hub.notice(Level::Info, format!("{cid} unsubscribed from {}", name(ch)));
            None
        }
        "MESSAGE" => {
            let ch = d.channel.as_deref().unwrap_or_default();
            if subscribed(&st, cid, ch) {
                let ev = data.get("e").and_then(Value::as_str).unwrap_or_default();
                let payload = data.get("d").cloned().unwrap_or(Value::Null);
                let frame = dispatch(Some(ch), false, "MESSAGE", &message_data(ev, &payload));
                hub.fan_out(&mut st, ch, Some(cid), &frame);
            } else {
                hub.notice(
                    Level::Warn,
                    format!(
                        "{cid} sent MESSAGE to {}, which it is not subscribed to (ignored)",
                        name(ch)
                    ),
                );
            }
            None
        }
        "SET_CHANNEL_STATE" => {
            let ch = d.channel.as_deref().unwrap_or_default();
            if !subscribed(&st, cid, ch) {
                hub.notice(
                    Level::Warn,
                    format!(
                        "{cid} sent SET_CHANNEL_STATE to {}, which it is not subscribed to (ignored)",
                        name(ch)
                    ),
                );
            } else if !data.is_object() {
                hub.notice(
                    Level::Warn,
                    format!(
                        "{cid} sent SET_CHANNEL_STATE to {} with a state that is not an object (ignored)",
                        name(ch)
                    ),
                );
            } else if st
                .channels
                .get_mut(ch)
                .is_some_and(|c| !hub.keep_state(c, data.clone()))
            {
                drop(st);
                hub.refuse_state(ch, Some(cid));
                hub.changed();
                return None;
            } else {
                let frame = dispatch(Some(ch), false, "STATE_UPDATE", &state_data(&data));
                hub.fan_out(&mut st, ch, None, &frame);
            }
            None
        }
        "PIPE_ROOM_SUBSCRIBE" => match data.get("join_token").and_then(Value::as_str) {
            Some(jt) => {
                pipe_subscribe(hub, &mut st, cid, jt);
                None
            }
            None => {
                hub.notice(
                    Level::Warn,
                    format!(
                        "{cid} sent PIPE_ROOM_SUBSCRIBE without a join_token: closing with 4005"
                    ),
                );
                Some((4005, INVALID_PAYLOAD.to_string()))
            }
        },
        "PIPE_ROOM_UNSUBSCRIBE" => {
            let id = data.get("id").and_then(Value::as_str);
            let jt = data.get("join_token").and_then(Value::as_str);
            let gone: Vec<String> = st
                .pipes
                .iter()
                .filter(|(t, room)| {
                    jt == Some(t.as_str())
                        || (id.is_some() && room.get("id").and_then(Value::as_str) == id)
                })
                .map(|(t, _)| t.clone())
                .collect();
            if let Some(c) = st.clients.get_mut(cid) {
                for t in &gone {
                    c.pipes.remove(t);
                }
            }
            hub.notice(
                Level::Info,
                format!("{cid} unsubscribed from {} pipe room(s)", gone.len()),
            );
            None
        }
        other => {
            hub.notice(
                Level::Warn,
                format!(
                    "{cid} sent an unknown service event {} (ignored)",
                    name(other)
                ),
            );
            None
        }
    };
    drop(st);
    hub.changed();
    close
}

fn subscribed(st: &State, cid: &str, ch: &str) -> bool {
    st.clients.get(cid).is_some_and(|c| c.subs.contains(ch)) && st.channels.contains_key(ch)
}

fn subscribe(hub: &Hub, st: &mut State, cid: &str, ch: &str) {
    if hub.cfg.create_channels && !st.channels.contains_key(ch) {
        if st.channels.len() >= hub.cfg.max_channels || !hub.budget.take(2) {
            hub.core.tally("refused (channel limit)", Level::Warn, |n| {
                format!(
                    "{cid} subscribed to {}: not created, the server holds {} channels ({n} refused so far)",
                    name(ch),
                    st.channels.len()
                )
            });
        } else {
            hub.notice(
                Level::Info,
                format!(
                    "{cid} subscribed to {}: created (unprotected, state {{}})",
                    name(ch)
                ),
            );
            st.channels.insert(
                ch.to_string(),
                super::Channel {
                    kind: "unprotected".into(),
                    state: serde_json::json!({}),
                    created_at: super::now_rfc3339(),
                    created_by_client: true,
                    held: 2,
                },
            );
        }
    }
    let scope = st.clients.get(cid).and_then(|c| c.scope);
    let reply = match st.channels.get(ch) {
        None => {
            hub.notice(
                Level::Warn,
                format!(
                    "{cid} subscribed to {}, which does not exist: UNAVAILABLE",
                    name(ch)
                ),
            );
            dispatch(
                Some(ch),
                false,
                "UNAVAILABLE",
                r#"{"graceful":false,"error_code":"UNKNOWN"}"#,
            )
        }
        Some(c) if c.kind == "private" && scope != Some(Scope::Token) => {
            hub.notice(
                Level::Warn,
                format!(
                    "{cid} subscribed to private {} without a token: UNAVAILABLE NOT_GRANTED",
                    name(ch)
                ),
            );
            dispatch(
                Some(ch),
                false,
                "UNAVAILABLE",
                r#"{"graceful":false,"error_code":"NOT_GRANTED"}"#,
            )
        }
        Some(c) => {
            let frame = dispatch(Some(ch), false, "AVAILABLE", &hub.available_data(ch, c));
            if let Some(cl) = st.clients.get_mut(cid) {
                cl.subs.insert(ch.to_string());
            }
            hub.notice(Level::Info, format!("{cid} subscribed to {}", name(ch)));
            frame
        }
    };
    hub.send_to(st, cid, Out::Frame(reply));
}

fn pipe_subscribe(hub: &Hub, st: &mut State, cid: &str, jt: &str) {
    // A join token is a secret: named in no notice.
    let reply = match st.pipes.get(jt) {
        Some(room) => {
            let frame = dispatch(None, false, "PIPE_ROOM_AVAILABLE", &Hub::pipe_data(room));
            let id = room
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_string();
            if let Some(c) = st.clients.get_mut(cid) {
                c.pipes.insert(jt.to_string());
            }
            hub.notice(
                Level::Info,
                format!(
                    "{cid} subscribed to pipe room {} (join token ok)",
                    name(&id)
                ),
            );
            frame
        }
        None => {
            hub.notice(
                Level::Warn,
                format!("{cid} subscribed to a pipe room with an unknown join token: PIPE_ROOM_UNAVAILABLE"),
            );
            dispatch(
                None,
                false,
                "PIPE_ROOM_UNAVAILABLE",
                &format!(
                    "{{\"join_token\":{},\"graceful\":false,\"error_code\":\"NOT_GRANTED\"}}",
                    q(jt)
                ),
            )
        }
    };
    hub.send_to(st, cid, Out::Frame(reply));
}
