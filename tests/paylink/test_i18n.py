"""The host in English and Spanish: the language served, the switcher, and complete catalogues."""

from __future__ import annotations

import gettext
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client
from django.utils import timezone, translation
from django.utils.formats import date_format

from paylink.models import AccountSnapshot, Task
from paylink.services.profiles import profile_for_user
from paylink.templatetags.paylink_dashboard import money
from tests.atomic_json import atomic_json

pytestmark = pytest.mark.django_db

SPANISH = {"HTTP_ACCEPT_LANGUAGE": "es-MX,es;q=0.9"}
ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}


def _html_lang(response) -> str:
    match = re.search(rb'<html lang="([^"]*)"', response.content)
    assert match, "the page has no <html lang>"
    return match.group(1).decode()


def _html_lang_text(body: str) -> str:
    match = re.search(r'<html lang="([^"]*)"', body)
    assert match, "the page has no <html lang>"
    return match.group(1)


def _sign_in(client: Client, username: str, password: str, **headers: str):
    return client.post("/accounts/login/", {"username": username, "password": password}, **headers)


def _transact_language(response) -> str:
    match = re.search(
        rb'<script id="paylink-transact-config" type="application/json">(.*?)</script>',
        response.content,
        re.S,
    )
    assert match, "the page does not launch Transact"
    return json.loads(match.group(1))["config"]["language"]


# --- The language served ------------------------------------------------------------------


def test_an_english_browser_gets_english_and_says_so(client):
    response = client.get("/accounts/login/", **ENGLISH)
    assert _html_lang(response) == "en"
    assert response["Content-Language"] == "en"


def test_a_spanish_browser_gets_html_lang_es_matching_content_language(client):
    response = client.get("/accounts/login/", **SPANISH)
    assert _html_lang(response) == "es"
    assert response["Content-Language"] == "es"


def test_the_switcher_is_a_form_naming_each_language_in_itself(client):
    response = client.get("/accounts/login/", **SPANISH)
    body = response.content.decode()
    assert 'action="/i18n/setlang/"' in body
    assert '<button type="submit" name="language" value="en" lang="en"' in body
    assert ">English</button>" in body
    assert 'value="es" lang="es"' in body and ">Español</button>" in body


