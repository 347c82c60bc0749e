"""What `make run` hands the app: links in emails point at the port it serves."""

from __future__ import annotations

from devtools import local_stack


def test_public_links_follow_the_port() -> None:
    options = local_stack.read_options({"PORT": "8100", "DDB_PORT": "8101"})
    assert local_stack.app_environment(options, {})["PUBLIC_BASE_URL"] == "http://127.0.0.1:8100"


def test_a_public_url_given_is_kept() -> None:
    options = local_stack.read_options({"PORT": "8100", "DDB_PORT": "8101"})
    given = {"PUBLIC_BASE_URL": "https://book.example"}
    assert local_stack.app_environment(options, given)["PUBLIC_BASE_URL"] == "https://book.example"
