"""The pictures of docs/benchmarks.md, drawn by bench/report.py from the controller section's JSON.

- the sync curve: SealedSecrets created and Synced over time, one panel per N (5,000 and
  50,000 when the run has them), from `curves`: [{"n", "phase", "created": [[t_s, count], ...],
  "synced": [[t_s, count], ...]}];
- RSS against the number of objects, from `rss_points`: [[n, rss_mib], ...].

Output is SVG and byte-for-byte deterministic for the same data and the matplotlib version
bench/setup.sh pins: fixed hash salt, no date, glyphs as paths (no font lookup at view time).
"""

import io
import pathlib

# The N the sync-curve picture is about (bench/controller.py's full run and its --n 50000).
SYNC_SIZES = (5000, 50000)
SYNC_NAME = "sync"
RSS_NAME = "rss"


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    matplotlib.rcParams.update({
        "svg.hashsalt": "sealant-benchmarks",
        "svg.fonttype": "path",
        "font.family": "DejaVu Sans",
        "font.size": 9,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "path.simplify": True,
    })
    return pyplot


def _save(fig, path):
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None}, bbox_inches="tight")
    # No trailing blanks: the files are committed next to the report.
    text = "\n".join(line.rstrip() for line in buf.getvalue().splitlines()) + "\n"
    pathlib.Path(path).write_text(text)


def _xy(points):
    return [p[0] for p in points], [p[1] for p in points]


def curves_by_n(controller):
    """{n: [curve, ...]} for the sizes the sync picture shows, each curve with created and synced
    points; curves without any point are left out."""
    out = {}
    for curve in controller.get("curves", []) or []:
        n = curve.get("n")
        if n in SYNC_SIZES and (curve.get("created") or curve.get("synced")):
            out.setdefault(n, []).append(curve)
    return out


def draw_sync(controller, path):
    """The sync curve, one panel per N present. Returns the N drawn (empty: nothing drawn)."""
    by_n = curves_by_n(controller)
    if not by_n:
        return []
    sizes = sorted(by_n)
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(sizes), figsize=(5.2 * len(sizes), 3.4), squeeze=False)
    for ax, n in zip(axes[0], sizes):
        for curve in sorted(by_n[n], key=lambda c: c.get("phase", "")):
            phase = curve.get("phase", "")
            suffix = f" ({phase})" if phase else ""
            line = None
            if curve.get("synced"):
                (line,) = ax.plot(*_xy(curve["synced"]), linewidth=1.6, label=f"Synced{suffix}",
                                  marker="o" if len(curve["synced"]) == 1 else None)
            if curve.get("created"):
                color = line.get_color() if line is not None else None
                ax.plot(*_xy(curve["created"]), linestyle="--", linewidth=1.0, color=color,
                        label=f"created{suffix}", marker="o" if len(curve["created"]) == 1 else None)
        ax.axhline(n, color="grey", linewidth=0.6, linestyle=":")
        ax.set_title(f"N = {n:,}")
        ax.set_xlabel("seconds")
        ax.set_ylabel("SealedSecrets")
        ax.set_ylim(bottom=0)
        ax.set_xlim(left=0)
        ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:,.0f}"))
        ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)
    return sizes


def draw_rss(controller, path):
    """RSS against the number of objects. Returns the number of points drawn (0: nothing)."""
    points = sorted((p for p in controller.get("rss_points", []) or [] if len(p) == 2),
                    key=lambda p: p[0])
    if not points:
        return 0
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.2, 3.4))
    xs, ys = _xy(points)
    ax.plot(xs, ys, marker="o", linewidth=1.6)
    ax.set_xlabel("SealedSecrets (each with its Secret)")
    ax.set_ylabel("controller RSS (MiB)")
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)
    return len(points)
