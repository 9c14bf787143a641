"""File > Analyze…: asks since when, writes the alerts-vs-fills report in a worker thread, then opens it."""

from __future__ import annotations

import asyncio
import logging
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QDate, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QCheckBox, QDateEdit, QDialog, QLabel, QMessageBox, QStatusBar, QWidget

from station.analysis.options import AnalysisError, default_out_dir, prepare_out_dir
from station.domain.timeutil import EASTERN, UTC, utc_now
from station.ui.context import DockContext
from station.ui.forms import child, load_form
from station.ui.slots import run_task

if TYPE_CHECKING:
    from station.analysis.export import Report

log = logging.getLogger("station.ui")


class AnalysisRunner:
    """Runs the report off the loop thread (pandas takes a moment) and shows the trader where it went."""

    def __init__(self, context: DockContext, parent: QWidget, status: QStatusBar,
                 open_url: Callable[[QUrl], bool] = QDesktopServices.openUrl) -> None:
        self.context, self.parent, self.status = context, parent, status
        self.open_url = open_url
        self.task: asyncio.Task | None = None

    def ask(self) -> QDialog:
        """The small dialog: since when (optional), where the report goes; OK starts it."""
        dialog: QDialog = load_form("analysis", self.parent)
        since = child(dialog, QDateEdit, "sinceDate")
        since.setDate(QDate.currentDate().addDays(-30))
        data_dir = Path(self.context.info.data_dir)
        child(dialog, QLabel, "outDir").setText(str(data_dir / "exports" / "analysis-<time>"))

        def accepted() -> None:
            chosen = since.date().toPython() if child(dialog, QCheckBox, "sinceEnabled").isChecked() else None
            self.start(chosen)

        dialog.accepted.connect(accepted)
        dialog.open()
        return dialog

    def start(self, since: date | None) -> asyncio.Task | None:
        """Start a report unless one is being written."""
        if self.task is not None and not self.task.done():
            self.status.showMessage("A report is already being written…", 5000)
            return None
        start = None if since is None else datetime(since.year, since.month, since.day, tzinfo=EASTERN).astimezone(UTC)
        self.task = run_task(self.run(start))
        return self.task

    async def run(self, since: datetime | None) -> "Report | None":
        """Write the report in a worker thread, then open it (or its folder); errors are shown, not raised."""
        self.status.showMessage("Analysing alerts, orders and fills…")
        try:
            out_dir = prepare_out_dir(default_out_dir(self.context.info.data_dir, utc_now()))
            report = await asyncio.to_thread(self.context.write_report, out_dir, since)
        except Exception as exc:  # noqa: BLE001 - whatever went wrong, the trader is told and the app goes on
            if not isinstance(exc, AnalysisError):
                log.exception("the analysis failed")
            self.status.showMessage("The analysis failed", 8000)
            box = QMessageBox(QMessageBox.Warning, "Analyze alerts vs fills", f"No report was written:\n\n{exc}",
                              QMessageBox.Ok, self.parent)
            box.open()
            return None
        lines = report.summary_lines()
        log.info("%s", "; ".join(lines))
        self.status.showMessage(f"{lines[0]} — {lines[1]}", 15000)
        if not self.open_url(QUrl.fromLocalFile(str(report.html))):
            self.open_url(QUrl.fromLocalFile(str(report.out_dir)))
        return report

