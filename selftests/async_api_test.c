// SPDX-License-Identifier: GPL-2.0
/*
 * The async engine's ioctls: every strategy delivers exactly the store's
 * bytes into exactly the requested buffer, and nothing else; submit, reap,
 * wait, poll, eventfd and cancel do what the ABI says, refuse bad input
 * with a clear errno, and every request is accounted for.
 */
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/time.h>

#include "async_test.h"
#include "kselftest_harness.h"

#define ITERATIONS	200

FIXTURE(dev) {
	int fd;
	size_t cap;
	size_t page;
	int ncpu;
};

FIXTURE_SETUP(dev)
{
	ASSERT_EQ(0, mg_ensure_default());
	self->fd = open(MG_DEV, O_RDWR);
	ASSERT_LE(0, self->fd);
	self->cap = mg_fill_store(self->fd);
	ASSERT_LT(0, self->cap);
	self->page = sysconf(_SC_PAGESIZE);
	self->ncpu = mg_nr_cpus();
}

FIXTURE_TEARDOWN(dev)
{
	close(self->fd);
}

/*
 * 200 rounds of one request per delivering strategy: odd lengths, odd
 * buffer offsets spanning pages, every CPU, several latencies.  The bytes
 * land exactly in [buf, buf + len), the guard bytes around stay, and the
 * completion tells the truth about who wrote and when.
 */
TEST_F(dev, deliver_every_strategy)
{
	const size_t slot = 4 * self->page;
	struct modegate_async_completion comps[MG_NR_DELIVERING];
	struct modegate_async_req reqs[MG_NR_DELIVERING];
	uint8_t *area = mg_map(MG_NR_DELIVERING * slot, MAP_PRIVATE);
	int it, s, i;

	ASSERT_NE(NULL, area);
	for (it = 0; it < ITERATIONS; it++) {
		for (s = 0; s < MG_NR_DELIVERING; s++) {
			size_t len = 1 + (it * 131 + s * 977) % (2 * self->page);
			size_t boff = (it * 37 + s * 11) % self->page;
			__u64 off = (it * 7919ULL + s * 104729ULL) % (self->cap - len);
			int cpu = it % 3 == 0 ? MODEGATE_CPU_ANY : it % self->ncpu;

			memset(area + s * slot, 0xee, slot);
			reqs[s] = mg_req(mg_delivering[s], area + s * slot + self->page + boff,
					 len, off, (it % 4) * 50 * MG_USEC, cpu,
					 (__u64)it * MG_NR_DELIVERING + s);
		}
		ASSERT_EQ(MG_NR_DELIVERING, mg_submit(self->fd, reqs, MG_NR_DELIVERING));
		for (s = 0; s < MG_NR_DELIVERING; s++)
			ASSERT_EQ(0, reqs[s].error);
		ASSERT_EQ(MG_NR_DELIVERING, mg_collect(self->fd, comps, MG_NR_DELIVERING));

		for (i = 0; i < MG_NR_DELIVERING; i++) {
			struct modegate_async_completion *c = &comps[i];
			struct modegate_async_req *r;
			uint8_t *b;

			s = c->user_data - (__u64)it * MG_NR_DELIVERING;
			ASSERT_LE(0, s);
			ASSERT_GT(MG_NR_DELIVERING, s);
			r = &reqs[s];
			b = (uint8_t *)(uintptr_t)r->buf;
			ASSERT_EQ((__s64)r->len, c->result);
			ASSERT_TRUE(mg_match(b, r->offset, r->len));
			ASSERT_TRUE(mg_all(area + s * slot, 0xee, b - (area + s * slot)));
			ASSERT_TRUE(mg_all(b + r->len, 0xee, area + (s + 1) * slot - (b + r->len)));
			ASSERT_EQ(r->strategy, c->strategy);
			ASSERT_EQ(getpid(), c->origin_tgid);
			if (r->cpu != MODEGATE_CPU_ANY) {
				ASSERT_EQ((__u32)r->cpu, c->irq_cpu);
			}
			ASSERT_TRUE(c->ctx_flags & MODEGATE_CTX_IRQ_HARDIRQ);
			ASSERT_FALSE(c->ctx_flags & (MODEGATE_CTX_CANCELLED | MODEGATE_CTX_WRONG_PROCESS));
			ASSERT_EQ(mg_expected_by(r->strategy), c->delivered_by);
			if (r->strategy == MODEGATE_STRAT_BUFFERED) {
				ASSERT_EQ(mg_gettid(), c->deliver_pid);
			} else {
				ASSERT_NE(getpid(), c->deliver_pid);
			}
			ASSERT_LT(0, c->deliver_pid);
			ASSERT_LE(c->t_submit_ns + r->latency_ns, c->t_irq_ns);
			ASSERT_LE(c->t_irq_ns, c->t_deliver_ns);
			ASSERT_NE(NULL, memchr(c->irq_comm, 0, sizeof(c->irq_comm)));
		}
	}
	munmap(area, MG_NR_DELIVERING * slot);
	ASSERT_QUIESCENT();
}

/* Bytes past the store's used length are not there: short results. */
TEST_F(dev, reads_past_end_of_store_are_short)
{
	uint8_t *buf = mg_map(self->page, MAP_PRIVATE);
	struct modegate_async_completion c;
	struct modegate_async_req r;
	uint8_t data[100];
	int s, fd;

	ASSERT_NE(NULL, buf);
	fd = open(MG_DEV, O_RDWR | O_TRUNC);
	ASSERT_LE(0, fd);
	mg_expect(data, 0, sizeof(data));
	ASSERT_EQ(sizeof(data), pwrite(fd, data, sizeof(data), 0));
	close(fd);

	for (s = 0; s < MG_NR_DELIVERING; s++) {
		const struct { __u64 off; __s64 result; } cases[] = {
			{ 50, 50 }, { 99, 1 }, { 100, 0 }, { 5000, 0 },
		};
		int i;

		for (i = 0; i < 4; i++) {
			memset(buf, 0xee, self->page);
			r = mg_req(mg_delivering[s], buf, 100, cases[i].off, 0, -1, i);
			ASSERT_EQ(1, mg_submit(self->fd, &r, 1));
			ASSERT_EQ(1, mg_collect(self->fd, &c, 1));
			ASSERT_EQ(cases[i].result, c.result);
			ASSERT_TRUE(mg_match(buf, cases[i].off, cases[i].result));
			ASSERT_TRUE(mg_all(buf + cases[i].result, 0xee,
					   self->page - cases[i].result));
		}
	}
	munmap(buf, self->page);
	ASSERT_QUIESCENT();
}

/* NAIVE only reports: -EXDEV, nothing written, nobody delivered. */
TEST_F(dev, naive_writes_nothing)
{
	struct modegate_async_completion comps[ITERATIONS];
	struct modegate_async_req reqs[ITERATIONS];
	uint8_t *buf = mg_map(ITERATIONS * 64, MAP_PRIVATE);
	int i;

	ASSERT_NE(NULL, buf);
	for (i = 0; i < ITERATIONS; i++)
		reqs[i] = mg_req(MODEGATE_STRAT_NAIVE, buf + i * 64, 64, i * 64,
				 (i % 5) * 20 * MG_USEC,
				 i % 2 ? MODEGATE_CPU_ANY : i % self->ncpu, i);
	ASSERT_EQ(ITERATIONS, mg_submit(self->fd, reqs, ITERATIONS));
	ASSERT_EQ(ITERATIONS, mg_collect(self->fd, comps, ITERATIONS));
	for (i = 0; i < ITERATIONS; i++) {
		ASSERT_EQ(-EXDEV, comps[i].result);
		ASSERT_EQ(MODEGATE_DELIVER_NONE, comps[i].delivered_by);
		ASSERT_EQ(0, comps[i].deliver_pid);
		ASSERT_EQ(0, comps[i].t_deliver_ns);
		ASSERT_NE(0, comps[i].t_irq_ns);
		ASSERT_FALSE(comps[i].ctx_flags & MODEGATE_CTX_WRONG_PROCESS);
	}
	ASSERT_TRUE(mg_all(buf, 0, ITERATIONS * 64));
	munmap(buf, ITERATIONS * 64);
	ASSERT_QUIESCENT();
}

