// SPDX-License-Identifier: GPL-2.0
/*
 * What a hostile caller must not achieve.  Each test is one
 * property of the hardened module, tried the way an attacker would:
 *
 *  - a volunteer bystander that execs (or runs as another user) is no
 *    longer written by the wrong-process demo, and there are at most
 *    MODEGATE_MAX_BYSTANDERS of them;
 *  - element sizes above a page are refused (-E2BIG) before anything is
 *    read;
 *  - a submitter in its own pid namespace learns nothing of tasks outside
 *    it from the completion's context report;
 *  - deliveries stalled on a userfaultfd that nobody answers hold up no
 *    other process, nor the close of their file, nor rmmod;
 *  - a cancel never claims a request that already wrote into a bystander;
 *  - PIN refuses a shared mapping of a file that is not shmem (ramfs);
 *  - one user cannot take every in-flight request or every BUFFERED byte,
 *    and BUFFERED bytes are charged to the submitter's memory cgroup;
 *  - VA_TRANSLATE reports the huge zero page as zero, and decides at open
 *    whether frame numbers are shown.
 *
 * The interrupts of the context tests fire on IRQ_CPU; the submitter runs
 * on CPU 0.  Tests that change module parameters restore the defaults.
 */
#include <linux/capability.h>
#include <pthread.h>
#include <semaphore.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <linux/userfaultfd.h>

#include "async_test.h"
#include "kselftest_harness.h"

#ifndef MODEGATE_MAX_BYSTANDERS
#define MODEGATE_MAX_BYSTANDERS	64	/* abi-decisions.md item 2 */
#endif

#define ITERATIONS	200
#define IRQ_CPU		1
/* Where the demo's buffer lives, in the submitter and in the bystander. */
#define DEMO_VA		((void *)0x5c5c00000000UL)
/* The exec'd image of a volunteer: argv[1], and its shared page's fd. */
#define AFTER_EXEC	"--bystander-after-exec"
#define SHARED_FD	100
#define UID_A		60001
#define UID_B		60002
#define UID_NOBODY	65534

#define NEED_TWO_CPUS() do {						\
	if (self->ncpu < 2)						\
		SKIP(return, "needs two CPUs");				\
} while (0)

FIXTURE(hostile) {
	int fd;
	size_t page;
	size_t cap;
	int ncpu;		/* before the test pinned itself to CPU 0 */
	bool reloaded;
	pid_t kids[4];
	char mnt[2][64];	/* mounted by the test: unmounted, removed */
	char dir[128];		/* made by the test: removed */
};

FIXTURE_SETUP(hostile)
{
	ASSERT_EQ(0, mg_ensure_default());
	self->ncpu = mg_nr_cpus();
	ASSERT_EQ(0, mg_pin_cpu(0));
	self->page = mg_page_size();
	self->fd = open(MG_DEV, O_RDWR);
	ASSERT_LE(0, self->fd);
	self->cap = mg_fill_store(self->fd);
	ASSERT_LT(0, self->cap);
}

FIXTURE_TEARDOWN(hostile)
{
	int i;

	/* First the children: one may hold a stall that blocks rmmod. */
	for (i = 0; i < 4; i++) {
		if (self->kids[i] > 0) {
			kill(self->kids[i], SIGKILL);
			waitpid(self->kids[i], NULL, 0);
		}
	}
	if (self->fd >= 0)
		close(self->fd);
	if (self->dir[0])
		rmdir(self->dir);
	for (i = 0; i < 2; i++) {
		if (self->mnt[i][0]) {
			umount2(self->mnt[i], MNT_DETACH);
			rmdir(self->mnt[i]);
		}
	}
	if (self->reloaded || !mg_loaded())
		mg_reload(NULL);
}

/* Reload the module with @params and reopen (the store refilled). */
static void reload(struct __test_metadata *_metadata,
		   FIXTURE_DATA(hostile) *self, const char *params)
{
	close(self->fd);
	self->fd = -1;
	self->reloaded = true;
	ASSERT_EQ(0, mg_reload(params)) TH_LOG("loading with \"%s\"", params);
	self->fd = open(MG_DEV, O_RDWR);
	ASSERT_LE(0, self->fd);
	self->cap = mg_fill_store(self->fd);
	ASSERT_LT(0, self->cap);
}

static bool all_zero(const void *p, size_t len)
{
	return mg_all(p, 0, len);
}

/* ---- Bystanders: who volunteered, and what became of them ---------------- */

/* Shared with a bystander, across its exec (a memfd at SHARED_FD). */
struct by_shared {
	volatile int ready;
	volatile int stop;
	volatile int reg;		/* its MODEGATE_IOC_BYSTANDER result */
	volatile unsigned int changes;	/* times DEMO_VA changed under it */
	volatile uint64_t final;	/* DEMO_VA when told to stop */
	volatile uid_t euid_after;	/* set as its euid once registered, if not 0 */
};

static struct by_shared *by_shared_map(int *memfd)
{
	struct by_shared *sh;

	*memfd = memfd_create("mg-bystander", 0);
	if (*memfd < 0 || ftruncate(*memfd, sizeof(*sh)))
		return NULL;
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED, *memfd, 0);
	return sh == MAP_FAILED ? NULL : sh;
}

/* Map DEMO_VA (present, writable: a demo write cannot fault), watch it. */
static void __attribute__((noreturn)) by_spin(struct by_shared *sh)
{
	volatile uint64_t *va = mmap(DEMO_VA, mg_page_size(), PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	uint64_t last = 0, v;

	if ((void *)va != DEMO_VA)
		_exit(3);
	*va = 0;
	sh->ready = 1;
	while (!sh->stop) {
		v = *va;
		if (v != last) {
			sh->changes = sh->changes + 1;
			last = v;
		}
	}
	sh->final = *va;
	_exit(0);
}

/* The new image of a volunteer that exec'd: a fresh program at DEMO_VA. */
static int after_exec(void)
{
	struct by_shared *sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
				    MAP_SHARED, SHARED_FD, 0);

	if (sh == MAP_FAILED)
		return 2;
	by_spin(sh);
}

/*
 * A volunteer on IRQ_CPU: it registers through @regfd (as @uid when not
 * 0), then spins watching DEMO_VA -- or first execs a new image that does.
 */
static pid_t by_start(struct by_shared *sh, int memfd, int regfd, uid_t uid,
		      bool exec_after)
{
	char *argv[] = { "/proc/self/exe", AFTER_EXEC, NULL };
	pid_t pid = mg_fork();

	if (pid)
		return pid;
	prctl(PR_SET_NAME, "mg-volunteer");
	if (mg_pin_cpu(IRQ_CPU))
		_exit(2);
	if (uid && mg_become(uid))
		_exit(4);
	sh->reg = mg_bystander(regfd, MODEGATE_BYSTANDER_REGISTER);
	if (sh->euid_after && seteuid(sh->euid_after))
		_exit(7);
	if (!exec_after)
		by_spin(sh);
	if (dup2(memfd, SHARED_FD) < 0)
		_exit(5);
	execv(argv[0], argv);
	_exit(6);
}

/*
 * NAIVE demo requests at DEMO_VA, interrupting on IRQ_CPU where @pid
 * spins: not one may write into it.  It must have been hit, or the test
 * proves nothing.
 */
