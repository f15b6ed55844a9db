// SPDX-License-Identifier: GPL-2.0
/*
 * mgfuzz - a structure-aware fuzzer for /dev/modegate.
 *
 * It knows the uapi: it builds each ioctl's struct, then mutates sizes,
 * flags, reserved fields and pointers (NULL, kernel addresses, unmapped,
 * PROT_NONE, read-only and page-spanning buffers), and interleaves async
 * submit / cancel / reap / wait with read/write/lseek/poll/mmap, close and
 * reopen, fork and exit with requests pending, across threads and
 * processes.  Buffers are also taken from a hugetlb memfd (when a huge page
 * can be had) and from shmem; forked children sometimes lower their
 * RLIMIT_MEMLOCK and give up CAP_IPC_LOCK (PIN's -ENOMEM), or change uid
 * before using the inherited file (budgets charged to the opener); timed
 * waits are interrupted by the kicks (the time left written back).  Every run prints its seed; the same seed replays the same
 * sequence of calls in each thread (the interleaving between threads is
 * the scheduler's).
 *
 *   mgfuzz [-F] [-s SEED] [-n CALLS] [-p PROCS] [-t THREADS]
 *
 * -F: let the kernel's fault injection (failslab, fail_usercopy with
 * task-filter) fail the fuzzing tasks' allocations and user copies.
 *
 * A call the fuzzer made block for good (ASYNC_WAIT without a time limit,
 * say) is interrupted: each process signals its threads still running once
 * a second (-EINTR), and a forked child ends by SIGALRM after 2 seconds.
 *
 * Exits 0 when the calls were made and the device's counters came back to
 * zero once every fd was closed; the kernel log is judged by the harness.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/modegate.h>

#define MG_DEV "/dev/" MODEGATE_DEVICE_NAME
#define PAGE 4096UL
#define ARENA_PAGES 64
#define HUGE_LEN (2UL << 20)	/* a hugetlb memfd's page, when one can be had */

struct fuzz_thread {
	uint64_t rng;
	long calls;
	int *fd;
	unsigned char *arena;	/* ARENA_PAGES: rw, then a PROT_NONE, a read-only page */
	unsigned char *huge;	/* HUGE_LEN of a hugetlb memfd (shmem if none) */
	int first;		/* the first thread of the first process */
};

static long calls_per_thread;
static unsigned long long seed;
static int fail_inject;
static time_t start_time;

