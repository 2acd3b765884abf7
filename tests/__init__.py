"""pinlake's tests; they run from a checkout."""

from pathlib import Path

# The checkout's root: the docs, the Dockerfile and the compose file the tests read.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
