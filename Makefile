# The project's two commands (README): `make run` and `make check`.
# meson + ninja do the building; this file only installs what is missing,
# configures the build directories (build, build-clang, build-asan, build-tsan,
# build-fuzz) and runs things.
BUILD ?= build
ASAN ?= build-asan
TSAN ?= build-tsan
FUZZ ?= build-fuzz
INST ?= build-install
PREFIX ?= /usr/local
CLANG ?= build-clang
TRACE ?= data/traces/mqsim/tpcc-small.trace
DMALINK = $(BUILD)/tools/dmalink

.PHONY: all deps run check check-unit check-asan check-tsan check-fuzz \
	check-qemu fuzz fuzz-build bench clean \
	check-clang check-install install help

all: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

deps:
	@sh tools/deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD)

$(ASAN)/build.ninja:
	meson setup $(ASAN) -Dbuildtype=debug -Db_sanitize=address,undefined -Db_lundef=false

$(TSAN)/build.ninja:
	meson setup $(TSAN) -Db_sanitize=thread -Db_lundef=false

run: all
	$(DMALINK) replay --strategy all $(TRACE)

check: check-unit check-clang check-install check-asan check-tsan check-fuzz check-qemu

check-unit: all
	meson test -C $(BUILD) --print-errorlogs

# The same tree built by clang in its own folder, warnings as errors (the
# project default werror=true): a warning gcc does not give stops here.
$(CLANG)/build.ninja:
	CC=clang meson setup $(CLANG) -Dwerror=true

check-clang:
	@sh tools/deps.sh $(FUZZ_PKGS)
	@$(MAKE) --no-print-directory $(CLANG)/build.ninja
	ninja -C $(CLANG)

# Install (static and shared library) into $(INST)/prefix and build and
# run examples/two-step.c against it with pkg-config, as the README says.
$(INST)/build.ninja:
	meson setup $(INST) -Ddefault_library=both -Dtests=disabled \
		--prefix=$(CURDIR)/$(INST)/prefix

check-install: deps $(INST)/build.ninja
	ninja -C $(INST)
	sh tests/tools/install-example.sh $(INST)

check-asan: deps $(ASAN)/build.ninja
	ninja -C $(ASAN)
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C $(ASAN) --print-errorlogs --timeout-multiplier 3

# ThreadSanitizer over the tests that run threads against each other (the
# meson suite `threads`); any report fails the test (halt_on_error).
check-tsan: deps $(TSAN)/build.ninja
	ninja -C $(TSAN)
	TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
		meson test -C $(TSAN) --suite threads --print-errorlogs --timeout-multiplier 3

# The libFuzzer harnesses of tests/fuzz (clang, ASan+UBSan) in their own
# build folder.  check-fuzz runs each for CHECK_FUZZ_SECONDS on its seed
# corpus (tests/fuzz/corpus/<target>/, left as it is: what a run finds
# goes to $(FUZZ)/corpus/<target>/, a crash to $(FUZZ)/crash-*);
# `make fuzz FUZZ_SECONDS=N` runs each for N seconds.
FUZZ_TARGETS = fuzz_trace fuzz_api fuzz_topology fuzz_hmm fuzz_dmabuf \
	fuzz_nvme_ctrl fuzz_blk fuzz_cc
FUZZ_TARGETS += fuzz_dmabuf_io
FUZZ_TARGETS += fuzz_nvme_api
FUZZ_PKGS = clang libclang-rt-14-dev
CHECK_FUZZ_SECONDS = 20
FUZZ_SECONDS ?= 600
# entropic scheduling's bookkeeping costs fuzz_api two thirds of its time
FUZZ_FLAGS ?= -entropic=0

$(FUZZ)/build.ninja:
	CC=clang meson setup $(FUZZ) -Dbuildtype=debugoptimized \
		-Db_sanitize=address,undefined -Db_lundef=false \
		-Dc_args=-fsanitize=fuzzer-no-link

fuzz-build:
	@sh tools/deps.sh $(FUZZ_PKGS)
	@$(MAKE) --no-print-directory $(FUZZ)/build.ninja
	ninja -C $(FUZZ) $(addprefix tests/fuzz/,$(FUZZ_TARGETS))

define run_fuzz
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ)/corpus/$$t; \
		echo "fuzz: $$t for $(1) s (log: $(FUZZ)/$$t.log)"; \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		$(FUZZ)/tests/fuzz/$$t -max_total_time=$(1) \
			-artifact_prefix=$(FUZZ)/ -print_final_stats=1 $(FUZZ_FLAGS) \
			$(FUZZ)/corpus/$$t tests/fuzz/corpus/$$t \
			> $(FUZZ)/$$t.log 2>&1 || { tail -n 40 $(FUZZ)/$$t.log; \
			echo "fuzz: $$t FAILED"; exit 1; }; \
		grep '^Done' $(FUZZ)/$$t.log; \
	done
endef

check-fuzz: fuzz-build
	$(call run_fuzz,$(CHECK_FUZZ_SECONDS))

fuzz: fuzz-build
	$(call run_fuzz,$(FUZZ_SECONDS))

check-qemu: all
	@if [ -x tests/qemu/run.sh ]; then tests/qemu/run.sh $(BUILD); else echo "SKIP: qemu suite not present"; fi

bench: all
	$(DMALINK) bench
	$(BUILD)/bench/dml-bench-internal

# The library (static), headers, dmalink.pc, the dmalink command and the
# man pages dmalink(1) and dmalink(3) under PREFIX.
install: all
	meson configure $(BUILD) --prefix=$(abspath $(PREFIX))
	meson install -C $(BUILD)

help:
	@echo "make run            replay $(TRACE) with every strategy"
	@echo "make check          every check-* below"
	@echo "make check-unit     the unit and tool tests (build/)"
	@echo "make check-clang    build with clang, warnings as errors (build-clang/)"
	@echo "make check-install  install into build-install/prefix, build the example on it"
	@echo "make check-asan     the tests under ASan+UBSan (build-asan/)"
	@echo "make check-tsan     the threaded tests under TSan (build-tsan/)"
	@echo "make check-fuzz     $(CHECK_FUZZ_SECONDS) s of each libFuzzer harness (build-fuzz/)"
	@echo "make check-qemu     the VFIO end-to-end suite in a QEMU guest"
	@echo "make fuzz           each harness for FUZZ_SECONDS (default $(FUZZ_SECONDS))"
	@echo "make bench          dmalink bench and the internal benchmarks"
	@echo "make install        install under PREFIX (default /usr/local)"
	@echo "make clean          remove every build folder"

clean:
	rm -rf $(BUILD) $(ASAN) $(TSAN) $(FUZZ) $(CLANG) $(INST)
