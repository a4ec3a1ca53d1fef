/* test_volume.c: unit tests for backend/volume.c: subPath resolution
 * beneath a volume (with openat2 and by hand), hostPath type checks and
 * their messages, emptyDir directories, paths and teardown. Mounts
 * (Memory volumes, subPath binds) are left to t0051. */
#include "backend/util.h"
#include "backend/volume.h"
#include "tests/unit/testhelp.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static char tmp[64];

static char *at(const char *rel)
{
	return xasprintf("%s/%s", tmp, rel);
}

static void mk(const char *rel)
{
	char *p = at(rel);
	util_mkdir_p(p, 0755);
	free(p);
}

static void file(const char *rel, const char *content)
{
	char *p = at(rel);
	util_write_file(p, content, strlen(content), 0644);
	free(p);
}

static void link_(const char *target, const char *rel)
{
	char *p = at(rel);
	if (symlink(target, p) < 0)
		perror("symlink");
	free(p);
}

static bool exists(const char *rel)
{
	char *p = at(rel);
	struct stat st;
	bool r = lstat(p, &st) == 0;
	free(p);
	return r;
}

/* Open SUB beneath tmp/vol; 0 if it is the same file as tmp/vol/WANT
 * (WANT NULL: any), else the error. */
static int beneath(const char *sub, bool create, const char *want)
{
	char *root = at("vol");
	int rfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	free(root);
	if (rfd < 0)
		return -errno;
	int fd = vol_open_beneath(rfd, sub, create);
	close(rfd);
	if (fd < 0)
		return fd;
	struct stat a, b;
	int r = fstat(fd, &a) < 0 ? -errno : 0;
	close(fd);
	if (r == 0 && want) {
		char *w = xasprintf("%s/vol/%s", tmp, want);
		r = stat(w, &b) < 0				     ? -errno
		    : (a.st_ino == b.st_ino && a.st_dev == b.st_dev) ? 0
								     : -EBADF;
		free(w);
	}
	return r;
}

static void beneath_cases(void)
{
	CHECK(beneath("a/b/file", false, "a/b/file") == 0);
	CHECK(beneath("a/b", false, "a/b") == 0);
	CHECK(beneath(".", false, ".") == 0);
	CHECK(beneath("./a//b/", false, "a/b") == 0);
	/* symlinks that stay inside are followed */
	CHECK(beneath("in/b/file", false, "a/b/file") == 0);
	CHECK(beneath("a/up/b", false, "a/b") == 0);
	CHECK(beneath("a/b/../b/file", false, "a/b/file") == 0);
	/* anything leading out is refused */
	CHECK(beneath("out", false, NULL) == -EXDEV);
	CHECK(beneath("abs", false, NULL) == -EXDEV);
	CHECK(beneath("abs/passwd", false, NULL) == -EXDEV);
	CHECK(beneath("a/esc", false, NULL) == -EXDEV);
	CHECK(beneath("..", false, NULL) == -EXDEV);
	CHECK(beneath("a/../..", false, NULL) == -EXDEV);
	CHECK(beneath("/etc", false, NULL) == -EXDEV);
	CHECK(beneath("loop1", false, NULL) == -ELOOP);
	CHECK(beneath("missing", false, NULL) == -ENOENT);
	CHECK(beneath("a/b/file/x", false, NULL) == -ENOTDIR);
}

static void setup_tree(void)
{
	mk("vol/a/b");
	mk("outside");
	file("vol/a/b/file", "inside\n");
	file("outside/secret", "secret\n");
	link_("a", "vol/in");
	link_("../outside", "vol/out");
	link_("/etc", "vol/abs");
	link_("../a", "vol/a/up");
	link_("../../outside", "vol/a/esc");
	link_("loop2", "vol/loop1");
	link_("loop1", "vol/loop2");
}

TEST(subpath_beneath_openat2)
{
	vol_no_openat2 = false;
	beneath_cases();
}

TEST(subpath_beneath_by_hand)
{
	vol_no_openat2 = true;
	beneath_cases();
	vol_no_openat2 = false;
}

