//! What a source is and what it can do: the registry of source kinds as
//! the store and the panes see them. Pure data, no I/O.

use crate::event::CommandKind;

/// A source's kind: an enum, never a string compared by hand. Its name is
/// what the Connections pane and recordings show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceKind {
    /// A monitor on a Redux DevTools relay (another one, or roomtap's own).
    Relay,
    /// roomtap's own relay (a server: its notices and clients).
    RoomtapRelay,
    /// A MeshAgent room client.
    Room,
    /// roomtap's MeshAgent room server.
    RoomServer,
    /// A Hop Leap Edge client.
    Leap,
    /// roomtap's Leap Edge.
    LeapServer,
    /// A recording being replayed.
    Recording,
    /// A source of a recording, of a kind this roomtap does not know.
    Recorded,
}

impl SourceKind {
    /// Every kind, for lookups by name.
    pub const ALL: [SourceKind; 8] = [
        SourceKind::Relay,
        SourceKind::RoomtapRelay,
        SourceKind::Room,
        SourceKind::RoomServer,
        SourceKind::Leap,
        SourceKind::LeapServer,
        SourceKind::Recording,
        SourceKind::Recorded,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SourceKind::Relay => "relay",
            SourceKind::RoomtapRelay => "roomtap relay",
            SourceKind::Room => "room",
            SourceKind::RoomServer => "room server",
            SourceKind::Leap => "leap",
            SourceKind::LeapServer => "leap edge",
            SourceKind::Recording => "recording",
            SourceKind::Recorded => "recorded",
        }
    }

    /// The kind a recording names; unknown names are `Recorded`.
    pub fn from_name(name: &str) -> SourceKind {
        Self::ALL
            .into_iter()
            .find(|k| k.name() == name)
            .unwrap_or(SourceKind::Recorded)
    }

    /// What a source of this kind can do, unless it says otherwise.
    pub fn caps(self) -> Caps {
        match self {
            SourceKind::Relay => Caps {
                commands: true,
                ..Caps::NONE
            },
            SourceKind::Room => crate::sources::room::CAPS,
            SourceKind::Leap => crate::sources::leap::CAPS,
            _ => Caps::NONE,
        }
    }
}

/// The `:` command line of a protocol.
#[derive(Clone, Copy)]
pub struct CommandLine {
    /// One line of usage, shown when a line does not parse.
    pub usage: &'static str,
    /// Which words it takes (to pick the source a line is for).
    pub verbs: &'static [&'static str],
    pub parse: fn(&str) -> Result<CommandKind, String>,
}

/// What a source can do: the ui and the controller ask this, never the kind.
#[derive(Clone, Copy)]
pub struct Caps {
    /// It takes commands (the wiring gives it a route).
    pub commands: bool,
    /// Commands naming an app instance reach only that app (roomtap's own
    /// relay); otherwise a relay broadcasts them to every app.
    pub targets_instances: bool,
    /// Commands typed on the `:` line.
    pub command_line: Option<CommandLine>,
    /// `w`: watch / stop watching the source's stream (developer logs).
    pub watch: Option<fn() -> CommandKind>,
}

impl Caps {
    pub const NONE: Caps = Caps {
        commands: false,
        targets_instances: false,
        command_line: None,
        watch: None,
    };
}

impl std::fmt::Debug for Caps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caps")
            .field("commands", &self.commands)
            .field("targets_instances", &self.targets_instances)
            .field("command_line", &self.command_line.map(|c| c.usage))
            .field("watch", &self.watch.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in SourceKind::ALL {
            assert_eq!(SourceKind::from_name(k.name()), k);
        }
        assert_eq!(SourceKind::from_name("gopher"), SourceKind::Recorded);
    }
}
