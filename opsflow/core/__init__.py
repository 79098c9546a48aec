"""The core: job files in, a plan of steps out, and the runner that carries the steps out.

- `config`: settings from the environment and `.env`, checked when read, secrets masked.
- `config_values`: each setting's value from its text, or an error naming it.
- `errors`: the one exception tree.
- `jobspec`: job files -> `Event`; `jobtext`: their lines, for errors that name the line.
- `timeexpr`: "start - 1d @ 10:00", business days, Japanese holidays.
- `plan`: an event -> its steps with due times; `needs`: what a step waits for.
- `apply`: reconcile job files into the store; `watch`: job files changed since applied.
- `runner`: run due steps (claim, act, record, retry, alert); `scheduler`: APScheduler wiring for it.
- `doctor`: check the setup; `resources`: where the built-in templates and example live.
"""
