"""The token auth method (`auth/token/*`) through hvac gives bao's answers on Tresor.

One flow per behaviour on the module's shared dev servers; answers are scrubbed of tokens,
accessors, ids and clocks and compared step by step with bao's (TOK-01..14, ENV-04, TOK-07).
"""
from __future__ import annotations

import time

import hvac
import requests

from harness import Transcript, api, compare_with_bao, log_leaks


TOKEN_POLICY = """
path "secret/*" { capabilities = ["read"] }
path "auth/token/create" { capabilities = ["create", "update"] }
"""


def client(srv, token="root"):
    return hvac.Client(url=srv.addr, token=token, timeout=30)


def tok(resp):
    return resp["auth"]["client_token"] if resp else None


def create_flow(srv, remember):
    t = Transcript()
    c = client(srv)
    api(srv, "PUT", "sys/policies/acl/tokp", json_body={"policy": TOKEN_POLICY})
    tk = c.auth.token
    child = t.call("create child", tk.create, policies=["tokp"], ttl="1h", meta={"team": "a"}, display_name="svc")
    orphan = t.call("create orphan (no_parent)", tk.create, policies=["tokp"], no_parent=True, ttl="30m")
    t.call("create_orphan", tk.create_orphan, policies=["tokp"], ttl="30m")
    t.call("create periodic", tk.create, policies=["tokp"], period="2h")
    uses = t.call("create num_uses=2", tk.create, policies=["tokp"], num_uses=2, ttl="1h")
    t.call("create no_default_policy", tk.create, policies=["tokp"], no_default_policy=True, ttl="1h")
    t.call("create explicit_max_ttl", tk.create, policies=["tokp"], ttl="1h", explicit_max_ttl="2h")
    t.call("create not renewable", tk.create, policies=["tokp"], ttl="1h", renewable=False)
    t.call("create batch", tk.create, policies=["tokp"], ttl="1h", type="batch")
    t.call("create bad type", tk.create, policies=["tokp"], type="weird")
    t.call("create unknown policy", tk.create, policies=["nosuchpolicy"], ttl="1h")
    over = t.call("create ttl over max", tk.create, policies=["tokp"], ttl="9999h")
    t.add("ttl over max capped", over and over["auth"]["lease_duration"])
    t.call("create with custom id", tk.create, id="custom-token-id-0001", policies=["tokp"], ttl="1h")
    t.call("create policies as comma string", c.adapter.post, "/v1/auth/token/create",
           json={"policies": "tokp, default", "ttl": "1h"})
    remember(tok(child), tok(orphan), tok(uses), "custom-token-id-0001")
    # A non-root child cannot create tokens outside its own policies, nor root tokens.
    cc = client(srv, tok(child))
    t.call("child creates subset", cc.auth.token.create, policies=["tokp"], ttl="10m")
    t.call("child creates superset", cc.auth.token.create, policies=["tokp", "other"], ttl="10m")
    t.call("child creates root", cc.auth.token.create, policies=["root"], ttl="10m")
    t.call("child no_parent (needs sudo)", cc.auth.token.create, policies=["tokp"], no_parent=True)
    uc = client(srv, tok(uses))
    t.call("use-limited lookup-self 1", uc.auth.token.lookup_self)
    t.call("use-limited creates child", uc.auth.token.create, policies=["tokp"])
    t.call("use-limited after uses", uc.auth.token.lookup_self)
    return t


def check_create(d):
    auth = d["create child"][1]["auth"]
    assert set(auth) >= {"client_token", "accessor", "policies", "token_policies", "metadata", "lease_duration",
                         "renewable", "entity_id", "token_type", "orphan", "num_uses"}
    assert (auth["policies"], auth["metadata"], auth["orphan"], auth["token_type"]) == (
        ["default", "tokp"], {"team": "a"}, False, "service")
    assert d["create orphan (no_parent)"][1]["auth"]["orphan"] is True
    assert d["create no_default_policy"][1]["auth"]["policies"] == ["tokp"]
    assert d["create bad type"][0] == "raised"
    assert d["create unknown policy"][1]["auth"]["policies"] == ["default", "nosuchpolicy"]
    assert d["child creates superset"][:2] == ("raised", "InvalidRequest")
    assert d["child no_parent (needs sudo)"] == ("raised", "InvalidRequest",
                                                 ["root or sudo privileges required to create orphan token"])
    assert d["ttl over max capped"] == 2764800
    assert d["use-limited creates child"][:2] == ("raised", "InvalidRequest")
    assert d["use-limited after uses"][:2] == ("raised", "Forbidden")


def test_token_create_variants_match_bao(kind, pair, dsrv):
    """Goal: TOK-01..06/11/12 — child, orphan (no_parent and create-orphan), periodic, num_uses,
    no_default_policy, explicit_max_ttl, non-renewable, batch, bad type, unknown policy warning,
    TTL capped at the max, custom id, comma-string policies; subset/root/sudo rules for a
    non-root parent; a use-limited token can't create children and dies after its uses.
    Method: hvac on both servers, transcripts compared."""
    compare_with_bao(pair, kind, "create", lambda s: create_flow(s, lambda *v: pair.remember(kind, *v)),
                     check_create)


