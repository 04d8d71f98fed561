"""The results table as the admin page shows it: figures formatted once, here, not in the
template (percent with one decimal, intervals, the difference to the control and its p)."""

from dataclasses import dataclass

from merchandising.experiments.stats import METRICS, Results, Test


@dataclass(frozen=True)
class Cell:
    label: str
    value: str
    interval: str
    change: str  # "+1.2 pts (p 0.03)"; empty for the control
    tone: str  # "better", "worse" or "" (not significant)
    deciding: bool


@dataclass(frozen=True)
class Row:
    name: str
    is_control: bool
    is_leader: bool
    summary: str
    searches: int
    cells: list[Cell]
    position: str
    position_interval: str
    mde: str


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def p_text(p: float | None) -> str:
    if p is None:
        return "–"
    return "< 0.001" if p < 0.001 else f"{p:.2g}"


def _cell(label: str, rate, test: Test | None, deciding: bool) -> Cell:
    interval = "" if rate.low is None else f"{100 * rate.low:.1f}–{100 * rate.high:.1f}%"
    change, tone = "", ""
    if test is not None and test.difference is not None:
        change = f"{100 * test.difference:+.1f} pts · p {p_text(test.adjusted_p)}"
        if test.significant:
            tone = "better" if test.difference > 0 else "worse"
    return Cell(label, _pct(rate.value), interval, change, tone, deciding)


def rows(results: Results, summaries: dict[str, str]) -> list[Row]:
    out = []
    for stat in results.variants:
        position = stat.click_position
        out.append(
            Row(
                name=stat.name,
                is_control=stat.is_control,
                is_leader=results.verdict.winner == stat.name,
                summary=summaries.get(stat.name, ""),
                searches=stat.searches,
                cells=[
                    _cell(
                        label, stat.rates[key], stat.tests.get(key), key == results.verdict.metric
                    )
                    for key, label in METRICS.items()
                ],
                position="–" if position.value is None else f"{position.value:.2f}",
                position_interval=(
                    "" if position.low is None else f"{position.low:.2f}–{position.high:.2f}"
                ),
                mde=(
                    "baseline"
                    if stat.is_control
                    else ("–" if stat.mde is None else f"±{100 * stat.mde:.1f} pts")
                ),
            )
        )
    return out


def headline(results: Results, status: str) -> tuple[str, str]:
    """The verdict box: a short headline, then the verdict's sentence without repeating it."""
    verdict = results.verdict
    prefix = "Not yet significant: "
    detail = verdict.text.removeprefix(prefix)
    if verdict.significant:
        return "Significant", detail
    if status == "ended":
        return "Ended without a significant difference", detail[:1].upper() + detail[1:]
    return "Not yet significant", detail[:1].upper() + detail[1:]
