from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from opennrm.screening import services
from opennrm.screening.catalogue import CatalogueError, decode


class Command(BaseCommand):
    help = (
        "Load an indicator catalogue (a JSON file in OpenNRM's catalogue format, for example a "
        "deployment's licensed official list) and make it the active one. The whole file is "
        "checked first and every problem is reported; nothing is stored unless it is all valid. "
        "Screenings already recorded keep the version they used."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="the catalogue's JSON file")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"])
        try:
            data = decode(path.read_bytes())
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}") from None
        except CatalogueError as error:
            raise CommandError(f"{path}: {error}") from None
        try:
            stored = services.catalogue_load(by=None, data=data)
        except ValidationError as error:
            problems = "\n".join(f"  - {message}" for message in error.messages)
            raise CommandError(
                f"{path} was not loaded; nothing was changed. Problems:\n{problems}"
            ) from None
        catalogue = stored.parsed()
        self.stdout.write(
            f'Loaded "{catalogue.title}", key {catalogue.key}, version {catalogue.version}: '
            f"{catalogue.indicator_count} indicators in {len(catalogue.lists)} lists."
        )
        self.stdout.write(
            "It is now the active catalogue. Screenings already recorded keep the version "
            "they used."
        )
