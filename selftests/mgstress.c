// SPDX-License-Identifier: GPL-2.0
/*
 * mgstress - the async engine's lifecycle races, in loops, for a set time.
 *
 * async_life_test checks each race one way, 200 times, with exact
 * expectations.  mgstress runs them all at once, for as long as asked:
 * WORKERS processes cycle through the scenarios below with random sizes,
 * strategies, CPUs and latencies and a random delay before the racing
 * action, while a thread of the main process keeps trying to unload the
 * module.  Every completion is checked where it can be:
 *
 *   exit         a child submits on the shared file and exits; the parent
 *                reaps: bytes or -ESRCH (BUFFERED: -ESRCH), and nothing in
 *                the parent's copy of the buffers
 *   exit_own_fd  a child opens its own file, submits and exits
 *   exec         a child submits and execs; as "exit"
 *   munmap       the buffers are unmapped after submit: PIN delivers into its
 *                pinned pages, BUFFERED gets -EFAULT, ADOPT_MM and REMOTE
 *                the bytes, -EFAULT, -EAGAIN (the unmap held the mmap
 *                lock), or the bytes that got there before the unmap (a
 *                partial result)
 *   close        the file is closed with requests pending (the buffers
 *                sometimes unmapped and mapped again first)
 *   cancel       cancel one or all racing the interrupts: bytes (exact) or
 *                -ECANCELED (buffer untouched), as many as cancel said
 *   fork         fork racing the deliveries: every byte lands in the
 *                parent, none is lost to the child's copy
 *   fd_pass      the file goes over SCM_RIGHTS to another process, which
 *                reaps what it may see (not BUFFERED); the sender sometimes
 *                closes its copy at once
 *   threads      one thread submits, one cancels, one reaps, on one file
 *   memlock      a child without CAP_IPC_LOCK and a small RLIMIT_MEMLOCK
 *                submits PIN requests on its own file (queued, -EAGAIN or
 *                -ENOMEM), cancels or unmaps some, collects them all: its
 *                VmPin is 0 again
 *   mmap_churn   a thread maps, protects and unmaps a page in a loop (the
 *                mmap lock taken for writing, over and over) while a batch
 *                is delivered: ADOPT_MM and REMOTE poll that lock for a
 *                bounded time, so they end with the bytes, the bytes up
 *                to a page they could not fault in, or -EAGAIN (the rest
 *                of the buffer untouched), and never wait for good
 *
 * A fork holds the mmap lock for writing too: in "fork" as in
 * "mmap_churn", an ADOPT_MM or REMOTE request may end early that way.
 *
 * Each request ends exactly once (no completion lost, none twice), and
 * at the end, every file closed but one, nothing is in flight, pending,
 * pinned or referenced, submitted == completed, and the locked memory the
 * pins took is back: a process limited to N pages can pin N, not N + 1.
 *
 *   mgstress [-d SECONDS] [-w WORKERS] [-s SEED]
 *   mgstress -U CYCLES [-s SEED]
 *
 * -U: load the module, submit (and fork children that submit) with
 * deliveries still pending, close, unload at once; CYCLES times.  The
 * module must not be in use when it starts (it is unloaded first).
 *
 * Prints "result stress ok|fail NAME" lines for the harness, and the seed:
 * the same seed replays each worker's choices (the interleaving is the
 * scheduler's).  Exits 0 when every check passed.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <linux/capability.h>

#include "async_test.h"

#define MAXK		8	/* requests per batch */
#define MAX_ROUNDS	16	/* batches of the threads scenario */
#define MAX_WORKERS	16
#define STRESS_LATENCY	(400 * MG_USEC)
#define NOOP_ARG	"--noop"

enum {
	SC_EXIT, SC_EXIT_OWN_FD, SC_EXEC, SC_MUNMAP, SC_CLOSE,
	SC_CANCEL, SC_FORK, SC_FDPASS, SC_THREADS, SC_MEMLOCK, SC_MMAP_CHURN,
	SC_NR
};

static const char *const sc_name[SC_NR] = {
	"exit", "exit_own_fd", "exec", "munmap", "close",
	"cancel", "fork", "fd_pass", "threads", "memlock", "mmap_churn",
};

/* Per worker and scenario, in memory shared with the main process. */
struct sc_stat {
	long iters;
	long reqs;
	long fails;
	long partial;		/* partial deliveries (an unmap mid-copy, the mmap lock) */
	char first_fail[200];
};

static struct sc_stat (*stats)[SC_NR];
static unsigned long long seed;
static size_t page;
static uint64_t store_cap;

struct batch {
	int k;
	int nq;
	uint8_t *mem;			/* MAXK * 2 pages */
	struct modegate_async_req r[MAXK];
	bool seen[MAXK];
};

struct worker {
	int id;
	uint64_t rng;
	int fd;			/* the worker's file, inherited by its children */
	int sock;		/* to the fd_pass receiver */
	pid_t receiver;
	int ncpu;
	int sc;
	uint64_t ud;		/* next user_data: unique in the worker */
	uint8_t *close_area;	/* the close scenario's buffers, never reused */
};

static uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t pick(uint64_t *s, uint64_t n)
{
	return n ? rnd(s) % n : 0;
}

/* A random delay before the racing action: a spin, not a synchronisation. */
static void spin(uint64_t *s, uint64_t max_ns)
{
	uint64_t end = mg_now() + pick(s, max_ns);

	while (mg_now() < end)
		;
}

