//! The typed model: provider config, cluster inputs and outputs, and their defaults.

mod access;
mod cluster;
mod config;
mod defaults;
mod outputs;

pub use access::*;
pub use cluster::*;
pub use config::*;
pub use defaults::*;
pub use outputs::*;
