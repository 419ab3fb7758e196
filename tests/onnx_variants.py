#!/usr/bin/python3
"""onnx_variants.py — builds test variants of ONNX models at test run time.

Run with Debian's /usr/bin/python3 and its python3-onnx (1.12; no
onnxconverter_common needed). The tests write every variant into a
temporary directory; none is ever committed.

  fp16 IN OUT [--form full|cast] [--io fp16|fp32]
      Converts the float32 model IN to float16.
      --form full  every float tensor becomes float16: weights, constants,
                   graph inputs and outputs, Cast targets. Ops then run in
                   fp16, which needs fp16 kernels for every op.
      --form cast  (default) the weights are stored as float16 and each is
                   Cast back to float32 where it is used; the graph input and
                   output are float16 (--io fp16, the default) with a Cast
                   behind the input and before the output, or stay float32
                   (--io fp32). The arithmetic runs in float32.
      Tensors that ONNX requires to be float32 (Resize roi and scales) stay
      float32.
  dynamic-batch IN OUT
      Makes dimension 0 of the input and outputs symbolic ("batch"), and a
      leading 1 in Reshape shape constants 0 (copy the batch from the input).
  metadata IN OUT KEY=VALUE...
      Sets (or replaces) custom metadata properties, e.g. task=segment.
  ir-version IN OUT N
      Sets the model's IR version (N beyond what a runtime supports makes it
      refuse the file).
  classifier OUT [--classes N]
      Writes a tiny hand-built classifier: images [1,3,224,224] ->
      GlobalAveragePool -> Flatten -> Gemm -> Softmax -> output [1,N].
"""
import argparse
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

FLOAT = TensorProto.FLOAT
FLOAT16 = TensorProto.FLOAT16


def float32_only_inputs(graph):
    """Names of tensors ONNX requires to stay float32 (Resize roi/scales)."""
    keep = set()
    for n in graph.node:
        if n.op_type == "Resize":
            keep.update(n.input[1:3])
        elif n.op_type == "Upsample":
            keep.update(n.input[1:2])
    keep.discard("")
    return keep


def set_elem_type(value_info, t):
    if value_info.type.HasField("tensor_type"):
        value_info.type.tensor_type.elem_type = t


def fp16_full(model):
    g = model.graph
    keep = float32_only_inputs(g)
    for init in g.initializer:
        if init.data_type == FLOAT and init.name not in keep:
            init.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(init).astype(np.float16), init.name))
    for n in g.node:
        if n.op_type == "Constant" and n.output[0] not in keep:
            for a in n.attribute:
                if a.name == "value" and a.t.data_type == FLOAT:
                    a.t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(a.t).astype(np.float16), a.t.name))
        if n.op_type == "Cast":
            for a in n.attribute:
                if a.name == "to" and a.i == FLOAT:
                    a.i = FLOAT16
    for v in list(g.input) + list(g.output):
        if v.type.tensor_type.elem_type == FLOAT:
            set_elem_type(v, FLOAT16)
    del g.value_info[:]  # shapes and types are re-inferred


def fp16_cast(model, io_fp16):
    g = model.graph
    keep = float32_only_inputs(g)
    new_nodes = []
    for init in g.initializer:
        if init.data_type == FLOAT and init.name not in keep:
            half = init.name + "_fp16"
            arr = numpy_helper.to_array(init).astype(np.float16)
            init.CopyFrom(numpy_helper.from_array(arr, half))
            new_nodes.append(helper.make_node("Cast", [half], [half[: -len("_fp16")]], to=FLOAT))
    # An initializer may also be listed as a graph input (old exporters).
    init_names = {i.name for i in g.initializer}
    for v in list(g.input):
        if v.name + "_fp16" in init_names:
            g.input.remove(v)
    if io_fp16:
        for v in g.input:
            if v.type.tensor_type.elem_type != FLOAT:
                continue
            inner = v.name + "_fp32"
            for n in g.node:
                for k, name in enumerate(n.input):
                    if name == v.name:
                        n.input[k] = inner
            new_nodes.append(helper.make_node("Cast", [v.name], [inner], to=FLOAT))
            set_elem_type(v, FLOAT16)
    tail = []
    if io_fp16:
        for v in g.output:
            if v.type.tensor_type.elem_type != FLOAT:
                continue
            inner = v.name + "_fp32"
            for n in g.node:
                for k, name in enumerate(n.output):
                    if name == v.name:
                        n.output[k] = inner
            tail.append(helper.make_node("Cast", [inner], [v.name], to=FLOAT16))
            set_elem_type(v, FLOAT16)
    nodes = new_nodes + list(g.node) + tail
    del g.node[:]
    g.node.extend(nodes)
    del g.value_info[:]


