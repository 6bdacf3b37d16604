"""The counting convention every report states in its header.

One convention for now, the tool's default; the rules live with the layer kinds
(`kinds.py`) and this text must say exactly what they count.
"""

DEFAULT = (
    "MACs: multiply-accumulates of convolutions (kh * kw * Cin/groups * Cout * Hout * Wout)"
    " and linear layers (in * out); 1 MAC = 2 FLOPs.",
    "Not counted as MACs: biases, batch norm, activations, pooling, dropout, softmax,"
    " concatenation, residual additions.",
    "Parameters: weights + biases + batch-norm scale and shift (running statistics are not"
    " parameters); batch 1.",
)
