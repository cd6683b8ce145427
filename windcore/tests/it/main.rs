//! Integration tests of the windcore library, one module per area.

mod pipeline;
mod resample;
