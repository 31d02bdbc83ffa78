"""ARM CloudError responses: one exception type that every provider raises."""

from __future__ import annotations


class ArmError(Exception):
    """An ARM error answer: HTTP status plus the CloudError body ARM sends."""

    def __init__(self, status, code, message, target=None, details=None, headers=None):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.target = target
        self.details = details or []
        self.headers = dict(headers or {})

    def body(self):
        error = {"code": self.code, "message": self.message}
        if self.target is not None:
            error["target"] = self.target
        if self.details:
            error["details"] = self.details
        return {"error": error}


def not_found(resource_type, name, resource_group):
    """ARM's generic 404 for a resource inside a resource group."""
    return ArmError(
        404,
        "ResourceNotFound",
        f"The Resource '{resource_type}/{name}' under resource group '{resource_group}' was not found. "
        "For more details please go to https://aka.ms/ARMResourceNotFoundFix",
    )


def resource_group_not_found(resource_group):
    return ArmError(404, "ResourceGroupNotFound", f"Resource group '{resource_group}' could not be found.")


def operation_not_allowed(message, status=409):
    return ArmError(status, "OperationNotAllowed", message)


def invalid_parameter(message, target=None):
    return ArmError(400, "InvalidParameter", message, target=target)


def missing_property(prop):
    return ArmError(400, "InvalidParameter", f"Required parameter '{prop}' is missing (null).", target=prop)


def property_change_not_allowed(prop):
    return ArmError(409, "PropertyChangeNotAllowed", f"Changing property '{prop}' is not allowed.", target=prop)
