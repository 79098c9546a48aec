"""Fault injection for the reliability and security tests: a slow SMTP server, TLS servers with a
certificate nobody trusts, a Zoom client with faults between its registration batches, a tiny full disk,
opsflow in a real child process, and a log collector."""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from aiosmtpd.controller import Controller

from .smtp_sink import SmtpSink, _Handler

OPSFLOW = [sys.executable, "-m", "opsflow"]


# --- SMTP ---------------------------------------------------------------------------------------

class _SlowHandler(_Handler):
    """The sink's handler with pauses on DATA: `sink.pause_before` delays the next messages before the
    server takes them (a busy server); `sink.pause_after` takes them, then answers late."""

    async def handle_DATA(self, server, session, envelope):
        with self.sink.lock:
            before = self.sink.pause_before.pop(0) if self.sink.pause_before else 0.0
        if before:
            await asyncio.sleep(before)
        reply = await super().handle_DATA(server, session, envelope)
        with self.sink.lock:
            after = self.sink.pause_after.pop(0) if self.sink.pause_after else 0.0
        if after:
            await asyncio.sleep(after)
        return reply


class SlowSink(SmtpSink):
    """The loopback sink whose DATA answers can be slowed down, one message at a time."""

    def __init__(self) -> None:
        super().__init__()
        self.pause_before: list[float] = []
        self.pause_after: list[float] = []
        self.controller = Controller(_SlowHandler(self), hostname="127.0.0.1", port=self.port)


def self_signed_context(folder: Path) -> ssl.SSLContext:
    """A server TLS context with a fresh self-signed certificate for 127.0.0.1 (made with openssl)."""
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key),
                    "-out", str(cert)], check=True, capture_output=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


class TlsSink(SmtpSink):
    """The sink speaking TLS with a certificate no client trusts: `implicit` for smtps://, else it
    offers STARTTLS (for smtp+starttls://)."""

    def __init__(self, context: ssl.SSLContext, *, implicit: bool) -> None:
        super().__init__()
        options = {"ssl_context": context} if implicit else {"tls_context": context}
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port, **options)


# --- Zoom ---------------------------------------------------------------------------------------

class BetweenBatches:
    """Wraps an opsflow Zoom client; once the `after`-th batch registration call has returned, runs
    `action` (the fake Zoom revoking every token, or failing the calls that follow)."""

    def __init__(self, zoom, action, *, after: int = 1) -> None:
        self._zoom, self._action, self._after = zoom, action, after
        self.batches = 0

    def batch_register(self, *args, **kwargs):
        yield from self._zoom.batch_register(*args, **kwargs)
        self.batches += 1
        if self.batches == self._after:
            self._action()

    def __getattr__(self, name):
        return getattr(self._zoom, name)


# --- disks and processes ------------------------------------------------------------------------

@contextmanager
def tiny_tmpfs(folder: Path, size: str = "64k") -> Iterator[Path]:
    """Mount a tmpfs of `size` at `folder` (root only); raises PermissionError with the reason when
    mounting is not allowed here."""
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                             capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        raise PermissionError(f"cannot mount a tmpfs at {folder} ({mounted.stderr.strip() or mounted.returncode})")
    try:
        yield folder
    finally:
        if subprocess.run(["umount", str(folder)], capture_output=True, check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(folder)], capture_output=True, check=False)


def resize_tmpfs(folder: Path, size: str) -> None:
    subprocess.run(["mount", "-o", f"remount,size={size}", str(folder)], check=True, capture_output=True)


def opsflow_env(**settings: str) -> dict[str, str]:
    """The process environment without any OPSFLOW_ setting of the caller's, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPSFLOW_")}
    return {**env, **settings}


def run_opsflow(*args: str, env: dict[str, str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([*OPSFLOW, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          check=False)


def write_registrants(path: Path, count: int, extra: tuple[tuple[str, str, str], ...] = ()) -> list[str]:
    """A UTF-8 registration export (氏名, メールアドレス, 自治体名) of `count` people plus `extra` rows;
    returns the addresses in file order."""
    rows = [(f"職員 {n:04d}", f"p{n:04d}@city{n % 97}.example.lg.jp", f"テスト市{n % 97}") for n in range(count)]
    rows += list(extra)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["氏名,メールアドレス,自治体名"] + [",".join(_csv_cell(c) for c in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [row[1] for row in rows]


def _csv_cell(value: str) -> str:
    return '"' + value.replace('"', '""') + '"' if any(c in value for c in ',"\n') else value


# --- logs ---------------------------------------------------------------------------------------

class LogCollector(logging.Handler):
    """Every record of the `opsflow` loggers, formatted as a log file would show it (with tracebacks)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == "opsflow" or record.name.startswith("opsflow."):
            self.lines.append(self.format(record))


@contextmanager
def collect_opsflow_logs() -> Iterator[LogCollector]:
    """Collect opsflow's logs at DEBUG. The CLI resets the `opsflow` logger to WARNING with its own
    handler on every command, so the collector sits on the root logger and each `opsflow.*` module
    logger is opened to DEBUG (their records pass the CLI's redacting handler on the way up)."""
    import importlib
    import pkgutil

    import opsflow

    for module in pkgutil.walk_packages(opsflow.__path__, "opsflow."):
        if not module.name.startswith("opsflow.sandbox") and not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    names = [n for n in logging.Logger.manager.loggerDict if n.startswith("opsflow.")]
    loggers = [logging.getLogger(n) for n in names]
    levels = [logger.level for logger in loggers]
    collector = LogCollector()
    root = logging.getLogger()
    root.addHandler(collector)
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    try:
        yield collector
    finally:
        root.removeHandler(collector)
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)
