//! Keys → [`Action`]s: what a binding of the key table
//! ([`keys`](super::keys)) is made of, how a key press finds its action,
//! and the status-line hints.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::Pane;
use super::keys::BINDINGS;

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
    /// A command waits for `y`; any other key cancels it.
    Confirm,
}

/// A key press a binding takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// This key, whatever modifiers are held.
    Code(KeyCode),
    /// Ctrl and this character, in every mode.
    Ctrl(char),
}

impl Key {
    fn matches(self, key: &KeyEvent) -> bool {
        match self {
            Key::Code(c) => key.code == c,
            Key::Ctrl(c) => {
                key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char(c)
            }
        }
    }
}

/// What a status-line hint needs before it is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    None,
    /// A source with a `:` command line (a room).
    CommandLine,
    /// A source that can watch developer logs (a room).
    Watch,
    /// No source with a command line: on the Logs line the room hints
    /// take this hint's place.
    NoCommandLine,
}

/// One hint on the status line, e.g. `s skip`.
#[derive(Debug, Clone, Copy)]
pub struct Hint {
    /// Place on the status line: a pane's hints show in this order.
    pub at: u8,
    pub text: &'static str,
    /// The panes whose status line shows it (when focused).
    pub panes: &'static [Pane],
    pub need: Need,
}

/// One row of the key table.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    /// The keys as the help (and the README) show them.
    pub keys: &'static str,
    /// The presses it takes, and the action of each.
    pub press: &'static [(Key, Action)],
    /// The modes its [`Key::Code`] presses work in.
    pub modes: &'static [Mode],
    /// Its line in the `?` help.
    pub help: &'static str,
    pub hints: &'static [Hint],
}

/// The action of a key press in a mode: the key table's bindings
/// ([`BINDINGS`]), then what typing does in a prompt or while a
/// replay pace is chosen or a replay runs.
pub fn map_key(key: KeyEvent, mode: Mode) -> Option<Action> {
    if let Some(a) = lookup(&key, mode) {
        return Some(a);
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match mode {
        Mode::Prompt => match key.code {
            KeyCode::Enter => Some(Action::Submit),
            KeyCode::Backspace => Some(Action::Backspace),
            KeyCode::Char(c) if !ctrl => Some(Action::Input(c)),
            _ => None,
        },
        Mode::ReplayPace => Some(match key.code {
            KeyCode::Char(c) => Action::Input(c),
            KeyCode::Enter => Action::Input('1'),
            _ => Action::Escape,
        }),
        // Any key stops a replay.
        Mode::Replaying => Some(Action::Escape),
        // Only `y` confirms (not Enter: a key pressed on from habit).
        Mode::Confirm => Some(match key.code {
            KeyCode::Char(c) if !ctrl => Action::Input(c),
            _ => Action::Escape,
        }),
        Mode::Normal => None,
    }
}

/// The action a press has in a mode: Ctrl presses first (they work in
/// every mode), then the plain keys of the bindings for that mode.
fn lookup(key: &KeyEvent, mode: Mode) -> Option<Action> {
    let presses = || {
        BINDINGS
            .iter()
            .flat_map(|b| b.press.iter().map(move |p| (b, p)))
    };
    presses()
        .find(|(_, (k, _))| matches!(k, Key::Ctrl(_)) && k.matches(key))
        .or_else(|| {
            presses().find(|(b, (k, _))| {
                matches!(k, Key::Code(_)) && b.modes.contains(&mode) && k.matches(key)
            })
        })
        .map(|(_, (_, a))| a.clone())
}

/// The status-line hints of a pane, in order, joined; `met` says which
/// needs the sources meet.
pub fn hint_line(pane: Pane, met: impl Fn(Need) -> bool) -> String {
    let mut hints: Vec<&Hint> = BINDINGS
        .iter()
        .flat_map(|b| b.hints)
        .filter(|h| h.panes.contains(&pane) && met(h.need))
        .collect();
    hints.sort_by_key(|h| h.at);
    let texts: Vec<&str> = hints.iter().map(|h| h.text).collect();
    texts.join(" · ")
}
