// SPDX-License-Identifier: GPL-2.0
/*
 * The life of an async request against the life of its process, its file
 * and the module: the originator exits or execs with requests pending, its
 * buffer is unmapped, it forks, its file is closed or passed to another
 * process, threads submit, cancel and reap at once, the module is
 * unloaded.  In every case each request ends exactly once, the data lands
 * in the originating address space and nowhere else, and every reference,
 * pin and byte is returned (the counters of MODEGATE_IOC_STATS go back to
 * zero).  Each case runs at least 200 times.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "async_test.h"
#include "kselftest_harness.h"

#define ITERATIONS	200

/*
 * After the originating address space went away: BUFFERED, which needs
 * the originator to reap, got -ESRCH every time; each strategy delivering
 * from the worker got it at least once (the interrupt came after the exit)
 * and, at least once among them, delivered (the interrupt came before).
 */
#define ASSERT_ESRCH_SPREAD(esrch) do {					\
	int __s, __all = 0;						\
	TH_LOG("-ESRCH: ADOPT_MM %d, PIN %d, REMOTE %d, BUFFERED %d of %d each", \
	       (esrch)[1], (esrch)[2], (esrch)[3], (esrch)[4], ITERATIONS); \
	ASSERT_EQ(ITERATIONS, (esrch)[MODEGATE_STRAT_BUFFERED]);	\
	for (__s = MODEGATE_STRAT_ADOPT_MM; __s <= MODEGATE_STRAT_REMOTE; __s++) { \
		ASSERT_LT(0, (esrch)[__s]);				\
		__all += (esrch)[__s];					\
	}								\
	ASSERT_GT(3 * ITERATIONS, __all);				\
} while (0)

/*
 * The exit and exec cases race the interrupts against the end of the
 * originating address space, which takes 100 times longer on a KASAN
 * kernel under TCG than on a stock one, and longer again while another VM
 * shares the host.  So the latencies are not fixed: they follow a running
 * estimate of how long after the submit the address space is gone for
 * sure (seen from the test: the child reaped, the exec's new image
 * running), spread from 0 to 7/4 of it, so that some interrupts land
 * before the end and some after, whatever the kernel's speed.
 */
#define MG_SPREAD	8

static uint64_t mg_spread_latency(uint64_t gone_ns, int it)
{
	return (it % MG_SPREAD) * gone_ns / 4;
}

static uint64_t mg_gone_update(uint64_t gone_ns, uint64_t sample_ns)
{
	return (3 * gone_ns + sample_ns) / 4;
}

/* The first estimate: what a fork, an _exit and the wait for it cost. */
static uint64_t mg_fork_cost(void)
{
	uint64_t t0 = mg_now();
	pid_t pid = mg_fork();

	if (pid == 0)
		_exit(0);
	if (pid < 0 || mg_wait_child(pid))
		return 0;
	return mg_now() - t0;
}

/*
 * One completion of the exit and exec cases, whose address space was gone
 * for sure at @gone: an interrupt after that found nothing to deliver into
 * (the worker's mmget_not_zero() fails once the last user is gone); one
 * before it may have delivered.  Returns whether the interrupt came after.
 */
static int mg_check_after_gone(struct __test_metadata *_metadata,
			       const struct modegate_async_completion *c,
			       pid_t pid, size_t len, uint64_t gone, int *esrch)
{
	ASSERT_EQ(pid, c->origin_tgid);
	if (c->t_irq_ns > gone) {
		ASSERT_EQ(-ESRCH, c->result);
	}
	if (c->result == -ESRCH) {
		esrch[c->strategy]++;
		ASSERT_EQ(MODEGATE_DELIVER_NONE, c->delivered_by);
	} else {
		ASSERT_NE(MODEGATE_STRAT_BUFFERED, c->strategy);
		ASSERT_EQ(len, c->result);
		ASSERT_EQ(mg_expected_by(c->strategy), c->delivered_by);
	}
	return c->t_irq_ns > gone;
}

FIXTURE(life) {
	int fd;
	size_t page;
	int ncpu;
};

FIXTURE_SETUP(life)
{
	ASSERT_EQ(0, mg_ensure_default());
	self->fd = open(MG_DEV, O_RDWR);
	ASSERT_LE(0, self->fd);
	ASSERT_LT(0, mg_fill_store(self->fd));
	self->page = sysconf(_SC_PAGESIZE);
	self->ncpu = mg_nr_cpus();
}

FIXTURE_TEARDOWN(life)
{
	close(self->fd);
}

