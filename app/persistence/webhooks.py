"""The `WebhookStore` port: endpoints and deliveries, one module each."""

from __future__ import annotations

from app.persistence.database import Database
from app.persistence.webhook_deliveries import DeliveryRows
from app.persistence.webhook_endpoints import EndpointRows


class SqlWebhookStore(EndpointRows, DeliveryRows):
    def __init__(self, database: Database) -> None:
        self._db = database
