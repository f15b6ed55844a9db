// SPDX-License-Identifier: GPL-2.0
/*
 * One member of the device's group against another: what a user holds is
 * charged to that user, the limits follow the opener of the file, and
 * waits end when they should.
 *
 *  - pinned pages count against the user's RLIMIT_MEMLOCK (-ENOMEM past
 *    it), so one user's pins leave room for another's;
 *  - the per-user limits (requests, BUFFERED bytes) are charged to the
 *    credentials that opened the file: changing uid does not multiply them;
 *  - ASYNC_WAIT wakes when the caller's own completions are ready, even
 *    after another process reaped completions the caller could not see;
 *  - a relative timeout is a deadline: stops and continues do not extend it;
 *  - the exit of an address space wakes only the files that hold its
 *    completions;
 *  - page_id means something only within one open file;
 *  - PIN accepts a hugetlb memfd, as the uapi promises for memfds.
 *
 * Users are played by forked children that drop to UID_A, UID_B, UID_C;
 * the device node is opened to them (0666) for the time of each test.
 */
#include <pthread.h>
#include <sys/resource.h>

#include "async_test.h"
#include "kselftest_harness.h"

#define UID_A		61001
#define UID_B		61002
#define UID_C		61003
#define LATENCY		(10 * MG_NSEC)	/* the device's longest: held for the test */
#define MIB		(1UL << 20)

FIXTURE(iso) {
	int fd;
	size_t page;
	size_t cap;
	mode_t mode;		/* of the device node, restored at teardown */
	pid_t kids[4];
	long hugepages;		/* vm.nr_hugepages to restore, or -1 */
};

FIXTURE_SETUP(iso)
{
	struct stat st;

	self->hugepages = -1;
	ASSERT_EQ(0, mg_ensure_default());
	self->page = mg_page_size();
	ASSERT_EQ(0, stat(MG_DEV, &st));
	self->mode = st.st_mode & 07777;
	ASSERT_EQ(0, chmod(MG_DEV, 0666));
	self->fd = open(MG_DEV, O_RDWR);
	ASSERT_LE(0, self->fd);
	self->cap = mg_fill_store(self->fd);
	ASSERT_LT(0, self->cap);
}

static int write_long(const char *path, long v)
{
	FILE *f = fopen(path, "w");
	int ret;

	if (!f)
		return -1;
	ret = fprintf(f, "%ld\n", v) < 0;
	return fclose(f) || ret ? -1 : 0;
}

FIXTURE_TEARDOWN(iso)
{
	int i;

	for (i = 0; i < 4; i++) {
		if (self->kids[i] > 0) {
			kill(self->kids[i], SIGKILL);
			waitpid(self->kids[i], NULL, 0);
		}
	}
	if (self->fd >= 0) {
		mg_cancel(self->fd, 0, MODEGATE_CANCEL_ALL);
		close(self->fd);
	}
	chmod(MG_DEV, self->mode);
	if (self->hugepages >= 0)
		write_long("/proc/sys/vm/nr_hugepages", self->hugepages);
}

/* What a child playing a user reports. */
struct iso_report {
	int queued;		/* requests queued */
	int first_error;	/* the first refused request's error, or 0 */
	int step;		/* where it failed before reporting, or 0 */
};

/* Submit @nr copies of @r (user_data 0..nr-1) one at a time into @fd. */
static void iso_submit_n(int fd, struct modegate_async_req r, int nr,
			 struct iso_report *rep)
{
	int i, n;

	for (i = 0; i < nr; i++) {
		r.user_data = i;
		n = mg_submit(fd, &r, 1);
		if (n == 1)
			rep->queued++;
		else if (!rep->first_error)
			rep->first_error = n < 0 ? n : r.error;
	}
}

/*
 * In a child, as @uid with RLIMIT_MEMLOCK @memlock: open the device, submit
 * @nr PIN requests of @len bytes (all into one buffer: each pin counts),
 * report on @up, then hold everything until a byte comes on @down.
 */
