"""Mail: templates rendered, messages built, sent through the delivery ledger. The only place that
speaks SMTP (`transport`).

- `send`: who gets which message, and `send_mail`, what the mail steps and `opsflow send` call.
- `ledger`: the delivery ledger and the send loop: one row per (event, person, message), never twice.
- `transport`: SMTP (plain, STARTTLS, SMTPS) and the outbox folder.
- `render`: templates -> subject, text and HTML, in a sandboxed Jinja2 environment.
- `context`: the variables a template sees.
- `message`: one MIME message per person, plain text first.
- `ics`: the seminar as an iCalendar attachment.
- `speakers` (a package): the speakers' own mails, and their panelist links on a webinar.
"""
