"""Pick the sink from settings: Google when both GOOGLE_* are set, else the local xlsx."""

from __future__ import annotations

from salesagent.notify.config import NotifySettings
from salesagent.notify.sinks.base import LeadSink


def build_sink(settings: NotifySettings | None = None) -> LeadSink:
    settings = settings or NotifySettings()
    if settings.sink == "webhook":
        from salesagent.notify.sinks.webhook import WebhookSink

        assert settings.webhook_url and settings.webhook_secret  # checked by NotifySettings
        return WebhookSink(
            settings.webhook_url,
            settings.webhook_secret.get_secret_value(),
            request_timeout_s=settings.request_timeout_s,
        )
    if settings.use_google:
        from salesagent.notify.sinks.google import GoogleSheetsSink

        assert settings.google_credentials_path and settings.google_sheet_id
        return GoogleSheetsSink(
            settings.google_credentials_path,
            settings.google_sheet_id,
            settings.worksheet,
            api_base=settings.google_api_base,
            request_timeout_s=settings.request_timeout_s,
            min_interval_s=settings.google_min_interval_s,
        )
    from salesagent.notify.sinks.xlsx import XlsxSink

    return XlsxSink(settings.resolved_xlsx_path(), settings.worksheet)
