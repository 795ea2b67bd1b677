"""capture -- record a PyTorch training run as a bitsim model file and trace.

    from capture import CaptureHook, TraceFileSink
    hook = CaptureHook(model, example_batch, TraceFileSink(path, ...), every=10)
    for each iteration: forward, backward, optimizer step, then hook.step()
    hook.set_format(layer, "W", "int6") whenever the training code changes a precision
    hook.close({"provenance": "test accuracy 0.97"})

See hook.py (what is measured and when), sinks.py (output), quant.py and policy.py (the fake
quantisation and precision policies of the LeNet-5 example), importers.py (AdaPT logs, CSV).
"""

# Lazy exports (PEP 562): the importers and sinks work without torch installed.
_EXPORTS = {"CaptureHook": "hook", "density": "hook", "MemorySink": "sinks",
            "TraceFileSink": "sinks", "model_text": "sinks", "trace_text": "sinks"}
__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        import importlib
        return getattr(importlib.import_module("." + _EXPORTS[name], __name__), name)
    raise AttributeError(name)
