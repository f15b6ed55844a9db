// SPDX-License-Identifier: GPL-2.0
/*
 * Members of the device's group are hostile to each other.  Each test runs
 * an attacker and the user it could harm as two unprivileged users
 * sharing the device, and checks that one cannot reach the other:
 *
 *  - the interrupt names a task (pid, comm, mode bits) only to a submitter
 *    that could ptrace it: another user's task is "another user's task";
 *  - the delivery runs at the submitter's nice, in its cgroups, so a
 *    nice-19 user's large copies leave a nice-0 user its CPU;
 *  - one interrupt completes a bounded number of requests, and the rest
 *    come in later interrupts, not in a loop within the same one.
 *
 * The submitter runs on CPU 0, the interrupts fire on IRQ_CPU.
 */
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "async_test.h"
#include "kselftest_harness.h"

#define IRQ_CPU		1
#define UID_A		60011	/* the user who may be harmed */
#define UID_B		60012	/* the attacker */
#define UID_C		60013	/* an attacker with its own user namespace */
/* The per-user BUFFERED budget (64 MiB) in 1 MiB requests. */
#define BUFFERED_MIB	64
/* Delivery threads a user may have. */
#define WORKERS_PER_USER	64
#define ITERATIONS	100
#define VICTIM_COMM	"mg-victim"
/* The module completes at most this many requests in one interrupt... */
#define LINE_MAX_PER_IRQ	64
/* ...and takes the rest at least this much later. */
#define LINE_REARM_NS		(20 * MG_USEC)

#define NEED_TWO_CPUS() do {						\
	if (self->ncpu < 2)						\
		SKIP(return, "needs two CPUs");				\
} while (0)

/* Shared (MAP_SHARED) between the test and its children. */
struct mu_shared {
	volatile int ready;
	volatile int stop;
	volatile int done;
	volatile int errors;
	volatile int completions;
	volatile int other_user;	/* reported as another user's task */
	volatile int named_victim;	/* named the other user's task */
	volatile int leaked_bits;	/* OTHER_USER with mode bits or a name */
	volatile int named_own;		/* named the attacker's own spinner */
	volatile double share;		/* the victim's CPU share */
	char first[256];
};

FIXTURE(mu) {
	int fd;
	int ncpu;		/* before the test pinned itself to CPU 0 */
	size_t cap;
	struct mu_shared *sh;
	pid_t kids[3];
	char cg[128];		/* a cgroup the test made: removed */
	char mnt[64];		/* cgroup2 mounted by the test: unmounted */
	mode_t mode;		/* of the node, when the test changed it */
};

FIXTURE_SETUP(mu)
{
	ASSERT_EQ(0, mg_ensure_default());
	self->ncpu = mg_nr_cpus();
	ASSERT_EQ(0, mg_pin_cpu(0));
	self->fd = open(MG_DEV, O_RDWR);
	ASSERT_LE(0, self->fd);
	self->cap = mg_fill_store(self->fd);
	ASSERT_LT(0, self->cap);
	self->sh = mg_map(sizeof(*self->sh), MAP_SHARED);
	ASSERT_NE(NULL, self->sh);
}

FIXTURE_TEARDOWN(mu)
{
	int i;

	self->sh->stop = 1;
	for (i = 0; i < 3; i++) {
		if (self->kids[i] > 0) {
			kill(self->kids[i], SIGKILL);
			waitpid(self->kids[i], NULL, 0);
		}
	}
	close(self->fd);
	if (self->mode)
		chmod(MG_DEV, self->mode);
	if (self->cg[0])
		rmdir(self->cg);
	if (self->mnt[0]) {
		umount2(self->mnt, MNT_DETACH);
		rmdir(self->mnt);
	}
}

/* A child of user @uid that spins in user mode on @cpu until told to stop. */
static pid_t mu_spinner(struct mu_shared *sh, uid_t uid, int cpu, int nice_val, bool dumpable)
{
	pid_t pid = mg_fork();

	if (pid)
		return pid;
	prctl(PR_SET_NAME, VICTIM_COMM);
	if (mg_pin_cpu(cpu) || setpriority(PRIO_PROCESS, 0, nice_val) || mg_become(uid))
		_exit(2);
	/* As a program its user started would be (setuid cleared it). */
	if (dumpable)
		prctl(PR_SET_DUMPABLE, 1);
	sh->ready = 1;
	while (!sh->stop)
		;
	_exit(0);
}

