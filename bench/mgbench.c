// SPDX-License-Identifier: GPL-2.0
/*
 * mgbench: modegate against the paths a user would pick instead, measured
 * in the same boot with rounds that alternate the two sides.
 *
 *   store pread/pwrite (4 KiB, 64 KiB, 1 MiB)  vs  pread/pwrite of a tmpfs file
 *   MODEGATE_IOC_INFO                          vs  an ioctl /dev/null answers
 *                                                  with ENOTTY (the floor)
 *   async 4 KiB reads at QD 1, 32, 256         vs  io_uring IORING_OP_READ of
 *                                                  the tmpfs file, same QD
 *   interrupt-to-reap latency, kernel memory per queued request, slab
 *   growth over many requests (single-sided)
 *
 * Built against the uapi header and liburing only.  The output is one line
 * per sample, for scripts/bench-report.sh:
 *
 *   meta KEY VALUE
 *   sample FIGURE ROUND SIDE VALUE UNIT
 *
 * Nothing here judges a number; the exit status is 1 only when a
 * measurement could not be taken (an error line says which).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <liburing.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <linux/modegate.h>

#define MGB_REQ_LEN	4096u
#define MGB_MAX_QD	256u
#define MGB_MEM_REQS	1024u
#define MGB_WAIT_NS	(30ULL * 1000000000ULL)
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

struct mgb_opts {
	unsigned int rounds;
	uint64_t store_bytes;	/* bytes per store measurement */
	uint64_t calls;		/* ioctls per INFO measurement */
	uint64_t async_ns;	/* time per async measurement */
	uint64_t slab_requests;	/* 0: skip the slab growth run */
	const char *dev;
	const char *tmpdir;
};

/* What every measurement shares: the open device and the tmpfs twin. */
struct mgb {
	struct mgb_opts o;
	int dev, tmp, null;
	uint64_t cap;		/* bytes of the store, and of the tmpfs file */
	uint64_t max_latency_ns;
	char *buf;		/* MGB_MAX_QD * MGB_REQ_LEN, also the sync buffer */
	size_t buf_len;
};

static const struct {
	const char *name;
	__u32 id;
} mgb_strats[] = {
	{ "adopt_mm", MODEGATE_STRAT_ADOPT_MM },
	{ "pin", MODEGATE_STRAT_PIN },
	{ "remote", MODEGATE_STRAT_REMOTE },
	{ "buffered", MODEGATE_STRAT_BUFFERED },
};

static const unsigned int mgb_qds[] = { 1, 32, 256 };

static int mgb_failed;
static const char *mgb_only;	/* -f: only the figures whose name has this */
static int mgb_no_anchor;	/* -m: modegate's side only (make profile) */
static uint64_t mgb_reaps;	/* reaps in the last async measurement */
static uint64_t mgb_reaped;	/* and the completions they took */
static unsigned long mgb_eintr;	/* waits and submits that saw EINTR */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* A measurement that could not be taken: say which, fail the run. */
static int fail(const char *what, const char *fmt, ...)
{
	va_list ap;

	printf("error %s: ", what);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	mgb_failed = 1;
	return -1;
}

/* Is @fig one of the figures asked for (-f)? */
static int mgb_want(const char *fig)
{
	return !mgb_only || strstr(fig, mgb_only);
}

static void sample(const char *fig, unsigned int round, const char *side,
		   double v, const char *unit)
{
	printf("sample %s %u %s %.6g %s\n", fig, round, side, v, unit);
}

/* ---- store vs tmpfs: the same loop of pread/pwrite at offsets ---------- */

/*
 * One side of a synchronous figure: @n pread/pwrite of @bs bytes through
 * @fd at offsets that walk the store (or the file) and wrap, or, with @bs
 * 0, @n ioctl(MODEGATE_IOC_INFO) calls that must fail with @want_errno
 * (0: succeed).
 */
struct mgb_sync {
	const char *side;
	int fd;
	int write;
	size_t bs;
	int want_errno;
	off_t off;
};

