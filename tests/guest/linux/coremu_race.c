// SPDX-License-Identifier: GPL-2.0
/*
 * COREMU's kernel race demo (issue 7, docs/tutorial-kernel-race.md).
 *
 * scripts/guest/build-linux.sh copies this file into the kernel tree as
 * kernel/coremu_race.c and builds it in (obj-y). It adds one file,
 * /proc/coremu_race:
 *
 *   echo N > /proc/coremu_race   adds 1 to coremu_race_counter N times
 *   cat /proc/coremu_race        prints the counter
 *
 * The increment is deliberately broken: a plain load, a little work, a plain
 * store, with no lock and no atomic. Two CPUs writing the file at once can
 * both load the same value, and the later store then wipes out the other
 * CPU's increments: the counter ends below the sum of what was asked.
 * The test init (tests/guest/linux/init.c, kernel command line race=N) has
 * every CPU write N at once and reports the updates lost.
 */
#include <linux/compiler.h>
#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/proc_fs.h>
#include <linux/sched.h>
#include <linux/seq_file.h>

/* The shared field, not static so that it is easy to find in vmlinux. */
unsigned long coremu_race_counter;

/* The racy read-modify-write. noinline: one place to break on. */
noinline void coremu_race_bump(void)
{
	unsigned long v = READ_ONCE(coremu_race_counter);
	int i;

	/* Some work between the load and the store widens the window. */
	for (i = 0; i < 16; i++)
		asm volatile("nop");
	WRITE_ONCE(coremu_race_counter, v + 1);
}

static ssize_t coremu_race_write(struct file *file, const char __user *buf, size_t len, loff_t *pos)
{
	unsigned long n, i;
	int err = kstrtoul_from_user(buf, len, 0, &n);

	if (err)
		return err;
	if (n > 100000000)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		coremu_race_bump();
		if ((i & 1023) == 1023)
			cond_resched();
	}
	return len;
}

static int coremu_race_show(struct seq_file *m, void *v)
{
	seq_printf(m, "%lu\n", READ_ONCE(coremu_race_counter));
	return 0;
}

static int coremu_race_open(struct inode *inode, struct file *file)
{
	return single_open(file, coremu_race_show, NULL);
}

static const struct proc_ops coremu_race_ops = {
	.proc_open = coremu_race_open,
	.proc_read = seq_read,
	.proc_lseek = seq_lseek,
	.proc_release = single_release,
	.proc_write = coremu_race_write,
};

static int __init coremu_race_init(void)
{
	if (!proc_create("coremu_race", 0666, NULL, &coremu_race_ops))
		return -ENOMEM;
	return 0;
}
device_initcall(coremu_race_init);
