"""`--html`: the catalog as one self-contained page (inline CSS and JS, no network): systems with
their services and containers, each service's sends and receives, the messages, the flows' steps."""

from __future__ import annotations

import json
from html import escape

from services.architecture.model import Catalog

STYLE = """body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#1d2430}h2{margin-top:2rem}
.card{border:1px solid #d4d9e1;border-radius:6px;padding:.6rem .9rem;margin:.5rem 0}
.kind{font-size:11px;text-transform:uppercase;color:#5a6578;margin-left:.4rem}.owner{color:#0b6e4f}
ol.steps li{margin:.2rem 0}input{padding:.3rem;width:20rem}.hidden{display:none}"""
SCRIPT = """document.getElementById('q').addEventListener('input',e=>{const q=e.target.value.toLowerCase();
document.querySelectorAll('.card').forEach(c=>c.classList.toggle('hidden',!c.textContent.toLowerCase().includes(q)))});"""


def _card(catalog: Catalog, rid: str, extra: str = "") -> str:
    r = catalog.resources[rid]
    return (
        f'<div class="card" id="{escape(rid)}"><b>{escape(r.name)}</b><span class="kind">{r.kind} v{r.version}</span>'
        f' <span class="owner">{escape(r.owner)}</span><div>{escape(r.summary)}</div>{extra}</div>'
    )


def _links(catalog: Catalog, ids: list[str]) -> str:
    return ", ".join(f'<a href="#{escape(i)}">{escape(catalog.resources[i].name)}</a>' for i in ids) or "—"


def page(catalog: Catalog) -> str:
    parts = ['<h1>NovaTrek architecture catalog</h1><input id="q" placeholder="filter">']
    for domain in catalog.of_kind("domain"):
        parts.append(f"<h2>{escape(domain.name)} <small class=owner>{escape(domain.owner)}</small></h2>")
        parts.append(f"<p>{escape(domain.summary)}</p>")
        for system in catalog.targets(domain.id, "contains"):
            held = catalog.targets(system, "holds")
            parts.append(_card(catalog, system, f"<div>holds: {_links(catalog, held)}</div>"))
            for sid in held:
                sends, receives = catalog.targets(sid, "sends"), catalog.targets(sid, "receives")
                more = f"<div>sends: {_links(catalog, sends)}</div><div>receives: {_links(catalog, receives)}</div>"
                parts.append(_card(catalog, sid, more if catalog.resources[sid].kind == "service" else ""))
    parts.append("<h2>Commands, queries, events, entities</h2>")
    for r in catalog.of_kind("command", "query", "event", "entity"):
        senders, receivers = (
            _links(catalog, catalog.related(r.id, "sends")),
            _links(catalog, catalog.related(r.id, "receives")),
        )
        who = f"<div>sent by: {senders}; received by: {receivers}</div>"
        parts.append(_card(catalog, r.id, who if r.kind != "entity" else f"<code>{escape(r.proto)}</code>"))
    parts.append("<h2>Flows</h2>")
    for flow in catalog.of_kind("flow"):
        steps = "".join(
            f"<li>{_links(catalog, [s.resource]) if s.resource else escape(s.actor + ': ' + s.title)}"
            + (f" (compensated by {_links(catalog, [s.compensation])})" if s.compensation else "")
            + "</li>"
            for s in catalog.flows[flow.id]
        )
        parts.append(_card(catalog, flow.id, f'<ol class="steps">{steps}</ol>'))
    parts.append("<h2>Teams</h2>" + "".join(_card(catalog, t.id) for t in catalog.of_kind("team")))
    data = json.dumps(catalog.to_json(), sort_keys=True).replace("</", "<\\/")
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>NovaTrek architecture catalog</title>'
        f"<style>{STYLE}</style></head><body>{''.join(parts)}"
        f'<script type="application/json" id="catalog">{data}</script><script>{SCRIPT}</script></body></html>\n'
    )
