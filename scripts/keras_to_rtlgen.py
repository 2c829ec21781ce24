#!/usr/bin/env python3
"""Convert a Keras model (JSON architecture + HDF5 weights) into rtlgen's native model JSON.

Development tooling only: rtlgen itself never needs Python. Supported Keras layers: InputLayer,
Dense (activation relu, linear, or softmax on the last layer), Activation (relu, linear, final
softmax) and Dropout (an identity at inference). Anything else is rejected with a clear message.
A final softmax becomes an rtlgen softmax layer: `--softmax stable` (default; hls4ml's default
implementation and types), `--softmax argmax` (the index of the predicted class), or
`--softmax drop` (left out; `--drop-final-softmax` is the old spelling).

Examples (regenerate examples/jet_tagger/model.json and examples/jet_tagger_argmax/model.json):

    python3 scripts/keras_to_rtlgen.py \
        --json KERAS_3layer.json --h5 KERAS_3layer_weights.h5 \
        --name jet_tagger --out examples/jet_tagger/model.json
    python3 scripts/keras_to_rtlgen.py \
        --json KERAS_3layer.json --h5 KERAS_3layer_weights.h5 \
        --name jet_tagger_argmax --softmax argmax --out examples/jet_tagger_argmax/model.json

The output is deterministic: fixed key order, weights written as repr(float(w)) (the shortest
decimal that round-trips the float32 value promoted to float64), one kernel row per line.
"""

import argparse
import json
import math
import os
import sys

TOOL = "scripts/keras_to_rtlgen.py"


