"""Finding 3: password guessing was not throttled, on the token endpoint or the admin login."""

import pytest
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token

from tests.hostile.conftest import PASSWORD, assert_json_error

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def login_limits(settings):
    settings.LOGIN_FAILURES_PER_USERNAME = 5
    settings.LOGIN_FAILURES_PER_ADDRESS = 12
    settings.LOGIN_LOCKOUT_SECONDS = 900


def token(client, username: str, password: str, **extra):
    return client.post(
        "/api/v1/auth/token/", {"username": username, "password": password}, format="json", **extra
    )


def test_the_right_password_after_five_wrong_ones_is_refused_with_retry_after(client, owner):
    # given five wrong passwords for one account
    assert [token(client, owner.username, f"guess-{i}").status_code for i in range(5)] == [400] * 5
    # when the right one comes
    response = token(client, owner.username, PASSWORD)
    # then it is refused like the guesses after it, with the time to wait
    body = assert_json_error(response, 429)
    assert 0 < int(response["Retry-After"]) <= 900
    assert "Too many failed logins" in body["detail"]
    assert not Token.objects.filter(user=owner).exists()


def test_many_usernames_from_one_address_lock_that_address(client, owner):
    # given twelve failures for twelve different usernames from one address
    for i in range(12):
        assert token(client, f"someone-{i}", "guess").status_code == 400
    # when that address tries a real account, even rotating X-Forwarded-For (no proxy trusted)
    response = token(client, owner.username, PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.9")
    # then it waits
    assert_json_error(response, 429)
    # while another address may still log in
    other = token(client, owner.username, PASSWORD, REMOTE_ADDR="192.0.2.10")
    assert other.status_code == 200


def test_a_success_starts_the_username_count_afresh(client, owner):
    for i in range(4):
        token(client, owner.username, f"typo-{i}")
    assert token(client, owner.username, PASSWORD).status_code == 200
    for i in range(4):
        assert token(client, owner.username, f"typo-again-{i}").status_code == 400
    assert token(client, owner.username, PASSWORD).status_code == 200


def test_the_admin_login_locks_out_too(client, db):
    # given a staff account and five wrong passwords on the admin's login form
    User.objects.create_user("staff-member", password=PASSWORD, is_staff=True)
    for i in range(5):
        wrong = client.post("/admin/login/", {"username": "staff-member", "password": f"no-{i}"})
        assert wrong.status_code == 200  # the form again, with its error
    # when the right password is posted
    response = client.post("/admin/login/", {"username": "staff-member", "password": PASSWORD})
    # then the admin answers 429 with Retry-After, and no session is opened
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert b"Too many failed logins" in response.content
    assert "_auth_user_id" not in client.session
