"""The enumerated values of the tables (statuses, roles, levels) and their column types.

Each is a ``StrEnum``: a member is its string, so it compares equal to the stored value,
formats as it and goes into JSON as it. The columns store exactly those strings
(``EnumText``), so adding the enums needed no data migration.
"""

from __future__ import annotations

from enum import StrEnum

from storage.types import EnumText


class UnitLevel(StrEnum):
    PROVINCE = "province"
    DISTRICT = "district"
    COMMUNE = "commune"
    DEPARTMENT = "department"  # a Sở under its province


class Role(StrEnum):
    """What an official may do (``handlers.permissions``)."""

    OFFICIAL = "official"
    CHAIR = "chair"  # Chủ tịch / Phó Chủ tịch UBND xã
    COORDINATOR = "coordinator"  # Sở Nội vụ
    ADMIN = "admin"


class AssignmentStatus(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    BLOCKED = "blocked"


class AssignmentRole(StrEnum):
    LEAD = "lead"  # chủ trì
    COORDINATING = "coordinating"  # phối hợp


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    UNREACHABLE = "unreachable"


class UnitLevelText(EnumText):
    enum = UnitLevel
    cache_ok = True  # SQLAlchemy asks each subclass


class RoleText(EnumText):
    enum = Role
    cache_ok = True  # SQLAlchemy asks each subclass


class AssignmentStatusText(EnumText):
    enum = AssignmentStatus
    cache_ok = True  # SQLAlchemy asks each subclass


class AssignmentRoleText(EnumText):
    enum = AssignmentRole
    cache_ok = True  # SQLAlchemy asks each subclass