static void fail(struct worker *w, const char *fmt, ...)
{
	struct sc_stat *st = &stats[w->id][w->sc];
	char msg[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!st->fails++)
		snprintf(st->first_fail, sizeof(st->first_fail), "iteration %ld: %s",
			 st->iters, msg);
	if (st->fails > 5)	/* the first few say it; the count says the rest */
		return;
	fprintf(stderr, "mgstress: worker %d %s iteration %ld: %s (seed %llu)\n",
		w->id, sc_name[w->sc], st->iters, msg, seed);
}

/* @k random requests (NAIVE sometimes) into @mem, user_data from @ud. */
static void make_batch(uint64_t *s, struct batch *b, uint8_t *mem, uint64_t *ud,
		       int ncpu, int k)
{
	int i;

	memset(b, 0, sizeof(*b));
	b->k = k;
	b->mem = mem;
	for (i = 0; i < k; i++) {
		uint64_t len = 1 + pick(s, 2 * page);
		__u32 strat = pick(s, 8) ? mg_delivering[pick(s, MG_NR_DELIVERING)]
					 : MODEGATE_STRAT_NAIVE;

		b->r[i] = mg_req(strat, mem + i * 2 * page, len,
				 pick(s, store_cap - len + 1),
				 pick(s, 4) ? pick(s, STRESS_LATENCY) : 0,
				 pick(s, 3) ? (int)pick(s, ncpu) : MODEGATE_CPU_ANY,
				 (*ud)++);
	}
}

/* Submit: every request must be queued or refused for the in-flight limit. */
static int submit_batch(int fd, struct batch *b, char *why, size_t wlen)
{
	int ret = mg_submit(fd, b->r, b->k), i, nq = 0;

	if (ret < 0) {
		snprintf(why, wlen, "submit: %s", strerror(-ret));
		return -1;
	}
	for (i = 0; i < b->k; i++) {
		if (!b->r[i].error)
			nq++;
		else if (b->r[i].error != -EAGAIN) {
			snprintf(why, wlen, "request %d refused: %s", i,
				 strerror(-b->r[i].error));
			return -1;
		}
	}
	if (nq != ret) {
		snprintf(why, wlen, "submit returned %d, %d queued", ret, nq);
		return -1;
	}
	b->nq = nq;
	return 0;
}

/*
 * A random batch into @mem, submitted on @fd and counted for the worker's
 * scenario: 0, or -1 when the submit failed (reported).
 */
static int start_batch(struct worker *w, int fd, struct batch *b, uint8_t *mem)
{
	char why[160];

	make_batch(&w->rng, b, mem, &w->ud, w->ncpu, 1 + pick(&w->rng, MAXK));
	if (submit_batch(fd, b, why, sizeof(why))) {
		fail(w, "%s", why);
		return -1;
	}
	stats[w->id][w->sc].reqs += b->nq;
	return 0;
}

/* Which request of @b does @c complete?  Once, and only a queued one. */
static struct modegate_async_req *match(struct worker *w, struct batch *b,
					const struct modegate_async_completion *c)
{
	int i;

	for (i = 0; i < b->k; i++) {
		if (b->r[i].user_data != c->user_data)
			continue;
		if (b->r[i].error) {
			fail(w, "completion for unqueued request %llu",
			     (unsigned long long)c->user_data);
			return NULL;
		}
		if (b->seen[i]) {
			fail(w, "request %llu completed twice",
			     (unsigned long long)c->user_data);
			return NULL;
		}
		b->seen[i] = true;
		if (c->strategy != b->r[i].strategy) {
			fail(w, "request %llu: strategy %u, submitted %u",
			     (unsigned long long)c->user_data, c->strategy,
			     b->r[i].strategy);
			return NULL;
		}
		return &b->r[i];
	}
	fail(w, "completion for unknown user_data %llu", (unsigned long long)c->user_data);
	return NULL;
}

/*
 * A completion of a request whose buffer is still mapped in this process:
 * all its bytes, exactly, or an allowed error and the buffer untouched.
 */
static void check_here(struct worker *w, const struct modegate_async_req *r,
		       const struct modegate_async_completion *c, bool may_cancel)
{
	const uint8_t *buf = (const uint8_t *)(uintptr_t)r->buf;

	if (c->result == (__s64)r->len) {
		if (r->strategy == MODEGATE_STRAT_NAIVE)
			fail(w, "NAIVE delivered");
		else if (!mg_match(buf, r->offset, r->len))
			fail(w, "request %llu: wrong bytes", (unsigned long long)r->user_data);
		return;
	}
	if (c->result == -EXDEV && r->strategy == MODEGATE_STRAT_NAIVE) {
		/* fall through to the untouched check */
	} else if (c->result == -ECANCELED && may_cancel) {
		if (!(c->ctx_flags & MODEGATE_CTX_CANCELLED))
			fail(w, "-ECANCELED without MODEGATE_CTX_CANCELLED");
	} else {
		fail(w, "request %llu (strategy %u): result %lld", (unsigned long long)r->user_data,
		     r->strategy, (long long)c->result);
		return;
	}
	if (!mg_all(buf, 0, r->len))
		fail(w, "request %llu: result %lld, yet its buffer was written",
		     (unsigned long long)r->user_data, (long long)c->result);
}

/*
 * ADOPT_MM or REMOTE ended early because the mmap lock stayed taken: the
 * bytes before a page it could not fault in, or -EAGAIN, and nothing
 * written after them.  True when @c is such an ending (checked).
 */
