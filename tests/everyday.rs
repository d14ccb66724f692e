//! A whole working day with roomtap (issue #20), driven headless: prompts
//! that edit like a shell's and give back what Esc cancels, a help that
//! closes without doing the key that closed it and scrolls, a hint line
//! that always ends with `? help`, `:` errors that list every command the
//! run's sources take.

mod common;

use common::*;
use roomtap::ui::Pane;
use roomtap::ui::keymap::Action;

fn typed(a: &mut roomtap::app::App, text: &str) {
    for c in text.chars() {
        a.act(Action::Input(c));
    }
}

fn prompt_text(a: &roomtap::app::App) -> String {
    a.ui.prompt
        .as_ref()
        .map(|p| p.text.clone())
        .unwrap_or_default()
}

#[test]
fn esc_in_a_filter_prompt_gives_back_the_filter_it_opened_with() {
    let mut a = app_with_actions(3);
    a.act(Action::Focus(Pane::Logs));
    // A filter applied and kept.
    a.act(Action::FilterPrompt);
    typed(&mut a, "level>=warn");
    a.act(Action::Submit);
    assert_eq!(a.store.logs.filter(), Some("level>=warn"));
    // Opened again, edited into something broken, then Esc: the filter it
    // opened with is back (not the valid prefix of what was typed).
    a.act(Action::FilterPrompt);
    a.act(Action::KillStart);
    typed(&mut a, "level>=error and (kind");
    assert!(a.ui.filter_error.is_some());
    a.act(Action::Escape);
    assert!(a.ui.prompt.is_none());
    assert_eq!(a.store.logs.filter(), Some("level>=warn"));
    assert!(a.ui.filter_error.is_none());
    // A new filter typed, then Esc: none again, as it opened.
    a.act(Action::Escape); // clears the filter
    assert_eq!(a.store.logs.filter(), None);
    a.act(Action::FilterPrompt);
    typed(&mut a, "kind=log");
    assert_eq!(a.store.logs.filter(), Some("kind=log"));
    a.act(Action::Escape);
    assert_eq!(a.store.logs.filter(), None);
}

#[test]
fn prompts_edit_like_a_shell_and_keep_a_history() {
    let mut a = app_with_actions(1);
    a.act(Action::CommandLine);
    typed(&mut a, "log info hello world");
    a.act(Action::KillWord);
    assert_eq!(prompt_text(&a), "log info hello ");
    a.act(Action::KillWord);
    assert_eq!(prompt_text(&a), "log info ");
    // Into the middle: ←, type, →, Delete.
    typed(&mut a, "xy");
    a.act(Action::CursorLeft);
    a.act(Action::CursorLeft);
    typed(&mut a, "é");
    assert_eq!(prompt_text(&a), "log info éxy");
    a.act(Action::Delete);
    assert_eq!(prompt_text(&a), "log info éy");
    a.act(Action::LineStart);
    typed(&mut a, ">");
    a.act(Action::LineEnd);
    typed(&mut a, "<");
    assert_eq!(prompt_text(&a), ">log info éy<");
    a.act(Action::CursorLeft);
    a.act(Action::KillStart);
    assert_eq!(prompt_text(&a), "<");
    // Submitted lines come back with ↑ (newest first), ↓ returns to what
    // was being typed.
    a.act(Action::Escape);
    for line in ["first", "second"] {
        a.act(Action::FilterPrompt);
        a.act(Action::KillStart);
        typed(&mut a, line);
        a.act(Action::Submit);
    }
    a.act(Action::FilterPrompt);
    a.act(Action::KillStart);
    typed(&mut a, "draft");
    a.act(Action::HistoryPrev);
    assert_eq!(prompt_text(&a), "second");
    a.act(Action::HistoryPrev);
    assert_eq!(prompt_text(&a), "first");
    a.act(Action::HistoryPrev);
    assert_eq!(prompt_text(&a), "first", "the oldest stays");
    a.act(Action::HistoryNext);
    assert_eq!(prompt_text(&a), "second");
    a.act(Action::HistoryNext);
    assert_eq!(prompt_text(&a), "draft");
    // The cursor is where typing goes after a recall: at the end.
    typed(&mut a, "!");
    assert_eq!(prompt_text(&a), "draft!");
}

