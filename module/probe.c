// SPDX-License-Identifier: GPL-2.0
/*
 * modegate: the boundary made visible.  INFO reports the evidence of the
 * two modes, PROBE lets the kernel touch a user address and classifies what
 * happened, VA_TRANSLATE shows what a range of virtual pages maps to.
 */
#include "modegate.h"

#include <linux/compat.h>
#include <linux/mm.h>
#include <linux/random.h>
#include <linux/sched/task_stack.h>
#include <linux/siphash.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/cpufeature.h>
#include <asm/ptrace.h>

#include "trace.h"

/* Limits reported by INFO. */
#define MODEGATE_PROBE_MAX_LEN	SZ_64K
#define MODEGATE_VA_MAX_PAGES	512

/* Privilege level (ring) the CPU is running at now. */
static u32 modegate_current_cpl(void)
{
	unsigned short cs;

	asm volatile("mov %%cs, %0" : "=r" (cs));
	return cs & 3;
}

/*
 * INFO's answer, but for what depends on the caller: filled once at load,
 * so that a call costs little more than the syscall floor.
 */
static struct modegate_info modegate_info_template;

static void modegate_info_init(void)
{
	struct modegate_info *info = &modegate_info_template;

	info->abi_version = MODEGATE_ABI_VERSION;
	info->page_size = PAGE_SIZE;
	info->features = MODEGATE_FEAT_STORE | MODEGATE_FEAT_PROBE |
			 MODEGATE_FEAT_VA_TRANSLATE | MODEGATE_FEAT_ASYNC |
			 MODEGATE_FEAT_EVENTFD | MODEGATE_FEAT_STATS;
	if (modegate_allow_wrong_process_demo)
		info->features |= MODEGATE_FEAT_BYSTANDER;
	info->store_capacity = modegate_store_capacity();
	info->handler_cpl = modegate_current_cpl();
	if (boot_cpu_has(X86_FEATURE_SMAP))
		info->mode_flags |= MODEGATE_MODE_SMAP;
	if (boot_cpu_has(X86_FEATURE_SMEP))
		info->mode_flags |= MODEGATE_MODE_SMEP;
	if (boot_cpu_has(X86_FEATURE_PTI))
		info->mode_flags |= MODEGATE_MODE_PTI;
	if (boot_cpu_has(X86_FEATURE_UMIP))
		info->mode_flags |= MODEGATE_MODE_UMIP;
	if (IS_ENABLED(CONFIG_HARDENED_USERCOPY))
		info->mode_flags |= MODEGATE_MODE_HARDENED_USERCOPY;
	info->max_probe_len = MODEGATE_PROBE_MAX_LEN;
	info->max_va_pages = MODEGATE_VA_MAX_PAGES;
	info->max_async_batch = MODEGATE_ASYNC_MAX_BATCH;
	info->max_async_inflight = modegate_max_inflight;
	info->max_latency_ns = MODEGATE_ASYNC_MAX_LATENCY_NS;
}

/**
 * modegate_ioc_info() - MODEGATE_IOC_INFO, copied out directly
 * @file: the device file.
 * @uarg: the caller's struct.
 * @usize: its size (at least this ABI's; ioctl.c checked).
 *
 * The hot path of the ABI, so it is written like the kernel's own (signal
 * frames, rseq): the per-caller fields are computed first, then one
 * user-access window copies the template and patches them in place -- one
 * STAC/CLAC pair, no kernel copy of the struct on the stack, no generic
 * copy_to_user() with its object checks (there is no kernel object here
 * whose bounds could be wrong: the source is the static template).
 *
 * Return: 0 or -EFAULT.
 */
int modegate_ioc_info(struct file *file, void __user *uarg, size_t usize)
{
	struct modegate_info __user *u = uarg;
	struct pt_regs *regs = task_pt_regs(current);
	u32 mode = modegate_info_template.mode_flags;
	u64 task_size = TASK_SIZE, used = modegate_store_used();
	u32 cpl = regs->cs & 3;

	if (user_mode(regs))
		mode |= MODEGATE_MODE_USER_ENTRY;
	if (in_compat_syscall())
		mode |= MODEGATE_MODE_COMPAT;
	if (!user_access_begin(u, sizeof(*u)))
		return -EFAULT;
	unsafe_copy_to_user((void __user *)u, (const void *)&modegate_info_template,
			    sizeof(*u), efault);
	unsafe_put_user(task_size, &u->task_size, efault);
	unsafe_put_user(used, &u->store_used, efault);
	unsafe_put_user(cpl, &u->caller_cpl, efault);
	unsafe_put_user(mode, &u->mode_flags, efault);
	user_access_end();
	/* A newer, larger struct: the bytes this ABI does not know read 0. */
	if (usize > sizeof(*u) && clear_user(uarg + sizeof(*u), usize - sizeof(*u)))
		return -EFAULT;
	return 0;

efault:
	user_access_end();
	return -EFAULT;
}