static void demo_writes_nothing_into(struct __test_metadata *_metadata, int fd,
				     pid_t pid, struct by_shared *sh)
{
	struct modegate_async_completion c;
	int i, hits = 0, wrote = 0, first = -1;

	for (i = 0; i < ITERATIONS; i++) {
		struct modegate_async_req r = mg_req(MODEGATE_STRAT_NAIVE, DEMO_VA, 8,
						     8 * (1 + i * 97),
						     (i % 5) * 100 * MG_USEC, IRQ_CPU, i);

		r.flags = MODEGATE_REQ_DEMO_WRONG_PROCESS;
		ASSERT_EQ(1, mg_submit(fd, &r, 1));
		ASSERT_EQ(1, mg_collect(fd, &c, 1));
		hits += c.irq_tgid == pid;
		ASSERT_EQ(-EXDEV, c.result);
		if (c.ctx_flags & MODEGATE_CTX_WRONG_PROCESS ||
		    c.delivered_by != MODEGATE_DELIVER_NONE || c.deliver_pid) {
			wrote++;
			first = first < 0 ? i : first;
		}
	}
	sh->stop = 1;
	ASSERT_EQ(0, mg_wait_child(pid));
	TH_LOG("%d/%d interrupts hit the volunteer; it saw %u writes", hits, ITERATIONS,
	       sh->changes);
	ASSERT_EQ(0, wrote)
		TH_LOG("%d/%d demo requests wrote into pid %d (WRONG_PROCESS, BYSTANDER), the first was %d",
		       wrote, ITERATIONS, pid, first);
	ASSERT_EQ(0, sh->changes);
	ASSERT_EQ(0, sh->final);
	ASSERT_LE(ITERATIONS / 4, hits) TH_LOG("the interrupts did not hit the volunteer");
}

/*
 * A volunteer registers through a file its parent keeps open, then execs
 * a program that maps DEMO_VA.  The new image never consented: the demo
 * writes nothing into it, and reports no WRONG_PROCESS (which would tell
 * the submitter which addresses of the new image are writable).
 */
TEST_F_TIMEOUT(hostile, consent_ends_at_exec, 90)
{
	struct by_shared *sh;
	int memfd, regfd;

	NEED_TWO_CPUS();
	reload(_metadata, self, "allow_wrong_process_demo=1");
	sh = by_shared_map(&memfd);
	ASSERT_NE(NULL, sh);
	regfd = open(MG_DEV, O_RDWR);	/* inherited, and kept open here */
	ASSERT_LE(0, regfd);
	self->kids[0] = by_start(sh, memfd, regfd, 0, true);
	ASSERT_LT(0, self->kids[0]);
	ASSERT_EQ(0, mg_wait_flag(&sh->ready)) TH_LOG("the exec'd image did not start");
	ASSERT_EQ(0, sh->reg);
	demo_writes_nothing_into(_metadata, self->fd, self->kids[0], sh);
	self->kids[0] = 0;
	close(regfd);
	ASSERT_QUIESCENT();
}

/* A volunteer of another user (euid 65534): root's demo requests skip it. */
TEST_F_TIMEOUT(hostile, consent_needs_the_submitters_euid, 90)
{
	struct by_shared *sh;
	int memfd;

	NEED_TWO_CPUS();
	reload(_metadata, self, "allow_wrong_process_demo=1");
	sh = by_shared_map(&memfd);
	ASSERT_NE(NULL, sh);
	self->kids[0] = by_start(sh, memfd, self->fd, UID_NOBODY, false);
	ASSERT_LT(0, self->kids[0]);
	ASSERT_EQ(0, mg_wait_flag(&sh->ready));
	ASSERT_EQ(0, sh->reg);
	demo_writes_nothing_into(_metadata, self->fd, self->kids[0], sh);
	self->kids[0] = 0;
	ASSERT_QUIESCENT();
}

/*
 * A volunteer that registered as root, then took euid 65534: consent is
 * checked against the volunteer's euid at the time of the write, so root's
 * demo requests skip it.
 */
TEST_F_TIMEOUT(hostile, consent_follows_the_volunteers_current_euid, 90)
{
	struct by_shared *sh;
	int memfd;

	NEED_TWO_CPUS();
	reload(_metadata, self, "allow_wrong_process_demo=1");
	sh = by_shared_map(&memfd);
	ASSERT_NE(NULL, sh);
	sh->euid_after = UID_NOBODY;
	self->kids[0] = by_start(sh, memfd, self->fd, 0, false);
	ASSERT_LT(0, self->kids[0]);
	ASSERT_EQ(0, mg_wait_flag(&sh->ready));
	ASSERT_EQ(0, sh->reg);
	demo_writes_nothing_into(_metadata, self->fd, self->kids[0], sh);
	self->kids[0] = 0;
	ASSERT_QUIESCENT();
}

struct reg_thread {
	pthread_t tid;
	int fd;
	int ret;
	sem_t done;
	sem_t *go;
};

static void *reg_thread_main(void *p)
{
	struct reg_thread *t = p;

	t->ret = mg_bystander(t->fd, MODEGATE_BYSTANDER_REGISTER);
	sem_post(&t->done);
	sem_wait(t->go);	/* stay registered, alive, until told */
	return NULL;
}

/* The registry scanned in hard irq is bounded: the 65th gets -ENOSPC. */
TEST_F(hostile, no_more_than_64_bystanders_at_once)
{
	static struct reg_thread t[MODEGATE_MAX_BYSTANDERS + 1];
	const int n = MODEGATE_MAX_BYSTANDERS + 1;
	sem_t go;
	int i;

	reload(_metadata, self, "allow_wrong_process_demo=1");
	ASSERT_EQ(0, sem_init(&go, 0, 0));
	for (i = 0; i < n; i++) {
		t[i].fd = self->fd;
		t[i].go = &go;
		ASSERT_EQ(0, sem_init(&t[i].done, 0, 0));
		ASSERT_EQ(0, pthread_create(&t[i].tid, NULL, reg_thread_main, &t[i]));
		ASSERT_EQ(0, sem_wait(&t[i].done));
	}
	for (i = 0; i < n; i++)
		sem_post(&go);
	for (i = 0; i < n; i++)
		pthread_join(t[i].tid, NULL);
	for (i = 0; i < n - 1; i++)
		ASSERT_EQ(0, t[i].ret) TH_LOG("registration %d", i + 1);
	ASSERT_EQ(-ENOSPC, t[n - 1].ret)
		TH_LOG("registration %d of at most %d", n, MODEGATE_MAX_BYSTANDERS);
	/* They end with their file: there is room again. */
	close(self->fd);
	self->fd = open(MG_DEV, O_RDWR);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, mg_bystander(self->fd, MODEGATE_BYSTANDER_REGISTER));
	ASSERT_EQ(0, mg_bystander(self->fd, 0));
}

/* ---- Element sizes ------------------------------------------------------- */

static int submit_sized(int fd, void *reqs, __u32 nr, __u32 size)
{
	struct modegate_async_submit s = { .reqs = MG_PTR(reqs), .nr = nr, .req_size = size };
	int ret = ioctl(fd, MODEGATE_IOC_ASYNC_SUBMIT, &s);

	return ret < 0 ? -errno : ret;
}

static int reap_sized(int fd, void *comps, __u32 nr, __u32 size)
{
	struct modegate_async_reap r = { .comps = MG_PTR(comps), .nr = nr, .comp_size = size };
	int ret = ioctl(fd, MODEGATE_IOC_ASYNC_REAP, &r);

	return ret < 0 ? -errno : ret;
}

/*
 * req_size and comp_size above PAGE_SIZE: -E2BIG for the whole call,
 * before anything is read (a NULL array too) or queued or written; a page
 * is still fine.  0xFFFFFFF8 once made one submit scan 4 GiB in the kernel.
 */