static bool check_lock_bounded(struct worker *w, const struct modegate_async_req *r,
			       const struct modegate_async_completion *c)
{
	const uint8_t *buf = (const uint8_t *)(uintptr_t)r->buf;
	size_t n = c->result > 0 ? c->result : 0;

	if (r->strategy != MODEGATE_STRAT_ADOPT_MM && r->strategy != MODEGATE_STRAT_REMOTE)
		return false;
	if (c->result != -EAGAIN && (c->result <= 0 || c->result >= (__s64)r->len))
		return false;
	if (!mg_match(buf, r->offset, n) || !mg_all(buf + n, 0, r->len - n))
		fail(w, "request %llu: result %lld, but not those bytes alone",
		     (unsigned long long)r->user_data, (long long)c->result);
	stats[w->id][w->sc].partial++;
	return true;
}

static int collect(struct worker *w, int fd, struct modegate_async_completion *c, int n)
{
	int got = mg_collect(fd, c, n);

	if (got != n)
		fail(w, "collected %d of %d completions", got, n);
	return got;
}

static bool all_zero(const uint8_t *p, size_t len)
{
	return mg_all(p, 0, len);
}

/* Children report through their exit status: 0, or which step failed. */
static int wait_child(struct worker *w, pid_t pid)
{
	int st = mg_wait_child(pid);

	if (st)
		fail(w, "child exited %d", st);
	return st;
}

/*
 * exit, exit_own_fd, exec: a child submits and goes away; the parent reaps
 * what was submitted on the shared file.
 */
static void sc_child_submits(struct worker *w, int how)
{
	struct modegate_async_completion c[MAXK];
	uint8_t *mem = mg_map(MAXK * 2 * page, MAP_PRIVATE);
	struct batch b;
	int i, got, p[2];
	pid_t pid;

	if (!mem || pipe(p)) {
		fail(w, "mmap/pipe: %s", strerror(errno));
		return;
	}
	make_batch(&w->rng, &b, mem, &w->ud, w->ncpu, 1 + pick(&w->rng, MAXK));
	pid = fork();
	if (pid == 0) {
		char why[160];
		int fd = w->fd;

		if (how == SC_EXIT_OWN_FD)
			fd = open(MG_DEV, O_RDWR);
		if (fd < 0 || submit_batch(fd, &b, why, sizeof(why)))
			_exit(3);
		if (write(p[1], b.r, sizeof(b.r)) != sizeof(b.r))
			_exit(4);
		spin(&w->rng, STRESS_LATENCY);
		if (how == SC_EXEC) {
			char *argv[] = { "mgstress", NOOP_ARG, NULL };

			execv("/proc/self/exe", argv);
			_exit(5);
		}
		_exit(0);	/* with the own file still open */
	}
	close(p[1]);
	if (pid < 0 || mg_read_full(p[0], b.r, sizeof(b.r))) {
		fail(w, "child did not submit");
		close(p[0]);
		if (pid > 0)
			wait_child(w, pid);
		munmap(mem, MAXK * 2 * page);
		return;
	}
	close(p[0]);
	for (i = 0; i < b.k; i++)
		b.nq += !b.r[i].error;
	stats[w->id][w->sc].reqs += b.nq;
	if (wait_child(w, pid))
		goto out;
	if (how != SC_EXIT_OWN_FD) {
		/* The originating address space is gone: bytes, or -ESRCH. */
		got = collect(w, w->fd, c, b.nq);
		for (i = 0; i < got; i++) {
			struct modegate_async_req *r = match(w, &b, &c[i]);

			if (!r)
				continue;
			if (r->strategy == MODEGATE_STRAT_NAIVE ? c[i].result != -EXDEV :
			    r->strategy == MODEGATE_STRAT_BUFFERED ? c[i].result != -ESRCH :
			    c[i].result != (__s64)r->len && c[i].result != -ESRCH)
				fail(w, "strategy %u: result %lld", r->strategy,
				     (long long)c[i].result);
			if (c[i].origin_tgid != pid)
				fail(w, "origin_tgid %d, child %d", c[i].origin_tgid, pid);
		}
	}
	/* The child's deliveries never reach the parent's copy. */
	if (!all_zero(mem, MAXK * 2 * page))
		fail(w, "a child's request wrote into the parent");
out:
	munmap(mem, MAXK * 2 * page);
}

static void sc_munmap(struct worker *w)
{
	struct modegate_async_completion c[MAXK];
	uint8_t *mem = mg_map(MAXK * 2 * page, MAP_PRIVATE);
	struct batch b;
	int i, got;

	if (!mem) {
		fail(w, "mmap: %s", strerror(errno));
		return;
	}
	memset(mem, 0, MAXK * 2 * page);	/* present: PIN pins at submit */
	if (start_batch(w, w->fd, &b, mem)) {
		munmap(mem, MAXK * 2 * page);
		return;
	}
	spin(&w->rng, STRESS_LATENCY);
	munmap(mem, MAXK * 2 * page);
	got = collect(w, w->fd, c, b.nq);
	for (i = 0; i < got; i++) {
		struct modegate_async_req *r = match(w, &b, &c[i]);
		bool ok;

		if (!r)
			continue;
		switch (r->strategy) {
		case MODEGATE_STRAT_PIN:
			ok = c[i].result == (__s64)r->len;
			break;
		case MODEGATE_STRAT_BUFFERED:
			ok = c[i].result == -EFAULT;
			break;
		case MODEGATE_STRAT_NAIVE:
			ok = c[i].result == -EXDEV;
			break;
		default:
			/* An unmap in the middle of the copy: what got there. */
			ok = (c[i].result > 0 && c[i].result <= (__s64)r->len) ||
			     c[i].result == -EFAULT || c[i].result == -EAGAIN;
			stats[w->id][w->sc].partial += c[i].result > 0 &&
							c[i].result < (__s64)r->len;
		}
		if (!ok)
			fail(w, "strategy %u after munmap: result %lld", r->strategy,
			     (long long)c[i].result);
	}
}

