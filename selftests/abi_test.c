// SPDX-License-Identifier: GPL-2.0
/*
 * The ioctl ABI rules of include/uapi/linux/modegate.h, command by command:
 * unknown numbers, directions and magics are -ENOTTY; a struct smaller than
 * version 1 is -EINVAL; a larger one is accepted with a zero tail and
 * -E2BIG with a nonzero tail; unknown flags and nonzero reserved fields are
 * -EINVAL; and every bad argument pointer is -EFAULT.
 */
#include <sys/wait.h>

#include "modegate_test.h"
#include "kselftest_harness.h"

#define TAIL	64	/* bytes a "newer" caller appends to a struct */

struct cmd {
	const char *name;
	unsigned int cmd;
	/*
	 * Fill @arg (at least the struct's size, zeroed) with a valid
	 * argument; NULL when the command's valid use is tested elsewhere.
	 */
	void (*valid)(void *arg, void *scratch);
};

static void valid_info(void *arg, void *scratch)
{
}

static void valid_probe(void *arg, void *scratch)
{
	struct modegate_probe *p = arg;

	p->addr = MG_PTR(scratch);
	p->len = 16;
	p->op = MODEGATE_PROBE_TO_USER;
}

static void valid_va(void *arg, void *scratch)
{
	struct modegate_va_translate *va = arg;

	/* scratch: one page to translate, then room for its result. */
	va->addr = MG_PTR(scratch);
	va->nr_pages = 1;
	va->pages = MG_PTR(scratch) + 2048;
}

#define CMD(c, v) { #c, c, v }
static const struct cmd cmds[] = {
	CMD(MODEGATE_IOC_INFO, valid_info),
	CMD(MODEGATE_IOC_PROBE, valid_probe),
	CMD(MODEGATE_IOC_VA_TRANSLATE, valid_va),
	CMD(MODEGATE_IOC_STATS, valid_info),
	CMD(MODEGATE_IOC_ASYNC_SUBMIT, NULL),
	CMD(MODEGATE_IOC_ASYNC_REAP, NULL),
	CMD(MODEGATE_IOC_ASYNC_WAIT, NULL),
	CMD(MODEGATE_IOC_ASYNC_CANCEL, NULL),
	CMD(MODEGATE_IOC_ASYNC_EVENTFD, NULL),
	CMD(MODEGATE_IOC_BYSTANDER, NULL),
};
#define NR_CMDS (sizeof(cmds) / sizeof(cmds[0]))

static unsigned int resize(unsigned int cmd, unsigned int size)
{
	return _IOC(_IOC_DIR(cmd), _IOC_TYPE(cmd), _IOC_NR(cmd), size);
}

FIXTURE(abi) {
	int fd;
	size_t page;
	unsigned char *arg;	/* argument buffer, large enough for any struct + TAIL */
	unsigned char *scratch;	/* user memory a valid argument points at */
};

