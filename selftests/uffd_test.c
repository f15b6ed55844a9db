// SPDX-License-Identifier: GPL-2.0
/*
 * No lock is held while user memory is touched: a read or write whose user
 * buffer is stalled by userfaultfd must not block anybody else's use of
 * the device, and a stalled write commits nothing until its bytes arrive.
 */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/userfaultfd.h>

#include "modegate_test.h"
#include "kselftest_harness.h"

#define WAIT_MS	10000	/* generous bound for "did not block" under TCG */

FIXTURE(uffd) {
	int fd;
	int uffd;
	char *area;
	size_t page;
};

FIXTURE_SETUP(uffd)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { 0 };
	char buf[256];

	ASSERT_EQ(0, mg_ensure_default());
	self->page = mg_page_size();
	self->fd = open(MG_DEV, O_RDWR | O_TRUNC);
	ASSERT_LE(0, self->fd);
	mg_pattern(buf, sizeof(buf), 1);
	ASSERT_EQ(sizeof(buf), pwrite(self->fd, buf, sizeof(buf), 0));

	/* Root may take kernel-mode faults: no UFFD_USER_MODE_ONLY. */
	self->uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	ASSERT_LE(0, self->uffd) TH_LOG("userfaultfd: %s", strerror(errno));
	ASSERT_EQ(0, ioctl(self->uffd, UFFDIO_API, &api));
	self->area = mmap(NULL, self->page, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->area);
	reg.range.start = MG_PTR(self->area);
	reg.range.len = self->page;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	ASSERT_EQ(0, ioctl(self->uffd, UFFDIO_REGISTER, &reg));
}

FIXTURE_TEARDOWN(uffd)
{
	close(self->uffd);
	munmap(self->area, self->page);
	close(self->fd);
}

struct stalled_io {
	int fd;
	bool write;
	void *buf;
	size_t len;
	off_t off;
	ssize_t ret;
	int err;
};

static void *stalled_io_thread(void *p)
{
	struct stalled_io *io = p;

	io->ret = io->write ? pwrite(io->fd, io->buf, io->len, io->off) :
			      pread(io->fd, io->buf, io->len, io->off);
	io->err = errno;
	return NULL;
}

/* Wait until the kernel reports the fault at @area: the I/O is now stalled. */
static void wait_for_stall(struct __test_metadata *_metadata, int uffd, char *area,
			   bool kernel_writes)
{
	struct pollfd pfd = { .fd = uffd, .events = POLLIN };
	struct uffd_msg msg;

	ASSERT_EQ(1, poll(&pfd, 1, WAIT_MS)) TH_LOG("the I/O never touched its buffer");
	ASSERT_EQ(sizeof(msg), read(uffd, &msg, sizeof(msg)));
	ASSERT_EQ(UFFD_EVENT_PAGEFAULT, msg.event);
	ASSERT_EQ(MG_PTR(area), msg.arg.pagefault.address & ~(__u64)(mg_page_size() - 1));
	EXPECT_EQ(kernel_writes, !!(msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WRITE));
}

/* Resolve the fault with a page of pattern @seed. */
static void release_stall(struct __test_metadata *_metadata, int uffd, char *area,
			  unsigned int seed)
{
	size_t page = mg_page_size();
	struct uffdio_copy copy = { 0 };
	char *src = malloc(page);

	ASSERT_NE(NULL, src);
	mg_pattern(src, page, seed);
	copy.dst = MG_PTR(area);
	copy.src = MG_PTR(src);
	copy.len = page;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_COPY, &copy));
	ASSERT_EQ(page, copy.copy);
	free(src);
}

static void join_bounded(struct __test_metadata *_metadata, pthread_t t)
{
	struct timespec ts;

	ASSERT_EQ(0, clock_gettime(CLOCK_REALTIME, &ts));
	ts.tv_sec += WAIT_MS / 1000;
	ASSERT_EQ(0, pthread_timedjoin_np(t, NULL, &ts));
}

/*
 * What a second, unrelated opener does while the first is stalled: open,
 * write, read, ioctl, close.  Runs in a child; returns its exit status, or
 * -1 when it did not finish within WAIT_MS (it is then killed once the
 * stall is released).
 */
static int second_opener(bool expect_first_uncommitted)
{
	struct modegate_info info;
	char buf[256];
	int fd;

	fd = open(MG_DEV, O_RDWR);
	if (fd < 0)
		return 10;
	if (pwrite(fd, "second", 6, 1000) != 6)
		return 11;
	if (pread(fd, buf, 6, 1000) != 6 || memcmp(buf, "second", 6))
		return 12;
	if (pread(fd, buf, sizeof(buf), 0) != sizeof(buf))
		return 13;
	/* The stalled write has not committed a byte. */
	if (expect_first_uncommitted && mg_pattern_mismatch(buf, sizeof(buf), 1) != -1)
		return 14;
	if (mg_info(fd, &info) || info.store_used != 1006)
		return 15;
	if (close(fd))
		return 16;
	return 0;
}

