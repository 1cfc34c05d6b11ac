"""Fails when a user-facing string has no 简体中文 translation or the shipped catalogue is stale.

Re-extracts the strings (so a string marked for translation but missing from the catalogue
is caught), then checks that every entry is translated and not fuzzy, and that the compiled
catalogue matches its source.
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
ENV = {**os.environ, "DEBUG": "1"}


def main():
    compiled = polib.mofile(str(CATALOGUE.with_suffix(".mo")))
    source = polib.pofile(str(CATALOGUE))
    shipped = {(e.msgctxt, e.msgid): e.msgstr for e in compiled}
    stale = [e.msgid for e in source.translated_entries() if shipped.get((e.msgctxt, e.msgid)) != e.msgstr]

    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "django.po"
        copy.write_bytes(CATALOGUE.read_bytes())
        subprocess.run(
            [
                sys.executable,
                "manage.py",
                "makemessages",
                "--locale",
                "zh_Hans",
                "--no-obsolete",
                "--no-location",
                "--ignore",
                ".venv",
                "--ignore",
                "var",
            ],
            cwd=ROOT,
            env=ENV,
            check=True,
            capture_output=True,
        )
        extracted = polib.pofile(str(CATALOGUE))
        CATALOGUE.write_bytes(copy.read_bytes())

    untranslated = [e.msgid for e in extracted.untranslated_entries()]
    fuzzy = [e.msgid for e in extracted.fuzzy_entries()]
    problems = {
        "untranslated (run `make messages` and translate)": untranslated,
        "fuzzy": fuzzy,
        "compiled .mo out of date (run `make messages`)": stale,
    }
    failed = False
    for label, entries in problems.items():
        if entries:
            failed = True
            print(f"{len(entries)} {label}:")
            for msgid in entries[:40]:
                print(f"  {msgid!r}")
    if failed:
        sys.exit(1)
    print(f"{len(extracted.translated_entries())} strings, all translated into 简体中文")


if __name__ == "__main__":
    main()
