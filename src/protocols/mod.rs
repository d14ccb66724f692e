//! The protocols roomtap speaks, each in its own folder, and the one list
//! that names them. A protocol's folder holds all of it: `wire` (pure codec
//! and model), `client` (its session task and `Source`), `server` (roomtap's
//! own server of it), its demo part, its flags and subcommands, and its
//! descriptor ([`crate::source::kind::Protocol`]). Adding one is its folder
//! and one line in [`protocols!`] below (plus its `CommandKind` variant in
//! `event.rs` when it takes commands).
//!
//! Every entry point goes through here: the panes, `tail` and `--<p>` on any
//! command build their sources with [`build`], the headless servers with
//! [`ServerCmd::headless`]; `main.rs`, `cli.rs` and `modes.rs` name no
//! protocol.

use clap::{Args, Subcommand};

use crate::source::kind::{Protocol, SourceKind};
use crate::source::tokens::TokenArgs;
use crate::source::{Headless, Shared, Source};

/// The protocol list. Each entry: its module (folder) and the name of its
/// variant in the command enums. The first one that takes a token owns the
/// token flags unless the command names another; the one marked `default`
/// is what `roomtap` alone runs.
macro_rules! protocols {
    (default $default:ident; $($m:ident => $V:ident),+ $(,)?) => {
        $(pub mod $m;)+

        /// Every protocol's descriptor, in the list's order.
        pub static ALL: &[&Protocol] = &[$(&$m::PROTOCOL),+];

        /// Every protocol's flags, on every command, each under its own
        /// heading.
        #[derive(Debug, Args, Clone)]
        #[group(skip)]
        pub struct Flags {
            $(
                #[command(flatten)]
                pub $m: $m::Flags,
            )+
            /// The token flags: the room's, or the protocol's the command names.
            #[command(flatten)]
            pub tokens: TokenArgs,
            /// Which web pages and host names roomtap's servers admit.
            #[command(flatten)]
            pub guard: crate::guard::GuardArgs,
        }

        /// A protocol's client named as a subcommand (`roomtap room URL`).
        #[derive(Debug, Subcommand, Clone)]
        pub enum ProtocolCmd {
            $(
                #[command(flatten)]
                $V($m::Cmd),
            )+
        }

        /// roomtap's own server of a protocol, run alone and headless.
        #[derive(Debug, Subcommand, Clone)]
        pub enum ServerCmd {
            $(
                #[command(flatten)]
                $V($m::ServerCmd),
            )+
        }

        impl ProtocolCmd {
            fn protocol(&self) -> &'static Protocol {
                match self {
                    $(ProtocolCmd::$V(_) => &$m::PROTOCOL,)+
                }
            }

            fn sources(&self, flags: &Flags) -> Result<Vec<Box<dyn Source>>, String> {
                let named = Some(self.protocol());
                match self {
                    $(ProtocolCmd::$V(c) => c.sources(&flags.$m, flags.shared(&$m::PROTOCOL, named)),)+
                }
            }
        }

        impl ServerCmd {
            fn protocol(&self) -> &'static Protocol {
                match self {
                    $(ServerCmd::$V(_) => &$m::PROTOCOL,)+
                }
            }

            /// The server this command runs, alone.
            pub fn headless(&self, flags: &Flags) -> Result<Headless, String> {
                let named = Some(self.protocol());
                match self {
                    $(ServerCmd::$V(c) => c.headless(&flags.$m, flags.shared(&$m::PROTOCOL, named)),)+
                }
            }
        }

        /// What `roomtap` alone runs.
        fn default_sources(flags: &Flags) -> Result<Vec<Box<dyn Source>>, String> {
            $default::default_sources(&flags.$default, flags.shared(&$default::PROTOCOL, None))
        }

        /// Every protocol's `--<p>` sources, in the list's order.
        fn added(flags: &Flags, named: Option<&'static Protocol>) -> Result<Vec<Box<dyn Source>>, String> {
            let mut out = Vec::new();
            $(out.extend($m::added(&flags.$m, flags.shared(&$m::PROTOCOL, named))?);)+
            Ok(out)
        }

        /// `roomtap demo`: every protocol's demo part, in the list's order.
        fn demo(flags: &Flags, seed: u64) -> Result<Vec<Box<dyn Source>>, String> {
            let mut out = Vec::new();
            $(out.extend($m::demo::sources(&flags.$m, flags.shared(&$m::PROTOCOL, None), seed)?);)+
            Ok(out)
        }
    };
}

protocols! {
    default redux;
    redux => Redux,
    room => Room,
    leap => Leap,
    tracim => Tracim,
    legume => Legume,
}

impl Flags {
    /// What `this` protocol reads besides its own flags in a run whose
    /// command names `named`: the token flags when it owns them.
    fn shared(&self, this: &'static Protocol, named: Option<&'static Protocol>) -> Shared<'_> {
        let owns = token_owner(named).is_some_and(|o| std::ptr::eq(o, this));
        Shared {
            tokens: owns.then_some(&self.tokens),
            guard: &self.guard,
        }
    }
}

/// The protocol that owns the token flags in a run whose command names
/// `named`.
pub fn token_owner(named: Option<&'static Protocol>) -> Option<&'static Protocol> {
    named
        .filter(|p| p.token_env.is_some())
        .or_else(|| ALL.iter().copied().find(|p| p.token_env.is_some()))
}

/// The kind a recording names (its own name or an older one); a kind this
/// roomtap does not know is [`SourceKind::RECORDED`].
pub fn kind_named(name: &str) -> SourceKind {
    ALL.iter()
        .flat_map(|p| [SourceKind::client(p), SourceKind::server(p)])
        .find(|k| k.answers_to(name))
        .unwrap_or(SourceKind::RECORDED)
}

/// A source named as a subcommand (`roomtap redux URL`, `roomtap tail room
/// NAME`…): a protocol's client, the demo, or a recording.
#[derive(Debug, Subcommand, Clone)]
pub enum SourceCmd {
    #[command(flatten)]
    Protocol(ProtocolCmd),
    /// roomtap's relay and inspector with two simulated apps (a shop and a chat) that really
    /// time-travel, a MeshAgent room with agents, a Hop Leap project and a TracimDaemon: nothing
    /// else needed.
    /// Takes free ports where the defaults are taken (unless --redux-port).
    Demo {
        /// Seed of the simulated users (the same seed replays the same story).
        #[arg(long)]
        seed: Option<u64>,
    },
    /// Replay a recording (--record FILE) into the panes, timeline included; commands are
    /// disabled.
    Open {
        file: std::path::PathBuf,
        /// Replay at recorded speed times N (1 = as recorded); without it, all at once.
        #[arg(long, value_name = "N")]
        speed: Option<f64>,
    },
}

/// The sources of a run: the one named (what `roomtap` alone runs when
/// none), then every `--<p>` flag's.
pub fn build(cmd: Option<&SourceCmd>, flags: &Flags) -> Result<Vec<Box<dyn Source>>, String> {
    let named = match cmd {
        Some(SourceCmd::Protocol(p)) => Some(p.protocol()),
        _ => None,
    };
    let mut out = match cmd {
        None => default_sources(flags)?,
        Some(SourceCmd::Protocol(p)) => p.sources(flags)?,
        Some(SourceCmd::Demo { seed }) => demo(flags, seed.unwrap_or_else(crate::event::now_ms))?,
        Some(SourceCmd::Open { file, speed }) => {
            crate::record::source::sources(file, *speed, kind_named)?
        }
    };
    out.extend(added(flags, named)?);
    Ok(out)
}