static pid_t pin_user(uid_t uid, rlim_t memlock, size_t len, int nr, int up, int down)
{
	struct rlimit rl = { memlock, memlock };
	struct iso_report rep = { 0 };
	uint8_t *buf;
	pid_t pid = mg_fork();
	int fd;

	if (pid)
		return pid;
	if (setrlimit(RLIMIT_MEMLOCK, &rl) || mg_become(uid))
		rep.step = 1;
	fd = rep.step ? -1 : open(MG_DEV, O_RDWR);
	buf = mg_map(len, MAP_PRIVATE);
	if (!rep.step && (fd < 0 || !buf))
		rep.step = 2;
	if (!rep.step)
		iso_submit_n(fd, mg_req(MODEGATE_STRAT_PIN, buf, len, 0, LATENCY,
					MODEGATE_CPU_ANY, 0), nr, &rep);
	if (write(up, &rep, sizeof(rep)) != sizeof(rep))
		_exit(1);
	mg_read_byte_ms(down, -1);
	if (fd >= 0)
		mg_cancel(fd, 0, MODEGATE_CANCEL_ALL);
	_exit(0);
}

/*
 * RLIMIT_MEMLOCK of 256 KiB: four pins of 64 KiB fit, the fifth is
 * refused with -ENOMEM, as io_uring's buffer registration is.
 */
TEST_F_TIMEOUT(iso, pin_beyond_memlock_is_enomem, 60)
{
	struct iso_report rep;
	int up[2], down[2];

	ASSERT_EQ(0, pipe(up));
	ASSERT_EQ(0, pipe(down));
	self->kids[0] = pin_user(UID_A, 256 << 10, 64 << 10, 8, up[1], down[0]);
	ASSERT_LT(0, self->kids[0]);
	ASSERT_EQ(0, mg_read_full(up[0], &rep, sizeof(rep)));
	ASSERT_EQ(0, rep.step);
	ASSERT_EQ(1, write(down[1], "x", 1));
	ASSERT_EQ(0, mg_wait_child(self->kids[0]));
	self->kids[0] = 0;
	TH_LOG("memlock 256 KiB: %d pins of 64 KiB queued, then %d", rep.queued,
	       rep.first_error);
	EXPECT_EQ(4, rep.queued);
	EXPECT_EQ(-ENOMEM, rep.first_error);
	ASSERT_QUIESCENT();
}

/*
 * uid A (RLIMIT_MEMLOCK 8 MiB) asks for 64 pins of 1 MiB, the whole
 * device's budget: it gets 8, then -ENOMEM.  uid B still pins its 1 MiB.
 */
TEST_F_TIMEOUT(iso, one_users_pins_leave_room_for_another, 120)
{
	struct iso_report ra, rb;
	int up[2], down[2];

	ASSERT_EQ(0, pipe(up));
	ASSERT_EQ(0, pipe(down));
	self->kids[0] = pin_user(UID_A, 8 * MIB, MIB, 64, up[1], down[0]);
	ASSERT_LT(0, self->kids[0]);
	ASSERT_EQ(0, mg_read_full(up[0], &ra, sizeof(ra)));
	self->kids[1] = pin_user(UID_B, 8 * MIB, MIB, 1, up[1], down[0]);
	ASSERT_LT(0, self->kids[1]);
	ASSERT_EQ(0, mg_read_full(up[0], &rb, sizeof(rb)));
	ASSERT_EQ(2, write(down[1], "xx", 2));
	ASSERT_EQ(0, mg_wait_child(self->kids[0]));
	ASSERT_EQ(0, mg_wait_child(self->kids[1]));
	self->kids[0] = self->kids[1] = 0;
	ASSERT_EQ(0, ra.step);
	ASSERT_EQ(0, rb.step);
	TH_LOG("uid %d pinned %d MiB (then %d); uid %d pinned %d (then %d)", UID_A,
	       ra.queued, ra.first_error, UID_B, rb.queued, rb.first_error);
	EXPECT_EQ(8, ra.queued);
	EXPECT_EQ(-ENOMEM, ra.first_error);
	EXPECT_EQ(1, rb.queued) TH_LOG("uid %d's pin was refused", UID_B);
	ASSERT_QUIESCENT();
}

/* ---- Limits follow the opener ------------------------------------------- */

