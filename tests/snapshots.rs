//! TestBackend + insta snapshots of each pane, and style assertions that
//! snapshots cannot capture (colours are not in them).

mod common;

use std::time::Duration;

use common::*;
use ratatui::style::Modifier;
use roomtap::event::{ChannelChange, ConnState, EventKind, TrafficStats};
use roomtap::ui::Pane;
use roomtap::ui::keymap::Action;
use roomtap::ui::theme::Theme;

fn populated() -> roomtap::app::App {
    let mut a = app_with_actions(4);
    a.apply(ev(
        T0 + 10,
        EventKind::Conn(ConnState::Connecting { attempt: 1 }),
    ));
    a.apply(ev(T0 + 20, EventKind::Conn(ConnState::Handshaking)));
    a.apply(ev(
        T0 + 30,
        EventKind::Conn(ConnState::Connected {
            session: Some("YtnwfxKE-c_GHqANAAAA".into()),
        }),
    ));
    a.apply(ev(T0 + 31, EventKind::Rtt(Duration::from_micros(1234))));
    a.apply(ev(
        T0 + 40,
        EventKind::Channel {
            channel: "log".into(),
            change: ChannelChange::Subscribed,
        },
    ));
    a.apply(ev(
        T0 + 900,
        EventKind::Channel {
            channel: "log".into(),
            change: ChannelChange::Messages {
                count: 5,
                bytes: 6100,
            },
        },
    ));
    a.apply(ev(
        T0 + 900,
        EventKind::Stats(TrafficStats {
            bytes_in: 6400,
            bytes_out: 310,
            frames_in: 9,
            frames_out: 5,
            messages_in: 5,
            messages_out: 1,
        }),
    ));
    a
}

fn zoomed(pane: Pane) -> String {
    let mut a = populated();
    a.act(Action::Focus(pane));
    a.act(Action::Zoom);
    let t = render(&mut a, 100, 20);
    format!("{}", t.backend())
}

#[test]
fn full_layout_120x40() {
    let mut a = populated();
    let t = render(&mut a, 120, 40);
    insta::assert_snapshot!(t.backend());
}

#[test]
fn logs_pane() {
    insta::assert_snapshot!(zoomed(Pane::Logs));
}

#[test]
fn channels_pane() {
    insta::assert_snapshot!(zoomed(Pane::Channels));
}

#[test]
fn connections_pane() {
    insta::assert_snapshot!(zoomed(Pane::Connections));
}

#[test]
fn timeline_pane_state_tab() {
    let mut a = populated();
    a.act(Action::Focus(Pane::Timeline));
    a.act(Action::Zoom);
    a.act(Action::Up);
    a.act(Action::NextTab);
    let t = render(&mut a, 100, 20);
    insta::assert_snapshot!(t.backend());
}

#[test]
fn timeline_pane_diff_tab() {
    let mut a = populated();
    a.act(Action::Focus(Pane::Timeline));
    a.act(Action::Zoom);
    a.act(Action::PrevTab); // Diff
    let t = render(&mut a, 100, 20);
    insta::assert_snapshot!(t.backend());
}

