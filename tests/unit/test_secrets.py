from chalicelib.domain import secrets


def test_password_hash_verifies_only_the_same_password() -> None:
    stored = secrets.hash_password("correct horse", n=1024)
    assert stored.startswith("scrypt$1024$")
    assert secrets.verify_password("correct horse", stored)
    assert not secrets.verify_password("correct horse!", stored)


def test_two_hashes_of_one_password_differ_by_salt() -> None:
    assert secrets.hash_password("pw", n=1024) != secrets.hash_password("pw", n=1024)


def test_malformed_stored_hash_never_verifies() -> None:
    assert not secrets.verify_password("pw", "not-a-hash")
    assert not secrets.verify_password("pw", "bcrypt$1$AA==$AA==")


def test_keys_are_prefixed_random_and_digest_is_stable() -> None:
    first, second = secrets.new_secret("sk"), secrets.new_secret("sk")
    assert first.startswith("sk_") and first != second and len(first) > 40
    assert secrets.digest(first) == secrets.digest(first) != secrets.digest(second)