TEST_F(hostile, element_sizes_above_a_page_are_e2big)
{
	const __u32 big[] = { self->page + 1, self->page + 8, 2 * self->page,
			      0x10000, 0xFFFFFFF8, 0xFFFFFFFF };
	size_t len = 3 * self->page;
	uint8_t *buf = mg_map(len, MAP_PRIVATE), *copy = malloc(len);
	struct modegate_async_req *r = (void *)buf;
	struct modegate_async_completion c;
	struct modegate_stats before, after;
	__u32 ready = 1;
	int i;

	ASSERT_NE(NULL, buf);
	ASSERT_NE(NULL, copy);
	memset(buf, 0, len);
	*r = mg_req(MODEGATE_STRAT_ADOPT_MM, buf + 2 * self->page, 64, 5, 0,
		    MODEGATE_CPU_ANY, 5);
	ASSERT_EQ(0, mg_stats(self->fd, &before));
	for (i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
		ASSERT_EQ(-E2BIG, submit_sized(self->fd, buf, 1, big[i]))
			TH_LOG("req_size %#x", big[i]);
		ASSERT_EQ(-E2BIG, submit_sized(self->fd, NULL, 1, big[i]))
			TH_LOG("req_size %#x, reqs NULL", big[i]);
		ASSERT_EQ(12345, r->error) TH_LOG("req_size %#x: the request was read", big[i]);
	}
	ASSERT_EQ(0, mg_stats(self->fd, &after));
	ASSERT_EQ(before.async_submitted, after.async_submitted);
	ASSERT_EQ(0, mg_wait(self->fd, 0, 0, &ready));
	ASSERT_EQ(0, ready);

	/* One page is the largest element: accepted. */
	ASSERT_EQ(1, submit_sized(self->fd, buf, 1, self->page));
	ASSERT_EQ(0, r->error);
	ASSERT_EQ(0, mg_wait(self->fd, 1, MG_WAIT_NS, NULL));

	memset(buf, 0x77, len);
	memcpy(copy, buf, len);
	for (i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
		ASSERT_EQ(-E2BIG, reap_sized(self->fd, buf, 1, big[i]))
			TH_LOG("comp_size %#x", big[i]);
		ASSERT_EQ(-E2BIG, reap_sized(self->fd, NULL, 1, big[i]))
			TH_LOG("comp_size %#x, comps NULL", big[i]);
		ASSERT_EQ(0, memcmp(buf, copy, len)) TH_LOG("comp_size %#x: written", big[i]);
	}
	/* The completion is still there, for a page-sized element. */
	ASSERT_EQ(1, reap_sized(self->fd, buf, 1, self->page));
	memcpy(&c, buf, sizeof(c));
	ASSERT_EQ(5, c.user_data);
	ASSERT_EQ(64, c.result);
	ASSERT_TRUE(all_zero(buf + sizeof(c), self->page - sizeof(c)));
	free(copy);
	ASSERT_QUIESCENT();
}

/* ---- PID namespaces ------------------------------------------------------ */

#define NS_SECRET	"mg-host-secret"
#define NS_ITER		100
#define NS_CROSS	8

struct ns_shared {
	volatile int spinner_ready, stop_spinner, spinner_gone;
	volatile int phase_a_done, cross_ready, host_done;
	volatile pid_t g_global;	/* the submitter's pid on the host */
	volatile int checked, violations;
	volatile int hidden_user[2];	/* hit a user task we cannot see */
	volatile int idle[2];
	char first[320];
};

static void ns_note(struct ns_shared *sh, int i, const char *what,
		    const struct modegate_async_completion *c)
{
	if (sh->violations++)
		return;
	snprintf(sh->first, sizeof(sh->first),
		 "request %d: %s: strategy %u result %lld irq_pid %d irq_tgid %d irq_comm '%.15s' ctx_flags %#x delivered_by %u deliver_pid %d origin_tgid %d",
		 i, what, c->strategy, (long long)c->result, c->irq_pid, c->irq_tgid,
		 c->irq_comm, c->ctx_flags, c->delivered_by, c->deliver_pid, c->origin_tgid);
}

/* Every completion the namespaced submitter reaps, checked. */
static void ns_check(struct ns_shared *sh, int phase, int i,
		     const struct modegate_async_completion *c, const uint8_t *buf,
		     __u64 off, size_t len)
{
	bool self_hit = c->irq_tgid == getpid() && (c->ctx_flags & MODEGATE_CTX_IRQ_MM_MATCH);
	__s32 deliverer = 0;

	sh->checked++;
	if (c->origin_tgid != getpid())
		ns_note(sh, i, "origin_tgid is not the submitter as its namespace sees it", c);
	if (!self_hit && (c->irq_pid || c->irq_tgid))
		ns_note(sh, i, "the pid of a task outside the namespace", c);
	if (!self_hit && !all_zero(c->irq_comm, sizeof(c->irq_comm)))
		ns_note(sh, i, "the comm of a task outside the namespace", c);
	if (c->strategy == MODEGATE_STRAT_BUFFERED && c->result > 0)
		deliverer = mg_gettid();	/* the reaper itself */
	if (c->deliver_pid != deliverer)
		ns_note(sh, i, "deliver_pid of a task outside the namespace", c);
	if (c->strategy == MODEGATE_STRAT_NAIVE ? c->result != -EXDEV :
	    c->result != len || !mg_match(buf, off, len))
		ns_note(sh, i, "not delivered", c);
	if (c->ctx_flags & MODEGATE_CTX_IRQ_IDLE)
		sh->idle[phase]++;
	else if ((c->ctx_flags & MODEGATE_CTX_IRQ_USER) &&
		 !(c->ctx_flags & (MODEGATE_CTX_IRQ_KTHREAD | MODEGATE_CTX_IRQ_MM_MATCH)))
		sh->hidden_user[phase]++;
}

/*
 * pid 1 of a new pid namespace: submits with the interrupt on IRQ_CPU,
 * first while the host's spinner runs there, then while it is idle; then
 * submits NS_CROSS through the host's file for the host to reap.
 */
static int ns_submitter(struct ns_shared *sh, int hostfd)
{
	static const __u32 strat[] = {
		MODEGATE_STRAT_ADOPT_MM, MODEGATE_STRAT_PIN, MODEGATE_STRAT_REMOTE,
		MODEGATE_STRAT_BUFFERED, MODEGATE_STRAT_NAIVE,
	};
	struct modegate_async_req r[NS_CROSS];
	struct modegate_async_completion c;
	size_t page = mg_page_size();
	uint8_t *buf = mg_map(2 * page, MAP_PRIVATE);
	int fd = open(MG_DEV, O_RDWR);
	int phase, i;

	if (!buf || fd < 0 || getpid() != 1)
		return 10;
	for (phase = 0; phase < 2; phase++) {
		if (phase == 1) {
			sh->phase_a_done = 1;
			if (mg_wait_flag(&sh->spinner_gone))
				return 11;
		}
		for (i = 0; i < NS_ITER; i++) {
			__u64 off = 64 * (i + phase * NS_ITER);

			r[0] = mg_req(strat[i % 5], buf, 64, off, (i % 5) * 100 * MG_USEC,
				      IRQ_CPU, i);
			memset(buf, 0, 64);
			if (mg_submit(fd, r, 1) != 1 || mg_collect(fd, &c, 1) != 1)
				return 12;
			ns_check(sh, phase, i, &c, buf, off, 64);
		}
	}
	for (i = 0; i < NS_CROSS; i++)
		r[i] = mg_req(MODEGATE_STRAT_ADOPT_MM, buf + page + 64 * i, 64, 64 * i,
			      (i % 4) * 100 * MG_USEC, IRQ_CPU, 1000 + i);
	if (mg_submit(hostfd, r, NS_CROSS) != NS_CROSS ||
	    mg_wait(hostfd, NS_CROSS, MG_WAIT_NS, NULL))
		return 13;
	sh->cross_ready = 1;
	return mg_wait_flag(&sh->host_done) ? 14 : 0;
}

