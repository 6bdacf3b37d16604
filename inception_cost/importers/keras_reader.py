"""Reading a Keras model config into the imported graph, with the standard library only:
`model.to_json()` (Keras 2 or 3, functional or Sequential) or a `.keras` file (a zip
whose config.json is the same document; its weights are never opened).

Layers become the engine's kinds with the arguments Keras gives them; a batch norm
declares its `scale` (gamma), so `-c keras` counts what `model.count_params()` does.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections import deque
from typing import Any

from inception_cost.errors import ArchitectureError
from inception_cost.importers.graph import NO_PADS, Graph, Pads, yaml_padding
from inception_cost.source.files import open_regular, read_regular

MAX_CONFIG_BYTES = 50_000_000
ACTIVATIONS = {"relu": "relu", "relu6": "relu6", "sigmoid": "sigmoid", "hard_sigmoid": "hard_sigmoid",
               "swish": "swish", "silu": "swish", "tanh": "tanh", "gelu": "gelu", "elu": "elu",
               "leaky_relu": "leaky_relu", "hard_swish": "hard_swish", "hard_silu": "hard_swish"}


def read(path: str, skip_unknown: bool = False) -> Graph:
    document = _document(path)
    try:
        return _read(document, path, skip_unknown)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:  # a malformed config
        raise ArchitectureError(f"a malformed Keras config ({_what(exc)})", file=path) from None


def _read(document: Any, path: str, skip_unknown: bool) -> Graph:
    model = document.get("config") if isinstance(document, dict) else None
    kind = document.get("class_name") if isinstance(document, dict) else None
    if not isinstance(model, dict) or not isinstance(model.get("layers"), list):
        raise ArchitectureError("not a Keras model config (expected class_name and config.layers, as"
                                " model.to_json() writes)", file=path)
    reader = Reader(path, skip_unknown, str(model.get("name") or os.path.splitext(os.path.basename(path))[0]))
    layers = model["layers"]
    if kind == "Sequential":
        _sequential(layers)
    for layer in _topological(layers, path):
        reader.read(layer)
    outputs = model.get("output_layers") or [[layers[-1].get("name") or layers[-1]["config"]["name"]]]
    if outputs and not isinstance(outputs[0], list):
        outputs = [outputs]
    if len(outputs) != 1:
        raise ArchitectureError(f"the model has {len(outputs)} outputs; inception-cost reads a network"
                                " with one", file=path)
    if reader.graph is None:
        raise ArchitectureError("the model has no InputLayer", file=path)
    reader.graph.output = reader.output(str(outputs[0][0]))
    reader.graph.source = f"imported from {os.path.basename(path)} (Keras {kind or 'model'} config)"
    reader.graph.notes += reader.notes
    return reader.graph


def _document(path: str) -> Any:
    keras = path.lower().endswith(".keras")
    # through the one safe reader of user files; of an archive only its config is read
    if not keras:
        raw = read_regular(path, MAX_CONFIG_BYTES, what="a Keras config", expected="a Keras JSON config")
    try:
        if keras:
            with open_regular(path, what="a Keras model", expected="a .keras archive") as handle, \
                    zipfile.ZipFile(handle) as archive:
                try:
                    info = archive.getinfo("config.json")
                except KeyError:
                    raise ArchitectureError("a .keras file needs a config.json inside", file=path) from None
                if info.file_size > MAX_CONFIG_BYTES:
                    raise ArchitectureError(f"config.json is more than {MAX_CONFIG_BYTES:,} bytes", file=path)
                with archive.open(info) as member:
                    raw = member.read(MAX_CONFIG_BYTES + 1)  # what it says of its size may be a lie
                if len(raw) > MAX_CONFIG_BYTES:
                    raise ArchitectureError(f"config.json is more than {MAX_CONFIG_BYTES:,} bytes", file=path)
        return json.loads(raw.decode("utf-8"))
    except ArchitectureError:
        raise
    except (zipfile.BadZipFile, UnicodeDecodeError, ValueError, RecursionError, OSError,
            NotImplementedError) as exc:
        what = "zip archive" if keras else "JSON document"
        raise ArchitectureError(f"not a readable {what} ({str(exc).splitlines()[0] if str(exc) else exc})",
                                file=path) from None


def _name(layer: dict[str, Any]) -> str:
    config = layer.get("config") or {}
    return str(layer.get("name") or config.get("name") or layer.get("class_name", "layer"))


def _sequential(layers: list[Any]) -> None:
    """A Sequential model's layers each read the one before (an input layer is made from the
    first layer's batch_input_shape where Keras 2 left it out)."""
    if layers and isinstance(layers[0], dict) and layers[0].get("class_name") != "InputLayer":
        shape = (layers[0].get("config") or {}).get("batch_input_shape")
        layers.insert(0, {"class_name": "InputLayer", "name": "input", "config": {"batch_shape": shape}})
    for before, layer in zip(layers, layers[1:]):
        if isinstance(layer, dict):
            layer["inbound_nodes"] = [[[_name(before), 0, 0, {}]]]


