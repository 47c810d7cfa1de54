//! One keep-alive HTTP/1.1 connection, owned by one worker.
//!
//! The runner uses hyper's connection API rather than a pooled client so that the number of
//! open connections is exactly the concurrency: a pool may open extra connections when a
//! response is returned to it late, which would change what is measured.

use super::limits::{CONNECT_TIMEOUT_MS, REQUEST_TIMEOUT_MS};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{CONTENT_TYPE, HOST};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

/// Where requests go and with which token.
#[derive(Debug, Clone)]
pub struct Target {
    pub authority: String,
    pub token: String,
}

/// A complete response: status and the whole body (the body is always read to its end, so
/// the connection can be reused and the latency includes the transfer).
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub body: Bytes,
}

impl Response {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// An open connection. Dropping it aborts the task that drives the socket.
pub struct Conn {
    sender: SendRequest<Full<Bytes>>,
    driver: JoinHandle<()>,
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

impl Conn {
    /// TCP connect (no Nagle) and HTTP/1.1 handshake, within `CONNECT_TIMEOUT_MS`.
    pub async fn open(target: &Target) -> Result<Conn, String> {
        let connect = async {
            let stream = TcpStream::connect(&target.authority)
                .await
                .map_err(|error| format!("connect {}: {error}", target.authority))?;
            stream
                .set_nodelay(true)
                .map_err(|error| format!("set TCP_NODELAY: {error}"))?;
            hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .map_err(|error| format!("HTTP/1.1 handshake: {error}"))
        };
        let (sender, connection) =
            tokio::time::timeout(Duration::from_millis(CONNECT_TIMEOUT_MS), connect)
                .await
                .map_err(|_| format!("connect {}: timed out", target.authority))??;
        // The driver ends when the connection closes; `Drop` aborts it otherwise.
        let driver = tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(Conn { sender, driver })
    }

    /// Sends one request and reads the whole response, within `REQUEST_TIMEOUT_MS`.
    /// `Err` is a transport failure: the caller should drop this connection.
    pub async fn send(
        &mut self,
        target: &Target,
        method: Method,
        path: &str,
        body: Option<Bytes>,
    ) -> Result<Response, String> {
        let mut builder = Request::builder()
            .method(method)
            .uri(path)
            .header(HOST, target.authority.as_str())
            .header("x-vault-token", target.token.as_str());
        if body.is_some() {
            builder = builder.header(CONTENT_TYPE, "application/json");
        }
        let request = builder
            .body(Full::new(body.unwrap_or_default()))
            .map_err(|error| format!("build request for {path}: {error}"))?;
        let exchange = async {
            self.sender
                .ready()
                .await
                .map_err(|error| format!("connection not ready: {error}"))?;
            let response = self
                .sender
                .send_request(request)
                .await
                .map_err(|error| format!("send: {error}"))?;
            let status = response.status().as_u16();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|error| format!("read body: {error}"))?
                .to_bytes();
            Ok(Response { status, body })
        };
        tokio::time::timeout(Duration::from_millis(REQUEST_TIMEOUT_MS), exchange)
            .await
            .map_err(|_| {
                format!("request {path}: no complete response in {REQUEST_TIMEOUT_MS} ms")
            })?
    }
}