/* Submit one request per delivering strategy into @b + s * page. */
static int mg_submit_each(int fd, uint8_t *b, size_t page, size_t len, __u64 off,
			  __u64 latency_ns, int ncpu, struct modegate_async_req *r)
{
	int s;

	for (s = 0; s < MG_NR_DELIVERING; s++)
		r[s] = mg_req(mg_delivering[s], b + s * page, len, off + s, latency_ns,
			      s % ncpu, s);
	return mg_submit(fd, r, MG_NR_DELIVERING);
}

/*
 * The originator exits while its requests are pending, its file still open
 * in the parent.  Nothing can be delivered into an address space that is
 * gone: -ESRCH (or the bytes, if the interrupt came first); BUFFERED,
 * which needs the originator to reap, is always -ESRCH -- and the parent
 * can reap it, because the originator's mm has exited.
 */
TEST_F_TIMEOUT(life, originator_exits_with_requests_pending, 300)
{
	int it, after = 0, esrch[MODEGATE_STRAT_MAX + 1] = { 0 };
	uint64_t gone = mg_fork_cost();

	ASSERT_LT(0, gone);
	for (it = 0; it < ITERATIONS; it++) {
		struct modegate_async_completion c[MG_NR_DELIVERING];
		uint64_t t_gone;
		int p[2], i;
		char ok = 0;
		pid_t pid;

		ASSERT_EQ(0, pipe(p));
		pid = mg_fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			struct modegate_async_req r[MG_NR_DELIVERING];
			uint8_t *b = mg_map(MG_NR_DELIVERING * self->page, MAP_PRIVATE);

			ok = b && mg_submit_each(self->fd, b, self->page, 64, it,
						 mg_spread_latency(gone, it), self->ncpu, r) ==
				  MG_NR_DELIVERING;
			if (write(p[1], &ok, 1) != 1)
				_exit(1);
			_exit(0);
		}
		ASSERT_EQ(0, mg_read_full(p[0], &ok, 1));
		ASSERT_TRUE(ok);
		ASSERT_EQ(0, mg_wait_child(pid));
		t_gone = mg_now();
		close(p[0]);
		close(p[1]);

		ASSERT_EQ(MG_NR_DELIVERING, mg_collect(self->fd, c, MG_NR_DELIVERING));
		for (i = 0; i < MG_NR_DELIVERING; i++)
			after += mg_check_after_gone(_metadata, &c[i], pid, 64, t_gone, esrch);
		gone = mg_gone_update(gone, t_gone - c[0].t_submit_ns);
	}
	TH_LOG("%d interrupts came after the exit (the last estimate of its end: %llu us)",
	       after, (unsigned long long)gone / 1000);
	ASSERT_ESRCH_SPREAD(esrch);
	ASSERT_QUIESCENT();
}

/* The originator exits with its own file: the release cleans up. */
TEST_F_TIMEOUT(life, originator_exits_with_its_own_file, 300)
{
	int it;

	for (it = 0; it < ITERATIONS; it++) {
		pid_t pid = mg_fork();

		ASSERT_LE(0, pid);
		if (pid == 0) {
			struct modegate_async_req r[MG_NR_DELIVERING];
			uint8_t *b = mg_map(2 * MG_NR_DELIVERING * self->page, MAP_PRIVATE);
			int fd = open(MG_DEV, O_RDWR);

			if (!b || fd < 0)
				_exit(1);
			/* Some fire while it exits, some never do. */
			if (mg_submit_each(fd, b, self->page, 256, it, (it % 4) * 100 * MG_USEC,
					   self->ncpu, r) != MG_NR_DELIVERING ||
			    mg_submit_each(fd, b + MG_NR_DELIVERING * self->page, self->page, 256,
					   it, 10 * MG_NSEC, self->ncpu, r) != MG_NR_DELIVERING)
				_exit(2);
			_exit(0);
		}
		ASSERT_EQ(0, mg_wait_child(pid));
	}
	ASSERT_QUIESCENT();
}

/*
 * The originator execs after submit (mgexec, which maps the same
 * addresses).  The requests belong to the old address space: the new
 * image receives nothing; ADOPT_MM and REMOTE find the old mm gone
 * (-ESRCH), PIN's pages went with it, BUFFERED has no originator left to
 * copy.
 */
