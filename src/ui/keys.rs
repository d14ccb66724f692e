//! The key table: every binding once, with its keys as the help shows
//! them, the presses it takes and their actions, the modes it works in, a
//! line for the `?` help and the hints it puts on the status line.
//! [`map_key`], the help overlay, the status line
//! and a check of the README's key table are all built from [`BINDINGS`].

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::Pane;
use super::keymap::{Action, Binding, Group, Hint, Key, Mode, Need, Place};
use super::rebind::{self, Keymap};

const fn ch(c: char) -> Key {
    Key::Code(KeyCode::Char(c))
}

const fn code(c: KeyCode) -> Key {
    Key::Code(c)
}

/// A hint for `panes`, shown at place `at` (see [`Hint::at`]).
const fn hint(at: u8, text: &'static str, panes: &'static [Pane]) -> Hint {
    Hint {
        at,
        text,
        panes,
        need: Need::None,
        place: Place::Any,
    }
}

impl Hint {
    const fn needs(self, need: Need) -> Hint {
        Hint { need, ..self }
    }

    /// Shown only while the keys are in `place`.
    const fn in_(self, place: Place) -> Hint {
        Hint { place, ..self }
    }
}

const NORMAL: &[Mode] = &[Mode::Normal];
const LOGS: &[Pane] = &[Pane::Logs];
const TIMELINE: &[Pane] = &[Pane::Timeline];
/// Channels and Connections.
const LISTS: &[Pane] = &[Pane::Channels, Pane::Connections];
const NOT_TIMELINE: &[Pane] = &[Pane::Logs, Pane::Channels, Pane::Connections];
const CHANNELS: &[Pane] = &[Pane::Channels];
/// The panes with a detail.
const DETAILS: &[Pane] = &[Pane::Logs, Pane::Channels, Pane::Timeline];

const fn normal(
    keys: &'static str,
    press: &'static [(Key, Action)],
    help: &'static str,
    hints: &'static [Hint],
) -> Binding {
    Binding {
        keys,
        press,
        modes: NORMAL,
        help,
        hints,
        group: Group::Panes,
    }
}

