"""A visual evaluation as a text table, a JSON file and a self-contained HTML report.

The HTML carries its plots inline (PNG, base64) so that it can be mailed or attached to a
ticket as one file: recall@k curves per task and model, and recall@10 per category.
"""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

from search.relevance.visual import CURVE_KS, METRICS, VisualEvaluation


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _p(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


def format_table(evaluation: VisualEvaluation) -> str:
    lines = [
        "models: " + "; ".join(f"{label} = {name}" for label, name in evaluation.models.items())
    ]
    for task in evaluation.tasks:
        runs = evaluation.runs.get(task.name, {})
        lines += [
            "",
            f"{task.name}: {len(task.queries)} queries, gallery of {len(task.gallery)} images",
        ]
        lines += [f"  note: {note}" for note in task.notes]
        for run in runs.values():
            lines += [f"  note ({run.model}): {note}" for note in run.notes]
        header = f"  {'model':<10}" + "".join(f"{m:>11}" for m in METRICS)
        lines += [header, "  " + "-" * (len(header) - 2)]
        for label, run in runs.items():
            lines.append(
                f"  {label:<10}" + "".join(f"{_number(run.summary[m]):>11}" for m in METRICS)
            )
        differences = evaluation.comparisons.get(task.name)
        if differences:
            lines.append(
                f"  {'delta':<10}" + "".join(f"{_number(d.delta):>11}" for d in differences)
            )
            lines.append(
                f"  {'p (paired)':<10}" + "".join(f"{_p(d.p_value):>11}" for d in differences)
            )
        lines.append(f"  recall@10 by category ({', '.join(runs)})")
        tables = {label: run.by_category() for label, run in runs.items()}
        first = next(iter(tables.values()), {})
        for category, row in first.items():
            figures = " ".join(
                f"{_number(tables[label].get(category, {}).get('recall@10')):>8}"
                for label in tables
            )
            lines.append(f"    {category:<24} n={int(row['queries'] or 0):<5} {figures}")
    return "\n".join(lines)


def write_json(evaluation: VisualEvaluation, path: Path) -> None:
    path.write_text(json.dumps(evaluation.as_dict(), indent=2), encoding="utf-8")


def _figure_png(figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _plots(evaluation: VisualEvaluation, task_name: str) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")  # no display on servers; must precede pyplot
    import matplotlib.pyplot as plt

    runs = evaluation.runs.get(task_name, {})
    plots = []
    figure, axes = plt.subplots(figsize=(6, 3.6))
    for label, run in runs.items():
        curve = run.recall_curve()
        points = [(k, value) for k in CURVE_KS if (value := curve[k]) is not None]
        axes.plot([k for k, _ in points], [v for _, v in points], marker="o", label=label)
    axes.set_xscale("log")
    axes.set_xticks(list(CURVE_KS), [str(k) for k in CURVE_KS])
    axes.set_ylim(0, 1.02)
    axes.set_xlabel("k")
    axes.set_ylabel("recall@k")
    axes.set_title(f"{task_name}: recall@k")
    axes.grid(alpha=0.3)
    axes.legend()
    plots.append((f"{task_name} recall@k", _figure_png(figure)))
    plt.close(figure)

    tables = {label: run.by_category() for label, run in runs.items()}
    categories = sorted({c for table in tables.values() for c in table})
    if categories:
        figure, axes = plt.subplots(figsize=(max(6, 0.55 * len(categories) * len(tables)), 3.8))
        width = 0.8 / max(1, len(tables))
        for offset, (label, table) in enumerate(tables.items()):
            values = [table.get(c, {}).get("recall@10") or 0.0 for c in categories]
            axes.bar(
                [i + offset * width for i in range(len(categories))], values, width, label=label
            )
        axes.set_xticks(
            [i + width * (len(tables) - 1) / 2 for i in range(len(categories))],
            categories,
            rotation=45,
            ha="right",
        )
        axes.set_ylim(0, 1.02)
        axes.set_ylabel("recall@10")
        axes.set_title(f"{task_name}: recall@10 by category")
        axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1))  # beside the bars, not over them
        plots.append((f"{task_name} by category", _figure_png(figure)))
        plt.close(figure)
    return plots


def write_html(evaluation: VisualEvaluation, path: Path) -> None:
    e = html.escape
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<title>Image search evaluation</title><style>",
        "body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem}",
        "table{border-collapse:collapse;margin:.5rem 0 1rem}td,th{padding:.25rem .6rem;",
        "border-bottom:1px solid #ddd;text-align:right}th:first-child,td:first-child{text-align:left}",
        "img{max-width:100%}.note{color:#555}</style></head><body>",
        "<h1>Image search evaluation</h1><ul>",
        *(f"<li><b>{e(label)}</b>: {e(name)}</li>" for label, name in evaluation.models.items()),
        "</ul>",
    ]
    for task in evaluation.tasks:
        runs = evaluation.runs.get(task.name, {})
        parts.append(
            f"<h2>{e(task.name)}</h2><p>{len(task.queries)} queries, gallery of "
            f"{len(task.gallery)} images.</p>"
        )
        parts += [f"<p class='note'>{e(note)}</p>" for note in task.notes]
        parts.append("<table><tr><th>model</th>" + "".join(f"<th>{m}</th>" for m in METRICS))
        for label, run in runs.items():
            parts.append(
                f"<tr><td>{e(label)}</td>"
                + "".join(f"<td>{_number(run.summary[m])}</td>" for m in METRICS)
                + "</tr>"
            )
        differences = evaluation.comparisons.get(task.name)
        if differences:
            parts.append(
                "<tr><td>difference</td>"
                + "".join(f"<td>{_number(d.delta)}</td>" for d in differences)
                + "</tr><tr><td>p (Wilcoxon, paired)</td>"
                + "".join(f"<td>{_p(d.p_value)}</td>" for d in differences)
                + "</tr>"
            )
        parts.append("</table>")
        for title, png in _plots(evaluation, task.name):
            parts.append(
                f"<figure><img alt='{e(title)}' src='data:image/png;base64,{png}'></figure>"
            )
    parts.append("</body></html>")
    path.write_text("\n".join(parts), encoding="utf-8")
