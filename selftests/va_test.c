// SPDX-License-Identifier: GPL-2.0
/*
 * MODEGATE_IOC_VA_TRANSLATE: what the caller's virtual pages map to.  Pages
 * are not faulted in unless asked; a contiguous virtual range sits on
 * scattered frames; fork shares pages until a write breaks copy-on-write;
 * frame numbers are for CAP_SYS_ADMIN only.
 */
#include <sys/wait.h>

#include "modegate_test.h"
#include "kselftest_harness.h"

#define P_PRESENT	MODEGATE_PAGE_PRESENT
#define P_WRITABLE	MODEGATE_PAGE_WRITABLE

FIXTURE(va) {
	int fd;
	size_t page;
	struct modegate_info info;
};

FIXTURE_SETUP(va)
{
	ASSERT_EQ(0, mg_ensure_default());
	self->fd = open(MG_DEV, O_RDWR);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, mg_info(self->fd, &self->info));
	self->page = mg_page_size();
}

FIXTURE_TEARDOWN(va)
{
	close(self->fd);
}

/* Translate @nr pages from @addr into @out; returns 0 or -errno. */
static int translate(int fd, const void *addr, size_t nr, __u32 flags,
		     struct modegate_va_page *out)
{
	struct modegate_va_translate va = {
		.addr = MG_PTR(addr), .nr_pages = nr, .pages = MG_PTR(out), .flags = flags,
	};

	memset(out, 0x77, nr * sizeof(*out));
	if (ioctl(fd, MODEGATE_IOC_VA_TRANSLATE, &va))
		return -errno;
	return va.nr_done == nr ? 0 : -EIO;
}

static struct modegate_va_page one(struct __test_metadata *_metadata, int fd,
				   const void *addr, __u32 flags)
{
	struct modegate_va_page pg;

	EXPECT_EQ(0, translate(fd, addr, 1, flags, &pg));
	return pg;
}

/* Anonymous memory that stays in small pages. */
static char *map_anon(size_t len)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p != MAP_FAILED)
		madvise(p, len, MADV_NOHUGEPAGE);
	return p;
}

TEST_F(va, untouched_pages_are_not_present_and_not_faulted_in)
{
	char *p = map_anon(8 * self->page);
	struct modegate_va_page pg[8];

	ASSERT_NE(MAP_FAILED, p);
	for (int round = 0; round < 2; round++) {
		ASSERT_EQ(0, translate(self->fd, p, 8, 0, pg));
		for (int i = 0; i < 8; i++) {
			EXPECT_EQ(MG_PTR(p) + i * self->page, pg[i].vaddr);
			EXPECT_EQ(0, pg[i].flags & (P_PRESENT | P_WRITABLE | MODEGATE_PAGE_ZERO));
			EXPECT_EQ(0, pg[i].pfn);
			EXPECT_EQ(0, pg[i].page_id);
			EXPECT_EQ(0, pg[i].reserved);
		}
	}
	/* Touch one: only that one appears. */
	p[3 * self->page] = 1;
	ASSERT_EQ(0, translate(self->fd, p, 8, 0, pg));
	for (int i = 0; i < 8; i++) {
		EXPECT_EQ(i == 3, !!(pg[i].flags & P_PRESENT)) TH_LOG("page %d", i);
	}
	munmap(p, 8 * self->page);
}

TEST_F(va, read_maps_the_zero_page_write_a_private_one)
{
	char *p = map_anon(2 * self->page);
	struct modegate_va_page a, b, c;
	volatile char sink;

	ASSERT_NE(MAP_FAILED, p);
	sink = p[0];
	sink = p[self->page];
	(void)sink;
	a = one(_metadata, self->fd, p, 0);
	b = one(_metadata, self->fd, p + self->page, 0);
	EXPECT_EQ(P_PRESENT | MODEGATE_PAGE_ZERO,
		  a.flags & (P_PRESENT | P_WRITABLE | MODEGATE_PAGE_ZERO));
	EXPECT_NE(0, a.page_id);
	EXPECT_EQ(a.page_id, b.page_id);
	EXPECT_EQ(a.pfn, b.pfn);

	p[0] = 1;
	c = one(_metadata, self->fd, p, 0);
	EXPECT_EQ(P_PRESENT | P_WRITABLE,
		  c.flags & (P_PRESENT | P_WRITABLE | MODEGATE_PAGE_ZERO));
	EXPECT_NE(a.page_id, c.page_id);
	munmap(p, 2 * self->page);
}

TEST_F(va, root_sees_frame_numbers)
{
	char *p = map_anon(self->page);
	struct modegate_va_page a;

	ASSERT_NE(MAP_FAILED, p);
	p[0] = 1;
	a = one(_metadata, self->fd, p + 100, 0);
	EXPECT_EQ(MG_PTR(p), a.vaddr);
	EXPECT_TRUE(a.flags & MODEGATE_PAGE_PFN_VALID);
	EXPECT_FALSE(a.flags & MODEGATE_PAGE_PFN_HIDDEN);
	EXPECT_NE(0, a.pfn);
	munmap(p, self->page);
}