/* Nanoseconds @s takes for @n operations, or -1. */
static int64_t mgb_sync_run(struct mgb *b, struct mgb_sync *s, uint64_t n, const char *what)
{
	struct modegate_info info;
	uint64_t t0 = now_ns(), i;
	ssize_t r;

	for (i = 0; i < n; i++) {
		if (!s->bs) {
			r = ioctl(s->fd, MODEGATE_IOC_INFO, &info);
			if (s->want_errno ? (r != -1 || errno != s->want_errno) : r != 0)
				return fail(what, "ioctl returned %zd (%s), expected %s", r,
					    r ? strerror(errno) : "success",
					    s->want_errno ? strerror(s->want_errno) : "success");
			continue;
		}
		r = s->write ? pwrite(s->fd, b->buf, s->bs, s->off) :
			       pread(s->fd, b->buf, s->bs, s->off);
		if (r != (ssize_t)s->bs)
			return fail(what, "%s of %zu at %lld returned %zd (%s)",
				    s->write ? "pwrite" : "pread", s->bs, (long long)s->off, r,
				    r < 0 ? strerror(errno) : "short");
		s->off += s->bs;
		if ((uint64_t)s->off + s->bs > b->cap)
			s->off = 0;
	}
	return now_ns() - t0;
}

/*
 * Sides @x and @y of @fig, @ops operations each, in MGB_SLICES slices
 * that alternate x y y x x y ...: on a shared machine both sides see the
 * same bursts of load.  Prints MiB/s when @rate, else ns per operation.
 */
#define MGB_SLICES 8
static void mgb_sync_pair(struct mgb *b, const char *fig, unsigned int round,
			  struct mgb_sync *x, struct mgb_sync *y, uint64_t ops, int rate)
{
	struct mgb_sync *side[2] = { x, y };
	uint64_t per = ops / MGB_SLICES ? ops / MGB_SLICES : 1;
	int64_t ns[2] = { 0, 0 }, t;
	unsigned int k, j, w;

	if (!mgb_want(fig))
		return;
	for (k = 0; k < MGB_SLICES; k++) {
		for (j = 0; j < 2; j++) {
			w = j ^ (k & 1) ^ (round & 1);
			if (mgb_no_anchor && w)
				continue;
			t = mgb_sync_run(b, side[w], per, fig);
			if (t < 0)
				return;
			ns[w] += t;
		}
	}
	for (w = 0; round && w < 2u - !!mgb_no_anchor; w++) {
		double n = (double)per * MGB_SLICES;

		if (rate)
			sample(fig, round, side[w]->side,
			       n * side[w]->bs / (1 << 20) / (ns[w] / 1e9), "MiB/s");
		else
			sample(fig, round, side[w]->side, ns[w] / n, "ns");
	}
}

/* Measure two sides in the order the round says; one sample each. */
#define MGB_PAIR(fig, round, unit, side_a, expr_a, side_b, expr_b)		\
	do {									\
		double va_, vb_;						\
		if ((round) & 1) {						\
			va_ = (expr_a);						\
			vb_ = (expr_b);						\
		} else {							\
			vb_ = (expr_b);						\
			va_ = (expr_a);						\
		}								\
		if (va_ >= 0 && vb_ >= 0 && (round)) {				\
			sample(fig, round, side_a, va_, unit);			\
			if (!mgb_no_anchor)					\
				sample(fig, round, side_b, vb_, unit);		\
		}								\
	} while (0)

static void mgb_round_sync(struct mgb *b, unsigned int round)
{
	static const struct {
		const char *tag;
		size_t bs;
	} sizes[] = { { "4k", 4096 }, { "64k", 65536 }, { "1m", 1 << 20 } };
	struct mgb_sync mod = { .side = "modegate", .fd = b->dev };
	struct mgb_sync tmp = { .side = "tmpfs", .fd = b->tmp };
	struct mgb_sync null = { .side = "floor", .fd = b->null, .want_errno = ENOTTY };
	unsigned int i, w;
	char fig[64];

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		for (w = 0; w < 2; w++) {
			snprintf(fig, sizeof(fig), "store_%s_%s", w ? "write" : "read",
				 sizes[i].tag);
			mod.write = tmp.write = w;
			mod.bs = tmp.bs = sizes[i].bs;
			mgb_sync_pair(b, fig, round, &mod, &tmp, b->o.store_bytes / sizes[i].bs, 1);
		}
	}
	mod.bs = 0;
	mgb_sync_pair(b, "info_ioctl", round, &mod, &null, b->o.calls, 0);
	/* Profile: the fixed cost of one call, without the copy. */
	for (w = 0; w < 2; w++) {
		snprintf(fig, sizeof(fig), "call_%s_1b", w ? "write" : "read");
		mod.write = tmp.write = w;
		mod.bs = tmp.bs = 1;
		mgb_sync_pair(b, fig, round, &mod, &tmp, b->o.calls, 0);
	}
}

