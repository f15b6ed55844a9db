// SPDX-License-Identifier: GPL-2.0
/*
 * A delivery never waits on another task's user-space stall.
 *
 * The stall is a FUSE filesystem whose daemon never answers a READ: a
 * minimal responder on a raw /dev/fuse, a child of the test, that answers
 * INIT, LOOKUP, GETATTR and OPEN for one file and tells the test of every
 * READ it leaves unanswered.  Through it:
 *
 *  - a buffer in a mapping of that file is not faulted in by a delivery:
 *    ADOPT_MM and REMOTE complete with -EAGAIN and the daemon is never
 *    asked to read;
 *  - a thread of the submitting process stuck in a fault on the file while
 *    holding its mmap lock for reading, with another thread's munmap()
 *    queued behind it for writing, holds up no delivery: ADOPT_MM into a
 *    present page delivers its bytes (it needs no lock), ADOPT_MM into a
 *    page it would have to fault in and REMOTE (which pins under the lock)
 *    complete with -EAGAIN, and close() of the file returns with
 *    deliveries in flight.
 *
 * The stuck fault is a read of /proc/self/mem: such a GUP holds the mmap
 * lock across the fault, as ptrace, process_vm_readv's callers and the
 * /proc/PID readers of another process's memory do, where a page fault of
 * the thread itself would drop it while the filesystem reads.
 *
 * Every wait is bounded.  A failing test is unstuck by its teardown, which
 * kills the daemon: the connection aborts, the stuck fault fails, the
 * queued munmap() runs, and a delivery parked behind them goes on.
 */
#include <pthread.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/uio.h>
#include <libkmod.h>
#include <linux/fuse.h>

#include "async_test.h"
#include "kselftest_harness.h"

#define FILE_NAME	"stalls"
#define FILE_INO	2
#define FILE_PAGES	4
/* Bound on every wait of these tests: generous under TCG on a busy host. */
#define BOUND_MS	10000
#define LEN		64

/* ---- The daemon ---------------------------------------------------------- */

/* The daemon's buffer: a request and its payload. */
#define DAEMON_BUF	(FUSE_MIN_READ_BUFFER + 64 * 1024)

static void daemon_attr(struct fuse_attr *a, uint64_t ino, size_t page)
{
	memset(a, 0, sizeof(*a));
	a->ino = ino;
	a->blksize = page;
	if (ino == FUSE_ROOT_ID) {
		a->mode = S_IFDIR | 0755;
		a->nlink = 2;
	} else {
		a->mode = S_IFREG | 0666;
		a->nlink = 1;
		a->size = FILE_PAGES * page;
		a->blocks = a->size / 512;
	}
}

static int daemon_reply(int dev, uint64_t unique, int error, const void *arg, size_t len)
{
	struct fuse_out_header h = {
		.len = sizeof(h) + len, .error = error, .unique = unique,
	};
	struct iovec iov[2] = {
		{ .iov_base = &h, .iov_len = sizeof(h) },
		{ .iov_base = (void *)arg, .iov_len = len },
	};

	return writev(dev, iov, len ? 2 : 1) == (ssize_t)h.len ? 0 : -1;
}

/*
 * Serve @dev until the connection ends (or the test kills the daemon).
 * Every READ is left unanswered, and reported with a byte on @reads.
 */