/*
 * PROBE: one copy_to_user() or copy_from_user() at an address the caller
 * chooses, and what happened.  access_ok() comes first, so a kernel address
 * is refused before any access; the kernel side of the copy is a heap
 * object, as hardened usercopy requires.
 */

/* A TO_USER copy that moved nothing: read-only mapping, or no mapping? */
static bool modegate_addr_readonly(unsigned long addr)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	bool readonly = false;

	if (!mm || mmap_read_lock_killable(mm))
		return false;
	vma = vma_lookup(mm, addr);
	if (vma && (vma->vm_flags & (VM_READ | VM_EXEC)) &&
	    !(vma->vm_flags & VM_WRITE))
		readonly = true;
	mmap_read_unlock(mm);
	return readonly;
}

/* Copy and classify: set @p->outcome and @p->copied. */
static int modegate_probe_copy(struct modegate_probe *p)
{
	void __user *uaddr = u64_to_user_ptr(p->addr);
	unsigned long left;
	void *buf;

	p->copied = 0;
	if (p->len > MODEGATE_PROBE_MAX_LEN) {
		p->outcome = MODEGATE_PROBE_TOO_BIG;
		return 0;
	}
	if (!access_ok(uaddr, p->len)) {
		p->outcome = MODEGATE_PROBE_NOT_USER;
		return 0;
	}

	buf = kvmalloc(max_t(size_t, p->len, 1), GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!buf)
		return -ENOMEM;
	if (p->op == MODEGATE_PROBE_TO_USER) {
		memset(buf, MODEGATE_PROBE_PATTERN, p->len);
		left = copy_to_user(uaddr, buf, p->len);
	} else {
		left = copy_from_user(buf, uaddr, p->len);
	}
	kvfree(buf);

	p->copied = p->len - left;
	if (!left)
		p->outcome = MODEGATE_PROBE_OK;
	else if (p->copied)
		p->outcome = MODEGATE_PROBE_PARTIAL;
	else if (p->op == MODEGATE_PROBE_TO_USER && modegate_addr_readonly(p->addr))
		p->outcome = MODEGATE_PROBE_READONLY;
	else
		p->outcome = MODEGATE_PROBE_FAULT;
	if (left)
		modegate_count(faults);
	return 0;
}

/* The errno a driver would have returned, by outcome. */
static const int modegate_probe_errno[] = {
	[MODEGATE_PROBE_OK] = 0,
	[MODEGATE_PROBE_PARTIAL] = -EFAULT,
	[MODEGATE_PROBE_FAULT] = -EFAULT,
	[MODEGATE_PROBE_READONLY] = -EFAULT,
	[MODEGATE_PROBE_NOT_USER] = -EFAULT,
	[MODEGATE_PROBE_TOO_BIG] = -EINVAL,
};

int modegate_ioc_probe(struct file *file, void *arg)
{
	struct modegate_probe *p = arg;
	int ret;

	if (p->flags)
		return -EINVAL;
	if (p->op != MODEGATE_PROBE_TO_USER && p->op != MODEGATE_PROBE_FROM_USER)
		return -EINVAL;

	ret = modegate_probe_copy(p);
	if (ret)
		return ret;
	p->error = modegate_probe_errno[p->outcome];
	p->fault_addr = p->copied == p->len ? 0 : p->addr + p->copied;
	modegate_count(probes);
	trace_modegate_probe(p->op, p->addr, p->len, p->outcome, p->copied);
	return 0;
}

