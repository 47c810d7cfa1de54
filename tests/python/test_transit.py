"""Transit: Tresor and bao (OpenBao 2.7.2, a Vault fork) read each other's keys and data.

Method: one `-dev` server of each kind for the module (conftest `pair`). Keys move both ways
through `backup`/`restore`; each side decrypts the other's ciphertexts and verifies the other's
signatures. Results are also checked independently with `cryptography` (AES-GCM and
ChaCha20-Poly1305 with the exported key, HKDF-SHA256 derivation, ECDSA/Ed25519/RSA public-key
verification). Bad input gets the same status and `errors` text on both servers.
"""
from __future__ import annotations

import base64
import hashlib
import hmac as hmac_mod
import json

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from conftest import require_binary
from harness import api

B64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
UNB64 = base64.b64decode
PLAIN = b"the transit plaintext"
SYMMETRIC = ["aes128-gcm96", "aes256-gcm96", "chacha20-poly1305"]
SIGNING = ["ed25519", "ecdsa-p256", "ecdsa-p384", "ecdsa-p521", "rsa-2048"]


@pytest.fixture(scope="module")
def servers(pair):
    require_binary("bao")
    require_binary("tresor")
    bao, tresor = pair.get("bao"), pair.get("tresor")
    for srv in (bao, tresor):
        r = api(srv, "POST", "sys/mounts/transit", json_body={"type": "transit"})
        assert r.status_code == 204, (srv.kind, r.status_code, r.text)
    return bao, tresor


def ok(srv, method, path, body=None):
    r = api(srv, method, f"transit/{path}", json_body=body)
    assert r.status_code in (200, 204), (srv.kind, method, path, r.status_code, r.text)
    return r.json()["data"] if r.status_code == 200 else None


def create(srv, name, key_type, **extra):
    body = {"type": key_type, "exportable": True, "allow_plaintext_backup": True, **extra}
    return ok(srv, "POST", f"keys/{name}", body)


def move(src, dst, name):
    backup = ok(src, "GET", f"backup/{name}")["backup"]
    ok(dst, "POST", f"restore/{name}", {"backup": backup, "force": True})


@pytest.mark.parametrize("key_type", SYMMETRIC)
@pytest.mark.parametrize("direction", ["bao_to_tresor", "tresor_to_bao"])
def test_ciphertexts_survive_backup_and_restore(servers, key_type, direction):
    bao, tresor = servers
    src, dst = (bao, tresor) if direction == "bao_to_tresor" else (tresor, bao)
    name = f"x-{direction}-{key_type}"
    create(src, name, key_type)
    ok(src, "POST", f"keys/{name}/rotate")
    v1 = ok(src, "POST", f"encrypt/{name}", {"plaintext": B64(PLAIN), "key_version": 1})
    v2 = ok(src, "POST", f"encrypt/{name}", {"plaintext": B64(PLAIN), "associated_data": B64(b"ad")})
    assert v1["ciphertext"].startswith("vault:v1:") and v2["key_version"] == 2
    move(src, dst, name)
    assert ok(dst, "POST", f"decrypt/{name}", {"ciphertext": v1["ciphertext"]})["plaintext"] == B64(PLAIN)
    got = ok(dst, "POST", f"decrypt/{name}", {"ciphertext": v2["ciphertext"], "associated_data": B64(b"ad")})
    assert got["plaintext"] == B64(PLAIN)
    back = ok(dst, "POST", f"encrypt/{name}", {"plaintext": B64(PLAIN)})["ciphertext"]
    assert ok(src, "POST", f"decrypt/{name}", {"ciphertext": back})["plaintext"] == B64(PLAIN)
    src_key = ok(src, "GET", f"keys/{name}")
    dst_key = ok(dst, "GET", f"keys/{name}")
    for field in ("type", "latest_version", "min_decryption_version", "keys", "exportable", "derived"):
        assert dst_key[field] == src_key[field], field
    assert dst_key["restore_info"]["version"] == 2


