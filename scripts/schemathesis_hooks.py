"""Schemathesis hooks for Warden's API tests (loaded with SCHEMATHESIS_HOOKS=schemathesis_hooks).

Event and report times (`occurred_at`) are refused before 1970 and more than 24 hours ahead of the
server's clock. JSON Schema cannot say "relative to now", so the document states it in words and
these hooks generate date-times inside that window (any offset, with or without fractions): the
other constraints of those bodies are still tested in full.
"""
from datetime import datetime, timedelta, timezone

import schemathesis
from hypothesis import strategies as st


def _rfc3339(moment: datetime, offset_minutes: int, fraction: bool) -> str:
    zone = timezone(timedelta(minutes=offset_minutes))
    local = moment.astimezone(zone)
    text = local.strftime("%Y-%m-%dT%H:%M:%S")
    if fraction:
        text += ".%03d" % (local.microsecond // 1000)
    if offset_minutes == 0:
        return text + "Z"
    sign = "+" if offset_minutes > 0 else "-"
    hours, minutes = divmod(abs(offset_minutes), 60)
    return f"{text}{sign}{hours:02d}:{minutes:02d}"


_moments = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime.now() + timedelta(hours=1),
                        timezones=st.just(timezone.utc))
schemathesis.openapi.format(
    "date-time",
    st.builds(_rfc3339, _moments, st.integers(min_value=-12 * 60, max_value=14 * 60), st.booleans()),
)