static void mu_note(struct mu_shared *sh, int i, const char *what,
		    const struct modegate_async_completion *c)
{
	if (sh->first[0])
		return;
	snprintf(sh->first, sizeof(sh->first),
		 "request %d: %s: irq_pid %d irq_tgid %d irq_comm '%.15s' ctx_flags %#x",
		 i, what, c->irq_pid, c->irq_tgid, c->irq_comm, c->ctx_flags);
}

/*
 * As user @uid, on CPU 0: ITERATIONS requests with the interrupt on
 * IRQ_CPU, where @spinner spins (@uid's own process if @own); classify what
 * each completion says.  To an unprivileged user, root's idle task and
 * kernel threads are another user's tasks too.
 */
static void mu_attack(struct mu_shared *sh, int fd, uid_t uid, pid_t spinner, bool own)
{
	static const __u32 identity = MODEGATE_CTX_IRQ_IDLE | MODEGATE_CTX_IRQ_KTHREAD |
				      MODEGATE_CTX_IRQ_USER | MODEGATE_CTX_IRQ_MM_MATCH;
	struct modegate_async_completion c;
	struct modegate_async_req r;
	char buf[64];
	int i;

	if (mg_become(uid)) {
		sh->errors++;
		return;
	}
	for (i = 0; i < ITERATIONS; i++) {
		r = mg_req(MODEGATE_STRAT_ADOPT_MM, buf, sizeof(buf), 0,
			   (i % 10) * 100 * MG_USEC, IRQ_CPU, i);
		if (mg_submit(fd, &r, 1) != 1 || mg_collect(fd, &c, 1) != 1 ||
		    c.result != sizeof(buf)) {
			sh->errors++;
			return;
		}
		sh->completions++;
		if (c.irq_tgid == spinner && own) {
			sh->named_own++;
		} else if (c.ctx_flags & MODEGATE_CTX_IRQ_OTHER_USER) {
			sh->other_user++;
			if ((c.ctx_flags & identity) || c.irq_pid || c.irq_tgid ||
			    c.irq_comm[0]) {
				sh->leaked_bits++;
				mu_note(sh, i, "another user's task, described", &c);
			}
		} else {
			sh->named_victim++;
			mu_note(sh, i, "another user's task named or described", &c);
		}
	}
}

/*
 * A spinner of @spinner_uid (@dumpable or not) on IRQ_CPU, attacked by
 * user B (mu_attack(), @own when the spinner is B's): the counts land in
 * self->sh.
 */
static void mu_run(struct __test_metadata *_metadata, FIXTURE_DATA(mu) *self,
		   uid_t spinner_uid, bool dumpable, bool own)
{
	struct mu_shared *sh = self->sh;
	pid_t pid;

	self->kids[0] = mu_spinner(sh, spinner_uid, IRQ_CPU, 0, dumpable);
	ASSERT_LT(0, self->kids[0]);
	ASSERT_EQ(0, mg_wait_flag(&sh->ready));
	pid = mg_fork();
	if (!pid) {
		mu_attack(sh, self->fd, UID_B, self->kids[0], own);
		_exit(0);
	}
	ASSERT_EQ(0, mg_wait_child(pid));
}

/*
 * User A spins on IRQ_CPU; user B's interrupts land there.  B learns
 * nothing of A's process -- not its pid, not its comm, not even that it
 * was in user mode -- nor of root's idle task and kernel threads: every
 * completion says "another user's task" and nothing more.
 */
TEST_F(mu, another_users_task_is_not_named)
{
	struct mu_shared *sh = self->sh;

	NEED_TWO_CPUS();
	mu_run(_metadata, self, UID_A, true, false);
	TH_LOG("%d completions: %d reported as another user's task; first problem: %s",
	       sh->completions, sh->other_user, sh->first[0] ? sh->first : "none");
	ASSERT_EQ(0, sh->errors);
	ASSERT_EQ(ITERATIONS, sh->completions);
	ASSERT_EQ(0, sh->named_victim);
	ASSERT_EQ(0, sh->leaked_bits);
	ASSERT_EQ(ITERATIONS, sh->other_user);
	ASSERT_QUIESCENT();
}

/*
 * The same user's own spinner is named to it, with its mode; the same
 * process made non-dumpable (as setuid programs are) is not: its own user
 * could not ptrace it either.
 */
