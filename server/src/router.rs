//! The router: unauthenticated `sys/` paths, the seal check, token authentication, the ACL,
//! then the mount table (longest prefix wins). A URL reaches its handler in two hops: the
//! mount table names the backend, the backend's path table names the function.

use crate::core::Core;
use crate::core::local_read;
use crate::mounts::MountBackend;
use crate::sys;
use std::sync::Arc;
use tresor_auth::TokenEntry;
use tresor_framework::{Caller, Error, ErrorKind, Operation, Reply, Request};

/// What the router needs to know about a request beyond the backend's view of it.
pub struct Routed {
    pub request: Request,
    /// `?help=1`: answer with the path's help text instead of running it.
    pub help: bool,
    /// For `PATCH`: the refusal to give if the content type is not a merge patch. Checked
    /// only once the path is known to be a logical one (raw `sys/` paths answer 405 first).
    pub patch_content_type_error: Option<Error>,
}

/// ACL denial text (ERR-04): Vault's wrapped multi-error.
fn acl_denied() -> Error {
    Error::new(
        ErrorKind::PermissionDenied,
        "1 error occurred:\n\t* permission denied\n\n",
    )
}

/// A missing, unknown or expired token: 403 with the reference server's text.
fn token_denied() -> Error {
    Error::new(ErrorKind::PermissionDenied, "permission denied")
}

impl Core {
    /// Runs one request through authentication, the ACL and the mount table.
    pub async fn handle_request(self: &Arc<Self>, routed: Routed) -> Result<Reply, Error> {
        let Routed {
            mut request,
            help,
            patch_content_type_error,
        } = routed;
        // A standby serving this request from its replica gives it to the active node
        // unless it is a plain read (see `core/local_read.rs`); a no-op otherwise.
        local_read::check_request(&request)?;
        if let Some(sys_path) = request.path.strip_prefix("sys/")
            && sys::is_unauthenticated(sys_path)
        {
            request.path = sys_path.to_string();
            if help {
                return self.help_reply(&MountBackend::System, &request.path);
            }
            return self
                .sys_paths()
                .handle(self.clone(), request)
                .await
                .map_err(raw_endpoint_error);
        }
        if let Some(error) = patch_content_type_error {
            return Err(error);
        }
        if let Some(sys_path) = request.path.strip_prefix("sys/")
            && sys::is_token_optional(sys_path)
        {
            self.require_unsealed()?;
            let token = match request.client_token.as_deref() {
                Some(token) => self.tokens().lookup(token).await?,
                None => None,
            };
            request.path = sys_path.to_string();
            request.caller = token.as_ref().map(|token| caller_of(token, false));
            return self.sys_paths().handle(self.clone(), request).await;
        }
        // Sealing a sealed node is a no-op that needs no token (the reference answers 204).
        if request.path.trim_end_matches('/') == "sys/seal"
            && request.operation == Operation::Update
            && self.is_sealed()
        {
            return Ok(Reply::NoContent);
        }
        self.require_unsealed()?;
        let token = self.authenticate(&request).await?;
        let result = self.route_authenticated(request, &token, help).await;
        // A use-limited token's last use is revoked after the request, so leases the request
        // created are revoked with it (Vault's order).
        if token.is_exhausted()
            && let Err(error) = self.tokens().revoke_by_hash(&token.id_hash).await
        {
            tracing::warn!(%error, "could not revoke an exhausted token");
        }
        result
    }

