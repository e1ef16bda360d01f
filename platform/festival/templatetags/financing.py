"""A film's financing figures in templates that list films: ``{% film_financing film as lines %}``.

The same ``MoneyLine`` as the film page and the API (festival.selectors: secured = recorded by the
producers + committed by agreements)."""

from __future__ import annotations

from django import template

from festival.models import Film
from festival.selectors import MoneyLine, film_financing

register = template.Library()


@register.simple_tag(name="film_financing")
def film_financing_lines(film: Film) -> list[MoneyLine]:
    return film_financing(film=film)
