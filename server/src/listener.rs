//! TCP listeners, plain or TLS (rustls with the ring provider only).

use crate::config::ListenerConfig;
use axum::Router;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub struct BoundListener {
    listener: std::net::TcpListener,
    tls: Option<axum_server::tls_rustls::RustlsConfig>,
}

pub async fn bind(config: &ListenerConfig) -> Result<BoundListener, String> {
    let listener = std::net::TcpListener::bind(&config.address).map_err(|error| {
        format!(
            "Error initializing listener of type tcp: listen tcp {}: {error}",
            config.address
        )
    })?;
    listener
        .set_nonblocking(true)
        .map_err(|error| error.to_string())?;
    let tls = match config.tls_disable {
        true => None,
        false => Some(tls_config(config)?),
    };
    Ok(BoundListener { listener, tls })
}

fn tls_config(config: &ListenerConfig) -> Result<axum_server::tls_rustls::RustlsConfig, String> {
    let (Some(cert_file), Some(key_file)) = (&config.tls_cert_file, &config.tls_key_file) else {
        return Err("Error initializing listener of type tcp: 'tls_cert_file' and 'tls_key_file' must be set unless tls_disable is true".to_string());
    };
    let cert_pem = std::fs::read(cert_file)
        .map_err(|error| format!("error loading TLS cert {}: {error}", cert_file.display()))?;
    let key_pem = std::fs::read(key_file)
        .map_err(|error| format!("error loading TLS key {}: {error}", key_file.display()))?;
    let certificates = rustls_pemfile::certs(&mut cert_pem.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| format!("error parsing TLS cert: {error}"))?;
    let key = rustls_pemfile::private_key(&mut key_pem.as_slice())
        .map_err(|error| format!("error parsing TLS key: {error}"))?
        .ok_or("no private key found in tls_key_file")?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut server_config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| error.to_string())?
        .with_no_client_auth()
        .with_single_cert(certificates, key)
        .map_err(|error| format!("error loading TLS key pair: {error}"))?;
    server_config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(axum_server::tls_rustls::RustlsConfig::from_config(
        Arc::new(server_config),
    ))
}

impl BoundListener {
    /// Serves until the task is aborted. The accept loop is meant to run forever.
    pub fn serve(
        self,
        app: Router,
    ) -> Pin<Box<dyn Future<Output = Result<(), std::io::Error>> + Send>> {
        Box::pin(async move {
            match self.tls {
                None => {
                    let listener = tokio::net::TcpListener::from_std(self.listener)?;
                    axum::serve(listener, app).await
                }
                Some(tls) => {
                    axum_server::from_tcp_rustls(self.listener, tls)?
                        .serve(app.into_make_service())
                        .await
                }
            }
        })
    }
}
