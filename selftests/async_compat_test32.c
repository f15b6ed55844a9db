// SPDX-License-Identifier: GPL-2.0
/*
 * The async ABI from a 32-bit process (built -m32 -static): the structs
 * have the same layout, the ioctls the same numbers, and every strategy
 * delivers into the 32-bit address space -- and nowhere above it.
 */
#include "async_test.h"
#include "kselftest_harness.h"

FIXTURE(compat) {
	int fd;
	size_t cap;
	size_t page;
};

FIXTURE_SETUP(compat)
{
	ASSERT_EQ(4, sizeof(void *));
	self->fd = open(MG_DEV, O_RDWR);
	ASSERT_LE(0, self->fd);
	self->cap = mg_fill_store(self->fd);
	ASSERT_LT(0, self->cap);
	self->page = sysconf(_SC_PAGESIZE);
}

FIXTURE_TEARDOWN(compat)
{
	close(self->fd);
}

TEST_F(compat, every_strategy_delivers)
{
	struct modegate_async_completion c[MG_NR_DELIVERING + 1];
	struct modegate_async_req r[MG_NR_DELIVERING + 1];
	uint8_t *b = mg_map((MG_NR_DELIVERING + 1) * self->page, MAP_PRIVATE);
	int it, s, i;

	ASSERT_TRUE(b != NULL);
	for (it = 0; it < 200; it++) {
		memset(b, 0, (MG_NR_DELIVERING + 1) * self->page);
		for (s = 0; s < MG_NR_DELIVERING; s++)
			r[s] = mg_req(mg_delivering[s], b + s * self->page + it, 100,
				      it * 100 + s, (it % 4) * 50 * MG_USEC, -1, s);
		r[s] = mg_req(MODEGATE_STRAT_NAIVE, b + s * self->page, 100, 0, 0, -1, s);
		ASSERT_EQ(MG_NR_DELIVERING + 1, mg_submit(self->fd, r, MG_NR_DELIVERING + 1));
		ASSERT_EQ(MG_NR_DELIVERING + 1, mg_collect(self->fd, c, MG_NR_DELIVERING + 1));
		for (i = 0; i <= MG_NR_DELIVERING; i++) {
			s = c[i].user_data;
			ASSERT_EQ(r[s].strategy, c[i].strategy);
			ASSERT_EQ(getpid(), c[i].origin_tgid);
			if (c[i].strategy == MODEGATE_STRAT_NAIVE) {
				ASSERT_EQ(-EXDEV, c[i].result);
				ASSERT_TRUE(mg_all(b + s * self->page, 0, self->page));
			} else {
				ASSERT_EQ(100, c[i].result);
				ASSERT_TRUE(mg_match(b + s * self->page + it, it * 100 + s, 100));
			}
		}
	}
	munmap(b, (MG_NR_DELIVERING + 1) * self->page);
	ASSERT_QUIESCENT();
}

/* Addresses a 32-bit process cannot have: nothing is written there. */
TEST_F(compat, addresses_above_4g_fault)
{
	struct modegate_async_completion c[MG_NR_DELIVERING];
	struct modegate_async_req r[MG_NR_DELIVERING];
	int s;

	for (s = 0; s < MG_NR_DELIVERING; s++) {
		r[s] = mg_req(mg_delivering[s], NULL, 16, 0, 0, -1, s);
		r[s].buf = 0x100000000ULL + s * 0x1000;
	}
	ASSERT_EQ(MG_NR_DELIVERING - 1, mg_submit(self->fd, r, MG_NR_DELIVERING));
	ASSERT_EQ(-EFAULT, r[1].error);		/* PIN */
	ASSERT_EQ(MG_NR_DELIVERING - 1, mg_collect(self->fd, c, MG_NR_DELIVERING - 1));
	for (s = 0; s < MG_NR_DELIVERING - 1; s++)
		ASSERT_EQ(-EFAULT, c[s].result);
	ASSERT_QUIESCENT();
}

TEST_F(compat, wait_cancel_poll)
{
	struct pollfd pfd = { .fd = self->fd, .events = POLLPRI };
	struct modegate_async_completion c[2];
	struct modegate_async_req r[2];
	uint8_t buf[32];

	ASSERT_EQ(-ETIMEDOUT, mg_wait(self->fd, 1, MG_MSEC, NULL));
	r[0] = mg_req(MODEGATE_STRAT_ADOPT_MM, buf, 32, 5, 10 * MG_NSEC, -1, 1);
	r[1] = mg_req(MODEGATE_STRAT_BUFFERED, buf, 32, 5, 0, -1, 2);
	ASSERT_EQ(2, mg_submit(self->fd, r, 2));
	ASSERT_EQ(1, mg_cancel(self->fd, 1, 0));
	ASSERT_EQ(1, poll(&pfd, 1, MG_WAIT_NS / MG_MSEC));
	ASSERT_EQ(0, mg_wait(self->fd, 2, MG_WAIT_NS, NULL));
	ASSERT_EQ(2, mg_reap(self->fd, c, 2));
	ASSERT_EQ(-ECANCELED, c[c[0].user_data == 1 ? 0 : 1].result);
	ASSERT_EQ(32, c[c[0].user_data == 2 ? 0 : 1].result);
	ASSERT_TRUE(mg_match(buf, 5, 32));
	ASSERT_QUIESCENT();
}

TEST_HARNESS_MAIN
