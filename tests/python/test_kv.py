"""KV v1, KV v2 and cubbyhole through hvac and raw HTTP give bao's answers on Tresor.

Each test runs one fixed flow on the module's shared dev server (`-dev -dev-root-token-id=root`)
of each kind, with its own mount and key names, and records every answer scrubbed of
per-run values (ids, times, tokens): status codes, field names and types, and values where
they are deterministic. The bao variant checks the test's literal expectations; the Tresor
variant must produce bao's transcript step for step. Bad input must also change nothing.
"""
from __future__ import annotations

import json
import re

import hvac
import pytest

from harness import Transcript, api, compare_with_bao, log_leaks, shape

SECRET = "kv-secret-value-7f3a9c"


def client(srv, token="root"):
    return hvac.Client(url=srv.addr, token=token, timeout=30)


def mount(srv, path, typ="kv", options=None):
    body = {"type": typ}
    if options:
        body["options"] = options
    r = api(srv, "POST", f"sys/mounts/{path}", json_body=body)
    assert r.status_code == 204, (r.status_code, r.text)


# ---------------------------------------------------------------- KV v1

def kv1_flow(srv):
    t = Transcript()
    c = client(srv)
    mount(srv, "kv1h", options={"version": "1"})
    kv = c.secrets.kv.v1
    t.call("create", kv.create_or_update_secret, "app/db", {"password": SECRET, "n": 1}, mount_point="kv1h")
    t.call("create nested", kv.create_or_update_secret, "app/sub/x", {"a": "b"}, mount_point="kv1h")
    t.call("read", kv.read_secret, "app/db", mount_point="kv1h")
    t.call("list app", kv.list_secrets, "app", mount_point="kv1h")
    t.call("list root", kv.list_secrets, "", mount_point="kv1h")
    t.call("write with ttl", kv.create_or_update_secret, "ttl", {"ttl": "1h", "v": "x"}, mount_point="kv1h")
    r = api(srv, "GET", "kv1h/ttl")
    t.add("ttl lease_duration", (r.status_code, r.json()["lease_duration"], r.json()["lease_id"],
                                 r.json()["renewable"]))
    t.add("default lease_duration", api(srv, "GET", "kv1h/app/db").json()["lease_duration"])
    t.http("empty body write", api(srv, "PUT", "kv1h/empty", json_body={}))
    t.http("read missing", api(srv, "GET", "kv1h/nope"))
    t.http("list missing", api(srv, "LIST", "kv1h/nope/"))
    t.call("delete", kv.delete_secret, "app/db", mount_point="kv1h")
    t.call("delete again", kv.delete_secret, "app/db", mount_point="kv1h")
    t.call("read deleted", kv.read_secret, "app/db", mount_point="kv1h")
    t.http("GET ?list=true", api(srv, "GET", "kv1h/app?list=true"))
    nums = api(srv, "PUT", "kv1h/nums", data=b'{"f":1.0,"big":123456789012345678901234,"e":1e3}')
    t.add("numbers write", nums.status_code)
    raw = api(srv, "GET", "kv1h/nums").text
    t.add("numbers verbatim (REQ-06)", re.search(r'"data":(\{[^}]*\})', raw).group(1))
    return t


def check_kv1(d):
    assert d["create"] == ("response", 204, None)
    assert d["read"][1]["data"] == {"n": 1, "password": SECRET}
    assert d["list app"][1]["data"] == {"keys": ["db", "sub/"]}
    assert d["ttl lease_duration"] == (200, 3600, "", False)
    assert d["default lease_duration"] == 2764800
    assert d["empty body write"] == (400, {"errors": ["missing data fields"]})
    assert d["read missing"] == (404, {"errors": []})
    assert d["read deleted"] == ("raised", "InvalidPath", [])
    assert d["delete again"] == ("response", 204, None)
    assert d["numbers verbatim (REQ-06)"] == '{"big":123456789012345678901234,"e":1e3,"f":1.0}'


def test_kv1_crud_list_and_ttl_match_bao(kind, pair, dsrv):
    """Goal: KV-02..04 through hvac — write 204, read envelope (lease_duration = mount default
    or the secret's `ttl`), list with folders, delete idempotent, empty write 400.
    Method: the same hvac/raw calls on both servers, transcripts compared."""
    pair.remember(kind, SECRET)
    compare_with_bao(pair, kind, "kv1", kv1_flow, check_kv1)