/*
 * A submitter in its own pid namespace, a host task with a distinctive
 * comm spinning where its interrupts fire: the completions show no pid,
 * tgid or comm of any task outside the namespace (0 and empty, the idle
 * task too), origin_tgid is the submitter as the reaper sees it, and a
 * delivery thread's deliver_pid is 0 there.  Every completion is checked; the
 * counts of interrupts that hit the spinner and the idle task show the
 * test was not vacuous.
 */
TEST_F_TIMEOUT(hostile, child_pid_namespace_sees_no_host_task, 120)
{
	struct ns_shared *sh = mg_map(sizeof(*sh), MAP_SHARED);
	struct modegate_async_completion c[NS_CROSS];
	pid_t pid;
	int i;

	NEED_TWO_CPUS();
	if (access("/proc/self/ns/pid", F_OK))
		SKIP(return, "the kernel has no pid namespaces (CONFIG_PID_NS)");
	ASSERT_NE(NULL, sh);
	pid = mg_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		prctl(PR_SET_NAME, NS_SECRET);
		if (mg_pin_cpu(IRQ_CPU))
			_exit(2);
		sh->spinner_ready = 1;
		while (!sh->stop_spinner)
			;
		_exit(0);
	}
	self->kids[0] = pid;
	ASSERT_EQ(0, mg_wait_flag(&sh->spinner_ready));

	pid = mg_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		pid_t g;

		if (unshare(CLONE_NEWPID))
			_exit(20);
		g = fork();	/* pid 1 of the new namespace: its parent is not visible */
		if (g == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			_exit(ns_submitter(sh, self->fd));
		}
		if (g < 0)
			_exit(21);
		sh->g_global = g;
		_exit(mg_wait_child(g));
	}
	self->kids[1] = pid;
	ASSERT_EQ(0, mg_wait_flag(&sh->phase_a_done)) TH_LOG("submitter: %d", sh->violations);
	sh->stop_spinner = 1;
	ASSERT_EQ(0, mg_wait_child(self->kids[0]));
	self->kids[0] = 0;
	sh->spinner_gone = 1;

	/* The host reaps what the namespaced submitter queued in its file. */
	ASSERT_EQ(0, mg_wait_flag(&sh->cross_ready));
	ASSERT_EQ(NS_CROSS, mg_collect(self->fd, c, NS_CROSS));
	sh->host_done = 1;
	ASSERT_EQ(0, mg_wait_child(self->kids[1]));
	self->kids[1] = 0;
	TH_LOG("%d completions checked in the child namespace: %d/%d hit a task it cannot see (the spinner), %d/%d the idle task",
	       sh->checked, sh->hidden_user[0], NS_ITER, sh->idle[1], NS_ITER);
	ASSERT_EQ(0, sh->violations) TH_LOG("%d violations, first: %s", sh->violations, sh->first);
	ASSERT_EQ(2 * NS_ITER, sh->checked);
	ASSERT_LE(NS_ITER / 10, sh->hidden_user[0]) TH_LOG("the spinner was never hit");
	ASSERT_LE(NS_ITER / 10, sh->idle[1]) TH_LOG("the idle task was never hit");
	for (i = 0; i < NS_CROSS; i++) {
		ASSERT_EQ(sh->g_global, c[i].origin_tgid);
		ASSERT_EQ(64, c[i].result);
		ASSERT_LT(0, c[i].deliver_pid);	/* a kernel thread: the host sees it */
		/* The context was captured for the submitter's namespace. */
		ASSERT_EQ(0, c[i].irq_pid);
		ASSERT_EQ(0, c[i].irq_tgid);
		ASSERT_TRUE(all_zero(c[i].irq_comm, sizeof(c[i].irq_comm)))
			TH_LOG("irq_comm '%.15s'", c[i].irq_comm);
	}
	ASSERT_QUIESCENT();
}

/* ---- Stalls -------------------------------------------------------------- */

#define STALL_ADOPT	256
#define STALL_REMOTE	64
#define STALL_SPAN	8	/* ADOPT_MM/REMOTE from a present page into a stalled one */
#define STALL_TOTAL	(STALL_ADOPT + STALL_REMOTE + STALL_SPAN)
#define STALL_PAIRS	16	/* page 2j present, page 2j + 1 on the userfaultfd */

struct stall_shared {
	volatile int submitted, wait_ret, reaped, closed;
	volatile int eagain, partial, bad;
	char first[256];
};

static void stall_note(struct stall_shared *sh, const struct modegate_async_completion *c,
		       const char *what)
{
	if (sh->bad++)
		return;
	snprintf(sh->first, sizeof(sh->first), "request %llu (strategy %u): %s, result %lld",
		 (unsigned long long)c->user_data, c->strategy, what, (long long)c->result);
}

/*
 * The stalled process: buffers on a userfaultfd it never answers; it
 * submits, waits 10 s for the completions, reaps and checks them when the
 * parent says, closes its file, and lives on (the uffd open) until killed.
 */
static int stall_child(struct stall_shared *sh, int up, int down)
{
	static struct modegate_async_req r[STALL_TOTAL];
	static struct modegate_async_completion c[STALL_TOTAL];
	struct uffdio_api api = { .api = UFFD_API };
	size_t page = mg_page_size();
	uint8_t *area;
	int uffd, fd, i, n, done = 0;

	uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api))
		return 10;
	area = mmap(NULL, 2 * STALL_PAIRS * page, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED)
		return 11;
	for (i = 0; i < STALL_PAIRS; i++) {
		struct uffdio_register reg = {
			.range = { MG_PTR(area + (2 * i + 1) * page), page },
			.mode = UFFDIO_REGISTER_MODE_MISSING,
		};

		memset(area + 2 * i * page, 0, page);
		if (ioctl(uffd, UFFDIO_REGISTER, &reg))
			return 12;
	}
	fd = open(MG_DEV, O_RDWR);
	if (fd < 0)
		return 13;
	for (i = 0; i < STALL_TOTAL; i++) {
		__u32 s = i < STALL_ADOPT ? MODEGATE_STRAT_ADOPT_MM :
			  i < STALL_ADOPT + STALL_REMOTE ? MODEGATE_STRAT_REMOTE :
			  i % 2 ? MODEGATE_STRAT_REMOTE : MODEGATE_STRAT_ADOPT_MM;
		uint8_t *b = area + (2 * (i % STALL_PAIRS) + 1) * page;

		if (i >= STALL_ADOPT + STALL_REMOTE)
			b -= 16;	/* the last 16 bytes of a present page */
		r[i] = mg_req(s, b, 64, 64 * i, MG_MSEC, MODEGATE_CPU_ANY, i);
	}
	for (i = 0; i < STALL_TOTAL; i += n) {
		n = STALL_TOTAL - i > 256 ? 256 : STALL_TOTAL - i;
		if (mg_submit(fd, r + i, n) != n)
			return 14;
		sh->submitted += n;
	}
	sh->wait_ret = mg_wait(fd, STALL_TOTAL, 10 * MG_NSEC, NULL);
	if (write(up, "w", 1) != 1 || mg_read_byte_ms(down, 120000))
		return 15;
	while ((n = mg_reap(fd, c + done, STALL_TOTAL - done > 256 ? 256 : STALL_TOTAL - done)) > 0)
		done += n;
	sh->reaped = done;
	for (i = 0; i < done; i++) {
		__u64 k = c[i].user_data;

		if (c[i].result == -EAGAIN) {
			sh->eagain++;
		} else if (k < STALL_ADOPT + STALL_REMOTE) {
			stall_note(sh, &c[i], "not -EAGAIN for a buffer that cannot be faulted in");
		} else if (c[i].result > 0 && c[i].result <= 16) {
			uint8_t *b = area + (2 * (k % STALL_PAIRS) + 1) * page - 16;

			sh->partial++;
			if (!mg_match(b, 64 * k, c[i].result))
				stall_note(sh, &c[i], "partial count, but not the store's bytes");
		} else {
			stall_note(sh, &c[i], "neither -EAGAIN nor the bytes before the stall");
		}
	}
	close(fd);
	sh->closed = 1;
	if (write(up, "c", 1) != 1)
		return 16;
	mg_read_byte_ms(down, -1);	/* the uffd stays open, unanswered */
	close(uffd);
	return 0;
}

