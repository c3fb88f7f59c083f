"""Real Celery workers that render packs, and their media folder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.support.celery_worker import _database_url

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def pack_worker(tmp_path, media):
    """Start `celery worker` processes (each in its own process group); stop them afterwards."""
    processes: list[subprocess.Popen] = []

    def start(extra_env: dict[str, str], *, pool: str = "solo") -> subprocess.Popen:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "DATABASE_URL": _database_url(),
            "MEDIA_ROOT": str(media),
            **extra_env,
        }
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            f"--pool={pool}",
            "--concurrency=1",
            "--loglevel=INFO",
            "--without-mingle",
            "--without-gossip",
            "-Q",
            "packs,notifications,default",
            "--include=tests.documents_kind",
            f"--hostname=packs-{uuid.uuid4().hex[:8]}@%h",
        ]
        log = open(tmp_path / f"worker-{len(processes)}.log", "wb")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(  # noqa: S603 - this Python, fixed arguments
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        process.log_path = log.name
        processes.append(process)
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