def dynamic_batch(model):
    g = model.graph
    init_names = {i.name for i in g.initializer}
    for v in list(g.input) + list(g.output):
        if v.name in init_names:
            continue
        dims = v.type.tensor_type.shape.dim
        if dims:
            dims[0].Clear()
            dims[0].dim_param = "batch"
    shape_inputs = {n.input[1] for n in g.node if n.op_type == "Reshape"}
    for init in g.initializer:
        if init.name in shape_inputs:
            arr = numpy_helper.to_array(init).copy()
            if arr.ndim == 1 and arr.size > 1 and arr[0] == 1:
                arr[0] = 0
                init.CopyFrom(numpy_helper.from_array(arr, init.name))
    for n in g.node:
        if n.op_type == "Constant" and n.output[0] in shape_inputs:
            for a in n.attribute:
                if a.name == "value":
                    arr = numpy_helper.to_array(a.t).copy()
                    if arr.ndim == 1 and arr.size > 1 and arr[0] == 1:
                        arr[0] = 0
                        a.t.CopyFrom(numpy_helper.from_array(arr, a.t.name))
    del g.value_info[:]


def set_metadata(model, pairs):
    for p in pairs:
        key, sep, value = p.partition("=")
        if not sep:
            sys.exit("metadata: expected KEY=VALUE, got " + p)
        for prop in model.metadata_props:
            if prop.key == key:
                prop.value = value
                break
        else:
            model.metadata_props.add(key=key, value=value)


def classifier(classes):
    rng = np.random.default_rng(0)
    w = numpy_helper.from_array(rng.standard_normal((classes, 3)).astype(np.float32), "fc_w")
    b = numpy_helper.from_array(np.zeros(classes, np.float32), "fc_b")
    nodes = [
        helper.make_node("GlobalAveragePool", ["images"], ["pooled"]),
        helper.make_node("Flatten", ["pooled"], ["flat"], axis=1),
        helper.make_node("Gemm", ["flat", "fc_w", "fc_b"], ["logits"], transB=1),  # transB: what OpenCV 4.6 imports
        helper.make_node("Softmax", ["logits"], ["output"], axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_classifier",
        [helper.make_tensor_value_info("images", FLOAT, [1, 3, 224, 224])],
        [helper.make_tensor_value_info("output", FLOAT, [1, classes])],
        [w, b],
    )
    model = helper.make_model(graph, producer_name="vidsift-tests", opset_imports=[helper.make_opsetid("", 12)])
    model.ir_version = 7
    return model


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("fp16")
    p.add_argument("src")
    p.add_argument("dst")
    p.add_argument("--form", choices=["full", "cast"], default="cast")
    p.add_argument("--io", choices=["fp16", "fp32"], default="fp16")
    p = sub.add_parser("dynamic-batch")
    p.add_argument("src")
    p.add_argument("dst")
    p = sub.add_parser("metadata")
    p.add_argument("src")
    p.add_argument("dst")
    p.add_argument("pairs", nargs="+")
    p = sub.add_parser("ir-version")
    p.add_argument("src")
    p.add_argument("dst")
    p.add_argument("version", type=int)
    p = sub.add_parser("classifier")
    p.add_argument("dst")
    p.add_argument("--classes", type=int, default=1000)
    a = ap.parse_args()

    if a.cmd == "classifier":
        model = classifier(a.classes)
    else:
        model = onnx.load(a.src)
        if a.cmd == "fp16":
            if a.form == "full":
                fp16_full(model)
            else:
                fp16_cast(model, a.io == "fp16")
        elif a.cmd == "dynamic-batch":
            dynamic_batch(model)
        elif a.cmd == "metadata":
            set_metadata(model, a.pairs)
        elif a.cmd == "ir-version":
            model.ir_version = a.version
    if a.cmd != "ir-version":
        onnx.checker.check_model(model)
    onnx.save(model, a.dst)


if __name__ == "__main__":
    main()
