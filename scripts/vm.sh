#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Boot a kernel in qemu with modegate's initramfs and run a job: the one VM
# runner of make check, demo, bench, check-debug, fuzz, stress and matrix.
#
#   vm.sh JOB       runs scripts/guest/job-JOB.sh in the VM: check (the
#                   selftests), demo, bench, probe, debug, fuzz, stress, ...
#
# Environment: KVER (kernel version), KIMAGE (kernel image, default
# /boot/vmlinuz-$KVER), KO (module, default ./modegate.ko), KVM (auto|0|1),
# VM_TIMEOUT (seconds), VM_CPUS, VM_MEM, VM_OUT (log directory),
# VM_APPEND (extra kernel arguments), MODEGATE_TESTS (subset of programs),
# MG_EXTRA_BINS (more programs for the VM), VM_MONITOR (a path: qemu's
# monitor on that unix socket, to look at a guest that hangs: "info cpus",
# "sendkey alt-sysrq-l"), VM_BOOT_TIMEOUT (seconds to reach /init, else
# one retry), and
#   VM_KERNEL=debug  boot the debug kernel of scripts/debug/ instead (built
#                    once and cached; the module is built against it in
#                    build/ko-debug; logs in build/vm-debug-JOB)
#   KO=none          a VM without modegate (no module, tool or selftests)
#   VM_EXPECT_PANIC=1  the crash job only (make crash): the run passes when
#                    the kernel died of an oops in the demo module mgcrash and
#                    panicked, and fails on any other ending or splat
#   VM_KERNEL=kcsan  the same with the KCSAN kernel (build/ko-kcsan,
#                    build/vm-kcsan-JOB); panic_on_warn is off, since a
#                    KCSAN report warns, and the reports of races outside
#                    modegate are dropped from the kernel log before the
#                    splat scan; each race in modegate is a failure
#                    (vm.kcsan_data-race_FUNC___FUNC).
#
# The verdict comes back on the second serial port (VM_OUT/verdict.log); the
# kernel log is VM_OUT/console.log, the job's output VM_OUT/output.log.  The
# run fails on a failed test, a timeout, a missing verdict, a tainted-by-warning
# kernel, or any splat in the kernel log.  Results are written to
# VM_OUT/results as "ok|fail|skip NAME" lines for scripts/tally.sh.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
# shellcheck source=scripts/lib.sh
. "$here/lib.sh"

job=${1:-check}
out=${VM_OUT:-$top/build/vm-$job}
timeout_s=${VM_TIMEOUT:-900}
mem=${VM_MEM:-1536}
[ "$job" = fuzz ] && MG_EXTRA_BINS="${MG_EXTRA_BINS:-} $(command -v trinity || true)"
case ${VM_KERNEL:-} in
"") ;;
debug | kcsan)
	start=$(date +%s)
	bash "$here/debug/build-kernel.sh" "$VM_KERNEL" >&2
	# shellcheck source=/dev/null
	. "$MODEGATE_CACHE/$VM_KERNEL-6.1/env"
	mg_note "$VM_KERNEL kernel ready in $(($(date +%s) - start)) s"
	KVER=$(cat "$KDIR/include/config/kernel.release")
	export KVER
	KO=${KO:-$(bash "$here/build-ko.sh" "$VM_KERNEL" "$KDIR" W=1)}
	out=${VM_OUT:-$top/build/vm-$VM_KERNEL-$job}
	# KASAN and kmemleak need room; a debug kernel under TCG needs time
	# (the full fuzz: about 40 minutes on a busy 2-core machine).
	mem=${VM_MEM:-3072}
	timeout_s=${VM_TIMEOUT:-3000}
	[ "$job" = fuzz ] && timeout_s=${VM_TIMEOUT:-5400}
	;;
*) mg_die "VM_KERNEL=$VM_KERNEL: unknown (the default, debug or kcsan)" ;;
esac
[ "$job" = coverage ] && MG_EXTRA_BINS="${MG_EXTRA_BINS:-} $(command -v trinity || true)"
export MG_EXTRA_BINS
kver=$(mg_kver)
kimage=${KIMAGE:-/boot/vmlinuz-$kver}
ko=${KO:-$top/modegate.ko}
[ -r "$kimage" ] || mg_die "no kernel image $kimage (make deps, or set KVER/KIMAGE)"
[ "$ko" = none ] || [ -r "$ko" ] || mg_die "no module $ko (make module)"
expect_panic=${VM_EXPECT_PANIC:-0}
[ "$expect_panic" = 0 ] || [ "$job" = crash ] ||
	mg_die "VM_EXPECT_PANIC is for the crash job only, not $job"

