// SPDX-License-Identifier: GPL-2.0
/*
 * modegate: the boundary made visible.  INFO reports the evidence of the
 * two modes, PROBE lets the kernel touch a user address and classifies what
 * happened, VA_TRANSLATE shows what a range of virtual pages maps to.
 */
#include "modegate.h"

#include <linux/compat.h>
#include <linux/sched/task_stack.h>
#include <linux/uaccess.h>
#include <asm/cpufeature.h>
#include <asm/ptrace.h>

/* Privilege level (ring) the CPU is running at now. */
static u32 modegate_current_cpl(void)
{
	unsigned short cs;

	asm volatile("mov %%cs, %0" : "=r" (cs));
	return cs & 3;
}

static u32 modegate_mode_flags(struct pt_regs *regs)
{
	u32 flags = 0;

	if (user_mode(regs))
		flags |= MODEGATE_MODE_USER_ENTRY;
	if (in_compat_syscall())
		flags |= MODEGATE_MODE_COMPAT;
	if (boot_cpu_has(X86_FEATURE_SMAP))
		flags |= MODEGATE_MODE_SMAP;
	if (boot_cpu_has(X86_FEATURE_SMEP))
		flags |= MODEGATE_MODE_SMEP;
	if (boot_cpu_has(X86_FEATURE_PTI))
		flags |= MODEGATE_MODE_PTI;
	if (boot_cpu_has(X86_FEATURE_UMIP))
		flags |= MODEGATE_MODE_UMIP;
	if (IS_ENABLED(CONFIG_HARDENED_USERCOPY))
		flags |= MODEGATE_MODE_HARDENED_USERCOPY;
	return flags;
}

int modegate_ioc_info(struct file *file, void *arg)
{
	struct pt_regs *regs = task_pt_regs(current);
	struct modegate_info *info = arg;

	info->abi_version = MODEGATE_ABI_VERSION;
	info->page_size = PAGE_SIZE;
	info->features = MODEGATE_FEAT_STORE | MODEGATE_FEAT_PROBE |
			 MODEGATE_FEAT_VA_TRANSLATE | MODEGATE_FEAT_ASYNC |
			 MODEGATE_FEAT_EVENTFD | MODEGATE_FEAT_STATS;
	if (modegate_allow_wrong_process_demo)
		info->features |= MODEGATE_FEAT_BYSTANDER;
	info->task_size = TASK_SIZE;
	info->store_capacity = modegate_store_capacity();
	info->store_used = modegate_store_used();
	info->caller_cpl = regs->cs & 3;
	info->handler_cpl = modegate_current_cpl();
	info->mode_flags = modegate_mode_flags(regs);
	info->max_probe_len = 0;	/* set by the PROBE implementation */
	info->max_va_pages = 0;
	info->max_async_batch = 0;
	info->max_async_inflight = modegate_max_inflight;
	info->max_latency_ns = 0;
	return 0;
}

int modegate_ioc_probe(struct file *file, void *arg)
{
	return -EOPNOTSUPP;
}

int modegate_ioc_va_translate(struct file *file, void *arg)
{
	return -EOPNOTSUPP;
}

int modegate_probe_init(void)
{
	return 0;
}
