//! Joining a cluster: Vault's bootstrap challenge, adapted to the Tresor barrier.
//!
//! 1. The joining node (sealed, uninitialised) asks the leader's API for a challenge
//!    (`POST sys/storage/raft/bootstrap/challenge {server_id}`). The leader draws 32 random
//!    bytes, remembers them for this server id (bounded, expiring), and answers with them
//!    encrypted by its barrier (active term key, AAD `core/raft/challenge/<server_id>`),
//!    plus the seal configuration and the two physical records needed to open a barrier:
//!    the protected root key (under the unseal key) and the keyring (under the root key).
//!    All three are ciphertext that every member already stores.
//! 2. The node reports `joined: true` and stays sealed. The operator unseals it with the
//!    cluster's key shares. The combined unseal key opens the protected root key, the root
//!    key opens the keyring in a throw-away barrier, and that barrier decrypts the
//!    challenge. Without threshold shares of the cluster's unseal key none of this opens.
//! 3. The node answers (`POST sys/storage/raft/bootstrap/answer {server_id, answer,
//!    cluster_addr}`). The leader checks the answer (single use), adds the node to raft as a
//!    learner and returns the cluster CA as stored behind its barrier (ciphertext under the
//!    term key); the node decrypts it, issues itself a node certificate and arms its cluster
//!    port. Raft catches it up (by snapshot when far behind); the leader's HA loop promotes
//!    it to voter once it is close to the log's end.
//! 4. Once the seal configuration and protected root key have arrived through raft, the
//!    ordinary unseal continues with the same unseal key.

use super::limits::{
    JOIN_ADD_LEARNER_PAUSE_MS, JOIN_ADD_LEARNER_RETRY_MS, JOIN_ANSWER_ATTEMPTS_MAX,
    JOIN_CATCH_UP_MS, JOIN_CHALLENGE_TTL_MS, JOIN_CHALLENGES_MAX, JOIN_REQUEST_TIMEOUT_MS,
    RETRY_JOIN_INTERVAL_MS,
};
use super::tls::{CLUSTER_TLS_PATH, ClusterCa};
use super::{Cluster, host_port_of};
use crate::core::{BARRIER_UNSEAL_KEYS_PATH, Core, SEAL_CONFIG_PATH};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tresor_framework::Error;
use tresor_seal::{Barrier, KEYRING_PATH, SealConfig, UnsealKey};
use tresor_storage::{MemoryStorage, Storage, StorageError};
use zeroize::Zeroizing;

const CHALLENGE_BYTES: usize = 32;

fn challenge_path(server_id: &str) -> String {
    format!("core/raft/challenge/{server_id}")
}

/// Leader side: a challenge handed out.
struct PendingChallenge {
    plaintext: Zeroizing<Vec<u8>>,
    issued: Instant,
}

/// Leader side: the unanswered challenges, by server id, at most [`JOIN_CHALLENGES_MAX`].
/// Issuing into a full table evicts the oldest challenge; a new challenge for a server id
/// replaces its old one; a challenge is answerable once, within [`JOIN_CHALLENGE_TTL_MS`].
#[derive(Default)]
pub struct ChallengeTable {
    pending: HashMap<String, PendingChallenge>,
}

impl ChallengeTable {
    /// Keeps `plaintext` as the challenge of `server_id`; returns the server id whose
    /// challenge was evicted to make room, if any.
    fn issue(
        &mut self,
        server_id: &str,
        plaintext: Zeroizing<Vec<u8>>,
        now: Instant,
    ) -> Option<String> {
        let ttl = Duration::from_millis(JOIN_CHALLENGE_TTL_MS);
        self.pending
            .retain(|_, pending| now.saturating_duration_since(pending.issued) < ttl);
        let mut evicted = None;
        if self.pending.len() >= JOIN_CHALLENGES_MAX && !self.pending.contains_key(server_id) {
            let oldest = self
                .pending
                .iter()
                .min_by_key(|(_, pending)| pending.issued)
                .map(|(id, _)| id.clone());
            if let Some(oldest) = oldest {
                self.pending.remove(&oldest);
                evicted = Some(oldest);
            }
        }
        self.pending.insert(
            server_id.to_string(),
            PendingChallenge {
                plaintext,
                issued: now,
            },
        );
        assert!(
            self.pending.len() <= JOIN_CHALLENGES_MAX,
            "challenge table over its bound"
        );
        evicted
    }