static uint64_t rnd(struct fuzz_thread *t)
{
	/* splitmix64: small, fast, good enough, reproducible. */
	uint64_t z = (t->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t pick(struct fuzz_thread *t, uint64_t n)
{
	return n ? rnd(t) % n : 0;
}

/* A user pointer: mostly good, sometimes as bad as it gets. */
static uint64_t fuzz_ptr(struct fuzz_thread *t, size_t len)
{
	unsigned char *a = t->arena;

	switch (pick(t, 12)) {
	case 0: return 0;
	case 1: return 0xffff888000000000ULL + pick(t, 1 << 20);	/* direct map */
	case 2: return 0xffffffff81000000ULL;				/* kernel text */
	case 3: return (uint64_t)(a + (ARENA_PAGES - 2) * PAGE);	/* PROT_NONE */
	case 4: return (uint64_t)(a + (ARENA_PAGES - 1) * PAGE);	/* read-only */
	case 5: return (uint64_t)(a + (ARENA_PAGES - 2) * PAGE) - pick(t, (len < PAGE ? len : PAGE) + 1); /* spans */
	case 6: return ~0ULL - pick(t, 64);				/* wraps */
	case 7: return 0x10000 + pick(t, 1 << 20) * PAGE;		/* unmapped, probably */
	case 8: return (uint64_t)(t->huge + pick(t, HUGE_LEN - (len < PAGE ? len : PAGE)));
	default:
		return (uint64_t)(a + pick(t, (ARENA_PAGES - 2) * PAGE - (len < PAGE ? len : PAGE)));
	}
}

static uint64_t fuzz_len(struct fuzz_thread *t)
{
	switch (pick(t, 6)) {
	case 0: return 0;
	case 1: return ~0ULL - pick(t, 4096);
	case 2: return pick(t, 1 << 22);
	default: return 1 + pick(t, 3 * PAGE);
	}
}

static void fill_random(struct fuzz_thread *t, void *p, size_t n)
{
	unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = rnd(t);
}

/* Mostly-valid flags: sometimes an unknown bit. */
static uint32_t fuzz_flags(struct fuzz_thread *t, uint32_t valid)
{
	if (pick(t, 8) == 0)
		return (uint32_t)rnd(t);
	return (uint32_t)rnd(t) & valid;
}

static void fuzz_async_req(struct fuzz_thread *t, struct modegate_async_req *r)
{
	memset(r, 0, sizeof(*r));
	r->len = pick(t, 4) ? 1 + pick(t, 2 * PAGE) : fuzz_len(t);
	r->buf = fuzz_ptr(t, r->len);
	r->offset = pick(t, 4) ? pick(t, 8192) : rnd(t);
	r->user_data = pick(t, 16);
	r->latency_ns = pick(t, 8) ? pick(t, 2000000) : rnd(t);
	r->strategy = pick(t, 8) ? 1 + pick(t, MODEGATE_STRAT_MAX) : (uint32_t)rnd(t);
	r->cpu = pick(t, 4) ? MODEGATE_CPU_ANY : (int32_t)pick(t, 4) - (pick(t, 8) == 0) * 100;
	r->flags = fuzz_flags(t, MODEGATE_REQ_DEMO_WRONG_PROCESS);
	if (pick(t, 16) == 0)
		r->error = (int32_t)rnd(t);
}

static const unsigned int fuzz_cmds[] = {
	MODEGATE_IOC_INFO, MODEGATE_IOC_PROBE, MODEGATE_IOC_VA_TRANSLATE,
	MODEGATE_IOC_STATS, MODEGATE_IOC_ASYNC_SUBMIT, MODEGATE_IOC_ASYNC_REAP,
	MODEGATE_IOC_ASYNC_WAIT, MODEGATE_IOC_ASYNC_CANCEL,
	MODEGATE_IOC_ASYNC_EVENTFD, MODEGATE_IOC_BYSTANDER,
};

static void fuzz_ioctl(struct fuzz_thread *t, int fd)
{
	union {
		struct modegate_probe probe;
		struct modegate_va_translate va;
		struct modegate_async_submit submit;
		struct modegate_async_reap reap;
		struct modegate_async_wait wait;
		struct modegate_async_cancel cancel;
		struct modegate_async_eventfd efd;
		struct modegate_bystander by;
		/* Room for the largest size a command number can encode. */
		unsigned char raw[_IOC_SIZEMASK + 1];
	} arg;
	struct modegate_async_req reqs[8];
	struct modegate_async_completion comps[8];
	struct modegate_va_page pages[8];
	unsigned int cmd = fuzz_cmds[pick(t, sizeof(fuzz_cmds) / sizeof(fuzz_cmds[0]))];
	unsigned int i, n;
	void *argp = &arg;

	memset(&arg, 0, 512);
	switch (_IOC_NR(cmd)) {
	case _IOC_NR(MODEGATE_IOC_PROBE):
		arg.probe.len = pick(t, 3) ? pick(t, 2 * PAGE) : fuzz_len(t);
		arg.probe.addr = fuzz_ptr(t, arg.probe.len);
		arg.probe.op = pick(t, 8) ? 1 + pick(t, 2) : (uint32_t)rnd(t);
		arg.probe.flags = fuzz_flags(t, 0);
		break;
	case _IOC_NR(MODEGATE_IOC_VA_TRANSLATE):
		arg.va.addr = pick(t, 2) ? (uint64_t)t->arena : fuzz_ptr(t, PAGE);
		arg.va.nr_pages = pick(t, 8) ? 1 + pick(t, 8) : fuzz_len(t);
		arg.va.pages = pick(t, 4) ? (uint64_t)pages : fuzz_ptr(t, sizeof(pages));
		arg.va.flags = fuzz_flags(t, MODEGATE_VA_FAULT_IN);
		break;
	case _IOC_NR(MODEGATE_IOC_ASYNC_SUBMIT):
		n = 1 + pick(t, 8);
		for (i = 0; i < n; i++)
			fuzz_async_req(t, &reqs[i]);
		arg.submit.reqs = pick(t, 8) ? (uint64_t)reqs : fuzz_ptr(t, sizeof(reqs));
		arg.submit.nr = pick(t, 8) ? n : (uint32_t)rnd(t);
		arg.submit.req_size = pick(t, 8) ? sizeof(reqs[0]) : (uint32_t)pick(t, 128);
		arg.submit.flags = fuzz_flags(t, 0);
		/* The delivery thread follows the submitter's nice. */
		if (pick(t, 16) == 0)
			setpriority(PRIO_PROCESS, 0, (int)pick(t, 40) - 20);
		break;
	case _IOC_NR(MODEGATE_IOC_ASYNC_REAP):
		arg.reap.comps = pick(t, 8) ? (uint64_t)comps : fuzz_ptr(t, sizeof(comps));
		arg.reap.nr = pick(t, 8) ? 1 + pick(t, 8) : (uint32_t)rnd(t);
		arg.reap.comp_size = pick(t, 8) ? sizeof(comps[0]) : (uint32_t)pick(t, 256);
		arg.reap.flags = fuzz_flags(t, 0);
		break;
	case _IOC_NR(MODEGATE_IOC_ASYNC_WAIT):
		arg.wait.min_complete = pick(t, 4);
		/* Sometimes long enough for a kick to interrupt (and restart) it. */
		arg.wait.timeout_ns = 1 + pick(t, pick(t, 32) ? 1000000 : 3000000000ULL);
		arg.wait.flags = fuzz_flags(t, 0);
		break;
	case _IOC_NR(MODEGATE_IOC_ASYNC_CANCEL):
		arg.cancel.user_data = pick(t, 16);
		arg.cancel.flags = fuzz_flags(t, MODEGATE_CANCEL_ALL);
		break;
	case _IOC_NR(MODEGATE_IOC_ASYNC_EVENTFD):
		arg.efd.fd = pick(t, 2) ? -1 : (int32_t)pick(t, 16);
		arg.efd.flags = fuzz_flags(t, 0);
		break;
	case _IOC_NR(MODEGATE_IOC_BYSTANDER):
		arg.by.flags = fuzz_flags(t, MODEGATE_BYSTANDER_REGISTER);
		break;
	}
	if (pick(t, 16) == 0)		/* reserved bytes and padding */
		fill_random(t, arg.raw + _IOC_SIZE(cmd) - 8, 8);
	if (pick(t, 10) == 0) {		/* the size in the command number */
		unsigned int size = pick(t, 4) ? pick(t, 512) : pick(t, sizeof(arg.raw));

		if (size > _IOC_SIZE(cmd))
			memset(arg.raw + _IOC_SIZE(cmd), 0, size - _IOC_SIZE(cmd));
		if (pick(t, 2))
			fill_random(t, arg.raw + _IOC_SIZE(cmd), 64);
		cmd = _IOC(_IOC_DIR(cmd), _IOC_TYPE(cmd), _IOC_NR(cmd), size);
	}
	if (pick(t, 20) == 0) {		/* direction, number, type */
		cmd ^= 1U << pick(t, 32);
		memset(arg.raw + 512, 0, sizeof(arg.raw) - 512);
	}
	if (pick(t, 12) == 0)
		argp = (void *)fuzz_ptr(t, sizeof(arg));
	ioctl(fd, cmd, argp);
}

/*
 * A forked child sometimes becomes another submitter of the inherited
 * file: without CAP_IPC_LOCK and with a small RLIMIT_MEMLOCK (its pins
 * meet the limit), or as another uid (still charged to the opener).
 */
static void fuzz_identity(struct fuzz_thread *t)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];
	struct rlimit rl;

	if (pick(t, 2)) {
		rl.rlim_cur = rl.rlim_max = pick(t, 64) * PAGE;
		if (!syscall(SYS_capget, &h, d)) {
			d[CAP_TO_INDEX(CAP_IPC_LOCK)].effective &= ~CAP_TO_MASK(CAP_IPC_LOCK);
			syscall(SYS_capset, &h, d);
		}
		setrlimit(RLIMIT_MEMLOCK, &rl);
	}
	if (pick(t, 4) == 0 && geteuid() == 0) {
		uid_t uid = 60100 + pick(t, 4);

		if (setgid(uid) || setuid(uid))
			return;
	}
}

