"""Draw the figures of ``benchmarks/run.py --json`` as one PNG chart, a panel per requirement set.

Usage (matplotlib is installed in the benchmark's own environment by run.py)::

    <work>/bench-env/bin/python benchmarks/chart.py web.json source.json -o docs/benchmark.png

Bars are the median seconds of each tool, cold and warm, on a logarithmic
scale (warm installs differ from cold ones by orders of magnitude), each
labelled with its value. A file of the fleet scenario (``run.py --fleet``)
gets a panel of one group: every tool on an empty disk, pip-accel with the
fleet's bucket.
"""

import argparse
import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib import ticker

TOOLS = ("pip", "uv", "uv-nobytecode", "pip-accel")
"""The tools in the order of their bars."""

COLORS = {"pip": "#4878a8", "uv": "#d9a13b", "uv-nobytecode": "#ecd39b", "pip-accel": "#3a9a5b"}
"""One color per tool; uv without bytecode is a paler uv."""


def draw(figures: list[dict[str, Any]], output: Path) -> None:
    """Draw one panel per set of figures and save the chart."""
    fig, axes = plt.subplots(1, len(figures), figsize=(6 * len(figures), 4.5), squeeze=False)
    for axis, data in zip(axes[0], figures, strict=True):
        panel(axis, data)
    busy = figures[0].get("busy")  # run.py --busy
    load = f"; {busy} core(s) kept busy by other work" if busy else ""
    fig.suptitle(f"Median seconds of {figures[0]['runs']} runs; {figures[0]['machine']}{load}",
                 y=0.02, va="bottom", fontsize=8)  # fmt: skip
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    fig.savefig(output, dpi=110)


def panel(axis: Any, data: dict[str, Any]) -> None:
    """One requirement set: a group of bars for cold and one for warm (or one for the fleet)."""
    medians = data["medians"]
    fleet = data.get("scenario") == "fleet"
    states = ("cold",) if fleet else ("cold", "warm")
    width = 0.8 / len(TOOLS)
    highest = 1.0
    for number, tool in enumerate(TOOLS):
        values = [medians.get(f"{tool} {state}") for state in states]
        if None in values:
            continue
        places = [state + (number - (len(TOOLS) - 1) / 2) * width for state in range(len(states))]
        bars = axis.bar(places, values, width, label=tool, color=COLORS[tool])
        axis.bar_label(bars, labels=[_seconds(value) for value in values], fontsize=7)
        highest = max([highest, *values])
    axis.set_yscale("log")
    axis.set_ylim(bottom=0.1, top=highest * 10)  # room for the legend above the bars
    axis.yaxis.set_major_formatter(ticker.FuncFormatter(lambda value, _: f"{value:g}"))
    axis.yaxis.set_minor_formatter(ticker.NullFormatter())
    if fleet:
        axis.set_xticks([0], ["empty disk; pip-accel with the fleet's bucket"])
    else:
        axis.set_xticks([0, 1], ["cold (empty caches)", "warm (second run)"])
    axis.set_ylabel("seconds (log scale)")
    axis.set_title(f"{data['set']}{' (fleet)' if fleet else ''}")
    axis.legend(fontsize=8)


def _seconds(value: float) -> str:
    """A bar's label: one decimal, two significant digits below one second."""
    return f"{value:.2g}" if value < 1 else f"{value:.1f}"


def main() -> None:
    """Read the JSON files named on the command line and draw them."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("figures", type=Path, nargs="+")
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args()
    draw([json.loads(path.read_text()) for path in args.figures], args.output)


if __name__ == "__main__":
    main()
