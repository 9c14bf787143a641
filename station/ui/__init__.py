"""The Qt layer: main window, docks, charts, dialogs. Talks to the core only through the bus."""
