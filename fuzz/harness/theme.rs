//! Theme files (`--theme PATH`, TOML) on arbitrary text: a theme parses
//! or is an error, never a panic; a theme that parses styles every level.

use roomtap::event::Level;
use roomtap::ui::theme::Theme;

pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(t) = Theme::parse(text) {
        for l in [
            Level::Trace,
            Level::Debug,
            Level::Info,
            Level::Warn,
            Level::Error,
        ] {
            let _ = t.level(l);
        }
    }
}
