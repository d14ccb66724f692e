//! The user's keys: actions rebound over the key table ([`keys::BINDINGS`]),
//! from a preset (`--keys vim`) and the config file's `[keys]` table
//! (`commit = "C"`, `page-down = ["ctrl-f", "PageDown"]`). A rebound
//! action loses its default presses and takes the new ones in the modes
//! its binding works in; the result is checked for a press that would do
//! two things at once. The help, the hints and every title that names a
//! key read the keys from here.

use std::borrow::Cow;
use std::sync::OnceLock;

use crossterm::event::KeyCode;

use super::Pane;
use super::keymap::{Action, Binding, Key, Mode};
use super::keys::{BINDINGS, press_name};

/// A press that would do two things in one mode.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    pub press: Key,
    pub actions: [Action; 2],
}

impl std::fmt::Display for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} is both {} and {}: rebind one of them",
            press_name(self.press),
            action_name(&self.actions[0]),
            action_name(&self.actions[1])
        )
    }
}

/// The keys presets: `default` (the table as it is) and `vim`.
pub const PRESETS: &[&str] = &["default", "vim"];

/// Actions rebound, each to its presses.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Keymap {
    rebound: Vec<(Action, Vec<Key>)>,
}

/// The actions a config names, by their names there.
pub const ACTIONS: &[(&str, Action)] = &[
    ("quit", Action::Quit),
    ("focus-next", Action::FocusNext),
    ("focus-prev", Action::FocusPrev),
    ("focus-logs", Action::Focus(Pane::Logs)),
    ("focus-channels", Action::Focus(Pane::Channels)),
    ("focus-connections", Action::Focus(Pane::Connections)),
    ("focus-timeline", Action::Focus(Pane::Timeline)),
    ("up", Action::Up),
    ("down", Action::Down),
    ("page-up", Action::PageUp),
    ("page-down", Action::PageDown),
    ("top", Action::Top),
    ("bottom", Action::Bottom),
    ("enter", Action::Activate),
    ("detail", Action::ToggleDetailFocus),
    ("skip", Action::Skip),
    ("sweep", Action::Sweep),
    ("commit", Action::Commit),
    ("rollback", Action::Rollback),
    ("reset", Action::Reset),
    ("pause", Action::Pause),
    ("lock", Action::Lock),
    ("dispatch", Action::DispatchPrompt),
    ("replay", Action::Replay),
    ("next-app", Action::NextInstance),
    ("prev-tab", Action::PrevTab),
    ("next-tab", Action::NextTab),
    ("filter", Action::FilterPrompt),
    ("next-match", Action::NextMatch),
    ("prev-match", Action::PrevMatch),
    ("back", Action::Escape),
    ("follow", Action::Follow),
    ("zoom", Action::Zoom),
    ("copy", Action::Copy),
    ("copy-path", Action::CopyPath),
    ("help", Action::Help),
    ("refresh", Action::Refresh),
    ("watch", Action::Watch),
    ("command-line", Action::CommandLine),
    ("case", Action::ToggleCase),
    ("freeze", Action::Freeze),
    ("export", Action::Export),
    ("relative-time", Action::RelativeTime),
    ("shift-right", Action::ShiftRight),
    ("shift-left", Action::ShiftLeft),
    ("reload-theme", Action::ReloadTheme),
    ("mouse", Action::ToggleMouse),
    ("histogram", Action::Histogram),
    ("prev-bar", Action::HistPrev),
    ("next-bar", Action::HistNext),
];