TEST_F(dev, wait_and_poll)
{
	uint8_t *buf = mg_map(self->page, MAP_PRIVATE);
	struct pollfd pfd = { .fd = self->fd, .events = POLLPRI };
	struct modegate_async_completion c;
	struct epoll_event ev = { .events = EPOLLPRI };
	struct modegate_async_req r;
	__u32 ready = 99;
	int ep;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, mg_wait(self->fd, 0, 0, &ready));
	ASSERT_EQ(0, ready);
	ASSERT_EQ(-ETIMEDOUT, mg_wait(self->fd, 1, MG_MSEC, NULL));
	ASSERT_EQ(0, poll(&pfd, 1, 0));
	/* The store itself never blocks: readable and writable. */
	pfd.events = POLLIN | POLLOUT | POLLPRI;
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	ASSERT_EQ(POLLIN | POLLOUT, pfd.revents);
	pfd.events = POLLPRI;
	ep = epoll_create1(0);
	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->fd, &ev));
	ASSERT_EQ(0, epoll_wait(ep, &ev, 1, 0));

	r = mg_req(MODEGATE_STRAT_ADOPT_MM, buf, 10, 0, MG_MSEC, -1, 1);
	ASSERT_EQ(1, mg_submit(self->fd, &r, 1));
	ASSERT_EQ(1, poll(&pfd, 1, MG_WAIT_NS / MG_MSEC));
	ASSERT_EQ(POLLPRI, pfd.revents);
	ASSERT_EQ(1, epoll_wait(ep, &ev, 1, 0));
	ASSERT_EQ(EPOLLPRI, ev.events);
	ASSERT_EQ(0, mg_wait(self->fd, 1, MG_WAIT_NS, &ready));
	ASSERT_EQ(1, ready);
	ASSERT_EQ(1, mg_reap(self->fd, &c, 1));
	ASSERT_EQ(0, poll(&pfd, 1, 0));
	ASSERT_EQ(0, epoll_wait(ep, &ev, 1, 0));
	ASSERT_EQ(0, mg_reap(self->fd, &c, 1));

	/* Edge-triggered epoll wakes on a completion that comes later. */
	ev.events = EPOLLPRI | EPOLLET;
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_MOD, self->fd, &ev));
	r = mg_req(MODEGATE_STRAT_BUFFERED, buf, 10, 0, 2 * MG_MSEC, -1, 2);
	ASSERT_EQ(1, mg_submit(self->fd, &r, 1));
	ASSERT_EQ(1, epoll_wait(ep, &ev, 1, MG_WAIT_NS / MG_MSEC));
	ASSERT_EQ(1, mg_reap(self->fd, &c, 1));
	close(ep);
	munmap(buf, self->page);
	ASSERT_QUIESCENT();
}

static void mg_on_alarm(int sig)
{
}

/* A signal interrupts ASYNC_WAIT with -EINTR; no completion is lost. */
TEST_F(dev, wait_interrupted_by_signal)
{
	struct sigaction sa = { .sa_handler = mg_on_alarm };	/* no SA_RESTART */
	struct itimerval it = { .it_value = { 0, 20000 } };
	struct modegate_async_completion c;
	struct modegate_async_req r;
	uint8_t buf[16];
	int i;

	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	for (i = 0; i < 20; i++) {
		r = mg_req(MODEGATE_STRAT_ADOPT_MM, buf, sizeof(buf), i, 200 * MG_MSEC, -1, i);
		ASSERT_EQ(1, mg_submit(self->fd, &r, 1));
		ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
		/* Two can never come: only a signal ends this wait. */
		ASSERT_EQ(-EINTR, mg_wait(self->fd, 2, 0, NULL));
		ASSERT_EQ(1, mg_collect(self->fd, &c, 1));
		ASSERT_EQ(sizeof(buf), c.result);
		ASSERT_TRUE(mg_match(buf, i, sizeof(buf)));
	}
	ASSERT_QUIESCENT();
}

/* Is @pid asleep ('S' in /proc/PID/stat)? */
static bool mg_sleeping(pid_t pid)
{
	return mg_task_state(pid) == 'S';
}

/*
 * A wake-up with no signal handler to run -- here a SIGSTOP and SIGCONT;
 * io_uring's task work does the same -- restarts ASYNC_WAIT instead of
 * failing it with -EINTR: the waiter sees its timeout, as if never woken.
 */
TEST_F(dev, wait_restarts_after_a_stop_and_continue)
{
	int ready[2], status;
	pid_t pid;
	char c;

	ASSERT_EQ(0, pipe(ready));
	pid = mg_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		c = 'r';
		if (write(ready[1], &c, 1) != 1)
			_exit(1);
		/* Nothing is queued: only the timeout ends this wait. */
		_exit(mg_wait(self->fd, 1, 2 * MG_NSEC, NULL) == -ETIMEDOUT ? 0 : 2);
	}
	ASSERT_EQ(1, read(ready[0], &c, 1));
	while (!mg_sleeping(pid))
		sched_yield();
	ASSERT_EQ(0, kill(pid, SIGSTOP));
	ASSERT_EQ(pid, waitpid(pid, &status, WUNTRACED));
	ASSERT_TRUE(WIFSTOPPED(status));
	ASSERT_EQ(0, kill(pid, SIGCONT));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("the wait failed instead of restarting");
	close(ready[0]);
	close(ready[1]);
	ASSERT_QUIESCENT();
}

