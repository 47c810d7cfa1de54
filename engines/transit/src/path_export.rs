//! `export/:type/:name(/:version)` (Vault's `path_export.go`).

use crate::error::{OpError, TransitError, refused};
use crate::gobase64;
use crate::input::{check_name, data_reply};
use crate::key_type::KeyType;
use crate::policy::{KeyEntry, Policy, go_atoi};
use crate::store::Transit;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::sync::Arc;
use tresor_framework::{Error, Input, Path, Reply};

pub fn paths() -> Vec<Path<Transit>> {
    vec![
        Path::new("export/{type}/{name}/{version}")
            .read(export)
            .help("Export named encryption or signing key"),
        Path::new("export/{type}/{name}")
            .read(export)
            .help("Export named encryption or signing key"),
    ]
}

#[derive(Deserialize)]
struct Export {
    #[serde(rename = "type")]
    export_type: String,
    name: String,
    #[serde(default)]
    version: String,
}

#[derive(Clone, Copy, PartialEq)]
enum ExportType {
    Encryption,
    Signing,
    Hmac,
    Public,
}

async fn export(transit: Arc<Transit>, input: Input<Export>) -> Result<Reply, Error> {
    let fields = input.fields;
    check_name(&fields.name)?;
    let export_type = match fields.export_type.as_str() {
        "encryption-key" => ExportType::Encryption,
        "signing-key" => ExportType::Signing,
        "hmac-key" => ExportType::Hmac,
        "public-key" => ExportType::Public,
        other => return Err(refused(format!("invalid export type: {other}")).into()),
    };
    let Some(policy) = transit.policy(&fields.name).await? else {
        return Err(Error::not_found());
    };
    if !policy.exportable && export_type != ExportType::Public {
        return Err(refused("private key material is not exportable").into());
    }
    match export_type {
        ExportType::Encryption if !policy.key_type.encryption_supported() => {
            return Err(refused("encryption not supported for the key").into());
        }
        ExportType::Signing if !policy.key_type.signing_supported() => {
            return Err(refused("signing not supported for the key").into());
        }
        ExportType::Public if !policy.key_type.signing_supported() => {
            return Err(refused("public-key not supported for the key").into());
        }
        _ => {}
    }
    let mut keys = Map::new();
    if fields.version.is_empty() {
        for (version, entry) in visible(&policy) {
            keys.insert(
                version.clone(),
                json!(export_key(&policy, entry, export_type)?),
            );
        }
    } else {
        let version = match fields.version.as_str() {
            "latest" => policy.latest_version,
            text => go_atoi(text.strip_prefix('v').unwrap_or(text))
                .ok_or_else(|| refused("invalid key version"))?,
        };
        if version < policy.min_decryption_version {
            return Err(refused("version for export is below minimum decryption version").into());
        }
        let Some(entry) = policy.keys.get(&version.to_string()) else {
            return Err(refused("version does not exist or cannot be found").into());
        };
        keys.insert(
            version.to_string(),
            json!(export_key(&policy, entry, export_type)?),
        );
    }
    Ok(data_reply(
        json!({"name": policy.name, "type": policy.key_type.name(), "keys": Value::Object(keys)}),
        Vec::new(),
    ))
}

fn visible(policy: &Policy) -> impl Iterator<Item = (&String, &KeyEntry)> {
    policy
        .keys
        .iter()
        .filter(|(version, _)| version.parse::<i64>().unwrap_or(0) >= policy.min_decryption_version)
}