#[test]
fn logs_filter_highlights_matches() {
    let mut a = populated();
    a.act(Action::Focus(Pane::Logs));
    a.act(Action::Zoom);
    a.act(Action::FilterPrompt);
    for c in "increment".chars() {
        a.act(Action::Input(c));
    }
    a.act(Action::Submit);
    let t = render(&mut a, 100, 12);
    insta::assert_snapshot!(t.backend());
    // The match itself carries the highlight style.
    let buf = t.backend().buffer();
    let hl = a.theme.highlight;
    let mut found = false;
    for y in 0..buf.area.height {
        let row: String = (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect();
        if let Some(col) = row.find("INCREMENT") {
            let x = row[..col].chars().count() as u16;
            assert_eq!(buf[(x, y)].bg, hl.bg.unwrap());
            found = true;
        }
    }
    assert!(found);
}

#[test]
fn help_overlay() {
    let mut a = populated();
    a.act(Action::Help);
    let t = render(&mut a, 100, 36);
    insta::assert_snapshot!(t.backend());
}

#[test]
fn mono_theme_selection_uses_reverse_video_not_colour() {
    let mut a = populated();
    a.theme = Theme::builtin("mono").unwrap();
    a.act(Action::Focus(Pane::Timeline));
    a.act(Action::Up);
    let t = render(&mut a, 120, 40);
    let buf = t.backend().buffer();
    let mut reversed = 0;
    for cell in buf.content() {
        assert_eq!(cell.fg, ratatui::style::Color::Reset);
        assert_eq!(cell.bg, ratatui::style::Color::Reset);
        if cell.modifier.contains(Modifier::REVERSED) {
            reversed += 1;
        }
    }
    assert!(reversed > 10, "selection must be visible without colour");
}

#[test]
fn hostile_payloads_never_reach_the_terminal() {
    let mut a = app();
    let evil = "\u{1b}]52;c;cHduZWQ=\u{7}\u{1b}[2J\u{9b}31m";
    a.apply(ev(
        T0,
        state_msg(
            "inst\u{1b}[31m",
            &format!("name{evil}"),
            &serde_json::json!({
                "actionsById": {"0": {"type": "PERFORM_ACTION", "action": {"type": format!("@@INIT{evil}")}, "timestamp": 1}},
                "nextActionId": 1, "stagedActionIds": [0], "skippedActionIds": [],
                "currentStateIndex": 0,
                "computedStates": [{"state": {format!("k{evil}"): format!("v{evil}")}, "error": format!("reducer threw {evil}")}]
            }),
        ),
    ));
    a.apply(ev(
        T0,
        EventKind::Conn(ConnState::Errored {
            reason: format!("closed {evil}"),
            will_reconnect: false,
            retry_in: None,
        }),
    ));
    for tab in 0..3 {
        let t = render(&mut a, 120, 40);
        for cell in t.backend().buffer().content() {
            for ch in cell.symbol().chars() {
                let u = ch as u32;
                assert!(
                    !(u < 0x20 || u == 0x7f || (0x80..=0x9f).contains(&u)),
                    "control char {u:#x} on screen (tab {tab})"
                );
            }
        }
        a.act(Action::Focus(Pane::Timeline));
        a.act(Action::NextTab);
    }
}

#[test]
fn long_values_are_capped_with_a_byte_count() {
    let mut a = app();
    let big = "x".repeat(5000);
    a.apply(ev(
        T0,
        state_msg(
            "i",
            "big",
            &serde_json::json!({
                "actionsById": {"0": {"type": "PERFORM_ACTION", "action": {"type": "@@INIT"}, "timestamp": 1}},
                "nextActionId": 1, "stagedActionIds": [0], "skippedActionIds": [],
                "currentStateIndex": 0,
                "computedStates": [{"state": {"blob": big}}]
            }),
        ),
    ));
    a.act(Action::Focus(Pane::Timeline));
    a.act(Action::NextTab);
    a.act(Action::Zoom);
    let text = screen_text(&render(&mut a, 400, 20));
    assert!(text.contains("bytes more"), "{text}");
}

#[test]
fn remote_text_in_notes_shows_control_pictures() {
    let mut a = app();
    a.apply(ev(
        T0,
        state_msg(
            "i",
            "x",
            &serde_json::json!({
                "actionsById": {"0": {"type": "PERFORM_ACTION", "action": {"type": "@@INIT\u{1b}]0;t\u{7}"}, "timestamp": 1}},
                "nextActionId": 1, "stagedActionIds": [0], "skippedActionIds": [],
                "currentStateIndex": 0,
                "computedStates": [{"state": {}, "error": "boom\u{1b}[2J"}]
            }),
        ),
    ));
    a.act(Action::Focus(Pane::Timeline));
    a.act(Action::NextTab);
    let text = screen_text(&render(&mut a, 120, 40));
    assert!(text.contains("reducer error: boom␛[2J"), "{text}");
    assert!(text.contains("@@INIT␛]0;t␇"), "action types too: {text}");
}

#[test]
fn connections_pane_lists_relay_clients() {
    use roomtap::event::{Dialect, EventKind, PeerRole, PeerRow, SourceEvent, TrafficStats};
    let mut a = populated();
    let server = a.store.add_source(
        "relay",
        roomtap::protocols::redux::SERVER,
        "ws://127.0.0.1:8000/socketcluster/",
    );
    let row =
        |id: &str, role: PeerRole, proto: Dialect, name: Option<&str>, inst: &[&str], dropped| {
            PeerRow {
                id: id.into(),
                addr: "127.0.0.1:50412".into(),
                role,
                proto,
                name: name.map(Into::into),
                instances: inst.iter().map(|s| s.to_string()).collect(),
                dropped,
            }
        };
    for kind in [
        EventKind::Stats(TrafficStats {
            bytes_in: 48_200,
            bytes_out: 96_400,
            frames_in: 40,
            frames_out: 80,
            ..Default::default()
        }),
        EventKind::Peers(vec![
            row(
                "Up_24t8RyzhUb1e8AAAB",
                PeerRole::App,
                Dialect::V2,
                Some("shop"),
                &["3qzv910jqf"],
                0,
            ),
            row(
                "xTJpsv966NfopKSLAAAB",
                PeerRole::App,
                Dialect::V1,
                Some("legacy\u{1b}[2J"),
                &[],
                0,
            ),
            row(
                "K0u6KZUC1wNMlUnAUAte",
                PeerRole::Monitor,
                Dialect::V2,
                None,
                &[],
                120,
            ),
        ]),
    ] {
        a.apply(SourceEvent::new(server, kind));
    }
    a.act(Action::Focus(Pane::Connections));
    a.act(Action::Zoom);
    let t = render(&mut a, 100, 20);
    let screen = format!("{}", t.backend());
    assert!(!screen.contains('\u{1b}'));
    insta::assert_snapshot!(screen);
}

/// A MeshAgent room: its facts in Connections (room, participant, which
/// developer-log generation is in use), developer logs in Logs with the
/// levels of their otel records, and the room channel in Channels.
#[test]
fn room_source_in_every_pane() {
    use roomtap::event::{ChannelChange, EventKind, SourceEvent};
    use roomtap::protocols::room::wire::logs;
    let mut a = app_blank();
    let room = a.store.add_source(
        "room",
        roomtap::protocols::room::CLIENT,
        "ws://127.0.0.1:8765/rooms/test",
    );
    let at = |ms: u64, kind| SourceEvent {
        source: room,
        at_ms: T0 + ms,
        kind,
    };
    a.apply(at(
        0,
        EventKind::Conn(ConnState::Connected {
            session: Some("session-0001".into()),
        }),
    ));
    a.apply(at(
        1,
        EventKind::Facts(vec![
            roomtap::event::Fact::set("room", "test"),
            roomtap::event::Fact::set("participant", "participant-0001"),
            roomtap::event::Fact::set("developer logs", "on (developer toolkit)"),
            roomtap::event::Fact::set("status", "degraded: indexer queue is backing up"),
        ]),
    ));
    a.apply(at(
        2,
        EventKind::Channel {
            channel: "developer.logs".into(),
            change: ChannelChange::Subscribed,
        },
    ));
    let otel = serde_json::json!({"resourceLogs": [{
    "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "indexer"}}]},
    "scopeLogs": [{"logRecords": [
        {"timeUnixNano": ((T0 + 100) * 1_000_000).to_string(), "severityNumber": 13,
         "body": {"stringValue": "embedding request timed out"},
         "attributes": [{"key": "attempt", "value": {"intValue": "2"}}]},
        {"timeUnixNano": ((T0 + 200) * 1_000_000).to_string(), "severityNumber": 17,
         "body": {"stringValue": "cannot read storage object"}}
    ]}]}]});
    let mut lines = logs::lines("otel.log", &otel);
    lines.extend(logs::lines(
        "agent.turn",
        &serde_json::json!({"message": "draft a reply", "user": "ana"}),
    ));
    for (i, l) in lines.into_iter().enumerate() {
        let ms = l.at_ms.map(|t| t - T0).unwrap_or(300 + i as u64);
        a.apply(at(ms, EventKind::Log(l.record)));
    }
    a.apply(at(
        900,
        EventKind::Channel {
            channel: "developer.logs".into(),
            change: ChannelChange::Messages {
                count: 2,
                bytes: 640,
            },
        },
    ));
    a.act(Action::Focus(Pane::Logs));
    let t = render(&mut a, 120, 30);
    let screen = format!("{}", t.backend());
    assert!(screen.contains("developer logs on (developer toolkit)"));
    assert!(screen.contains("w watch · : command"));
    assert!(screen.contains("WARN  indexer"));
    insta::assert_snapshot!(screen);
}

/// A query with a regex and a field predicate: matches highlighted, the
/// count in the title; then a broken query marked where it fails.
#[test]
fn query_highlights_and_inline_errors() {
    let mut a = populated();
    a.act(Action::Focus(Pane::Logs));
    a.act(Action::Zoom);
    a.act(Action::FilterPrompt);
    a.paste("kind=action and /INCR\\w+/ not #1");
    let t = render(&mut a, 100, 10);
    let screen = format!("{}", t.backend());
    assert!(screen.contains("3 matches"), "{screen}");
    insta::assert_snapshot!("query_highlights", screen);
    let buf = t.backend().buffer();
    let hl = a.theme.highlight;
    let mut highlighted = 0;
    for y in 0..buf.area.height {
        let row: String = (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect();
        if let Some(col) = row.find("INCREMENT") {
            let x = row[..col].chars().count() as u16;
            assert_eq!(buf[(x, y)].bg, hl.bg.unwrap());
            highlighted += 1;
        }
    }
    assert_eq!(highlighted, 3);
    a.paste(" and (level>=loud");
    let t = render(&mut a, 100, 10);
    let screen = format!("{}", t.backend());
    assert!(screen.contains("✗ at column"), "{screen}");
    insta::assert_snapshot!("query_inline_error", screen);
}

/// The scroll offsets a frame used carry to the next: moving the
/// selection up inside the window leaves the window where it is, and
/// moving past its top scrolls it by one row.
#[test]
fn the_logs_window_keeps_its_place_between_frames() {
    use roomtap::event::{Level, LogRecord};
    let mut a = app();
    for i in 0..40 {
        a.apply(ev(
            T0 + i,
            EventKind::Log(LogRecord {
                level: Level::Info,
                kind: "k".into(),
                summary: format!("line {i:02}"),
                data: None,
                bytes: None,
            }),
        ));
    }
    a.act(Action::Focus(Pane::Logs));
    a.act(Action::Zoom);
    let first_row = |a: &mut roomtap::app::App| {
        let text = screen_text(&render(a, 100, 12));
        let row = text.lines().nth(1).unwrap_or_default().to_string();
        row[row.find("line ").expect("a log row")..][..7].to_string()
    };
    // 9 rows shown, following the end: lines 31..=39.
    assert_eq!(first_row(&mut a), "line 31");
    for _ in 0..8 {
        a.act(Action::Up);
    }
    assert_eq!(first_row(&mut a), "line 31", "selection inside the window");
    a.act(Action::Up);
    assert_eq!(first_row(&mut a), "line 30", "one past the top");
}

/// A Leap source with stateful channels: availability, facts, a state
/// history, messages and a refused channel, as the store gets them.
fn leap_app() -> roomtap::app::App {
    use roomtap::event::ChannelUpdate;
    let mut a = app_blank();
    a.store.add_source(
        "leap",
        roomtap::protocols::leap::CLIENT,
        "ws://127.0.0.1:8790/ws?encoding=json&compression=zlib",
    );
    let cs = |channel: &str, update: ChannelUpdate| EventKind::ChannelState {
        channel: channel.into(),
        update,
    };
    a.apply(ev(
        T0,
        EventKind::Conn(ConnState::Connected {
            session: Some("conn_1".into()),
        }),
    ));
    a.apply(ev(
        T0 + 10,
        cs(
            "scoreboard",
            ChannelUpdate::Available {
                facts: vec![
                    ("type".into(), "public".into()),
                    ("capabilities".into(), "0".into()),
                    ("created".into(), "2026-12-02T10:00:00Z".into()),
                ],
                state: Some(r#"{"round":1,"teams":{"red":0,"blue":0},"leader":null}"#.into()),
            },
        ),
    ));
    for (i, s) in [
        r#"{"round":1,"teams":{"red":3,"blue":0},"leader":"red"}"#,
        r#"{"round":1,"teams":{"red":3,"blue":5},"leader":"blue"}"#,
        r#"{"round":2,"teams":{"red":0,"blue":0},"leader":null,"mvp":"bo"}"#,
    ]
    .iter()
    .enumerate()
    {
        a.apply(ev(
            T0 + 1000 * (i as u64 + 1),
            cs(
                "scoreboard",
                ChannelUpdate::State {
                    state: s.to_string(),
                },
            ),
        ));
    }
    a.apply(ev(
        T0 + 3500,
        cs(
            "scoreboard",
            ChannelUpdate::TokenState {
                state: r#"{"online":true}"#.into(),
            },
        ),
    ));
    a.apply(ev(
        T0 + 3600,
        EventKind::Channel {
            channel: "scoreboard".into(),
            change: ChannelChange::Messages {
                count: 12,
                bytes: 480,
            },
        },
    ));
    a.apply(ev(
        T0 + 20,
        cs(
            "flags",
            ChannelUpdate::Unavailable {
                reason: "NOT_GRANTED: this token may not subscribe to it".into(),
            },
        ),
    ));
    a.apply(ev(
        T0 + 30,
        cs(
            "pipe:pipe_stage",
            ChannelUpdate::Available {
                facts: vec![
                    ("type".into(), "pipe room".into()),
                    ("room state".into(), "live".into()),
                    ("protocols".into(), "rtmp → webrtc, llhls".into()),
                    ("region".into(), "eu-west-1".into()),
                    ("join token".into(), "jt…(24 chars)".into()),
                ],
                state: None,
            },
        ),
    ));
    a.act(Action::Focus(Pane::Channels));
    a.act(Action::Zoom);
    // The scoreboard: flags, pipe:pipe_stage, scoreboard (sorted).
    a.act(Action::Down);
    a.act(Action::Down);
    a
}

#[test]
fn channel_state_pane_at_three_sizes() {
    for (w, h) in [(80, 24), (120, 40), (200, 60)] {
        let mut a = leap_app();
        let t = render(&mut a, w, h);
        let screen = format!("{}", t.backend());
        assert!(screen.contains("scoreboard"), "{screen}");
        if h >= 40 {
            assert!(screen.contains("~ $.round: 1 → 2"), "{screen}");
            assert!(screen.contains("+ $.mvp"), "{screen}");
        }
        insta::assert_snapshot!(format!("channel_state_pane_{w}x{h}"), screen);
    }
}

/// A line or paragraph separator, a zero-width space or a tag character in
/// a summary is shown as a symbol: the row stays one row, between its
/// neighbours, and none of them reaches a cell (under tmux a raw U+2028
/// blanks the rest of the row and leaves stray cells).
#[test]
fn a_log_row_with_line_separators_stays_one_row() {
    use roomtap::event::{Level, LogRecord};
    let mut a = app();
    for (i, summary) in [
        "first entry",
        "before\u{2028}after\u{200b}zw\u{e0041}tag\u{2029}para\u{feff}end",
        "last entry",
    ]
    .into_iter()
    .enumerate()
    {
        a.apply(ev(
            T0 + i as u64,
            EventKind::Log(LogRecord {
                level: Level::Info,
                kind: "k".into(),
                summary: summary.into(),
                data: None,
                bytes: None,
            }),
        ));
    }
    a.act(Action::Focus(Pane::Logs));
    a.act(Action::Zoom);
    let t = render(&mut a, 120, 12);
    let text = screen_text(&t);
    let rows: Vec<&str> = text.lines().collect();
    let row_of = |what: &str| {
        rows.iter()
            .position(|r| r.contains(what))
            .unwrap_or_else(|| panic!("no row with {what:?}:\n{text}"))
    };
    let at = row_of("before␤after�zw�tag␤para�end");
    assert_eq!(row_of("first entry") + 1, at, "{text}");
    assert_eq!(row_of("last entry"), at + 1, "{text}");
    for cell in t.backend().buffer().content() {
        for ch in cell.symbol().chars() {
            assert!(
                !matches!(
                    ch,
                    '\u{2028}' | '\u{2029}' | '\u{200b}' | '\u{feff}' | '\u{e0041}'
                ),
                "U+{:04X} in a cell:\n{text}",
                ch as u32
            );
        }
    }
}

/// A legume client: connected, its metrics reported a few times (the
/// charted ones drawn as sparklines), a Chat and a Pos channel, and an
/// entry about bytes no schema described.
fn legume_app() -> roomtap::app::App {
    use roomtap::event::{ChannelUpdate, Fact, Level, LogRecord, Metric, Unit};
    let mut a = app_blank();
    a.store.add_source(
        "legume",
        roomtap::protocols::legume::CLIENT,
        "udp://127.0.0.1:27806",
    );
    a.apply(ev(
        T0,
        EventKind::Conn(ConnState::Connected {
            session: Some("127.0.0.1:40112 → 127.0.0.1:27806".into()),
        }),
    ));
    a.apply(ev(
        T0 + 1,
        EventKind::Facts(vec![
            Fact::set("legume state", "CONNECTED"),
            Fact::set("server", "127.0.0.1:27806"),
            Fact::set("schema", "game.toml (Chat, Pos)"),
            Fact::set("timeout", "10.0 s"),
        ]),
    ));
    for i in 0..24u64 {
        let wave = [0.4, 0.6, 1.8, 0.5, 0.7, 3.9, 0.6, 0.5][(i % 8) as usize];
        a.apply(ev(
            T0 + 250 * i,
            EventKind::Metrics(vec![
                Metric::new("latency", wave, Unit::Ms).charted(),
                Metric::new("in", 700.0 + 90.0 * (i % 5) as f64, Unit::Rate).charted(),
                Metric::new("out", 40.0 + 10.0 * (i % 3) as f64, Unit::Rate).charted(),
                Metric::new("rtt min", 0.4, Unit::Ms),
                Metric::new("max", 3.9, Unit::Ms),
                Metric::new("jitter", 0.8, Unit::Ms),
                Metric::new("pending acks", (i % 3) as f64, Unit::Count),
                Metric::new("reorder queue", 0.0, Unit::Count),
                Metric::new("out buffer", 86.0, Unit::Bytes),
                Metric::new("keep-alives", 2.0, Unit::Count),
                Metric::new("resends", 7.0, Unit::Count),
                Metric::new("duplicates", 3.0, Unit::Count),
                Metric::new("given up", 0.0, Unit::Count),
                Metric::new("loss in", 18.5, Unit::Percent),
                Metric::new("loss (pings)", 21.0, Unit::Percent),
            ]),
        ));
    }
    a.apply(ev(
        T0 + 6000,
        EventKind::Stats(TrafficStats {
            bytes_in: 18_400,
            bytes_out: 1_210,
            frames_in: 260,
            frames_out: 71,
            messages_in: 410,
            messages_out: 4,
        }),
    ));
    for (name, fields) in [
        ("Chat", r#"{"sender":"ada","text":"gg","seq":12}"#),
        ("Pos", r#"{"who":"bo","x":1.5,"y":-2.25}"#),
    ] {
        a.apply(ev(
            T0 + 100,
            EventKind::ChannelState {
                channel: name.into(),
                update: ChannelUpdate::Available {
                    facts: vec![(
                        "type id".into(),
                        if name == "Chat" { "20" } else { "21" }.into(),
                    )],
                    state: Some(fields.into()),
                },
            },
        ));
    }
    a.apply(ev(
        T0 + 7000,
        EventKind::Log(LogRecord {
            level: Level::Info,
            kind: "type 22".into(),
            summary: "message 9 at offset 16: type 22 (not in the schema) · 25 bytes not decoded"
                .into(),
            data: Some(r#"{"type_id":22,"message_id":9,"flags":2,"offset":16,"len":25}"#.into()),
            bytes: Some(b"\x00\x09\x00\x00\x02\x16hello \x1b[31mworld\x00\xff\x80".to_vec()),
        }),
    ));
    a
}

#[test]
fn legume_connections_rows_at_three_sizes() {
    for (w, h) in [(80, 24), (120, 40), (200, 60)] {
        let mut a = legume_app();
        a.act(Action::Focus(Pane::Connections));
        a.act(Action::Zoom);
        let t = render(&mut a, w, h);
        let screen = format!("{}", t.backend());
        assert!(screen.contains("latency"), "{screen}");
        assert!(screen.contains('█'), "a sparkline: {screen}");
        assert!(screen.contains("pending acks"), "{screen}");
        insta::assert_snapshot!(format!("legume_connections_{w}x{h}"), screen);
    }
}

#[test]
fn an_entrys_bytes_are_shown_as_hex_and_ascii() {
    let mut a = legume_app();
    a.act(Action::Focus(Pane::Logs));
    a.act(Action::Activate);
    assert!(a.ui.logs.open);
    let t = render(&mut a, 200, 60);
    let screen = format!("{}", t.backend());
    assert!(screen.contains("── bytes (25) ──"), "{screen}");
    assert!(screen.contains("00 09 00 00"), "{screen}");
    assert!(!screen.contains('\u{1b}'), "no ESC reaches the terminal");
    insta::assert_snapshot!(screen);
    // Copy keeps the bytes, as base64.
    a.act(Action::Copy);
    let copies = a.take_copies();
    let copied = copies.last().expect("copied");
    assert!(
        copied.contains("\"base64\": \"AAkAAAIWaGVsbG8gG1szMW13b3JsZAD/gA==\""),
        "{copied}"
    );
}

/// A source added to `a`, connected, with a couple of log lines.
fn with_source(
    a: &mut roomtap::app::App,
    label: &str,
    kind: roomtap::source::SourceKind,
    url: &str,
    lines: &[(&str, &str)],
) {
    use roomtap::event::{Level, LogRecord, SourceEvent};
    let s = a.store.add_source(label, kind, url);
    let at = |ms: u64, kind| SourceEvent {
        source: s,
        at_ms: T0 + ms,
        kind,
    };
    a.apply(at(
        5,
        EventKind::Conn(ConnState::Connected {
            session: Some(format!("{label}-1")),
        }),
    ));
    for (i, (kind, summary)) in lines.iter().enumerate() {
        a.apply(at(
            50 + 10 * i as u64,
            EventKind::Log(LogRecord {
                level: Level::Info,
                kind: kind.to_string(),
                summary: summary.to_string(),
                data: None,
                bytes: None,
            }),
        ));
    }
}

/// Each kind of session at 80×24, 120×40 and 200×60, as it opens (its
/// first source's first pane focused): the relay alone, a room alone, Leap
/// alone, and everything at once as the demo runs it (issue #20).
#[test]
fn layouts_of_each_session_at_three_sizes() {
    use roomtap::ui::Pane;
    let room = || {
        let mut a = app_blank();
        with_source(
            &mut a,
            "room",
            roomtap::protocols::room::CLIENT,
            "ws://127.0.0.1:8765/rooms/test",
            &[
                ("indexer", "embedding request timed out attempt=2"),
                ("agent.turn", "draft a reply user=ana"),
            ],
        );
        a.ui.focus = Pane::Logs;
        a
    };
    let leap = || {
        let mut a = leap_app();
        a.act(Action::Zoom);
        a
    };
    let everything = || {
        let mut a = populated();
        with_source(
            &mut a,
            "room",
            roomtap::protocols::room::CLIENT,
            "ws://127.0.0.1:8765/rooms/demo",
            &[("indexer", "indexed 181 documents batch=3")],
        );
        with_source(
            &mut a,
            "leap",
            roomtap::protocols::leap::CLIENT,
            "ws://127.0.0.1:8790/ws",
            &[("STATE_UPDATE", "scoreboard state {\"round\":2}")],
        );
        with_source(
            &mut a,
            "legume",
            roomtap::protocols::legume::CLIENT,
            "udp://127.0.0.1:27806",
            &[("Pos", "Pos who=\"ada\" x=1.5 y=-2 · #12")],
        );
        a.ui.focus = Pane::Timeline;
        a
    };
    let sessions: [(&str, &dyn Fn() -> roomtap::app::App); 4] = [
        ("relay", &populated),
        ("room", &room),
        ("leap", &leap),
        ("demo", &everything),
    ];
    for (name, make) in sessions {
        for (w, h) in [(80u16, 24u16), (120, 40), (200, 60)] {
            let mut a = make();
            let screen = format!("{}", render(&mut a, w, h).backend());
            let last = screen
                .lines()
                .last()
                .unwrap_or_default()
                .trim_end_matches('"')
                .trim_end();
            assert!(last.ends_with("? help"), "{name} {w}x{h}: {last:?}");
            insta::assert_snapshot!(format!("layout_{name}_{w}x{h}"), screen);
        }
    }
}

/// The Logs' histogram (`I`): a bar a column, by level, at three sizes,
/// with the bar `}` chose; it follows the filter.
#[test]
fn logs_histogram_at_three_sizes() {
    use roomtap::event::{Level, LogRecord};
    let filled = || {
        let mut a = app();
        for i in 0..400u64 {
            let level = match i % 20 {
                0 => Level::Error,
                1 | 2 => Level::Warn,
                _ => Level::Info,
            };
            // Busier in the middle: a shape to see.
            let at = T0 + i * 150 + if i > 200 { 20_000 } else { 0 };
            a.apply(ev(
                at,
                EventKind::Log(LogRecord {
                    level,
                    kind: "k".into(),
                    summary: format!("line {i}"),
                    data: None,
                    bytes: None,
                }),
            ));
        }
        a.act(Action::Focus(Pane::Logs));
        a.act(Action::Zoom);
        a.act(Action::Histogram);
        a
    };
    for (w, h) in [(80, 24), (120, 40), (200, 60)] {
        let mut a = filled();
        // The first frame says how wide the pane is; the bars follow it
        // from the next.
        render(&mut a, w, h);
        render(&mut a, w, h);
        a.act(Action::HistNext);
        let t = render(&mut a, w, h);
        let screen = format!("{}", t.backend());
        assert!(
            screen.contains("a bar · error 20 · warn 40 · bar 1 from"),
            "{screen}"
        );
        insta::assert_snapshot!(format!("logs_histogram_{w}x{h}"), screen);
    }
    // It follows the filter: errors only.
    let mut a = filled();
    render(&mut a, 120, 40);
    a.act(Action::FilterPrompt);
    for c in "level=error".chars() {
        a.act(Action::Input(c));
    }
    a.act(Action::Submit);
    let t = render(&mut a, 120, 40);
    let screen = format!("{}", t.backend());
    assert!(
        screen.contains("error 20") && !screen.contains("warn 40"),
        "{screen}"
    );
    let total: u64 = a.ui.logs.hist_bars.bars.iter().map(|b| b.total()).sum();
    assert_eq!(total, 20);
}

/// The sparklines, at a fixed clock: each source's messages a second and
/// each channel's in their tables (a wide pane), the round trip of the
/// selected source under its detail. They follow the traffic: a second
/// with more messages draws a higher bar.
#[test]
fn sparklines_follow_the_traffic() {
    let mut a = app();
    let t0 = T0 - T0 % 1000;
    let mut stats = TrafficStats::default();
    for s in 0..20u64 {
        // One message a second, ten in the 15th second.
        let n = if s == 15 { 10 } else { 1 };
        stats.messages_in += n;
        a.apply(ev(t0 + s * 1000 + 10, EventKind::Stats(stats)));
        a.apply(ev(
            t0 + s * 1000 + 20,
            EventKind::Channel {
                channel: "log".into(),
                change: ChannelChange::Messages {
                    count: n,
                    bytes: 100 * n,
                },
            },
        ));
        a.apply(ev(
            t0 + s * 1000 + 30,
            EventKind::Rtt(Duration::from_millis(5 + s % 5)),
        ));
    }
    a.clock_ms = Some(t0 + 19_500);
    let trend = a.store.sources[0].conn.msg_trend.last(t0 + 19_500, 20);
    assert_eq!(trend[15], 10);
    assert_eq!(trend.iter().sum::<u64>(), 29);
    for pane in [Pane::Connections, Pane::Channels] {
        a.act(Action::Focus(pane));
        a.act(Action::Zoom);
        let t = render(&mut a, 120, 20);
        let screen = format!("{}", t.backend());
        assert!(screen.contains("msgs/s"), "{screen}");
        assert!(
            screen.contains('█'),
            "the busy second is the highest bar: {screen}"
        );
        if pane == Pane::Connections {
            assert!(screen.contains("max 9.0 ms"), "{screen}");
        }
        insta::assert_snapshot!(format!("sparklines_{pane:?}"), screen);
        a.act(Action::Zoom);
    }
}
