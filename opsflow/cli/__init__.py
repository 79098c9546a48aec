"""The command line: click commands that parse, call the library and print. Nothing is imported here,
so that `quick` (cron's fast path) loads no click.

- `entry`: the `opsflow` console script; `run-due` with nothing due answers before the CLI loads.
- `quick`: the cron fast path: is anything due or changed? `sqlite3` or psycopg alone, no click.
- `main`: the `opsflow` group, the shared `App`, and `validate`, `plan`, `apply`, `status`.
- `common`: what the commands share: the time, `--json`, `--dry-run`, `--csv`, dry-run stores.
- `views`: what the commands print: data for `--json`, tables and text for people.
- `zoom`, `registrants`, `mail`, `after`, `runner`: the command groups of each capability.
- `speakers`: `opsflow speakers`, each speaker's email, mails and panelist link.
- `recording`: `opsflow recording fetch|show`, the cloud recording's share link.
- `chat`: `opsflow chat test`, a test post to the staff chat.
"""
