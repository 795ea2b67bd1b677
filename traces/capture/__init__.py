"""capture -- record a PyTorch training run as a bitsim model file and trace.

    from capture import CaptureHook, TraceFileSink
    sink = TraceFileSink(path, model_ref, batch, iters_per_epoch, epochs, scheme)
    with CaptureHook(model, example_batch, sink, every=10) as hook:
        open("net.model", "w").write(hook.model_text("net"))
        for each iteration: forward, backward, optimizer step, then hook.step()
        hook.set_format(layer, "W", "int6") where the code does not state a format itself
        hook.close({"provenance": "test accuracy 0.97"})

Modules: graph.py (the whole forward graph as bitsim layers), hook.py (what is measured and
when), formats.py (formats read from the model), sinks.py (streaming trace output), quant.py,
policy.py, nets.py and digits.py (the examples), importers.py (CSV and AdaPT logs, no torch),
onnx_import.py (ONNX model files, no torch).
"""

# Lazy exports (PEP 562): the importers and sinks work without torch installed.
_EXPORTS = {"CaptureHook": "hook", "density": "hook", "MemorySink": "sinks",
            "TraceFileSink": "sinks", "model_text": "sinks", "trace_text": "sinks",
            "capture_graph": "graph"}
__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        import importlib
        return getattr(importlib.import_module("." + _EXPORTS[name], __name__), name)
    raise AttributeError(name)
