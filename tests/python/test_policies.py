"""ACL policies: CRUD through hvac and every precedence rule, checked with real requests.

Each rule gets an allowed and a denied request made with a token holding only the policies
under test, on the module's shared dev servers; the (status) transcript must equal bao's
(POL-01..14, SP-01..05, CAP-01..03).
"""
from __future__ import annotations

import json

import hvac
import hvac.exceptions

from harness import Transcript, api, compare_with_bao, log_leaks


def client(srv, token="root"):
    return hvac.Client(url=srv.addr, token=token, timeout=30)


def put_policy(srv, name, text):
    r = api(srv, "PUT", f"sys/policies/acl/{name}", json_body={"policy": text})
    assert r.status_code in (200, 204), (name, r.status_code, r.text)


def token_with(srv, *policies, remember=None):
    r = api(srv, "POST", "auth/token/create", json_body={"policies": list(policies), "ttl": "1h"})
    assert r.status_code == 200, r.text
    tok = r.json()["auth"]["client_token"]
    if remember:
        remember(tok)
    return tok


# OpenBao adds these to policy reads; Vault 1.14 (what Tresor speaks) answers name + policy only.
BAO_POLICY_EXTRAS = {"allow_slashes_in_identity_templates", "allow_wildcards_in_identity_templates",
                     "cas_required", "modified", "version"}


def vault_fields(fn):
    def call(*a, **kw):
        r = fn(*a, **kw)
        if isinstance(r, dict):
            r = {k: v for k, v in r.items() if k not in BAO_POLICY_EXTRAS}
            if isinstance(r.get("data"), dict):
                r["data"] = {k: v for k, v in r["data"].items() if k not in BAO_POLICY_EXTRAS}
        return r
    return call


def parse_error(fn):
    """A policy parse error: 400 whose single message starts `failed to parse policy: ` and names
    the culprit (bao repeats the `path "x": ` prefix; the wording after it is not compared)."""
    def call(culprit, *a, **kw):
        try:
            fn(*a, **kw)
            return "accepted"
        except hvac.exceptions.InvalidRequest as e:
            msg = e.errors[0] if e.errors else ""
            return (len(e.errors), msg.startswith("failed to parse policy: "), culprit in msg)
    return call


def crud_flow(srv):
    t = Transcript()
    c = client(srv)
    hcl = 'path "secret/data/crud/*" {\n  capabilities = ["read", "list"]\n}\n'
    t.call("create_or_update_acl_policy", c.sys.create_or_update_acl_policy, "crud-p", hcl)
    t.call("read_acl_policy", vault_fields(c.sys.read_acl_policy), "crud-p")
    t.call("list_acl_policies", lambda: [k for k in c.sys.list_acl_policies()["data"]["keys"]
                                         if k in ("crud-p", "default", "root", "crud-json")])
    t.call("json policy", c.sys.create_or_update_acl_policy, "crud-json",
           {"path": {"secret/data/j": {"capabilities": ["read"]}}}, pretty_print=False)
    t.call("read json policy", vault_fields(c.sys.read_acl_policy), "crud-json")
    t.call("legacy read sys/policy/<n>", vault_fields(c.adapter.get), "/v1/sys/policy/crud-p")
    t.call("legacy list sys/policy has keys+policies",
           lambda: sorted(k for k in c.adapter.get("/v1/sys/policy")["data"] if k in ("keys", "policies")))
    t.call("legacy write with rules", c.adapter.put, "/v1/sys/policy/crud-legacy", json={"rules": hcl})
    # Vault 1.14 answers 200 with warning `policy name was converted to crud-upper`; bao 2.7.2
    # answers 204. Either is accepted; the lower-cased read-back is compared.
    up = c.adapter.put("/v1/sys/policies/acl/CRUD-Upper", json={"policy": hcl})
    t.add("upper-case name accepted", getattr(up, "status_code", 200) in (200, 204))
    t.call("read lower-cased", vault_fields(c.sys.read_acl_policy), "crud-upper")
    t.call("empty policy", c.adapter.put, "/v1/sys/policies/acl/crud-empty", json={"policy": ""})
    perr = parse_error(c.adapter.put)
    t.add("parse error", perr('invalid capability "fly"', "/v1/sys/policies/acl/crud-bad",
                              json={"policy": 'path "x" { capabilities = ["fly"] }'}))
    t.add("unknown key", perr('invalid key "wings"', "/v1/sys/policies/acl/crud-bad",
                              json={"policy": 'path "x" { wings = 2 }'}))
    t.add("bad glob +*", perr("+*", "/v1/sys/policies/acl/crud-bad",
                              json={"policy": 'path "a/+*" { capabilities = ["read"] }'}))
    t.add("unknown top-level key", perr("", "/v1/sys/policies/acl/crud-bad", json={"policy": 'flight "x" {}'}))
    t.add("bad policy created nothing", c.adapter.get("/v1/sys/policies/acl/crud-bad", raise_exception=False).status_code)
    t.call("write root", c.adapter.put, "/v1/sys/policies/acl/root", json={"policy": hcl})
    t.call("delete root", c.sys.delete_acl_policy, "root")
    t.call("delete default", c.sys.delete_acl_policy, "default")
    t.call("read root", vault_fields(c.sys.read_acl_policy), "root")
    t.call("read unknown", c.sys.read_acl_policy, "nope-policy")
    t.call("GET sys/policies/acl (no list)", c.adapter.get, "/v1/sys/policies/acl")
    t.call("delete", c.sys.delete_acl_policy, "crud-p")
    t.call("read deleted", c.sys.read_acl_policy, "crud-p")
    t.call("delete unknown", c.sys.delete_acl_policy, "crud-p")
    return t


