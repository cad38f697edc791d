"""Staff sign in to the admin with a password and a TOTP code when PAYLINK_ADMIN_REQUIRE_OTP is on."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.fresh_process import settings_run
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


def test_the_code_is_required_by_default_in_debug_too_as_the_readme_says():
    result = settings_run("s.PAYLINK_ADMIN_REQUIRE_OTP", DJANGO_DEBUG="true")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


def test_the_admin_login_page_asks_for_the_code_in_plain_words(client):
    html = client.get("/admin/login/").content.decode()
    assert 'name="otp_token"' in html
    assert 'name="password"' in html
    assert "Six-digit code" in html
    assert 'autocomplete="one-time-code"' in html
    # No device to pick and no challenge button: staff hold one authenticator.
    assert "otp_device" not in html
    assert "otp_challenge" not in html
    assert "Billfold administration" in html


def test_a_wrong_code_says_so_plainly(client, device):
    html = _admin_login(client, password="sam-pass-1234", code="000000").content.decode()
    assert "That code is not right" in html
    # A second wrong code meets django-otp's back-off; it still reads as a sentence for people.
    html = _admin_login(client, password="sam-pass-1234", code="000001").content.decode()
    assert "That code is not right" in html
    assert "Verification temporarily disabled" not in html


def test_the_code_step_rotates_the_session_key(client, device):
    # Signed in on the site with the password only: the admin stays shut to that session.
    response = client.post("/accounts/login/", {"username": "sam", "password": "sam-pass-1234"})
    assert response.status_code == 302
    password_only_key = client.cookies["sessionid"].value
    assert client.get("/admin/").status_code == 302

    response = _admin_login(client, password="sam-pass-1234", code=_code(device))
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200
    assert client.cookies["sessionid"].value != password_only_key

    # Whoever held the password-only key (seen before the code was entered) is not let in.
    other = Client()
    other.cookies["sessionid"] = password_only_key
    assert other.get("/admin/").status_code == 302


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


def test_the_command_gives_a_staff_member_a_device_and_shows_it_once_as_a_qr_code(sam):
    out = StringIO()
    call_command("paylink_admin_totp", "sam", stdout=out)
    printed = out.getvalue()
    device = TOTPDevice.objects.get(user=sam)
    assert "█" in printed  # the QR code, drawn in block characters
    # The site is the issuer, so the authenticator app does not list the code as bare "sam".
    assert device.config_url in printed
    assert device.config_url.startswith("otpauth://totp/Billfold%20127.0.0.1%3Asam?")
    assert "issuer=Billfold%20127.0.0.1" in device.config_url
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


def test_the_command_can_write_the_qr_code_as_svg(sam, tmp_path):
    target = tmp_path / "sam.svg"
    call_command("paylink_admin_totp", "sam", "--svg", str(target), stdout=StringIO())
    assert target.read_text().lstrip().startswith(("<?xml", "<svg"))
    assert "<path" in target.read_text()


def test_staff_set_up_their_own_authenticator_with_a_qr_code_and_a_code(client, sam):
    staff_login_with_code(client, sam)
    old = TOTPDevice.objects.get(user=sam)
    page = client.get("/admin/authenticator/").content.decode()
    assert "Set up a new authenticator" in page
    assert client.post("/admin/authenticator/", {"start": "1"}).status_code == 302
    pending = TOTPDevice.objects.get(user=sam, confirmed=False)
    page = client.get("/admin/authenticator/").content.decode()
    assert "<svg" in page
    assert 'name="code"' in page

    wrong = client.post("/admin/authenticator/", {"code": "000000"}).content.decode()
    assert "That code is not right" in wrong
    assert TOTPDevice.objects.filter(pk=old.pk).exists()  # the old one still works meanwhile
    again = client.post("/admin/authenticator/", {"code": _code(pending)}).content.decode()
    assert "wait a few seconds" in again
    TOTPDevice.objects.get(pk=pending.pk).throttle_reset()  # as the seconds passing would

    key_before = client.cookies["sessionid"].value
    assert client.post("/admin/authenticator/", {"code": _code(pending)}).status_code == 302
    assert list(TOTPDevice.objects.filter(user=sam).values_list("pk", "confirmed")) == [
        (pending.pk, True)
    ]
    # The session stays verified, with the new device, under a new key.
    assert client.get("/admin/").status_code == 200
    assert client.cookies["sessionid"].value != key_before


def test_the_authenticator_page_is_shut_to_a_session_without_a_code(client, sam):
    client.force_login(sam)
    assert client.get("/admin/authenticator/").status_code == 302
    assert client.post("/admin/authenticator/", {"start": "1"}).status_code == 302
    assert not TOTPDevice.objects.filter(user=sam).exists()


def test_a_deep_admin_link_asks_for_the_admins_own_sign_in_with_its_code(client):
    response = client.get("/admin/paylink/task/", follow=True)
    assert response.redirect_chain[-1][0] == "/admin/login/?next=%2Fadmin%2Fpaylink%2Ftask%2F"
    assert 'name="otp_token"' in response.content.decode()


def test_the_sites_sign_in_keeps_its_own_next_pages(client):
    response = client.get("/accounts/login/?next=/settings/account/")
    assert response.status_code == 200


def test_staff_without_an_authenticator_are_told_how_to_get_one(client, sam):
    html = _admin_login(client, password="sam-pass-1234", code="123456").content.decode()
    assert "no authenticator set up" in html
    assert "paylink_admin_totp" in html
    assert client.get("/admin/").status_code == 302