def lookup_renew_revoke_flow(srv, remember):
    t = Transcript()
    c = client(srv)
    tk = c.auth.token
    api(srv, "PUT", "sys/policies/acl/tokq", json_body={"policy": TOKEN_POLICY})
    parent = tk.create(policies=["tokq"], ttl="1h")
    p_tok, p_acc = parent["auth"]["client_token"], parent["auth"]["accessor"]
    pc = client(srv, p_tok)
    kid = pc.auth.token.create(policies=["tokq"], ttl="1h")
    k_tok = kid["auth"]["client_token"]
    grandkid = client(srv, k_tok).auth.token.create(policies=["tokq"], ttl="1h")["auth"]["client_token"]
    remember(p_tok, k_tok, grandkid)
    t.call("lookup", tk.lookup, p_tok)
    t.call("lookup_self (as parent)", pc.auth.token.lookup_self)
    t.call("lookup_accessor", tk.lookup_accessor, p_acc)
    t.call("lookup unknown", tk.lookup, "hvs.nonexistentnonexistent0")
    t.call("lookup_accessor unknown", tk.lookup_accessor, "nonexistentaccessor00000")
    t.call("renew +2h", tk.renew, p_tok, increment="2h")
    look = tk.lookup(p_tok)["data"]
    t.add("ttl after renew in [7100, 7200]", 7100 <= look["ttl"] <= 7200)
    t.call("renew_self", pc.auth.token.renew_self, increment="30m")
    t.call("renew_accessor", tk.renew_accessor, p_acc, increment="1h")
    t.call("renew unknown", tk.renew, "hvs.nonexistentnonexistent0")
    nr = tk.create(policies=["tokq"], ttl="1h", renewable=False)["auth"]["client_token"]
    t.call("renew non-renewable", tk.renew, nr)
    t.call("revoke unknown (silent)", tk.revoke, "hvs.nonexistentnonexistent0")
    # revoke-orphan keeps the child alive as an orphan; revoke tree kills descendants.
    t.call("revoke_and_orphan_children(parent)", tk.revoke_and_orphan_children, p_tok)
    t.call("parent gone", tk.lookup, p_tok)
    kid_look = t.call("kid now orphan", tk.lookup, k_tok)
    t.call("revoke kid (tree)", tk.revoke, k_tok)
    t.call("grandkid gone", tk.lookup, grandkid)
    x = tk.create(policies=["tokq"], ttl="1h")["auth"]
    remember(x["client_token"])
    t.call("revoke_accessor", tk.revoke_accessor, x["accessor"])
    t.call("revoked by accessor is gone", tk.lookup, x["client_token"])
    t.call("revoke_accessor unknown", tk.revoke_accessor, "nonexistentaccessor00000")
    y = tk.create(policies=["tokq"], ttl="1h")["auth"]["client_token"]
    remember(y)
    t.call("revoke_self", client(srv, y).auth.token.revoke_self)
    t.call("self-revoked token denied", client(srv, y).auth.token.lookup_self)
    t.call("tidy", tk.tidy)
    t.call("list_accessors has entries", lambda: bool(tk.list_accessors()["data"]["keys"]))
    return t


def check_lookup(d):
    data = d["lookup"][1]["data"]
    assert set(data) >= {"accessor", "creation_time", "creation_ttl", "display_name", "entity_id", "expire_time",
                         "explicit_max_ttl", "id", "issue_time", "meta", "num_uses", "orphan", "path", "policies",
                         "renewable", "ttl", "type"}
    assert (data["creation_ttl"], data["path"], data["policies"]) == (3600, "auth/token/create", ["default", "tokq"])
    assert d["lookup_accessor"][1]["data"]["id"] == ""
    assert d["lookup unknown"] == ("raised", "Forbidden", ["bad token"])
    assert d["ttl after renew in [7100, 7200]"] is True
    assert d["renew unknown"] == ("raised", "InvalidRequest", ["token not found"])
    assert d["revoke unknown (silent)"] == ("response", 204, None)
    assert d["kid now orphan"][1]["data"]["orphan"] is True
    assert d["grandkid gone"][:2] == ("raised", "Forbidden")
    assert d["self-revoked token denied"][:2] == ("raised", "Forbidden")
    assert d["tidy"][1] == 202


def test_token_lookup_renew_revoke_tree_and_tidy_match_bao(kind, pair, dsrv):
    """Goal: TOK-07..10/14 — lookup/lookup-self/lookup-accessor fields, unknown-token answers,
    renew (increment is the new TTL), renew-self/-accessor, non-renewable refusal, revoke-orphan
    re-parents children, revoke kills the subtree, revoke-accessor, revoke-self, tidy 202.
    Method: hvac on both servers, transcripts compared."""
    compare_with_bao(pair, kind, "lookup",
                     lambda s: lookup_renew_revoke_flow(s, lambda *v: pair.remember(kind, *v)), check_lookup)


