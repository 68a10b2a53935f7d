//! Where scans come from: USB scanners over hidraw (with their report decoding, pure) and
//! standard input. What a scan means is `crate::scan`.

pub mod decode;
pub mod hid;
pub mod stdin;