static int daemon_run(int dev, int reads, size_t page)
{
	static uint8_t buf[DAEMON_BUF];
	struct fuse_in_header *in = (void *)buf;
	void *arg = buf + sizeof(*in);
	union {
		struct fuse_init_out init;
		struct fuse_entry_out entry;
		struct fuse_attr_out attr;
		struct fuse_open_out open;
	} out;
	ssize_t n;

	for (;;) {
		n = read(dev, buf, sizeof(buf));
		if (n < 0 && (errno == EINTR || errno == ENOENT))
			continue;	/* a request interrupted before it was read */
		if (n < (ssize_t)sizeof(*in))
			return n < 0 && errno == ENODEV ? 0 : 1;
		memset(&out, 0, sizeof(out));
		switch (in->opcode) {
		case FUSE_INIT: {
			struct fuse_init_in *i = arg;

			/* No readahead, no async read: one page per READ. */
			out.init.major = FUSE_KERNEL_VERSION;
			out.init.minor = i->minor < FUSE_KERNEL_MINOR_VERSION ?
					 i->minor : FUSE_KERNEL_MINOR_VERSION;
			out.init.max_background = 16;
			out.init.congestion_threshold = 12;
			out.init.max_write = page;
			out.init.time_gran = 1;
			daemon_reply(dev, in->unique, 0, &out.init, sizeof(out.init));
			break;
		}
		case FUSE_LOOKUP:
			if (in->nodeid != FUSE_ROOT_ID || strcmp(arg, FILE_NAME)) {
				daemon_reply(dev, in->unique, -ENOENT, NULL, 0);
				break;
			}
			out.entry.nodeid = FILE_INO;
			out.entry.generation = 1;
			out.entry.entry_valid = 3600;
			out.entry.attr_valid = 3600;
			daemon_attr(&out.entry.attr, FILE_INO, page);
			daemon_reply(dev, in->unique, 0, &out.entry, sizeof(out.entry));
			break;
		case FUSE_GETATTR:
			out.attr.attr_valid = 3600;
			daemon_attr(&out.attr.attr, in->nodeid, page);
			daemon_reply(dev, in->unique, 0, &out.attr, sizeof(out.attr));
			break;
		case FUSE_OPEN:
			out.open.fh = 1;
			daemon_reply(dev, in->unique, 0, &out.open, sizeof(out.open));
			break;
		case FUSE_READ:
			/* The stall: never answered. */
			if (write(reads, "r", 1) != 1)
				return 2;
			break;
		case FUSE_FLUSH:
		case FUSE_RELEASE:
		case FUSE_FSYNC:
			daemon_reply(dev, in->unique, 0, NULL, 0);
			break;
		case FUSE_FORGET:
		case FUSE_BATCH_FORGET:
		case FUSE_INTERRUPT:
			break;	/* no reply */
		default:
			daemon_reply(dev, in->unique, -ENOSYS, NULL, 0);
			break;
		}
	}
}

/* /dev/fuse, loading the fuse module the modprobe way if need be. */
static int open_fuse_dev(void)
{
	struct kmod_module *mod;
	struct kmod_ctx *ctx;

	if (access("/dev/fuse", F_OK)) {
		ctx = kmod_new(NULL, NULL);
		if (ctx && !kmod_module_new_from_name(ctx, "fuse", &mod)) {
			kmod_module_probe_insert_module(mod, 0, NULL, NULL, NULL, NULL);
			kmod_module_unref(mod);
		}
		kmod_unref(ctx);
	}
	return open("/dev/fuse", O_RDWR | O_CLOEXEC);
}

/* ---- Threads of the stalled process -------------------------------------- */

/*
 * A thread is created before the stall (pthread_create() maps its stack:
 * that takes the mmap lock) and waits for its go, a byte on @go; without
 * one (the test ended early) it does nothing.  Once its call returned it
 * says so with a byte on @done: its exit may wait for the stall (glibc
 * gives the stack back with madvise(), which takes the mmap lock).
 */
struct stall_thread {
	pthread_t thread;
	bool started;
	volatile pid_t tid;
	int go[2];
	int done[2];
	void *addr;		/* reader: the FUSE page; writer: what it unmaps */
	size_t len;
	int fd;			/* reader: /proc/self/mem; closer: what it closes */
	ssize_t ret;
};

static bool stall_thread_go(struct stall_thread *t)
{
	char c;

	t->tid = mg_gettid();
	return read(t->go[0], &c, 1) == 1;
}

static void *stall_thread_done(struct stall_thread *t)
{
	if (write(t->done[1], "d", 1) != 1)
		t->ret = -2;
	return NULL;
}

/* Fault the FUSE page in through /proc/self/mem: stuck in the READ. */
static void *reader_thread(void *p)
{
	struct stall_thread *t = p;
	char c;

	if (stall_thread_go(t))
		t->ret = pread(t->fd, &c, 1, (off_t)(uintptr_t)t->addr);
	return stall_thread_done(t);
}

/* munmap(): the mmap lock for writing, queued behind the reader. */
static void *writer_thread(void *p)
{
	struct stall_thread *t = p;

	if (stall_thread_go(t))
		t->ret = munmap(t->addr, t->len);
	return stall_thread_done(t);
}

/* close() of a file of the device, in a thread: the test bounds its wait. */
static void *closer_thread(void *p)
{
	struct stall_thread *t = p;

	if (stall_thread_go(t))
		t->ret = close(t->fd);
	return stall_thread_done(t);
}

static int stall_thread_start(struct stall_thread *t, void *(*fn)(void *))
{
	if (pipe2(t->go, O_CLOEXEC) || pipe2(t->done, O_CLOEXEC))
		return -1;
	if (pthread_create(&t->thread, NULL, fn, t))
		return -1;
	t->started = true;
	return 0;
}

