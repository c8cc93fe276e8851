"""The import layers of docs/architecture.md, checked over the import graph (ast, no import).

Bottom to top: `kit` (pure helpers, value types) → infrastructure (`config`, `db`, `events`,
`logs`, `jobs`) → domain packages → adapters (`http`, `web`, each package's `api.py`) → the
processes (`app`, `cli`, `worker`, `wiring`, ...). An arrow may only point down. `make check`
runs this file. Every import counts, also one inside a function or under TYPE_CHECKING: a lazy
import is still a dependency.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"

# The packages with a domain of their own (plus the low ones that must stay low).
DOMAIN = {
    "accounts",
    "alerts",
    "assignment",
    "audit",
    "calendars",
    "callbacks",
    "categories",
    "channels",
    "compensation",
    "jobs",
    "kit",
    "macros",
    "moderation",
    "notices",
    "portal",
    "privacy",
    "quality",
    "routing",
    "sla",
    "suggestions",
    "surveys",
    "tickets",
    "triage",
}
# Adapters and processes: nothing in the domain imports them.
UPPER = {"web", "http", "worker", "cli", "app", "wiring", "bootstrap", "demo", "__main__"}
# A domain package's HTTP endpoints (`tickets/api.py`): adapters that may use the shared HTTP
# plumbing (`http`), never the pages or the processes.
ADAPTER_MAY_USE = {"http"}
# Pure modules: no database, no settings, no HTTP. Inside huiying they import only each other
# (and `errors`), so each can be tested as a table of cases.
PURE_PACKAGES = {"kit"}
PURE_MODULES = {
    "huiying.errors",
    "huiying.accounts.access",
    "huiying.alerts.robots",
    "huiying.assignment.modes",
    "huiying.calendars.business_time",
    "huiying.channels.email.charsets",
    "huiying.channels.email.compose",
    "huiying.kit.locale",
    "huiying.notices.wording",
    "huiying.notices.quiet",
    "huiying.quality.sampling",
    "huiying.quality.scoring",
    "huiying.suggestions.grouping",
    "huiying.channels.email.html_text",
    "huiying.channels.email.noise",
    "huiying.channels.email.parse",
    "huiying.channels.inapp.texts",
    "huiying.portal.user_token",
    "huiying.routing.rules",
    "huiying.sla.clock",
    "huiying.sla.due",
    "huiying.sla.policies",
    "huiying.tickets.enums",
    "huiying.tickets.lifecycle",
    "huiying.triage.activation",
    "huiying.triage.classifier",
    "huiying.triage.evaluation",
    "huiying.triage.features",
    "huiying.triage.impact",
}
# What tickets must not know: the rules and reactions above it reach it by registration. Its
# endpoints (`tickets/api.py`) are an adapter, above every domain package, and may show them.
TICKETS_MUST_NOT_IMPORT = {"sla", "triage", "channels", "notifications", "routing", "assignment", "alerts", "calendars"}
# Only the bottom: jobs is imported by every package, so it imports none of them.
JOBS_MAY_USE = {"kit", "errors", "db", "config", "events", "logs", "jobs"}
KIT_MAY_USE = {"kit", "errors"}
# Process-wide state the domain must receive instead (create_app(settings) governs it).
GLOBALS = {"huiying.config": ("get_settings",)}

# Known violations not fixed yet, each with its reason. Keep this short; prefer fixing.
ALLOWED: dict[tuple[str, str], str] = {
    ("huiying.privacy.crypto", "huiying.config:get_settings"): (
        "the keys' fallback for a process that never called crypto.configure (scripts, services "
        "called directly); the app, the CLI and workers configure the keys, kit.crypto never reads them"
    ),
}


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(module: str, source: str, is_package: bool, known: set[str]) -> Iterable[str]:
    """Every huiying module `module` imports (`from a import b` names a.b when b is a module)."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                if f"{base}.{alias.name}" in known:
                    yield f"{base}.{alias.name}"
                else:
                    yield base
                    if alias.name in GLOBALS.get(base, ()):
                        yield f"{base}:{alias.name}"


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _is_pure(module: str) -> bool:
    return module in PURE_MODULES or _package(module) in PURE_PACKAGES


def violations(sources: Mapping[str, tuple[str, bool]]) -> list[str]:
    """Each import that points up a layer: `importer -> imported: rule`. `sources` maps a module
    name to (its source, whether it is a package's __init__)."""
    known = set(sources)
    found: list[str] = []
    for module, (source, is_package) in sorted(sources.items()):
        if ".migrations" in module or not module.startswith("huiying."):
            continue
        own = _package(module)
        is_adapter = module.rpartition(".")[2] == "api" and own in DOMAIN
        for target in sorted(set(_imports(module, source, is_package, known))):
            if not target.startswith("huiying.") or target == module:
                continue
            other = _package(target)
            rule = None
            if ":" in target:
                if own in DOMAIN:
                    rule = "the domain reads a process-wide global; hand the value in (wiring.configure)"
            elif own in DOMAIN and other in UPPER and not (is_adapter and other in ADAPTER_MAY_USE):
                rule = "a domain package imports an adapter or a process"
            elif not is_adapter and target.rpartition(".")[2] == "api" and other in DOMAIN and own in DOMAIN:
                rule = "the domain imports a package's HTTP endpoints"
            elif _is_pure(module) and not _is_pure(target):
                rule = "a pure module imports app state or a non-pure module"
            elif own == "kit" and other not in KIT_MAY_USE:
                rule = "kit is the bottom layer"
            elif own == "jobs" and other not in JOBS_MAY_USE:
                rule = "jobs is below every domain package"
            elif own == "tickets" and not is_adapter and other in TICKETS_MUST_NOT_IMPORT:
                rule = f"tickets must not import {other} (it registers with tickets instead)"
            if rule and (module, target) not in ALLOWED:
                found.append(f"{module} -> {target}: {rule}")
    return found


