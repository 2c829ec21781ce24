#!/usr/bin/env python3
"""Brevitas QONNX parity: rtlgen against the exact integer semantics and against qonnx's float32 run.

For each committed model in Tests/onnx/brevitas/ (written by scripts/make_brevitas_models.py):
  (a) `rtlgen predict` on N float32 inputs must equal, on every row and output, the exact integer
      semantics computed by brevitas_exact.py (Python integers only);
  (b) qonnx's execute_onnx (numpy float32) is compared code by code; every row where it differs
      must be explained: at the first Quant node where qonnx's codes differ from the exact ones
      (all earlier Quant codes equal), the exact value x / s + zp and qonnx's float32 value lie on
      the two sides of a rounding boundary (or on it), and they differ by less than a float32
      error bound of the computation since the previous Quant; otherwise the test fails;
  (c) Brevitas' own recorded forward pass (NAME.npz) and its integer weights are checked against
      the exact reference (the weights must be identical; outputs are counted);
and each model is built and simulated bit-exact in Verilator and GHDL on a few vectors.
Run in the venv of scripts/onnx-venv.sh (make brevitas-parity).
"""
import argparse
import os
import subprocess
import sys
import time
from fractions import Fraction

import numpy as np
import onnx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from brevitas_exact import U32, Exact, decimal  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
DIR = os.path.join(ROOT, 'Tests', 'onnx', 'brevitas')
CACHE = os.path.join(ROOT, '.cache', 'brevitas-parity')
MODELS = ['brevitas_tiny', 'brevitas_student_float', 'brevitas_tagger_float', 'brevitas_student_fixed', 'brevitas_tagger_fixed']
# Verilator compiles the 8-bit threshold layers slowly (255 comparators per channel: minutes per
# model): make test simulates brevitas_tiny in Verilator and GHDL and the others in GHDL only;
# make brevitas-parity-full (--verilator all) simulates every model in both.
QUICK_VERILATOR = ['brevitas_tiny']


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit('%s exited %d: %s' % (' '.join(cmd), r.returncode, r.stderr.strip()))
    return r.stdout


def inputs(rng, n, n_in, scale):
    """float32 inputs: normal values, values on the input quantizer's grid and exactly half-way
    between grid points (ties of x / s), and out-of-range values."""
    k = rng.integers(0, 4, (n, 1))
    normal = rng.normal(0, 1.5, (n, n_in))
    grid = np.round(rng.normal(0, 1.5, (n, n_in)) / scale) * scale
    half = grid + scale / 2
    out = rng.uniform(-400 * scale, 400 * scale, (n, n_in))
    return np.where(k == 0, normal, np.where(k == 1, grid, np.where(k == 2, half, out))).astype(np.float32)


def qonnx_run(model, x):
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.core.onnx_exec import execute_onnx
    from qonnx.transformation.infer_shapes import InferShapes
    m = ModelWrapper(onnx.load_from_string(model.SerializeToString()))
    iname = [i.name for i in m.graph.input if i.name not in {t.name for t in m.graph.initializer}][0]
    # Only the data input stays an input (the exporter lists the initializers as inputs too).
    keep = [i for i in m.graph.input if i.name == iname]
    del m.graph.input[:]
    m.graph.input.extend(keep)
    m.graph.input[0].type.tensor_type.shape.dim[0].dim_value = len(x)
    for o in m.graph.output:
        o.type.tensor_type.shape.dim[0].dim_value = len(x)
    del m.graph.value_info[:]
    m = m.transform(InferShapes())
    return execute_onnx(m, {iname: x}, return_full_exec_context=True)


def codes_of(values, s, zp):
    """Integer codes of a Quant's float32 outputs (value / s + zp is within float32 error of one)."""
    return np.round(values.astype(np.float64) / s.astype(np.float64) + zp).astype(np.int64)