TEST_F(dev, eventfd_counts_completions)
{
	struct modegate_async_eventfd e = { .fd = eventfd(0, EFD_NONBLOCK) };
	struct modegate_async_completion comps[16];
	struct modegate_async_req reqs[16];
	uint8_t *buf = mg_map(self->page, MAP_PRIVATE);
	uint64_t count;
	int i, p[2];

	ASSERT_NE(NULL, buf);
	ASSERT_LE(0, e.fd);
	ASSERT_EQ(0, ioctl(self->fd, MODEGATE_IOC_ASYNC_EVENTFD, &e));
	for (i = 0; i < 16; i++)
		reqs[i] = mg_req(mg_delivering[i % MG_NR_DELIVERING], buf + i * 8, 8,
				 i * 8, i * 10 * MG_USEC, -1, i);
	ASSERT_EQ(16, mg_submit(self->fd, reqs, 16));
	ASSERT_EQ(16, mg_collect(self->fd, comps, 16));
	ASSERT_EQ(sizeof(count), read(e.fd, &count, sizeof(count)));
	ASSERT_EQ(16, count);

	/* Cancellations are completions too. */
	reqs[0].latency_ns = 5 * MG_NSEC;
	ASSERT_EQ(1, mg_submit(self->fd, reqs, 1));
	ASSERT_EQ(1, mg_cancel(self->fd, 0, MODEGATE_CANCEL_ALL));
	ASSERT_EQ(sizeof(count), read(e.fd, &count, sizeof(count)));
	ASSERT_EQ(1, count);
	ASSERT_EQ(1, mg_collect(self->fd, comps, 1));

	/* -1 stops the signalling. */
	close(e.fd);	/* the module keeps its own reference */
	e.fd = -1;
	ASSERT_EQ(0, ioctl(self->fd, MODEGATE_IOC_ASYNC_EVENTFD, &e));
	reqs[0].latency_ns = 0;
	ASSERT_EQ(1, mg_submit(self->fd, reqs, 1));
	ASSERT_EQ(1, mg_collect(self->fd, comps, 1));

	/* Bad input. */
	e.fd = 9999;
	ASSERT_EQ(-1, ioctl(self->fd, MODEGATE_IOC_ASYNC_EVENTFD, &e));
	ASSERT_EQ(EBADF, errno);
	e.fd = -2;
	ASSERT_EQ(-1, ioctl(self->fd, MODEGATE_IOC_ASYNC_EVENTFD, &e));
	ASSERT_EQ(EBADF, errno);
	ASSERT_EQ(0, pipe(p));
	e.fd = p[0];
	ASSERT_EQ(-1, ioctl(self->fd, MODEGATE_IOC_ASYNC_EVENTFD, &e));
	ASSERT_EQ(EINVAL, errno);
	e.fd = eventfd(0, 0);
	e.flags = 1;
	ASSERT_EQ(-1, ioctl(self->fd, MODEGATE_IOC_ASYNC_EVENTFD, &e));
	ASSERT_EQ(EINVAL, errno);
	close(e.fd);
	close(p[0]);
	close(p[1]);
	munmap(buf, self->page);
	ASSERT_QUIESCENT();
}

/* Cancel by user_data and all: -ECANCELED completions, nothing written. */
TEST_F(dev, cancel_by_user_data_and_all)
{
	struct modegate_async_completion comps[40];
	struct modegate_async_req reqs[40];
	uint8_t *buf = mg_map(40 * self->page, MAP_PRIVATE);
	struct modegate_stats st;
	int i, want3 = 0, seen3 = 0;

	ASSERT_NE(NULL, buf);
	for (i = 0; i < 40; i++)
		reqs[i] = mg_req(mg_delivering[i % MG_NR_DELIVERING], buf + i * self->page,
				 self->page, 0, 10 * MG_NSEC, i % self->ncpu, i % 10);
	ASSERT_EQ(40, mg_submit(self->fd, reqs, 40));
	ASSERT_EQ(0, mg_stats(self->fd, &st));
	ASSERT_LE(10, st.pinned_pages);		/* ten PIN requests of a page */
	ASSERT_LE(40, st.mm_refs);

	for (i = 3; i < 40; i += 10)
		want3 |= 1 << reqs[i].strategy;
	ASSERT_EQ(4, mg_cancel(self->fd, 3, 0));
	ASSERT_EQ(0, mg_cancel(self->fd, 3, 0));
	ASSERT_EQ(0, mg_cancel(self->fd, 77, 0));
	ASSERT_EQ(4, mg_collect(self->fd, comps, 4));
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(3, comps[i].user_data);
		ASSERT_EQ(-ECANCELED, comps[i].result);
		ASSERT_TRUE(comps[i].ctx_flags & MODEGATE_CTX_CANCELLED);
		ASSERT_EQ(MODEGATE_DELIVER_NONE, comps[i].delivered_by);
		seen3 |= 1 << comps[i].strategy;
	}
	ASSERT_EQ(want3, seen3);

	ASSERT_EQ(36, mg_cancel(self->fd, 0, MODEGATE_CANCEL_ALL));
	ASSERT_EQ(0, mg_cancel(self->fd, 0, MODEGATE_CANCEL_ALL));
	ASSERT_EQ(36, mg_collect(self->fd, comps, 36));
	for (i = 0; i < 36; i++) {
		ASSERT_NE(3, comps[i].user_data);
		ASSERT_EQ(-ECANCELED, comps[i].result);
		ASSERT_TRUE(comps[i].ctx_flags & MODEGATE_CTX_CANCELLED);
	}
	ASSERT_TRUE(mg_all(buf, 0, 40 * self->page));
	munmap(buf, 40 * self->page);
	ASSERT_QUIESCENT();
}

/*
 * Cancel racing the interrupt and the delivery: each request ends exactly
 * once, either delivered whole or cancelled with nothing written, and the
 * count cancel returns is the number of -ECANCELED completions.
 */
TEST_F(dev, cancel_races_delivery)
{
	struct modegate_async_completion comps[MG_NR_DELIVERING * 2];
	struct modegate_async_req reqs[MG_NR_DELIVERING * 2];
	uint8_t *buf = mg_map(MG_NR_DELIVERING * 2 * self->page, MAP_PRIVATE);
	int it, i, n = MG_NR_DELIVERING * 2;
	int cancelled = 0, delivered = 0;

	ASSERT_NE(NULL, buf);
	for (it = 0; it < ITERATIONS; it++) {
		int k, got = 0;

		memset(buf, 0, n * self->page);
		for (i = 0; i < n; i++)
			reqs[i] = mg_req(mg_delivering[i % MG_NR_DELIVERING],
					 buf + i * self->page, 512, it * 512 + i,
					 (it % 8) * 5 * MG_USEC, i % self->ncpu, i);
		ASSERT_EQ(n, mg_submit(self->fd, reqs, n));
		k = mg_cancel(self->fd, 0, MODEGATE_CANCEL_ALL);
		ASSERT_LE(0, k);
		ASSERT_EQ(n, mg_collect(self->fd, comps, n));
		for (i = 0; i < n; i++) {
			struct modegate_async_completion *c = &comps[i];
			uint8_t *b = buf + c->user_data * self->page;

			if (c->result == -ECANCELED) {
				ASSERT_TRUE(c->ctx_flags & MODEGATE_CTX_CANCELLED);
				ASSERT_TRUE(mg_all(b, 0, self->page));
				got++;
			} else {
				ASSERT_EQ(512, c->result);
				ASSERT_FALSE(c->ctx_flags & MODEGATE_CTX_CANCELLED);
				ASSERT_TRUE(mg_match(b, it * 512 + c->user_data, 512));
			}
		}
		ASSERT_EQ(k, got);
		cancelled += got;
		delivered += n - got;
		ASSERT_EQ(0, mg_reap(self->fd, comps, 1));
	}
	TH_LOG("%d requests: %d cancelled, %d delivered", ITERATIONS * n,
	       cancelled, delivered);
	munmap(buf, MG_NR_DELIVERING * 2 * self->page);
	ASSERT_QUIESCENT();
}

/* max_inflight (1024 by default) per file: -EAGAIN beyond. */
TEST_F(dev, inflight_limit_per_file)
{
	static struct modegate_async_completion comps[1024];
	static struct modegate_async_req reqs[1024];
	uint8_t buf[1024];
	int i, fd2;

	for (i = 0; i < 1024; i++)
		reqs[i] = mg_req(MODEGATE_STRAT_ADOPT_MM, buf + i, 1, i, 10 * MG_NSEC, -1, i);
	for (i = 0; i < 1024; i += 256)
		ASSERT_EQ(256, mg_submit(self->fd, reqs + i, 256));
	ASSERT_EQ(0, mg_submit(self->fd, reqs, 1));
	ASSERT_EQ(-EAGAIN, reqs[0].error);

	fd2 = open(MG_DEV, O_RDWR);	/* another file has its own budget */
	ASSERT_LE(0, fd2);
	ASSERT_EQ(1, mg_submit(fd2, reqs, 1));
	ASSERT_EQ(0, reqs[0].error);
	close(fd2);

	ASSERT_EQ(1024, mg_cancel(self->fd, 0, MODEGATE_CANCEL_ALL));
	/* Completions not yet reaped still count: reap, then there is room. */
	ASSERT_EQ(0, mg_submit(self->fd, reqs, 1));
	ASSERT_EQ(1024, mg_collect(self->fd, comps, 1024));
	reqs[0].latency_ns = 0;
	ASSERT_EQ(1, mg_submit(self->fd, reqs, 1));
	ASSERT_EQ(1, mg_collect(self->fd, comps, 1));
	ASSERT_EQ(1, comps[0].result);
	ASSERT_QUIESCENT();
}

