"""Hooks through which feature apps add to the core's pages without the core importing them.

A feature app registers, in its AppConfig.ready(), functions that return the actions it offers on a
film's page for a given user, and sections it adds to that page (docs/architecture.md, layers:
dependencies flow one way).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from django.utils.safestring import SafeString

from accounts.models import User
from festival.models import Film

T = TypeVar("T")


@dataclass(frozen=True)
class FilmAction:
    label: str
    url: str
    primary: bool = False


@dataclass(frozen=True)
class FilmSection:
    title: str
    html: SafeString  # rendered by the feature app from its own template


class _FilmHooks(Generic[T]):
    """Providers of one kind of addition to a film's page, each called with the film and the viewer."""

    def __init__(self) -> None:
        self.providers: list[Callable[[Film, User], list[T]]] = []

    def register(self, provider: Callable[[Film, User], list[T]]) -> None:
        if provider not in self.providers:
            self.providers.append(provider)

    def collect(self, film: Film, user: User) -> list[T]:
        return [item for provider in self.providers for item in provider(film, user)]


FilmActionProvider = Callable[[Film, User], list[FilmAction]]
FilmSectionProvider = Callable[[Film, User], list[FilmSection]]
_actions: _FilmHooks[FilmAction] = _FilmHooks()
_sections: _FilmHooks[FilmSection] = _FilmHooks()


def register_film_actions(provider: FilmActionProvider) -> None:
    _actions.register(provider)


def register_film_sections(provider: FilmSectionProvider) -> None:
    _sections.register(provider)


def film_actions(*, film: Film, user: User) -> list[FilmAction]:
    return _actions.collect(film, user)


def film_sections(*, film: Film, user: User) -> list[FilmSection]:
    return _sections.collect(film, user)