#[test]
fn the_inline_error_is_in_view_at_80_columns() {
    let mut a = app_with_actions(1);
    a.act(Action::Focus(Pane::Logs));
    a.act(Action::FilterPrompt);
    // The error is at column 51.
    typed(
        &mut a,
        "kind=ACTION and level>=info and summary~/x/ and (level",
    );
    let screen = screen_text(&render(&mut a, 80, 24));
    let last = screen.lines().last().unwrap().to_string();
    let e = a.ui.filter_error.as_ref().expect("a bad filter");
    let said = format!("✗ {e}");
    assert!(last.contains(&said), "{last:?} lacks {said:?}");
    assert!(
        last.contains("…"),
        "the text's start is cut to keep its end in view: {last:?}"
    );
}

#[test]
fn a_key_that_closes_the_help_does_nothing_else_and_the_help_scrolls() {
    let mut a = app_with_actions(3);
    a.act(Action::Focus(Pane::Timeline));
    a.act(Action::Help);
    assert!(a.ui.help);
    // Scrolled, not moved.
    a.act(Action::Down);
    a.act(Action::Down);
    assert_eq!(a.ui.help_scroll, 2);
    assert!(a.ui.help);
    // `c` closes it, and opens no commit question.
    a.act(Action::Commit);
    assert!(!a.ui.help);
    assert!(a.ui.confirm.is_none());
    assert!(a.take_commands().is_empty());
    // At 80×24 the help fits the screen and says it scrolls; its last rows
    // are reached by scrolling.
    a.act(Action::Help);
    let top = screen_text(&render(&mut a, 80, 24));
    assert!(top.contains("scroll"), "{top}");
    a.act(Action::Bottom);
    let bottom = screen_text(&render(&mut a, 80, 24));
    assert!(bottom.contains("Tab (in /)"), "{bottom}");
    assert!(
        !top.contains("Tab (in /)"),
        "the last rows are below at first"
    );
    // Grouped, the focused pane's keys first.
    let first = top.lines().find(|l| l.contains("── ")).expect("a heading");
    assert!(first.contains("── Timeline"), "{top}");
    a.act(Action::Escape);
    a.act(Action::Focus(Pane::Logs));
    a.act(Action::Help);
    let top = screen_text(&render(&mut a, 80, 24));
    let first = top.lines().find(|l| l.contains("── ")).unwrap();
    assert!(first.contains("── Logs"), "{top}");
}

#[test]
fn the_hint_line_always_ends_with_help() {
    let mut a = app_with_actions(1);
    for pane in [
        Pane::Logs,
        Pane::Channels,
        Pane::Connections,
        Pane::Timeline,
    ] {
        a.act(Action::Focus(pane));
        for w in [80u16, 120] {
            let screen = screen_text(&render(&mut a, w, 24));
            let last = screen.lines().last().unwrap().trim_end().to_string();
            assert!(last.ends_with("? help"), "{pane:?} at {w}: {last:?}");
        }
    }
}

#[test]
fn an_unknown_command_lists_every_command_of_the_run() {
    let mut a = app_blank();
    a.store.add_source(
        "room",
        roomtap::protocols::room::CLIENT,
        "ws://127.0.0.1:1/rooms/r",
    );
    a.store.add_source(
        "leap",
        roomtap::protocols::leap::CLIENT,
        "ws://127.0.0.1:2/ws",
    );
    a.act(Action::CommandLine);
    typed(&mut a, "frobnicate now");
    a.act(Action::Submit);
    let e = a.ui.prompt_error.clone().expect("said in the prompt");
    assert!(e.starts_with("frobnicate is not a command here"), "{e}");
    assert!(
        e.contains("room: ") && e.contains("leap: ") && e.contains("sub"),
        "{e}"
    );
    // The help lists both too.
    a.act(Action::Escape);
    a.act(Action::Help);
    let screen = screen_text(&render(&mut a, 200, 60));
    assert!(screen.contains(": commands"), "{screen}");
    assert!(
        screen.contains("leap") && screen.contains("pipe JOIN_TOKEN"),
        "{screen}"
    );
}

