/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the async engine's selftests (async_*_test.c).
 *
 * The store is filled with a pattern that depends on the offset, so that a
 * buffer's bytes tell which request (which offset) put them there.
 */
#ifndef _MODEGATE_ASYNC_TEST_H
#define _MODEGATE_ASYNC_TEST_H

#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <grp.h>
#include <time.h>

#include "modegate_test.h"

#define MG_NSEC			1000000000ULL
#define MG_MSEC			1000000ULL
#define MG_USEC			1000ULL
/* Bound on any wait for the device: generous, never reached when working. */
#define MG_WAIT_NS		(20 * MG_NSEC)

/* The strategies that deliver into the originator. */
static const __u32 mg_delivering[] = {
	MODEGATE_STRAT_ADOPT_MM, MODEGATE_STRAT_PIN,
	MODEGATE_STRAT_REMOTE, MODEGATE_STRAT_BUFFERED,
};
#define MG_NR_DELIVERING	(sizeof(mg_delivering) / sizeof(mg_delivering[0]))

static inline uint8_t mg_pat(uint64_t off)
{
	uint64_t x = off * 0x9E3779B97F4A7C15ULL;

	return (uint8_t)((x >> 56) ^ (x >> 29) ^ 0x5a);
}

/* Bytes [@off, @off + @len) of the store, as they should arrive. */
static inline void mg_expect(uint8_t *dst, uint64_t off, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		dst[i] = mg_pat(off + i);
}

/* Does @buf hold the store's bytes at @off? */
static inline bool mg_match(const uint8_t *buf, uint64_t off, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (buf[i] != mg_pat(off + i))
			return false;
	return true;
}

static inline bool mg_all(const uint8_t *buf, uint8_t v, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (buf[i] != v)
			return false;
	return true;
}

/* Fill the whole store with the pattern; returns its capacity or 0. */
static inline size_t mg_fill_store(int fd)
{
	struct modegate_info info;
	size_t cap, off, n;
	uint8_t *buf;

	if (ioctl(fd, MODEGATE_IOC_INFO, &info))
		return 0;
	cap = info.store_capacity;
	buf = malloc(cap);
	if (!buf)
		return 0;
	mg_expect(buf, 0, cap);
	for (off = 0; off < cap; off += n) {
		n = pwrite(fd, buf + off, cap - off, off);
		if ((ssize_t)n <= 0) {
			free(buf);
			return 0;
		}
	}
	free(buf);
	return cap;
}

static inline uint64_t mg_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * MG_NSEC + ts.tv_nsec;
}

static inline pid_t mg_gettid(void)
{
	return syscall(SYS_gettid);
}

static inline struct modegate_async_req
mg_req(__u32 strategy, void *buf, __u64 len, __u64 off, __u64 latency_ns,
       int cpu, __u64 user_data)
{
	struct modegate_async_req r = {
		.buf = (uintptr_t)buf,
		.len = len,
		.offset = off,
		.user_data = user_data,
		.latency_ns = latency_ns,
		.strategy = strategy,
		.cpu = cpu,
		.error = 12345,	/* the kernel must overwrite it */
	};

	return r;
}

/* Submit @nr requests; the ioctl's return value, or -errno. */
static inline int mg_submit(int fd, struct modegate_async_req *reqs, __u32 nr)
{
	struct modegate_async_submit s = {
		.reqs = (uintptr_t)reqs,
		.nr = nr,
		.req_size = sizeof(*reqs),
	};
	int ret = ioctl(fd, MODEGATE_IOC_ASYNC_SUBMIT, &s);

	if (ret < 0)
		return -errno;
	if (s.queued != (__u32)ret)
		return -EPROTO;
	return ret;
}

/* Reap without blocking: completions reaped, or -errno. */
static inline int mg_reap(int fd, struct modegate_async_completion *c, __u32 nr)
{
	struct modegate_async_reap r = {
		.comps = (uintptr_t)c,
		.nr = nr,
		.comp_size = sizeof(*c),
	};
	int ret = ioctl(fd, MODEGATE_IOC_ASYNC_REAP, &r);

	if (ret < 0)
		return -errno;
	if (r.reaped != (__u32)ret)
		return -EPROTO;
	return ret;
}

