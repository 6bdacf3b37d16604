"""The registries agree: kinds, terms, conventions, and the command line's choices."""

from __future__ import annotations

import pytest

from inception_cost.cli import compare as compare_command
from inception_cost.cli import options
from inception_cost.cli import sweep as sweep_command
from inception_cost.core import conventions
from inception_cost.core.columns import FIELDS
from inception_cost.core.kinds import CANONICAL, KINDS
from inception_cost.core.terms import OPERATION_TERMS, PARAMETER_TERMS, Group, Term
from inception_cost.estimates.memory import Dtype
from inception_cost.reports.render import Format
from inception_cost.reports.sweep import SortKey
from inception_cost.transforms.factorize import Rule

ONE_ROW = {name: [2] for name in FIELDS}


@pytest.mark.parametrize("kind", list(CANONICAL.values()), ids=lambda k: k.name)
def test_each_kind_computes_exactly_the_terms_it_declares(kind):
    assert set(kind.rules(ONE_ROW)) == set(kind.produces)
    assert all(isinstance(t, Term) for t in kind.produces)
    assert "name" in kind.keys
    wanted = set(kind.produces[:1])
    assert set(kind.terms(ONE_ROW, wanted)) == wanted  # a term nobody wants is not computed


def test_file_names_reach_every_kind_but_the_internal_ones():
    assert {k.name for k in KINDS.values()} == {k.name for k in CANONICAL.values() if not k.internal}
    for kind in CANONICAL.values():
        assert all(KINDS[alias] is kind for alias in kind.aliases)


def test_every_term_is_described_produced_and_grouped():
    produced = {t for k in CANONICAL.values() for t in k.produces}
    for term in Term:
        assert term.description and term in produced
    assert set(OPERATION_TERMS) | set(PARAMETER_TERMS) == set(Term)
    assert all(t.group is Group.PARAMETER for t in PARAMETER_TERMS)


@pytest.mark.parametrize("convention", list(conventions.PRESETS.values()), ids=lambda c: c.name)
def test_conventions_weigh_registered_terms_of_the_right_group(convention):
    for term in convention.ops:
        assert isinstance(term, Term) and term.group is Group.OPERATION
    for table in (convention.params, convention.trainable or {}):
        for term in table:
            assert isinstance(term, Term) and term.group is Group.PARAMETER
    assert convention.header()[0].startswith(f"Convention '{convention.name}'")


def test_command_line_choices_are_the_enums():
    assert options.FORMATS == tuple(f.value for f in Format)
    assert compare_command.RULES == tuple(r.value for r in Rule)
    assert options.CONVENTIONS == tuple(conventions.PRESETS)
    assert sweep_command.SORT_KEYS == tuple(k.value for k in SortKey)
    dtype = next(p for p in compare_command.compare.params if p.name == "dtype")
    assert tuple(dtype.type.choices) == tuple(d.value for d in Dtype)


def test_explain_covers_every_term_of_every_convention():
    from inception_cost import api
    from inception_cost.core.analysis import analyse
    from inception_cost.reports.explain import explain_report

    network = api.load("googlenet-torchvision")
    report = explain_report([analyse(network, convention=c) for c in conventions.PRESETS.values()])
    described = {r["term"] for s in report.sections for r in s.rows}
    assert described <= {t.description for t in Term}


def test_structures_are_registered_once_by_key_node_and_role():
    from inception_cost.core.tree import Role
    from inception_cost.graph import nodes
    from inception_cost.structures import BY_ITEM, BY_ROLE, STRUCTURES

    assert len(STRUCTURES) == len(BY_ITEM) == len(BY_ROLE)
    for key, structure in STRUCTURES.items():
        assert structure.key == key and BY_ITEM[structure.item_type] is structure
        assert BY_ROLE[structure.role] is structure and isinstance(structure.role, Role)
        assert hasattr(structure.item_type, "parts") and hasattr(structure.item_type, "with_parts")
        assert key not in KINDS  # a structure's key is never a layer kind's
    # every graph node class but the layer is a structure's
    graph_classes = {nodes.Concat, nodes.Add, nodes.Residual, nodes.Gate, nodes.Module, nodes.Auxiliary}
    assert set(BY_ITEM) == graph_classes