    /// Removes and returns the challenge of `server_id` if it is still answerable.
    fn take(&mut self, server_id: &str, now: Instant) -> Option<Zeroizing<Vec<u8>>> {
        let pending = self.pending.remove(server_id)?;
        let ttl = Duration::from_millis(JOIN_CHALLENGE_TTL_MS);
        (now.saturating_duration_since(pending.issued) < ttl).then_some(pending.plaintext)
    }
}

/// Joining side: what the leader sent, kept until the unseal keys arrive.
pub struct PendingJoin {
    leader_api_addr: String,
    leader_ca_cert: Option<String>,
    challenge: ChallengeReply,
    seal_config: SealConfig,
}

/// The leader's answer to a challenge request (our wire format, RFT-09).
#[derive(Clone, Serialize, Deserialize)]
pub struct ChallengeReply {
    pub challenge: String,
    pub seal_config: serde_json::Value,
    pub protected_root_key: String,
    pub keyring: String,
}

/// The leader's answer to a correct challenge answer.
#[derive(Serialize, Deserialize)]
pub struct AnswerReply {
    pub cluster_tls: String,
    pub committed_index: u64,
}

fn not_active() -> Error {
    Error::invalid("this node is not the active node of its cluster")
}

/// Leader side of step 1.
pub async fn issue_challenge(core: &Arc<Core>, server_id: &str) -> Result<ChallengeReply, Error> {
    check_server_id(server_id)?;
    core.require_unsealed()?;
    if !core.raft().status().is_leader {
        return Err(not_active());
    }
    let cluster = core.cluster().ok_or_else(not_active)?;
    let mut plaintext = Zeroizing::new(vec![0u8; CHALLENGE_BYTES]);
    rand::rngs::OsRng.fill_bytes(&mut plaintext);
    let challenge = core
        .barrier()
        .encrypt_value(&challenge_path(server_id), &plaintext)
        .map_err(crate::core::seal_error)?;
    let physical = |path: &'static str| async move {
        core.raft()
            .get(path)
            .await?
            .ok_or_else(|| Error::internal(format!("{path} is missing")))
    };
    let protected_root_key = physical(BARRIER_UNSEAL_KEYS_PATH).await?;
    let keyring = physical(KEYRING_PATH).await?;
    let seal_config: serde_json::Value = serde_json::from_slice(&physical(SEAL_CONFIG_PATH).await?)
        .map_err(|_| Error::internal("corrupt seal configuration"))?;
    let evicted = cluster
        .challenges
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .issue(server_id, plaintext, Instant::now());
    if let Some(evicted) = evicted {
        tracing::warn!(
            server_id,
            evicted,
            "too many unanswered join challenges; the oldest was dropped"
        );
    }
    Ok(ChallengeReply {
        challenge: BASE64.encode(challenge),
        seal_config,
        protected_root_key: BASE64.encode(protected_root_key),
        keyring: BASE64.encode(keyring),
    })
}

