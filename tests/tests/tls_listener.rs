//! The listener serves TLS from `tls_cert_file`/`tls_key_file` (rustls, ring), and the CLI
//! trusts a private CA through `VAULT_CACERT`.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tresor_tests::{free_port, tresor_binary};

/// A private CA and a leaf for 127.0.0.1, as PEM (CA cert, leaf cert, leaf key).
fn private_ca() -> (String, String, String) {
    let ca_key = rcgen::KeyPair::generate().expect("ca key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("ca params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "tresor test CA");
    let ca_cert = ca_params.self_signed(&ca_key).expect("ca cert");
    let issuer = rcgen::Issuer::from_params(&ca_params, &ca_key);
    let leaf_key = rcgen::KeyPair::generate().expect("leaf key");
    let mut leaf_params =
        rcgen::CertificateParams::new(vec!["localhost".to_string()]).expect("leaf params");
    leaf_params
        .subject_alt_names
        .push(rcgen::SanType::IpAddress(std::net::IpAddr::from([
            127, 0, 0, 1,
        ])));
    let leaf_cert = leaf_params
        .signed_by(&leaf_key, &issuer)
        .expect("leaf cert");
    (ca_cert.pem(), leaf_cert.pem(), leaf_key.serialize_pem())
}

#[tokio::test]
async fn tls_listener_serves_the_api_and_the_cli_trusts_vault_cacert() {
    // Goal: CFG-01 TLS and the CLI's VAULT_CACERT. Method: start a node with a leaf signed by
    // a private CA, call sys/health over https with that CA, run `tresor status` with it.
    let dir = tempfile::tempdir().expect("temp dir");
    let (ca_pem, cert_pem, key_pem) = private_ca();
    let ca_path = dir.path().join("ca.pem");
    std::fs::write(&ca_path, &ca_pem).expect("ca");
    std::fs::write(dir.path().join("tls.crt"), &cert_pem).expect("cert");
    std::fs::write(dir.path().join("tls.key"), &key_pem).expect("key");
    let port = free_port();
    let config = format!(
        "storage \"raft\" {{\n  path = \"{data}\"\n  node_id = \"tls1\"\n}}\nlistener \"tcp\" {{\n  address = \"127.0.0.1:{port}\"\n  cluster_address = \"127.0.0.1:{cluster}\"\n  tls_cert_file = \"{dir}/tls.crt\"\n  tls_key_file = \"{dir}/tls.key\"\n}}\napi_addr = \"https://127.0.0.1:{port}\"\ncluster_addr = \"https://127.0.0.1:{cluster}\"\ndisable_mlock = true\n",
        data = dir.path().join("data").display(),
        dir = dir.path().display(),
        cluster = free_port(),
    );
    let config_path = dir.path().join("config.hcl");
    std::fs::write(&config_path, config).expect("config");
    let log = std::fs::File::create(dir.path().join("server.log")).expect("log");
    let mut child = Command::new(tresor_binary())
        .arg("server")
        .arg(format!("-config={}", config_path.display()))
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .expect("start tresor");

    let _ = rustls::crypto::ring::default_provider().install_default();
    let ca = reqwest::Certificate::from_pem(ca_pem.as_bytes()).expect("ca certificate");
    let client = reqwest::Client::builder()
        .add_root_certificate(ca)
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    let url = format!("https://127.0.0.1:{port}/v1/sys/health");
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut status = None;
    while Instant::now() < deadline {
        if let Ok(response) = client.get(&url).send().await {
            status = Some(response.status().as_u16());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        status,
        Some(501),
        "uninitialised node answers over TLS; log: {}",
        std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default()
    );

    let plain = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/v1/sys/health"))
        .send()
        .await;
    assert!(
        plain
            .map(|response| response.status().as_u16() != 501)
            .unwrap_or(true),
        "plain HTTP is not served on a TLS listener"
    );

    let cli = Command::new(tresor_binary())
        .arg("status")
        .env("VAULT_ADDR", format!("https://127.0.0.1:{port}"))
        .env("VAULT_CACERT", &ca_path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("run tresor status");
    let stdout = String::from_utf8_lossy(&cli.stdout);
    assert_eq!(
        cli.status.code(),
        Some(2),
        "sealed/uninitialised exits 2; stdout: {stdout} stderr: {}",
        String::from_utf8_lossy(&cli.stderr)
    );
    assert!(stdout.contains("Initialized        false"), "{stdout}");

    let untrusted = Command::new(tresor_binary())
        .arg("status")
        .env("VAULT_ADDR", format!("https://127.0.0.1:{port}"))
        .env_remove("VAULT_CACERT")
        .output()
        .expect("run tresor status");
    assert_eq!(
        untrusted.status.code(),
        Some(1),
        "an unknown CA is an error, not a silent downgrade"
    );
    let _ = child.kill();
    let _ = child.wait();
}
