// SPDX-License-Identifier: GPL-2.0
/*
 * modegate delivery threads: the kernel threads that write the data of
 * async reads into their submitters' address spaces.  Calls no other file
 * of the module.
 *
 * Work done for a user is that user's.  A delivery copies up to the store
 * size per request, so it must not run where nobody pays for it -- in a
 * shared high-priority kworker, at nice -20, in the root cgroup.  As vhost
 * gives each owner its own worker, each submitting process gets its own
 * thread ("modegate-TGID"): a kthread_worker created at the process's first
 * submit, moved into the process's cgroups (cgroup_attach_task_all(), so
 * that the cpu, cpuset and memory controllers see it as the process's) and
 * set to the submitting thread's nice before it runs anything.  While it
 * delivers, it takes the nice of the thread that submitted each run, and,
 * for a file shared with another process, that process's cgroups
 * (modegate_worker_become()).
 *
 * Every file of a process uses the process's one thread, so a user has at
 * most as many delivery threads as processes, and never more than
 * MODEGATE_WORKERS_PER_USER, however many files it opens.  When the last
 * file using a thread is released the thread stays idle for about
 * MODEGATE_WORKER_IDLE, so that its process, or another process of its
 * user in the same cgroups, finds it when it submits again -- creating a
 * thread and moving it into a cgroup cost milliseconds, the cgroup move
 * global locks and an RCU grace period -- and is then destroyed.
 *
 * Locking: modegate_workers_lock (a mutex) protects the table and the
 * counts.  A thread's @moved is used by that thread alone.
 */
#include "modegate.h"

#include <linux/capability.h>
#include <linux/cgroup.h>
#include <linux/cred.h>
#include <linux/hashtable.h>
#include <linux/kthread.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/sched/isolation.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

/* How long a thread no file uses is kept for its process. */
#define MODEGATE_WORKER_IDLE	HZ
/* Delivery threads per user (the budget's owner, ctx.c), CAP_SYS_RESOURCE aside. */
#define MODEGATE_WORKERS_PER_USER	64

/**
 * struct modegate_worker - one submitting process's delivery thread
 * @kw: the kthread_worker the files' deliveries are queued on.
 * @owner: the process it was created for (the key).
 * @node: in modegate_workers, by @owner.
 * @uid: the user it counts against (modegate_budget_uid()).
 * @users: files that use it.
 * @idle_since: jiffies when @users dropped to zero.
 * @cpu: the CPU it is steered to (modegate_worker_steer()), or -1.
 * @steered: jiffies of the last steering.
 * @moved: jiffies of its last move between cgroups (only the thread).
 */
struct modegate_worker {
	struct kthread_worker *kw;
	struct pid *owner;
	struct hlist_node node;
	kuid_t uid;
	unsigned int users;
	unsigned long idle_since;
	int cpu;
	unsigned long steered;
	unsigned long moved;
};

static DEFINE_HASHTABLE(modegate_workers, 6);
static DEFINE_MUTEX(modegate_workers_lock);	/* the table, users, idle_since */
static void modegate_workers_reap(struct work_struct *work);
static DECLARE_DELAYED_WORK(modegate_workers_reaper, modegate_workers_reap);

/* Move @to into @from's cgroups, unless it is in them already. */
static int modegate_worker_attach(struct task_struct *from, struct task_struct *to)
{
	bool same;

	rcu_read_lock();
	same = task_css_set(from) == task_css_set(to);
	rcu_read_unlock();
	return same ? 0 : cgroup_attach_task_all(from, to);
}

static void modegate_worker_destroy(struct modegate_worker *w)
{
	kthread_destroy_worker(w->kw);
	put_pid(w->owner);
	kfree(w);
}

/* The current process's thread, with a use taken.  Lock held. */
static struct modegate_worker *modegate_worker_find(struct pid *tgid)
{
	struct modegate_worker *w;

	hash_for_each_possible(modegate_workers, w, node, (unsigned long)tgid) {
		if (w->owner == tgid) {
			w->users++;
			return w;
		}
	}
	return NULL;
}

/*
 * An idle thread of @uid in the current process's cgroups, taken over for
 * the current process (@tgid), with a use.  Lock held.  A process that
 * forks children which submit and exit makes no thread, and no move
 * between cgroups, per child.
 */
static struct modegate_worker *modegate_worker_reuse(struct pid *tgid, kuid_t uid)
{
	struct modegate_worker *w;
	struct hlist_node *tmp;
	unsigned int bkt;
	bool same;

