"""The logical response envelope and token handling match bao, on a `-dev -dev-root-token-id=root` server."""
from __future__ import annotations

import re

import requests

TIMEOUT = 30
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")
DENIED = {"errors": ["permission denied"]}


def key_status(srv, headers):
    return requests.get(srv.v1("sys/key-status"), headers=headers, timeout=TIMEOUT)


def test_key_status_envelope_fields_and_top_level_injection(dev_server):
    """Goal: ENV-01/02/09 — the envelope has every field with bao's values and types, and
    key-status data is also copied to the top level. Method: GET sys/key-status as root."""
    r = key_status(dev_server, {"X-Vault-Token": "root"})
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    assert r.headers["Cache-Control"] == "no-store"
    body = r.json()
    assert UUID.match(body["request_id"]), body["request_id"]
    envelope = {k: body[k] for k in ("lease_id", "renewable", "lease_duration", "wrap_info", "warnings", "auth")}
    assert envelope == {"lease_id": "", "renewable": False, "lease_duration": 0,
                        "wrap_info": None, "warnings": None, "auth": None}
    assert type(body["renewable"]) is bool and type(body["lease_duration"]) is int
    data = body["data"]
    assert set(data) == {"term", "install_time", "encryptions"}
    assert type(data["term"]) is int and data["term"] >= 1
    assert type(data["encryptions"]) is int
    assert RFC3339.match(data["install_time"]), data["install_time"]
    for k, v in data.items():
        assert body[k] == v, f"top-level {k} must equal data.{k}"
    # bao 2.7.2 sends exactly these keys (no mount_type on sys paths).
    assert set(body) == {"request_id", "lease_id", "renewable", "lease_duration", "data", "wrap_info",
                         "warnings", "auth", "term", "install_time", "encryptions"}


def test_request_ids_are_fresh_per_request(dev_server):
    """Goal: request_id is a new UUID for each response. Method: two GETs."""
    a = key_status(dev_server, {"X-Vault-Token": "root"}).json()["request_id"]
    b = key_status(dev_server, {"X-Vault-Token": "root"}).json()["request_id"]
    assert a != b and UUID.match(a) and UUID.match(b)


def test_rotate_is_204_and_advances_term(dev_server):
    """Goal: POST sys/rotate → 204 empty body; key-status term +1. Method: rotate between two reads."""
    h = {"X-Vault-Token": "root"}
    t0 = key_status(dev_server, h).json()["data"]["term"]
    r = requests.post(dev_server.v1("sys/rotate"), headers=h, timeout=TIMEOUT)
    assert (r.status_code, r.content) == (204, b"")
    assert key_status(dev_server, h).json()["data"]["term"] == t0 + 1


def test_x_vault_token_and_bearer_both_authenticate(dev_server):
    """Goal: HDR-01/02 — X-Vault-Token and `Authorization: Bearer` both work; X-Vault-Token wins.
    Method: GET sys/key-status with each header combination."""
    a = key_status(dev_server, {"X-Vault-Token": "root"})
    b = key_status(dev_server, {"Authorization": "Bearer root"})
    assert (a.status_code, b.status_code) == (200, 200)
    assert a.json()["data"]["term"] == b.json()["data"]["term"]
    both = key_status(dev_server, {"X-Vault-Token": "root", "Authorization": "Bearer bogus"})
    assert both.status_code == 200
    wins = key_status(dev_server, {"X-Vault-Token": "bogus", "Authorization": "Bearer root"})
    assert (wins.status_code, wins.json()) == (403, DENIED)


def test_missing_or_invalid_token_is_403_permission_denied(dev_server):
    """Goal: ERR-04 — no token, unknown token, bad Bearer, non-Bearer scheme → 403 with bao's
    exact body `{"errors":["permission denied"]}`. Method: GET sys/key-status."""
    cases = {
        "none": {},
        "unknown X-Vault-Token": {"X-Vault-Token": "bogus"},
        "unknown bearer": {"Authorization": "Bearer bogus"},
        "basic scheme": {"Authorization": "Basic cm9vdA=="},
        "empty token": {"X-Vault-Token": ""},
    }
    got = {}
    for name, h in cases.items():
        r = key_status(dev_server, h)
        assert r.headers["Content-Type"] == "application/json"
        got[name] = (r.status_code, r.json())
    assert got == {name: (403, DENIED) for name in cases}


def test_dev_server_status_endpoints(dev_server):
    """Goal: DEV-01 — dev mode is initialised 1/1 and unsealed. Method: GET seal-status,
    health, leader. Intentional difference: Tresor's dev mode runs the production raft storage
    on a temporary directory (one code path), so it reports `raft` and HA like a real node,
    where bao's dev mode reports `inmem` without HA."""
    s = requests.get(dev_server.v1("sys/seal-status"), timeout=TIMEOUT).json()
    dev_storage = "raft" if dev_server.kind == "tresor" else "inmem"
    assert (s["initialized"], s["sealed"], s["t"], s["n"], s["storage_type"]) == (True, False, 1, 1, dev_storage)
    h = requests.get(dev_server.v1("sys/health"), timeout=TIMEOUT)
    assert h.status_code == 200
    assert (h.json()["replication_performance_mode"], h.json()["replication_dr_mode"]) == ("disabled", "disabled")
    leader = requests.get(dev_server.v1("sys/leader"), timeout=TIMEOUT)
    if dev_server.kind == "tresor":
        assert (leader.status_code, leader.json()["ha_enabled"], leader.json()["is_self"]) == (200, True, True)
    else:
        assert (leader.status_code, leader.json()) == (200, {"ha_enabled": False})