/* rmmod in a child, bounded: 0, -errno, or -ETIME while still waiting. */
static int unload_bounded(pid_t *pidp, int ms)
{
	pid_t pid = mg_fork();
	int ret;

	if (pid == 0)
		_exit(-mg_unload() & 0x7f);
	if (pid < 0)
		return -errno;
	*pidp = pid;
	ret = mg_wait_child_ms(pid, ms);
	if (ret == -2)
		return -ETIME;
	*pidp = 0;
	return -ret;
}

/*
 * A few hundred ADOPT_MM and REMOTE deliveries into buffers on a
 * userfaultfd that nobody answers: they complete with -EAGAIN (or the bytes
 * before the stalled page), another process's delivery completes meanwhile,
 * and close plus rmmod finish while the stalled process lives.  On failure
 * the stalled process is killed, which lets the kernel go on.
 */
TEST_F_TIMEOUT(hostile, stalled_deliveries_hold_up_no_one, 150)
{
	struct stall_shared *sh = mg_map(sizeof(*sh), MAP_SHARED);
	struct modegate_async_completion c;
	struct modegate_async_req r;
	int up[2], down[2], fd2, other, unload, waited = -1;
	uint8_t *b = mg_map(self->page, MAP_PRIVATE);
	pid_t pid, rmmod = 0;
	uint64_t t;

	ASSERT_NE(NULL, sh);
	ASSERT_NE(NULL, b);
	ASSERT_EQ(0, pipe(up));
	ASSERT_EQ(0, pipe(down));
	pid = mg_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(self->fd);	/* its only file is the stalled one */
		close(up[0]);
		close(down[1]);
		_exit(stall_child(sh, up[1], down[0]));
	}
	self->kids[0] = pid;
	close(up[1]);
	close(down[0]);
	ASSERT_EQ(0, mg_read_byte_ms(up[0], 60000)) TH_LOG("the staller did not submit");
	ASSERT_EQ(STALL_TOTAL, sh->submitted);

	/* Another process (this one), an ordinary delivery, meanwhile. */
	fd2 = open(MG_DEV, O_RDWR);
	ASSERT_LE(0, fd2);
	r = mg_req(MODEGATE_STRAT_ADOPT_MM, b, 64, 7, 0, MODEGATE_CPU_ANY, 1);
	ASSERT_EQ(1, mg_submit(fd2, &r, 1));
	other = mg_wait(fd2, 1, 10 * MG_NSEC, NULL);
	if (!other && (mg_reap(fd2, &c, 1) != 1 || c.result != 64 || !mg_match(b, 7, 64)))
		other = -EIO;

	/* The staller reaps, checks, closes its file; then the module goes. */
	ASSERT_EQ(1, write(down[1], "r", 1));
	ASSERT_EQ(0, mg_read_byte_ms(up[0], 30000)) TH_LOG("the staller did not close");
	close(fd2);
	close(self->fd);
	self->fd = -1;
	unload = unload_bounded(&rmmod, 20000);
	if (unload == -ETIME) {
		/* Unstick the kernel: the stalled faults end with the uffd. */
		t = mg_now();
		kill(self->kids[0], SIGKILL);
		waitpid(self->kids[0], NULL, 0);
		self->kids[0] = 0;
		unload = mg_wait_child_ms(rmmod, 60000);
		waited = (mg_now() - t) / MG_MSEC;
		unload = unload >= 0 ? -unload : -ETIME;
	}
	EXPECT_EQ(0, sh->wait_ret)
		TH_LOG("the stalled requests did not all complete in 10 s: %d reaped later", sh->reaped);
	EXPECT_EQ(0, other)
		TH_LOG("another process's delivery did not complete in 10 s behind %d stalled ones (%d)",
		       STALL_TOTAL, other);
	EXPECT_EQ(STALL_TOTAL, sh->reaped);
	EXPECT_EQ(0, sh->bad) TH_LOG("%d bad, first: %s", sh->bad, sh->first);
	TH_LOG("stalled: %d -EAGAIN, %d partial of %d", sh->eagain, sh->partial, STALL_TOTAL);
	ASSERT_EQ(-1, waited)
		TH_LOG("rmmod still waited 20 s after close while the stalled process lived; it returned %d ms after that process was killed",
		       waited);
	ASSERT_EQ(0, unload) TH_LOG("rmmod: %s", strerror(-unload));
	ASSERT_EQ(1, write(down[1], "x", 1));
	ASSERT_EQ(0, mg_wait_child(self->kids[0]));
	self->kids[0] = 0;
	ASSERT_EQ(0, mg_load(""));
}

/* ---- Cancel against a demo write ----------------------------------------- */

#define CANCEL_BATCHES	250
#define CANCEL_K	4

/*
 * NAIVE demo requests interrupt a bystander while CANCEL races them: a
 * request that wrote is past cancelling (-EXDEV, WRONG_PROCESS,
 * BYSTANDER); a cancelled one wrote nothing.  The counters are exact.
 */
