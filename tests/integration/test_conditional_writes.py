"""Every store operation that writes conditionally, on AWS's DynamoDB Local, under
real concurrency (moto loses conditional updates under threads, so it cannot prove these)."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from chalicelib.domain import secrets
from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.services.catalogue import catalogue
from chalicelib.services.identity import auth, companies
from chalicelib.store import db, keys
from chalicelib.store.models import AuthToken, Guard, Service
from tests.conftest import Api, make_tenant

pytestmark = pytest.mark.integration


def _race(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work`` ``count`` times from as many threads, all released together."""
    import threading

    gate = threading.Barrier(count)

    def run(index: int) -> Any:
        gate.wait()
        try:
            return work(index)
        except Exception as error:  # the outcome under test may be a refusal
            return error

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def test_id_allocation_never_repeats(ddb_table: str) -> None:
    db.ensure_bound()
    firsts = _race(16, lambda _i: db.allocate_ids(5))
    blocks = [set(range(first, first + 5)) for first in firsts]
    assert len(set().union(*blocks)) == 16 * 5


def test_one_reference_one_service_under_contention(ddb_table: str) -> None:
    company = companies.create_company("Acme", "a@example.com", "correct horse battery")
    cid = int(company.company.company_id)
    outcomes = _race(12, lambda i: catalogue.create_service(cid, {"name": f"S{i}", "reference": "HOT"}))
    created = [o for o in outcomes if isinstance(o, Service)]
    refused = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(created) == 1 and len(refused) == 11
    assert all(r.code == "duplicate_reference" for r in refused)
    assert catalogue.list_services(cid, 1, 100, admin=True).total == 1


def test_one_email_one_client_under_contention(ddb_table: str) -> None:
    company = companies.create_company("Acme", "a@example.com", "correct horse battery")
    cid = int(company.company.company_id)
    outcomes = _race(
        12,
        lambda i: catalogue.upsert_client(cid, {"email": "race@example.com", "first_name": "R", "last_name": str(i)}),
    )
    clients = [o for o in outcomes if isinstance(o, tuple)]
    assert len(clients) == 12, [o for o in outcomes if not isinstance(o, tuple)]
    assert sum(1 for _client, created in clients if created) == 1
    assert len({int(client.client_id) for client, _created in clients}) == 1
    assert catalogue.list_clients(cid, 1, 100).total == 1


def test_concurrent_service_edits_are_compare_and_set(ddb_table: str) -> None:
    company = companies.create_company("Acme", "a@example.com", "correct horse battery")
    cid = int(company.company.company_id)
    service = catalogue.create_service(cid, {"name": "Base"})
    sid = int(service.service_id)
    outcomes = _race(8, lambda i: catalogue.update_service(cid, sid, {"description": f"edit {i}"}))
    won = [o for o in outcomes if isinstance(o, Service)]
    lost = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(won) + len(lost) == 8 and len(won) >= 1
    final = catalogue.get_service(cid, sid, include_deleted=True)
    assert final.version == 1 + len(won)  # every success is one version, no lost update
    assert final.description in {o.description for o in won}


def test_reference_move_is_atomic(ddb_table: str) -> None:
    company = companies.create_company("Acme", "a@example.com", "correct horse battery")
    cid = int(company.company.company_id)
    sid = int(catalogue.create_service(cid, {"name": "S", "reference": "OLD"}).service_id)
    catalogue.update_service(cid, sid, {"reference": "NEW"})
    guards = {g.sk: int(g.target_id) for g in Guard.query(keys.company_pk(cid), Guard.sk.startswith("SERVICEREF#"))}
    assert guards == {keys.service_ref_sk("NEW"): sid}


def test_concurrent_key_rotations_never_fork_the_key_chain(ddb_table: str) -> None:
    """Rotations that read the same version: one wins, the others get 409. Whatever
    the interleaving, exactly one key is current and every success retired one key."""
    from chalicelib.store.models import ApiKey

    company = companies.create_company("Acme", "a@example.com", "correct horse battery")
    cid = int(company.company.company_id)
    outcomes = _race(6, lambda _i: companies.rotate_keys(cid, {"api"}, None))
    issued = [o for o in outcomes if isinstance(o, companies.IssuedKeys)]
    refused = [o for o in outcomes if not isinstance(o, companies.IssuedKeys)]
    assert issued and all(isinstance(o, Conflict) for o in refused), refused
    assert company.keys.api_key is not None
    every_key = [company.keys.api_key] + [o.api_key for o in issued if o.api_key]
    items = [ApiKey.get(keys.key_pk(secrets.digest(raw)), keys.KEY_SK) for raw in every_key]
    current = [item for item in items if item.retires_at is None]
    assert len(current) == 1
    assert current[0].pk == keys.key_pk(companies.get_company(cid).api_key_hash)
    assert sum(1 for item in items if item.retires_at is not None) == len(issued)


def test_retired_key_stops_working(ddb_table: str) -> None:
    company = companies.create_company("Acme", "a@example.com", "correct horse battery")
    cid = int(company.company.company_id)
    companies.rotate_keys(cid, {"api"}, 0)
    assert company.keys.api_key is not None
    assert auth.lookup_key(company.keys.api_key) is None


def test_login_token_and_sliding_expiry(ddb_table: str) -> None:
    company = companies.create_company("Acme", "a@example.com", "correct horse battery")
    cid = int(company.company.company_id)
    session = companies.login("A@Example.com", "correct horse battery", cid)
    key = (keys.token_pk(secrets.digest(session.token)), keys.TOKEN_SK)
    AuthToken.get(*key).update(actions=[AuthToken.expires_at.set(int(time.time()) + 60)])
    assert auth.touch_token(session.token) is not None
    assert AuthToken.get(*key).expires_at > time.time() + 86_000
    AuthToken.get(*key).update(actions=[AuthToken.expires_at.set(int(time.time()) - 1)])
    assert auth.touch_token(session.token) is None


def test_api_round_trip_against_dynamodb_local(local_api: Api) -> None:
    tenant = make_tenant(local_api)
    created = local_api.post(f"/api/v1/admin/{tenant.id}/services", {"name": "Real"}, tenant.admin)
    assert created.status == 201
    assert local_api.get("/health").status == 200
    assert local_api.get(f"/api/v1/{tenant.id}/services", tenant.public).body["total_entries"] == 1


def test_client_rows_are_not_duplicated_by_guards(ddb_table: str) -> None:
    company = companies.create_company("Acme", "a@example.com", "correct horse battery")
    cid = int(company.company.company_id)
    catalogue.upsert_client(cid, {"email": "x@example.com", "first_name": "X", "last_name": "Y", "reference": "R1"})
    catalogue.upsert_client(cid, {"email": "x@example.com", "reference": "R2"})
    rows = catalogue.list_clients(cid, 1, 100).items  # the listing merges the client partitions
    assert len(rows) == 1 and rows[0].reference == "R2"
    with pytest.raises(NotFound):
        catalogue.find_client(cid, reference="R1")
