// SPDX-License-Identifier: GPL-2.0
/*
 * The store behaves like a file: shared by every open, read/write/llseek,
 * O_APPEND, O_TRUNC, a full store, the vectored and zero-copy paths, and
 * the tools people point at files (sh, cat, cp, cmp, dd).
 */
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <linux/io_uring.h>

#include "modegate_test.h"
#include "kselftest_harness.h"

#define TMP_SRC	"/tmp/mg_store_src"
#define TMP_OUT	"/tmp/mg_store_out"

FIXTURE(store) {
	int fd;
	size_t cap;
	size_t page;
};

FIXTURE_SETUP(store)
{
	struct modegate_info info;

	ASSERT_EQ(0, mg_ensure_default());
	self->fd = open(MG_DEV, O_RDWR | O_TRUNC);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, mg_info(self->fd, &info));
	ASSERT_EQ(0, info.store_used);
	self->cap = info.store_capacity;
	ASSERT_LE(2 * 4096, self->cap);
	self->page = mg_page_size();
}

FIXTURE_TEARDOWN(store)
{
	close(self->fd);
	unlink(TMP_SRC);
	unlink(TMP_OUT);
}

/* Put @len bytes of pattern @seed at offset 0 of the store. */
static void fill(struct __test_metadata *_metadata, int fd, size_t len, unsigned int seed)
{
	char *buf = malloc(len);

	ASSERT_NE(NULL, buf);
	mg_pattern(buf, len, seed);
	ASSERT_EQ((ssize_t)len, pwrite(fd, buf, len, 0));
	free(buf);
}

/* The store holds pattern @seed over [off, off + len). */
static void expect_pattern(struct __test_metadata *_metadata, int fd, off_t off,
			   size_t len, unsigned int seed, size_t pattern_off)
{
	unsigned char *buf = malloc(len);
	size_t i;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ((ssize_t)len, pread(fd, buf, len, off));
	for (i = 0; i < len; i++)
		if (buf[i] != mg_pattern_byte(seed, pattern_off + i))
			break;
	EXPECT_EQ(len, i) TH_LOG("store byte %lld differs", (long long)(off + i));
	free(buf);
}

static void write_file(struct __test_metadata *_metadata, const char *path,
		       size_t len, unsigned int seed)
{
	char *buf = malloc(len);
	int fd;

	ASSERT_NE(NULL, buf);
	mg_pattern(buf, len, seed);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ((ssize_t)len, write(fd, buf, len));
	ASSERT_EQ(0, close(fd));
	free(buf);
}

