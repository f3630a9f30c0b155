"""Markdown pieces the pages share: tables, names and links of services."""

from __future__ import annotations

from services.architecture.model import Resource, slug
from services.portal.facts import Facts


def table(header: list[str], rows: list[list[str]]) -> str:
    if not rows:
        return ""
    cells = [header, ["---"] * len(header), *rows]
    return "\n".join("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in row) + " |" for row in cells)


def label(facts: Facts, service: Resource) -> str:
    """`svc-reservations` for a context of the mesh (the seeds' names), else the catalog's name."""
    ctx = facts.context_of_service(service.id)
    return f"svc-{ctx.spec.name}" if ctx else service.name


def link(facts: Facts, service: Resource, here: str) -> str:
    """A link to the service's page from a page in `here` ("services" or "domains")."""
    ctx = facts.context_of_service(service.id)
    if ctx is None:
        return service.name
    prefix = "" if here == "services" else "../services/"
    return f"[{label(facts, service)}]({prefix}{ctx.spec.name}.md)"


def domain_link(domain: str, facts: Facts, here: str) -> str:
    if domain not in facts.domains():
        return domain
    prefix = "" if here == "domains" else "../domains/"
    return f"[{domain}]({prefix}{slug(domain)}.md)"


def bullets(items: list[str]) -> str:
    return "\n".join(f"- {i}" for i in items)


def team(facts: Facts, team_id: str) -> str:
    chat = facts.portal.get("teams", {}).get(team_id, {}).get("chat", "")
    name = facts.res(team_id).name if team_id in facts.catalog.resources else team_id
    return f"{name} ({chat})" if chat else name
