//! The typed model: provider config, cluster inputs and outputs, and their defaults.

mod access;
mod auto_mode;
mod cluster;
mod config;
mod daytwo;
mod defaults;
mod outputs;

pub use access::*;
pub use auto_mode::*;
pub use cluster::*;
pub use config::*;
pub use daytwo::*;
pub use defaults::*;
pub use outputs::*;
