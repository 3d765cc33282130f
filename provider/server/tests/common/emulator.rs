//! The local AWS emulator, from the shared test kit.

#[allow(unused_imports)]
pub use secure_eks_testkit::Emulator;
