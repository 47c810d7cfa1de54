//! `sys/capabilities`, `-self`, `-accessor` (CAP-01..03).

use crate::core::Core;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::sync::Arc;
use tresor_framework::{Error, Input, Path, Reply, loose};

pub fn paths() -> Vec<Path<Core>> {
    vec![
        Path::new("capabilities-self")
            .write(capabilities_self)
            .help("Capabilities of the calling token on paths."),
        Path::new("capabilities")
            .write(capabilities_of_token)
            .help("Capabilities of a token on paths."),
        Path::new("capabilities-accessor")
            .write(capabilities_of_accessor)
            .help("Capabilities of a token, by accessor, on paths."),
    ]
}

#[derive(Deserialize)]
struct CapabilitiesFields {
    #[serde(default, deserialize_with = "loose::comma_list")]
    paths: Vec<String>,
    #[serde(default, deserialize_with = "loose::comma_list")]
    path: Vec<String>,
    #[serde(default, deserialize_with = "loose::string")]
    token: String,
    #[serde(default, deserialize_with = "loose::string")]
    accessor: String,
}

impl CapabilitiesFields {
    fn all_paths(&self) -> Result<Vec<String>, Error> {
        let mut paths = self.paths.clone();
        paths.extend(self.path.iter().cloned());
        if paths.is_empty() {
            return Err(Error::invalid("paths must be supplied"));
        }
        Ok(paths)
    }
}

/// One key per path with its sorted capabilities, plus `capabilities` for a single path.
fn answer(core: &Core, policies: &[String], paths: &[String]) -> Result<Reply, Error> {
    let acl = core.policies().acl(policies);
    let mut data = Map::new();
    for path in paths {
        let capabilities = acl.capabilities(path.trim_start_matches('/'));
        data.insert(path.clone(), Value::from(capabilities));
    }
    if paths.len() == 1
        && let Some(single) = data.get(&paths[0]).cloned()
    {
        data.insert("capabilities".into(), single);
    }
    Ok(Reply::data(data)?.injected())
}

async fn capabilities_self(
    core: Arc<Core>,
    input: Input<CapabilitiesFields>,
) -> Result<Reply, Error> {
    let paths = input.fields.all_paths()?;
    let policies = input
        .request
        .caller
        .as_ref()
        .map(|caller| caller.policies.clone())
        .unwrap_or_default();
    answer(&core, &policies, &paths)
}

async fn capabilities_of_token(
    core: Arc<Core>,
    input: Input<CapabilitiesFields>,
) -> Result<Reply, Error> {
    let paths = input.fields.all_paths()?;
    let Some(entry) = core.tokens().lookup(&input.fields.token).await? else {
        return Err(Error::invalid("1 error occurred:\n\t* invalid token\n\n"));
    };
    answer(&core, &entry.policies, &paths)
}

async fn capabilities_of_accessor(
    core: Arc<Core>,
    input: Input<CapabilitiesFields>,
) -> Result<Reply, Error> {
    let paths = input.fields.all_paths()?;
    let Some(entry) = core.token_by_accessor(&input.fields.accessor).await? else {
        return Err(Error::invalid(
            "1 error occurred:\n\t* invalid accessor\n\n",
        ));
    };
    answer(&core, &entry.policies, &paths)
}
