//! Rendering of short links into other media.
pub mod qr;