static int run(const char *cmd)
{
	int st = system(cmd);

	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

TEST_F(store, shared_by_every_open)
{
	char buf[16] = { 0 };
	int fd2;

	ASSERT_EQ(5, write(self->fd, "hello", 5));
	fd2 = open(MG_DEV, O_RDONLY);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(5, read(fd2, buf, sizeof(buf)));
	EXPECT_STREQ("hello", buf);
	EXPECT_EQ(0, read(fd2, buf, sizeof(buf)));
	ASSERT_EQ(0, close(fd2));
}

TEST_F(store, shell_echo_then_cat)
{
	char buf[64] = { 0 };
	FILE *f;

	f = popen("sh -c 'echo hi > " MG_DEV "; cat " MG_DEV "'", "r");
	ASSERT_NE(NULL, f);
	ASSERT_EQ(3, fread(buf, 1, sizeof(buf), f));
	ASSERT_EQ(0, pclose(f));
	EXPECT_STREQ("hi\n", buf);
	/* A second redirect truncates: the store is not appended to. */
	ASSERT_EQ(0, run("sh -c 'echo bye > " MG_DEV "'"));
	EXPECT_EQ(4, mg_store_used(self->fd));
	ASSERT_EQ(0, run("sh -c 'echo more >> " MG_DEV "'"));
	ASSERT_EQ(9, pread(self->fd, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp("bye\nmore\n", buf, 9));
}

TEST_F(store, cp_and_cmp)
{
	write_file(_metadata, TMP_SRC, 10000, 3);
	ASSERT_EQ(0, run("cp " TMP_SRC " " MG_DEV));
	EXPECT_EQ(10000, mg_store_used(self->fd));
	expect_pattern(_metadata, self->fd, 0, 10000, 3, 0);
	EXPECT_EQ(0, run("cmp " TMP_SRC " " MG_DEV));
	ASSERT_EQ(0, run("cp " MG_DEV " " TMP_OUT " && cmp " TMP_SRC " " TMP_OUT));
	/* cmp does compare: one byte changed in the store is seen. */
	ASSERT_EQ(1, pwrite(self->fd, "\xff", 1, 4321));
	EXPECT_EQ(1, run("cmp -s " TMP_SRC " " MG_DEV));
}

TEST_F(store, dd_odd_block_sizes)
{
	write_file(_metadata, TMP_SRC, 9001, 5);
	ASSERT_EQ(0, run("dd if=" TMP_SRC " of=" MG_DEV " bs=7 2>/dev/null"));
	EXPECT_EQ(9001, mg_store_used(self->fd));
	expect_pattern(_metadata, self->fd, 0, 9001, 5, 0);
	ASSERT_EQ(0, run("dd if=" MG_DEV " of=" TMP_OUT " bs=13 2>/dev/null"));
	EXPECT_EQ(0, run("cmp " TMP_SRC " " TMP_OUT));
	ASSERT_EQ(0, run("dd if=" MG_DEV " of=" TMP_OUT " bs=4097 2>/dev/null"));
	EXPECT_EQ(0, run("cmp " TMP_SRC " " TMP_OUT));
}

TEST_F(store, dd_seek_skip_notrunc)
{
	unsigned char buf[32];
	FILE *f;

	fill(_metadata, self->fd, 100, 9);
	ASSERT_EQ(0, run("printf XYZxyz > " TMP_SRC));
	/* seek=5 blocks of 3: bytes 15..20 replaced, the rest kept. */
	ASSERT_EQ(0, run("dd if=" TMP_SRC " of=" MG_DEV " bs=3 seek=5 conv=notrunc 2>/dev/null"));
	EXPECT_EQ(100, mg_store_used(self->fd));
	expect_pattern(_metadata, self->fd, 0, 15, 9, 0);
	ASSERT_EQ(6, pread(self->fd, buf, 6, 15));
	EXPECT_EQ(0, memcmp("XYZxyz", buf, 6));
	expect_pattern(_metadata, self->fd, 21, 79, 9, 21);
	/* skip=3 blocks of 5, count=2: bytes 15..24. */
	f = popen("dd if=" MG_DEV " bs=5 skip=3 count=2 2>/dev/null", "r");
	ASSERT_NE(NULL, f);
	ASSERT_EQ(10, fread(buf, 1, sizeof(buf), f));
	ASSERT_EQ(0, pclose(f));
	EXPECT_EQ(0, memcmp("XYZxyz", buf, 6));
	EXPECT_EQ(mg_pattern_byte(9, 21), buf[6]);
	EXPECT_EQ(mg_pattern_byte(9, 24), buf[9]);
}

TEST_F(store, read_stops_at_used_length)
{
	char buf[100];

	fill(_metadata, self->fd, 50, 1);
	ASSERT_EQ(40, lseek(self->fd, 40, SEEK_SET));
	EXPECT_EQ(10, read(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(50, lseek(self->fd, 0, SEEK_CUR));
	EXPECT_EQ(0, read(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(0, pread(self->fd, buf, sizeof(buf), 1000));
	EXPECT_EQ(0, read(self->fd, buf, 0));
}

TEST_F(store, write_extends_used_and_seek_end)
{
	fill(_metadata, self->fd, 10, 1);
	EXPECT_EQ(10, mg_store_used(self->fd));
	EXPECT_EQ(10, lseek(self->fd, 0, SEEK_END));
	EXPECT_EQ(4, write(self->fd, "abcd", 4));
	EXPECT_EQ(14, lseek(self->fd, 0, SEEK_END));
	/* Overwriting inside does not grow it. */
	EXPECT_EQ(4, pwrite(self->fd, "ABCD", 4, 2));
	EXPECT_EQ(14, mg_store_used(self->fd));
	EXPECT_EQ(0, write(self->fd, "", 0));
	EXPECT_EQ(14, mg_store_used(self->fd));
}

TEST_F(store, gap_after_end_reads_as_zero)
{
	char buf[64];
	int i;

	/* Stale bytes beyond the end of file must not reappear. */
	fill(_metadata, self->fd, 64, 7);
	close(open(MG_DEV, O_WRONLY | O_TRUNC));
	EXPECT_EQ(0, mg_store_used(self->fd));
	ASSERT_EQ(2, pwrite(self->fd, "ok", 2, 40));
	EXPECT_EQ(42, mg_store_used(self->fd));
	ASSERT_EQ(42, pread(self->fd, buf, sizeof(buf), 0));
	for (i = 0; i < 40; i++) {
		ASSERT_EQ(0, buf[i]) TH_LOG("byte %d", i);
	}
	EXPECT_EQ(0, memcmp("ok", buf + 40, 2));
}

TEST_F(store, o_append_writes_at_end)
{
	char buf[16] = { 0 };
	int fd;

	ASSERT_EQ(3, write(self->fd, "abc", 3));
	fd = open(MG_DEV, O_WRONLY | O_APPEND);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	ASSERT_EQ(3, write(fd, "def", 3));
	EXPECT_EQ(6, lseek(fd, 0, SEEK_CUR));
	ASSERT_EQ(2, write(fd, "gh", 2));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(8, pread(self->fd, buf, sizeof(buf), 0));
	EXPECT_STREQ("abcdefgh", buf);
}

TEST_F(store, o_trunc_empties_only_for_writing)
{
	int fd;

	fill(_metadata, self->fd, 100, 2);
	fd = open(MG_DEV, O_RDONLY | O_TRUNC);
	ASSERT_LE(0, fd);
	close(fd);
	EXPECT_EQ(100, mg_store_used(self->fd));
	fd = open(MG_DEV, O_RDONLY);
	ASSERT_LE(0, fd);
	close(fd);
	EXPECT_EQ(100, mg_store_used(self->fd));
	fd = open(MG_DEV, O_WRONLY | O_TRUNC);
	ASSERT_LE(0, fd);
	close(fd);
	EXPECT_EQ(0, mg_store_used(self->fd));
}

TEST_F(store, full_store_short_write_then_enospc)
{
	char *buf = malloc(self->cap + 100);
	size_t cap = self->cap;
	int fd;

	ASSERT_NE(NULL, buf);
	/* A write past the capacity stores what fits and says so. */
	mg_pattern(buf, cap + 100, 4);
	ASSERT_EQ(cap - 10, pwrite(self->fd, buf, cap - 10, 0));
	EXPECT_EQ(10, pwrite(self->fd, buf + cap - 10, 100, cap - 10));
	EXPECT_EQ(cap, mg_store_used(self->fd));
	expect_pattern(_metadata, self->fd, 0, cap, 4, 0);
	/* Nothing fits: -ENOSPC, at the end, past it, and under O_APPEND. */
	errno = 0;
	EXPECT_EQ(-1, pwrite(self->fd, "x", 1, cap));
	EXPECT_EQ(ENOSPC, errno);
	errno = 0;
	EXPECT_EQ(-1, pwrite(self->fd, "x", 1, cap + 4096));
	EXPECT_EQ(ENOSPC, errno);
	fd = open(MG_DEV, O_WRONLY | O_APPEND);
	ASSERT_LE(0, fd);
	errno = 0;
	EXPECT_EQ(-1, write(fd, "x", 1));
	EXPECT_EQ(ENOSPC, errno);
	close(fd);
	EXPECT_EQ(cap, mg_store_used(self->fd));
	expect_pattern(_metadata, self->fd, 0, cap, 4, 0);
	/* Whole-store write in one call, larger than capacity. */
	close(open(MG_DEV, O_WRONLY | O_TRUNC));
	mg_pattern(buf, cap + 100, 8);
	EXPECT_EQ(cap, pwrite(self->fd, buf, cap + 100, 0));
	expect_pattern(_metadata, self->fd, 0, cap, 8, 0);
	free(buf);
}

TEST_F(store, o_append_short_write_at_capacity)
{
	char buf[64];
	int fd;

	mg_pattern(buf, sizeof(buf), 6);
	ASSERT_EQ(self->cap - 20, lseek(self->fd, self->cap - 20, SEEK_SET));
	ASSERT_EQ(1, write(self->fd, "a", 1));
	fd = open(MG_DEV, O_WRONLY | O_APPEND);
	ASSERT_LE(0, fd);
	EXPECT_EQ(19, write(fd, buf, sizeof(buf)));
	close(fd);
	EXPECT_EQ(self->cap, mg_store_used(self->fd));
	expect_pattern(_metadata, self->fd, self->cap - 19, 19, 6, 0);
}

TEST_F(store, llseek_whence_and_errors)
{
	fill(_metadata, self->fd, 100, 1);
	EXPECT_EQ(30, lseek(self->fd, 30, SEEK_SET));
	EXPECT_EQ(40, lseek(self->fd, 10, SEEK_CUR));
	EXPECT_EQ(90, lseek(self->fd, -10, SEEK_END));
	EXPECT_EQ(100, lseek(self->fd, 0, SEEK_END));
	/* Past the end of file is allowed, up to the capacity. */
	EXPECT_EQ(150, lseek(self->fd, 50, SEEK_END));
	EXPECT_EQ((off_t)self->cap, lseek(self->fd, self->cap, SEEK_SET));

	errno = 0;
	EXPECT_EQ(-1, lseek(self->fd, -1, SEEK_SET));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(5, lseek(self->fd, 5, SEEK_SET));
	errno = 0;
	EXPECT_EQ(-1, lseek(self->fd, -6, SEEK_CUR));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(5, lseek(self->fd, 0, SEEK_CUR));
	errno = 0;
	EXPECT_EQ(-1, lseek(self->fd, -101, SEEK_END));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, lseek(self->fd, self->cap + 1, SEEK_SET));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, lseek(self->fd, LLONG_MAX, SEEK_SET));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, lseek(self->fd, 0, 42));
	EXPECT_EQ(EINVAL, errno);
	/* The whole store is data; the hole is at its end. */
	EXPECT_EQ(10, lseek(self->fd, 10, SEEK_DATA));
	EXPECT_EQ(100, lseek(self->fd, 10, SEEK_HOLE));
	errno = 0;
	EXPECT_EQ(-1, lseek(self->fd, 100, SEEK_DATA));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(100, lseek(self->fd, 0, SEEK_END));
}

TEST_F(store, pread_pwrite_leave_position)
{
	char buf[8] = { 0 };

	fill(_metadata, self->fd, 64, 1);
	ASSERT_EQ(7, lseek(self->fd, 7, SEEK_SET));
	ASSERT_EQ(4, pwrite(self->fd, "WXYZ", 4, 30));
	ASSERT_EQ(4, pread(self->fd, buf, 4, 30));
	EXPECT_STREQ("WXYZ", buf);
	EXPECT_EQ(7, lseek(self->fd, 0, SEEK_CUR));
}

TEST_F(store, readv_writev)
{
	char a[3] = "abc", b[5] = "defgh", c[4] = "ijkl";
	char x[4], y[6], z[8];
	struct iovec wv[] = { { a, 3 }, { b, 5 }, { c, 4 } };
	struct iovec rv[] = { { x, 4 }, { y, 6 }, { z, 8 } };

	ASSERT_EQ(12, writev(self->fd, wv, 3));
	ASSERT_EQ(0, lseek(self->fd, 0, SEEK_SET));
	ASSERT_EQ(12, readv(self->fd, rv, 3));
	EXPECT_EQ(0, memcmp(x, "abcd", 4));
	EXPECT_EQ(0, memcmp(y, "efghij", 6));
	EXPECT_EQ(0, memcmp(z, "kl", 2));
	ASSERT_EQ(9, pwritev(self->fd, wv + 1, 2, 100));
	ASSERT_EQ(109, mg_store_used(self->fd));
	ASSERT_EQ(8, preadv(self->fd, rv + 2, 1, 100));
	EXPECT_EQ(0, memcmp(z, "defghijk", 8));
}

TEST_F(store, splice_to_and_from_pipe)
{
	unsigned char buf[8192];
	loff_t off = 100;
	int p[2];

	fill(_metadata, self->fd, 6000, 11);
	ASSERT_EQ(0, pipe(p));
	/* store -> pipe */
	ASSERT_EQ(5000, splice(self->fd, &off, p[1], NULL, 5000, 0));
	EXPECT_EQ(5100, off);
	ASSERT_EQ(5000, read(p[0], buf, sizeof(buf)));
	for (int i = 0; i < 5000; i++) {
		ASSERT_EQ(mg_pattern_byte(11, 100 + i), buf[i]) TH_LOG("byte %d", i);
	}
	/* At the end of file: 0. */
	off = 6000;
	EXPECT_EQ(0, splice(self->fd, &off, p[1], NULL, 100, 0));
	/* pipe -> store */
	mg_pattern(buf, 3000, 12);
	ASSERT_EQ(3000, write(p[1], buf, 3000));
	off = 5500;
	ASSERT_EQ(3000, splice(p[0], NULL, self->fd, &off, 3000, 0));
	EXPECT_EQ(8500, off);
	EXPECT_EQ(8500, mg_store_used(self->fd));
	expect_pattern(_metadata, self->fd, 0, 5500, 11, 0);
	expect_pattern(_metadata, self->fd, 5500, 3000, 12, 0);
	close(p[0]);
	close(p[1]);
}

TEST_F(store, sendfile_both_ways)
{
	off_t off = 0;
	int tmp;

	fill(_metadata, self->fd, 20000, 13);
	tmp = open(TMP_OUT, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ASSERT_LE(0, tmp);
	ASSERT_EQ(20000, sendfile(tmp, self->fd, &off, 50000));
	EXPECT_EQ(20000, off);
	close(tmp);
	write_file(_metadata, TMP_SRC, 20000, 13);
	EXPECT_EQ(0, run("cmp " TMP_SRC " " TMP_OUT));

	write_file(_metadata, TMP_SRC, 7777, 14);
	tmp = open(TMP_SRC, O_RDONLY);
	ASSERT_LE(0, tmp);
	ASSERT_EQ(0, lseek(self->fd, 0, SEEK_SET));
	ASSERT_EQ(7777, sendfile(self->fd, tmp, NULL, 7777));
	close(tmp);
	EXPECT_EQ(7777, lseek(self->fd, 0, SEEK_CUR));
	expect_pattern(_metadata, self->fd, 0, 7777, 14, 0);
	expect_pattern(_metadata, self->fd, 7777, 20000 - 7777, 13, 7777);
}

/* Just enough io_uring, with raw system calls, for one read or write. */
static int uring_rw(int fd, int opcode, void *buf, unsigned int len, __u64 off)
{
	struct io_uring_params p = { 0 };
	unsigned int *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask;
	struct io_uring_cqe *cqes;
	struct io_uring_sqe *sqes;
	size_t sq_len, cq_len, sqe_len;
	char *sq, *cq;
	unsigned int idx, head;
	int ring, res = -EIO;

	ring = syscall(__NR_io_uring_setup, 4, &p);
	if (ring < 0)
		return -errno;
	sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned int);
	cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	sqe_len = p.sq_entries * sizeof(struct io_uring_sqe);
	sq = mmap(NULL, sq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
		  ring, IORING_OFF_SQ_RING);
	cq = mmap(NULL, cq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
		  ring, IORING_OFF_CQ_RING);
	sqes = mmap(NULL, sqe_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
		    ring, IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED)
		goto out;
	sq_tail = (unsigned int *)(sq + p.sq_off.tail);
	sq_mask = (unsigned int *)(sq + p.sq_off.ring_mask);
	sq_array = (unsigned int *)(sq + p.sq_off.array);
	cq_head = (unsigned int *)(cq + p.cq_off.head);
	cq_tail = (unsigned int *)(cq + p.cq_off.tail);
	cq_mask = (unsigned int *)(cq + p.cq_off.ring_mask);
	cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);

	idx = *sq_tail & *sq_mask;
	memset(&sqes[idx], 0, sizeof(sqes[idx]));
	sqes[idx].opcode = opcode;
	sqes[idx].fd = fd;
	sqes[idx].addr = MG_PTR(buf);
	sqes[idx].len = len;
	sqes[idx].off = off;
	sqes[idx].user_data = 0x4d47;
	sq_array[idx] = idx;
	__atomic_store_n(sq_tail, *sq_tail + 1, __ATOMIC_RELEASE);
	if (syscall(__NR_io_uring_enter, ring, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) != 1)
		goto out;
	head = __atomic_load_n(cq_head, __ATOMIC_ACQUIRE);
	if (head != __atomic_load_n(cq_tail, __ATOMIC_ACQUIRE))
		res = cqes[head & *cq_mask].user_data == 0x4d47 ? cqes[head & *cq_mask].res : -EIO;
	__atomic_store_n(cq_head, head + 1, __ATOMIC_RELEASE);
out:
	if (sq != MAP_FAILED)
		munmap(sq, sq_len);
	if (cq != MAP_FAILED)
		munmap(cq, cq_len);
	if (sqes != MAP_FAILED)
		munmap(sqes, sqe_len);
	close(ring);
	return res;
}

TEST_F(store, io_uring_read_and_write)
{
	unsigned char buf[6000];
	int i;

	fill(_metadata, self->fd, 10000, 15);
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(6000, uring_rw(self->fd, IORING_OP_READ, buf, 6000, 1234));
	for (i = 0; i < 6000; i++) {
		ASSERT_EQ(mg_pattern_byte(15, 1234 + i), buf[i]) TH_LOG("byte %d", i);
	}
	EXPECT_EQ(0, uring_rw(self->fd, IORING_OP_READ, buf, 10, 10000));
	mg_pattern(buf, 3000, 16);
	ASSERT_EQ(3000, uring_rw(self->fd, IORING_OP_WRITE, buf, 3000, 9000));
	EXPECT_EQ(12000, mg_store_used(self->fd));
	expect_pattern(_metadata, self->fd, 9000, 3000, 16, 0);
	/* A bad buffer through io_uring is -EFAULT too. */
	EXPECT_EQ(-EFAULT, uring_rw(self->fd, IORING_OP_READ, NULL, 10, 0));
	EXPECT_EQ(-EFAULT, uring_rw(self->fd, IORING_OP_WRITE, NULL, 10, 0));
	EXPECT_EQ(12000, mg_store_used(self->fd));
}

struct writer_arg {
	int fd;
	unsigned int seed;
	off_t off;
	size_t len;
	int rounds;
	int failed;
};

static void *disjoint_writer(void *p)
{
	struct writer_arg *w = p;
	char *buf = malloc(w->len);
	int r;

	if (!buf) {
		w->failed = 1;
		return NULL;
	}
	for (r = 0; r < w->rounds; r++) {
		mg_pattern(buf, w->len, w->seed + r);
		if (pwrite(w->fd, buf, w->len, w->off) != (ssize_t)w->len)
			w->failed = 1;
	}
	free(buf);
	return NULL;
}

TEST_F(store, concurrent_writers_to_disjoint_regions_all_land)
{
	enum { NR = 4, LEN = 3 * 4096 + 123, ROUNDS = 50 };
	struct writer_arg w[NR];
	pthread_t t[NR];
	long long used;
	int i;

	for (i = 0; i < NR; i++) {
		w[i] = (struct writer_arg){ .seed = 20 * (i + 1), .off = i * LEN,
					    .len = LEN, .rounds = ROUNDS };
		/* Separate opens: the store is shared, not the file position. */
		w[i].fd = open(MG_DEV, O_RDWR);
		ASSERT_LE(0, w[i].fd);
	}
	for (i = 0; i < NR; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, disjoint_writer, &w[i]));
	/* Meanwhile the end of file only ever grows, and never past the writers. */
	for (i = 0, used = 0; i < 1000000 && used < NR * LEN; i++) {
		long long now = mg_store_used(self->fd);

		ASSERT_LE(used, now);
		ASSERT_GE(NR * LEN, now);
		used = now;
	}
	for (i = 0; i < NR; i++) {
		ASSERT_EQ(0, pthread_join(t[i], NULL));
		EXPECT_EQ(0, w[i].failed);
		close(w[i].fd);
	}
	EXPECT_EQ(NR * LEN, mg_store_used(self->fd));
	for (i = 0; i < NR; i++)
		expect_pattern(_metadata, self->fd, i * LEN, LEN, w[i].seed + ROUNDS - 1, 0);
}

TEST_F(store, counters_count_calls_bytes_and_faults)
{
	struct modegate_stats a, b;
	char buf[100] = { 0 };

	ASSERT_EQ(0, mg_stats(self->fd, &a));
	ASSERT_EQ(100, write(self->fd, buf, 100));
	ASSERT_EQ(40, pread(self->fd, buf, 40, 60));
	ASSERT_EQ(-1, pread(self->fd, mg_null, 10, 0));
	ASSERT_EQ(0, mg_stats(self->fd, &b));
	EXPECT_EQ(a.writes + 1, b.writes);
	EXPECT_EQ(a.reads + 2, b.reads);
	EXPECT_EQ(a.bytes_written + 100, b.bytes_written);
	EXPECT_EQ(a.bytes_read + 40, b.bytes_read);
	EXPECT_EQ(a.faults + 1, b.faults);
}

TEST_F(store, every_call_is_traced)
{
	char want[160], *trace, *klog;
	int pfd;

	fill(_metadata, self->fd, 100, 1);
	ASSERT_EQ(0, mg_trace_start("mg_store_test", "modegate_rw"));
	pfd = open("/sys/module/modegate/parameters/trace", O_WRONLY);
	ASSERT_LE(0, pfd);
	ASSERT_EQ(1, write(pfd, "1", 1));
	ASSERT_EQ(5, pwrite(self->fd, "hello", 5, 10));
	ASSERT_EQ(-1, pread(self->fd, mg_null, 10, 0));
	ASSERT_EQ(1, pwrite(pfd, "0", 1, 0));
	close(pfd);
	trace = mg_trace_read("mg_store_test");
	mg_trace_stop("mg_store_test");
	ASSERT_NE(NULL, trace);
	/* The tracepoint... */
	snprintf(want, sizeof(want), "write pid=%d comm=store_test off=10 len=5 -> 5", getpid());
	EXPECT_NE(NULL, strstr(trace, want)) TH_LOG("no '%s' in:\n%s", want, trace);
	snprintf(want, sizeof(want), "read pid=%d comm=store_test off=0 len=10 -> -14", getpid());
	EXPECT_NE(NULL, strstr(trace, want)) TH_LOG("no '%s' in:\n%s", want, trace);
	free(trace);
	/* ... and the trace=1 line in the kernel log. */
	klog = mg_read_klog();
	ASSERT_NE(NULL, klog);
	snprintf(want, sizeof(want), "modegate: write pid=%d comm=store_test ctx=process off=10 len=5 -> 5",
		 getpid());
	EXPECT_NE(NULL, strstr(klog, want)) TH_LOG("no '%s' in the kernel log", want);
	snprintf(want, sizeof(want), "modegate: read pid=%d comm=store_test ctx=process off=0 len=10 -> -14",
		 getpid());
	EXPECT_NE(NULL, strstr(klog, want)) TH_LOG("no '%s' in the kernel log", want);
	free(klog);
}

/*
 * Faults.  A bad buffer is -EFAULT when nothing was copied, the byte count
 * when some was; a failed or short write changes nothing beyond its count.
 */

struct bad_buf {
	const char *name;
	void *ptr;
	size_t len;
};

/* Buffers nothing can be copied to or from. */
static int bad_bufs(struct bad_buf *b, void *prot_none)
{
	int n = 0;

	b[n++] = (struct bad_buf){ "NULL", NULL, 100 };
	b[n++] = (struct bad_buf){ "kernel direct map", (void *)(uintptr_t)MG_KADDR_DIRECT_MAP, 100 };
	b[n++] = (struct bad_buf){ "kernel text", (void *)(uintptr_t)MG_KADDR_TEXT, 100 };
	b[n++] = (struct bad_buf){ "wrapping range", (void *)(UINTPTR_MAX - 49), 100 };
	b[n++] = (struct bad_buf){ "end of user space", (void *)(uintptr_t)0x7ffffffff000ULL, 8192 };
	b[n++] = (struct bad_buf){ "PROT_NONE", prot_none, 100 };
	return n;
}

TEST_F(store, read_into_bad_buffer_is_efault)
{
	void *none = mg_map_page(PROT_NONE, 0x5a), *ro = mg_map_page(PROT_READ, 0x5a);
	struct bad_buf b[8];
	int i, n;

	ASSERT_NE(MAP_FAILED, none);
	ASSERT_NE(MAP_FAILED, ro);
	fill(_metadata, self->fd, 9000, 1);
	n = bad_bufs(b, none);
	b[n++] = (struct bad_buf){ "read-only", ro, 100 };
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, lseek(self->fd, 0, SEEK_SET));
		errno = 0;
		EXPECT_EQ(-1, read(self->fd, b[i].ptr, b[i].len)) TH_LOG("%s", b[i].name);
		EXPECT_EQ(EFAULT, errno) TH_LOG("%s", b[i].name);
		EXPECT_EQ(0, lseek(self->fd, 0, SEEK_CUR)) TH_LOG("%s", b[i].name);
	}
	/* The read-only page is as it was. */
	for (i = 0; i < mg_page_size(); i++)
		ASSERT_EQ(0x5a, ((unsigned char *)ro)[i]);
	munmap(none, mg_page_size());
	munmap(ro, mg_page_size());
}