static int stall_thread_go_now(struct stall_thread *t)
{
	return write(t->go[1], "g", 1) == 1 ? 0 : -1;
}

/* Let it run (or end, without a go) and join it. */
static void stall_thread_end(struct stall_thread *t)
{
	if (!t->started)
		return;
	close(t->go[1]);
	pthread_join(t->thread, NULL);
	close(t->go[0]);
	close(t->done[0]);
	close(t->done[1]);
	t->started = false;
}

/* ---- The fixture --------------------------------------------------------- */

FIXTURE(fuse) {
	int fd;			/* /dev/modegate */
	size_t page;
	bool have_fuse;
	char mnt[64];
	bool mounted;
	pid_t daemon;
	int reads;		/* a byte per READ the daemon left unanswered */
	int file;		/* the daemon's one file, O_RDWR */
	struct stall_thread reader, writer, closer;
};

FIXTURE_SETUP(fuse)
{
	char opts[128], path[128];
	int dev, p[2];

	self->fd = -1;
	self->file = -1;
	self->reads = -1;
	self->reader.fd = -1;
	self->page = mg_page_size();
	ASSERT_EQ(0, mg_ensure_default());

	/* A mount namespace of the test's own: the mount goes with it. */
	ASSERT_EQ(0, unshare(CLONE_NEWNS));
	ASSERT_EQ(0, mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
	dev = open_fuse_dev();
	if (dev < 0)
		return;		/* each test skips: no FUSE in this kernel */
	self->have_fuse = true;
	strcpy(self->mnt, "/tmp/mgfuse.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->mnt));
	snprintf(opts, sizeof(opts), "fd=%d,rootmode=40000,user_id=0,group_id=0", dev);
	ASSERT_EQ(0, mount("mgfuse", self->mnt, "fuse", MS_NOSUID | MS_NODEV, opts))
		TH_LOG("mount fuse: %s", strerror(errno));
	self->mounted = true;

	/* The daemon holds the only /dev/fuse fd: killing it aborts the connection. */
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	self->daemon = mg_fork();
	ASSERT_LE(0, self->daemon);
	if (self->daemon == 0) {
		close(p[0]);
		_exit(daemon_run(dev, p[1], self->page));
	}
	close(dev);
	close(p[1]);
	self->reads = p[0];

	snprintf(path, sizeof(path), "%s/" FILE_NAME, self->mnt);
	self->file = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->file) TH_LOG("open %s: %s", path, strerror(errno));
	/* Opened after the fork: the daemon holds no reference to it. */
	self->fd = open(MG_DEV, O_RDWR);
	ASSERT_LE(0, self->fd);
	ASSERT_NE(0, mg_fill_store(self->fd));
	self->reader.fd = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, self->reader.fd);
	/*
	 * The vDSO's data pages are mapped at the first clock read, by a
	 * fault: before any stall, or that read waits behind the munmap().
	 */
	mg_now();
}

FIXTURE_TEARDOWN(fuse)
{
	/* The daemon first: its death ends every stall, then nothing waits. */
	if (self->daemon > 0) {
		kill(self->daemon, SIGKILL);
		waitpid(self->daemon, NULL, 0);
	}
	stall_thread_end(&self->reader);
	stall_thread_end(&self->writer);
	stall_thread_end(&self->closer);
	if (self->fd >= 0)
		close(self->fd);
	if (self->file >= 0)
		close(self->file);
	if (self->reader.fd >= 0)
		close(self->reader.fd);
	if (self->reads >= 0)
		close(self->reads);
	if (self->mounted)
		umount2(self->mnt, MNT_DETACH);
	if (self->mnt[0])
		rmdir(self->mnt);
}

#define NEED_FUSE() do {						\
	if (!self->have_fuse)						\
		SKIP(return, "no FUSE in this kernel (CONFIG_FUSE_FS)");	\
} while (0)

/*
 * Stall the mmap lock of this process: the reader faults page 0 of the
 * FUSE file in through /proc/self/mem and is stuck in the READ with the
 * lock held for reading; the writer's munmap() of @victim waits behind it
 * for writing, and from then on every mmap_read_lock() waits behind the
 * writer.  So nothing this thread does from here on may take the lock:
 * what it touches is present (mlockall() before, no allocation after), and
 * the threads it needs (@closer too, when not NULL) exist already.
 */
