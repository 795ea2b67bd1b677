# bitsim — top-level build. Plain make, C11, pkg-config for every library.
#
#   make demo     install missing packages, build, run the main job on shipped defaults
#   make test     install missing packages, build, run the fuzz smoke runs and all tests,
#                 under ASan + UBSan first and then plainly (TEST_ASAN=0: plainly only)
#   make asan     the tests under AddressSanitizer + UndefinedBehaviorSanitizer
#   make bench    speed figures (see README)
#   make install  PREFIX=/usr/local DESTDIR=
#   make deps     apt-get install whatever of TEST_DEBS is missing (sudo when not root; make demo: DEMO_DEBS)

PREFIX  ?= /usr/local
DESTDIR ?=
DATADIR  = $(PREFIX)/share/bitsim
VERSION  = 0.1.0
# The commit a binary is built from: stored with every run, so a database recognises a rerun
# only when the same inputs went through the same code (a newer cost model runs them again).
BUILD_REV := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)

CC      ?= cc
PKGS     = sqlite3 gsl nettle
OPT     ?= -O2
CFLAGS  ?= $(OPT) -g
BS_CFLAGS = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Isim -Isim/cli \
            -DBITSIM_VERSION='"$(VERSION)"' -DBITSIM_BUILD_REV='"$(BUILD_REV)"' -DBITSIM_DATADIR='"$(DATADIR)"' \
            $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LIBS     = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm -lpthread
TEST_LIBS = $(shell pkg-config --libs criterion 2>/dev/null)

# Debian packages, split by what needs them: `make demo` only builds and plots (no Criterion,
# no clang: ~250 MB less); `make test` also needs Criterion and clang + its runtime for the
# libFuzzer smoke runs. The clang runtime is libclang-rt-dev on Debian 13 (version-independent)
# and libclang-rt-14-dev on Debian 12: the one apt knows is picked at install time.
DEMO_DEBS = build-essential pkg-config libsqlite3-dev libgsl-dev nettle-dev gnuplot-nox
TEST_DEBS = $(DEMO_DEBS) libcriterion-dev sqlite3 clang
CLANG_RT_DEB = $$(apt-cache show libclang-rt-dev >/dev/null 2>&1 && echo libclang-rt-dev || echo libclang-rt-14-dev)

