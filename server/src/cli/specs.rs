//! Flags and help texts of the day-to-day commands, generated from Vault 1.14's
//! `command/*.go` (the OpenBao `fork-point` tag) so that `-h` and flag errors match.
//! Regenerate rather than edit by hand.

use super::{http_flags, output_options};
use crate::flags::FlagSet;

/// Flags of `vault read`, as Vault 1.14 declares them.
pub(crate) fn read_flags() -> FlagSet {
    output_options(http_flags("read"), true, true, false)
}

pub(crate) const READ_HELP: &str = "\nUsage: vault read [options] PATH\n\n  Reads data from Vault at the given path. This can be used to read secrets,\n  generate dynamic credentials, get configuration details, and more.\n\n  Read a secret from the static secrets engine:\n\n      $ vault read secret/my-secret\n\n  For a full list of examples and paths, please see the documentation that\n  corresponds to the secrets engine in use.\n\n";

/// Flags of `vault write`, as Vault 1.14 declares them.
pub(crate) fn write_flags() -> FlagSet {
    output_options(http_flags("write"), true, true, false)
        .section("Command Options")
        .bool("force", "Allow the operation to continue with no key=value pairs. This allows writing to keys that do not need or expect data.")
        .alias("f")
}

pub(crate) const WRITE_HELP: &str = "\nUsage: vault write [options] PATH [DATA K=V...]\n\n  Writes data to Vault at the given path. The data can be credentials, secrets,\n  configuration, or arbitrary data. The specific behavior of this command is\n  determined at the thing mounted at the path.\n\n  Data is specified as \"key=value\" pairs. If the value begins with an \"@\", then\n  it is loaded from a file. If the value is \"-\", Vault will read the value from\n  stdin.\n\n  Persist data in the generic secrets engine:\n\n      $ vault write secret/my-secret foo=bar\n\n  Create a new encryption key in the transit secrets engine:\n\n      $ vault write -f transit/keys/my-key\n\n  Upload an AWS IAM policy from a file on disk:\n\n      $ vault write aws/roles/ops policy=@policy.json\n\n  Configure access to Consul by providing an access token:\n\n      $ echo $MY_TOKEN | vault write consul/config/access token=-\n\n  For a full list of examples and paths, please see the documentation that\n  corresponds to the secret engines in use.\n\n";

/// Flags of `vault list`, as Vault 1.14 declares them.
pub(crate) fn list_flags() -> FlagSet {
    output_options(http_flags("list"), false, true, true)
}

pub(crate) const LIST_HELP: &str = "\n\nUsage: vault list [options] PATH\n\n  Lists data from Vault at the given path. This can be used to list keys in a,\n  given secret engine.\n\n  List values under the \"my-app\" folder of the generic secret engine:\n\n      $ vault list secret/my-app/\n\n  For a full list of examples and paths, please see the documentation that\n  corresponds to the secret engine in use. Not all engines support listing.\n\n";

/// Flags of `vault delete`, as Vault 1.14 declares them.
pub(crate) fn delete_flags() -> FlagSet {
    output_options(http_flags("delete"), true, true, false)
}

pub(crate) const DELETE_HELP: &str = "\nUsage: vault delete [options] PATH\n\n  Deletes secrets and configuration from Vault at the given path. The behavior\n  of \"delete\" is delegated to the backend corresponding to the given path.\n\n  Remove data in the status secret backend:\n\n      $ vault delete secret/my-secret\n\n  Uninstall an encryption key in the transit backend:\n\n      $ vault delete transit/keys/my-key\n\n  Delete an IAM role:\n\n      $ vault delete aws/roles/ops\n\n  For a full list of examples and paths, please see the documentation that\n  corresponds to the secret backend in use.\n\n";

/// Flags of `vault login`, as Vault 1.14 declares them.
pub(crate) fn login_flags() -> FlagSet {
    output_options(http_flags("login"), true, true, false)
        .section("Command Options")
        .string("method", "token", "Type of authentication to use such as \"userpass\" or \"ldap\". Note this corresponds to the TYPE, not the enabled path. Use -path to specify the path where the authentication is enabled.")
        .string("path", "", "Remote path in Vault where the auth method is enabled. This defaults to the TYPE of method (e.g. userpass -> userpass/).")
        .bool("no-store", "Do not persist the token to the token helper (usually the local filesystem) after authentication for use in future requests. The token will only be displayed in the command output.")
        .bool("no-print", "Do not display the token. The token will be still be stored to the configured token helper.")
        .bool("token-only", "Output only the token with no verification. This flag is a shortcut for \"-field=token -no-store\". Setting those flags to other values will have no affect.")
}

pub(crate) const LOGIN_HELP: &str = "\nUsage: vault login [options] [AUTH K=V...]\n\n  Authenticates users or machines to Vault using the provided arguments. A\n  successful authentication results in a Vault token - conceptually similar to\n  a session token on a website. By default, this token is cached on the local\n  machine for future requests.\n\n  The default auth method is \"token\". If not supplied via the CLI,\n  Vault will prompt for input. If the argument is \"-\", the values are read\n  from stdin.\n\n  The -method flag allows using other auth methods, such as userpass, github, or\n  cert. For these, additional \"K=V\" pairs may be required. For example, to\n  authenticate to the userpass auth method:\n\n      $ vault login -method=userpass username=my-username\n\n  For more information about the list of configuration parameters available for\n  a given auth method, use the \"vault auth help TYPE\" command. You can also use\n  \"vault auth list\" to see the list of enabled auth methods.\n\n  If an auth method is enabled at a non-standard path, the -method flag still\n  refers to the canonical type, but the -path flag refers to the enabled path.\n  If a github auth method was enabled at \"github-prod\", authenticate like this:\n\n      $ vault login -method=github -path=github-prod\n\n  If the authentication is requested with response wrapping (via -wrap-ttl),\n  the returned token is automatically unwrapped unless:\n\n    - The -token-only flag is used, in which case this command will output\n      the wrapping token.\n\n    - The -no-store flag is used, in which case this command will output the\n      details of the wrapping token.\n\n";

/// Flags of `vault token create`, as Vault 1.14 declares them.
pub(crate) fn token_create_flags() -> FlagSet {
    output_options(http_flags("token create"), true, true, false)
        .section("Command Options")
        .string("id", "", "Value for the token. By default, this is an auto-generated string. Specifying this value requires sudo permissions.")
        .string("display-name", "", "Name to associate with this token. This is a non-sensitive value that can be used to help identify created secrets (e.g. prefixes).")
        .duration("ttl", 0, "Initial TTL to associate with the token. Token renewals may be able to extend beyond this value, depending on the configured maximum TTLs. This is specified as a numeric string with suffix like \"30s\" or \"5m\".")
        .duration("explicit-max-ttl", 0, "Explicit maximum lifetime for the token. Unlike normal TTLs, the maximum TTL is a hard limit and cannot be exceeded. This is specified as a numeric string with suffix like \"30s\" or \"5m\".")
        .duration("period", 0, "If specified, every renewal will use the given period. Periodic tokens do not expire (unless -explicit-max-ttl is also provided). Setting this value requires sudo permissions. This is specified as a numeric string with suffix like \"30s\" or \"5m\".")
        .bool_default("renewable", true, "Allow the token to be renewed up to it's maximum TTL.")
        .bool("orphan", "Create the token with no parent. This prevents the token from being revoked when the token which created it expires. Setting this value requires root or sudo permissions.")
        .bool("no-default-policy", "Detach the \"default\" policy from the policy set for this token.")
        .int("use-limit", 0, "Number of times this token can be used. After the last use, the token is automatically revoked. By default, tokens can be used an unlimited number of times until their expiration.")
        .string("role", "", "Name of the role to create the token against. Specifying -role may override other arguments. The locally authenticated Vault token must have permission for \"auth/token/create/<role>\".")
        .string("type", "service", "The type of token to create. Can be \"service\" or \"batch\".")
        .map("metadata", "Arbitrary key=value metadata to associate with the token. This metadata will show in the audit log when the token is used. This can be specified multiple times to add multiple pieces of metadata.")
        .strings("policy", "Name of a policy to associate with this token. This can be specified multiple times to attach multiple policies.")
        .string("entity-alias", "", "Name of the entity alias to associate with during token creation. Only works in combination with -role argument and used entity alias must be listed in allowed_entity_aliases. If this has been specified, the entity will not be inherited from the parent.")
}