TEST_F_TIMEOUT(life, exec_after_submit, 300)
{
	int it, after = 0, esrch[MODEGATE_STRAT_MAX + 1] = { 0 };
	uint64_t gone = mg_fork_cost();
	char helper[4096];

	ASSERT_LT(0, gone);
	ASSERT_EQ(0, mg_exec_path(helper, sizeof(helper))) {
		TH_LOG("no mgexec next to this program");
	}
	for (it = 0; it < ITERATIONS; it++) {
		struct modegate_async_completion c[MG_NR_DELIVERING];
		struct mg_exec_hello hello;
		int tx[2], rx[2], i;
		char m = 0;
		pid_t pid;

		/* Only the dup2()s reach mgexec: it sees EOF when we are gone. */
		ASSERT_EQ(0, pipe2(tx, O_CLOEXEC));
		ASSERT_EQ(0, pipe2(rx, O_CLOEXEC));
		pid = mg_fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			struct modegate_async_req r[MG_NR_DELIVERING];
			char *argv[] = { helper, NULL };
			uint8_t *b = mmap(MG_EXEC_VA, MG_EXEC_LEN(self->page),
					  PROT_READ | PROT_WRITE,
					  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

			if (b != MG_EXEC_VA || dup2(tx[1], MG_EXEC_TX) < 0 ||
			    dup2(rx[0], MG_EXEC_RX) < 0)
				_exit(1);
			if (mg_submit_each(self->fd, b, self->page, 128, it,
					   mg_spread_latency(gone, it), self->ncpu, r) !=
			    MG_NR_DELIVERING)
				_exit(2);
			execv(argv[0], argv);
			_exit(3);
		}
		close(tx[1]);
		close(rx[0]);
		ASSERT_EQ(0, mg_read_full(tx[0], &hello, sizeof(hello)));
		ASSERT_EQ(MG_EXEC_MAGIC, hello.magic);

		ASSERT_EQ(MG_NR_DELIVERING, mg_collect(self->fd, c, MG_NR_DELIVERING));
		for (i = 0; i < MG_NR_DELIVERING; i++)
			after += mg_check_after_gone(_metadata, &c[i], pid, 128,
						     hello.t_start_ns, esrch);
		gone = mg_gone_update(gone, hello.t_start_ns - c[0].t_submit_ns);
		m = 'c';
		ASSERT_EQ(1, write(rx[1], &m, 1));
		ASSERT_EQ(0, mg_read_full(tx[0], &m, 1));
		ASSERT_EQ('z', m);	/* the new image's buffer is untouched */
		ASSERT_EQ(0, mg_wait_child(pid));
		close(tx[0]);
		close(rx[1]);
	}
	TH_LOG("%d interrupts came after the exec (the last estimate of its end: %llu us)",
	       after, (unsigned long long)gone / 1000);
	ASSERT_ESRCH_SPREAD(esrch);
	ASSERT_QUIESCENT();
}

/*
 * The buffer is unmapped after submit.  ADOPT_MM and REMOTE fault cleanly
 * (-EFAULT) when they come after the munmap; BUFFERED's copy at reap always
 * does.  PIN writes the pages it pinned, which no longer belong to any
 * mapping: a new mapping at the same address receives nothing.  An unmap
 * that lands in the middle of an ADOPT_MM or REMOTE copy ends it there,
 * and the result is the bytes written before it, as the uapi says (seen
 * under TCG, which copies a byte at a time and takes the unmap's TLB
 * shootdown between two bytes).
 */