def check_crud(d):
    assert d["create_or_update_acl_policy"] == ("response", 204, None)
    assert d["read_acl_policy"][1]["data"]["name"] == "crud-p"
    assert d["list_acl_policies"] == ("ok", ["crud-p", "default", "root"])
    assert d["empty policy"] == ("raised", "InvalidRequest", ["'policy' parameter not supplied or empty"])
    assert d["write root"] == ("raised", "InvalidRequest", ['cannot update "root" policy'])
    assert d["delete default"] == ("raised", "InvalidRequest", ["cannot delete default policy"])
    assert d["read unknown"][:2] == ("raised", "InvalidPath")
    assert d["parse error"] == d["unknown key"] == d["bad glob +*"] == (1, True, True)
    assert d["bad policy created nothing"] == 404


def test_acl_policy_crud_and_legacy_endpoints_match_bao(kind, pair, dsrv):
    """Goal: SP-01..05 — write (HCL, JSON, legacy `rules`), read, list (includes root/default),
    lower-casing, empty/parse errors, root/default protection, 404s, 405 without list.
    Method: hvac on both servers, transcripts compared."""
    compare_with_bao(pair, kind, "crud", crud_flow, check_crud)


PRECEDENCE = {
    # exact vs glob: exact wins even when the glob grants more.
    "exact": 'path "pp/exact/key" { capabilities = ["read"] }\npath "pp/exact/*" { capabilities = ["read", "create", "update"] }',
    # longer glob wins over shorter.
    "longer": 'path "pp/long/*" { capabilities = ["read"] }\npath "pp/long/deep/*" { capabilities = ["deny"] }',
    # `+` is one segment.
    "plus": 'path "pp/plus/+/cfg" { capabilities = ["read"] }',
    # list on path/ .
    "list": 'path "pp/list/dir/" { capabilities = ["list"] }\npath "pp/listglob/*" { capabilities = ["list"] }',
    # parameters.
    "params": '''
path "pp/params/allowed" {
  capabilities = ["create", "update"]
  allowed_parameters = {
    "color" = ["red", "blue"]
    "size" = []
  }
}
path "pp/params/denied" {
  capabilities = ["create", "update"]
  denied_parameters = { "secret" = [] }
}
path "pp/params/required" {
  capabilities = ["create", "update"]
  required_parameters = ["owner"]
}
path "pp/params/glob" {
  capabilities = ["create", "update"]
  allowed_parameters = { "name" = ["dev-*"] }
}''',
    # create without update (existence check).
    "createonly": 'path "pp/create/*" { capabilities = ["create", "read"] }',
    # sudo-protected paths.
    "nosudo": 'path "sys/leases/revoke-prefix/*" { capabilities = ["update"] }\n'
              'path "auth/token/revoke-orphan" { capabilities = ["update"] }\n'
              'path "sys/mounts/*" { capabilities = ["create", "read", "update", "delete"] }',
    "sudo": 'path "sys/leases/revoke-prefix/*" { capabilities = ["update", "sudo"] }\n'
            'path "auth/token/revoke-orphan" { capabilities = ["update", "sudo"] }',
    # deny wins across policies.
    "allowA": 'path "pp/deny/k" { capabilities = ["read", "update", "create"] }',
    "denyB": 'path "pp/deny/k" { capabilities = ["deny"] }',
    "unionA": 'path "pp/union/k" { capabilities = ["read"] }',
    "unionB": 'path "pp/union/k" { capabilities = ["create", "update"] }',
}


