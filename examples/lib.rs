//! Examples of the windcore library live beside this file; see `cargo run -p windcore-examples --example …`.
