"""A real pack worker on kombu's filesystem broker, for the browser tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def filesystem_worker(tmp_path, publish_to, pack_worker):
    """A real worker on kombu's filesystem broker; the test kind reads its parts slowly."""
    broker = tmp_path / "broker"
    for folder in ("out", "processed", "control"):
        (broker / folder).mkdir(parents=True)
    publish_to(
        "filesystem://",
        {
            "data_folder_in": str(broker / "out"),
            "data_folder_out": str(broker / "out"),
            "processed_folder": str(broker / "processed"),
            "control_folder": str(broker / "control"),
            "store_processed": False,
        },
    )
    return pack_worker({"REDIS_URL": "", "CELERY_BROKER_DIR": str(broker), "TEST_PACK_SLEEP": "3"})