/*
 * VA_TRANSLATE: what each virtual page of the caller maps to right now.
 *
 * Without MODEGATE_VA_FAULT_IN nothing is faulted in: the lockless
 * get_user_pages_fast_only() walk finds a page only when its PTE is there
 * (with FOLL_WRITE: only when writable without a fault, so a COW-shared
 * page reads as present and not writable); the shared zero page sits
 * behind a "special" PTE that only the slow walk returns, and FOLL_NOFAULT
 * keeps that walk from faulting.  Every page found is put again at once.
 *
 * Frame numbers are for files opened with CAP_SYS_ADMIN only, decided at
 * open from the opener's credentials as /proc/PID/pagemap does (and so
 * with one audit record per open, not per call); other callers get
 * page_id, a keyed hash of the frame that tells equal pages from different
 * ones and nothing else.  The key is the open file's (ctx.c draws it at
 * open): ids compare within one file description only, and processes that
 * do not share one cannot compare their frames (KSM merges) through them.
 */

/* Entries filled on the stack between two copies to user space. */
#define MODEGATE_VA_CHUNK	16

/*
 * The huge zero page: what a read fault maps into a THP-eligible range.
 * Its pfn is not is_zero_pfn()'s, and the kernel does not export
 * is_huge_zero_page(); it is the only compound page GUP finds in a user
 * mapping that is neither anonymous nor in a file's page cache.
 */
static bool modegate_is_huge_zero_page(struct page *page)
{
	struct page *head = compound_head(page);

	return PageCompound(page) && !PageAnon(head) && !head->mapping;
}

static void modegate_va_one(unsigned long vaddr, bool fault_in, bool show_pfn,
			    const siphash_key_t *key, struct modegate_va_page *out)
{
	struct page *page;
	unsigned long pfn;

	memset(out, 0, sizeof(*out));
	out->vaddr = vaddr;
	if (!show_pfn)
		out->flags |= MODEGATE_PAGE_PFN_HIDDEN;

	if (fault_in && get_user_pages_fast(vaddr, 1, 0, &page) == 1)
		put_page(page);

	if (get_user_pages_fast_only(vaddr, 1, FOLL_WRITE, &page) == 1)
		out->flags |= MODEGATE_PAGE_WRITABLE;
	else if (get_user_pages_fast(vaddr, 1, FOLL_NOFAULT, &page) != 1)
		return;

	pfn = page_to_pfn(page);
	out->flags |= MODEGATE_PAGE_PRESENT;
	if (PageCompound(page))
		out->flags |= MODEGATE_PAGE_HUGE;
	if (is_zero_pfn(pfn) || modegate_is_huge_zero_page(page))
		out->flags |= MODEGATE_PAGE_ZERO;
	if (show_pfn) {
		out->pfn = pfn;
		out->flags |= MODEGATE_PAGE_PFN_VALID;
	}
	out->page_id = siphash_1u64(pfn, key) ?: 1;
	put_page(page);
}

int modegate_ioc_va_translate(struct file *file, void *arg)
{
	struct modegate_va_page chunk[MODEGATE_VA_CHUNK];
	struct modegate_va_translate *va = arg;
	struct modegate_va_page __user *upages = u64_to_user_ptr(va->pages);
	bool fault_in = va->flags & MODEGATE_VA_FAULT_IN;
	unsigned long start = va->addr & PAGE_MASK;
	struct modegate_ctx *ctx;
	bool show_pfn;
	u32 done = 0;

	if ((va->flags & ~MODEGATE_VA_FAULT_IN) || va->reserved)
		return -EINVAL;
	if (!va->nr_pages || va->nr_pages > MODEGATE_VA_MAX_PAGES)
		return -EINVAL;
	if (!access_ok((void __user *)start, va->nr_pages << PAGE_SHIFT))
		return -EFAULT;

	ctx = modegate_file_ctx(file);
	show_pfn = ctx->show_pfn;
	while (done < va->nr_pages) {
		u32 n = min_t(u64, va->nr_pages - done, MODEGATE_VA_CHUNK);
		u32 i;

		for (i = 0; i < n; i++)
			modegate_va_one(start + ((unsigned long)(done + i) << PAGE_SHIFT),
					fault_in, show_pfn, &ctx->page_id_key, &chunk[i]);
		if (copy_to_user(upages + done, chunk, n * sizeof(chunk[0])))
			return -EFAULT;
		done += n;
		cond_resched();
	}
	va->nr_done = done;
	return 0;
}

void modegate_probe_init(void)
{
	modegate_info_init();
}
