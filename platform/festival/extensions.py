"""Hooks through which feature apps add to the core's pages without the core importing them.

A feature app registers, in its AppConfig.ready(), functions that return the actions it offers on a
film's page for a given user, and sections it adds to that page (ARCHITECTURE.md: dependencies flow
one way).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.safestring import SafeString

from accounts.models import User
from festival.models import Film


@dataclass(frozen=True)
class FilmAction:
    label: str
    url: str
    primary: bool = False


FilmActionProvider = Callable[[Film, User], list[FilmAction]]
_providers: list[FilmActionProvider] = []


def register_film_actions(provider: FilmActionProvider) -> None:
    if provider not in _providers:
        _providers.append(provider)


def film_actions(film: Film, user: User) -> list[FilmAction]:
    return [action for provider in _providers for action in provider(film, user)]


@dataclass(frozen=True)
class FilmSection:
    title: str
    html: SafeString  # rendered by the feature app from its own template


FilmSectionProvider = Callable[[Film, User], list[FilmSection]]
_section_providers: list[FilmSectionProvider] = []


def register_film_sections(provider: FilmSectionProvider) -> None:
    if provider not in _section_providers:
        _section_providers.append(provider)


def film_sections(film: Film, user: User) -> list[FilmSection]:
    return [section for provider in _section_providers for section in provider(film, user)]
