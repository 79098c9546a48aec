"""After the seminar: the attendance report, the recording, the survey, the staff summary, the series.

- `report`: Zoom's participant report fetched, archived and turned into attendance per person.
- `attendance`: who attended, from join/leave segments: pure functions.
- `survey`: the survey and the follow-up sent, answers imported, the reminder.
- `webhook`: the survey recipients POSTed, signed, to an external tool.
- `summary`: the staff summary's numbers, chart and CSV.
- `recording`: the cloud recording's share link, asked of Zoom until it exists, stored once.
- `chat`: the staff chat's messages (alerts, the summary; Slack or Teams style) and the webhook client.
- `staff_chat`: each post claimed in the delivery ledger first, so that none goes twice.
- `chart`: the attendance chart (matplotlib).
- `series`: a series of seminars at a glance.
"""
