"""The only module that starts a web browser: headless Chromium, for the demo page's screenshot and its test."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
NO_BROWSER = "no Chromium on this machine: install Debian's chromium package"
SCREEN_WIDTH, SCREEN_HEIGHT = 1280, 2400
TIMEOUT = 120.0  # seconds; a first start on a busy machine takes a few


@dataclass(frozen=True)
class Screenshot:
    """The file written, or why there is none."""

    path: Path | None
    skipped: str = ""


def find_browser() -> str | None:
    """A Chromium (or Chrome) on PATH, or None."""
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


def run_browser(browser: str, args: list[str], *, timeout: float = TIMEOUT) -> subprocess.CompletedProcess[str]:
    """Headless Chromium with a throwaway profile; the whole process group is ended on a timeout.
    `--no-sandbox` because Chromium refuses to start as root without it; it only ever opens our own files."""
    with tempfile.TemporaryDirectory(prefix="opsflow-chromium-") as profile:
        command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
                   "--disable-extensions", "--mute-audio", f"--user-data-dir={profile}", *args]  # fmt: skip
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
        )
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise
    return subprocess.CompletedProcess(command, process.returncode, out, err)


def screenshot_page(page: Path, png: Path, *, browser: str | None = None) -> Screenshot:
    """Save what a 1280-pixel-wide browser window shows of `page`; a reason instead when it cannot."""
    browser = browser or find_browser()
    if browser is None:
        return Screenshot(None, NO_BROWSER)
    png.unlink(missing_ok=True)
    window = f"--window-size={SCREEN_WIDTH},{SCREEN_HEIGHT}"
    try:
        done = run_browser(browser, [f"--screenshot={png}", window, page.resolve().as_uri()])
    except subprocess.TimeoutExpired:
        return Screenshot(None, f"{browser} did not finish within {TIMEOUT:.0f} s")
    except OSError as err:
        return Screenshot(None, f"{browser} could not be started: {err}")
    if done.returncode != 0 or not png.is_file():
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        return Screenshot(None, f"{browser} exited with {done.returncode}: {last}")
    return Screenshot(png)