static void sc_close(struct worker *w)
{
	size_t area = MAXK * 2 * page;
	int fd = open(MG_DEV, O_RDWR);
	bool unmap = pick(&w->rng, 2);
	struct batch b;

	if (fd < 0) {
		fail(w, "open: %s", strerror(errno));
		return;
	}
	start_batch(w, fd, &b, w->close_area);	/* closed either way */
	spin(&w->rng, STRESS_LATENCY);
	if (unmap)
		munmap(w->close_area, area);
	close(fd);
	/*
	 * Deliveries already running finish after the close: this area is
	 * used by no other scenario, so whatever lands here is checked by no
	 * one.  What the engine owes is checked by the counters at the end.
	 */
	if (unmap && mmap(w->close_area, area, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != w->close_area)
		fail(w, "mmap again: %s", strerror(errno));
}

static void sc_cancel(struct worker *w)
{
	struct modegate_async_completion c[MAXK];
	uint8_t *mem = mg_map(MAXK * 2 * page, MAP_PRIVATE);
	int i, got, ret, cancelled = 0, ecanceled = 0;
	struct batch b;

	if (!mem) {
		fail(w, "mmap: %s", strerror(errno));
		return;
	}
	if (start_batch(w, w->fd, &b, mem))
		goto out;
	spin(&w->rng, STRESS_LATENCY);
	if (pick(&w->rng, 2))
		ret = mg_cancel(w->fd, 0, MODEGATE_CANCEL_ALL);
	else
		ret = mg_cancel(w->fd, b.r[pick(&w->rng, b.k)].user_data, 0);
	if (ret < 0)
		fail(w, "cancel: %s", strerror(-ret));
	else
		cancelled += ret;
	got = collect(w, w->fd, c, b.nq);
	for (i = 0; i < got; i++) {
		struct modegate_async_req *r = match(w, &b, &c[i]);

		if (!r)
			continue;
		check_here(w, r, &c[i], true);
		ecanceled += c[i].result == -ECANCELED;
	}
	if (ecanceled != cancelled)
		fail(w, "cancel said %d, %d completions said -ECANCELED", cancelled, ecanceled);
out:
	munmap(mem, MAXK * 2 * page);
}

static void sc_fork(struct worker *w)
{
	struct modegate_async_completion c[MAXK];
	size_t area = MAXK * 2 * page;
	uint8_t *mem = mg_map(area, MAP_PRIVATE);
	struct batch b;
	int i, got;
	pid_t pid;

	if (!mem) {
		fail(w, "mmap: %s", strerror(errno));
		return;
	}
	if (pick(&w->rng, 2))
		memset(mem, 0, area);	/* present pages: fork sees PIN's pins */
	if (start_batch(w, w->fd, &b, mem))
		goto out;
	spin(&w->rng, STRESS_LATENCY);
	pid = fork();
	if (pid == 0) {
		/* Write every page of the child's copy: break every COW share. */
		memset(mem, 0xee, area);
		_exit(0);
	}
	if (pid < 0)
		fail(w, "fork: %s", strerror(errno));
	got = collect(w, w->fd, c, b.nq);
	if (pid > 0)
		wait_child(w, pid);
	for (i = 0; i < got; i++) {
		struct modegate_async_req *r = match(w, &b, &c[i]);

		if (r && !check_lock_bounded(w, r, &c[i]))
			check_here(w, r, &c[i], false);
	}
out:
	munmap(mem, area);
}

struct churn_state {
	atomic_bool stop;
	const char *why;
};

static void *churner(void *p)
{
	struct churn_state *cs = p;
	void *q;

	while (!atomic_load(&cs->stop)) {
		q = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (q == MAP_FAILED || mprotect(q, page, PROT_READ) || munmap(q, page)) {
			cs->why = "mmap, mprotect or munmap failed";
			break;
		}
	}
	return NULL;
}

static void sc_mmap_churn(struct worker *w)
{
	struct modegate_async_completion c[MAXK];
	size_t area = MAXK * 2 * page;
	uint8_t *mem = mg_map(area, MAP_PRIVATE);
	struct churn_state cs = { 0 };
	struct batch b;
	pthread_t t;
	int i, got;

	if (!mem) {
		fail(w, "mmap: %s", strerror(errno));
		return;
	}
	if (pick(&w->rng, 2))
		memset(mem, 0, area);	/* present pages: ADOPT_MM needs no lock */
	if (pthread_create(&t, NULL, churner, &cs)) {
		fail(w, "pthread_create");
		goto out;
	}
	if (!start_batch(w, w->fd, &b, mem)) {
		got = collect(w, w->fd, c, b.nq);
		for (i = 0; i < got; i++) {
			struct modegate_async_req *r = match(w, &b, &c[i]);

			if (r && !check_lock_bounded(w, r, &c[i]))
				check_here(w, r, &c[i], false);
		}
	}
	atomic_store(&cs.stop, true);
	pthread_join(t, NULL);
	if (cs.why)
		fail(w, "%s", cs.why);
out:
	munmap(mem, area);
}

/* What the fd_pass receiver saw. */
struct fdpass_report {
	int waited;
	int reaped;
	struct modegate_async_completion c[MAXK];
};

/* The receiver: for each file it gets, wait for and reap what it may see. */
static void receiver(int sock)
{
	for (;;) {
		struct fdpass_report rep = { 0 };
		int nr, fd = mg_recv_fd(sock, &nr);

		if (fd < 0)
			_exit(0);	/* the worker is done */
		if (nr)
			rep.waited = mg_wait(fd, nr, MG_WAIT_NS, NULL);
		rep.reaped = mg_reap(fd, rep.c, MAXK);
		close(fd);
		if (write(sock, &rep, sizeof(rep)) != sizeof(rep))
			_exit(7);
	}
}

static void sc_fdpass(struct worker *w)
{
	struct modegate_async_completion c[MAXK];
	size_t area = MAXK * 2 * page;
	uint8_t *mem = mg_map(area, MAP_PRIVATE);
	int fd = open(MG_DEV, O_RDWR), i, nr = 0, nbuf = 0, got;
	bool keep = pick(&w->rng, 2);
	struct fdpass_report rep;
	struct batch b;

	if (!mem || fd < 0) {
		fail(w, "mmap/open: %s", strerror(errno));
		goto out;
	}
	if (start_batch(w, fd, &b, mem))
		goto out;
	for (i = 0; i < b.k; i++) {
		if (b.r[i].error)
			continue;
		if (b.r[i].strategy == MODEGATE_STRAT_BUFFERED)
			nbuf++;
		else
			nr++;
	}
	spin(&w->rng, STRESS_LATENCY);
	if (mg_send_fd(w->sock, fd, nr)) {
		fail(w, "sendmsg: %s", strerror(errno));
		goto out;
	}
	if (!keep) {
		close(fd);
		fd = -1;
	}
	if (mg_read_full(w->sock, &rep, sizeof(rep))) {
		fail(w, "no report from the receiver");
		goto out;
	}
	if (rep.waited || rep.reaped != nr)
		fail(w, "receiver: wait %d, reaped %d of %d", rep.waited, rep.reaped, nr);
	for (i = 0; i < rep.reaped && i < MAXK; i++) {
		struct modegate_async_req *r = match(w, &b, &rep.c[i]);

		if (!r)
			continue;
		if (r->strategy == MODEGATE_STRAT_BUFFERED)
			fail(w, "the receiver reaped a BUFFERED completion");
		if (rep.c[i].origin_tgid != getpid())
			fail(w, "origin_tgid %d", rep.c[i].origin_tgid);
		check_here(w, r, &rep.c[i], false);
	}
	if (keep) {
		/* The BUFFERED ones waited for their originator. */
		got = collect(w, fd, c, nbuf);
		for (i = 0; i < got; i++) {
			struct modegate_async_req *r = match(w, &b, &c[i]);

			if (r)
				check_here(w, r, &c[i], false);
		}
	} else {
		for (i = 0; i < b.k; i++)
			if (b.r[i].strategy == MODEGATE_STRAT_BUFFERED &&
			    !all_zero((uint8_t *)(uintptr_t)b.r[i].buf, b.r[i].len))
				fail(w, "BUFFERED delivered with its originator's file closed");
	}
out:
	if (fd >= 0)
		close(fd);
	if (mem)
		munmap(mem, area);
}

struct threads_state {
	struct worker *w;
	struct batch b[MAX_ROUNDS];
	int rounds;
	uint64_t rng_submit, rng_cancel;
	atomic_int submitted_rounds;	/* batches whose submit returned */
	atomic_int queued;
	atomic_int cancelled;
	atomic_bool done;
	char why[160];
};

static void *threads_submitter(void *p)
{
	struct threads_state *ts = p;
	int i;

	for (i = 0; i < ts->rounds; i++) {
		if (submit_batch(ts->w->fd, &ts->b[i], ts->why, sizeof(ts->why)))
			break;
		atomic_fetch_add(&ts->queued, ts->b[i].nq);
		atomic_fetch_add(&ts->submitted_rounds, 1);
		spin(&ts->rng_submit, STRESS_LATENCY / 4);
	}
	atomic_store(&ts->done, true);
	return NULL;
}

static void *threads_canceller(void *p)
{
	struct threads_state *ts = p;

	while (!atomic_load(&ts->done)) {
		int n = atomic_load(&ts->submitted_rounds), ret;
		struct batch *b;

		if (!n || pick(&ts->rng_cancel, 4)) {
			spin(&ts->rng_cancel, STRESS_LATENCY / 2);
			continue;
		}
		b = &ts->b[pick(&ts->rng_cancel, n)];
		if (pick(&ts->rng_cancel, 3) == 0)
			ret = mg_cancel(ts->w->fd, 0, MODEGATE_CANCEL_ALL);
		else
			ret = mg_cancel(ts->w->fd, b->r[pick(&ts->rng_cancel, b->k)].user_data, 0);
		if (ret > 0)
			atomic_fetch_add(&ts->cancelled, ret);
	}
	return NULL;
}

static void sc_threads(struct worker *w)
{
	static struct modegate_async_completion c[MAX_ROUNDS * MAXK];
	size_t area = MAX_ROUNDS * MAXK * 2 * page;
	uint8_t *mem = mg_map(area, MAP_PRIVATE);
	struct threads_state *ts = calloc(1, sizeof(*ts));
	int i, j, got = 0, ecanceled = 0, ret;
	pthread_t ta, tc;

	if (!mem || !ts) {
		fail(w, "mmap/calloc: %s", strerror(errno));
		goto out;
	}
	ts->w = w;
	ts->rounds = 1 + pick(&w->rng, MAX_ROUNDS);
	ts->rng_submit = rnd(&w->rng);
	ts->rng_cancel = rnd(&w->rng);
	for (i = 0; i < ts->rounds; i++)
		make_batch(&w->rng, &ts->b[i], mem + i * MAXK * 2 * page, &w->ud, w->ncpu,
			   1 + pick(&w->rng, MAXK));
	if (pthread_create(&ta, NULL, threads_submitter, ts) ||
	    pthread_create(&tc, NULL, threads_canceller, ts)) {
		fail(w, "pthread_create");
		exit(1);
	}
	/* Reap until the submitter is done and everything it queued is back. */
	for (;;) {
		bool done = atomic_load(&ts->done);

		if (done && got >= atomic_load(&ts->queued))
			break;
		ret = mg_wait(w->fd, 1, done ? MG_WAIT_NS : MG_MSEC, NULL);
		if (ret == -ETIMEDOUT && !done)
			continue;
		if (ret) {
			fail(w, "wait: %s with %d of %d reaped", strerror(-ret), got,
			     atomic_load(&ts->queued));
			break;
		}
		if (got == MAX_ROUNDS * MAXK) {
			fail(w, "more completions than requests");
			break;
		}
		ret = mg_reap(w->fd, c + got, MAX_ROUNDS * MAXK - got);
		if (ret < 0) {
			fail(w, "reap: %s", strerror(-ret));
			break;
		}
		got += ret;
	}
	pthread_join(ta, NULL);
	pthread_join(tc, NULL);
	if (ts->why[0])
		fail(w, "%s", ts->why);
	stats[w->id][w->sc].reqs += atomic_load(&ts->queued);
	if (got != atomic_load(&ts->queued))
		fail(w, "reaped %d of %d", got, atomic_load(&ts->queued));
	for (i = 0; i < got; i++) {
		struct modegate_async_req *r = NULL;

		for (j = 0; j < ts->rounds && !r; j++)
			if (c[i].user_data >= ts->b[j].r[0].user_data &&
			    c[i].user_data < ts->b[j].r[0].user_data + ts->b[j].k)
				r = match(w, &ts->b[j], &c[i]);
		if (!r) {
			fail(w, "completion %llu matches no batch",
			     (unsigned long long)c[i].user_data);
			continue;
		}
		check_here(w, r, &c[i], true);
		ecanceled += c[i].result == -ECANCELED;
	}
	if (ecanceled != atomic_load(&ts->cancelled))
		fail(w, "cancel said %d, %d completions said -ECANCELED",
		     atomic_load(&ts->cancelled), ecanceled);
out:
	free(ts);
	if (mem)
		munmap(mem, area);
}

/*
 * In a child: no CAP_IPC_LOCK (its pins count against RLIMIT_MEMLOCK, as
 * an unprivileged user's do) and a limit of @pages pages.  0 or -1.
 */
static int limit_memlock(size_t pages)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];
	struct rlimit rl = { pages * page, pages * page };

	if (syscall(SYS_capget, &h, d))
		return -1;
	d[CAP_TO_INDEX(CAP_IPC_LOCK)].effective &= ~CAP_TO_MASK(CAP_IPC_LOCK);
	if (syscall(SYS_capset, &h, d))
		return -1;
	return setrlimit(RLIMIT_MEMLOCK, &rl);
}