def _tree(root: Path) -> dict[str, tuple[str, bool]]:
    return {
        _module_name(path, root): (path.read_text(encoding="utf-8"), path.name == "__init__.py")
        for path in sorted((root / "huiying").rglob("*.py"))
    }


def test_the_tree_keeps_its_layers() -> None:
    assert violations(_tree(SRC)) == []


def test_allowed_exceptions_are_still_needed() -> None:
    """An exception fixed in the code leaves the list too."""
    tree = _tree(SRC)
    saved = dict(ALLOWED)
    ALLOWED.clear()
    try:
        remaining = set(violations(tree))
    finally:
        ALLOWED.update(saved)
    for importer, target in saved:
        assert any(v.startswith(f"{importer} -> {target}:") for v in remaining), (importer, target)


def _fake(**modules: str) -> dict[str, tuple[str, bool]]:
    tree = {"huiying": ("", True)}
    for dotted, source in modules.items():
        name = "huiying." + dotted.replace("__", ".")
        tree[name] = (source, False)
        parent = name.rpartition(".")[0]
        tree.setdefault(parent, ("", True))
    return tree


@pytest.mark.parametrize(
    ("modules", "expected"),
    [
        (
            {"tickets__service": "from huiying.web.i18n import t\n"},
            "huiying.tickets.service -> huiying.web.i18n: a domain package imports an adapter or a process",
        ),
        (
            {"accounts__service": "def f():\n    from huiying import worker\n", "worker": ""},
            "huiying.accounts.service -> huiying.worker: a domain package imports an adapter or a process",
        ),
        (
            {"triage__api": "from huiying.web import auth\n", "web__auth": ""},
            "huiying.triage.api -> huiying.web.auth: a domain package imports an adapter or a process",
        ),
        (
            {"kit__clock": "from huiying.config import Settings\n"},
            "huiying.kit.clock -> huiying.config: a pure module imports app state or a non-pure module",
        ),
        (
            {"tickets__lifecycle": "from ..db import Database\n", "db": ""},
            "huiying.tickets.lifecycle -> huiying.db: a pure module imports app state or a non-pure module",
        ),
        (
            {"tickets__repository": "import huiying.sla.filters\n", "sla__filters": ""},
            "huiying.tickets.repository -> huiying.sla.filters: tickets must not import sla (it registers "
            "with tickets instead)",
        ),
        (
            {"tickets__service": "from huiying.triage import service\n", "triage__service": ""},
            "huiying.tickets.service -> huiying.triage.service: tickets must not import triage (it registers "
            "with tickets instead)",
        ),
        (
            {"jobs__outbox": "from huiying.tickets.models import BigId\n", "tickets__models": ""},
            "huiying.jobs.outbox -> huiying.tickets.models: jobs is below every domain package",
        ),
        (
            {"triage__service": "def f():\n    from huiying.config import Settings, get_settings\n", "config": ""},
            "huiying.triage.service -> huiying.config:get_settings: the domain reads a process-wide global; "
            "hand the value in (wiring.configure)",
        ),
        (
            {"portal__service": "from huiying.tickets.api import router\n", "tickets__api": ""},
            "huiying.portal.service -> huiying.tickets.api: the domain imports a package's HTTP endpoints",
        ),
    ],
)
def test_the_check_fails_on_a_violation(modules: dict[str, str], expected: str) -> None:
    assert violations(_fake(**modules)) == [expected]


def test_the_check_lets_allowed_arrows_pass() -> None:
    tree = _fake(
        tickets__api="from huiying.http.deps import DB\n",
        http__deps="from huiying.tickets import service\n",
        tickets__service="from huiying.kit.actor import Actor\nfrom huiying.jobs import enqueue\n",
        sla__filters="from huiying.tickets import repository\n",
        kit__actor="from huiying.kit.roles import Role\n",
        kit__roles="",
        jobs="from huiying.db import Database\n",
        db="",
    )
    assert violations(tree) == []


def test_an_adapter_may_show_what_the_domain_must_not_know() -> None:
    tree = _fake(tickets__api="from huiying.channels import delivery\n", channels__delivery="")
    assert violations(tree) == []


def test_huiying_http_does_not_shadow_the_standard_library() -> None:
    """`huiying.http` is imported absolutely; the standard library's `http` (uvicorn, httpx) stays."""
    import http.client

    import httpx
    import uvicorn.protocols.http.h11_impl  # noqa: F401

    import huiying.http

    assert Path(http.client.__file__).parent != Path(huiying.http.__file__).parent
    assert httpx.codes.OK == 200