	hash_for_each_safe(modegate_workers, bkt, tmp, w, node) {
		if (w->users || !uid_eq(w->uid, uid))
			continue;
		rcu_read_lock();
		same = task_css_set(w->kw->task) == task_css_set(current);
		rcu_read_unlock();
		if (!same)
			continue;
		hash_del(&w->node);
		put_pid(w->owner);
		w->owner = get_pid(tgid);
		w->users = 1;
		hash_add(modegate_workers, &w->node, (unsigned long)tgid);
		return w;
	}
	return NULL;
}

/* May @uid have one more thread?  Lock held. */
static bool modegate_worker_room(kuid_t uid)
{
	struct modegate_worker *w;
	unsigned int bkt, n = 0;

	if (capable(CAP_SYS_RESOURCE))
		return true;
	hash_for_each(modegate_workers, bkt, w, node)
		n += uid_eq(w->uid, uid);
	return n < MODEGATE_WORKERS_PER_USER;
}

/**
 * modegate_worker_get() - the delivery thread of the current process
 *
 * Created at the process's first call, in its cgroups and at its nice;
 * later calls, from any of its files, share it.
 *
 * Context: process context; may sleep.
 * Return: the worker, with a use for the caller's file; ERR_PTR(-EAGAIN)
 * (the user has MODEGATE_WORKERS_PER_USER threads), ERR_PTR(-ENOMEM),
 * ERR_PTR(-EINTR) (a fatal signal while the thread was being created) or
 * the cgroup core's error.
 */
struct modegate_worker *modegate_worker_get(void)
{
	kuid_t uid = modegate_budget_uid(current_cred());
	struct pid *tgid = task_tgid(current);
	struct modegate_worker *w, *found;
	struct kthread_worker *kw;
	bool room;
	int ret;

	mutex_lock(&modegate_workers_lock);
	w = modegate_worker_find(tgid);
	if (!w)
		w = modegate_worker_reuse(tgid, uid);
	room = w || modegate_worker_room(uid);
	mutex_unlock(&modegate_workers_lock);
	if (w)
		return w;
	if (!room)
		return ERR_PTR(-EAGAIN);

	/* Created and attached without the lock: it takes milliseconds. */
	w = kzalloc(sizeof(*w), GFP_KERNEL_ACCOUNT);
	if (!w)
		return ERR_PTR(-ENOMEM);
	kw = modegate_kthread_run_worker("modegate-%d", task_tgid_nr(current));
	if (IS_ERR(kw)) {
		ret = PTR_ERR(kw);
		goto err_free;
	}
	ret = modegate_worker_attach(current, kw->task);
	if (ret)
		goto err_destroy;
	set_user_nice(kw->task, task_nice(current));
	w->kw = kw;
	w->owner = get_pid(tgid);
	w->users = 1;
	w->uid = uid;
	w->cpu = -1;
	w->steered = jiffies - 1;
	w->moved = jiffies - 1;

	mutex_lock(&modegate_workers_lock);
	found = modegate_worker_find(tgid);	/* another thread of ours won */
	/* Other processes of the user may have made theirs meanwhile. */
	room = found || modegate_worker_room(uid);
	if (room && !found)
		hash_add(modegate_workers, &w->node, (unsigned long)tgid);
	mutex_unlock(&modegate_workers_lock);
	if (!room || found) {
		modegate_worker_destroy(w);
		return found ?: ERR_PTR(-EAGAIN);
	}
	return w;

err_destroy:
	kthread_destroy_worker(kw);
err_free:
	kfree(w);
	return ERR_PTR(ret);
}

/* Is @w's process gone? */
static bool modegate_worker_orphan(struct modegate_worker *w)
{
	bool gone;

	rcu_read_lock();
	gone = !pid_task(w->owner, PIDTYPE_TGID);
	rcu_read_unlock();
	return gone;
}

/**
 * modegate_worker_put() - a file no longer uses its delivery thread
 * @w: from modegate_worker_get(); the file's work is flushed.
 *
 * Context: process context.
 */
void modegate_worker_put(struct modegate_worker *w)
{
	mutex_lock(&modegate_workers_lock);
	/*
	 * Idle, it waits for its process, or for another process of its
	 * user in its cgroups (modegate_worker_reuse()), until the reaper.
	 * Not mod_delayed_work(): puts must not hold the reaper off.
	 */
	if (!--w->users) {
		w->idle_since = jiffies;
		queue_delayed_work(system_wq, &modegate_workers_reaper,
				   MODEGATE_WORKER_IDLE);
	}
	mutex_unlock(&modegate_workers_lock);
}