def _inbound(layer: dict[str, Any], path: str) -> list[str]:
    """The names of the layers this layer reads (Keras 3's keras_history or Keras 2's lists)."""
    nodes = layer.get("inbound_nodes") or []
    if len(nodes) > 1:
        raise ArchitectureError(f"layer '{_name(layer)}' is called {len(nodes)} times (a shared layer);"
                                " inception-cost reads each layer once", file=path)
    if not nodes:
        return []
    names: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if value.get("class_name") == "__keras_tensor__":
                names.append(str(value["config"]["keras_history"][0]))
            else:
                for item in value.values():
                    walk(item)
        elif isinstance(value, list):
            if len(value) >= 3 and isinstance(value[0], str) and isinstance(value[1], int):
                names.append(value[0])  # Keras 2: [name, node index, tensor index, kwargs]
            else:
                for item in value:
                    walk(item)

    node = nodes[0]
    try:
        walk(node.get("args", []) if isinstance(node, dict) else node)
    except (KeyError, TypeError, IndexError, AttributeError) as exc:
        raise ArchitectureError(f"cannot read the layers it reads ({_what(exc)})", file=path,
                                path=f"layer '{_name(layer)}'") from None
    return names


def _what(exc: Exception) -> str:
    """A malformed value, said in a few words: the missing key or the error's message."""
    return f"no '{exc.args[0]}'" if isinstance(exc, KeyError) and exc.args else str(exc).splitlines()[0][:200]


def _topological(layers: list[Any], path: str) -> list[dict[str, Any]]:
    """The layers in an order where every layer comes after those it reads (Kahn's
    algorithm); a cycle or a missing layer is an error naming a layer."""
    if not all(isinstance(layer, dict) for layer in layers):
        raise ArchitectureError("every layer of config.layers must be a mapping", file=path)
    reads = [_inbound(layer, path) for layer in layers]
    names = [_name(layer) for layer in layers]
    waiting = [len(r) for r in reads]
    readers: dict[str, list[int]] = {}
    for i, inputs in enumerate(reads):
        for name in inputs:
            readers.setdefault(name, []).append(i)
    ready = deque(i for i, count in enumerate(waiting) if count == 0)  # in the config's order
    ordered: list[dict[str, Any]] = []
    while ready:
        i = ready.popleft()
        ordered.append(layers[i])
        for j in readers.get(names[i], []):
            waiting[j] -= 1
            if waiting[j] == 0:
                ready.append(j)
    if len(ordered) < len(layers):
        done = {_name(layer) for layer in ordered}
        stuck = next(i for i, count in enumerate(waiting) if count > 0)
        missing = next(n for n in reads[stuck] if n not in done)
        why = "a cycle" if missing in names else "no such layer"
        raise ArchitectureError(f"reads '{missing}': {why}", file=path, path=f"layer '{names[stuck]}'")
    return ordered


