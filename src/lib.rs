//! roomtap: a terminal inspector for realtime apps.
//!
//! Data flows one way: `sources` turn wire frames into [`event::SourceEvent`]s,
//! the [`store`] folds them in, the [`ui`] renders the store; keys become
//! actions, and actions become [`event::Command`]s for the owning source.

pub mod app;
pub mod cli;
pub mod demo;
pub mod event;
pub mod guard;
pub mod jsondiff;
pub mod leap;
pub mod modes;
pub mod query;
pub mod record;
pub mod registry;
pub mod relay;
pub mod room;
pub mod runtime;
pub mod scan;
pub mod secret;
pub mod sources;
pub mod store;
pub mod text;
pub mod ui;
pub mod wiring;