def precedence_flow(srv, remember):
    t = Transcript()
    api(srv, "POST", "sys/mounts/pp", json_body={"type": "kv", "options": {"version": "1"}})
    for key in ("exact/key", "exact/other", "long/x", "long/deep/y", "plus/a/cfg", "plus/a/b/cfg",
                "list/dir/a", "listglob/a/b", "deny/k", "union/k", "create/existing", "params/allowed"):
        api(srv, "PUT", f"pp/{key}", json_body={"v": "1"})
    for name, text in PRECEDENCE.items():
        put_policy(srv, f"prec-{name}", text)
    # HCL1 accepts a block whose first item shares the `{` line, and object items without separators.
    for label, text in (("HCL: first item on the brace line", 'path "pp/x" { capabilities = ["update"]\n}'),
                        ("HCL: object items without separators",
                         'path "pp/x" {\n capabilities = ["update"]\n allowed_parameters = { "a" = ["1"] "b" = [] }\n}')):
        t.add(label, api(srv, "PUT", "sys/policies/acl/prec-hcl", json_body={"policy": text}).status_code)

    def tok(*names):
        return token_with(srv, *[f"prec-{n}" for n in names], remember=remember)

    def req(label, token, method, path, body=None):
        r = api(srv, method, path, token=token, json_body=body)
        t.add(label, r.status_code)

    e = tok("exact")
    req("exact: read key", e, "GET", "pp/exact/key")
    req("exact: update key denied (exact rule wins over glob)", e, "PUT", "pp/exact/key", {"v": "2"})
    req("exact: update other via glob", e, "PUT", "pp/exact/other", {"v": "2"})
    lg = tok("longer")
    req("longer: read via short glob", lg, "GET", "pp/long/x")
    req("longer: deeper glob denies", lg, "GET", "pp/long/deep/y")
    p = tok("plus")
    req("plus: one segment allowed", p, "GET", "pp/plus/a/cfg")
    req("plus: two segments denied", p, "GET", "pp/plus/a/b/cfg")
    ls = tok("list")
    req("list: LIST dir (no slash)", ls, "LIST", "pp/list/dir")
    req("list: GET ?list=true dir/", ls, "GET", "pp/list/dir/?list=true")
    req("list: read under dir denied", ls, "GET", "pp/list/dir/a")
    req("list: glob grants nested list", ls, "LIST", "pp/listglob/a")
    req("list: other dir denied", ls, "LIST", "pp/exact")
    pa = tok("params")
    req("params: allowed values", pa, "PUT", "pp/params/allowed", {"color": "red", "size": "9"})
    req("params: disallowed value", pa, "PUT", "pp/params/allowed", {"color": "green"})
    req("params: unlisted key", pa, "PUT", "pp/params/allowed", {"shape": "x"})
    req("params: denied key", pa, "PUT", "pp/params/denied", {"secret": "x", "a": "b"})
    req("params: denied key absent", pa, "PUT", "pp/params/denied", {"a": "b"})
    req("params: required present", pa, "PUT", "pp/params/required", {"owner": "me", "a": "b"})
    req("params: required missing", pa, "PUT", "pp/params/required", {"a": "b"})
    req("params: glob value ok", pa, "PUT", "pp/params/glob", {"name": "dev-1"})
    req("params: glob value denied", pa, "PUT", "pp/params/glob", {"name": "prod-1"})
    req("params: key case-insensitive", pa, "PUT", "pp/params/allowed", {"COLOR": "blue"})
    co = tok("createonly")
    req("create-only: new key", co, "PUT", "pp/create/new", {"v": "1"})
    req("create-only: update existing denied", co, "PUT", "pp/create/existing", {"v": "2"})
    req("create-only: second write of new key denied", co, "PUT", "pp/create/new", {"v": "2"})
    ns = tok("nosudo")
    victim = token_with(srv, "default", remember=remember)
    req("no sudo: revoke-prefix denied", ns, "PUT", "sys/leases/revoke-prefix/pp-none")
    # The handler itself checks sudo on revoke-orphan and answers 400, not 403.
    req("no sudo: revoke-orphan denied", ns, "PUT", "auth/token/revoke-orphan", {"token": victim})
    req("no sudo: enable secrets engine ok (not sudo path)", ns, "POST", "sys/mounts/pp-nosudo", {"type": "kv"})
    su = tok("sudo")
    req("sudo: revoke-prefix", su, "PUT", "sys/leases/revoke-prefix/pp-none")
    req("sudo: revoke-orphan", su, "PUT", "auth/token/revoke-orphan", {"token": victim})
    d = tok("allowA", "denyB")
    req("deny wins across policies: read", d, "GET", "pp/deny/k")
    req("deny wins across policies: write", d, "PUT", "pp/deny/k", {"v": "3"})
    u = tok("unionA", "unionB")
    req("union: read", u, "GET", "pp/union/k")
    req("union: update", u, "PUT", "pp/union/k", {"v": "3"})
    req("union: delete denied", u, "DELETE", "pp/union/k")
    # A policy change takes effect on the very next request.
    put_policy(srv, "prec-change", 'path "pp/change/*" { capabilities = ["read"] }')
    api(srv, "PUT", "pp/change/k", json_body={"v": "1"})
    ch = tok("change")
    req("change: read before", ch, "GET", "pp/change/k")
    put_policy(srv, "prec-change", 'path "pp/change/*" { capabilities = ["deny"] }')
    req("change: read right after deny", ch, "GET", "pp/change/k")
    put_policy(srv, "prec-change", 'path "pp/change/*" { capabilities = ["read", "update"] }')
    req("change: update right after grant", ch, "PUT", "pp/change/k", {"v": "2"})
    api(srv, "DELETE", "sys/policies/acl/prec-change")
    req("change: read after policy deleted", ch, "GET", "pp/change/k")
    req("default policy: lookup-self", ch, "GET", "auth/token/lookup-self")
    req("default policy: cubbyhole", ch, "PUT", "cubbyhole/x", {"a": "b"})
    req("no token", None, "GET", "pp/union/k")
    denied = api(srv, "GET", "pp/union/k", token=e)
    t.add("denied body", (denied.status_code, denied.json()))
    return t


