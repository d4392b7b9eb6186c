# The project's two commands (README): `make run` and `make check`.
# meson + ninja do the building; this file only installs what is missing,
# configures the three build directories and runs things.
BUILD ?= build
ASAN ?= build-asan
TSAN ?= build-tsan
TRACE ?= data/traces/mqsim/tpcc-small.trace
DMALINK = $(BUILD)/tools/dmalink

.PHONY: all deps run check check-unit check-asan check-tsan check-qemu bench clean

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

check: check-unit check-asan check-tsan check-qemu

check-unit: all
	meson test -C $(BUILD) --print-errorlogs

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

check-qemu: all
	@if [ -x tests/qemu/run.sh ]; then tests/qemu/run.sh $(BUILD); else echo "SKIP: qemu suite not present"; fi

bench: all
	$(DMALINK) bench
	$(BUILD)/bench/dml-bench-internal

clean:
	rm -rf $(BUILD) $(ASAN) $(TSAN)
