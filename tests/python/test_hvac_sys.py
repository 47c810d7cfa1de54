"""hvac's sys/ calls get the same field names and JSON types from Tresor as from bao.

Values differ per run (keys, nonces, times), so each step records `shape()` of the answer
(field names and types) or the HTTP status for calls hvac returns as a raw Response.
"""
from __future__ import annotations

import hvac
import requests

from harness import shape, wait_active


def status_of(resp) -> object:
    if isinstance(resp, requests.Response):
        return ("status", resp.status_code)
    return shape(resp)


def hvac_flow(srv) -> list:
    client = hvac.Client(url=srv.addr, timeout=30)
    out = []

    def rec(label, value):
        out.append((label, status_of(value)))
        return value

    out.append(("is_initialized", client.sys.is_initialized()))
    rec("read_seal_status uninit", client.sys.read_seal_status())
    rec("read_health_status GET uninit", client.sys.read_health_status(method="GET"))
    rec("read_health_status HEAD uninit", client.sys.read_health_status(method="HEAD"))
    init = rec("initialize(5,3)", client.sys.initialize(5, 3))
    assert len(init["keys"]) == 5 and len(init["keys_base64"]) == 5
    out.append(("is_initialized after", client.sys.is_initialized()))
    rec("read_seal_status sealed", client.sys.read_seal_status())
    rec("read_health_status GET sealed", client.sys.read_health_status(method="GET"))
    rec("read_health_status HEAD sealed", client.sys.read_health_status(method="HEAD"))
    one = rec("submit_unseal_key 1", client.sys.submit_unseal_key(init["keys"][0]))
    assert one["progress"] == 1 and one["sealed"] is True
    done = rec("submit_unseal_keys rest", client.sys.submit_unseal_keys(init["keys"][1:3]))
    assert done["sealed"] is False
    wait_active(srv)
    client.token = init["root_token"]
    rec("read_seal_status unsealed", client.sys.read_seal_status())
    rec("read_health_status GET active", client.sys.read_health_status(method="GET"))
    rec("read_health_status HEAD active", client.sys.read_health_status(method="HEAD"))
    rec("read_leader_status", client.sys.read_leader_status())
    ks = rec("get_encryption_key_status", client.sys.get_encryption_key_status())
    rec("rotate_encryption_key", client.sys.rotate_encryption_key())
    ks2 = client.sys.get_encryption_key_status()
    out.append(("key term advanced", ks2["data"]["term"] == ks["data"]["term"] + 1))

    rec("read_rekey_progress idle", client.sys.read_rekey_progress())
    start = rec("start_rekey(3,2)", client.sys.start_rekey(secret_shares=3, secret_threshold=2))
    rec("read_rekey_progress started", client.sys.read_rekey_progress())
    rec("cancel_rekey", client.sys.cancel_rekey())
    rec("read_rekey_progress cancelled", client.sys.read_rekey_progress())
    start = rec("start_rekey(3,2) again", client.sys.start_rekey(secret_shares=3, secret_threshold=2))
    nonce = start["nonce"]
    rec("rekey share 1", client.sys.rekey(init["keys"][0], nonce=nonce))
    rec("rekey share 2", client.sys.rekey(init["keys"][1], nonce=nonce))
    fin = rec("rekey share 3 (complete)", client.sys.rekey(init["keys"][2], nonce=nonce))
    assert fin["complete"] is True and len(fin["keys"]) == 3
    rec("seal", client.sys.seal())
    sealed = rec("read_seal_status resealed", client.sys.read_seal_status())
    assert (sealed["sealed"], sealed["t"], sealed["n"]) == (True, 2, 3)
    rec("submit_unseal_keys new", client.sys.submit_unseal_keys(fin["keys_base64"][:2]))
    out.append(("sealed after new keys", client.sys.read_seal_status()["sealed"]))
    return out


def check_bao_expectations(tr: list) -> None:
    d = dict(tr)
    assert d["is_initialized"] is False and d["is_initialized after"] is True
    assert d["read_health_status HEAD uninit"] == ("status", 501)
    assert d["read_health_status HEAD sealed"] == ("status", 503)
    assert d["read_health_status HEAD active"] == ("status", 200)
    assert d["rotate_encryption_key"] == ("status", 204)
    assert d["cancel_rekey"] == ("status", 204)
    assert d["seal"] == ("status", 204)
    assert d["key term advanced"] is True
    assert d["sealed after new keys"] is False
    assert d["get_encryption_key_status"] == {
        "auth": "null", "data": {"encryptions": "int", "install_time": "str", "term": "int"},
        "encryptions": "int", "install_time": "str", "lease_duration": "int", "lease_id": "str",
        "renewable": "bool", "request_id": "str", "term": "int", "warnings": "null", "wrap_info": "null",
    }
    assert d["read_leader_status"] == {
        "active_time": "str", "ha_enabled": "bool", "is_self": "bool", "leader_address": "str",
        "leader_cluster_address": "str", "raft_applied_index": "int", "raft_committed_index": "int",
    }
    assert d["read_rekey_progress idle"] == {
        "backup": "bool", "n": "int", "nonce": "str", "pgp_fingerprints": "null", "progress": "int",
        "required": "int", "started": "bool", "t": "int", "verification_required": "bool",
    }
    assert set(d["rekey share 3 (complete)"]) == {
        "backup", "complete", "keys", "keys_base64", "nonce", "pgp_fingerprints", "verification_required"}


def test_hvac_sys_lifecycle_has_bao_field_names_and_types(rekey_server, reference):
    """Goal: hvac init/unseal/health/leader/seal/key-status/rotate/rekey answers have bao's shape.
    Method: the same hvac calls on both servers; compare field names, JSON types and statuses."""
    from conftest import REKEY_LISTENER

    got = hvac_flow(rekey_server)
    ref_srv = reference(listener_extra=REKEY_LISTENER)
    if ref_srv is None:
        check_bao_expectations(got)
        return
    want = hvac_flow(ref_srv)
    assert got == want
