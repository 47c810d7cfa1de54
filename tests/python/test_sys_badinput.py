"""Bad and edge-case requests to sys/ get bao's exact status code and `errors` body, and change nothing.

Expected values are literals captured from bao 2.7.2 (the bao variant of each test re-checks
them, so they cannot drift from the reference). After each bad request the test asserts the
server state (init / seal status) is unchanged.
"""
from __future__ import annotations

import base64
import os
import shutil
import subprocess
import tempfile

import pytest
import requests

from harness import init_and_unseal, init_only

TIMEOUT = 30
SEALED = {"errors": ["Vault is sealed"]}
EMPTY = {"errors": []}


def call(srv, method, path, **kw):
    kw.setdefault("timeout", TIMEOUT)
    return requests.request(method, srv.v1(path), **kw)


def errors_of(r):
    assert r.headers.get("Content-Type") == "application/json", (r.status_code, r.headers, r.text)
    return r.json()


def seal_state(srv) -> tuple:
    s = call(srv, "GET", "sys/seal-status").json()
    return (s["initialized"], s["sealed"], s["t"], s["n"], s["progress"], s["nonce"])


UNINIT = (False, True, 0, 0, 0, "")
SEALED_3_2 = (True, True, 2, 3, 0, "")


# ---------------------------------------------------------------- sys/init

@pytest.mark.parametrize("body, message", [
    ({"secret_shares": 0, "secret_threshold": 0}, "invalid seal configuration: shares must be at least one"),
    ({"secret_shares": 0, "secret_threshold": 1}, "invalid seal configuration: shares must be at least one"),
    ({"secret_shares": 256, "secret_threshold": 2}, "invalid seal configuration: shares must be less than 256"),
    ({"secret_shares": 3, "secret_threshold": 4}, "invalid seal configuration: threshold cannot be larger than shares"),
    ({"secret_shares": 3, "secret_threshold": 1},
     "invalid seal configuration: threshold must be greater than one for multiple shares"),
    ({"secret_shares": 3, "secret_threshold": 2, "recovery_shares": 3, "recovery_threshold": 2},
     "parameters recovery_shares,recovery_threshold not applicable to seal type shamir"),
], ids=["shares0-thr0", "shares0", "shares256", "thr-gt-shares", "thr1-shares3", "recovery-on-shamir"])
def test_init_with_invalid_shares_is_400_and_stays_uninitialised(server, body, message):
    """Goal: invalid share/threshold combinations are refused with bao's message. Method: PUT sys/init."""
    r = call(server, "PUT", "sys/init", json=body)
    assert (r.status_code, errors_of(r)) == (400, {"errors": [message]})
    assert call(server, "GET", "sys/init").json() == {"initialized": False}
    assert seal_state(server) == UNINIT


def test_init_with_empty_body_is_400_shares_must_be_at_least_one(server):
    """Goal: an empty body means shares=0, as in bao. Method: PUT sys/init with no body."""
    r = call(server, "PUT", "sys/init", data=b"")
    assert (r.status_code, errors_of(r)) == (400, {"errors": [
        "invalid seal configuration: shares must be at least one"]})
    assert seal_state(server) == UNINIT


def test_init_twice_is_400_already_initialized(server):
    """Goal: the second init is refused and the first init's config stays. Method: two PUT sys/init."""
    init_only(server)
    r = call(server, "PUT", "sys/init", json={"secret_shares": 5, "secret_threshold": 3})
    assert (r.status_code, errors_of(r)) == (400, {"errors": ["Vault is already initialized"]})
    assert seal_state(server) == SEALED_3_2


def test_init_non_json_body_is_400(server):
    """Goal: a non-JSON body is 400 with a JSON-decoding message. Method: PUT `{not json`.
    bao's text is Go's decoder error verbatim; Tresor must at least keep the prefix."""
    r = call(server, "PUT", "sys/init", data=b"{not json")
    body = errors_of(r)
    assert r.status_code == 400
    assert len(body["errors"]) == 1 and body["errors"][0].startswith("failed to decode JSON input: ")
    if server.kind == "bao":
        assert body == {"errors": [
            "failed to decode JSON input: invalid character 'o' in literal null (expecting 'u')"]}
    assert seal_state(server) == UNINIT


