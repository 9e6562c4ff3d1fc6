"""Charts for the report, rendered with matplotlib's Agg backend into inline base64 PNGs (the
HTML must stay one self-contained file)."""

from __future__ import annotations

import base64
import io
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from ..scale import points  # noqa: E402

VERDICT_COLOURS = {
    "reproduced": "#1a7f37",
    "deviates": "#cf222e",
    "disputed": "#8250df",
    "failed": "#a40e26",
    "not run": "#8c959f",
    "not computable": "#bf8700",
    "no reference": "#57606a",
}
PAPER_COLOUR = "#0b4f9c"


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _short(label: str, width: int = 11) -> str:
    words, lines, line = label.split(), [], ""
    for w in words:
        if line and len(line) + 1 + len(w) > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    lines.append(line)
    return "\n".join(lines[:3])


def unit_count(cells: list[dict]) -> int:
    return len({c["unit"] for c in cells if c["ours"]["value"] is not None})


def cells_chart(cells: list[dict], title: str) -> str | None:
    """Paper value(s) vs ours with the 95% CI per cell, one panel per unit so scales stay readable."""
    # only measured cells: the table lists the rest ("not run", ...), a paper-only point adds nothing
    plotted = [c for c in cells if c["ours"]["value"] is not None]
    if not plotted:
        return None
    groups: dict[str, list[dict]] = {}
    for c in plotted:
        groups.setdefault(c["unit"], []).append(c)
    units = list(groups)
    ncols = min(4, len(units)) if len(units) > 1 else 1
    nrows = math.ceil(len(units) / ncols)
    widths = [max(len(groups[u]) for u in units[i::ncols]) for i in range(ncols)] if ncols > 1 else [1]
    fig_w = 13.0 if ncols > 1 else min(9.0, 2.0 + 0.8 * len(plotted))
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(fig_w, 3.1 * nrows),
        squeeze=False,
        gridspec_kw={"width_ratios": [w + 0.8 for w in widths]},
    )
    for ax in axes.flat[len(units) :]:
        ax.set_visible(False)
    for ax, unit in zip(axes.flat, units, strict=False):
        group = groups[unit]
        xs = range(len(group))
        for x, c in zip(xs, group, strict=True):
            for j, s in enumerate(c["paper_sources"]):
                marker = "D" if j == 0 else "s"
                ax.plot(
                    x - 0.12, s["value"], marker, color=PAPER_COLOUR, mfc="white", mew=1.6, ms=7, zorder=3
                )
            v = c["ours"]["value"]
            if v is not None:
                colour = VERDICT_COLOURS.get(c["verdict"], "#000")
                ci = c["ours"]["ci"]
                if ci:
                    ax.errorbar(
                        x + 0.12,
                        v,
                        yerr=[[v - ci[0]], [ci[1] - v]],
                        fmt="o",
                        color=colour,
                        ms=7,
                        capsize=4,
                        lw=1.6,
                    )
                else:
                    ax.plot(x + 0.12, v, "o", color=colour, ms=7)
        # start the axis at zero so a gap looks as large as it is relative to the value
        tops = [s["value"] for c in group for s in c["paper_sources"]]
        tops += [
            max(c["ours"]["value"], (c["ours"]["ci"] or [0, 0])[1])
            for c in group
            if c["ours"]["value"] is not None
        ]
        if min(tops + [0.0]) >= 0:
            ax.set_ylim(0, max(tops) * 1.12 or 1.0)
        ax.set_xticks(list(xs))
        ax.set_xticklabels([_short(c["label"]) for c in group], fontsize=7.5)
        ax.set_xlim(-0.6, len(group) - 0.4)
        ax.set_title(unit, fontsize=9.5, loc="left")
        ax.grid(axis="y", alpha=0.3)
        ax.tick_params(axis="y", labelsize=8)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    handles = [
        plt.Line2D([], [], marker="D", ls="", color=PAPER_COLOUR, mfc="white", mew=1.6, label="paper"),
        plt.Line2D(
            [], [], marker="s", ls="", color=PAPER_COLOUR, mfc="white", mew=1.6, label="paper (2nd source)"
        ),
    ] + [
        plt.Line2D([], [], marker="o", ls="", color=col, label=f"ours: {v}")
        for v, col in VERDICT_COLOURS.items()
        if any(c["verdict"] == v and c["ours"]["value"] is not None for c in plotted)
    ]
    fig.legend(
        handles=handles,
        loc="upper center",
        ncol=len(handles),
        fontsize=8,
        frameon=False,
        bbox_to_anchor=(0.5, 1.0),
    )
    fig.suptitle(title, fontsize=11, y=1.06)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.05 / nrows))
    return _png(fig)


def scatter_chart(cells: list[dict], agreement: dict, title: str) -> str | None:
    """Ours vs paper with the identity line; the CCC is in the title."""
    used = [c for c in cells if c["cell"] in set(agreement.get("cells") or [])]
    if len(used) < 2:
        return None
    # the same 0-100 axis the agreement statistics use (compare/verdict.py)
    scale = [points(1.0, c["scale"]) for c in used]
    xs = [points(c["paper"], c["scale"]) for c in used]
    ys = [points(c["ours"]["value"], c["scale"]) for c in used]
    fig, ax = plt.subplots(figsize=(4.6, 4.3))
    lo, hi = min(xs + ys), max(xs + ys)
    pad = (hi - lo) * 0.08 or 1.0
    ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], "--", color="#57606a", lw=1, label="identity")
    for c, x, y, k in zip(used, xs, ys, scale, strict=True):
        ci = c["ours"]["ci"]
        colour = VERDICT_COLOURS[c["verdict"]]
        if ci:
            ax.errorbar(
                x, y, yerr=[[y - ci[0] * k], [ci[1] * k - y]], fmt="o", color=colour, ms=5, capsize=2, lw=1
            )
        else:
            ax.plot(x, y, "o", color=colour, ms=5)
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_aspect("equal")
    ax.set_xlabel("paper", fontsize=9)
    ax.set_ylabel("ours", fontsize=9)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.3)
    ccc = agreement.get("ccc")
    ccc_text = "n/a" if ccc is None else f"{ccc:.4f}"
    ax.set_title(f"{title}\nLin's CCC = {ccc_text} (n = {agreement['n']})", fontsize=9.5)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    return _png(fig)
