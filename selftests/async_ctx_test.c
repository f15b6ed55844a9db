// SPDX-License-Identifier: GPL-2.0
/*
 * The simulated device interrupt fires on whatever thread is running on its
 * CPU.  These tests put a known thread there and check the completion's
 * report of the context against it: another process spinning, the idle
 * task, the submitter itself.  Then the wrong-process demonstration: with
 * allow_wrong_process_demo=1, a NAIVE demo request whose interrupt lands on
 * a registered bystander writes into the bystander -- at the submitter's
 * virtual address, in the bystander's address space -- and never into the
 * submitter; without the parameter nothing is written at all.
 *
 * Needs two CPUs: the submitter runs on CPU 0, the interrupt fires on 1.
 */
#include <sys/prctl.h>

#include "async_test.h"
#include "kselftest_harness.h"

#define ITERATIONS	200
#define IRQ_CPU		1
#define SPINNER_COMM	"mg-spinner"
/* Where the demo's buffer lives, in the submitter and in the bystander. */
#define DEMO_VA		((void *)0x5a5a00000000UL)

/* State shared (MAP_SHARED) with the spinning child. */
struct mg_shared {
	volatile int ready;
	volatile int stop;
	volatile int unregister;	/* bystander: unregister, then go on */
	volatile int unregistered;
	volatile int reg_errors[4];	/* bystander: results of its ioctls */
	volatile unsigned int nr_seen;	/* bystander: values seen at DEMO_VA */
	volatile uint64_t seen[4 * ITERATIONS];
	volatile uint64_t final;	/* bystander: DEMO_VA when told to stop */
};

static struct mg_shared *mg_shared_map(void)
{
	return mg_map(sizeof(struct mg_shared), MAP_SHARED);
}

/* A child that spins in user mode on IRQ_CPU until told to stop. */
static pid_t mg_spinner(struct mg_shared *sh)
{
	pid_t pid = mg_fork();

	if (pid)
		return pid;
	prctl(PR_SET_NAME, SPINNER_COMM);
	if (mg_pin_cpu(IRQ_CPU))
		_exit(2);
	sh->ready = 1;
	while (!sh->stop)
		;
	_exit(0);
}

static int mg_stop_child(struct mg_shared *sh, pid_t pid)
{
	int status;

	sh->stop = 1;
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* What the interrupts hit, by comm and mode: told when a test fails. */
struct mg_hit_log {
	int nr;
	struct {
		char comm[16];
		unsigned int flags;
		int count;
	} e[8];
};

static void mg_hit_add(struct mg_hit_log *h, const struct modegate_async_completion *c)
{
	unsigned int flags = c->ctx_flags & (MODEGATE_CTX_IRQ_IDLE | MODEGATE_CTX_IRQ_KTHREAD |
					     MODEGATE_CTX_IRQ_USER);
	int i;

	for (i = 0; i < h->nr; i++)
		if (h->e[i].flags == flags && !strncmp(h->e[i].comm, c->irq_comm, 16))
			break;
	if (i == h->nr) {
		if (h->nr == 8)
			return;
		h->nr++;
		memcpy(h->e[i].comm, c->irq_comm, 16);
		h->e[i].comm[15] = 0;
		h->e[i].flags = flags;
	}
	h->e[i].count++;
}

#define MG_HIT_LOG(h) do {						\
	int __i;							\
	for (__i = 0; __i < (h)->nr; __i++)				\
		TH_LOG("  %3d x \"%s\"%s%s%s", (h)->e[__i].count, (h)->e[__i].comm, \
		       (h)->e[__i].flags & MODEGATE_CTX_IRQ_IDLE ? " idle" : "", \
		       (h)->e[__i].flags & MODEGATE_CTX_IRQ_KTHREAD ? " kthread" : "", \
		       (h)->e[__i].flags & MODEGATE_CTX_IRQ_USER ? " user mode" : " kernel mode"); \
} while (0)