TEST_F_TIMEOUT(life, munmap_after_submit, 300)
{
	int it, efault[MODEGATE_STRAT_MAX + 1] = { 0 }, partial = 0;

	for (it = 0; it < ITERATIONS; it++) {
		struct modegate_async_completion c[MG_NR_DELIVERING];
		struct modegate_async_req r[MG_NR_DELIVERING];
		uint8_t *b = mg_map(MG_NR_DELIVERING * self->page, MAP_PRIVATE);
		uint8_t *again;
		int i;

		ASSERT_NE(NULL, b);
		ASSERT_EQ(MG_NR_DELIVERING,
			  mg_submit_each(self->fd, b, self->page, 200, it,
					 (it % 4) * 300 * MG_USEC, self->ncpu, r));
		ASSERT_EQ(0, munmap(b, MG_NR_DELIVERING * self->page));
		again = mmap(b, MG_NR_DELIVERING * self->page, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		ASSERT_EQ(b, again);
		/* Only PIN's page is mapped again: the others stay holes. */
		ASSERT_EQ(0, munmap(b, self->page));
		ASSERT_EQ(0, munmap(b + 2 * self->page, 2 * self->page));

		ASSERT_EQ(MG_NR_DELIVERING, mg_collect(self->fd, c, MG_NR_DELIVERING));
		for (i = 0; i < MG_NR_DELIVERING; i++) {
			if (c[i].strategy == MODEGATE_STRAT_PIN) {
				ASSERT_EQ(200, c[i].result);
				ASSERT_EQ(MODEGATE_DELIVER_KMAP, c[i].delivered_by);
			} else if (c[i].result == -EFAULT) {
				efault[c[i].strategy]++;
				ASSERT_EQ(MODEGATE_DELIVER_NONE, c[i].delivered_by);
			} else {
				ASSERT_NE(MODEGATE_STRAT_BUFFERED, c[i].strategy);
				ASSERT_LT(0, c[i].result);
				ASSERT_GE(200, c[i].result);
				ASSERT_NE(MODEGATE_DELIVER_NONE, c[i].delivered_by);
				partial += c[i].result < 200;
			}
		}
		ASSERT_TRUE(mg_all(b + self->page, 0, self->page));
		ASSERT_EQ(0, munmap(b + self->page, self->page));
	}
	TH_LOG("-EFAULT: ADOPT_MM %d, REMOTE %d, BUFFERED %d of %d each; %d partial",
	       efault[1], efault[3], efault[4], ITERATIONS, partial);
	ASSERT_EQ(ITERATIONS, efault[MODEGATE_STRAT_BUFFERED]);
	ASSERT_LT(0, efault[MODEGATE_STRAT_ADOPT_MM]);
	ASSERT_LT(0, efault[MODEGATE_STRAT_REMOTE]);
	ASSERT_QUIESCENT();
}

/* What the forked child reports (in shared memory). */
struct mg_fork_report {
	int reaped;		/* REAP in the child: BUFFERED is not its */
	int waited;		/* ASYNC_WAIT in the child */
	uint8_t bufs[];		/* the child's copy of the buffers */
};

/*
 * The originator forks after submit.  The data lands in the parent; the
 * child, whose memory is a copy, receives nothing written after the fork
 * -- not even through PIN's pages, which fork copies for the child because
 * they are pinned -- and cannot reap the parent's BUFFERED completion.
 */
TEST_F_TIMEOUT(life, fork_after_submit, 300)
{
	size_t area = (MG_NR_DELIVERING + 1) * self->page;
	struct mg_fork_report *rep = mg_map(sizeof(*rep) + area, MAP_SHARED);
	int it, after_fork = 0;
	uint64_t base, cost;

	ASSERT_NE(NULL, rep);
	/*
	 * The interrupts must race the fork: scale the latency to what a fork
	 * costs on this kernel (a KASAN kernel under TCG forks 100x slower).
	 */
	cost = mg_fork_cost();
	ASSERT_LT(0, cost);
	base = 2 * cost + 2 * MG_MSEC;
	TH_LOG("a fork costs %llu us: latencies from %llu us",
	       (unsigned long long)cost / 1000, (unsigned long long)base / 1000);
	for (it = 0; it < ITERATIONS; it++) {
		struct modegate_async_completion c[MG_NR_DELIVERING], c5;
		struct modegate_async_req r[MG_NR_DELIVERING], rb;
		uint8_t *b = mg_map(area, MAP_PRIVATE);
		uint64_t t_fork;
		int go[2], i;
		char g = 'g';
		pid_t pid;

		ASSERT_NE(NULL, b);
		memset(b, 0, area);	/* present pages: PIN pins them, fork sees pins */
		ASSERT_EQ(0, pipe(go));
		ASSERT_EQ(MG_NR_DELIVERING,
			  mg_submit_each(self->fd, b, self->page, 128, it,
					 base + (it % 8) * MG_MSEC, self->ncpu, r));
		pid = mg_fork();
		t_fork = mg_now();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			struct modegate_async_completion cc[8];

			if (mg_read_full(go[0], &g, 1))
				_exit(1);
			rep->reaped = mg_reap(self->fd, cc, 8);
			rep->waited = mg_wait(self->fd, 1, MG_MSEC, NULL);
			memcpy(rep->bufs, b, area);
			_exit(0);
		}

		ASSERT_EQ(MG_NR_DELIVERING, mg_collect(self->fd, c, MG_NR_DELIVERING));
		for (i = 0; i < MG_NR_DELIVERING; i++) {
			uint8_t *pb = b + c[i].user_data * self->page;

			ASSERT_EQ(getpid(), c[i].origin_tgid);
			ASSERT_EQ(128, c[i].result);
			ASSERT_EQ(mg_expected_by(c[i].strategy), c[i].delivered_by);
			ASSERT_TRUE(mg_match(pb, it + c[i].user_data, 128));
		}
		/* One more BUFFERED, posted (ready for us) before the child looks. */
		rb = mg_req(MODEGATE_STRAT_BUFFERED, b + MG_NR_DELIVERING * self->page, 128,
			    it + 77, 0, -1, 77);
		ASSERT_EQ(1, mg_submit(self->fd, &rb, 1));
		ASSERT_EQ(0, mg_wait(self->fd, 1, MG_WAIT_NS, NULL));
		ASSERT_EQ(1, write(go[1], &g, 1));
		ASSERT_EQ(0, mg_wait_child(pid));
		ASSERT_EQ(0, rep->reaped);
		ASSERT_EQ(-ETIMEDOUT, rep->waited);
		ASSERT_EQ(1, mg_reap(self->fd, &c5, 1));
		ASSERT_EQ(128, c5.result);
		ASSERT_EQ(mg_gettid(), c5.deliver_pid);
		ASSERT_TRUE(mg_match(b + MG_NR_DELIVERING * self->page, it + 77, 128));

		/* The child's copy: nothing that was written after the fork. */
		ASSERT_TRUE(mg_all(rep->bufs + MG_NR_DELIVERING * self->page, 0, self->page));
		ASSERT_TRUE(mg_all(rep->bufs + 3 * self->page, 0, self->page));	/* BUFFERED */
		for (i = 0; i < MG_NR_DELIVERING; i++) {
			if (c[i].t_irq_ns > t_fork) {
				ASSERT_TRUE(mg_all(rep->bufs + c[i].user_data * self->page, 0,
						   self->page));
				after_fork++;
			}
		}
		close(go[0]);
		close(go[1]);
		munmap(b, area);
	}
	TH_LOG("%d deliveries came after the fork", after_fork);
	ASSERT_LT(ITERATIONS, after_fork);
	munmap(rep, sizeof(*rep) + area);
	ASSERT_QUIESCENT();
}