def check_precedence(d):
    want = {
        "exact: read key": 200, "exact: update key denied (exact rule wins over glob)": 403,
        "exact: update other via glob": 204, "longer: read via short glob": 200, "longer: deeper glob denies": 403,
        "plus: one segment allowed": 200, "plus: two segments denied": 403,
        "list: LIST dir (no slash)": 200, "list: GET ?list=true dir/": 200, "list: read under dir denied": 403,
        "list: glob grants nested list": 200, "list: other dir denied": 403,
        "params: allowed values": 204, "params: disallowed value": 403, "params: unlisted key": 403,
        "params: denied key": 403, "params: denied key absent": 204, "params: required present": 204,
        "params: required missing": 403, "params: glob value ok": 204, "params: glob value denied": 403,
        "create-only: new key": 204, "create-only: update existing denied": 403,
        "create-only: second write of new key denied": 403,
        "no sudo: revoke-prefix denied": 403, "no sudo: revoke-orphan denied": 400,
        "no sudo: enable secrets engine ok (not sudo path)": 204,
        "sudo: revoke-prefix": 204, "sudo: revoke-orphan": 204,
        "deny wins across policies: read": 403, "deny wins across policies: write": 403,
        "union: read": 200, "union: update": 204, "union: delete denied": 403,
        "change: read before": 200, "change: read right after deny": 403, "change: update right after grant": 204,
        "change: read after policy deleted": 403, "default policy: lookup-self": 200,
        "denied body": (403, {"errors": ["1 error occurred:\n\t* permission denied\n\n"]}),
        "default policy: cubbyhole": 204, "no token": 403, "HCL: first item on the brace line": 204,
        "HCL: object items without separators": 204,
    }
    assert {k: d[k] for k in want} == want


