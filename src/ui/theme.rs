//! Themes: TOML files of semantic styles. Built-ins live in `themes/` and
//! are embedded; `--theme` takes a built-in name or a path.

use std::collections::BTreeMap;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

pub const BUILTIN: &[(&str, &str)] = &[
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    ("mono", include_str!("../../themes/mono.toml")),
];

#[derive(Debug, Clone)]
pub struct Theme {
    pub name: String,
    pub base: Style,
    pub dim: Style,
    pub border: Style,
    pub border_focus: Style,
    pub title: Style,
    pub selected: Style,
    pub current: Style,
    pub skipped: Style,
    pub highlight: Style,
    pub error: Style,
    pub warn: Style,
    pub info: Style,
    pub debug: Style,
    pub added: Style,
    pub removed: Style,
    pub changed: Style,
    pub key: Style,
    pub status: Style,
    pub notice: Style,
    pub json_key: Style,
    pub json_string: Style,
    pub json_number: Style,
    pub json_literal: Style,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    name: Option<String>,
    #[serde(default)]
    styles: BTreeMap<String, StyleSpec>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct StyleSpec {
    fg: Option<String>,
    bg: Option<String>,
    #[serde(default)]
    mods: Vec<String>,
}

fn color(s: &str) -> Result<Color, String> {
    let c = match s.to_ascii_lowercase().replace('_', "-").as_str() {
        "reset" | "default" => Color::Reset,
        "black" => Color::Black,
        "red" => Color::Red,
        "green" => Color::Green,
        "yellow" => Color::Yellow,
        "blue" => Color::Blue,
        "magenta" => Color::Magenta,
        "cyan" => Color::Cyan,
        "gray" | "grey" => Color::Gray,
        "dark-gray" | "dark-grey" => Color::DarkGray,
        "light-red" => Color::LightRed,
        "light-green" => Color::LightGreen,
        "light-yellow" => Color::LightYellow,
        "light-blue" => Color::LightBlue,
        "light-magenta" => Color::LightMagenta,
        "light-cyan" => Color::LightCyan,
        "white" => Color::White,
        hex if hex.starts_with('#') && hex.len() == 7 => {
            let v = u32::from_str_radix(&hex[1..], 16).map_err(|_| format!("bad colour {s:?}"))?;
            Color::Rgb((v >> 16) as u8, (v >> 8) as u8, v as u8)
        }
        _ => return Err(format!("unknown colour {s:?}")),
    };
    Ok(c)
}

fn modifier(s: &str) -> Result<Modifier, String> {
    Ok(match s.to_ascii_lowercase().replace('_', "-").as_str() {
        "bold" => Modifier::BOLD,
        "dim" => Modifier::DIM,
        "italic" => Modifier::ITALIC,
        "underlined" | "underline" => Modifier::UNDERLINED,
        "reversed" | "reverse" => Modifier::REVERSED,
        "crossed-out" | "strikethrough" => Modifier::CROSSED_OUT,
        _ => return Err(format!("unknown modifier {s:?}")),
    })
}

impl StyleSpec {
    fn style(&self) -> Result<Style, String> {
        let mut st = Style::default();
        if let Some(fg) = &self.fg {
            st = st.fg(color(fg)?);
        }
        if let Some(bg) = &self.bg {
            st = st.bg(color(bg)?);
        }
        for m in &self.mods {
            st = st.add_modifier(modifier(m)?);
        }
        Ok(st)
    }
}

impl Theme {
    /// Parse a theme file. Styles it does not name fall back to `dark`'s.
    pub fn parse(text: &str) -> Result<Theme, String> {
        let file: ThemeFile = toml::from_str(text).map_err(|e| format!("theme: {e}"))?;
        let mut t = if file.name.as_deref() == Some("dark") {
            Theme::blank("dark")
        } else {
            Theme::builtin("dark")?
        };
        if let Some(n) = file.name {
            t.name = n;
        }
        for (k, spec) in &file.styles {
            let st = spec.style().map_err(|e| format!("theme style {k}: {e}"))?;
            *t.slot(k)
                .ok_or_else(|| format!("theme: unknown style name {k:?}"))? = st;
        }
        Ok(t)
    }

    pub fn builtin(name: &str) -> Result<Theme, String> {
        let text = BUILTIN
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| *t)
            .ok_or_else(|| {
                let names: Vec<_> = BUILTIN.iter().map(|(n, _)| *n).collect();
                format!(
                    "no built-in theme {name:?} (built-ins: {})",
                    names.join(", ")
                )
            })?;
        Theme::parse(text)
    }

    /// `NAME` of a built-in or a path to a TOML file.
    pub fn load(spec: &str) -> Result<Theme, String> {
        if BUILTIN.iter().any(|(n, _)| *n == spec) {
            return Theme::builtin(spec);
        }
        let text = crate::files::read_text(std::path::Path::new(spec), 1 << 20, "the theme file")
            .map_err(|e| format!("theme {spec:?}: not a built-in name, and {e}"))?;
        Theme::parse(&text)
    }

    fn blank(name: &str) -> Theme {
        let d = Style::default();
        Theme {
            name: name.into(),
            base: d,
            dim: d,
            border: d,
            border_focus: d,
            title: d,
            selected: d,
            current: d,
            skipped: d,
            highlight: d,
            error: d,
            warn: d,
            info: d,
            debug: d,
            added: d,
            removed: d,
            changed: d,
            key: d,
            status: d,
            notice: d,
            json_key: d,
            json_string: d,
            json_number: d,
            json_literal: d,
        }
    }

    fn slot(&mut self, name: &str) -> Option<&mut Style> {
        Some(match name {
            "base" => &mut self.base,
            "dim" => &mut self.dim,
            "border" => &mut self.border,
            "border_focus" => &mut self.border_focus,
            "title" => &mut self.title,
            "selected" => &mut self.selected,
            "current" => &mut self.current,
            "skipped" => &mut self.skipped,
            "highlight" => &mut self.highlight,
            "error" => &mut self.error,
            "warn" => &mut self.warn,
            "info" => &mut self.info,
            "debug" => &mut self.debug,
            "added" => &mut self.added,
            "removed" => &mut self.removed,
            "changed" => &mut self.changed,
            "key" => &mut self.key,
            "status" => &mut self.status,
            "notice" => &mut self.notice,
            "json_key" => &mut self.json_key,
            "json_string" => &mut self.json_string,
            "json_number" => &mut self.json_number,
            "json_literal" => &mut self.json_literal,
            _ => return None,
        })
    }

    pub fn level(&self, l: crate::event::Level) -> Style {
        use crate::event::Level::*;
        match l {
            Error => self.error,
            Warn => self.warn,
            Info => self.info,
            Debug | Trace => self.debug,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_parse() {
        for (n, _) in BUILTIN {
            let t = Theme::builtin(n).unwrap();
            assert_eq!(&t.name, n);
        }
    }

    #[test]
    fn mono_has_no_colours() {
        let t = Theme::builtin("mono").unwrap();
        for st in [t.selected, t.current, t.error, t.highlight, t.status] {
            assert_eq!(st.fg, None);
            assert_eq!(st.bg, None);
        }
        assert!(t.selected.add_modifier.contains(Modifier::REVERSED));
    }

    #[test]
    fn bad_theme_is_a_clear_error() {
        let e = Theme::parse("[styles]\nselected = { fg = \"chartreuse\" }").unwrap_err();
        assert!(e.contains("chartreuse"), "{e}");
        let e = Theme::parse("[styles]\nnope = {}").unwrap_err();
        assert!(e.contains("nope"), "{e}");
    }
}