class Reader:
    def __init__(self, path: str, skip_unknown: bool, name: str) -> None:
        self.path = path
        self.skip_unknown = skip_unknown
        self.name = name
        self.graph: Graph | None = None
        self.data: dict[str, int] = {}
        self.pads: dict[str, Pads] = {}
        self.notes: list[str] = []

    def fail(self, layer: dict[str, Any], message: str) -> ArchitectureError:
        return ArchitectureError(message, file=self.path, path=f"layer '{_name(layer)}'")

    def output(self, name: str) -> int:
        if name not in self.data:
            raise ArchitectureError(f"the output layer '{name}' is not a layer of the model", file=self.path)
        return self.data[name]

    def read(self, layer: dict[str, Any]) -> None:
        from inception_cost.importers.keras_layers import HANDLERS

        kind = str(layer.get("class_name"))
        config = layer.get("config") or {}
        if kind == "InputLayer":
            self._input(layer, config)
            return
        if self.graph is None:
            raise self.fail(layer, "the model has no InputLayer before this layer")
        inputs = _inbound(layer, self.path)
        if not inputs:
            raise self.fail(layer, "reads no layer")
        handler = HANDLERS.get(kind)
        if config.get("data_format") == "channels_first":
            raise self.fail(layer, "channels_first layers are not read (Keras's default is channels_last)")
        if handler is None:
            self.unknown(layer, kind, inputs)
            return
        try:
            handler(self, layer, config, inputs)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:  # a malformed config
            raise self.fail(layer, f"cannot read its {kind} config ({_what(exc)})") from None

    def _input(self, layer: dict[str, Any], config: dict[str, Any]) -> None:
        shape = config.get("batch_shape") or config.get("batch_input_shape")
        if not isinstance(shape, list) or len(shape) != 4:
            raise self.fail(layer, f"the input must be an image batch (None, H, W, C), got {shape}")
        h, w, c = shape[1:]
        for axis, value in (("height", h), ("width", w), ("channels", c)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise self.fail(layer, f"the input has a dynamic {axis} ({value}): build the model with a"
                                       " fixed input_shape")
        if self.graph is not None:
            raise self.fail(layer, "the model has more than one input; inception-cost reads one")
        self.graph = Graph(self.path, self.name, (h, w, c), _name(layer), split=split, joiner="_")
        self.data[_name(layer)] = 0

    # -- for the layer handlers --

    def source(self, layer: dict[str, Any], name: str) -> int:
        if name in self.pads:
            raise self.fail(layer, "reads a ZeroPadding2D output; inception-cost folds a padding only into"
                                   " the conv or pool that reads it")
        return self.data[name]

    def padded(self, name: str) -> tuple[int, Pads]:
        return self.data[name], self.pads.get(name, NO_PADS)

    def add(self, layer: dict[str, Any], kind: str, args: dict[str, Any], source: int,
            name: str | None = None) -> int:
        assert self.graph is not None
        op = self.graph.layer(name or _name(layer), kind, args, source, str(layer.get("class_name")))
        self.data[_name(layer)] = op
        return op

    def unknown(self, layer: dict[str, Any], kind: str, inputs: list[str]) -> None:
        if not self.skip_unknown:
            raise self.fail(layer, f"unknown layer '{kind}' (--skip-unknown counts such layers as zero)")
        if len(inputs) != 1:
            raise self.fail(layer, f"cannot skip '{kind}': it reads {len(inputs)} layers")
        assert self.graph is not None
        self.graph.skipped[kind] = self.graph.skipped.get(kind, 0) + 1
        self.add(layer, "identity", {}, self.source(layer, inputs[0]))


def split(name: str, source: str) -> tuple[tuple[str, ...], str]:
    """'conv2_block1_1_conv' -> the groups ('conv2', 'block1', '1', 'conv'); a name Keras
    made up ('conv2d_5') has none."""
    from inception_cost.importers.structure import meaningful

    if not meaningful(name, source):
        return (), name
    return tuple(name.split("_")), name


def padding_of(config: dict[str, Any], extra: Pads, reader: Reader, layer: dict[str, Any]) -> Any:
    padding = str(config.get("padding", "valid")).lower()
    if padding == "same":
        if extra != NO_PADS:
            raise reader.fail(layer, "a ZeroPadding2D before a 'same'-padded layer is not read")
        return "same"
    if padding != "valid":
        raise reader.fail(layer, f"padding '{padding}' is not read (same or valid)")
    return yaml_padding(extra)