# ---------------------------------------------------------------- KV v2

def kv2_flow(srv):
    t = Transcript()
    c = client(srv)
    mount(srv, "kv2h", typ="kv-v2")
    kv = c.secrets.kv.v2
    m = "kv2h"
    t.call("configure", kv.configure, max_versions=5, cas_required=False, mount_point=m)
    t.call("read_configuration", kv.read_configuration, mount_point=m)
    t.call("put v1 cas=0", kv.create_or_update_secret, "app/db", {"pw": SECRET}, cas=0, mount_point=m)
    t.call("put cas=0 again", kv.create_or_update_secret, "app/db", {"pw": "x"}, cas=0, mount_point=m)
    t.call("put v2 cas=1", kv.create_or_update_secret, "app/db", {"pw": "two", "user": "u"}, cas=1, mount_point=m)
    t.call("put cas=7", kv.create_or_update_secret, "app/db", {"pw": "x"}, cas=7, mount_point=m)
    t.call("read latest", kv.read_secret_version, "app/db", mount_point=m, raise_on_deleted_version=True)
    t.call("read version 1", kv.read_secret_version, "app/db", version=1, mount_point=m,
           raise_on_deleted_version=True)
    t.call("read version 9", kv.read_secret_version, "app/db", version=9, mount_point=m,
           raise_on_deleted_version=True)
    t.call("patch", kv.patch, "app/db", {"user": None, "extra": {"k": [1, 2]}}, mount_point=m)
    t.call("read after patch", kv.read_secret, "app/db", mount_point=m)
    t.call("subkeys", c.adapter.get, "/v1/kv2h/subkeys/app/db")
    t.call("subkeys depth 1", c.adapter.get, "/v1/kv2h/subkeys/app/db?depth=1")
    t.call("delete latest", kv.delete_latest_version_of_secret, "app/db", mount_point=m)
    t.call("read deleted (raise)", kv.read_secret_version, "app/db", mount_point=m,
           raise_on_deleted_version=True)
    t.call("read deleted (no raise)", kv.read_secret_version, "app/db", mount_point=m,
           raise_on_deleted_version=False)
    t.http("read deleted raw", api(srv, "GET", "kv2h/data/app/db"))
    t.call("undelete 3", kv.undelete_secret_versions, "app/db", [3], mount_point=m)
    t.call("read undeleted", kv.read_secret_version, "app/db", mount_point=m, raise_on_deleted_version=True)
    t.call("delete versions [1]", kv.delete_secret_versions, "app/db", [1], mount_point=m)
    t.call("destroy [2]", kv.destroy_secret_versions, "app/db", [2], mount_point=m)
    t.http("read destroyed v2", api(srv, "GET", "kv2h/data/app/db?version=2"))
    t.call("metadata", kv.read_secret_metadata, "app/db", mount_point=m)
    t.call("update_metadata", kv.update_metadata, "app/db", max_versions=3, cas_required=True,
           delete_version_after="1h", custom_metadata={"owner": "team-a"}, mount_point=m)
    t.call("metadata after update", kv.read_secret_metadata, "app/db", mount_point=m)
    t.call("put without cas (cas_required)", kv.create_or_update_secret, "app/db", {"pw": "x"}, mount_point=m)
    t.call("put cas=3", kv.create_or_update_secret, "app/db", {"pw": "four"}, cas=3, mount_point=m)
    t.call("metadata after v4", kv.read_secret_metadata, "app/db", mount_point=m)
    t.call("write other", kv.create_or_update_secret, "app/other", {"a": 1}, mount_point=m)
    t.call("write folder key", kv.create_or_update_secret, "app/dir/leaf", {"a": 1}, mount_point=m)
    t.call("list app", kv.list_secrets, "app", mount_point=m)
    t.call("list root", kv.list_secrets, "", mount_point=m)
    t.call("list missing", kv.list_secrets, "nothing", mount_point=m)
    t.call("metadata patch", c.adapter.request, "PATCH", "/v1/kv2h/metadata/app/other",
           json={"custom_metadata": {"x": "1"}}, headers={"Content-Type": "application/merge-patch+json"})
    t.call("metadata other", kv.read_secret_metadata, "app/other", mount_point=m)
    t.call("metadata for unwritten key", kv.update_metadata, "app/future", max_versions=2, mount_point=m)
    t.call("read unwritten key", kv.read_secret_version, "app/future", mount_point=m, raise_on_deleted_version=True)
    t.call("metadata unwritten", kv.read_secret_metadata, "app/future", mount_point=m)
    t.call("delete metadata", kv.delete_metadata_and_all_versions, "app/db", mount_point=m)
    t.call("read after metadata delete", kv.read_secret_version, "app/db", mount_point=m,
           raise_on_deleted_version=True)
    t.call("metadata after delete", kv.read_secret_metadata, "app/db", mount_point=m)
    return t