pub(crate) const TOKEN_CREATE_HELP: &str = "\nUsage: vault token create [options]\n\n  Creates a new token that can be used for authentication. This token will be\n  created as a child of the currently authenticated token. The generated token\n  will inherit all policies and permissions of the currently authenticated\n  token unless you explicitly define a subset list policies to assign to the\n  token.\n\n  A ttl can also be associated with the token. If a ttl is not associated\n  with the token, then it cannot be renewed. If a ttl is associated with\n  the token, it will expire after that amount of time unless it is renewed.\n\n  Metadata associated with the token (specified with \"-metadata\") is written\n  to the audit log when the token is used.\n\n  If a role is specified, the role may override parameters specified here.\n\n";

/// Flags of `vault token lookup`, as Vault 1.14 declares them.
pub(crate) fn token_lookup_flags() -> FlagSet {
    output_options(http_flags("token lookup"), false, true, false)
        .section("Command Options")
        .bool("accessor", "Treat the argument as an accessor instead of a token. When this option is selected, the output will NOT include the token.")
}

pub(crate) const TOKEN_LOOKUP_HELP: &str = "\nUsage: vault token lookup [options] [TOKEN | ACCESSOR]\n\n  Displays information about a token or accessor. If a TOKEN is not provided,\n  the locally authenticated token is used.\n\n  Get information about the locally authenticated token (this uses the\n  /auth/token/lookup-self endpoint and permission):\n\n      $ vault token lookup\n\n  Get information about a particular token (this uses the /auth/token/lookup\n  endpoint and permission):\n\n      $ vault token lookup 96ddf4bc-d217-f3ba-f9bd-017055595017\n\n  Get information about a token via its accessor:\n\n      $ vault token lookup -accessor 9793c9b3-e04a-46f3-e7b8-748d7da248da\n\n  For a full list of examples, please see the documentation.\n\n";

/// Flags of `vault token renew`, as Vault 1.14 declares them.
pub(crate) fn token_renew_flags() -> FlagSet {
    output_options(http_flags("token renew"), false, true, false)
        .section("Command Options")
        .bool("accessor", "Treat the argument as an accessor instead of a token. When this option is selected, the output will NOT include the token.")
        .duration("increment", 0, "Request a specific increment for renewal. This increment may not be honored, for instance in the case of periodic tokens. If not supplied, Vault will use the default TTL. This is specified as a numeric string with suffix like \"30s\" or \"5m\".")
        .alias("i")
}

pub(crate) const TOKEN_RENEW_HELP: &str = "\nUsage: vault token renew [options] [TOKEN]\n\n  Renews a token's lease, extending the amount of time it can be used. If a\n  TOKEN is not provided, the locally authenticated token is used. A token\n  accessor can be used as well. Lease renewal will fail if the token is not\n  renewable, the token has already been revoked, or if the token has already\n  reached its maximum TTL.\n\n  Renew a token (this uses the /auth/token/renew endpoint and permission):\n\n      $ vault token renew 96ddf4bc-d217-f3ba-f9bd-017055595017\n\n  Renew the currently authenticated token (this uses the /auth/token/renew-self\n  endpoint and permission):\n\n      $ vault token renew\n\n  Renew a token requesting a specific increment value:\n\n      $ vault token renew -increment=30m 96ddf4bc-d217-f3ba-f9bd-017055595017\n\n  For a full list of examples, please see the documentation.\n\n";

/// Flags of `vault token revoke`, as Vault 1.14 declares them.
pub(crate) fn token_revoke_flags() -> FlagSet {
    http_flags("token revoke")
        .section("Command Options")
        .bool("accessor", "Treat the argument as an accessor instead of a token.")
        .bool("self", "Perform the revocation on the currently authenticated token.")
        .string("mode", "", "Type of revocation to perform. If unspecified, Vault will revoke the token and all of the token's children. If \"orphan\", Vault will revoke only the token, leaving the children as orphans. If \"path\", tokens created from the given authentication path prefix are deleted along with their children.")
}

pub(crate) const TOKEN_REVOKE_HELP: &str = "\nUsage: vault token revoke [options] [TOKEN | ACCESSOR]\n\n  Revokes authentication tokens and their children. If a TOKEN is not provided,\n  the locally authenticated token is used. The \"-mode\" flag can be used to\n  control the behavior of the revocation. See the \"-mode\" flag documentation\n  for more information.\n\n  Revoke a token and all the token's children:\n\n      $ vault token revoke 96ddf4bc-d217-f3ba-f9bd-017055595017\n\n  Revoke a token leaving the token's children:\n\n      $ vault token revoke -mode=orphan 96ddf4bc-d217-f3ba-f9bd-017055595017\n\n  Revoke a token by accessor:\n\n      $ vault token revoke -accessor 9793c9b3-e04a-46f3-e7b8-748d7da248da\n\n  For a full list of examples, please see the documentation.\n\n";

/// Flags of `vault token capabilities`, as Vault 1.14 declares them.
pub(crate) fn token_capabilities_flags() -> FlagSet {
    output_options(http_flags("token capabilities"), false, true, false)
}

pub(crate) const TOKEN_CAPABILITIES_HELP: &str = "\nUsage: vault token capabilities [options] [TOKEN] PATH\n\n  Fetches the capabilities of a token for a given path. If a TOKEN is provided\n  as an argument, the \"/sys/capabilities\" endpoint and permission is used. If\n  no TOKEN is provided, the \"/sys/capabilities-self\" endpoint and permission\n  is used with the locally authenticated token.\n\n  List capabilities for the local token on the \"secret/foo\" path:\n\n      $ vault token capabilities secret/foo\n\n  List capabilities for a token on the \"cubbyhole/foo\" path:\n\n      $ vault token capabilities 96ddf4bc-d217-f3ba-f9bd-017055595017 cubbyhole/foo\n\n  For a full list of examples, please see the documentation.\n\n";

/// Flags of `vault policy write`, as Vault 1.14 declares them.
pub(crate) fn policy_write_flags() -> FlagSet {
    http_flags("policy write")
}

pub(crate) const POLICY_WRITE_HELP: &str = "\nUsage: vault policy write [options] NAME PATH\n\n  Uploads a policy with name NAME from the contents of a local file PATH or\n  stdin. If PATH is \"-\", the policy is read from stdin. Otherwise, it is\n  loaded from the file at the given path on the local disk.\n\n  Upload a policy named \"my-policy\" from \"/tmp/policy.hcl\" on the local disk:\n\n      $ vault policy write my-policy /tmp/policy.hcl\n\n  Upload a policy from stdin:\n\n      $ cat my-policy.hcl | vault policy write my-policy -\n\n";

/// Flags of `vault policy read`, as Vault 1.14 declares them.
pub(crate) fn policy_read_flags() -> FlagSet {
    output_options(http_flags("policy read"), false, true, false)
}

pub(crate) const POLICY_READ_HELP: &str = "\nUsage: vault policy read [options] [NAME]\n\n  Prints the contents and metadata of the Vault policy named NAME. If the policy\n  does not exist, an error is returned.\n\n  Read the policy named \"my-policy\":\n\n      $ vault policy read my-policy\n\n";