def test_the_switcher_works_for_someone_not_signed_in(client):
    response = client.post("/i18n/setlang/", {"language": "es", "next": "/accounts/login/"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert client.cookies["django_language"].value == "es"
    assert _html_lang(client.get("/accounts/login/", **ENGLISH)) == "es"


def test_the_switcher_refuses_a_get(client):
    assert client.get("/i18n/setlang/?language=es").status_code == 405


def test_the_switcher_ignores_a_language_the_host_does_not_speak(client, alice):
    client.force_login(alice)
    client.post("/i18n/setlang/", {"language": "fr", "next": "/"})
    assert profile_for_user(user=alice).language == ""
    assert "django_language" not in client.cookies


def test_the_switcher_keeps_csrf(alice):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/i18n/setlang/", {"language": "es", "next": "/"})
    assert response.status_code == 403


def test_the_switcher_does_not_redirect_off_site(client):
    response = client.post("/i18n/setlang/", {"language": "es", "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_the_choice_is_kept_on_the_profile_and_wins_over_the_browser_at_the_next_sign_in(alice):
    first = Client()
    assert _sign_in(first, "alice", "alice-pass-1234", **ENGLISH).status_code == 302
    first.post("/i18n/setlang/", {"language": "es", "next": "/hub/"}, **ENGLISH)
    assert profile_for_user(user=alice).language == "es"

    # Another browser, English, no cookie: signing in brings the saved choice back.
    second = Client()
    _sign_in(second, "alice", "alice-pass-1234", **ENGLISH)
    response = second.get("/hub/", **ENGLISH)
    assert _html_lang(response) == "es"
    assert response["Content-Language"] == "es"
    assert _transact_language(response) == "es"
    # The cookie follows, so the page after signing out stays in Spanish.
    assert second.cookies["django_language"].value == "es"


def test_the_saved_choice_wins_over_a_stale_cookie(alice):
    client = Client()
    client.cookies["django_language"] = "en"
    profile = profile_for_user(user=alice)
    profile.language = "es"
    profile.save()
    _sign_in(client, "alice", "alice-pass-1234", **ENGLISH)
    assert _html_lang(client.get("/hub/", **ENGLISH)) == "es"


def test_without_a_saved_choice_the_browser_decides(alice):
    client = Client()
    _sign_in(client, "alice", "alice-pass-1234", **SPANISH)
    response = client.get("/hub/", **SPANISH)
    assert _html_lang(response) == "es"
    assert _transact_language(response) == "es"
    response = client.get("/hub/", **ENGLISH)
    assert _html_lang(response) == "en"
    assert _transact_language(response) == "en"


def test_bob_switching_language_leaves_alice_alone(alice, bob, client):
    client.force_login(bob)
    client.post("/i18n/setlang/", {"language": "es", "next": "/"})
    assert profile_for_user(user=bob).language == "es"
    assert profile_for_user(user=alice).language == ""


# --- Spanish throughout -------------------------------------------------------------------


def test_the_sign_in_page_is_in_spanish(client):
    body = client.get("/accounts/login/", **SPANISH).content.decode()
    assert '<h1 id="auth-heading">Iniciar sesión</h1>' in body
    assert "¿Olvidó su contraseña?" in body
    assert "Saltar al contenido" in body
    assert "Sign in" not in body
    # Django's own strings on the same page agree: the form's labels.
    assert "Contraseña:" in body


def test_a_wrong_password_is_refused_in_spanish_by_django(client, alice):
    response = _sign_in(client, "alice", "wrong-pass-0000", **SPANISH)
    invalid_login = AuthenticationForm.error_messages["invalid_login"]
    with translation.override("es"):
        spanish = str(invalid_login) % {"username": "nombre de usuario"}
    with translation.override("en"):
        assert spanish != str(invalid_login) % {"username": "username"}
    assert spanish in response.content.decode()


def test_sign_up_errors_and_labels_are_in_spanish(client, settings):
    settings.PAYLINK_SIGNUP_ENABLED = True
    response = client.post(
        "/accounts/signup/",
        {"username": "eva", "password1": "a-long-Passphrase-9", "password2": "another-one-9"},
        **SPANISH,
    )
    body = response.content.decode()
    with translation.override("es"):
        mismatch = str(UserCreationForm.error_messages["password_mismatch"])
    with translation.override("en"):
        assert mismatch != str(UserCreationForm.error_messages["password_mismatch"])
    assert mismatch in body
    assert "Apellido" in body and "Correo electrónico" in body
    assert "Crear una cuenta" in body


def test_the_hub_page_is_in_spanish_and_launches_transact_in_spanish(alice_client):
    response = alice_client.get("/hub/", **SPANISH)
    body = response.content.decode()
    assert "Conecte sus cuentas" in body
    assert "Conectar una cuenta" in body
    assert "Todavía no hay solicitudes." in body
    assert _transact_language(response) == "es"


@pytest.fixture
def queued_task(alice: User) -> Task:
    task = Task.objects.create(profile=profile_for_user(user=alice), atomic_id="task-es")
    Task.objects.filter(pk=task.pk).update(created_at=datetime(2026, 3, 5, 14, 30, tzinfo=UTC))
    return task


def test_the_task_page_is_in_spanish_with_spanish_dates(alice_client, queued_task, atomic):
    Task.objects.filter(pk=queued_task.pk).update(status="failed", fail_reason="bad-credentials")
    body = alice_client.get("/hub/tasks/task-es/", **SPANISH).content.decode()
    assert "Estado de la solicitud" in body
    assert "Su solicitud" in body  # no company name yet
    assert ">Fallida<" in body
    assert "La empresa no aceptó el nombre de usuario o la contraseña." in body
    assert "5 de marzo de 2026" in body


def test_the_recent_requests_show_dates_in_each_language(alice_client, queued_task):
    assert "05/03/2026" in alice_client.get("/hub/", **SPANISH).content.decode()
    assert "03/05/2026" in alice_client.get("/hub/", **ENGLISH).content.decode()


def test_a_rate_limited_answer_is_a_spanish_sentence(client, settings):
    settings.PAYLINK_RATE_LIMITS = {**settings.PAYLINK_RATE_LIMITS, "sign_in": "1/900"}
    _sign_in(client, "nobody", "x", **SPANISH)
    response = _sign_in(client, "nobody", "x", **SPANISH)
    assert response.status_code == 429
    assert "Demasiados intentos de inicio de sesión. Inténtelo de nuevo en 15 minutos." in (
        response.content.decode()
    )


def test_the_password_reset_email_goes_out_in_the_language_asked_in(client, alice):
    client.post("/accounts/password_reset/", {"email": "alice@example.com"}, **SPANISH)
    (message,) = mail.outbox
    assert message.subject == "Restablezca su contraseña de Billfold"
    assert "Alguien solicitó restablecer la contraseña" in message.body
    assert "(alice)" in message.body


def test_the_script_catalogue_is_served_in_the_page_language(client):
    spanish = client.get("/jsi18n/", **SPANISH).content.decode()
    assert "Abriendo el Centro de Pagos" in spanish
    english = client.get("/jsi18n/", **ENGLISH).content.decode()
    assert "Abriendo" not in english


def test_the_catalogue_loads_with_the_nonce_before_hub_js(alice_client):
    body = alice_client.get("/hub/", **SPANISH).content.decode()
    catalogue = re.search(r'<script src="/jsi18n/\?language=es" nonce="([^"]+)" defer>', body)
    assert catalogue, "the catalogue is not loaded with a nonce"
    assert body.index("/jsi18n/") < body.index("paylink/js/hub.js")


def test_hub_js_falls_back_to_english_without_the_catalogue():
    script = (settings.BASE_DIR / "static/paylink/js/hub.js").read_text()
    assert 'typeof window.gettext === "function"' in script


def test_every_sentence_in_hub_js_goes_through_gettext():
    script = (settings.BASE_DIR / "static/paylink/js/hub.js").read_text()
    sentences = list(re.finditer(r'"([A-Z][^"]*\s[^"]*)"', script))
    assert len(sentences) >= 12
    bare = [
        match.group(1) for match in sentences if not script[: match.start()].endswith("gettext(")
    ]
    assert bare == []


# --- Nothing visible left unmarked ----------------------------------------------------------

TEMPLATES_DIR = settings.BASE_DIR / "templates"
# Being translated separately; empty this set once they are marked.
EXCLUDED: set[str] = set()
# Attributes whose values people read or hear.
READ_ATTRIBUTES = {"alt", "title", "aria-label", "placeholder"}
LETTER = re.compile(r"[^\W\d_]")


class _VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style"}:
            self._hidden += 1
        for name, value in attrs:
            if name in READ_ATTRIBUTES and value and LETTER.search(value):
                self.found.append(f"{name}={value!r}")

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style"} and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden and LETTER.search(data):
            self.found.append(data.strip())


def unmarked_text(source: str) -> list[str]:
    """Words in a template that no translation tag covers."""
    text = re.sub(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}", "", source, flags=re.S)
    text = re.sub(
        r"{%\s*blocktrans(?:late)?\b.*?{%\s*endblocktrans(?:late)?\s*%}", "", text, flags=re.S
    )
    text = re.sub(r"{#.*?#}", "", text, flags=re.S)
    # A literal default stands where the value would: `|default:"Text"` is judged as text (or as
    # the attribute it sits in); `|default:_("Text")` is marked.
    text = re.sub(
        r"{{[^}]*?\|default:(\"[^\"]*\"|'[^']*')[^}]*}}", lambda m: m.group(1)[1:-1], text
    )
    text = re.sub(r"{%.*?%}|{{.*?}}", "", text, flags=re.S)
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    parser = _VisibleText()
    parser.feed(text)
    parser.close()
    return parser.found


def _templates() -> list[str]:
    return sorted(
        str(path.relative_to(TEMPLATES_DIR))
        for path in TEMPLATES_DIR.rglob("*")
        if path.is_file() and path.suffix in {".html", ".txt"}
    )


@pytest.mark.parametrize("name", [name for name in _templates() if name not in EXCLUDED])
def test_every_word_in_the_template_is_marked_for_translation(name):
    source = (TEMPLATES_DIR / name).read_text(encoding="utf-8")
    assert unmarked_text(source) == []


def test_the_excluded_templates_still_exist():
    assert set(_templates()) >= EXCLUDED, "a template left EXCLUDED is gone: drop it from the set"


@pytest.mark.parametrize(
    "source",
    [
        "<p>Hello</p>",
        '<img src="x.png" alt="A logo">',
        '<button aria-label="Close">x</button>',
        "{% if x %}Welcome{% endif %}",
        '<h1>{{ name|default:"Your request" }}</h1>',
        "Plain email text {{ link }}",
    ],
)
def test_the_check_finds_words_left_unmarked(source):
    assert unmarked_text(source) != []


@pytest.mark.parametrize(
    "source",
    [
        '{% load i18n %}<p>{% translate "Hello" %}</p>',
        "<img alt=\"{% translate 'A logo' %}\">",
        "<p>{% blocktranslate trimmed %}Hi {{ name }}{% endblocktranslate %}</p>",
        '<p class="card big" data-x="y">{{ name|default:_("Your request") }}</p>',
        "<li class=\"alert--{{ message.tags|default:'info' }}\">{{ message }}</li>",
        "{# a note #}{% comment %}Why{% endcomment %}<!-- note --><script>let a = 1;</script>",
        '<span aria-hidden="true">◆</span> ← · 12',
    ],
)
def test_the_check_lets_marked_text_and_markup_through(source):
    assert unmarked_text(source) == []


# --- Complete, current catalogues -----------------------------------------------------------

LOCALE_DIR = settings.BASE_DIR / "locale" / "es" / "LC_MESSAGES"
DOMAINS = ("django", "djangojs")


@dataclass
class PoEntry:
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstrs: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)

    @property
    def key(self) -> tuple[str | None, str, str | None]:
        return (self.msgctxt, self.msgid, self.msgid_plural)


def _po_string(quoted: str) -> str:
    return json.loads(quoted.replace("\\'", "'"))


def read_po(path: Path) -> list[PoEntry]:
    """The entries of a .po file (obsolete ones left out), header first."""
    entries: list[PoEntry] = []
    entry: PoEntry | None = None
    current: str | None = None
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip() or line.startswith("#~"):
            if entry is not None:
                entries.append(entry)
            entry, current = None, None
            continue
        if entry is None:
            entry = PoEntry()
        if line.startswith("#,"):
            entry.flags |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            value = _po_string(line)
            if current and current.startswith("msgstr"):
                entry.msgstrs[-1] += value
            elif current:
                setattr(entry, current, (getattr(entry, current) or "") + value)
        else:
            keyword, _, quoted = line.partition(" ")
            value = _po_string(quoted)
            if keyword.startswith("msgstr"):
                current = "msgstr"
                entry.msgstrs.append(value)
            else:
                current = keyword
                setattr(entry, keyword, value)
    return entries


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_entry_is_translated_and_none_is_fuzzy(domain):
    header, *entries = read_po(LOCALE_DIR / f"{domain}.po")
    assert header.msgid == "" and "fuzzy" not in header.flags
    assert entries, "the catalogue is empty"
    untranslated = [e.msgid for e in entries if not all(s.strip() for s in e.msgstrs)]
    fuzzy = [e.msgid for e in entries if "fuzzy" in e.flags]
    assert untranslated == []
    assert fuzzy == []


@pytest.mark.parametrize("domain", DOMAINS)
def test_the_compiled_catalogue_matches_its_po_file(domain):
    # The .mo files are committed (the host runs translated with no gettext installed), so one
    # compiled from an older .po must not slip through: `make messages` recompiles them.
    with (LOCALE_DIR / f"{domain}.mo").open("rb") as compiled:
        catalog = gettext.GNUTranslations(compiled)._catalog  # type: ignore[attr-defined]  # gettext's private dict
    expected: dict[object, str] = {}
    for entry in read_po(LOCALE_DIR / f"{domain}.po")[1:]:
        msgid = f"{entry.msgctxt}\x04{entry.msgid}" if entry.msgctxt else entry.msgid
        if entry.msgid_plural is None:
            expected[msgid] = entry.msgstrs[0]
        else:
            expected |= {(msgid, n): text for n, text in enumerate(entry.msgstrs)}
    actual = {key: text for key, text in catalog.items() if key != ""}
    assert actual == expected, "run `make messages` to recompile the catalogues"


def test_the_catalogues_hold_every_string_the_code_marks(tmp_path):
    """makemessages, run on a copy of the tree, finds no string the .po files lack, nor extra."""
    if not (shutil.which("xgettext") and shutil.which("msgmerge")):
        pytest.fail("GNU gettext is missing: run bin/ensure-gettext (make test does).")
    copy = tmp_path / "tree"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for part in ("hubsite", "paylink", "reminders", "templates", "static", "locale"):
        shutil.copytree(settings.BASE_DIR / part, copy / part, ignore=ignore)
    shutil.copy(settings.BASE_DIR / "manage.py", copy / "manage.py")
    environment = {
        **os.environ,
        "DJANGO_DEBUG": "true",
        "DJANGO_SETTINGS_MODULE": "hubsite.settings",
    }
    for domain in DOMAINS:
        subprocess.run(
            [
                sys.executable,
                "manage.py",
                "makemessages",
                "-l",
                "es",
                "-d",
                domain,
                "--no-obsolete",
                "--ignore=var",
            ],
            cwd=copy,
            env=environment,
            check=True,
            capture_output=True,
            timeout=120,
        )
        ours = {e.key for e in read_po(LOCALE_DIR / f"{domain}.po")[1:]}
        regathered = {e.key for e in read_po(copy / "locale/es/LC_MESSAGES" / f"{domain}.po")[1:]}
        assert sorted(regathered - ours, key=str) == [], (
            f"{domain}.po lacks these strings: run `make messages` and translate them"
        )
        assert sorted(ours - regathered, key=str) == [], (
            f"{domain}.po keeps strings the code no longer has: run `make messages`"
        )


# --- The dashboard in both languages --------------------------------------------------------


@pytest.fixture
def alices_hulu(alice_profile):
    """Alice's Hulu account with a four-figure bill, so the thousands separator shows."""
    payload = atomic_json("accounts/hulu")
    payload["accounts"][0]["account"]["billing"]["amount"] = 1234.56
    return AccountSnapshot.objects.create(
        profile=alice_profile, payload=payload, version=1, fetched_at=timezone.now()
    )


def test_the_dashboard_in_spanish_has_spanish_headings_money_dates_and_cards(
    alice_client, alices_hulu
):
    body = alice_client.get("/", **SPANISH).content.decode()
    assert _html_lang_text(body) == "es"
    assert "<h1>Sus facturas y cuentas</h1>" in body
    assert ">Próximas facturas</h2>" in body and ">Formas de ahorrar</h2>" in body
    # Money: Django's Spanish separators, the symbol after the number.
    assert "1\xa0234,56\xa0US$" in body
    assert "$1,234.56" not in body
    # Dates: day before month, the month in Spanish.
    assert "20 nov 2024" in body
    assert "Nov 20, 2024" not in body
    # The card, drawn in Python, speaks Spanish too.
    assert "<dt>Factura</dt>" in body and "<dt>Pago automático</dt>" in body
    assert "Suscripción" in body and "mensual" in body
    assert ">Vencida</span>" in body
    assert "Cambiar de plan" in body and "Quitar un servicio" in body
    assert "Titular de la cuenta:" in body
    assert "Actualizado <time" in body and "justo ahora" in body


def test_the_dashboard_in_english_is_unchanged(alice_client, alices_hulu):
    body = alice_client.get("/", **ENGLISH).content.decode()
    assert "<h1>Your bills and accounts</h1>" in body
    assert "$1,234.56" in body and "US$" not in body
    assert "Nov 20, 2024" in body
    assert "<dt>Bill</dt>" in body and "Subscription" in body and ">Overdue</span>" in body
    assert "Remove a service" in body and "Account holder:" in body
    assert "Sus facturas" not in body


def test_a_cached_dashboard_in_one_language_is_never_served_in_the_other(alice_client, alices_hulu):
    # The regions are cached per snapshot version: the language must be part of the key.
    english = alice_client.get("/", **ENGLISH).content.decode()
    spanish = alice_client.get("/", **SPANISH).content.decode()
    again = alice_client.get("/", **ENGLISH).content.decode()
    assert "Upcoming bills" in english and "Upcoming bills" not in spanish
    assert "Próximas facturas" in spanish and "Próximas facturas" not in again
    assert "$1,234.56" in again


def test_show_more_counts_in_the_readers_language(alice_client, alice_profile):
    payload = atomic_json("accounts/hulu")
    payload["accounts"] = [dict(payload["accounts"][0], _id=f"acct-{n}") for n in range(8)]
    AccountSnapshot.objects.create(
        profile=alice_profile, payload=payload, version=1, fetched_at=timezone.now()
    )
    spanish = alice_client.get("/", **SPANISH).content.decode()
    assert "Mostrar 2 cuentas más" in spanish and "(2 sin mostrar)" in spanish
    english = alice_client.get("/", **ENGLISH).content.decode()
    assert "Show 2 more accounts" in english


@pytest.mark.parametrize(
    ("language", "amount", "expected"),
    [
        ("en", "1234.5", "$1,234.50"),
        ("es", "1234.5", "1\xa0234,50\xa0US$"),
        ("en", "-7", "-$7.00"),
        ("es", "-7", "-7,00\xa0US$"),
        ("es", "0.004", "0,00\xa0US$"),
    ],
)
def test_money_follows_the_language(language, amount, expected):
    with translation.override(language):
        assert money(Decimal(amount)) == expected


def test_a_missing_amount_is_a_dash_in_any_language():
    with translation.override("es"):
        assert money(None) == "—"


class _WordsShown(HTMLParser):
    """The words a person meets on a page (text, titles, labels), leaving out what is marked
    as written in English (`lang="en"`: Atomic's own descriptions) and scripts."""

    _VOID = frozenset({"br", "img", "input", "meta", "link", "hr", "source", "rect", "circle"})

    def __init__(self) -> None:
        super().__init__()
        self.words: list[str] = []
        self._stack: list[bool] = []

    def _hidden(self) -> bool:
        return any(self._stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        # The page's own language is on <html>; an element marked English inside it is Atomic's.
        english = values.get("lang") == "en" and tag != "html"
        hidden = self._hidden() or english or tag in {"script", "style"}
        if not hidden:
            for name in ("title", "aria-label", "alt", "placeholder"):
                if values.get(name):
                    self.words.extend(re.findall(r"[^\W\d_]+", values[name]))
        if tag not in self._VOID:
            self._stack.append(hidden)

    def handle_endtag(self, tag: str) -> None:
        if tag not in self._VOID and self._stack:
            self._stack.pop()

    def handle_data(self, data: str) -> None:
        if not self._hidden():
            self.words.extend(re.findall(r"[^\W\d_]+", data))


def _page_words(html: str) -> set[str]:
    parser = _WordsShown()
    parser.feed(html)
    return {w for w in parser.words if len(w) > 2}


def _spanish_vocabulary() -> set[str]:
    catalogue = (Path(settings.BASE_DIR) / "locale/es/LC_MESSAGES/django.po").read_text()
    strings = re.findall(r'^msgstr(?:\[\d\])? ((?:".*"\n?)+)', catalogue, re.M)
    text = " ".join("".join(re.findall(r'"((?:[^"\\]|\\.)*)"', s)) for s in strings)
    return set(re.findall(r"[^\W\d_]+", text))


def _atomic_names(payload: dict) -> set[str]:
    """Company, plan, bill and card-brand names from Atomic: names, not words to translate."""
    names = []
    for account in payload["accounts"]:
        names.append(account["company"]["name"])
        details = account.get("account", {})
        for plan in details.get("data", {}).get("plans", []):
            names += [plan.get("title", ""), plan.get("sourceId", "")]
            names.append(plan.get("pendingChange", {}).get("changes", {}).get("title", ""))
        for bill in details.get("bills", []) + account.get("expenses", []):
            names.append(bill.get("name") or bill.get("title") or "")
        for method in details.get("billing", {}).get("paymentMethods", []):
            names.append(method.get("brand", ""))
        # The person's own (masked) email address.
        names += [i.get("email", "") for i in details.get("identities", [])]
    return {w for name in names for w in re.findall(r"[^\W\d_]+", name or "")}


@pytest.mark.parametrize("name", ["hulu", "newer", "apple_bills"])
def test_a_spanish_dashboard_has_no_english_word_but_atomics_names(alice, name):
    payload = atomic_json(f"accounts/{name}")
    AccountSnapshot.objects.create(
        profile=profile_for_user(user=alice), payload=payload, version=1, fetched_at=timezone.now()
    )
    client = Client()
    client.force_login(alice)
    english = _page_words(client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode())
    spanish = _page_words(client.get("/", HTTP_ACCEPT_LANGUAGE="es").content.decode())
    # The language switcher names each language in itself; the username is the person's.
    allowed = _spanish_vocabulary() | _atomic_names(payload) | {"PayLink", "Español", "alice"}
    with translation.override("es"):
        # Spanish month abbreviations that English shares ("Oct", "Sep").
        allowed |= {date_format(datetime(2026, m, 1), "M") for m in range(1, 13)}
    leaked = sorted(w for w in spanish & english if w not in allowed)
    assert leaked == [], leaked
    if name == "newer":
        # Atomic's "change-plan" action and "Switch Plan" button read as the host's own words.
        spanish_html = client.get("/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
        assert ">Cambiar de plan<" in spanish_html and "Switch Plan" not in spanish_html
