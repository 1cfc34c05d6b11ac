"""`manage.py create_api_token USER [--days N]`: an API token for an integration's user, printed once."""

from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from crm.api.tokens import create_api_token


class Command(BaseCommand):
    help = "Create an API token for a user and print it (it is stored hashed: it cannot be shown again)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--days", type=int, default=None, help="Days it is valid (default: API_TOKEN_DAYS)."
        )

    def handle(self, *args: Any, username: str, days: int | None, **options: Any) -> None:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}.")
        try:
            stored, token = create_api_token(actor=None, user=user, days=days)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stderr.write(f"Token for {username}, valid until {stored.expiry:%Y-%m-%d %H:%M %Z}:")
        self.stdout.write(token)