/* ---- async: QD requests in flight, completions per second ------------- */

/*
 * Queue @nr requests.  A request refused with -EINTR is submitted again:
 * io_uring's task work (TIF_NOTIFY_SIGNAL) makes signal_pending() true,
 * and the first request of an mm registers an mmu notifier, whose
 * mm_take_all_locks() gives up on a pending signal.
 */
static int mgb_submit(int fd, struct modegate_async_req *reqs, unsigned int nr,
		      const char *what)
{
	struct modegate_async_submit s = { .req_size = sizeof(*reqs) };
	unsigned int i, left, tries;
	int r;

	for (tries = 0; nr && tries < 100; tries++) {
		s.reqs = (uintptr_t)reqs;
		s.nr = nr;
		r = ioctl(fd, MODEGATE_IOC_ASYNC_SUBMIT, &s);
		if (r < 0)
			return fail(what, "submit of %u: %s", nr, strerror(errno));
		if (r == (int)nr)
			return 0;
		for (i = left = 0; i < nr; i++) {
			if (!reqs[i].error)
				continue;
			if (reqs[i].error != -EINTR)
				return fail(what, "submit: request %u: %s", i,
					    strerror(-reqs[i].error));
			reqs[left] = reqs[i];
			reqs[left++].error = 0;
			mgb_eintr++;
		}
		nr = left;
	}
	return nr ? fail(what, "submit: EINTR %u times", tries) : 0;
}

/* Wait for one completion at least, then reap up to @nr of them. */
static int mgb_reap(int fd, struct modegate_async_completion *comps, unsigned int nr,
		    const char *what)
{
	struct modegate_async_wait w = { .min_complete = 1, .timeout_ns = MGB_WAIT_NS };
	struct modegate_async_reap r = {
		.comps = (uintptr_t)comps, .nr = nr, .comp_size = sizeof(*comps),
	};
	int n;

	/*
	 * A signal, or only io_uring's task work (TIF_NOTIFY_SIGNAL), ends
	 * the wait with EINTR; no completion is lost, so wait again.
	 */
	while (ioctl(fd, MODEGATE_IOC_ASYNC_WAIT, &w)) {
		if (errno != EINTR)
			return fail(what, "wait: %s", strerror(errno));
		mgb_eintr++;
	}
	n = ioctl(fd, MODEGATE_IOC_ASYNC_REAP, &r);
	if (n < 0)
		return fail(what, "reap: %s", strerror(errno));
	return n;
}

static void mgb_req(struct mgb *b, struct modegate_async_req *r, __u32 strat,
		    unsigned int slot, uint64_t seq, uint64_t latency_ns)
{
	*r = (struct modegate_async_req){
		.buf = (uintptr_t)(b->buf + (size_t)slot * MGB_REQ_LEN),
		.len = MGB_REQ_LEN,
		.offset = seq * MGB_REQ_LEN % b->cap,
		.user_data = slot,
		.latency_ns = latency_ns,
		.strategy = strat,
		.cpu = MODEGATE_CPU_ANY,
	};
}

/* Latencies of one run, for the percentiles. */
struct mgb_lat {
	uint64_t *irq_reap;	/* t_irq -> back from the reap */
	uint64_t *submit_irq;	/* t_submit -> t_irq */
	uint64_t *irq_deliver;	/* t_irq -> t_deliver */
	uint64_t n, max;
};

/*
 * A run of 4 KiB reads with @qd in flight: new ones are submitted until
 * @limit reads or @budget_ns (0: no limit), then the rest are drained.
 * Returns completions per second, or -1.
 */
