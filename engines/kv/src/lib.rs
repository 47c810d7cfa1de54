//! The KV secrets engine, versions 1 and 2 (vault-core-api.md §5).
//!
//! **API boundary.** [`backend`] builds a mount's [`Backend`] over a storage view rooted at
//! the mount; the engine is a path table over the framework, one file per Vault path group
//! (`passthrough.rs` for v1, `path_data.rs`, `path_metadata.rs`, ... for v2).
//!
//! **Architecture invariant:** a v2 write stores the version and the key's metadata in one
//! atomic [`tresor_storage::Storage::batch`], under the key's stripe lock, so concurrent
//! check-and-set writers never lose an update and version numbers stay contiguous.

mod cubbyhole;
mod error;
mod input;
pub mod limits;
mod passthrough;
mod path_config;
mod path_data;
mod path_delete;
mod path_destroy;
mod path_metadata;
mod path_subkeys;
mod store;
mod types;
mod upgrade;

#[cfg(test)]
mod testing;

pub use cubbyhole::{cubbyhole_backend, destroy_cubbyhole};
pub use error::KvError;
pub use upgrade::upgrade_v1_to_v2;

use std::sync::Arc;
use store::{Clock, Kv};
use tresor_framework::{
    Backend, Error, Input, Operation, Path, PathTable, Reply, Request, Secret, StorageView,
};

/// The mount option `version`: `"1"` (or absent) is v1, `"2"` is v2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KvVersion {
    V1,
    V2,
}

impl KvVersion {
    /// Reads the mount's `options.version` as Vault does: `""`/`"1"` → v1, `"2"` → v2.
    pub fn from_option(version: Option<&str>) -> Option<KvVersion> {
        match version.unwrap_or("") {
            "" | "1" => Some(KvVersion::V1),
            "2" => Some(KvVersion::V2),
            _ => None,
        }
    }
}

/// A KV mount. `storage` is rooted at the mount's own storage.
pub fn backend(storage: StorageView, version: KvVersion) -> Arc<dyn Backend> {
    Arc::new(KvBackend::new(storage, version))
}

/// The KV engine behind one mount.
pub struct KvBackend {
    kv: Arc<Kv>,
    table: PathTable<Kv>,
}

impl KvBackend {
    pub fn new(storage: StorageView, version: KvVersion) -> KvBackend {
        KvBackend::with_clock(storage, version, Arc::new(types::Timestamp::now))
    }

    pub(crate) fn with_clock(storage: StorageView, version: KvVersion, clock: Clock) -> KvBackend {
        let paths = match version {
            KvVersion::V1 => passthrough::paths(),
            KvVersion::V2 => versioned_paths(),
        };
        KvBackend {
            kv: Arc::new(Kv::new(storage, version, clock)),
            table: PathTable::new(paths),
        }
    }

    pub fn version(&self) -> KvVersion {
        self.kv.version
    }

    /// The path's existence check for the ACL: `Some(true)` when a write would update,
    /// `Some(false)` when it would create, `None` when the path has no check (an update).
    pub async fn exists(&self, request: Request) -> Result<Option<bool>, Error> {
        self.table.exists(self.kv.clone(), request).await
    }
}

#[async_trait::async_trait]
impl Backend for KvBackend {
    async fn handle_request(&self, request: Request) -> Result<Reply, Error> {
        if self.kv.version == KvVersion::V2
            && let Some(reply) = invalid_v2_path(&request)
        {
            return Ok(reply);
        }
        self.table.handle(self.kv.clone(), request).await
    }

    fn help(&self, path: &str) -> Option<&'static str> {
        self.table.help(path)
    }

    async fn exists(&self, request: Request) -> Result<Option<bool>, Error> {
        KvBackend::exists(self, request).await
    }

    /// KV writes are upserts: the existence check only serves the ACL.
    fn handlers_tell_create_from_update(&self) -> bool {
        false
    }
}

/// The v2 table; the catch-all comes last so valid paths match first (Vault's `pathInvalid`).
fn versioned_paths() -> Vec<Path<Kv>> {
    let mut paths = Vec::new();
    paths.extend(path_config::paths());
    paths.extend(path_data::paths());
    paths.extend(path_metadata::paths());
    paths.extend(path_delete::paths());
    paths.extend(path_destroy::paths());
    paths.extend(path_subkeys::paths());
    paths.push(invalid_path());
    paths
}

const ROOT_WARNING: &str =
    "Non-listing operations on the root of a K/V v2 mount are not supported.";

/// Vault answers paths a v2 mount does not serve with a 404 envelope carrying a warning
/// (KV-18), which the CLI prints. `data`, `metadata`, ... without a key are the mount roots.
fn invalid_v2_path(request: &Request) -> Option<Reply> {
    let path = request.path.as_str();
    if path.contains('/') || path == "config" {
        return None;
    }
    if matches!(
        path,
        "data" | "metadata" | "delete" | "undelete" | "destroy"
    ) {
        // A list of a root arrives as `metadata/` (the server appends the slash).
        if request.operation == Operation::List {
            return None;
        }
        return Some(warning_404(ROOT_WARNING.to_string()));
    }
    Some(warning_404(invalid_path_warning(request.operation)))
}

