"""The demo's index.html as a browser shows it: headless Chromium reads the page the demo left, and the demo's
screenshot of it is a real picture. Skipped, with the reason, where there is no Chromium."""

from __future__ import annotations

import importlib.util
import re
import shutil
import struct
from dataclasses import dataclass, field
from email.message import EmailMessage
from html.parser import HTMLParser
from urllib.parse import unquote

import pytest

from opsflow.sandbox.browser import NO_BROWSER, SCREEN_HEIGHT, SCREEN_WIDTH, find_browser, run_browser, screenshot_page
from opsflow.sandbox.demo import run_demo
from opsflow.sandbox.demo_page import write_page
from opsflow.store import open_store

STEPS = ["zoom.create", "registrants.sync", "mail.confirmation", "speakers.request", "speakers.materials",
         "mail.invitation", "speakers.rehearsal", "mail.reminder.1d", "mail.reminder.1h", "report.fetch",
         "recording.fetch", "summary.staff", "survey.send", "survey.remind", "speakers.thanks",
         "summary.staff.survey"]  # fmt: skip
SAMPLES = {"mail.confirmation", "mail.invitation", "mail.reminder.1d", "mail.reminder.1h", "survey.send",
           "survey.followup", "survey.remind", "speakers.request", "speakers.thanks"}  # fmt: skip
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = field(default_factory=list)

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def find_all(self, tag: str, cls: str | None = None) -> list[Node]:
        found = []
        for child in self.children:
            if isinstance(child, Node):
                if child.tag == tag and (cls is None or cls in child.attrs.get("class", "").split()):
                    found.append(child)
                found.extend(child.find_all(tag, cls))
        return found


class TreeBuilder(HTMLParser):
    """Enough of a DOM to look at what Chromium serialised."""

    def __init__(self) -> None:
        super().__init__()
        self.root = Node("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_endtag(self, tag):
        while len(self.stack) > 1:
            if self.stack.pop().tag == tag:
                break

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def parse(html: str) -> Node:
    builder = TreeBuilder()
    builder.feed(html)
    return builder.root


@pytest.fixture(scope="module")
def browser() -> str:
    found = find_browser()
    if found is None:
        pytest.skip(f"{NO_BROWSER} to run this check")
    return found


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    lines: list[str] = []
    result = run_demo(tmp_path_factory.mktemp("demo") / "demo", echo=lines.append)
    return result, lines


def test_chromium_reads_the_seminar_as_it_ran(demo, browser):
    result, _ = demo
    shown = run_browser(browser, ["--dump-dom", result.page.resolve().as_uri()], timeout=120)
    assert shown.returncode == 0, shown.stderr[-2000:]
    dom = parse(shown.stdout)
    assert "+0000" not in shown.stdout

    header = dom.find_all("header")[0].text()
    assert "2027年1月21日(木) 18:00–19:30 JST" in header and re.search(r"ミーティングID \d{3} \d{4} \d{4}", header)
    assert re.search(r"40名\s*申込", header) and re.search(r"224通\s*送信メール", header)

    rows = dom.find_all("table", "timeline")[0].find_all("tr")[1:]
    steps = [row for row in rows if row.attrs.get("data-key")]
    assert [row.attrs["data-key"] for row in steps] == STEPS
    assert {row.attrs["data-state"] for row in steps} == {"done"}
    when = {row.attrs["data-key"]: row.find_all("td")[0].text() for row in steps}
    assert when["mail.invitation"] == "1月7日(木) 10:00" and when["mail.reminder.1h"] == "1月21日(木) 17:00"
    assert all(re.fullmatch(r"\d+月\d+日\(.\) \d\d:\d\d", text) for text in when.values())
    results = {row.attrs["data-key"]: row.find_all("td")[3].text() for row in steps}
    assert "送信 40通" in results["mail.invitation"] and "11通" in results["survey.send"]
    held = [row.text() for row in rows if not row.attrs.get("data-key")]
    assert any("1月21日(木) 18:00–19:30" in text and "参加" in text for text in held)  # the seminar, in its place

    samples = {card.attrs["data-key"]: card for card in dom.find_all("article", "sample")}
    assert set(samples) >= SAMPLES
    for key in SAMPLES:
        body = samples[key].find_all("pre")[0].text()
        assert "パブリテックセミナー" in body and "様" in body, key  # the recipient's name, in Japanese
        people = samples[key].find_all("details")[0]
        assert re.search(r"送信先 \d+名", people.text()) and people.find_all("li")
    assert "seminar.ics" in samples["mail.invitation"].text()

    (summary,) = [s for s in dom.find_all("div", "summary") if s.attrs["data-key"] == "summary.staff"]
    charts = summary.find_all("img", "chart")
    assert charts and "参加状況" in summary.find_all("pre")[0].text()
    for chart in charts:
        image = result.page.parent / unquote(chart.attrs["src"])
        assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    fonts = re.findall(r'url\("([^"]+)"\)', dom.find_all("style")[0].text())
    if importlib.util.find_spec("matplotlib_fontja"):  # Japanese shows without CJK fonts on the machine
        assert fonts and all((result.page.parent / font).stat().st_size > 1_000_000 for font in fonts)

    links = [a.attrs["href"] for a in dom.find_all("a", "eml")]
    assert len(links) == 224
    assert {result.page.parent / unquote(href) for href in links} == set(result.outbox.glob("*.eml"))


def test_the_demo_saves_a_screenshot_of_the_page(demo, browser):
    result, lines = demo
    assert result.screenshot == result.folder / "index.png"
    assert f"screenshot: {result.screenshot}" in lines and any(line.startswith("\npage: ") for line in lines)
    png = result.screenshot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    assert struct.unpack(">II", png[16:24]) == (SCREEN_WIDTH, SCREEN_HEIGHT)
    from matplotlib.image import imread

    pixels = imread(result.screenshot)[::4, ::4, :3]
    colours = {tuple(p) for p in pixels.reshape(-1, 3).round(2).tolist()}
    assert len(colours) > 50  # text, the chart, the coloured header: not a blank window


def test_messages_are_escaped_and_strangers_listed(demo, tmp_path):
    """A message the ledger does not know still gets its link; its text is shown, never run."""
    result, _ = demo
    folder = tmp_path / "copy"
    shutil.copytree(result.folder, folder)
    stranger = EmailMessage()
    stranger["From"] = "someone <a@example.jp>"
    stranger["To"] = '"<b>bold</b>" <x+y@example.jp>'
    stranger["Subject"] = "<script>alert(1)</script>"
    stranger["Date"] = "Fri, 29 Jan 2027 01:00:00 +0000"
    stranger.set_content("<img src=x onerror=alert(1)>")
    (folder / "outbox" / "zz #1?.eml").write_bytes(bytes(stranger))
    store = open_store(f"sqlite:///{folder / 'opsflow.db'}")
    try:
        page = write_page(store, "example-seminar", folder / "outbox").read_text(encoding="utf-8")
    finally:
        store.dispose()
    assert "<script>" not in page and "<img src=x" not in page and "<b>bold" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and 'href="zz%20%231%3F.eml"' in page
    assert page.count('class="eml"') == 225 and "その他のメール" in page


def test_screenshot_says_why_when_the_browser_cannot_start(tmp_path):
    page = tmp_path / "index.html"
    page.write_text("<p>hello</p>", encoding="utf-8")
    shot = screenshot_page(page, tmp_path / "index.png", browser=str(tmp_path / "no-such-chromium"))
    assert shot.path is None and "could not be started" in shot.skipped
    assert not (tmp_path / "index.png").exists()