/* One request at a time to IRQ_CPU; its completion in *@c. */
static int mg_one(int fd, __u32 strategy, void *buf, size_t len, __u64 off,
		  __u64 latency_ns, __u32 flags, struct modegate_async_completion *c)
{
	struct modegate_async_req r = mg_req(strategy, buf, len, off, latency_ns,
					     IRQ_CPU, off);

	r.flags = flags;
	if (mg_submit(fd, &r, 1) != 1)
		return -1;
	return mg_collect(fd, c, 1) == 1 ? 0 : -1;
}

FIXTURE(ctx) {
	int fd;
	size_t page;
	uint8_t *buf;
};

FIXTURE_SETUP(ctx)
{
	if (mg_nr_cpus() < 2)
		SKIP(return, "needs two CPUs");
	ASSERT_EQ(0, mg_ensure_default());
	ASSERT_EQ(0, mg_pin_cpu(0));
	self->fd = open(MG_DEV, O_RDWR);
	ASSERT_LE(0, self->fd);
	ASSERT_LT(0, mg_fill_store(self->fd));
	self->page = sysconf(_SC_PAGESIZE);
	self->buf = mg_map(self->page, MAP_PRIVATE);
	ASSERT_NE(NULL, self->buf);
}

FIXTURE_TEARDOWN(ctx)
{
	if (self->fd > 0)
		close(self->fd);
}

/*
 * Another process spins on the interrupt's CPU: the interrupt reports that
 * process (interrupted in user mode, not our mm), never the submitter --
 * and the data still lands in the submitter's buffer.
 */
TEST_F(ctx, interrupt_hits_the_process_running_there)
{
	struct mg_shared *sh = mg_shared_map();
	struct modegate_async_completion c;
	int i, s, hits = 0, user = 0;
	struct mg_hit_log h = { 0 };
	pid_t pid;

	ASSERT_NE(NULL, sh);
	pid = mg_spinner(sh);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, mg_wait_flag(&sh->ready));

	for (i = 0; i < ITERATIONS; i++) {
		s = mg_delivering[i % MG_NR_DELIVERING];
		memset(self->buf, 0, 64);
		ASSERT_EQ(0, mg_one(self->fd, s, self->buf, 64, i * 64,
				    (i % 10) * 100 * MG_USEC, 0, &c));
		ASSERT_EQ(64, c.result);
		ASSERT_TRUE(mg_match(self->buf, i * 64, 64));
		ASSERT_EQ(IRQ_CPU, c.irq_cpu);
		ASSERT_NE(getpid(), c.irq_tgid);
		ASSERT_FALSE(c.ctx_flags & MODEGATE_CTX_IRQ_MM_MATCH);
		mg_hit_add(&h, &c);
		if (c.irq_tgid == pid) {
			hits++;
			ASSERT_EQ(pid, c.irq_pid);
			ASSERT_STREQ(SPINNER_COMM, c.irq_comm);
			ASSERT_FALSE(c.ctx_flags & (MODEGATE_CTX_IRQ_IDLE | MODEGATE_CTX_IRQ_KTHREAD));
			user += !!(c.ctx_flags & MODEGATE_CTX_IRQ_USER);
		}
	}
	ASSERT_EQ(0, mg_stop_child(sh, pid));
	TH_LOG("%d/%d interrupts hit the spinner (%d in user mode):", hits, ITERATIONS, user);
	MG_HIT_LOG(&h);
	/*
	 * The spinner is all that runs there, bar a kthread now and then
	 * (rcu_preempt, a kworker: 10% on a KASAN kernel under TCG).  It is
	 * mostly in user mode -- but the submit programs the timer on that
	 * CPU with an IPI, and a short latency finds the spinner still in the
	 * kernel handling it: 40% of the hits on a KASAN kernel under TCG
	 * while another VM shares the host.
	 */
	ASSERT_LE(ITERATIONS / 2, hits);
	ASSERT_LE(hits / 4, user);
	ASSERT_QUIESCENT();
}

