"""A web process loads no numpy, OpenCV, PyAV or the detector (some 40 MB each): the URL conf, the views,
the admin, the lean front and the WebSocket routes import only what answers requests. The packaging job
(``services.packaging``) and the trace job (``forensics.trace_job``) load them, in the worker.

Run in a fresh interpreter: this test process has long imported them all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = (
    "numpy",
    "cv2",
    "av",
    "screening.forensics.mark",
    "screening.forensics.codeword",
    "screening.forensics.detect",
    "screening.forensics.reference",
    "screening.forensics.trace_job",
    "screening.services.packaging",
    "screening.media.package",
)


def _loaded_after(*modules: str) -> list[str]:
    code = (
        "import django, importlib, json, sys\n"
        "django.setup()\n"
        f"for name in {list(modules)!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(json.dumps(sorted(m for m in {list(HEAVY)!r} if m in sys.modules)))\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "platform"), str(ROOT)]),
    }
    run = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return list(json.loads(run.stdout.strip().splitlines()[-1]))


@pytest.mark.slow
def test_the_url_conf_loads_no_numpy_opencv_or_detector() -> None:
    assert _loaded_after("config.urls") == []


@pytest.mark.slow
def test_the_asgi_application_loads_none_either() -> None:
    """The ASGI process: the lean front (``screening.asgi``), Django and the WebSocket consumers."""
    assert _loaded_after("config.asgi", "config.websocket") == []


@pytest.mark.slow
def test_the_jobs_do_load_them() -> None:
    """The check above can fail: the jobs' modules are in the list, and importing them loads the rest."""
    loaded = _loaded_after("screening.services.packaging", "screening.forensics.trace_job")
    assert {"numpy", "cv2", "av", "screening.forensics.detect"} <= set(loaded)