mkdir -p "$out"
rm -f "$out"/{console,verdict,output}.log "$out/results" "$out"/console-boot*.log
"$here/mkinitramfs.sh" "$out/initramfs.cpio.gz" "$kver" "$ko"

# Kernel arguments that turn any warning into a failed run.
append="console=ttyS0,115200 panic=-1 oops=panic panic_on_warn=$([ "${VM_KERNEL:-}" = kcsan ] && echo 0 || echo 1)"
append+=" softlockup_panic=1 hung_task_panic=1 MODEGATE_JOB=$job"
[ -n "${MODEGATE_TESTS:-}" ] && append+=" MODEGATE_TESTS=${MODEGATE_TESTS// /,}"
append+=" ${VM_APPEND:-}"
# The check job boots a third CPU, isolated from the scheduler and the tick
# (isolcpus=, nohz_full=): isolcpu_test checks that a member of the
# device's group cannot aim interrupts at it.  VM_CPUS overrides.
cpus=${VM_CPUS:-2}
if [ "$job" = check ] && [ -z "${VM_CPUS:-}" ]; then
	cpus=3
	append+=" isolcpus=2 nohz_full=2"
fi

qemu_run() { # qemu_run ACCEL CPU JOBLOGDIR TIMEOUT
	local d=$3
	timeout --foreground -k 5 "$4" qemu-system-x86_64 \
		-nodefaults -no-reboot -machine pc -accel "$1" -cpu "$2" \
		-smp "$cpus" -m "$mem" -display none \
		-kernel "$kimage" -initrd "$out/initramfs.cpio.gz" \
		-append "$append" \
		-chardev "file,id=con,path=$d/console.log" -serial chardev:con \
		-chardev "file,id=ver,path=$d/verdict.log" -serial chardev:ver \
		-chardev "file,id=out,path=$d/output.log" -serial chardev:out \
		${VM_MONITOR:+-monitor "unix:$VM_MONITOR,server,nowait"} \
		</dev/null
}