/* A file of the device opened by @uid (in a child), passed back here. */
static int open_as(uid_t uid)
{
	int sv[2], fd = -1;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		return -1;
	pid = mg_fork();
	if (pid == 0) {
		if (mg_become(uid))
			_exit(1);
		fd = open(MG_DEV, O_RDWR);
		_exit(fd < 0 || mg_send_fd(sv[1], fd, 0) ? 2 : 0);
	}
	if (pid > 0)
		fd = mg_recv_fd(sv[0], NULL);
	close(sv[0]);
	close(sv[1]);
	if (pid < 0 || mg_wait_child(pid)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* In a child, as @uid: submit @nr of @r into @fd (inherited); its report. */
static void submit_as(struct __test_metadata *_metadata, uid_t uid, int fd,
		      struct modegate_async_req r, int nr, struct iso_report *rep)
{
	int p[2];
	pid_t pid;

	ASSERT_EQ(0, pipe(p));
	pid = mg_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct iso_report mine = { 0 };
		uint8_t *buf = mg_map(r.len, MAP_PRIVATE);

		if (mg_become(uid) || !buf)
			mine.step = 1;
		r.buf = (uintptr_t)buf;
		if (!mine.step)
			iso_submit_n(fd, r, nr, &mine);
		_exit(write(p[1], &mine, sizeof(mine)) == sizeof(mine) ? 0 : 1);
	}
	ASSERT_EQ(0, mg_wait_child(pid));
	ASSERT_EQ(0, mg_read_full(p[0], rep, sizeof(*rep)));
	ASSERT_EQ(0, rep->step);
	close(p[0]);
	close(p[1]);
}

/*
 * A file opened by uid A, used by uid B until A's BUFFERED memory (64 MiB)
 * is full, then by uid C: C is refused too.  The file charges its opener,
 * whoever submits through it (a holder of the file that setuids into
 * subordinate uids of a user namespace gets no new budget).
 */
TEST_F_TIMEOUT(iso, buffered_cap_is_the_openers_whatever_the_uid, 120)
{
	const int per_user = (64 << 20) / self->cap;
	struct modegate_async_req r = mg_req(MODEGATE_STRAT_BUFFERED, NULL, self->cap, 0,
					     LATENCY, MODEGATE_CPU_ANY, 0);
	struct iso_report rb, rc;
	int fd = open_as(UID_A);

	ASSERT_LE(0, fd);
	submit_as(_metadata, UID_B, fd, r, per_user + 1, &rb);
	submit_as(_metadata, UID_C, fd, r, 1, &rc);
	TH_LOG("uid %d's file: uid %d queued %d (then %d), uid %d queued %d (then %d)",
	       UID_A, UID_B, rb.queued, rb.first_error, UID_C, rc.queued, rc.first_error);
	EXPECT_EQ(per_user, rb.queued);
	EXPECT_EQ(-EAGAIN, rb.first_error);
	EXPECT_EQ(0, rc.queued) TH_LOG("a new uid got a new BUFFERED budget");
	EXPECT_EQ(-EAGAIN, rc.first_error);
	mg_cancel(fd, 0, MODEGATE_CANCEL_ALL);
	close(fd);
	ASSERT_QUIESCENT();
}

/*
 * max_inflight_user=4: uid A's two files, used by uid B (four requests),
 * then by uid C on the other file: C is over A's limit.
 */
TEST_F_TIMEOUT(iso, request_limit_is_the_openers_whatever_the_uid, 60)
{
	struct modegate_async_req r = mg_req(MODEGATE_STRAT_ADOPT_MM, NULL, 64, 0,
					     LATENCY, MODEGATE_CPU_ANY, 0);
	struct iso_report rb, rc;
	int fd1, fd2;

	close(self->fd);
	self->fd = -1;
	ASSERT_EQ(0, mg_reload("max_inflight_user=4"));
	ASSERT_EQ(0, chmod(MG_DEV, 0666));
	fd1 = open_as(UID_A);
	fd2 = open_as(UID_A);
	ASSERT_LE(0, fd1);
	ASSERT_LE(0, fd2);
	submit_as(_metadata, UID_B, fd1, r, 5, &rb);
	submit_as(_metadata, UID_C, fd2, r, 1, &rc);
	TH_LOG("uid %d's files: uid %d queued %d (then %d), uid %d queued %d (then %d)",
	       UID_A, UID_B, rb.queued, rb.first_error, UID_C, rc.queued, rc.first_error);
	EXPECT_EQ(4, rb.queued);
	EXPECT_EQ(-EAGAIN, rb.first_error);
	EXPECT_EQ(0, rc.queued) TH_LOG("a new uid got a new request budget");
	mg_cancel(fd1, 0, MODEGATE_CANCEL_ALL);
	mg_cancel(fd2, 0, MODEGATE_CANCEL_ALL);
	close(fd1);
	close(fd2);
	ASSERT_QUIESCENT();
	ASSERT_EQ(0, mg_reload(NULL));
}

/* ---- Waits -------------------------------------------------------------- */

/* voluntary_ctxt_switches of the thread @tid of this process, or -1. */
static long iso_nvcsw(pid_t tid)
{
	char path[64], status[4096], *p;

	snprintf(path, sizeof(path), "/proc/self/task/%d/status", tid);
	if (mg_read_text(path, status, sizeof(status)) <= 0)
		return -1;
	p = strstr(status, "\nvoluntary_ctxt_switches:");
	return p ? strtol(p + sizeof("\nvoluntary_ctxt_switches:") - 1, NULL, 10) : -1;
}

struct iso_waiter {
	int fd;
	__u64 timeout_ns;
	volatile pid_t tid;
	int ret;
	__u32 ready;
	uint64_t slept_ns;
};

static void *iso_waiter_main(void *p)
{
	struct iso_waiter *w = p;
	uint64_t t0 = mg_now();

	w->tid = mg_gettid();
	w->ret = mg_wait(w->fd, 1, w->timeout_ns, &w->ready);
	w->slept_ns = mg_now() - t0;
	return NULL;
}

/* Start a thread waiting for one completion on @w->fd; 0 once it sleeps. */
static int iso_waiter_start(pthread_t *t, struct iso_waiter *w)
{
	uint64_t until = mg_now() + MG_WAIT_NS;

	if (pthread_create(t, NULL, iso_waiter_main, w))
		return -1;
	while (!w->tid || !mg_sleeping(w->tid))
		if (mg_now() > until)
			return -1;
	return 0;
}

/*
 * Another process's BUFFERED completion, which the waiter cannot see, is
 * on the ring as the waiter starts; that process reaps it; then the
 * waiter's own completion is posted.  The waiter is woken by it.
 */
TEST_F_TIMEOUT(iso, wait_wakes_after_another_process_reaped_what_it_could_not_see, 60)
{
	struct iso_waiter w = { .fd = self->fd, .timeout_ns = MG_WAIT_NS };
	struct modegate_async_completion c;
	struct modegate_async_req r;
	int up[2], down[2];
	uint8_t buf[64], theirs_buf[64];
	struct timespec ts;
	pthread_t t;
	pid_t pid;

	ASSERT_EQ(0, pipe(up));
	ASSERT_EQ(0, pipe(down));
	pid = mg_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		r = mg_req(MODEGATE_STRAT_BUFFERED, theirs_buf, sizeof(theirs_buf), 0, 0,
			   MODEGATE_CPU_ANY, 1);
		if (mg_submit(self->fd, &r, 1) != 1 || mg_wait(self->fd, 1, MG_WAIT_NS, NULL))
			_exit(1);
		if (write(up[1], "p", 1) != 1 || mg_read_byte_ms(down[0], -1))
			_exit(2);
		if (mg_reap(self->fd, &c, 1) != 1 || write(up[1], "r", 1) != 1)
			_exit(3);
		/* Alive until the end: its exit would wake every waiter. */
		mg_read_byte_ms(down[0], -1);
		_exit(0);
	}
	self->kids[0] = pid;
	ASSERT_EQ(0, mg_read_byte_ms(up[0], MG_WAIT_NS / MG_MSEC));
	ASSERT_EQ(0, iso_waiter_start(&t, &w)) TH_LOG("the waiter never slept");
	ASSERT_EQ(1, write(down[1], "g", 1));
	ASSERT_EQ(0, mg_read_byte_ms(up[0], MG_WAIT_NS / MG_MSEC));
	/* The other process's completion is gone: only ours is left to come. */
	r = mg_req(MODEGATE_STRAT_ADOPT_MM, buf, sizeof(buf), 0, 0, MODEGATE_CPU_ANY, 2);
	ASSERT_EQ(1, mg_submit(self->fd, &r, 1));
	/*
	 * A bound, not a timing: woken, it returns at once; if not, its
	 * timer ends the sleep (and it finds its completion then).
	 */
	ASSERT_EQ(0, clock_gettime(CLOCK_REALTIME, &ts));
	ts.tv_sec += 2 * MG_WAIT_NS / MG_NSEC;
	ASSERT_EQ(0, pthread_timedjoin_np(t, NULL, &ts));
	TH_LOG("the waiter slept %llu ms", (unsigned long long)(w.slept_ns / MG_MSEC));
	EXPECT_EQ(0, w.ret);
	EXPECT_EQ(1, w.ready);
	EXPECT_GT(w.timeout_ns, w.slept_ns) TH_LOG("the waiter slept through its own completion");
	ASSERT_EQ(1, write(down[1], "x", 1));
	ASSERT_EQ(0, mg_wait_child(pid));
	self->kids[0] = 0;
	ASSERT_EQ(1, mg_collect(self->fd, &c, 1));
	ASSERT_EQ(2, c.user_data);
	ASSERT_QUIESCENT();
}

