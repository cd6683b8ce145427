//! TEMPORARY shim until the bottom layer lands.
pub use crate::resample::{ASSET, TIMESTAMP};
