"""The staff chat: `opsflow chat test` checks the incoming webhook that alerts and summaries also go to."""

from __future__ import annotations

import click

from opsflow.cli.common import dry_run_option, json_option, print_json


@click.group()
def chat() -> None:
    """The staff chat (OPSFLOW_STAFF_WEBHOOK_URL): alerts and summaries posted there too.

    Mail stays the default: without the setting nothing is posted. The URL is shown masked
    (https://host/***), as its path is the webhook's credential.

    \b
    Example:
        opsflow chat test --dry-run
        opsflow chat test
    """


@chat.command("test")
@click.option(
    "--language",
    type=click.Choice(["ja", "en"]),
    default="ja",
    show_default=True,
    help="The language of the test message.",
)
@dry_run_option("Show where it would go and what it says; post nothing.")
@json_option
@click.pass_obj
def chat_test(app, language: str, dry_run: bool, as_json: bool) -> None:
    """Post a short test message to the staff chat and print the webhook's answer.

    Checks OPSFLOW_STAFF_WEBHOOK_URL and OPSFLOW_STAFF_WEBHOOK_FORMAT (slack or teams; by default
    guessed from the host). Records nothing: each run posts once. Exit code 1 when the chat refused it
    or could not be reached, 2 when a setting is missing or wrong.

    \b
    Example:
        opsflow chat test --dry-run
        opsflow chat test --language en
        opsflow chat test --json
    """
    from opsflow.after.staff_chat import post_test

    posted = post_test(app.settings, language, dry_run=dry_run)
    if as_json:
        print_json({"dry_run": dry_run, **posted.as_dict()})
    elif dry_run:
        click.echo(f"(dry run) would post to {posted.target} ({posted.detail.partition(':')[0]}):")
        click.echo(posted.detail.partition(": ")[2])
    else:
        click.echo(f"posted to {posted.target}: {posted.detail}")