/// A press as a config writes it: a character (`C`, `?`), `ctrl-x`, or a
/// named key (`enter`, `esc`, `tab`, `backtab`, `space`, `up`, `down`,
/// `left`, `right`, `home`, `end`, `pageup`, `pagedown`, `backspace`,
/// `delete`, `f1`…`f12`), any case for names.
pub fn parse_press(s: &str) -> Result<Key, String> {
    let mut chars = s.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        return Ok(Key::Code(KeyCode::Char(c)));
    }
    let lower = s.to_ascii_lowercase();
    if let Some(rest) = lower
        .strip_prefix("ctrl-")
        .or_else(|| lower.strip_prefix("ctrl+"))
        .or_else(|| lower.strip_prefix("c-"))
    {
        let mut r = rest.chars();
        return match (r.next(), r.next()) {
            (Some(c), None) if c.is_ascii_alphabetic() => Ok(Key::Ctrl(c)),
            _ => Err(format!("{s:?}: a chord is ctrl- and a letter (ctrl-x)")),
        };
    }
    let code = match lower.as_str() {
        "enter" | "return" => KeyCode::Enter,
        "esc" | "escape" => KeyCode::Esc,
        "tab" => KeyCode::Tab,
        "backtab" | "shift-tab" => KeyCode::BackTab,
        "space" => KeyCode::Char(' '),
        "up" => KeyCode::Up,
        "down" => KeyCode::Down,
        "left" => KeyCode::Left,
        "right" => KeyCode::Right,
        "home" => KeyCode::Home,
        "end" => KeyCode::End,
        "pageup" | "pgup" => KeyCode::PageUp,
        "pagedown" | "pgdn" => KeyCode::PageDown,
        "backspace" => KeyCode::Backspace,
        "delete" | "del" => KeyCode::Delete,
        f if f.starts_with('f') && f[1..].parse::<u8>().is_ok_and(|n| (1..=12).contains(&n)) => {
            KeyCode::F(f[1..].parse().unwrap_or(1))
        }
        _ => {
            return Err(format!(
                "{s:?} is not a key: a character, ctrl-x, or enter, esc, tab, space, up, down, left, right, home, end, pageup, pagedown, backspace, delete, f1…f12"
            ));
        }
    };
    Ok(Key::Code(code))
}

/// An action by its config name.
pub fn action_named(name: &str) -> Option<&'static Action> {
    ACTIONS.iter().find(|(n, _)| *n == name).map(|(_, a)| a)
}

/// An action's config name.
pub fn action_name(a: &Action) -> &'static str {
    ACTIONS
        .iter()
        .find(|(_, x)| x == a)
        .map_or("?", |(n, _)| *n)
}

impl Keymap {
    /// A preset's rebindings.
    pub fn preset(name: &str) -> Result<Keymap, String> {
        match name {
            "default" => Ok(Keymap::default()),
            // vim's moves beside the table's: h/l for the list and its
            // detail (lock moves to L), Ctrl-F / Ctrl-B a page.
            "vim" => Ok(Keymap {
                rebound: vec![
                    (
                        Action::ToggleDetailFocus,
                        vec![
                            Key::Code(KeyCode::Char('h')),
                            Key::Code(KeyCode::Char('l')),
                            Key::Code(KeyCode::Left),
                            Key::Code(KeyCode::Right),
                        ],
                    ),
                    (Action::Lock, vec![Key::Code(KeyCode::Char('L'))]),
                    (
                        Action::PageDown,
                        vec![Key::Ctrl('f'), Key::Code(KeyCode::PageDown)],
                    ),
                    (
                        Action::PageUp,
                        vec![Key::Ctrl('b'), Key::Code(KeyCode::PageUp)],
                    ),
                ],
            }),
            other => Err(format!(
                "--keys {other:?}: the presets are {}",
                PRESETS.join(", ")
            )),
        }
    }

    /// `action` bound to `keys` instead (over an earlier rebinding).
    pub fn bind(&mut self, action: Action, keys: Vec<Key>) {
        self.rebound.retain(|(a, _)| *a != action);
        self.rebound.push((action, keys));
    }

    /// The presses of `action`, if it is rebound.
    fn rebound(&self, action: &Action) -> Option<&[Key]> {
        self.rebound
            .iter()
            .find(|(a, _)| a == action)
            .map(|(_, k)| k.as_slice())
    }

