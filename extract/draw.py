"""Static pictures with matplotlib (PNG, SVG): the theme network, the authority x theme heatmap, a judgement timeline."""

from __future__ import annotations

import io
import logging
import math

log = logging.getLogger(__name__)

# Sequential colours for the share of weakness findings (the red half of ColorBrewer RdBu): none pale grey, all red.
_STOPS = ((0.0, (247, 247, 247)), (0.5, (239, 138, 98)), (1.0, (178, 24, 43)))
# Categorical colours for communities (Tableau 10).
COMMUNITY_COLOURS = ("#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#edc948", "#76b7b2", "#ff9da7", "#9c755f",
                     "#e15759", "#bab0ac")
# Grades by ofk:rank: outstanding 1, good 2, requires improvement / adequate 3, inadequate 4.
GRADE_COLOURS = {1: "#1a9850", 2: "#91cf60", 3: "#fdae61", 4: "#d73027"}
UNGRADED_COLOUR = "#9e9e9e"


def _interpolate(stops, value: float) -> str:
    """The colour at `value` (0..1) between colour stops ((position, (r, g, b)), ...), as #rrggbb."""
    value = min(max(value, 0.0), 1.0)
    for (s0, c0), (s1, c1) in zip(stops, stops[1:], strict=False):
        if value <= s1:
            f = (value - s0) / (s1 - s0)
            return "#" + "".join(f"{round(a + (b - a) * f):02x}" for a, b in zip(c0, c1, strict=True))
    raise AssertionError("unreachable")


def weakness_colour(share: float) -> str:
    """The colour of a share of weakness findings, 0 (pale grey) through 0.5 (salmon) to 1 (red)."""
    return _interpolate(_STOPS, share)


def node_fill(G, d: dict) -> str:
    """A node's fill: its share of weakness findings on the graph's scale (0 to the top share, rounded up to 10%)."""
    return weakness_colour(d["weakness_share"] / G.graph["weakness_scale"])


def edge_strengths(G) -> dict:
    """Each edge's pull (network.pull) as a fraction of the strongest, for line widths."""
    from .network import pull

    pulls = {(a, b): pull(G, d) for a, b, d in G.edges(data=True)}
    top = max(pulls.values(), default=1.0) or 1.0
    return {e: p / top for e, p in pulls.items()}


def community_colour(i: int) -> str:
    return COMMUNITY_COLOURS[i % len(COMMUNITY_COLOURS)]


ALONE_COLOUR = "#c8c8c8"


def ring_colour(G, d: dict) -> str:
    """A node's ring: its community's colour, or grey for a theme alone (no community of two or more)."""
    return community_colour(d["community"]) if d["community"] < G.graph["communities"] else ALONE_COLOUR


_HEAT = ((0.0, (255, 247, 236)), (0.35, (253, 187, 132)), (0.7, (239, 101, 72)), (1.0, (127, 0, 0)))


def heat_colour(value: float) -> str:
    """White to dark red (ColorBrewer OrRd) for a value in 0..1."""
    return _interpolate(_HEAT, value)


def _cmap(stops_fn, name):
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list(name, [stops_fn(i / 20) for i in range(21)])


def _save(fig, fmt: str) -> bytes:
    out = io.BytesIO()
    metadata = {"Date": None} if fmt == "svg" else {"Software": None}
    fig.savefig(out, format=fmt, metadata=metadata, bbox_inches="tight")
    log.info("%s: %d bytes", fmt, out.tell())
    return out.getvalue()


def _setup():
    import matplotlib

    matplotlib.rcParams["svg.hashsalt"] = "ofsted-kg"  # the same SVG ids on every run


# ---------------------------------------------------------------------------- network