TEST_F(mu, own_task_is_named)
{
	struct mu_shared *sh = self->sh;

	NEED_TWO_CPUS();
	mu_run(_metadata, self, UID_B, true, true);
	TH_LOG("%d completions: %d named the user's own spinner, %d another user's task",
	       sh->completions, sh->named_own, sh->other_user);
	ASSERT_EQ(0, sh->errors);
	ASSERT_EQ(0, sh->leaked_bits);
	ASSERT_EQ(0, sh->named_victim);
	/* Not every time: the IPI, rcu and the runner take the CPU too. */
	ASSERT_LE(ITERATIONS / 4, sh->named_own);
	ASSERT_QUIESCENT();
}

TEST_F(mu, own_non_dumpable_task_is_not_named)
{
	struct mu_shared *sh = self->sh;
	struct utsname u;

	NEED_TWO_CPUS();
	/* From 7.0 on the kernel keeps dumpability where no module reads it. */
	if (uname(&u) == 0 && atoi(u.release) >= 7)
		SKIP(return, "kernel %s: a module cannot read a task's dumpability", u.release);
	mu_run(_metadata, self, UID_B, false, true);
	TH_LOG("%d completions: %d named the non-dumpable spinner, %d another user's task",
	       sh->completions, sh->named_own, sh->other_user);
	ASSERT_EQ(0, sh->errors);
	ASSERT_EQ(0, sh->leaked_bits);
	ASSERT_EQ(0, sh->named_own);
	ASSERT_EQ(ITERATIONS, sh->other_user);
	ASSERT_QUIESCENT();
}