TEST_F(store, read_into_page_spanning_buffer_copies_up_to_the_fault)
{
	unsigned char *p = mg_map_guarded(2);
	unsigned char *buf;
	size_t page = self->page;

	ASSERT_NE(MAP_FAILED, p);
	fill(_metadata, self->fd, 3 * page, 2);
	/* 100 bytes before the guard page. */
	buf = p + 2 * page - 100;
	ASSERT_EQ(0, lseek(self->fd, 0, SEEK_SET));
	EXPECT_EQ(100, read(self->fd, buf, 300));
	EXPECT_EQ(100, lseek(self->fd, 0, SEEK_CUR));
	EXPECT_EQ(-1, mg_pattern_mismatch(buf, 100, 2));
	/* Across a page boundary: everything up to the guard page. */
	EXPECT_EQ(2 * page - 10, pread(self->fd, p + 10, 3 * page, 0));
	EXPECT_EQ(-1, mg_pattern_mismatch(p + 10, 2 * page - 10, 2));
	mg_unmap_guarded(p, 2);
}

TEST_F(store, write_from_bad_buffer_is_efault_and_changes_nothing)
{
	void *none = mg_map_page(PROT_NONE, 0x5a);
	struct modegate_stats a, b;
	struct bad_buf bb[8];
	int i, n;

	ASSERT_NE(MAP_FAILED, none);
	fill(_metadata, self->fd, 1000, 3);
	n = bad_bufs(bb, none);
	ASSERT_EQ(0, mg_stats(self->fd, &a));
	for (i = 0; i < n; i++) {
		/* Inside, across the end of file, and past it. */
		static const off_t offs[] = { 500, 990, 2000 };

		for (int k = 0; k < 3; k++) {
			errno = 0;
			EXPECT_EQ(-1, pwrite(self->fd, bb[i].ptr, bb[i].len, offs[k]))
				TH_LOG("%s at %lld", bb[i].name, (long long)offs[k]);
			EXPECT_EQ(EFAULT, errno) TH_LOG("%s", bb[i].name);
			EXPECT_EQ(1000, mg_store_used(self->fd)) TH_LOG("%s", bb[i].name);
		}
		ASSERT_EQ(0, lseek(self->fd, 0, SEEK_SET));
		errno = 0;
		EXPECT_EQ(-1, write(self->fd, bb[i].ptr, bb[i].len)) TH_LOG("%s", bb[i].name);
		EXPECT_EQ(EFAULT, errno);
		EXPECT_EQ(0, lseek(self->fd, 0, SEEK_CUR));
	}
	expect_pattern(_metadata, self->fd, 0, 1000, 3, 0);
	ASSERT_EQ(0, mg_stats(self->fd, &b));
	EXPECT_EQ(a.bytes_written, b.bytes_written);
	munmap(none, mg_page_size());
}

