/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * modegate - the user/kernel mode boundary made concrete.
 *
 * This is the only definition of the modegate ABI: the module, the modegate
 * tool and the selftests all include it.
 *
 * Rules every command follows (Documentation/driver-api/ioctl.rst):
 *
 *  - Every argument is a struct; its size is encoded in the command number.
 *    The handler takes the caller's size from _IOC_SIZE(cmd), which makes
 *    each struct extensible: a caller built against a newer, larger struct is
 *    accepted when every byte the kernel does not know is zero (else -E2BIG);
 *    a caller with an older, smaller struct gets the fields it knows, and
 *    missing input fields read as zero.  A size smaller than the first
 *    version of the struct is -EINVAL.
 *  - Pointers and lengths are __u64; structs have no implicit padding.
 *  - Unknown bits in @flags are -EINVAL.  Fields named reserved must be zero
 *    on input (-EINVAL) and are zero on output.
 *  - Nothing is copied out that was not fully initialised, and never a
 *    kernel pointer.
 *  - An unknown command is -ENOTTY.  32-bit callers use the same numbers.
 *
 * Every errno a caller can get (the device is shared by the members of its
 * group: a budget is per user, and what one user holds is counted to it):
 *
 *  - open: -ENOMEM.  read/write: -EFAULT, -ENOSPC (write at the capacity).
 *    llseek: -EINVAL, -ENXIO (SEEK_DATA/SEEK_HOLE past the end).
 *  - Every ioctl: -ENOTTY, -EINVAL, -E2BIG, -EFAULT (see above).
 *  - %MODEGATE_IOC_PROBE: -EINVAL, -EFAULT (or @result), -ENOMEM.
 *    %MODEGATE_IOC_VA_TRANSLATE: -EINVAL, -EFAULT.
 *  - %MODEGATE_IOC_ASYNC_SUBMIT, the call: -EINVAL, -E2BIG, -EFAULT,
 *    -ENOMEM.  Each request's &modegate_async_req.error: -EINVAL, -E2BIG,
 *    -EFAULT, -EAGAIN (a budget: in flight per file, per user or in all,
 *    BUFFERED bytes per user, the device's 64 MiB of pins), -ENOMEM (PIN
 *    beyond RLIMIT_MEMLOCK, or no memory), -EOPNOTSUPP (PIN into a
 *    shared mapping of a file that is not shmem, memfd or hugetlbfs),
 *    -EINTR (PIN or BUFFERED: a fatal signal while the submitter waited
 *    for its own address space's lock).
 *  - A completion's &modegate_async_completion.result: -EFAULT, -ESRCH,
 *    -ECANCELED, -EXDEV, -EAGAIN, -ENODEV (the interrupt's CPU went
 *    offline before the request could be armed on it).
 *  - %MODEGATE_IOC_ASYNC_REAP: -EINVAL, -E2BIG, -EFAULT.
 *    %MODEGATE_IOC_ASYNC_WAIT: -EINVAL, -ETIMEDOUT, -EINTR.
 *    %MODEGATE_IOC_ASYNC_CANCEL: -EINVAL.  %MODEGATE_IOC_ASYNC_EVENTFD:
 *    -EINVAL, -EBADF.  %MODEGATE_IOC_BYSTANDER: -EINVAL, -EPERM, -EBUSY,
 *    -ENOSPC, -ENOENT, -ENOMEM.
 *
 * The per-user budgets (requests alive, BUFFERED bytes, pinned pages) are
 * those of the user who opened the file (the real uid of its opener), not
 * of whoever submits through it: changing uid, or passing the file to
 * another user, gives no new budget.
 */
#ifndef _UAPI_LINUX_MODEGATE_H
#define _UAPI_LINUX_MODEGATE_H

#include <linux/ioctl.h>
#include <linux/types.h>

/**
 * define MODEGATE_ABI_VERSION - version reported by %MODEGATE_IOC_INFO
 */
#define MODEGATE_ABI_VERSION	1

/**
 * define MODEGATE_DEVICE_NAME - name of the misc device node in /dev
 */
#define MODEGATE_DEVICE_NAME	"modegate"

/* Feature bits reported in &modegate_info.features. */
#define MODEGATE_FEAT_STORE		(1ULL << 0)	/* read/write/llseek store */
#define MODEGATE_FEAT_PROBE		(1ULL << 1)	/* MODEGATE_IOC_PROBE */
#define MODEGATE_FEAT_VA_TRANSLATE	(1ULL << 2)	/* MODEGATE_IOC_VA_TRANSLATE */
#define MODEGATE_FEAT_ASYNC		(1ULL << 3)	/* MODEGATE_IOC_ASYNC_* */
#define MODEGATE_FEAT_BYSTANDER		(1ULL << 4)	/* wrong-process demo enabled */
#define MODEGATE_FEAT_EVENTFD		(1ULL << 5)	/* MODEGATE_IOC_ASYNC_EVENTFD */
#define MODEGATE_FEAT_STATS		(1ULL << 6)	/* MODEGATE_IOC_STATS */

/* Bits of &modegate_info.mode_flags. */
#define MODEGATE_MODE_USER_ENTRY	(1U << 0) /* user_mode(regs) of the caller */
#define MODEGATE_MODE_COMPAT		(1U << 1) /* caller is a 32-bit task */
#define MODEGATE_MODE_SMAP		(1U << 2) /* CPU enforces SMAP */
#define MODEGATE_MODE_SMEP		(1U << 3) /* CPU enforces SMEP */
#define MODEGATE_MODE_PTI		(1U << 4) /* page table isolation on */
#define MODEGATE_MODE_UMIP		(1U << 5) /* CPU enforces UMIP */
#define MODEGATE_MODE_HARDENED_USERCOPY	(1U << 6) /* CONFIG_HARDENED_USERCOPY */
#define MODEGATE_MODE_ALL		((1U << 7) - 1)

/**
 * struct modegate_info - evidence of the two modes, and the device's limits
 * @abi_version: %MODEGATE_ABI_VERSION of the module.
 * @page_size: PAGE_SIZE of the kernel.
 * @features: MODEGATE_FEAT_* bits the module supports.
 * @task_size: TASK_SIZE of the caller: the first address above its user
 *	address space (128 TiB for a 64-bit task with 4-level paging, 4 GiB or
 *	less for a 32-bit task).
 * @store_capacity: bytes the store can hold (module parameter store_size).
 * @store_used: bytes currently in the store (its end of file).
 * @caller_cpl: privilege level (ring) the caller entered the kernel from:
 *	the low two bits of the CS saved in its pt_regs. 3 for user mode.
 * @handler_cpl: privilege level the ioctl handler itself runs at. 0.
 * @mode_flags: MODEGATE_MODE_* bits.
 * @reserved: zero.
 * @max_probe_len: largest &modegate_probe.len accepted.
 * @max_va_pages: largest &modegate_va_translate.nr_pages accepted.
 * @max_async_batch: largest &modegate_async_submit.nr accepted.
 * @max_async_inflight: requests an fd may have in flight.
 * @reserved2: zero.
 * @max_latency_ns: largest &modegate_async_req.latency_ns accepted.
 *
 * Filled by %MODEGATE_IOC_INFO.  Output only: the kernel ignores the
 * caller's contents except that the whole struct must be readable.
 */
struct modegate_info {
	__u32 abi_version;
	__u32 page_size;
	__u64 features;
	__u64 task_size;
	__u64 store_capacity;
	__u64 store_used;
	__u32 caller_cpl;
	__u32 handler_cpl;
	__u32 mode_flags;
	__u32 reserved;
	__u64 max_probe_len;
	__u32 max_va_pages;
	__u32 max_async_batch;
	__u32 max_async_inflight;
	__u32 reserved2;
	__u64 max_latency_ns;
};

/* &modegate_probe.op */
#define MODEGATE_PROBE_TO_USER		1 /* copy_to_user() of a fixed pattern */
#define MODEGATE_PROBE_FROM_USER	2 /* copy_from_user() into scratch */

/* &modegate_probe.outcome */
#define MODEGATE_PROBE_OK		1 /* every byte copied */
#define MODEGATE_PROBE_PARTIAL		2 /* some bytes copied, then a fault */
#define MODEGATE_PROBE_FAULT		3 /* nothing copied: unmapped/PROT_NONE */
#define MODEGATE_PROBE_READONLY		4 /* nothing copied: read-only mapping */
#define MODEGATE_PROBE_NOT_USER		5 /* refused by access_ok() */
#define MODEGATE_PROBE_TOO_BIG		6 /* len above max_probe_len */

/**
 * define MODEGATE_PROBE_PATTERN - byte value copy_to_user probes write
 */
#define MODEGATE_PROBE_PATTERN		0xA5

/**
 * struct modegate_probe - let the kernel touch a user address, and say what
 *	happened
 * @addr: user virtual address to copy to or from.  Any value is allowed:
 *	that is the point of the probe.
 * @len: bytes to copy; at most &modegate_info.max_probe_len.
 * @op: %MODEGATE_PROBE_TO_USER or %MODEGATE_PROBE_FROM_USER.
 * @flags: must be zero.
 * @outcome: out: MODEGATE_PROBE_* classification.
 * @error: out: 0, or the negative errno a driver would return (-EFAULT).
 * @copied: out: bytes actually copied before the fault.
 * @fault_addr: out: the first address not copied, or 0 when all were.
 *
 * %MODEGATE_IOC_PROBE always succeeds (returns 0) once its own argument is
 * valid: the result of the probe is in @outcome, so that a probe of a bad
 * address can be told apart from a bad argument.  A TO_USER probe writes
 * %MODEGATE_PROBE_PATTERN, never kernel memory; a FROM_USER probe reads into
 * a scratch buffer that is then discarded.
 */
struct modegate_probe {
	__u64 addr;
	__u64 len;
	__u32 op;
	__u32 flags;
	__u32 outcome;
	__s32 error;
	__u64 copied;
	__u64 fault_addr;
};

/* &modegate_va_translate.flags */
#define MODEGATE_VA_FAULT_IN		(1U << 0) /* fault pages in first */

/* &modegate_va_page.flags */
#define MODEGATE_PAGE_PRESENT		(1U << 0) /* mapped to a page now */
#define MODEGATE_PAGE_WRITABLE		(1U << 1) /* writable without a fault */
#define MODEGATE_PAGE_HUGE		(1U << 2) /* part of a huge page */
#define MODEGATE_PAGE_PFN_VALID		(1U << 3) /* @pfn is the real frame */
#define MODEGATE_PAGE_PFN_HIDDEN	(1U << 4) /* caller lacks CAP_SYS_ADMIN */
#define MODEGATE_PAGE_ZERO		(1U << 5) /* the shared zero page */

/**
 * struct modegate_va_page - what one virtual page of the caller maps to
 * @vaddr: page-aligned virtual address.
 * @pfn: page frame number, when %MODEGATE_PAGE_PFN_VALID; else 0.
 * @page_id: opaque identity of the physical page, keyed per open file
 *	description: through one file (and its dups, and the children that
 *	inherit it) equal pages have equal ids; ids from different opens of
 *	the device mean nothing to each other.  0 when not present.  Shown to
 *	unprivileged callers instead of @pfn.
 * @flags: MODEGATE_PAGE_* bits.
 * @reserved: zero.
 */
struct modegate_va_page {
	__u64 vaddr;
	__u64 pfn;
	__u64 page_id;
	__u32 flags;
	__u32 reserved;
};

/**
 * struct modegate_va_translate - translate a range of the caller's pages
 * @addr: start of the range; rounded down to a page boundary.
 * @nr_pages: pages to translate; 1 to &modegate_info.max_va_pages.
 * @pages: user pointer to an array of @nr_pages &struct modegate_va_page.
 * @flags: MODEGATE_VA_* bits.  Without %MODEGATE_VA_FAULT_IN, pages that
 *	are not present are reported as such and not faulted in.
 * @nr_done: out: entries filled.
 * @reserved: zero.
 *
 * Frame numbers are shown only through a file opened with CAP_SYS_ADMIN, as
 * in /proc/PID/pagemap: the opener's credentials decide, not the caller's.
 */
struct modegate_va_translate {
	__u64 addr;
	__u64 nr_pages;
	__u64 pages;
	__u32 flags;
	__u32 nr_done;
	__u64 reserved;
};

/* &modegate_async_req.strategy: how the data reaches the user buffer. */
#define MODEGATE_STRAT_ADOPT_MM	1 /* worker adopts the captured mm */
#define MODEGATE_STRAT_PIN	2 /* pages pinned at submit, kmap at completion */
#define MODEGATE_STRAT_REMOTE	3 /* pages of the captured mm pinned remotely */
#define MODEGATE_STRAT_BUFFERED	4 /* kernel buffer, copied by the originator */
#define MODEGATE_STRAT_NAIVE	5 /* report what a raw write would have hit */
#define MODEGATE_STRAT_MAX	5

/* &modegate_async_req.flags */
#define MODEGATE_REQ_DEMO_WRONG_PROCESS	(1U << 0) /* NAIVE only: see below */

/**
 * define MODEGATE_MAX_BYSTANDERS - bystanders registered at once, at most
 *
 * The registration after the last one gets -ENOSPC.
 */
#define MODEGATE_MAX_BYSTANDERS		64

/**
 * define MODEGATE_CPU_ANY - &modegate_async_req.cpu for "any CPU"
 *
 * The submitting CPU if it is a housekeeping CPU (not isolated from
 * timers and scheduler domains by isolcpus= or nohz_full=), else a
 * housekeeping CPU.
 */
#define MODEGATE_CPU_ANY		(-1)

/**
 * struct modegate_async_req - one asynchronous read from the store
 * @buf: user buffer in the submitting process.
 * @len: bytes to read; 1 to the store capacity.
 * @offset: store offset to read from; bytes beyond the store's used length
 *	read as zero-length (the result is the bytes actually available).
 * @user_data: echoed in the completion.
 * @latency_ns: simulated device latency before the "interrupt", counted
 *	from &modegate_async_completion.t_submit_ns; at most
 *	&modegate_info.max_latency_ns.
 * @strategy: MODEGATE_STRAT_*.
 * @cpu: CPU the interrupt fires on, or %MODEGATE_CPU_ANY.  It must be
 *	online, and a housekeeping CPU (one that isolcpus= or nohz_full= did
 *	not isolate from timers and scheduler domains) unless the submitter
 *	has CAP_SYS_NICE: an interrupt is work done on that CPU, and an
 *	isolated CPU belongs to whoever isolated it (-EINVAL otherwise).
 * @flags: MODEGATE_REQ_* bits.  %MODEGATE_REQ_DEMO_WRONG_PROCESS is valid
 *	with %MODEGATE_STRAT_NAIVE only, and does anything only when the module
 *	parameter allow_wrong_process_demo is set: if the interrupt then lands
 *	on a registered bystander (still in the address space it registered
 *	from, with the submitter's euid: see &struct modegate_bystander), the
 *	data is written at @buf in the bystander's address space
 *	(copy_to_user_nofault), as a careless driver would.  In every other
 *	case NAIVE writes nothing.  A demo request must
 *	not cross a page boundary (-EINVAL): it is written from hard irq.
 * @error: out: 0 if queued, else the negative errno for this request:
 *	-EINVAL (a bad field), -EOPNOTSUPP (%MODEGATE_STRAT_PIN on a shared
 *	file mapping that is not shmem, memfd or tmpfs, a hugetlb memfd
 *	included: PIN pins with FOLL_LONGTERM), -EAGAIN (over the fd's, the
 *	user's or the device's in-flight budget, the user's BUFFERED kernel
 *	memory, or the device's pinned pages), -ENOMEM (%MODEGATE_STRAT_PIN:
 *	the pages would take the user's locked memory beyond the submitter's
 *	RLIMIT_MEMLOCK; or no memory), -EFAULT (not user memory, or not
 *	mapped), -EINTR (a fatal signal while waiting for the submitter's own
 *	mmap_lock), -E2BIG (a larger request with a nonzero tail).
 *
 * A PIN request's pages are the locked memory of the user who opened the
 * file (for an opener in a user namespace, the user who created the
 * outermost one), as io_uring's registered buffers: counted, for the
 * device, against the submitter's RLIMIT_MEMLOCK (unless the submitter
 * has CAP_IPC_LOCK) and in the address space's pinned_vm (VmPin in
 * /proc/PID/status), from submit until the request is delivered,
 * cancelled or freed.  The device pins at most 64 MiB in all.
 *
 * The per-user budgets (in-flight requests, BUFFERED memory, pinned
 * pages, delivery threads) belong to that same user: a process of a user
 * namespace, whatever uid it has there, is charged to the namespace's
 * creator.
 */
struct modegate_async_req {
	__u64 buf;
	__u64 len;
	__u64 offset;
	__u64 user_data;
	__u64 latency_ns;
	__u32 strategy;
	__s32 cpu;
	__u32 flags;
	__s32 error;
};

/**
 * struct modegate_async_submit - queue a batch of requests
 * @reqs: user pointer to an array of @nr requests, each @req_size bytes.
 * @nr: requests in the batch; 1 to &modegate_info.max_async_batch.
 * @req_size: sizeof(struct modegate_async_req) as the caller knows it; the
 *	same extensibility rules apply to each element as to ioctl structs.
 *	Above the page size the whole call fails with -E2BIG before any
 *	request is read; below the size of ABI version 1 it is -EINVAL.
 * @flags: must be zero.
 * @queued: out: requests queued.
 *
 * Every request is validated and queued on its own: a bad request gets its
 * &modegate_async_req.error set and does not stop the others.  The ioctl
 * returns the number queued.
 */
struct modegate_async_submit {
	__u64 reqs;
	__u32 nr;
	__u32 req_size;
	__u32 flags;
	__u32 queued;
};

/* &modegate_async_completion.ctx_flags */
#define MODEGATE_CTX_IRQ_IDLE		(1U << 0) /* interrupt hit the idle task */
#define MODEGATE_CTX_IRQ_KTHREAD	(1U << 1) /* ... a kernel thread */
#define MODEGATE_CTX_IRQ_MM_MATCH	(1U << 2) /* ... a task of the origin mm */
#define MODEGATE_CTX_IRQ_HARDIRQ	(1U << 3) /* callback ran in hard irq */
#define MODEGATE_CTX_IRQ_USER		(1U << 4) /* interrupted in user mode */
#define MODEGATE_CTX_WRONG_PROCESS	(1U << 5) /* demo wrote a bystander */
#define MODEGATE_CTX_CANCELLED		(1U << 6) /* cancelled, not delivered */
#define MODEGATE_CTX_IRQ_OTHER_USER	(1U << 7) /* ... another user's task */

/* &modegate_async_completion.delivered_by */
#define MODEGATE_DELIVER_NONE		0 /* nothing written */
#define MODEGATE_DELIVER_WORKER		1 /* delivery thread, mm adopted */
#define MODEGATE_DELIVER_KMAP		2 /* delivery thread, pinned pages */
#define MODEGATE_DELIVER_ORIGINATOR	3 /* the originating process itself */
#define MODEGATE_DELIVER_BYSTANDER	4 /* demo: into a bystander */

/**
 * struct modegate_async_completion - the outcome of one request, and the
 *	context it completed in
 * @user_data: from the request.
 * @result: bytes delivered, or a negative errno: -EFAULT (buffer gone),
 *	-ESRCH (originating address space has exited), -ECANCELED
 *	(cancelled), -EXDEV (NAIVE: not delivered, see @ctx_flags), -EAGAIN
 *	(a buffer page could not be made present without waiting on user
 *	space, and no byte was written).  ADOPT_MM and REMOTE deliveries never
 *	wait on user space: such a page ends the copy there, and the result is
 *	the bytes written before it.  They do not wait for a userfaultfd
 *	nobody answers.  They poll the originating address space's mmap lock
 *	for tens of milliseconds at most while another thread holds it for
 *	writing or is queued for it (an mmap(), munmap() or mprotect() behind
 *	a fault stuck on FUSE): REMOTE for every chunk of pages, ADOPT_MM to
 *	fault a page in.  They fault in anonymous memory, shmem (memfd, tmpfs)
 *	and hugetlbfs, but in a mapping of any other file (whose filesystem
 *	may wait on user space: FUSE) they write only a page already mapped
 *	writable.  The same request may succeed once the page was touched or
 *	the stall is over.  Once a delivery found the lock held past its
 *	poll, the file's deliveries only try it, for about a second, and a
 *	file being closed never waits for it.  REMOTE into a shared mapping
 *	of a file other than shmem or hugetlbfs is -EOPNOTSUPP: dirtying the
 *	page through its pin takes the page lock, which such a filesystem may
 *	hold while it waits on user space.
 *	-ECANCELED never comes with %MODEGATE_CTX_WRONG_PROCESS: a demo
 *	request that has written into a bystander is past cancelling.
 *	-ENODEV: the CPU of the interrupt went offline before the request
 *	could be armed there.
 * @strategy: from the request.
 * @irq_cpu: CPU the simulated interrupt fired on.
 * @irq_pid: thread id of the task the interrupt interrupted (0: idle), as
 *	seen from the submitter's pid namespace (captured at submit); 0 for a
 *	task that has no pid there.
 * @irq_tgid: its process id, likewise (0: idle, or not visible).
 * @irq_comm: its comm, NUL-terminated; all zero for a task not visible in
 *	the submitter's pid namespace (the idle task's "swapper/N" is shown
 *	only to a submitter in the initial pid namespace).
 * @ctx_flags: MODEGATE_CTX_* bits.  The interrupted task is named (@irq_pid,
 *	@irq_tgid, @irq_comm) and described (%MODEGATE_CTX_IRQ_IDLE,
 *	%MODEGATE_CTX_IRQ_KTHREAD, %MODEGATE_CTX_IRQ_USER,
 *	%MODEGATE_CTX_IRQ_MM_MATCH) only to a submitter that could ptrace it
 *	by credentials: its real, effective and saved uids and gids are the
 *	submitter's effective uid and gid at submit, or the submitter had
 *	CAP_SYS_PTRACE.  Any other task -- another user's process, and for an
 *	unprivileged submitter the idle task and kernel threads, which are
 *	root's -- is reported as %MODEGATE_CTX_IRQ_OTHER_USER alone: pids 0,
 *	an empty comm, none of those bits.
 * @delivered_by: MODEGATE_DELIVER_*.
 * @deliver_pid: thread id of the task that wrote the data (0 if none), in
 *	the reaper's pid namespace at reap time (0 if not visible there; a
 *	delivery thread never is from a child pid namespace).
 * @origin_tgid: process id that submitted the request, in the reaper's pid
 *	namespace at reap time (0 if not visible there).
 * @t_submit_ns: CLOCK_MONOTONIC at submit (read once per
 *	%MODEGATE_IOC_ASYNC_SUBMIT call, as it begins: a batch shares it).
 * @t_irq_ns: CLOCK_MONOTONIC when the interrupt fired (0 if it did not).
 * @t_deliver_ns: CLOCK_MONOTONIC once the data was written (0 if not): a
 *	run of requests the delivery thread delivers together is stamped once, as
 *	it ends, and so are the %MODEGATE_STRAT_BUFFERED copies one
 *	%MODEGATE_IOC_ASYNC_REAP call makes.
 */
struct modegate_async_completion {
	__u64 user_data;
	__s64 result;
	__u32 strategy;
	__u32 irq_cpu;
	__s32 irq_pid;
	__s32 irq_tgid;
	char irq_comm[16];
	__u32 ctx_flags;
	__u32 delivered_by;
	__s32 deliver_pid;
	__s32 origin_tgid;
	__u64 t_submit_ns;
	__u64 t_irq_ns;
	__u64 t_deliver_ns;
};

/**
 * struct modegate_async_reap - collect completions without blocking
 * @comps: user pointer to an array of @nr completions, each @comp_size
 *	bytes.
 * @nr: room in the array; 1 to &modegate_info.max_async_batch.
 * @comp_size: sizeof(struct modegate_async_completion) as the caller knows
 *	it; at least the size of ABI version 1 (-EINVAL), at most the page
 *	size (-E2BIG, before anything is reaped).
 * @flags: must be zero.
 * @reaped: out: completions copied.
 *
 * A completion is removed only once it has been copied out.  A BUFFERED
 * completion is copied into its buffer here, by the originating process; a
 * process with a different address space (one that received the fd over
 * SCM_RIGHTS, or a forked child after it execs) does not see it: it stays
 * for the originator, also when a reap copied its data but faulted on the
 * completion array.  When the originating address space has exited, it
 * completes with -ESRCH for whoever reaps (if its data was not copied
 * yet).
 */
struct modegate_async_reap {
	__u64 comps;
	__u32 nr;
	__u32 comp_size;
	__u32 flags;
	__u32 reaped;
};

/**
 * struct modegate_async_wait - block until completions are ready
 * @min_complete: completions to wait for (at most the fd's in-flight
 *	limit); 0 returns at once.
 * @flags: must be zero.
 * @timeout_ns: relative timeout; 0 waits without limit.  In, out: a wait
 *	that a signal interrupts writes the time left to its deadline back
 *	here (as select(2) does with its timeout), so that the restarted call
 *	-- or the caller's own retry after -EINTR with the same struct --
 *	ends at the first deadline; a stop and continue never extend it.
 * @ready: out: completions ready for this caller when it returned.
 * @reserved: zero.
 *
 * Returns 0 when @min_complete are ready, -ETIMEDOUT, or -EINTR (the wait
 * is interruptible by signals; no completion is lost).  A waiter is woken
 * once its own @min_complete completions are ready, whatever completions
 * of other address spaces (which it does not see) come and go.
 *
 * poll(2)/epoll report %EPOLLPRI while completions are ready for the
 * caller; %EPOLLIN and %EPOLLOUT are always set (the store never blocks).
 */
struct modegate_async_wait {
	__u32 min_complete;
	__u32 flags;
	__u64 timeout_ns;
	__u32 ready;
	__u32 reserved;
};

/* &modegate_async_cancel.flags */
#define MODEGATE_CANCEL_ALL		(1U << 0) /* every request of this fd */

/**
 * struct modegate_async_cancel - cancel pending requests
 * @user_data: cancel requests with this user_data (ignored with
 *	%MODEGATE_CANCEL_ALL).
 * @flags: MODEGATE_CANCEL_* bits.
 * @cancelled: out: requests cancelled; each posts a completion with
 *	-ECANCELED.  Only requests whose interrupt has not fired yet are
 *	cancelled: once it fired the device has completed (and a NAIVE demo
 *	may have written), and the request completes normally.
 */
struct modegate_async_cancel {
	__u64 user_data;
	__u32 flags;
	__u32 cancelled;
};

/**
 * struct modegate_async_eventfd - signal an eventfd on each completion
 * @fd: eventfd file descriptor, or -1 to stop signalling.
 * @flags: must be zero.
 */
struct modegate_async_eventfd {
	__s32 fd;
	__u32 flags;
};

/* &modegate_bystander.flags */
#define MODEGATE_BYSTANDER_REGISTER	(1U << 0) /* else: unregister */

/**
 * struct modegate_bystander - volunteer the calling thread as a bystander
 * @flags: %MODEGATE_BYSTANDER_REGISTER to register, 0 to unregister.
 * @reserved: zero.
 *
 * Only meaningful with the module parameter allow_wrong_process_demo set;
 * -EPERM otherwise.  A registration records the calling thread's address
 * space, and ends with the fd's release: once close() of the fd's last
 * reference returns, no demo write is under way or to come.  Consent ends
 * at exec: the demo writes only while the interrupted task still runs in
 * the recorded address space and the submitter's euid is the bystander's
 * euid at the time of the write (a volunteer that changed its euid since
 * it registered no longer consents to its former one); after the volunteer
 * execs, no demo write lands (the completion is -EXDEV without
 * %MODEGATE_CTX_WRONG_PROCESS).  At most %MODEGATE_MAX_BYSTANDERS
 * are registered at once; the next registration gets -ENOSPC.
 */
struct modegate_bystander {
	__u32 flags;
	__u32 reserved;
};

/**
 * struct modegate_stats - counters of the whole device
 * @reads: read calls.
 * @writes: write calls.
 * @bytes_read: bytes copied to user space by reads.
 * @bytes_written: bytes copied from user space by writes.
 * @faults: copies that stopped on a fault (reads, writes, probes).
 * @ioctls: ioctl calls.
 * @probes: probes, of any outcome.
 * @async_submitted: requests queued.
 * @async_completed: completions posted (including cancellations).
 * @async_cancelled: requests cancelled.
 * @async_inflight: requests queued and not yet completed.
 * @async_pending: completions posted and not yet reaped.
 * @pinned_pages: user pages pinned now.
 * @mm_refs: references held now on captured address spaces.
 * @open_files: open file descriptions of the device.
 * @reserved: zero.
 */
struct modegate_stats {
	__u64 reads;
	__u64 writes;
	__u64 bytes_read;
	__u64 bytes_written;
	__u64 faults;
	__u64 ioctls;
	__u64 probes;
	__u64 async_submitted;
	__u64 async_completed;
	__u64 async_cancelled;
	__u64 async_inflight;
	__u64 async_pending;
	__u64 pinned_pages;
	__u64 mm_refs;
	__u64 open_files;
	__u64 reserved;
};

#define MODEGATE_IOC_MAGIC	0xE4

/**
 * define MODEGATE_IOC_INFO - fill &struct modegate_info (the handshake)
 */
#define MODEGATE_IOC_INFO	_IOR(MODEGATE_IOC_MAGIC, 0x00, struct modegate_info)

/**
 * define MODEGATE_IOC_PROBE - run &struct modegate_probe
 */
#define MODEGATE_IOC_PROBE	_IOWR(MODEGATE_IOC_MAGIC, 0x01, struct modegate_probe)

/**
 * define MODEGATE_IOC_VA_TRANSLATE - run &struct modegate_va_translate
 */
#define MODEGATE_IOC_VA_TRANSLATE \
	_IOWR(MODEGATE_IOC_MAGIC, 0x02, struct modegate_va_translate)

/**
 * define MODEGATE_IOC_STATS - fill &struct modegate_stats
 */
#define MODEGATE_IOC_STATS	_IOR(MODEGATE_IOC_MAGIC, 0x03, struct modegate_stats)

/**
 * define MODEGATE_IOC_ASYNC_SUBMIT - queue &struct modegate_async_submit
 *
 * Returns the number of requests queued; -E2BIG when
 * &modegate_async_submit.req_size is above the page size.
 */
#define MODEGATE_IOC_ASYNC_SUBMIT \
	_IOWR(MODEGATE_IOC_MAGIC, 0x10, struct modegate_async_submit)

/**
 * define MODEGATE_IOC_ASYNC_REAP - collect with &struct modegate_async_reap
 *
 * -E2BIG when &modegate_async_reap.comp_size is above the page size.
 */
#define MODEGATE_IOC_ASYNC_REAP \
	_IOWR(MODEGATE_IOC_MAGIC, 0x11, struct modegate_async_reap)

/**
 * define MODEGATE_IOC_ASYNC_WAIT - block with &struct modegate_async_wait
 */
#define MODEGATE_IOC_ASYNC_WAIT \
	_IOWR(MODEGATE_IOC_MAGIC, 0x12, struct modegate_async_wait)

/**
 * define MODEGATE_IOC_ASYNC_CANCEL - cancel with &struct modegate_async_cancel
 */
#define MODEGATE_IOC_ASYNC_CANCEL \
	_IOWR(MODEGATE_IOC_MAGIC, 0x13, struct modegate_async_cancel)

/**
 * define MODEGATE_IOC_ASYNC_EVENTFD - set &struct modegate_async_eventfd
 */
#define MODEGATE_IOC_ASYNC_EVENTFD \
	_IOW(MODEGATE_IOC_MAGIC, 0x14, struct modegate_async_eventfd)

/**
 * define MODEGATE_IOC_BYSTANDER - register or unregister a bystander
 *
 * With &struct modegate_bystander.  -EPERM without the module parameter
 * allow_wrong_process_demo; -ENOSPC when %MODEGATE_MAX_BYSTANDERS are
 * registered.
 */
#define MODEGATE_IOC_BYSTANDER \
	_IOW(MODEGATE_IOC_MAGIC, 0x15, struct modegate_bystander)

#endif /* _UAPI_LINUX_MODEGATE_H */
