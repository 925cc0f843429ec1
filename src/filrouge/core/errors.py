"""Domain errors. Each carries a stable code, a translatable message and an HTTP-like kind."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from filrouge.i18n import translate


class DomainError(Exception):
    """A refusal the caller can act on. ``code`` is stable; ``message_id`` is in the catalogue."""

    status = 422

    def __init__(
        self, code: str, message_id: str, *, field: str | None = None, **params: Any
    ) -> None:
        self.code = code
        self.message_id = message_id
        self.field = field
        self.params = {"field": field, **params}
        super().__init__(message_id.format(**self.params))

    def message_in(self, locale: str) -> str:
        """The refusal in ``locale``'s words, from the catalogue."""
        return translate(self.message_id, locale, **self.params)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled whole, code and parameters (the customers import parses rows in another
        process and gets the refusals back)."""
        params = {key: value for key, value in self.params.items() if key != "field"}
        return (_restore_error, (type(self), self.code, self.message_id, self.field, params))


def _restore_error(
    kind: type[DomainError], code: str, message_id: str, field: str | None, params: dict[str, Any]
) -> DomainError:
    return kind(code, message_id, field=field, **params)


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409


class Invalid(DomainError):
    status = 422


class Gone(DomainError):
    """It existed and is over (an expired link)."""

    status = 410


class TooLarge(DomainError):
    status = 413


class TooMany(DomainError):
    status = 429


class Forbidden(DomainError):
    status = 403


def check_choice(value: str, choices: type[StrEnum], field: str) -> None:
    """Refuse a value outside a closed vocabulary, listing what is allowed."""
    allowed = [item.value for item in choices]
    if value not in allowed:
        raise Invalid(
            "invalid_choice",
            "{field} must be one of: {allowed}.",
            field=field,
            allowed=", ".join(allowed),
        )
