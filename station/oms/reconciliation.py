"""The one reconciliation: what a destination holds, applied to the book after each (re)connect.

The dispatcher asks a destination that (re)connected for its `reports(since)` and publishes
them (`ReportsReceived`) before it sends anything new there. They are applied here, at once
and in this order, with the same rules as live reports: fills (each once, by fill id), then
order statuses (a status never undoes a fill; a final order stays final), then positions (a
difference from the book, with no order in flight there, is booked as unattributed and told).
"""

from __future__ import annotations

import logging

from station.domain.events import ReportsReceived
from station.oms.reports import ReportApplier

log = logging.getLogger("station.oms")


class Reconciliation:
    """Applies a destination's reports to the book, in the order that keeps it consistent."""

    def __init__(self, applier: ReportApplier) -> None:
        self.applier = applier

    def on_reports(self, event: ReportsReceived) -> None:
        reports = event.reports
        new_fills = sum(self.applier.apply_fill(fill) for fill in reports.fills)
        for report in reports.orders:
            self.applier.on_order_report(report)
        corrected = sum(self.applier.on_position_report(report) for report in reports.positions)
        log.info("reconciled with %s: %d new fills, %d positions corrected", reports, new_fills, corrected)
