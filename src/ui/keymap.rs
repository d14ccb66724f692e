//! What a binding of the key table ([`keys`](super::keys)) is made of:
//! the [`Action`]s, the keyboard's [`Mode`]s, the presses ([`Key`]) and
//! status-line [`Hint`]s. Pure types: the table and the lookups built on
//! it are in `keys`, which imports this, never the other way round.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::Pane;

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
    /// t: the Logs' times relative to the selected entry, or clock times.
    RelativeTime,
    /// T: load the theme again (from its file or built-in name).
    ReloadTheme,
    /// m: the mouse on / off (off: the terminal selects text).
    ToggleMouse,
    /// A click on a list's row: select it (never jumps).
    Row(usize),
    /// I: the Logs' histogram over time, on / off.
    Histogram,
    /// { / }: the histogram's previous / next bar (its first entry selected).
    HistPrev,
    HistNext,
    /// A click on the histogram's bar.
    HistBar(usize),
    /// > / <: the Logs' summaries scrolled sideways (what a row cut).
    ShiftRight,
    ShiftLeft,
    // Prompt editing.
    Input(char),
    Backspace,
    Submit,
    /// Delete: the character under the cursor.
    Delete,
    CursorLeft,
    CursorRight,
    /// Ctrl-A / Home.
    LineStart,
    /// Ctrl-E / End.
    LineEnd,
    /// Ctrl-U: everything before the cursor.
    KillStart,
    /// Ctrl-W: the word before the cursor.
    KillWord,
    /// ↑ / ↓ in a prompt: its history.
    HistoryPrev,
    HistoryNext,
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
    pub fn matches(self, key: &KeyEvent) -> bool {
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
    /// Commands can be sent (not replaying a recording).
    Live,
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
    /// Where in the pane the keys are: its list, its detail, or either.
    pub place: Place,
}

/// Where a pane's keys go (each pane reports its own): its list, or the
/// detail it opened (Enter folds there, Esc leaves it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Any,
    List,
    Detail,
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
    /// Its heading in the `?` help.
    pub group: Group,
}

/// The `?` help's headings: the focused pane's keys first, then the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// Focus, zoom, export, help, quit.
    Panes,
    /// Moving in a list or a detail, opening, copying.
    Moving,
    Logs,
    /// The selected app's history (Timeline only).
    Timeline,
    /// What the sources take: watching, the `:` line.
    Sources,
    /// Filters and the prompts.
    Prompts,
}

impl Group {
    pub const ALL: [Group; 6] = [
        Group::Panes,
        Group::Moving,
        Group::Logs,
        Group::Timeline,
        Group::Sources,
        Group::Prompts,
    ];

    pub fn heading(self) -> &'static str {
        match self {
            Group::Panes => "panes",
            Group::Moving => "moving, opening, copying (every pane)",
            Group::Logs => "Logs",
            Group::Timeline => "Timeline: the selected app's history",
            Group::Sources => "sources",
            Group::Prompts => "filters and prompts",
        }
    }
}

impl Binding {
    /// Under `group` in the help.
    pub const fn group(self, group: Group) -> Binding {
        Binding { group, ..self }
    }
}
