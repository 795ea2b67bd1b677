"""onnx_import.py -- layer shapes of an ONNX model file as a bitsim model file (models/FORMAT.md).

For users who have a model file but no training loop: the ONNX graph (Debian's python3-onnx;
no torch needed) is shape-inferred (onnx.shape_inference) and walked in its node order, each
node becoming a bitsim layer or, once per op type with its count and per-sample work, a
"not modelled" comment:

    Conv (2-d; 1-d as 1 x k)          conv      Gemm, MatMul with a constant weight  linear
    MatMul of two activations         matmul    BatchNormalization                   norm batch
    LayerNormalization                norm layer  Relu, Clip(0, 6), Sigmoid, Tanh, Gelu,
    MaxPool, AveragePool, GlobalAveragePool  pool  Erf-free Gelu, Identity           act
    Add of two same-shape activations add       Softmax                              softmax
    Flatten, Reshape, Transpose, Squeeze, Unsqueeze, Dropout (inference), Cast: free views.

Names: a MAC layer is named after its weight initializer without ".weight" (PyTorch exports
keep parameter names: `layer1.0.conv1.weight` -> `layer1.0.conv1`), other layers after the
node's name with '/' scopes turned into dots (`/layer1/layer1.0/relu/Relu` ->
`layer1.0.relu`), made unique with `:k`.  Conv+BatchNorm folded by an eval-mode export loses
the batch norm (its weights are then `onnx::Conv_...`): export with
`training=torch.onnx.TrainingMode.TRAINING` (or PRESERVE) to keep the layers of training.

    /usr/bin/python3 -m capture.onnx_import MODEL.onnx -o MODEL.model [--name NAME]
"""

import argparse
import math
import re
import sys

from .graph import Graph, Layer, per_sample, numel, model_text


class OnnxFailure(Exception):
    pass


def _attrs(node):
    import onnx
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _shape(vi):
    dims = vi.type.tensor_type.shape.dim
    out = []
    for d in dims:
        if d.HasField("dim_value"):
            out.append(d.dim_value)
        else:
            return None
    return tuple(out)


FUNCTIONAL_OPS = {"Add": "add", "MatMul": "matmul", "Softmax": "softmax"}


def _clean(name, op=None):
    """PyTorch's module path from an exported node name: scopes '/layer1/layer1.0/bn1/
    BatchNormalization' hold each module's name relative to its parent (a Sequential's child
    repeats the parent's prefix: 'layer1' -> 'layer1.0'); the last part is the op.  Functional
    ops (Add, MatMul, Softmax) are named inside the module that ran them ('layer1.0.add')."""
    parts = [p for p in name.strip("/").split("/") if p]
    if not parts:
        return "node"
    ops, parts = parts[-1], parts[:-1]
    full, last = "", ""
    for comp in parts:
        if last and comp.startswith(last + "."):
            full = full[:-len(last)] + comp
        else:
            full = full + "." + comp if full else comp
        last = comp
    if op in FUNCTIONAL_OPS or not full:
        full = (full + "." if full else "") + FUNCTIONAL_OPS.get(op, ops.lower())
    return re.sub(r"[^A-Za-z0-9._\-:\[\]]", "_", full)[-60:]


