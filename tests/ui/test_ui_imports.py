"""The window's own import rules (DESIGN.md, ui/): docks get a DockContext, never the main window or Station.

Only `ui/launch.py` knows `station.app`; nothing in ui/ but the launcher imports the main window
(even for typing), so docks, dialogs and the layout form no circle around it. (Which layers ui/
may import at all is tests/test_layers.py's.)
"""

from test_layers import imports, modules


def ui_imports():
    for module, path in sorted(modules().items()):
        if module.startswith("station.ui"):
            for target, line in imports(path, module):
                yield module, target, f"{path.name}:{line}"


def test_only_the_launcher_knows_station_and_the_main_window():
    found = [f"{where}: {target}" for module, target, where in ui_imports()
             if module != "station.ui.launch" and (target.startswith("station.app")
                                                   or target.startswith("station.ui.main_window"))]
    assert not found, "\n".join(found)

