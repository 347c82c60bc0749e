"""The validated settings (see chalicelib.settings for how and when they are read)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

LOCAL_ROOT_KEY = "local-root-key-change-me"
"""Development default for the platform key; only the ``local`` stage accepts it."""


class Settings(BaseSettings):
    """Each field is read from the environment variable of its name in capitals, unless an alias says."""

    # An empty variable counts as unset (the templates leave some empty); nothing else is read:
    # no .env file, no secrets directory.
    model_config = SettingsConfigDict(case_sensitive=False, env_ignore_empty=True, extra="ignore")

    stage: str = "local"
    table_name: str = Field(default="booking-engine", min_length=3, max_length=255)
    region: str = Field(default="us-east-1", validation_alias="AWS_DEFAULT_REGION")
    dynamodb_endpoint: str | None = None
    root_key: str = Field(default=LOCAL_ROOT_KEY, min_length=16, repr=False, validation_alias="BOOKING_ROOT_KEY")
    key_grace_seconds: int = Field(default=86_400, ge=0, le=7 * 86_400)
    auth_token_ttl_seconds: int = Field(default=86_400, gt=0)
    max_body_bytes: int = Field(default=1_048_576, gt=0)
    password_hash_n: int = Field(default=2**14, ge=2**10)
    # Failed sign-ins allowed per 15-minute window (services/identity/limits.py).
    signin_failures_per_account: int = Field(default=10, ge=1)
    signin_failures_per_address: int = Field(default=50, ge=1)
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
    # This API's public root, for the customer action links in emails (an email has no request to ask).
    public_base_url: str = Field(default="http://127.0.0.1:8000", pattern=r"^https?://[^/\s]+(/[^\s]*)?$")
    # Public routes (the public key, the hosted page): requests a minute per key and address.
    public_requests_per_minute: int = Field(default=300, ge=1, le=100_000)
    # CloudWatch namespace of the EMF metrics (chalicelib/observability.py).
    metrics_namespace: str = Field(default="BookingEngine", min_length=1, max_length=255)

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


def environment_names() -> dict[str, str]:
    """Each setting's environment variable, by field name (the templates must set only these)."""
    return {
        name: str(field.validation_alias) if field.validation_alias else name.upper()
        for name, field in Settings.model_fields.items()
    }
