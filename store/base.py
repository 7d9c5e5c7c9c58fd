"""The one SQLAlchemy declarative base. Each domain declares its own tables on it
(``conversations/tables.py``, ``handoff/tables.py``, ``tickets/tables.py``, ``knowledge/tables.py``);
``service.schema`` imports them all for Alembic."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON
from sqlalchemy.orm import DeclarativeBase

from core.clock import utc_now


def utcnow() -> datetime:
    """Column default: the one clock's current UTC time."""
    return utc_now()


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}