/* Destroy the threads idle for MODEGATE_WORKER_IDLE, or whose process exited. */
static void modegate_workers_reap(struct work_struct *work)
{
	struct modegate_worker *w;
	struct hlist_node *tmp;
	bool idle_left = false;
	HLIST_HEAD(dead);
	unsigned int bkt;

	mutex_lock(&modegate_workers_lock);
	hash_for_each_safe(modegate_workers, bkt, tmp, w, node) {
		if (w->users)
			continue;
		if (time_after_eq(jiffies, w->idle_since + MODEGATE_WORKER_IDLE) ||
		    modegate_worker_orphan(w)) {
			hash_del(&w->node);
			hlist_add_head(&w->node, &dead);
		} else {
			idle_left = true;
		}
	}
	if (idle_left)
		queue_delayed_work(system_wq, &modegate_workers_reaper,
				   MODEGATE_WORKER_IDLE);
	mutex_unlock(&modegate_workers_lock);

	hlist_for_each_entry_safe(w, tmp, &dead, node)
		modegate_worker_destroy(w);
}

/**
 * modegate_worker_queue() - have the delivery thread run @work
 * @w: the file's worker.
 * @work: the file's delivery work.
 *
 * Context: any, hard irq included.
 */
void modegate_worker_queue(struct modegate_worker *w, struct kthread_work *work)
{
	kthread_queue_work(w->kw, work);
}

/**
 * modegate_worker_steer() - deliver on the CPU the submitter runs on
 * @w: the file's worker.
 *
 * As blk-mq steers a completion back to the submitting CPU (rq_affinity):
 * the submitter's address space is most likely still loaded there (lazy
 * TLB), so adopting it switches no page tables, and the waiter it wakes
 * slept there.  Left to the scheduler, the thread is woken from the
 * interrupt onto another, idle CPU -- a cross-CPU wake-up each way.  A
 * hint, moved at most once a jiffy (a process whose threads submit from
 * several CPUs does not make it bounce), and only to a housekeeping CPU:
 * the CPU the submitter is on, which its cpuset allows.
 *
 * Context: the submitter, in process context.
 */
void modegate_worker_steer(struct modegate_worker *w)
{
	int cpu = raw_smp_processor_id();
	unsigned long now = jiffies;

	if (READ_ONCE(w->cpu) == cpu || !time_after(now, READ_ONCE(w->steered)) ||
	    !modegate_cpu_housekeeping(cpu))
		return;
	WRITE_ONCE(w->cpu, cpu);
	WRITE_ONCE(w->steered, now);
	set_cpus_allowed_ptr(w->kw->task, cpumask_of(cpu));
}

/**
 * modegate_worker_flush() - wait until @work is neither queued nor running
 * @work: a file's delivery work.
 */
void modegate_worker_flush(struct kthread_work *work)
{
	kthread_flush_work(work);
}

/**
 * modegate_worker_become() - run as the submitter of the next run
 * @w: the worker of the calling thread.
 * @origin: the process that submitted the run.
 * @nice: the nice of the thread that submitted it.
 *
 * Context: the delivery thread itself.  A process that has exited leaves
 * the thread where it is: its deliveries find no address space (-ESRCH).
 */
void modegate_worker_become(struct modegate_worker *w, struct pid *origin, int nice)
{
	struct task_struct *owner;
	bool same;

	if (task_nice(current) != nice)
		set_user_nice(current, nice);
	owner = get_pid_task(origin, PIDTYPE_TGID);
	if (!owner)
		return;
	/* Its cgroups as they are now: a process an admin moved is followed. */
	rcu_read_lock();
	same = task_css_set(owner) == task_css_set(current);
	rcu_read_unlock();
	/*
	 * A move takes the cgroup core's global locks: at most one a jiffy,
	 * however two processes sharing a file interleave their runs.
	 */
	if (!same && time_after(jiffies, w->moved)) {
		w->moved = jiffies;
		cgroup_attach_task_all(owner, current);
	}
	put_task_struct(owner);
}

/* Module exit: every file is released; destroy the idle threads now. */
void modegate_worker_exit(void)
{
	struct modegate_worker *w;
	struct hlist_node *tmp;
	unsigned int bkt;

	cancel_delayed_work_sync(&modegate_workers_reaper);
	hash_for_each_safe(modegate_workers, bkt, tmp, w, node) {
		WARN_ON_ONCE(w->users);
		hash_del(&w->node);
		modegate_worker_destroy(w);
	}
}