/* The pages this process has pinned (VmPin), or -1. */
static long vm_pin_kb(void)
{
	char status[4096], *p;

	if (mg_read_text("/proc/self/status", status, sizeof(status)) <= 0)
		return -1;
	p = strstr(status, "\nVmPin:");
	return p ? strtol(p + sizeof("\nVmPin:") - 1, NULL, 10) : -1;
}

/* The memlock scenario's child: its exit status says which check failed. */
static int memlock_child(struct worker *w)
{
	struct modegate_async_completion c[MAXK];
	size_t area = MAXK * 2 * page;
	uint8_t *mem = mg_map(area, MAP_PRIVATE);
	int fd = open(MG_DEV, O_RDWR), i, nq = 0, ret;
	struct batch b;

	if (!mem || fd < 0 || limit_memlock(pick(&w->rng, 2 * MAXK + 1)))
		return 2;
	make_batch(&w->rng, &b, mem, &w->ud, w->ncpu, 1 + pick(&w->rng, MAXK));
	for (i = 0; i < b.k; i++)
		b.r[i].strategy = MODEGATE_STRAT_PIN;
	ret = mg_submit(fd, b.r, b.k);
	if (ret < 0)
		return 3;
	for (i = 0; i < b.k; i++) {
		if (!b.r[i].error)
			nq++;
		else if (b.r[i].error != -EAGAIN && b.r[i].error != -ENOMEM)
			return 4;
	}
	spin(&w->rng, STRESS_LATENCY);
	if (pick(&w->rng, 2))
		mg_cancel(fd, b.r[pick(&w->rng, b.k)].user_data, 0);
	if (pick(&w->rng, 4) == 0)
		munmap(mem, area);	/* the pins hold the pages */
	if (nq != ret || mg_collect(fd, c, nq) != nq)
		return 5;
	return vm_pin_kb() == 0 ? 0 : 6;
}

