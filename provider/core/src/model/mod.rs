//! The typed model: provider config, cluster inputs and outputs, and their defaults.

mod cluster;
mod config;
mod defaults;
mod outputs;

pub use cluster::*;
pub use config::*;
pub use defaults::*;
pub use outputs::*;