def test_acl_precedence_rules_allow_and_deny_like_bao(kind, pair, dsrv):
    """Goal: POL-04..13 — exact beats glob, longer glob wins, `+` is one segment, list on
    `path/`, allowed/denied/required parameters (globbed values, case-insensitive keys),
    create vs update through the existence check, sudo paths, deny wins across policies,
    same-path union, and a policy change is seen by the next request. Each rule gets an
    allowed and a denied request. Method: KV v1 mount `pp`, one token per policy set, compare."""
    compare_with_bao(pair, kind, "precedence",
                     lambda s: precedence_flow(s, lambda *v: pair.remember(kind, *v)), check_precedence)


def capabilities_flow(srv, remember):
    t = Transcript()
    c = client(srv)
    put_policy(srv, "cap-p", 'path "secret/data/cap/*" { capabilities = ["read", "update", "create"] }\n'
                             'path "secret/metadata/cap/" { capabilities = ["list"] }')
    tok = token_with(srv, "cap-p", remember=remember)
    acc = api(srv, "POST", "auth/token/lookup", json_body={"token": tok}).json()["data"]["accessor"]
    paths = ["secret/data/cap/x", "secret/metadata/cap", "secret/other", "sys/mounts"]
    t.call("get_capabilities token", c.sys.get_capabilities, paths, token=tok)
    t.call("get_capabilities accessor", c.sys.get_capabilities, paths, accessor=acc)
    t.call("capabilities-self (as token)", client(srv, tok).sys.get_capabilities, paths)
    t.call("capabilities-self single path", client(srv, tok).sys.get_capabilities, ["secret/data/cap/y"])
    t.call("root self", c.sys.get_capabilities, ["anything/at/all"])
    t.call("legacy path string", c.adapter.post, "/v1/sys/capabilities-self", json={"path": "a/b"})
    t.call("bad token", c.sys.get_capabilities, paths, token="hvs.nonexistentnonexistent0")
    t.call("bad accessor", c.sys.get_capabilities, paths, accessor="nonexistentaccessor00000")
    t.call("no paths", c.adapter.post, "/v1/sys/capabilities-self", json={})
    return t


def check_caps(d):
    data = d["get_capabilities token"][1]["data"]
    assert data["secret/data/cap/x"] == ["create", "read", "update"]
    assert data["secret/other"] == ["deny"]
    assert d["root self"][1]["data"]["capabilities"] == ["root"]
    assert d["capabilities-self single path"][1]["capabilities"] == ["create", "read", "update"]


def test_capabilities_endpoints_match_bao(kind, pair, dsrv):
    """Goal: CAP-01..03 — capabilities by token, accessor and self (sorted lists, `capabilities`
    key for one path, top-level injection, root → ["root"], nothing → ["deny"]), legacy `path`,
    bad token/accessor, no paths. Method: hvac on both servers, compared."""
    compare_with_bao(pair, kind, "caps", lambda s: capabilities_flow(s, lambda *v: pair.remember(kind, *v)),
                     check_caps)


def test_policies_server_log_contains_no_token(kind, pair, dsrv):
    """Goal: no token this module created appears in the server's log. Method: search the log."""
    assert log_leaks(dsrv, pair.secrets[kind]) == []