fn status(a: &roomtap::app::App) -> String {
    a.ui.status_now(roomtap::event::now_ms())
        .map(|(s, _)| s.clone())
        .unwrap_or_default()
}

#[test]
fn the_status_line_names_the_command_and_its_target_and_goes_stale_never() {
    let mut a = app_with_actions(3);
    a.act(Action::Focus(Pane::Timeline));
    a.act(Action::Up);
    a.act(Action::Activate);
    let s = status(&a);
    assert!(s.starts_with("jump to state 2 → counter"), "{s}");
    a.act(Action::Pause);
    assert!(
        status(&a).starts_with("pause recording → counter"),
        "{}",
        status(&a)
    );
    a.act(Action::Commit);
    a.act(Action::Input('y'));
    assert!(status(&a).starts_with("commit → counter"), "{}", status(&a));
    // Another app: what was said of the first is not left standing.
    a.apply(ev(
        T0 + 5000,
        state_msg("inst-b", "chat", &lifted(&[0], 0, &[])),
    ));
    a.after_events();
    a.act(Action::NextInstance);
    assert!(
        status(&a).starts_with("commands now reach "),
        "{}",
        status(&a)
    );
    // A bad filter's warning goes once the filter is fixed.
    a.act(Action::Focus(Pane::Logs));
    a.act(Action::FilterPrompt);
    typed(&mut a, "level>=");
    a.act(Action::Submit);
    assert!(status(&a).starts_with("bad filter"), "{}", status(&a));
    typed(&mut a, "warn");
    assert_eq!(status(&a), "");
    // A notice is news for a while, then the hints are back.
    a.ui.say("copied 12 bytes");
    assert_eq!(status(&a), "copied 12 bytes");
    a.ui.status_at -= roomtap::ui::NOTICE_FOR_MS;
    assert_eq!(status(&a), "");
    a.ui.warn("something to read");
    a.ui.status_at -= roomtap::ui::NOTICE_FOR_MS;
    assert_eq!(status(&a), "something to read", "a warning stays longer");
}

#[test]
fn an_app_error_banner_clears_on_the_apps_next_good_state() {
    let mut a = app_with_actions(1);
    a.apply(ev(
        T0 + 500,
        redux(serde_json::json!({
            "type": "ERROR", "id": "sock-1", "name": "counter", "instanceId": "inst-a",
            "payload": "reducer threw: boom"
        })),
    ));
    assert!(a.store.timeline.instances[0].last_error.is_some());
    a.apply(ev(
        T0 + 600,
        action_msg("inst-a", "counter", 2, "INCREMENT", 2),
    ));
    assert_eq!(a.store.timeline.instances[0].last_error, None);
}

#[test]
fn without_a_terminal_the_panes_say_so_and_point_to_tail() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_roomtap"))
        .arg("demo")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("the panes need a terminal") && err.contains("roomtap tail"),
        "{err}"
    );
}

#[test]
fn the_selected_log_row_is_drawn_in_the_bars_colours_only() {
    let mut a = app_with_actions(3);
    a.act(Action::Focus(Pane::Logs));
    a.act(Action::Up);
    let t = render(&mut a, 120, 40);
    let buf = t.backend().buffer();
    let theme = roomtap::ui::theme::Theme::builtin("dark").unwrap();
    // The selected row: the one whose every cell has the bar's background.
    let row = (1..39u16)
        .find(|&y| buf[(14u16, y)].bg == theme.selected.bg.unwrap())
        .expect("a selected row");
    // The source label (column 14 on) in the bar's foreground, not cyan.
    for x in 14..18u16 {
        assert_eq!(buf[(x, row)].fg, theme.selected.fg.unwrap(), "column {x}");
    }
}

