"""The dark theme: Fusion style, a dark palette and a small stylesheet."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

BG = "#1e2227"
PANEL = "#252a31"
BASE = "#1a1d22"
ALT = "#20242a"
TEXT = "#d8dee9"
MUTED = "#8b95a5"
ACCENT = "#3b82f6"
GREEN = "#22c55e"
RED = "#ef4444"
AMBER = "#f59e0b"
GREY = "#6b7280"

STYLE = f"""
QMainWindow::separator {{ background: {BG}; width: 4px; height: 4px; }}
QDockWidget {{ color: {TEXT}; titlebar-close-icon: none; }}
QDockWidget::title {{ background: {PANEL}; padding: 4px 8px; border-bottom: 1px solid #2f3640; }}
QHeaderView::section {{ background: {PANEL}; color: {MUTED}; border: none; border-right: 1px solid #2f3640;
                        padding: 3px 6px; font-weight: 600; }}
QTableView {{ gridline-color: #2a3038; selection-background-color: #2d4a7a; border: none; }}
QStatusBar {{ background: {PANEL}; color: {MUTED}; border-top: 1px solid #2f3640; }}
QStatusBar QLabel {{ padding: 0 6px; }}
QLineEdit, QComboBox, QSpinBox, QDoubleSpinBox {{ background: {BASE}; border: 1px solid #343b46;
                        border-radius: 3px; padding: 2px 6px; min-height: 20px; }}
QLineEdit:focus, QComboBox:focus {{ border-color: {ACCENT}; }}
QPushButton {{ background: #2f3640; border: 1px solid #3a424e; border-radius: 3px; padding: 4px 12px; }}
QPushButton:hover {{ background: #3a424e; }}
QPushButton:pressed {{ background: #2d4a7a; }}
QMenuBar {{ background: {PANEL}; }}
QMenu {{ background: {PANEL}; border: 1px solid #3a424e; }}
QMenu::item:selected {{ background: #2d4a7a; }}
QToolTip {{ background: {PANEL}; color: {TEXT}; border: 1px solid #3a424e; }}
"""


def apply_theme(app: QApplication) -> None:
    """Make the whole application dark and consistent across platforms (once: re-styling every live widget is slow)."""
    if app.property("station_theme"):
        return
    app.setProperty("station_theme", True)
    app.setStyle("Fusion")
    palette = QPalette()
    roles = {
        QPalette.Window: BG, QPalette.WindowText: TEXT, QPalette.Base: BASE, QPalette.AlternateBase: ALT,
        QPalette.ToolTipBase: PANEL, QPalette.ToolTipText: TEXT, QPalette.Text: TEXT, QPalette.Button: PANEL,
        QPalette.ButtonText: TEXT, QPalette.BrightText: RED, QPalette.Highlight: "#2d4a7a",
        QPalette.HighlightedText: "#ffffff", QPalette.Link: ACCENT, QPalette.PlaceholderText: MUTED,
    }
    for role, color in roles.items():
        palette.setColor(role, QColor(color))
    for role in (QPalette.Text, QPalette.WindowText, QPalette.ButtonText):
        palette.setColor(QPalette.Disabled, role, QColor(GREY))
    app.setPalette(palette)
    app.setStyleSheet(STYLE)