def draw_network(G, title: str, fmt: str) -> bytes:
    _setup()
    from matplotlib import patheffects
    from matplotlib.cm import ScalarMappable
    from matplotlib.collections import LineCollection
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.ticker import PercentFormatter

    fig = Figure(figsize=(13, 10), dpi=150)
    ax = fig.add_axes((0.02, 0.1, 0.96, 0.82))
    ax.set_axis_off()
    ax.set_xlim(-0.06, 1.06)
    ax.set_ylim(-0.06, 1.06)
    pos = {n: (d["x"], 1.0 - d["y"]) for n, d in G.nodes(data=True)}
    strength = edge_strengths(G)
    edges = sorted(strength, key=lambda e: (strength[e], e))
    if edges:
        ax.add_collection(LineCollection(
            [(pos[a], pos[b]) for a, b in edges],
            linewidths=[0.2 + 4.5 * strength[e] for e in edges],
            colors=[(0.3, 0.3, 0.38, 0.05 + 0.6 * strength[e]) for e in edges], zorder=1))
    most = max((d["authorities"] for _, d in G.nodes(data=True)), default=1) or 1
    nodes = sorted(G.nodes(data=True))
    ax.scatter([pos[n][0] for n, _ in nodes], [pos[n][1] for n, _ in nodes],
               s=[40 + 900 * d["authorities"] / most for _, d in nodes],
               c=[node_fill(G, d) for _, d in nodes],
               edgecolors=[ring_colour(G, d) for _, d in nodes], linewidths=2.5, zorder=3)
    halo = [patheffects.withStroke(linewidth=2.5, foreground="white")]
    for n, d in nodes:
        r = math.sqrt(40 + 900 * d["authorities"] / most) / 2  # points
        ax.annotate(d["label"], pos[n], xytext=(0, -r - 3), textcoords="offset points", ha="center", va="top",
                    fontsize=7, zorder=4, path_effects=halo)
    fig.suptitle(title, fontsize=13, x=0.02, ha="left")
    g = G.graph
    fig.text(0.02, 0.925, f"{len(G)} themes, {G.number_of_edges()} pairs; {g['findings_total']} findings "
             f"({g['themed_findings']} with a theme) of {g['authorities_total']} authorities; {g['filters']}. "
             f"Size: authorities with a finding on the theme; fill: share of weakness findings; ring: community; "
             f"edge width: {g['weight_measure']} above chance." if g["weight_measure"] != "count" else "edge width: count.", fontsize=7.5, wrap=True)
    bar_ax = fig.add_axes((0.06, 0.05, 0.3, 0.015))
    fig.colorbar(ScalarMappable(norm=Normalize(0, g["weakness_scale"]), cmap=_cmap(weakness_colour, "weakness")),
                 cax=bar_ax, orientation="horizontal", label="share of weakness findings", format=PercentFormatter(1.0))
    handles = [Line2D([], [], marker="o", linestyle="", markerfacecolor="white", markeredgewidth=2.5,
                      markeredgecolor=community_colour(i), label=f"community {i + 1}")
               for i in range(g["communities"])][:10]
    if handles:
        fig.legend(handles=handles, loc="lower right", ncol=5, fontsize=7, frameon=False)
    return _save(fig, fmt)


# ---------------------------------------------------------------------------- heatmap

def draw_heatmap(hm, title: str, fmt: str) -> bytes:
    _setup()
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure

    rows, cols = hm.authorities, hm.themes
    fig = Figure(figsize=(max(6.0, 2.8 + 0.24 * len(cols)), max(3.5, 2.8 + 0.2 * len(rows))), dpi=150)
    ax = fig.add_subplot()
    top = hm.top() or 1
    matrix = [[hm.value(a.iri, t) / top for t, _ in cols] for a in rows]
    ax.imshow(matrix, aspect="auto", cmap=_cmap(heat_colour, "heat"), vmin=0, vmax=1, interpolation="nearest")
    ax.set_xticks(range(len(cols)), [label for _, label in cols], rotation=90, fontsize=7)
    ax.set_yticks(range(len(rows)), [hm.row_label(a) for a in rows], fontsize=7)
    ax.tick_params(length=0)
    ax.set_title(title, fontsize=11, loc="left")
    fig.colorbar(ScalarMappable(norm=Normalize(0, top), cmap=_cmap(heat_colour, "heat")), ax=ax,
                 fraction=0.03, pad=0.01, label=hm.measure_label())
    return _save(fig, fmt)


# ---------------------------------------------------------------------------- timeline

def draw_timeline(tl, title: str, fmt: str) -> bytes:
    _setup()
    import datetime as dt

    from matplotlib.dates import DateFormatter, YearLocator
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    lanes = tl.lanes()
    fig = Figure(figsize=(10, 1.6 + 0.45 * len(lanes)), dpi=150)
    ax = fig.add_subplot()
    index = {lane: i for i, lane in enumerate(lanes)}
    for ev in tl.evaluations:
        if ev.date is None:
            continue
        ax.axvline(ev.date, color="#dddddd", linewidth=0.8, zorder=0)
        ax.plot([ev.date], [index["evaluation"]], marker="D", color=UNGRADED_COLOUR, markersize=6, zorder=2)
        ax.annotate(ev.kind_label, (ev.date, index["evaluation"]), xytext=(0, -9), textcoords="offset points",
                    fontsize=6.5, ha="center", va="top")
        for j in ev.judgements:
            y = index[j.area_label]
            ax.plot([ev.date], [y], marker="o", markersize=10, color=GRADE_COLOURS.get(j.rank, UNGRADED_COLOUR),
                    markeredgecolor="#333333", zorder=3)
            ax.annotate(j.grade_label, (ev.date, y), xytext=(7, -3), textcoords="offset points", fontsize=6.5)
    ax.set_yticks(range(len(lanes)), [("evaluations" if lane == "evaluation" else lane) for lane in lanes], fontsize=8)
    ax.set_ylim(len(lanes) - 0.5, -0.5)
    dates = [ev.date for ev in tl.evaluations if ev.date]
    if dates:
        pad = dt.timedelta(days=300)
        ax.set_xlim(min(dates) - pad, max(dates) + pad)
    ax.xaxis.set_major_locator(YearLocator())
    ax.xaxis.set_major_formatter(DateFormatter("%Y"))
    ax.grid(axis="y", color="#eeeeee")
    ax.set_title(title, fontsize=11, loc="left")
    handles = [Line2D([], [], marker="o", linestyle="", markersize=8, color=c, markeredgecolor="#333333", label=label)
               for label, c in (("outstanding", GRADE_COLOURS[1]), ("good", GRADE_COLOURS[2]),
                                ("requires improvement / adequate", GRADE_COLOURS[3]), ("inadequate", GRADE_COLOURS[4]))]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=4, fontsize=7, frameon=False)
    return _save(fig, fmt)