static double mgb_async(struct mgb *b, __u32 strat, unsigned int qd, uint64_t limit,
			uint64_t budget_ns, struct mgb_lat *lat, const char *what)
{
	struct modegate_async_completion comps[MGB_MAX_QD];
	struct modegate_async_req reqs[MGB_MAX_QD];
	uint64_t submitted = 0, done = 0, total = limit ? limit : UINT64_MAX, t0, now;
	unsigned int i, nr;
	double rate = -1;
	int fd, n;

	fd = open(b->o.dev, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return fail(what, "open %s: %s", b->o.dev, strerror(errno));
	mgb_reaps = 0;
	t0 = now_ns();
	for (nr = 0; nr < qd && submitted < total; nr++, submitted++)
		mgb_req(b, &reqs[nr], strat, nr, submitted, 0);
	if (mgb_submit(fd, reqs, nr, what))
		goto out;
	while (done < submitted) {
		n = mgb_reap(fd, comps, qd, what);
		if (n < 0)
			goto out;
		mgb_reaps++;
		now = now_ns();
		if (budget_ns && now - t0 >= budget_ns)
			total = submitted;	/* time is up: drain */
		for (i = nr = 0; i < (unsigned int)n; i++) {
			const struct modegate_async_completion *c = &comps[i];

			if (c->result != MGB_REQ_LEN) {
				fail(what, "completion result %lld, expected %u",
				     (long long)c->result, MGB_REQ_LEN);
				goto out;
			}
			if (lat && lat->n < lat->max) {
				lat->irq_reap[lat->n] = now - c->t_irq_ns;
				lat->submit_irq[lat->n] = c->t_irq_ns - c->t_submit_ns;
				lat->irq_deliver[lat->n] = c->t_deliver_ns - c->t_irq_ns;
				lat->n++;
			}
			if (submitted < total)
				mgb_req(b, &reqs[nr++], strat, c->user_data, submitted++, 0);
		}
		done += n;
		if (nr && mgb_submit(fd, reqs, nr, what))
			goto out;
	}
	rate = done / ((now_ns() - t0) / 1e9);
	mgb_reaped = done;
out:
	close(fd);
	return rate;
}

/* The same loop through io_uring: IORING_OP_READ of the tmpfs file. */
static double mgb_uring(struct mgb *b, unsigned int qd, uint64_t budget_ns, const char *what)
{
	uint64_t submitted = 0, done = 0, total = UINT64_MAX, t0;
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	double rate = -1;
	unsigned int head, n;
	int r;

	if (mgb_no_anchor)
		return 0;
	r = io_uring_queue_init(qd, &ring, 0);
	if (r)
		return fail(what, "io_uring_queue_init(%u): %s", qd, strerror(-r));
	t0 = now_ns();
	for (n = 0; n < qd && submitted < total; n++, submitted++) {
		sqe = io_uring_get_sqe(&ring);
		io_uring_prep_read(sqe, b->tmp, b->buf + (size_t)n * MGB_REQ_LEN, MGB_REQ_LEN,
				   submitted * MGB_REQ_LEN % b->cap);
		sqe->user_data = n;
	}
	while (done < submitted) {
		r = io_uring_submit_and_wait(&ring, 1);
		if (r < 0) {
			fail(what, "io_uring_submit_and_wait: %s", strerror(-r));
			goto out;
		}
		if (now_ns() - t0 >= budget_ns)
			total = submitted;	/* time is up: drain */
		n = 0;
		io_uring_for_each_cqe(&ring, head, cqe) {
			unsigned int slot = cqe->user_data;

			if (cqe->res != MGB_REQ_LEN) {
				fail(what, "cqe res %d, expected %u", cqe->res, MGB_REQ_LEN);
				goto out;
			}
			n++;
			if (submitted < total) {
				sqe = io_uring_get_sqe(&ring);
				io_uring_prep_read(sqe, b->tmp, b->buf + (size_t)slot * MGB_REQ_LEN,
						   MGB_REQ_LEN, submitted * MGB_REQ_LEN % b->cap);
				sqe->user_data = slot;
				submitted++;
			}
		}
		io_uring_cq_advance(&ring, n);
		done += n;
	}
	rate = done / ((now_ns() - t0) / 1e9);
out:
	io_uring_queue_exit(&ring);
	return rate;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The @pct percentile of @v (sorted in place). */
static uint64_t pctl(uint64_t *v, uint64_t n, unsigned int pct)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	return v[(n - 1) * pct / 100];
}

static void mgb_round_async(struct mgb *b, unsigned int round, struct mgb_lat *lat)
{
	unsigned int q, s;
	char fig[64];

	for (q = 0; q < ARRAY_SIZE(mgb_qds); q++) {
		for (s = 0; s < ARRAY_SIZE(mgb_strats); s++) {
			struct mgb_lat *l = mgb_qds[q] == 1 ? lat : NULL;

			if (l)
				l->n = 0;
			snprintf(fig, sizeof(fig), "async_qd%u_%s", mgb_qds[q], mgb_strats[s].name);
			if (!mgb_want(fig))
				continue;
			MGB_PAIR(fig, round, "req/s",
				 "modegate", mgb_async(b, mgb_strats[s].id, mgb_qds[q], 0,
						       b->o.async_ns, l, fig),
				 "io_uring", mgb_uring(b, mgb_qds[q], b->o.async_ns, fig));
			/* Profile: completions per wait and reap (io_uring's: QD). */
			if (round && mgb_reaps) {
				snprintf(fig, sizeof(fig), "async_qd%u_%s_batch", mgb_qds[q],
					 mgb_strats[s].name);
				sample(fig, round, "modegate",
				       (double)mgb_reaped / mgb_reaps, "req");
			}
			if (!l || !l->n || !round)
				continue;
			snprintf(fig, sizeof(fig), "irq_reap_%s", mgb_strats[s].name);
			sample(fig, round, "p50", pctl(l->irq_reap, l->n, 50) / 1e3, "us");
			sample(fig, round, "p99", pctl(l->irq_reap, l->n, 99) / 1e3, "us");
			snprintf(fig, sizeof(fig), "submit_irq_%s", mgb_strats[s].name);
			sample(fig, round, "p50", pctl(l->submit_irq, l->n, 50) / 1e3, "us");
			snprintf(fig, sizeof(fig), "irq_deliver_%s", mgb_strats[s].name);
			sample(fig, round, "p50", pctl(l->irq_deliver, l->n, 50) / 1e3, "us");
		}
	}
}

/* ---- kernel memory: /proc/meminfo Slab + VmallocUsed ------------------- */

/* Flush per-CPU slabs and free empty ones, so that deltas are real. */
static void mgb_shrink_slabs(void)
{
	DIR *d = opendir("/sys/kernel/slab");
	struct dirent *e;
	char path[512];
	struct stat st;
	int fd;

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/slab/%s", e->d_name);
		if (lstat(path, &st) || !S_ISDIR(st.st_mode))
			continue;	/* an alias of a merged cache */
		snprintf(path, sizeof(path), "/sys/kernel/slab/%s/shrink", e->d_name);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			if (write(fd, "1", 1) != 1)
				(void)0;	/* a cache that cannot shrink: fine */
			close(fd);
		}
	}
	closedir(d);
}