    /// Every press in effect, with the binding it works under.
    pub fn presses(&self) -> impl Iterator<Item = (&'static Binding, Key, Action)> + '_ {
        let kept = BINDINGS.iter().flat_map(move |b| {
            b.press
                .iter()
                .filter(move |(_, a)| self.rebound(a).is_none())
                .map(move |(k, a)| (b, *k, a.clone()))
        });
        let new = self.rebound.iter().flat_map(|(a, keys)| {
            let b = BINDINGS
                .iter()
                .find(|b| b.press.iter().any(|(_, x)| x == a));
            keys.iter()
                .filter_map(move |k| b.map(|b| (b, *k, a.clone())))
        });
        kept.chain(new)
    }

    /// No press does two things in one mode (a Ctrl press works in every
    /// mode; typing keeps its own keys in a prompt).
    pub fn check(&self) -> Result<(), Conflict> {
        let modes = [
            Mode::Normal,
            Mode::Prompt,
            Mode::ReplayPace,
            Mode::Replaying,
        ];
        let mut seen: Vec<(Key, Mode, Action)> = Vec::new();
        for (b, k, a) in self.presses() {
            for m in modes {
                if !(matches!(k, Key::Ctrl(_)) || b.modes.contains(&m)) {
                    continue;
                }
                if let Some((_, _, other)) = seen.iter().find(|(k2, m2, _)| *k2 == k && *m2 == m)
                    && *other != a
                {
                    return Err(Conflict {
                        press: k,
                        actions: [other.clone(), a],
                    });
                }
                seen.push((k, m, a.clone()));
            }
        }
        Ok(())
    }

    /// `text` (a binding's keys in the help, or the keys of a hint, the
    /// first word) with a rebound action's default key names replaced by
    /// its own.
    pub fn shown<'a>(&self, b: &Binding, text: &'a str, sep: char) -> Cow<'a, str> {
        let swaps: Vec<(String, String)> = b
            .press
            .iter()
            .filter_map(|(k, a)| {
                let new = self.rebound(a)?;
                let names: Vec<String> = new.iter().map(|k| press_name(*k)).collect();
                Some((press_name(*k), names.join(" ")))
            })
            .collect();
        if swaps.is_empty() {
            return Cow::Borrowed(text);
        }
        let mut used: Vec<String> = Vec::new();
        let parts: Vec<String> = text
            .split(sep)
            .filter_map(|t| match swaps.iter().find(|(old, _)| old == t) {
                // The new names once, where the first old one was.
                Some((_, new)) if used.contains(new) => None,
                Some((_, new)) => {
                    used.push(new.clone());
                    Some(new.clone())
                }
                None => Some(t.to_string()),
            })
            .collect();
        Cow::Owned(parts.join(&sep.to_string()))
    }
}

/// The run's keys, set once at start-up ([`install`]); the table's own
/// until then.
static CURRENT: OnceLock<Keymap> = OnceLock::new();

/// Make `k` the run's keys (once; checked first).
pub fn install(k: Keymap) -> Result<(), String> {
    k.check().map_err(|c| c.to_string())?;
    CURRENT
        .set(k)
        .map_err(|_| "the keys are set once, at start-up".to_string())
}

