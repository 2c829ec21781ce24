#!/usr/bin/env python3
"""QKeras's own forward pass of examples/atlas_rpc_student, and hls4ml 1.3's emulation of the
Keras files with atlas_rpc_student_config.yml (converted, compiled with g++), against `rtlgen
predict` on its model.json: 5,000 toy tracks and 5,000 random hit maps, every output identical
(QKeras computes these sums exactly in float32: at most 7 fractional bits and |sum| < 1024).

    PY=$(scripts/hls4ml-tf-venv.sh); $PY scripts/check_atlas_student.py [--rtlgen .build/release/rtlgen]

The model is rebuilt by scripts/make_atlas_student.py's build() and its weights are read from the
committed H5 file. (Keras 2.15's model_from_json on the committed JSON did not return within
15 minutes on this machine: not investigated; hls4ml and rtlgen read the JSON themselves.)
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rtlgen", default=os.path.join(ROOT, ".build/release/rtlgen"))
    a = p.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.path.insert(0, HERE)
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(1)  # as make_atlas_student.main (and it settles tf.keras first)
    import make_atlas_student as mas
    import qkeras.utils  # noqa: F401 (imported before build(), the model is a tf.keras one)
    d = os.path.join(ROOT, "examples/atlas_rpc_student")
    m = mas.build()
    m.load_weights(os.path.join(d, "atlas_rpc_student_weights.h5"))
    rng = np.random.default_rng(5)
    tracks, _ = mas.toy_data(rng, 5000)
    noise = (rng.random((5000, mas.ROWS, mas.STRIPS, 1)) < 0.5).astype(np.float32)
    x = np.concatenate([tracks, noise])
    y = m(x, training=False).numpy().astype(np.float64)
    with tempfile.TemporaryDirectory() as t:
        xf, yf = os.path.join(t, "x.csv"), os.path.join(t, "y.csv")
        np.savetxt(xf, x.reshape(len(x), -1), fmt="%d", delimiter=",")
        subprocess.run([a.rtlgen, "predict", os.path.join(d, "model.json"), "--input", xf, "--output", yf], check=True)
        r = np.loadtxt(yf, delimiter=",", ndmin=2)
    same = np.all(r == y, axis=1)
    print("atlas_rpc_student: QKeras vs rtlgen predict: %d of %d samples identical" % (same.sum(), len(same)))
    import hls4ml
    import yaml
    cfg = yaml.safe_load(open(os.path.join(d, "atlas_rpc_student_config.yml")))
    with tempfile.TemporaryDirectory() as t:
        cfg["KerasJson"] = os.path.join(d, cfg["KerasJson"])
        cfg["KerasH5"] = os.path.join(d, cfg["KerasH5"])
        cfg["OutputDir"] = os.path.join(t, "prj")
        cfg["Backend"] = "Vivado"
        hm = hls4ml.converters.keras_v2_to_hls(cfg)
        hm.compile()
        h = np.asarray(hm.predict(np.ascontiguousarray(x, dtype=np.float64))).reshape(len(x), -1)
    same_h = np.all(r == h, axis=1)
    print("atlas_rpc_student: hls4ml vs rtlgen predict: %d of %d samples identical" % (same_h.sum(), len(same_h)))
    sys.exit(0 if same.all() and same_h.all() else 1)


if __name__ == "__main__":
    main()