/* Slab + VmallocUsed in bytes, or -1. */
static long long mgb_kmem(void)
{
	FILE *f = fopen("/proc/meminfo", "re");
	long long slab = -1, vmalloc = -1, v;
	char line[256];

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Slab: %lld kB", &v) == 1)
			slab = v;
		else if (sscanf(line, "VmallocUsed: %lld kB", &v) == 1)
			vmalloc = v;
	}
	fclose(f);
	return slab < 0 || vmalloc < 0 ? -1 : (slab + vmalloc) * 1024;
}

/*
 * Bytes of kernel memory per queued request of @strat, beyond the data it
 * holds (BUFFERED's buffer), into @bytes; 0 or -1.
 */
static int mgb_mem_per_req(struct mgb *b, __u32 strat, double *bytes, const char *what)
{
	struct modegate_async_req reqs[MGB_MAX_QD];
	struct modegate_async_cancel c = { .flags = MODEGATE_CANCEL_ALL };
	struct modegate_async_completion comps[MGB_MAX_QD];
	long long before, after;
	unsigned int i, got = 0;
	int fd, n, ret = -1;

	fd = open(b->o.dev, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return fail(what, "open %s: %s", b->o.dev, strerror(errno));
	mgb_shrink_slabs();
	before = mgb_kmem();
	for (i = 0; i < MGB_MEM_REQS; i += MGB_MAX_QD) {
		unsigned int j;

		/* MGB_MAX_QD buffers, each the target of several requests. */
		for (j = 0; j < MGB_MAX_QD; j++)
			mgb_req(b, &reqs[j], strat, j, i + j, b->max_latency_ns);
		if (mgb_submit(fd, reqs, MGB_MAX_QD, what))
			goto out;
	}
	after = mgb_kmem();
	if (ioctl(fd, MODEGATE_IOC_ASYNC_CANCEL, &c) || c.cancelled != MGB_MEM_REQS) {
		fail(what, "cancel: %s, %u of %u cancelled", strerror(errno), c.cancelled,
		     MGB_MEM_REQS);
		goto out;
	}
	while (got < MGB_MEM_REQS) {
		n = mgb_reap(fd, comps, MGB_MAX_QD, what);
		if (n < 0)
			goto out;
		got += n;
	}
	if (before < 0 || after < 0) {
		fail(what, "cannot read Slab/VmallocUsed from /proc/meminfo");
		goto out;
	}
	*bytes = (double)(after - before) / MGB_MEM_REQS;
	/* BUFFERED holds its data in the kernel by design: count what is beyond. */
	if (strat == MODEGATE_STRAT_BUFFERED)
		*bytes -= MGB_REQ_LEN;
	ret = 0;
out:
	close(fd);
	return ret;
}

/* Slab + VmallocUsed after @n requests at QD 256, against after a warm-up. */
static void mgb_slab_growth(struct mgb *b)
{
	uint64_t warm = b->o.slab_requests / 10, t0, t1;
	long long before, after;
	double rate;

	if (mgb_async(b, MODEGATE_STRAT_ADOPT_MM, MGB_MAX_QD, warm ? warm : 1, 0, NULL,
		      "slab_growth") < 0)
		return;
	mgb_shrink_slabs();
	before = mgb_kmem();
	t0 = now_ns();
	rate = mgb_async(b, MODEGATE_STRAT_ADOPT_MM, MGB_MAX_QD, b->o.slab_requests, 0, NULL,
			 "slab_growth");
	t1 = now_ns();
	mgb_shrink_slabs();
	after = mgb_kmem();
	if (rate < 0)
		return;
	if (before < 0 || after < 0) {
		fail("slab_growth", "cannot read Slab/VmallocUsed from /proc/meminfo");
		return;
	}
	sample("slab_growth", 1, "modegate", (double)(after - before) / 1024, "KiB");
	sample("slab_growth_per_req", 1, "modegate",
	       (double)(after - before) / b->o.slab_requests, "B");
	sample("slab_growth_requests", 1, "modegate", b->o.slab_requests, "req");
	sample("slab_growth_rate", 1, "modegate", rate, "req/s");
	sample("slab_growth_time", 1, "modegate", (t1 - t0) / 1e9, "s");
}

/* ---- setup ------------------------------------------------------------- */

static int mgb_fill(struct mgb *b, int fd, const char *what)
{
	uint64_t off;

	memset(b->buf, 0x5a, b->buf_len);
	for (off = 0; off < b->cap; off += b->buf_len) {
		size_t n = b->cap - off < b->buf_len ? b->cap - off : b->buf_len;

		if (pwrite(fd, b->buf, n, off) != (ssize_t)n)
			return fail(what, "filling: %s", strerror(errno));
	}
	return 0;
}

static int mgb_setup(struct mgb *b)
{
	struct modegate_info info;
	char path[4096];

	b->buf_len = (size_t)MGB_MAX_QD * MGB_REQ_LEN;	/* 1 MiB: the largest block too */
	b->buf = mmap(NULL, b->buf_len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (b->buf == MAP_FAILED)
		return fail("setup", "mmap: %s", strerror(errno));
	b->dev = open(b->o.dev, O_RDWR | O_CLOEXEC);
	if (b->dev < 0)
		return fail("setup", "open %s: %s", b->o.dev, strerror(errno));
	if (ioctl(b->dev, MODEGATE_IOC_INFO, &info))
		return fail("setup", "INFO: %s", strerror(errno));
	if (info.store_capacity < b->buf_len)
		return fail("setup", "store_capacity %llu is below 1 MiB: load the module "
			    "with a larger store_size", (unsigned long long)info.store_capacity);
	b->cap = info.store_capacity;
	b->max_latency_ns = info.max_latency_ns;
	snprintf(path, sizeof(path), "%s/mgbench.XXXXXX", b->o.tmpdir);
	b->tmp = mkostemp(path, O_CLOEXEC);
	if (b->tmp < 0)
		return fail("setup", "mkstemp in %s: %s", b->o.tmpdir, strerror(errno));
	unlink(path);
	b->null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (b->null < 0)
		return fail("setup", "open /dev/null: %s", strerror(errno));
	if (mgb_fill(b, b->dev, "setup") ||
	    (!mgb_no_anchor && mgb_fill(b, b->tmp, "setup")))
		return -1;
	return 0;
}

static void mgb_meta(struct mgb *b)
{
	struct utsname u;

	uname(&u);
	printf("meta kernel %s\n", u.release);
	printf("meta cpus %ld\n", sysconf(_SC_NPROCESSORS_ONLN));
	printf("meta rounds %u\n", b->o.rounds);
	printf("meta store_capacity %llu\n", (unsigned long long)b->cap);
	printf("meta store_bytes %llu\n", (unsigned long long)b->o.store_bytes);
	printf("meta calls %llu\n", (unsigned long long)b->o.calls);
	printf("meta async_ms %llu\n", (unsigned long long)b->o.async_ns / 1000000);
	printf("meta mem_requests %u\n", MGB_MEM_REQS);
	printf("meta slab_requests %llu\n", (unsigned long long)b->o.slab_requests);
	if (mgb_only)
		printf("meta only %s\n", mgb_only);
}

static int usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s [-r ROUNDS] [-b STORE_BYTES] [-c CALLS] [-T ASYNC_MS]\n"
		"          [-s SLAB_REQUESTS] [-d DEVICE] [-t TMPDIR] [-f FIGURE] [-m]\n"
		"Prints 'meta KEY VALUE' and 'sample FIGURE ROUND SIDE VALUE UNIT' lines;\n"
		"round 0 is a warm-up and is not printed.  -f measures only the\n"
		"figures whose name contains FIGURE (e.g. async_qd32, store_read);\n"
		"-m measures modegate's side only, for a profile (make profile).\n", argv0);
	return 2;
}