FIXTURE_SETUP(abi)
{
	ASSERT_EQ(0, mg_ensure_default());
	self->fd = open(MG_DEV, O_RDWR);
	ASSERT_LE(0, self->fd);
	self->page = mg_page_size();
	self->arg = calloc(1, 4096);
	self->scratch = mmap(NULL, self->page, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(NULL, self->arg);
	ASSERT_NE(MAP_FAILED, self->scratch);
}

FIXTURE_TEARDOWN(abi)
{
	free(self->arg);
	munmap(self->scratch, self->page);
	close(self->fd);
}

static int ioctl_errno(int fd, unsigned int cmd, void *arg)
{
	errno = 0;
	return ioctl(fd, cmd, arg) ? errno : 0;
}

TEST_F(abi, unknown_numbers_are_enotty)
{
	static const unsigned int nrs[] = { 0x04, 0x05, 0x0f, 0x16, 0x17, 0x20, 0x7f, 0xff };
	static const unsigned int dirs[] = { _IOC_NONE, _IOC_READ, _IOC_WRITE,
					     _IOC_READ | _IOC_WRITE };

	for (int n = 0; n < 8; n++) {
		for (int d = 0; d < 4; d++) {
			for (unsigned int size = 0; size <= 128; size += 32) {
				EXPECT_EQ(ENOTTY, ioctl_errno(self->fd, _IOC(dirs[d],
						MODEGATE_IOC_MAGIC, nrs[n], size), self->arg))
					TH_LOG("nr %#x dir %u size %u", nrs[n], dirs[d], size);
			}
		}
	}
	/* Plain numbers, and other drivers' commands. */
	EXPECT_EQ(ENOTTY, ioctl_errno(self->fd, 0, self->arg));
	EXPECT_EQ(ENOTTY, ioctl_errno(self->fd, 0x5401 /* TCGETS */, self->arg));
}

TEST_F(abi, wrong_direction_is_enotty)
{
	static const unsigned int dirs[] = { _IOC_NONE, _IOC_READ, _IOC_WRITE,
					     _IOC_READ | _IOC_WRITE };

	for (size_t i = 0; i < NR_CMDS; i++) {
		unsigned int c = cmds[i].cmd;

		for (int d = 0; d < 4; d++) {
			if (dirs[d] == _IOC_DIR(c))
				continue;
			EXPECT_EQ(ENOTTY, ioctl_errno(self->fd, _IOC(dirs[d], _IOC_TYPE(c),
					_IOC_NR(c), _IOC_SIZE(c)), self->arg))
				TH_LOG("%s dir %u", cmds[i].name, dirs[d]);
		}
	}
}

TEST_F(abi, wrong_magic_is_enotty)
{
	static const unsigned int magics[] = { 0, MODEGATE_IOC_MAGIC - 1,
					       MODEGATE_IOC_MAGIC + 1, 0xff };

	for (size_t i = 0; i < NR_CMDS; i++) {
		unsigned int c = cmds[i].cmd;

		for (int m = 0; m < 4; m++) {
			EXPECT_EQ(ENOTTY, ioctl_errno(self->fd, _IOC(_IOC_DIR(c), magics[m],
					_IOC_NR(c), _IOC_SIZE(c)), self->arg))
				TH_LOG("%s magic %#x", cmds[i].name, magics[m]);
		}
	}
}

TEST_F(abi, smaller_struct_is_einval)
{
	for (size_t i = 0; i < NR_CMDS; i++) {
		unsigned int c = cmds[i].cmd, size = _IOC_SIZE(c);

		memset(self->arg, 0, 4096);
		EXPECT_EQ(EINVAL, ioctl_errno(self->fd, resize(c, size - 8), self->arg))
			TH_LOG("%s size %u", cmds[i].name, size - 8);
		EXPECT_EQ(EINVAL, ioctl_errno(self->fd, resize(c, size - 1), self->arg))
			TH_LOG("%s size %u", cmds[i].name, size - 1);
		EXPECT_EQ(EINVAL, ioctl_errno(self->fd, resize(c, 0), self->arg))
			TH_LOG("%s size 0", cmds[i].name);
	}
}

TEST_F(abi, larger_struct_with_nonzero_tail_is_e2big)
{
	for (size_t i = 0; i < NR_CMDS; i++) {
		unsigned int c = cmds[i].cmd, size = _IOC_SIZE(c);
		size_t at[] = { size, size + TAIL / 2, size + TAIL - 1 };

		if (!(_IOC_DIR(c) & _IOC_WRITE))
			continue;	/* output-only: see the test below */
		for (int k = 0; k < 3; k++) {
			memset(self->arg, 0, 4096);
			if (cmds[i].valid)
				cmds[i].valid(self->arg, self->scratch);
			self->arg[at[k]] = 1;
			EXPECT_EQ(E2BIG, ioctl_errno(self->fd, resize(c, size + TAIL), self->arg))
				TH_LOG("%s nonzero byte at %zu", cmds[i].name, at[k]);
		}
	}
}

TEST_F(abi, larger_struct_with_zero_tail_is_accepted)
{
	for (size_t i = 0; i < NR_CMDS; i++) {
		unsigned int c = cmds[i].cmd, size = _IOC_SIZE(c);

		if (!cmds[i].valid)
			continue;
		memset(self->arg, 0, 4096);
		cmds[i].valid(self->arg, self->scratch);
		/* Beyond the tail the caller's memory is not the kernel's business. */
		memset(self->arg + size + TAIL, 0xee, 64);
		EXPECT_EQ(0, ioctl_errno(self->fd, resize(c, size + TAIL), self->arg))
			TH_LOG("%s", cmds[i].name);
		for (int k = 0; k < TAIL; k++) {
			ASSERT_EQ(0, self->arg[size + k]) TH_LOG("%s tail byte %d", cmds[i].name, k);
		}
		for (int k = 0; k < 64; k++) {
			ASSERT_EQ(0xee, self->arg[size + TAIL + k]) TH_LOG("%s", cmds[i].name);
		}
	}
}

TEST_F(abi, output_only_struct_ignores_input_and_clears_the_tail)
{
	const unsigned int rcmds[] = { MODEGATE_IOC_INFO, MODEGATE_IOC_STATS };

	for (int i = 0; i < 2; i++) {
		unsigned int size = _IOC_SIZE(rcmds[i]);

		memset(self->arg, 0xff, size + TAIL);
		ASSERT_EQ(0, ioctl_errno(self->fd, resize(rcmds[i], size + TAIL), self->arg));
		for (int k = 0; k < TAIL; k++) {
			ASSERT_EQ(0, self->arg[size + k]) TH_LOG("tail byte %d", k);
		}
	}
	/* And the struct itself was rewritten: reserved fields are zero. */
	memset(self->arg, 0xff, 4096);
	ASSERT_EQ(0, ioctl(self->fd, MODEGATE_IOC_INFO, self->arg));
	EXPECT_EQ(0, ((struct modegate_info *)self->arg)->reserved);
	EXPECT_EQ(0, ((struct modegate_info *)self->arg)->reserved2);
	EXPECT_EQ(MODEGATE_ABI_VERSION, ((struct modegate_info *)self->arg)->abi_version);
	memset(self->arg, 0xff, 4096);
	ASSERT_EQ(0, ioctl(self->fd, MODEGATE_IOC_STATS, self->arg));
	EXPECT_EQ(0, ((struct modegate_stats *)self->arg)->reserved);
}

TEST_F(abi, unknown_flags_are_einval)
{
	struct modegate_probe p;
	struct modegate_va_translate va;

	for (int bit = 0; bit < 32; bit++) {
		memset(&p, 0, sizeof(p));
		valid_probe(&p, self->scratch);
		p.flags = 1u << bit;
		EXPECT_EQ(EINVAL, ioctl_errno(self->fd, MODEGATE_IOC_PROBE, &p)) TH_LOG("bit %d", bit);

		memset(&va, 0, sizeof(va));
		valid_va(&va, self->scratch);
		va.flags = 1u << bit;
		if (va.flags == MODEGATE_VA_FAULT_IN)
			continue;
		EXPECT_EQ(EINVAL, ioctl_errno(self->fd, MODEGATE_IOC_VA_TRANSLATE, &va))
			TH_LOG("bit %d", bit);
	}
}

TEST_F(abi, nonzero_reserved_is_einval)
{
	struct modegate_va_translate va;

	for (int bit = 0; bit < 64; bit += 7) {
		memset(&va, 0, sizeof(va));
		valid_va(&va, self->scratch);
		va.reserved = 1ULL << bit;
		EXPECT_EQ(EINVAL, ioctl_errno(self->fd, MODEGATE_IOC_VA_TRANSLATE, &va))
			TH_LOG("bit %d", bit);
	}
	memset(&va, 0, sizeof(va));
	valid_va(&va, self->scratch);
	EXPECT_EQ(0, ioctl_errno(self->fd, MODEGATE_IOC_VA_TRANSLATE, &va));
}

/*
 * Argument pointers nothing can be copied from or to.  NULL, a kernel
 * address, a wrapping range, PROT_NONE, and a struct whose last 8 bytes
 * fall into a PROT_NONE page.
 */
TEST_F(abi, bad_argument_pointer_is_efault)
{
	unsigned char *g = mg_map_guarded(1);
	void *none = mmap(NULL, self->page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, g);
	ASSERT_NE(MAP_FAILED, none);
	for (size_t i = 0; i < NR_CMDS; i++) {
		unsigned int c = cmds[i].cmd, size = _IOC_SIZE(c);
		void *bad[] = {
			NULL,
			(void *)(uintptr_t)MG_KADDR_DIRECT_MAP,
			(void *)(uintptr_t)MG_KADDR_TEXT,
			(void *)(UINTPTR_MAX - size / 2),
			none,
			g + self->page - size + 8,
		};

		for (int k = 0; k < 6; k++) {
			if (k == 5 && cmds[i].valid)
				cmds[i].valid(bad[k], self->scratch);
			EXPECT_EQ(EFAULT, ioctl_errno(self->fd, c, bad[k]))
				TH_LOG("%s bad pointer %d", cmds[i].name, k);
		}
	}
	munmap(none, self->page);
	mg_unmap_guarded(g, 1);
}

/* A read-only argument can be read but not written back: -EFAULT. */
TEST_F(abi, read_only_argument_of_a_command_that_writes_back_is_efault)
{
	for (size_t i = 0; i < NR_CMDS; i++) {
		unsigned int c = cmds[i].cmd;
		void *ro;

		if (!(_IOC_DIR(c) & _IOC_READ) || !cmds[i].valid)
			continue;
		ro = mmap(NULL, self->page, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ASSERT_NE(MAP_FAILED, ro);
		cmds[i].valid(ro, self->scratch);
		ASSERT_EQ(0, mprotect(ro, self->page, PROT_READ));
		EXPECT_EQ(EFAULT, ioctl_errno(self->fd, c, ro)) TH_LOG("%s", cmds[i].name);
		munmap(ro, self->page);
	}
}

TEST_HARNESS_MAIN
