pub mod foreground;
