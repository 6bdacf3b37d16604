"""Kinds that move channels without arithmetic: a channel split (one part of
`x.chunk(parts, dim=1)`, a view) and a channel shuffle (ShuffleNet's view, transpose,
contiguous and view back: a copy)."""

from __future__ import annotations

from inception_cost.core.kinds import arguments as a
from inception_cost.core.kinds.arguments import Arg
from inception_cost.core.kinds.base import Args, Kind
from inception_cost.core.shapes import Shape
from inception_cost.errors import ShapeError
from inception_cost.source.arguments import ArgReader


class ChannelSplit(Kind):
    """One of `parts` equal slices of the input's channels, in order: a view, as
    `x.chunk(2, dim=1)` is in PyTorch (ShuffleNetV2's unit keeps one half and runs a branch
    on the other). Written first in a concat's branch."""

    name = "channel_split"
    arguments: tuple[Arg, ...] = (a.NAME, a.PART, a.PARTS)
    view = True

    def parse(self, r: ArgReader) -> Args:
        r.check_keys(self.keys)
        part, parts = r.positive_int("part"), r.positive_int("parts", 2)
        if part > parts:
            raise r.error("part", f"'part' {part} is past the last of {parts} parts")
        return dict(part=part, parts=parts)

    def out_shape(self, a: Args, shape: Shape, path: str) -> Shape:
        h, w, c = shape
        if c % a["parts"]:
            raise ShapeError(f"channel split of {c} channels into {a['parts']} equal parts: needs a multiple"
                             f" of {a['parts']}", path=path)
        return (h, w, c // a["parts"])

    def describe(self, a: Args) -> str:
        return f"split {a['part']}/{a['parts']}"


class ChannelShuffle(Kind):
    """ShuffleNet's channel shuffle: the channels as `groups` x C/groups, transposed (view,
    transpose(1, 2), contiguous, view back). No arithmetic, so no convention counts it, but
    `contiguous()` copies the whole tensor: one copy kernel, a new tensor."""

    name = "channel_shuffle"
    arguments: tuple[Arg, ...] = (a.NAME, a.SHUFFLE_GROUPS)
    copy = True

    def parse(self, r: ArgReader) -> Args:
        r.check_keys(self.keys)
        return dict(groups=r.positive_int("groups", 2))

    def out_shape(self, a: Args, shape: Shape, path: str) -> Shape:
        if shape[2] % a["groups"]:
            raise ShapeError(f"channel shuffle of {shape[2]} channels in {a['groups']} groups: needs a"
                             f" multiple of {a['groups']}", path=path)
        return shape

    def describe(self, a: Args) -> str:
        return f"channel shuffle g{a['groups']}"
