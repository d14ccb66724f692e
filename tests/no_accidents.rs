//! No command by accident: keys that change an app act only with the
//! Timeline focused; commit, rollback, reset and sweep wait for `y` after a
//! question naming the apps they reach; `:` always opens, and what cannot be
//! sent is said inside it.

mod common;

use common::*;
use roomtap::event::{Command, CommandKind, EventKind};
use roomtap::protocols::redux::wire::model::{LiftedAction, ReduxCommand};
use roomtap::ui::Pane;
use roomtap::ui::keymap::Action;

fn dispatched(cmds: &[Command]) -> Vec<LiftedAction> {
    cmds.iter()
        .filter_map(|c| match &c.kind {
            CommandKind::Redux(ReduxCommand::Dispatch { action, .. }) => Some(action.clone()),
            _ => None,
        })
        .collect()
}

fn status(a: &roomtap::app::App) -> String {
    a.ui.status.clone().map(|(s, _)| s).unwrap_or_default()
}

fn typed(a: &mut roomtap::app::App, text: &str) {
    for c in text.chars() {
        a.act(Action::Input(c));
    }
}

#[test]
fn app_keys_do_nothing_outside_the_timeline() {
    for pane in [Pane::Logs, Pane::Channels, Pane::Connections] {
        for key in [
            Action::Commit,
            Action::Lock,
            Action::Pause,
            Action::Skip,
            Action::Sweep,
            Action::Rollback,
            Action::Reset,
            Action::DispatchPrompt,
            Action::Replay,
        ] {
            let mut a = app_with_actions(3);
            a.act(Action::Focus(pane));
            a.act(key.clone());
            a.act(Action::Input('y'));
            assert!(
                a.take_commands().is_empty(),
                "{key:?} in {pane:?} sent a command"
            );
            assert!(a.ui.confirm.is_none() && a.ui.prompt.is_none() && !a.ui.choosing_pace);
            assert!(
                status(&a).contains("focus the Timeline"),
                "{key:?}: {}",
                status(&a)
            );
        }
    }
}

#[test]
fn commit_asks_first_and_names_the_app() {
    let mut a = app_with_actions(3);
    a.act(Action::Focus(Pane::Timeline));
    a.act(Action::Commit);
    assert!(a.take_commands().is_empty(), "nothing before the answer");
    let q = a.ui.confirm.clone().expect("a question").question;
    assert!(
        q.contains("commit") && q.contains("counter (inst-a)"),
        "{q}"
    );
    // The question is on screen.
    let text = screen_text(&render(&mut a, 120, 40));
    assert!(text.contains("y yes · any other key no"), "{text}");
    // Any other key (Enter included) cancels.
    a.act(Action::Activate);
    assert!(a.take_commands().is_empty());
    assert!(status(&a).contains("cancelled"), "{}", status(&a));
    a.act(Action::Commit);
    a.act(Action::Input('n'));
    assert!(a.take_commands().is_empty());
    // `y` sends it.
    a.act(Action::Commit);
    a.act(Action::Input('y'));
    assert_eq!(dispatched(&a.take_commands()), [LiftedAction::Commit]);
}

#[test]
fn rollback_reset_and_sweep_ask_too_pause_and_lock_do_not() {
    for (key, asks) in [
        (Action::Rollback, true),
        (Action::Reset, true),
        (Action::Sweep, true),
        (Action::Pause, false),
        (Action::Lock, false),
    ] {
        let mut a = app_with_actions(3);
        a.act(Action::Focus(Pane::Timeline));
        a.act(key.clone());
        assert_eq!(a.ui.confirm.is_some(), asks, "{key:?}");
        assert_eq!(a.take_commands().is_empty(), asks, "{key:?}");
    }
}

#[test]
fn on_a_broadcasting_relay_the_question_names_every_app() {
    let mut a = app_with_actions(2);
    a.apply(ev(
        T0 + 500,
        state_msg("inst-b", "other", &lifted(&[0], 0, &[])),
    ));
    a.act(Action::Focus(Pane::Timeline));
    a.act(Action::Reset);
    let q = a.ui.confirm.clone().expect("a question").question;
    assert!(q.contains("all 2 apps"), "{q}");
    assert!(
        q.contains("counter (inst-a)") && q.contains("other (inst-b)"),
        "{q}"
    );
}

#[test]
fn the_command_line_always_opens_and_says_what_cannot_be_sent() {
    // No room: `:` opens all the same, so what follows is typed, not keys.
    let mut a = app_with_actions(2);
    a.act(Action::Focus(Pane::Logs));
    a.act(Action::CommandLine);
    assert!(a.ui.prompt.is_some(), ": opens");
    typed(&mut a, "info hello");
    assert!(
        !a.effects.contains(&roomtap::app::Effect::Export),
        "e was typed, not pressed"
    );
    assert_eq!(a.ui.prompt.as_ref().unwrap().text, "info hello");
    a.act(Action::Submit);
    assert!(a.take_commands().is_empty());
    assert!(a.ui.prompt.is_some(), "the prompt stays open");
    let err = a.ui.prompt_error.clone().unwrap_or_default();
    assert!(err.contains("no source here takes : commands"), "{err}");
    let text = screen_text(&render(&mut a, 120, 40));
    assert!(text.contains("✗ no source here takes"), "{text}");
    // Typing clears the error; Esc closes.
    a.act(Action::Backspace);
    assert!(a.ui.prompt_error.is_none());
    a.act(Action::Escape);
    assert!(a.ui.prompt.is_none());
}

#[test]
fn an_unknown_command_is_an_error_inside_the_prompt() {
    let mut a = app();
    a.store.add_source(
        "room",
        roomtap::protocols::room::CLIENT,
        "ws://127.0.0.1:1/rooms/r",
    );
    a.act(Action::CommandLine);
    typed(&mut a, "frobnicate now");
    a.act(Action::Submit);
    assert!(a.take_commands().is_empty());
    assert!(a.ui.prompt.is_some(), "still open to fix");
    let err = a.ui.prompt_error.clone().unwrap_or_default();
    assert!(err.contains("frobnicate is not a command here"), "{err}");
    // Fixed, it goes to the room.
    for _ in 0.."frobnicate now".len() {
        a.act(Action::Backspace);
    }
    typed(&mut a, "info hello");
    a.act(Action::Submit);
    let cmds = a.take_commands();
    assert!(
        matches!(
            &cmds[..],
            [Command {
                source: 1,
                kind: CommandKind::Room(_)
            }]
        ),
        "{cmds:?}"
    );
    assert!(a.ui.prompt.is_none());
    let _ = EventKind::Log; // (the room would echo it; not needed here)
}
