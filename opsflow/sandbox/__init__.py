"""Stand-ins for outside systems that speak their real protocols on loopback, for tests and demos.

- `zoom`: the fake Zoom (OAuth and the /v2 endpoints opsflow calls, with faults and quirks);
  `zoom_state` its meetings and registrants, `zoom_reports` its ended meetings and reports.
- `zoom_cli`: `python -m opsflow.sandbox.zoom`, the fake Zoom from a terminal, faults as options.
- `chat`: a fake staff chat, Slack- and Teams-style incoming webhooks that check bodies and misbehave.
- `loopback`: the HTTP server both fakes run on (a free loopback port, start and stop, open connections).
- `demo`: `opsflow demo`, a whole seminar against the fake Zoom with a jumping clock.
- `demo_page`: the demo's `index.html` (timeline, mail samples, staff summary, every message; template
  `demo_page.html.j2`); `browser`: headless Chromium, which takes its screenshot.
"""
