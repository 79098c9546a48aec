"""The fake Zoom's command line (`python -m opsflow.sandbox.zoom`), started as a process on a free port
and called over HTTP, as an operator rehearsing failures would."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from contextlib import closing, contextmanager

import requests

from opsflow.sandbox.zoom import REPEATED_TOKEN

COMMAND = [sys.executable, "-m", "opsflow.sandbox.zoom"]
AUTH = ("fake-client-id", "fake-client-secret")


def _free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def _serving(*args: str):
    """Start the fake with `args`, yield (base URL, banner lines, the process); SIGTERM at the end."""
    process = subprocess.Popen([*COMMAND, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    banner = []
    try:
        for line in process.stdout:
            banner.append(line.rstrip("\n"))
            if line.startswith("Press Ctrl-C"):
                break
        assert banner and banner[-1] == "Press Ctrl-C to stop.", banner
        base = banner[0].split(" on ", 1)[1].split(". ", 1)[0]
        yield base, banner, process
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)


def _token(base: str) -> str:
    answer = requests.post(f"{base}/oauth/token", auth=AUTH, timeout=5,
                           params={"grant_type": "account_credentials", "account_id": "fake-account"})
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def test_help_prints_the_options_and_does_not_start():
    result = subprocess.run([*COMMAND, "--help"], capture_output=True, text=True, timeout=20)
    assert result.returncode == 0
    assert result.stdout.startswith("usage: python -m opsflow.sandbox.zoom")
    for option in ("--port", "--rate-limit", "--retry-after", "--daily-limit", "--fail-5xx", "--fail-status",
                   "--reset", "--slow-create", "--token-ttl", "--expire-tokens-every", "--duplicate-rows",
                   "--repeat-page-token"):
        assert option in result.stdout
    assert "listening" not in result.stdout


def test_a_bad_option_is_refused_with_exit_code_2():
    result = subprocess.run([*COMMAND, "--fail-status", "404"], capture_output=True, text=True, timeout=20)
    assert result.returncode == 2
    assert result.stderr.endswith("error: argument --fail-status: '404' is not a server-error status from 500 to 599\n")


def test_a_port_in_use_is_an_error_not_a_traceback():
    with closing(socket.socket()) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run([*COMMAND, "--port", str(port)], capture_output=True, text=True, timeout=20)
    assert result.returncode == 1
    assert result.stdout.startswith(f"Error: cannot listen on 127.0.0.1:{port} (")
    assert "Traceback" not in result.stdout + result.stderr


def test_faults_from_the_command_line():
    port = _free_port()
    with _serving("--port", str(port), "--rate-limit", "1", "--retry-after", "2", "--fail-5xx", "1",
                  "--fail-status", "503", "--reset", "1", "--slow-create", "0.3", "--token-ttl", "120",
                  "--duplicate-rows", "--repeat-page-token") as (base, banner, process):
        assert base == f"http://127.0.0.1:{port}"
        assert f"export OPSFLOW_ZOOM_API_URL={base}/v2" in banner
        assert f"export OPSFLOW_ZOOM_OAUTH_URL={base}/oauth/token" in banner
        assert "  1 API call: 429, per-second limit, Retry-After: 2" in banner
        assert "  1 API call: HTTP 503" in banner

        answer = requests.post(f"{base}/oauth/token", auth=AUTH, timeout=5,
                               params={"grant_type": "account_credentials", "account_id": "fake-account"})
        assert answer.json()["expires_in"] == 120  # a token request uses up no fault
        headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}
        meetings = f"{base}/v2/users/me/meetings"

        limited = requests.get(meetings, headers=headers, timeout=5)
        assert (limited.status_code, limited.headers["Retry-After"]) == (429, "2")
        assert limited.headers["X-RateLimit-Type"] == "QPS"
        failed = requests.get(meetings, headers=headers, timeout=5)
        assert (failed.status_code, failed.json()["code"]) == (503, 503)
        try:
            dropped = requests.get(meetings, headers=headers, timeout=5)
        except requests.ConnectionError:
            dropped = None
        assert dropped is None
        started = time.monotonic()
        created = requests.post(meetings, headers=headers, timeout=5, json={"topic": "rehearsal", "type": 2})
        assert created.status_code == 201 and time.monotonic() - started >= 0.3
        listed = requests.get(meetings, headers=headers, timeout=5).json()
        assert [m["id"] for m in listed["meetings"]] == [created.json()["id"]] * 2  # the row twice
        assert listed["next_page_token"] == REPEATED_TOKEN

    output = process.stdout.read()
    assert "GET /v2/users/me/meetings -> 429\n" in output
    assert "GET /v2/users/me/meetings -> 503\n" in output
    assert "GET /v2/users/me/meetings -> connection dropped\n" in output
    assert "POST /v2/users/me/meetings -> 201\n" in output
    assert output.endswith("stopped after 6 requests\n")
    assert process.returncode == 0


def test_tokens_expire_on_a_timer():
    with _serving("--expire-tokens-every", "0.2", "--quiet") as (base, banner, _):
        assert "  access tokens: all invalidated every 0.2 s" in banner
        token = _token(base)
        time.sleep(0.5)
        answer = requests.get(f"{base}/v2/users/me/meetings", headers={"Authorization": f"Bearer {token}"}, timeout=5)
        assert (answer.status_code, answer.json()["code"]) == (401, 124)  # what opsflow renews its token on