def _gpg_public_key_b64() -> str | None:
    """A throwaway RSA OpenPGP public key (base64 of the binary export), or None without gpg."""
    gpg = shutil.which("gpg")
    if gpg is None:
        return None
    home = tempfile.mkdtemp(prefix="tresor-pytest-gpg-")
    try:
        env = dict(os.environ, GNUPGHOME=home)
        subprocess.run([gpg, "--batch", "--passphrase", "", "--quick-gen-key", "t@example.invalid",
                        "rsa2048", "encr", "never"], env=env, check=True, capture_output=True, timeout=60)
        out = subprocess.run([gpg, "--batch", "--export", "t@example.invalid"], env=env, check=True,
                             capture_output=True, timeout=30).stdout
        return base64.b64encode(out).decode() if out else None
    finally:
        shutil.rmtree(home, ignore_errors=True)


def test_init_with_pgp_keys_tresor_refuses_clearly(server):
    """Goal: PGP-encrypted shares. INTENTIONAL DIFFERENCE: bao accepts valid pgp_keys and
    returns encrypted shares; Tresor does not implement PGP and must refuse with 400 and a
    message naming PGP, staying uninitialised. Method: PUT sys/init with a real gpg key."""
    key = _gpg_public_key_b64()
    if key is None:
        pytest.fail("gpg is needed to build a valid OpenPGP public key for this test")
    r = call(server, "PUT", "sys/init", json={"secret_shares": 1, "secret_threshold": 1, "pgp_keys": [key]})
    if server.kind == "bao":
        assert r.status_code == 200, r.text
        assert len(r.json()["keys"]) == 1
        return
    body = errors_of(r)
    assert r.status_code == 400, r.text
    assert len(body["errors"]) == 1 and "pgp" in body["errors"][0].lower(), body
    assert seal_state(server) == UNINIT


@pytest.mark.parametrize("body, message", [
    ({"secret_shares": 1, "secret_threshold": 1, "pgp_keys": ["bm90IGEga2V5"]},
     "invalid seal configuration: error parsing given PGP key: openpgp: invalid data: tag byte does not have MSB set"),
    ({"secret_shares": 2, "secret_threshold": 2, "pgp_keys": ["bm90IGEga2V5"]},
     "invalid seal configuration: count mismatch between number of provided PGP keys and number of shares"),
], ids=["bogus-key", "count-mismatch"])
def test_init_with_bad_pgp_keys_is_400(server, body, message):
    """Goal: malformed pgp_keys are refused. Method: PUT sys/init. bao's text is exact;
    Tresor (no PGP support) only has to refuse with 400 naming PGP — documented difference."""
    r = call(server, "PUT", "sys/init", json=body)
    got = errors_of(r)
    assert r.status_code == 400
    if server.kind == "bao":
        assert got == {"errors": [message]}
    else:
        assert len(got["errors"]) == 1 and "pgp" in got["errors"][0].lower(), got
    assert seal_state(server) == UNINIT


# ---------------------------------------------------------------- sys/unseal

def test_unseal_uninitialised_with_well_formed_key_is_400_not_initialized(server):
    """Goal: unseal before init. Method: PUT a 33-byte hex key and a 1-byte one (decode check first)."""
    r = call(server, "PUT", "sys/unseal", json={"key": "ab" * 33})
    assert (r.status_code, errors_of(r)) == (400, {"errors": ["Vault is not initialized"]})
    r = call(server, "PUT", "sys/unseal", json={"key": "00"})
    assert (r.status_code, errors_of(r)) == (400, {"errors": ["'key' must be a valid hex or base64 string"]})
    r = call(server, "PUT", "sys/unseal", json={"reset": True})
    assert r.status_code == 200 and r.json()["initialized"] is False
    assert seal_state(server) == UNINIT


