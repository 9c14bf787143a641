"""The browser dashboard at `/`: its page and files (`page.py`), and the live feed of its tables (`live.py`)."""