TEST_F_TIMEOUT(hostile, cancel_never_contradicts_a_demo_write, 150)
{
	struct modegate_async_completion c[CANCEL_K];
	struct modegate_async_req r[CANCEL_K];
	struct modegate_stats before, after;
	int b, k, n, memfd, wrote = 0, ecanceled = 0, cancelled = 0, contra = 0;
	__u64 first = 0;
	struct by_shared *sh;
	pid_t pid;

	NEED_TWO_CPUS();
	reload(_metadata, self, "allow_wrong_process_demo=1");
	sh = by_shared_map(&memfd);
	ASSERT_NE(NULL, sh);
	pid = by_start(sh, memfd, self->fd, 0, false);
	ASSERT_LT(0, pid);
	self->kids[0] = pid;
	ASSERT_EQ(0, mg_wait_flag(&sh->ready));
	ASSERT_EQ(0, sh->reg);
	ASSERT_EQ(0, mg_stats(self->fd, &before));

	for (b = 0; b < CANCEL_BATCHES; b++) {
		__u64 lat = (2 + b % 4) * 100 * MG_USEC;
		uint64_t t0, until;

		/*
		 * One batch in 8 waits 20 ms and is cancelled at once: that
		 * side of the race is run even when a loaded host makes the
		 * submit's IPI to IRQ_CPU outlast the short latencies.
		 */
		if (b % 8 == 7)
			lat = 20 * MG_MSEC;
		for (k = 0; k < CANCEL_K; k++) {
			r[k] = mg_req(MODEGATE_STRAT_NAIVE, DEMO_VA, 8, 8 * (1 + b * CANCEL_K + k),
				      lat, IRQ_CPU, b * CANCEL_K + k);
			r[k].flags = MODEGATE_REQ_DEMO_WRONG_PROCESS;
		}
		/* The latency counts from the start of the submit call. */
		t0 = mg_now();
		ASSERT_EQ(CANCEL_K, mg_submit(self->fd, r, CANCEL_K));
		/* Cancel from well before the interrupt to well after it. */
		until = b % 8 == 7 ? 0 : t0 + lat - 100 * MG_USEC + (b % 13) * 30 * MG_USEC;
		while (mg_now() < until)
			;
		n = mg_cancel(self->fd, 0, MODEGATE_CANCEL_ALL);
		ASSERT_LE(0, n);
		cancelled += n;
		ASSERT_EQ(CANCEL_K, mg_collect(self->fd, c, CANCEL_K));
		for (k = 0; k < CANCEL_K; k++) {
			if (c[k].result == -ECANCELED) {
				ecanceled++;
				if ((c[k].ctx_flags & MODEGATE_CTX_WRONG_PROCESS) ||
				    c[k].delivered_by == MODEGATE_DELIVER_BYSTANDER)
					first = contra++ ? first : c[k].user_data;
				ASSERT_TRUE(c[k].ctx_flags & MODEGATE_CTX_CANCELLED);
				continue;
			}
			ASSERT_EQ(-EXDEV, c[k].result);
			ASSERT_FALSE(c[k].ctx_flags & MODEGATE_CTX_CANCELLED);
			if (c[k].ctx_flags & MODEGATE_CTX_WRONG_PROCESS) {
				wrote++;
				ASSERT_EQ(MODEGATE_DELIVER_BYSTANDER, c[k].delivered_by);
				ASSERT_EQ(pid, c[k].deliver_pid);
			} else {
				ASSERT_EQ(MODEGATE_DELIVER_NONE, c[k].delivered_by);
			}
		}
	}
	ASSERT_EQ(0, mg_stats(self->fd, &after));
	sh->stop = 1;
	ASSERT_EQ(0, mg_wait_child(pid));
	self->kids[0] = 0;
	TH_LOG("%d requests: %d wrote into the bystander, %d cancelled", CANCEL_BATCHES * CANCEL_K,
	       wrote, ecanceled);
	ASSERT_EQ(0, contra)
		TH_LOG("%d of %d cancelled requests had written into the bystander, the first %llu",
		       contra, ecanceled, (unsigned long long)first);
	ASSERT_EQ(cancelled, ecanceled);
	ASSERT_EQ(cancelled, after.async_cancelled - before.async_cancelled);
	ASSERT_EQ(CANCEL_BATCHES * CANCEL_K, after.async_submitted - before.async_submitted);
	ASSERT_EQ(CANCEL_BATCHES * CANCEL_K, after.async_completed - before.async_completed);
	/* Both sides of the race were run. */
	ASSERT_LT(0, wrote);
	ASSERT_LT(0, ecanceled);
	ASSERT_QUIESCENT();
}

/* ---- PIN and shared file mappings ----------------------------------------- */

/* One PIN request of 64 bytes into @p: 0 delivered, else its -errno. */
static int pin_into(int fd, uint8_t *p, __u64 off)
{
	struct modegate_async_req r = mg_req(MODEGATE_STRAT_PIN, p, 64, off, 0,
					     MODEGATE_CPU_ANY, off);
	struct modegate_async_completion c;
	int n = mg_submit(fd, &r, 1);

	if (n < 0)
		return n;
	if (n != 1)
		return r.error;
	if (mg_collect(fd, &c, 1) != 1)
		return -ETIMEDOUT;
	if (c.result != 64 || !mg_match(p, off, 64))
		return -EIO;
	return 0;
}

static uint8_t *map_file(const char *path, int flags, size_t len)
{
	int fd = open(path, O_RDWR | O_CREAT, 0600);
	uint8_t *p;

	if (fd < 0 || ftruncate(fd, len))
		return NULL;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return NULL;
	memset(p, 0, len);
	return p;
}

/*
 * PIN holds pages for the device latency: refused (-EOPNOTSUPP, nothing
 * queued) in a shared mapping of a file that is not shmem, here ramfs;
 * anonymous memory, a private file mapping, memfd and tmpfs are fine.
 */
TEST_F(hostile, pin_refuses_a_shared_ramfs_mapping)
{
	struct modegate_async_req r;
	struct modegate_stats st;
	char path[128];
	uint8_t *p;
	int memfd;

	strcpy(self->mnt[0], "/tmp/mg-ramfs.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->mnt[0]));
	ASSERT_EQ(0, mount("none", self->mnt[0], "ramfs", 0, NULL)) TH_LOG("%s", strerror(errno));
	snprintf(path, sizeof(path), "%s/buf", self->mnt[0]);

	p = map_file(path, MAP_SHARED, self->page);
	ASSERT_NE(NULL, p);
	r = mg_req(MODEGATE_STRAT_PIN, p, 64, 0, 0, MODEGATE_CPU_ANY, 1);
	ASSERT_EQ(0, mg_submit(self->fd, &r, 1)) TH_LOG("PIN into MAP_SHARED ramfs was queued");
	ASSERT_EQ(-EOPNOTSUPP, r.error);
	ASSERT_EQ(0, mg_stats(self->fd, &st));
	ASSERT_EQ(0, st.pinned_pages);
	ASSERT_EQ(0, st.async_inflight);
	munmap(p, self->page);

	p = map_file(path, MAP_PRIVATE, self->page);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, pin_into(self->fd, p, 1)) TH_LOG("private ramfs mapping");
	munmap(p, self->page);

	memfd = memfd_create("mg-pin", 0);
	ASSERT_LE(0, memfd);
	ASSERT_EQ(0, ftruncate(memfd, self->page));
	p = mmap(NULL, self->page, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, pin_into(self->fd, p, 2)) TH_LOG("shared memfd mapping");
	munmap(p, self->page);
	close(memfd);

	p = map_file("/dev/shm/mg-pin", MAP_SHARED, self->page);
	unlink("/dev/shm/mg-pin");
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, pin_into(self->fd, p, 3)) TH_LOG("shared tmpfs mapping");
	munmap(p, self->page);

	p = mg_map(self->page, MAP_PRIVATE);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, pin_into(self->fd, p, 4)) TH_LOG("anonymous memory");
	ASSERT_QUIESCENT();
}

/* ---- Budgets per user ------------------------------------------------------ */

struct user_job {
	uid_t uid;
	int nfds;		/* files, opened as uid */
	__u32 strategy;
	size_t len;
	int tries;
	bool reap;		/* reap and check everything accepted */
};

struct user_report {
	int accepted;
	int first_error;
	int checked;		/* reaped with the right bytes */
};

/*
 * In a child, as @j->uid: submit @j->tries requests round-robin over its
 * files, one at a time, never reaping (unless @j->reap); report; hold on
 * to everything until the parent writes a byte on @down.
 */
static pid_t user_child(const struct user_job *j, int up, int down)
{
	struct user_report rep = { 0 };
	struct modegate_async_completion c;
	int fds[16], i, n;
	uint8_t *buf;
	pid_t pid = mg_fork();

	if (pid)
		return pid;
	/* Its own files: the per-user limits charge the opener. */
	if (mg_become(j->uid))
		_exit(11);
	for (i = 0; i < j->nfds; i++) {
		fds[i] = open(MG_DEV, O_RDWR);
		if (fds[i] < 0)
			_exit(10);
	}
	buf = mg_map(j->len, MAP_PRIVATE);
	if (!buf)
		_exit(12);
	for (i = 0; i < j->tries; i++) {
		struct modegate_async_req r = mg_req(j->strategy, buf, j->len, 0, 0,
						     MODEGATE_CPU_ANY, i);

		n = mg_submit(fds[i % j->nfds], &r, 1);
		if (n == 1)
			rep.accepted++;
		else if (!rep.first_error)
			rep.first_error = n < 0 ? n : r.error;
	}
	/*
	 * Every request wrote the same bytes into the one buffer, maybe
	 * before the reap: count the completions, then check the bytes once.
	 * Request i went to file i % nfds (all were accepted).
	 */
	for (i = 0; j->reap && i < rep.accepted; i++)
		if (mg_collect(fds[i % j->nfds], &c, 1) == 1 && c.result == j->len)
			rep.checked++;
	if (j->reap && !mg_match(buf, 0, j->len))
		rep.checked = -1;
	if (write(up, &rep, sizeof(rep)) != sizeof(rep))
		_exit(13);
	mg_read_byte_ms(down, -1);
	_exit(0);
}