@pytest.mark.parametrize("key_type", SIGNING)
def test_signatures_verify_across_servers(servers, key_type):
    bao, tresor = servers
    name = f"sig-{key_type}"
    create(bao, name, key_type)
    move(bao, tresor, name)
    for hash_algorithm, marshaling in [("sha2-256", "asn1"), ("sha2-384", "jws")]:
        body = {"input": B64(PLAIN), "hash_algorithm": hash_algorithm, "marshaling_algorithm": marshaling}
        for signer, verifier in [(bao, tresor), (tresor, bao)]:
            sig = ok(signer, "POST", f"sign/{name}", body)["signature"]
            assert ok(verifier, "POST", f"verify/{name}", {**body, "signature": sig}) == {"valid": True}
            bad = {**body, "signature": sig, "input": B64(PLAIN + b"!")}
            assert ok(verifier, "POST", f"verify/{name}", bad) == {"valid": False}
    assert ok(tresor, "GET", f"keys/{name}")["keys"] == ok(bao, "GET", f"keys/{name}")["keys"]


def test_hmac_and_export_agree(servers):
    bao, tresor = servers
    create(bao, "hm", "hmac", key_size=48)
    move(bao, tresor, "hm")
    for algorithm in ["sha2-256", "sha3-512", "sha1"]:
        got = [ok(s, "POST", f"hmac/hm/{algorithm}", {"input": B64(PLAIN)})["hmac"] for s in servers]
        assert got[0] == got[1]
    for export_type in ["hmac-key"]:
        assert ok(tresor, "GET", f"export/{export_type}/hm") == ok(bao, "GET", f"export/{export_type}/hm")
    create(bao, "ex-ec", "ecdsa-p256")
    create(bao, "ex-p521", "ecdsa-p521")
    create(bao, "ex-ed", "ed25519")
    create(bao, "ex-aes", "aes256-gcm96")
    create(bao, "ex-rsa", "rsa-2048")
    for name, types in [("ex-rsa", ["signing-key", "public-key", "encryption-key"]),
                        ("ex-ec", ["signing-key", "public-key", "hmac-key"]),
                        ("ex-p521", ["signing-key", "public-key", "hmac-key"]),
                        ("ex-ed", ["signing-key", "public-key"]),
                        ("ex-aes", ["encryption-key", "hmac-key"])]:
        move(bao, tresor, name)
        for export_type in types:
            assert ok(tresor, "GET", f"export/{export_type}/{name}/1") == ok(bao, "GET", f"export/{export_type}/{name}/1"), (name, export_type)


@pytest.mark.parametrize("key_type", SYMMETRIC)
def test_tresor_ciphertexts_decrypt_with_the_exported_key(servers, key_type):
    _, tresor = servers
    name = f"ind-{key_type}"
    create(tresor, name, key_type)
    key = UNB64(ok(tresor, "GET", f"export/encryption-key/{name}/1")["keys"]["1"])
    assert len(key) == (16 if key_type == "aes128-gcm96" else 32)
    ct = ok(tresor, "POST", f"encrypt/{name}", {"plaintext": B64(PLAIN), "associated_data": B64(b"ad")})["ciphertext"]
    raw = UNB64(ct.split(":", 2)[2])
    aead = ChaCha20Poly1305(key) if key_type.startswith("chacha") else AESGCM(key)
    assert aead.decrypt(raw[:12], raw[12:], b"ad") == PLAIN
    nonce = bytes(12)
    mine = B64(nonce + aead.encrypt(nonce, PLAIN, None))
    assert ok(tresor, "POST", f"decrypt/{name}", {"ciphertext": f"vault:v1:{mine}"})["plaintext"] == B64(PLAIN)


def test_derived_and_convergent_keys_use_hkdf_sha256(servers):
    bao, tresor = servers
    create(tresor, "conv", "aes256-gcm96", derived=True, convergent_encryption=True)
    context = b"user-42"
    base_key = UNB64(ok(tresor, "GET", "export/encryption-key/conv/1")["keys"]["1"])
    stream = HKDF(algorithm=hashes.SHA256(), length=64, salt=None, info=context).derive(base_key)
    enc_key, hmac_key = stream[:32], stream[32:]
    body = {"plaintext": B64(PLAIN), "context": B64(context)}
    one = ok(tresor, "POST", "encrypt/conv", body)["ciphertext"]
    assert one == ok(tresor, "POST", "encrypt/conv", body)["ciphertext"]
    raw = UNB64(one.split(":", 2)[2])
    assert raw[:12] == hmac_mod.new(hmac_key, PLAIN, hashlib.sha256).digest()[:12]
    assert AESGCM(enc_key).decrypt(raw[:12], raw[12:], None) == PLAIN
    move(tresor, bao, "conv")
    assert ok(bao, "POST", "encrypt/conv", body)["ciphertext"] == one