/*
 * The file is closed with requests in every state: cancelled if they had
 * not started delivering, finished into the buffer if they had.  Either
 * way a buffer holds all of the data or none of it, and everything is
 * freed.
 */
TEST_F_TIMEOUT(life, close_with_requests_pending, 300)
{
	size_t n = 2 * MG_NR_DELIVERING;
	int it, landed = 0;

	for (it = 0; it < ITERATIONS; it++) {
		struct modegate_async_req r[2 * MG_NR_DELIVERING];
		uint8_t *b = mg_map(n * self->page, MAP_PRIVATE);
		int fd = open(MG_DEV, O_RDWR);
		size_t i;

		ASSERT_NE(NULL, b);
		ASSERT_LE(0, fd);
		for (i = 0; i < n; i++)
			r[i] = mg_req(mg_delivering[i % MG_NR_DELIVERING], b + i * self->page,
				      1000, it + i, i < n / 2 ? (it % 5) * 40 * MG_USEC : 10 * MG_NSEC,
				      i % self->ncpu, i);
		ASSERT_EQ(n, mg_submit(fd, r, n));
		ASSERT_EQ(0, close(fd));
		ASSERT_QUIESCENT();
		for (i = 0; i < n; i++) {
			if (mg_all(b + i * self->page, 0, self->page))
				continue;
			ASSERT_TRUE(mg_match(b + i * self->page, it + i, 1000));
			ASSERT_TRUE(mg_all(b + i * self->page + 1000, 0, self->page - 1000));
			ASSERT_NE(MODEGATE_STRAT_BUFFERED, r[i].strategy);
			landed++;
		}
		munmap(b, n * self->page);
	}
	TH_LOG("%d of %zu requests delivered before or during the close",
	       landed, ITERATIONS * n);
}

/* What the receiving process saw. */
struct mg_scm_report {
	int reaped;
	int waited;
	struct modegate_async_completion c[MG_NR_DELIVERING];
};

/* The receiver: reap what is visible to it on each file it is sent. */
static void mg_scm_receiver(int sock)
{
	struct mg_scm_report rep;
	int fd;

	while ((fd = mg_recv_fd(sock, NULL)) >= 0) {
		memset(&rep, 0, sizeof(rep));
		rep.waited = mg_wait(fd, MG_NR_DELIVERING - 1, MG_WAIT_NS, NULL);
		rep.reaped = mg_reap(fd, rep.c, MG_NR_DELIVERING);
		if (write(sock, &rep, sizeof(rep)) != sizeof(rep))
			_exit(1);
		close(fd);
	}
	_exit(0);
}

/*
 * The file is passed over SCM_RIGHTS to another process, which reaps: it
 * sees the completions delivered by the worker (into the sender), never the
 * sender's BUFFERED one, which stays for the sender to reap.
 */