/// Flags of `vault policy list`, as Vault 1.14 declares them.
pub(crate) fn policy_list_flags() -> FlagSet {
    output_options(http_flags("policy list"), false, true, false)
}

pub(crate) const POLICY_LIST_HELP: &str = "\nUsage: vault policy list [options]\n\n  Lists the names of the policies that are installed on the Vault server.\n\n";

/// Flags of `vault policy delete`, as Vault 1.14 declares them.
pub(crate) fn policy_delete_flags() -> FlagSet {
    http_flags("policy delete")
}

pub(crate) const POLICY_DELETE_HELP: &str = "\nUsage: vault policy delete [options] NAME\n\n  Deletes the policy named NAME in the Vault server. Once the policy is deleted,\n  all tokens associated with the policy are affected immediately.\n\n  Delete the policy named \"my-policy\":\n\n      $ vault policy delete my-policy\n\n  Note that it is not possible to delete the \"default\" or \"root\" policies.\n  These are built-in policies.\n\n";

/// Flags of `vault policy fmt`, as Vault 1.14 declares them.
pub(crate) fn policy_fmt_flags() -> FlagSet {
    FlagSet::new("policy fmt")
}

pub(crate) const POLICY_FMT_HELP: &str = "\nUsage: vault policy fmt [options] PATH\n\n  Formats a local policy file to the policy specification. This command will\n  overwrite the file at the given PATH with the properly-formatted policy\n  file contents.\n\n  Format the local file \"my-policy.hcl\" as a policy file:\n\n      $ vault policy fmt my-policy.hcl\n\n";

/// Flags of `vault secrets enable`, as Vault 1.14 declares them.
pub(crate) fn secrets_enable_flags() -> FlagSet {
    http_flags("secrets enable")
        .section("Command Options")
        .string("description", "", "Human-friendly description for the purpose of this engine.")
        .string("path", "", "Place where the secrets engine will be accessible. This must be unique cross all secrets engines. This defaults to the \"type\" of the secrets engine.")
        .duration("default-lease-ttl", 0, "The default lease TTL for this secrets engine. If unspecified, this defaults to the Vault server's globally configured default lease TTL.")
        .duration("max-lease-ttl", 0, "The maximum lease TTL for this secrets engine. If unspecified, this defaults to the Vault server's globally configured maximum lease TTL.")
        .strings("audit-non-hmac-request-keys", "Key that will not be HMAC'd by audit devices in the request data object. To specify multiple values, specify this flag multiple times.")
        .strings("audit-non-hmac-response-keys", "Key that will not be HMAC'd by audit devices in the response data object. To specify multiple values, specify this flag multiple times.")
        .string("listing-visibility", "", "Determines the visibility of the mount in the UI-specific listing endpoint.")
        .strings("passthrough-request-headers", "Request header value that will be sent to the plugins. To specify multiple values, specify this flag multiple times.")
        .strings("allowed-response-headers", "Response header value that plugins will be allowed to set. To specify multiple values, specify this flag multiple times.")
        .bool("force-no-cache", "Force the secrets engine to disable caching. If unspecified, this defaults to the Vault server's globally configured cache settings. This does not affect caching of the underlying encrypted data storage.")
        .string("plugin-name", "", "Name of the secrets engine plugin. This plugin name must already exist in Vault's plugin catalog.")
        .string("plugin-version", "", "Select the semantic version of the plugin to enable.")
        .map("options", "Key-value pair provided as key=value for the mount options. This can be specified multiple times.")
        .bool("local", "Mark the secrets engine as local-only. Local engines are not replicated or removed by replication.")
        .bool("seal-wrap", "Enable seal wrapping of critical values in the secrets engine.")
        .bool("external-entropy-access", "Enable secrets engine to access Vault's external entropy source.")
        .int("version", 0, "Select the version of the engine to run. Not supported by all engines.")
        .strings("allowed-managed-keys", "Managed key name(s) that the mount in question is allowed to access. Note that multiple keys may be specified by providing this option multiple times, each time with 1 key.")
}

pub(crate) const SECRETS_ENABLE_HELP: &str = "\nUsage: vault secrets enable [options] TYPE\n\n  Enables a secrets engine. By default, secrets engines are enabled at the path\n  corresponding to their TYPE, but users can customize the path using the\n  -path option.\n\n  Once enabled, Vault will route all requests which begin with the path to the\n  secrets engine.\n\n  Enable the AWS secrets engine at aws/:\n\n      $ vault secrets enable aws\n\n  Enable the SSH secrets engine at ssh-prod/:\n\n      $ vault secrets enable -path=ssh-prod ssh\n\n  Enable the database secrets engine with an explicit maximum TTL of 30m:\n\n      $ vault secrets enable -max-lease-ttl=30m database\n\n  Enable a custom plugin (after it is registered in the plugin registry):\n\n      $ vault secrets enable -path=my-secrets -plugin-name=my-plugin plugin\n\n  OR (preferred way):\n\n      $ vault secrets enable -path=my-secrets my-plugin\n\n  For a full list of secrets engines and examples, please see the documentation.\n\n";

/// Flags of `vault secrets disable`, as Vault 1.14 declares them.
pub(crate) fn secrets_disable_flags() -> FlagSet {
    http_flags("secrets disable")
}

pub(crate) const SECRETS_DISABLE_HELP: &str = "\nUsage: vault secrets disable [options] PATH\n\n  Disables a secrets engine at the given PATH. The argument corresponds to\n  the enabled PATH of the engine, not the TYPE! All secrets created by this\n  engine are revoked and its Vault data is removed.\n\n  Disable the secrets engine enabled at aws/:\n\n      $ vault secrets disable aws/\n\n";

/// Flags of `vault secrets list`, as Vault 1.14 declares them.
pub(crate) fn secrets_list_flags() -> FlagSet {
    output_options(http_flags("secrets list"), false, true, false)
        .section("Command Options")
        .bool("detailed", "Print detailed information such as TTLs and replication status about each secrets engine.")
}

pub(crate) const SECRETS_LIST_HELP: &str = "\nUsage: vault secrets list [options]\n\n  Lists the enabled secret engines on the Vault server. This command also\n  outputs information about the enabled path including configured TTLs and\n  human-friendly descriptions. A TTL of \"system\" indicates that the system\n  default is in use.\n\n  List all enabled secrets engines:\n\n      $ vault secrets list\n\n  List all enabled secrets engines with detailed output:\n\n      $ vault secrets list -detailed\n\n";

/// Flags of `vault secrets tune`, as Vault 1.14 declares them.
pub(crate) fn secrets_tune_flags() -> FlagSet {
    http_flags("secrets tune")
        .section("Command Options")
        .strings("audit-non-hmac-request-keys", "Key that will not be HMAC'd by audit devices in the request data object. To specify multiple values, specify this flag multiple times.")
        .strings("audit-non-hmac-response-keys", "Key that will not be HMAC'd by audit devices in the response data object. To specify multiple values, specify this flag multiple times.")
        .duration("default-lease-ttl", 0, "The default lease TTL for this secrets engine. If unspecified, this defaults to the Vault server's globally configured default lease TTL, or a previously configured value for the secrets engine.")
        .string("description", "", "Human-friendly description of this secret engine. This overrides the current stored value, if any.")
        .string("listing-visibility", "", "Determines the visibility of the mount in the UI-specific listing endpoint.")
        .duration("max-lease-ttl", 0, "The maximum lease TTL for this secrets engine. If unspecified, this defaults to the Vault server's globally configured maximum lease TTL, or a previously configured value for the secrets engine.")
        .strings("passthrough-request-headers", "Request header value that will be sent to the plugin. To specify multiple values, specify this flag multiple times.")
        .strings("allowed-response-headers", "Response header value that plugins will be allowed to set. To specify multiple values, specify this flag multiple times.")
        .map("options", "Key-value pair provided as key=value for the mount options. This can be specified multiple times.")
        .int("version", 0, "Select the version of the engine to run. Not supported by all engines.")
        .strings("allowed-managed-keys", "Managed key name(s) that the mount in question is allowed to access. Note that multiple keys may be specified by providing this option multiple times, each time with 1 key.")
        .string("plugin-version", "", "Select the semantic version of the plugin to run. The new version must be registered in the plugin catalog, and will not start running until the plugin is reloaded.")
}

