"""Where the repository and the tests' data files are."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
# Real DBN files from Databento's own test suite (Apache-2.0, tests/data/dbn/LICENSE-databento-dbn)
DBN = DATA / "dbn"