#[test]
fn an_open_entry_whose_filter_matches_nothing_says_so() {
    let mut a = app_with_actions(3);
    a.act(Action::Focus(Pane::Logs));
    a.act(Action::Activate);
    assert!(a.ui.logs.open);
    a.act(Action::FilterPrompt);
    typed(&mut a, "nothing-matches-this");
    a.act(Action::Submit);
    a.prepare();
    assert!(
        matches!(&a.ui.logs.detail.view.lines[..], [roomtap::ui::DetailLine::Note(n)] if n.contains("no entry matches the filter")),
        "{:?}",
        a.ui.logs.detail.view.lines
    );
    // A filter that matches: following, its newest entry is shown, and the
    // title says so.
    a.act(Action::FilterPrompt);
    a.act(Action::KillStart);
    typed(&mut a, "INCREMENT");
    a.act(Action::Submit);
    a.prepare();
    let screen = screen_text(&render(&mut a, 120, 40));
    assert!(screen.contains("(the newest)"), "{screen}");
}

#[test]
fn times_name_their_zone_show_dates_across_days_and_go_relative() {
    let mut a = app_with_actions(2);
    a.act(Action::Focus(Pane::Logs));
    let screen = screen_text(&render(&mut a, 160, 30));
    assert!(
        screen.contains("· UTC"),
        "the zone named in the title: {screen}"
    );
    assert!(screen.contains("10:42:40.100"), "{screen}");
    // An entry a day later: every row shows its date.
    a.apply(ev(
        T0 + 86_400_000,
        action_msg("inst-a", "counter", 3, "INCREMENT", 3),
    ));
    a.after_events();
    let screen = screen_text(&render(&mut a, 160, 30));
    assert!(screen.contains("11-22 10:42:40.100"), "{screen}");
    assert!(screen.contains("11-23 10:42:40.000"), "{screen}");
    // `t`: relative to the selected entry.
    a.act(Action::Up);
    a.act(Action::RelativeTime);
    let screen = screen_text(&render(&mut a, 160, 30));
    assert!(screen.contains("times relative"), "{screen}");
    assert!(
        screen.contains("+     0.000s"),
        "the selected one: {screen}"
    );
    assert!(screen.contains("-     0.100s"), "the one before: {screen}");
    assert!(screen.contains("+ 86399.800s"), "a day later: {screen}");
}

#[test]
fn otlp_attributes_are_filtered_by_name_and_copied_as_a_path() {
    use roomtap::protocols::room::wire::logs::lines;
    let mut a = app();
    let rec = |took: &str, other: serde_json::Value| {
        serde_json::json!({"resourceLogs": [{"scopeLogs": [{"logRecords": [{
            "severityText": "INFO",
            "body": {"stringValue": "query"},
            "attributes": [other, {"key": "took_ms", "value": {"intValue": took}}]
        }]}]}]})
    };
    let events = [
        rec(
            "150",
            serde_json::json!({"key": "db", "value": {"stringValue": "main"}}),
        ),
        rec(
            "20",
            serde_json::json!({"key": "db", "value": {"stringValue": "main"}}),
        ),
        // Its second attribute is something else at 500: positions would
        // have matched it.
        rec(
            "5",
            serde_json::json!({"key": "rows", "value": {"intValue": "500"}}),
        ),
    ];
    for (i, data) in events.iter().enumerate() {
        for l in lines("otel.log", data) {
            a.apply(ev(T0 + i as u64, roomtap::event::EventKind::Log(l.record)));
        }
    }
    a.after_events();
    a.act(Action::Focus(Pane::Logs));
    a.act(Action::FilterPrompt);
    typed(&mut a, "data.attributes.took_ms>100");
    a.act(Action::Submit);
    assert_eq!(a.store.logs.view_len(), 1, "only the 150 ms one");
    // Its detail: Y on `took_ms` copies the path by name.
    a.act(Action::Activate);
    assert!(a.ui.logs.detail.focus);
    a.prepare();
    let at = a
        .ui
        .logs
        .detail
        .view
        .lines
        .iter()
        .position(|l| matches!(l, roomtap::ui::DetailLine::Tree(r) if r.path.ends_with(".took_ms")))
        .expect("took_ms in the tree");
    for _ in 0..at {
        a.act(Action::Down);
    }
    a.act(Action::CopyPath);
    assert_eq!(
        a.take_copies().last().map(String::as_str),
        Some("data.attributes.took_ms")
    );
}