def check_kv2(d):
    conf = d["read_configuration"][1]["data"]
    assert {k: conf[k] for k in ("cas_required", "delete_version_after", "max_versions")} == {
        "cas_required": False, "delete_version_after": "0s", "max_versions": 5}
    assert d["put v1 cas=0"][1]["data"]["version"] == 1
    assert d["put cas=0 again"] == ("raised", "InvalidRequest",
                                    ["check-and-set parameter did not match the current version"])
    assert d["read latest"][1]["data"]["data"] == {"pw": "two", "user": "u"}
    assert d["read version 9"] == ("raised", "InvalidPath", [])
    # hvac's patch is a client-side read + CAS write, so `None` is stored as null.
    assert d["read after patch"][1]["data"]["data"] == {"pw": "two", "user": None, "extra": {"k": [1, 2]}}
    assert d["subkeys"][1]["data"]["subkeys"] == {"extra": {"k": None}, "pw": None, "user": None}
    assert d["subkeys depth 1"][1]["data"]["subkeys"] == {"extra": None, "pw": None, "user": None}
    assert d["read deleted (raise)"][:2] == ("raised", "InvalidPath")
    assert d["read deleted (no raise)"][1]["data"]["data"] is None
    assert d["read deleted raw"][0] == 404 and d["read deleted raw"][1]["data"]["data"] is None
    assert d["read destroyed v2"][1]["data"]["metadata"]["destroyed"] is True
    assert d["put without cas (cas_required)"] == ("raised", "InvalidRequest",
                                                   ["check-and-set parameter required for this call"])
    meta = d["metadata after v4"][1]["data"]
    # The mount's max_versions (5) is larger than the key's (3), so nothing is pruned yet.
    assert (meta["current_version"], meta["max_versions"], meta["oldest_version"]) == (4, 3, 0)
    assert meta["custom_metadata"] == {"owner": "team-a"} and meta["delete_version_after"] == "1h0m0s"
    assert d["list app"][1]["data"] == {"keys": ["db", "dir/", "other"]}
    assert d["list missing"] == ("raised", "InvalidPath", [])
    assert d["metadata after delete"] == ("raised", "InvalidPath", [])


def test_kv2_versions_cas_patch_delete_destroy_metadata_match_bao(kind, pair, dsrv):
    """Goal: KV-05..17 through hvac — config, CAS (0 = must not exist, mismatch 400,
    cas_required), version reads, merge patch, soft delete/undelete/destroy, the 404 envelope
    for deleted versions, metadata read/update/patch/delete, max_versions pruning, list,
    subkeys. Method: one hvac flow on both servers, transcripts compared step by step."""
    pair.remember(kind, SECRET)
    compare_with_bao(pair, kind, "kv2", kv2_flow, check_kv2)


