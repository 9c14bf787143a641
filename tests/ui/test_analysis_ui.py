"""File > Analyze alerts vs fills… in the window: the dialog, the report written off the loop, then opened."""

from __future__ import annotations

import asyncio
import threading

from PySide6.QtWidgets import QCheckBox, QDateEdit, QDialog, QMessageBox

from support.analysis import build_edge_cases
from support.launch import free_port, run_qt
from station.app import Options, Station
from station.ui.analysis_dialog import AnalysisRunner
from station.ui.launch import main_window


def _window(data_dir, secrets):
    core = Station(Options(data_dir=data_dir, port=free_port()), secrets)
    core.store.writer.call(build_edge_cases)
    window = main_window(core)
    opened = []
    window.analysis = AnalysisRunner(window.context, window, window.status,
                                     open_url=lambda url: opened.append(url.toLocalFile()) or True)
    return core, window, opened


def test_analyze_from_the_file_menu_writes_the_report_in_a_worker_thread_and_opens_it(qtbot, data_dir, secrets,
                                                                                      monkeypatch):
    import station.analysis.export as export

    threads, real = [], export.run_analysis
    monkeypatch.setattr(export, "run_analysis",
                        lambda *a, **k: threads.append(threading.current_thread()) or real(*a, **k))

    async def scenario():
        from PySide6.QtWidgets import QApplication

        from station.ui.theme import apply_theme

        apply_theme(QApplication.instance())
        core, window, opened = _window(data_dir, secrets)
        window.show()
        action = next(a for a in window.menuBar().actions()[0].menu().actions() if "Analyze" in a.text())
        action.trigger()
        dialog = window.findChild(QDialog, "AnalysisDialog")
        dialog.findChild(QCheckBox, "sinceEnabled").setChecked(True)
        assert dialog.findChild(QDateEdit, "sinceDate").isEnabled()
        dialog.findChild(QCheckBox, "sinceEnabled").setChecked(False)
        dialog.accept()
        report = await asyncio.wait_for(window.analysis.task, 20)
        message = window.status.currentMessage()
        window.close()
        core.store.close()
        return report, opened, threads, message

    report, opened, threads, message = run_qt(scenario)
    assert threads and threads[0] is not threading.main_thread()
    assert report.html.is_file() and report.out_dir.parent == data_dir / "exports"
    assert opened == [str(report.html)]
    assert message.startswith("Report written to") and "Alerts: 9" in message


def test_a_report_that_cannot_be_written_is_explained_and_the_window_goes_on(qtbot, data_dir, secrets):
    async def scenario():
        core, window, opened = _window(data_dir, secrets)
        (data_dir / "exports").write_text("a file where the exports folder should be")
        report = await window.analysis.start(None)
        boxes = [b for b in window.findChildren(QMessageBox) if b.isVisible()]
        texts = [b.text() for b in boxes]
        for box in boxes:
            box.close()
        window.close()
        core.store.close()
        return report, opened, texts

    report, opened, texts = run_qt(scenario)
    assert report is None and opened == []
    assert texts and "No report was written" in texts[0] and "exports" in texts[0]