#[test]
fn panes_with_nothing_to_show_step_aside_and_focus_goes_where_the_data_is() {
    // A room alone: no Timeline, its room goes to the others.
    let mut a = app_blank();
    a.store.add_source(
        "room",
        roomtap::protocols::room::CLIENT,
        "ws://127.0.0.1:1/rooms/r",
    );
    a.ui.focus = Pane::Logs; // where a room starts (its first pane)
    let screen = screen_text(&render(&mut a, 120, 40));
    assert!(!screen.contains("Timeline"), "{screen}");
    assert!(
        screen.contains("Channels") && screen.contains("Connections"),
        "{screen}"
    );
    // `4` still shows it, alone.
    a.act(Action::Focus(Pane::Timeline));
    let screen = screen_text(&render(&mut a, 120, 40));
    assert!(screen.contains("no app yet"), "{screen}");
    // A relay session starts on the Timeline; while it has no app and
    // the Logs fill, focus goes to the Logs — until a key chooses.
    let mut a = app_blank();
    a.store.add_source(
        "relay",
        roomtap::protocols::redux::CLIENT,
        "ws://127.0.0.1:8000/socketcluster/",
    );
    a.ui.focus = Pane::Timeline;
    a.apply(ev(
        T0,
        roomtap::event::EventKind::Conn(roomtap::event::ConnState::Connecting { attempt: 1 }),
    ));
    a.after_events();
    assert_eq!(a.ui.focus, Pane::Logs);
    a.act(Action::Focus(Pane::Timeline));
    a.apply(ev(
        T0 + 1,
        roomtap::event::EventKind::Conn(roomtap::event::ConnState::Handshaking),
    ));
    a.after_events();
    assert_eq!(a.ui.focus, Pane::Timeline, "chosen by a key: it stays");
}

#[test]
fn below_100_columns_one_pane_at_a_time_under_a_tab_bar() {
    let mut a = app_with_actions(2);
    a.act(Action::Focus(Pane::Logs));
    let narrow = screen_text(&render(&mut a, 80, 24));
    let first = narrow.lines().next().unwrap();
    for p in ["1 Logs", "2 Channels", "3 Connections", "4 Timeline"] {
        assert!(first.contains(p), "the tab bar names {p}: {first:?}");
    }
    // Only the Logs drawn, their summaries readable.
    assert!(!narrow.contains("┌ 4 Timeline"), "{narrow}");
    assert!(narrow.contains("counter [inst-a] INCREMENT #2"), "{narrow}");
    // `4`: the Timeline instead.
    a.act(Action::Focus(Pane::Timeline));
    let narrow = screen_text(&render(&mut a, 80, 24));
    assert!(
        narrow.contains("┌ 4 Timeline") && !narrow.contains("┌ 1 Logs"),
        "{narrow}"
    );
    // Wide: all four.
    let wide = screen_text(&render(&mut a, 120, 40));
    assert!(
        wide.contains("┌ 1 Logs") && wide.contains("┌ 4 Timeline"),
        "{wide}"
    );
    // The kind column is as wide as the longest kind in view.
    a.act(Action::Focus(Pane::Logs));
    a.apply(ev(
        T0 + 900,
        roomtap::event::EventKind::Log(roomtap::event::LogRecord {
            level: roomtap::event::Level::Info,
            kind: "content.modified".into(),
            summary: "a page".into(),
            data: None,
            bytes: None,
        }),
    ));
    let wide = screen_text(&render(&mut a, 120, 40));
    assert!(wide.contains("content.modified a page"), "{wide}");
}