def kv2_badinput_flow(srv):
    t = Transcript()
    mount(srv, "kv2bad", typ="kv-v2")
    ok = api(srv, "POST", "kv2bad/data/k", json_body={"data": {"v": "1"}})
    assert ok.status_code == 200, ok.text
    meta0 = api(srv, "GET", "kv2bad/metadata/k").json()["data"]

    def typed(label, r):
        # Go's mapstructure text ("error converting input for field ...") is not something
        # clients parse; the status and a single error message are.
        body = r.json() if r.content else None
        t.add(label, (r.status_code, len(body["errors"]) if body and "errors" in body else body))

    def unchanged(label):
        t.add(label + " leaves metadata", api(srv, "GET", "kv2bad/metadata/k").json()["data"] == meta0)

    bad = api(srv, "POST", "kv2bad/data/k", data=b"{not json", headers={"Content-Type": "application/json"})
    # bao's text is Go's decoder error verbatim; the prefix is what clients can rely on.
    t.add("malformed JSON", (bad.status_code, [e.split(": ")[0] for e in bad.json().get("errors", [])]))
    unchanged("malformed JSON")
    t.http("JSON array body", api(srv, "POST", "kv2bad/data/k", data=b"[1,2]"))
    unchanged("JSON array body")
    t.http("no data field", api(srv, "POST", "kv2bad/data/k", json_body={"options": {}}))
    unchanged("no data field")
    t.http("bad cas", api(srv, "POST", "kv2bad/data/k", json_body={"data": {"v": "2"}, "options": {"cas": 5}}))
    unchanged("bad cas")
    typed("cas wrong type", api(srv, "POST", "kv2bad/data/k", json_body={"data": {"v": "2"}, "options": {"cas": "x"}}))
    unchanged("cas wrong type")
    typed("data wrong type", api(srv, "POST", "kv2bad/data/k", json_body={"data": "str"}))
    unchanged("data wrong type")
    typed("max_versions wrong type", api(srv, "POST", "kv2bad/metadata/k", json_body={"max_versions": "abc"}))
    unchanged("max_versions wrong type")
    typed("cas_required wrong type", api(srv, "POST", "kv2bad/metadata/k", json_body={"cas_required": "maybe"}))
    unchanged("cas_required wrong type")
    typed("delete_version_after bad", api(srv, "POST", "kv2bad/metadata/k", json_body={"delete_version_after": "soon"}))
    unchanged("delete_version_after bad")
    typed("config max_versions wrong type", api(srv, "POST", "kv2bad/config", json_body={"max_versions": "x"}))
    t.http("versions missing", api(srv, "POST", "kv2bad/delete/k", json_body={}))
    typed("versions wrong type", api(srv, "POST", "kv2bad/destroy/k", json_body={"versions": "a,b"}))
    unchanged("versions")
    t.http("patch wrong content type", api(srv, "PATCH", "kv2bad/data/k", json_body={"data": {"v": "3"}}))
    unchanged("patch wrong content type")
    # bao answers these three with an empty body; only the status is compared (Tresor adds
    # an `errors` body, which no client can mistake for data).
    t.add("patch missing key", api(srv, "PATCH", "kv2bad/data/nokey", data=json.dumps({"data": {"v": "3"}}),
                                   headers={"Content-Type": "application/merge-patch+json"}).status_code)
    t.add("NUL in path", api(srv, "GET", "kv2bad/data/a%00b").status_code)
    t.add("NUL in path write", api(srv, "POST", "kv2bad/data/a%00b", json_body={"data": {"v": "1"}}).status_code)
    t.add("NUL write created nothing", api(srv, "LIST", "kv2bad/metadata/").json()["data"]["keys"])
    t.http("unknown method", api(srv, "FROB", "kv2bad/data/k"))
    t.http("oversize body", api(srv, "POST", "kv2bad/data/k",
                                data=b'{"data":{"v":"' + b"x" * (33 * 1024 * 1024) + b'"}}'))
    unchanged("oversize body")
    t.http("root of mount read", api(srv, "GET", "kv2bad/data/"))
    t.http("v1-style path on v2", api(srv, "GET", "kv2bad/k"))
    t.http("v1-style write on v2", api(srv, "POST", "kv2bad/k", json_body={"a": "b"}))
    t.http("unknown version", api(srv, "GET", "kv2bad/data/k?version=99"))
    typed("version not a number", api(srv, "GET", "kv2bad/data/k?version=abc"))
    t.http("list=maybe", api(srv, "GET", "kv2bad/metadata/?list=maybe"))
    t.http("unknown mount", api(srv, "GET", "nomount/x"))
    nums = api(srv, "POST", "kv2bad/data/nums", data=b'{"data":{"f":1.0,"big":123456789012345678901234,"e":1e3}}',
               headers={"Content-Type": "application/json"})
    t.add("numbers write", nums.status_code)
    nums_read = api(srv, "GET", "kv2bad/data/nums").json()["data"]["data"]
    # INTENTIONAL DIFFERENCE: bao's KV v2 returns numbers as float64 (1.2345678901234569e+23,
    # 1000, 1) while Tresor keeps them exact per REQ-06; both must at least be equal as numbers.
    t.add("numbers equal as numbers", (float(nums_read["big"]) == 1.2345678901234569e+23,
                                       nums_read["e"] == 1000, nums_read["f"] == 1))
    meta = api(srv, "GET", "kv2bad/metadata/k").json()["data"]
    t.add("final versions", (meta["current_version"], sorted(meta["versions"])))
    return t


