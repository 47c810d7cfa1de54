"""Transit through hvac: every endpoint hvac exposes, on Tresor and on bao, with the results
checked independently (HMAC recomputed with the exported key, hashes with hashlib, random
bytes by length) and the answers' field names and types compared between the two servers.

Method: one `-dev` server of each kind for the module (conftest `pair`); one hvac client per
server; every call recorded as (name, shape of the answer), the two transcripts compared.
"""
from __future__ import annotations

import base64
import hashlib
import hmac as hmac_mod

import hvac
import pytest

from conftest import require_binary
from harness import api, shape

PLAIN = base64.b64encode(b"hvac transit plaintext").decode()
# Fields only OpenBao sends (Vault, which Tresor speaks, has no such field).
OPENBAO_ONLY_FIELDS = {"soft_deleted"}


def client_for(srv) -> hvac.Client:
    return hvac.Client(url=srv.addr, token="root", timeout=30)


def flow(srv) -> list:
    """Every transit endpoint via hvac; returns (step, shape) pairs and checks values."""
    c = client_for(srv)
    api(srv, "POST", "sys/mounts/transit", json_body={"type": "transit"})
    t = c.secrets.transit
    steps = []

    def record(name, answer):
        data = answer.get("data") if isinstance(answer, dict) else None
        visible = {k: v for k, v in data.items() if k not in OPENBAO_ONLY_FIELDS} if isinstance(data, dict) else data
        steps.append((name, shape(visible)))
        return data

    t.create_key("hk", key_type="aes256-gcm96", exportable=True, allow_plaintext_backup=True)
    record("read_key", t.read_key("hk"))
    keys = record("list_keys", t.list_keys())
    assert "hk" in keys["keys"]
    t.update_key_configuration("hk", deletion_allowed=True, min_decryption_version=1)
    t.rotate_key("hk")
    t.rotate_key("hk")
    encrypted = record("encrypt_data", t.encrypt_data("hk", plaintext=PLAIN))
    assert encrypted["ciphertext"].startswith("vault:v3:")
    decrypted = record("decrypt_data", t.decrypt_data("hk", ciphertext=encrypted["ciphertext"]))
    assert decrypted["plaintext"] == PLAIN
    old = t.encrypt_data("hk", plaintext=PLAIN, key_version=1)["data"]["ciphertext"]
    rewrapped = record("rewrap_data", t.rewrap_data("hk", ciphertext=old))
    assert rewrapped["ciphertext"].startswith("vault:v3:")
    datakey = record("generate_data_key", t.generate_data_key("hk", key_type="plaintext"))
    assert len(base64.b64decode(datakey["plaintext"])) == 32
    t.update_key_configuration("hk", min_decryption_version=2, min_encryption_version=3)
    t.trim_key("hk", min_version=2)
    assert sorted(t.read_key("hk")["data"]["keys"]) == ["2", "3"]

    api(srv, "POST", "transit/keys/hmk", json_body={"type": "hmac", "exportable": True, "key_size": 32})
    mac = record("generate_hmac", t.generate_hmac("hmk", hash_input=PLAIN, algorithm="sha2-256"))
    exported = record("export_key", t.export_key("hmk", key_type="hmac-key"))
    raw_key = base64.b64decode(exported["keys"]["1"])
    expected = hmac_mod.new(raw_key, base64.b64decode(PLAIN), hashlib.sha256).digest()
    assert mac["hmac"] == "vault:v1:" + base64.b64encode(expected).decode()
    verified = t.verify_signed_data("hmk", hash_input=PLAIN, hmac=mac["hmac"], hash_algorithm="sha2-256")
    assert record("verify_hmac", verified)["valid"] is True

    t.create_key("sk", key_type="ecdsa-p256")
    signature = record("sign_data", t.sign_data("sk", hash_input=PLAIN, hash_algorithm="sha2-256"))
    valid = t.verify_signed_data("sk", hash_input=PLAIN, signature=signature["signature"], hash_algorithm="sha2-256")
    assert record("verify_signed_data", valid)["valid"] is True

    digest = record("hash_data", t.hash_data(hash_input=PLAIN, algorithm="sha2-512", output_format="hex"))
    assert digest["sum"] == hashlib.sha512(base64.b64decode(PLAIN)).hexdigest()
    random_bytes = record("generate_random_bytes", t.generate_random_bytes(n_bytes=48))
    assert len(base64.b64decode(random_bytes["random_bytes"])) == 48

    backup = record("backup_key", t.backup_key("hk"))
    t.delete_key("hk")
    with pytest.raises(hvac.exceptions.InvalidPath):
        t.read_key("hk")
    t.restore_key(backup["backup"], name="hk2")
    again = t.decrypt_data("hk2", ciphertext=encrypted["ciphertext"])
    assert again["data"]["plaintext"] == PLAIN
    t.update_key_configuration("hk2", deletion_allowed=True)
    t.delete_key("hk2")
    return steps


def test_hvac_transit_endpoints_match_bao(pair):
    """Goal: every hvac transit call works on Tresor with bao's answer shapes and
    independently checked values. Method: the same flow on both servers, compared."""
    require_binary("bao")
    require_binary("tresor")
    want = flow(pair.get("bao"))
    got = flow(pair.get("tresor"))
    assert got == want