/// The run's keys.
pub fn current() -> &'static Keymap {
    static TABLE: OnceLock<Keymap> = OnceLock::new();
    CURRENT
        .get()
        .unwrap_or_else(|| TABLE.get_or_init(Keymap::default))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyEvent, KeyModifiers};

    fn press(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
    }

    #[test]
    fn a_rebound_action_takes_its_new_keys_and_leaves_the_old() {
        let mut k = Keymap::default();
        k.bind(Action::Commit, vec![parse_press("C").unwrap()]);
        k.check().unwrap();
        assert_eq!(k.map_key(press('C'), Mode::Normal), Some(Action::Commit));
        assert_eq!(k.map_key(press('c'), Mode::Normal), None);
        assert_eq!(k.name(&Action::Commit), "C");
        let line = k.hint_line(Pane::Timeline, super::super::keymap::Place::List, |_| true);
        assert!(
            line.contains("C commit") && !line.contains("c commit"),
            "{line}"
        );
        // The help's keys column.
        let b = BINDINGS
            .iter()
            .find(|b| b.press.iter().any(|(_, a)| *a == Action::Commit))
            .unwrap();
        assert!(k.shown(b, b.keys, ' ').contains('C'), "{}", b.keys);
        // A chord.
        let mut k = Keymap::default();
        k.bind(Action::Export, vec![parse_press("ctrl-x").unwrap()]);
        k.check().unwrap();
        let ctrl_x = KeyEvent::new(KeyCode::Char('x'), KeyModifiers::CONTROL);
        assert_eq!(k.map_key(ctrl_x, Mode::Normal), Some(Action::Export));
        assert_eq!(k.name(&Action::Export), "Ctrl-X");
    }

    #[test]
    fn a_press_with_two_actions_is_refused() {
        let mut k = Keymap::default();
        k.bind(Action::Commit, vec![parse_press("s").unwrap()]);
        let e = k.check().unwrap_err().to_string();
        assert!(
            e.contains("s is both") && e.contains("skip") && e.contains("commit"),
            "{e}"
        );
        // Moving skip away makes it right.
        k.bind(Action::Skip, vec![parse_press("S").unwrap()]);
        k.check().unwrap();
        // A Ctrl press works in every mode: one a prompt uses is taken.
        let mut k = Keymap::default();
        k.bind(Action::Help, vec![Key::Ctrl('c')]);
        assert!(
            k.check()
                .unwrap_err()
                .to_string()
                .contains("Ctrl-C is both")
        );
    }

    #[test]
    fn presses_and_actions_by_name() {
        assert_eq!(parse_press("space").unwrap(), Key::Code(KeyCode::Char(' ')));
        assert_eq!(
            parse_press("PageDown").unwrap(),
            Key::Code(KeyCode::PageDown)
        );
        assert_eq!(parse_press("F5").unwrap(), Key::Code(KeyCode::F(5)));
        assert_eq!(parse_press("Ctrl-N").unwrap(), Key::Ctrl('n'));
        assert!(parse_press("ctrl-1").is_err());
        assert!(parse_press("hyper-x").unwrap_err().contains("not a key"));
        assert_eq!(action_named("commit"), Some(&Action::Commit));
        assert!(action_named("launch").is_none());
        // Every action of the panes' keys can be named (so can be
        // rebound); a prompt's editing keys are its own.
        let editing = [
            Action::CursorLeft,
            Action::CursorRight,
            Action::LineStart,
            Action::LineEnd,
            Action::Delete,
            Action::HistoryPrev,
            Action::HistoryNext,
            Action::KillStart,
            Action::KillWord,
            Action::Backspace,
        ];
        for a in BINDINGS.iter().flat_map(|b| b.press).map(|(_, a)| a) {
            assert!(
                action_name(a) != "?" || editing.contains(a),
                "{a:?} has no name"
            );
        }
    }

    #[test]
    fn the_vim_preset_moves_lock_to_free_l() {
        let k = Keymap::preset("vim").unwrap();
        k.check().unwrap();
        assert_eq!(
            k.map_key(press('l'), Mode::Normal),
            Some(Action::ToggleDetailFocus)
        );
        assert_eq!(k.map_key(press('L'), Mode::Normal), Some(Action::Lock));
        let ctrl_f = KeyEvent::new(KeyCode::Char('f'), KeyModifiers::CONTROL);
        assert_eq!(k.map_key(ctrl_f, Mode::Normal), Some(Action::PageDown));
        assert!(Keymap::preset("emacs").is_err());
        Keymap::preset("default").unwrap().check().unwrap();
    }
}
