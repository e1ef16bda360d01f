import time
from typing import Any

from allauth.mfa import app_settings
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core.management.base import BaseCommand

from festival import demo_data as data


def current_demo_code() -> str:
    counter = int(time.time()) // app_settings.TOTP_PERIOD
    return format_hotp_value(hotp_value(data.DEMO_TOTP_SECRET, counter))


def produced_films() -> dict[str, list[str]]:
    """Person key -> the demo films they produce, as "Title (session)"."""
    sessions = {session["key"]: session["city"] for session in data.SESSIONS}
    films: dict[str, list[str]] = {}
    for film in data.FILMS:
        for producer in film["producers"]:
            films.setdefault(producer, []).append(f'"{film["title"]}" ({sessions[film["session"]]})')
    return films


class Command(BaseCommand):
    help = "Print the demo accounts, their password, the shared TOTP secret and the current code."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--code", action="store_true", help="Print only the current TOTP code.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["code"]:
            self.stdout.write(current_demo_code())
            return
        self.stdout.write(f"Demo accounts (password for all: {data.DEMO_PASSWORD})")
        films = produced_films()
        for person in data.PEOPLE:
            line = f"  {person['role']:<13} {person['email']:<45} {person['full_name']}"
            if films.get(person["key"]):
                line += "  produces " + "; ".join(films[person["key"]])
            self.stdout.write(line)
        self.stdout.write(
            f"Two-factor codes: add the TOTP secret {data.DEMO_TOTP_SECRET} to an authenticator app,\n"
            f"or run `make totp` for the current code (now: {current_demo_code()}; each code works once)."
        )
