"""The validated settings (see chalicelib.settings for how and when they are read)."""

from __future__ import annotations

from pydantic import BaseModel, Field

LOCAL_ROOT_KEY = "local-root-key-change-me"
"""Development default for the platform key; only the ``local`` stage accepts it."""


class Settings(BaseModel):
    stage: str = "local"
    table_name: str = Field(default="booking-engine", min_length=3, max_length=255)
    region: str = "us-east-1"
    dynamodb_endpoint: str | None = None
    root_key: str = Field(default=LOCAL_ROOT_KEY, min_length=16, repr=False)
    key_grace_seconds: int = Field(default=86_400, ge=0, le=7 * 86_400)
    auth_token_ttl_seconds: int = Field(default=86_400, gt=0)
    max_body_bytes: int = Field(default=1_048_576, gt=0)
    password_hash_n: int = Field(default=2**14, ge=2**10)
    # Every AWS client (chalicelib/store/aws.py): one call ends within attempts x (connect + read)
    # + backoff, which must stay under CALL_BUDGET_SECONDS (API Gateway gives up at 29 s).
    aws_connect_timeout_seconds: float = Field(default=2.0, gt=0)
    aws_read_timeout_seconds: float = Field(default=4.0, gt=0)
    aws_max_attempts: int = Field(default=3, ge=1, le=10)
    unavailable_retry_after_seconds: int = Field(default=5, ge=1, le=3600)  # the 503's Retry-After
    # Fan-out (issue 5). Unset locally: the local dispatcher stands in with its own queues (devtools).
    events_topic_arn: str | None = None
    webhook_queue_url: str | None = None
    webhook_dlq_url: str | None = None
    email_queue_url: str | None = None
    mail_from: str = "bookings@example.com"
    mail_dir: str = ".data/mail"  # local stage: emails are written here as .eml files
    # Public routes (the public key, the hosted page): requests a minute per key and address.
    public_requests_per_minute: int = Field(default=300, ge=1, le=100_000)

    def model_post_init(self, _context: object) -> None:
        if self.stage != "local" and self.root_key == LOCAL_ROOT_KEY:
            raise ValueError("BOOKING_ROOT_KEY must be set outside the local stage")
        from chalicelib.store.aws import CALL_BUDGET_SECONDS, worst_case_seconds

        worst = worst_case_seconds(
            self.aws_connect_timeout_seconds, self.aws_read_timeout_seconds, self.aws_max_attempts
        )
        if worst > CALL_BUDGET_SECONDS:
            raise ValueError(
                f"AWS_MAX_ATTEMPTS x (AWS_CONNECT_TIMEOUT_SECONDS + AWS_READ_TIMEOUT_SECONDS) + backoff is "
                f"{worst:.0f} s; at most {CALL_BUDGET_SECONDS:.0f} s fits under API Gateway's 29 s"
            )
