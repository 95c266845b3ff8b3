"""`-o mermaid`: the change as a Mermaid flowchart (paste it into a ```mermaid block):
namespaces as subgraphs, newly allowed flows as green edges, newly blocked ones as red
dotted edges."""

from __future__ import annotations

from npdiff.model.result import DiffResult
from npdiff.report import graph

# Mermaid's numeric entity codes; `#` first, since the others introduce it.
_ENTITIES = (("#", "#35;"), ('"', "#34;"), ("<", "#60;"), (">", "#62;"), ("|", "#124;"))


def quote(text: str) -> str:
    for raw, entity in _ENTITIES:
        text = text.replace(raw, entity)
    return '"' + text.replace("\n", " ") + '"'


def render_diff(result: DiffResult) -> str:
    g = graph.build(result)
    out = ["flowchart LR", f"  %% {g.title.replace(chr(10), ' ')}", f"  %% {graph.LEGEND}"]
    for cluster in g.clusters:
        out.append(f"  subgraph {cluster.id}[{quote('namespace ' + cluster.namespace)}]")
        out += [f"    {n.id}[{quote(n.label)}]" for n in cluster.nodes]
        out.append("  end")
    out += [f"  {n.id}[{quote(n.label)}]" for n in g.nodes]
    if not g.edges:
        out.append(f"  none[{quote(g.title)}]")
    for e in g.edges:
        arrow = "-.->" if e.kind == graph.REMOVED else "-->"
        out.append(f"  {e.src.id} {arrow}|{quote(e.label)}| {e.dst.id}")
    out += [f"  linkStyle {n} stroke:{graph.COLOURS[e.kind]},stroke-width:2px" for n, e in enumerate(g.edges)]
    return "\n".join(out) + "\n"