/* max_inflight_global across files. */
TEST(inflight_limit_global)
{
	struct modegate_async_completion comps[8];
	struct modegate_async_req reqs[8];
	uint8_t buf[8];
	int fd1, fd2, i;

	ASSERT_EQ(0, mg_reload("max_inflight=4 max_inflight_global=6"));
	fd1 = open(MG_DEV, O_RDWR);
	fd2 = open(MG_DEV, O_RDWR);
	ASSERT_LE(0, fd1);
	ASSERT_LE(0, fd2);
	for (i = 0; i < 8; i++)
		reqs[i] = mg_req(MODEGATE_STRAT_ADOPT_MM, buf + i, 1, 0, 10 * MG_NSEC, -1, i);
	ASSERT_EQ(4, mg_submit(fd1, reqs, 5));
	ASSERT_EQ(-EAGAIN, reqs[4].error);
	ASSERT_EQ(2, mg_submit(fd2, reqs, 3));
	ASSERT_EQ(0, reqs[1].error);
	ASSERT_EQ(-EAGAIN, reqs[2].error);
	ASSERT_EQ(4, mg_cancel(fd1, 0, MODEGATE_CANCEL_ALL));
	ASSERT_EQ(4, mg_collect(fd1, comps, 4));
	ASSERT_EQ(1, mg_submit(fd2, reqs, 1));
	close(fd1);
	close(fd2);	/* with three requests in flight */
	ASSERT_QUIESCENT();
	ASSERT_EQ(0, mg_reload(NULL));
}

/* PIN holds at most MODEGATE_ASYNC_MAX_PINNED_PAGES (64 MiB) in all. */
TEST_F(dev, pin_budget)
{
	size_t len = self->cap, total = 64UL << 20, n = total / len, i;
	struct modegate_async_completion c;
	struct modegate_async_req r;
	struct modegate_stats st;
	uint8_t *area = mg_map(total + len, MAP_PRIVATE);

	ASSERT_NE(NULL, area);
	ASSERT_EQ(0, total % len);
	for (i = 0; i < n; i++) {
		r = mg_req(MODEGATE_STRAT_PIN, area + i * len, len, 0, 10 * MG_NSEC, -1, i);
		ASSERT_EQ(1, mg_submit(self->fd, &r, 1));
	}
	ASSERT_EQ(0, mg_stats(self->fd, &st));
	ASSERT_EQ(total / self->page, st.pinned_pages);
	r = mg_req(MODEGATE_STRAT_PIN, area + total, 1, 0, 0, -1, 99);
	ASSERT_EQ(0, mg_submit(self->fd, &r, 1));
	ASSERT_EQ(-EAGAIN, r.error);
	/* REMOTE pins only while it delivers. */
	r.strategy = MODEGATE_STRAT_REMOTE;
	ASSERT_EQ(1, mg_submit(self->fd, &r, 1));
	ASSERT_EQ(1, mg_collect(self->fd, &c, 1));
	ASSERT_EQ(1, c.result);

	ASSERT_EQ(n, mg_cancel(self->fd, 0, MODEGATE_CANCEL_ALL));
	for (i = 0; i < n; i++)
		ASSERT_EQ(1, mg_collect(self->fd, &c, 1));
	ASSERT_EQ(0, mg_stats(self->fd, &st));
	ASSERT_EQ(0, st.pinned_pages);
	r.strategy = MODEGATE_STRAT_PIN;
	ASSERT_EQ(1, mg_submit(self->fd, &r, 1));
	ASSERT_EQ(1, mg_collect(self->fd, &c, 1));
	munmap(area, total + len);
	ASSERT_QUIESCENT();
}

/* BUFFERED holds at most MODEGATE_ASYNC_MAX_BUFFERED (64 MiB) in all. */
TEST_F(dev, buffered_budget)
{
	size_t len = self->cap, n = (64UL << 20) / len, i;
	struct modegate_async_completion c;
	struct modegate_async_req r;
	uint8_t *buf = mg_map(len, MAP_PRIVATE);

	ASSERT_NE(NULL, buf);
	for (i = 0; i < n; i++) {
		r = mg_req(MODEGATE_STRAT_BUFFERED, buf, len, 0, 10 * MG_NSEC, -1, i);
		ASSERT_EQ(1, mg_submit(self->fd, &r, 1));
	}
	ASSERT_EQ(0, mg_submit(self->fd, &r, 1));
	ASSERT_EQ(-EAGAIN, r.error);
	/* A cancelled request gives its room back at once. */
	ASSERT_EQ(1, mg_cancel(self->fd, 0, 0));
	r.latency_ns = 0;
	r.user_data = n;
	ASSERT_EQ(1, mg_submit(self->fd, &r, 1));
	ASSERT_EQ(0, mg_submit(self->fd, &r, 1));
	ASSERT_EQ(-EAGAIN, r.error);
	ASSERT_EQ(0, mg_wait(self->fd, 2, MG_WAIT_NS, NULL));
	ASSERT_EQ(n - 1, mg_cancel(self->fd, 0, MODEGATE_CANCEL_ALL));
	for (i = 0; i <= n; i++) {
		ASSERT_EQ(1, mg_collect(self->fd, &c, 1));
		if (c.user_data == n) {
			ASSERT_EQ(len, c.result);
		} else {
			ASSERT_EQ(-ECANCELED, c.result);
		}
	}
	ASSERT_TRUE(mg_match(buf, 0, len));
	munmap(buf, len);
	ASSERT_QUIESCENT();
}

/*
 * BUFFERED copies to the user buffer in the reap: one reap call's copies
 * are stamped once, as they end (the uapi header's promise), so every
 * t_deliver_ns of the call is the same instant inside the call, and the
 * data is there when the call returns.
 */
TEST_F(dev, buffered_reap_stamps_its_copies_once)
{
	enum { NR = 16 };
	struct modegate_async_completion comps[NR];
	struct modegate_async_req reqs[NR];
	size_t len = 300;
	uint8_t *area = mg_map(NR * self->page, MAP_PRIVATE);
	uint64_t before, after;
	__u32 ready = 0;
	int i;

	ASSERT_NE(NULL, area);
	memset(area, 0xee, NR * self->page);
	for (i = 0; i < NR; i++)
		reqs[i] = mg_req(MODEGATE_STRAT_BUFFERED, area + i * self->page + 7,
				 len, i * 1000, 0, MODEGATE_CPU_ANY, i);
	ASSERT_EQ(NR, mg_submit(self->fd, reqs, NR));
	ASSERT_EQ(0, mg_wait(self->fd, NR, MG_WAIT_NS, &ready));
	ASSERT_EQ(NR, ready);
	/* Completed, but not yet copied: the reap does that. */
	ASSERT_TRUE(mg_all(area, 0xee, NR * self->page));
	before = mg_now();
	ASSERT_EQ(NR, mg_reap(self->fd, comps, NR));
	after = mg_now();
	for (i = 0; i < NR; i++) {
		__u64 k = comps[i].user_data;

		ASSERT_GT(NR, k);
		ASSERT_EQ((__s64)len, comps[i].result);
		ASSERT_EQ(MODEGATE_DELIVER_ORIGINATOR, comps[i].delivered_by);
		ASSERT_TRUE(mg_match(area + k * self->page + 7, k * 1000, len));
		ASSERT_LE(comps[i].t_irq_ns, comps[i].t_deliver_ns);
		ASSERT_LE(before, comps[i].t_deliver_ns);
		ASSERT_GE(after, comps[i].t_deliver_ns);
		ASSERT_EQ(comps[0].t_deliver_ns, comps[i].t_deliver_ns);
	}
	munmap(area, NR * self->page);
	ASSERT_QUIESCENT();
}

