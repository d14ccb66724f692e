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
    /// What it was loaded from (a built-in's name or a file's path), to
    /// load it again (`T`).
    pub spec: String,
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

/// A theme's styles by the names theme files give them, once: every
/// style with its name, and a style by its name.
macro_rules! theme_styles {
    ($($name:ident),+ $(,)?) => {
        /// Every style with its name.
        pub fn styles(&self) -> Vec<(&'static str, Style)> {
            vec![$((stringify!($name), self.$name)),+]
        }

        fn slot(&mut self, name: &str) -> Option<&mut Style> {
            match name {
                $(stringify!($name) => Some(&mut self.$name),)+
                _ => None,
            }
        }
    };
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
        let mut t = Theme::parse(text)?;
        t.spec = name.to_string();
        Ok(t)
    }

    /// `NAME` of a built-in or a path to a TOML file.
    pub fn load(spec: &str) -> Result<Theme, String> {
        let mut t = if BUILTIN.iter().any(|(n, _)| *n == spec) {
            Theme::builtin(spec)?
        } else {
            let text =
                crate::files::read_text(std::path::Path::new(spec), 1 << 20, "the theme file")
                    .map_err(|e| format!("theme {spec:?}: not a built-in name, and {e}"))?;
            Theme::parse(&text).map_err(|e| format!("{spec}: {e}"))?
        };
        t.spec = spec.to_string();
        Ok(t)
    }

    fn blank(name: &str) -> Theme {
        let d = Style::default();
        Theme {
            name: name.into(),
            spec: name.into(),
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

    theme_styles!(
        base,
        dim,
        border,
        border_focus,
        title,
        selected,
        current,
        skipped,
        highlight,
        error,
        warn,
        info,
        debug,
        added,
        removed,
        changed,
        key,
        status,
        notice,
        json_key,
        json_string,
        json_number,
        json_literal,
    );

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

    /// A colour as xterm's default palette shows it; `default` is the
    /// terminal's own (`fallback`).
    fn rgb(c: Option<Color>, fallback: (u8, u8, u8)) -> (u8, u8, u8) {
        match c.unwrap_or(Color::Reset) {
            Color::Reset => fallback,
            Color::Black => (0, 0, 0),
            Color::Red => (205, 0, 0),
            Color::Green => (0, 205, 0),
            Color::Yellow => (205, 205, 0),
            Color::Blue => (0, 0, 238),
            Color::Magenta => (205, 0, 205),
            Color::Cyan => (0, 205, 205),
            Color::Gray => (229, 229, 229),
            Color::DarkGray => (127, 127, 127),
            Color::LightRed => (255, 0, 0),
            Color::LightGreen => (0, 255, 0),
            Color::LightYellow => (255, 255, 0),
            Color::LightBlue => (92, 92, 255),
            Color::LightMagenta => (255, 0, 255),
            Color::LightCyan => (0, 255, 255),
            Color::White => (255, 255, 255),
            Color::Rgb(r, g, b) => (r, g, b),
            Color::Indexed(_) => fallback,
        }
    }

    /// WCAG's contrast ratio of two colours (1 to 21).
    fn contrast(a: (u8, u8, u8), b: (u8, u8, u8)) -> f64 {
        let lum = |(r, g, b): (u8, u8, u8)| {
            let ch = |c: u8| {
                let c = f64::from(c) / 255.0;
                if c <= 0.03928 {
                    c / 12.92
                } else {
                    ((c + 0.055) / 1.055).powf(2.4)
                }
            };
            0.2126 * ch(r) + 0.7152 * ch(g) + 0.0722 * ch(b)
        };
        let (x, y) = (lum(a), lum(b));
        (x.max(y) + 0.05) / (x.min(y) + 0.05)
    }

    /// Every style of a theme readable on the terminal's own background:
    /// text at 4.5:1 (WCAG AA), borders at 3:1 (a part of the interface).
    fn readable(t: &Theme, fg: (u8, u8, u8), bg: (u8, u8, u8)) -> Vec<String> {
        let mut bad = Vec::new();
        for (name, st) in t.styles() {
            let (f, b) = (rgb(st.fg, fg), rgb(st.bg, bg));
            let need = if name.starts_with("border") { 3.0 } else { 4.5 };
            let c = contrast(f, b);
            if c < need {
                bad.push(format!(
                    "{name}: {f:?} on {b:?} is {c:.2}:1 (needs {need}:1)"
                ));
            }
        }
        bad
    }

    #[test]
    fn the_light_theme_reads_on_white_and_the_dark_on_black() {
        let light = Theme::builtin("light").unwrap();
        let bad = readable(&light, (0, 0, 0), (255, 255, 255));
        assert!(bad.is_empty(), "light on white:\n{}", bad.join("\n"));
        // No ANSI 7 gray (or white) text on the light terminal's background.
        for (name, st) in light.styles() {
            if st.bg.is_none_or(|b| b == Color::Reset) {
                assert!(
                    !matches!(st.fg, Some(Color::Gray | Color::White)),
                    "{name} is ANSI gray/white text on white"
                );
            }
        }
        let dark = Theme::builtin("dark").unwrap();
        let bad = readable(&dark, (229, 229, 229), (0, 0, 0));
        assert!(bad.is_empty(), "dark on black:\n{}", bad.join("\n"));
        // The check can fail: ANSI gray on white is 1.25:1.
        assert!(contrast(rgb(Some(Color::Gray), (0, 0, 0)), (255, 255, 255)) < 1.3);
    }

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