TEST_F(va, fault_in_flag_faults_as_a_read_would)
{
	char *p = map_anon(4 * self->page);
	struct modegate_va_page pg[4];

	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, translate(self->fd, p, 4, MODEGATE_VA_FAULT_IN, pg));
	for (int i = 0; i < 4; i++)
		EXPECT_EQ(P_PRESENT | MODEGATE_PAGE_ZERO,
			  pg[i].flags & (P_PRESENT | P_WRITABLE | MODEGATE_PAGE_ZERO));
	/* They stay mapped. */
	ASSERT_EQ(0, translate(self->fd, p, 4, 0, pg));
	for (int i = 0; i < 4; i++)
		EXPECT_TRUE(pg[i].flags & P_PRESENT);
	munmap(p, 4 * self->page);
}

TEST_F(va, read_only_holes_and_prot_none)
{
	char *p = map_anon(4 * self->page);
	struct modegate_va_page pg[4];

	ASSERT_NE(MAP_FAILED, p);
	memset(p, 1, 4 * self->page);
	ASSERT_EQ(0, mprotect(p + self->page, self->page, PROT_READ));
	ASSERT_EQ(0, mprotect(p + 2 * self->page, self->page, PROT_NONE));
	ASSERT_EQ(0, munmap(p + 3 * self->page, self->page));
	ASSERT_EQ(0, translate(self->fd, p, 4, 0, pg));
	EXPECT_EQ(P_PRESENT | P_WRITABLE, pg[0].flags & (P_PRESENT | P_WRITABLE));
	EXPECT_EQ(P_PRESENT, pg[1].flags & (P_PRESENT | P_WRITABLE));
	EXPECT_EQ(0, pg[2].flags & (P_PRESENT | P_WRITABLE));
	EXPECT_EQ(0, pg[3].flags & (P_PRESENT | P_WRITABLE));
	EXPECT_EQ(0, pg[3].page_id);
	/* FAULT_IN cannot bring in what cannot be read. */
	ASSERT_EQ(0, translate(self->fd, p, 4, MODEGATE_VA_FAULT_IN, pg));
	EXPECT_EQ(0, pg[2].flags & P_PRESENT);
	EXPECT_EQ(0, pg[3].flags & P_PRESENT);
	munmap(p, 3 * self->page);
}

/*
 * A contiguous virtual range is not contiguous physical memory.  The
 * range's pages are allocated alternately with another range's, so even an
 * allocator that hands out ascending frames cannot give it consecutive ones.
 */
TEST_F(va, contiguous_range_sits_on_scattered_frames)
{
	enum { N = 64 };
	char *a = map_anon(N * self->page), *b = map_anon(N * self->page);
	struct modegate_va_page pg[N];
	int consecutive = 0;

	ASSERT_NE(MAP_FAILED, a);
	ASSERT_NE(MAP_FAILED, b);
	for (int i = 0; i < N; i++) {
		a[i * self->page] = 1;
		b[i * self->page] = 1;
	}
	ASSERT_EQ(0, translate(self->fd, a, N, 0, pg));
	for (int i = 0; i < N; i++) {
		ASSERT_EQ(P_PRESENT | P_WRITABLE | MODEGATE_PAGE_PFN_VALID,
			  pg[i].flags & (P_PRESENT | P_WRITABLE | MODEGATE_PAGE_PFN_VALID));
		for (int j = 0; j < i; j++) {
			ASSERT_NE(pg[i].pfn, pg[j].pfn);
			ASSERT_NE(pg[i].page_id, pg[j].page_id);
		}
		if (i && pg[i].pfn == pg[i - 1].pfn + 1)
			consecutive++;
	}
	EXPECT_LT(consecutive, N - 1) TH_LOG("all %d frames consecutive", N);
	TH_LOG("%d of %d neighbours on consecutive frames", consecutive, N - 1);
	munmap(a, N * self->page);
	munmap(b, N * self->page);
}

/* Child side of the COW test: report, wait, write, report. */
static void cow_child(int fd, char *p, int to_parent, int from_parent)
{
	struct modegate_va_page pg;
	struct modegate_va_translate va = {
		.addr = MG_PTR(p), .nr_pages = 1, .pages = MG_PTR(&pg),
	};
	char go;

	if (ioctl(fd, MODEGATE_IOC_VA_TRANSLATE, &va) ||
	    write(to_parent, &pg, sizeof(pg)) != sizeof(pg))
		_exit(1);
	if (read(from_parent, &go, 1) != 1)
		_exit(2);
	p[0] = 'c';	/* breaks COW */
	if (ioctl(fd, MODEGATE_IOC_VA_TRANSLATE, &va) ||
	    write(to_parent, &pg, sizeof(pg)) != sizeof(pg))
		_exit(3);
	_exit(0);
}