def onnx_graph(path):
    """A graph.Graph of the ONNX model at path."""
    import onnx
    from onnx import numpy_helper
    try:
        model = onnx.load(path)
    except Exception as ex:         # onnx raises DecodeError, OSError, ...
        raise OnnxFailure("%s: not a readable ONNX model: %s" % (path, ex)) from None
    model = onnx.shape_inference.infer_shapes(model)
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    shapes = {}
    for vi in list(g.input) + list(g.value_info) + list(g.output):
        shapes[vi.name] = _shape(vi)
    for name, t in inits.items():
        shapes[name] = tuple(t.dims)
    inputs = [i for i in g.input if i.name not in inits]
    if len(inputs) != 1:
        raise OnnxFailure("%s: %d graph inputs; bitsim models have one" % (path, len(inputs)))
    graph = Graph()
    x0 = inputs[0].name
    if shapes.get(x0) is None:
        raise OnnxFailure("%s: input %s has no fixed shape" % (path, x0))
    graph.input_shape = per_sample(shapes[x0])
    producer = {x0: ("input", graph.input_shape)}
    used = {}
    consts = {}

    def unique(base):
        n = used.get(base, 0) + 1
        used[base] = n
        return base if n == 1 else "%s:%d" % (base, n)

    def add(layer, src, out):
        above = graph.layers[-1].name if graph.layers else "input"
        if src is not None and src[0] != above:
            layer.keys.append("from=%s" % src[0])
        graph.layers.append(layer)
        producer[out] = (layer.name, layer.shape)

    for node in g.node:
        op = node.op_type
        a = _attrs(node)
        ins = [i for i in node.input if i]
        acts = [i for i in ins if i in producer]
        out = node.output[0] if node.output else None
        oshape = shapes.get(out)
        src = producer.get(acts[0]) if acts else None

        def report(work, unit="elements", note=""):
            graph.report(op, work, unit, note)
            if acts and oshape is not None and shapes.get(acts[0]) == oshape:
                producer[out] = producer[acts[0]]

        if op == "Constant" and out is not None and "value" in a:
            consts[out] = numpy_helper.to_array(a["value"])
            continue
        if src is None:
            continue            # constant folding leftovers (shapes, weights)
        if op in ("Flatten", "Reshape", "Transpose", "Squeeze", "Unsqueeze", "Identity", "Cast",
                  "Dropout", "Pad"):
            producer[out] = src
            if op == "Dropout" and len(node.output) > 1 and node.output[1]:
                graph.report("Dropout", numel(oshape[1:]) if oshape else 0, "elements",
                             "a mask multiply; bitsim's zoo leaves dropout out")
            continue
        if oshape is None:
            report(0, note="no inferred output shape")
            continue
        ishape = shapes.get(acts[0])
        if op == "Conv" and len(ins) >= 2 and ins[1] in inits and len(ishape) in (3, 4):
            w = inits[ins[1]]
            k = list(a.get("kernel_shape", w.dims[2:]))
            st = list(a.get("strides", [1] * len(k)))
            pads = list(a.get("pads", [0] * 2 * len(k)))
            dil = list(a.get("dilations", [1] * len(k)))
            if len(k) == 1:
                k, st, dil = [1] + k, [1] + st, [1] + dil
                pads = [0, pads[0], 0, pads[1]]
                need = (ishape[1], 1, ishape[2])
                shape = (oshape[1], 1, oshape[2])
            else:
                need, shape = per_sample(ishape), per_sample(oshape)
            half = len(pads) // 2
            if pads[:half] != pads[half:] or dil[0] != dil[1]:
                report(numel(oshape[1:]) * numel(w.dims[1:]), "MACs", "asymmetric padding or "
                       "unequal dilation")
                continue
            keys = ["out=%d" % w.dims[0]]
            keys += ["k=%d" % k[0]] if k[0] == k[1] else ["kh=%d" % k[0], "kw=%d" % k[1]]
            keys += (["stride=%d" % st[0]] if st[0] != 1 else []) if st[0] == st[1] else \
                ["stride_h=%d" % st[0], "stride_w=%d" % st[1]]
            keys += (["pad=%d" % pads[0]] if pads[0] else []) if pads[0] == pads[1] else \
                ["pad_h=%d" % pads[0], "pad_w=%d" % pads[1]]
            keys += ["dilation=%d" % dil[0]] if dil[0] != 1 else []
            keys += ["groups=%d" % a["group"]] if a.get("group", 1) != 1 else []
            keys += [] if len(ins) > 2 else ["bias=0"]
            name = unique(ins[1][:-len(".weight")] if ins[1].endswith(".weight")
                          else _clean(node.name or out, op))
            lay = Layer(name, "conv", keys, shape)
            if src[1] != need:
                lay.keys.append("input=%dx%dx%d" % need)
                src = None
            lay.keys.append("_in=%d,%d,%d" % need)
            add(lay, src, out)
            continue
        if op in ("Gemm", "MatMul") and len(ins) >= 2 and ins[1] in inits:
            w = inits[ins[1]].dims
            trans = a.get("transB", 0) if op == "Gemm" else 0
            fin, fout = (w[1], w[0]) if trans else (w[0], w[1])
            rows = numel(ishape[1:]) // fin
            bias = (op == "Gemm" and len(ins) > 2)
            wname = ins[1]
            name = unique(wname[:-len(".weight")] if wname.endswith(".weight")
                          else _clean(node.name or out, op))
            keys = ["in=%d" % fin, "out=%d" % fout] + (["rows=%d" % rows] if rows != 1 else []) \
                + ([] if bias else ["bias=0"]) + ["_in=1,%d,%d" % (rows, fin)]
            add(Layer(name, "linear", keys, (1, rows, fout)), src, out)
            continue
        if op == "Add" and len(acts) == 2 and len(ins) == 2:
            p, q = producer[acts[0]], producer[acts[1]]
            above = graph.layers[-1].name if graph.layers else "input"
            if q[0] == above:
                p, q = q, p
            if p[0] != above or p[1] != q[1]:
                report(numel(oshape[1:]), note="summands bitsim cannot chain")
                continue
            lay = Layer(unique(_clean(node.name or out, op)), "add", ["from=%s" % q[0]], p[1])
            graph.layers.append(lay)
            producer[out] = (lay.name, lay.shape)
            continue
        if op == "MatMul" and len(acts) == 2:
            sa, sb = shapes.get(acts[0]), shapes.get(acts[1])
            p, q = producer[acts[0]], producer[acts[1]]
            above = graph.layers[-1].name if graph.layers else "input"
            if p[0] != above or len(sa) < 3:
                report(numel(oshape[1:]), note="a matmul bitsim cannot chain")
                continue
            heads = numel(oshape[1:-2]) if len(oshape) > 3 else 1
            keys = ["m=%d" % sa[-2], "k=%d" % sa[-1], "n=%d" % sb[-1]] + \
                (["heads=%d" % heads] if heads != 1 else []) + ["from=%s" % q[0]]
            lay = Layer(unique(_clean(node.name or out, op)), "matmul", keys,
                        (heads, sa[-2], sb[-1]))
            graph.layers.append(lay)
            producer[out] = (lay.name, lay.shape)
            continue
        acts_ops = {"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "Gelu": "gelu",
                    "Identity": "identity"}
        if op == "Clip":
            def scalar(i, attr):
                if len(ins) > i and ins[i] in inits:
                    return float(numpy_helper.to_array(inits[ins[i]]))
                if len(ins) > i and ins[i] in consts:
                    return float(consts[ins[i]])
                return a.get(attr)
            lo, hi = scalar(1, "min"), scalar(2, "max")
            if lo == 0.0 and hi == 6.0:
                add(Layer(unique(_clean(node.name or out, op)), "act", ["op=relu6"], src[1]), src,
                    out)
            else:
                report(numel(oshape[1:]), note="Clip other than ReLU6")
            continue
        if op in acts_ops:
            add(Layer(unique(_clean(node.name or out, op)), "act", ["op=%s" % acts_ops[op]],
                      src[1]), src, out)
            continue
        if op == "BatchNormalization":
            add(Layer(unique(_clean(node.name or out, op)), "norm", ["op=batch"], src[1]), src, out)
            continue
        if op == "LayerNormalization":
            add(Layer(unique(_clean(node.name or out, op)), "norm", ["op=layer"], src[1]), src, out)
            continue
        if op == "Softmax":
            add(Layer(unique(_clean(node.name or out, op)), "softmax", [], src[1]), src, out)
            continue
        if op == "GlobalAveragePool" or (op == "ReduceMean" and oshape[2:] == (1, 1)):
            add(Layer(unique(_clean(node.name or out, op)), "pool", ["op=global"],
                      (src[1][0], 1, 1)), src, out)
            continue
        if op in ("MaxPool", "AveragePool"):
            k = list(a.get("kernel_shape"))
            st = list(a.get("strides", k))
            pads = list(a.get("pads", [0] * 2 * len(k)))
            if len(k) != 2 or k[0] != k[1] or st[0] != st[1] or len(set(pads)) > 1 or \
                    a.get("ceil_mode", 0):
                report(numel(oshape[1:]) * numel(k), note="non-square or ceil_mode pooling")
                continue
            keys = ["op=%s" % ("max" if op == "MaxPool" else "avg"), "k=%d" % k[0]] + \
                (["stride=%d" % st[0]] if st[0] != k[0] else []) + \
                (["pad=%d" % pads[0]] if pads[0] else [])
            add(Layer(unique(_clean(node.name or out, op)), "pool", keys, per_sample(oshape)), src,
                out)
            continue
        report(numel(oshape[1:]), "MACs" if op.startswith("Conv") else "elements")
    return graph


def main(argv=None):
    ap = argparse.ArgumentParser(prog="capture.onnx_import",
                                 description="An ONNX model's layer shapes as a bitsim model file.")
    ap.add_argument("onnx")
    ap.add_argument("-o", "--output", required=True, help="model file to write")
    ap.add_argument("--name", help="model name (default: the output file's name)")
    args = ap.parse_args(argv)
    name = args.name or re.sub(r"\.model$", "", args.output.rsplit("/", 1)[-1])
    try:
        g = onnx_graph(args.onnx)
    except OnnxFailure as ex:
        print(ex, file=sys.stderr)
        return 1
    if not g.layers:
        print("%s: no layer bitsim models" % args.onnx, file=sys.stderr)
        return 1
    with open(args.output, "w") as f:
        f.write(model_text(g, name, "imported from %s" % args.onnx.rsplit("/", 1)[-1],
                           origin="imported by traces/capture/onnx_import.py from ONNX"))
    for line in g.report_lines():
        print("%s: %s" % (args.onnx, line), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
