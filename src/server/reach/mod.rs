//! What lets a browser reach duet, and its peer: TLS (a certificate of the operator's or
//! one made for this machine), the machine's LAN addresses and the QR code of its URL, the
//! ICE servers and TURN credentials handed to pages, and the built-in TURN server.

pub mod ice;
pub mod lan;
pub mod self_signed;
pub mod tls;
pub mod turn;