@pytest.mark.parametrize("body, message", [
    ({}, "'key' must be specified in request body as JSON, or 'reset' set to true"),
    ({"key": "", "reset": False, "migrate": False},
     "'key' must be specified in request body as JSON, or 'reset' set to true"),
    ({"key": "zz!!"}, "'key' must be a valid hex or base64 string"),
    ({"key": "abcd"}, "invalid key: key is shorter than minimum 16 bytes"),
    ({"key": "0" * 130}, "'key' must be a valid hex or base64 string"),
], ids=["no-key-no-reset", "empty-key", "not-hex-or-b64", "too-short", "too-long-65-bytes"])
def test_unseal_malformed_key_is_400_and_progress_unchanged(server, body, message):
    """Goal: malformed unseal requests are refused without touching progress. Method: one valid
    share first, then the bad request, then seal-status."""
    init = init_only(server)
    first = call(server, "PUT", "sys/unseal", json={"key": init["keys"][0]}).json()
    before = seal_state(server)
    assert before[4] == 1 and first["nonce"]
    r = call(server, "PUT", "sys/unseal", json=body)
    assert (r.status_code, errors_of(r)) == (400, {"errors": [message]})
    assert seal_state(server) == before


def test_unseal_non_json_body_is_400(server):
    """Goal: a non-JSON unseal body is 400 with the decoder prefix. Method: PUT `{bad`."""
    init_only(server)
    r = call(server, "PUT", "sys/unseal", data=b"{bad")
    body = errors_of(r)
    assert r.status_code == 400 and body["errors"][0].startswith("failed to decode JSON input: ")
    if server.kind == "bao":
        assert body == {"errors": ["failed to decode JSON input: invalid character 'b' looking for beginning of value"]}
    assert seal_state(server) == SEALED_3_2


def test_unseal_duplicate_share_does_not_advance_progress(server):
    """Goal: the same share twice (hex, then its base64 form) keeps progress at 1 and the nonce.
    Method: PUT sys/unseal twice, compare the seal-status bodies."""
    init = init_only(server)
    a = call(server, "PUT", "sys/unseal", json={"key": init["keys"][0]}).json()
    b = call(server, "PUT", "sys/unseal", json={"key": init["keys_base64"][0]})
    assert b.status_code == 200
    b = b.json()
    assert (a["progress"], b["progress"], a["sealed"], b["sealed"]) == (1, 1, True, True)
    assert a["nonce"] == b["nonce"] and len(a["nonce"]) == 36


def test_unseal_reset_clears_progress_and_nonce(server):
    """Goal: reset discards entered shares. Method: one share, then {"reset": true}."""
    init = init_only(server)
    call(server, "PUT", "sys/unseal", json={"key": init["keys"][0]})
    r = call(server, "PUT", "sys/unseal", json={"reset": True})
    assert r.status_code == 200
    assert seal_state(server) == SEALED_3_2
    assert (r.json()["progress"], r.json()["nonce"]) == (0, "")


def test_unseal_wrong_share_at_threshold_is_400_and_resets_progress(server):
    """Goal: a bogus share completing the threshold fails and resets progress. Method: 1 good + 1 bogus."""
    init = init_only(server)
    call(server, "PUT", "sys/unseal", json={"key": init["keys"][0]})
    # A share's last byte is its x coordinate: the bogus one must not repeat the good one's,
    # or the server reports a duplicate part instead (1 run in 255 with a fixed byte).
    x = "01" if init["keys"][0][-2:] != "01" else "02"
    r = call(server, "PUT", "sys/unseal", json={"key": "ab" * 32 + x})
    body = errors_of(r)
    assert r.status_code == 400 and len(body["errors"]) == 1
    if server.kind == "bao":
        assert body == {"errors": ["unable to retrieve stored keys: invalid key: failed to decrypt keys "
                                   "from storage: cipher: message authentication failed"]}
    assert seal_state(server) == SEALED_3_2


def test_unseal_when_unsealed_is_200_and_reset_is_400(server):
    """Goal: extra share on an unsealed node is a no-op 200; reset is 400 `vault is unsealed`."""
    init = init_and_unseal(server)
    r = call(server, "PUT", "sys/unseal", json={"key": init["keys"][2]})
    assert r.status_code == 200 and r.json()["sealed"] is False
    r = call(server, "PUT", "sys/unseal", json={"reset": True})
    assert (r.status_code, errors_of(r)) == (400, {"errors": ["vault is unsealed"]})
    assert call(server, "GET", "sys/seal-status").json()["sealed"] is False


# ---------------------------------------------------------------- transport-level errors