/// Leader side of step 3: a correct answer makes the node a learner and returns the
/// barrier-encrypted cluster CA.
pub async fn accept_answer(
    core: &Arc<Core>,
    server_id: &str,
    answer_base64: &str,
    cluster_addr: &str,
) -> Result<AnswerReply, Error> {
    check_server_id(server_id)?;
    core.require_unsealed()?;
    if !core.raft().status().is_leader {
        return Err(not_active());
    }
    let cluster = core.cluster().ok_or_else(not_active)?;
    let answer = Zeroizing::new(
        BASE64
            .decode(answer_base64)
            .map_err(|_| Error::invalid("invalid answer"))?,
    );
    let expected = cluster
        .challenges
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take(server_id, Instant::now());
    let Some(expected) = expected else {
        return Err(Error::invalid("no challenge pending for this server id"));
    };
    if !constant_time_eq(&expected, &answer) {
        tracing::warn!(
            server_id,
            "rejected a join: wrong or expired challenge answer"
        );
        return Err(Error::invalid("invalid answer to the bootstrap challenge"));
    }
    if !cluster_addr.starts_with("https://") || host_port_of(cluster_addr).is_empty() {
        return Err(Error::invalid("cluster_addr must be https://host:port"));
    }
    // Make sure the CA exists before handing it out (a cluster older than the CA).
    cluster.load_ca(core).await?;
    let cluster_tls = core
        .raft()
        .get(CLUSTER_TLS_PATH)
        .await?
        .ok_or_else(|| Error::internal("the cluster CA is missing"))?;
    let node_id = crate::server::node_id_number(server_id);
    // The HA loop promotes caught-up learners through a joint-consensus membership change;
    // while that is uncommitted openraft refuses another change (`InProgress`). Nodes that
    // join one after the other hit that window, and failing here would spend their
    // single-use challenge (the unseal answered 500), so retry for a bounded time.
    let retry_until = Instant::now() + Duration::from_millis(JOIN_ADD_LEARNER_RETRY_MS);
    loop {
        match core
            .raft()
            .add_learner(node_id, server_id, cluster_addr)
            .await
        {
            Ok(()) => break,
            Err(StorageError::Refused(reason)) if Instant::now() < retry_until => {
                tracing::debug!(server_id, %reason, "membership change in progress; retrying");
                tokio::time::sleep(Duration::from_millis(JOIN_ADD_LEARNER_PAUSE_MS)).await;
            }
            Err(error) => return Err(error.into()),
        }
    }
    tracing::info!(server_id, cluster_addr, "node joined as learner");
    Ok(AnswerReply {
        cluster_tls: BASE64.encode(cluster_tls),
        committed_index: core.raft().status().committed_index,
    })
}

