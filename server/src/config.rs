//! Server configuration (Vault HCL).
