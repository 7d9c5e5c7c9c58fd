"""The whole schema: every domain's tables on the one ``Base``, for Alembic and test databases.

Only the composition root knows every domain, so the complete ``MetaData`` is assembled here.
"""

from __future__ import annotations

from sqlalchemy import MetaData

import conversations.tables
import handoff.tables
import knowledge.tables
import supervision.tables
import tickets.tables
from store.base import Base

TABLE_MODULES = (conversations.tables, handoff.tables, knowledge.tables, tickets.tables, supervision.tables)
metadata: MetaData = Base.metadata

__all__ = ["TABLE_MODULES", "metadata"]