/* Run @a, and while it holds what it got, @b; their reports. */
static void two_users(struct __test_metadata *_metadata, FIXTURE_DATA(hostile) *self,
		      const struct user_job *a, const struct user_job *b,
		      struct user_report *ra, struct user_report *rb)
{
	int up[2], down[2];
	struct pollfd p;
	struct stat st;

	/* The node opened to the two users for the time of the test. */
	ASSERT_EQ(0, stat(MG_DEV, &st));
	ASSERT_EQ(0, chmod(MG_DEV, 0666));
	ASSERT_EQ(0, pipe(up));
	ASSERT_EQ(0, pipe(down));
	p = (struct pollfd){ .fd = up[0], .events = POLLIN };
	self->kids[0] = user_child(a, up[1], down[0]);
	ASSERT_LT(0, self->kids[0]);
	ASSERT_EQ(1, poll(&p, 1, 60000));
	ASSERT_EQ(0, mg_read_full(up[0], ra, sizeof(*ra)));
	self->kids[1] = user_child(b, up[1], down[0]);
	ASSERT_LT(0, self->kids[1]);
	ASSERT_EQ(1, poll(&p, 1, 60000));
	ASSERT_EQ(0, mg_read_full(up[0], rb, sizeof(*rb)));
	ASSERT_EQ(0, chmod(MG_DEV, st.st_mode & 07777));
	ASSERT_EQ(2, write(down[1], "xx", 2));
	ASSERT_EQ(0, mg_wait_child(self->kids[0]));
	ASSERT_EQ(0, mg_wait_child(self->kids[1]));
	self->kids[0] = self->kids[1] = 0;
	close(up[0]);
	close(up[1]);
	close(down[0]);
	close(down[1]);
}

/*
 * max_inflight_user=16: uid A, with eight files of eight requests each
 * (enough for the whole global budget of 64), gets 16 alive and then
 * -EAGAIN; uid B can still submit its eight.
 */
TEST_F_TIMEOUT(hostile, one_user_cannot_take_every_request, 60)
{
	const struct user_job a = { UID_A, 8, MODEGATE_STRAT_ADOPT_MM, 64, 64, false };
	const struct user_job b = { UID_B, 1, MODEGATE_STRAT_ADOPT_MM, 64, 8, true };
	struct user_report ra, rb;
	bool param;

	reload(_metadata, self, "max_inflight=8 max_inflight_global=64 max_inflight_user=16");
	param = access("/sys/module/modegate/parameters/max_inflight_user", F_OK) == 0;
	two_users(_metadata, self, &a, &b, &ra, &rb);
	EXPECT_TRUE(param) TH_LOG("the module has no parameter max_inflight_user (it was ignored)");
	TH_LOG("uid %d got %d alive (then %d); uid %d got %d of 8 (first error %d)", UID_A,
	       ra.accepted, ra.first_error, UID_B, rb.accepted, rb.first_error);
	ASSERT_EQ(16, ra.accepted);
	ASSERT_EQ(-EAGAIN, ra.first_error);
	ASSERT_EQ(8, rb.accepted);
	ASSERT_EQ(8, rb.checked);
	ASSERT_QUIESCENT();
}

/*
 * BUFFERED data waits in the kernel until reaped: 64 MiB per user.  uid A
 * holds 64 MiB it never reaps (the 65th MiB is -EAGAIN); uid B still gets
 * its BUFFERED read.
 */
TEST_F_TIMEOUT(hostile, one_user_cannot_take_every_buffered_byte, 120)
{
	const int per_user = (64 << 20) / self->cap;
	const struct user_job a = { UID_A, 1, MODEGATE_STRAT_BUFFERED, self->cap,
				    per_user + 4, false };
	const struct user_job b = { UID_B, 1, MODEGATE_STRAT_BUFFERED, self->cap, 1, true };
	struct user_report ra, rb;

	two_users(_metadata, self, &a, &b, &ra, &rb);
	TH_LOG("uid %d holds %d x %zu bytes (then %d); uid %d got %d (first error %d)", UID_A,
	       ra.accepted, self->cap, ra.first_error, UID_B, rb.accepted, rb.first_error);
	ASSERT_EQ(per_user, ra.accepted);
	ASSERT_EQ(-EAGAIN, ra.first_error);
	ASSERT_EQ(1, rb.accepted) TH_LOG("uid %d's BUFFERED request was refused", UID_B);
	ASSERT_EQ(1, rb.checked);
	ASSERT_QUIESCENT();
}

static long long read_ll(const char *dir, const char *file)
{
	char path[256], buf[64] = "";
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_RDONLY);
	if (fd < 0 || read(fd, buf, sizeof(buf) - 1) <= 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return atoll(buf);
}

/* Does the cgroup2 hierarchy at @root offer the memory controller? */
static bool has_memory_controller(const char *root)
{
	char path[256], buf[512];

	snprintf(path, sizeof(path), "%s/cgroup.controllers", root);
	return mg_read_text(path, buf, sizeof(buf)) > 0 && strstr(buf, "memory");
}

static int write_str(const char *dir, const char *file, const char *val)
{
	char path[256];
	int fd, ok;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	ok = write(fd, val, strlen(val)) == (ssize_t)strlen(val);
	close(fd);
	return ok ? 0 : -errno;
}

#define MEMCG_REQS	16

/*
 * A BUFFERED request's kernel buffer is charged to the submitter's memory
 * cgroup: the submitter's cgroup's memory.current rises by at least the
 * bytes it holds unreaped.
 */