/* The CPUs task @pid may run on, as /proc/PID/status lists them; -1 if unknown. */
/* Nothing runs on the interrupt's CPU: the interrupt hits the idle task. */
TEST_F(ctx, interrupt_hits_the_idle_task)
{
	struct modegate_async_completion c;
	struct mg_hit_log h = { 0 };
	int i, idle = 0;

	for (i = 0; i < ITERATIONS; i++) {
		ASSERT_EQ(0, mg_one(self->fd, MODEGATE_STRAT_ADOPT_MM, self->buf, 16, i,
				    (i % 10) * 100 * MG_USEC, 0, &c));
		ASSERT_EQ(16, c.result);
		ASSERT_EQ(IRQ_CPU, c.irq_cpu);
		ASSERT_NE(getpid(), c.irq_tgid);
		mg_hit_add(&h, &c);
		if (c.ctx_flags & MODEGATE_CTX_IRQ_IDLE) {
			idle++;
			ASSERT_EQ(0, c.irq_pid);
			ASSERT_EQ(0, c.irq_tgid);
			ASSERT_EQ(0, strncmp(c.irq_comm, "swapper", 7));
			ASSERT_FALSE(c.ctx_flags & (MODEGATE_CTX_IRQ_USER | MODEGATE_CTX_IRQ_MM_MATCH));
		}
	}
	TH_LOG("%d/%d interrupts hit the idle task:", idle, ITERATIONS);
	MG_HIT_LOG(&h);
	/*
	 * Not every time: the IPI that programs the timer wakes the CPU, and
	 * a kthread may take it (rcu_preempt, a third of the time on a KASAN
	 * kernel under TCG while another VM shares the host).
	 */
	ASSERT_LE(ITERATIONS / 4, idle);
	ASSERT_QUIESCENT();
}

/*
 * The submitter spins on the interrupt's CPU itself: the one case where a
 * raw write would have hit the right address space -- by luck.  NAIVE
 * still writes nothing.
 */
TEST_F(ctx, interrupt_hits_the_submitter_itself)
{
	struct modegate_async_completion c;
	int i, self_hits = 0;

	ASSERT_EQ(0, mg_pin_cpu(IRQ_CPU));
	for (i = 0; i < ITERATIONS; i++) {
		struct modegate_async_req r;
		__u64 lat = (1 + i % 5) * 200 * MG_USEC;
		uint64_t end;

		memset(self->buf, 0, 64);
		r = mg_req(i % 2 ? MODEGATE_STRAT_NAIVE : MODEGATE_STRAT_ADOPT_MM,
			   self->buf, 64, i, lat, IRQ_CPU, i);
		ASSERT_EQ(1, mg_submit(self->fd, &r, 1));
		/* Be the one running when the interrupt comes. */
		end = mg_now() + lat + 20 * MG_MSEC;
		while (mg_now() < end)
			;
		ASSERT_EQ(1, mg_collect(self->fd, &c, 1));
		if (c.irq_tgid == getpid()) {
			self_hits++;
			ASSERT_EQ(mg_gettid(), c.irq_pid);
			ASSERT_TRUE(c.ctx_flags & MODEGATE_CTX_IRQ_MM_MATCH);
		}
		if (r.strategy == MODEGATE_STRAT_NAIVE) {
			ASSERT_EQ(-EXDEV, c.result);
			ASSERT_TRUE(mg_all(self->buf, 0, 64));
		} else {
			ASSERT_EQ(64, c.result);
			ASSERT_TRUE(mg_match(self->buf, i, 64));
		}
	}
	TH_LOG("%d/%d interrupts hit the submitter", self_hits, ITERATIONS);
	ASSERT_LE(ITERATIONS / 2, self_hits);
	ASSERT_QUIESCENT();
}

/*
 * The bystander: a child on IRQ_CPU with DEMO_VA mapped (MAP_FIXED, its own
 * page), watching it in user mode.  Every new value it sees there is logged.
 */
