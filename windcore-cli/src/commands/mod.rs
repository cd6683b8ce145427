//! One file per command. Each takes its checked flags (a plan from
//! [`crate::flags`]), calls the library, and leaves the printing to
//! [`crate::report`].

mod generate;
mod init;
mod run;
mod serve;

pub use generate::generate;
pub use init::init;
pub use run::run;
pub use serve::serve;
