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
LINE = "#2f3640"  # borders and separators
CONTROL = "#3a424e"  # raised controls, scrollbar handles
SELECTION = "#2d4a7a"

STYLE = f"""
QMainWindow::separator {{ background: {BG}; width: 4px; height: 4px; }}
QMainWindow::separator:hover {{ background: {SELECTION}; }}
QDockWidget {{ color: {TEXT}; titlebar-close-icon: none; }}
QDockWidget::title {{ background: {PANEL}; padding: 4px 8px; border-bottom: 1px solid {LINE}; }}
QHeaderView::section {{ background: {PANEL}; color: {MUTED}; border: none; border-right: 1px solid {LINE};
                        border-bottom: 1px solid {LINE}; padding: 3px 6px; font-weight: 600; }}
QTableView, QTreeView {{ gridline-color: #2a3038; selection-background-color: {SELECTION}; border: none;
                         alternate-background-color: {ALT}; }}
QTabBar::tab {{ background: {PANEL}; color: {MUTED}; border: 1px solid {LINE}; padding: 3px 12px; }}
QTabBar::tab:top {{ border-bottom: none; border-top: 2px solid {PANEL}; }}
QTabBar::tab:bottom {{ border-top: none; border-bottom: 2px solid {PANEL}; }}
QTabBar::tab:selected {{ background: {BG}; color: {TEXT}; }}
QTabBar::tab:top:selected {{ border-top: 2px solid {ACCENT}; }}
QTabBar::tab:bottom:selected {{ border-bottom: 2px solid {ACCENT}; }}
QTabBar::tab:hover:!selected {{ color: {TEXT}; }}
QMainWindow > QTabBar {{ qproperty-elideMode: ElideNone; qproperty-usesScrollButtons: true; }}
QTabWidget::pane {{ border: 1px solid {LINE}; top: -1px; }}
QStatusBar {{ background: {PANEL}; color: {MUTED}; border-top: 1px solid {LINE}; }}
QStatusBar::item {{ border: none; }}
QStatusBar QLabel {{ padding: 0 6px; }}
QLineEdit, QComboBox, QSpinBox, QDoubleSpinBox {{ background: {BASE}; border: 1px solid #343b46;
                        border-radius: 3px; padding: 2px 6px; min-height: 20px; }}
QLineEdit:focus, QComboBox:focus, QSpinBox:focus, QDoubleSpinBox:focus {{ border-color: {ACCENT}; }}
QPushButton {{ background: {LINE}; border: 1px solid {CONTROL}; border-radius: 3px; padding: 4px 12px; }}
QPushButton:hover {{ background: {CONTROL}; }}
QPushButton:pressed {{ background: {SELECTION}; }}
QPushButton:disabled {{ color: {GREY}; }}
QToolButton {{ border: 1px solid transparent; border-radius: 3px; padding: 2px 6px; }}
QToolButton:hover {{ background: {LINE}; border-color: {CONTROL}; }}
QToolButton:checked {{ background: {SELECTION}; }}
QScrollBar:vertical {{ background: {BASE}; width: 10px; margin: 0; }}
QScrollBar:horizontal {{ background: {BASE}; height: 10px; margin: 0; }}
QScrollBar::handle {{ background: {CONTROL}; border-radius: 4px; margin: 2px; }}
QScrollBar::handle:hover {{ background: #4b5563; }}
QScrollBar::handle:vertical {{ min-height: 24px; }}
QScrollBar::handle:horizontal {{ min-width: 24px; }}
QScrollBar::add-line, QScrollBar::sub-line {{ width: 0; height: 0; }}
QScrollBar::add-page, QScrollBar::sub-page {{ background: none; }}
QMenuBar {{ background: {PANEL}; }}
QMenuBar::item:selected {{ background: {SELECTION}; }}
QMenu {{ background: {PANEL}; border: 1px solid {CONTROL}; }}
QMenu::item {{ padding: 4px 24px 4px 20px; }}
QMenu::item:selected {{ background: {SELECTION}; }}
QMenu::item:disabled {{ color: {GREY}; }}
QMenu::separator {{ height: 1px; background: {LINE}; margin: 4px 8px; }}
QToolTip {{ background: {PANEL}; color: {TEXT}; border: 1px solid {CONTROL}; }}
QAbstractSpinBox {{ padding-right: 18px; }}
QAbstractSpinBox::up-button, QAbstractSpinBox::down-button {{ subcontrol-origin: border; width: 16px;
                        background: {LINE}; border-left: 1px solid #343b46; }}
QAbstractSpinBox::up-button {{ subcontrol-position: top right; border-top-right-radius: 3px; }}
QAbstractSpinBox::down-button {{ subcontrol-position: bottom right; border-bottom-right-radius: 3px; }}
QAbstractSpinBox::up-button:hover, QAbstractSpinBox::down-button:hover {{ background: {CONTROL}; }}
QAbstractSpinBox::up-arrow {{ image: url({{icons}}/arrow-up.svg); width: 8px; height: 8px; }}
QAbstractSpinBox::down-arrow {{ image: url({{icons}}/arrow-down.svg); width: 8px; height: 8px; }}
QAbstractSpinBox::up-arrow:disabled, QAbstractSpinBox::down-arrow:disabled {{ image: none; }}
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
    # Fusion draws a check box's frame in the window colour made darker: invisible on a dark window.
    # A lighter "window" for check boxes and check-box items gives their frames a visible grey edge.
    boxes = QPalette(palette)
    boxes.setColor(QPalette.Window, QColor("#9aa3b2"))
    for kind in ("QCheckBox", "QTreeView", "QTreeWidget"):
        app.setPalette(boxes, kind)
    from station.paths import resources_dir  # the spin boxes' arrows: drawn from the icons, visible on dark

    app.setStyleSheet(STYLE.replace("{icons}", (resources_dir() / "icons").as_posix()))
