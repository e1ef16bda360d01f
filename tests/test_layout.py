"""The source layout of ARCHITECTURE.md: platform/ is a source root, never a package."""

import importlib
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_platform_is_the_standard_library() -> None:
    import platform

    stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
    assert Path(platform.__file__).resolve().parent == stdlib
    assert callable(platform.python_version)


def test_platform_folder_is_not_a_package() -> None:
    assert not (ROOT / "platform" / "__init__.py").exists()


def test_no_app_takes_a_standard_library_name() -> None:
    apps = [p.name for p in (ROOT / "platform").iterdir() if (p / "__init__.py").exists()]
    assert {"accounts", "festival", "audit", "config"} <= set(apps)
    clashes = sorted(set(apps) & set(sys.stdlib_module_names))
    assert clashes == []


def test_settings_module_imports() -> None:
    module = importlib.import_module("config.settings.base")
    assert module.AUTH_USER_MODEL == "accounts.User"
