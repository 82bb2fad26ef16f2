"""API errors as the real kube-apiserver reports them: ``metav1.Status`` bodies with reason and code.

Message formats follow k8s apimachinery ``staging/src/k8s.io/apimachinery/pkg/api/errors/errors.go``
(NewNotFound, NewAlreadyExists, NewConflict, NewInvalid, NewBadRequest, NewMethodNotSupported,
NewResourceExpired, NewInternalError, NewServiceUnavailable, NewGenericServerResponse) and the
qualified resource printing of ``schema.GroupResource.String()`` ("deployments.apps", "namespaces").
"""
from __future__ import annotations


class ApiError(Exception):
    """An error the API answers with a Status body."""

    def __init__(self, code: int, reason: str, message: str, details: dict | None = None):
        """Build the error from its HTTP code, StatusReason, message and optional details."""
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details

    def status(self) -> dict:
        """The metav1.Status JSON body."""
        body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": self.message, "reason": self.reason}
        if self.details is not None:
            body["details"] = self.details
        body["code"] = self.code
        return body


def _details(group: str, kind: str, name: str) -> dict:
    """StatusDetails with the empty group left out, as Go's omitempty does."""
    d = {"name": name} if name else {}
    if group:
        d["group"] = group
    d["kind"] = kind
    return d


def _qualified(group: str, plural: str) -> str:
    """GroupResource.String(): 'plural.group', or 'plural' for the core group."""
    return f"{plural}.{group}" if group else plural


def not_found(group: str, plural: str, name: str) -> ApiError:
    """NewNotFound: '<resource> "<name>" not found' (404 NotFound)."""
    return ApiError(404, "NotFound", f'{_qualified(group, plural)} "{name}" not found',
                    _details(group, plural, name))


def already_exists(group: str, plural: str, name: str) -> ApiError:
    """NewAlreadyExists: '<resource> "<name>" already exists' (409 AlreadyExists)."""
    return ApiError(409, "AlreadyExists", f'{_qualified(group, plural)} "{name}" already exists',
                    _details(group, plural, name))


def conflict(group: str, plural: str, name: str, why: str) -> ApiError:
    """NewConflict: 'Operation cannot be fulfilled on <resource> "<name>": <why>' (409 Conflict)."""
    return ApiError(409, "Conflict", f'Operation cannot be fulfilled on {_qualified(group, plural)} "{name}": {why}',
                    _details(group, plural, name))


# The text the registry store uses for a stale resourceVersion (k8s.io/apiserver registry/generic/registry/store.go
# via storage.NewResourceVersionConflictsError -> OptimisticLockErrorMsg).
OPTIMISTIC_LOCK = "the object has been modified; please apply your changes to the latest version and try again"


def apply_conflict(conflicts: list[tuple[str, str]]) -> ApiError:
    """Server-side apply field conflicts (409 Conflict).

    conflicts: (manager as printManager prints it, e.g. '"helm" using v1 at 2026-01-01T00:00:00Z', field path
    such as '.data.key'). Wording from getConflictMessage in
    k8s.io/apimachinery/pkg/util/managedfields/internal/conflict.go.
    """
    causes = [{"type": "FieldManagerConflict", "message": f"conflict with {m}", "field": f} for m, f in conflicts]
    if len(conflicts) == 1:
        m, f = conflicts[0]
        message = f"Apply failed with 1 conflict: conflict with {m}: {f}"
    else:
        lines = []
        for manager in sorted({m for m, _ in conflicts}):
            lines.append(f"conflicts with {manager}:")
            lines.extend(f"- {f}" for m, f in conflicts if m == manager)
        message = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
    return ApiError(409, "Conflict", message, {"causes": causes})


def invalid(group: str, kind: str, name: str, errs: list[tuple[str, str, str]]) -> ApiError:
    """NewInvalid: '<Kind[.group]> "<name>" is invalid: <field>: <detail>' (422 Invalid).

    errs: (cause type such as 'FieldValueRequired', field path, message such as 'Required value: ...').
    """
    qualified = f"{kind}.{group}" if group else kind
    texts = [f"{f}: {m}" for _, f, m in errs]
    agg = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
    details = _details(group, kind, name)
    details["causes"] = [{"reason": t, "message": m, "field": f} for t, f, m in errs]
    return ApiError(422, "Invalid", f'{qualified} "{name}" is invalid: {agg}', details)


def bad_request(message: str) -> ApiError:
    """NewBadRequest (400 BadRequest)."""
    return ApiError(400, "BadRequest", message)


def method_not_supported(group: str, plural: str, action: str) -> ApiError:
    """NewMethodNotSupported: '<action> is not supported on resources of kind "<resource>"' (405)."""
    return ApiError(405, "MethodNotAllowed",
                    f'{action} is not supported on resources of kind "{_qualified(group, plural)}"',
                    _details(group, plural, ""))


def resource_expired(message: str) -> ApiError:
    """NewResourceExpired (410 Expired), e.g. 'too old resource version: 5 (10)'."""
    return ApiError(410, "Expired", message)


def path_not_found() -> ApiError:
    """The generic 404 for a path no API serves (apiserver's NotFound handler)."""
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})


def unsupported_media_type(content_type: str, accepted: list[str]) -> ApiError:
    """415 for a body format the endpoint does not take (apiserver handlers/rest.go wording)."""
    return ApiError(415, "UnsupportedMediaType",
                    f"the body of the request was in an unknown format - accepted media types include: "
                    f"{', '.join(accepted)}", {})


def internal(message: str) -> ApiError:
    """NewInternalError: 'Internal error occurred: <message>' (500)."""
    return ApiError(500, "InternalError", f"Internal error occurred: {message}",
                    {"causes": [{"message": message}]})


def from_code(code: int, message: str) -> ApiError:
    """An error for an arbitrary status code (used by fault injection), like NewGenericServerResponse."""
    reasons = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed",
               409: "Conflict", 410: "Expired", 422: "Invalid", 429: "TooManyRequests", 500: "InternalError",
               503: "ServiceUnavailable", 504: "Timeout"}
    return ApiError(code, reasons.get(code, "Unknown"), message, {})
