"""The base of every layer kind: its argument, shape and cost rules, its terms and flags."""

from __future__ import annotations

from collections.abc import Callable, Collection
from functools import cached_property
from typing import Any

from inception_cost.core import columns as col
from inception_cost.core.kinds.arguments import IN_PLACE_ACTIVATIONS, NAME, Arg
from inception_cost.core.shapes import Shape
from inception_cost.core.terms import Term
from inception_cost.source.arguments import ArgReader

Args = dict[str, Any]
Rule = Callable[[], col.Column]


class Kind:
    """Base: a kind that changes nothing and costs nothing."""

    name = ""
    aliases: tuple[str, ...] = ()
    arguments: tuple[Arg, ...] = (NAME,)  # the arguments a file may give
    produces: tuple[Term, ...] = ()  # the terms `rules` may give
    weighted = False  # a layer with weights: counts towards depth
    view = False  # in inference its output is a view of its input: it moves no memory
    copy = False  # it copies its input into a new tensor without arithmetic: one copy kernel, nothing saved
    factorizable = False  # the factorisation rules may rewrite it
    internal = False  # made by the analysis (residual additions), not written in files

    @cached_property
    def keys(self) -> tuple[str, ...]:
        """The argument names (read for every layer of a file: made once per kind)."""
        return tuple(a.name for a in self.arguments)

    def parse(self, r: ArgReader) -> Args:
        r.check_keys(self.keys)
        return {}

    def out_shape(self, a: Args, shape: Shape, path: str) -> Shape:
        return shape

    def fields(self, a: Args, in_shape: Shape, out_shape: Shape) -> dict[str, int]:
        """The LayerTable fields of one layer of this kind."""
        h, w, c = in_shape
        ho, wo, co = out_shape
        return dict(cin=c, cout=co, hin=h, win=w, hout=ho, wout=wo, groups=1)

    def elements_read(self, row: dict[str, int]) -> int:
        """The input elements one layer of this kind reads at least (memory traffic)."""
        return row["hin"] * row["win"] * row["cin"]

    # What a layer keeps alive while it runs (estimates/memory.py's inference peaks)

    def in_place(self, a: Args) -> bool:
        """Whether it may write its output over its input (a ReLU): no new tensor."""
        return False

    def intermediate(self, a: Args, in_shape: Shape, out_shape: Shape) -> int:
        """Elements of a tensor it makes on the way to its output, alive while the rest of
        it runs (a separable conv's depthwise output); 0: one kernel."""
        return 0

    def second_output(self, a: Args) -> bool:
        """Whether eager PyTorch writes its output twice, both alive at once: a batch norm
        run unfolded after a conv, or the conv's own activation where it cannot run in place."""
        return False

    # What a training step keeps for its backward pass (estimates/training.py)

    def saves_input(self, a: Args) -> bool:
        """Whether autograd saves its input for the backward pass, a layer without MACs whose
        parameters' gradient reads it (a layer norm, a layer scale); the training walk's own
        rules cover convs, linear layers, batch norm, activations, pools and dropout."""
        return False

    def saved_bytes(self, a: Args, in_shape: Shape) -> int:
        """Bytes of a fixed size, whatever the dtype, it saves per image beside its input
        (a layer norm's fp32 mean and inverse deviation per position)."""
        return 0

    def rules(self, c: col.Columns) -> dict[Term, Rule]:
        """Column rules: term -> a function giving one value per row (terms in `produces`)."""
        return {}

    def terms(self, c: col.Columns, wanted: Collection[Term] | None = None) -> col.TermColumns:
        """The columns of the terms in `wanted` (default: all it produces); a term nobody
        wants is not computed."""
        return {t: rule() for t, rule in self.rules(c).items() if wanted is None or t in wanted}

    def describe(self, a: Args) -> str:
        return self.name.replace("_", " ")


def _lazy(rule: Callable[..., col.Column], *args: Any) -> Rule:
    """A column computed on first use and shared by the terms that need it."""
    cached: list[col.Column] = []

    def get() -> col.Column:
        if not cached:
            cached.append(rule(*args))
        return cached[0]

    return get


# What PyTorch runs for each activation: the torch.nn.functional functions most tools hook
# (F.relu, F.relu6, F.elu, F.gelu, F.silu), the classic module classes (ReLU, ReLU6, ELU,
# LeakyReLU, GELU), and the modules whose forward calls one of those functions (nn.ReLU6
# calls F.hardtanh, nn.Sigmoid torch.sigmoid: neither).
COMMON_FUNCTIONS = frozenset(("relu", "relu6", "elu", "gelu", "silu", "swish"))
CLASSIC_MODULES = frozenset(("relu", "relu6", "elu", "leaky_relu", "gelu"))
MODULES_CALLING_COMMON = frozenset(("relu", "elu", "gelu", "silu", "swish"))


def _second_output(a: Args) -> bool:
    """A conv's or linear layer's unfolded batch norm, or its own activation out of place."""
    function = a.get("activation")
    return bool(a.get("batch_norm")) or function not in (None, "none") and function not in IN_PLACE_ACTIVATIONS


def _has_activation(a: Args) -> int:
    """A conv's or linear layer's own activation, a function call: 0 none, 1 a common
    function, 2 another (sigmoid, tanh, leaky_relu, hard_*)."""
    function = a.get("activation")
    if function in (None, "none"):
        return 0
    return 1 if function in COMMON_FUNCTIONS else 2


def _scale_flag(r: ArgReader, key: str) -> int:
    """A batch norm's `scale`: 0 when not said, 1 true, 2 false (Keras's gamma)."""
    if r.args.get(key) is None:
        return 0
    return 1 if r.flag(key, True) else 2


def _batch_norm_rules(c: col.Columns) -> dict[Term, Rule]:
    cached: dict[str, col.Column] = {}

    def column(name: str) -> col.Column:
        if not cached:
            cached.update(col.batch_norm(c["cout"], c["bn"], c["bn_scale"]))
        return cached[name]

    return {Term.BN_PARAMS: lambda: column("params"), Term.BN_CHANNELS: lambda: column("channels"),
            Term.BN_SCALE_DECLARED: lambda: column("declared")}


BATCH_NORM_TERMS = (Term.BN_PARAMS, Term.BN_CHANNELS, Term.BN_SCALE_DECLARED)