    async fn route_authenticated(
        self: &Arc<Self>,
        mut request: Request,
        token: &TokenEntry,
        help: bool,
    ) -> Result<Reply, Error> {
        let acl = self.policies().acl(&token.policies);
        let routes = self.routes();
        let Some((mounted, relative_path)) = routes.route(&request.path) else {
            // ERR-10: with a non-root token the ACL answers first.
            if !acl.is_root() {
                return Err(acl_denied());
            }
            return Err(Error::new(
                ErrorKind::UnsupportedPath,
                format!(
                    "no handler for route \"{}\". route entry not found.",
                    request.path
                ),
            ));
        };
        local_read::check_mount_type(&mounted.entry.mount_type)?;
        let full_path = request.path.clone();
        let relative_path = relative_path.to_string();
        let is_write = matches!(request.operation, Operation::Update | Operation::Create);
        if is_write && full_path.ends_with('/') && !mounted.backend.is_system() {
            return Err(Error::invalid("cannot write to a path ending in '/'"));
        }
        request.path = relative_path;
        request.mount = mounted.context(
            self.settings.default_lease_ttl_seconds,
            self.settings.max_lease_ttl_seconds,
        );
        request.caller = Some(caller_of(token, false));

        // Vault asks the path whether a write creates or updates, for the ACL. The answer
        // is a storage read; it is skipped when neither the ACL nor the handler could care.
        let mut decision = acl.check(request.operation, &full_path, &request.data);
        if request.operation == Operation::Update
            && let MountBackend::Logical(backend) = &mounted.backend
        {
            // Root's verdict is the same for every operation; for others both checks use the
            // same winning rule, so only `allowed` can differ between create and update.
            let create =
                (!acl.is_root()).then(|| acl.check(Operation::Create, &full_path, &request.data));
            let acl_cares = create
                .as_ref()
                .is_some_and(|create| create.allowed != decision.allowed);
            if (acl_cares || backend.handlers_tell_create_from_update())
                && backend.exists(request.clone()).await? == Some(false)
            {
                request.operation = Operation::Create;
                if let Some(create) = create {
                    decision = create;
                }
            }
        }
        if !decision.allowed {
            return Err(acl_denied());
        }
        if mounted.backend.is_system()
            && sys::requires_sudo(&request.path)
            && !decision.root_privileges
        {
            return Err(acl_denied());
        }
        if let Some(caller) = request.caller.as_mut() {
            caller.has_sudo |= decision.root_privileges;
        }
        if help {
            return self.help_reply(&mounted.backend, &request.path);
        }
        let mount = request.mount.clone();
        let relative_path = request.path.clone();
        let wrap_ttl_seconds = request.wrap_ttl_seconds;
        let request_id = request.request_id.clone();
        if wrap_ttl_seconds.is_some() && !decision.permits_wrapping(wrap_ttl_seconds) {
            return Err(acl_denied());
        }
        let reply = match &mounted.backend {
            MountBackend::System => self.sys_paths().handle(self.clone(), request).await?,
            MountBackend::Logical(backend) => backend.handle_request(request).await?,
        };
        local_read::check_reply(&reply)?;
        let reply = self
            .register_lease(reply, &mount, &relative_path, token)
            .await?;
        match wrap_ttl_seconds {
            Some(ttl) => self.wrap_reply(reply, ttl, &full_path, &request_id).await,
            None => Ok(reply),
        }
    }

    /// A reply whose lease carries revocation data becomes a lease with an id (LSE-07); the
    /// expiration manager grants the TTL (capped by the mount) and may add a warning.
    async fn register_lease(
        &self,
        mut reply: Reply,
        mount: &tresor_framework::MountContext,
        relative_path: &str,
        token: &TokenEntry,
    ) -> Result<Reply, Error> {
        if let Reply::Secret(secret) = &mut reply
            && let Some(lease) = secret.lease.as_mut()
            && lease.internal_data.is_some()
        {
            let granted = self
                .expiration()
                .issue_lease(mount, relative_path, lease, Some(&token.id_hash))
                .await?;
            lease.lease_id = granted.lease_id;
            lease.renewable = granted.renewable;
            lease.lease_duration_seconds = granted.lease_duration_seconds;
            lease.internal_data = None;
            secret.warnings.extend(granted.warnings);
        }
        Ok(reply)
    }

    async fn authenticate(&self, request: &Request) -> Result<TokenEntry, Error> {
        let Some(token) = request.client_token.as_deref() else {
            return Err(token_denied());
        };
        if local_read::is_local_read() {
            // A standby counts no use: a use-limited token goes to the active node.
            let Some(entry) = self.tokens().lookup(token).await? else {
                return Err(token_denied());
            };
            local_read::check_token(&entry)?;
            return Ok(entry);
        }
        match self.tokens().use_token(token).await? {
            Some(entry) => Ok(entry),
            None => Err(token_denied()),
        }
    }

    fn help_reply(&self, backend: &MountBackend, path: &str) -> Result<Reply, Error> {
        let help = match backend {
            MountBackend::System => self.sys_paths().help(path),
            MountBackend::Logical(backend) => backend.help(path),
        };
        match help {
            Some(help) => Reply::raw(200, serde_json::json!({ "help": help, "see_also": null })),
            None => Err(Error::new(
                ErrorKind::UnsupportedPath,
                "1 error occurred:\n\t* unsupported path\n\n",
            )),
        }
    }
}

fn caller_of(token: &TokenEntry, has_sudo: bool) -> Caller {
    Caller {
        accessor: token.accessor.clone(),
        policies: token.policies.clone(),
        is_root: token.is_root(),
        has_sudo: has_sudo || token.is_root(),
        token_hash: token.id_hash.clone(),
        display_name: token.display_name.clone(),
        entity_id: token.entity_id.clone(),
    }
}

/// Raw `sys/` endpoints answer a wrong method with 405 and an empty `errors` array.
fn raw_endpoint_error(error: Error) -> Error {
    match error.kind() {
        ErrorKind::UnsupportedOperation => Error::unsupported_operation(),
        _ => error,
    }
}