TEST_F(va, fork_shares_pages_until_a_write_breaks_cow)
{
	char *p = map_anon(self->page);
	struct modegate_va_page before, parent, child1, child2, after;
	int up[2], down[2], status;
	pid_t pid;

	ASSERT_NE(MAP_FAILED, p);
	p[0] = 'p';
	before = one(_metadata, self->fd, p, 0);
	ASSERT_EQ(P_PRESENT | P_WRITABLE, before.flags & (P_PRESENT | P_WRITABLE));
	ASSERT_EQ(0, pipe(up));
	ASSERT_EQ(0, pipe(down));
	pid = mg_fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		cow_child(self->fd, p, up[1], down[0]);

	ASSERT_EQ(sizeof(child1), read(up[0], &child1, sizeof(child1)));
	parent = one(_metadata, self->fd, p, 0);
	/* Same address, same page, in both; write-protected for COW. */
	EXPECT_EQ(before.page_id, parent.page_id);
	EXPECT_EQ(before.page_id, child1.page_id);
	EXPECT_EQ(before.pfn, child1.pfn);
	EXPECT_EQ(P_PRESENT, parent.flags & (P_PRESENT | P_WRITABLE));
	EXPECT_EQ(P_PRESENT, child1.flags & (P_PRESENT | P_WRITABLE));

	ASSERT_EQ(1, write(down[1], "w", 1));
	ASSERT_EQ(sizeof(child2), read(up[0], &child2, sizeof(child2)));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	/* Same address, different pages now. */
	EXPECT_EQ(P_PRESENT | P_WRITABLE, child2.flags & (P_PRESENT | P_WRITABLE));
	EXPECT_NE(before.page_id, child2.page_id);
	EXPECT_NE(before.pfn, child2.pfn);
	after = one(_metadata, self->fd, p, 0);
	EXPECT_EQ(before.page_id, after.page_id);
	EXPECT_EQ('p', p[0]);
	munmap(p, self->page);
}

/*
 * Whether frames are shown is decided at open, from the opener's
 * credentials, as for /proc/PID/pagemap: a file opened by root keeps
 * showing them after its user drops privileges; one opened without
 * CAP_SYS_ADMIN shows page identities only.
 */
TEST_F(va, frames_are_decided_by_the_openers_credentials)
{
	char *p = map_anon(self->page);
	struct modegate_va_page mine, theirs[2];
	int pfd[2], status;
	pid_t pid;

	ASSERT_NE(MAP_FAILED, p);
	p[0] = 1;
	mine = one(_metadata, self->fd, p, 0);
	ASSERT_TRUE(mine.flags & MODEGATE_PAGE_PFN_VALID);
	ASSERT_EQ(0, pipe(pfd));
	/* The node is 0600: open it to the child for a moment. */
	ASSERT_EQ(0, chmod(MG_DEV, 0666));
	pid = mg_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct modegate_va_translate va = { .addr = MG_PTR(p), .nr_pages = 1 };
		int fd;

		if (setgid(65534) || setuid(65534) || getuid() != 65534)
			_exit(1);
		va.pages = MG_PTR(&theirs[0]);
		if (ioctl(self->fd, MODEGATE_IOC_VA_TRANSLATE, &va))
			_exit(2);
		fd = open(MG_DEV, O_RDWR);
		va.pages = MG_PTR(&theirs[1]);
		if (fd < 0 || ioctl(fd, MODEGATE_IOC_VA_TRANSLATE, &va))
			_exit(3);
		_exit(write(pfd[1], theirs, sizeof(theirs)) == sizeof(theirs) ? 0 : 4);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, chmod(MG_DEV, 0600));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(sizeof(theirs), read(pfd[0], theirs, sizeof(theirs)));
	/* Root's file, used without privileges: frames, as root opened it. */
	EXPECT_TRUE(theirs[0].flags & MODEGATE_PAGE_PFN_VALID);
	EXPECT_FALSE(theirs[0].flags & MODEGATE_PAGE_PFN_HIDDEN);
	/* Its own file: no frame numbers. */
	EXPECT_TRUE(theirs[1].flags & P_PRESENT);
	EXPECT_TRUE(theirs[1].flags & MODEGATE_PAGE_PFN_HIDDEN);
	EXPECT_FALSE(theirs[1].flags & MODEGATE_PAGE_PFN_VALID);
	EXPECT_EQ(0, theirs[1].pfn);
	/* The COW-shared page: one identity through one file, another through its own. */
	EXPECT_EQ(mine.page_id, theirs[0].page_id);
	EXPECT_NE(mine.page_id, theirs[1].page_id);
	munmap(p, self->page);
}

