"""Response wrapping (`X-Vault-Wrap-TTL`, `sys/wrapping/*`) and `sys/leases/*` match bao.

Flows run on the module's shared dev servers and are compared step by step (WRP-01..05,
LSE-01..07, engines-seals-k8s §3.3). Tokens and wrapped secrets must not reach the log.
"""
from __future__ import annotations

import hvac
import requests

from harness import Transcript, api, compare_with_bao, log_leaks, wait_until

SECRET = "wrapped-secret-value-5d1e"


def client(srv, token="root"):
    return hvac.Client(url=srv.addr, token=token, timeout=30)


def wrapping_flow(srv, remember):
    t = Transcript()
    c = client(srv)
    api(srv, "POST", "secret/data/wrapme", json_body={"data": {"pw": SECRET}})
    wrapped = c.secrets.kv.v2.read_secret_version("wrapme", raise_on_deleted_version=True) and \
        c.adapter.get("/v1/secret/data/wrapme", wrap_ttl="60s")
    t.add("wrapped read", ("ok", {k: (v if k != "wrap_info" else sorted(v)) for k, v in wrapped.items()
                                  if k not in ("request_id",)}) if isinstance(wrapped, dict) else wrapped)
    info = wrapped["wrap_info"]
    remember(info["token"])
    t.add("wrap_info ttl/creation_path", (info["ttl"], info["creation_path"]))
    t.call("lookup", c.sys.read_wrapping_lookup if hasattr(c.sys, "read_wrapping_lookup") else c.adapter.post,
           "/v1/sys/wrapping/lookup", json={"token": info["token"]})
    rw = t.call("rewrap", c.adapter.post, "/v1/sys/wrapping/rewrap", json={"token": info["token"]})
    new = rw["wrap_info"]["token"] if rw else info["token"]
    remember(new)
    t.call("unwrap old after rewrap", c.sys.unwrap, info["token"])
    t.call("unwrap (body token)", c.sys.unwrap, new)
    t.call("unwrap again (single use)", c.sys.unwrap, new)
    t.call("lookup used", c.adapter.post, "/v1/sys/wrapping/lookup", json={"token": new})
    w2 = c.adapter.get("/v1/secret/data/wrapme", wrap_ttl="60s")["wrap_info"]["token"]
    remember(w2)
    t.call("unwrap (as X-Vault-Token)", client(srv, w2).sys.unwrap)
    t.call("wrap arbitrary data", c.sys.wrap, payload={"a": SECRET}, ttl="60s")
    t.http("wrap without header", api(srv, "POST", "sys/wrapping/wrap", json_body={"a": "b"}))
    t.http("bad wrap ttl header", api(srv, "GET", "secret/data/wrapme", headers={"X-Vault-Wrap-TTL": "-5"}))
    t.http("unparsable wrap ttl", api(srv, "GET", "secret/data/wrapme", headers={"X-Vault-Wrap-TTL": "soon"}))
    t.call("unwrap unknown", c.sys.unwrap, "hvs.nonexistentnonexistent0")
    wt = c.auth.token.create(policies=["default"], ttl="1h", wrap_ttl="60s")["wrap_info"]
    remember(wt["token"])
    t.add("wrapped token create creation_path", wt["creation_path"])
    un = c.sys.unwrap(wt["token"])
    remember(un["auth"]["client_token"])
    t.add("unwrapped auth usable", api(srv, "GET", "auth/token/lookup-self",
                                       token=un["auth"]["client_token"]).status_code)
    short = c.adapter.get("/v1/secret/data/wrapme", wrap_ttl="1s")["wrap_info"]["token"]
    remember(short)

    def status(path):
        try:
            return api(srv, "POST", path, json_body={"token": short}, timeout=3).status_code
        except requests.RequestException:
            return "no answer within 3 s"

    t.add("1 s wrap expires within 10 s", wait_until(lambda: status("sys/wrapping/lookup") != 200, 10, 0.25))
    t.add("lookup expired", status("sys/wrapping/lookup"))
    t.add("unwrap expired", status("sys/wrapping/unwrap"))
    return t


def check_wrapping(d):
    assert d["wrap_info ttl/creation_path"] == (60, "secret/data/wrapme")
    assert d["unwrap (body token)"][1]["data"]["data"] == {"pw": SECRET}
    invalid = ("raised", "InvalidRequest", ["wrapping token is not valid or does not exist"])
    assert d["unwrap again (single use)"] == invalid
    assert d["unwrap old after rewrap"] == invalid
    assert d["wrap without header"][0] == 400
    assert d["1 s wrap expires within 10 s"] is True
    assert (d["lookup expired"], d["unwrap expired"]) == (400, 400)
    assert d["unwrapped auth usable"] == 200


