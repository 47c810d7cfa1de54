"""The data-plane CLI (kv, policy, token, secrets, read/write/list/delete, lease) behaves the same
on Tresor: the `bao` CLI against both servers, and Tresor's own CLI against Tresor, each compared
with the `bao` CLI against bao (exit code, normalised stdout and stderr).

Runs the smoke sequence of vault-core-api.md §10 steps 4–5 plus CLI-06..13, on the module's
shared dev servers; each (cli, server) combination uses its own mount so runs don't interfere.
"""
from __future__ import annotations

import json
import os
import re

import pytest

from conftest import require_binary
from harness import Transcript, bao_bin, log_leaks, normalise, run_cli, tresor_bin

COMBOS = [("bao", "bao"), ("bao", "tresor"), ("tresor", "tresor")]
SECRET = "cli-secret-value-93b2"


def clean(text: str, mount: str) -> str:
    text = normalise(text.replace(mount, "<MOUNT>"))
    text = re.sub(r"\b(bao|vault|tresor)\b", "<CLI>", text)
    text = re.sub(r"\b(OpenBao|Vault|Tresor)\b", "<PRODUCT>", text)
    text = re.sub(r"(?<![A-Za-z0-9.])[A-Za-z0-9]{24}(?![A-Za-z0-9])", "<ACCESSOR>", text)
    text = re.sub(r"\b\d+h\d+m\d+s\b|\b\d+m\d+s\b|\b\d+[hms]\b", "<DUR>", text)
    text = re.sub(r"(creation_time\"?:?\s+)\d+", r"\1<UNIX>", text)
    # A remaining TTL counts down between steps: whether a lookup lands a second after the
    # create depends on the machine's load, not the server (VOLATILE_KEYS treats it so too).
    # Zero keeps its meaning (no expiry).
    text = re.sub(r"(\"ttl\": )[1-9]\d*", r"\1<TTL>", text)
    text = re.sub(r"\b([a-z]+)_[0-9a-f]{8}\b", r"\1_<ACC>", text)  # Mount accessors.
    text = re.sub(r"=+ (Metadata|Data|Secret Path|Metadata Path) =+", r"== \1 ==", text)
    # Prose wrapped at 78 columns wraps differently when the product name differs in length
    # ("Vault" vs "OpenBao"): compare the login advisory with its line breaks folded.
    text = re.sub(
        r"(Success! You are now authenticated\..*?this token\.)",
        lambda match: re.sub(r"\s+", " ", match.group(1)),
        text,
        flags=re.S,
    )
    lines = []
    for line in text.splitlines():
        # OpenBao-only rows that Vault 1.14 (what Tresor speaks) does not print.
        if re.match(r"\s*\"?(current_metadata_version|metadata_cas_required)\b", line):
            continue
        lines.append(re.sub(r"[ \t]+", " ", line).rstrip())
    return "\n".join(lines)


