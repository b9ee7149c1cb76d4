"""The repository stands alone: its docs link only to files it holds, name no path outside it,
and every rule or defect id they use (`R-PERIOD-1`, `B-W7`) is defined in `docs/`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SKIPPED_DIRS = {".venv", ".git", ".tools", "node_modules", ".pytest_cache", ".ruff_cache"}
REPO_PREFIXES = ("docs/", "services/", "shared/", "tests/", "infra/", "benchmarks/")


def _files(*patterns: str) -> list[Path]:
    found = {
        path
        for pattern in patterns
        for path in ROOT.glob(pattern)
        if path.is_file() and not SKIPPED_DIRS.intersection(path.relative_to(ROOT).parts)
    }
    return sorted(found)


def _docs() -> list[Path]:
    return _files("README.md", "docs/*.md", "infra/**/*.md")


def _code_and_config() -> list[Path]:
    return _files("**/*.py", "**/*.toml", "**/*.yml", "**/*.yaml")


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _without_code_blocks(text: str) -> str:
    """Fenced blocks hold commands and output, not links."""
    return re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip()).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = _without_code_blocks(path.read_text(encoding="utf-8"))
    slugs = {_slug(m.group(1)) for m in re.finditer(r"^#{1,6}\s+(.+?)\s*#*$", text, re.M)}
    return slugs | set(re.findall(r'<a\s+(?:id|name)="([^"]+)"', text))


MD_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
BACKTICKED = re.compile(r"`([^`\s]+)`")


def _broken_links(path: Path) -> list[str]:
    problems = []
    text = _without_code_blocks(path.read_text(encoding="utf-8"))
    for target in MD_LINK.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("//"):
            continue  # http:, https:, mailto:
        file_part, _, anchor = target.partition("#")
        dest = (path.parent / file_part).resolve() if file_part else path
        if ROOT not in dest.parents and dest != ROOT:
            problems.append(f"{_rel(path)}: link {target!r} leaves the repository")
        elif not dest.exists():
            problems.append(f"{_rel(path)}: link {target!r}: no such file")
        elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
            problems.append(f"{_rel(path)}: link {target!r}: no such heading or anchor")
    return problems


def _looks_like_repo_path(token: str) -> bool:
    if not token.startswith(REPO_PREFIXES):
        return False
    return not any(mark in token for mark in ("...", "…", "*", "<", "{", "$"))


def _broken_backticked_paths(path: Path) -> list[str]:
    problems = []
    for token in BACKTICKED.findall(path.read_text(encoding="utf-8")):
        if not _looks_like_repo_path(token):
            continue
        file_part, _, function = token.partition("::")
        dest = ROOT / file_part.rstrip(":,.")
        if not dest.exists():
            problems.append(f"{_rel(path)}: `{token}`: no such file or directory")
        elif function and not re.search(
            rf"^\s*(?:async\s+)?def {re.escape(function)}\(", dest.read_text(), re.M
        ):
            problems.append(f"{_rel(path)}: `{token}`: no such test function")
    return problems


# Paths of the machine the repository was written on, or beside it: never part of the repo.
# Spelled as character classes so that this file does not itself name them.
OUTSIDE = re.compile(r"(?<![\w.])(?:/wor[k]/|\.\./(?:share[d]|seed[s]|referenc[e])/|/hom[e]/\w)")
# The id families the docs define: billing rules and the Go defects' billing codes.
IDS = re.compile(r"\b(?:R-[A-Z]+-\d+|B-[A-Z]\d+)\b")
DEFINED_ID = re.compile(r'<a id="([a-z]-[a-z0-9-]+)"></a>|\*\*(R-[A-Z]+-\d+)\b')


def _defined_ids() -> set[str]:
    defined = set()
    for doc in _files("docs/*.md"):
        for anchor, rule in DEFINED_ID.findall(doc.read_text(encoding="utf-8")):
            defined.add(rule or anchor.upper())
    return defined


def test_the_checks_see_the_documents() -> None:
    names = {_rel(p) for p in _docs()}
    assert {"README.md", "docs/billing-rules.md", "docs/go-defects.md"} <= names
    assert "infra/mysql/reference/README.md" in names


@pytest.mark.parametrize("path", _docs(), ids=_rel)
def test_relative_links_point_at_files_and_headings_of_the_repository(path: Path) -> None:
    assert _broken_links(path) == []


@pytest.mark.parametrize("path", _docs(), ids=_rel)
def test_backticked_repository_paths_exist(path: Path) -> None:
    assert _broken_backticked_paths(path) == []


def test_no_path_outside_the_repository_is_named() -> None:
    offenders = [
        f"{_rel(path)}:{number}: {line.strip()}"
        for path in [*_docs(), *_code_and_config()]
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if OUTSIDE.search(line) and path != Path(__file__).resolve()
    ]
    assert offenders == []


def test_every_rule_and_defect_id_used_is_defined_in_docs() -> None:
    defined = _defined_ids()
    assert {"R-PERIOD-1", "R-ONCE-2", "B-W7", "B-Q1"} <= defined
    undefined = [
        f"{_rel(path)}: {code}"
        for path in [*_docs(), *_code_and_config()]
        for code in sorted(set(IDS.findall(path.read_text(encoding="utf-8"))))
        if code not in defined and path != Path(__file__).resolve()
    ]
    assert undefined == []


def test_the_checker_catches_what_it_is_for() -> None:
    slug = _slug("5. Prepaid credits (pay-as-you-go plans)")
    assert slug == "5-prepaid-credits-pay-as-you-go-plans"
    assert OUTSIDE.search("see " + "/".join(["", "work", "shared", "docs", "x.md"]))
    assert OUTSIDE.search("/".join(["..", "shared", "docs"]))
    assert not OUTSIDE.search("/".join(["https:", "", "example.test", "work", "x"]))
    assert _looks_like_repo_path("docs/billing.md")
    assert not _looks_like_repo_path("shared/.../models")
    assert not _looks_like_repo_path("tests/*.py")
    assert IDS.findall("see B-W7 and R-PERIOD-12, not R-1") == ["B-W7", "R-PERIOD-12"]
