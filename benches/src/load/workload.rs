//! The workloads: which request a worker sends next, and the setup each needs.

use super::conn::{Conn, Response, Target};
use super::limits::{
    ERROR_BODY_BYTES_MAX, SETUP_ATTEMPTS_MAX, SETUP_DEADLINE_MS, SETUP_RETRY_PAUSE_MS,
};
use base64::Engine as _;
use bytes::Bytes;
use hyper::Method;
use std::time::{Duration, Instant};

/// The transit key the `transit-encrypt` workload creates and uses.
pub const TRANSIT_KEY_NAME: &str = "loadgen";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    Kv2Read,
    Kv2Write,
    Kv1Read,
    Kv1Write,
    TransitEncrypt,
}

impl Workload {
    pub fn parse(name: &str) -> Result<Workload, String> {
        match name {
            "kv2-read" => Ok(Workload::Kv2Read),
            "kv2-write" => Ok(Workload::Kv2Write),
            "kv1-read" => Ok(Workload::Kv1Read),
            "kv1-write" => Ok(Workload::Kv1Write),
            "transit-encrypt" => Ok(Workload::TransitEncrypt),
            _ => Err(format!(
                "unknown workload {name:?} (kv2-read, kv2-write, kv1-read, kv1-write, transit-encrypt)"
            )),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Workload::Kv2Read => "kv2-read",
            Workload::Kv2Write => "kv2-write",
            Workload::Kv1Read => "kv1-read",
            Workload::Kv1Write => "kv1-write",
            Workload::TransitEncrypt => "transit-encrypt",
        }
    }

    /// KV v1 and v2 get different default mounts so both can run against one server.
    pub fn default_mount(self) -> &'static str {
        match self {
            Workload::Kv2Read | Workload::Kv2Write => "secret",
            Workload::Kv1Read | Workload::Kv1Write => "kv",
            Workload::TransitEncrypt => "transit",
        }
    }

    /// The body of `POST sys/mounts/<mount>`.
    fn mount_body(self) -> &'static str {
        match self {
            Workload::Kv2Read | Workload::Kv2Write => r#"{"type":"kv","options":{"version":"2"}}"#,
            Workload::Kv1Read | Workload::Kv1Write => r#"{"type":"kv","options":{"version":"1"}}"#,
            Workload::TransitEncrypt => r#"{"type":"transit"}"#,
        }
    }
}

/// One request to send: method, origin-form path, optional JSON body.
pub struct Call {
    pub method: Method,
    pub path: String,
    pub body: Option<Bytes>,
}

/// What a run sends. Built once; `call` is cheap (one `format!`, the body is shared).
#[derive(Debug, Clone)]
pub struct Plan {
    pub workload: Workload,
    pub mount: String,
    pub keys: u64,
    /// The write body (KV value or transit plaintext), the same for every request.
    write_body: Bytes,
}

impl Plan {
    pub fn new(workload: Workload, mount: &str, keys: u64, value_bytes: usize) -> Plan {
        assert!(keys > 0, "at least one key");
        let value = "x".repeat(value_bytes);
        let write_body = match workload {
            Workload::Kv2Read | Workload::Kv2Write => {
                serde_json::json!({ "data": { "value": value } })
            }
            Workload::Kv1Read | Workload::Kv1Write => serde_json::json!({ "value": value }),
            Workload::TransitEncrypt => serde_json::json!({
                "plaintext": base64::engine::general_purpose::STANDARD.encode(value.as_bytes())
            }),
        };
        Plan {
            workload,
            mount: mount.to_string(),
            keys,
            write_body: Bytes::from(write_body.to_string()),
        }
    }

    /// The request for key number `index % keys`.
    pub fn call(&self, index: u64) -> Call {
        let key = index % self.keys;
        let mount = &self.mount;
        match self.workload {
            Workload::Kv2Read => Call {
                method: Method::GET,
                path: format!("/v1/{mount}/data/key-{key}"),
                body: None,
            },
            Workload::Kv1Read => Call {
                method: Method::GET,
                path: format!("/v1/{mount}/key-{key}"),
                body: None,
            },
            Workload::Kv2Write => Call {
                method: Method::POST,
                path: format!("/v1/{mount}/data/key-{key}"),
                body: Some(self.write_body.clone()),
            },
            Workload::Kv1Write => Call {
                method: Method::POST,
                path: format!("/v1/{mount}/key-{key}"),
                body: Some(self.write_body.clone()),
            },
            Workload::TransitEncrypt => Call {
                method: Method::POST,
                path: format!("/v1/{mount}/encrypt/{TRANSIT_KEY_NAME}"),
                body: Some(self.write_body.clone()),
            },
        }
    }

    /// The write that fills key `index` before a read workload.
    fn prefill_call(&self, index: u64) -> Call {
        let write = match self.workload {
            Workload::Kv2Read => Workload::Kv2Write,
            Workload::Kv1Read => Workload::Kv1Write,
            other => other,
        };
        Plan {
            workload: write,
            ..self.clone()
        }
        .call(index)
    }
}