static void fuzz_one(struct fuzz_thread *t)
{
	int fd = *t->fd;
	size_t len;
	struct pollfd pfd;

	switch (pick(t, 16)) {
	case 0: case 1: case 2: case 3: case 4: case 5:
		fuzz_ioctl(t, fd);
		break;
	case 6:
		len = pick(t, 3 * PAGE);
		if (pread(fd, (void *)fuzz_ptr(t, len), len, pick(t, 4) ? pick(t, 1 << 20) : rnd(t)) < 0)
			break;
		break;
	case 7:
		len = pick(t, 3 * PAGE);
		if (pwrite(fd, (void *)fuzz_ptr(t, len), len, pick(t, 1 << 20) + (pick(t, 32) ? 0 : rnd(t))) < 0)
			break;
		break;
	case 8:
		lseek(fd, (off_t)(pick(t, 2) ? pick(t, 1 << 21) : rnd(t)), (int)pick(t, 6));
		break;
	case 9:
		pfd.fd = fd;
		pfd.events = POLLIN | POLLOUT;
		poll(&pfd, 1, 0);
		break;
	case 10: {
		void *m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

		if (m != MAP_FAILED)
			munmap(m, PAGE);
		break;
	}
	case 11:	/* close and reopen, possibly with requests pending */
		if (pick(t, 8) == 0) {
			int nfd = open(MG_DEV, pick(t, 2) ? O_RDWR : O_RDWR | O_APPEND);

			if (nfd >= 0) {
				*t->fd = nfd;
				close(fd);
			}
		}
		break;
	case 12:	/* a child that submits and exits, or just exits */
		if (pick(t, 64) == 0) {
			pid_t pid = fork();

			if (pid == 0) {
				alarm(2);	/* a blocking call ends it, by SIGALRM */
				t->rng ^= 0x5a5a5a5a;
				fuzz_identity(t);
				for (int i = 0; i < 16; i++)
					fuzz_ioctl(t, fd);
				_exit(0);
			}
			if (pid > 0 && pick(t, 2))
				waitpid(pid, NULL, 0);
		}
		break;
	default:
		fuzz_ioctl(t, fd);
		break;
	}
}

