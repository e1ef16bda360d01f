"""Errors raised by services. Views turn them into a 4xx with the message; nothing was changed.

Each error carries a human message (translated at raise time) and a stable machine ``code``. A
``field`` names the input at fault so forms and the API can point at it.
"""

from __future__ import annotations

from dataclasses import dataclass

from rest_framework import exceptions, status


class DomainError(Exception):
    status_code: int = status.HTTP_400_BAD_REQUEST
    default_code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.field = field

    @property
    def refusal(self) -> Refusal:
        return Refusal(self.code, self.message, self.status_code)

    def as_api_exception(self) -> exceptions.APIException:
        if self.field:
            return exceptions.ValidationError({self.field: [self.message]}, code=self.code)
        exc = exceptions.APIException(self.message, code=self.code)
        exc.status_code = self.status_code
        return exc


class InvalidInput(DomainError):
    """The request is well formed but its content is not acceptable."""


class Forbidden(DomainError):
    """The actor may see the object but not do this to it."""

    status_code = status.HTTP_403_FORBIDDEN
    default_code = "forbidden"


class NotFound(DomainError):
    """The object does not exist, or the actor may not know that it does (pretix's convention)."""

    status_code = status.HTTP_404_NOT_FOUND
    default_code = "not_found"


class Conflict(DomainError):
    """The object is not in a state that allows this (already decided, session full...)."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


@dataclass(frozen=True)
class Refusal:
    """Why an actor may not do something, as a value: a stable machine ``code``, a translated
    ``message`` and the HTTP ``status`` it answers with (404 where the object's existence is not the
    actor's to know). Policies return one; ``error()`` turns it into the exception a service raises."""

    code: str
    message: str
    status: int = status.HTTP_403_FORBIDDEN

    def error(self) -> DomainError:
        kind = _ERROR_BY_STATUS.get(self.status, DomainError)
        error = kind(self.message, code=self.code)
        error.status_code = self.status
        return error


_ERROR_BY_STATUS: dict[int, type[DomainError]] = {
    status.HTTP_400_BAD_REQUEST: InvalidInput,
    status.HTTP_403_FORBIDDEN: Forbidden,
    status.HTTP_404_NOT_FOUND: NotFound,
    status.HTTP_409_CONFLICT: Conflict,
}