def test_response_wrapping_wrap_lookup_rewrap_unwrap_single_use_and_expiry(kind, pair, dsrv):
    """Goal: WRP-01..05 — a wrapped read returns only wrap_info; lookup/rewrap/unwrap (body or
    header token) work once; reuse, rewrapped-away, unknown and expired (1 s TTL) tokens are 400;
    sys/wrapping/wrap needs the header; bad header values are 400; a wrapped token create unwraps
    to a usable token. Method: hvac + raw HTTP on both servers, compared."""
    pair.remember(kind, SECRET)
    compare_with_bao(pair, kind, "wrapping", lambda s: wrapping_flow(s, lambda *v: pair.remember(kind, *v)),
                     check_wrapping)


def leases_flow(srv, remember):
    t = Transcript()
    c = client(srv)
    t.call("read_lease unknown", c.sys.read_lease, "secret/data/x/abcdefghijklmnopqrstuvwx")
    t.call("renew_lease unknown", c.sys.renew_lease, "secret/data/x/abcdefghijklmnopqrstuvwx")
    t.call("revoke_lease unknown (idempotent)", c.sys.revoke_lease, "secret/data/x/abcdefghijklmnopqrstuvwx")
    t.call("list_leases empty prefix", c.sys.list_leases, "nothing/")
    t.call("revoke_prefix", c.sys.revoke_prefix, "nothing/")
    t.call("revoke_force", c.sys.revoke_force, "nothing/")
    t.http("renew without lease_id", api(srv, "PUT", "sys/leases/renew", json_body={}))
    t.http("lookup without lease_id", api(srv, "PUT", "sys/leases/lookup", json_body={}))
    for label, increment in (("negative", "-1h"), ("negative seconds", -3600), ("unparsable", "abc")):
        t.http(f"renew {label} increment (field validation)", api(
            srv, "PUT", "sys/leases/renew", json_body={"lease_id": "a/b/c", "increment": increment}))
    t.http("revoke sync=false", api(srv, "PUT", "sys/leases/revoke",
                                    json_body={"lease_id": "secret/data/x/abcdefghijklmnopqrstuvwx", "sync": False}))
    t.http("tidy", api(srv, "POST", "sys/leases/tidy"))
    # Legacy `sys/renew/<id>` is not compared: Vault 1.14 serves it (Tresor does), bao 2.7.2
    # removed it (404 unsupported path).
    # A token's lease id is `auth/token/create/h<salted hash>`, not its accessor.
    tok = api(srv, "POST", "auth/token/create", json_body={"policies": ["default"], "ttl": "1h"}).json()["auth"]
    remember(tok["client_token"])
    t.http("renew token lease through sys/leases", api(srv, "PUT", "sys/leases/renew",
                                                      json_body={"lease_id": "auth/token/create/" + tok["accessor"]}))
    listing = api(srv, "LIST", "sys/leases/lookup/auth/token/create/")
    t.add("list auth/token leases (status, has keys)",
          (listing.status_code, bool(listing.content and listing.json().get("data", {}).get("keys"))))
    token_leases_steps(t, srv, c, remember)
    # KV returns lease_duration but registers no lease.
    kv = api(srv, "GET", "secret/data/wrapme").json()
    t.add("kv lease_id empty", (kv["lease_id"], kv["renewable"]))
    # Non-root tokens: lookup/renew come from `default`; listing needs sudo.
    t.http("default token lookup unknown lease", api(srv, "PUT", "sys/leases/lookup", token=tok["client_token"],
                                                     json_body={"lease_id": "a/b/c"}))
    t.http("default token list leases", api(srv, "LIST", "sys/leases/lookup/secret/", token=tok["client_token"]))
    return t


def token_lease_keys(c):
    """The keys of `LIST sys/leases/lookup/auth/token/create/` (hvac), empty when none."""
    import hvac.exceptions
    try:
        return set(c.sys.list_leases("auth/token/create/")["data"]["keys"])
    except hvac.exceptions.InvalidPath:
        return set()


