# Makes a copy of an ONNX model with a symbolic batch axis (bench only; the
# copy is never committed): dim 0 of the inputs and outputs becomes "batch",
# and Reshape targets that pin the batch to 1 copy it from their input (0).
import sys
import onnx
from onnx import numpy_helper

src, dst = sys.argv[1], sys.argv[2]
m = onnx.load(src)
for v in list(m.graph.input) + list(m.graph.output):
    d = v.type.tensor_type.shape.dim
    if d:
        d[0].ClearField("dim_value")
        d[0].dim_param = "batch"
del m.graph.value_info[:]  # intermediate shapes inferred for batch 1
shapes = {n.input[1] for n in m.graph.node if n.op_type == "Reshape"}
for init in m.graph.initializer:
    if init.name in shapes:
        a = numpy_helper.to_array(init).copy()
        if a.ndim == 1 and len(a) > 1 and a[0] == 1:
            a[0] = 0
            init.CopyFrom(numpy_helper.from_array(a, init.name))
for n in m.graph.node:
    if n.op_type == "Constant" and n.output[0] in shapes:
        a = numpy_helper.to_array(n.attribute[0].t).copy()
        if a.ndim == 1 and len(a) > 1 and a[0] == 1:
            a[0] = 0
            n.attribute[0].t.CopyFrom(numpy_helper.from_array(a))
onnx.checker.check_model(m)
onnx.save(m, dst)