static void sc_memlock(struct worker *w)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(memlock_child(w));
	if (pid < 0)
		fail(w, "fork: %s", strerror(errno));
	else
		wait_child(w, pid);
	w->ud += MAXK;		/* the child's user_data are not reused */
	stats[w->id][w->sc].reqs += MAXK;
}

/*
 * Once everything is closed: a process without CAP_IPC_LOCK, limited to
 * MAXK pages, pins MAXK pages and is refused one more (-ENOMEM).  Exit 0
 * when so.
 */
static int locked_memory_back(int fd)
{
	uint8_t *mem = mg_map((MAXK + 1) * page, MAP_PRIVATE);
	struct modegate_async_completion c[2];
	struct modegate_async_req r[2];

	if (!mem || limit_memlock(MAXK))
		return 2;
	memset(mem, 0, (MAXK + 1) * page);
	r[0] = mg_req(MODEGATE_STRAT_PIN, mem, MAXK * page, 0, 10 * MG_NSEC, -1, 1);
	r[1] = mg_req(MODEGATE_STRAT_PIN, mem + MAXK * page, 1, 0, 10 * MG_NSEC, -1, 2);
	if (mg_submit(fd, r, 2) != 1 || r[0].error || r[1].error != -ENOMEM)
		return 3;
	if (mg_cancel(fd, 0, MODEGATE_CANCEL_ALL) != 1 || mg_collect(fd, c, 1) != 1)
		return 4;
	return vm_pin_kb() == 0 ? 0 : 5;
}

