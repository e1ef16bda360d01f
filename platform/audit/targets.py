"""How a model instance is named in the log: ``("app_label.modelname", str(pk))``."""

from __future__ import annotations

from django.db import models


def target_ref(target: models.Model) -> tuple[str, str]:
    if target.pk is None:
        raise ValueError(f"Cannot audit an unsaved {type(target).__name__}.")
    meta = target._meta
    return f"{meta.app_label}.{meta.model_name}", str(target.pk)
