"""Every ORM model, one module per aggregate (keeps the domains free of import cycles).

Importing this package registers all tables on `coinslot.db.Base.metadata`.
"""

from __future__ import annotations

from coinslot.db import Base
from coinslot.models.api_key import ApiKey
from coinslot.models.customer import Customer
from coinslot.models.subscription import Subscription

__all__ = ["ApiKey", "Base", "Customer", "Subscription"]