TEST_F_TIMEOUT(life, fd_passed_over_scm_rights, 300)
{
	struct mg_scm_report rep;
	int it, sv[2];
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = mg_fork();	/* before any buffer or file of the loop exists */
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(sv[0]);
		close(self->fd);
		mg_scm_receiver(sv[1]);
	}
	close(sv[1]);

	for (it = 0; it < ITERATIONS; it++) {
		struct modegate_async_req r[MG_NR_DELIVERING];
		struct modegate_async_completion c;
		uint8_t *b = mg_map(MG_NR_DELIVERING * self->page, MAP_PRIVATE);
		int fd = open(MG_DEV, O_RDWR), i;

		ASSERT_NE(NULL, b);
		ASSERT_LE(0, fd);
		ASSERT_EQ(MG_NR_DELIVERING, mg_submit_each(fd, b, self->page, 300, it,
							   (it % 4) * 200 * MG_USEC,
							   self->ncpu, r));
		ASSERT_EQ(0, mg_send_fd(sv[0], fd, 0));
		ASSERT_EQ(0, mg_read_full(sv[0], &rep, sizeof(rep)));
		ASSERT_EQ(0, rep.waited);
		ASSERT_EQ(MG_NR_DELIVERING - 1, rep.reaped);
		for (i = 0; i < MG_NR_DELIVERING - 1; i++) {
			ASSERT_NE(MODEGATE_STRAT_BUFFERED, rep.c[i].strategy);
			ASSERT_EQ(300, rep.c[i].result);
			ASSERT_EQ(getpid(), rep.c[i].origin_tgid);
			ASSERT_EQ(mg_expected_by(rep.c[i].strategy), rep.c[i].delivered_by);
			ASSERT_TRUE(mg_match(b + rep.c[i].user_data * self->page,
					     it + rep.c[i].user_data, 300));
		}
		/* The BUFFERED completion waited for us. */
		ASSERT_TRUE(mg_all(b + 3 * self->page, 0, self->page));
		ASSERT_EQ(1, mg_collect(fd, &c, 1));
		ASSERT_EQ(MODEGATE_STRAT_BUFFERED, c.strategy);
		ASSERT_EQ(300, c.result);
		ASSERT_EQ(getpid(), c.deliver_pid);
		ASSERT_TRUE(mg_match(b + 3 * self->page, it + 3, 300));
		close(fd);
		munmap(b, MG_NR_DELIVERING * self->page);
	}
	close(sv[0]);
	ASSERT_EQ(0, mg_wait_child(pid));
	ASSERT_QUIESCENT();
}

#define NR_THREADS	8
#define SLOT		64

struct mg_threads {
	int fd;
	int ncpu;
	uint8_t *bufs;			/* SLOT bytes per request */
	atomic_int *seen;		/* completions per request */
	atomic_int submitted, completed, cancelled, cancel_reported, bad, backpressure;
};

static __u64 mg_ud(int t, int seq)
{
	return (__u64)t * 2 * ITERATIONS + seq;
}

/* Check one completion; any thread may reap any thread's requests. */
static void mg_thread_check(struct mg_threads *st, const struct modegate_async_completion *c)
{
	uint8_t *b = st->bufs + c->user_data * SLOT;
	bool ok;

	if (atomic_fetch_add(&st->seen[c->user_data], 1) != 0)
		atomic_fetch_add(&st->bad, 1);
	if (c->result == -ECANCELED)
		ok = (c->ctx_flags & MODEGATE_CTX_CANCELLED) && mg_all(b, 0, SLOT);
	else if (c->strategy == MODEGATE_STRAT_NAIVE)
		ok = c->result == -EXDEV && mg_all(b, 0, SLOT);
	else if (c->result == -EAGAIN)
		/*
		 * The other threads' BUFFERED submits take the mmap lock for
		 * writing (mmu notifier registration): a delivery that could
		 * not have it within its poll gives up untouched, as the uapi
		 * says (slow kernels, KASAN under TCG).
		 */
		ok = (c->strategy == MODEGATE_STRAT_ADOPT_MM ||
		      c->strategy == MODEGATE_STRAT_REMOTE) && mg_all(b, 0, SLOT);
	else
		ok = c->result == SLOT && mg_match(b, c->user_data, SLOT);
	if (!ok)
		atomic_fetch_add(&st->bad, 1);
	if (c->result == -ECANCELED)
		atomic_fetch_add(&st->cancelled, 1);
	atomic_fetch_add(&st->completed, 1);
}

