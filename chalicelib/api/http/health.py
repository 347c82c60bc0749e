"""Health: the API is healthy when its table answers."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.domain.errors import Unavailable
from chalicelib.observability import get_logger
from chalicelib.settings import get_settings
from chalicelib.store import db


def health_status() -> dict[str, str]:
    try:
        # A data-plane read: DescribeTable is rate-limited and needs a wider IAM grant.
        db.low_level_client().get_item(
            TableName=get_settings().table_name, Key={"pk": {"S": "HEALTH"}, "sk": {"S": "HEALTH"}}
        )
    except (BotoCoreError, ClientError) as error:
        get_logger().warning("health check failed", extra={"error": type(error).__name__})
        raise Unavailable("the table is not reachable") from None
    return {"status": "ok"}
