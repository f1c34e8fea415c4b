"""Every app's Russian catalogue is complete and well-formed.

They are read as text (the compiled .mo files are built, not committed): every entry has a
translation, none is fuzzy, a plural entry has Russian's four forms, and each translation has
exactly its original's placeholders, so a `%` never fails at run time in Russian.
"""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = sorted(ROOT.glob("*/locale/ru/LC_MESSAGES/*.po"))
# %(name)s, %(size).1f, %s, %r ... (and %% for a literal percent sign).
PLACEHOLDER = re.compile(r"%(?:\([^)]+\))?[-#0 +]*\d*(?:\.\d+)?[sdrfi%]")
RUSSIAN_PLURALS = (
    "nplurals=4; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<12 || "
    "n%100>14) ? 1 : n%10==0 || (n%10>=5 && n%10<=9) || (n%100>=11 && n%100<=14)? 2 : 3);"
)


def entries(path: Path) -> list[dict]:
    """Each entry as {"flags": [...], "msgid": ..., "msgid_plural": ..., "msgstr[0]": ...}."""
    parsed = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        entry, key = {"flags": []}, None
        for line in block.strip().splitlines():
            if line.startswith("#,"):
                entry["flags"] += [flag.strip() for flag in line[2:].split(",")]
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                entry[key] += ast.literal_eval(line)
            else:
                key, _, value = line.partition(" ")
                entry[key] = ast.literal_eval(value)
        if "msgid" in entry:
            parsed.append(entry)
    return parsed


def placeholders(text: str) -> tuple:
    """The named placeholders as a set (a translation may name one twice, or in another
    order), the positional ones as a sequence (they are filled in order)."""
    found = PLACEHOLDER.findall(text)
    return (
        frozenset(p for p in found if p.startswith("%(")),
        [p for p in found if not p.startswith("%(") and p != "%%"],
    )


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda path: str(path.relative_to(ROOT)))
def test_the_russian_catalogue_is_complete(path):
    header, *messages = entries(path)
    assert header["msgid"] == ""
    assert "Language: ru\n" in header["msgstr"]
    assert f"Plural-Forms: {RUSSIAN_PLURALS}\n" in header["msgstr"]
    assert messages
    for entry in messages:
        assert "fuzzy" not in entry["flags"], entry["msgid"]
        if "msgid_plural" in entry:
            forms = [entry.get(f"msgstr[{n}]") for n in range(4)]
            assert all(forms), entry["msgid"]
            assert "msgstr[4]" not in entry
            originals = (entry["msgid"], entry["msgid_plural"])
        else:
            forms = [entry["msgstr"]]
            assert forms[0], entry["msgid"]
            originals = (entry["msgid"],)
        if "python-format" in entry["flags"]:
            for form in forms:
                assert placeholders(form) in [placeholders(o) for o in originals], (
                    entry["msgid"],
                    form,
                )


def test_the_parser_sees_a_missing_translation_and_a_lost_placeholder(tmp_path):
    broken = tmp_path / "django.po"
    broken.write_text(
        'msgid ""\nmsgstr ""\n"Language: ru\\n"\n\n'
        '#, python-format\nmsgid "Report %(month)s"\nmsgstr "Отчёт"\n\n'
        'msgid "Sent"\nmsgstr ""\n',
        encoding="utf-8",
    )
    _, placeholder_lost, untranslated = entries(broken)
    assert placeholders(placeholder_lost["msgid"]) != placeholders(placeholder_lost["msgstr"])
    assert untranslated["msgstr"] == ""