/// Every binding, in the order the `?` help lists them. Typing into a
/// prompt and choosing a replay pace are not bindings (`map_key`).
///
/// A hint's place (`at`) orders the status line: Logs starts with its own
/// keys (0–5), Channels and Connections with `j/k` (6); then the room keys
/// (7, 8), Tab (9) and zoom (10); the Timeline keys (11–22); help and quit
/// last (23, 24).
pub const BINDINGS: &[Binding] = &[
    normal(
        "Tab / Shift-Tab",
        &[
            (code(KeyCode::Tab), Action::FocusNext),
            (code(KeyCode::BackTab), Action::FocusPrev),
        ],
        "focus next / previous pane",
        &[hint(9, "Tab next pane", LISTS)],
    )
    .group(Group::Panes),
    normal(
        "1 2 3 4",
        &[
            (ch('1'), Action::Focus(Pane::Logs)),
            (ch('2'), Action::Focus(Pane::Channels)),
            (ch('3'), Action::Focus(Pane::Connections)),
            (ch('4'), Action::Focus(Pane::Timeline)),
        ],
        "focus Logs / Channels / Connections / Timeline",
        &[],
    )
    .group(Group::Panes),
    normal(
        "j k ↑ ↓ PgUp PgDn",
        &[
            (ch('j'), Action::Down),
            (code(KeyCode::Down), Action::Down),
            (ch('k'), Action::Up),
            (code(KeyCode::Up), Action::Up),
            (code(KeyCode::PageDown), Action::PageDown),
            (code(KeyCode::PageUp), Action::PageUp),
        ],
        "move the selection, a page",
        &[
            hint(6, "j/k move", LISTS).in_(Place::List),
            hint(1, "j/k move", DETAILS).in_(Place::Detail),
        ],
    )
    .group(Group::Moving),
    normal(
        "g / G",
        &[
            (ch('g'), Action::Top),
            (code(KeyCode::Home), Action::Top),
            (ch('G'), Action::Bottom),
        ],
        "top / bottom",
        &[],
    )
    .group(Group::Moving),
    normal(
        "Enter",
        &[(code(KeyCode::Enter), Action::Activate)],
        "timeline: jump to the state · logs: open the entry · channels: into the state · fold",
        &[
            hint(2, "Enter entry", LOGS).in_(Place::List),
            hint(7, "Enter state", CHANNELS).in_(Place::List),
            hint(11, "Enter jump", TIMELINE)
                .needs(Need::Live)
                .in_(Place::List),
            hint(2, "Enter fold", DETAILS).in_(Place::Detail),
        ],
    )
    .group(Group::Moving),
    normal(
        "← → v",
        &[
            (code(KeyCode::Left), Action::ToggleDetailFocus),
            (code(KeyCode::Right), Action::ToggleDetailFocus),
            (ch('v'), Action::ToggleDetailFocus),
        ],
        "switch between the list and the detail",
        &[],
    )
    .group(Group::Moving),
    normal(
        "Space",
        &[(ch(' '), Action::Freeze)],
        "freeze / unfreeze the Logs view (ingest goes on)",
        &[hint(3, "Space freeze", LOGS)],
    )
    .group(Group::Logs),
    normal(
        "t",
        &[(ch('t'), Action::RelativeTime)],
        "Logs: times relative to the selected entry (or the newest) / clock times",
        &[],
    )
    .group(Group::Logs),
    normal(
        "> <",
        &[(ch('>'), Action::ShiftRight), (ch('<'), Action::ShiftLeft)],
        "Logs: scroll the summaries sideways (what a narrow pane cuts) / back",
        &[hint(9, "> sideways", LOGS)],
    )
    .group(Group::Logs),
    normal(
        "[ ]",
        &[(ch('['), Action::PrevTab), (ch(']'), Action::NextTab)],
        "detail tab: Action / State / Diff",
        &[hint(22, "[ ] tab", TIMELINE)],
    )
    .group(Group::Timeline),
    normal(
        "s x",
        &[(ch('s'), Action::Skip), (ch('x'), Action::Sweep)],
        "skip / unskip the action (TOGGLE_ACTION) · sweep skipped",
        &[
            hint(12, "s skip", TIMELINE).needs(Need::Live),
            hint(13, "x sweep", TIMELINE).needs(Need::Live),
        ],
    )
    .group(Group::Timeline),
    normal(
        "c r R",
        &[
            (ch('c'), Action::Commit),
            (ch('r'), Action::Rollback),
            (ch('R'), Action::Reset),
        ],
        "commit · rollback to the last commit · reset",
        &[
            hint(14, "c commit", TIMELINE).needs(Need::Live),
            hint(15, "r rollback", TIMELINE).needs(Need::Live),
            hint(16, "R reset", TIMELINE).needs(Need::Live),
        ],
    )
    .group(Group::Timeline),
    normal(
        "p l",
        &[(ch('p'), Action::Pause), (ch('l'), Action::Lock)],
        "pause / resume recording · lock / unlock changes",
        &[
            hint(17, "p pause", TIMELINE).needs(Need::Live),
            hint(18, "l lock", TIMELINE).needs(Need::Live),
        ],
    )
    .group(Group::Timeline),
    normal(
        "d",
        &[(ch('d'), Action::DispatchPrompt)],
        "dispatch an action you type (JS object literal)",
        &[hint(19, "d dispatch", TIMELINE).needs(Need::Live)],
    )
    .group(Group::Timeline),
    normal(
        "P",
        &[(ch('P'), Action::Replay)],
        "replay from the selected action to the last",
        &[hint(20, "P replay", TIMELINE).needs(Need::Live)],
    )
    .group(Group::Timeline),
    normal(
        "u",
        &[(ch('u'), Action::Refresh)],
        "ask the app for a fresh STATE (UPDATE)",
        &[],
    )
    .group(Group::Timeline),
    normal(
        "i",
        &[(ch('i'), Action::NextInstance)],
        "next app instance",
        &[hint(21, "i app", TIMELINE)],
    )
    .group(Group::Timeline),
    normal(
        "w",
        &[(ch('w'), Action::Watch)],
        "room: watch / stop watching developer logs",
        &[hint(7, "w watch", NOT_TIMELINE).needs(Need::Watch)],
    )
    .group(Group::Sources),
    normal(
        ":",
        &[(ch(':'), Action::CommandLine)],
        "command line: the commands of this run's sources (listed at the end of this help)",
        &[hint(8, ": command", NOT_TIMELINE).needs(Need::CommandLine)],
    )
    .group(Group::Sources),
    normal(
        "/",
        &[(ch('/'), Action::FilterPrompt)],
        "filter: word \"phrase\" /re/ level>=warn data.a=1 or not ( )",
        &[hint(0, "/ filter", LOGS), hint(6, "/ filter", CHANNELS)],
    )
    .group(Group::Prompts),
    Binding {
        keys: "← → Home End Ctrl-A Ctrl-E Ctrl-U Ctrl-W ↑ ↓ (in a prompt)",
        press: &[
            (code(KeyCode::Left), Action::CursorLeft),
            (code(KeyCode::Right), Action::CursorRight),
            (code(KeyCode::Home), Action::LineStart),
            (code(KeyCode::End), Action::LineEnd),
            (code(KeyCode::Delete), Action::Delete),
            (code(KeyCode::Up), Action::HistoryPrev),
            (code(KeyCode::Down), Action::HistoryNext),
        ],
        modes: &[Mode::Prompt],
        help: "move · start / end (also Ctrl-A / Ctrl-E) · Ctrl-U clear to start · Ctrl-W delete word · ↑ ↓ history",
        hints: &[],
        group: Group::Prompts,
    },
    Binding {
        keys: "Tab (in /)",
        press: &[(code(KeyCode::Tab), Action::ToggleCase)],
        modes: &[Mode::Prompt],
        help: "match case exactly / ignore case",
        hints: &[],
        group: Group::Prompts,
    },
    normal(
        "n / N",
        &[(ch('n'), Action::NextMatch), (ch('N'), Action::PrevMatch)],
        "next / previous match",
        &[hint(1, "n/N match", LOGS).needs(Need::NoCommandLine)],
    )
    .group(Group::Logs),
    Binding {
        keys: "Esc",
        press: &[(code(KeyCode::Esc), Action::Escape)],
        modes: &[Mode::Normal, Mode::Prompt],
        help: "clear filter, close prompt, detail or help",
        hints: &[hint(3, "Esc back", DETAILS).in_(Place::Detail)],
        group: Group::Prompts,
    },
    normal(
        "f / End",
        &[
            (ch('f'), Action::Follow),
            (code(KeyCode::End), Action::Follow),
        ],
        "follow the newest entry",
        &[hint(4, "f follow", LOGS)],
    )
    .group(Group::Moving),
    normal(
        "z  e",
        &[(ch('z'), Action::Zoom), (ch('e'), Action::Export)],
        "zoom the focused pane · export the Logs view (JSON Lines)",
        &[
            hint(10, "z zoom", LOGS).needs(Need::NoCommandLine),
            hint(10, "z zoom", LISTS),
        ],
    )
    .group(Group::Panes),
    normal(
        "I  { }",
        &[
            (ch('I'), Action::Histogram),
            (ch('{'), Action::HistPrev),
            (ch('}'), Action::HistNext),
        ],
        "Logs: histogram of the entries over time by level, on / off · previous / next bar (its first entry selected)",
        &[],
    )
    .group(Group::Logs),
    normal(
        "T",
        &[(ch('T'), Action::ReloadTheme)],
        "load the theme again (its file edited meanwhile)",
        &[],
    )
    .group(Group::Panes),
    normal(
        "m",
        &[(ch('m'), Action::ToggleMouse)],
        "mouse on / off: the wheel moves, a click selects (off: the terminal selects text)",
        &[],
    )
    .group(Group::Panes),
    normal(
        "y / Y",
        &[(ch('y'), Action::Copy), (ch('Y'), Action::CopyPath)],
        "copy the entry or the value under the cursor / its path",
        &[
            hint(5, "y copy", LOGS).in_(Place::List),
            hint(5, "y/Y copy value/path", DETAILS).in_(Place::Detail),
        ],
    )
    .group(Group::Moving),
    normal(
        "?",
        &[(ch('?'), Action::Help)],
        "this help",
        &[hint(23, "? help", &Pane::ALL)],
    )
    .group(Group::Panes),
    normal(
        "q / Ctrl-C",
        &[(ch('q'), Action::Quit), (Key::Ctrl('c'), Action::Quit)],
        "quit",
        &[
            hint(24, "q quit", LOGS).needs(Need::NoCommandLine),
            hint(24, "q quit", LISTS),
        ],
    )
    .group(Group::Panes),
];