def explain(ref, ctx, row, qnodes, consts):
    """Why qonnx differs from the exact codes on `row`: (node, exact t, qonnx t, bound) or a reason."""
    for n in qnodes:
        if n.input[0] in consts:
            continue   # a weight Quant (checked on its own)
        o = n.output[0]
        s = consts[n.input[1]].astype(np.float64)
        zp = consts[n.input[2]].astype(np.float64)
        exact = np.asarray(ref.codes[o][row] if ref.codes[o].ndim > 1 and ref.codes[o].shape[0] > row else ref.codes[o], dtype=np.int64)
        got = codes_of(np.asarray(ctx[o][row] if ctx[o].ndim > 1 else ctx[o]), np.broadcast_to(s, np.shape(ctx[o][row] if ctx[o].ndim > 1 else ctx[o])) if s.ndim else s, zp)
        diff = np.nonzero(exact.ravel() != got.ravel())[0]
        if len(diff) == 0:
            continue
        if ref.codes[o].ndim < 2 or ref.codes[o].shape[0] != len(ctx[o]):
            return None, 'the weight Quant %s differs' % n.name
        j = int(diff[0])
        # qonnx's t: its float32 input, divided and shifted in float32 (qonnx's own Quant code).
        xin = np.asarray(ctx[n.input[0]][row], dtype=np.float32).ravel()[j]
        sj = np.float32(s.ravel()[0] if s.size == 1 else s.ravel()[j])
        zj = np.float32(zp.ravel()[0] if zp.size == 1 else zp.ravel()[j])
        tq = Fraction(float(np.float32(np.float32(xin / sj) + zj)))
        te = ref.t_exact[o]
        bound, count = ref.t_bound[o]
        eb = float(np.asarray(bound)[row].ravel()[j] if np.ndim(bound) > 1 else np.asarray(bound).ravel()[j]) * (2 * count + 16) * U32
        k_exact, k_q = int(exact.ravel()[j]), int(got.ravel()[j])
        # The boundary between the two codes: (k + 1/2) for the nearest modes.
        b = Fraction(2 * min(k_exact, k_q) + 1, 2)
        if isinstance(te, tuple):
            t = Fraction(int(te[0][row].ravel()[j] if te[0].ndim > 1 else te[0].ravel()[j]),
                         int(te[1][row].ravel()[j] if te[1].ndim > 1 else te[1].ravel()[j]))
            straddle = (min(t, tq) <= b <= max(t, tq))
            dist = abs(float(t - tq))
        else:
            # After a batchnorm: compare with the boundary exactly (te is an S), distance by float.
            from brevitas_exact import D
            sn, sk = Fraction(float(sj)).numerator, Fraction(float(sj)).denominator.bit_length() - 1
            lvl = (b - int(zj)) * Fraction(sn, 1 << sk)
            shape = te.q.n.shape            # (rows, channels); P and V are per channel
            def elem(a):
                return np.array([np.broadcast_to(a, shape)[row].ravel()[j]], dtype=object)
            sub = type(te)(type(te.p)(elem(te.p.n), te.p.k), type(te.q)(elem(te.q.n), te.q.k), elem(te.vn), te.kv, te.relu)
            ge = bool(sub.geq(D(np.array([lvl.numerator * (1 << 200) // lvl.denominator], dtype=object), 200))[0])
            exact_side = ge                    # t >= b (within 2^-200)
            q_side = tq >= b
            straddle = exact_side != q_side or tq == b
            tf = float(sub.floats()[0]) / float(sj) + float(zj)
            dist = abs(tf - float(tq))
        if straddle and dist <= eb:
            return (n.name, j, k_exact, k_q, dist, eb), None
        return None, 'node %s output %d: exact code %d, qonnx %d, |t - t_qonnx| = %.3g, bound %.3g, boundary %s between them: %s' % (
            n.name, j, k_exact, k_q, dist, eb, b, straddle)
    return None, 'no Quant node differs (an output of a float layer?)'


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--rtlgen', default=os.path.join(ROOT, '.build', 'release', 'rtlgen'))
    p.add_argument('--count', type=int, default=2000)
    p.add_argument('--sim-count', type=int, default=30)
    p.add_argument('--models', nargs='*', default=MODELS)
    p.add_argument('--verilator', default='quick', help="models simulated in Verilator too: 'quick' (%s) or 'all'" % ', '.join(QUICK_VERILATOR))
    args = p.parse_args()
    rtlgen = os.path.abspath(args.rtlgen)
    os.makedirs(CACHE, exist_ok=True)
    t0 = time.time()
    ok = True
    rng = np.random.default_rng(20)
    for name in args.models:
        path = os.path.join(DIR, name + '.onnx')
        model = onnx.load(path)
        ref = Exact(model)
        consts = dict(ref.inits)
        qnodes = ref.quant_nodes
        first = qnodes[0]
        s_in = float(np.asarray(consts[first.input[1]]).ravel()[0])
        n_in = [i for i in model.graph.input if i.name not in consts][0].type.tensor_type.shape.dim[1].dim_value
        x = inputs(rng, args.count, n_in, s_in)
        npy = os.path.join(CACHE, name + '-x.npy')
        np.save(npy, x)
        got = [ln.split(',') for ln in run([rtlgen, 'predict', path, '--input', npy]).split('\n') if ln]
        t1 = time.time()
        y = ref.run(x)
        t_ref = time.time() - t1
        want = [[decimal(int(v), y.k) for v in r] for r in y.n]
        eq = sum(1 for a, b in zip(got, want) if a == b)
        good = eq == len(want) and len(got) == len(want)
        ok &= good
        print('%-24s rtlgen vs exact integer semantics: %d/%d rows identical%s (reference %.0f s)' % (name, eq, len(want), '' if good else '  FAILED', t_ref))
        if not good:
            k = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), 0)
            print('    first difference, row %d:\n      rtlgen %s\n      exact  %s' % (k, ','.join(got[k]) if k < len(got) else '-', ','.join(want[k])))
        # (b) qonnx's float32 execution.
        ctx = qonnx_run(model, x)
        out_name = model.graph.output[0].name
        last_q = qnodes[-1].output[0] if qnodes[-1].output[0] == out_name or any(
            n.op_type in ('Identity', 'Reshape', 'Flatten') for n in model.graph.node) else None
        exact_q = {qn.output[0]: ref.codes[qn.output[0]] for qn in qnodes}
        differ = []
        for qn in qnodes:
            o = qn.output[0]
            if exact_q[o].ndim < 2 or exact_q[o].shape[0] != len(x):
                c = codes_of(np.asarray(ctx[o]), consts[qn.input[1]], consts[qn.input[2]])
                if not np.array_equal(c, np.asarray(exact_q[o], dtype=np.int64)):
                    print('    weight Quant %s: qonnx codes differ from the exact ones' % qn.name)
                    ok = False
        rows_diff = set()
        for qn in qnodes:
            o = qn.output[0]
            if exact_q[o].ndim == 2 and exact_q[o].shape[0] == len(x):
                c = codes_of(np.asarray(ctx[o]), consts[qn.input[1]], consts[qn.input[2]])
                rows_diff |= set(np.nonzero((c != np.asarray(exact_q[o], dtype=np.int64)).any(axis=1))[0].tolist())
        # The output itself (a float output: compare values, exactly representable or not).
        yq = np.asarray(ctx[out_name], dtype=np.float64)
        if qnodes[-1].output[0] != out_name and not any(n.op_type == 'Quant' and n.output[0] == out_name for n in model.graph.node):
            yexact = y.floats()
            rows_diff |= set(np.nonzero((np.abs(yq - yexact) > np.abs(yexact) * U32 * 4 + 1e-300).any(axis=1))[0].tolist())
        proven, unexplained = 0, []
        where = {}
        for r in sorted(rows_diff):
            why, bad = explain(ref, ctx, r, qnodes, consts)
            if why:
                proven += 1
                where[why[0]] = where.get(why[0], 0) + 1
            else:
                unexplained.append((r, bad))
        good = not unexplained
        ok &= good
        print('%-24s qonnx float32 vs exact: %d/%d rows identical, %d differ, %d of them proven float32 rounding across a boundary%s%s'
              % ('', len(x) - len(rows_diff), len(x), len(rows_diff), proven,
                 (' (first differing Quant: %s)' % ', '.join('%s %d' % kv for kv in sorted(where.items()))) if where else '',
                 '' if good else '  FAILED'))
        for r, why in unexplained[:3]:
            print('    row %d not explained: %s' % (r, why))
        # (c) Brevitas' recorded forward pass and integer weights.
        rec = np.load(os.path.join(DIR, name + '.npz'))
        wq = [qn for qn in qnodes if exact_q[qn.output[0]].ndim >= 2 and exact_q[qn.output[0]].shape[0] != len(x) or qn.input[0] in consts]
        wq = [qn for qn in qnodes if qn.input[0] in consts]
        same_w = all(np.array_equal(np.asarray(exact_q[qn.output[0]], dtype=np.int64), rec['w%d' % k].astype(np.int64))
                     for k, qn in enumerate(wq))
        ok &= same_w
        yb = ref.run(rec['x'])
        lastq = qnodes[-1]
        if any(n.op_type == 'Quant' and n.output[0] == out_name for n in model.graph.node) or lastq.output[0] == out_name:
            cb = codes_of(rec['y'], consts[lastq.input[1]], consts[lastq.input[2]])
            eqb = int((cb == np.asarray(ref.codes[lastq.output[0]], dtype=np.int64)).all(axis=1).sum())
        else:
            yf = yb.floats()
            eqb = int((np.abs(rec['y'].astype(np.float64) - yf) <= np.abs(yf) * U32 * 4 + 1e-300).all(axis=1).sum())
        print('%-24s Brevitas (torch, recorded): integer weights %s; outputs %d/%d rows equal to the exact semantics'
              % ('', 'identical' if same_w else 'DIFFER  FAILED', eqb, len(rec['x'])))
        # Build, simulate in Verilator and GHDL.
        d = os.path.join(CACHE, 'build-' + name)
        run([rtlgen, 'build', path, '--out', d])
        vec = d + '-vectors.csv'
        open(vec, 'w').write(run([rtlgen, 'vectors', path, '--count', str(args.sim_count), '--seed', '5']))
        both = args.verilator == 'all' or name in QUICK_VERILATOR
        t1 = time.time()
        r = subprocess.run([rtlgen, 'sim', d, '--input', vec, '--simulator', 'both' if both else 'ghdl'], capture_output=True, text=True)
        ok &= r.returncode == 0
        print('%-24s built, sim on %d vectors in %s: %s (%.0f s)' % ('', args.sim_count, 'Verilator and GHDL' if both else 'GHDL', 'pass' if r.returncode == 0 else 'FAILED\n' + r.stdout + r.stderr, time.time() - t1))
    print('brevitas parity: %d models x %d inputs (%.0f s): %s' % (len(args.models), args.count, time.time() - t0, 'pass' if ok else 'FAILED'))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