def roles_flow(srv, remember):
    t = Transcript()
    c = client(srv)
    tk = c.auth.token
    api(srv, "PUT", "sys/policies/acl/rolep", json_body={"policy": TOKEN_POLICY})
    t.call("role create", c.adapter.post, "/v1/auth/token/roles/r1",
           json={"allowed_policies": ["rolep"], "orphan": True, "renewable": True, "token_type": "service",
                 "path_suffix": "sfx", "token_period": "1h"})
    t.call("role read", tk.read_role, "r1")
    t.call("role create minimal", tk.create_or_update_role, "r2")
    t.call("role read minimal", tk.read_role, "r2")
    t.call("roles list", tk.list_roles)
    made = t.call("create via role", tk.create, role_name="r1", policies=["rolep"])
    remember(tok(made))
    if made:
        t.call("lookup role token", tk.lookup, tok(made))
    t.call("create via role, disallowed policy", tk.create, role_name="r1", policies=["default", "other"])
    t.call("create via unknown role", tk.create, role_name="nope")
    t.call("role delete", tk.delete_role, "r2")
    t.call("role read deleted", tk.read_role, "r2")
    t.call("role bad token_type", c.adapter.post, "/v1/auth/token/roles/r3", json={"token_type": "weird"})
    # A field that does not convert: Vault's text names the field (the existence check
    # validates, so there is no `Field validation failed: ` prefix here).
    t.call("role negative token_period", c.adapter.post, "/v1/auth/token/roles/r4", json={"token_period": "-1h"})
    t.call("role unparsable token_period", c.adapter.post, "/v1/auth/token/roles/r4", json={"token_period": "abc"})
    return t


def check_roles(d):
    role = d["role read"][1]["data"]
    assert (role["allowed_policies"], role["orphan"], role["path_suffix"], role["token_period"]) == (
        ["rolep"], True, "sfx", 3600)
    assert d["role read minimal"][1]["data"]["allowed_policies"] == []
    assert d["roles list"][1]["data"]["keys"] == ["r1", "r2"]
    look = d["lookup role token"][1]["data"]
    # bao 2.7.2 reports no `period` on a token made through a role with token_period.
    assert (look["path"], look["role"], look["orphan"], look.get("period")) == ("auth/token/create/r1/sfx", "r1", True, None)
    assert d["role read deleted"][:2] == ("raised", "InvalidPath")
    assert d["role negative token_period"] == ("raised", "InvalidRequest", [
        "error converting input for field \"token_period\": cannot provide negative value '-3600'"])
    assert d["role unparsable token_period"] == ("raised", "InvalidRequest", [
        "error converting input for field \"token_period\": time: invalid duration \"abc\""])


def test_token_roles_crud_and_create_via_role_match_bao(kind, pair, dsrv):
    """Goal: TOK-13 — role write/read (list fields are arrays)/list/delete, creating through a
    role (path suffix, orphan, period, allowed policies), unknown role and bad token_type.
    Method: hvac on both servers, transcripts compared."""
    compare_with_bao(pair, kind, "roles", lambda s: roles_flow(s, lambda *v: pair.remember(kind, *v)), check_roles)


def expiry_flow(srv, remember):
    t = Transcript()
    api(srv, "PUT", "sys/policies/acl/toke", json_body={"policy": TOKEN_POLICY})
    short = api(srv, "POST", "auth/token/create", json_body={"policies": ["toke"], "ttl": "2s"}).json()["auth"]
    remember(short["client_token"])
    kid = api(srv, "POST", "auth/token/create", token=short["client_token"],
              json_body={"policies": ["toke"], "ttl": "1h"}).json()["auth"]["client_token"]
    remember(kid)
    t.add("short lease_duration", short["lease_duration"])
    t.http("valid before expiry", api(srv, "GET", "auth/token/lookup-self", token=short["client_token"]))
    def status(token):
        try:
            return api(srv, "GET", "auth/token/lookup-self", token=token, timeout=3).status_code
        except requests.RequestException:
            return "no answer within 3 s"

    deadline = time.monotonic() + 12
    last = None
    for _ in range(60):  # Bounded: ≤ 12 s of polling.
        last = status(short["client_token"])
        if last != 200 or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    t.add("expired within 12 s", last)
    t.add("child of expired parent", status(kid))
    return t


def test_token_expiry_revokes_it_and_its_children(kind, pair, dsrv):
    """Goal: TOK-04 — a 2 s token stops working after expiry and its 1 h child dies with it.
    Method: bounded poll (≤ 12 s, 3 s per request) of lookup-self, then the child's."""
    def check(d):
        assert d["short lease_duration"] == "<int>" or d["short lease_duration"] == 2
        assert (d["expired within 12 s"], d["child of expired parent"]) == (403, 403)

    compare_with_bao(pair, kind, "expiry", lambda s: expiry_flow(s, lambda *v: pair.remember(kind, *v)), check)


def test_tokens_server_log_contains_no_token(kind, pair, dsrv):
    """Goal: no token this module created appears in the server's log. Method: search the log."""
    assert log_leaks(dsrv, pair.secrets[kind]) == []
