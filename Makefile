# SPDX-License-Identifier: GPL-2.0
#
# modegate: the user/kernel mode boundary made concrete.
#
#   make            build the module, the tool and the selftests
#   make demo       the main job: the tool's tour in a VM, with dmesg
#   make check      every selftest in a VM (plus shellcheck); tally line
#   make check-debug  the suite on a debug kernel (KASAN, lockdep, kmemleak, ...)
#   make fuzz       trinity and mgfuzz on the debug kernel
#   make stress     the async lifecycle races for a set time on the debug kernel
#   make matrix     the check job on Debian 6.1, 6.12, 6.12-rt and sid kernels
#   make lint       checkpatch --strict, sparse C=2, W=1, shellcheck
#   make deps       install the Debian packages the project needs
#   make load/unload  on a dev box whose kernel can load modules

# Parsing installs nothing and looks nothing up: the kbuild tree (of KVER,
# else the running kernel, else the newest Debian headers: mg_kver in
# scripts/lib.sh) is found when a recipe first needs it, after "deps" ran.
KDIR ?= $(eval KDIR := $$(shell bash -c '. scripts/lib.sh && mg_kdir "$$$$(mg_kver)"'))$(KDIR)

W ?= 1
HOST ?= 0
RESULTS := build/results

all: module tool selftests

module: deps
	@test -n "$(KDIR)" || { echo "modegate: no kernel build tree (make deps, or set KDIR)"; exit 1; }
	@echo "modegate: building against $(KDIR)"
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=$(W) modules

tool: deps
	$(MAKE) -C userspace

selftests: deps
	$(MAKE) -C selftests

deps:
	@bash scripts/deps.sh

$(RESULTS):
	@mkdir -p $@

shellcheck: | $(RESULTS)
	@if shellcheck -x scripts/*.sh scripts/*/*.sh .ci/run && \
	    shellcheck -s sh scripts/guest/init scripts/guest/*.sh; then \
		echo "ok lint.shellcheck" >$(RESULTS)/shellcheck; \
	else \
		echo "fail lint.shellcheck" >$(RESULTS)/shellcheck; \
	fi

check: deps
	@$(MAKE) --no-print-directory all
	@rm -rf $(RESULTS) && mkdir -p $(RESULTS)
	@$(MAKE) --no-print-directory shellcheck
ifeq ($(HOST),1)
	@bash scripts/host-check.sh >$(RESULTS)/host || true
else
	@bash scripts/vm.sh check; cp build/vm-check/results $(RESULTS)/vm
endif
	@bash scripts/tally.sh $(RESULTS)/*

# The debug kernel (scripts/debug/): built once, cached in ~/.cache/modegate.
# $(call mg_debug_job,JOB,KERNEL-ARGS): run guest/job-JOB.sh on it, tally.
define mg_debug_job
	@$(MAKE) --no-print-directory selftests tool
	@rm -rf build/results-$(1) && mkdir -p build/results-$(1)
	@VM_KERNEL=debug VM_APPEND="$(2)" bash scripts/vm.sh $(1); \
		cp build/vm-debug-$(1)/results build/results-$(1)/vm
	@bash scripts/tally.sh build/results-$(1)/*
endef

check-debug: deps
	$(call mg_debug_job,debug,$(VM_APPEND))

# trinity (unprivileged, on the device's fd) and mgfuzz on the debug kernel.
FUZZ_TRINITY_CALLS ?= 100000
FUZZ_CALLS ?= 1000000
FUZZ_SEED ?= $(shell date +%s)
fuzz: deps
	$(call mg_debug_job,fuzz,FUZZ_TRINITY_CALLS=$(FUZZ_TRINITY_CALLS) FUZZ_CALLS=$(FUZZ_CALLS) FUZZ_SEED=$(FUZZ_SEED))

# The async lifecycle races, looped for STRESS_SECONDS on the debug kernel,
# then load/submit/close/unload cycles.
STRESS_SECONDS ?= 300
STRESS_WORKERS ?= 4
STRESS_UNLOAD_CYCLES ?= 100
stress: deps
	$(call mg_debug_job,stress,STRESS_SECONDS=$(STRESS_SECONDS) STRESS_WORKERS=$(STRESS_WORKERS) STRESS_UNLOAD_CYCLES=$(STRESS_UNLOAD_CYCLES) FUZZ_SEED=$(FUZZ_SEED))

# Benchmarks: ratios against baselines measured in the same VM boot.
bench: deps
	@$(MAKE) --no-print-directory all
	@bash scripts/vm.sh bench; rc=$$?; cat build/vm-bench/output; exit $$rc

demo: deps
	@$(MAKE) --no-print-directory all
	@bash scripts/vm.sh demo; rc=$$?; cat build/vm-demo/output; exit $$rc

matrix: deps
	@$(MAKE) --no-print-directory tool selftests
	@bash scripts/matrix/matrix.sh

lint: deps
	@bash scripts/lint.sh

load: module
	@if [ "$$(id -u)" = 0 ]; then insmod modegate.ko; else sudo insmod modegate.ko; fi

unload:
	@if [ "$$(id -u)" = 0 ]; then rmmod modegate; else sudo rmmod modegate; fi

clean:
	$(if $(KDIR),-$(MAKE) -C $(KDIR) M=$(CURDIR) clean)
	$(MAKE) -C userspace clean
	$(MAKE) -C selftests clean
	rm -rf build

.PHONY: all module tool selftests deps shellcheck check check-debug fuzz stress bench demo lint load unload clean