/*
 * A buffer that is not mapped: PIN refuses it at submit; the others find
 * out at delivery and complete with -EFAULT, cleanly.
 */
TEST_F(dev, unmapped_buffer_faults_cleanly)
{
	struct modegate_async_completion comps[MG_NR_DELIVERING];
	struct modegate_async_req r[MG_NR_DELIVERING];
	uint8_t *gone = mg_map(self->page, MAP_PRIVATE);
	int it, s;

	ASSERT_NE(NULL, gone);
	ASSERT_EQ(0, munmap(gone, self->page));
	for (it = 0; it < 50; it++) {
		for (s = 0; s < MG_NR_DELIVERING; s++)
			r[s] = mg_req(mg_delivering[s], gone + it, 16, it, 0, it % self->ncpu, s);
		ASSERT_EQ(MG_NR_DELIVERING - 1, mg_submit(self->fd, r, MG_NR_DELIVERING));
		ASSERT_EQ(-EFAULT, r[1].error);		/* PIN */
		ASSERT_EQ(MG_NR_DELIVERING - 1, mg_collect(self->fd, comps, MG_NR_DELIVERING - 1));
		for (s = 0; s < MG_NR_DELIVERING - 1; s++) {
			ASSERT_EQ(-EFAULT, comps[s].result);
			ASSERT_EQ(MODEGATE_DELIVER_NONE, comps[s].delivered_by);
		}
	}
	ASSERT_QUIESCENT();
}

/* Look for @want in @text; log it when missing. */
#define EXPECT_TEXT(text, ...) do {					\
	char __want[256];						\
	snprintf(__want, sizeof(__want), __VA_ARGS__);			\
	EXPECT_NE(NULL, strstr(text, __want)) TH_LOG("no '%s'", __want); \
} while (0)

/*
 * Every step of a request is a tracepoint, and with trace=1 the interrupt
 * and the delivery each print the context they ran in: hardirq for the
 * interrupt, a kthread (the kworker) for ADOPT_MM, the process itself for
 * BUFFERED's copy at reap.
 */
TEST_F(dev, every_step_is_traced)
{
	const char *events[] = {
		"modegate_async_submit", "modegate_async_irq",
		"modegate_async_deliver", "modegate_async_complete",
	};
	struct modegate_async_completion c[2];
	struct modegate_async_req r[2];
	int cpu = self->ncpu - 1, i, pfd;
	char *trace, *klog;
	uint8_t buf[64];

	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, mg_trace_start("mg_async_test", events[i]));
	pfd = open("/sys/module/modegate/parameters/trace", O_WRONLY);
	ASSERT_LE(0, pfd);
	ASSERT_EQ(1, write(pfd, "1", 1));

	r[0] = mg_req(MODEGATE_STRAT_ADOPT_MM, buf, 32, 777, 0, cpu, 4242);
	r[1] = mg_req(MODEGATE_STRAT_BUFFERED, buf + 32, 32, 888, 0, cpu, 4343);
	ASSERT_EQ(2, mg_submit(self->fd, r, 2));
	ASSERT_EQ(2, mg_collect(self->fd, c, 2));
	ASSERT_EQ(32, c[0].result);
	ASSERT_EQ(32, c[1].result);
	r[0].latency_ns = 5 * MG_NSEC;
	r[0].user_data = 4444;
	ASSERT_EQ(1, mg_submit(self->fd, r, 1));
	ASSERT_EQ(1, mg_cancel(self->fd, 4444, 0));
	ASSERT_EQ(1, mg_collect(self->fd, c, 1));

	ASSERT_EQ(1, pwrite(pfd, "0", 1, 0));
	close(pfd);
	trace = mg_trace_read("mg_async_test");
	mg_trace_stop("mg_async_test");
	ASSERT_NE(NULL, trace);
	EXPECT_TEXT(trace, "user_data=4242 origin_tgid=%d comm=async_api_test strategy=ADOPT_MM cpu=%d len=32 latency_ns=0",
		    getpid(), cpu);
	EXPECT_TEXT(trace, "user_data=4242 cpu=%d interrupted pid=", cpu);
	EXPECT_TEXT(trace, "origin_tgid=%d mm=", getpid());
	EXPECT_TEXT(trace, "user_data=4242 strategy=ADOPT_MM by pid=");
	EXPECT_TEXT(trace, "comm=kworker");
	EXPECT_TEXT(trace, "via=adopted-mm -> 32");
	EXPECT_TEXT(trace, "user_data=4242 completed -> 32");
	EXPECT_TEXT(trace, "user_data=4343 strategy=BUFFERED by pid=%d comm=async_api_test via=originator -> 32",
		    mg_gettid());
	EXPECT_TEXT(trace, "user_data=4444 cancelled -> %d", -ECANCELED);
	free(trace);

	klog = mg_read_klog();
	ASSERT_NE(NULL, klog);
	EXPECT_TEXT(klog, "ctx=hardirq off=777 len=32 -> 0");
	EXPECT_TEXT(klog, "ctx=kthread off=777 len=32 -> 32");
	EXPECT_TEXT(klog, "modegate: async_reap_deliver pid=%d comm=async_api_test ctx=process off=888 len=32 -> 32",
		    mg_gettid());
	free(klog);
	ASSERT_QUIESCENT();
}

static int mg_submit_raw(int fd, void *reqs, __u32 nr, __u32 req_size, __u32 flags)
{
	struct modegate_async_submit s = {
		.reqs = (uintptr_t)reqs,
		.nr = nr,
		.req_size = req_size,
		.flags = flags,
	};

	return ioctl(fd, MODEGATE_IOC_ASYNC_SUBMIT, &s) < 0 ? -errno : s.queued;
}

