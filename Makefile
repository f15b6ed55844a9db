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
#   make coverage   check-debug, a short fuzz and stress in one debug boot, then
#                   line and branch coverage of module/ (build/coverage)
#   make check-kcsan  the selftests and a short stress on a KCSAN kernel
#   make bench      modegate vs tmpfs, the ENOTTY floor and io_uring (VM)
#   make profile    where the time of one figure goes (perf in the VM)
#   make zoo        classic driver mistakes (labs/), each caught live; tally line
#   make crash      one bug in user mode and in kernel mode: the blast radius
#   make lab LAB=NAME  a TODO lab (labs/todo/): the module with one mechanism
#                   removed, in build/lab/NAME; make lab-check LAB=NAME grades it
#   make labs       each lab fails as handed out, catches its wrong answer
#                   and passes with the reference; tally line
#   make matrix     the check job on Debian 6.1, 6.12, 6.12-rt and sid kernels
#   make lint       checkpatch --strict, sparse C=2, W=1, shellcheck, man
#                   pages, no development history in the tree
#   make deps       install every Debian package the project uses; each
#                   target installs only its own groups (scripts/deps.sh)
#   make load/unload  on a dev box whose kernel can load modules
#   make install/uninstall  module, tool, header, man pages, bash completion,
#                   udev rule, sysusers group
#   make package    DKMS, install, udev group, man pages, .debs; tally line
#   make help       this list

# DKMS runs "make KERNELRELEASE=<kernel> module": that kernel is KVER.
ifneq ($(KERNELRELEASE),)
  KVER := $(KERNELRELEASE)
endif
# Parsing installs nothing and looks nothing up: KVER (else the running
# kernel, else the newest Debian headers: mg_kver in scripts/lib.sh) and its
# kbuild tree are found when a recipe first needs them.  Only "make deps"
# and the targets that run VMs or lint install packages (never a build
# that DKMS or a package build runs).
KVER ?= $(eval KVER := $$(shell if [ -f scripts/lib.sh ]; then \
	bash -c '. scripts/lib.sh && mg_kver'; else uname -r; fi))$(KVER)
# The source DKMS builds has no scripts/: KVER's tree is found here.
KDIR ?= $(eval KDIR := $(firstword $(wildcard /lib/modules/$(KVER)/build) \
	/usr/src/linux-headers-$(KVER)))$(KDIR)

W ?= 1
HOST ?= 0
RESULTS := build/results

all: module tool selftests

module:
	@test -d "$(KDIR)" || { echo "modegate: no kernel build tree '$(KDIR)' (make deps, or set KDIR)"; exit 1; }
	@echo "modegate: building against $(KDIR)"
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=$(W) modules

tool:
	$(MAKE) -C userspace PREFIX=$(PREFIX) LIBEXECDIR=$(LIBEXECDIR)

selftests:
	$(MAKE) -C selftests

# The package groups each target needs (scripts/deps.sh lists them); a
# target-specific variable reaches the deps prerequisite.  make deps alone
# installs every group.
DEPS_GROUPS ?=
demo: DEPS_GROUPS = base
check: DEPS_GROUPS = check
lint: DEPS_GROUPS = lint
check-debug stress zoo lab-check labs check-kcsan: DEPS_GROUPS = kernel
coverage: DEPS_GROUPS = coverage
crash: DEPS_GROUPS = check
fuzz: DEPS_GROUPS = fuzz
bench: DEPS_GROUPS = bench
matrix: DEPS_GROUPS = matrix
package: DEPS_GROUPS = package
deps:
	@bash scripts/deps.sh $(DEPS_GROUPS)

# The targets, from the one list: the comment at the top of this file.
help:
	@awk 'NR > 2 && !/^#/ { exit } /^#   make / { on = 1 } /^#   [^ ]/ && !/^#   make / { on = 0 } \
		on && /^#   / { sub(/^# /, ""); print }' $(firstword $(MAKEFILE_LIST))

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

