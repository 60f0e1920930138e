//! WebSocket client sessions for live venues: endpoints and TLS, and the non-blocking session.

pub mod endpoint;
pub mod session;