def test_oversize_body_33_mib_is_413(server):
    """Goal: bodies over the 32 MiB default are refused before parsing. Method: PUT 33 MiB.
    bao omits Cache-Control on this one response; not asserted."""
    r = call(server, "PUT", "sys/init", data=b"x" * (33 * 1024 * 1024),
             headers={"Content-Type": "application/json"})
    assert (r.status_code, errors_of(r)) == (413, {"errors": ["http: request body too large"]})
    assert seal_state(server) == UNINIT


@pytest.mark.parametrize("path", ["/nope", "/v2/sys/health", "/v1"])
def test_path_outside_v1_is_404_empty_errors(server, path):
    """Goal: non-API paths answer 404 {"errors":[]}. Method: GET."""
    r = requests.get(server.addr + path, timeout=TIMEOUT)
    assert (r.status_code, errors_of(r)) == (404, EMPTY)


@pytest.mark.parametrize("method, path", [
    ("GET", "sys/unseal"), ("DELETE", "sys/seal-status"), ("POST", "sys/health"),
    ("PATCH", "sys/init"), ("FOO", "sys/health"),
])
def test_wrong_method_on_raw_sys_endpoint_is_405_empty_errors(server, method, path):
    """Goal: unsupported methods on raw sys endpoints are 405 {"errors":[]}. Method: one request."""
    r = call(server, method, path)
    assert (r.status_code, errors_of(r)) == (405, EMPTY)
    assert seal_state(server) == UNINIT


@pytest.mark.parametrize("state", ["uninitialised", "sealed"])
def test_authenticated_endpoint_while_sealed_is_503(server, state):
    """Goal: every non-status endpoint answers 503 `Vault is sealed` before init and while sealed,
    with or without a token, and sys/leader too. Method: GET key-status, leader, unknown sys path."""
    token = "bogus"
    if state == "sealed":
        token = init_only(server)["root_token"]
    for path in ("sys/key-status", "sys/leader", "sys/nope", "secret/data/x"):
        r = call(server, "GET", path, headers={"X-Vault-Token": token})
        assert (path, r.status_code, errors_of(r)) == (path, 503, SEALED)
    r = call(server, "GET", "sys/key-status")
    assert (r.status_code, errors_of(r)) == (503, SEALED)


def test_seal_when_already_sealed_is_204(server):
    """Goal: PUT sys/seal on a sealed node is a 204 no-op in bao. Method: init (sealed), seal."""
    token = init_only(server)["root_token"]
    r = call(server, "PUT", "sys/seal", headers={"X-Vault-Token": token})
    assert r.status_code == 204 and r.content == b""
    assert seal_state(server) == SEALED_3_2


# ---------------------------------------------------------------- sys/health codes per state

HEALTH_CASES = {
    # query: (uninitialised, sealed, active)
    "": (501, 503, 200),
    "standbyok=true": (501, 503, 200),
    "uninitcode=204": (204, 503, 200),
    "sealedcode=204": (501, 204, 200),
    "standbyok=true&sealedcode=204&uninitcode=204": (204, 204, 200),
    "activecode=299": (501, 503, 299),
    "activecode=abc": (400, 400, 400),
    "standbyok=maybe": (400, 400, 400),
}


def _health_codes(srv, column):
    got = {}
    for q, codes in HEALTH_CASES.items():
        r = call(srv, "GET", "sys/health" + ("?" + q if q else ""))
        h = requests.head(srv.v1("sys/health") + ("?" + q if q else ""), timeout=TIMEOUT)
        got[q] = (r.status_code, h.status_code)
        want = codes[column]
        assert got[q] == (want, want), (q, got[q], want)
        assert r.headers.get("Content-Type") == "application/json"
        assert r.headers.get("Cache-Control") == "no-store"
        assert h.content == b""
        if want == 400:
            assert r.json() == EMPTY, q
        elif want == 204:
            assert r.content == b"", q
        else:
            body = r.json()
            assert body["initialized"] is (column > 0), q
            assert body["sealed"] is (column < 2), q
    return got


def test_health_codes_before_init(server):
    """Goal: sys/health status selection and code params before init. Method: GET and HEAD each query."""
    _health_codes(server, 0)
    body = call(server, "GET", "sys/health").json()
    assert {k: body[k] for k in ("initialized", "sealed", "standby", "replication_performance_mode",
                                 "replication_dr_mode")} == {
        "initialized": False, "sealed": True, "standby": True,
        "replication_performance_mode": "unknown", "replication_dr_mode": "unknown"}
    assert "cluster_id" not in body and "cluster_name" not in body
    assert seal_state(server) == UNINIT


