"""One exception family for every SCIM error (RFC 7644 §3.12), rendered once at the app's error boundary."""

from __future__ import annotations

from typing import Any, ClassVar

from scimcore import urns


class ScimError(Exception):
    """An error the client caused or must see: HTTP status, optional scimType (RFC 7644 Table 9), detail."""

    status: ClassVar[int] = 400
    scim_type: ClassVar[str | None] = None

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}

    def to_scim(self) -> dict[str, Any]:
        """The Error JSON body; ``status`` is a string as RFC 7644 §3.12 shows it."""
        body: dict[str, Any] = {"schemas": [urns.ERROR], "status": str(self.status)}
        if self.scim_type:
            body["scimType"] = self.scim_type
        body["detail"] = self.detail
        return body


class BadRequestError(ScimError):
    """400 without a scimType: the request is wrong in a way Table 9 has no code for."""


class InvalidFilterError(ScimError):
    scim_type = "invalidFilter"


class TooManyError(ScimError):
    scim_type = "tooMany"


class UniquenessError(ScimError):
    status = 409
    scim_type = "uniqueness"


class MutabilityError(ScimError):
    scim_type = "mutability"


class InvalidSyntaxError(ScimError):
    scim_type = "invalidSyntax"


class InvalidPathError(ScimError):
    scim_type = "invalidPath"


class NoTargetError(ScimError):
    scim_type = "noTarget"


class InvalidValueError(ScimError):
    scim_type = "invalidValue"


class InvalidVersionError(ScimError):
    scim_type = "invalidVers"


class SensitiveError(ScimError):
    scim_type = "sensitive"


class UnauthorizedError(ScimError):
    status = 401


class ForbiddenError(ScimError):
    status = 403


class NotFoundError(ScimError):
    status = 404


class MethodNotAllowedError(ScimError):
    status = 405


class ConflictError(ScimError):
    """409 without scimType, e.g. a membership that would nest groups when nesting is disabled."""

    status = 409


class PreconditionFailedError(ScimError):
    status = 412


class PayloadTooLargeError(ScimError):
    status = 413


class UnsupportedMediaTypeError(ScimError):
    status = 415


class TooManyRequestsError(ScimError):
    status = 429


class InternalError(ScimError):
    status = 500


class NotImplementedScimError(ScimError):
    status = 501