/*
 * A 1 s wait, stopped and continued every 300 ms: each restart takes up
 * the same deadline, and the wait ends with -ETIMEDOUT.  Without one, the
 * wait would never end; 30 rounds (9 s) stand for never.
 */
TEST_F_TIMEOUT(iso, stops_and_continues_do_not_extend_a_timeout, 60)
{
	int rounds, status, ret;
	pid_t pid = mg_fork();

	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(mg_wait(self->fd, 1, MG_NSEC, NULL) == -ETIMEDOUT ? 0 : 2);
	self->kids[0] = pid;
	for (rounds = 0; rounds < 30; rounds++) {
		ret = mg_wait_child_ms(pid, 300);
		if (ret != -2)
			break;
		ASSERT_EQ(0, kill(pid, SIGSTOP));
		ASSERT_EQ(pid, waitpid(pid, &status, WUNTRACED));
		ASSERT_EQ(0, kill(pid, SIGCONT));
	}
	TH_LOG("the wait ended after %d stop/continue rounds", rounds);
	ASSERT_GT(30, rounds) TH_LOG("a 1 s wait outlived 30 rounds of 300 ms");
	self->kids[0] = 0;
	EXPECT_EQ(0, ret) TH_LOG("the wait did not end with -ETIMEDOUT");
}

