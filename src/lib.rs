//! roomtap: a terminal inspector for realtime apps.
//!
//! Data flows one way: each protocol's client (`protocols/<p>/client`) turns
//! wire frames into [`event::SourceEvent`]s, the [`store`] folds them in, the
//! [`ui`] renders the store; keys become actions, and actions become
//! [`event::Command`]s for the owning source. See ARCHITECTURE.md.

pub mod app;
pub mod cli;
pub mod config;
pub mod event;
pub mod files;
pub mod guard;
pub mod jsondiff;
pub mod link;
pub mod modes;
pub mod protocols;
pub mod query;
pub mod record;
pub mod runtime;
pub mod scan;
pub mod secret;
pub mod serve;

pub mod source;
pub mod store;
pub mod text;
pub mod ui;
pub mod wiring;
