"""Where leads are delivered: Google Sheets, a local xlsx, or a signed webhook (one interface)."""

from salesagent.notify.sinks.base import LeadSink, SinkError, parse_retry_after
from salesagent.notify.sinks.build import build_sink

__all__ = ["LeadSink", "SinkError", "build_sink", "parse_retry_after"]