static void create_cases(const char *tag)
{
	char *sub = xasprintf("new-%s/x/y", tag);
	CHECK(beneath(sub, true, sub) == 0);
	char *p = xasprintf("%s/vol/%s", tmp, sub);
	struct stat st;
	CHECK(stat(p, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0755);
	free(p);
	free(sub);
	/* through a symlink inside: created where it points */
	sub = xasprintf("in/made-%s", tag);
	char *want = xasprintf("a/made-%s", tag);
	CHECK(beneath(sub, true, want) == 0);
	free(sub);
	free(want);
	/* never outside */
	sub = xasprintf("out/made-%s", tag);
	CHECK(beneath(sub, true, NULL) == -EXDEV);
	free(sub);
	sub = xasprintf("outside/made-%s", tag);
	CHECK(!exists(sub));
	free(sub);
	sub = xasprintf("a/esc/made-%s/deeper", tag);
	CHECK(beneath(sub, true, NULL) == -EXDEV);
	free(sub);
	/* an existing file is opened, not replaced */
	CHECK(beneath("a/b/file", true, "a/b/file") == 0);
}

TEST(subpath_create)
{
	mode_t old = umask(022);
	vol_no_openat2 = false;
	create_cases("o");
	vol_no_openat2 = true;
	create_cases("h");
	vol_no_openat2 = false;
	umask(old);
}

/* ---- hostPath and emptyDir ------------------------------------------------ */

static struct spec_pod *hostpath_pod(const char *path, const char *type)
{
	char *y = xasprintf("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n"
			    "  volumes:\n"
			    "  - {name: hp, hostPath: {path: \"%s\"%s%s%s}}\n"
			    "  containers:\n"
			    "  - {name: c, image: busybox}\n",
			    path, type ? ", type: " : "", type ? type : "", type ? "" : "");
	struct spec_pod *pod = th_parse_pod(y);
	free(y);
	return pod;
}

/* vol_setup's error for a hostPath volume at tmp/REL of TYPE, or "" on
 * success. Caller frees. */
static char *hostpath(const char *rel, const char *type)
{
	char *path = rel[0] == '/' ? xstrdup(rel) : at(rel);
	struct spec_pod *pod = hostpath_pod(path, type);
	free(path);
	if (!pod)
		return xstrdup("(parse error)");
	struct vol_pod vp = {.spec = pod};
	char *err = NULL;
	int r = vol_setup(&vp, &err);
	spec_pod_free(pod);
	if (r == 0) {
		free(err);
		return xstrdup("");
	}
	return err ? err : xstrdup("(no message)");
}

static char *msg_for(const char *rel, const char *what)
{
	return xasprintf("MountVolume.SetUp failed for volume \"hp\" : hostPath type check failed: "
			 "%s/%s is not %s",
			 tmp, rel, what);
}

#define CHECK_HOSTPATH(rel, type, want)                                                            \
	do {                                                                                       \
		char *got_ = hostpath(rel, type);                                                  \
		CHECK_STREQ(got_, want);                                                           \
		free(got_);                                                                        \
	} while (0)

#define CHECK_HOSTPATH_NOT(rel, type, what)                                                        \
	do {                                                                                       \
		char *want_ = msg_for(rel, what);                                                  \
		CHECK_HOSTPATH(rel, type, want_);                                                  \
		free(want_);                                                                       \
	} while (0)

TEST(hostpath_types)
{
	mode_t old = umask(022);
	mk("hp/dir");
	file("hp/file", "x");
	char *sock = at("hp/sock");
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	CHECK(s >= 0 && bind(s, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	if (s >= 0)
		close(s);
	free(sock);

	CHECK_HOSTPATH("hp/dir", "Directory", "");
	CHECK_HOSTPATH("hp/dir", "DirectoryOrCreate", "");
	CHECK_HOSTPATH("hp/file", "File", "");
	CHECK_HOSTPATH("hp/file", "FileOrCreate", "");
	CHECK_HOSTPATH("hp/sock", "Socket", "");
	CHECK_HOSTPATH("/dev/null", "CharDevice", "");
	CHECK_HOSTPATH("hp/file", NULL, "");

	CHECK_HOSTPATH_NOT("hp/missing", "Directory", "a directory");
	CHECK(!exists("hp/missing"));
	CHECK_HOSTPATH_NOT("hp/file", "Directory", "a directory");
	CHECK_HOSTPATH_NOT("hp/dir", "File", "a file");
	CHECK_HOSTPATH_NOT("hp/missing", "File", "a file");
	CHECK_HOSTPATH_NOT("hp/file", "Socket", "a socket file");
	CHECK_HOSTPATH_NOT("hp/file", "CharDevice", "a character device");
	CHECK_HOSTPATH_NOT("hp/dir", "BlockDevice", "a block device");
	CHECK_HOSTPATH_NOT("hp/file", "DirectoryOrCreate", "a directory");
	CHECK_HOSTPATH_NOT("hp/dir", "FileOrCreate", "a file");

	/* the OrCreate types make what is missing: 0755 directories (with
	 * their parents), 0644 files (the parent must exist) */
	struct stat st;
	CHECK_HOSTPATH("hp/new/deep/dir", "DirectoryOrCreate", "");
	char *p = at("hp/new/deep/dir");
	CHECK(stat(p, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0755);
	free(p);
	CHECK_HOSTPATH("hp/newfile", "FileOrCreate", "");
	p = at("hp/newfile");
	CHECK(stat(p, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0644);
	free(p);
	char *want =
	    xasprintf("MountVolume.SetUp failed for volume \"hp\" : open %s/hp/nodir/f: no "
		      "such file or directory",
		      tmp);
	CHECK_HOSTPATH("hp/nodir/f", "FileOrCreate", want);
	free(want);
	want = xasprintf("MountVolume.SetUp failed for volume \"hp\" : mkdir %s/hp/file/sub: not a "
			 "directory",
			 tmp);
	CHECK_HOSTPATH("hp/file/sub", "DirectoryOrCreate", want);
	free(want);
	/* no type: a missing path becomes a directory, as containerd does */
	CHECK_HOSTPATH("hp/untyped", NULL, "");
	p = at("hp/untyped");
	CHECK(stat(p, &st) == 0 && S_ISDIR(st.st_mode));
	free(p);
	umask(old);
}

TEST(emptydir_paths_setup_teardown)
{
	struct spec_pod *pod =
	    th_parse_pod("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n"
			 "  volumes:\n"
			 "  - {name: cache, emptyDir: {}}\n"
			 "  - {name: host, hostPath: {path: /srv/data}}\n"
			 "  - {name: mem, emptyDir: {medium: Memory}}\n"
			 "  containers:\n"
			 "  - {name: c, image: busybox}\n");
	CHECK(pod != NULL);
	if (!pod)
		return;
	char *disk = at("ed/disk/uid1"), *mem = at("ed/mem/uid1"), *sub = at("ed/sub/uid1");
	struct vol_pod vp = {.spec = pod, .disk_dir = disk, .mem_dir = mem, .subpath_dir = sub};
	char **paths = vol_paths(&vp);
	char *want = xasprintf("%s/cache", disk);
	CHECK_STREQ(paths[0], want);
	free(want);
	CHECK_STREQ(paths[1], "/srv/data");
	want = xasprintf("%s/mem", mem);
	CHECK_STREQ(paths[2], want);
	free(want);
	CHECK(paths[3] == NULL);
	vol_paths_free(paths);

	/* the disk volume only (a Memory volume needs a mount) */
	struct spec_pod *disk_only =
	    th_parse_pod("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n"
			 "  volumes:\n"
			 "  - {name: cache, emptyDir: {}}\n"
			 "  containers:\n"
			 "  - {name: c, image: busybox}\n");
	CHECK(disk_only != NULL);
	if (disk_only) {
		struct vol_pod dv = vp;
		dv.spec = disk_only;
		char *err = NULL;
		mode_t old = umask(022);
		CHECK(vol_setup(&dv, &err) == 0);
		umask(old);
		CHECK(err == NULL);
		struct stat st;
		char *c = at("ed/disk/uid1/cache");
		CHECK(stat(c, &st) == 0 && (st.st_mode & 07777) == 0777);
		free(c);
		/* idempotent */
		CHECK(vol_setup(&dv, &err) == 0);
		file("ed/disk/uid1/cache/data", "x");
		mk("ed/sub/uid1/c");
		mk("ed/mem/uid1");
		vol_teardown(&dv);
		CHECK(!exists("ed/disk/uid1") && !exists("ed/mem/uid1") && !exists("ed/sub/uid1"));
		CHECK(exists("ed/disk"));
		spec_pod_free(disk_only);
	}
	/* teardown with no spec and nothing there */
	struct vol_pod none = {.disk_dir = disk, .mem_dir = mem, .subpath_dir = sub};
	vol_teardown(&none);
	free(disk);
	free(mem);
	free(sub);
	spec_pod_free(pod);
}

int main(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/podfs-test-vol.XXXXXX");
	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		return 1;
	}
	setup_tree();
	RUN(subpath_beneath_openat2);
	RUN(subpath_beneath_by_hand);
	RUN(subpath_create);
	RUN(hostpath_types);
	RUN(emptydir_paths_setup_teardown);
	util_rm_rf(tmp);
	return th_report();
}