/* The nice (field 19) of @pid, from /proc/PID/stat; -100 if unreadable. */
static int mu_nice_of(pid_t pid)
{
	char path[64], text[1024], *p;
	int i, nice_val;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (mg_read_text(path, text, sizeof(text)) < 0)
		return -100;
	p = strrchr(text, ')');
	/* Fields 3 on follow ") "; nice is field 19. */
	for (i = 3; p && i <= 19; i++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%d", &nice_val) != 1)
		return -100;
	return nice_val;
}

/* The cgroup2 root: /sys/fs/cgroup, or one mounted into @mnt. */
static int mu_cgroup_root(char root[64], char mnt[64])
{
	if (access("/sys/fs/cgroup/cgroup.procs", F_OK) == 0) {
		strcpy(root, "/sys/fs/cgroup");
		return 0;
	}
	strcpy(mnt, "/tmp/mg-cg.XXXXXX");
	if (!mkdtemp(mnt) || mount("none", mnt, "cgroup2", 0, NULL)) {
		mnt[0] = '\0';
		return -1;
	}
	strcpy(root, mnt);
	return 0;
}

static int mu_write(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -1;
}

/*
 * The delivery thread of a file is its submitter's: at its nice, in its
 * cgroup.  A process in cgroup mg-deliver at nice 7 submits; the task
 * that wrote its data (deliver_pid) runs at nice 7 in mg-deliver.
 */
TEST_F(mu, delivery_runs_at_the_submitters_nice_in_its_cgroup)
{
	struct modegate_async_completion c;
	struct modegate_async_req r;
	char root[64], path[192], text[256], want[160], pidstr[16];
	int st, nice_val;
	char buf[64];
	pid_t pid;

	if (mu_cgroup_root(root, self->mnt))
		SKIP(return, "no cgroup2 here");
	snprintf(self->cg, sizeof(self->cg), "%s/mg-deliver", root);
	ASSERT_TRUE(!mkdir(self->cg, 0755) || errno == EEXIST);
	pid = mg_fork();
	if (!pid) {
		snprintf(path, sizeof(path), "%s/cgroup.procs", self->cg);
		snprintf(pidstr, sizeof(pidstr), "%d", getpid());
		if (mu_write(path, pidstr) || setpriority(PRIO_PROCESS, 0, 7))
			_exit(2);
		r = mg_req(MODEGATE_STRAT_ADOPT_MM, buf, sizeof(buf), 0, 0, MODEGATE_CPU_ANY, 1);
		if (mg_submit(self->fd, &r, 1) != 1 || mg_collect(self->fd, &c, 1) != 1 ||
		    c.result != sizeof(buf) || c.deliver_pid <= 0)
			_exit(3);
		self->sh->completions = c.deliver_pid;
		/* The thread lives as long as the file: read it now. */
		nice_val = mu_nice_of(c.deliver_pid);
		self->sh->errors = nice_val;
		snprintf(path, sizeof(path), "/proc/%d/cgroup", c.deliver_pid);
		if (mg_read_text(path, text, sizeof(text)) < 0)
			_exit(4);
		snprintf(self->sh->first, sizeof(self->sh->first), "%s", text);
		_exit(0);
	}
	st = mg_wait_child(pid);
	ASSERT_EQ(0, st);
	TH_LOG("delivered by pid %d: nice %d, cgroup %s", self->sh->completions,
	       self->sh->errors, self->sh->first);
	ASSERT_EQ(7, self->sh->errors);
	snprintf(want, sizeof(want), "0::/mg-deliver\n");
	ASSERT_STREQ(want, self->sh->first);
}

/* Spin for @ns of wall time; the CPU share this process got meanwhile. */
static double mu_cpu_share(uint64_t ns)
{
	uint64_t t0 = mg_now(), c0, c1;
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	c0 = ts.tv_sec * MG_NSEC + ts.tv_nsec;
	while (mg_now() - t0 < ns)
		;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	c1 = ts.tv_sec * MG_NSEC + ts.tv_nsec;
	return (double)(c1 - c0) / (double)(mg_now() - t0);
}

/*
 * A nice-19 user keeps 1 MiB ADOPT_MM deliveries going, submitted from
 * and aimed at IRQ_CPU, where a nice-0 user of another uid spins: the
 * copies run at nice 19 too, and the nice-0 user keeps at least 0.8 of
 * its CPU (at nice -20, in the root cgroup, they would take most of it).
 */
TEST_F(mu, a_nice_19_users_copies_leave_a_nice_0_user_its_cpu)
{
	struct mu_shared *sh = self->sh;
	const size_t len = 1 << 20;
	pid_t victim;

	NEED_TWO_CPUS();
	ASSERT_LE(len, self->cap);
	self->kids[0] = mg_fork();
	if (!self->kids[0]) {
		struct modegate_async_completion c[4];
		struct modegate_async_req r[4];
		uint8_t *buf = mg_map(4 * len, MAP_PRIVATE | MAP_POPULATE);
		int i, n;

		if (!buf || mg_pin_cpu(IRQ_CPU) || setpriority(PRIO_PROCESS, 0, 19) ||
		    mg_become(UID_B))
			_exit(2);
		for (i = 0; i < 4; i++)
			r[i] = mg_req(MODEGATE_STRAT_ADOPT_MM, buf + i * len, len, 0, 0,
				      IRQ_CPU, i);
		while (!sh->stop) {
			if (mg_submit(self->fd, r, 4) != 4 || mg_collect(self->fd, c, 4) != 4)
				_exit(3);
			for (n = 0; n < 4; n++)
				if (c[n].result != (__s64)len)
					_exit(4);
			sh->completions += 4;
		}
		_exit(0);
	}
	ASSERT_LT(0, self->kids[0]);
	victim = mg_fork();
	if (!victim) {
		if (mg_pin_cpu(IRQ_CPU) || mg_become(UID_A))
			_exit(2);
		/* Let the attacker's deliveries get going first. */
		while (sh->completions < 8)
			if (sh->stop)
				_exit(3);
		sh->share = mu_cpu_share(3 * MG_NSEC);
		_exit(0);
	}
	ASSERT_EQ(0, mg_wait_child(victim));
	sh->stop = 1;
	ASSERT_EQ(0, mg_wait_child(self->kids[0]));
	self->kids[0] = 0;
	TH_LOG("the nice-0 user got %.2f of its CPU; %d MiB delivered meanwhile",
	       sh->share, sh->completions);
	ASSERT_LE(0.8, sh->share);
	ASSERT_QUIESCENT();
}

static int mu_cmp_irq(const void *a, const void *b)
{
	const struct modegate_async_completion *x = a, *y = b;

	return x->t_irq_ns < y->t_irq_ns ? -1 : x->t_irq_ns > y->t_irq_ns;
}

/*
 * 256 requests due at the same instant on one CPU: no interrupt completes
 * more than LINE_MAX_PER_IRQ of them, and the next one comes at least
 * LINE_REARM_NS later -- a new interrupt, not the same one run again.
 * (Requests one interrupt fired share its t_irq_ns: it reads the clock
 * once.)
 */
TEST_F(mu, one_interrupt_completes_a_bounded_batch)
{
	static struct modegate_async_completion c[256];
	static struct modegate_async_req r[256];
	unsigned int i, group = 1, max_group = 0, groups = 1;
	uint64_t min_gap = UINT64_MAX;
	uint8_t *buf = mg_map(4096, MAP_PRIVATE);

	NEED_TWO_CPUS();
	ASSERT_NE(NULL, buf);
	for (i = 0; i < 256; i++)
		r[i] = mg_req(MODEGATE_STRAT_ADOPT_MM, buf + i * 16, 16, 0,
			      20 * MG_MSEC, IRQ_CPU, i);
	ASSERT_EQ(256, mg_submit(self->fd, r, 256));
	ASSERT_EQ(256, mg_collect(self->fd, c, 256));
	qsort(c, 256, sizeof(c[0]), mu_cmp_irq);
	for (i = 1; i <= 256; i++) {
		if (i < 256 && c[i].t_irq_ns == c[i - 1].t_irq_ns) {
			group++;
			continue;
		}
		if (group > max_group)
			max_group = group;
		if (i < 256) {
			if (c[i].t_irq_ns - c[i - 1].t_irq_ns < min_gap)
				min_gap = c[i].t_irq_ns - c[i - 1].t_irq_ns;
			groups++;
		}
		group = 1;
	}
	for (i = 0; i < 256; i++)
		ASSERT_EQ(16, c[i].result);
	TH_LOG("%u interrupts, at most %u requests in one, at least %llu ns apart",
	       groups, max_group, (unsigned long long)min_gap);
	ASSERT_GE(LINE_MAX_PER_IRQ, max_group);
	ASSERT_LE(256 / LINE_MAX_PER_IRQ, groups);
	ASSERT_LE(LINE_REARM_NS, min_gap);
	ASSERT_QUIESCENT();
}

/* Let every user open the node for the test (restored at teardown). */
static int mu_open_node(mode_t *saved)
{
	struct stat st;

	if (stat(MG_DEV, &st))
		return -1;
	*saved = st.st_mode & 07777;
	return chmod(MG_DEV, 0666);
}

/* In a child of the namespace's creator: become @uid there, submit @n 1 MiB BUFFERED requests. */
static int mu_buffered_as(uid_t uid, int n, int *queued)
{
	static struct modegate_async_req r[BUFFERED_MIB + 1];
	static char buf[1 << 20];
	int fd, i, ret;

	if (setresuid(uid, uid, uid))
		return -errno;
	fd = open(MG_DEV, O_RDWR);
	if (fd < 0)
		return -errno;
	for (i = 0; i < n; i++)
		r[i] = mg_req(MODEGATE_STRAT_BUFFERED, buf, sizeof(buf), 0, 10 * MG_NSEC,
			      MODEGATE_CPU_ANY, i);
	ret = mg_submit(fd, r, n);
	*queued = ret;
	if (ret == n)
		return 0;	/* the fd stays open: the budget stays held */
	return ret < 0 ? ret : r[ret].error;
}

/*
 * The uids of a user namespace are its creator's: user C creates one with
 * 100 uids mapped (as newuidmap would from /etc/subuid); its uid 1 takes
 * the user's whole BUFFERED budget through a file of its own, and its uid
 * 2, through another, is refused -- it is not a new user.
 */
TEST_F_TIMEOUT(mu, subordinate_uids_share_their_creators_budget, 300)
{
	struct mu_shared *sh = self->sh;
	int to_child[2], to_parent[2];
	char map[64], path[64], c;
	pid_t pid;
	int fd, i;

	ASSERT_EQ(0, mu_open_node(&self->mode));
	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(to_parent));
	pid = mg_fork();
	if (!pid) {
		pid_t a, b;
		int st;

		if (mg_become(UID_C) || unshare(CLONE_NEWUSER))
			_exit(2);
		if (write(to_parent[1], "u", 1) != 1 || read(to_child[0], &c, 1) != 1)
			_exit(3);
		/* From here the pipes also say "holding" (to_parent) and "let go" (to_child's EOF). */
		a = fork();
		if (!a) {
			int q, e;

			close(to_child[1]);
			q = 0;
			e = mu_buffered_as(1, BUFFERED_MIB, &q);

			sh->completions = q;
			sh->leaked_bits = e;
			/* Hold the budget until the namespace's root closes the pipe. */
			if (write(to_parent[1], "a", 1) != 1)
				_exit(7);
			close(to_parent[1]);
			c = 0;
			while (read(to_child[0], &c, 1) > 0)
				;
			_exit(e ? 4 : 0);
		}
		close(to_child[0]);
		if (read(to_parent[0], &c, 1) != 1)
			_exit(5);
		b = fork();
		if (!b) {
			int q = 0;

			sh->errors = mu_buffered_as(2, 1, &q);
			_exit(0);
		}
		waitpid(b, &st, 0);
		close(to_child[1]);
		waitpid(a, &st, 0);
		_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 6);
	}
	close(to_parent[1]);
	close(to_child[0]);
	if (read(to_parent[0], &c, 1) != 1) {
		/* The child could not make the namespace: which kernel is this? */
		i = mg_wait_child(pid);
		if (i == 2)
			SKIP(return, "no user namespaces here (CONFIG_USER_NS)");
		ASSERT_EQ(0, i);
	}
	snprintf(path, sizeof(path), "/proc/%d/uid_map", pid);
	snprintf(map, sizeof(map), "0 %d 100\n", 300000);
	fd = open(path, O_WRONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ((ssize_t)strlen(map), write(fd, map, strlen(map)));
	close(fd);
	ASSERT_EQ(1, write(to_child[1], "m", 1));
	/* Only the namespace's processes hold the pipes now. */
	close(to_child[1]);
	close(to_parent[0]);
	i = mg_wait_child(pid);
	TH_LOG("uid 1 queued %d MiB (%d); uid 2 then got %d", sh->completions,
	       sh->leaked_bits, sh->errors);
	ASSERT_EQ(0, i);
	ASSERT_EQ(BUFFERED_MIB, sh->completions);
	ASSERT_EQ(-EAGAIN, sh->errors);
	ASSERT_QUIESCENT();
}

