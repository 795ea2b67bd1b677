"""graph.py -- the whole forward graph of a PyTorch model, as bitsim layers (models/FORMAT.md).

How it sees everything: one forward pass on an example batch runs under a TorchFunctionMode
(torch.overrides, torch >= 1.13), which is handed every torch function and Tensor method the
model calls -- `out += identity`, `F.relu`, `torch.flatten`, `torch.matmul`, softmax -- while
forward pre/post hooks on every module keep the stack of module paths the call happens in.
Calls inside a *leaf* module (a type in LEAF_MODULES: Conv2d, Linear, BatchNorm2d, ...) are
that module's own business and are not looked at one by one; the module becomes one layer.

Why not torch.fx: symbolic tracing stops at the first Python branch on a tensor value, and
torch's own nn.TransformerEncoderLayer.forward branches on `src.dim()` (TraceError in torch
1.13); the function mode records what the forward actually ran, control flow included, and
sees the same functional ops fx would.  (Module hooks alone, the old capture, miss every
functional op; they remain the fallback only for torch builds without TorchFunctionMode.)

Names: a module layer is named by its module path as PyTorch spells it (`layer1.0.conv1`); a
functional op by the path of the module whose forward called it plus the op (`layer1.0.add`,
or `add` at the top); the k-th use (k >= 2) of a name gets `:k` (`layer1.0.relu:2`, a ReLU
module called twice).  Which layer a tensor came from is tracked by tensor identity; views
(flatten, reshape, permute, indexing, ...) are free and keep their producer.

Every op is either mapped to a bitsim layer (conv, linear, matmul, norm, pool, act, add,
softmax) or reported, once per op type with its call count and its MACs or elements per
sample, in `Graph.unsupported` (written as comments into the model file and warned about).

Shapes follow bitsim's own propagation (models/FORMAT.md): a layer's per-sample shape is what
bitsim computes for it (linear gives 1 x rows x out, ...), so consecutive lines chain.  When a
MAC layer's real input has a layout bitsim cannot reach from the layer above (a reshape), the
layer gets a fresh `input=CxHxW` and the report says so.
"""

import math
import warnings

import torch
import torch.nn as nn

try:
    from torch.overrides import TorchFunctionMode
except ImportError:     # torch < 1.13: module hooks only (see the docstring)
    TorchFunctionMode = None

MAC_KINDS = ("conv", "linear", "matmul")


def per_sample(shape):
    """(C, H, W) of a batched shape: NCHW -> CHW, N x T x D -> 1 x T x D, N x F -> F x 1 x 1."""
    dims = [int(d) for d in shape[1:]]
    if len(dims) == 3:
        return tuple(dims)
    if len(dims) == 2:
        return (1, dims[0], dims[1])
    if len(dims) == 1:
        return (dims[0], 1, 1)
    if len(dims) == 0:
        return (1, 1, 1)
    return None      # 5-d and more: no bitsim shape


def numel(shape):
    return int(math.prod(shape)) if shape is not None else 0


def _pair(v, n=2):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * n


class Layer:
    """One line of the model file."""

    def __init__(self, name, kind, keys, shape, module=None, call=1, measured=False):
        self.name, self.kind, self.keys, self.shape = name, kind, list(keys), shape
        self.module, self.call = module, call       # module layer: its k-th call in a forward
        self.measured = measured    # W, A, G densities measured by the hook (module MAC layers)
        self.needs = ("W", "A", "G") if measured else ()    # which of them
        self.tensor_arg = None      # which forward argument is A (MultiheadAttention q/k/v)
        self.weight = None          # the tensor the layer's W density is read from
        self.wslice = None          # (start, stop) rows of weight (MultiheadAttention q/k/v)

    @property
    def is_mac(self):
        return self.kind in MAC_KINDS

    def line(self):
        return " ".join([self.kind, self.name] + self.keys)


class Graph:
    def __init__(self):
        self.layers = []
        self.unsupported = {}       # op -> [calls, per-sample work, "MACs" | "elements", note]
        self.input_shape = None
        self.input_grad = False
        self.fallback = None        # why module hooks were used, or None

    def report(self, op, work, unit, note=""):
        r = self.unsupported.setdefault(op, [0, 0, unit, note])
        r[0] += 1
        r[1] += int(work)

    def mac_layers(self):
        return [l for l in self.layers if l.is_mac]

    def forward_macs(self):
        """Per-sample forward MACs of the MAC layers, counted as models/FORMAT.md does."""
        return sum(layer_macs(l) for l in self.layers)

    def report_lines(self):
        out = []
        for op, (calls, work, unit, note) in sorted(self.unsupported.items()):
            out.append("not modelled: %s x%d, %d %s per sample%s"
                       % (op, calls, work, unit, " (%s)" % note if note else ""))
        return out


