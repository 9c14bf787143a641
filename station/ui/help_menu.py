"""The Help menu: the user guide shipped with the app, the data folder, the log, About.

The guide is Markdown under `resources/guide/` (one file a chapter, in file-name order,
its first heading the chapter's title), shown in a dialog (forms/user_guide.ui).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QUrl
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import QDialog, QListWidget, QMenu, QTextBrowser, QWidget

from station.paths import resources_dir
from station.ui.context import StationInfo
from station.ui.forms import child, load_form

LOG_FILE = Path("logs") / "station.log"


@dataclass(frozen=True)
class Chapter:
    """One chapter of the user guide."""

    title: str
    markdown: str


def chapters(folder: Path | None = None) -> list[Chapter]:
    """The guide's chapters, in order."""
    folder = folder or resources_dir() / "guide"
    found = []
    for path in sorted(folder.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        first = next((line for line in text.splitlines() if line.startswith("# ")), path.stem)
        found.append(Chapter(first.removeprefix("# ").strip(), text))
    return found


class UserGuide:
    """The guide's dialog: chapters on the left, the chapter on the right."""

    def __init__(self, parent: QWidget | None = None) -> None:
        self.dialog: QDialog = load_form("user_guide", parent)
        self.list = child(self.dialog, QListWidget, "chapters")
        self.text = child(self.dialog, QTextBrowser, "text")
        self.chapters = chapters()
        self.list.addItems([chapter.title for chapter in self.chapters])
        self.list.currentRowChanged.connect(self.show_chapter)
        self.list.setCurrentRow(0)

    def show_chapter(self, index: int) -> None:
        if 0 <= index < len(self.chapters):
            self.text.setMarkdown(self.chapters[index].markdown)

    def open(self, title: str | None = None) -> None:
        """Show the dialog (at the chapter `title`, if given)."""
        if title is not None:
            index = next((i for i, c in enumerate(self.chapters) if c.title == title), 0)
            self.list.setCurrentRow(index)
        self.dialog.show()


def open_path(path: Path, say: Callable[[str], None]) -> bool:
    """Open a file or folder with the desktop's own program; `say` why not when it does not exist or cannot be."""
    if not path.exists():
        say(f"{path} does not exist yet")
        return False
    if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))):
        say(f"No program could open {path}; it is at that path")
        return False
    return True


def fill_help_menu(menu: QMenu, window: QWidget, info: StationInfo, about: Callable[[], None]) -> dict[str, QAction]:
    """User guide (F1), Open data folder, Open log, About: the actions by name."""
    actions: dict[str, QAction] = {}

    def add(key: str, text: str, slot, shortcut: str | None = None) -> None:
        action = QAction(text, window)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        menu.addAction(action)
        actions[key] = action

    def guide() -> None:
        window._user_guide = UserGuide(window)  # kept: the dialog lives as long as the window holds it
        window._user_guide.open()

    add("guide", "&User guide", guide, "F1")
    menu.addSeparator()
    def say(text: str) -> None:
        status = getattr(window, "statusBar", None)
        status().showMessage(text, 10000) if status else None

    add("data", "Open &data folder", lambda: open_path(info.data_dir, say))
    add("log", "Open the &log", lambda: open_path(info.data_dir / LOG_FILE, say))
    menu.addSeparator()
    add("about", "&About Station", about)
    return actions