fn check_server_id(server_id: &str) -> Result<(), Error> {
    let valid = !server_id.is_empty()
        && server_id.len() <= 128
        && server_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    match valid {
        true => Ok(()),
        false => Err(Error::invalid("invalid server id")),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A client for the leader's API (plain HTTP, or HTTPS trusting `leader_ca_cert`).
fn leader_client(leader_ca_cert: Option<&str>) -> Result<reqwest::Client, Error> {
    let mut builder = reqwest::Client::builder()
        .timeout(Duration::from_millis(JOIN_REQUEST_TIMEOUT_MS))
        .redirect(reqwest::redirect::Policy::none());
    if let Some(pem) = leader_ca_cert.filter(|pem| !pem.trim().is_empty()) {
        let roots = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
            .map_err(|e| Error::invalid(format!("invalid leader_ca_cert: {e}")))?;
        builder = builder.tls_certs_only(roots);
    }
    builder
        .build()
        .map_err(|e| Error::internal(format!("join client: {e}")))
}

async fn post_leader<T: serde::de::DeserializeOwned>(
    client: &reqwest::Client,
    leader_api_addr: &str,
    path: &str,
    body: serde_json::Value,
) -> Result<T, Error> {
    let url = format!("{}/v1/{path}", leader_api_addr.trim_end_matches('/'));
    let response = client
        .post(&url)
        .json(&body)
        .send()
        .await
        .map_err(|e| Error::invalid(format!("error during raft bootstrap init call: {e}")))?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    if !status.is_success() {
        return Err(Error::invalid(format!(
            "error during raft bootstrap call to {url}: {status}: {text}"
        )));
    }
    serde_json::from_str(&text).map_err(|e| Error::invalid(format!("bad reply from {url}: {e}")))
}

/// Joining side, step 1 (`sys/storage/raft/join`). Already initialised: nothing to do.
pub async fn request_join(
    core: &Arc<Core>,
    leader_api_addr: &str,
    leader_ca_cert: Option<&str>,
) -> Result<(), Error> {
    if core.raft().is_initialized() || core.stored_seal_config().await?.is_some() {
        return Ok(());
    }
    let cluster = core
        .cluster()
        .ok_or_else(|| Error::internal("HA is not enabled"))?;
    let client = leader_client(leader_ca_cert)?;
    let challenge: ChallengeReply = post_leader(
        &client,
        leader_api_addr,
        "sys/storage/raft/bootstrap/challenge",
        serde_json::json!({ "server_id": core.raft().node_name() }),
    )
    .await?;
    let seal_config: SealConfig = serde_json::from_value(challenge.seal_config.clone())
        .map_err(|_| Error::invalid("the leader sent an invalid seal configuration"))?;
    *cluster
        .pending_join
        .lock()
        .unwrap_or_else(|p| p.into_inner()) = Some(PendingJoin {
        leader_api_addr: leader_api_addr.to_string(),
        leader_ca_cert: leader_ca_cert.map(str::to_string),
        challenge,
        seal_config,
    });
    tracing::info!(
        leader_api_addr,
        "join challenge received; unseal this node with the cluster's keys"
    );
    Ok(())
}

impl Cluster {
    /// The seal configuration of the cluster this node is joining, if it is.
    pub fn pending_join_seal_config(&self) -> Option<SealConfig> {
        let pending = self.pending_join.lock().unwrap_or_else(|p| p.into_inner());
        pending.as_ref().map(|pending| pending.seal_config.clone())
    }
}

/// Joining side, steps 2–4: called by the unseal path with the combined unseal key of a node
/// that has a pending join. Returns once the seal state has arrived through raft.
pub async fn complete_join(core: &Core, unseal_key: &UnsealKey) -> Result<(), Error> {
    let cluster = core
        .cluster()
        .ok_or_else(|| Error::internal("HA is not enabled"))?;
    let Some(pending) = cluster
        .pending_join
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .as_ref()
        .map(|pending| {
            (
                pending.leader_api_addr.clone(),
                pending.leader_ca_cert.clone(),
                pending.challenge.clone(),
            )
        })
    else {
        return Err(Error::invalid("Vault is not initialized"));
    };
    let (leader_api_addr, leader_ca_cert, challenge) = pending;
    let leader = Leader {
        client: leader_client(leader_ca_cert.as_deref())?,
        api_addr: leader_api_addr,
    };
    cluster.joining.store(true, Ordering::Release);
    let result = answer_and_catch_up(core, cluster, &leader, unseal_key, challenge).await;
    cluster.joining.store(false, Ordering::Release);
    if result.is_ok() {
        *cluster
            .pending_join
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = None;
    }
    result
}

/// The leader a joining node talks to.
struct Leader {
    client: reqwest::Client,
    api_addr: String,
}

/// A challenge opened with the unseal key: the answer, and a throw-away barrier over the
/// leader's keyring that opens the cluster CA the leader sends back.
struct OpenedChallenge {
    barrier: Barrier,
    answer: Zeroizing<Vec<u8>>,
}

/// Answers the challenge; when the leader refuses the answer (the challenge expired, was
/// evicted from its full table, or replaced), fetches a new challenge and answers that, at
/// most [`JOIN_ANSWER_ATTEMPTS_MAX`] times. Then arms the cluster port and waits for raft to
/// deliver the cluster's data.
async fn answer_and_catch_up(
    core: &Core,
    cluster: &Cluster,
    leader: &Leader,
    unseal_key: &UnsealKey,
    first_challenge: ChallengeReply,
) -> Result<(), Error> {
    let server_id = core.raft().node_name().to_string();
    let mut challenge = first_challenge;
    for attempt in 1..=JOIN_ANSWER_ATTEMPTS_MAX {
        let opened = open_challenge(core, unseal_key, &server_id, &challenge).await?;
        let answered: Result<AnswerReply, Error> = post_leader(
            &leader.client,
            &leader.api_addr,
            "sys/storage/raft/bootstrap/answer",
            serde_json::json!({
                "server_id": server_id,
                "answer": BASE64.encode(&opened.answer),
                "cluster_addr": cluster.settings.cluster_addr,
            }),
        )
        .await;
        let reply = match answered {
            Ok(reply) => reply,
            Err(error) if attempt < JOIN_ANSWER_ATTEMPTS_MAX => {
                opened.barrier.seal();
                tracing::warn!(%error, attempt, "the leader refused the join answer; fetching a new challenge");
                challenge = post_leader(
                    &leader.client,
                    &leader.api_addr,
                    "sys/storage/raft/bootstrap/challenge",
                    serde_json::json!({ "server_id": server_id }),
                )
                .await?;
                continue;
            }
            Err(error) => {
                opened.barrier.seal();
                return Err(error);
            }
        };
        let result = catch_up(core, cluster, &opened.barrier, reply).await;
        opened.barrier.seal();
        return result;
    }
    Err(Error::internal("the join challenge could not be answered"))
}

async fn open_challenge(
    core: &Core,
    unseal_key: &UnsealKey,
    server_id: &str,
    challenge: &ChallengeReply,
) -> Result<OpenedChallenge, Error> {
    let decode = |text: &str| {
        BASE64
            .decode(text)
            .map_err(|_| Error::invalid("the leader sent an undecodable challenge"))
    };
    let protected_root_key = decode(&challenge.protected_root_key)?;
    let root_key = match core
        .seal_kind()
        .recover_root_key(&protected_root_key, Some(unseal_key))
        .await
    {
        Ok(root_key) => root_key,
        Err(error) if error.is_invalid_input() => {
            return Err(Error::invalid(crate::core::UNSEAL_FAILED_TEXT));
        }
        Err(error) => return Err(crate::core::seal_error(error)),
    };
    // A throw-away barrier over the leader's keyring: it never touches this node's storage.
    let scratch = Arc::new(MemoryStorage::default());
    scratch
        .put(KEYRING_PATH, decode(&challenge.keyring)?)
        .await?;
    let barrier = Barrier::new(scratch);
    barrier
        .unseal(&root_key)
        .await
        .map_err(crate::core::seal_error)?;
    let answer = barrier
        .decrypt_value(&challenge_path(server_id), &decode(&challenge.challenge)?)
        .map_err(crate::core::seal_error);
    match answer {
        Ok(answer) => Ok(OpenedChallenge {
            barrier,
            answer: Zeroizing::new(answer),
        }),
        Err(error) => {
            barrier.seal();
            Err(error)
        }
    }
}

/// Opens the cluster CA the leader sent with `barrier`, arms the cluster port with a node
/// certificate from it, and waits (bounded) until raft has delivered the seal state.
async fn catch_up(
    core: &Core,
    cluster: &Cluster,
    barrier: &Barrier,
    reply: AnswerReply,
) -> Result<(), Error> {
    let sealed_ca = BASE64
        .decode(&reply.cluster_tls)
        .map_err(|_| Error::invalid("the leader sent an undecodable cluster CA"))?;
    let ca_json = Zeroizing::new(
        barrier
            .decrypt_value(CLUSTER_TLS_PATH, &sealed_ca)
            .map_err(crate::core::seal_error)?,
    );
    let ca = ClusterCa::from_json(&ca_json).map_err(Error::internal)?;
    cluster.arm(&ca).map_err(Error::internal)?;
    let deadline = Instant::now() + Duration::from_millis(JOIN_CATCH_UP_MS);
    // Bounded by the deadline: polls until raft has delivered the seal state.
    while Instant::now() < deadline {
        let applied = core.raft().status().applied_index;
        if applied >= reply.committed_index
            && core.stored_seal_config().await?.is_some()
            && core.raft().get(BARRIER_UNSEAL_KEYS_PATH).await?.is_some()
        {
            tracing::info!(applied, "joined node caught up with the leader");
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(Error::internal(
        "joined the cluster but did not receive its data in time; unseal again to retry",
    ))
}

/// `sys/storage/raft/join` with `retry`: the same loop for one leader address.
pub async fn retry_join_to(
    core: Arc<Core>,
    leader_api_addr: String,
    leader_ca_cert: Option<String>,
) {
    retry_join_leaders(core, vec![(leader_api_addr, leader_ca_cert)]).await;
}

/// `retry_join`: tries every configured leader in turn until a challenge arrives or this
/// node is initialised. Meant to run until then (bounded per round by the request timeout).
pub async fn retry_join_loop(core: Arc<Core>) {
    let Some(cluster) = core.cluster() else {
        return;
    };
    let leaders: Vec<(String, Option<String>)> = cluster
        .settings
        .retry_join
        .iter()
        .filter_map(|stanza| {
            let addr = stanza.leader_api_addr.clone()?;
            let ca = stanza.leader_ca_cert.clone().or_else(|| {
                let path = stanza.leader_ca_cert_file.as_ref()?;
                std::fs::read_to_string(path).ok()
            });
            Some((addr, ca))
        })
        .collect();
    retry_join_leaders(core, leaders).await;
}

async fn retry_join_leaders(core: Arc<Core>, leaders: Vec<(String, Option<String>)>) {
    let Some(cluster) = core.cluster() else {
        return;
    };
    if leaders.is_empty() {
        return;
    }
    loop {
        let initialized =
            core.raft().is_initialized() || matches!(core.stored_seal_config().await, Ok(Some(_)));
        let pending = cluster.pending_join_seal_config().is_some();
        if initialized || pending {
            return;
        }
        for (addr, ca) in &leaders {
            match request_join(&core, addr, ca.as_deref()).await {
                Ok(()) => {
                    tracing::info!(leader = %addr, "retry_join: challenge received");
                    return;
                }
                Err(error) => tracing::debug!(leader = %addr, %error, "retry_join attempt failed"),
            }
        }
        tokio::time::sleep(Duration::from_millis(RETRY_JOIN_INTERVAL_MS)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(byte: u8) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(vec![byte; CHALLENGE_BYTES])
    }

    /// Goal: an unauthenticated flood of challenge requests can neither lock a joiner out
    /// nor grow the table. Method: fill the table with attacker ids, then issue the
    /// joiner's: it is accepted (the oldest attacker challenge goes) and answerable; it
    /// only goes after a whole table of newer challenges; ten thousand more keep the table
    /// at its bound.
    #[test]
    fn full_challenge_table_evicts_the_oldest_instead_of_refusing() {
        let mut table = ChallengeTable::default();
        let start = Instant::now();
        let at = |millis: u64| start + Duration::from_millis(millis);
        for n in 0..JOIN_CHALLENGES_MAX {
            assert_eq!(
                table.issue(&format!("attacker-{n}"), secret(0), at(n as u64)),
                None
            );
        }
        let evicted = table.issue("node-2", secret(2), at(100));
        assert_eq!(evicted.as_deref(), Some("attacker-0"));
        assert_eq!(table.pending.len(), JOIN_CHALLENGES_MAX);
        for n in 0..JOIN_CHALLENGES_MAX - 1 {
            table.issue(&format!("later-{n}"), secret(0), at(200 + n as u64));
        }
        assert_eq!(table.take("node-2", at(300)).as_deref(), Some(&*secret(2)));
        table.issue("node-2", secret(2), at(400));
        for n in 0..10_000u64 {
            table.issue(&format!("flood-{n}"), secret(0), at(500 + n));
            assert!(table.pending.len() <= JOIN_CHALLENGES_MAX);
        }
        assert_eq!(
            table.take("node-2", at(20_000)),
            None,
            "evicted by newer ones"
        );
    }

    /// Goal: a challenge is answerable once, within its TTL, and a new request for the same
    /// server id replaces the old challenge without taking another slot.
    #[test]
    fn challenge_is_single_use_expires_and_is_replaced_per_server_id() {
        let mut table = ChallengeTable::default();
        let start = Instant::now();
        let ttl = Duration::from_millis(JOIN_CHALLENGE_TTL_MS);
        table.issue("node-2", secret(1), start);
        table.issue("node-2", secret(2), start);
        assert_eq!(table.pending.len(), 1);
        assert_eq!(table.take("node-2", start).as_deref(), Some(&*secret(2)));
        assert_eq!(table.take("node-2", start), None, "single use");
        table.issue("node-3", secret(3), start);
        assert_eq!(table.take("node-3", start + ttl), None, "expired");
        table.issue("node-4", secret(4), start);
        table.issue("node-5", secret(5), start + ttl);
        assert_eq!(
            table.pending.len(),
            1,
            "expired challenges are dropped on issue"
        );
        assert_eq!(table.take("unknown", start), None);
    }
}
