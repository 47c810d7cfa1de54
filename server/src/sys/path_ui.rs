//! `sys/internal/ui/mounts[/<path>]` (UI-01, UI-02): how every `vault kv` command learns
//! the mount and KV version of a path.

use super::NoFields;
use super::path_mounts::MountOutput;
use crate::core::Core;
use crate::mounts::MountTableKind;
use serde::Serialize;
use serde_json::{Map, Value};
use std::sync::Arc;
use tresor_framework::{Error, ErrorKind, Input, Path, Reply};

pub fn paths() -> Vec<Path<Core>> {
    vec![
        Path::new("internal/ui/mounts")
            .read(list_visible_mounts)
            .help("Mounts visible to the caller (the UI's and CLI's view)."),
        Path::new("internal/ui/mounts/{*path}")
            .read(read_mount_of_path)
            .help("The mount serving a path, with its KV version."),
    ]
}

#[derive(Serialize)]
struct VisibleMounts {
    auth: Map<String, Value>,
    secret: Map<String, Value>,
}

#[derive(Serialize)]
struct UnauthMount {
    #[serde(rename = "type")]
    mount_type: String,
    description: String,
    options: Option<std::collections::BTreeMap<String, String>>,
}

/// Without a token only `listing_visibility = "unauth"` mounts appear, in short form; with a
/// token, every mount the token's policies reach, in full.
async fn list_visible_mounts(core: Arc<Core>, input: Input<NoFields>) -> Result<Reply, Error> {
    let caller = input.request.caller.as_ref();
    let acl = caller.map(|caller| core.policies().acl(&caller.policies));
    let mut visible = VisibleMounts {
        auth: Map::new(),
        secret: Map::new(),
    };
    for mounted in core.routes().mounts() {
        let entry = &mounted.entry;
        let value = match &acl {
            Some(acl) if acl.has_mount_access(&mounted.route_path) => {
                serde_json::to_value(MountOutput::of(entry))
            }
            Some(_) => continue,
            None if entry.config.listing_visibility == "unauth" => {
                serde_json::to_value(UnauthMount {
                    mount_type: entry.mount_type.clone(),
                    description: entry.description.clone(),
                    options: entry.options.clone(),
                })
            }
            None => continue,
        }
        .map_err(|error| Error::internal(error.to_string()))?;
        match entry.table {
            MountTableKind::Secrets => visible.secret.insert(entry.path.clone(), value),
            MountTableKind::Auth => visible.auth.insert(entry.path.clone(), value),
        };
    }
    Reply::data(visible)
}

/// UI-02: the mount containing the path plus `"path"`; 403 with Vault's preflight text when
/// there is none or the token reaches nothing under it.
async fn read_mount_of_path(core: Arc<Core>, input: Input<NoFields>) -> Result<Reply, Error> {
    let path = input.captures.get("path").to_string();
    let preflight_denied = || {
        Error::new(
            ErrorKind::PermissionDenied,
            format!(
                "preflight capability check returned 403, please ensure client's policies grant access to path \"{}/\"",
                path.trim_end_matches('/')
            ),
        )
    };
    let Some(caller) = input.request.caller.as_ref() else {
        return Err(preflight_denied());
    };
    let Some((mounted, _)) = core.routes().route(&path) else {
        return Err(preflight_denied());
    };
    let acl = core.policies().acl(&caller.policies);
    if !acl.has_mount_access(&mounted.route_path) {
        return Err(preflight_denied());
    }
    let mut output = MountOutput::of(&mounted.entry);
    output.path = Some(mounted.route_path.clone());
    Reply::data(output)
}
