"""Pieces shared by the apps' Django admin classes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import ValidationError
from django.db.models import ForeignKey
from django.forms import ModelChoiceField
from django.http import HttpRequest


class CheckedAutocompleteSelect(AutocompleteSelect):
    """Django's autocomplete widget re-renders a refused form by filtering the related model on the raw
    submitted values, so ``user=y`` turned a form error into a 500. Values the key cannot hold are
    dropped before that query; the form itself still reports them as invalid."""

    def optgroups(self, name: str, value: Sequence[str], attr: dict[str, Any] | None = None) -> Any:
        key = self.field.target_field
        parsable = []
        for item in value:
            try:
                key.to_python(item)
            except ValidationError:
                continue
            parsable.append(item)
        return super().optgroups(name, parsable, attr)


class CheckedAutocompleteMixin:
    """For a ModelAdmin or an inline with ``autocomplete_fields``: use ``CheckedAutocompleteSelect``."""

    admin_site: Any

    def formfield_for_foreignkey(
        self, db_field: ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField | None:
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):  # type: ignore[attr-defined]
            kwargs["widget"] = CheckedAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]


class ReadOnlyAdminMixin:
    """A record admins read but never add, change or delete: written only by its services."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