#[test]
fn connections_rows_are_cut_not_wrapped() {
    let mut a = app();
    a.apply(ev(
        T0,
        roomtap::event::EventKind::Facts(vec![roomtap::event::Fact::set(
            "schema",
            "x".repeat(300),
        )]),
    ));
    a.act(Action::Focus(Pane::Connections));
    let screen = screen_text(&render(&mut a, 80, 24));
    let row = screen
        .lines()
        .find(|l| l.contains("schema"))
        .expect("the fact's row");
    assert!(
        row.trim_end_matches('│').trim_end().ends_with('…'),
        "{row:?}"
    );
    // Its end is not on the next row.
    assert!(!screen.lines().any(|l| l.starts_with("│xxxx")), "{screen}");
}

#[test]
fn in_a_replay_the_hints_show_only_what_works_there() {
    let mut a = app_with_actions(2);
    a.act(Action::Focus(Pane::Timeline));
    let live = screen_text(&render(&mut a, 120, 40));
    assert!(
        live.lines().last().unwrap().contains("Enter jump"),
        "{live}"
    );
    a.read_only = Some("replaying a recording: commands are disabled".into());
    let replay = screen_text(&render(&mut a, 120, 40));
    let hints = replay.lines().last().unwrap();
    for gone in [
        "Enter jump",
        "s skip",
        "c commit",
        "p pause",
        "d dispatch",
        "P replay",
    ] {
        assert!(!hints.contains(gone), "{gone:?} in {hints:?}");
    }
    assert!(
        hints.contains("i app") && hints.trim_end().ends_with("? help"),
        "{hints:?}"
    );
}

#[test]
fn a_bad_filters_warning_goes_when_the_prompt_is_given_up() {
    let mut a = app_with_actions(1);
    a.act(Action::Focus(Pane::Logs));
    a.act(Action::FilterPrompt);
    typed(&mut a, "level>=");
    a.act(Action::Submit);
    assert!(status(&a).starts_with("bad filter"), "{}", status(&a));
    a.act(Action::Escape);
    assert_eq!(status(&a), "", "about a filter no longer being typed");
    // Another warning is not taken back by it.
    a.ui.warn("something else");
    a.act(Action::FilterPrompt);
    a.act(Action::Escape);
    assert_eq!(status(&a), "something else");
}

#[test]
fn a_cut_title_keeps_its_match_count_and_follow_state() {
    let mut a = app_with_actions(3);
    a.act(Action::Focus(Pane::Logs));
    a.act(Action::FilterPrompt);
    typed(
        &mut a,
        "kind=ACTION or kind=connection or summary~/some very long alternative/",
    );
    a.act(Action::Submit);
    let screen = screen_text(&render(&mut a, 80, 24));
    let title = screen
        .lines()
        .find(|l| l.contains("┌ 1 Logs"))
        .expect("the Logs title");
    assert!(title.contains("matches · follow"), "{title}");
    assert!(title.contains('…'), "the filter's text is cut: {title}");
    a.act(Action::Freeze);
    let screen = screen_text(&render(&mut a, 80, 24));
    let title = screen.lines().find(|l| l.contains("┌ 1 Logs")).unwrap();
    assert!(title.contains("matches · FROZEN"), "{title}");
}

#[test]
fn channels_and_connections_are_aligned_tables_whatever_the_width() {
    use roomtap::event::{ChannelChange, EventKind};
    let mut a = app();
    for name in ["presence", "a-channel-with-a-rather-long-name-indeed", "x"] {
        a.apply(ev(
            T0,
            EventKind::Channel {
                channel: name.into(),
                change: ChannelChange::Messages {
                    count: 3,
                    bytes: 300,
                },
            },
        ));
    }
    let second = a.store.add_source(
        "second",
        roomtap::protocols::room::CLIENT,
        "ws://127.0.0.1:1/a/very/long/path/that/does/not/fit/in/a/narrow/pane",
    );
    let _ = second;
    for (w, h) in [(80, 24), (120, 40), (200, 60)] {
        for pane in [Pane::Channels, Pane::Connections] {
            // Zoomed: the pane alone, as wide as the terminal.
            a.act(Action::Focus(pane));
            a.act(Action::Zoom);
            let screen = screen_text(&render(&mut a, w, h));
            a.act(Action::Zoom);
            let lines: Vec<&str> = screen.lines().collect();
            let at = lines
                .iter()
                .position(|l| l.starts_with("│source"))
                .unwrap_or_else(|| panic!("{pane:?} at {w}x{h}: no table head\n{screen}"));
            let col = |l: &str, word: &str| l.find(word);
            // The state column starts at the same place on every row.
            let state_at = col(lines[at], "state").unwrap();
            let rows: Vec<&str> = lines[at + 1..]
                .iter()
                .take_while(|l| !l.contains('─') && !l.trim_matches(['│', ' ']).is_empty())
                .copied()
                .collect();
            assert!(!rows.is_empty(), "{pane:?} at {w}x{h}: rows\n{screen}");
            for r in &rows {
                let cell = &r[state_at..];
                assert!(
                    ["connected", "connecting", "sub", "-", "available", "closed"]
                        .iter()
                        .any(|s| cell.starts_with(s)),
                    "{pane:?} at {w}x{h}: state column not aligned in {r:?}\n{screen}"
                );
            }
        }
    }
}

