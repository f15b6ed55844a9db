// SPDX-License-Identifier: GPL-2.0
/*
 * INFO's limits, and MODEGATE_IOC_PROBE: the kernel touches an address the
 * caller chooses and says what happened, for good, partial, unmapped,
 * PROT_NONE, read-only and kernel addresses.
 */
#include "modegate_test.h"
#include "kselftest_harness.h"

FIXTURE(probe) {
	int fd;
	size_t page;
	struct modegate_info info;
};

FIXTURE_SETUP(probe)
{
	ASSERT_EQ(0, mg_ensure_default());
	self->fd = open(MG_DEV, O_RDWR);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, mg_info(self->fd, &self->info));
	self->page = mg_page_size();
}

FIXTURE_TEARDOWN(probe)
{
	close(self->fd);
}

static const __u32 ops[] = { MODEGATE_PROBE_TO_USER, MODEGATE_PROBE_FROM_USER };

/* The probe's four outputs; @what names the case in a failure. */
static void expect_probe(struct __test_metadata *_metadata, const struct modegate_probe *p,
			 __u32 outcome, __u64 copied, __u64 fault_addr, int error,
			 const char *what)
{
	EXPECT_EQ(outcome, p->outcome) TH_LOG("%s", what);
	EXPECT_EQ(copied, p->copied) TH_LOG("%s", what);
	EXPECT_EQ(fault_addr, p->fault_addr) TH_LOG("%s", what);
	EXPECT_EQ(error, p->error) TH_LOG("%s", what);
}

#define EXPECT_PROBE(_p, _outcome, _copied, _fault_addr, _error) \
	expect_probe(_metadata, &(_p), _outcome, _copied, _fault_addr, _error, __func__)

static int all_bytes(const void *buf, size_t len, unsigned char c)
{
	const unsigned char *b = buf;

	for (size_t i = 0; i < len; i++)
		if (b[i] != c)
			return 0;
	return 1;
}

TEST_F(probe, info_reports_the_two_modes_and_the_limits)
{
	struct modegate_info *i = &self->info;

	EXPECT_EQ(MODEGATE_ABI_VERSION, i->abi_version);
	EXPECT_EQ(self->page, i->page_size);
	EXPECT_EQ(3, i->caller_cpl);
	EXPECT_EQ(0, i->handler_cpl);
	EXPECT_TRUE(i->mode_flags & MODEGATE_MODE_USER_ENTRY);
	EXPECT_FALSE(i->mode_flags & MODEGATE_MODE_COMPAT);
	EXPECT_EQ(0, i->mode_flags & ~MODEGATE_MODE_ALL);
	EXPECT_TRUE(i->task_size == (1ULL << 47) - self->page ||
		    i->task_size == (1ULL << 56) - self->page);
	EXPECT_TRUE(i->features & MODEGATE_FEAT_STORE);
	EXPECT_TRUE(i->features & MODEGATE_FEAT_PROBE);
	EXPECT_TRUE(i->features & MODEGATE_FEAT_VA_TRANSLATE);
	EXPECT_EQ(1024 * 1024, i->store_capacity);
	EXPECT_EQ(65536, i->max_probe_len);
	EXPECT_EQ(512, i->max_va_pages);
	EXPECT_EQ(256, i->max_async_batch);
	EXPECT_EQ(1024, i->max_async_inflight);
	EXPECT_EQ(10ULL * 1000 * 1000 * 1000, i->max_latency_ns);
	EXPECT_EQ(0, i->reserved);
	EXPECT_EQ(0, i->reserved2);
}

TEST_F(probe, to_user_writes_the_pattern)
{
	unsigned char *buf = mg_map_page(PROT_READ | PROT_WRITE, 0x11);
	struct modegate_probe p;

	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_EQ(0, mg_probe(self->fd, MG_PTR(buf), self->page, MODEGATE_PROBE_TO_USER, &p));
	EXPECT_PROBE(p, MODEGATE_PROBE_OK, self->page, 0, 0);
	EXPECT_TRUE(all_bytes(buf, self->page, MODEGATE_PROBE_PATTERN));
	munmap(buf, self->page);
}

TEST_F(probe, from_user_reads_and_changes_nothing)
{
	unsigned char *buf = mg_map_page(PROT_READ | PROT_WRITE, 0x11);
	struct modegate_probe p;

	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_EQ(0, mg_probe(self->fd, MG_PTR(buf) + 1, 1000, MODEGATE_PROBE_FROM_USER, &p));
	EXPECT_PROBE(p, MODEGATE_PROBE_OK, 1000, 0, 0);
	EXPECT_TRUE(all_bytes(buf, self->page, 0x11));
	munmap(buf, self->page);
}

