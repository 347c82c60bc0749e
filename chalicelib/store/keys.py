"""Key builders: the only place that knows how partition and sort keys are spelled."""

from __future__ import annotations

COUNTER_PK = "COUNTER"
COUNTER_SK = "IDS"
COMPANY_SK = "COMPANY"
KEY_SK = "KEY"
TOKEN_SK = "TOKEN"
CLIENT_DETAILS_SK = "CLIENTDETAILS"


def company_pk(company_id: int) -> str:
    return f"CO#{company_id}"


def key_pk(key_hash: str) -> str:
    return f"KEY#{key_hash}"


def login_pk(email: str) -> str:
    return f"LOGIN#{email.lower()}"


def login_sk(company_id: int) -> str:
    return f"CO#{company_id}"


def token_pk(token_hash: str) -> str:
    return f"TOKEN#{token_hash}"


def service_sk(service_id: int) -> str:
    return f"SERVICE#{service_id:012d}"


SERVICE_PREFIX = "SERVICE#"


def service_ref_sk(reference: str) -> str:
    return f"SERVICEREF#{reference}"


def question_group_sk(group_id: int) -> str:
    return f"QGROUP#{group_id:012d}"


QUESTION_GROUP_PREFIX = "QGROUP#"


def client_sk(client_id: int) -> str:
    return f"CLIENT#{client_id:012d}"


CLIENT_PREFIX = "CLIENT#"


def client_email_sk(email: str) -> str:
    return f"CLIENTEMAIL#{email.lower()}"


def client_ref_sk(reference: str) -> str:
    return f"CLIENTREF#{reference}"
