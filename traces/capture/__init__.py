"""capture -- record a PyTorch training run as a bitsim model file and trace.

    from capture import CaptureHook, TraceFileSink
    hook = CaptureHook(model, example_batch, TraceFileSink(path, ...), every=10)
    for each iteration: forward, backward, optimizer step, then hook.step()
    hook.set_format(layer, "W", "int6") whenever the training code changes a precision
    hook.close({"provenance": "test accuracy 0.97"})

See hook.py (what is measured and when), sinks.py (output), quant.py and policy.py (the fake
quantisation and precision policies of the LeNet-5 example), importers.py (AdaPT logs, CSV).
"""

from .hook import CaptureHook, density
from .sinks import MemorySink, TraceFileSink, model_text, trace_text

__all__ = ["CaptureHook", "density", "MemorySink", "TraceFileSink", "model_text", "trace_text"]
