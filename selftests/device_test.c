// SPDX-License-Identifier: GPL-2.0
/*
 * The device itself: node, permissions, open/close, module life cycle.
 */
#include <sys/wait.h>

#include "modegate_test.h"
#include "kselftest_harness.h"

/* Fail unless the module ends each test loaded with default parameters. */
static void restore_default(struct __test_metadata *_metadata)
{
	ASSERT_EQ(0, mg_reload(NULL));
	ASSERT_EQ(0, access(MG_DEV, F_OK));
}

TEST(node_is_char_device_mode_0600)
{
	struct stat st;

	ASSERT_EQ(0, mg_ensure_default());
	ASSERT_EQ(0, stat(MG_DEV, &st));
	ASSERT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0600, st.st_mode & 07777);
	EXPECT_EQ(0, st.st_uid);
}

TEST(open_close)
{
	int fds[16];
	int i;

	ASSERT_EQ(0, mg_ensure_default());
	for (i = 0; i < 16; i++) {
		fds[i] = open(MG_DEV, i % 2 ? O_RDONLY : O_RDWR);
		ASSERT_LE(0, fds[i]);
	}
	for (i = 0; i < 16; i++)
		ASSERT_EQ(0, close(fds[i]));
}

TEST(unprivileged_open_refused_by_default_mode)
{
	pid_t pid;
	int status;

	ASSERT_EQ(0, mg_ensure_default());
	pid = mg_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (setgid(65534) || setuid(65534))
			_exit(2);
		_exit(open(MG_DEV, O_RDWR) < 0 && errno == EACCES ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
}

TEST(rmmod_refused_while_open)
{
	int fd, ret;

	ASSERT_EQ(0, mg_ensure_default());
	fd = open(MG_DEV, O_RDWR);
	ASSERT_LE(0, fd);
	ret = mg_unload();
	EXPECT_EQ(-EAGAIN, ret);
	EXPECT_TRUE(mg_loaded());
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, mg_unload());
	EXPECT_FALSE(mg_loaded());
	EXPECT_NE(0, access(MG_DEV, F_OK));
	restore_default(_metadata);
}

TEST(load_unload_20_cycles)
{
	int i, fd;

	for (i = 0; i < 20; i++) {
		ASSERT_EQ(0, mg_reload(NULL)) TH_LOG("cycle %d", i);
		fd = open(MG_DEV, O_RDWR);
		ASSERT_LE(0, fd) TH_LOG("cycle %d", i);
		ASSERT_EQ(0, close(fd));
	}
	ASSERT_EQ(0, mg_unload());
	restore_default(_metadata);
}

TEST(node_mode_parameter)
{
	struct stat st;

	ASSERT_EQ(0, mg_reload("node_mode=0666"));
	ASSERT_EQ(0, stat(MG_DEV, &st));
	EXPECT_EQ(0666, st.st_mode & 07777);
	ASSERT_EQ(-EINVAL, mg_reload("node_mode=04777"));
	EXPECT_FALSE(mg_loaded());
	restore_default(_metadata);
}

TEST(bad_store_size_refuses_load)
{
	ASSERT_EQ(0, mg_unload());
	EXPECT_EQ(-EINVAL, mg_load("store_size=1"));
	EXPECT_FALSE(mg_loaded());
	EXPECT_EQ(-EINVAL, mg_load("store_size=1099511627776"));
	EXPECT_FALSE(mg_loaded());
	restore_default(_metadata);
}

TEST(load_message_names_abi_version)
{
	char want[64];
	char *buf;

	restore_default(_metadata);
	buf = mg_read_klog();
	ASSERT_NE(NULL, buf);
	snprintf(want, sizeof(want), "modegate: loaded: ABI version %d",
		 MODEGATE_ABI_VERSION);
	EXPECT_NE(NULL, strstr(buf, want));
	free(buf);
}

TEST_HARNESS_MAIN
