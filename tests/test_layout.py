"""The source layout of docs/architecture.md: platform/ is a source root, never a package; every app has the
same shape."""

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


# --- every app has the same shape (docs/architecture.md, "Where each kind of code lives") ---------------

FEATURE_APPS = {
    "accounts": ROOT / "platform" / "accounts",
    "festival": ROOT / "platform" / "festival",
    "screening": ROOT / "screening",
    "offers": ROOT / "offers",
    "payments": ROOT / "payments",
}


def _part(app: Path, name: str) -> Path | None:
    module, package = app / f"{name}.py", app / name / "__init__.py"
    return module if module.exists() else package if package.exists() else None


def test_every_app_keeps_its_parts_where_the_others_do() -> None:
    missing = [
        f"{app}/{part}"
        for app, folder in FEATURE_APPS.items()
        for part in ("models", "services", "selectors", "views", "urls")
        if _part(folder, part) is None
    ]
    assert missing == []
    strays = sorted(
        str(path.relative_to(ROOT))
        for folder in FEATURE_APPS.values()
        for pattern in ("views_*.py", "urls_*.py", "*_views.py", "*_urls.py", "*_selectors.py", "bench_*.py")
        for path in folder.rglob(pattern)
    )
    assert strays == []


def _service_modules() -> list[str]:
    names = []
    for app, folder in FEATURE_APPS.items():
        services = folder / "services"
        if services.is_dir():
            names += [
                f"{app}.services.{path.stem}" for path in services.glob("*.py") if path.stem != "__init__"
            ]
        else:
            names.append(f"{app}.services")
    return names


def test_every_service_takes_keyword_arguments_only() -> None:
    """HackSoft's convention: ``offer_submit(user=..., offer=...)`` reads the same at every call site."""
    import inspect

    positional = []
    for name in _service_modules():
        module = importlib.import_module(name)
        for attribute, function in vars(module).items():
            if attribute.startswith("_") or not inspect.isfunction(function) or function.__module__ != name:
                continue
            parameters = inspect.signature(function).parameters.values()
            if any(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in parameters):
                positional.append(f"{name}.{attribute}")
    assert positional == []