pub(crate) const SECRETS_TUNE_HELP: &str = "\nUsage: vault secrets tune [options] PATH\n\n  Tunes the configuration options for the secrets engine at the given PATH.\n  The argument corresponds to the PATH where the secrets engine is enabled,\n  not the TYPE!\n\n  Tune the default lease for the PKI secrets engine:\n\n      $ vault secrets tune -default-lease-ttl=72h pki/\n\n";

/// Flags of `vault auth enable`, as Vault 1.14 declares them.
pub(crate) fn auth_enable_flags() -> FlagSet {
    http_flags("auth enable")
        .section("Command Options")
        .string("description", "", "Human-friendly description for the purpose of this auth method.")
        .string("path", "", "Place where the auth method will be accessible. This must be unique across all auth methods. This defaults to the \"type\" of the auth method. The auth method will be accessible at \"/auth/<path>\".")
        .duration("default-lease-ttl", 0, "The default lease TTL for this auth method. If unspecified, this defaults to the Vault server's globally configured default lease TTL.")
        .duration("max-lease-ttl", 0, "The maximum lease TTL for this auth method. If unspecified, this defaults to the Vault server's globally configured maximum lease TTL.")
        .strings("audit-non-hmac-request-keys", "Key that will not be HMAC'd by audit devices in the request data object. To specify multiple values, specify this flag multiple times.")
        .strings("audit-non-hmac-response-keys", "Key that will not be HMAC'd by audit devices in the response data object. To specify multiple values, specify this flag multiple times.")
        .string("listing-visibility", "", "Determines the visibility of the mount in the UI-specific listing endpoint.")
        .strings("passthrough-request-headers", "Request header value that will be sent to the plugin. To specify multiple values, specify this flag multiple times.")
        .strings("allowed-response-headers", "Response header value that plugins will be allowed to set. To specify multiple values, specify this flag multiple times.")
        .string("plugin-name", "", "Name of the auth method plugin. This plugin name must already exist in the Vault server's plugin catalog.")
        .map("options", "Key-value pair provided as key=value for the mount options. This can be specified multiple times.")
        .bool("local", "Mark the auth method as local-only. Local auth methods are not replicated nor removed by replication.")
        .bool("seal-wrap", "Enable seal wrapping of critical values in the secrets engine.")
        .bool("external-entropy-access", "Enable auth method to access Vault's external entropy source.")
        .string("token-type", "", "Sets a forced token type for the mount.")
        .int("version", 0, "Select the version of the auth method to run. Not supported by all auth methods.")
        .string("plugin-version", "", "Select the semantic version of the plugin to enable.")
}

pub(crate) const AUTH_ENABLE_HELP: &str = "\nUsage: vault auth enable [options] TYPE\n\n  Enables a new auth method. An auth method is responsible for authenticating\n  users or machines and assigning them policies with which they can access\n  Vault.\n\n  Enable the userpass auth method at userpass/:\n\n      $ vault auth enable userpass\n\n  Enable the LDAP auth method at auth-prod/:\n\n      $ vault auth enable -path=auth-prod ldap\n\n  Enable a custom auth plugin (after it's registered in the plugin registry):\n\n      $ vault auth enable -path=my-auth -plugin-name=my-auth-plugin plugin\n\n      OR (preferred way):\n\n      $ vault auth enable -path=my-auth my-auth-plugin\n\n";

/// Flags of `vault auth disable`, as Vault 1.14 declares them.
pub(crate) fn auth_disable_flags() -> FlagSet {
    http_flags("auth disable")
}

pub(crate) const AUTH_DISABLE_HELP: &str = "\nUsage: vault auth disable [options] PATH\n\n  Disables an existing auth method at the given PATH. The argument corresponds\n  to the PATH of the mount, not the TYPE!. Once the auth method is disabled its\n  path can no longer be used to authenticate.\n\n  All access tokens generated via the disabled auth method are immediately\n  revoked. This command will block until all tokens are revoked.\n\n  Disable the auth method at userpass/:\n\n      $ vault auth disable userpass/\n\n";

/// Flags of `vault auth list`, as Vault 1.14 declares them.
pub(crate) fn auth_list_flags() -> FlagSet {
    output_options(http_flags("auth list"), false, true, false)
        .section("Command Options")
        .bool("detailed", "Print detailed information such as configuration and replication status about each auth method. This option is only applicable to table-formatted output.")
}

pub(crate) const AUTH_LIST_HELP: &str = "\nUsage: vault auth list [options]\n\n  Lists the enabled auth methods on the Vault server. This command also outputs\n  information about the method including configuration and human-friendly\n  descriptions. A TTL of \"system\" indicates that the system default is in use.\n\n  List all enabled auth methods:\n\n      $ vault auth list\n\n  List all enabled auth methods with detailed output:\n\n      $ vault auth list -detailed\n\n";

/// Flags of `vault auth tune`, as Vault 1.14 declares them.
pub(crate) fn auth_tune_flags() -> FlagSet {
    http_flags("auth tune")
        .section("Command Options")
        .strings("audit-non-hmac-request-keys", "Key that will not be HMAC'd by audit devices in the request data object. To specify multiple values, specify this flag multiple times.")
        .strings("audit-non-hmac-response-keys", "Key that will not be HMAC'd by audit devices in the response data object. To specify multiple values, specify this flag multiple times.")
        .duration("default-lease-ttl", 0, "The default lease TTL for this auth method. If unspecified, this defaults to the Vault server's globally configured default lease TTL, or a previously configured value for the auth method.")
        .string("description", "", "Human-friendly description of the this auth method. This overrides the current stored value, if any.")
        .string("listing-visibility", "", "Determines the visibility of the mount in the UI-specific listing endpoint.")
        .duration("max-lease-ttl", 0, "The maximum lease TTL for this auth method. If unspecified, this defaults to the Vault server's globally configured maximum lease TTL, or a previously configured value for the auth method.")
        .strings("passthrough-request-headers", "Request header value that will be sent to the plugin. To specify multiple values, specify this flag multiple times.")
        .strings("allowed-response-headers", "Response header value that plugins will be allowed to set. To specify multiple values, specify this flag multiple times.")
        .map("options", "Key-value pair provided as key=value for the mount options. This can be specified multiple times.")
        .string("token-type", "", "Sets a forced token type for the mount.")
        .int("version", 0, "Select the version of the auth method to run. Not supported by all auth methods.")
        .int("user-lockout-threshold", 0, "The threshold for user lockout for this auth method. If unspecified, this defaults to the Vault server's globally configured user lockout threshold, or a previously configured value for the auth method.")
        .example("uint")
        .duration("user-lockout-duration", 0, "The user lockout duration for this auth method. If unspecified, this defaults to the Vault server's globally configured user lockout duration, or a previously configured value for the auth method.")
        .duration("user-lockout-counter-reset-duration", 0, "The user lockout counter reset duration for this auth method. If unspecified, this defaults to the Vault server's globally configured user lockout counter reset duration, or a previously configured value for the auth method.")
        .bool("user-lockout-disable", "Disable user lockout for this auth method. If unspecified, this defaults to the Vault server's globally configured user lockout disable, or a previously configured value for the auth method.")
        .string("plugin-version", "", "Select the semantic version of the plugin to run. The new version must be registered in the plugin catalog, and will not start running until the plugin is reloaded.")
}