/// Prepares the server: enables the mount (an existing mount is fine), then
/// - read workloads: writes every key once, so reads find data (unless `prefill` is false:
///   then only the probe read checks that the data is there);
/// - write workloads: one probe write (waits out OpenBao's KV v2 upgrade after mounting);
/// - transit: creates the key and does one probe encryption.
///
/// `Err` says which step failed and quotes the server's answer.
pub async fn setup(
    plan: &Plan,
    target: &Target,
    conn: &mut Conn,
    prefill: bool,
) -> Result<(), String> {
    let mount_path = format!("/v1/sys/mounts/{}", plan.mount);
    let body = Bytes::from_static(plan.workload.mount_body().as_bytes());
    let response = conn
        .send(target, Method::POST, &mount_path, Some(body))
        .await?;
    if !response.is_success() && !response.body_text().contains("already in use") {
        return Err(format!(
            "enable mount: POST {mount_path}: {}",
            describe(&response)
        ));
    }

    let probe = match plan.workload {
        Workload::TransitEncrypt => {
            let key_path = format!("/v1/{}/keys/{TRANSIT_KEY_NAME}", plan.mount);
            let create = Call {
                method: Method::POST,
                path: key_path,
                body: Some(Bytes::from_static(b"{}")),
            };
            retry_until_success(target, conn, "create transit key", &create).await?;
            retry_until_success(target, conn, "probe request", &plan.call(0)).await?
        }
        Workload::Kv2Write | Workload::Kv1Write => {
            retry_until_success(target, conn, "probe request", &plan.call(0)).await?
        }
        Workload::Kv2Read | Workload::Kv1Read if !prefill => {
            retry_until_success(target, conn, "probe read", &plan.call(0)).await?
        }
        Workload::Kv2Read | Workload::Kv1Read => {
            retry_until_success(target, conn, "prefill key 0", &plan.prefill_call(0)).await?;
            for index in 1..plan.keys {
                let call = plan.prefill_call(index);
                let response = conn
                    .send(target, call.method, &call.path, call.body)
                    .await?;
                if !response.is_success() {
                    return Err(format!("prefill: {}: {}", call.path, describe(&response)));
                }
            }
            retry_until_success(target, conn, "probe read", &plan.call(0)).await?
        }
    };
    check_probe(plan.workload, &probe)
        .map_err(|error| format!("probe {}: {error}: {}", plan.call(0).path, describe(&probe)))
}

/// Checks the shape of a 2xx answer, so a workload never measures the wrong engine: a KV v1
/// mount also answers 2xx to `<mount>/data/<key>` (it is just a key with a slash).
fn check_probe(workload: Workload, response: &Response) -> Result<(), String> {
    let json = || -> Result<serde_json::Value, String> {
        serde_json::from_slice(&response.body)
            .map_err(|error| format!("answer is not JSON ({error})"))
    };
    match workload {
        Workload::Kv2Read if !json()?["data"]["metadata"].is_object() => {
            Err("no data.metadata: not a KV v2 mount".into())
        }
        Workload::Kv2Write if json()?["data"]["version"].is_null() => {
            Err("no data.version: not a KV v2 mount".into())
        }
        Workload::Kv1Read if !json()?["data"]["value"].is_string() => {
            Err("no data.value: not a KV v1 mount".into())
        }
        Workload::TransitEncrypt
            if !json()?["data"]["ciphertext"]
                .as_str()
                .is_some_and(|text| text.starts_with("vault:v")) =>
        {
            Err("no data.ciphertext of the form vault:v…".into())
        }
        _ => Ok(()),
    }
}

/// Sends `call` until it answers 2xx, at most `SETUP_ATTEMPTS_MAX` times within
/// `SETUP_DEADLINE_MS`, and returns that answer.
async fn retry_until_success(
    target: &Target,
    conn: &mut Conn,
    what: &str,
    call: &Call,
) -> Result<Response, String> {
    let deadline = Instant::now() + Duration::from_millis(SETUP_DEADLINE_MS);
    let mut last = String::new();
    for _attempt in 0..SETUP_ATTEMPTS_MAX {
        let response = conn
            .send(target, call.method.clone(), &call.path, call.body.clone())
            .await?;
        if response.is_success() {
            return Ok(response);
        }
        last = describe(&response);
        // Permission, path and method refusals do not change by waiting.
        if matches!(response.status, 403..=405) || Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(SETUP_RETRY_PAUSE_MS)).await;
    }
    Err(format!("{what}: {} {}: {last}", call.method, call.path))
}

/// `HTTP <status>: <body, cut>` for error messages.
pub fn describe(response: &Response) -> String {
    format!("HTTP {}: {}", response.status, cut(&response.body_text()))
}

/// Cuts text to `ERROR_BODY_BYTES_MAX` on a character boundary.
pub fn cut(text: &str) -> String {
    let text = text.trim();
    if text.len() <= ERROR_BODY_BYTES_MAX {
        return text.to_string();
    }
    let mut end = ERROR_BODY_BYTES_MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_cycle_over_keys_with_vault_paths() {
        let plan = Plan::new(Workload::Kv2Read, "secret", 3, 4);
        assert_eq!(plan.call(4).path, "/v1/secret/data/key-1");
        assert_eq!(plan.prefill_call(2).method, Method::POST);
        assert_eq!(
            plan.prefill_call(2).body.expect("body").as_ref(),
            br#"{"data":{"value":"xxxx"}}"#
        );
        let plan = Plan::new(Workload::TransitEncrypt, "transit", 1, 3);
        assert_eq!(plan.call(7).path, "/v1/transit/encrypt/loadgen");
        assert_eq!(
            plan.call(0).body.expect("body").as_ref(),
            br#"{"plaintext":"eHh4"}"#
        );
        let plan = Plan::new(Workload::Kv1Write, "kv", 10, 1);
        assert_eq!(plan.call(12).path, "/v1/kv/key-2");
    }

    #[test]
    fn cut_keeps_char_boundaries() {
        let long = "é".repeat(ERROR_BODY_BYTES_MAX);
        assert!(cut(&long).len() <= ERROR_BODY_BYTES_MAX + "…".len());
    }
}