TEST_F(va, huge_page_is_flagged)
{
	size_t huge = 2UL << 20;
	char *raw, *p;
	struct modegate_va_page pg[2];
	char mode[128] = "";
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");

	if (!f || !fgets(mode, sizeof(mode), f) || strstr(mode, "[never]"))
		SKIP(return, "transparent huge pages are off: %s", mode);
	fclose(f);
	raw = mmap(NULL, 2 * huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, raw);
	p = (char *)(((uintptr_t)raw + huge - 1) & ~(huge - 1));
	ASSERT_EQ(0, madvise(p, huge, MADV_HUGEPAGE));
	memset(p, 1, huge);
	ASSERT_EQ(0, translate(self->fd, p + 5 * self->page, 2, 0, pg));
	EXPECT_TRUE(pg[0].flags & MODEGATE_PAGE_HUGE);
	EXPECT_TRUE(pg[1].flags & MODEGATE_PAGE_HUGE);
	EXPECT_EQ(pg[0].pfn + 1, pg[1].pfn);
	munmap(raw, 2 * huge);
}

TEST_F(va, bad_arguments)
{
	char *p = map_anon(self->page);
	struct modegate_va_page pg[2];
	struct modegate_va_translate va = { .addr = MG_PTR(p), .nr_pages = 1,
					    .pages = MG_PTR(pg) };

	ASSERT_NE(MAP_FAILED, p);
	va.nr_pages = 0;
	EXPECT_EQ(-1, ioctl(self->fd, MODEGATE_IOC_VA_TRANSLATE, &va));
	EXPECT_EQ(EINVAL, errno);
	va.nr_pages = self->info.max_va_pages + 1;
	EXPECT_EQ(-1, ioctl(self->fd, MODEGATE_IOC_VA_TRANSLATE, &va));
	EXPECT_EQ(EINVAL, errno);
	va.nr_pages = 1ULL << 40;
	EXPECT_EQ(-1, ioctl(self->fd, MODEGATE_IOC_VA_TRANSLATE, &va));
	EXPECT_EQ(EINVAL, errno);

	/* The range must be user memory. */
	va.nr_pages = 1;
	va.addr = MG_KADDR_DIRECT_MAP;
	EXPECT_EQ(-1, ioctl(self->fd, MODEGATE_IOC_VA_TRANSLATE, &va));
	EXPECT_EQ(EFAULT, errno);
	va.addr = self->info.task_size - self->page;
	va.nr_pages = 2;
	EXPECT_EQ(-1, ioctl(self->fd, MODEGATE_IOC_VA_TRANSLATE, &va));
	EXPECT_EQ(EFAULT, errno);
	va.addr = ~0ULL;
	va.nr_pages = 1;
	EXPECT_EQ(-1, ioctl(self->fd, MODEGATE_IOC_VA_TRANSLATE, &va));
	EXPECT_EQ(EFAULT, errno);
	/* The last user page itself is fine (and not mapped). */
	va.addr = self->info.task_size - 1;
	ASSERT_EQ(0, ioctl(self->fd, MODEGATE_IOC_VA_TRANSLATE, &va));
	EXPECT_EQ(self->info.task_size - self->page, pg[0].vaddr);
	EXPECT_EQ(0, pg[0].flags & P_PRESENT);
	munmap(p, self->page);
}

TEST_F(va, bad_result_array_is_efault)
{
	char *p = map_anon(self->page);
	unsigned char *g = mg_map_guarded(1);
	void *none = mmap(NULL, self->page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	void *ro = mmap(NULL, self->page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct modegate_va_translate va = { .addr = MG_PTR(p), .nr_pages = 4 };
	const __u64 bad[] = {
		0, MG_KADDR_DIRECT_MAP, MG_KADDR_TEXT, ~0ULL - 64,
		MG_PTR(none), MG_PTR(ro),
		/* Four entries, the last one across the guard page. */
		MG_PTR(g) + self->page - 4 * sizeof(struct modegate_va_page) + 8,
	};

	ASSERT_NE(MAP_FAILED, p);
	ASSERT_NE(MAP_FAILED, g);
	ASSERT_NE(MAP_FAILED, none);
	ASSERT_NE(MAP_FAILED, ro);
	for (int k = 0; k < 7; k++) {
		va.pages = bad[k];
		va.nr_done = 0;
		errno = 0;
		EXPECT_EQ(-1, ioctl(self->fd, MODEGATE_IOC_VA_TRANSLATE, &va)) TH_LOG("pointer %d", k);
		EXPECT_EQ(EFAULT, errno) TH_LOG("pointer %d", k);
	}
	munmap(p, self->page);
	munmap(none, self->page);
	munmap(ro, self->page);
	mg_unmap_guarded(g, 1);
}

TEST_HARNESS_MAIN