def layer_macs(l):
    """MACs per sample of one recorded layer (models/FORMAT.md "Op counts")."""
    k = dict(kv.split("=", 1) for kv in l.keys if "=" in kv)
    if l.kind == "conv":
        c = int(k["_in"].split(",")[0])
        kh, kw = int(k.get("kh", k.get("k"))), int(k.get("kw", k.get("k")))
        _, ho, wo = l.shape
        return ho * wo * (c // int(k.get("groups", 1))) * kh * kw * int(k["out"])
    if l.kind == "linear":
        return int(k.get("rows", 1)) * int(k["in"]) * int(k["out"])
    if l.kind == "matmul":
        return int(k.get("heads", 1)) * int(k["m"]) * int(k["k"]) * int(k["n"])
    return 0


# ---- leaf modules ------------------------------------------------------------------------
ACT_MODULES = ((nn.ReLU, "relu"), (nn.ReLU6, "relu6"), (nn.Tanh, "tanh"),
               (nn.Sigmoid, "sigmoid"), (nn.GELU, "gelu"), (nn.SiLU, "silu"),
               (nn.Identity, "identity"))
ACT_FUNCS = {"relu": "relu", "relu_": "relu", "relu6": "relu6", "silu": "silu",
             "sigmoid": "sigmoid", "sigmoid_": "sigmoid", "tanh": "tanh", "tanh_": "tanh",
             "gelu": "gelu"}
# Elementwise ops bitsim has no act op for: reported with their element count.
REPORTED_MODULES = (nn.Hardswish, nn.Hardsigmoid, nn.LeakyReLU, nn.ELU, nn.Mish, nn.PReLU,
                    nn.Softplus, nn.modules.dropout._DropoutNd, nn.LogSoftmax, nn.Upsample,
                    nn.PixelShuffle, nn.ZeroPad2d, nn.ConstantPad2d)
FREE_MODULES = (nn.Flatten, nn.Unflatten)
QUANT_MODULE_NAMES = ("FakeQuantize", "FakeQuantizeBase", "FixedQParamsFakeQuantize",
                      "FusedMovingAvgObsFakeQuantize", "ObserverBase", "QuantStub",
                      "DeQuantStub", "QuantWrapper")


def is_quant_module(m):
    return any(c.__name__ in QUANT_MODULE_NAMES for c in type(m).__mro__)


def is_leaf(m):
    return isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d,
                          nn.ConvTranspose3d, nn.Linear, nn.Bilinear, nn.Embedding,
                          nn.EmbeddingBag, nn.MultiheadAttention,
                          nn.modules.batchnorm._BatchNorm, nn.LayerNorm, nn.GroupNorm,
                          nn.modules.instancenorm._InstanceNorm, nn.LocalResponseNorm,
                          nn.MaxPool1d, nn.MaxPool2d, nn.AvgPool1d, nn.AvgPool2d,
                          nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d,
                          nn.MaxPool3d, nn.AvgPool3d, nn.AdaptiveAvgPool3d, nn.Softmax)
                      + tuple(c for c, _ in ACT_MODULES) + REPORTED_MODULES + FREE_MODULES) \
        or is_quant_module(m) or getattr(m, "bitsim_leaf", False)


# ---- free (view-like) functions: the output is the input, no work ------------------------
FREE_FUNCS = {"flatten", "view", "view_as", "reshape", "reshape_as", "permute", "transpose",
              "transpose_", "t", "contiguous", "__getitem__", "unsqueeze", "squeeze",
              "unsqueeze_", "squeeze_", "expand", "expand_as", "chunk", "split", "unbind",
              "narrow", "detach", "to", "float", "type_as", "clone", "pad", "unflatten",
              "movedim", "select", "repeat_interleave_view"}
# Functions that return no tensor worth following (metadata).
META_FUNCS = {"size", "dim", "numel", "__len__", "shape", "__get__", "__bool__", "item",
              "is_floating_point", "requires_grad_", "__format__", "__hash__", "__eq__",
              "__ne__", "data_ptr", "get_device", "is_contiguous", "stride", "element_size",
              "dtype", "device", "__repr__", "__reduce_ex__", "tolist", "_is_view",
              "is_complex", "__iter__", "__contains__", "__setstate__", "__deepcopy__",
              "is_nested", "_nested_tensor_size"}