static int mg_thread_reap(struct mg_threads *st)
{
	struct modegate_async_completion c[16];
	int n = mg_reap(st->fd, c, 16), i;

	for (i = 0; i < n; i++)
		mg_thread_check(st, &c[i]);
	return n;
}

/*
 * Submit @r[0..1].  The file's in-flight limit is the ABI's backpressure:
 * eight threads can outrun the one delivery worker of a file, and a request
 * refused with -EAGAIN goes again once this thread has reaped.  Any other
 * refusal is a failure.  Returns how many were queued.
 */
static int mg_thread_submit(struct mg_threads *st, struct modegate_async_req *r)
{
	int k, n = 0, tries;

	for (k = 0; k < 2; k++) {
		for (tries = 0; tries < 1000; tries++) {
			if (mg_submit(st->fd, &r[k], 1) == 1) {
				n++;
				break;
			}
			if (r[k].error != -EAGAIN)
				return n;
			atomic_fetch_add(&st->backpressure, 1);
			if (!mg_thread_reap(st))
				mg_wait(st->fd, 1, 10 * MG_MSEC, NULL);
		}
	}
	return n;
}

struct mg_thread_arg {
	struct mg_threads *st;
	int t;
};

static void *mg_thread(void *p)
{
	struct mg_thread_arg *a = p;
	struct mg_threads *st = a->st;
	unsigned int seed = a->t * 7919 + 1;
	int it;

	for (it = 0; it < ITERATIONS; it++) {
		struct modegate_async_req r[2];
		int k, n;

		for (k = 0; k < 2; k++) {
			__u64 ud = mg_ud(a->t, 2 * it + k);

			r[k] = mg_req(1 + rand_r(&seed) % MODEGATE_STRAT_MAX,
				      st->bufs + ud * SLOT, SLOT, ud,
				      (rand_r(&seed) % 300) * MG_USEC,
				      (int)(rand_r(&seed) % (st->ncpu + 1)) - 1, ud);
		}
		n = mg_thread_submit(st, r);
		if (n != 2)
			atomic_fetch_add(&st->bad, 1);
		atomic_fetch_add(&st->submitted, n > 0 ? n : 0);
		if (rand_r(&seed) % 3 == 0) {
			k = mg_cancel(st->fd, r[rand_r(&seed) % 2].user_data, 0);
			if (k < 0 || k > 1)
				atomic_fetch_add(&st->bad, 1);
			else
				atomic_fetch_add(&st->cancel_reported, k);
		}
		if (rand_r(&seed) % 2)
			mg_thread_reap(st);
	}
	return NULL;
}

/*
 * Threads submit, cancel and reap on one file at once, each reaping
 * whatever comes: every request ends exactly once, with the right bytes
 * or none, and cancel's counts match the -ECANCELED completions.  A submit
 * may only be refused for the in-flight limit (-EAGAIN), and then goes
 * through after a reap.
 */
TEST_F_TIMEOUT(life, threads_submit_cancel_reap_at_once, 300)
{
	int total = NR_THREADS * 2 * ITERATIONS, t, i;
	struct mg_thread_arg args[NR_THREADS];
	pthread_t th[NR_THREADS];
	struct mg_threads st = {
		.fd = self->fd,
		.ncpu = self->ncpu,
	};
	uint64_t end;

	st.bufs = mg_map(total * SLOT, MAP_PRIVATE);
	st.seen = calloc(total, sizeof(*st.seen));
	ASSERT_NE(NULL, st.bufs);
	ASSERT_NE(NULL, st.seen);
	for (t = 0; t < NR_THREADS; t++) {
		args[t] = (struct mg_thread_arg){ &st, t };
		ASSERT_EQ(0, pthread_create(&th[t], NULL, mg_thread, &args[t]));
	}
	for (t = 0; t < NR_THREADS; t++)
		ASSERT_EQ(0, pthread_join(th[t], NULL));
	end = mg_now() + MG_WAIT_NS;
	while (atomic_load(&st.completed) < atomic_load(&st.submitted) && mg_now() < end)
		if (mg_wait(self->fd, 1, MG_WAIT_NS, NULL) == 0)
			mg_thread_reap(&st);

	TH_LOG("%d requests by %d threads, %d cancelled, %d submits refused (-EAGAIN) and retried",
	       total, NR_THREADS, atomic_load(&st.cancelled), atomic_load(&st.backpressure));
	ASSERT_EQ(0, atomic_load(&st.bad));
	ASSERT_EQ(total, atomic_load(&st.submitted));
	ASSERT_EQ(total, atomic_load(&st.completed));
	ASSERT_EQ(atomic_load(&st.cancel_reported), atomic_load(&st.cancelled));
	for (i = 0; i < total; i++)
		ASSERT_EQ(1, atomic_load(&st.seen[i])) TH_LOG("request %d", i);
	ASSERT_EQ(0, mg_reap(self->fd, (struct modegate_async_completion[1]){}, 1));
	free(st.seen);
	munmap(st.bufs, total * SLOT);
	ASSERT_QUIESCENT();
}