static void stall_mmap_lock(struct __test_metadata *_metadata,
			    FIXTURE_DATA(fuse) *self, void *victim,
			    struct stall_thread *closer)
{
	uint64_t until;

	self->reader.addr = mmap(NULL, self->page, PROT_READ, MAP_SHARED, self->file, 0);
	ASSERT_NE(MAP_FAILED, self->reader.addr);
	self->writer.addr = victim;
	self->writer.len = self->page;
	ASSERT_EQ(0, stall_thread_start(&self->reader, reader_thread));
	ASSERT_EQ(0, stall_thread_start(&self->writer, writer_thread));
	if (closer)
		ASSERT_EQ(0, stall_thread_start(closer, closer_thread));
	ASSERT_EQ(0, stall_thread_go_now(&self->reader));
	ASSERT_EQ(0, mg_read_byte_ms(self->reads, BOUND_MS))
		TH_LOG("the fault on the FUSE page never reached the daemon");
	ASSERT_EQ(0, stall_thread_go_now(&self->writer));
	until = mg_now() + BOUND_MS * MG_MSEC;
	while (mg_task_state(self->writer.tid) != 'D') {
		ASSERT_GT(until, mg_now()) TH_LOG("munmap() never queued on the mmap lock");
		sched_yield();
	}
}

/* Wait (bounded) for @nr completions of @fd and reap them, by user_data. */
static void collect(struct __test_metadata *_metadata, int fd,
		    struct modegate_async_completion *by_id, int nr)
{
	struct modegate_async_completion c[8];
	int i, n, ret;

	ret = mg_wait(fd, nr, BOUND_MS * MG_MSEC, NULL);
	ASSERT_EQ(0, ret) TH_LOG("%d deliveries did not complete in %d ms: %s",
				 nr, BOUND_MS, strerror(-ret));
	n = mg_reap(fd, c, nr);
	ASSERT_EQ(nr, n);
	for (i = 0; i < n; i++) {
		ASSERT_GT(nr, c[i].user_data);
		by_id[c[i].user_data] = c[i];
	}
}

/*
 * A buffer in a mapping of a FUSE file, shared or private, whose pages
 * are not in memory: a delivery does not fault it in (that would wait on
 * the daemon), it completes with -EAGAIN, and the daemon sees no READ.
 */
TEST_F_TIMEOUT(fuse, a_buffer_in_a_fuse_mapping_is_not_faulted_in, 60)
{
	struct modegate_async_completion c[4];
	struct modegate_async_req r[4];
	uint8_t *shared, *private;
	struct pollfd pfd;
	int i;

	NEED_FUSE();
	shared = mmap(NULL, FILE_PAGES * self->page, PROT_READ | PROT_WRITE,
		      MAP_SHARED, self->file, 0);
	ASSERT_NE(MAP_FAILED, shared);
	private = mmap(NULL, FILE_PAGES * self->page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE, self->file, 0);
	ASSERT_NE(MAP_FAILED, private);
	r[0] = mg_req(MODEGATE_STRAT_ADOPT_MM, shared + self->page, LEN, 0, 0, MODEGATE_CPU_ANY, 0);
	r[1] = mg_req(MODEGATE_STRAT_REMOTE, shared + 2 * self->page, LEN, 0, 0, MODEGATE_CPU_ANY, 1);
	r[2] = mg_req(MODEGATE_STRAT_ADOPT_MM, private + self->page, LEN, 0, 0, MODEGATE_CPU_ANY, 2);
	r[3] = mg_req(MODEGATE_STRAT_REMOTE, private + 2 * self->page, LEN, 0, 0, MODEGATE_CPU_ANY, 3);
	ASSERT_EQ(4, mg_submit(self->fd, r, 4));
	collect(_metadata, self->fd, c, 4);
	for (i = 0; i < 4; i++) {
		/*
		 * REMOTE into a shared file mapping is refused outright:
		 * dirtying the page through its pin would take the page lock,
		 * which FUSE may hold while it waits on its daemon.
		 */
		EXPECT_EQ(i == 1 ? -EOPNOTSUPP : -EAGAIN, c[i].result)
			TH_LOG("request %d (%s mapping, strategy %u): %lld", i,
			       i < 2 ? "shared" : "private", c[i].strategy,
			       (long long)c[i].result);
	}
	pfd = (struct pollfd){ .fd = self->reads, .events = POLLIN };
	EXPECT_EQ(0, poll(&pfd, 1, 0)) TH_LOG("a delivery asked the daemon for a READ");
	ASSERT_QUIESCENT();
}