/*
 * A process with a BUFFERED completion on one file exits: a waiter on
 * another file, which holds nothing of it, is not woken.  (The waiter is
 * seen asleep before and after; a wake-up shows as one more voluntary
 * context switch.)
 */
TEST_F_TIMEOUT(iso, an_exit_wakes_only_the_files_holding_its_completions, 60)
{
	struct iso_waiter w = { .timeout_ns = MG_WAIT_NS };
	struct modegate_async_completion c;
	struct modegate_async_req r;
	long before, after;
	uint8_t buf[64];
	uint64_t until;
	pthread_t t;
	pid_t pid;

	w.fd = open(MG_DEV, O_RDWR);
	ASSERT_LE(0, w.fd);
	ASSERT_EQ(0, iso_waiter_start(&t, &w)) TH_LOG("the waiter never slept");
	before = iso_nvcsw(w.tid);
	ASSERT_LT(0, before);

	pid = mg_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		r = mg_req(MODEGATE_STRAT_BUFFERED, buf, sizeof(buf), 0, 0,
			   MODEGATE_CPU_ANY, 1);
		if (mg_submit(self->fd, &r, 1) != 1 || mg_wait(self->fd, 1, MG_WAIT_NS, NULL))
			_exit(1);
		_exit(0);	/* its completion left on the ring, unreaped */
	}
	ASSERT_EQ(0, mg_wait_child(pid));
	/* Any wake-up made the waiter runnable before the exit ended. */
	until = mg_now() + MG_WAIT_NS;
	while (!mg_sleeping(w.tid))
		ASSERT_GT(until, mg_now());
	after = iso_nvcsw(w.tid);

	r = mg_req(MODEGATE_STRAT_ADOPT_MM, buf, sizeof(buf), 0, 0, MODEGATE_CPU_ANY, 2);
	ASSERT_EQ(1, mg_submit(w.fd, &r, 1));
	ASSERT_EQ(0, pthread_join(t, NULL));
	ASSERT_EQ(0, w.ret);
	EXPECT_EQ(before, after) TH_LOG("the waiter on an unrelated file was woken");
	ASSERT_EQ(1, mg_collect(w.fd, &c, 1));
	ASSERT_EQ(1, mg_collect(self->fd, &c, 1));
	ASSERT_EQ(-ESRCH, c.result);
	close(w.fd);
	ASSERT_QUIESCENT();
}