#[test]
fn a_cut_summary_is_read_by_scrolling_sideways() {
    let mut a = app();
    let summary = format!("the start {} THE-END-OF-IT", "middle ".repeat(12));
    a.apply(ev(
        T0,
        roomtap::event::EventKind::Log(roomtap::event::LogRecord {
            level: roomtap::event::Level::Warn,
            kind: "indexer".into(),
            summary,
            data: None,
            bytes: None,
        }),
    ));
    a.act(Action::Focus(Pane::Logs));
    let screen = screen_text(&render(&mut a, 80, 24));
    assert!(
        screen.contains("the start") && !screen.contains("THE-END"),
        "{screen}"
    );
    for _ in 0..4 {
        a.act(Action::ShiftRight);
    }
    let screen = screen_text(&render(&mut a, 80, 24));
    assert!(screen.contains("THE-END-OF-IT"), "{screen}");
    assert!(!screen.contains("the start"), "{screen}");
    assert!(screen.contains("→64"), "the title says how far: {screen}");
    for _ in 0..4 {
        a.act(Action::ShiftLeft);
    }
    let screen = screen_text(&render(&mut a, 80, 24));
    assert!(
        screen.contains("the start") && !screen.contains('→'),
        "{screen}"
    );
}

#[test]
fn an_opening_recording_says_how_far_it_is_in_the_logs_title() {
    let mut a = app_blank();
    let file = a.store.add_source(
        "file",
        roomtap::source::SourceKind::RECORDING,
        "/tmp/session.jsonl",
    );
    let facts = |f| roomtap::event::SourceEvent {
        source: file,
        at_ms: T0,
        kind: roomtap::event::EventKind::Facts(vec![f]),
    };
    a.apply(facts(roomtap::event::Fact::set(
        "loading",
        "42 % · 180 MB/s · 120000 events",
    )));
    a.act(Action::Focus(Pane::Logs));
    let screen = screen_text(&render(&mut a, 120, 40));
    assert!(
        screen.contains("loading 42 % · 180 MB/s · 120000 events"),
        "{screen}"
    );
    // Loaded: the title is as before.
    a.apply(facts(roomtap::event::Fact::unset("loading")));
    let screen = screen_text(&render(&mut a, 120, 40));
    assert!(!screen.contains("loading"), "{screen}");
}

#[test]
fn a_recording_of_a_room_alone_gives_the_timeline_no_room() {
    let mut a = app_blank();
    a.store
        .add_source("room", roomtap::protocols::room::CLIENT, "ws://h/rooms/r");
    a.store.add_source(
        "file",
        roomtap::source::SourceKind::RECORDING,
        "/tmp/session.jsonl",
    );
    a.act(Action::Focus(Pane::Logs));
    let screen = screen_text(&render(&mut a, 120, 40));
    assert!(!screen.contains("no app yet"), "{screen}");
    // A recording whose sources it does not know may hold apps.
    a.store
        .add_source("old", roomtap::source::SourceKind::RECORDED, "ws://h/x");
    let screen = screen_text(&render(&mut a, 120, 40));
    assert!(screen.contains("no app yet"), "{screen}");
}