/* ASYNC_WAIT: 0 or -errno; *@ready set on success when non-NULL. */
static inline int mg_wait(int fd, __u32 min, __u64 timeout_ns, __u32 *ready)
{
	struct modegate_async_wait w = {
		.min_complete = min,
		.timeout_ns = timeout_ns,
	};

	if (ioctl(fd, MODEGATE_IOC_ASYNC_WAIT, &w))
		return -errno;
	if (ready)
		*ready = w.ready;
	return 0;
}

/*
 * Collect exactly @nr completions (waiting at most MG_WAIT_NS for each
 * batch): @nr, or what was collected before a wait failed.
 */
static inline int mg_collect(int fd, struct modegate_async_completion *c, __u32 nr)
{
	__u32 got = 0;
	int ret;

	while (got < nr) {
		if (mg_wait(fd, 1, MG_WAIT_NS, NULL))
			break;
		ret = mg_reap(fd, c + got, nr - got > 256 ? 256 : nr - got);
		if (ret < 0)
			break;
		got += ret;
	}
	return got;
}

static inline int mg_cancel(int fd, __u64 user_data, __u32 flags)
{
	struct modegate_async_cancel c = {
		.user_data = user_data,
		.flags = flags,
	};

	if (ioctl(fd, MODEGATE_IOC_ASYNC_CANCEL, &c))
		return -errno;
	return c.cancelled;
}

static inline int mg_bystander(int fd, __u32 flags)
{
	struct modegate_bystander b = { .flags = flags };

	return ioctl(fd, MODEGATE_IOC_BYSTANDER, &b) ? -errno : 0;
}

/*
 * Wait (a bounded poll of MODEGATE_IOC_STATS) until nothing is in flight,
 * pending, pinned or referenced: every request has been accounted for.
 * Deliveries of a closed file finish on their own, so this polls.
 */
static inline int mg_quiesce(struct modegate_stats *st)
{
	struct timespec tick = { 0, 1000000 };
	int fd = open(MG_DEV, O_RDONLY);
	int i, ret = -1;

	if (fd < 0)
		return -1;
	for (i = 0; i < 10000; i++) {
		if (mg_stats(fd, st))
			break;
		if (!st->async_inflight && !st->async_pending &&
		    !st->pinned_pages && !st->mm_refs) {
			ret = 0;
			break;
		}
		nanosleep(&tick, NULL);
	}
	close(fd);
	return ret;
}

#define ASSERT_QUIESCENT() do {						\
	struct modegate_stats __st;					\
	int __q = mg_quiesce(&__st);					\
	if (__q)							\
		TH_LOG("not quiescent: inflight=%llu pending=%llu pinned=%llu mm_refs=%llu", \
		       (unsigned long long)__st.async_inflight,		\
		       (unsigned long long)__st.async_pending,		\
		       (unsigned long long)__st.pinned_pages,		\
		       (unsigned long long)__st.mm_refs);		\
	ASSERT_EQ(0, __q);						\
	ASSERT_EQ(__st.async_submitted, __st.async_completed);		\
} while (0)

static inline int mg_pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

static inline int mg_nr_cpus(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set))
		return 1;
	return CPU_COUNT(&set);
}

