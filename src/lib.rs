pub mod cli;
pub mod container;
pub mod runtime;
pub mod supervisor;
