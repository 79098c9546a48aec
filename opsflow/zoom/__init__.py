"""Zoom: the only package that speaks to Zoom's API.

- `client`: the HTTP transport: OAuth token cache, timeouts, retries, pacing, pagination, typed errors.
- `api`: the endpoints opsflow calls (`Zoom`), one method each.
- `meeting`: the seminar's meeting: created once (claimed, found again after a crash), updated, deleted.
- `panelists`: a webinar's panelists (the speakers): added once each in calls of 30, listed, removed.
- `recordings`: the cloud recording after the event: share link, passcode, files, once Zoom has made them.
"""

from __future__ import annotations

from opsflow.core.config import Settings
from opsflow.zoom.api import Zoom
from opsflow.zoom.client import BUSINESS_RATES, PRO_RATES, Credentials, RetryPolicy

__all__ = ["Zoom", "Credentials", "RetryPolicy", "zoom_from_settings"]


def zoom_from_settings(settings: Settings, **options) -> Zoom:
    """A Zoom client from the OPSFLOW_ZOOM_* settings; a missing one is named with what to put there."""
    credentials = Credentials(
        account_id=settings.require("zoom_account_id"),
        client_id=settings.require("zoom_client_id"),
        client_secret=settings.require("zoom_client_secret"),
    )
    rates = BUSINESS_RATES if settings.zoom_plan == "business" else PRO_RATES
    return Zoom(
        credentials, api_url=settings.zoom_api_url, oauth_url=settings.zoom_oauth_url, rates=dict(rates), **options
    )
