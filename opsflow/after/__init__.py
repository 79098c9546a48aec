"""After the seminar: the attendance report, the survey, the staff summary, the series.

- `report`: Zoom's participant report fetched, archived and turned into attendance per person.
- `attendance`: who attended, from join/leave segments: pure functions.
- `survey`: the survey and the follow-up sent, answers imported, the reminder.
- `webhook`: the survey recipients POSTed, signed, to an external tool.
- `summary`: the staff summary's numbers, chart and CSV.
- `chat`: alerts and the summary POSTed to the staff chat's incoming webhook (Slack or Teams style).
- `chart`: the attendance chart (matplotlib).
- `series`: a series of seminars at a glance.
"""
