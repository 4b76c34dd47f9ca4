pub mod defaults;
