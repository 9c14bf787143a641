"""A short sound when an order fills (once per batch of fills), switched on and off in Settings.

The bundled two-note sound plays through QtMultimedia where it is installed (PySide6-Addons);
PySide6-Essentials has no QtMultimedia, and there the system's bell rings instead.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QSettings, QUrl
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QWidget

from station.domain.events import OrderFilled

KEY = "sound/fills"


class FillSound(QObject):
    """Plays on fills while `enabled` (the window's settings keep the choice; on unless switched off)."""

    def __init__(self, settings: QSettings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.played = 0
        self.effect = _sound_effect(self)

    @property
    def enabled(self) -> bool:
        return self.settings.value(KEY, True, type=bool)

    def set_enabled(self, on: bool) -> None:
        self.settings.setValue(KEY, bool(on))

    def on_fills(self, batch: list[OrderFilled]) -> None:
        if batch and self.enabled:
            self.play()

    def play(self) -> None:
        self.played += 1
        if self.effect is not None:
            self.effect.play()
        else:
            QApplication.beep()

    def action(self, parent: QWidget) -> QAction:
        """Settings › Sound on fills (checkable)."""
        action = QAction("Sound on &fills", parent)
        action.setCheckable(True)
        action.setChecked(self.enabled)
        action.toggled.connect(self.set_enabled)
        return action


def _sound_effect(parent: QObject):
    try:
        from PySide6.QtMultimedia import QSoundEffect
    except ImportError:
        return None
    from station.paths import resources_dir

    effect = QSoundEffect(parent)
    effect.setSource(QUrl.fromLocalFile(str(resources_dir() / "sounds" / "fill.wav")))
    effect.setVolume(0.6)
    return effect