TEST_F(probe, largest_probe_is_accepted_one_more_is_too_big)
{
	size_t max = self->info.max_probe_len;
	unsigned char *buf = mmap(NULL, max + self->page, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct modegate_probe p;

	ASSERT_NE(MAP_FAILED, buf);
	memset(buf, 0x22, max + 1);
	for (int i = 0; i < 2; i++) {
		ASSERT_EQ(0, mg_probe(self->fd, MG_PTR(buf), max + 1, ops[i], &p));
		EXPECT_PROBE(p, MODEGATE_PROBE_TOO_BIG, 0, MG_PTR(buf), -EINVAL);
		ASSERT_EQ(0, mg_probe(self->fd, MG_PTR(buf), ~0ULL, ops[i], &p));
		EXPECT_EQ(MODEGATE_PROBE_TOO_BIG, p.outcome);
	}
	EXPECT_TRUE(all_bytes(buf, max + 1, 0x22));
	ASSERT_EQ(0, mg_probe(self->fd, MG_PTR(buf), max, MODEGATE_PROBE_TO_USER, &p));
	EXPECT_PROBE(p, MODEGATE_PROBE_OK, max, 0, 0);
	EXPECT_TRUE(all_bytes(buf, max, MODEGATE_PROBE_PATTERN));
	EXPECT_EQ(0x22, buf[max]);
	munmap(buf, max + self->page);
}

TEST_F(probe, zero_length_is_ok)
{
	unsigned char *buf = mg_map_page(PROT_READ | PROT_WRITE, 0x11);
	struct modegate_probe p;

	ASSERT_NE(MAP_FAILED, buf);
	for (int i = 0; i < 2; i++) {
		ASSERT_EQ(0, mg_probe(self->fd, MG_PTR(buf), 0, ops[i], &p));
		EXPECT_PROBE(p, MODEGATE_PROBE_OK, 0, 0, 0);
	}
	munmap(buf, self->page);
}

TEST_F(probe, page_spanning_buffer_is_partial)
{
	unsigned char *g = mg_map_guarded(1);
	__u64 addr = MG_PTR(g) + self->page - 100;
	struct modegate_probe p;

	ASSERT_NE(MAP_FAILED, g);
	for (int i = 0; i < 2; i++) {
		ASSERT_EQ(0, mg_probe(self->fd, addr, 300, ops[i], &p));
		EXPECT_PROBE(p, MODEGATE_PROBE_PARTIAL, 100, addr + 100, -EFAULT);
	}
	/* The copy_to_user() wrote exactly the bytes it reports. */
	EXPECT_TRUE(all_bytes(g + self->page - 100, 100, MODEGATE_PROBE_PATTERN));
	EXPECT_TRUE(all_bytes(g, self->page - 100, 0));
	mg_unmap_guarded(g, 1);
}

TEST_F(probe, unmapped_and_prot_none_fault)
{
	void *gone = mg_map_page(PROT_READ | PROT_WRITE, 0x11);
	void *none = mg_map_page(PROT_NONE, 0x11);
	__u64 addrs[] = { 0, MG_PTR(gone), MG_PTR(none) };
	struct modegate_probe p;

	ASSERT_NE(MAP_FAILED, gone);
	ASSERT_NE(MAP_FAILED, none);
	ASSERT_EQ(0, munmap(gone, self->page));
	for (int a = 0; a < 3; a++) {
		for (int i = 0; i < 2; i++) {
			ASSERT_EQ(0, mg_probe(self->fd, addrs[a], 64, ops[i], &p));
			expect_probe(_metadata, &p, MODEGATE_PROBE_FAULT, 0, addrs[a], -EFAULT,
				     a == 0 ? "NULL" : a == 1 ? "unmapped" : "PROT_NONE");
		}
	}
	munmap(none, self->page);
}

TEST_F(probe, read_only_mapping_is_readonly_for_to_user_only)
{
	unsigned char *ro = mg_map_page(PROT_READ, 0x11);
	unsigned char *two = mmap(NULL, 2 * self->page, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct modegate_probe p;
	__u64 addr;

	ASSERT_NE(MAP_FAILED, ro);
	ASSERT_NE(MAP_FAILED, two);
	ASSERT_EQ(0, mg_probe(self->fd, MG_PTR(ro) + 8, 64, MODEGATE_PROBE_TO_USER, &p));
	EXPECT_PROBE(p, MODEGATE_PROBE_READONLY, 0, MG_PTR(ro) + 8, -EFAULT);
	EXPECT_TRUE(all_bytes(ro, self->page, 0x11));
	ASSERT_EQ(0, mg_probe(self->fd, MG_PTR(ro) + 8, 64, MODEGATE_PROBE_FROM_USER, &p));
	EXPECT_PROBE(p, MODEGATE_PROBE_OK, 64, 0, 0);

	/* Writable, then read-only: partial, up to the read-only page. */
	memset(two, 0, 2 * self->page);
	ASSERT_EQ(0, mprotect(two + self->page, self->page, PROT_READ));
	addr = MG_PTR(two) + self->page - 50;
	ASSERT_EQ(0, mg_probe(self->fd, addr, 100, MODEGATE_PROBE_TO_USER, &p));
	EXPECT_PROBE(p, MODEGATE_PROBE_PARTIAL, 50, addr + 50, -EFAULT);
	EXPECT_TRUE(all_bytes(two + self->page, self->page, 0));
	munmap(ro, self->page);
	munmap(two, 2 * self->page);
}

TEST_F(probe, kernel_and_wrapping_addresses_are_not_user)
{
	const struct { const char *name; __u64 addr, len; } bad[] = {
		{ "kernel direct map", MG_KADDR_DIRECT_MAP, 64 },
		{ "kernel text", MG_KADDR_TEXT, 64 },
		{ "vsyscall page", 0xffffffffff600000ULL, 8 },
		{ "non-canonical", 0x8000000000000000ULL, 8 },
		{ "wrapping range", ~0ULL - 10, 100 },
		{ "across the top of user space", self->info.task_size - 10, 100 },
	};
	struct modegate_stats a, b;
	struct modegate_probe p;

	ASSERT_EQ(0, mg_stats(self->fd, &a));
	for (int k = 0; k < 6; k++) {
		for (int i = 0; i < 2; i++) {
			ASSERT_EQ(0, mg_probe(self->fd, bad[k].addr, bad[k].len, ops[i], &p));
			expect_probe(_metadata, &p, MODEGATE_PROBE_NOT_USER, 0, bad[k].addr,
				     -EFAULT, bad[k].name);
		}
	}
	ASSERT_EQ(0, mg_stats(self->fd, &b));
	/* Probes, of any outcome, count; access_ok() refusals are not faults. */
	EXPECT_EQ(a.probes + 12, b.probes);
	EXPECT_EQ(a.faults, b.faults);
}

TEST_F(probe, faults_are_counted)
{
	unsigned char *g = mg_map_guarded(1);
	struct modegate_stats a, b;
	struct modegate_probe p;

	ASSERT_NE(MAP_FAILED, g);
	ASSERT_EQ(0, mg_stats(self->fd, &a));
	ASSERT_EQ(0, mg_probe(self->fd, MG_PTR(g), 10, MODEGATE_PROBE_TO_USER, &p));
	ASSERT_EQ(0, mg_probe(self->fd, MG_PTR(g) + self->page - 1, 2, MODEGATE_PROBE_TO_USER, &p));
	ASSERT_EQ(0, mg_probe(self->fd, MG_PTR(g) + self->page, 2, MODEGATE_PROBE_FROM_USER, &p));
	ASSERT_EQ(0, mg_stats(self->fd, &b));
	EXPECT_EQ(a.probes + 3, b.probes);
	EXPECT_EQ(a.faults + 2, b.faults);
	mg_unmap_guarded(g, 1);
}

TEST_F(probe, bad_op_and_flags_are_einval)
{
	unsigned char *buf = mg_map_page(PROT_READ | PROT_WRITE, 0x11);
	struct modegate_probe p = { .addr = MG_PTR(buf), .len = 8 };
	const __u32 bad_ops[] = { 0, 3, 0x80000000u, ~0u };

	ASSERT_NE(MAP_FAILED, buf);
	for (int i = 0; i < 4; i++) {
		p.op = bad_ops[i];
		errno = 0;
		EXPECT_EQ(-1, ioctl(self->fd, MODEGATE_IOC_PROBE, &p));
		EXPECT_EQ(EINVAL, errno);
	}
	p.op = MODEGATE_PROBE_TO_USER;
	for (int bit = 0; bit < 32; bit++) {
		p.flags = 1u << bit;
		errno = 0;
		EXPECT_EQ(-1, ioctl(self->fd, MODEGATE_IOC_PROBE, &p)) TH_LOG("bit %d", bit);
		EXPECT_EQ(EINVAL, errno);
	}
	/* Nothing was touched by the refused probes. */
	EXPECT_TRUE(all_bytes(buf, self->page, 0x11));
	munmap(buf, self->page);
}

TEST_F(probe, trace_event_names_the_outcome)
{
	unsigned char *g = mg_map_guarded(1);
	struct modegate_probe p;
	char want[128], *trace;

	ASSERT_NE(MAP_FAILED, g);
	ASSERT_EQ(0, mg_trace_start("mg_probe_test", "modegate_probe"));
	ASSERT_EQ(0, mg_probe(self->fd, MG_PTR(g) + self->page - 4, 8,
			   MODEGATE_PROBE_TO_USER, &p));
	ASSERT_EQ(0, mg_probe(self->fd, MG_KADDR_TEXT, 8, MODEGATE_PROBE_FROM_USER, &p));
	trace = mg_trace_read("mg_probe_test");
	mg_trace_stop("mg_probe_test");
	ASSERT_NE(NULL, trace);
	snprintf(want, sizeof(want), "to_user addr=%#llx len=8 -> PARTIAL copied=4",
		 (unsigned long long)MG_PTR(g) + self->page - 4);
	EXPECT_NE(NULL, strstr(trace, want)) TH_LOG("%s", trace);
	snprintf(want, sizeof(want), "from_user addr=%#llx len=8 -> NOT_USER copied=0",
		 (unsigned long long)MG_KADDR_TEXT);
	EXPECT_NE(NULL, strstr(trace, want)) TH_LOG("%s", trace);
	free(trace);
	mg_unmap_guarded(g, 1);
}

TEST_HARNESS_MAIN
