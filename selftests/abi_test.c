// SPDX-License-Identifier: GPL-2.0
/*
 * The ioctl ABI rules of include/uapi/linux/modegate.h, command by command:
 * unknown numbers, directions and magics are -ENOTTY; a struct smaller than
 * version 1 is -EINVAL; a larger one is accepted with a zero tail and
 * -E2BIG with a nonzero tail; unknown flags and nonzero reserved fields are
 * -EINVAL; and every bad argument pointer is -EFAULT.
 */
#include <stddef.h>

#include "modegate_test.h"
#include "kselftest_harness.h"

#define TAIL	64	/* bytes a "newer" caller appends to a struct */

/*
 * One row per command.  @valid fills a zeroed argument with a valid one
 * (pointing into @scratch, a page of user memory); @valid_errno is what
 * that argument gets (BYSTANDER is -EPERM without the module parameter
 * allow_wrong_process_demo).  @flags_off is the offset of a __u32 flags
 * field whose bits other than @known_flags are -EINVAL, or -1; @reserved_off
 * and @reserved_size describe a reserved field that must be zero on input,
 * or -1.
 */
struct cmd {
	const char *name;
	unsigned int cmd;
	void (*valid)(void *arg, void *scratch);
	int valid_errno;
	int flags_off;
	__u32 known_flags;
	int reserved_off;
	int reserved_size;
};

static void valid_nothing(void *arg, void *scratch)
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

static void valid_submit(void *arg, void *scratch)
{
	struct modegate_async_submit *s = arg;
	struct modegate_async_req *r = scratch;

	/* One request with no strategy: refused on its own, queued 0. */
	memset(r, 0, sizeof(*r));
	s->reqs = MG_PTR(r);
	s->nr = 1;
	s->req_size = sizeof(*r);
}

static void valid_reap(void *arg, void *scratch)
{
	struct modegate_async_reap *r = arg;

	r->comps = MG_PTR(scratch);
	r->nr = 1;
	r->comp_size = sizeof(struct modegate_async_completion);
}

static void valid_cancel(void *arg, void *scratch)
{
	((struct modegate_async_cancel *)arg)->flags = MODEGATE_CANCEL_ALL;
}

static void valid_eventfd(void *arg, void *scratch)
{
	((struct modegate_async_eventfd *)arg)->fd = -1;
}

#define NONE	-1, 0
#define FLAGS(type, known)	offsetof(struct type, flags), known
#define RESERVED(type)		offsetof(struct type, reserved), \
				sizeof(((struct type *)0)->reserved)
#define CMD(c, v, e, f, r)	{ #c, c, v, e, f, r }
static const struct cmd cmds[] = {
	CMD(MODEGATE_IOC_INFO, valid_nothing, 0, NONE, NONE),
	CMD(MODEGATE_IOC_PROBE, valid_probe, 0, FLAGS(modegate_probe, 0), NONE),
	CMD(MODEGATE_IOC_VA_TRANSLATE, valid_va, 0,
	    FLAGS(modegate_va_translate, MODEGATE_VA_FAULT_IN), RESERVED(modegate_va_translate)),
	CMD(MODEGATE_IOC_STATS, valid_nothing, 0, NONE, NONE),
	CMD(MODEGATE_IOC_ASYNC_SUBMIT, valid_submit, 0, FLAGS(modegate_async_submit, 0), NONE),
	CMD(MODEGATE_IOC_ASYNC_REAP, valid_reap, 0, FLAGS(modegate_async_reap, 0), NONE),
	CMD(MODEGATE_IOC_ASYNC_WAIT, valid_nothing, 0,
	    FLAGS(modegate_async_wait, 0), RESERVED(modegate_async_wait)),
	CMD(MODEGATE_IOC_ASYNC_CANCEL, valid_cancel, 0,
	    FLAGS(modegate_async_cancel, MODEGATE_CANCEL_ALL), NONE),
	CMD(MODEGATE_IOC_ASYNC_EVENTFD, valid_eventfd, 0, FLAGS(modegate_async_eventfd, 0), NONE),
	CMD(MODEGATE_IOC_BYSTANDER, valid_nothing, EPERM,
	    FLAGS(modegate_bystander, MODEGATE_BYSTANDER_REGISTER), RESERVED(modegate_bystander)),
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

		memset(self->arg, 0, 4096);
		cmds[i].valid(self->arg, self->scratch);
		/* Beyond the tail the caller's memory is not the kernel's business. */
		memset(self->arg + size + TAIL, 0xee, 64);
		EXPECT_EQ(cmds[i].valid_errno, ioctl_errno(self->fd, c, self->arg))
			TH_LOG("%s, its own size", cmds[i].name);
		memset(self->arg, 0, size + TAIL);
		cmds[i].valid(self->arg, self->scratch);
		EXPECT_EQ(cmds[i].valid_errno, ioctl_errno(self->fd, resize(c, size + TAIL), self->arg))
			TH_LOG("%s, %d bytes larger", cmds[i].name, TAIL);
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
	for (size_t i = 0; i < NR_CMDS; i++) {
		if (cmds[i].flags_off < 0)
			continue;
		for (int bit = 0; bit < 32; bit++) {
			__u32 flag = 1u << bit;

			if (flag & cmds[i].known_flags)
				continue;
			memset(self->arg, 0, 4096);
			cmds[i].valid(self->arg, self->scratch);
			memcpy(self->arg + cmds[i].flags_off, &flag, sizeof(flag));
			EXPECT_EQ(EINVAL, ioctl_errno(self->fd, cmds[i].cmd, self->arg))
				TH_LOG("%s flag bit %d", cmds[i].name, bit);
		}
	}
}

TEST_F(abi, nonzero_reserved_is_einval)
{
	for (size_t i = 0; i < NR_CMDS; i++) {
		if (cmds[i].reserved_off < 0)
			continue;
		for (int byte = 0; byte < cmds[i].reserved_size; byte++) {
			memset(self->arg, 0, 4096);
			cmds[i].valid(self->arg, self->scratch);
			self->arg[cmds[i].reserved_off + byte] = 0x80;
			EXPECT_EQ(EINVAL, ioctl_errno(self->fd, cmds[i].cmd, self->arg))
				TH_LOG("%s reserved byte %d", cmds[i].name, byte);
		}
	}
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

		if (!(_IOC_DIR(c) & _IOC_READ))
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
