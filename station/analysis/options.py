"""What the user chooses for a report (since when, where to), checked before any work; no pandas here."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from station.domain.timeutil import EASTERN, UTC, utc_now
from station.paths import writable_folder


class AnalysisError(Exception):
    """A problem the user can fix (a bad date, an output folder that cannot be written): one line."""


def parse_since(text: str) -> datetime:
    """An ISO date (midnight US/Eastern) or date and time (US/Eastern unless it names its zone), as UTC."""
    value = text.strip()
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime(day.year, day.month, day.day, tzinfo=EASTERN).astimezone(UTC)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise AnalysisError(f"--since {text!r} is not an ISO date or time (e.g. 2024-03-01 or 2024-03-01T09:30)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=EASTERN)
    return moment.astimezone(UTC)


def default_out_dir(data_dir: Path, now: datetime | None = None) -> Path:
    """`<data dir>/exports/analysis-<US/Eastern time>`, made unique if run twice in a second."""
    stamp = (now or utc_now()).astimezone(EASTERN).strftime("%Y%m%d-%H%M%S")
    base = Path(data_dir) / "exports" / f"analysis-{stamp}"
    candidate, n = base, 1
    while candidate.exists():
        n += 1
        candidate = base.with_name(f"{base.name}-{n}")
    return candidate


def prepare_out_dir(path: Path) -> Path:
    """Create the output folder if need be; AnalysisError if it cannot be written."""
    try:
        return writable_folder(path)
    except ValueError as exc:
        raise AnalysisError(str(exc)) from None