pub(crate) const AUTH_TUNE_HELP: &str = "\nUsage: vault auth tune [options] PATH\n\n  Tunes the configuration options for the auth method at the given PATH. The\n  argument corresponds to the PATH where the auth method is enabled, not the\n  TYPE!\n\n  Tune the default lease for the github auth method:\n\n      $ vault auth tune -default-lease-ttl=72h github/\n\n";

/// Flags of `vault kv get`, as Vault 1.14 declares them.
pub(crate) fn kv_get_flags() -> FlagSet {
    output_options(http_flags("kv get"), true, true, false)
        .section("Common Options")
        .int("version", 0, "If passed, the value at the version number will be returned.")
        .string("mount", "", "Specifies the path where the KV backend is mounted. If specified, \n\t\tthe next argument will be interpreted as the secret path. If this flag is \n\t\tnot specified, the next argument will be interpreted as the combined mount \n\t\tpath and secret path, with /data/ automatically appended between KV \n\t\tv2 secrets.")
}

pub(crate) const KV_GET_HELP: &str = "\nUsage: vault kv get [options] KEY\n\n  Retrieves the value from Vault's key-value store at the given key name. If no\n  key exists with that name, an error is returned. If a key exists with that\n  name but has no data, nothing is returned.\n\n      $ vault kv get -mount=secret foo\n\n  The deprecated path-like syntax can also be used, but this should be avoided \n  for KV v2, as the fact that it is not actually the full API path to \n  the secret (secret/data/foo) can cause confusion: \n  \n      $ vault kv get secret/foo\n\n  To view the given key name at a specific version in time, specify the \"-version\"\n  flag:\n\n      $ vault kv get -mount=secret -version=1 foo\n\n  Additional flags and more advanced use cases are detailed below.\n\n";

/// Flags of `vault kv put`, as Vault 1.14 declares them.
pub(crate) fn kv_put_flags() -> FlagSet {
    output_options(http_flags("kv put"), true, true, false)
        .section("Common Options")
        .int("cas", -1, "Specifies to use a Check-And-Set operation. If not set the write\n\t\twill be allowed. If set to 0 a write will only be allowed if the key\n\t\tdoesn’t exist. If the index is non-zero the write will only be allowed\n\t\tif the key’s current version matches the version specified in the cas\n\t\tparameter.")
        .string("mount", "", "Specifies the path where the KV backend is mounted. If specified, \n\t\tthe next argument will be interpreted as the secret path. If this flag is \n\t\tnot specified, the next argument will be interpreted as the combined mount \n\t\tpath and secret path, with /data/ automatically appended between KV \n\t\tv2 secrets.")
}

pub(crate) const KV_PUT_HELP: &str = "\nUsage: vault kv put [options] KEY [DATA]\n\n  Writes the data to the given path in the key-value store. The data can be of\n  any type.\n\n      $ vault kv put -mount=secret foo bar=baz\n\n  The deprecated path-like syntax can also be used, but this should be avoided \n  for KV v2, as the fact that it is not actually the full API path to \n  the secret (secret/data/foo) can cause confusion: \n  \n      $ vault kv put secret/foo bar=baz\n\n  The data can also be consumed from a file on disk by prefixing with the \"@\"\n  symbol. For example:\n\n      $ vault kv put -mount=secret foo @data.json\n\n  Or it can be read from stdin using the \"-\" symbol:\n\n      $ echo \"abcd1234\" | vault kv put -mount=secret foo bar=-\n\n  To perform a Check-And-Set operation, specify the -cas flag with the\n  appropriate version number corresponding to the key you want to perform\n  the CAS operation on:\n\n      $ vault kv put -mount=secret -cas=1 foo bar=baz\n\n  Additional flags and more advanced use cases are detailed below.\n\n";

/// Flags of `vault kv patch`, as Vault 1.14 declares them.
pub(crate) fn kv_patch_flags() -> FlagSet {
    output_options(http_flags("kv patch"), true, true, false)
        .section("Common Options")
        .int("cas", 0, "Specifies to use a Check-And-Set operation. If set to 0 or not\n\t\tset, the patch will be allowed. If the index is non-zero the patch will\n\t\tonly be allowed if the key’s current version matches the version\n\t\tspecified in the cas parameter.")
        .string("method", "", "Specifies which method of patching to use. If set to \"patch\", then\n\t\tan HTTP PATCH request will be issued. If set to \"rw\", then a read will be\n\t\tperformed, then a local update, followed by a remote update.")
        .string("mount", "", "Specifies the path where the KV backend is mounted. If specified, \n\t\tthe next argument will be interpreted as the secret path. If this flag is \n\t\tnot specified, the next argument will be interpreted as the combined mount \n\t\tpath and secret path, with /data/ automatically appended between KV \n\t\tv2 secrets.")
        .strings("remove-data", "Key to remove from data. To specify multiple values, specify this flag multiple times.")
}

pub(crate) const KV_PATCH_HELP: &str = "\nUsage: vault kv patch [options] KEY [DATA]\n\n  *NOTE*: This is only supported for KV v2 engine mounts.\n\n  Writes the data to the corresponding path in the key-value store. The data can be of\n  any type.\n\n      $ vault kv patch -mount=secret foo bar=baz\n\n  The deprecated path-like syntax can also be used, but this should be avoided, \n  as the fact that it is not actually the full API path to \n  the secret (secret/data/foo) can cause confusion: \n  \n      $ vault kv patch secret/foo bar=baz\n\n  The data can also be consumed from a file on disk by prefixing with the \"@\"\n  symbol. For example:\n\n      $ vault kv patch -mount=secret foo @data.json\n\n  Or it can be read from stdin using the \"-\" symbol:\n\n      $ echo \"abcd1234\" | vault kv patch -mount=secret foo bar=-\n\n  To perform a Check-And-Set operation, specify the -cas flag with the\n  appropriate version number corresponding to the key you want to perform\n  the CAS operation on:\n\n      $ vault kv patch -mount=secret -cas=1 foo bar=baz\n\n  By default, this operation will attempt an HTTP PATCH operation. If your\n  policy does not allow that, it will fall back to a read/local update/write approach.\n  If you wish to specify which method this command should use, you may do so\n  with the -method flag. When -method=patch is specified, only an HTTP PATCH\n  operation will be tried. If it fails, the entire command will fail.\n\n      $ vault kv patch -mount=secret -method=patch foo bar=baz\n\n  When -method=rw is specified, only a read/local update/write approach will be tried.\n  This was the default behavior previous to Vault 1.9.\n\n      $ vault kv patch -mount=secret -method=rw foo bar=baz\n\n  To remove data from the corresponding path in the key-value store, kv patch can be used.\n\n      $ vault kv patch -mount=secret -remove-data=bar foo\n\n  Additional flags and more advanced use cases are detailed below.\n\n";

/// Flags of `vault kv list`, as Vault 1.14 declares them.
pub(crate) fn kv_list_flags() -> FlagSet {
    output_options(http_flags("kv list"), false, true, false)
        .section("Common Options")
        .string("mount", "", "Specifies the path where the KV backend is mounted. If specified, \n\t\tthe next argument will be interpreted as the secret path. If this flag is \n\t\tnot specified, the next argument will be interpreted as the combined mount \n\t\tpath and secret path, with /data/ automatically appended between KV \n\t\tv2 secrets.")
}