class ConversionError(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# Emitter (also used by scripts/make_muon_example.py)
# ---------------------------------------------------------------------------------------------

def _num(x, where):
    v = float(x)
    if not math.isfinite(v):
        raise ConversionError("%s: non-finite weight %r" % (where, v))
    return repr(v)


def _row(values, where):
    return "[" + ", ".join(_num(v, where) for v in values) + "]"


def _s(value):
    return json.dumps(value)


LAYER_KEYS = ("name", "op", "units", "kernel", "bias", "kernel_type", "bias_type", "implementation",
              "table_size", "exp_table_type", "inv_table_type", "accum_type", "output_type")


def emit_model(model):
    """Serialize a model dict to text with a fixed key order and one kernel row per line.

    model: {"name", "description", "input": {"name","size","type"}, "layers": [...]}
    Layers are dicts using the keys in LAYER_KEYS; absent keys are skipped.
    """
    out = []
    out.append("{")
    out.append('  "format": "rtlgen-model",')
    out.append('  "version": 1,')
    out.append('  "name": %s,' % _s(model["name"]))
    out.append('  "description": %s,' % _s(model["description"]))
    inp = model["input"]
    out.append('  "input": {"name": %s, "size": %d, "type": %s},'
               % (_s(inp["name"]), int(inp["size"]), _s(inp["type"])))
    out.append('  "layers": [')
    layers = model["layers"]
    for li, layer in enumerate(layers):
        unknown = set(layer) - set(LAYER_KEYS)
        if unknown:
            raise ConversionError("layer %s: unexpected keys %s" % (layer.get("name"), sorted(unknown)))
        close = "    }" + ("," if li + 1 < len(layers) else "")
        if layer["op"] != "dense":
            # Small layers on one line.
            fields = ['"%s": %s' % (k, _s(layer[k])) for k in LAYER_KEYS if k in layer]
            out.append("    {" + ", ".join(fields) + "}" + ("," if li + 1 < len(layers) else ""))
            continue
        out.append("    {")
        fields = []
        for k in LAYER_KEYS:
            if k not in layer:
                continue
            where = "layer %s %s" % (layer["name"], k)
            if k == "kernel":
                rows = layer["kernel"]
                body = ",\n".join("        " + _row(r, where) for r in rows)
                fields.append('      "kernel": [\n' + body + "\n      ]")
            elif k == "bias":
                fields.append('      "bias": ' + _row(layer["bias"], where))
            elif k == "units":
                fields.append('      "units": %d' % int(layer["units"]))
            else:
                fields.append('      "%s": %s' % (k, _s(layer[k])))
        out.append(",\n".join(fields))
        out.append(close)
    out.append("  ]")
    out.append("}")
    return "\n".join(out) + "\n"


def check_model(model):
    """Check shapes: kernel rows = n_in, row length = units, bias length = units."""
    n = int(model["input"]["size"])
    names = set([model["input"]["name"]])
    for layer in model["layers"]:
        name = layer["name"]
        if name in names:
            raise ConversionError("duplicate name %r" % name)
        names.add(name)
        if "output_type" not in layer:
            raise ConversionError("layer %s: missing output_type" % name)
        if layer["op"] == "dense":
            units = int(layer["units"])
            k = layer["kernel"]
            if len(k) != n:
                raise ConversionError("layer %s: kernel has %d rows, expected n_in=%d" % (name, len(k), n))
            for i, r in enumerate(k):
                if len(r) != units:
                    raise ConversionError("layer %s: kernel row %d has %d entries, expected %d"
                                          % (name, i, len(r), units))
            if "bias" in layer and len(layer["bias"]) != units:
                raise ConversionError("layer %s: bias has %d entries, expected %d"
                                      % (name, len(layer["bias"]), units))
            n = units
    return n


def count_params(model):
    total = 0
    for layer in model["layers"]:
        if layer["op"] == "dense":
            total += sum(len(r) for r in layer["kernel"]) + len(layer.get("bias", []))
    return total


def write_model(model, path):
    check_model(model)
    text = emit_model(model)
    json.loads(text)  # must be valid JSON
    d = os.path.dirname(path)
    if d:
        os.makedirs(d, exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------------
# Keras reading
# ---------------------------------------------------------------------------------------------

def keras_layers(arch, json_path):
    cfg = arch.get("config")
    if isinstance(cfg, list):  # old Sequential
        return cfg
    if isinstance(cfg, dict) and isinstance(cfg.get("layers"), list):
        return cfg["layers"]
    raise ConversionError("%s: cannot find the layer list (config.layers)" % json_path)


def layer_weights(h5, lname, h5_path):
    """Return {short_name: numpy array} for a Keras layer, e.g. {"kernel": ..., "bias": ...}."""
    root = h5["model_weights"] if "model_weights" in h5 else h5
    if lname not in root:
        raise ConversionError("%s: no weights group for layer %r" % (h5_path, lname))
    g = root[lname]
    names = g.attrs.get("weight_names")
    result = {}
    if names is None:
        raise ConversionError("%s: group %r has no weight_names attribute" % (h5_path, lname))
    for wn in names:
        wn = wn.decode("utf-8") if isinstance(wn, bytes) else str(wn)
        if wn not in g:
            raise ConversionError("%s: weight %r of layer %r not found" % (h5_path, wn, lname))
        short = wn.split("/")[-1].split(":")[0]
        result[short] = g[wn][()]
    return result


def suffix_strip(name, activation):
    suffix = "_" + activation
    if activation and name.endswith(suffix) and len(name) > len(suffix):
        return name[: -len(suffix)]
    return name


def convert(args):
    try:
        import h5py  # imported here so the emitter above works without h5py
    except ImportError:
        raise ConversionError("h5py is required: pip install h5py")

    with open(args.json, encoding="utf-8") as f:
        arch = json.load(f)
    klayers = keras_layers(arch, args.json)

    # Flatten into a list of steps: ("dense", klayer) / ("relu", keras_name) / ("softmax", name).
    input_name, input_size = None, None
    steps = []
    for kl in klayers:
        cls = kl.get("class_name")
        c = kl.get("config", {})
        name = c.get("name", kl.get("name"))
        if cls == "InputLayer":
            shape = c.get("batch_input_shape") or c.get("batch_shape")
            if not shape or len(shape) != 2:
                raise ConversionError("%s: input layer %r: only 1-D inputs are supported (shape %r)"
                                      % (args.json, name, shape))
            input_name, input_size = name, int(shape[1])
            continue
        if input_size is None:
            shape = c.get("batch_input_shape")
            if shape:
                if len(shape) != 2:
                    raise ConversionError("%s: layer %r: only 1-D inputs are supported (shape %r)"
                                          % (args.json, name, shape))
                input_name, input_size = "x", int(shape[1])
        if cls == "Dense":
            steps.append(("dense", kl))
            act = c.get("activation", "linear")
            if act == "relu":
                steps.append(("relu", name))
            elif act == "softmax":
                steps.append(("softmax", name))
            elif act != "linear":
                raise ConversionError("%s: layer %r: activation %r is not supported yet"
                                      % (args.json, name, act))
        elif cls == "Activation":
            act = c.get("activation")
            if act == "relu":
                steps.append(("relu", name))
            elif act == "softmax":
                steps.append(("softmax", name))
            elif act != "linear":
                raise ConversionError("%s: layer %r: activation %r is not supported yet"
                                      % (args.json, name, act))
        elif cls == "Dropout":
            continue
        else:
            raise ConversionError("%s: layer %r: Keras layer class %r is not supported"
                                  % (args.json, name, cls))
    if input_size is None:
        raise ConversionError("%s: cannot determine the input size" % args.json)

    dropped = []
    for i, (kind, ref) in enumerate(steps):
        if kind != "softmax":
            continue
        kname = ref
        if i != len(steps) - 1:
            raise ConversionError("%s: layer %r: softmax is only handled as the final activation"
                                  % (args.json, kname))
        dropped.append(kname)
    steps = [s for s in steps if s[0] != "softmax"]

    layers = []
    n_in = input_size
    relu_count = 0
    with h5py.File(args.h5, "r") as h5:
        for kind, ref in steps:
            if kind == "relu":
                relu_count += 1
                layers.append({"name": "relu%d" % relu_count, "op": "relu",
                               "output_type": args.relu_type})
                continue
            c = ref["config"]
            kname = c["name"]
            units = int(c["units"])
            w = layer_weights(h5, kname, args.h5)
            if "kernel" not in w:
                raise ConversionError("%s: layer %r has no kernel" % (args.h5, kname))
            kernel = w["kernel"]
            if tuple(kernel.shape) != (n_in, units):
                raise ConversionError("%s: layer %r: kernel shape %r, expected (%d, %d)"
                                      % (args.h5, kname, tuple(kernel.shape), n_in, units))
            layer = {"name": suffix_strip(kname, c.get("activation", "")), "op": "dense",
                     "units": units, "kernel": [list(r) for r in kernel.tolist()]}
            if c.get("use_bias", True):
                if "bias" not in w:
                    raise ConversionError("%s: layer %r has use_bias but no bias" % (args.h5, kname))
                bias = w["bias"]
                if tuple(bias.shape) != (units,):
                    raise ConversionError("%s: layer %r: bias shape %r, expected (%d,)"
                                          % (args.h5, kname, tuple(bias.shape), units))
                layer["bias"] = bias.tolist()
            layer["kernel_type"] = args.kernel_type
            if "bias" in layer:
                layer["bias_type"] = args.bias_type
            layer["accum_type"] = args.accum_type
            layer["output_type"] = args.output_type
            layers.append(layer)
            n_in = units

    # numpy float32 .tolist() gives Python floats holding the exact float32 value; repr() of
    # those is the shortest float64 round-trip text.
    desc = ("Converted by %s from %s and %s (Keras %s)."
            % (TOOL, os.path.basename(args.json), os.path.basename(args.h5),
               arch.get("keras_version", "unknown version")))
    if dropped and args.softmax == "drop":
        desc += " Final softmax (of Keras layer %s) left out." % ", ".join(dropped)
    elif dropped and args.softmax == "stable":
        desc += (" Final softmax (of Keras layer %s) as hls4ml's default: stable, 1024-entry tables"
                 " of fixed<18,8,RND,SAT>, the sum in the model precision." % ", ".join(dropped))
        layers.append({"name": "softmax", "op": "softmax", "implementation": "stable",
                       "table_size": 1024, "exp_table_type": "fixed<18,8,RND,SAT>",
                       "inv_table_type": "fixed<18,8,RND,SAT>", "accum_type": args.softmax_accum_type,
                       "output_type": args.softmax_type})
    elif dropped:
        bits = max(1, (n_in - 1).bit_length())
        desc += (" Final softmax (of Keras layer %s) replaced by argmax: the index of the largest"
                 " score (lowest on ties)." % ", ".join(dropped))
        layers.append({"name": "argmax", "op": "softmax", "implementation": "argmax",
                       "output_type": "uint<%d>" % bits})
    model = {"name": args.name, "description": desc,
             "input": {"name": args.input_name or input_name, "size": input_size,
                       "type": args.input_type},
             "layers": layers}
    write_model(model, args.out)
    return model


def main(argv=None):
    p = argparse.ArgumentParser(description="Convert a Keras JSON + HDF5 model to rtlgen native JSON.")
    p.add_argument("--json", required=True, help="Keras JSON architecture")
    p.add_argument("--h5", required=True, help="Keras HDF5 weights")
    p.add_argument("--name", required=True, help="model name")
    p.add_argument("--out", required=True, help="output native JSON path")
    p.add_argument("--input-name", default=None, help="input name (default: the Keras input layer's)")
    p.add_argument("--input-type", default="fixed<16,6>")
    p.add_argument("--kernel-type", default="fixed<16,6>")
    p.add_argument("--bias-type", default="fixed<16,6>")
    p.add_argument("--accum-type", default="auto")
    p.add_argument("--output-type", default="fixed<16,6>", help="output_type of every dense layer")
    p.add_argument("--relu-type", default="fixed<16,6>", help="output_type of every relu layer")
    p.add_argument("--softmax", choices=["stable", "argmax", "drop"], default="stable",
                   help="a final softmax: hls4ml's stable softmax (default), argmax, or left out")
    p.add_argument("--softmax-type", default="fixed<16,6>", help="output_type of a stable softmax")
    p.add_argument("--softmax-accum-type", default="fixed<16,6>",
                   help="accum_type of a stable softmax (hls4ml sums in the model's default precision)")
    p.add_argument("--drop-final-softmax", action="store_true", help="old spelling of --softmax drop")
    args = p.parse_args(argv)
    if args.drop_final_softmax:
        args.softmax = "drop"
    try:
        model = convert(args)
    except (ConversionError, OSError) as e:
        print("keras_to_rtlgen: error: %s" % e, file=sys.stderr)
        return 2
    print("wrote %s: %d layers, %d parameters" % (args.out, len(model["layers"]), count_params(model)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