def check_kv2_badinput(d):
    for label, value in d.items():
        if label.endswith("leaves metadata"):
            assert value is True, label
    assert d["malformed JSON"] == (400, ["failed to decode JSON input"])
    assert d["no data field"] == (400, {"errors": ["no data provided"]})
    assert d["bad cas"] == (400, {"errors": ["check-and-set parameter did not match the current version"]})
    assert d["versions missing"] == (400, {"errors": ["No version number provided"]})
    assert d["patch wrong content type"] == (415, {"errors": [
        "PATCH requires Content-Type of application/merge-patch+json, provided application/json"]})
    assert d["oversize body"][0] == 413
    assert d["unknown method"] == (405, {"errors": []})
    assert (d["NUL in path"], d["NUL in path write"], d["patch missing key"]) == (400, 400, 404)
    assert d["NUL write created nothing"] == ["k"]
    assert d["numbers equal as numbers"] == (True, True, True)
    assert d["final versions"] == (1, ["1"])


def test_kv2_bad_input_is_refused_like_bao_and_creates_no_version(kind, pair, dsrv):
    """Goal: badinput rows on KV v2 — malformed JSON, wrong types for typed fields, bad/mistyped
    `cas`, missing `versions`, PATCH content type, NUL in a path, unknown method, a 33 MiB body,
    KV-18 wrong-path warnings; numbers are kept verbatim (REQ-06). Every refused write leaves the
    key's metadata unchanged (no new version). Method: raw HTTP on both servers, compared."""
    compare_with_bao(pair, kind, "kv2-badinput", kv2_badinput_flow, check_kv2_badinput)


def kv2_retention_flow(srv):
    t = Transcript()
    mount(srv, "kv2ret", typ="kv-v2")
    t.http("mount config max_versions 2", api(srv, "POST", "kv2ret/config", json_body={"max_versions": 2}))
    for i in range(1, 5):
        t.http(f"write {i}", api(srv, "POST", "kv2ret/data/k", json_body={"data": {"i": i}}))
    t.http("metadata", api(srv, "GET", "kv2ret/metadata/k"))
    t.http("read pruned v1", api(srv, "GET", "kv2ret/data/k?version=1"))
    t.http("read v3", api(srv, "GET", "kv2ret/data/k?version=3"))
    t.http("config cas_required", api(srv, "POST", "kv2ret/config", json_body={"cas_required": True}))
    t.http("write no cas", api(srv, "POST", "kv2ret/data/k", json_body={"data": {"i": 5}}))
    t.http("metadata cas_required false", api(srv, "POST", "kv2ret/metadata/k", json_body={"cas_required": False}))
    t.http("config read", api(srv, "GET", "kv2ret/config"))
    t.http("config cas off", api(srv, "POST", "kv2ret/config", json_body={"cas_required": False}))
    t.http("write p", api(srv, "POST", "kv2ret/data/p", json_body={"data": {"a": "1", "b": {"c": "2", "d": "3"}}}))
    t.http("merge-patch (null deletes)", api(srv, "PATCH", "kv2ret/data/p",
                                             data=json.dumps({"data": {"a": None, "b": {"c": "9"}, "e": "5"}}),
                                             headers={"Content-Type": "application/merge-patch+json"}))
    t.http("read patched", api(srv, "GET", "kv2ret/data/p"))
    t.http("merge-patch bad cas", api(srv, "PATCH", "kv2ret/data/p",
                                      data=json.dumps({"data": {"e": "6"}, "options": {"cas": 1}}),
                                      headers={"Content-Type": "application/merge-patch+json"}))
    t.http("delete latest p", api(srv, "DELETE", "kv2ret/data/p"))
    t.http("merge-patch deleted", api(srv, "PATCH", "kv2ret/data/p", data=json.dumps({"data": {"e": "7"}}),
                                      headers={"Content-Type": "application/merge-patch+json"}))
    return t


