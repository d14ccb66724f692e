//! What a source is and what it can do, as the store and the panes see it:
//! a [`SourceKind`] is a thin handle to its protocol's [`Protocol`]
//! descriptor (name, capabilities, `:` command line, first pane) and its
//! [`Role`] in it (client, server, replay). Pure data, no I/O; it names no
//! protocol: each protocol's folder declares its own descriptor.

use crate::event::CommandKind;

/// A protocol, as its folder declares it (`protocols/<p>/mod.rs`).
#[derive(Debug)]
pub struct Protocol {
    /// Its one name: the folder, the kind of its client, the prefix of its
    /// flags (`redux`, `room`, `leap`).
    pub name: &'static str,
    /// The kind name of roomtap's own server of it (`redux server`).
    pub server: &'static str,
    /// Names older recordings gave its kinds (`relay` was the Redux
    /// monitor's), and the role each meant.
    pub older: &'static [(&'static str, Role)],
    /// What its client can do (a server takes no commands).
    pub caps: Caps,
    /// The variable its token is read from when no token flag gives one
    /// (`MESHAGENT_TOKEN`); `None`: it takes no token.
    pub token_env: Option<&'static str>,
    /// The pane a run whose first source is its client opens on.
    pub first_pane: FirstPane,
}

/// What a source is to its protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Connects to a server of the protocol (a monitor, a room client…).
    Client,
    /// roomtap's own server of the protocol.
    Server,
}

/// The pane a run opens on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirstPane {
    Logs,
    Channels,
    Connections,
    Timeline,
}

/// A source's kind: its protocol's descriptor and its role, or one of the
/// two kinds that belong to no protocol (a recording being replayed, and a
/// recorded source of a protocol this roomtap does not know).
#[derive(Clone, Copy)]
pub struct SourceKind(Inner);

#[derive(Clone, Copy)]
enum Inner {
    Of(&'static Protocol, Role),
    Recording,
    Recorded,
}

impl SourceKind {
    /// A recording being replayed (`roomtap open FILE`).
    pub const RECORDING: SourceKind = SourceKind(Inner::Recording);
    /// A source of a recording, of a kind this roomtap does not know.
    pub const RECORDED: SourceKind = SourceKind(Inner::Recorded);

    /// The client of `p`.
    pub const fn client(p: &'static Protocol) -> SourceKind {
        SourceKind(Inner::Of(p, Role::Client))
    }

    /// roomtap's own server of `p`.
    pub const fn server(p: &'static Protocol) -> SourceKind {
        SourceKind(Inner::Of(p, Role::Server))
    }

    /// What the Connections pane and recordings call it.
    pub fn name(self) -> &'static str {
        match self.0 {
            Inner::Of(p, Role::Client) => p.name,
            Inner::Of(p, Role::Server) => p.server,
            Inner::Recording => "recording",
            Inner::Recorded => "recorded",
        }
    }

    /// Its protocol, when it has one.
    pub fn protocol(self) -> Option<&'static Protocol> {
        match self.0 {
            Inner::Of(p, _) => Some(p),
            _ => None,
        }
    }

    pub fn role(self) -> Option<Role> {
        match self.0 {
            Inner::Of(_, r) => Some(r),
            _ => None,
        }
    }

    /// Whether this kind answers to `name`: its own, or one older
    /// recordings gave it.
    pub fn answers_to(self, name: &str) -> bool {
        self.name() == name
            || match self.0 {
                Inner::Of(p, role) => p.older.iter().any(|(n, r)| *n == name && *r == role),
                _ => false,
            }
    }

    /// What a source of this kind can do, unless it says otherwise: a
    /// protocol's client has its protocol's capabilities; a server, a
    /// recording and an unknown kind take no commands.
    pub fn caps(self) -> Caps {
        match self.0 {
            Inner::Of(p, Role::Client) => p.caps,
            _ => Caps::NONE,
        }
    }

    /// The pane a run whose first source is of this kind opens on.
    pub fn first_pane(self) -> FirstPane {
        match self.0 {
            Inner::Of(p, Role::Client) => p.first_pane,
            // A recording's file brings no app of its own (what it
            // recorded does, by their kinds).
            Inner::Recording => FirstPane::Logs,
            _ => FirstPane::Timeline,
        }
    }
}

impl PartialEq for SourceKind {
    fn eq(&self, other: &SourceKind) -> bool {
        self.name() == other.name()
    }
}

impl Eq for SourceKind {}

impl std::hash::Hash for SourceKind {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.name().hash(h)
    }
}

impl std::fmt::Debug for SourceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::fmt::Display for SourceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
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

    static P: Protocol = Protocol {
        name: "gopher",
        server: "gopher server",
        older: &[("burrow", Role::Server)],
        caps: Caps {
            commands: true,
            ..Caps::NONE
        },
        token_env: None,
        first_pane: FirstPane::Logs,
    };

    #[test]
    fn a_kind_is_its_protocol_and_role() {
        let (c, s) = (SourceKind::client(&P), SourceKind::server(&P));
        assert_eq!((c.name(), s.name()), ("gopher", "gopher server"));
        assert!(c.caps().commands && !s.caps().commands);
        assert!(s.answers_to("burrow") && !c.answers_to("burrow"));
        assert_ne!(c, s);
        assert_eq!(c.first_pane(), FirstPane::Logs);
        assert_eq!(SourceKind::RECORDING.first_pane(), FirstPane::Logs);
        assert_eq!(SourceKind::RECORDED.first_pane(), FirstPane::Timeline);
        assert!(!SourceKind::RECORDED.caps().commands);
    }
}