/// The action of a key press in a mode, with the run's keys
/// ([`rebind::current`]).
pub fn map_key(key: KeyEvent, mode: Mode) -> Option<Action> {
    rebind::current().map_key(key, mode)
}

/// The status-line hints of a pane with its keys in `place`, with the
/// run's keys (see [`Keymap::hint_line`]).
pub fn hint_line(pane: Pane, place: Place, met: impl Fn(Need) -> bool) -> String {
    rebind::current().hint_line(pane, place, met)
}

/// The keys that do `action` in this run (see [`Keymap::name`]).
pub fn name(action: &Action) -> String {
    rebind::current().name(action)
}

impl Keymap {
    /// The action of a key press in a mode: the key table's bindings
    /// ([`BINDINGS`]) as rebound, then what typing does in a prompt or
    /// while a replay pace is chosen or a replay runs.
    pub fn map_key(&self, key: KeyEvent, mode: Mode) -> Option<Action> {
        if let Some(a) = self.lookup(&key, mode) {
            return Some(a);
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match mode {
            Mode::Prompt => match key.code {
                KeyCode::Enter => Some(Action::Submit),
                KeyCode::Backspace => Some(Action::Backspace),
                KeyCode::Delete => Some(Action::Delete),
                KeyCode::Left => Some(Action::CursorLeft),
                KeyCode::Right => Some(Action::CursorRight),
                KeyCode::Home => Some(Action::LineStart),
                KeyCode::End => Some(Action::LineEnd),
                KeyCode::Up => Some(Action::HistoryPrev),
                KeyCode::Down => Some(Action::HistoryNext),
                KeyCode::Char('a') if ctrl => Some(Action::LineStart),
                KeyCode::Char('e') if ctrl => Some(Action::LineEnd),
                KeyCode::Char('u') if ctrl => Some(Action::KillStart),
                KeyCode::Char('w') if ctrl => Some(Action::KillWord),
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
    fn lookup(&self, key: &KeyEvent, mode: Mode) -> Option<Action> {
        self.presses()
            .find(|(_, k, _)| matches!(k, Key::Ctrl(_)) && k.matches(key))
            .or_else(|| {
                self.presses().find(|(b, k, _)| {
                    matches!(k, Key::Code(_)) && b.modes.contains(&mode) && k.matches(key)
                })
            })
            .map(|(_, _, a)| a)
    }

    /// The status-line hints of a pane with its keys in `place` (the pane
    /// says where), in order, joined, a rebound action's keys as they are
    /// now; `met` says which needs the sources meet.
    pub fn hint_line(&self, pane: Pane, place: Place, met: impl Fn(Need) -> bool) -> String {
        let mut hints: Vec<(&Binding, &Hint)> = BINDINGS
            .iter()
            .flat_map(|b| b.hints.iter().map(move |h| (b, h)))
            .filter(|(_, h)| h.panes.contains(&pane) && met(h.need))
            .filter(|(_, h)| h.place == Place::Any || h.place == place)
            .collect();
        hints.sort_by_key(|(_, h)| h.at);
        let texts: Vec<String> = hints
            .iter()
            .map(|(b, h)| match h.text.split_once(' ') {
                Some((keys, label)) => format!("{} {label}", self.shown(b, keys, '/')),
                None => h.text.to_string(),
            })
            .collect();
        texts.join(" · ")
    }

    /// The keys that do `action`, as titles and prompts name them: every
    /// press bound to it (`← →` for the list/detail switch), arrows before
    /// letters; Enter for a prompt's submit, which typing handles (see
    /// [`Keymap::map_key`]).
    pub fn name(&self, action: &Action) -> String {
        if *action == Action::Submit {
            return "Enter".into();
        }
        let mut presses: Vec<Key> = self
            .presses()
            .filter(|(_, _, a)| a == action)
            .map(|(_, k, _)| k)
            .collect();
        // Arrows say it best: a letter beside them is a vim user's spare.
        if presses
            .iter()
            .any(|k| matches!(k, Key::Code(KeyCode::Left | KeyCode::Right)))
        {
            presses.retain(|k| !matches!(k, Key::Code(KeyCode::Char(_))));
        }
        let names: Vec<String> = presses.into_iter().map(press_name).collect();
        names.join(" ")
    }
}

/// How a press is written in titles and prompts (`Enter`, `y`, `←`).
pub fn press_name(k: Key) -> String {
    match k {
        Key::Ctrl(c) => format!("Ctrl-{}", c.to_ascii_uppercase()),
        Key::Code(KeyCode::Char(' ')) => "Space".into(),
        Key::Code(KeyCode::Char(c)) => c.to_string(),
        Key::Code(KeyCode::Enter) => "Enter".into(),
        Key::Code(KeyCode::Esc) => "Esc".into(),
        Key::Code(KeyCode::Tab) => "Tab".into(),
        Key::Code(KeyCode::BackTab) => "Shift-Tab".into(),
        Key::Code(KeyCode::Left) => "←".into(),
        Key::Code(KeyCode::Right) => "→".into(),
        Key::Code(KeyCode::Up) => "↑".into(),
        Key::Code(KeyCode::Down) => "↓".into(),
        Key::Code(KeyCode::End) => "End".into(),
        Key::Code(KeyCode::Home) => "Home".into(),
        Key::Code(KeyCode::PageUp) => "PgUp".into(),
        Key::Code(KeyCode::PageDown) => "PgDn".into(),
        Key::Code(c) => format!("{c:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The keys a label names: `g / G` names g and G; a key shown with
    /// where it works (`Tab (in /)`) is one name.
    fn key_names(label: &str) -> Vec<&str> {
        if label == "/" || label.contains('(') {
            return vec![label];
        }
        label.split_whitespace().filter(|k| *k != "/").collect()
    }

    #[test]
    fn every_binding_is_in_the_readme_key_table() {
        let readme = include_str!("../../README.md");
        let section = readme
            .split("\n## Keys\n")
            .nth(1)
            .expect("the README has a ## Keys section");
        let documented: Vec<&str> = section
            .lines()
            .skip_while(|l| !l.starts_with('|'))
            .take_while(|l| l.starts_with('|'))
            .skip(2) // header and rule
            .filter_map(|l| l.split('|').nth(1))
            .flat_map(|cell| key_names(cell.trim()))
            .collect();
        assert!(documented.contains(&"Esc"), "{documented:?}");
        for b in BINDINGS {
            for k in key_names(b.keys) {
                assert!(
                    documented.contains(&k),
                    "key {k:?} of binding {:?} is not in the README's key table",
                    b.keys
                );
            }
        }
    }

    #[test]
    fn titles_name_keys_from_the_table() {
        assert_eq!(name(&Action::Activate), "Enter");
        assert_eq!(name(&Action::ToggleDetailFocus), "← →");
        assert_eq!(name(&Action::CopyPath), "Y");
        assert_eq!(name(&Action::Escape), "Esc");
        assert_eq!(name(&Action::ToggleCase), "Tab");
        assert_eq!(name(&Action::Submit), "Enter");
    }

    #[test]
    fn no_press_has_two_actions_in_one_mode() {
        let all = [
            Mode::Normal,
            Mode::Prompt,
            Mode::ReplayPace,
            Mode::Replaying,
        ];
        let mut seen: Vec<(Key, Mode, &Action)> = Vec::new();
        for b in BINDINGS {
            for (k, a) in b.press {
                for m in all {
                    if matches!(k, Key::Ctrl(_)) || b.modes.contains(&m) {
                        if let Some((_, _, other)) =
                            seen.iter().find(|(k2, m2, _)| k2 == k && *m2 == m)
                        {
                            assert_eq!(*other, a, "{k:?} in {m:?}");
                        }
                        seen.push((*k, m, a));
                    }
                }
            }
        }
    }

    #[test]
    fn status_hints_per_pane() {
        let room = |n: Need| n != Need::NoCommandLine;
        let no_room = |n: Need| matches!(n, Need::None | Need::NoCommandLine | Need::Live);
        let timeline = "Enter jump · s skip · x sweep · c commit · r rollback · R reset · p pause · l lock · d dispatch · P replay · i app · [ ] tab · ? help";
        assert_eq!(hint_line(Pane::Timeline, Place::List, room), timeline);
        assert_eq!(hint_line(Pane::Timeline, Place::List, no_room), timeline);
        assert_eq!(
            hint_line(Pane::Logs, Place::List, room),
            "/ filter · Enter entry · Space freeze · f follow · y copy · w watch · : command · > sideways · ? help"
        );
        assert_eq!(
            hint_line(Pane::Logs, Place::List, no_room),
            "/ filter · n/N match · Enter entry · Space freeze · f follow · y copy · > sideways · z zoom · ? help · q quit"
        );
        assert_eq!(
            hint_line(Pane::Channels, Place::List, room),
            "j/k move · / filter · Enter state · w watch · : command · Tab next pane · z zoom · ? help · q quit"
        );
        assert_eq!(
            hint_line(Pane::Connections, Place::List, room),
            "j/k move · w watch · : command · Tab next pane · z zoom · ? help · q quit"
        );
        assert_eq!(
            hint_line(Pane::Connections, Place::List, no_room),
            "j/k move · Tab next pane · z zoom · ? help · q quit"
        );
        // A pane whose detail has the keys says the detail's keys.
        assert_eq!(
            hint_line(Pane::Logs, Place::Detail, room),
            "/ filter · j/k move · Enter fold · Space freeze · Esc back · f follow · y/Y copy value/path · w watch · : command · > sideways · ? help"
        );
        assert!(
            hint_line(Pane::Timeline, Place::Detail, room)
                .starts_with("j/k move · Enter fold · Esc back · y/Y copy value/path · s skip")
        );
    }
}