# Coverage (gcov in the debug kernel): the debug job, a short fuzz and a
# short stress in one boot, each with its results, then lcov/genhtml over
# the module's counters: build/coverage/index.html, a per-file table, and
# the goals (COVERAGE_LINES, COVERAGE_BRANCHES: 95 and 85 %) in the tally.
COVERAGE_FUZZ_TRINITY_CALLS ?= 10000
COVERAGE_FUZZ_CALLS ?= 200000
COVERAGE_STRESS_SECONDS ?= 60
COVERAGE_STRESS_UNLOAD_CYCLES ?= 30
coverage: deps
	@$(MAKE) --no-print-directory selftests tool
	@rm -rf build/results-coverage && mkdir -p build/results-coverage
	@VM_KERNEL=debug VM_APPEND="FUZZ_TRINITY_CALLS=$(COVERAGE_FUZZ_TRINITY_CALLS) \
		FUZZ_CALLS=$(COVERAGE_FUZZ_CALLS) FUZZ_SEED=$(FUZZ_SEED) \
		STRESS_SECONDS=$(COVERAGE_STRESS_SECONDS) STRESS_WORKERS=$(STRESS_WORKERS) \
		STRESS_UNLOAD_CYCLES=$(COVERAGE_STRESS_UNLOAD_CYCLES) $(VM_APPEND)" \
		bash scripts/vm.sh coverage; \
		cp build/vm-debug-coverage/results build/results-coverage/vm
	@bash scripts/coverage.sh build/vm-debug-coverage/output build/ko-debug \
		build/coverage build/results-coverage/coverage || \
		grep -q '^fail' build/results-coverage/coverage || \
		echo "fail coverage.coverage_sh" >>build/results-coverage/coverage
	@bash scripts/tally.sh build/results-coverage/*

# The selftests and STRESS_SECONDS of mgstress on the KCSAN kernel (its own
# build, cached beside the debug kernel); a race reported in a modegate
# function fails the run, the rest of the kernel's are filtered out.
KCSAN_STRESS_SECONDS ?= 60
check-kcsan: deps
	@$(MAKE) --no-print-directory selftests tool
	@rm -rf build/results-kcsan && mkdir -p build/results-kcsan
	@VM_KERNEL=kcsan VM_APPEND="STRESS_SECONDS=$(KCSAN_STRESS_SECONDS) \
		STRESS_WORKERS=$(STRESS_WORKERS) FUZZ_SEED=$(FUZZ_SEED) $(VM_APPEND)" \
		bash scripts/vm.sh kcsan; \
		cp build/vm-kcsan-kcsan/results build/results-kcsan/vm
	@bash scripts/tally.sh build/results-kcsan/*

# The zoo of mistakes: each labs/NN-name.patch, applied to a scratch copy
# of the module, run against the tests that should catch it (scripts/zoo.sh);
# ZOO="01 05" for some of them.  Fails unless every mistake is caught.
ZOO ?=
zoo: deps
	@$(MAKE) --no-print-directory tool selftests
	@bash scripts/zoo.sh $(ZOO); bash scripts/tally.sh build/zoo/results

# The blast radius (scripts/crash.sh, crash/): the same bug in a user
# program and in a demo module, each in a VM.  Needs nothing of modegate.
crash: deps
	@bash scripts/crash.sh; bash scripts/tally.sh build/crash/results

# TODO labs (scripts/lab.sh, labs/todo/N-NAME.patch): the student writes
# one mechanism of the module, the selftests grade it.
LAB ?=
lab:
	@bash scripts/lab.sh hand $(LAB)

lab-check: deps
	@$(MAKE) --no-print-directory tool selftests
	@bash scripts/lab.sh check $(LAB); bash scripts/tally.sh build/lab/$(LAB)/results

labs: deps
	@$(MAKE) --no-print-directory tool selftests
	@bash scripts/lab.sh prove $(LAB); bash scripts/tally.sh build/labs/results

# Benchmarks: bench/mgbench against tmpfs, the ENOTTY floor and io_uring in
# one VM boot; scripts/bench-report.sh makes the table, build/bench.json and
# the chart (build/bench.svg, .png).  Knobs, passed on only when set:
# BENCH_ROUNDS (7), BENCH_SLAB_REQUESTS (1000000; 0 skips), BENCH_ASYNC_MS
# (500 per async measurement), BENCH_CALLS (100000), BENCH_BYTES (32 MiB),
# BENCH_ONLY (only the figures whose name contains it, e.g. async_qd32).
BENCH_VARS := BENCH_ROUNDS BENCH_SLAB_REQUESTS BENCH_ASYNC_MS BENCH_CALLS BENCH_BYTES BENCH_ONLY
bench: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory -C bench
	@mkdir -p build
	@MG_EXTRA_BINS="$(CURDIR)/bench/mgbench" VM_TIMEOUT=$${VM_TIMEOUT:-1800} \
	VM_APPEND="$(foreach v,$(BENCH_VARS),$(if $($(v)),$(v)=$($(v)))) $(VM_APPEND)" \
		bash scripts/vm.sh bench >build/bench-vm.log 2>&1; rc=$$?; \
	cat build/bench-vm.log; \
	MG_BENCH_CMD="$(strip make bench $(foreach v,$(BENCH_VARS),$(if $($(v)),$(v)=$($(v)))))" \
		bash scripts/bench-report.sh build/vm-bench/output build build/bench-vm.log || rc=1; \
	exit $$rc

# Where the time goes: perf (linux-perf) in the VM samples every CPU while
# mgbench runs modegate's side of PROFILE (a figure name, or part of one:
# async_qd32_adopt_mm, store_read_64k, info_ioctl); the folded call chains
# go to the terminal and build/profile.txt.  Not part of check or CI.
PROFILE ?= async_qd32_adopt_mm
profile:
	@bash scripts/deps.sh bench linux-perf
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory -C bench
	@mkdir -p build
	@MG_EXTRA_BINS="$(CURDIR)/bench/mgbench $$(command -v perf)" VM_TIMEOUT=$${VM_TIMEOUT:-900} \
	VM_APPEND="PROFILE=$(PROFILE) $(VM_APPEND)" bash scripts/vm.sh profile; rc=$$?; \
	cp build/vm-profile/output build/profile.txt 2>/dev/null && cat build/profile.txt; exit $$rc

# The demo's picture lands in build/demo/async.svg (and .png); a demo that
# drew it also refreshes the copy the README shows, doc/journey.svg.
demo: deps
	@$(MAKE) --no-print-directory all
	@bash scripts/vm.sh demo; rc=$$?; \
		bash scripts/demo-picture.sh build/vm-demo/output build/demo || rc=1; \
		if [ $$rc = 0 ] && [ -s build/demo/async.svg ]; then \
			cp build/demo/async.svg doc/journey.svg && \
			echo "modegate: doc/journey.svg refreshed from build/demo/async.svg"; \
		fi; exit $$rc

matrix: deps
	@$(MAKE) --no-print-directory tool selftests
	@bash scripts/matrix/matrix.sh

lint: deps
	@bash scripts/lint.sh

load: module
	@if [ "$$(id -u)" = 0 ]; then insmod modegate.ko; else sudo insmod modegate.ko; fi

unload:
	@if [ "$$(id -u)" = 0 ]; then rmmod modegate; else sudo rmmod modegate; fi

# make install [DESTDIR=...] [PREFIX=/usr/local]: the module into
# /lib/modules/KVER/extra (then depmod, unless DESTDIR), the tool, the uapi
# header, the man pages, the bash completion, the udev rule and sysusers.d
# entry (group modegate, /dev/modegate 0660) and an example modprobe.d file.  make uninstall
# removes the same files.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBEXECDIR ?= $(PREFIX)/libexec
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
UDEVRULESDIR ?= /lib/udev/rules.d
SYSUSERSDIR ?= /usr/lib/sysusers.d
MODPROBEDIR ?= /etc/modprobe.d
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
MANPAGES := $(wildcard man/*.[0-9])
# FILE:DIR pairs installed by install-data (mode 0644).
INSTALL_DATA := include/uapi/linux/modegate.h:$(INCLUDEDIR)/linux \
	data/60-modegate.rules:$(UDEVRULESDIR) \
	data/sysusers.conf:$(SYSUSERSDIR)/modegate.conf \
	data/modprobe.conf:$(MODPROBEDIR)/modegate.conf \
	data/bash-completion/modegate:$(BASHCOMPDIR) \
	$(foreach m,$(MANPAGES),$(m):$(MANDIR)/man$(subst .,,$(suffix $(m))))

install: install-module install-tool install-data

# Distribution kernels do not ship their signing key: sign only with one.
install-module: module
	$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_DIR=extra \
		$(if $(wildcard $(KDIR)/certs/signing_key.pem),,CONFIG_MODULE_SIG_ALL=) \
		$(if $(DESTDIR),INSTALL_MOD_PATH=$(DESTDIR)) modules_install
	$(if $(DESTDIR),,depmod -a $(KVER))

install-tool: tool
	install -d $(DESTDIR)$(BINDIR)
	install -m 0755 userspace/modegate $(DESTDIR)$(BINDIR)/
	$(if $(wildcard userspace/modegate-info32),install -D -m 0755 userspace/modegate-info32 \
		$(DESTDIR)$(LIBEXECDIR)/modegate/modegate-info32)

# $(call mg_dst,FILE:DIR): where FILE goes; a DIR ending in .conf names
# the installed file itself.
mg_src = $(firstword $(subst :, ,$(1)))
mg_dst = $(DESTDIR)$(if $(filter %.conf,$(lastword $(subst :, ,$(1)))),$(lastword $(subst :, ,$(1))),$(lastword $(subst :, ,$(1)))/$(notdir $(call mg_src,$(1))))

install-data:
	$(foreach p,$(INSTALL_DATA),install -D -m 0644 $(call mg_src,$(p)) $(call mg_dst,$(p)) &&) true

uninstall:
	rm -f $(DESTDIR)/lib/modules/$(KVER)/extra/modegate.ko*
	$(if $(DESTDIR),,depmod -a $(KVER))
	rm -f $(DESTDIR)$(BINDIR)/modegate $(DESTDIR)$(LIBEXECDIR)/modegate/modegate-info32
	-rmdir $(DESTDIR)$(LIBEXECDIR)/modegate 2>/dev/null
	rm -f $(foreach p,$(INSTALL_DATA),$(call mg_dst,$(p)))

# DKMS, make install, the udev group in a VM, the man pages and the .debs
# (scripts/package.sh); ends with a tally line.
package: deps
	@$(MAKE) --no-print-directory all
	@rm -rf build/results-package && mkdir -p build/results-package
	@bash scripts/package.sh build/results-package/package
	@bash scripts/tally.sh build/results-package/*

clean:
	$(if $(KDIR),-$(MAKE) -C $(KDIR) M=$(CURDIR) clean)
	$(MAKE) -C userspace clean
	$(MAKE) -C selftests clean
	$(MAKE) -C bench clean
	rm -rf build

.PHONY: all module tool selftests deps help shellcheck check check-debug coverage check-kcsan fuzz stress zoo crash lab lab-check labs bench profile demo lint load unload clean \
	install install-module install-tool install-data uninstall package