def cli_flow(cli_bin: str, srv, mount: str, remember) -> Transcript:
    t = Transcript()
    workdir = srv.workdir
    policy_file = os.path.join(workdir, f"{mount}-dev.hcl")
    with open(policy_file, "w") as f:
        f.write(f'path "{mount}/data/a" {{ capabilities = ["read"] }}\n'
                f'path "sys/internal/ui/mounts/*" {{ capabilities = ["read"] }}\n')

    def c(*args, env=None, label=None, own_lines=False):
        r = run_cli(cli_bin, list(args), env or srv.env)
        out = clean(r.stdout, mount)
        if own_lines:  # The server is shared: keep the header, this run's rows and the defaults.
            out = "\n".join(l for l in out.splitlines() if not re.match(r"cli[bt][bt]", l))
        t.add(label or " ".join(args).replace(mount, "<MOUNT>"), (r.rc, out, clean(r.stderr, mount)))
        return r

    c("secrets", "enable", "-version=2", f"-path={mount}", "kv")
    c("secrets", "enable", f"-path={mount}", "kv")  # Conflict.
    c("kv", "put", f"{mount}/a", f"x={SECRET}")
    got = c("kv", "get", "-format=json", f"{mount}/a")
    t.add("kv get json data", json.loads(got.stdout)["data"]["data"] if got.rc == 0 else got.rc)
    c("kv", "get", f"-field=x", f"{mount}/a")
    c("kv", "patch", f"{mount}/a", "y=2")
    c("kv", "get", f"{mount}/a")
    c("kv", "put", "-cas=1", f"{mount}/a", "x=stale")
    c("kv", "delete", f"{mount}/a")
    c("kv", "get", f"{mount}/a")
    c("kv", "undelete", "-versions=2", f"{mount}/a")
    c("kv", "get", "-version=1", f"{mount}/a")
    c("kv", "metadata", "get", f"{mount}/a")
    c("kv", "metadata", "put", "-max-versions=5", "-custom-metadata=owner=me", f"{mount}/a")
    c("kv", "put", f"{mount}/dir/b", "z=1")
    c("kv", "list", f"{mount}/")
    c("kv", "list", f"{mount}/nothing")
    c("kv", "destroy", "-versions=1", f"{mount}/a")
    c("kv", "get", "-version=1", f"{mount}/a")
    c("kv", "get", f"{mount}/missing")
    c("policy", "write", f"{mount}-dev", policy_file, label="policy write <MOUNT>-dev <file>")
    c("policy", "read", f"{mount}-dev")
    c("policy", "read", "no-such-policy")
    tok = c("token", "create", f"-policy={mount}-dev", "-ttl=1h", "-format=json")
    token = json.loads(tok.stdout)["auth"]["client_token"] if tok.rc == 0 else "hvs.invalidinvalidinvalid0"
    remember(token)
    uenv = dict(srv.env, BAO_TOKEN=token, VAULT_TOKEN=token)
    c("kv", "get", f"-field=x", f"{mount}/a", env=uenv, label="as dev: kv get allowed")
    c("kv", "get", f"{mount}/dir/b", env=uenv, label="as dev: kv get other path (403)")
    c("token", "lookup", "-format=json", env=uenv, label="as dev: token lookup")
    c("token", "revoke", "-self", env=uenv, label="as dev: token revoke -self")
    c("token", "lookup", env=uenv, label="as dev: token lookup after revoke")
    c("token", "create", "-policy=default", "-use-limit=3", "-display-name=cli", "-metadata=team=a")
    c("token", "revoke", "hvs.nonexistentnonexistent0")
    # login stores the token for later commands (HOME is the server's own temp home).
    lt = c("token", "create", "-policy=default", "-ttl=1h", "-field=token")
    remember(lt.stdout.strip())
    no_env = {k: v for k, v in srv.env.items() if k not in ("BAO_TOKEN", "VAULT_TOKEN")}
    no_env["HOME"] = os.path.join(workdir, f"home-{mount}")
    os.makedirs(no_env["HOME"], exist_ok=True)
    c("login", lt.stdout.strip(), env=no_env, label="login <token>")
    c("token", "lookup", env=no_env, label="token lookup with stored token")
    c("secrets", "list", own_lines=True)
    c("secrets", "tune", "-default-lease-ttl=30m", f"{mount}/")
    c("read", f"sys/mounts/{mount}/tune")
    c("write", f"{mount}/data/w", f"data=-", label="write data=- (no stdin)")
    c("write", "sys/policies/acl/" + mount + "-w", 'policy=path "x" { capabilities = ["read"] }')
    c("read", "-field=policy", f"sys/policies/acl/{mount}-w")
    c("list", "sys/policies/acl", own_lines=True)
    c("delete", f"sys/policies/acl/{mount}-w")
    c("read", f"{mount}/data/nothing")
    c("lease", "lookup", "nothing/abcdefghijklmnopqrstuvwx")
    c("lease", "revoke", "nothing/abcdefghijklmnopqrstuvwx")
    c("lease", "revoke", "-prefix", "nothing/")
    c("lease", "revoke", "-force", "-prefix", "nothing/")
    c("secrets", "disable", f"{mount}/")
    c("secrets", "disable", f"{mount}/")
    return t


def check_cli(d):
    assert d["kv get json data"] == {"x": SECRET}
    assert d["as dev: kv get allowed"][0] == 0 and d["as dev: kv get allowed"][1].strip() == SECRET
    assert d["as dev: kv get other path (403)"][0] == 2
    assert "permission denied" in d["as dev: kv get other path (403)"][2]
    assert d["as dev: token revoke -self"][0] == 0
    assert d["as dev: token lookup after revoke"][0] == 2
    assert d["kv get <MOUNT>/missing"][0] == 2
    assert d["secrets disable <MOUNT>/"][0] == 0


@pytest.mark.parametrize("cli_kind, server_kind", COMBOS, ids=[f"{c}-cli-on-{s}" for c, s in COMBOS])
def test_cli_kv_policy_token_secrets_lease_commands_match_bao(cli_kind, server_kind, pair, request):
    """Goal: CLI-06..13 and the smoke steps 4–5 — kv put/get/patch/delete/undelete/destroy/
    metadata/list, policy write/read, token create/lookup/revoke -self with a policy-bound
    token (allowed read, 403 elsewhere), login, secrets enable/list/tune/disable, generic
    read/write/list/delete, lease lookup/revoke. Method: run the sequence with `cli_kind`'s CLI
    against `server_kind`; compare exit codes and normalised output with bao CLI on bao."""
    require_binary(server_kind)
    require_binary(cli_kind)
    cli = bao_bin() if cli_kind == "bao" else tresor_bin()
    srv = pair.get(server_kind)
    mount = f"cli{cli_kind[0]}{server_kind[0]}"
    got = cli_flow(cli, srv, mount, lambda *v: pair.remember(server_kind, *v))
    if (cli_kind, server_kind) == ("bao", "bao"):
        pair.want["cli"] = got
        check_cli(got.as_dict())
        return
    want = pair.want.get("cli")
    if want is None:
        want = cli_flow(bao_bin(), pair.get("bao"), "clibb", lambda *v: pair.remember("bao", *v))
        pair.want["cli"] = want
    from harness import transcript_diff
    diff = transcript_diff(got.steps, want.steps)
    assert not diff, f"{cli_kind} CLI on {server_kind} differs from bao CLI on bao:\n{diff}"


def test_cli_server_log_contains_no_token_or_secret(kind, pair, dsrv):
    """Goal: the CLI runs leave no token or secret value in the server's log. Method: search it."""
    pair.remember(kind, SECRET)
    assert log_leaks(dsrv, pair.secrets[kind]) == []
