//! Limits on policy documents, units last. Vault sets none beyond the request body size; we
//! bound what one policy may cost to parse and to evaluate.

/// Longest policy text accepted, in bytes. Real policies are a few KiB.
pub const POLICY_TEXT_BYTES_MAX: usize = 1024 * 1024;
/// Most `path` blocks one policy may hold.
pub const POLICY_PATHS_MAX: usize = 4096;
/// Deepest nesting of `{`, `[` and `(` accepted, so parsing never exhausts the stack.
pub const POLICY_NESTING_DEPTH_MAX: usize = 32;

const _: () = assert!(POLICY_TEXT_BYTES_MAX <= tresor_framework::limits::REQUEST_BODY_BYTES_MAX);
const _: () = assert!(POLICY_NESTING_DEPTH_MAX >= 4);