TEST_F(dev, bad_submit_args)
{
	struct modegate_async_req r[2];
	uint8_t buf[8];

	r[0] = mg_req(MODEGATE_STRAT_ADOPT_MM, buf, 8, 0, 0, -1, 0);
	ASSERT_EQ(-EINVAL, mg_submit_raw(self->fd, r, 1, sizeof(r[0]), 1));
	ASSERT_EQ(-EINVAL, mg_submit_raw(self->fd, r, 1, sizeof(r[0]), 0x80000000));
	ASSERT_EQ(-EINVAL, mg_submit_raw(self->fd, r, 0, sizeof(r[0]), 0));
	ASSERT_EQ(-EINVAL, mg_submit_raw(self->fd, r, 257, sizeof(r[0]), 0));
	ASSERT_EQ(-EINVAL, mg_submit_raw(self->fd, r, 1, sizeof(r[0]) - 1, 0));
	ASSERT_EQ(-EINVAL, mg_submit_raw(self->fd, r, 1, 0, 0));
	ASSERT_EQ(-EFAULT, mg_submit_raw(self->fd, NULL, 1, sizeof(r[0]), 0));
	ASSERT_EQ(-EFAULT, mg_submit_raw(self->fd, (void *)-4096L, 1, sizeof(r[0]), 0));
	ASSERT_EQ(-EFAULT, mg_submit_raw(self->fd, (void *)0xffff888000000000UL, 1,
					 sizeof(r[0]), 0));
	/* Elements larger than a page are refused before any is read. */
	ASSERT_EQ(-E2BIG, mg_submit_raw(self->fd, r, 256, 0x7fffffff, 0));
	ASSERT_EQ(-E2BIG, mg_submit_raw(self->fd, r, 1, getpagesize() + 8, 0));
	ASSERT_EQ(-EFAULT, ioctl(self->fd, MODEGATE_IOC_ASYNC_SUBMIT, NULL) ? -errno : 0);
	ASSERT_QUIESCENT();
}

/* Each bad request gets its own errno; the good ones around it go. */
TEST_F(dev, bad_requests_fail_alone)
{
	uint8_t *ro = mmap(NULL, self->page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *gone = mg_map(self->page, MAP_PRIVATE);
	void *kernel = (void *)0xffff888000000000UL;
	struct modegate_async_completion comps[64];
	struct modegate_async_req r[64];
	uint8_t buf[64];
	int n = 0, i, queued;
	struct {
		struct modegate_async_req r;
		__u32 flags;
		int error;
	} cases[] = {
#define C(strat, b, len, off, lat, cpu, flags, err) \
		{ mg_req(strat, b, len, off, lat, cpu, 0), flags, err }
		C(0, buf, 8, 0, 0, -1, 0, -EINVAL),
		C(MODEGATE_STRAT_MAX + 1, buf, 8, 0, 0, -1, 0, -EINVAL),
		C(0xffffffff, buf, 8, 0, 0, -1, 0, -EINVAL),
		C(MODEGATE_STRAT_ADOPT_MM, buf, 0, 0, 0, -1, 0, -EINVAL),
		C(MODEGATE_STRAT_ADOPT_MM, buf, self->cap + 1, 0, 0, -1, 0, -EINVAL),
		C(MODEGATE_STRAT_ADOPT_MM, buf, ~0ULL, 0, 0, -1, 0, -EINVAL),
		C(MODEGATE_STRAT_ADOPT_MM, buf, 8, ~0ULL - 3, 0, -1, 0, -EINVAL),
		C(MODEGATE_STRAT_ADOPT_MM, buf, 8, 1ULL << 63, 0, -1, 0, -EINVAL),
		C(MODEGATE_STRAT_ADOPT_MM, buf, 8, 0, 10 * MG_NSEC + 1, -1, 0, -EINVAL),
		C(MODEGATE_STRAT_ADOPT_MM, buf, 8, 0, ~0ULL, -1, 0, -EINVAL),
		C(MODEGATE_STRAT_ADOPT_MM, buf, 8, 0, 0, -2, 0, -EINVAL),
		C(MODEGATE_STRAT_ADOPT_MM, buf, 8, 0, 0, 4096, 0, -EINVAL),
		C(MODEGATE_STRAT_ADOPT_MM, buf, 8, 0, 0, 0x7fffffff, 0, -EINVAL),
		C(MODEGATE_STRAT_ADOPT_MM, buf, 8, 0, 0, -0x7fffffff - 1, 0, -EINVAL),
		C(MODEGATE_STRAT_ADOPT_MM, buf, 8, 0, 0, -1, 2, -EINVAL),
		C(MODEGATE_STRAT_NAIVE, buf, 8, 0, 0, -1, 0x80000000, -EINVAL),
		C(MODEGATE_STRAT_ADOPT_MM, buf, 8, 0, 0, -1, MODEGATE_REQ_DEMO_WRONG_PROCESS, -EINVAL),
		C(MODEGATE_STRAT_BUFFERED, buf, 8, 0, 0, -1, MODEGATE_REQ_DEMO_WRONG_PROCESS, -EINVAL),
		C(MODEGATE_STRAT_ADOPT_MM, kernel, 8, 0, 0, -1, 0, -EFAULT),
		C(MODEGATE_STRAT_BUFFERED, (void *)-8L, 8, 0, 0, -1, 0, -EFAULT),
		C(MODEGATE_STRAT_REMOTE, (void *)-4096L, 0x2000, 0, 0, -1, 0, -EFAULT),
		C(MODEGATE_STRAT_PIN, kernel, 8, 0, 0, -1, 0, -EFAULT),
		C(MODEGATE_STRAT_PIN, gone, 8, 0, 0, -1, 0, -EFAULT),
		C(MODEGATE_STRAT_PIN, ro, 8, 0, 0, -1, 0, -EFAULT),
		C(MODEGATE_STRAT_PIN, NULL, 8, 0, 0, -1, 0, -EFAULT),
		C(MODEGATE_STRAT_NAIVE, kernel, 8, 0, 0, -1, 0, -EFAULT),
		/* A demo request must stay within one page. */
		C(MODEGATE_STRAT_NAIVE, ro, self->page + 1, 0, 0, -1,
		  MODEGATE_REQ_DEMO_WRONG_PROCESS, -EINVAL),
		C(MODEGATE_STRAT_NAIVE, ro + self->page - 8, 9, 0, 0, -1,
		  MODEGATE_REQ_DEMO_WRONG_PROCESS, -EINVAL),
		C(MODEGATE_STRAT_NAIVE, ro + self->page - 8, 8, 0, 0, -1,
		  MODEGATE_REQ_DEMO_WRONG_PROCESS, 0),
		C(MODEGATE_STRAT_ADOPT_MM, buf, 8, 0, 0, -1, 0, 0),
#undef C
	};
	const int nr_cases = sizeof(cases) / sizeof(cases[0]);

	ASSERT_NE(MAP_FAILED, ro);
	ASSERT_NE(NULL, gone);
	ASSERT_EQ(0, munmap(gone, self->page));
	for (i = 0; i < nr_cases; i++) {
		r[n] = cases[i].r;
		r[n++].flags = cases[i].flags;
		/* A good request after each case. */
		r[n++] = mg_req(MODEGATE_STRAT_REMOTE, buf + 32, 8, 100 + i, 0, -1, 1000 + i);
	}
	queued = mg_submit(self->fd, r, n);
	for (i = 0; i < n; i++) {
		if (i % 2) {
			ASSERT_EQ(0, r[i].error);
		} else {
			ASSERT_EQ(cases[i / 2].error, r[i].error) TH_LOG("case %d", i / 2);
		}
	}
	ASSERT_EQ(nr_cases + 2, queued);
	ASSERT_EQ(queued, mg_collect(self->fd, comps, queued));
	ASSERT_EQ(0, mg_reap(self->fd, comps, 1));
	munmap(ro, self->page);
	ASSERT_QUIESCENT();
}

TEST_F(dev, bad_reap_wait_cancel_args)
{
	struct modegate_async_completion c[2];
	struct modegate_async_reap rp;
	struct modegate_async_wait w;
	struct modegate_async_cancel cn;

	rp = (struct modegate_async_reap){ (uintptr_t)c, 1, sizeof(c[0]), 1, 0 };
	ASSERT_EQ(-1, ioctl(self->fd, MODEGATE_IOC_ASYNC_REAP, &rp));
	ASSERT_EQ(EINVAL, errno);
	rp = (struct modegate_async_reap){ (uintptr_t)c, 0, sizeof(c[0]), 0, 0 };
	ASSERT_EQ(-1, ioctl(self->fd, MODEGATE_IOC_ASYNC_REAP, &rp));
	ASSERT_EQ(EINVAL, errno);
	rp = (struct modegate_async_reap){ (uintptr_t)c, 257, sizeof(c[0]), 0, 0 };
	ASSERT_EQ(-1, ioctl(self->fd, MODEGATE_IOC_ASYNC_REAP, &rp));
	ASSERT_EQ(EINVAL, errno);
	rp = (struct modegate_async_reap){ (uintptr_t)c, 1, sizeof(c[0]) - 1, 0, 0 };
	ASSERT_EQ(-1, ioctl(self->fd, MODEGATE_IOC_ASYNC_REAP, &rp));
	ASSERT_EQ(EINVAL, errno);
	rp = (struct modegate_async_reap){ 0xffff888000000000UL, 1, sizeof(c[0]), 0, 0 };
	ASSERT_EQ(-1, ioctl(self->fd, MODEGATE_IOC_ASYNC_REAP, &rp));
	ASSERT_EQ(EFAULT, errno);
	rp = (struct modegate_async_reap){ -4096UL, 1, sizeof(c[0]), 0, 0 };
	ASSERT_EQ(-1, ioctl(self->fd, MODEGATE_IOC_ASYNC_REAP, &rp));
	ASSERT_EQ(EFAULT, errno);

	w = (struct modegate_async_wait){ .min_complete = 1, .flags = 1 };
	ASSERT_EQ(-1, ioctl(self->fd, MODEGATE_IOC_ASYNC_WAIT, &w));
	ASSERT_EQ(EINVAL, errno);
	w = (struct modegate_async_wait){ .min_complete = 1, .reserved = 1 };
	ASSERT_EQ(-1, ioctl(self->fd, MODEGATE_IOC_ASYNC_WAIT, &w));
	ASSERT_EQ(EINVAL, errno);
	w = (struct modegate_async_wait){ .min_complete = 1025 };
	ASSERT_EQ(-1, ioctl(self->fd, MODEGATE_IOC_ASYNC_WAIT, &w));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, ioctl(self->fd, MODEGATE_IOC_ASYNC_WAIT, NULL));
	ASSERT_EQ(EFAULT, errno);

	cn = (struct modegate_async_cancel){ .flags = 2 };
	ASSERT_EQ(-1, ioctl(self->fd, MODEGATE_IOC_ASYNC_CANCEL, &cn));
	ASSERT_EQ(EINVAL, errno);
	cn = (struct modegate_async_cancel){ .flags = 0x80000001 };
	ASSERT_EQ(-1, ioctl(self->fd, MODEGATE_IOC_ASYNC_CANCEL, &cn));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_QUIESCENT();
}