TEST_F(store, write_from_read_only_buffer_works)
{
	void *ro = mg_map_page(PROT_READ, 0x5a);
	unsigned char buf[100];

	ASSERT_NE(MAP_FAILED, ro);
	EXPECT_EQ(100, write(self->fd, ro, 100));
	ASSERT_EQ(100, pread(self->fd, buf, 100, 0));
	for (int i = 0; i < 100; i++)
		ASSERT_EQ(0x5a, buf[i]);
	munmap(ro, mg_page_size());
}

TEST_F(store, short_write_from_page_spanning_buffer_commits_only_the_count)
{
	unsigned char *p = mg_map_guarded(3);
	size_t page = self->page;
	unsigned char *src;
	char c;

	ASSERT_NE(MAP_FAILED, p);
	fill(_metadata, self->fd, 1000, 4);
	/* 120 readable bytes, then the guard page. */
	src = p + 3 * page - 120;
	mg_pattern(src, 120, 5);
	EXPECT_EQ(120, pwrite(self->fd, src, 300, 500));
	EXPECT_EQ(1000, mg_store_used(self->fd));
	expect_pattern(_metadata, self->fd, 500, 120, 5, 0);
	expect_pattern(_metadata, self->fd, 0, 500, 4, 0);
	expect_pattern(_metadata, self->fd, 620, 380, 4, 620);

	/* Across the end of file: it grows by the count, not the request. */
	EXPECT_EQ(120, pwrite(self->fd, src, 300, 950));
	EXPECT_EQ(1070, mg_store_used(self->fd));
	expect_pattern(_metadata, self->fd, 950, 120, 5, 0);
	EXPECT_EQ(0, pread(self->fd, &c, 1, 1070));

	/* Several pages, then the fault. */
	mg_pattern(p + 100, 3 * page - 100, 6);
	ASSERT_EQ(0, lseek(self->fd, 0, SEEK_SET));
	EXPECT_EQ(3 * page - 100, write(self->fd, p + 100, 5 * page));
	EXPECT_EQ(3 * page - 100, lseek(self->fd, 0, SEEK_CUR));
	EXPECT_EQ(3 * page - 100, mg_store_used(self->fd));
	expect_pattern(_metadata, self->fd, 0, 3 * page - 100, 6, 0);
	mg_unmap_guarded(p, 3);
}

