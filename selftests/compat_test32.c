// SPDX-License-Identifier: GPL-2.0
/*
 * A 32-bit caller: the same command numbers and structs reach the handlers
 * through compat_ptr_ioctl(), and INFO shows the compat side of the
 * boundary (a 4 GiB address space, MODEGATE_MODE_COMPAT).
 */
#include "modegate_test.h"
#include "kselftest_harness.h"

FIXTURE(compat) {
	int fd;
	size_t page;
};

FIXTURE_SETUP(compat)
{
	ASSERT_EQ(4, sizeof(void *)) TH_LOG("build this test with -m32");
	self->fd = open(MG_DEV, O_RDWR);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s (is modegate loaded?)", MG_DEV, strerror(errno));
	self->page = mg_page_size();
}

FIXTURE_TEARDOWN(compat)
{
	close(self->fd);
}

TEST_F(compat, info_shows_a_32_bit_task)
{
	struct modegate_info info;

	ASSERT_EQ(0, mg_info(self->fd, &info));
	EXPECT_EQ(MODEGATE_ABI_VERSION, info.abi_version);
	EXPECT_LE(info.task_size, 1ULL << 32);
	EXPECT_LT(1ULL << 31, info.task_size);
	EXPECT_TRUE(info.mode_flags & MODEGATE_MODE_COMPAT);
	EXPECT_TRUE(info.mode_flags & MODEGATE_MODE_USER_ENTRY);
	EXPECT_EQ(3, info.caller_cpl);
	EXPECT_EQ(0, info.handler_cpl);
	EXPECT_EQ(self->page, info.page_size);
	EXPECT_EQ(65536, info.max_probe_len);
}

TEST_F(compat, probe_outcomes)
{
	unsigned char *g = mg_map_guarded(1);
	struct modegate_info info;
	struct modegate_probe p;
	__u64 addr = MG_PTR(g) + self->page - 10;

	ASSERT_TRUE(g != MAP_FAILED);
	ASSERT_EQ(0, mg_info(self->fd, &info));
	ASSERT_EQ(0, mg_probe(self->fd, MG_PTR(g), 100, MODEGATE_PROBE_TO_USER, &p));
	EXPECT_EQ(MODEGATE_PROBE_OK, p.outcome);
	EXPECT_EQ(100, p.copied);
	EXPECT_EQ(MODEGATE_PROBE_PATTERN, g[99]);
	EXPECT_EQ(0, g[100]);

	ASSERT_EQ(0, mg_probe(self->fd, addr, 100, MODEGATE_PROBE_FROM_USER, &p));
	EXPECT_EQ(MODEGATE_PROBE_PARTIAL, p.outcome);
	EXPECT_EQ(10, p.copied);
	EXPECT_EQ(addr + 10, p.fault_addr);
	EXPECT_EQ(-EFAULT, p.error);

	ASSERT_EQ(0, mg_probe(self->fd, MG_PTR(g) + self->page, 8, MODEGATE_PROBE_TO_USER, &p));
	EXPECT_EQ(MODEGATE_PROBE_FAULT, p.outcome);
	ASSERT_EQ(0, mg_probe(self->fd, MG_KADDR_DIRECT_MAP, 8, MODEGATE_PROBE_TO_USER, &p));
	EXPECT_EQ(MODEGATE_PROBE_NOT_USER, p.outcome);
	EXPECT_EQ(0, p.copied);
	/* Above a 32-bit task's address space, below the kernel: nothing there. */
	ASSERT_EQ(0, mg_probe(self->fd, info.task_size + 4096, 8, MODEGATE_PROBE_FROM_USER, &p));
	EXPECT_EQ(MODEGATE_PROBE_FAULT, p.outcome);
	mg_unmap_guarded(g, 1);
}

TEST_F(compat, va_translate_and_stats)
{
	unsigned char *g = mg_map_guarded(2);
	struct modegate_va_page pg[2];
	struct modegate_va_translate va = { .addr = MG_PTR(g), .nr_pages = 2,
					    .pages = MG_PTR(pg) };
	struct modegate_stats st;

	ASSERT_TRUE(g != MAP_FAILED);
	ASSERT_EQ(0, ioctl(self->fd, MODEGATE_IOC_VA_TRANSLATE, &va));
	EXPECT_EQ(2, va.nr_done);
	EXPECT_EQ(MG_PTR(g), pg[0].vaddr);
	EXPECT_TRUE(pg[0].flags & MODEGATE_PAGE_PRESENT);
	EXPECT_TRUE(pg[0].flags & MODEGATE_PAGE_WRITABLE);
	EXPECT_NE(pg[0].page_id, pg[1].page_id);
	ASSERT_EQ(0, mg_stats(self->fd, &st));
	EXPECT_LT(0, st.ioctls);
	mg_unmap_guarded(g, 2);
}

TEST_F(compat, abi_errors_are_the_same)
{
	struct modegate_probe p = { 0 };

	errno = 0;
	EXPECT_EQ(-1, ioctl(self->fd, _IOC(_IOC_READ | _IOC_WRITE, MODEGATE_IOC_MAGIC, 0x01,
					   sizeof(p) - 8), &p));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->fd, _IOC(_IOC_READ | _IOC_WRITE, MODEGATE_IOC_MAGIC, 0x0e,
					   sizeof(p)), &p));
	EXPECT_EQ(ENOTTY, errno);
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->fd, MODEGATE_IOC_INFO, (void *)0));
	EXPECT_EQ(EFAULT, errno);
	p.op = MODEGATE_PROBE_TO_USER;
	p.flags = 2;
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->fd, MODEGATE_IOC_PROBE, &p));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(compat, store_read_write)
{
	char buf[16] = { 0 };
	int fd = open(MG_DEV, O_RDWR | O_TRUNC);

	ASSERT_LE(0, fd);
	ASSERT_EQ(6, write(fd, "compat", 6));
	ASSERT_EQ(6, pread(fd, buf, sizeof(buf), 0));
	EXPECT_STREQ("compat", buf);
	errno = 0;
	EXPECT_EQ(-1, pread(fd, mg_null, 6, 0));
	EXPECT_EQ(EFAULT, errno);
	close(fd);
}

TEST_HARNESS_MAIN
