"""The Spanish and French catalogues: complete, placeholder-safe, compiled, and loaded by Django.

Every check on a catalogue runs over every .po under platform/locale: the server strings (django.po)
and the JavaScript strings (djangojs.po, served by the /jsi18n/ catalog view).

No database needed. The .mo files are compiled by infra/compile_messages.py (polib, no GNU gettext).
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections import Counter
from pathlib import Path
from types import ModuleType

import polib
import pytest
from django.test import Client
from django.utils import translation

ROOT = Path(__file__).resolve().parents[1]
LOCALE_DIR = ROOT / "platform" / "locale"
LANGUAGES = ("es", "fr")
DOMAINS = ("django", "djangojs")  # server strings, JavaScript strings
PLURAL_FORMS = {"es": "nplurals=2; plural=(n != 1);", "fr": "nplurals=2; plural=(n > 1);"}
PO_FILES = sorted(LOCALE_DIR.glob("*/LC_MESSAGES/*.po"))

# printf-style conversions (%(name)s, %s, %d, %.2f...), skipping the literal %%, and str.format fields.
PRINTF = re.compile(r"%(?:\((?P<name>[^)]*)\))?[#0 +-]*(?:\d+|\*)?(?:\.(?:\d+|\*))?[diouxXeEfFgGcrsa%]")
BRACES = re.compile(r"\{[^{}]*\}")


def _load_compile_messages() -> ModuleType:
    spec = importlib.util.spec_from_file_location("compile_messages", ROOT / "infra" / "compile_messages.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


compile_messages = _load_compile_messages()


def placeholders(text: str) -> tuple[frozenset[str], tuple[str, ...], Counter[str]]:
    """Named %(...)x conversions, positional ones in order, and {...} fields."""
    named, positional = set(), []
    for match in PRINTF.finditer(text):
        token = match.group(0)
        if token == "%%":
            continue
        if match.group("name") is not None:
            named.add(token)
        else:
            positional.append(token)
    return frozenset(named), tuple(positional), Counter(BRACES.findall(text))


def entries(po_path: Path) -> list[polib.POEntry]:
    return [entry for entry in polib.pofile(str(po_path)) if not entry.obsolete]


def label(entry: polib.POEntry) -> str:
    return f"{entry.msgctxt}|{entry.msgid}" if entry.msgctxt else entry.msgid


@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_has_every_catalogue(language: str, domain: str) -> None:
    # The per-catalogue checks below run over PO_FILES: a catalogue missing here would go unchecked.
    assert (LOCALE_DIR / language / "LC_MESSAGES" / f"{domain}.po") in PO_FILES


@pytest.mark.parametrize("po_path", PO_FILES, ids=lambda p: str(p.relative_to(LOCALE_DIR)))
def test_header(po_path: Path) -> None:
    po = polib.pofile(str(po_path))
    language = po_path.parts[-3]
    assert not po.metadata_is_fuzzy
    assert po.metadata["Language"] == language
    assert po.metadata["Content-Type"] == "text/plain; charset=UTF-8"
    if language in PLURAL_FORMS:
        assert po.metadata["Plural-Forms"] == PLURAL_FORMS[language]


@pytest.mark.parametrize("po_path", PO_FILES, ids=lambda p: str(p.relative_to(LOCALE_DIR)))
def test_every_entry_is_translated_and_none_is_fuzzy(po_path: Path) -> None:
    catalogue = entries(po_path)
    assert catalogue, f"{po_path} is empty"
    nplurals = int(re.search(r"nplurals=(\d+)", polib.pofile(str(po_path)).metadata["Plural-Forms"])[1])
    fuzzy = [label(entry) for entry in catalogue if entry.fuzzy]
    untranslated = []
    for entry in catalogue:
        if entry.msgid_plural:
            forms = [entry.msgstr_plural.get(index, "") for index in range(nplurals)]
            if len(entry.msgstr_plural) != nplurals or not all(form.strip() for form in forms):
                untranslated.append(label(entry))
        elif not entry.msgstr.strip():
            untranslated.append(label(entry))
    assert fuzzy == []
    assert untranslated == []


def plural_form_matches(entry: polib.POEntry, form: str) -> bool:
    """A plural form may leave out the count, like the singular “One film”; it never adds a field."""
    allowed_named, positional, allowed_braces = placeholders(entry.msgid_plural)
    required_named = placeholders(entry.msgid)[0] & allowed_named
    named, form_positional, braces = placeholders(form)
    return (
        required_named <= named <= allowed_named
        and set(braces) <= set(allowed_braces)
        and form_positional in ((), positional)
    )


@pytest.mark.parametrize("po_path", PO_FILES, ids=lambda p: str(p.relative_to(LOCALE_DIR)))
def test_placeholders_match(po_path: Path) -> None:
    mismatches = []
    for entry in entries(po_path):
        if entry.msgid_plural:
            forms = entry.msgstr_plural.values()
            mismatches += [(label(entry), form) for form in forms if not plural_form_matches(entry, form)]
        elif entry.msgstr and placeholders(entry.msgstr) != placeholders(entry.msgid):
            mismatches.append((label(entry), entry.msgstr))
    assert mismatches == []


@pytest.mark.parametrize("po_path", PO_FILES, ids=lambda p: str(p.relative_to(LOCALE_DIR)))
def test_compiled_catalogue_is_up_to_date(po_path: Path) -> None:
    assert compile_messages._stale(po_path) is None


def test_compiled_catalogues_are_up_to_date_and_none_is_orphaned() -> None:
    assert compile_messages.check() == []


def test_check_spots_missing_and_stale_catalogues_and_compile_skips_fuzzy(tmp_path: Path) -> None:
    messages = tmp_path / "es" / "LC_MESSAGES"
    messages.mkdir(parents=True)
    po = polib.POFile()
    po.metadata = {"Content-Type": "text/plain; charset=UTF-8", "Language": "es"}
    po.append(polib.POEntry(msgid="Films", msgstr="Películas"))
    po.append(polib.POEntry(msgid="Sign in", msgstr="Entrar", flags=["fuzzy"]))
    po.save(str(messages / "django.po"))

    assert compile_messages.check(tmp_path) == [f"{messages / 'django.mo'} is missing"]
    assert compile_messages.compile_all(tmp_path) == [messages / "django.mo"]
    assert compile_messages.check(tmp_path) == []
    assert {(entry.msgid, entry.msgstr) for entry in polib.mofile(str(messages / "django.mo"))} == {
        ("Films", "Películas")
    }

    po[0].msgstr = "Pelis"
    po.save(str(messages / "django.po"))
    assert compile_messages.check(tmp_path) == [
        f"{messages / 'django.mo'} is out of date with {messages / 'django.po'}"
    ]
    assert compile_messages.main(["--check", "--locale-dir", str(tmp_path)]) == 1
    assert compile_messages.main(["--locale-dir", str(tmp_path)]) == 0
    assert compile_messages.main(["--check", "--locale-dir", str(tmp_path)]) == 0


@pytest.mark.parametrize(
    ("language", "source", "expected"),
    [
        ("es", "Films", "Películas"),
        ("es", "My space", "Mi espacio"),
        ("es", "Sign in", "Iniciar sesión"),
        ("fr", "My space", "Mon espace"),
        ("fr", "Sign in", "Se connecter"),
        ("fr", "Financing gap", "Besoin de financement restant"),
    ],
)
def test_django_loads_the_catalogues(language: str, source: str, expected: str) -> None:
    with translation.override(language):
        assert translation.gettext(source) == expected
    with translation.override("en"):
        assert translation.gettext(source) == source


@pytest.mark.parametrize(
    ("language", "source", "expected"),
    [
        ("es", "Playback failed. Press play again.", "La reproducción ha fallado. Vuelva a iniciarla."),
        ("fr", "Playback failed. Press play again.", "La lecture a échoué. Relancez-la."),
    ],
)
def test_javascript_catalog_view_serves_the_translation(
    client: Client, language: str, source: str, expected: str
) -> None:
    """/jsi18n/ picks the language from Accept-Language and serves the djangojs.po strings of player.js."""
    response = client.get("/jsi18n/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    assert response["Content-Language"] == language
    body = response.content.decode()
    # The view writes the catalogue with json.dumps: non-ASCII letters arrive as \u escapes.
    assert f"{json.dumps(source)}: {json.dumps(expected)}" in body
    # And with the catalogue's plural formula, not Django's default.
    assert f"const v = {PLURAL_FORMS[language].split('plural=')[1].rstrip(';')};" in body

    english = client.get("/jsi18n/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert json.dumps(expected) not in english


@pytest.mark.parametrize("language", LANGUAGES)
def test_django_picks_plural_forms_with_the_catalogue_formula(language: str) -> None:
    po_path = LOCALE_DIR / language / "LC_MESSAGES" / "django.po"
    plurals = [entry for entry in entries(po_path) if entry.msgid_plural]
    if not plurals:
        pytest.skip("no plural entry in the catalogue yet")
    plural_index = {"es": lambda n: int(n != 1), "fr": lambda n: int(n > 1)}[language]
    with translation.override(language):
        for entry in plurals:
            for n in (0, 1, 2, 5):
                if entry.msgctxt:
                    text = translation.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, n)
                else:
                    text = translation.ngettext(entry.msgid, entry.msgid_plural, n)
                assert text == entry.msgstr_plural[plural_index(n)], (label(entry), n)


def test_placeholders_are_filled_in_translation() -> None:
    with translation.override("fr"):
        assert translation.gettext("Welcome, %(name)s") % {"name": "Ana"} == "Bienvenue, Ana"
    with translation.override("es"):
        assert translation.gettext("Welcome, %(name)s") % {"name": "Ana"} == "Le damos la bienvenida, Ana"
