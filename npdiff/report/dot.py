"""`-o dot`: the change as a Graphviz digraph (`dot -Tsvg`): namespaces as clusters,
newly allowed flows as green edges, newly blocked ones as red dashed edges."""

from __future__ import annotations

from npdiff.model.result import DiffResult
from npdiff.report import graph


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def render_diff(result: DiffResult) -> str:
    g = graph.build(result)
    out = ["digraph npdiff {",
           f"  graph [rankdir=LR, labelloc=t, fontname=Helvetica, label={quote(g.title + chr(10) + graph.LEGEND)}];",
           "  node [shape=box, style=rounded, fontname=Helvetica];",
           "  edge [fontname=Helvetica];"]
    for cluster in g.clusters:
        out.append(f"  subgraph cluster_{cluster.id} {{")
        out.append(f"    label={quote('namespace ' + cluster.namespace)};")
        out += [f"    {n.id} [label={quote(n.label)}];" for n in cluster.nodes]
        out.append("  }")
    out += [f"  {n.id} [label={quote(n.label)}];" for n in g.nodes]
    for e in g.edges:
        colour = quote(graph.COLOURS[e.kind])
        style = ", style=dashed" if e.kind == graph.REMOVED else ""
        out.append(f"  {e.src.id} -> {e.dst.id} [label={quote(e.label)}, color={colour}, fontcolor={colour}{style}];")
    out.append("}")
    return "\n".join(out) + "\n"
