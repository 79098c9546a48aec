"""opsflow: runs the operations of an online seminar series (Zoom, mail, attendance, survey, summary)."""

__version__ = "0.1.0"