def test_signatures_verify_with_public_keys(servers):
    _, tresor = servers
    for key_type in SIGNING:
        name = f"pub-{key_type}"
        create(tresor, name, key_type)
        public = ok(tresor, "GET", f"keys/{name}")["keys"]["1"]["public_key"]
        sig = ok(tresor, "POST", f"sign/{name}", {"input": B64(PLAIN)})["signature"]
        raw = UNB64(sig.split(":", 2)[2])
        if key_type == "ed25519":
            ed25519.Ed25519PublicKey.from_public_bytes(UNB64(public)).verify(raw, PLAIN)
            continue
        key = serialization.load_pem_public_key(public.encode())
        if key_type.startswith("ecdsa"):
            key.verify(raw, PLAIN, ec.ECDSA(hashes.SHA256()))
        else:
            key.verify(raw, PLAIN, padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                                               salt_length=padding.PSS.AUTO), hashes.SHA256())
            sig = ok(tresor, "POST", f"sign/{name}", {"input": B64(PLAIN), "signature_algorithm": "pkcs1v15"})["signature"]
            key.verify(UNB64(sig.split(":", 2)[2]), PLAIN, padding.PKCS1v15(), hashes.SHA256())
            ct = ok(tresor, "POST", f"encrypt/{name}", {"plaintext": B64(PLAIN)})["ciphertext"]
            assert ok(tresor, "POST", f"decrypt/{name}", {"ciphertext": ct})["plaintext"] == B64(PLAIN)


def test_p521_keys_move_both_ways_and_sign_prehashed(servers):
    """A P-521 key made by Tresor restores into bao (and back), both read it alike, and
    prehashed signatures from either verify on the other and under the exported key."""
    bao, tresor = servers
    create(tresor, "p521-both", "ecdsa-p521")
    ok(tresor, "POST", "keys/p521-both/rotate")
    move(tresor, bao, "p521-both")
    assert ok(bao, "GET", "keys/p521-both")["keys"] == ok(tresor, "GET", "keys/p521-both")["keys"]
    for export_type in ["signing-key", "public-key"]:
        path = f"export/{export_type}/p521-both/1"
        assert ok(bao, "GET", path) == ok(tresor, "GET", path), export_type
    private = serialization.load_pem_private_key(
        ok(tresor, "GET", "export/signing-key/p521-both/2")["keys"]["2"].encode(), password=None)
    public = private.public_key()
    assert isinstance(public.curve, ec.SECP521R1)
    for hash_algorithm, marshaling in [("sha2-512", "asn1"), ("sha2-512", "jws"), ("sha2-256", "asn1")]:
        prehashed = hashlib.new(hash_algorithm.replace("sha2-", "sha"), PLAIN).digest()
        body = {"input": B64(prehashed), "prehashed": True, "hash_algorithm": hash_algorithm,
                "marshaling_algorithm": marshaling}
        for signer, verifier in [(bao, tresor), (tresor, bao)]:
            sig = ok(signer, "POST", "sign/p521-both", body)["signature"]
            assert sig.startswith("vault:v2:")
            assert ok(verifier, "POST", "verify/p521-both", {**body, "signature": sig}) == {"valid": True}
            raw = sig.split(":", 2)[2]
            if marshaling == "jws":
                raw = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
                assert len(raw) == 132
                r, s = int.from_bytes(raw[:66], "big"), int.from_bytes(raw[66:], "big")
                raw = encode_dss_signature(r, s)
            else:
                raw = UNB64(raw)
            chosen = hashes.SHA512() if hash_algorithm == "sha2-512" else hashes.SHA256()
            public.verify(raw, prehashed, ec.ECDSA(Prehashed(chosen)))
    move(bao, tresor, "p521-both")
    sig = ok(bao, "POST", "sign/p521-both/sha3-512", {"input": B64(PLAIN), "key_version": 1})["signature"]
    assert ok(tresor, "POST", "verify/p521-both/sha3-512", {"input": B64(PLAIN), "signature": sig}) == {"valid": True}


