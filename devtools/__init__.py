"""Development tooling: demo data, benchmarks, the load-test preparation, synthetic files.

Installed only by the local and test settings (config/settings/local.py, test.py), left out
of the production image (.dockerignore), and imported by no product module (the
import-linter contract in pyproject.toml, run by ``make lint``).
"""