def test_health_codes_when_sealed(server):
    """Goal: sys/health status selection and code params while sealed. Method: as above."""
    init_only(server)
    _health_codes(server, 1)
    body = call(server, "GET", "sys/health").json()
    assert (body["initialized"], body["sealed"], body["standby"]) == (True, True, True)
    assert "cluster_id" not in body
    assert seal_state(server) == SEALED_3_2


def test_health_codes_when_active(server):
    """Goal: sys/health status selection and code params when unsealed and active."""
    init_and_unseal(server)
    _health_codes(server, 2)
    body = call(server, "GET", "sys/health").json()
    assert (body["initialized"], body["sealed"], body["standby"]) == (True, False, False)
    assert isinstance(body["server_time_utc"], int) and body["cluster_id"] and body["cluster_name"]
    assert body["replication_dr_mode"] == "disabled"
    assert body["replication_performance_mode"] in ("primary", "disabled")  # bao raft: "primary".


# ---------------------------------------------------------------- list parsing, headers

def test_list_query_with_bad_bool_is_400_and_list_verb_works(server):
    """Goal: `?list=` is parsed as a Go bool; LIST verb ≡ ?list=true; plain GET on a list-only
    path is 405. Method: sys/policies/acl with the root token."""
    init_and_unseal(server)
    h = {"X-Vault-Token": server.root_token}
    r = call(server, "GET", "sys/policies/acl?list=maybe", headers=h)
    assert (r.status_code, errors_of(r)) == (400, EMPTY)
    a = call(server, "GET", "sys/policies/acl?list=true", headers=h)
    b = call(server, "LIST", "sys/policies/acl", headers=h)
    assert a.status_code == b.status_code == 200
    assert a.json()["data"] == b.json()["data"] == {"keys": ["default", "root"]}
    for q in ("1", "t", "T", "TRUE", "True"):
        assert call(server, "GET", f"sys/policies/acl?list={q}", headers=h).status_code == 200, q
    r = call(server, "GET", "sys/policies/acl", headers=h)
    assert (r.status_code, errors_of(r)) == (405, {"errors": ["1 error occurred:\n\t* unsupported operation\n\n"]})
    r = call(server, "GET", "sys/policies/acl?list=false", headers=h)
    assert r.status_code == 405


def test_unknown_paths_with_root_token_are_404_with_bao_messages(server):
    """Goal: unknown sys path and unknown mount give bao's 404 texts. Method: GET with root token."""
    init_and_unseal(server)
    h = {"X-Vault-Token": server.root_token}
    r = call(server, "GET", "sys/nope", headers=h)
    assert (r.status_code, errors_of(r)) == (404, {"errors": ["1 error occurred:\n\t* unsupported path\n\n"]})
    r = call(server, "GET", "nope/x", headers=h)
    assert (r.status_code, errors_of(r)) == (404, {"errors": ['no handler for route "nope/x". route entry not found.']})


HEADER_CASES = [
    ("GET", "sys/seal-status", False), ("GET", "sys/health", False), ("GET", "sys/leader", False),
    ("GET", "sys/init", False), ("GET", "sys/key-status", True), ("GET", "sys/key-status", False),
    ("GET", "sys/unseal", False), ("PUT", "sys/unseal", False), ("GET", "/nope", False),
    ("PUT", "sys/rotate", True), ("GET", "sys/nope", True),
]


def test_responses_have_exact_content_type_and_no_store(server):
    """Goal: Content-Type is exactly application/json (hvac compares it) and Cache-Control is
    no-store on 200, 204, 4xx. Method: one request per case on one active server."""
    init_and_unseal(server)
    bad = []
    for method, path, auth in HEADER_CASES:
        h = {"X-Vault-Token": server.root_token} if auth else {}
        url = server.addr + path if path.startswith("/") else server.v1(path)
        r = requests.request(method, url, headers=h, json={} if method == "PUT" else None, timeout=TIMEOUT)
        got = (r.headers.get("Content-Type"), r.headers.get("Cache-Control"))
        if got != ("application/json", "no-store"):
            bad.append((method, path, r.status_code, got))
    assert bad == []