def bad_input_steps(prefix):
    """(method, path, body) steps whose answers must match bao's; `prefix` names this run."""
    p = prefix
    return [
        ("POST", f"keys/{p}a", {}),
        ("POST", f"keys/{p}e", {"type": "ed25519"}),
        ("POST", f"keys/{p}a/rotate", {}),
        ("POST", f"encrypt/{p}a", {"plaintext": B64(b"x")}),
        ("POST", f"keys/{p}t", {"type": "aes512"}),
        ("POST", f"keys/{p}t", {"type": "hmac", "key_size": 16}),
        ("POST", f"keys/{p}t", {"type": "ecdsa-p256", "key_size": 64}),
        ("POST", f"keys/{p}t", {"convergent_encryption": True}),
        ("POST", f"keys/{p}t", {"auto_rotate_period": "5m"}),
        ("POST", f"keys/{p}t", {"type": "ecdsa-p256", "derived": True}),
        ("POST", f"keys/{p}t", {"type": "ecdsa-p521", "derived": True}),
        ("POST", f"keys/{p}t", {"type": "ecdsa-p521", "key_size": 64}),
        ("POST", f"keys/{p}t", {"auto_rotate_period": 1800}),
        ("POST", f"keys/{p}a/config", {"auto_rotate_period": "30m"}),
        ("POST", f"keys/{p}a/config", {"auto_rotate_period": 3599}),
        ("POST", f"keys/{p}a/config", {"auto_rotate_period": "1.5h"}),
        ("POST", f"keys/{p}a/config", {"auto_rotate_period": 0}),
        ("POST", f"keys/{p}e5", {"type": "ecdsa-p521"}),
        ("POST", f"sign/{p}e5", {"input": "", "marshaling_algorithm": "xml"}),
        ("POST", f"sign/{p}e5", {"input": "", "hash_algorithm": "none"}),
        ("POST", f"verify/{p}e5", {"input": "", "signature": "vault:v1:" + B64(bytes(10))}),
        ("POST", f"verify/{p}e5", {"input": "", "signature": "vault:v1:" + B64(bytes(132)),
                                   "marshaling_algorithm": "jws"}),
        ("GET", f"export/signing-key/{p}e5", None),
        ("GET", f"keys/{p}missing", None),
        ("DELETE", f"keys/{p}a", None),
        ("DELETE", f"keys/{p}missing", None),
        ("POST", f"keys/{p}missing/config", {"deletion_allowed": True}),
        ("POST", f"keys/{p}a/config", {"min_decryption_version": 9}),
        ("POST", f"keys/{p}a/config", {"min_encryption_version": 9}),
        ("POST", f"keys/{p}missing/rotate", {}),
        ("POST", f"keys/{p}a/trim", {"min_available_version": 1}),
        ("POST", f"decrypt/{p}missing", {"ciphertext": "vault:v1:AAAA"}),
        ("POST", f"decrypt/{p}a", {}),
        ("POST", f"decrypt/{p}a", {"ciphertext": "nope"}),
        ("POST", f"decrypt/{p}a", {"ciphertext": "vault:v1"}),
        ("POST", f"decrypt/{p}a", {"ciphertext": "vault:vx:AAAA"}),
        ("POST", f"decrypt/{p}a", {"ciphertext": "vault:v7:AAAA"}),
        ("POST", f"decrypt/{p}a", {"ciphertext": "vault:v1:!!!"}),
        ("POST", f"decrypt/{p}a", {"ciphertext": "vault:v1:AAAA"}),
        ("POST", f"decrypt/{p}a", {"ciphertext": "vault:v1:" + B64(bytes(40))}),
        ("POST", f"decrypt/{p}e", {"ciphertext": "vault:v1:" + B64(bytes(40))}),
        ("POST", f"encrypt/{p}a", {}),
        ("POST", f"encrypt/{p}a", {"plaintext": "%%%"}),
        ("POST", f"encrypt/{p}a", {"plaintext": "", "key_version": 9}),
        ("POST", f"encrypt/{p}a", {"plaintext": "", "key_version": -1}),
        ("POST", f"encrypt/{p}a", {"batch_input": []}),
        ("POST", f"encrypt/{p}a", {"batch_input": [{"plaintext": "", "context": "YQ=="}, {"plaintext": ""}]}),
        ("POST", f"encrypt/{p}a", {"batch_input": [{"plaintext": "%%", "reference": "r1"}]}),
        ("POST", f"decrypt/{p}a", {"batch_input": [{"ciphertext": "vault:v1:AAAA", "reference": "r"}, {"ciphertext": ""}]}),
        ("POST", f"decrypt/{p}a", {"batch_input": [{"ciphertext": "bad"}], "partial_failure_response_code": 207}),
        ("POST", f"rewrap/{p}a", {"batch_input": [{"ciphertext": "bad", "reference": "z"}]}),
        ("POST", f"datakey/other/{p}a", {}),
        ("POST", f"datakey/wrapped/{p}a", {"bits": 99}),
        ("POST", f"datakey/wrapped/{p}missing", {}),
        ("POST", f"sign/{p}a", {"input": ""}),
        ("POST", f"sign/{p}missing", {"input": ""}),
        ("POST", f"sign/{p}e", {"input": "", "hash_algorithm": "md5"}),
        ("POST", f"sign/{p}e", {"input": "", "marshaling_algorithm": "xml"}),
        ("POST", f"sign/{p}e", {"input": "", "hash_algorithm": "none"}),
        ("POST", f"sign/{p}e", {"input": "!!"}),
        ("POST", f"sign/{p}e", {"input": "", "key_version": 5}),
        ("POST", f"verify/{p}e", {"input": ""}),
        ("POST", f"verify/{p}e", {"input": "", "signature": "a", "hmac": "b"}),
        ("POST", f"verify/{p}e", {"input": "", "signature": "nope"}),
        ("POST", f"verify/{p}e", {"input": "", "signature": "vault:v3:AAAA"}),
        ("POST", f"verify/{p}e", {"input": "", "signature": "vault:v1:" + B64(bytes(64))}),
        ("POST", f"verify/{p}e", {"input": "", "signature": "vault:v1:%%"}),
        ("POST", f"hmac/{p}a", {}),
        ("POST", f"hmac/{p}a", {"input": "", "key_version": 9}),
        ("POST", f"hmac/{p}missing", {"input": ""}),
        ("POST", f"verify/{p}a", {"input": "", "hmac": "nope"}),
        ("POST", f"verify/{p}a", {"input": "", "hmac": "vault:v9:AAAA"}),
        ("POST", "hash", {}),
        ("POST", "hash/md5", {"input": ""}),
        ("POST", "hash", {"input": "", "format": "b32"}),
        ("POST", "hash/sha2-512", {"input": B64(b"abc"), "format": "base64"}),
        ("POST", "random", {"bytes": 0}),
        ("POST", "random", {"format": "b32"}),
        ("GET", f"export/encryption-key/{p}missing", None),
        ("GET", f"export/encryption-key/{p}a", None),
        ("GET", f"export/bogus/{p}a", None),
        ("GET", f"backup/{p}a", None),
        ("POST", "restore", {}),
        ("GET", "config/keys", None),
    ]


def observe(srv, prefix):
    out = []
    for method, path, body in bad_input_steps(prefix):
        r = api(srv, method, f"transit/{path}", json_body=body)
        try:
            payload = r.json()
        except ValueError:
            payload = None
        if isinstance(payload, dict) and "errors" in payload:
            seen = payload["errors"]
        elif isinstance(payload, dict) and isinstance(payload.get("data"), dict):
            data = payload["data"]
            seen = {k: data[k] for k in ("batch_results", "sum", "valid", "disable_upsert") if k in data}
        else:
            seen = None
        seen = json.dumps(seen, sort_keys=True).replace(prefix, "P-")
        out.append((method, path.replace(prefix, "P-"), r.status_code, seen))
    return out


def test_bad_input_matches_bao(servers):
    bao, tresor = servers
    want = observe(bao, "b-")
    got = observe(tresor, "t-")
    diffs = [f"{w[0]} {w[1]}\n   bao:    {w[2]} {w[3]}\n   tresor: {g[2]} {g[3]}"
             for w, g in zip(want, got) if w != g]
    assert not diffs, "\n".join(diffs)
