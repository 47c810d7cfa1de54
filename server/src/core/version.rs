/// The Vault version Tresor reports. Tools (the Terraform provider, the CLI) gate features on
/// it, so it names the Vault release whose API we implement.
pub const VERSION: &str = "1.15.6";
/// Reported as both `build_date` (Vault) and `commit_date` (OpenBao's CLI reads this one).
pub const BUILD_DATE: &str = "2026-11-26T00:00:00Z";
