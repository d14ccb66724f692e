//! `roomtap demo`: simulated apps that speak the app side of the Redux
//! DevTools remote protocol, so every pane is alive with no external service.