static int run_second_opener(struct __test_metadata *_metadata, bool expect_first_uncommitted,
			     pid_t *pidp)
{
	struct pollfd pfd;
	int p[2], status;
	pid_t pid;
	char c;

	if (pipe(p))
		return -2;
	pid = mg_fork();
	if (pid < 0)
		return -2;
	if (pid == 0) {
		close(p[0]);
		c = second_opener(expect_first_uncommitted);
		_exit(write(p[1], &c, 1) == 1 ? 0 : 1);
	}
	close(p[1]);
	pfd = (struct pollfd){ .fd = p[0], .events = POLLIN };
	*pidp = pid;
	if (poll(&pfd, 1, WAIT_MS) != 1 || read(p[0], &c, 1) != 1) {
		close(p[0]);
		kill(pid, SIGKILL);
		return -1;	/* reaped by the caller after the release */
	}
	close(p[0]);
	*pidp = 0;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		return -3;
	return c;
}

TEST_F(uffd, stalled_read_does_not_block_a_second_opener)
{
	struct stalled_io io = { .fd = self->fd, .write = false, .buf = self->area,
				 .len = 256, .off = 0 };
	pid_t pid = 0;
	pthread_t t;
	int ret;

	ASSERT_EQ(0, pthread_create(&t, NULL, stalled_io_thread, &io));
	wait_for_stall(_metadata, self->uffd, self->area, true);

	ret = run_second_opener(_metadata, false, &pid);

	release_stall(_metadata, self->uffd, self->area, 99);
	join_bounded(_metadata, t);
	if (pid)
		waitpid(pid, NULL, 0);
	EXPECT_EQ(0, ret) TH_LOG("second opener: %s (%d)",
				 ret == -1 ? "blocked behind the stalled read" : "failed", ret);
	/* The stalled read then completes with the store's bytes. */
	EXPECT_EQ(256, io.ret);
	EXPECT_EQ(-1, mg_pattern_mismatch(self->area, 256, 1));
}

TEST_F(uffd, stalled_write_does_not_block_a_second_opener)
{
	struct stalled_io io = { .fd = self->fd, .write = true, .buf = self->area,
				 .len = 256, .off = 0 };
	pid_t pid = 0;
	pthread_t t;
	char buf[256];
	int ret;

	ASSERT_EQ(0, pthread_create(&t, NULL, stalled_io_thread, &io));
	wait_for_stall(_metadata, self->uffd, self->area, false);

	ret = run_second_opener(_metadata, true, &pid);

	release_stall(_metadata, self->uffd, self->area, 7);
	join_bounded(_metadata, t);
	if (pid)
		waitpid(pid, NULL, 0);
	EXPECT_EQ(0, ret) TH_LOG("second opener: %s (%d)",
				 ret == -1 ? "blocked behind the stalled write" : "failed", ret);
	/* The stalled write then lands, whole. */
	EXPECT_EQ(256, io.ret);
	ASSERT_EQ(256, pread(self->fd, buf, 256, 0));
	EXPECT_EQ(-1, mg_pattern_mismatch(buf, 256, 7));
	EXPECT_EQ(1006, mg_store_used(self->fd));
}

TEST_F(uffd, stalled_read_does_not_block_a_second_thread)
{
	struct stalled_io io = { .fd = self->fd, .write = false, .buf = self->area,
				 .len = 256, .off = 0 };
	struct stalled_io other = { .fd = self->fd, .write = true, .len = 6, .off = 300 };
	pthread_t t, t2;
	char buf[8];

	ASSERT_EQ(0, pthread_create(&t, NULL, stalled_io_thread, &io));
	wait_for_stall(_metadata, self->uffd, self->area, true);
	/* Same process, same fd: another thread's write goes through. */
	other.buf = "thread";
	ASSERT_EQ(0, pthread_create(&t2, NULL, stalled_io_thread, &other));
	join_bounded(_metadata, t2);
	EXPECT_EQ(6, other.ret);
	release_stall(_metadata, self->uffd, self->area, 3);
	join_bounded(_metadata, t);
	EXPECT_EQ(256, io.ret);
	ASSERT_EQ(6, pread(self->fd, buf, 6, 300));
	EXPECT_EQ(0, memcmp(buf, "thread", 6));
}

TEST_HARNESS_MAIN