/*
 * A user's processes each get a delivery thread, up to WORKERS_PER_USER:
 * one more process of the same user, submitting on a file of its own, is
 * refused with -EAGAIN, until one of the others has gone.
 */
TEST_F_TIMEOUT(mu, delivery_threads_per_user_are_bounded, 300)
{
	pid_t kids[WORKERS_PER_USER + 1];
	int i, ret, ready[2], hold[2];
	char c;

	ASSERT_EQ(0, mu_open_node(&self->mode));
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(hold));
	for (i = 0; i <= WORKERS_PER_USER; i++) {
		kids[i] = mg_fork();
		if (!kids[i]) {
			struct modegate_async_completion comp;
			struct modegate_async_req r;
			char buf[16];
			int fd, n;

			close(ready[0]);
			close(hold[1]);
			if (mg_become(UID_B))
				_exit(100);
			fd = open(MG_DEV, O_RDWR);
			if (fd < 0)
				_exit(101);
			r = mg_req(MODEGATE_STRAT_ADOPT_MM, buf, sizeof(buf), 0, 0,
				   MODEGATE_CPU_ANY, 1);
			n = mg_submit(fd, &r, 1);
			if (n == 1 && mg_collect(fd, &comp, 1) != 1)
				_exit(102);
			if (write(ready[1], "r", 1) != 1)
				_exit(103);
			/* Keep the process, and its thread, until the test lets go. */
			while (read(hold[0], &c, 1) > 0)
				;
			_exit(n == 1 ? 0 : -n);
		}
		ASSERT_LT(0, kids[i]);
		/* One at a time: the last one submits once every other has a thread. */
		ASSERT_EQ(1, read(ready[0], &c, 1));
	}
	close(hold[1]);
	close(hold[0]);
	close(ready[0]);
	close(ready[1]);
	for (i = 0; i <= WORKERS_PER_USER; i++) {
		ret = mg_wait_child(kids[i]);
		if (i < WORKERS_PER_USER) {
			ASSERT_EQ(0, ret) TH_LOG("process %d", i);
		} else {
			ASSERT_EQ(EAGAIN, ret) TH_LOG("process %d of user %d", i, UID_B);
		}
	}
	ASSERT_QUIESCENT();
}

TEST_HARNESS_MAIN