/* A reap that cannot copy out loses nothing; BUFFERED data is not redone. */
TEST_F(dev, reap_fault_keeps_completions)
{
	struct modegate_async_completion c[4];
	struct modegate_async_req r[2];
	uint8_t buf[2][32];
	int i;

	memset(buf, 0, sizeof(buf));
	r[0] = mg_req(MODEGATE_STRAT_BUFFERED, buf[0], 32, 7, 0, -1, 10);
	r[1] = mg_req(MODEGATE_STRAT_ADOPT_MM, buf[1], 32, 9, 0, -1, 11);
	ASSERT_EQ(2, mg_submit(self->fd, r, 2));
	ASSERT_EQ(0, mg_wait(self->fd, 2, MG_WAIT_NS, NULL));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(-EFAULT, mg_reap(self->fd, NULL, 2));
	ASSERT_EQ(2, mg_reap(self->fd, c, 4));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(32, c[i].result);
		ASSERT_TRUE(mg_match(buf[c[i].user_data - 10], c[i].user_data == 10 ? 7 : 9, 32));
	}
	ASSERT_QUIESCENT();
}

/*
 * A reap whose completion array runs into a PROT_NONE page after its first
 * element: one is reaped, and the BUFFERED completions it could not hand
 * out stay the originator's -- a process with another address space (a
 * forked child) sees none of them -- and the originator's next reap gets
 * them all, data in place.
 */
TEST_F(dev, reap_fault_leaves_buffered_completions_to_the_originator)
{
	enum { NR = 4 };
	struct modegate_async_completion *edge, comps[NR];
	struct modegate_async_req reqs[NR];
	uint8_t *area = mg_map(NR * self->page, MAP_PRIVATE);
	uint8_t *two = mg_map(2 * self->page, MAP_PRIVATE);
	__u32 ready = 0;
	int i, status;
	pid_t pid;

	ASSERT_NE(NULL, area);
	ASSERT_NE(NULL, two);
	ASSERT_EQ(0, mprotect(two + self->page, self->page, PROT_NONE));
	edge = (void *)(two + self->page - sizeof(*edge));
	memset(area, 0xee, NR * self->page);
	for (i = 0; i < NR; i++)
		reqs[i] = mg_req(MODEGATE_STRAT_BUFFERED, area + i * self->page,
				 100, i * 500, 0, MODEGATE_CPU_ANY, i);
	ASSERT_EQ(NR, mg_submit(self->fd, reqs, NR));
	ASSERT_EQ(0, mg_wait(self->fd, NR, MG_WAIT_NS, &ready));
	ASSERT_EQ(1, mg_reap(self->fd, edge, NR));
	ASSERT_EQ(100, edge->result);
	/* Every copy was made in that reap; none is made again below. */
	for (i = 0; i < NR; i++)
		ASSERT_TRUE(mg_match(area + i * self->page, i * 500, 100));
	memset(area, 0xee, NR * self->page);

	pid = mg_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct pollfd p = { .fd = self->fd, .events = POLLIN | POLLPRI };

		if (mg_wait(self->fd, 0, 0, &ready) || ready)
			_exit(1);
		if (poll(&p, 1, 0) != 1 || p.revents != POLLIN)
			_exit(2);
		_exit(3 - mg_reap(self->fd, comps, NR));	/* 0 reaped: 3 */
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(3, WEXITSTATUS(status));

	ASSERT_EQ(0, mg_wait(self->fd, 0, 0, &ready));
	ASSERT_EQ(NR - 1, ready);
	ASSERT_EQ(NR - 1, mg_reap(self->fd, comps, NR));
	for (i = 0; i < NR - 1; i++) {
		ASSERT_EQ(100, comps[i].result);
		ASSERT_EQ(MODEGATE_DELIVER_ORIGINATOR, comps[i].delivered_by);
		ASSERT_EQ(mg_gettid(), comps[i].deliver_pid);
		ASSERT_EQ(edge->t_deliver_ns, comps[i].t_deliver_ns);
		ASSERT_NE(edge->user_data, comps[i].user_data);
	}
	ASSERT_TRUE(mg_all(area, 0xee, NR * self->page));
	munmap(two, 2 * self->page);
	munmap(area, NR * self->page);
	ASSERT_QUIESCENT();
}

struct mg_reaper {
	int fd;
	void *comps;
	int ret;
};

static void *mg_reaper_thread(void *p)
{
	struct mg_reaper *r = p;

	r->ret = mg_reap(r->fd, r->comps, 4);
	return NULL;
}

struct mg_waiter {
	int fd;
	int ret;
	__u32 ready;
	_Atomic pid_t tid;
};

static void *mg_waiter_thread(void *p)
{
	struct mg_waiter *w = p;

	w->tid = mg_gettid();
	w->ret = mg_wait(w->fd, 1, 0, &w->ready);	/* no timeout */
	return NULL;
}