static int worker_main(int id, uint64_t deadline)
{
	struct worker w = {
		.id = id,
		.rng = seed * 1000003ULL + id,
		.ncpu = mg_nr_cpus(),
		.ud = (uint64_t)id << 48,
	};
	int sv[2], sc, rc = 0;

	/* The receiver first: it must share nothing else with this worker. */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		return 1;
	w.receiver = fork();
	if (w.receiver == 0) {
		close(sv[0]);
		receiver(sv[1]);
	}
	close(sv[1]);
	w.sock = sv[0];
	w.fd = open(MG_DEV, O_RDWR);
	w.close_area = mg_map(MAXK * 2 * page, MAP_PRIVATE);
	if (w.receiver < 0 || w.fd < 0 || !w.close_area)
		return 1;
	while (mg_now() < deadline) {
		for (sc = 0; sc < SC_NR && mg_now() < deadline; sc++) {
			w.sc = (sc + id) % SC_NR;
			switch (w.sc) {
			case SC_EXIT:
			case SC_EXIT_OWN_FD:
			case SC_EXEC:
				sc_child_submits(&w, w.sc);
				break;
			case SC_MUNMAP:
				sc_munmap(&w);
				break;
			case SC_CLOSE:
				sc_close(&w);
				break;
			case SC_CANCEL:
				sc_cancel(&w);
				break;
			case SC_FORK:
				sc_fork(&w);
				break;
			case SC_FDPASS:
				sc_fdpass(&w);
				break;
			case SC_THREADS:
				sc_threads(&w);
				break;
			case SC_MEMLOCK:
				sc_memlock(&w);
				break;
			case SC_MMAP_CHURN:
				sc_mmap_churn(&w);
				break;
			}
			stats[id][w.sc].iters++;
		}
	}
	close(w.sock);
	close(w.fd);
	if (mg_wait_child(w.receiver)) {
		w.sc = SC_FDPASS;
		fail(&w, "the receiver failed");
	}
	for (sc = 0; sc < SC_NR; sc++)
		rc |= stats[id][sc].fails != 0;
	return rc;
}

/* Keep trying to unload the module: refused while any file is open. */
static atomic_bool racer_stop;
static long racer_tries, racer_bad;
static int racer_errno;

static void *rmmod_racer(void *arg)
{
	struct timespec pace = { 0, 200 * 1000 };

	while (!atomic_load(&racer_stop)) {
		racer_tries++;
		if (syscall(SYS_delete_module, "modegate", O_NONBLOCK) == 0 ||
		    (errno != EWOULDBLOCK && errno != EBUSY)) {
			racer_bad++;
			racer_errno = errno;
		}
		nanosleep(&pace, NULL);	/* pacing: a try every 200 us at most */
	}
	return NULL;
}

static void result(bool ok, const char *name)
{
	printf("result stress %s %s\n", ok ? "ok" : "fail", name);
}

#define IRQ_TIME	"/sys/kernel/debug/modegate/irq"

/* Start a new measurement of the longest simulated interrupt. */
static void irq_time_reset(void)
{
	int fd = open(IRQ_TIME, O_WRONLY);

	if (fd >= 0) {
		if (write(fd, "0", 1) != 1)
			perror("mgstress: " IRQ_TIME);
		close(fd);
	}
}

/*
 * The longest hard irq of the run, and how many requests it completed
 * (the module bounds that number however many are due).
 */
static void irq_time_report(void)
{
	char text[256], *p;

	if (mg_read_text(IRQ_TIME, text, sizeof(text)) < 0) {
		printf("mgstress: no %s (debugfs)\n", IRQ_TIME);
		return;
	}
	for (p = text; (p = strchr(p, '\n')); )
		*p = ' ';
	printf("mgstress: interrupts: %s\n", text);
}