/*
 * A process blocked in ASYNC_WAIT for a BUFFERED completion of another
 * process (sharing the file) wakes when that originator exits: the
 * completion becomes reapable by anyone, with -ESRCH.
 */
TEST_F_TIMEOUT(life, waiter_wakes_when_buffered_originator_exits, 300)
{
	int it;

	for (it = 0; it < ITERATIONS; it++) {
		struct modegate_async_completion c;
		int posted[2], go[2];
		char ch = 0;
		pid_t pid;

		ASSERT_EQ(0, pipe(posted));
		ASSERT_EQ(0, pipe(go));
		pid = mg_fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			struct modegate_async_req r;
			uint8_t buf[32];

			r = mg_req(MODEGATE_STRAT_BUFFERED, buf, sizeof(buf), it, 0, -1, it);
			if (mg_submit(self->fd, &r, 1) != 1 ||
			    mg_wait(self->fd, 1, MG_WAIT_NS, NULL))
				_exit(1);
			ch = 'p';
			if (write(posted[1], &ch, 1) != 1 || mg_read_full(go[0], &ch, 1))
				_exit(2);
			_exit(0);	/* without reaping */
		}
		ASSERT_EQ(0, mg_read_full(posted[0], &ch, 1));
		/* Posted, but only the originator may reap it while it lives. */
		ASSERT_EQ(0, mg_reap(self->fd, &c, 1));
		ASSERT_EQ(1, write(go[1], &ch, 1));
		ASSERT_EQ(0, mg_wait(self->fd, 1, 10 * MG_NSEC, NULL));
		ASSERT_EQ(1, mg_reap(self->fd, &c, 1));
		ASSERT_EQ(-ESRCH, c.result);
		ASSERT_EQ(pid, c.origin_tgid);
		ASSERT_EQ(0, mg_wait_child(pid));
		close(posted[0]);
		close(posted[1]);
		close(go[0]);
		close(go[1]);
	}
	ASSERT_QUIESCENT();
}

/*
 * rmmod is refused while a file is open (.owner); once it is closed, the
 * module unloads with deliveries still running (exit drains them) and
 * loads again, 20 times, with requests in every state.
 */
FIXTURE(unload) {
};

FIXTURE_SETUP(unload)
{
}

FIXTURE_TEARDOWN(unload)
{
}

/* The harness's default 30 s is not enough for 20 unloads on a KASAN kernel. */
TEST_F_TIMEOUT(unload, with_requests_pending, 300)
{
	size_t page = sysconf(_SC_PAGESIZE);
	int cycle, requests = 0;

	ASSERT_EQ(0, mg_ensure_default());
	for (cycle = 0; cycle < 20; cycle++) {
		struct modegate_async_req r[3 * MG_NR_DELIVERING];
		uint8_t *b = mg_map(3 * MG_NR_DELIVERING * page, MAP_PRIVATE);
		int fd = open(MG_DEV, O_RDWR), i;

		ASSERT_NE(NULL, b);
		ASSERT_LE(0, fd);
		ASSERT_LT(0, mg_fill_store(fd));
		for (i = 0; i < 3 * MG_NR_DELIVERING; i++)
			r[i] = mg_req(mg_delivering[i % MG_NR_DELIVERING], b + i * page, page, i,
				      i < MG_NR_DELIVERING ? 0 :
				      i < 2 * MG_NR_DELIVERING ? 100 * MG_USEC : 10 * MG_NSEC,
				      -1, i);
		ASSERT_EQ(3 * MG_NR_DELIVERING, mg_submit(fd, r, 3 * MG_NR_DELIVERING));
		requests += 3 * MG_NR_DELIVERING;
		ASSERT_EQ(-EAGAIN, mg_unload());
		ASSERT_EQ(0, close(fd));
		ASSERT_EQ(0, mg_unload());
		ASSERT_FALSE(mg_loaded());
		ASSERT_EQ(0, mg_load(""));
		munmap(b, 3 * MG_NR_DELIVERING * page);
	}
	TH_LOG("%d requests over 20 unloads", requests);
	ASSERT_QUIESCENT();
}

TEST_HARNESS_MAIN