TEST_F_TIMEOUT(hostile, buffered_bytes_are_charged_to_the_submitters_memcg, 60)
{
	int up[2], down[2], queued = 0, waited = -1;
	long long base, after;
	char root[64], cg[128], pidstr[32];
	pid_t pid;

	if (access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0) {
		strcpy(root, "/sys/fs/cgroup");
	} else {
		strcpy(self->mnt[0], "/tmp/mg-cgroup.XXXXXX");
		ASSERT_NE(NULL, mkdtemp(self->mnt[0]));
		if (mount("none", self->mnt[0], "cgroup2", 0, NULL)) {
			if (errno == ENODEV)
				SKIP(return, "the kernel has no cgroup2 (CONFIG_CGROUPS)");
			ASSERT_EQ(0, -errno) TH_LOG("mount cgroup2: %s", strerror(errno));
		}
		strcpy(root, self->mnt[0]);
	}
	if (!has_memory_controller(root))
		SKIP(return, "the kernel has no memory controller (CONFIG_MEMCG)");
	ASSERT_EQ(0, write_str(root, "cgroup.subtree_control", "+memory"));
	snprintf(cg, sizeof(cg), "%s/mg-hostile", root);
	ASSERT_TRUE(mkdir(cg, 0755) == 0 || errno == EEXIST);
	snprintf(self->dir, sizeof(self->dir), "%s", cg);

	ASSERT_EQ(0, pipe(up));
	ASSERT_EQ(0, pipe(down));
	pid = mg_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct modegate_async_req r[MEMCG_REQS];
		uint8_t *buf;
		int fd, i;

		if (mg_read_byte_ms(down[0], 30000))
			_exit(10);
		fd = open(MG_DEV, O_RDWR);
		buf = mg_map(self->cap, MAP_PRIVATE);
		if (fd < 0 || !buf)
			_exit(11);
		memset(buf, 1, self->cap);	/* charged before the baseline */
		if (write(up[1], "r", 1) != 1 || mg_read_byte_ms(down[0], 30000))
			_exit(12);
		for (i = 0; i < MEMCG_REQS; i++)
			r[i] = mg_req(MODEGATE_STRAT_BUFFERED, buf, self->cap, 0, 0,
				      MODEGATE_CPU_ANY, i);
		queued = mg_submit(fd, r, MEMCG_REQS);
		waited = mg_wait(fd, MEMCG_REQS, MG_WAIT_NS, NULL);
		if (write(up[1], &queued, sizeof(queued)) != sizeof(queued) ||
		    write(up[1], &waited, sizeof(waited)) != sizeof(waited))
			_exit(13);
		mg_read_byte_ms(down[0], -1);	/* hold them, unreaped */
		_exit(0);
	}
	self->kids[0] = pid;
	snprintf(pidstr, sizeof(pidstr), "%d", pid);
	ASSERT_EQ(0, write_str(cg, "cgroup.procs", pidstr));
	ASSERT_EQ(1, write(down[1], "g", 1));
	ASSERT_EQ(0, mg_read_byte_ms(up[0], 30000));
	base = read_ll(cg, "memory.current");
	ASSERT_LT(0, base);
	ASSERT_EQ(1, write(down[1], "s", 1));
	ASSERT_EQ(0, mg_read_full(up[0], &queued, sizeof(queued)));
	ASSERT_EQ(0, mg_read_full(up[0], &waited, sizeof(waited)));
	after = read_ll(cg, "memory.current");
	ASSERT_EQ(1, write(down[1], "x", 1));
	ASSERT_EQ(0, mg_wait_child(pid));
	self->kids[0] = 0;
	ASSERT_EQ(MEMCG_REQS, queued);
	ASSERT_EQ(0, waited);
	TH_LOG("memory.current of the submitter's cgroup: %lld -> %lld (+%lld) for %zu bytes buffered",
	       base, after, after - base, MEMCG_REQS * self->cap);
	ASSERT_LE((long long)(MEMCG_REQS * self->cap), after - base);
	ASSERT_QUIESCENT();
}

/* ---- VA_TRANSLATE ----------------------------------------------------------- */

static int va_one(int fd, const void *addr, struct modegate_va_page *pg)
{
	struct modegate_va_translate va = {
		.addr = MG_PTR(addr), .nr_pages = 1, .pages = MG_PTR(pg),
	};

	memset(pg, 0x77, sizeof(*pg));
	return ioctl(fd, MODEGATE_IOC_VA_TRANSLATE, &va) ? -errno : 0;
}

static bool sysfs_says(const char *path, const char *what)
{
	char buf[128] = "";
	FILE *f = fopen(path, "r");
	bool yes;

	if (!f)
		return false;
	yes = fgets(buf, sizeof(buf), f) && strstr(buf, what);
	fclose(f);
	return yes;
}

/* A read fault in a THP region maps the huge zero page: HUGE and ZERO. */
TEST_F(hostile, huge_zero_page_is_reported_zero)
{
	size_t huge = 2UL << 20;
	struct modegate_va_page a, b;
	volatile char sink;
	char *raw, *p;

	if (sysfs_says("/sys/kernel/mm/transparent_hugepage/enabled", "[never]") ||
	    !sysfs_says("/sys/kernel/mm/transparent_hugepage/use_zero_page", "1"))
		SKIP(return, "transparent huge pages or their zero page are off");
	raw = mmap(NULL, 2 * huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, raw);
	p = (char *)(((uintptr_t)raw + huge - 1) & ~(huge - 1));
	ASSERT_EQ(0, madvise(p, huge, MADV_HUGEPAGE));
	sink = p[0];
	sink = p[huge - 1];
	(void)sink;
	ASSERT_EQ(0, va_one(self->fd, p, &a));
	ASSERT_EQ(0, va_one(self->fd, p + huge / 2, &b));
	ASSERT_EQ(MODEGATE_PAGE_PRESENT | MODEGATE_PAGE_HUGE | MODEGATE_PAGE_ZERO,
		  a.flags & (MODEGATE_PAGE_PRESENT | MODEGATE_PAGE_HUGE | MODEGATE_PAGE_ZERO |
			     MODEGATE_PAGE_WRITABLE)) TH_LOG("flags %#x", a.flags);
	ASSERT_EQ(a.flags, b.flags);
	munmap(raw, 2 * huge);
}

/* Set or clear CAP_SYS_ADMIN in the effective set. */
static int effective_sys_admin(bool on)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -1;
	if (on)
		d[0].effective |= 1U << CAP_SYS_ADMIN;
	else
		d[0].effective &= ~(1U << CAP_SYS_ADMIN);
	return syscall(SYS_capset, &h, d);
}

/*
 * In a child: translate @p through @fd (or a file it opens without
 * CAP_SYS_ADMIN and then translates with it back), after dropping to
 * 65534 when @drop; the page on @out.
 */
static pid_t va_child(int fd, const void *p, bool drop, int out)
{
	struct modegate_va_page pg;
	pid_t pid = mg_fork();

	if (pid)
		return pid;
	if (fd < 0) {
		if (effective_sys_admin(false))
			_exit(10);
		fd = open(MG_DEV, O_RDWR);
		if (fd < 0 || effective_sys_admin(true))
			_exit(11);
	}
	if (drop && mg_become(UID_NOBODY))
		_exit(12);
	if (va_one(fd, p, &pg))
		_exit(13);
	_exit(write(out, &pg, sizeof(pg)) == sizeof(pg) ? 0 : 14);
}

/*
 * As /proc/PID/pagemap: the opener's credentials at open decide.  A file
 * root opened shows frames after its holder dropped to 65534; one opened
 * without CAP_SYS_ADMIN never does, even once the capability is back.
 */
TEST_F(hostile, pfn_visibility_is_decided_at_open)
{
	struct modegate_va_page mine, dropped, reopened;
	uint8_t *p = mg_map(self->page, MAP_PRIVATE);
	int out[2];

	ASSERT_NE(NULL, p);
	p[0] = 1;
	ASSERT_EQ(0, va_one(self->fd, p, &mine));
	ASSERT_TRUE(mine.flags & MODEGATE_PAGE_PFN_VALID);
	ASSERT_EQ(0, pipe(out));
	ASSERT_EQ(0, mg_wait_child(va_child(self->fd, p, true, out[1])));
	ASSERT_EQ(0, mg_read_full(out[0], &dropped, sizeof(dropped)));
	ASSERT_EQ(0, mg_wait_child(va_child(-1, p, false, out[1])));
	ASSERT_EQ(0, mg_read_full(out[0], &reopened, sizeof(reopened)));

	ASSERT_TRUE(dropped.flags & MODEGATE_PAGE_PFN_VALID)
		TH_LOG("opened as root, used as %d: flags %#x", UID_NOBODY, dropped.flags);
	ASSERT_FALSE(dropped.flags & MODEGATE_PAGE_PFN_HIDDEN);
	ASSERT_EQ(mine.pfn, dropped.pfn);	/* the COW-shared page */
	ASSERT_TRUE(reopened.flags & MODEGATE_PAGE_PFN_HIDDEN)
		TH_LOG("opened without CAP_SYS_ADMIN, used with it: flags %#x", reopened.flags);
	ASSERT_FALSE(reopened.flags & MODEGATE_PAGE_PFN_VALID);
	ASSERT_EQ(0, reopened.pfn);
	ASSERT_EQ(mine.page_id, dropped.page_id);	/* one file: one key */
	ASSERT_NE(mine.page_id, reopened.page_id);
}

MG_TEST_MAIN_WITH_HELPER(AFTER_EXEC, after_exec)
