//! The terminal ui: state of the views (selection, focus, prompts, caches)
//! and pure rendering of the store ([`draw`] of a [`View`]). Keys become
//! [`keymap::Action`]s by the key table in [`keys`].

mod channels;
mod connections;
mod draw;
mod help;
pub mod json;
pub mod keymap;
pub mod keys;
mod lines;
mod logs;
pub mod pane;
pub mod rebind;
mod status;
mod table;
pub mod theme;
mod timeline;

pub use channels::ChannelsPane;
pub use connections::ConnectionsPane;
pub use draw::{View, draw};
pub use logs::{LogsPane, PENDING_PAUSE, PendingFilter};
pub use timeline::TimelinePane;

use std::time::Instant;

use crate::event::SourceId;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Logs,
    Channels,
    Connections,
    Timeline,
}

impl Pane {
    /// The pane a protocol asks a run to open on.
    pub fn of(first: crate::source::kind::FirstPane) -> Pane {
        use crate::source::kind::FirstPane;
        match first {
            FirstPane::Logs => Pane::Logs,
            FirstPane::Channels => Pane::Channels,
            FirstPane::Connections => Pane::Connections,
            FirstPane::Timeline => Pane::Timeline,
        }
    }

    pub const ALL: [Pane; 4] = [
        Pane::Logs,
        Pane::Channels,
        Pane::Connections,
        Pane::Timeline,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Pane::Logs => "1 Logs",
            Pane::Channels => "2 Channels",
            Pane::Connections => "3 Connections",
            Pane::Timeline => "4 Timeline",
        }
    }

    fn index(self) -> usize {
        Pane::ALL.iter().position(|p| *p == self).unwrap_or(0)
    }

    pub fn next(self) -> Pane {
        Pane::ALL[(self.index() + 1) % 4]
    }

    pub fn prev(self) -> Pane {
        Pane::ALL[(self.index() + 3) % 4]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DetailTab {
    Action,
    State,
    Diff,
}

impl DetailTab {
    pub const ALL: [DetailTab; 3] = [DetailTab::Action, DetailTab::State, DetailTab::Diff];

    pub fn label(self) -> &'static str {
        match self {
            DetailTab::Action => "Action",
            DetailTab::State => "State",
            DetailTab::Diff => "Diff",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptKind {
    Filter(Pane),
    Dispatch,
    /// The `:` command line (room commands).
    Command,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub kind: PromptKind,
    pub text: String,
    /// Where typing goes: a byte offset at a character boundary.
    pub cursor: usize,
    /// A filter prompt: the filter applied when it opened (Esc brings it
    /// back).
    pub before: Option<String>,
    /// Browsing the history (↑/↓): the entry shown, and what was typed
    /// before browsing.
    pub hist: Option<(usize, String)>,
}

impl Prompt {
    pub fn new(kind: PromptKind, text: String) -> Prompt {
        Prompt {
            kind,
            cursor: text.len(),
            text,
            before: None,
            hist: None,
        }
    }

    /// Which history it keeps (filters share one, whatever the pane).
    pub fn history_key(&self) -> &'static str {
        match self.kind {
            PromptKind::Filter(_) => "filter",
            PromptKind::Dispatch => "dispatch",
            PromptKind::Command => "command",
        }
    }

    /// Insert `s` at the cursor.
    pub fn insert(&mut self, s: &str) {
        self.text.insert_str(self.cursor, s);
        self.cursor += s.len();
    }

    /// The character before the cursor goes.
    pub fn backspace(&mut self) {
        if let Some(c) = self.text[..self.cursor].chars().next_back() {
            self.cursor -= c.len_utf8();
            self.text.remove(self.cursor);
        }
    }

    /// The character under the cursor goes.
    pub fn delete(&mut self) {
        if self.cursor < self.text.len() {
            self.text.remove(self.cursor);
        }
    }

    pub fn left(&mut self) {
        if let Some(c) = self.text[..self.cursor].chars().next_back() {
            self.cursor -= c.len_utf8();
        }
    }

    pub fn right(&mut self) {
        if let Some(c) = self.text[self.cursor..].chars().next() {
            self.cursor += c.len_utf8();
        }
    }

    /// Ctrl-U: everything before the cursor goes.
    pub fn kill_start(&mut self) {
        self.text.replace_range(..self.cursor, "");
        self.cursor = 0;
    }

    /// Ctrl-W: the word before the cursor goes (and the spaces after it).
    pub fn kill_word(&mut self) {
        let head = &self.text[..self.cursor];
        let trimmed = head.trim_end_matches(char::is_whitespace);
        let start = trimmed
            .char_indices()
            .rev()
            .find(|(_, c)| c.is_whitespace())
            .map_or(0, |(i, c)| i + c.len_utf8());
        self.text.replace_range(start..self.cursor, "");
        self.cursor = start;
    }

    /// Replace the whole text (the cursor at its end).
    pub fn set(&mut self, text: String) {
        self.cursor = text.len();
        self.text = text;
    }
}

/// A command waiting for `y`: the question names the apps it reaches.
#[derive(Debug, Clone, PartialEq)]
pub struct Confirm {
    pub question: String,
    pub command: crate::event::Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusKind {
    Info,
    Warn,
    /// A warning about the filter being typed: gone once it is fixed or
    /// given up (Esc).
    BadFilter,
}

/// How long a notice and a warning stay on the status line.
pub const NOTICE_FOR_MS: u64 = 6_000;
pub const WARNING_FOR_MS: u64 = 15_000;

/// Entries a prompt's history keeps.
pub const HISTORY: usize = 50;

/// One line of the detail view.
#[derive(Debug, Clone, PartialEq)]
pub enum DetailLine {
    Tree(json::TreeRow),
    Diff(json::DiffRow),
    Note(String),
    /// A heading inside a detail (dim).
    Head(String),
    /// Plain text (a hex dump's line).
    Text(String),
}

/// The detail view of the selected timeline entry, rebuilt only when the
/// selection, tab, folding or the instance's data changed.
#[derive(Debug, Default)]
pub struct DetailView {
    pub key: Option<(usize, u64, DetailTab, u64, u64)>,
    pub lines: Vec<DetailLine>,
    /// The JSON behind the view (for copying).
    pub value: Option<serde_json::Value>,
    /// What each line is, beside `lines` when the view keeps its cursor on
    /// a thing across rebuilds (a state path, an update's line): the cursor
    /// follows the thing, not the row number.
    pub ids: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pace {
    /// Recorded timing divided by this factor.
    Recorded(f64),
    /// A fixed step in milliseconds.
    Fixed(u64),
}

impl Pace {
    pub fn label(self) -> String {
        match self {
            Pace::Recorded(f) => format!("recorded speed {f}×"),
            Pace::Fixed(ms) => format!("every {ms} ms"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Replay {
    pub source: SourceId,
    pub instance: String,
    /// (app index to jump to, delay before this step in ms).
    pub steps: Vec<(usize, u64)>,
    pub next: usize,
    pub due: Instant,
    pub pace: Pace,
}

#[derive(Debug)]
pub struct UiState {
    pub focus: Pane,
    pub zoom: bool,
    pub help: bool,
    pub prompt: Option<Prompt>,
    /// When `status` was said (ms since the epoch).
    pub status_at: u64,
    /// What each kind of prompt submitted (newest last, at most
    /// [`HISTORY`] each), for ↑/↓.
    pub prompt_history: std::collections::HashMap<&'static str, Vec<String>>,
    /// How far the help overlay is scrolled.
    pub help_scroll: u16,
    pub choosing_pace: bool,
    pub status: Option<(String, StatusKind)>,
    /// A key was pressed: the user chooses the focus from now on.
    pub touched: bool,
    /// Each pane's own state: its selection (by identity), its detail, its
    /// filter and caches.
    pub logs: logs::LogsPane,
    pub chans: channels::ChannelsPane,
    pub conns: connections::ConnectionsPane,
    pub tl: timeline::TimelinePane,
    /// Filters match case exactly (Tab in the filter prompt toggles).
    pub case_sensitive: bool,
    /// What is wrong with the filter being typed (the last good one stays).
    pub filter_error: Option<crate::query::ParseError>,
    pub replay: Option<Replay>,
    /// A command that waits for `y` (commit, rollback, reset, sweep).
    pub confirm: Option<Confirm>,
    /// Why the `:` or dispatch line just submitted was not sent (shown in
    /// the prompt, which stays open; typing clears it).
    pub prompt_error: Option<String>,
    /// The scroll offsets the last frame used ([`draw`] returns them).
    pub scroll: Scroll,
    /// Mouse reports are on (`--mouse`, `m`): the wheel and clicks go to
    /// the panes, and the terminal no longer selects text.
    pub mouse: bool,
}

impl Default for UiState {
    fn default() -> Self {
        Self {
            focus: Pane::Timeline,
            zoom: false,
            help: false,
            prompt: None,
            status_at: 0,
            prompt_history: Default::default(),
            help_scroll: 0,
            choosing_pace: false,
            status: None,
            touched: false,
            logs: Default::default(),
            chans: Default::default(),
            conns: Default::default(),
            tl: Default::default(),
            case_sensitive: false,
            filter_error: None,
            replay: None,
            confirm: None,
            prompt_error: None,
            scroll: Scroll::default(),
            mouse: false,
        }
    }
}

impl UiState {
    pub fn mode(&self) -> keymap::Mode {
        if self.prompt.is_some() {
            keymap::Mode::Prompt
        } else if self.confirm.is_some() {
            keymap::Mode::Confirm
        } else if self.choosing_pace {
            keymap::Mode::ReplayPace
        } else if self.replay.is_some() {
            keymap::Mode::Replaying
        } else {
            keymap::Mode::Normal
        }
    }

    /// Where the focused pane's keys go (it says so): its hints follow.
    pub fn place(&self) -> keymap::Place {
        match self.focus {
            Pane::Logs => self.logs.place(),
            Pane::Channels => self.chans.place(),
            Pane::Connections => keymap::Place::List,
            Pane::Timeline => self.tl.place(),
        }
    }

    pub fn say(&mut self, text: impl Into<String>) {
        self.tell(StatusKind::Info, text);
    }

    /// A status message of `kind`, from now.
    pub fn tell(&mut self, kind: StatusKind, text: impl Into<String>) {
        self.status = Some((text.into(), kind));
        self.status_at = crate::event::now_ms();
    }

    /// Take back a warning about the filter (fixed, or given up).
    pub fn clear_bad_filter(&mut self) {
        if self
            .status
            .as_ref()
            .is_some_and(|(_, k)| *k == StatusKind::BadFilter)
        {
            self.status = None;
        }
    }

    pub fn warn(&mut self, text: impl Into<String>) {
        self.tell(StatusKind::Warn, text);
    }

    /// The status message while it is news: a notice for
    /// [`NOTICE_FOR_MS`], a warning for [`WARNING_FOR_MS`]; then the hints
    /// are back.
    pub fn status_now(&self, now_ms: u64) -> Option<&(String, StatusKind)> {
        let s = self.status.as_ref()?;
        let keep = match s.1 {
            StatusKind::Info => NOTICE_FOR_MS,
            StatusKind::Warn | StatusKind::BadFilter => WARNING_FOR_MS,
        };
        (now_ms.saturating_sub(self.status_at) < keep).then_some(s)
    }
}

/// First visible row of the lists that scroll: kept from frame to frame
/// so the selection moves inside the window before the window moves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scroll {
    pub logs: usize,
    pub log_detail: usize,
    pub channels: usize,
    pub chan_detail: usize,
    pub timeline: usize,
    pub detail: usize,
    /// Where each pane was drawn (by `Pane as usize`), for the mouse.
    pub panes: [Option<ratatui::layout::Rect>; 4],
    /// Where each pane's list rows were drawn, and the row index of the
    /// first one.
    pub rows: [Option<(ratatui::layout::Rect, usize)>; 4],
    /// Where the Logs' histogram bars were drawn (one column a bar).
    pub hist: Option<ratatui::layout::Rect>,
}

impl Scroll {
    /// The pane drawn at `(x, y)`.
    pub fn pane_at(&self, x: u16, y: u16) -> Option<Pane> {
        let p = ratatui::layout::Position { x, y };
        Pane::ALL
            .into_iter()
            .find(|pane| self.panes[*pane as usize].is_some_and(|r| r.contains(p)))
    }

    /// The list row of `pane` drawn at `(x, y)`.
    pub fn row_at(&self, pane: Pane, x: u16, y: u16) -> Option<usize> {
        let (r, first) = self.rows[pane as usize]?;
        r.contains(ratatui::layout::Position { x, y })
            .then(|| first + usize::from(y - r.y))
    }
}

/// Keep `sel` inside a window of `height` rows that started at `offset`;
/// returns where it starts now.
pub fn scroll_offset(offset: usize, sel: usize, height: usize, len: usize) -> usize {
    let h = height.max(1);
    let mut off = offset;
    if sel < off {
        off = sel;
    } else if sel >= off + h {
        off = sel + 1 - h;
    }
    off.min(len.saturating_sub(h))
}
