// SPDX-License-Identifier: GPL-2.0
/*
 * modegate async read engine (placeholder until the engine lands).
 */
#include "modegate.h"

#include <linux/poll.h>

int modegate_ioc_async_submit(struct file *file, void *arg) { return -EOPNOTSUPP; }
int modegate_ioc_async_reap(struct file *file, void *arg) { return -EOPNOTSUPP; }
int modegate_ioc_async_wait(struct file *file, void *arg) { return -EOPNOTSUPP; }
int modegate_ioc_async_cancel(struct file *file, void *arg) { return -EOPNOTSUPP; }
int modegate_ioc_async_eventfd(struct file *file, void *arg) { return -EOPNOTSUPP; }
int modegate_ioc_bystander(struct file *file, void *arg) { return -EOPNOTSUPP; }

int modegate_async_init(void)
{
	return 0;
}

void modegate_async_exit(void)
{
}

int modegate_async_open(struct modegate_file *mf)
{
	return 0;
}

void modegate_async_release(struct modegate_file *mf)
{
}

__poll_t modegate_async_poll(struct file *file, struct poll_table_struct *wait)
{
	return 0;
}
