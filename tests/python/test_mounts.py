"""Secrets-engine mounts (`sys/mounts`, tune, `sys/remount`, `sys/internal/ui/mounts`) and the
auth-method table through hvac and raw HTTP give bao's answers on Tresor (MNT-01..10, AUTH-01..04).
"""
from __future__ import annotations

import time

import hvac

from harness import Transcript, api, compare_with_bao, log_leaks


def client(srv, token="root"):
    return hvac.Client(url=srv.addr, token=token, timeout=30)


def mounts_flow(srv):
    t = Transcript()
    c = client(srv)
    s = c.sys
    t.call("enable kv v2", s.enable_secrets_engine, "kv", path="m-kv2", options={"version": "2"},
           description="team kv")
    t.call("enable kv-v2 alias", s.enable_secrets_engine, "kv-v2", path="m-kv2b")
    t.call("enable kv (v1)", s.enable_secrets_engine, "kv", path="m-kv1", config={"default_lease_ttl": "1h"})
    t.call("enable generic alias", s.enable_secrets_engine, "generic", path="m-gen")
    t.call("enable conflict", s.enable_secrets_engine, "kv", path="m-kv2")
    t.call("enable nested conflict", s.enable_secrets_engine, "kv", path="m-kv2/sub")
    t.call("enable reserved sys/", s.enable_secrets_engine, "kv", path="sys/x")
    t.call("enable reserved auth/", s.enable_secrets_engine, "kv", path="auth/x")
    t.call("enable token type", s.enable_secrets_engine, "token", path="m-tok")
    t.call("enable unknown type", s.enable_secrets_engine, "nosuchengine", path="m-unknown")
    t.call("enable version on non-kv", s.enable_secrets_engine, "cubbyhole", path="m-cub", options={"version": "2"})
    t.call("enable without type", c.adapter.post, "/v1/sys/mounts/m-notype", json={})
    listing = s.list_mounted_secrets_engines()
    mine = {k: v for k, v in listing["data"].items() if k.startswith("m-") or k in ("secret/", "sys/", "cubbyhole/", "identity/")}
    t.add("list (own + defaults)", ("ok", {k: {f: v.get(f) for f in ("type", "description", "local", "seal_wrap", "options", "config")}
                                           for k, v in sorted(mine.items())}))
    t.add("list top-level injection", all(k in listing for k in mine))
    t.add("list field shape", sorted(listing["data"]["m-kv2/"]))
    t.call("read_mount_configuration", s.read_mount_configuration, "m-kv2")
    t.call("read one mount", c.adapter.get, "/v1/sys/mounts/m-kv2")
    t.call("tune", s.tune_mount_configuration, "m-kv2", default_lease_ttl="30m", max_lease_ttl="2h",
           description="tuned")
    t.call("read tuned", s.read_mount_configuration, "m-kv2")
    t.call("tune default > max", s.tune_mount_configuration, "m-kv2", default_lease_ttl="3h")
    # bao 2.7.2's warning says "from version 0 to version 0" (a bao slip); Vault's says 1 to 2.
    up = s.tune_mount_configuration("m-kv1", options={"version": "2"})
    t.add("upgrade v1 to v2", [w.startswith("Upgrading mount from version ") for w in up["warnings"]])
    t.call("downgrade v2 to v1", s.tune_mount_configuration, "m-kv2", options={"version": "1"})
    t.call("tune sys/", s.tune_mount_configuration, "sys", default_lease_ttl="1h")
    t.call("tune unknown mount", s.read_mount_configuration, "m-nothere")
    t.call("ui mounts (kv preflight)", c.adapter.get, "/v1/sys/internal/ui/mounts/m-kv2/some/key")
    t.call("ui mounts unknown", c.adapter.get, "/v1/sys/internal/ui/mounts/m-nothere/x")
    api(srv, "POST", "m-kv2b/data/k", json_body={"data": {"v": "moved"}})
    moved = t.call("move_backend", s.move_backend, "m-kv2b", "m-kv2c")
    if isinstance(moved, dict) and "migration_id" in moved.get("data", moved):
        mid = moved.get("data", moved)["migration_id"]
        status = None
        for _ in range(50):  # Bounded: ≤ 5 s.
            r = api(srv, "GET", f"sys/remount/status/{mid}")
            if r.status_code != 200:
                status = (r.status_code, r.json())
                break
            status = r.json()["data"]["migration_info"]["status"]
            if status != "in-progress":
                break
            time.sleep(0.1)
        t.add("remount status", status)
    t.http("read moved data", api(srv, "GET", "m-kv2c/data/k"))
    t.http("old path gone", api(srv, "GET", "m-kv2b/data/k"))
    t.call("remount to existing", s.move_backend, "m-kv2c", "m-kv2")
    t.call("disable", s.disable_secrets_engine, "m-kv2")
    t.call("disable again (idempotent)", s.disable_secrets_engine, "m-kv2")
    t.http("data gone after remount at same path", (s.enable_secrets_engine("kv-v2", path="m-kv2"),
                                                     api(srv, "GET", "m-kv2/data/k"))[1])
    t.call("disable sys", s.disable_secrets_engine, "sys")
    t.call("disable cubbyhole", s.disable_secrets_engine, "cubbyhole")
    auth = c.sys.list_auth_methods()
    t.add("auth list token/", ("ok", {f: auth["data"]["token/"].get(f) for f in ("type", "description", "local", "seal_wrap")}
                                       | {"token_type": auth["data"]["token/"]["config"].get("token_type")}))
    t.call("disable token auth", c.sys.disable_auth_method, "token")
    t.call("auth bad token_type", c.adapter.post, "/v1/sys/auth/m-tt", json={"type": "token", "config": {"token_type": "weird"}})
    t.call("read token auth tune", c.adapter.get, "/v1/sys/auth/token/tune")
    return t


def check_mounts(d):
    assert d["enable kv v2"] == ("response", 204, None)
    assert d["enable conflict"] == ("raised", "InvalidRequest", ["path is already in use at m-kv2/"])
    lst = d["list (own + defaults)"][1]
    assert lst["m-kv2b/"]["options"] == {"version": "2"} and lst["m-gen/"]["type"] == "generic"
    assert d["list top-level injection"] is True
    assert d["downgrade v2 to v1"][:2] == ("raised", "InvalidRequest")
    assert d["read moved data"][0] == 200 and d["old path gone"][0] in (403, 404)
    assert d["disable again (idempotent)"] == ("response", 204, None)
    assert d["data gone after remount at same path"][0] == 404
    assert d["remount status"] == "success"


def test_mounts_enable_list_tune_move_disable_match_bao(kind, pair, dsrv):
    """Goal: MNT-01..10 and AUTH-01..04 through hvac — enable (kv versions, aliases, conflicts,
    reserved paths, singleton/unknown types), list fields and top-level injection, read/tune
    (TTL checks, KV upgrade, no downgrade, sys/ not tunable), ui/mounts preflight, remount with
    status and data kept, disable idempotent and data erased, token auth not disableable.
    Method: the same calls on both servers, transcripts compared."""
    compare_with_bao(pair, kind, "mounts", mounts_flow, check_mounts)


def test_mounts_server_log_contains_no_token(kind, pair, dsrv):
    """Goal: the module's log holds no created token. Method: create one, use it, search the log."""
    tok = api(dsrv, "POST", "auth/token/create", json_body={"ttl": "1h"}).json()["auth"]["client_token"]
    api(dsrv, "GET", "sys/mounts", token=tok)
    pair.remember(kind, tok)
    assert log_leaks(dsrv, pair.secrets[kind]) == []
