//! Barrier and seals. See ARCHITECTURE.md.