pub(crate) const KV_LIST_HELP: &str = "\n\nUsage: vault kv list [options] PATH\n\n  Lists data from Vault's key-value store at the given path.\n\n  List values under the \"my-app\" folder of the key-value store:\n\n      $ vault kv list secret/my-app/\n\n  Additional flags and more advanced use cases are detailed below.\n\n";

/// Flags of `vault kv delete`, as Vault 1.14 declares them.
pub(crate) fn kv_delete_flags() -> FlagSet {
    output_options(http_flags("kv delete"), true, true, false)
        .section("Common Options")
        .strings("versions", "Specifies the version numbers to delete.")
        .string("mount", "", "Specifies the path where the KV backend is mounted. If specified, \n\t\tthe next argument will be interpreted as the secret path. If this flag is \n\t\tnot specified, the next argument will be interpreted as the combined mount \n\t\tpath and secret path, with /data/ automatically appended between KV \n\t\tv2 secrets.")
}

pub(crate) const KV_DELETE_HELP: &str = "\nUsage: vault kv delete [options] PATH\n\n  Deletes the data for the provided version and path in the key-value store. The\n  versioned data will not be fully removed, but marked as deleted and will no\n  longer be returned in normal get requests.\n\n  To delete the latest version of the key \"foo\": \n\n      $ vault kv delete -mount=secret foo\n\n  The deprecated path-like syntax can also be used, but this should be avoided \n  for KV v2, as the fact that it is not actually the full API path to \n  the secret (secret/data/foo) can cause confusion: \n  \n      $ vault kv delete secret/foo\n\n  To delete version 3 of key foo:\n\n      $ vault kv delete -mount=secret -versions=3 foo\n\n  To delete all versions and metadata, see the \"vault kv metadata\" subcommand.\n\n  Additional flags and more advanced use cases are detailed below.\n\n";

/// Flags of `vault kv undelete`, as Vault 1.14 declares them.
pub(crate) fn kv_undelete_flags() -> FlagSet {
    output_options(http_flags("kv undelete"), false, true, false)
        .section("Common Options")
        .strings("versions", "Specifies the version numbers to undelete.")
        .string("mount", "", "Specifies the path where the KV backend is mounted. If specified, \n\t\tthe next argument will be interpreted as the secret path. If this flag is \n\t\tnot specified, the next argument will be interpreted as the combined mount \n\t\tpath and secret path, with /data/ automatically appended between KV \n\t\tv2 secrets.")
}

pub(crate) const KV_UNDELETE_HELP: &str = "\nUsage: vault kv undelete [options] KEY\n\n  Undeletes the data for the provided version and path in the key-value store.\n  This restores the data, allowing it to be returned on get requests.\n\n  To undelete version 3 of key \"foo\":\n  \n      $ vault kv undelete -mount=secret -versions=3 foo\n\n  The deprecated path-like syntax can also be used, but this should be avoided, \n  as the fact that it is not actually the full API path to \n  the secret (secret/data/foo) can cause confusion: \n\n      $ vault kv undelete -versions=3 secret/foo\n\n  Additional flags and more advanced use cases are detailed below.\n\n";

/// Flags of `vault kv destroy`, as Vault 1.14 declares them.
pub(crate) fn kv_destroy_flags() -> FlagSet {
    output_options(http_flags("kv destroy"), false, true, false)
        .section("Common Options")
        .strings("versions", "Specifies the version numbers to destroy.")
        .string("mount", "", "Specifies the path where the KV backend is mounted. If specified, \n\t\tthe next argument will be interpreted as the secret path. If this flag is \n\t\tnot specified, the next argument will be interpreted as the combined mount \n\t\tpath and secret path, with /data/ automatically appended between KV \n\t\tv2 secrets.")
}

pub(crate) const KV_DESTROY_HELP: &str = "\nUsage: vault kv destroy [options] KEY\n\n  Permanently removes the specified versions' data from the key-value store. If\n  no key exists at the path, no action is taken.\n\n  To destroy version 3 of key foo:\n\n      $ vault kv destroy -mount=secret -versions=3 foo\n\n  The deprecated path-like syntax can also be used, but this should be avoided \n  for KV v2, as the fact that it is not actually the full API path to \n  the secret (secret/data/foo) can cause confusion: \n  \n      $ vault kv destroy -versions=3 secret/foo\n\n  Additional flags and more advanced use cases are detailed below.\n\n";

/// Flags of `vault kv rollback`, as Vault 1.14 declares them.
pub(crate) fn kv_rollback_flags() -> FlagSet {
    output_options(http_flags("kv rollback"), false, true, false)
        .section("Common Options")
        .int("version", 0, "Specifies the version number that should be made current again.")
        .string("mount", "", "Specifies the path where the KV backend is mounted. If specified, \n\t\tthe next argument will be interpreted as the secret path. If this flag is \n\t\tnot specified, the next argument will be interpreted as the combined mount \n\t\tpath and secret path, with /data/ automatically appended between KV \n\t\tv2 secrets.")
}

pub(crate) const KV_ROLLBACK_HELP: &str = "\nUsage: vault kv rollback [options] KEY\n\n  *NOTE*: This is only supported for KV v2 engine mounts.\n\n  Restores a given previous version to the current version at the given path.\n  The value is written as a new version; for instance, if the current version\n  is 5 and the rollback version is 2, the data from version 2 will become\n  version 6.\n\n      $ vault kv rollback -mount=secret -version=2 foo\n\n  The deprecated path-like syntax can also be used, but this should be avoided, \n  as the fact that it is not actually the full API path to \n  the secret (secret/data/foo) can cause confusion: \n  \n      $ vault kv rollback -version=2 secret/foo\n\n  Additional flags and more advanced use cases are detailed below.\n\n";

/// Flags of `vault kv metadata get`, as Vault 1.14 declares them.
pub(crate) fn kv_metadata_get_flags() -> FlagSet {
    output_options(http_flags("kv metadata get"), false, true, false)
        .section("Common Options")
        .string("mount", "", "Specifies the path where the KV backend is mounted. If specified, \n\t\tthe next argument will be interpreted as the secret path. If this flag is \n\t\tnot specified, the next argument will be interpreted as the combined mount \n\t\tpath and secret path, with /metadata/ automatically appended between KV \n\t\tv2 secrets.")
}

pub(crate) const KV_METADATA_GET_HELP: &str = "\nUsage: vault kv metadata get [options] KEY\n\n  Retrieves the metadata from Vault's key-value store at the given key name. If no\n  key exists with that name, an error is returned.\n\n      $ vault kv metadata get -mount=secret foo\n\n  The deprecated path-like syntax can also be used, but this should be avoided \n  for KV v2, as the fact that it is not actually the full API path to \n  the secret (secret/metadata/foo) can cause confusion: \n  \n      $ vault kv metadata get secret/foo\n\n  Additional flags and more advanced use cases are detailed below.\n\n";

/// Flags of `vault kv metadata put`, as Vault 1.14 declares them.
pub(crate) fn kv_metadata_put_flags() -> FlagSet {
    output_options(http_flags("kv metadata put"), false, true, false)
        .section("Common Options")
        .int("max-versions", -1, "The number of versions to keep. If not set, the backend’s configured max version is used.")
        .bool("cas-required", "If true the key will require the cas parameter to be set on all write requests. If false, the backend’s configuration will be used.")
        .default_text("")
        .example("*bool")
        .duration("delete-version-after", 0, "Specifies the length of time before a version is deleted.\n\t\tIf not set, the backend's configured delete-version-after is used. Cannot be\n\t\tgreater than the backend's delete-version-after. The delete-version-after is\n\t\tspecified as a numeric string with a suffix like \"30s\" or\n\t\t\"3h25m19s\".")
        .default_text("-1ns")
        .map("custom-metadata", "Specifies arbitrary version-agnostic key=value metadata meant to describe a secret.This can be specified multiple times to add multiple pieces of metadata.")
        .string("mount", "", "Specifies the path where the KV backend is mounted. If specified, \n\t\tthe next argument will be interpreted as the secret path. If this flag is \n\t\tnot specified, the next argument will be interpreted as the combined mount \n\t\tpath and secret path, with /metadata/ automatically appended between KV \n\t\tv2 secrets.")
}