/// `getExportKey`.
fn export_key(policy: &Policy, entry: &KeyEntry, export_type: ExportType) -> Result<String, Error> {
    let internal = |error: OpError| Error::from(TransitError::Failed(error.message().to_string()));
    let key_type = policy.key_type;
    match export_type {
        ExportType::Hmac => {
            let bytes = match key_type {
                KeyType::Hmac => entry.key.as_deref(),
                _ => entry.hmac_key.as_deref(),
            };
            Ok(gobase64::encode(bytes.unwrap_or_default()))
        }
        ExportType::Encryption | ExportType::Signing => {
            policy.private_key_text(entry).map_err(internal)
        }
        // Vault trims the ECDSA (and Ed25519) text but not the RSA PEM.
        ExportType::Public => {
            let text = policy.public_key_text(entry).map_err(internal)?;
            Ok(match key_type.is_rsa() {
                true => text,
                false => text.trim_end().to_string(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{Harness, Outcome};
    use serde_json::json;
    use tresor_framework::Operation::{Read, Update};

    #[tokio::test]
    async fn export_checks_flags_and_versions() {
        let transit = Harness::new();
        transit
            .check(Update, "keys/locked", json!({}), Outcome::Any)
            .await;
        transit
            .check(
                Update,
                "keys/open",
                json!({"exportable": true}),
                Outcome::Any,
            )
            .await;
        transit
            .check(
                Update,
                "keys/ec",
                json!({"type": "ecdsa-p256"}),
                Outcome::Any,
            )
            .await;
        let rows = vec![
            (
                "export/encryption-key/locked",
                Outcome::error(400, "private key material is not exportable"),
            ),
            (
                "export/bad/open",
                Outcome::error(400, "invalid export type: bad"),
            ),
            (
                "export/signing-key/open",
                Outcome::error(400, "signing not supported for the key"),
            ),
            (
                "export/encryption-key/open/v2",
                Outcome::error(400, "version does not exist or cannot be found"),
            ),
            (
                "export/encryption-key/open/x",
                Outcome::error(400, "invalid key version"),
            ),
            ("export/encryption-key/nope", Outcome::NotFound),
        ];
        for (path, expected) in rows {
            transit.check(Read, path, json!({}), expected).await;
        }
        let data = Harness::data(
            transit
                .call(Read, "export/encryption-key/open/latest", json!({}))
                .await,
        );
        assert_eq!(
            crate::gobase64::decode(data["keys"]["1"].as_str().expect("key"))
                .expect("b64")
                .len(),
            32
        );
        let data = Harness::data(transit.call(Read, "export/public-key/ec", json!({})).await);
        assert!(
            data["keys"]["1"]
                .as_str()
                .expect("pem")
                .starts_with("-----BEGIN PUBLIC KEY-----")
        );
    }

    #[tokio::test]
    async fn p521_reads_and_exports_in_gos_pem_shapes() {
        // Goal: an ecdsa-p521 key reads and exports as Vault shows it (PKIX `PUBLIC KEY` with
        // Go's final newline in a read, trimmed in an export; SEC 1 `EC PRIVATE KEY` with the
        // 66-byte scalar and named curve) and its signatures verify under the exported key.
        // Method: decode both PEMs with the p521 crate, compare the halves, and verify a
        // prehashed jws signature with the decoded public key directly.
        use p521::ecdsa::signature::hazmat::PrehashVerifier;
        use p521::pkcs8::DecodePublicKey;
        use sha2::Digest;
        let transit = Harness::new();
        let body = json!({"type": "ecdsa-p521", "exportable": true});
        transit.check(Update, "keys/p5", body, Outcome::Any).await;
        let read = Harness::data(transit.call(Read, "keys/p5", json!({})).await);
        assert_eq!(read["keys"]["1"]["name"], "P-521");
        assert_eq!(read["supports_signing"], true);
        let public_pem = read["keys"]["1"]["public_key"].as_str().expect("pem");
        assert!(
            public_pem
                .starts_with("-----BEGIN PUBLIC KEY-----\nMIGbMBAGByqGSM49AgEGBSuBBAAjA4GGAAQ")
        );
        assert!(public_pem.ends_with("\n-----END PUBLIC KEY-----\n"));
        let public = p521::PublicKey::from_public_key_pem(public_pem).expect("PKIX");
        let exported = transit
            .call(Read, "export/public-key/p5/1", json!({}))
            .await;
        assert_eq!(Harness::data(exported)["keys"]["1"], public_pem.trim_end());
        let exported = transit
            .call(Read, "export/signing-key/p5/latest", json!({}))
            .await;
        let private_pem = Harness::data(exported)["keys"]["1"]
            .as_str()
            .expect("pem")
            .to_string();
        assert!(private_pem.starts_with("-----BEGIN EC PRIVATE KEY-----\nMIHcAgEBBEI"));
        assert!(private_pem.ends_with("\n-----END EC PRIVATE KEY-----"));
        let secret = p521::SecretKey::from_sec1_pem(&private_pem).expect("SEC 1");
        assert_eq!(secret.public_key(), public);
        let digest = sha2::Sha512::digest(b"hello");
        let body = json!({
            "input": crate::gobase64::encode(&digest),
            "prehashed": true,
            "hash_algorithm": "sha2-512",
            "marshaling_algorithm": "jws",
        });
        let signature = transit.field(Update, "sign/p5", body, "signature").await;
        let raw =
            crate::gobase64::decode_url_raw(signature.strip_prefix("vault:v1:").expect("prefix"))
                .expect("base64url");
        assert_eq!(raw.len(), 2 * 66);
        let signature = p521::ecdsa::Signature::from_slice(&raw).expect("r || s");
        let verifying = p521::ecdsa::VerifyingKey::from_affine(*public.as_affine()).expect("point");
        verifying
            .verify_prehash(&digest, &signature)
            .expect("the exported key verifies Tresor's signature");
    }
}