TEST_F(store, vectored_io_stops_at_a_bad_segment)
{
	char a[10] = "0123456789", c[10] = "abcdefghij", x[10], z[10];
	struct iovec wv[] = { { a, 10 }, { NULL, 10 }, { c, 10 } };
	struct iovec rv[] = { { x, 10 }, { (void *)(uintptr_t)MG_KADDR_TEXT, 10 }, { z, 10 } };

	fill(_metadata, self->fd, 100, 7);
	ASSERT_EQ(0, lseek(self->fd, 0, SEEK_SET));
	EXPECT_EQ(10, writev(self->fd, wv, 3));
	EXPECT_EQ(100, mg_store_used(self->fd));
	ASSERT_EQ(10, pread(self->fd, x, 10, 0));
	EXPECT_EQ(0, memcmp(x, a, 10));
	expect_pattern(_metadata, self->fd, 10, 90, 7, 10);
	/* A kernel address anywhere in the vector is refused up front. */
	errno = 0;
	EXPECT_EQ(-1, preadv(self->fd, rv, 3, 0));
	EXPECT_EQ(EFAULT, errno);
	rv[1].iov_base = NULL;
	EXPECT_EQ(10, preadv(self->fd, rv, 3, 0));
	EXPECT_EQ(0, memcmp(x, a, 10));
}

TEST_HARNESS_MAIN