def check_kv2_retention(d):
    meta = d["metadata"][1]["data"]
    assert (meta["current_version"], meta["oldest_version"], sorted(meta["versions"])) == (4, 3, ["3", "4"])
    assert d["read pruned v1"] == (404, {"errors": []})
    assert d["write no cas"] == (400, {"errors": ["check-and-set parameter required for this call"]})
    assert d["metadata cas_required false"][0] == 200
    assert d["metadata cas_required false"][1]["warnings"] == [
        '"cas_required" set to false, but is mandated by backend config. This value will be ignored.']
    assert d["read patched"][1]["data"]["data"] == {"b": {"c": "9", "d": "3"}, "e": "5"}
    assert d["merge-patch bad cas"] == (400, {"errors": ["check-and-set parameter did not match the current version"]})
    assert d["merge-patch deleted"][0] == 404


def test_kv2_mount_config_prunes_versions_and_mandates_cas_like_bao(kind, pair, dsrv):
    """Goal: KV-14/16 — mount `max_versions` prunes old versions (oldest_version advances) and
    mount `cas_required` overrides a key's false with bao's warning. Method: raw HTTP, compared."""
    compare_with_bao(pair, kind, "kv2-retention", kv2_retention_flow, check_kv2_retention)


# ---------------------------------------------------------------- cubbyhole

def cubbyhole_flow(srv):
    t = Transcript()
    tok = [api(srv, "POST", "auth/token/create", json_body={"policies": ["default"], "ttl": "1h"}).json()["auth"]["client_token"]
           for _ in range(2)]
    a, b = tok
    t.http("a writes", api(srv, "POST", "cubbyhole/mine", token=a, json_body={"s": SECRET}))
    t.http("a reads", api(srv, "GET", "cubbyhole/mine", token=a))
    t.http("b reads a's path", api(srv, "GET", "cubbyhole/mine", token=b))
    t.http("root reads a's path", api(srv, "GET", "cubbyhole/mine"))
    t.http("a lists", api(srv, "LIST", "cubbyhole/", token=a))
    t.http("b lists", api(srv, "LIST", "cubbyhole/", token=b))
    t.http("revoke a", api(srv, "POST", "auth/token/revoke", json_body={"token": a}))
    t.http("a reads after revoke", api(srv, "GET", "cubbyhole/mine", token=a))
    t.http("b writes same name", api(srv, "POST", "cubbyhole/mine", token=b, json_body={"s": "b"}))
    t.http("b reads own", api(srv, "GET", "cubbyhole/mine", token=b))
    t.http("cubbyhole not mountable", api(srv, "POST", "sys/mounts/cub2", json_body={"type": "cubbyhole"}))
    t.http("cubbyhole not unmountable", api(srv, "DELETE", "sys/mounts/cubbyhole"))
    return t, tok


def test_cubbyhole_is_private_per_token_and_destroyed_with_it(kind, pair, dsrv):
    """Goal: cubbyhole data is visible only to the token that wrote it (not another token, not
    root) and gone once that token is revoked. Method: two child tokens; raw HTTP, compared."""
    holder = {}

    def flow(srv):
        t, toks = cubbyhole_flow(srv)
        holder["toks"] = toks
        return t

    def check(d):
        assert d["a reads"][1]["data"] == {"s": SECRET}
        assert d["b reads a's path"] == (404, {"errors": []})
        assert d["root reads a's path"] == (404, {"errors": []})
        assert d["a lists"][1]["data"] == {"keys": ["mine"]}
        assert d["a reads after revoke"][0] == 403
        assert d["b reads own"][1]["data"] == {"s": "b"}

    compare_with_bao(pair, kind, "cubbyhole", flow, check)
    pair.remember(kind, SECRET, *holder.get("toks", []))


def test_kv_server_log_contains_no_token_or_secret_value(kind, pair, dsrv):
    """Goal: no token or secret value this module sent appears in the server's log.
    Method: after the module's flows, search the log file for each remembered value."""
    pair.remember(kind, SECRET, "kv-secret-never-logged-41")
    api(dsrv, "POST", "cubbyhole/logcheck", json_body={"v": "kv-secret-never-logged-41"})
    assert log_leaks(dsrv, pair.secrets[kind]) == []
