// SPDX-License-Identifier: GPL-2.0
/*
 * A CPU isolated from timers and scheduler domains (isolcpus=, nohz_full=)
 * belongs to whoever isolated it: a member of the device's group cannot
 * aim interrupts (and the IPIs that program them) at it, and
 * MODEGATE_CPU_ANY never picks it.  CAP_SYS_NICE may.
 *
 * Meaningful only on a kernel booted with an isolated CPU: make check runs
 * this program once more in a VM booted with isolcpus=1 nohz_full=1, and
 * elsewhere it skips (reported as a skip, never as a pass).
 */
#include "async_test.h"
#include "kselftest_harness.h"

#define UID_USER	60021

/* The first isolated CPU (/sys/devices/system/cpu/isolated), or -1. */
static int iso_cpu(void)
{
	char text[64];
	int cpu;

	if (mg_read_text("/sys/devices/system/cpu/isolated", text, sizeof(text)) < 0 ||
	    sscanf(text, "%d", &cpu) != 1)
		return -1;
	return cpu;
}

/* A housekeeping CPU: the first one not isolated, or -1. */
static int iso_housekeeping(int isolated)
{
	return isolated == 0 ? (mg_nr_cpus() > 1 ? 1 : -1) : 0;
}

/* FIXTURE_SETUP's SKIP does not stop the test body: each test asks again. */
#define NEED_ISOLATED_CPU() do {					\
	if (self->cpu < 0)						\
		SKIP(return, "no isolated CPU (boot with isolcpus=)");	\
} while (0)

FIXTURE(iso) {
	int fd;
	int cpu;	/* isolated */
	int hk;		/* housekeeping */
	char buf[64];
};

FIXTURE_SETUP(iso)
{
	self->cpu = iso_cpu();
	if (self->cpu < 0)
		SKIP(return, "no isolated CPU (boot with isolcpus=)");
	self->hk = iso_housekeeping(self->cpu);
	ASSERT_LE(0, self->hk);
	ASSERT_EQ(0, mg_ensure_default());
	self->fd = open(MG_DEV, O_RDWR);
	ASSERT_LE(0, self->fd);
	ASSERT_LT(0, mg_fill_store(self->fd));
}

FIXTURE_TEARDOWN(iso)
{
	if (self->cpu >= 0)
		close(self->fd);
}

/* Submit one ADOPT_MM request for @cpu: its error (0 if queued) and completion. */
static int iso_one(int fd, char *buf, int cpu, struct modegate_async_completion *c)
{
	struct modegate_async_req r = mg_req(MODEGATE_STRAT_ADOPT_MM, buf, 64, 0,
					     100 * MG_USEC, cpu, 1);
	int n = mg_submit(fd, &r, 1);

	if (n < 0)
		return n;
	if (n == 0)
		return r.error;
	return mg_collect(fd, c, 1) == 1 ? 0 : -ETIME;
}

/* An unprivileged submitter: the isolated CPU is -EINVAL, a housekeeping one is fine. */
TEST_F(iso, isolated_cpu_is_refused_to_a_group_member)
{
	struct modegate_async_completion c;
	pid_t pid = mg_fork();

	NEED_ISOLATED_CPU();
	if (!pid) {
		if (mg_become(UID_USER))
			_exit(2);
		if (iso_one(self->fd, self->buf, self->cpu, &c) != -EINVAL)
			_exit(3);
		if (iso_one(self->fd, self->buf, self->hk, &c) || c.irq_cpu != self->hk)
			_exit(4);
		_exit(0);
	}
	ASSERT_EQ(0, mg_wait_child(pid)) TH_LOG("CPU %d isolated, %d housekeeping",
						 self->cpu, self->hk);
}

/* MODEGATE_CPU_ANY, submitted from the isolated CPU, lands on a housekeeping one. */
TEST_F(iso, cpu_any_never_picks_an_isolated_cpu)
{
	struct modegate_async_completion c;
	int i;

	NEED_ISOLATED_CPU();
	ASSERT_EQ(0, mg_pin_cpu(self->cpu));
	for (i = 0; i < 20; i++) {
		ASSERT_EQ(0, iso_one(self->fd, self->buf, MODEGATE_CPU_ANY, &c));
		ASSERT_NE(self->cpu, (int)c.irq_cpu);
	}
	ASSERT_EQ(0, mg_pin_cpu(self->hk));
}

/* CAP_SYS_NICE (root here) may use the isolated CPU. */
TEST_F(iso, cap_sys_nice_may_use_an_isolated_cpu)
{
	struct modegate_async_completion c;

	NEED_ISOLATED_CPU();
	ASSERT_EQ(0, iso_one(self->fd, self->buf, self->cpu, &c));
	ASSERT_EQ(self->cpu, (int)c.irq_cpu);
	ASSERT_EQ(64, c.result);
}

TEST_HARNESS_MAIN