# TCG unless KVM is asked for, or proven to boot here.
accel=tcg cpu=max
case ${KVM:-auto} in
1) accel=kvm cpu=host ;;
auto)
	if [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo; then
		mkdir -p "$out/kvm-probe"
		saved=$append
		append=${append/MODEGATE_JOB=$job/MODEGATE_JOB=probe}
		if qemu_run kvm host "$out/kvm-probe" 30 >/dev/null 2>&1 &&
			grep -q '^done 0' "$out/kvm-probe/verdict.log" 2>/dev/null; then
			accel=kvm cpu=host
		fi
		append=$saved
	fi
	;;
esac

# A console log as the splat scan reads it: without the kernel's own
# command line, which names some of the words (panic_on_warn).
console_scan() { tr -d '\r' <"$1" 2>/dev/null | grep -v -e 'ommand line'; }
splat='BUG:|WARNING:|Oops|general protection fault[,:]|KASAN|UBSAN|KFENCE|possible circular locking|possible recursive locking|deadlock|inconsistent lock state|sleeping function called from invalid context|blocked for more than|soft lockup|hard LOCKUP|rcu_sched self-detected stall|RCU stall|Call Trace|Kernel panic|kmemleak: [0-9]+ new suspected|unreferenced object'

# A boot that never reaches /init is retried once: the debug kernel under
# TCG was seen to stall for good in its RCU-tasks self tests, before any of
# ours ran.  So is a kernel that crashes before /init: sid's 7.2 under TCG
# died about once in 30 boots in its own code patching ("Oops: int3" in
# set_next_task_fair, 2 s into the boot, no module loaded).  Nothing of
# modegate's runs before /init (init loads the module), so neither says
# anything about it; each failed boot's log is kept as console-bootN.log
# and a second failure fails the run.
# VM_BOOT_TIMEOUT: seconds to reach /init (300).
boot_s=${VM_BOOT_TIMEOUT:-300}
qemu_run_watched() { # like qemu_run; sets boot=ok, stalled or crashed
	local pid rc waited=0
	boot=ok
	qemu_run "$@" &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		if grep -q 'Run /init as init process' "$3/console.log" 2>/dev/null; then
			break
		fi
		if [ "$waited" -ge "$boot_s" ]; then
			# qemu_run's timeout passes the signal on to qemu.
			pkill -TERM -P "$pid" timeout 2>/dev/null
			wait "$pid"
			boot=stalled
			return 125
		fi
		sleep 1
		waited=$((waited + 1))
	done
	wait "$pid"
	rc=$?
	# A guest panic ends qemu with 0 (panic=-1, -no-reboot).
	if [ "$rc" = 0 ] &&
		! grep -q 'Run /init as init process' "$3/console.log" 2>/dev/null &&
		console_scan "$3/console.log" | grep -Eq "$splat"; then
		boot=crashed
	fi
	return "$rc"
}

start=$(date +%s)
set +e
boots=""
for attempt in 1 2; do
	rm -f "$out"/{console,verdict,output}.log
	qemu_run_watched "$accel" "$cpu" "$out" "$timeout_s"
	qrc=$?
	[ "$boot" != ok ] || break
	boots+=${boots:+_then_}$boot
	cp "$out/console.log" "$out/console-boot$attempt.log"
	if [ "$boot" = stalled ]; then
		echo "vm.sh: the boot did not reach /init in ${boot_s}s (attempt $attempt; log in ${out#"$PWD"/}/console-boot$attempt.log)" >&2
	else
		echo "vm.sh: the kernel crashed in its own boot, before /init (attempt $attempt; log in ${out#"$PWD"/}/console-boot$attempt.log):" >&2
		console_scan "$out/console.log" | grep -E -m 3 -A 1 "$splat" |
			sed 's/^/  /' >&2
	fi
done
set -e
elapsed=$(($(date +%s) - start))
tr -d '\r' <"$out/verdict.log" >"$out/verdict" 2>/dev/null || : >"$out/verdict"
tr -d '\r' <"$out/console.log" >"$out/console" 2>/dev/null || : >"$out/console"
tr -d '\r' <"$out/output.log" >"$out/output" 2>/dev/null || : >"$out/output"

mg_results <"$out/verdict" >"$out/results"
fail() { echo "fail $1" >>"$out/results"; }

done_rc=$(sed -n 's/^done //p' "$out/verdict" | tail -n 1)
console_scan "$out/console" >"$out/console.scan" || :
# The expected panic: the first splat is the oops of a page fault in
# mgcrash, which ends in "Kernel panic", and the job never finished.
if [ "$expect_panic" = 1 ]; then
	if [ -z "$done_rc" ] && [ "$qrc" = 0 ] &&
		grep -Em1 "$splat" "$out/console.scan" | grep -q 'BUG: unable to handle page fault' &&
		grep -q 'RIP: 0010:mgcrash_' "$out/console.scan" &&
		grep -q 'Kernel panic - not syncing' "$out/console.scan"; then
		echo "ok vm.expected_panic" >>"$out/results"
	else
		fail "vm.expected_panic_missing"
	fi
elif [ -z "$done_rc" ]; then
	if [ "$boot" != ok ]; then
		# vm.boot_stalled_twice, vm.boot_crashed_twice, vm.boot_X_then_Y
		case $boots in
		stalled_then_stalled) boots=stalled_twice ;;
		crashed_then_crashed) boots=crashed_twice ;;
		esac
		fail "vm.boot_$boots"
	elif [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
		fail "vm.timeout_after_${timeout_s}s"
	else
		fail "vm.no_verdict_qemu_exit_$qrc"
	fi
fi
# Taint flags W (warning, bit 9), D (oops, bit 7), B (bad page, bit 5).
taint=$(sed -n 's/^taint //p' "$out/verdict" | tail -n 1)
if [ -n "$taint" ] && [ $((taint & ((1 << 9) | (1 << 7) | (1 << 5)))) -ne 0 ]; then
	fail "vm.kernel_tainted_$taint"
fi
if [ "${VM_KERNEL:-}" = kcsan ]; then
	# The races of the rest of the kernel are not modegate's: keep the
	# reports with a modegate frame, and fail on each.
	awk -f "$here/kcsan-filter.awk" "$out/console.scan" >"$out/console.kcsan"
	mv "$out/console.kcsan" "$out/console.scan"
	sed -n 's/^.*BUG: KCSAN: \([a-z-]*\) in \(.*\)$/\1 \2/p' "$out/console.scan" |
		sort -u | while read -r kind funcs; do
			fail "vm.kcsan_${kind}_$(echo "$funcs" | tr -c 'A-Za-z0-9_\n' _)"
		done
fi
if [ "$expect_panic" = 0 ] && grep -Eq "$splat" "$out/console.scan"; then
	fail "vm.kernel_splat"
fi

echo "modegate: $job in $elapsed s ($accel, kernel $kver)"
if grep -q '^fail' "$out/results"; then
	echo "modegate: failed:"
	sed -n 's/^fail /  /p' "$out/results"
	if grep -Eq "$splat" "$out/console.scan"; then
		echo "modegate: kernel splat (first lines):"
		grep -En -A12 "$splat" "$out/console.scan" | head -n 60
	fi
	echo "modegate: tail of the kernel log ($out/console):"
	tail -n "${VM_LOG_TAIL:-40}" "$out/console"
	exit 1
fi
exit 0
