//! Path framework. See ARCHITECTURE.md.