pub(crate) const KV_METADATA_PUT_HELP: &str = "\nUsage: vault kv metadata put [options] KEY\n\n  This command can be used to create a blank key in the key-value store or to\n  update key configuration for a specified key.\n\n  Create a key in the key-value store with no data:\n\n      $ vault kv metadata put -mount=secret foo\n\n  The deprecated path-like syntax can also be used, but this should be avoided \n  for KV v2, as the fact that it is not actually the full API path to \n  the secret (secret/metadata/foo) can cause confusion: \n  \n      $ vault kv metadata put secret/foo\n\n  Set a max versions setting on the key:\n\n      $ vault kv metadata put -mount=secret -max-versions=5 foo\n\n  Set delete-version-after on the key:\n\n      $ vault kv metadata put -mount=secret -delete-version-after=3h25m19s foo\n\n  Require Check-and-Set for this key:\n\n      $ vault kv metadata put -mount=secret -cas-required foo\n\n  Set custom metadata on the key:\n\n      $ vault kv metadata put -mount=secret -custom-metadata=foo=abc -custom-metadata=bar=123 foo\n\n  Additional flags and more advanced use cases are detailed below.\n\n";

/// Flags of `vault kv metadata patch`, as Vault 1.14 declares them.
pub(crate) fn kv_metadata_patch_flags() -> FlagSet {
    output_options(http_flags("kv metadata patch"), false, true, false)
        .section("Common Options")
        .int("max-versions", -1, "The number of versions to keep. If not set, the backend’s configured max version is used.")
        .bool("cas-required", "If true the key will require the cas parameter to be set on all write requests. If false, the backend’s configuration will be used.")
        .default_text("")
        .example("*bool")
        .duration("delete-version-after", 0, "Specifies the length of time before a version is deleted.\n\t\tIf not set, the backend's configured delete-version-after is used. Cannot be\n\t\tgreater than the backend's delete-version-after. The delete-version-after is\n\t\tspecified as a numeric string with a suffix like \"30s\" or\n\t\t\"3h25m19s\".")
        .default_text("-1ns")
        .map("custom-metadata", "Specifies arbitrary version-agnostic key=value metadata meant to describe a secret.\n\t\tThis can be specified multiple times to add multiple pieces of metadata.")
        .strings("remove-custom-metadata", "Key to remove from custom metadata. To specify multiple values, specify this flag multiple times.")
        .string("mount", "", "Specifies the path where the KV backend is mounted. If specified, \n\t\tthe next argument will be interpreted as the secret path. If this flag is \n\t\tnot specified, the next argument will be interpreted as the combined mount \n\t\tpath and secret path, with /metadata/ automatically appended between KV \n\t\tv2 secrets.")
}

pub(crate) const KV_METADATA_PATCH_HELP: &str = "\nUsage: vault kv metadata patch [options] KEY\n\n  This command can be used to create a blank key in the key-value store or to\n  update key configuration for a specified key.\n\n  Create a key in the key-value store with no data:\n\n      $ vault kv metadata patch -mount=secret foo\n\n  The deprecated path-like syntax can also be used, but this should be avoided \n  for KV v2, as the fact that it is not actually the full API path to \n  the secret (secret/metadata/foo) can cause confusion: \n  \n      $ vault kv metadata patch secret/foo\n\n  Set a max versions setting on the key:\n\n      $ vault kv metadata patch -mount=secret -max-versions=5 foo\n\n  Set delete-version-after on the key:\n\n      $ vault kv metadata patch -mount=secret -delete-version-after=3h25m19s foo\n\n  Require Check-and-Set for this key:\n\n      $ vault kv metadata patch -mount=secret -cas-required foo\n\n  Set custom metadata on the key:\n\n      $ vault kv metadata patch -mount=secret -custom-metadata=foo=abc -custom-metadata=bar=123 foo\n\n  To remove custom meta data from the corresponding path in the key-value store, kv metadata patch can be used.\n\n      $ vault kv metadata patch -mount=secret -remove-custom-metadata=bar foo\n\n  Additional flags and more advanced use cases are detailed below.\n\n";

/// Flags of `vault kv metadata delete`, as Vault 1.14 declares them.
pub(crate) fn kv_metadata_delete_flags() -> FlagSet {
    http_flags("kv metadata delete")
        .section("Common Options")
        .string("mount", "", "Specifies the path where the KV backend is mounted. If specified, \n\t\tthe next argument will be interpreted as the secret path. If this flag is \n\t\tnot specified, the next argument will be interpreted as the combined mount \n\t\tpath and secret path, with /metadata/ automatically appended between KV \n\t\tv2 secrets.")
}

pub(crate) const KV_METADATA_DELETE_HELP: &str = "\nUsage: vault kv metadata delete [options] PATH\n\n  Deletes all versions and metadata for the provided key. \n\n      $ vault kv metadata delete -mount=secret foo\n\n  The deprecated path-like syntax can also be used, but this should be avoided \n  for KV v2, as the fact that it is not actually the full API path to \n  the secret (secret/metadata/foo) can cause confusion: \n  \n      $ vault kv metadata delete secret/foo\n\n  Additional flags and more advanced use cases are detailed below.\n\n";

/// Flags of `vault lease renew`, as Vault 1.14 declares them.
pub(crate) fn lease_renew_flags() -> FlagSet {
    output_options(http_flags("lease renew"), false, true, false)
        .section("Command Options")
        .duration(
            "increment",
            0,
            "Request a specific increment in seconds. Vault is not required to honor this request.",
        )
}

pub(crate) const LEASE_RENEW_HELP: &str = "\nUsage: vault lease renew [options] ID\n\n  Renews the lease on a secret, extending the time that it can be used before\n  it is revoked by Vault.\n\n  Every secret in Vault has a lease associated with it. If the owner of the\n  secret wants to use it longer than the lease, then it must be renewed.\n  Renewing the lease does not change the contents of the secret. The ID is the\n  full path lease ID.\n\n  Renew a secret:\n\n      $ vault lease renew database/creds/readonly/2f6a614c...\n\n  Lease renewal will fail if the secret is not renewable, the secret has already\n  been revoked, or if the secret has already reached its maximum TTL.\n\n  For a full list of examples, please see the documentation.\n\n";

/// Flags of `vault lease revoke`, as Vault 1.14 declares them.
pub(crate) fn lease_revoke_flags() -> FlagSet {
    http_flags("lease revoke")
        .section("Command Options")
        .bool("force", "Delete the lease from Vault even if the secret engine revocation fails. This is meant for recovery situations where the secret in the target secret engine was manually removed. If this flag is specified, -prefix is also required.")
        .alias("f")
        .bool("prefix", "Treat the ID as a prefix instead of an exact lease ID. This can revoke multiple leases simultaneously.")
        .bool("sync", "Force a synchronous operation; on failure it is up to the client to retry.")
}

