//! Keys → [`Action`]s. The help overlay and README are built from `HELP`.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Quit,
    FocusNext,
    FocusPrev,
    Focus(super::Pane),
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    /// Enter: jump to state (timeline list) / fold a node (detail).
    Activate,
    /// Move between the timeline's action list and its detail view.
    ToggleDetailFocus,
    Skip,
    Sweep,
    Commit,
    Rollback,
    Reset,
    Pause,
    Lock,
    DispatchPrompt,
    Replay,
    NextInstance,
    PrevTab,
    NextTab,
    FilterPrompt,
    NextMatch,
    PrevMatch,
    Escape,
    Follow,
    Zoom,
    Copy,
    Help,
    /// Ask the selected app for a fresh STATE.
    Refresh,
    /// Toggle developer-log watching on the room.
    Watch,
    /// Open the `:` command line.
    CommandLine,
    /// In the filter prompt: match case exactly, or not.
    ToggleCase,
    /// Space: freeze / unfreeze the Logs view (ingest goes on).
    Freeze,
    /// Y: copy the path of the value under the cursor.
    CopyPath,
    /// e: export the Logs view (as filtered) as JSON Lines.
    Export,
    // Prompt editing.
    Input(char),
    Backspace,
    Submit,
}

/// What the keyboard is doing right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Normal,
    /// Typing into a prompt (filter, dispatch).
    Prompt,
    /// Choosing a replay pace.
    ReplayPace,
    /// A replay is running: any key stops it.
    Replaying,
}

pub fn map_key(key: KeyEvent, mode: Mode) -> Option<Action> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && matches!(key.code, KeyCode::Char('c')) {
        return Some(Action::Quit);
    }
    match mode {
        Mode::Prompt => {
            return match key.code {
                KeyCode::Esc => Some(Action::Escape),
                KeyCode::Enter => Some(Action::Submit),
                KeyCode::Backspace => Some(Action::Backspace),
                KeyCode::Tab => Some(Action::ToggleCase),
                KeyCode::Char(c) if !ctrl => Some(Action::Input(c)),
                _ => None,
            };
        }
        Mode::ReplayPace => {
            return match key.code {
                KeyCode::Char(c) => Some(Action::Input(c)),
                KeyCode::Enter => Some(Action::Input('1')),
                _ => Some(Action::Escape),
            };
        }
        Mode::Replaying => return Some(Action::Escape),
        Mode::Normal => {}
    }
    use super::Pane;
    Some(match key.code {
        KeyCode::Char('q') => Action::Quit,
        KeyCode::Tab => Action::FocusNext,
        KeyCode::BackTab => Action::FocusPrev,
        KeyCode::Char('1') => Action::Focus(Pane::Logs),
        KeyCode::Char('2') => Action::Focus(Pane::Channels),
        KeyCode::Char('3') => Action::Focus(Pane::Connections),
        KeyCode::Char('4') => Action::Focus(Pane::Timeline),
        KeyCode::Char('j') | KeyCode::Down => Action::Down,
        KeyCode::Char('k') | KeyCode::Up => Action::Up,
        KeyCode::PageDown => Action::PageDown,
        KeyCode::PageUp => Action::PageUp,
        KeyCode::Char('g') | KeyCode::Home => Action::Top,
        KeyCode::Char('G') => Action::Bottom,
        KeyCode::End => Action::Follow,
        KeyCode::Enter => Action::Activate,
        KeyCode::Char(' ') => Action::Freeze,
        KeyCode::Left | KeyCode::Right | KeyCode::Char('v') => Action::ToggleDetailFocus,
        KeyCode::Char('s') => Action::Skip,
        KeyCode::Char('x') => Action::Sweep,
        KeyCode::Char('c') => Action::Commit,
        KeyCode::Char('r') => Action::Rollback,
        KeyCode::Char('R') => Action::Reset,
        KeyCode::Char('p') => Action::Pause,
        KeyCode::Char('l') => Action::Lock,
        KeyCode::Char('d') => Action::DispatchPrompt,
        KeyCode::Char('P') => Action::Replay,
        KeyCode::Char('i') => Action::NextInstance,
        KeyCode::Char('[') => Action::PrevTab,
        KeyCode::Char(']') => Action::NextTab,
        KeyCode::Char('/') => Action::FilterPrompt,
        KeyCode::Char('n') => Action::NextMatch,
        KeyCode::Char('N') => Action::PrevMatch,
        KeyCode::Esc => Action::Escape,
        KeyCode::Char('f') => Action::Follow,
        KeyCode::Char('z') => Action::Zoom,
        KeyCode::Char('y') => Action::Copy,
        KeyCode::Char('Y') => Action::CopyPath,
        KeyCode::Char('e') => Action::Export,
        KeyCode::Char('u') => Action::Refresh,
        KeyCode::Char('w') => Action::Watch,
        KeyCode::Char(':') => Action::CommandLine,
        KeyCode::Char('?') => Action::Help,
        _ => return None,
    })
}

/// (keys, what they do): the `?` overlay and the README list these.
pub const HELP: &[(&str, &str)] = &[
    ("Tab / Shift-Tab", "focus next / previous pane"),
    ("1 2 3 4", "focus Logs / Channels / Connections / Timeline"),
    ("j k ↑ ↓ PgUp PgDn", "move the selection, a page"),
    ("g / G", "top / bottom"),
    (
        "Enter",
        "timeline: jump to the state · logs: open the entry · fold",
    ),
    ("← → v", "switch between the list and the detail"),
    ("Space", "freeze / unfreeze the Logs view (ingest goes on)"),
    ("[ ]", "detail tab: Action / State / Diff"),
    (
        "s x",
        "skip / unskip the action (TOGGLE_ACTION) · sweep skipped",
    ),
    ("c r R", "commit · rollback to the last commit · reset"),
    ("p l", "pause / resume recording · lock / unlock changes"),
    ("d", "dispatch an action you type (JS object literal)"),
    ("P", "replay from the selected action to the last"),
    ("u", "ask the app for a fresh STATE (UPDATE)"),
    ("i", "next app instance"),
    ("w", "room: watch / stop watching developer logs"),
    (":", "room command: log TYPE {json} · info|warn|error TEXT"),
    (
        "/",
        "filter: word \"phrase\" /re/ level>=warn data.a=1 or not ( )",
    ),
    ("Tab (in /)", "match case exactly / ignore case"),
    ("n / N", "next / previous match"),
    ("Esc", "clear filter, close prompt, detail or help"),
    ("f / End", "follow the newest entry"),
    (
        "z  e",
        "zoom the focused pane · export the Logs view (JSON Lines)",
    ),
    (
        "y / Y",
        "copy the entry or the value under the cursor / its path",
    ),
    ("?", "this help"),
    ("q / Ctrl-C", "quit"),
];