def token_leases_steps(t, srv, c, remember):
    """A token with a TTL is a lease `auth/token/create/h<salted hash>`: listed, looked up,
    not renewable through sys/leases, and revoking it revokes the token and its children."""
    api(srv, "PUT", "sys/policies/acl/lease-tok", json_body={"policy": 'path "auth/token/create" { capabilities = ["update"] }'})
    before = token_lease_keys(c)
    made = api(srv, "POST", "auth/token/create", json_body={"policies": ["default", "lease-tok"], "ttl": "1h"}).json()["auth"]
    remember(made["client_token"])
    child = api(srv, "POST", "auth/token/create", token=made["client_token"],
                json_body={"policies": ["default"], "ttl": "30m"}).json()["auth"]
    remember(child["client_token"])
    new = sorted(token_lease_keys(c) - before)
    t.add("token lease: one new key per token, h + hash", [(k[0], len(k)) for k in new])
    # The parent is the one created first: its lease has the longer TTL.
    ids = ["auth/token/create/" + k for k in new]
    looked = {i: c.sys.read_lease(i)["data"] for i in ids}
    lease_id = max(ids, key=lambda i: looked[i]["ttl"])
    data = looked[lease_id]
    t.add("token lease lookup (hvac read_lease)",
          (sorted(data), data["id"] == lease_id, data.get("path"), data["renewable"], 3500 < data["ttl"] <= 3600,
           data["expire_time"] is not None, data["last_renewal"]))
    t.http("token lease renew through sys/leases",
           api(srv, "PUT", "sys/leases/renew", json_body={"lease_id": lease_id}))
    t.http("token lease revoke", api(srv, "PUT", "sys/leases/revoke", json_body={"lease_id": lease_id}))
    t.add("token lease revoke: token gone",
          api(srv, "GET", "auth/token/lookup-self", token=made["client_token"]).status_code)
    t.add("token lease revoke: child gone",
          api(srv, "GET", "auth/token/lookup-self", token=child["client_token"]).status_code)
    t.http("token lease lookup after revoke",
           api(srv, "PUT", "sys/leases/lookup", json_body={"lease_id": lease_id}))
    t.add("token lease revoke: both leases gone", sorted(token_lease_keys(c) & set(new)))


def check_leases(d):
    assert d["read_lease unknown"] == ("raised", "InvalidRequest", ["invalid lease"])
    assert d["renew_lease unknown"][:2] == ("raised", "InvalidRequest")
    assert d["revoke_lease unknown (idempotent)"] == ("response", 204, None)
    assert d["renew without lease_id"] == (400, {"errors": ["lease_id must be specified"]})
    assert d["revoke sync=false"][0] == 202
    assert d["tidy"][0] == 202
    negative = "error converting input for field \"increment\": cannot provide negative value '-3600'"
    assert d["renew negative increment (field validation)"] == (400, {"errors": [f"Field validation failed: {negative}"]})
    assert d["renew negative seconds increment (field validation)"] == d["renew negative increment (field validation)"]
    assert d["renew unparsable increment (field validation)"] == (400, {"errors": [
        "Field validation failed: error converting input for field \"increment\": time: invalid duration \"abc\""]})
    assert d["kv lease_id empty"] == ("", False)
    assert d["default token list leases"][0] == 403
    assert d["list auth/token leases (status, has keys)"] == (200, True)
    assert d["token lease: one new key per token, h + hash"] == [("h", 65), ("h", 65)]
    assert d["token lease lookup (hvac read_lease)"] == (
        ["expire_time", "id", "issue_time", "last_renewal", "path", "renewable", "ttl"], True, "auth/token/create",
        True, True, True, None)
    assert d["token lease renew through sys/leases"] == (
        400, {"errors": ["tokens cannot be renewed through this endpoint"]})
    assert d["token lease revoke"][0] == 204
    assert d["token lease revoke: token gone"] == 403
    assert d["token lease revoke: child gone"] == 403
    assert d["token lease lookup after revoke"] == (400, {"errors": ["invalid lease"]})
    assert d["token lease revoke: both leases gone"] == []


def test_sys_leases_error_paths_and_unknown_leases_match_bao(kind, pair, dsrv):
    """Goal: LSE-01..06 error paths — lookup/renew of unknown leases, idempotent revoke, empty
    list, prefix/force revoke, missing lease_id, async revoke 202, tidy 202, field validation
    texts, token leases (listed, looked up, not renewable here, revoking one revokes the token
    and its child), KV registers no lease, sudo on listing. FIXME(#4): nothing on Tresor (or in
    this suite's engines) issues a secret lease yet, so lookup/renew/revoke of a live secret
    lease is not exercised. Method: hvac + raw HTTP on both servers, compared."""
    compare_with_bao(pair, kind, "leases", lambda s: leases_flow(s, lambda *v: pair.remember(kind, *v)),
                     check_leases)


def test_wrapping_server_log_contains_no_token_or_secret(kind, pair, dsrv):
    """Goal: no wrapping token, token or wrapped value appears in the server's log. Method: search it."""
    pair.remember(kind, SECRET)
    assert log_leaks(dsrv, pair.secrets[kind]) == []
