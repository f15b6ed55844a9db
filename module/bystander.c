// SPDX-License-Identifier: GPL-2.0
/*
 * modegate bystanders: the registry of the wrong-process demonstration.
 *
 * With the module parameter allow_wrong_process_demo, a thread may
 * volunteer (MODEGATE_IOC_BYSTANDER) to be the process a careless driver
 * writes into: a NAIVE demo request whose interrupt lands on it writes at
 * the submitter's raw address in the volunteer's address space.  Consent
 * is narrow, and checked in the interrupt each time:
 *
 *  - it belongs to the thread and to the address space it had when it
 *    volunteered (recorded with mmgrab(), so the pointer cannot be reused):
 *    after an exec -- even of a setuid program -- current->mm differs and
 *    nothing is written;
 *  - the submitter must have the volunteer's effective uid at the time of
 *    the write (one the volunteer gave up since it registered no longer
 *    consents);
 *  - it ends when the file it was given through is released, or the thread
 *    withdraws it: the write happens under the registry's lock, so once
 *    the release (or the withdrawal) returns, no write is under way.  A
 *    close() that ends the consent returns after any write it raced.
 *
 * At most MODEGATE_MAX_BYSTANDERS are registered at once: the list is
 * scanned in hard irq.  Calls no other file of the module.
 */
#include "modegate.h"

#include <linux/cred.h>
#include <linux/sched/mm.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

/**
 * struct modegate_bystander_reg - a thread that volunteered as bystander
 * @node: on modegate_bystanders.
 * @task: the thread, with a reference (so the pointer cannot be reused).
 * @mm: its address space when it volunteered, grabbed.
 * @ctx: the file it registered through; the registration ends with it.
 */
struct modegate_bystander_reg {
	struct list_head node;
	struct task_struct *task;
	struct mm_struct *mm;
	struct modegate_ctx *ctx;
};

static LIST_HEAD(modegate_bystanders);
static unsigned int modegate_nr_bystanders;
/* Raw: taken in the interrupt, hard irq even on PREEMPT_RT. */
static DEFINE_RAW_SPINLOCK(modegate_bystanders_lock);

/**
 * modegate_bystander_write() - the demo write, if current consents
 * @submitter_euid: the demo request's submitter's effective uid.
 * @dst: the submitter's address, resolved in current's address space.
 * @src: the data.
 * @len: bytes, within one page.
 *
 * Writes only if current volunteered, still runs in the address space it
 * volunteered with, and has the submitter's euid now.  The write cannot
 * fault (page faults are disabled: a page that is not present and writable
 * is simply not written), like bpf_probe_write_user(), and happens under
 * the registry's lock, so that an unregistration waits for it.
 *
 * The explicit pagefault_disable() is for kernels whose access_ok() warns
 * outside task context unless page faults are disabled (6.1 with
 * CONFIG_DEBUG_ATOMIC_SLEEP: WARN_ON_IN_IRQ()); it nests with the one
 * copy_to_user_nofault() does itself.
 *
 * Context: hard irq (the interrupt).
 * Return: true if the data was written.
 */
bool modegate_bystander_write(kuid_t submitter_euid, void __user *dst,
			      const void *src, size_t len)
{
	struct modegate_bystander_reg *b;
	bool wrote = false;

	if (!current->mm || (current->flags & PF_EXITING))
		return false;
	raw_spin_lock(&modegate_bystanders_lock);
	list_for_each_entry(b, &modegate_bystanders, node) {
		if (b->task != current)
			continue;
		if (b->mm == current->mm && uid_eq(current_euid(), submitter_euid)) {
			pagefault_disable();
			wrote = !copy_to_user_nofault(dst, src, len);
			pagefault_enable();
		}
		break;
	}
	raw_spin_unlock(&modegate_bystanders_lock);
	return wrote;
}

static void modegate_bystander_free(struct modegate_bystander_reg *b)
{
	mmdrop(b->mm);
	put_task_struct(b->task);
	kfree(b);
}

static int modegate_bystander_register(struct modegate_ctx *ctx)
{
	struct modegate_bystander_reg *b, *new;
	unsigned long flags;
	int ret = 0;

	if (!current->mm)
		return -EINVAL;
	new = kzalloc(sizeof(*new), GFP_KERNEL);
	if (!new)
		return -ENOMEM;
	new->task = get_task_struct(current);
	new->mm = current->mm;
	mmgrab(new->mm);
	new->ctx = ctx;

	raw_spin_lock_irqsave(&modegate_bystanders_lock, flags);
	list_for_each_entry(b, &modegate_bystanders, node) {
		if (b->task == current) {
			ret = -EBUSY;
			goto out;
		}
	}
	if (modegate_nr_bystanders >= MODEGATE_MAX_BYSTANDERS) {
		ret = -ENOSPC;
		goto out;
	}
	list_add_tail(&new->node, &modegate_bystanders);
	modegate_nr_bystanders++;
	new = NULL;
out:
	raw_spin_unlock_irqrestore(&modegate_bystanders_lock, flags);
	if (new)
		modegate_bystander_free(new);
	return ret;
}

/* Unregister current (@all false) or every thread registered via @ctx. */
static int modegate_bystander_unregister(struct modegate_ctx *ctx, bool all)
{
	struct modegate_bystander_reg *b, *tmp;
	unsigned long flags;
	LIST_HEAD(gone);

	raw_spin_lock_irqsave(&modegate_bystanders_lock, flags);
	list_for_each_entry_safe(b, tmp, &modegate_bystanders, node) {
		if (b->ctx == ctx && (all || b->task == current)) {
			list_move(&b->node, &gone);
			modegate_nr_bystanders--;
		}
	}
	raw_spin_unlock_irqrestore(&modegate_bystanders_lock, flags);

	if (list_empty(&gone))
		return -ENOENT;
	list_for_each_entry_safe(b, tmp, &gone, node)
		modegate_bystander_free(b);
	return 0;
}

/* The file is going away: its volunteers' consent ends. */
void modegate_bystander_release(struct modegate_ctx *ctx)
{
	modegate_bystander_unregister(ctx, true);
}

/**
 * modegate_ioc_bystander() - MODEGATE_IOC_BYSTANDER
 * @file: the device file.
 * @arg: &struct modegate_bystander.
 *
 * Return: 0, -EINVAL, -EPERM (demo not allowed), -EBUSY (already
 * registered), -ENOSPC (MODEGATE_MAX_BYSTANDERS registered), -ENOENT (not
 * registered through this file).
 */
int modegate_ioc_bystander(struct file *file, void *arg)
{
	struct modegate_ctx *ctx = modegate_file_ctx(file);
	struct modegate_bystander *b = arg;

	if ((b->flags & ~MODEGATE_BYSTANDER_REGISTER) || b->reserved)
		return -EINVAL;
	if (!modegate_allow_wrong_process_demo)
		return -EPERM;
	if (b->flags & MODEGATE_BYSTANDER_REGISTER)
		return modegate_bystander_register(ctx);
	return modegate_bystander_unregister(ctx, false);
}