int main(int argc, char **argv)
{
	struct mgb b = {
		.o = {
			.rounds = 7,
			.store_bytes = 32ULL << 20,
			.calls = 100000,
			.async_ns = 500000000,
			.slab_requests = 1000000,
			.dev = "/dev/" MODEGATE_DEVICE_NAME,
			.tmpdir = "/tmp",
		},
		.dev = -1, .tmp = -1, .null = -1,
	};
	struct mgb_lat lat = { 0 };
	unsigned int round, s;
	char fig[64];
	int c;

	while ((c = getopt(argc, argv, "r:b:c:T:s:d:t:f:m")) != -1) {
		switch (c) {
		case 'r': b.o.rounds = strtoul(optarg, NULL, 0); break;
		case 'b': b.o.store_bytes = strtoull(optarg, NULL, 0); break;
		case 'c': b.o.calls = strtoull(optarg, NULL, 0); break;
		case 'T': b.o.async_ns = strtoull(optarg, NULL, 0) * 1000000; break;
		case 's': b.o.slab_requests = strtoull(optarg, NULL, 0); break;
		case 'd': b.o.dev = optarg; break;
		case 't': b.o.tmpdir = optarg; break;
		case 'f': mgb_only = optarg; break;
		case 'm': mgb_no_anchor = 1; break;
		default: return usage(argv[0]);
		}
	}
	if (optind < argc || !b.o.rounds || !b.o.calls || !b.o.async_ns ||
	    b.o.store_bytes < (1 << 20))
		return usage(argv[0]);
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (mgb_setup(&b))
		return 1;
	mgb_meta(&b);
	lat.max = 1 << 20;
	lat.irq_reap = calloc(lat.max, sizeof(uint64_t));
	lat.submit_irq = calloc(lat.max, sizeof(uint64_t));
	lat.irq_deliver = calloc(lat.max, sizeof(uint64_t));
	if (!lat.irq_reap || !lat.submit_irq || !lat.irq_deliver)
		return fail("setup", "out of memory"), 1;

	/* Round 0 warms caches up and is not reported. */
	for (round = 0; round <= b.o.rounds; round++) {
		printf("meta round %u\n", round);
		mgb_round_sync(&b, round);
		mgb_round_async(&b, round, &lat);
		for (s = 0; round && s < ARRAY_SIZE(mgb_strats); s++) {
			double v;

			snprintf(fig, sizeof(fig), "mem_per_req_%s", mgb_strats[s].name);
			if (mgb_want(fig) && !mgb_mem_per_req(&b, mgb_strats[s].id, &v, fig))
				sample(fig, round, "modegate", v, "B");
		}
	}
	if (b.o.slab_requests && mgb_want("slab_growth"))
		mgb_slab_growth(&b);
	printf("meta eintr %lu\n", mgb_eintr);
	printf("meta done %d\n", mgb_failed);
	return mgb_failed;
}