fn invalid_path_warning(operation: Operation) -> String {
    let command = match operation {
        Operation::Create | Operation::Update => "put",
        Operation::Patch => "patch",
        Operation::Read | Operation::Head => "get",
        Operation::List => "list",
        Operation::Delete => "delete",
    };
    format!(
        "Invalid path for a versioned K/V secrets engine. See the API docs for the appropriate API endpoints to use. If using the Vault CLI, use 'vault kv {command}' for this operation."
    )
}

fn warning_404(warning: String) -> Reply {
    Reply::Secret(Secret {
        warnings: vec![warning],
        status: 404,
        ..Secret::default()
    })
}

#[derive(serde::Deserialize)]
struct AnyFields {}

fn invalid_path() -> Path<Kv> {
    async fn invalid(_: Arc<Kv>, input: Input<AnyFields>) -> Result<Reply, Error> {
        Ok(warning_404(invalid_path_warning(input.request.operation)))
    }
    Path::new("{*path}")
        .read(invalid)
        .write(invalid)
        .delete(invalid)
        .list(invalid)
        .on(Operation::Patch, invalid)
        .help("Invalid path for a versioned K/V secrets engine.")
}

/// A 404 whose body is the full envelope with `data` (ERR-03): "not found, but here is the
/// metadata" for deleted and destroyed versions.
pub(crate) fn not_found_with(data: impl serde::Serialize) -> Result<Reply, Error> {
    let data = serde_json::to_value(data)
        .map_err(|error| Error::internal(format!("serialising reply: {error}")))?;
    Ok(Reply::Secret(Secret {
        data: Some(data),
        status: 404,
        ..Secret::default()
    }))
}

/// An answer with warnings and no data (200), or 204 when there is nothing to say.
pub(crate) fn warnings_reply(warnings: Vec<String>) -> Reply {
    match warnings.is_empty() {
        true => Reply::NoContent,
        false => Reply::Secret(Secret {
            warnings,
            status: 200,
            ..Secret::default()
        }),
    }
}

#[cfg(test)]
mod tests {
    use crate::KvVersion;
    use crate::testing::{Harness, Outcome};
    use serde_json::json;
    use tresor_framework::Operation::{self, Delete, List, Patch, Read, Update};

    fn invalid(command: &str) -> Outcome {
        Outcome::warning(
            404,
            &format!(
                "Invalid path for a versioned K/V secrets engine. See the API docs for the appropriate API endpoints to use. If using the Vault CLI, use 'vault kv {command}' for this operation."
            ),
        )
    }

    #[tokio::test]
    async fn kv2_roots_and_unknown_paths_answer_404_with_a_warning() {
        // Goal: KV-18 as bao answers it (with Vault's CLI name). Method: one row per case.
        let kv = Harness::new(KvVersion::V2);
        let root = Outcome::warning(
            404,
            "Non-listing operations on the root of a K/V v2 mount are not supported.",
        );
        let rows: Vec<(Operation, &str, Outcome)> = vec![
            (Read, "data", root.clone()),
            (Read, "metadata", root.clone()),
            (Update, "delete", root.clone()),
            (Update, "undelete", root.clone()),
            (Update, "destroy", root.clone()),
            (Read, "foo", invalid("get")),
            (Update, "foo", invalid("put")),
            (List, "foo/", invalid("list")),
            (Delete, "foo", invalid("delete")),
            (Patch, "foo", invalid("patch")),
            (Read, "subkeys", invalid("get")),
            (Read, "config/x", invalid("get")),
            (Read, "foo/bar", invalid("get")),
            (
                List,
                "data/",
                Outcome::error(405, "1 error occurred:\n\t* unsupported operation\n\n"),
            ),
            (
                Delete,
                "config",
                Outcome::error(405, "1 error occurred:\n\t* unsupported operation\n\n"),
            ),
            (Read, "data/", Outcome::NotFound),
        ];
        for (operation, path, expected) in rows {
            kv.check(operation, path, json!({}), expected).await;
        }
    }

    #[test]
    fn mount_option_version_selects_the_engine() {
        assert_eq!(KvVersion::from_option(None), Some(KvVersion::V1));
        assert_eq!(KvVersion::from_option(Some("")), Some(KvVersion::V1));
        assert_eq!(KvVersion::from_option(Some("1")), Some(KvVersion::V1));
        assert_eq!(KvVersion::from_option(Some("2")), Some(KvVersion::V2));
        assert_eq!(KvVersion::from_option(Some("3")), None);
    }

    #[tokio::test]
    async fn help_comes_from_the_path_table() {
        let kv = Harness::new(KvVersion::V2);
        use tresor_framework::Backend;
        assert_eq!(
            kv.backend.help("data/x"),
            Some("Write, Patch, Read, and Delete data in the Key-Value Store.")
        );
        assert_eq!(
            kv.backend.help("config"),
            Some("Configures settings for the KV store")
        );
    }
}
