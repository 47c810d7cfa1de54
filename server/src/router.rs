//! The router: unauthenticated `sys/` paths, the seal check, token authentication, then the
//! mount table (longest prefix wins). A URL reaches its handler in two hops: the mount table
//! names the backend, the backend's path table names the function.

use crate::core::Core;
use crate::sys;
use std::sync::Arc;
use tresor_framework::{Error, ErrorKind, Operation, Reply, Request};

/// What the router needs to know about a request beyond the backend's view of it.
pub struct Routed {
    pub request: Request,
    /// `?help=1`: answer with the path's help text instead of running it.
    pub help: bool,
    /// For `PATCH`: the refusal to give if the content type is not a merge patch. Checked
    /// only once the path is known to be a logical one (raw `sys/` paths answer 405 first).
    pub patch_content_type_error: Option<Error>,
}

impl Core {
    /// Runs one request through authentication, the ACL (root-only until policies exist) and
    /// the mount table.
    pub async fn handle_request(self: &Arc<Self>, routed: Routed) -> Result<Reply, Error> {
        let Routed { mut request, help, patch_content_type_error } = routed;
        if let Some(sys_path) = request.path.strip_prefix("sys/")
            && sys::is_unauthenticated(sys_path)
        {
            request.path = sys_path.to_string();
            if help {
                return self.help_reply(&request.path);
            }
            return self.sys_paths().handle(self.clone(), request).await.map_err(raw_endpoint_error);
        }
        if let Some(error) = patch_content_type_error {
            return Err(error);
        }
        // Sealing a sealed node is a no-op that needs no token (the reference answers 204).
        if request.path.trim_end_matches('/') == "sys/seal" && request.operation == Operation::Update && self.is_sealed() {
            return Ok(Reply::NoContent);
        }
        self.require_unsealed()?;
        let token = self.authenticate(&request).await?;
        let Some(sys_path) = request.path.strip_prefix("sys/").map(str::to_string) else {
            return Err(Error::new(ErrorKind::UnsupportedPath, format!("no handler for route \"{}\". route entry not found.", request.path)));
        };
        if sys::requires_root(&sys_path) && !token.is_root() {
            return Err(Error::permission_denied());
        }
        request.path = sys_path;
        if help {
            return self.help_reply(&request.path);
        }
        self.sys_paths().handle(self.clone(), request).await
    }

    async fn authenticate(&self, request: &Request) -> Result<tresor_auth::TokenEntry, Error> {
        let Some(token) = request.client_token.as_deref() else {
            return Err(token_denied());
        };
        match self.tokens().lookup(token).await? {
            Some(entry) => Ok(entry),
            None => Err(token_denied()),
        }
    }

    fn help_reply(&self, path: &str) -> Result<Reply, Error> {
        match self.sys_paths().help(path) {
            Some(help) => Reply::raw(200, serde_json::json!({ "help": help, "see_also": null })),
            None => Err(Error::new(ErrorKind::UnsupportedPath, "1 error occurred:\n\t* unsupported path\n\n")),
        }
    }
}

/// A missing, unknown or expired token: 403 with the reference server's text.
fn token_denied() -> Error {
    Error::new(ErrorKind::PermissionDenied, "permission denied")
}

/// Raw `sys/` endpoints answer a wrong method with 405 and an empty `errors` array.
fn raw_endpoint_error(error: Error) -> Error {
    match error.kind() {
        ErrorKind::UnsupportedOperation => Error::unsupported_operation(),
        _ => error,
    }
}