pub(crate) const LEASE_REVOKE_HELP: &str = "\nUsage: vault lease revoke [options] ID\n\n  Revokes secrets by their lease ID. This command can revoke a single secret\n  or multiple secrets based on a path-matched prefix.\n\n  The default behavior when not using -force is to revoke asynchronously; Vault\n  will queue the revocation and keep trying if it fails (including across\n  restarts). The -sync flag can be used to force a synchronous operation, but\n  it is then up to the caller to retry on failure. Force mode always operates\n  synchronously.\n\n  Revoke a single lease:\n\n      $ vault lease revoke database/creds/readonly/2f6a614c...\n\n  Revoke all leases for a role:\n\n      $ vault lease revoke -prefix aws/creds/deploy\n\n  Force delete leases from Vault even if secret engine revocation fails:\n\n      $ vault lease revoke -force -prefix consul/creds\n\n  For a full list of examples and paths, please see the documentation that\n  corresponds to the secret engine in use.\n\n";

/// Flags of `vault lease lookup`, as Vault 1.14 declares them.
pub(crate) fn lease_lookup_flags() -> FlagSet {
    output_options(http_flags("lease lookup"), false, true, false)
}

pub(crate) const LEASE_LOOKUP_HELP: &str = "\nUsage: vault lease lookup ID\n\n  Lookup the lease information of a secret.\n\n  Every secret in Vault has a lease associated with it. Users can look up\n  information on the lease by referencing the lease ID.\n\n  Lookup lease of a secret:\n\n      $ vault lease lookup database/creds/readonly/2f6a614c...\n\n";

pub(crate) const AUTH_GROUP_HELP: &str = "Usage: vault auth <subcommand> [options] [args]\n\n  This command groups subcommands for interacting with Vault's auth methods.\n  Users can list, enable, disable, and get help for different auth methods.\n\n  To authenticate to Vault as a user or machine, use the \"vault login\" command\n  instead. This command is for interacting with the auth methods themselves, not\n  authenticating to Vault.\n\n  List all enabled auth methods:\n\n      $ vault auth list\n\n  Enable a new auth method \"userpass\";\n\n      $ vault auth enable userpass\n\n  Get detailed help information about how to authenticate to a particular auth\n  method:\n\n      $ vault auth help github\n\n  Please see the individual subcommand help for detailed usage information.\n\nSubcommands:\n    disable    Disables an auth method\n    enable     Enables a new auth method\n    help       Prints usage for an auth method\n    list       Lists enabled auth methods\n    move       Move an auth method to a new path\n    tune       Tunes an auth method configuration";

pub(crate) const KV_GROUP_HELP: &str = "Usage: vault kv <subcommand> [options] [args]\n\n  This command has subcommands for interacting with Vault's key-value\n  store. Here are some simple examples, and more detailed examples are\n  available in the subcommands or the documentation.\n\n  Create or update the key named \"foo\" in the \"secret\" mount with the value\n  \"bar=baz\":\n\n      $ vault kv put -mount=secret foo bar=baz\n\n  Read this value back:\n\n      $ vault kv get -mount=secret foo\n\n  Get metadata for the key:\n\n      $ vault kv metadata get -mount=secret foo\n\t  \n  Get a specific version of the key:\n\n      $ vault kv get -mount=secret -version=1 foo\n\n  The deprecated path-like syntax can also be used, but this should be avoided \n  for KV v2, as the fact that it is not actually the full API path to \n  the secret (secret/data/foo) can cause confusion:   \n  \n      $ vault kv get secret/foo\n\n  Please see the individual subcommand help for detailed usage information.\n\nSubcommands:\n    delete               Deletes versions in the KV store\n    destroy              Permanently removes one or more versions in the KV store\n    enable-versioning    Turns on versioning for a KV store\n    get                  Retrieves data from the KV store\n    list                 List data or secrets\n    metadata             Interact with Vault's Key-Value storage\n    patch                Sets or updates data in the KV store without overwriting\n    put                  Sets or updates data in the KV store\n    rollback             Rolls back to a previous version of data\n    undelete             Undeletes versions in the KV store";

pub(crate) const KV_METADATA_GROUP_HELP: &str = "Usage: vault kv metadata <subcommand> [options] [args]\n\n  This command has subcommands for interacting with the metadata endpoint in\n  Vault's key-value store. Here are some simple examples, and more detailed\n  examples are available in the subcommands or the documentation.\n\n  Create or update a metadata entry for a key:\n\n      $ vault kv metadata put -mount=secret -max-versions=5 -delete-version-after=3h25m19s foo\n\n  Get the metadata for a key, this provides information about each existing\n  version:\n\n      $ vault kv metadata get -mount=secret foo\n\n  Delete a key and all existing versions:\n\n      $ vault kv metadata delete -mount=secret foo\n\n  The deprecated path-like syntax can also be used, but this should be avoided \n  for KV v2, as the fact that it is not actually the full API path to \n  the secret (secret/metadata/foo) can cause confusion: \n  \n      $ vault kv metadata get secret/foo\n\n  Please see the individual subcommand help for detailed usage information.\n\nSubcommands:\n    delete    Deletes all versions and metadata for a key in the KV store\n    get       Retrieves key metadata from the KV store\n    patch     Patches key settings in the KV store\n    put       Sets or updates key settings in the KV store";

pub(crate) const LEASE_GROUP_HELP: &str = "Usage: vault lease <subcommand> [options] [args]\n\n  This command groups subcommands for interacting with leases. Users can revoke\n  or renew leases.\n\n  Renew a lease:\n\n      $ vault lease renew database/creds/readonly/2f6a614c...\n\n  Revoke a lease:\n\n      $ vault lease revoke database/creds/readonly/2f6a614c...\n\nSubcommands:\n    lookup    Lookup the lease of a secret\n    renew     Renews the lease of a secret\n    revoke    Revokes leases and secrets";

pub(crate) const POLICY_GROUP_HELP: &str = "Usage: vault policy <subcommand> [options] [args]\n\n  This command groups subcommands for interacting with policies.\n  Users can write, read, and list policies in Vault.\n\n  List all enabled policies:\n\n      $ vault policy list\n\n  Create a policy named \"my-policy\" from contents on local disk:\n\n      $ vault policy write my-policy ./my-policy.hcl\n\n  Delete the policy named my-policy:\n\n      $ vault policy delete my-policy\n\n  Please see the individual subcommand help for detailed usage information.\n\nSubcommands:\n    delete    Deletes a policy by name\n    fmt       Formats a policy on disk\n    list      Lists the installed policies\n    read      Prints the contents of a policy\n    write     Uploads a named policy from a file";

pub(crate) const SECRETS_GROUP_HELP: &str = "Usage: vault secrets <subcommand> [options] [args]\n\n  This command groups subcommands for interacting with Vault's secrets engines.\n  Each secret engine behaves differently. Please see the documentation for\n  more information.\n\n  List all enabled secrets engines:\n\n      $ vault secrets list\n\n  Enable a new secrets engine:\n\n      $ vault secrets enable database\n\n  Please see the individual subcommand help for detailed usage information.\n\nSubcommands:\n    disable    Disable a secret engine\n    enable     Enable a secrets engine\n    list       List enabled secrets engines\n    move       Move a secrets engine to a new path\n    tune       Tune a secrets engine configuration";

pub(crate) const TOKEN_GROUP_HELP: &str = "Usage: vault token <subcommand> [options] [args]\n\n  This command groups subcommands for interacting with tokens. Users can\n  create, lookup, renew, and revoke tokens.\n\n  Create a new token:\n\n      $ vault token create\n\n  Revoke a token:\n\n      $ vault token revoke 96ddf4bc-d217-f3ba-f9bd-017055595017\n\n  Renew a token:\n\n      $ vault token renew 96ddf4bc-d217-f3ba-f9bd-017055595017\n\n  Please see the individual subcommand help for detailed usage information.\n\nSubcommands:\n    capabilities    Print capabilities of a token on a path\n    create          Create a new token\n    lookup          Display information about a token\n    renew           Renew a token lease\n    revoke          Revoke a token and its children";
