"""Why the counting conventions differ: each term's count and what each convention adds."""

from __future__ import annotations

from inception_cost.core.analysis import Analysis
from inception_cost.core.terms import OPERATION_TERMS, PARAMETER_TERMS
from inception_cost.reports.common import Row, meta_of, title_of
from inception_cost.reports.model import EXTRA, INT, NAME, Column, Report, Section


def explain_report(analyses: list[Analysis]) -> Report:
    """One row per counted term, one column per convention: what each adds to its total.

    `analyses` are the same network analysed under each convention.
    """
    first = analyses[0]
    counts = first.term_totals()
    sections = []
    for what, terms in (("operations", OPERATION_TERMS), ("parameters", PARAMETER_TERMS)):
        rows: list[Row] = []
        for term in terms:
            row: Row = {"term": term.description, "count": counts[term]}
            for a in analyses:
                factor = a.convention.factor if what == "operations" else 1
                row[a.convention.name] = a.convention.count(term, counts[term]) * factor
            if counts[term]:  # a term of this network, counted by some convention or by none
                rows.append(row)
        total: Row = {"term": "total", **{a.convention.name: (a.root.macs if what == "operations"
                                                              else a.root.params) for a in analyses}}
        columns = [Column("term", "counted term", priority=NAME), Column("count", "count", INT, EXTRA),
                   *[Column(a.convention.name, f"{a.convention.name} ({a.convention.unit.value})"
                            if what == "operations" else a.convention.name, INT) for a in analyses]]
        sections.append(Section(title=f"{title_of(first)}: {what} by convention", columns=columns,
                                rows=rows, total=total))
    base = analyses[0]
    notes = sections[0].notes
    for a in analyses[1:]:
        diff = a.root.macs - base.root.macs
        notes.append(f"{a.convention.name}: {a.root.macs:,} {a.convention.unit.value}"
                     f" ({'+' if diff >= 0 else ''}{diff:,} against {base.convention.name}).")
    notes.append("Each cell is what the convention adds for that term (weight x count); a"
                 " blank or 0 means the convention does not count it.")
    lines = [f"{a.convention.name}: {a.convention.summary}" for a in analyses]
    return Report(title=f"{title_of(first)}: why the conventions differ", convention=lines,
                  totals={a.convention.name: {"macs": a.root.macs, "params": a.root.params,
                                              "unit": a.convention.unit.value} for a in analyses},
                  sections=sections, meta={**meta_of(first),
                                           "conventions": [a.convention.name for a in analyses]})