/* An anonymous mapping of @len bytes, or NULL. */
static inline void *mg_map(size_t len, int flags)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_ANONYMOUS | flags, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* Reap @pid: its exit status, 128 + the signal that killed it, or -1. */
static inline int mg_wait_child(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The state letter of task @tid (a thread or a process) in /proc, or 0. */
static inline char mg_task_state(pid_t tid)
{
	char path[64], stat[512], *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", tid);
	if (mg_read_text(path, stat, sizeof(stat)) <= 0)
		return 0;
	p = strrchr(stat, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

/* Wait (bounded, by polling) until another process sets @flag. */
static inline int mg_wait_flag(volatile int *flag)
{
	uint64_t end = mg_now() + MG_WAIT_NS;

	while (!*flag)
		if (mg_now() > end)
			return -1;
	return 0;
}

/* Drop every id to @uid (and its gid), keeping no supplementary group. */
static inline int mg_become(uid_t uid)
{
	if (setgroups(0, NULL) || setresgid(uid, uid, uid) || setresuid(uid, uid, uid))
		return -1;
	return 0;
}

/*
 * Wait at most @ms for the child @pid (through a pidfd: no sleeping):
 * what mg_wait_child() says, or -2 when it is still running.
 */
static inline int mg_wait_child_ms(pid_t pid, int ms)
{
	int pfd = syscall(SYS_pidfd_open, pid, 0);
	struct pollfd p = { .fd = pfd, .events = POLLIN };
	int n;

	if (pfd < 0)
		return -1;
	n = poll(&p, 1, ms);
	close(pfd);
	return n == 1 ? mg_wait_child(pid) : -2;
}

/* Is the task @pid (a process, or a thread's tid) asleep ('S' in /proc/PID/stat)? */
static inline bool mg_sleeping(pid_t pid)
{
	return mg_task_state(pid) == 'S';
}

/* Read one byte from a pipe within @ms: 0, or -1 (timeout, EOF). */
static inline int mg_read_byte_ms(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;

	if (poll(&p, 1, ms) != 1 || read(fd, &c, 1) != 1)
		return -1;
	return 0;
}

/*
 * main() of a test program that is also its own exec helper: run as
 * "/proc/self/exe ARG", it runs FN() instead of the tests.
 */
#define MG_TEST_MAIN_WITH_HELPER(ARG, FN)				\
	static void __attribute__((constructor)) mg_order_last(void)	\
	{								\
		if (!__constructor_order)				\
			__constructor_order = _CONSTRUCTOR_ORDER_BACKWARD; \
	}								\
	int main(int argc, char **argv)					\
	{								\
		if (argc > 1 && !strcmp(argv[1], ARG))			\
			return FN();					\
		return test_harness_run(argc, argv);			\
	}

/* Read exactly @len bytes from a pipe. */
static inline int mg_read_full(int fd, void *buf, size_t len)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = read(fd, (char *)buf + done, len - done);
		if (n <= 0)
			return -1;
		done += n;
	}
	return 0;
}

/* Pass @fd over the unix socket @sock, with @word as the message. */
static inline int mg_send_fd(int sock, int fd, int word)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = &word, .iov_len = sizeof(word) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == sizeof(word) ? 0 : -1;
}

/* Receive a file passed by mg_send_fd(): the new fd, or -1 (EOF too). */
static inline int mg_recv_fd(int sock, int *word)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	int w, fd;
	struct iovec iov = { .iov_base = &w, .iov_len = sizeof(w) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;

	if (recvmsg(sock, &msg, MSG_WAITALL) != sizeof(w))
		return -1;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	if (word)
		*word = w;
	return fd;
}

/* Who writes the data of a successful request of @strategy. */
static inline __u32 mg_expected_by(__u32 strategy)
{
	switch (strategy) {
	case MODEGATE_STRAT_ADOPT_MM:
		return MODEGATE_DELIVER_WORKER;
	case MODEGATE_STRAT_PIN:
	case MODEGATE_STRAT_REMOTE:
		return MODEGATE_DELIVER_KMAP;
	case MODEGATE_STRAT_BUFFERED:
		return MODEGATE_DELIVER_ORIGINATOR;
	}
	return MODEGATE_DELIVER_NONE;
}

/*
 * The exec cases: a process with requests pending into MG_EXEC_VA execs
 * mgexec (mgexec.c), which maps the same addresses again and talks to the
 * test over MG_EXEC_TX and MG_EXEC_RX.
 */
#define MG_EXEC_VA		((void *)0x5b5b00000000UL)
#define MG_EXEC_LEN(page)	(MG_NR_DELIVERING * (page))
#define MG_EXEC_TX		100	/* mgexec -> test */
#define MG_EXEC_RX		101	/* test -> mgexec */
#define MG_EXEC_MAGIC		0x6d676578U

/* What mgexec sends first. */
struct mg_exec_hello {
	uint32_t magic;		/* MG_EXEC_MAGIC */
	uint32_t pad;
	uint64_t t_start_ns;	/* CLOCK_MONOTONIC as it began */
};

/* mgexec's path (next to the running program) in @path: 0, or -1. */
static inline int mg_exec_path(char *path, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", path, size);
	char *slash;

	if (n <= 0 || (size_t)n >= size)
		return -1;
	path[n] = 0;
	slash = strrchr(path, '/');
	if (!slash || (size_t)(slash - path) + sizeof("/mgexec") > size)
		return -1;
	strcpy(slash + 1, "mgexec");
	return access(path, X_OK);
}

#endif /* _MODEGATE_ASYNC_TEST_H */