ADD_FUNCS = {"add", "add_", "__add__", "__iadd__", "__radd__"}
MATMUL_FUNCS = {"matmul", "bmm", "__matmul__", "__rmatmul__"}
SOFTMAX_FUNCS = {"softmax", "_softmax"}
POOL_FUNCS = {"max_pool2d": "max", "avg_pool2d": "avg", "adaptive_avg_pool2d": "avg",
              "max_pool1d": "max", "avg_pool1d": "avg"}


def func_name(func):
    name = getattr(func, "__name__", None) or str(func)
    if name == "__get__":       # a property such as Tensor.shape
        name = getattr(getattr(func, "__self__", None), "__name__", name)
    return name


def _tensors(x):
    if torch.is_tensor(x):
        yield x
    elif isinstance(x, (list, tuple)):
        for y in x:
            yield from _tensors(y)
    elif isinstance(x, dict):
        for y in x.values():
            yield from _tensors(y)


class _Recorder:
    """State of one recording pass: producers of tensors, the scope stack, used names."""

    def __init__(self, model, graph):
        self.g = graph
        self.names = {m: n for n, m in model.named_modules()}
        self.scope = []             # module paths of the forwards being run
        self.leaf_depth = 0         # > 0 inside a leaf module's forward
        self.producer = {}          # id(tensor) -> (layer name, bitsim shape, tensor)
        self.used = {}              # base name -> uses so far
        self.calls = {}             # module -> calls so far
        self.keep = []              # every followed tensor stays alive: ids are not reused
        self.quant_of = {}          # id(tensor) -> the fake-quant module that produced it
        self.fq_input = {}          # layer name -> fake-quant module on its input (A)

    def unique(self, base):
        n = self.used.get(base, 0) + 1
        self.used[base] = n
        return base if n == 1 else "%s:%d" % (base, n)

    def func_base(self, op):
        s = self.scope[-1] if self.scope else ""
        return "%s.%s" % (s, op) if s else op

    def source(self, t):
        """(name, bitsim shape) of the layer that produced t; ('input', shape) for the input;
        None for tensors the graph does not know (parameters, constants)."""
        p = self.producer.get(id(t))
        return None if p is None else (p[0], p[1])

    def set_producer(self, t, name, shape):
        self.producer[id(t)] = (name, shape, t)
        self.keep.append(t)

    def alias(self, out, inp):
        p = self.producer.get(id(inp))
        if p is None:
            return
        for t in _tensors(out):
            self.set_producer(t, p[0], p[1])
            if id(inp) in self.quant_of:
                self.quant_of[id(t)] = self.quant_of[id(inp)]

    def add_layer(self, layer, src, out, above_ok=True):
        """Appends layer reading src (a (name, shape) pair or None) and producing out."""
        g = self.g
        above = g.layers[-1].name if g.layers else "input"
        if src is not None and src[0] != above:
            layer.keys.append("from=%s" % src[0])
        g.layers.append(layer)
        for t in _tensors(out):
            self.set_producer(t, layer.name, layer.shape)
            break
        return layer


# ---- module layers -----------------------------------------------------------------------
def _conv_keys(m, nd):
    k = _pair(m.kernel_size, nd)
    st = _pair(m.stride, nd)
    pad = m.padding
    dil = _pair(m.dilation, nd)
    if nd == 1:
        k, st, dil = (1,) + k, (1,) + st, (1,) + dil
        pad = (0,) + (_pair(pad, 1) if not isinstance(pad, str) else (pad,))
    if isinstance(pad, str) or any(isinstance(p, str) for p in _pair(pad)):
        return None, "padding=%r" % (m.padding,)
    pad = _pair(pad)
    if dil[0] != dil[1]:
        return None, "unequal dilation %r" % (dil,)
    keys = ["out=%d" % m.out_channels]
    keys += ["k=%d" % k[0]] if k[0] == k[1] else ["kh=%d" % k[0], "kw=%d" % k[1]]
    if st[0] == st[1]:
        keys += ["stride=%d" % st[0]] if st[0] != 1 else []
    else:
        keys += ["stride_h=%d" % st[0], "stride_w=%d" % st[1]]
    if pad[0] == pad[1]:
        keys += ["pad=%d" % pad[0]] if pad[0] else []
    else:
        keys += ["pad_h=%d" % pad[0], "pad_w=%d" % pad[1]]
    if dil[0] != 1:
        keys.append("dilation=%d" % dil[0])
    if m.groups != 1:
        keys.append("groups=%d" % m.groups)
    if m.bias is None:
        keys.append("bias=0")
    return keys, None