/* ---- page_id, hugetlb ----------------------------------------------------- */

static int va_id(int fd, void *p, __u64 *id)
{
	struct modegate_va_page pg = { 0 };
	struct modegate_va_translate va = {
		.addr = MG_PTR(p), .nr_pages = 1, .pages = MG_PTR(&pg),
	};

	if (ioctl(fd, MODEGATE_IOC_VA_TRANSLATE, &va) || va.nr_done != 1)
		return -1;
	*id = pg.page_id;
	return 0;
}

/*
 * page_id is keyed per open file: the same page has the same id through
 * one file (and its dups and forks), another through another file -- no
 * identity of frames to compare across processes that do not share one.
 */
TEST_F(iso, page_id_is_keyed_per_open_file)
{
	uint8_t *p = mg_map(self->page, MAP_PRIVATE);
	__u64 a1, a2, b, dup_id;
	int fd2 = open(MG_DEV, O_RDWR), fd3 = dup(self->fd);

	ASSERT_NE(NULL, p);
	ASSERT_LE(0, fd2);
	ASSERT_LE(0, fd3);
	p[0] = 1;
	ASSERT_EQ(0, va_id(self->fd, p, &a1));
	ASSERT_EQ(0, va_id(self->fd, p, &a2));
	ASSERT_EQ(0, va_id(fd3, p, &dup_id));
	ASSERT_EQ(0, va_id(fd2, p, &b));
	ASSERT_NE(0, a1);
	EXPECT_EQ(a1, a2);
	EXPECT_EQ(a1, dup_id);
	EXPECT_NE(0, b);
	EXPECT_NE(a1, b) TH_LOG("two open files give one page the same id");
	close(fd2);
	close(fd3);
	munmap(p, self->page);
}

/* PIN into a hugetlb memfd: pinned and delivered like any memfd. */
TEST_F_TIMEOUT(iso, pin_into_a_hugetlb_memfd, 60)
{
	struct modegate_async_completion c;
	struct modegate_async_req r;
	const size_t huge = 2 * MIB;
	char text[32];
	uint8_t *p;
	int mfd;

	if (mg_read_text("/proc/sys/vm/nr_hugepages", text, sizeof(text)) <= 0)
		SKIP(return, "a kernel without hugetlbfs");
	self->hugepages = strtol(text, NULL, 10);
	if (write_long("/proc/sys/vm/nr_hugepages", self->hugepages + 1))
		SKIP(return, "cannot reserve a huge page");
	mfd = memfd_create("mg-huge", MFD_HUGETLB);
	if (mfd < 0)
		SKIP(return, "no hugetlb memfd: %s", strerror(errno));
	if (ftruncate(mfd, huge))
		SKIP(return, "no huge page free: %s", strerror(errno));
	p = mmap(NULL, huge, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	if (p == MAP_FAILED)
		SKIP(return, "cannot map the huge page: %s", strerror(errno));
	memset(p, 0, huge);
	r = mg_req(MODEGATE_STRAT_PIN, p + 4096 - 8, 64, 100, 0, MODEGATE_CPU_ANY, 7);
	ASSERT_EQ(1, mg_submit(self->fd, &r, 1)) TH_LOG("PIN refused: %d", r.error);
	ASSERT_EQ(1, mg_collect(self->fd, &c, 1));
	ASSERT_EQ(64, c.result);
	ASSERT_EQ(MODEGATE_DELIVER_KMAP, c.delivered_by);
	ASSERT_TRUE(mg_match(p + 4096 - 8, 100, 64));
	munmap(p, huge);
	close(mfd);
	ASSERT_QUIESCENT();
}

TEST_HARNESS_MAIN
