"""Window tests: a modal question nobody answers would hang the run; here it is refused and fails the test."""

import pytest
from PySide6.QtWidgets import QDialog, QLabel


@pytest.fixture(autouse=True)
def unanswered_questions(monkeypatch):
    """Any `QDialog.exec` a test did not answer itself is refused at once and reported when the test ends."""
    asked = []

    def refuse(dialog):
        message = dialog.findChild(QLabel, "message")
        asked.append(f"{type(dialog).__name__} {dialog.windowTitle()!r}: {message.text() if message else ''}")
        return QDialog.Rejected

    monkeypatch.setattr(QDialog, "exec", refuse)
    yield asked
    assert not asked, f"a modal dialog was opened that the test did not expect: {asked}"