def _conv_macs(m, shape):
    """MACs per sample of a conv module: every element of `shape` (its output; for a
    transposed conv its input) times in/groups x kernel taps x ... as PyTorch's layout gives."""
    taps = numel(_pair(m.kernel_size, len(shape) - 2))
    if isinstance(m, nn.modules.conv._ConvTransposeNd):     # each input element, every tap
        return numel(shape[2:]) * m.in_channels * taps * (m.out_channels // m.groups)
    return numel(shape[2:]) * (m.in_channels // m.groups) * taps * m.out_channels


def _record_module(r, m, inputs, output):
    g = r.g
    path = r.names.get(m, type(m).__name__)
    n = r.calls[m] = r.calls.get(m, 0) + 1
    x = next(_tensors(inputs), None)
    out = next(_tensors(output), None)
    src = r.source(x) if x is not None else None
    ins = src[1] if src else None
    if is_quant_module(m) or isinstance(m, FREE_MODULES):
        if x is not None:
            r.alias(output, x)
            if is_quant_module(m) and out is not None:
                r.quant_of[id(out)] = m
        return
    name = r.unique(path)
    tname = type(m).__name__
    real_in = per_sample(x.shape) if x is not None else None
    real_out = per_sample(out.shape) if out is not None else None

    def report(work, unit, note=""):
        g.report(tname, work, unit, note)
        if x is not None and out is not None and tuple(x.shape) == tuple(out.shape):
            r.alias(output, x)       # shape-preserving: the consumer reads the producer
        elif out is not None:
            r.set_producer(out, "~" + name, real_out)   # consumers get a fresh input=

    def mac_layer(kind, keys, shape, need):
        """need: the per-sample input shape bitsim must see (conv) or its element count."""
        fits = src is not None and not src[0].startswith("~") and (
            ins == need if kind == "conv" else numel(ins) == numel(need))
        if not fits and src is not None and src[0] == "input" and not g.layers:
            g.input_shape = need            # e.g. a Conv1d's C x 1 x L view of the input
            r.set_producer(x, "input", need)
            fits = True
        lay = Layer(name, kind, keys, shape, m, n, measured=True)
        lay.weight = m.weight
        lay.keys.append("_in=%d,%d,%d" % need)
        if fits:
            r.add_layer(lay, src, output)
        else:
            lay.keys.insert(-1, "input=%dx%dx%d" % need)
            if src is not None and not src[0].startswith("~"):
                g.report("reshape", 0, "elements", "bitsim has no reshape: a layer reading a "
                         "reshaped tensor gets a fresh input= and no BWD_DATA")
            r.add_layer(lay, None, output)
        fq = r.quant_of.get(id(x)) if x is not None else None
        if fq is not None:
            r.fq_input[name] = fq
        return lay

    if isinstance(m, (nn.Conv1d, nn.Conv2d)):
        nd = 1 if isinstance(m, nn.Conv1d) else 2
        keys, why = _conv_keys(m, nd)
        if keys is None:
            return report(_conv_macs(m, out.shape), "MACs", why)
        if nd == 1:
            need = (int(x.shape[1]), 1, int(x.shape[2]))
            shape = (int(out.shape[1]), 1, int(out.shape[2]))
        else:
            need, shape = real_in, real_out
        mac_layer("conv", keys, shape, need)
        return
    if isinstance(m, (nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)):
        macs = _conv_macs(m, out.shape if not isinstance(m, nn.modules.conv._ConvTransposeNd)
                          else x.shape)
        return report(macs, "MACs", "no bitsim layer kind for %s" % tname)
    if isinstance(m, nn.Linear):
        rows = numel(x.shape[1:]) // m.in_features
        keys = ["in=%d" % m.in_features, "out=%d" % m.out_features]
        keys += ["rows=%d" % rows] if rows != 1 else []
        keys += ["bias=0"] if m.bias is None else []
        mac_layer("linear", keys, (1, rows, m.out_features), (1, rows, m.in_features))
        return
    if isinstance(m, nn.MultiheadAttention):
        return _record_mha(r, m, name, inputs, output)
    if isinstance(m, nn.Embedding):
        report(numel(out.shape[1:]), "elements", "a table lookup; the model input becomes "
               "its output (grad=1)")
        if src is not None and src[0] == "input" and not g.layers:
            g.input_shape, g.input_grad = real_out, True
            r.set_producer(out, "input", real_out)
        return
    if src is None or src[0].startswith("~"):
        return report(numel(out.shape[1:]) if out is not None else 0, "elements",
                      "its input is not a tensor bitsim follows")

    def plain(kind, keys, shape=None):
        r.add_layer(Layer(name, kind, keys, shape or ins, m, n), src, output)

    if isinstance(m, nn.modules.batchnorm._BatchNorm):
        return plain("norm", ["op=batch"] + ([] if m.affine else ["affine=0"]))
    if isinstance(m, nn.GroupNorm):
        # Same element work (4E) and per-channel affine parameters as a batch norm.
        return plain("norm", ["op=batch"] + ([] if m.affine else ["affine=0"]))
    if isinstance(m, nn.LayerNorm):
        if len(m.normalized_shape) == 1 and ins[2] == m.normalized_shape[0]:
            return plain("norm", ["op=layer"] + ([] if m.elementwise_affine else ["affine=0"]))
        return report(numel(out.shape[1:]), "elements", "normalized_shape %r is not the "
                      "last dimension" % (tuple(m.normalized_shape),))
    for cls, op in ACT_MODULES:
        if type(m) is cls or (isinstance(m, cls) and cls is not nn.Identity):
            return plain("act", ["op=%s" % op])
    if isinstance(m, nn.Softmax):
        return plain("softmax", [])
    if isinstance(m, (nn.MaxPool2d, nn.AvgPool2d, nn.MaxPool1d, nn.AvgPool1d)):
        return _pool(r, m, name, n, src, ins, real_out, output,
                     "max" if isinstance(m, (nn.MaxPool1d, nn.MaxPool2d)) else "avg",
                     m.kernel_size, m.stride, m.padding, report,
                     isinstance(m, (nn.MaxPool1d, nn.AvgPool1d)))
    if isinstance(m, (nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool1d, nn.AdaptiveMaxPool2d)):
        return _adaptive(r, m, name, n, src, ins, x, out, output, report,
                         "max" if isinstance(m, nn.AdaptiveMaxPool2d) else "avg")
    note = "elementwise; no bitsim act op" if not isinstance(m, nn.modules.dropout._DropoutNd) \
        else "a mask multiply; bitsim's zoo leaves dropout out"
    report(numel(out.shape[1:]) if out is not None else 0, "elements", note)


def _pool(r, m, name, n, src, ins, real_out, output, op, k, st, pad, report, one_d):
    k, st, pad = _pair(k), _pair(st if st else k), _pair(pad)
    if one_d:       # a 1 x k window on C x 1 x L: bitsim's pools are square, so reported
        k, st, pad = (1, k[0]), (1, st[0]), (0, pad[0])
    if k[0] != k[1] or st[0] != st[1] or pad[0] != pad[1] or getattr(m, "ceil_mode", False) \
            or getattr(m, "dilation", 1) not in (1, (1, 1)):
        return report(numel(real_out) * k[0] * k[1], "elements", "non-square or ceil_mode "
                      "pooling")
    keys = ["op=%s" % op, "k=%d" % k[0]] + (["stride=%d" % st[0]] if st[0] != k[0] else []) \
        + (["pad=%d" % pad[0]] if pad[0] else [])
    c, h, w = ins
    ho, wo = (h + 2 * pad[0] - k[0]) // st[0] + 1, (w + 2 * pad[0] - k[0]) // st[0] + 1
    r.add_layer(Layer(name, "pool", keys, (c, ho, wo), m, n), src, output)


def _adaptive(r, m, name, n, src, ins, x, out, output, report, op):
    c, h, w = ins
    if numel(out.shape[2:]) == 1:
        if op == "max":
            return report(numel(x.shape[1:]), "elements", "global max pooling")
        r.add_layer(Layer(name, "pool", ["op=global"], (c, 1, 1), m, n), src, output)
    elif tuple(out.shape) == tuple(x.shape):
        r.alias(output, x)      # identity at this input size (VGG's 7x7 at 224x224)
        r.g.report(type(m).__name__ + " (identity here)", 0, "elements",
                   "output size equals input size: no work")
    else:
        report(numel(x.shape[1:]), "elements", "adaptive pooling to %r is not a global or "
               "fixed-window pool" % (tuple(out.shape[2:]),))


class ArgSpy:
    """Keeps the (args, kwargs) of the last call of some modules: forward hooks of torch < 2.0
    see no keyword arguments, and nn.MultiheadAttention is often called with query=, key=,
    value= (torchvision's ViT).  Wraps the instances' forward; remove() restores them."""

    def __init__(self, modules):
        self.last, self.modules = {}, list(modules)
        for m in self.modules:
            def forward(*args, _orig=m.forward, _m=m, **kwargs):
                self.last[_m] = (args, kwargs)
                return _orig(*args, **kwargs)
            m.forward = forward

    def qkv(self, m):
        """query, key, value of m's last call (None where not given)."""
        args, kwargs = self.last.get(m, ((), {}))
        vals = list(args[:3])
        return vals + [kwargs.get(n) for n in ("query", "key", "value")[len(vals):]]

    def remove(self):
        for m in self.modules:
            m.__dict__.pop("forward", None)


def _record_mha(r, m, name, inputs, output):
    """nn.MultiheadAttention as bitsim layers, in the zoo's BERT order (models/
    bert_base_layer.model): k, v and q projections, the scores matmul Q.K^T per head (left
    operand q, the line above), softmax, the context matmul scores.V, the output projection."""
    g = r.g
    q, k, v = r.spy.qkv(m)
    if q is None or k is None or v is None:
        return g.report(type(m).__name__, 0, "elements", "called without query/key/value")
    srcs = {"q": r.source(q), "k": r.source(k), "v": r.source(v)}
    bf = getattr(m, "batch_first", False)
    rows = {"q": int(q.shape[1] if bf else q.shape[0]),
            "k": int(k.shape[1] if bf else k.shape[0]),
            "v": int(v.shape[1] if bf else v.shape[0])}
    dims = {"q": m.embed_dim, "k": m.kdim, "v": m.vdim}
    e, h = m.embed_dim, m.num_heads
    d = e // h
    names = {}
    for i, t in ((1, "k"), (2, "v"), (0, "q")):
        keys = ["in=%d" % dims[t], "out=%d" % e, "rows=%d" % rows[t]]
        keys += [] if m.in_proj_bias is not None else ["bias=0"]
        lay = Layer(r.unique("%s.%s_proj" % (name, t)), "linear", keys, (1, rows[t], e), m, 1,
                    measured=True)
        if m.in_proj_weight is not None:
            lay.weight, lay.wslice = m.in_proj_weight, (i * e, (i + 1) * e)
        else:
            lay.weight = getattr(m, "%s_proj_weight" % t)
        lay.tensor_arg, lay.needs = i, ("W", "A")
        src = srcs[t]
        if src is None or src[0].startswith("~"):
            lay.keys.append("input=1x%dx%d" % (rows[t], dims[t]))
            src = None
        lay.keys.append("_in=1,%d,%d" % (rows[t], dims[t]))
        r.add_layer(lay, src, ())
        names[t] = lay.name
    for lay in (Layer(r.unique("%s.scores" % name), "matmul",
                      ["m=%d" % rows["q"], "k=%d" % d, "n=%d" % rows["k"], "heads=%d" % h,
                       "from=%s" % names["k"]], (h, rows["q"], rows["k"])),
                Layer(r.unique("%s.softmax" % name), "softmax", [], (h, rows["q"], rows["k"])),
                Layer(r.unique("%s.context" % name), "matmul",
                      ["m=%d" % rows["q"], "k=%d" % rows["k"], "n=%d" % d, "heads=%d" % h,
                       "from=%s" % names["v"]], (h, rows["q"], d))):
        g.layers.append(lay)
    op_ = Layer(r.unique("%s.out_proj" % name), "linear",
                ["in=%d" % e, "out=%d" % e, "rows=%d" % rows["q"]] +
                ([] if m.out_proj.bias is not None else ["bias=0"]) +
                ["_in=1,%d,%d" % (rows["q"], e)], (1, rows["q"], e), m, 1, measured=True)
    op_.weight = m.out_proj.weight
    op_.needs = ("W", "G")      # its input is the module's internal context
    g.layers.append(op_)
    out = output[0] if isinstance(output, tuple) else output
    r.set_producer(out, op_.name, op_.shape)


# ---- functional ops ----------------------------------------------------------------------
def _record_func(r, name, args, kwargs, result):
    g = r.g
    tens = [a for a in args if torch.is_tensor(a)]
    out = next(_tensors(result), None)
    if name in META_FUNCS or out is None:
        return
    if name in FREE_FUNCS:
        if tens:
            r.alias(result, tens[0])
        return
    srcs = [r.source(t) for t in tens]
    known = [s for s in srcs if s is not None]
    if not known:
        return      # arithmetic on parameters or constants only (e.g. a weight transform)
    first = srcs[0] if srcs and srcs[0] is not None else known[0]

    def report(note=""):
        g.report("%s()" % name, numel(out.shape[1:]), "elements", note)
        if tens and tuple(tens[0].shape) == tuple(out.shape) and srcs[0] is not None:
            r.alias(result, tens[0])
        else:
            r.set_producer(out, "~" + r.func_base(name), per_sample(out.shape))

    if any(s[0].startswith("~") for s in known):
        return report("reads a tensor bitsim does not follow")
    ins = first[1]
    if name in ADD_FUNCS and len(tens) == 2 and all(s is not None for s in srcs) and \
            kwargs.get("alpha", 1) == 1:
        a, b = srcs
        above = g.layers[-1].name if g.layers else "input"
        if b[0] == above and a[0] != above:
            a, b = b, a
        if a[1] == b[1]:
            keys = ["from=%s" % b[0]]
        elif _shortcut_a(a[1], b[1]):
            keys = ["from=%s" % b[0], "shortcut=A"]
        else:
            return report("operand shapes %r and %r" % (a[1], b[1]))
        lay = Layer(r.unique(r.func_base("add")), "add", keys, a[1])
        if a[0] != above:
            lay.keys.insert(0, "from=%s" % a[0])
            return report("neither summand is the layer above")
        g.layers.append(lay)
        r.set_producer(out, lay.name, lay.shape)
        return
    if name in ACT_FUNCS or (name in ("hardtanh", "hardtanh_") and _is_relu6(args, kwargs)):
        op = ACT_FUNCS.get(name, "relu6")
        r.add_layer(Layer(r.unique(r.func_base(op)), "act", ["op=%s" % op], ins), first, result)
        return
    if name in SOFTMAX_FUNCS:
        r.add_layer(Layer(r.unique(r.func_base("softmax")), "softmax", [], ins), first, result)
        return
    if name in MATMUL_FUNCS and len(tens) == 2 and all(s is not None for s in srcs):
        return _matmul(r, tens, srcs, out, result, report)
    if name == "scaled_dot_product_attention" and len(tens) >= 3:
        return _sdpa(r, tens, srcs, out, result, report)
    if name in POOL_FUNCS and len(out.shape) >= 3:
        if name.startswith("adaptive"):
            if numel(out.shape[2:]) == 1:
                c = ins[0]
                r.add_layer(Layer(r.unique(r.func_base("pool")), "pool", ["op=global"],
                                  (c, 1, 1)), first, result)
                return
            if tuple(out.shape) == tuple(tens[0].shape):
                r.alias(result, tens[0])
                return
            return report("adaptive pooling that is not global")
        k = args[1] if len(args) > 1 else kwargs.get("kernel_size")
        st = args[2] if len(args) > 2 else kwargs.get("stride")
        pad = args[3] if len(args) > 3 else kwargs.get("padding", 0)
        lname = r.unique(r.func_base(name))
        _pool(r, None, lname, 1, first, ins, per_sample(out.shape), result, POOL_FUNCS[name],
              k, st, pad, lambda w, u, note="": report(note), name.endswith("1d"))
        return
    if name in ("conv1d", "conv2d", "conv3d", "linear", "conv_transpose2d", "bilinear"):
        w = tens[1] if len(tens) > 1 else kwargs.get("weight")
        macs = numel(out.shape[1:]) * (numel(w.shape[1:]) if w is not None else 1)
        g.report("%s()" % name, macs, "MACs", "a functional MAC op outside a module: wrap it "
                 "in nn.Conv2d / nn.Linear to model it")
        r.set_producer(out, "~" + r.func_base(name), per_sample(out.shape))
        return
    if name in ("dropout", "dropout_", "feature_dropout", "alpha_dropout"):
        return report("a mask multiply; bitsim's zoo leaves dropout out")
    report()


def _is_relu6(args, kwargs):
    lo = args[1] if len(args) > 1 else kwargs.get("min_val", -1.0)
    hi = args[2] if len(args) > 2 else kwargs.get("max_val", 1.0)
    return lo == 0.0 and hi == 6.0


def _shortcut_a(a, b):
    """True when b is a's block input in He et al.'s option A: fewer channels (a multiple),
    spatially larger by a whole stride."""
    return a[0] > b[0] and a[0] % b[0] == 0 and b[1] % a[1] == 0 and b[2] % a[2] == 0 and \
        b[1] // a[1] == b[2] // a[2] and b[1] > a[1]


def _matmul(r, tens, srcs, out, result, report):
    a, b = tens
    if a.dim() < 2 or b.dim() < 2:
        return report("a matrix-vector product")
    m_, k_ = int(a.shape[-2]), int(a.shape[-1])
    n_ = int(b.shape[-1])
    lead = numel(out.shape[1:-2]) if out.dim() > 3 else 1
    if out.dim() == 2:
        return report("a 2-d matmul without a batch dimension")
    lay = Layer(r.unique(r.func_base("matmul")), "matmul",
                ["m=%d" % m_, "k=%d" % k_, "n=%d" % n_] + (["heads=%d" % lead] if lead != 1
                                                            else []) + ["from=%s" % srcs[1][0]],
                (lead, m_, n_))
    above = r.g.layers[-1].name if r.g.layers else "input"
    if srcs[0][0] != above:
        return report("the left operand is not the layer above")
    r.g.layers.append(lay)
    r.set_producer(out, lay.name, lay.shape)


def _sdpa(r, tens, srcs, out, result, report):
    q, k, v = tens[:3]
    if any(s is None for s in srcs[:3]) or q.dim() != 4:
        return report("attention on inputs bitsim does not follow")
    h, tq, d = int(q.shape[1]), int(q.shape[2]), int(q.shape[3])
    tk = int(k.shape[2])
    above = r.g.layers[-1].name if r.g.layers else "input"
    if srcs[0][0] != above:
        return report("the query is not the layer above")
    s = Layer(r.unique(r.func_base("scores")), "matmul",
              ["m=%d" % tq, "k=%d" % d, "n=%d" % tk, "heads=%d" % h, "from=%s" % srcs[1][0]],
              (h, tq, tk))
    sm = Layer(r.unique(r.func_base("softmax")), "softmax", [], (h, tq, tk))
    c = Layer(r.unique(r.func_base("context")), "matmul",
              ["m=%d" % tq, "k=%d" % tk, "n=%d" % d, "heads=%d" % h, "from=%s" % srcs[2][0]],
              (h, tq, d))
    r.g.layers += [s, sm, c]
    r.set_producer(out, c.name, c.shape)


if TorchFunctionMode is not None:
    class _Mode(TorchFunctionMode):
        def __init__(self, rec):
            super().__init__()
            self.rec = rec
            self.busy = False

        def __torch_function__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            result = func(*args, **kwargs)
            rec = self.rec
            if rec.leaf_depth == 0 and not self.busy:
                self.busy = True
                try:
                    _record_func(rec, func_name(func), list(args), kwargs, result)
                finally:
                    self.busy = False
            return result


def capture_graph(model, example_input):
    """Runs one forward pass of model on example_input (no grad, eval mode, so running
    statistics do not move) and returns the Graph of bitsim layers.  An example_input that
    requires grad makes the model file's input `grad=1` (the model is a slice of a deeper
    network, as the zoo's one BERT layer)."""
    g = Graph()
    r = _Recorder(model, g)
    g.input_shape = per_sample(example_input.shape)
    # An input that requires grad is a slice of a deeper network (models/FORMAT.md grad=1).
    g.input_grad = bool(example_input.requires_grad)
    if g.input_shape is None:
        raise ValueError("input of shape %r: bitsim models need at most C x H x W per sample"
                         % (tuple(example_input.shape),))
    r.set_producer(example_input, "input", g.input_shape)
    handles = []

    def pre(m, inputs):
        r.scope.append(r.names.get(m, ""))
        if is_leaf(m):
            r.leaf_depth += 1

    def post(m, inputs, output):
        r.scope.pop()
        if is_leaf(m):
            r.leaf_depth -= 1
            if r.leaf_depth == 0:
                _record_module(r, m, inputs, output)

    for m in model.modules():
        handles.append(m.register_forward_pre_hook(pre))
        handles.append(m.register_forward_hook(post))
    r.spy = ArgSpy(m for m in model.modules() if isinstance(m, nn.MultiheadAttention))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            if TorchFunctionMode is None:
                g.fallback = "torch has no TorchFunctionMode: functional ops are not seen"
                warnings.warn("capture: " + g.fallback)
                model(example_input)
            else:
                with _Mode(r):
                    model(example_input)
    finally:
        for h in handles:
            h.remove()
        r.spy.remove()
        model.train(was_training)
    g.fq_input = r.fq_input
    for line in g.report_lines():
        warnings.warn("capture: " + line, stacklevel=2)
    return g


def model_text(graph, name, description="",
               origin="captured by traces/capture (graph.py) from a PyTorch module"):
    """The model file (models/FORMAT.md) of a captured Graph; ops not modelled are listed as
    comments at its end.  Names longer than models/FORMAT.md allows are an error."""
    for l in graph.layers:
        if len(l.name) > 63:
            raise ValueError("layer name %r is longer than the 63 characters a bitsim model "
                             "allows" % l.name)
    c, h, w = graph.input_shape
    lines = ["# %s, execution order" % origin, "model %s" % name]
    if description:
        lines.append("description %s" % " ".join(description.replace("#", "no.").split()))
    lines.append("input %d %d %d%s" % (c, h, w, " grad=1" if graph.input_grad else ""))
    for l in graph.layers:
        lines.append(" ".join([l.kind, l.name] + [k for k in l.keys if not k.startswith("_")]))
    for line in graph.report_lines():
        lines.append("# " + line)
    return "\n".join(lines) + "\n"