static int race_phase(int seconds, int workers)
{
	uint64_t deadline = mg_now() + seconds * MG_NSEC;
	struct modegate_stats st;
	int anchor, i, status, rc = 0, sc;
	pthread_t racer;
	pid_t pid;
	bool bad_exit = false;

	anchor = open(MG_DEV, O_RDWR);
	if (anchor < 0 || !(store_cap = mg_fill_store(anchor))) {
		perror("mgstress: " MG_DEV);
		return 1;
	}
	stats = mmap(NULL, sizeof(*stats) * MAX_WORKERS, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (stats == MAP_FAILED)
		return 1;
	memset(stats, 0, sizeof(*stats) * MAX_WORKERS);
	printf("mgstress: seed=%llu seconds=%d workers=%d\n", seed, seconds, workers);
	fflush(stdout);
	irq_time_reset();
	if (pthread_create(&racer, NULL, rmmod_racer, NULL))
		return 1;
	for (i = 0; i < workers; i++) {
		pid_t pid = fork();

		if (pid == 0)
			_exit(worker_main(i, deadline));
		if (pid < 0)
			return 1;
	}
	while (wait(&status) > 0)
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			bad_exit = true;
	atomic_store(&racer_stop, true);
	pthread_join(racer, NULL);

	for (sc = 0; sc < SC_NR; sc++) {
		long iters = 0, reqs = 0, fails = 0, partial = 0;
		const char *first = NULL;

		for (i = 0; i < workers; i++) {
			iters += stats[i][sc].iters;
			reqs += stats[i][sc].reqs;
			fails += stats[i][sc].fails;
			partial += stats[i][sc].partial;
			if (!first && stats[i][sc].fails)
				first = stats[i][sc].first_fail;
		}
		printf("mgstress: %-12s %7ld iterations %8ld requests %ld partial %ld failures%s%s\n",
		       sc_name[sc], iters, reqs, partial, fails, first ? ": " : "",
		       first ? first : "");
		result(iters > 0 && fails == 0, sc_name[sc]);
		rc |= !(iters > 0 && fails == 0);
	}
	irq_time_report();
	printf("mgstress: rmmod attempts %ld, %ld not refused (errno %d)\n",
	       racer_tries, racer_bad, racer_errno);
	result(racer_tries > 0 && !racer_bad, "rmmod_refused_while_open");
	rc |= !(racer_tries > 0 && !racer_bad);
	result(!bad_exit, "workers_exit_cleanly");
	rc |= bad_exit;

	/* Every worker's file is closed: drain, then only the anchor is left. */
	i = mg_quiesce(&st);
	if (!i && mg_stats(anchor, &st))
		i = -1;
	printf("mgstress: submitted=%llu completed=%llu cancelled=%llu inflight=%llu pending=%llu pinned=%llu mm_refs=%llu open=%llu\n",
	       (unsigned long long)st.async_submitted, (unsigned long long)st.async_completed,
	       (unsigned long long)st.async_cancelled, (unsigned long long)st.async_inflight,
	       (unsigned long long)st.async_pending, (unsigned long long)st.pinned_pages,
	       (unsigned long long)st.mm_refs, (unsigned long long)st.open_files);
	i = i || st.async_submitted != st.async_completed || st.open_files != 1;
	result(!i, "counters_back_to_zero");
	rc |= i;

	/* Every pin's locked memory came back: all of a limit can be pinned. */
	pid = fork();
	if (pid == 0)
		_exit(locked_memory_back(anchor));
	i = pid < 0 ? -1 : mg_wait_child(pid);
	if (i)
		printf("mgstress: locked memory check failed at step %d\n", i);
	result(!i, "locked_memory_back_to_zero");
	rc |= !!i;
	close(anchor);
	return rc;
}

/*
 * Load, leave deliveries pending (ours and exited children's), close,
 * unload at once: module exit must cancel or drain every one of them.
 */
static int unload_phase(int cycles)
{
	size_t area = MAXK * 2 * page;
	uint8_t *mem = mg_map(area, MAP_PRIVATE);
	uint64_t s = seed;
	uint8_t pat[16384];
	int i, ret, bad = 0, ncpu = mg_nr_cpus();
	long reqs = 0;

	if (!mem)
		return 1;
	mg_expect(pat, 0, sizeof(pat));
	store_cap = sizeof(pat);
	if (mg_loaded() && mg_unload()) {
		fprintf(stderr, "mgstress: modegate is loaded and in use\n");
		return 1;
	}
	for (i = 0; i < cycles && !bad; i++) {
		uint64_t ud = 0;
		struct batch b;
		char why[160];
		pid_t pid = 0;
		int fd;

		ret = mg_load("");
		fd = ret ? -1 : open(MG_DEV, O_RDWR);
		if (fd < 0 || pwrite(fd, pat, sizeof(pat), 0) != sizeof(pat)) {
			fprintf(stderr, "mgstress: cycle %d: load/open: %s\n", i,
				strerror(ret ? -ret : errno));
			bad = 1;
			break;
		}
		make_batch(&s, &b, mem, &ud, ncpu, 1 + pick(&s, MAXK));
		if (submit_batch(fd, &b, why, sizeof(why))) {
			fprintf(stderr, "mgstress: cycle %d: %s\n", i, why);
			bad = 1;
		}
		reqs += b.nq;
		if (pick(&s, 2)) {
			pid = fork();
			if (pid == 0) {
				make_batch(&s, &b, mem, &ud, ncpu, MAXK);
				_exit(submit_batch(fd, &b, why, sizeof(why)) ? 3 : 0);
			}
		}
		spin(&s, STRESS_LATENCY);
		close(fd);
		if (pid > 0 && mg_wait_child(pid)) {
			fprintf(stderr, "mgstress: cycle %d: child failed\n", i);
			bad = 1;
		}
		ret = mg_unload();
		if (ret) {
			fprintf(stderr, "mgstress: cycle %d: unload: %s\n", i, strerror(-ret));
			bad = 1;
		}
	}
	printf("mgstress: %d load/submit/close/unload cycles, %ld requests left pending\n",
	       i, reqs);
	result(!bad && i == cycles, "unload_with_deliveries_pending");
	return bad;
}

int main(int argc, char **argv)
{
	int seconds = 60, workers = 4, cycles = 0, opt;

	if (argc == 2 && !strcmp(argv[1], NOOP_ARG))
		return 0;	/* the exec scenario's new image */
	seed = (unsigned long long)time(NULL) ^ getpid();
	while ((opt = getopt(argc, argv, "d:w:s:U:")) != -1) {
		switch (opt) {
		case 'd': seconds = atoi(optarg); break;
		case 'w': workers = atoi(optarg); break;
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 'U': cycles = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: mgstress [-d SECONDS] [-w WORKERS] [-s SEED] | -U CYCLES [-s SEED]\n");
			return 2;
		}
	}
	if (seconds < 1 || workers < 1 || workers > MAX_WORKERS || cycles < 0)
		return 2;
	page = sysconf(_SC_PAGESIZE);
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (cycles)
		return unload_phase(cycles);
	return race_phase(seconds, workers);
}
