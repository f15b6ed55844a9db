#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# VM job: fuzz the device.  trinity as an unprivileged user against the
# device's fd, then mgfuzz (structure-aware, seeded), then a clean unload.
# FUZZ_TRINITY_CALLS / FUZZ_CALLS / FUZZ_SEED come from the kernel command
# line.
# shellcheck source=scripts/guest/lib.sh
. /usr/lib/modegate/lib.sh
checks_begin
# The node must be usable by the unprivileged fuzzer.
check fuzz load_module modprobe modegate node_mode=0666 || exit 1

if command -v trinity >/dev/null; then
	mkdir -p /tmp/trinity && chown 65534:65534 /tmp/trinity
	cd /tmp/trinity || exit 1
	n=${FUZZ_TRINITY_CALLS:-100000}
	echo "=== trinity -N $n as uid 65534 against /dev/modegate"
	# -T: the out-of-tree module taints the kernel, so judge only these.
	# The victim path is opened by the "pseudo" fd provider: keep it.
	"$MG_SELFTESTS/mgrunas" 65534 65534 \
		trinity -q -V /dev/modegate -N "$n" -C 2 -T DIE,WARN,BAD_PAGE \
		-s "${FUZZ_SEED:-1}" \
		--disable-fds=sockets,perf,drm,testfile,memfd \
		-c read -c write -c pread64 -c pwrite64 -c readv -c writev \
		-c lseek -c ioctl -c mmap -c poll -c ppoll -c splice \
		-c sendfile -c close -c dup -c fcntl -c preadv -c pwritev \
		-c epoll_ctl -c select -c fsync >/tmp/trinity.log 2>&1 &
	tpid=$!
	# Prove the device is really among trinity's fds while it runs.
	seen=0
	i=0
	while [ $i -lt 600 ] && kill -0 $tpid 2>/dev/null; do
		for fd in /proc/[0-9]*/fd/*; do
			[ "$(readlink "$fd" 2>/dev/null)" = /dev/modegate ] && seen=1
		done
		[ $seen = 1 ] && break
		i=$((i + 1))
		usleep 100000
	done
	wait $tpid
	trc=$?
	tail -n 20 /tmp/trinity.log
	if [ $seen = 1 ]; then
		result fuzz ok trinity_had_device_open
	else
		result fuzz fail trinity_never_opened_device
	fi
	if [ $trc = 0 ]; then
		result fuzz ok trinity
	else
		result fuzz fail "trinity_exit_$trc"
	fi
	cd / || exit 1
fi

echo "=== mgfuzz"
check fuzz mgfuzz "$MG_SELFTESTS/mgfuzz" -n "${FUZZ_CALLS:-1000000}" -p 2 -t 2 \
	${FUZZ_SEED:+-s "$FUZZ_SEED"}
check fuzz unload_module rmmod modegate

# Again with the wrong-process demo allowed, so that mgfuzz's bystanders,
# their execs and the cancels racing demo writes are live (a tenth of the
# calls): a completion that is -ECANCELED yet wrote into a bystander, or
# any splat, fails the run.
echo "=== mgfuzz, allow_wrong_process_demo=1"
check fuzz load_module_demo modprobe modegate node_mode=0666 allow_wrong_process_demo=1
check fuzz mgfuzz_demo "$MG_SELFTESTS/mgfuzz" -n "$(( ${FUZZ_CALLS:-1000000} / 10 ))" \
	-p 2 -t 2 ${FUZZ_SEED:+-s "$FUZZ_SEED"}
check fuzz unload_module_demo rmmod modegate
checks_end
exit $rc