/*
 * A thread stuck in a FUSE fault with the mmap lock held, a munmap()
 * queued behind it: ADOPT_MM into a present page delivers (no lock
 * needed); ADOPT_MM into a page to fault in, and REMOTE, which pins under
 * the lock, end with -EAGAIN in bounded time instead of waiting behind the
 * munmap() for as long as the daemon stalls.
 */
TEST_F_TIMEOUT(fuse, deliveries_do_not_wait_behind_a_stalled_mmap_lock, 90)
{
	struct modegate_async_completion c[4];
	struct modegate_async_req r[4];
	uint8_t *present, *fresh, *victim;

	NEED_FUSE();
	present = mg_map(2 * self->page, MAP_PRIVATE);
	ASSERT_NE(NULL, present);
	memset(present, 0, 2 * self->page);
	ASSERT_EQ(0, mlockall(MCL_CURRENT));	/* no fault of this thread waits */
	fresh = mg_map(2 * self->page, MAP_PRIVATE);	/* never touched */
	ASSERT_NE(NULL, fresh);
	victim = mg_map(self->page, MAP_PRIVATE);
	ASSERT_NE(NULL, victim);
	stall_mmap_lock(_metadata, self, victim, NULL);

	r[0] = mg_req(MODEGATE_STRAT_ADOPT_MM, present, LEN, 100, 0, MODEGATE_CPU_ANY, 0);
	r[1] = mg_req(MODEGATE_STRAT_ADOPT_MM, fresh, LEN, 200, 0, MODEGATE_CPU_ANY, 1);
	r[2] = mg_req(MODEGATE_STRAT_REMOTE, present + self->page, LEN, 300, 0,
		      MODEGATE_CPU_ANY, 2);
	r[3] = mg_req(MODEGATE_STRAT_REMOTE, fresh + self->page, LEN, 400, 0,
		      MODEGATE_CPU_ANY, 3);
	ASSERT_EQ(4, mg_submit(self->fd, r, 4));
	collect(_metadata, self->fd, c, 4);
	EXPECT_EQ(LEN, c[0].result);
	EXPECT_TRUE(mg_match(present, 100, LEN));
	EXPECT_EQ(MODEGATE_DELIVER_WORKER, c[0].delivered_by);
	EXPECT_EQ(-EAGAIN, c[1].result);
	EXPECT_EQ(-EAGAIN, c[2].result);
	EXPECT_EQ(-EAGAIN, c[3].result);
	EXPECT_TRUE(mg_all(present + self->page, 0, LEN));
	/* The stall held the whole time: the munmap() is still queued. */
	EXPECT_EQ('D', mg_task_state(self->writer.tid));
	ASSERT_QUIESCENT();
}

/*
 * close() of a file with deliveries in flight, while the mmap lock is
 * stalled: release waits for the deliveries, which do not wait for the
 * lock, so close() returns in bounded time.
 */
TEST_F_TIMEOUT(fuse, close_does_not_wait_behind_a_stalled_mmap_lock, 90)
{
	struct modegate_async_req r[16];
	uint8_t *fresh, *victim;
	int i, fd;

	NEED_FUSE();
	fd = open(MG_DEV, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, mlockall(MCL_CURRENT));
	fresh = mg_map(16 * self->page, MAP_PRIVATE);
	ASSERT_NE(NULL, fresh);
	victim = mg_map(self->page, MAP_PRIVATE);
	ASSERT_NE(NULL, victim);
	self->closer.fd = fd;
	stall_mmap_lock(_metadata, self, victim, &self->closer);

	for (i = 0; i < 16; i++)
		r[i] = mg_req(i % 2 ? MODEGATE_STRAT_REMOTE : MODEGATE_STRAT_ADOPT_MM,
			      fresh + i * self->page, LEN, i, 0, MODEGATE_CPU_ANY, i);
	ASSERT_EQ(16, mg_submit(fd, r, 16));
	ASSERT_EQ(0, stall_thread_go_now(&self->closer));
	ASSERT_EQ(0, mg_read_byte_ms(self->closer.done[0], BOUND_MS))
		TH_LOG("close() still waited %d ms for deliveries behind the stalled mmap lock",
		       BOUND_MS);
	ASSERT_EQ(0, self->closer.ret);
	EXPECT_EQ('D', mg_task_state(self->writer.tid));
	ASSERT_QUIESCENT();
}

TEST_HARNESS_MAIN