static void kick(int sig)
{
}

static void *fuzz_thread_main(void *p)
{
	struct fuzz_thread *t = p;

	if (fail_inject) {	/* only this thread (and what it forks) */
		int mf = open("/proc/thread-self/make-it-fail", O_WRONLY);

		if (mf < 0 || write(mf, "1", 1) != 1) {
			perror("mgfuzz: /proc/thread-self/make-it-fail");
			exit(1);
		}
		close(mf);
	}
	while (t->calls < calls_per_thread) {
		fuzz_one(t);
		t->calls++;
		/* Progress, from one thread: a slow run is told from a stuck one. */
		if (t->first && !(t->calls % (calls_per_thread / 10 + 1))) {
			printf("mgfuzz: %ld of %ld calls in the first thread, %llu s\n",
			       t->calls, calls_per_thread,
			       (unsigned long long)(time(NULL) - start_time));
			fflush(stdout);
		}
	}
	return NULL;
}

/* HUGE_LEN of a hugetlb memfd, or of a shmem memfd without huge pages. */
static unsigned char *fuzz_map_huge(void)
{
	int mfd = memfd_create("mgfuzz-huge", MFD_HUGETLB);
	void *p = MAP_FAILED;

	if (mfd >= 0 && !ftruncate(mfd, HUGE_LEN))
		p = mmap(NULL, HUGE_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	if (mfd >= 0)
		close(mfd);
	if (p == MAP_FAILED) {
		mfd = memfd_create("mgfuzz-shmem", 0);
		if (mfd < 0 || ftruncate(mfd, HUGE_LEN))
			return NULL;
		p = mmap(NULL, HUGE_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
		close(mfd);
	}
	return p == MAP_FAILED ? NULL : p;
}

static int fuzz_process(int proc, int nthreads)
{
	struct fuzz_thread th[16];
	pthread_t tid[16];
	unsigned char *arena, *huge;
	int fd, i;

	arena = mmap(NULL, ARENA_PAGES * PAGE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (arena == MAP_FAILED)
		return 1;
	memset(arena, 0x5a, ARENA_PAGES * PAGE);
	mprotect(arena + (ARENA_PAGES - 2) * PAGE, PAGE, PROT_NONE);
	mprotect(arena + (ARENA_PAGES - 1) * PAGE, PAGE, PROT_READ);
	huge = fuzz_map_huge();
	if (!huge)
		return 1;
	fd = open(MG_DEV, O_RDWR);
	if (fd < 0) {
		perror("mgfuzz: open " MG_DEV);
		return 1;
	}
	for (i = 0; i < nthreads; i++) {
		th[i] = (struct fuzz_thread){
			.rng = seed * 1000003ULL + proc * 101ULL + i,
			.fd = &fd, .arena = arena, .huge = huge, .first = !proc && !i,
		};
		if (pthread_create(&tid[i], NULL, fuzz_thread_main, &th[i]))
			return 1;
	}
	/*
	 * A call may block for good, as asked: ASYNC_WAIT given a struct the
	 * fuzzer scribbled, with a zero (no limit) timeout, and no request
	 * left to complete.  Kick each thread still running with a signal once
	 * a second: that call returns -EINTR (no completion is lost) and the
	 * thread goes on.
	 */
	for (i = 0; i < nthreads; i++) {
		struct timespec at;

		for (;;) {
			clock_gettime(CLOCK_REALTIME, &at);
			at.tv_sec++;
			if (pthread_timedjoin_np(tid[i], NULL, &at) != ETIMEDOUT)
				break;
			pthread_kill(tid[i], SIGUSR1);
		}
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	long calls = 100000;
	int procs = 2, threads = 2, opt, i, status, rc = 0;
	struct modegate_stats st;
	int fd;

	seed = (unsigned long long)time(NULL) ^ getpid();
	while ((opt = getopt(argc, argv, "Fs:n:p:t:")) != -1) {
		switch (opt) {
		case 'F': fail_inject = 1; break;
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 'n': calls = strtol(optarg, NULL, 0); break;
		case 'p': procs = atoi(optarg); break;
		case 't': threads = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: mgfuzz [-F] [-s SEED] [-n CALLS] [-p PROCS] [-t THREADS]\n");
			return 2;
		}
	}
	if (procs < 1 || procs > 16 || threads < 1 || threads > 16 || calls < 1)
		return 2;
	calls_per_thread = calls / (procs * threads) + 1;
	start_time = time(NULL);
	printf("mgfuzz: seed=%llu calls=%ld procs=%d threads=%d\n", seed, calls, procs, threads);
	fflush(stdout);
	signal(SIGPIPE, SIG_IGN);
	/* No SA_RESTART: the kick interrupts a blocking call. */
	sigaction(SIGUSR1, &(struct sigaction){ .sa_handler = kick }, NULL);
	for (i = 0; i < procs; i++) {
		if (fork() == 0)
			_exit(fuzz_process(i, threads));
	}
	while (wait(&status) > 0)
		if (WIFEXITED(status) && WEXITSTATUS(status))
			rc = 1;
	/* Every fuzzing fd is closed: nothing may be left in flight. */
	fd = open(MG_DEV, O_RDONLY);
	if (fd < 0 || ioctl(fd, MODEGATE_IOC_STATS, &st)) {
		perror("mgfuzz: stats");
		return 1;
	}
	close(fd);
	printf("mgfuzz: done in %llu s seed=%llu calls>=%ld inflight=%llu pending=%llu pinned=%llu mm_refs=%llu open=%llu\n",
	       (unsigned long long)(time(NULL) - start_time), seed, calls, (unsigned long long)st.async_inflight,
	       (unsigned long long)st.async_pending, (unsigned long long)st.pinned_pages,
	       (unsigned long long)st.mm_refs, (unsigned long long)st.open_files);
	if (st.async_inflight || st.async_pending || st.pinned_pages || st.mm_refs || st.open_files != 1)
		rc = 1;
	return rc;
}
