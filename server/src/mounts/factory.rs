//! Which backend serves which mount type. The one place a new engine is registered.

use super::{MountBackend, MountEntry};
use std::sync::Arc;
use tresor_framework::{Backend, Error, Reply, Request, StorageView};

/// Builds the backend for a mount entry over its own storage view.
pub fn create_backend(
    entry: &MountEntry,
    storage: StorageView,
    token_backend: &Arc<dyn Backend>,
) -> Result<MountBackend, Error> {
    let backend: Arc<dyn Backend> = match entry.mount_type.as_str() {
        "system" => return Ok(MountBackend::System),
        "kv" | "generic" => {
            let version = entry
                .options
                .as_ref()
                .and_then(|options| options.get("version"))
                .map(String::as_str);
            let Some(version) = tresor_kv::KvVersion::from_option(version) else {
                return Err(Error::invalid(format!(
                    "invalid KV version {:?}",
                    version.unwrap_or("")
                )));
            };
            tresor_kv::backend(storage, version)
        }
        "cubbyhole" => tresor_kv::cubbyhole_backend(storage),
        "transit" => tresor_transit::backend(storage),
        "token" => token_backend.clone(),
        "identity" => Arc::new(UnsupportedBackend),
        other => {
            return Err(Error::invalid(format!(
                "plugin not found in the catalog: {other}"
            )));
        }
    };
    Ok(MountBackend::Logical(backend))
}

/// A mount whose engine Tresor does not implement yet (`identity/`): every path is
/// unsupported, as an unknown path of a real engine is.
struct UnsupportedBackend;

#[async_trait::async_trait]
impl Backend for UnsupportedBackend {
    async fn handle_request(&self, _request: Request) -> Result<Reply, Error> {
        Err(Error::new(
            tresor_framework::ErrorKind::UnsupportedPath,
            "1 error occurred:\n\t* unsupported path\n\n",
        ))
    }
    fn help(&self, _path: &str) -> Option<&'static str> {
        None
    }
}