BUILD    = build
# sim/ holds the pipeline's modules, sim/cli/ the command-line layer (main.c and the cmd_*.c
# subcommands, as git's builtin/); both go into the library the tests link, but main.c.
LIB_SRCS = $(filter-out sim/cli/main.c,$(wildcard sim/*.c sim/cli/*.c))
LIB_OBJS = $(LIB_SRCS:sim/%.c=$(BUILD)/sim/%.o)
HDRS     = $(wildcard sim/*.h sim/cli/*.h)
TEST_SRCS = $(wildcard tests/test_*.c)
TEST_OBJS = $(TEST_SRCS:tests/%.c=$(BUILD)/tests/%.o)
FUZZ_SRCS = $(wildcard tests/fuzz_*.c)
FUZZ_BINS = $(FUZZ_SRCS:tests/%.c=$(BUILD)/%)
# Seconds per fuzz target inside `make test` (the short run); `make fuzz FUZZ_SECONDS=600`.
FUZZ_SECONDS ?= 5

.PHONY: all deps deps-demo test test-only asan asan-only bench demo install clean fuzz fuzz-short FORCE check-deps arch-doc
.PHONY: deps-capture test-python traces-real deps-slurm test-slurm
.DELETE_ON_ERROR:

all: bitsim

# The binary, and its copy inside a build dir: `make asan` runs tests/test_cli.c against a
# sanitized one (independent targets, one recipe).
bitsim $(BUILD)/bitsim: $(BUILD)/sim/cli/main.o $(LIB_OBJS)
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/sim/%.o: sim/%.c $(HDRS) | $(BUILD)/sim $(BUILD)/sim/cli
	$(CC) $(BS_CFLAGS) -I$(BUILD) $(CFLAGS) -c -o $@ $<

# paths.o bakes in DATADIR (from PREFIX): a stamp holding its value, rewritten only when it
# changes, rebuilds paths.o and the binary for `make install PREFIX=...` after a plain build.
$(BUILD)/datadir.stamp: FORCE | $(BUILD)/sim
	@echo '$(DATADIR)' | cmp -s - $@ || echo '$(DATADIR)' > $@
$(BUILD)/sim/paths.o: $(BUILD)/datadir.stamp
# version.o bakes in the commit (BUILD_REV), the same way.
$(BUILD)/rev.stamp: FORCE | $(BUILD)/sim
	@echo '$(BUILD_REV)' | cmp -s - $@ || echo '$(BUILD_REV)' > $@
$(BUILD)/sim/version.o: $(BUILD)/rev.stamp
FORCE:

# The store embeds its schema: sim/schema.sql becomes a C string (sed, no xxd needed).
$(BUILD)/sim/store.o: $(BUILD)/schema_sql.h
$(BUILD)/schema_sql.h: sim/schema.sql | $(BUILD)/sim
	{ echo '/* generated from sim/schema.sql by the Makefile; do not edit */'; \
	  echo 'static const char store_schema_sql[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' sim/schema.sql; \
	  echo ';'; } > $@

$(BUILD)/tests/%.o: tests/%.c $(HDRS) $(wildcard tests/*.h) | $(BUILD)/tests
	$(CC) $(BS_CFLAGS) $(CFLAGS) $(shell pkg-config --cflags criterion 2>/dev/null) -c -o $@ $<

$(BUILD)/run_tests: $(TEST_OBJS) $(LIB_OBJS)
	$(CC) $(CFLAGS) -o $@ $^ $(TEST_LIBS) $(LIBS)

$(BUILD)/sim $(BUILD)/sim/cli $(BUILD)/tests:
	mkdir -p $@

# $(call apt_install_missing,PACKAGES): apt-get install those not installed (sudo when not root).
apt_install_missing = missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

deps:
	@$(call apt_install_missing,$(TEST_DEBS) $(CLANG_RT_DEB))

deps-demo:
	@$(call apt_install_missing,$(DEMO_DEBS))

# The test command of the README and of .ci/run. Fuzz smoke runs first, then the whole suite
# under ASan + UBSan (asan-only; TEST_ASAN=0 leaves it out), then the plain suite, so the last
# line printed is Criterion's summary of the real binary.
TEST_ASAN ?= 1
test: deps deps-capture
	$(MAKE) --no-print-directory test-only

# Criterion's runner talks to its workers through /tmp/criterion_PID.sock; two runners with
# the same PID (containers sharing /tmp) cross their reports and a run can come out green with
# tests missing. So the run must report every test --list names (TAP copy in the build dir).
test-only: check-deps bitsim $(BUILD)/run_tests fuzz-short test-python $(if $(filter 1,$(TEST_ASAN)),asan-only)
	BITSIM_HOME=$(CURDIR) $(BUILD)/run_tests --jobs 2 --tap=$(BUILD)/tests.tap
	@$(call check_test_count,$(BUILD))

# Every #include in sim/ runs with the data flow: the layers of sim/README.md's module map.
check-deps:
	@sh tests/check_deps.sh $(CURDIR)

# arch/FORMAT.md's key tables, printed again from sim/arch.c's key table (`bitsim arch keys
# SECTION` between each `<!-- keys [SECTION]` marker and `<!-- end keys -->`); the prose
# around them is kept. tests/test_arch.c fails when the shipped file differs from this.
arch-doc: bitsim
	awk -v bin=./bitsim '/^<!-- keys \[/ { print; sec = $$3; gsub(/[\[\]:]/, "", sec); fflush(); \
	      if (system(bin " arch keys " sec) != 0) exit 1; skip = 1; next } \
	     /^<!-- end keys -->/ { skip = 0 } !skip' arch/FORMAT.md > arch/FORMAT.md.new
	mv arch/FORMAT.md.new arch/FORMAT.md

# $(call check_test_count,BUILD): every listed test reported (not skipped) in BUILD/tests.tap.
check_test_count = listed=$$(BITSIM_HOME=$(CURDIR) $(1)/run_tests --list | \
	  awk '/: [0-9]+ tests?$$/ {n += $$(NF-1)} END {print n + 0}'); \
	ran=$$(grep -cE '^(not )?ok ' $(1)/tests.tap); \
	[ "$$ran" = "$$listed" ] || { echo "criterion: $$ran test results for $$listed tests listed:" \
	  "another Criterion runner sharing /tmp may have crossed reports; run again" >&2; exit 1; }

# ---- PyTorch capture (traces/capture/; README "Capturing real traces") -------------------
# Debian's python3 explicitly: another python3 may come first on PATH. `make test` installs
# these packages too (about 3 min and 1 GB on a fresh machine) and always runs the Python
# tests: a missing package is an error, never a skip.
CAPTURE_PY   = /usr/bin/python3
CAPTURE_DEBS = python3 python3-torch python3-torchvision python3-sklearn python3-onnx \
               python3-pandas python3-setuptools
CAPTURE_PKGS = $(wildcard traces/capture/*.py)
# Where `make install` puts the package: Debian's python3 site directory under PREFIX
# (/usr/local/lib/python3.X/dist-packages for PREFIX=/usr/local).
CAPTURE_SITE = $(shell $(CAPTURE_PY) -c 'import sys, sysconfig; v = "%d.%d" % sys.version_info[:2]; print("$(PREFIX)/lib/python%s/dist-packages" % v if "deb_system" in sysconfig.get_scheme_names() else sysconfig.get_path("purelib", "posix_prefix", vars={"base": "$(PREFIX)", "platbase": "$(PREFIX)"}))' 2>/dev/null)

deps-capture:
	@$(call apt_install_missing,$(CAPTURE_DEBS))

# Runs before Criterion inside test-only, so the last line of `make test` stays Criterion's.
test-python: bitsim
	@$(CAPTURE_PY) -c 'import torch, torchvision, sklearn, onnx' || { echo "capture:" \
	  "python3-torch, -torchvision, -sklearn, -onnx are not importable by $(CAPTURE_PY)" \
	  "(make deps-capture installs them)" >&2; exit 1; }
	@echo "capture: Python unittests (traces/capture/tests)"
	cd traces && $(CAPTURE_PY) -m unittest discover -s capture/tests -t .

# Regenerates the captured sample traces and model files in traces/samples/ (LeNet-5 and the
# zoo's ResNet-20 on scikit-learn's digits; a few minutes of CPU) and checks every one.
traces-real: deps-capture bitsim
	cd traces && nice $(CAPTURE_PY) -m capture.digits --arch lenet5 --scheme cpt \
	  --scheme adaptive --out-dir samples
	cd traces && nice $(CAPTURE_PY) -m capture.digits --arch resnet20 --scheme cpt \
	  --scheme adaptive --scheme fp32 --epochs 4 --batch 64 --lr 0.1 --adapt-interval 20 \
	  --cpt-cycles 2 \
	  --out-dir samples
	@for f in traces/samples/lenet5-digits-*.trace traces/samples/resnet20-digits-*.trace; do \
	  BITSIM_HOME=$(CURDIR) ./bitsim trace check $$f >/dev/null || exit 1; \
	done; echo "traces-real: every sample trace reads back"

# Each target ends with its reach line (tests/fuzz.h: how many inputs got to each parser
# stage) and exits 1 when a stage gets less than its floor share; the last cov/ft figures
# libFuzzer printed are shown beside it.
fuzz-short: $(FUZZ_BINS)
	@for f in $(FUZZ_BINS); do \
	  name=$$(basename $$f); mkdir -p $(BUILD)/corpus/$$name; \
	  echo "fuzz: $$name for $(FUZZ_SECONDS)s"; \
	  BITSIM_HOME=$(CURDIR) $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	     $(BUILD)/corpus/$$name tests/corpus/$$name >$(BUILD)/$$name.log 2>&1 \
	    || { tail -40 $(BUILD)/$$name.log; exit 1; }; \
	  grep -E '^#[0-9]+' $(BUILD)/$$name.log | tail -1 | sed 's/^/  /'; \
	  grep '^reach ' $(BUILD)/$$name.log | sed 's/^/  /'; \
	done

# The long runs: every libFuzzer target, then the Python importers' mutation fuzzer
# (traces/capture/tests/fuzz_importers.py), FUZZ_SECONDS each.
fuzz: FUZZ_SECONDS = 300
fuzz: fuzz-short
	cd traces && $(CAPTURE_PY) -m capture.tests.fuzz_importers --seconds $(FUZZ_SECONDS)

# The library is compiled once with the fuzzer's instrumentation (fuzzer-no-link) and every
# target links those objects: compiling all of sim/ again per target took about 17 s each.
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE -g -O1 -Isim -Isim/cli -I$(BUILD) \
	  -fsanitize=address,undefined -fno-sanitize-recover=undefined -DBITSIM_DATADIR='"$(DATADIR)"' \
	  $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
FUZZ_OBJS = $(LIB_SRCS:sim/%.c=$(BUILD)/fuzzobj/%.o)
# kept after the build (not intermediates): make would delete them after the run, and its
# "rm ..." line would follow Criterion's summary, which must stay the last line of make test
.SECONDARY: $(FUZZ_OBJS)

$(BUILD)/fuzzobj/%.o: sim/%.c $(HDRS) $(BUILD)/schema_sql.h
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(BUILD)/fuzz_%: tests/fuzz_%.c tests/fuzz.h $(FUZZ_OBJS) $(HDRS) | $(BUILD)/sim
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJS) $(LIBS)

# ---- A sweep on a real Slurm cluster (tests/slurm.sh; README "On a real Slurm cluster") ----
# One node on localhost: munged, slurmctld and slurmd started by the script as root, the
# array and merge of sweeps/slurm-*.sh, one shard killed and resubmitted, the merged database
# compared row for row with the unsharded sweep. Not in `make test`: it needs root and daemons
# and takes a few minutes.
SLURM_DEBS = slurm-wlm munge sqlite3

deps-slurm:
	@$(call apt_install_missing,$(SLURM_DEBS))

test-slurm: deps-slurm bitsim
	sh tests/slurm.sh

# The whole suite against a sanitized build of everything (the CLI tests run the sanitized
# binary too). `make test` runs it before the plain suite (TEST_ASAN=1).
asan: deps
	$(MAKE) --no-print-directory asan-only

asan-only:
	@echo "asan: the whole suite under AddressSanitizer + UndefinedBehaviorSanitizer"
	$(MAKE) --no-print-directory BUILD=build-asan OPT=-O1 \
	  CFLAGS="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" \
	  build-asan/run_tests build-asan/bitsim
	BITSIM_HOME=$(CURDIR) BITSIM_BIN=build-asan/bitsim ASAN_OPTIONS=detect_leaks=1 \
	  UBSAN_OPTIONS=print_stacktrace=1 build-asan/run_tests --jobs 2 --tap=build-asan/tests.tap
	@$(call check_test_count,build-asan)

bench: bitsim $(BUILD)/bench_cost
	@BITSIM_HOME=$(CURDIR) sh tests/bench.sh

# Speed drivers of `make bench` (tests/bench_*.c, not part of the test binary).
$(BUILD)/bench_%: tests/bench_%.c $(LIB_OBJS) $(HDRS) $(wildcard tests/*.h) | $(BUILD)/sim
	$(CC) $(BS_CFLAGS) $(CFLAGS) -o $@ $< $(LIB_OBJS) $(LIBS)

demo: deps-demo
	$(MAKE) --no-print-directory bitsim
	@BITSIM_HOME=$(CURDIR) sh tests/demo.sh

# Everything a user of the installed tool needs: the binary; models (gen-*.sh executable),
# arch files, plot scripts, sweep spaces and Slurm/GNU parallel scripts, sample traces, the
# FORMAT documents, and the Python package traces/capture (with results.py) under DATADIR.
INSTALL_DATA_DIRS = models arch plots sweeps traces/samples
install: bitsim
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(DATADIR)/traces/capture
	install -m 755 bitsim $(DESTDIR)$(PREFIX)/bin/bitsim
	for d in $(INSTALL_DATA_DIRS); do \
	  install -d $(DESTDIR)$(DATADIR)/$$d || exit 1; \
	  for f in $$d/*; do \
	    [ -f "$$f" ] || continue; \
	    case "$$f" in *.sh) m=755;; *) m=644;; esac; \
	    install -m $$m "$$f" $(DESTDIR)$(DATADIR)/$$d/ || exit 1; \
	  done; \
	done
	install -m 644 traces/FORMAT.md $(DESTDIR)$(DATADIR)/traces/FORMAT.md
	install -m 644 traces/capture/*.py $(DESTDIR)$(DATADIR)/traces/capture/
	@[ -n "$(CAPTURE_SITE)" ] || { echo "install: $(CAPTURE_PY) not found: the capture" \
	  "package (traces/capture) is not installed" >&2; exit 1; }
	install -d $(DESTDIR)$(CAPTURE_SITE)/capture
	install -m 644 $(CAPTURE_PKGS) $(DESTDIR)$(CAPTURE_SITE)/capture/

clean:
	rm -rf build build-asan bitsim out
