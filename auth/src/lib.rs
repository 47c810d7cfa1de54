//! Tokens. See ARCHITECTURE.md.
