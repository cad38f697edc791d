"""Staff sign in to the admin with a password and a TOTP code when PAYLINK_ADMIN_REQUIRE_OTP is on."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.paylink.conftest import staff_login_with_code

pytestmark = pytest.mark.django_db


@pytest.fixture
def sam(db) -> User:
    return User.objects.create_superuser("sam", password="sam-pass-1234")


@pytest.fixture
def device(sam) -> TOTPDevice:
    return TOTPDevice.objects.create(user=sam, name="admin", confirmed=True)


def _code(device: TOTPDevice) -> str:
    return f"{TOTP(device.bin_key, device.step, device.t0, device.digits).token():06d}"


def _admin_login(client, *, password: str, code: str = "", address: str = "10.0.0.1"):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": "sam", "password": password, "otp_token": code},
        REMOTE_ADDR=address,
    )


def test_the_code_is_required_by_default_outside_debug(settings):
    assert settings.DEBUG is False
    assert settings.PAYLINK_ADMIN_REQUIRE_OTP is True


def test_the_admin_login_page_asks_for_the_code(client):
    html = client.get("/admin/login/").content.decode()
    assert 'name="otp_token"' in html
    assert 'name="password"' in html


def test_the_right_password_without_a_code_does_not_open_the_admin(client, device):
    response = _admin_login(client, password="sam-pass-1234")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302


def test_the_right_password_and_code_open_the_admin(client, device):
    response = _admin_login(client, password="sam-pass-1234", code=_code(device))
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_staff_session_signed_in_elsewhere_without_a_code_is_sent_to_the_admin_login(
    client, sam, device
):
    # The site's own sign-in takes no code: that session must not reach the admin.
    client.force_login(sam)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_wrong_codes_count_against_the_sign_in_throttle(client, device):
    for _ in range(5):
        assert _admin_login(client, password="sam-pass-1234", code="000000").status_code == 200
    response = _admin_login(client, password="sam-pass-1234", code=_code(device))
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert client.get("/admin/").status_code == 302


def test_with_the_setting_off_the_password_alone_opens_the_admin(client, sam, settings):
    settings.PAYLINK_ADMIN_REQUIRE_OTP = False
    assert _admin_login(client, password="sam-pass-1234").status_code == 302
    assert client.get("/admin/").status_code == 200


def test_the_command_gives_a_staff_member_a_device_and_prints_its_url_once(sam):
    out = StringIO()
    call_command("paylink_admin_totp", "sam", stdout=out)
    assert out.getvalue().startswith("otpauth://totp/")
    assert TOTPDevice.objects.filter(user=sam, confirmed=True).count() == 1
    with pytest.raises(CommandError, match="--replace"):
        call_command("paylink_admin_totp", "sam", stdout=StringIO())
    call_command("paylink_admin_totp", "sam", "--replace", stdout=StringIO())
    assert TOTPDevice.objects.filter(user=sam).count() == 1


def test_the_command_refuses_people_who_are_not_staff(alice):
    with pytest.raises(CommandError, match="No staff user"):
        call_command("paylink_admin_totp", "alice", stdout=StringIO())


def test_the_admin_never_shows_a_totp_key(client, sam, device):
    staff_login_with_code(client, sam)
    change = client.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/")
    assert change.status_code == 200
    assert device.key not in change.content.decode()
    assert client.get(f"/admin/otp_totp/totpdevice/{device.pk}/config/").status_code == 403
    assert client.get(f"/admin/otp_totp/totpdevice/{device.pk}/qrcode/").status_code == 403