/*
 * A reap takes every completion, then faults on its completion array and
 * puts them back; a thread that began waiting meanwhile (it found none)
 * must be woken by their return, not sleep on to its timeout.  The reap
 * is held in its fault by userfaultfd until the waiter sleeps; then the
 * array is made PROT_NONE and the fault let go, so the copy-out fails.
 * (The waiter has no timeout: a timed one would find the four at its
 * timeout and return 0 all the same, only late.)
 */
TEST_F(dev, waiter_wakes_when_a_faulted_reap_puts_completions_back)
{
	enum { NR = 4 };
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { 0 };
	struct uffdio_range wake;
	struct modegate_async_req reqs[NR];
	uint8_t *area = mg_map(NR * self->page, MAP_PRIVATE);
	struct mg_waiter w = { .fd = self->fd, .ret = 1 };
	struct mg_reaper r = { .fd = self->fd };
	struct pollfd pfd;
	struct uffd_msg msg;
	struct timespec ts;
	pthread_t rt, wt;
	uint64_t until;
	void *comps;
	int uffd, i;

	ASSERT_NE(NULL, area);
	uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	ASSERT_LE(0, uffd) TH_LOG("userfaultfd: %s", strerror(errno));
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_API, &api));
	comps = mmap(NULL, self->page, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, comps);
	reg.range.start = (uintptr_t)comps;
	reg.range.len = self->page;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_REGISTER, &reg));

	for (i = 0; i < NR; i++)
		reqs[i] = mg_req(MODEGATE_STRAT_BUFFERED, area + i * self->page,
				 64, i * 100, 0, MODEGATE_CPU_ANY, i);
	ASSERT_EQ(NR, mg_submit(self->fd, reqs, NR));
	ASSERT_EQ(0, mg_wait(self->fd, NR, MG_WAIT_NS, NULL));

	/* The reaper takes all four and stalls copying the first one out. */
	r.comps = comps;
	ASSERT_EQ(0, pthread_create(&rt, NULL, mg_reaper_thread, &r));
	pfd = (struct pollfd){ .fd = uffd, .events = POLLIN };
	ASSERT_EQ(1, poll(&pfd, 1, MG_WAIT_NS / 1000000));
	ASSERT_EQ(sizeof(msg), read(uffd, &msg, sizeof(msg)));
	ASSERT_EQ(UFFD_EVENT_PAGEFAULT, msg.event);

	/* The waiter finds nothing ready and sleeps. */
	ASSERT_EQ(0, pthread_create(&wt, NULL, mg_waiter_thread, &w));
	until = mg_now() + MG_WAIT_NS;
	while (!w.tid || !mg_sleeping(w.tid)) {
		ASSERT_GT(until, mg_now()) TH_LOG("the waiter never slept");
		sched_yield();
	}

	/* The copy-out fails: the four go back on the ring. */
	ASSERT_EQ(0, mprotect(comps, self->page, PROT_NONE));
	wake.start = (uintptr_t)comps;
	wake.len = self->page;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_WAKE, &wake));
	ASSERT_EQ(0, pthread_join(rt, NULL));
	ASSERT_EQ(-EFAULT, r.ret);

	/* A bound, not a timing: woken, it returns at once; if not, never. */
	ASSERT_EQ(0, clock_gettime(CLOCK_REALTIME, &ts));
	ts.tv_sec += MG_WAIT_NS / MG_NSEC;
	ASSERT_EQ(0, pthread_timedjoin_np(wt, NULL, &ts))
		TH_LOG("the waiter was not woken: four completions ready");
	ASSERT_EQ(0, w.ret);
	ASSERT_LE(1, w.ready);
	ASSERT_EQ(NR, mg_collect(self->fd, (struct modegate_async_completion[NR]){}, NR));
	for (i = 0; i < NR; i++)
		ASSERT_TRUE(mg_match(area + i * self->page, i * 100, 64));
	close(uffd);
	munmap(comps, self->page);
	munmap(area, NR * self->page);
	ASSERT_QUIESCENT();
}

/*
 * Extensible structs: a larger request with a zero tail is fine, a nonzero
 * tail is -E2BIG for that request; a larger completion gets a zeroed tail.
 */
TEST_F(dev, larger_structs)
{
	struct {
		struct modegate_async_req r;
		__u64 tail;
	} big[2];
	struct {
		struct modegate_async_completion c;
		__u64 tail;
	} comp[2];
	struct modegate_async_reap rp = {
		.comps = (uintptr_t)comp, .nr = 2, .comp_size = sizeof(comp[0]),
	};
	uint8_t buf[8];

	big[0].r = mg_req(MODEGATE_STRAT_ADOPT_MM, buf, 8, 3, 0, -1, 1);
	big[0].tail = 0;
	big[1] = big[0];
	big[1].tail = 1;
	ASSERT_EQ(1, mg_submit_raw(self->fd, big, 2, sizeof(big[0]), 0));
	ASSERT_EQ(0, big[0].r.error);
	ASSERT_EQ(-E2BIG, big[1].r.error);
	memset(comp, 0xff, sizeof(comp));
	ASSERT_EQ(0, mg_wait(self->fd, 1, MG_WAIT_NS, NULL));
	ASSERT_EQ(1, ioctl(self->fd, MODEGATE_IOC_ASYNC_REAP, &rp));
	ASSERT_EQ(8, comp[0].c.result);
	ASSERT_EQ(0, comp[0].tail);
	ASSERT_EQ((__u64)-1, comp[1].tail);	/* not written */
	ASSERT_QUIESCENT();
}

/* A batch whose second request is unreadable stops there. */
TEST_F(dev, batch_stops_at_unreadable_request)
{
	uint8_t *two = mmap(NULL, 2 * self->page, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct modegate_async_completion c;
	struct modegate_async_req *r;
	uint8_t buf[8];

	ASSERT_NE(MAP_FAILED, two);
	ASSERT_EQ(0, mprotect(two + self->page, self->page, PROT_NONE));
	r = (struct modegate_async_req *)(two + self->page) - 1;
	*r = mg_req(MODEGATE_STRAT_ADOPT_MM, buf, 8, 0, 0, -1, 5);
	ASSERT_EQ(1, mg_submit(self->fd, r, 2));
	ASSERT_EQ(0, r->error);
	ASSERT_EQ(-EFAULT, mg_submit(self->fd, r + 1, 1));
	ASSERT_EQ(1, mg_collect(self->fd, &c, 1));
	ASSERT_EQ(5, c.user_data);
	munmap(two, 2 * self->page);
	ASSERT_QUIESCENT();
}

TEST_F(dev, bystander_needs_the_module_parameter)
{
	struct modegate_bystander b = { .flags = MODEGATE_BYSTANDER_REGISTER };
	struct modegate_info info;

	ASSERT_EQ(0, ioctl(self->fd, MODEGATE_IOC_INFO, &info));
	ASSERT_FALSE(info.features & MODEGATE_FEAT_BYSTANDER);
	ASSERT_EQ(-EPERM, mg_bystander(self->fd, MODEGATE_BYSTANDER_REGISTER));
	ASSERT_EQ(-EPERM, mg_bystander(self->fd, 0));
	ASSERT_EQ(-EINVAL, mg_bystander(self->fd, 2));
	b.reserved = 1;
	ASSERT_EQ(-1, ioctl(self->fd, MODEGATE_IOC_BYSTANDER, &b));
	ASSERT_EQ(EINVAL, errno);
}

TEST_HARNESS_MAIN