static pid_t mg_bystander_child(struct mg_shared *sh)
{
	volatile uint64_t *va;
	uint64_t last = 0;
	pid_t pid = mg_fork();
	int fd;

	if (pid)
		return pid;
	prctl(PR_SET_NAME, "mg-bystander");
	fd = open(MG_DEV, O_RDWR);
	if (fd < 0 || mg_pin_cpu(IRQ_CPU))
		_exit(2);
	va = mmap(DEMO_VA, 4096, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (va != DEMO_VA)
		_exit(3);
	*va = 0;	/* a present, writable page: the interrupt cannot fault */
	sh->reg_errors[0] = mg_bystander(fd, MODEGATE_BYSTANDER_REGISTER);
	sh->reg_errors[1] = mg_bystander(fd, MODEGATE_BYSTANDER_REGISTER);
	sh->ready = 1;
	while (!sh->stop) {
		uint64_t v = *va;

		if (v != last && sh->nr_seen < 4 * ITERATIONS) {
			sh->seen[sh->nr_seen] = v;
			sh->nr_seen = sh->nr_seen + 1;
			last = v;
		}
		if (sh->unregister && !sh->unregistered) {
			sh->reg_errors[2] = mg_bystander(fd, 0);
			sh->reg_errors[3] = mg_bystander(fd, 0);
			sh->unregistered = 1;
		}
	}
	sh->final = *va;
	close(fd);
	_exit(0);
}

static uint64_t mg_pat64(uint64_t off)
{
	uint64_t v;

	mg_expect((uint8_t *)&v, off, sizeof(v));
	return v;
}

static void mg_demo(struct __test_metadata *_metadata, bool allowed)
{
	struct mg_shared *sh = mg_shared_map();
	uint64_t expect[ITERATIONS];
	struct modegate_async_completion c;
	volatile uint64_t *va;
	int i, k, fd, wrong = 0;
	pid_t pid;

	ASSERT_NE(NULL, sh);
	ASSERT_EQ(0, mg_pin_cpu(0));
	fd = open(MG_DEV, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_LT(0, mg_fill_store(fd));
	va = mmap(DEMO_VA, 4096, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	ASSERT_EQ(DEMO_VA, va);
	*va = 0;

	pid = mg_bystander_child(sh);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, mg_wait_flag(&sh->ready));
	ASSERT_EQ(allowed ? 0 : -EPERM, sh->reg_errors[0]);
	ASSERT_EQ(allowed ? -EBUSY : -EPERM, sh->reg_errors[1]);

	for (i = 0; i < ITERATIONS; i++) {
		__u64 off = 8 * (1 + i * 97);

		ASSERT_NE(0, mg_pat64(off));
		ASSERT_EQ(0, mg_one(fd, MODEGATE_STRAT_NAIVE, (void *)va, 8, off,
				    (i % 5) * 100 * MG_USEC, MODEGATE_REQ_DEMO_WRONG_PROCESS, &c));
		ASSERT_EQ(-EXDEV, c.result);
		ASSERT_EQ(IRQ_CPU, c.irq_cpu);
		ASSERT_EQ(0, *va);	/* never the submitter */
		if (c.ctx_flags & MODEGATE_CTX_WRONG_PROCESS) {
			ASSERT_TRUE(allowed);
			ASSERT_EQ(MODEGATE_DELIVER_BYSTANDER, c.delivered_by);
			ASSERT_EQ(pid, c.deliver_pid);
			ASSERT_EQ(pid, c.irq_tgid);
			ASSERT_FALSE(c.ctx_flags & MODEGATE_CTX_IRQ_MM_MATCH);
			ASSERT_LE(c.t_irq_ns, c.t_deliver_ns);
			expect[wrong++] = mg_pat64(off);
		} else {
			ASSERT_EQ(MODEGATE_DELIVER_NONE, c.delivered_by);
			ASSERT_EQ(0, c.deliver_pid);
		}
	}

	/* Unregistered (still spinning there): nothing more is written. */
	sh->unregister = 1;
	ASSERT_EQ(0, mg_wait_flag(&sh->unregistered));
	ASSERT_EQ(allowed ? 0 : -EPERM, sh->reg_errors[2]);
	ASSERT_EQ(allowed ? -ENOENT : -EPERM, sh->reg_errors[3]);
	for (i = 0; i < ITERATIONS / 4; i++) {
		ASSERT_EQ(0, mg_one(fd, MODEGATE_STRAT_NAIVE, (void *)va, 8, 8 * i,
				    (i % 5) * 100 * MG_USEC, MODEGATE_REQ_DEMO_WRONG_PROCESS, &c));
		ASSERT_EQ(-EXDEV, c.result);
		ASSERT_FALSE(c.ctx_flags & MODEGATE_CTX_WRONG_PROCESS);
	}

	ASSERT_EQ(0, mg_stop_child(sh, pid));
	TH_LOG("%d/%d demo writes landed in the bystander, which saw %u of them",
	       wrong, ITERATIONS, sh->nr_seen);
	/*
	 * What the bystander holds is what the completions claim: the last
	 * write, and every value it saw in between was one of the writes, in
	 * order.  (It may miss some: a write can come while it is preempted
	 * on its way back to user mode, before it looked at the previous.)
	 */
	ASSERT_EQ(wrong ? expect[wrong - 1] : 0, sh->final);
	ASSERT_LE(sh->nr_seen, wrong);
	for (i = 0, k = 0; i < sh->nr_seen; i++, k++) {
		while (k < wrong && expect[k] != sh->seen[i])
			k++;
		ASSERT_GT(wrong, k) TH_LOG("value %d seen, never written", i);
	}
	ASSERT_EQ(0, *va);
	if (allowed) {
		ASSERT_LE(ITERATIONS / 2, wrong);
	}
	close(fd);
	munmap((void *)va, 4096);
	ASSERT_QUIESCENT();
}

TEST_F(ctx, demo_without_the_parameter_writes_nothing)
{
	mg_demo(_metadata, false);
}

TEST_F_TIMEOUT(ctx, demo_writes_into_the_bystander, 120)
{
	struct modegate_info info;

	close(self->fd);
	self->fd = -1;
	ASSERT_EQ(0, mg_reload("allow_wrong_process_demo=1"));
	self->fd = open(MG_DEV, O_RDWR);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ioctl(self->fd, MODEGATE_IOC_INFO, &info));
	ASSERT_TRUE(info.features & MODEGATE_FEAT_BYSTANDER);
	close(self->fd);
	self->fd = -1;
	mg_demo(_metadata, true);
	ASSERT_EQ(0, mg_reload(NULL));
}

/* A registration ends with the file it was made through. */
TEST_F(ctx, bystander_registration_ends_with_its_file)
{
	int fd, fd2;

	close(self->fd);
	self->fd = -1;
	ASSERT_EQ(0, mg_reload("allow_wrong_process_demo=1"));
	fd = open(MG_DEV, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(-ENOENT, mg_bystander(fd, 0));
	ASSERT_EQ(0, mg_bystander(fd, MODEGATE_BYSTANDER_REGISTER));
	close(fd);
	fd = open(MG_DEV, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(-ENOENT, mg_bystander(fd, 0));
	ASSERT_EQ(0, mg_bystander(fd, MODEGATE_BYSTANDER_REGISTER));
	fd2 = open(MG_DEV, O_RDWR);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(-ENOENT, mg_bystander(fd2, 0));	/* not through this one */
	ASSERT_EQ(-EBUSY, mg_bystander(fd2, MODEGATE_BYSTANDER_REGISTER));
	ASSERT_EQ(0, mg_bystander(fd, 0));
	ASSERT_EQ(0, mg_bystander(fd2, MODEGATE_BYSTANDER_REGISTER));
	close(fd2);
	ASSERT_EQ(-ENOENT, mg_bystander(fd, 0));
	close(fd);
	ASSERT_EQ(0, mg_reload(NULL));
}

TEST_HARNESS_MAIN
