/* volume.c: see volume.h. Kubernetes' pkg/volume/emptydir, hostpath
 * (checkTypeInternal) and kubelet's makeMounts/subpath are the reference. */
#include "backend/volume.h"
#include "backend/resources.h"
#include "backend/util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

bool vol_no_openat2;

static bool is_memory(const struct spec_volume *v)
{
	return v->kind == SPEC_VOL_EMPTYDIR && v->medium && !strcmp(v->medium, "Memory");
}

char **vol_paths(const struct vol_pod *vp)
{
	const struct spec_pod *s = vp->spec;
	char **paths = xcalloc(s->nvolumes + 1, sizeof(char *));
	for (size_t i = 0; i < s->nvolumes; i++) {
		const struct spec_volume *v = &s->volumes[i];
		if (v->kind == SPEC_VOL_HOSTPATH)
			paths[i] = xstrdup(v->host_path ? v->host_path : "");
		else
			paths[i] =
			    xasprintf("%s/%s", is_memory(v) ? vp->mem_dir : vp->disk_dir, v->name);
	}
	return paths;
}

void vol_paths_free(char **paths)
{
	for (size_t i = 0; paths && paths[i]; i++)
		free(paths[i]);
	free(paths);
}

/* strerror as Go prints it: lowercase ("no such file or directory"). */
static char *go_strerror(int e)
{
	char *s = xstrdup(strerror(e));
	if (s[0] && !(s[1] && isupper((unsigned char)s[1])))
		s[0] = (char)tolower((unsigned char)s[0]);
	return s;
}

static void set_err(char **err, const char *volume, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char **err, const char *volume, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	free(*err);
	*err = xasprintf("MountVolume.SetUp failed for volume \"%s\" : %s", volume, msg);
	free(msg);
}

/* Is DIR a mount point (its device differs from its parent's)? */
static bool is_mount_point(const char *dir)
{
	struct stat a, b;
	cleanup_free char *parent = xasprintf("%s/..", dir);
	return stat(dir, &a) == 0 && stat(parent, &b) == 0 && a.st_dev != b.st_dev;
}

static int setup_emptydir(const struct vol_pod *vp, const struct spec_volume *v, const char *path,
			  char **err)
{
	int r = util_mkdir_p(path, 0777);
	if (r < 0) {
		cleanup_free char *e = go_strerror(-r);
		set_err(err, v->name, "mkdir %s: %s", path, e);
		return r;
	}
	if (is_memory(v) && !is_mount_point(path)) {
		int64_t size = res_memory_volume_size(vp->spec, v, vp->node_memory);
		cleanup_free char *opts =
		    size > 0 ? xasprintf("size=%lld", (long long)size) : xstrdup("");
		if (mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0) {
			r = -errno;
			cleanup_free char *e = go_strerror(errno);
			set_err(err, v->name, "mount tmpfs on %s: %s", path, e);
			return r;
		}
	}
	/* the kubelet's emptyDir is world-writable, whatever the umask */
	if (chmod(path, is_memory(v) ? 01777 : 0777) < 0) {
		r = -errno;
		cleanup_free char *e = go_strerror(errno);
		set_err(err, v->name, "chmod %s: %s", path, e);
		return r;
	}
	return 0;
}

static const char *type_word(mode_t m)
{
	return S_ISDIR(m)    ? "Directory"
	       : S_ISREG(m)  ? "File"
	       : S_ISSOCK(m) ? "Socket"
	       : S_ISCHR(m)  ? "CharDevice"
	       : S_ISBLK(m)  ? "BlockDevice"
			     : "";
}

/* hostPath's checkTypeInternal. */
static int setup_hostpath(const struct spec_volume *v, char **err)
{
	const char *path = v->host_path ? v->host_path : "";
	const char *type = v->host_path_type ? v->host_path_type : "";
	struct stat st;
	bool exists = stat(path, &st) == 0;
	int r;
	if (!exists && (!*type || !strcmp(type, "DirectoryOrCreate"))) {
		/* containerd creates a missing source for an untyped hostPath too */
		if ((r = util_mkdir_p(path, 0755)) < 0) {
			cleanup_free char *e = go_strerror(-r);
			set_err(err, v->name, "mkdir %s: %s", path, e);
			return r;
		}
		exists = stat(path, &st) == 0;
	} else if (!exists && !strcmp(type, "FileOrCreate")) {
		int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOCTTY, 0644);
		if (fd < 0 && errno != EEXIST) {
			r = -errno;
			cleanup_free char *e = go_strerror(errno);
			set_err(err, v->name, "open %s: %s", path, e);
			return r;
		}
		if (fd >= 0)
			close(fd);
		exists = stat(path, &st) == 0;
	}
	if (!*type)
		return 0;
	static const struct {
		const char *type, *want, *what;
	} checks[] = {
	    {"DirectoryOrCreate", "Directory", "a directory"},
	    {"Directory", "Directory", "a directory"},
	    {"FileOrCreate", "File", "a file"},
	    {"File", "File", "a file"},
	    {"Socket", "Socket", "a socket file"},
	    {"CharDevice", "CharDevice", "a character device"},
	    {"BlockDevice", "BlockDevice", "a block device"},
	};
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		if (strcmp(type, checks[i].type))
			continue;
		if (!exists || strcmp(type_word(st.st_mode), checks[i].want)) {
			set_err(err, v->name, "hostPath type check failed: %s is not %s", path,
				checks[i].what);
			return -EINVAL;
		}
		return 0;
	}
	set_err(err, v->name, "%s is an invalid volume type", type);
	return -EINVAL;
}

int vol_setup(const struct vol_pod *vp, char **err)
{
	const struct spec_pod *s = vp->spec;
	char **paths = vol_paths(vp);
	int r = 0;
	*err = NULL;
	for (size_t i = 0; i < s->nvolumes && r == 0; i++) {
		const struct spec_volume *v = &s->volumes[i];
		if (v->kind == SPEC_VOL_HOSTPATH)
			r = setup_hostpath(v, err);
		else
			r = setup_emptydir(vp, v, paths[i], err);
	}
	vol_paths_free(paths);
	return r;
}

/* Unmount whatever is mounted on PATH, stacked mounts too (a bind from
 * the same file system has the same st_dev, so just try: umount2 fails
 * with EINVAL where nothing is mounted). Detaching takes what is mounted
 * below along. */
static void unmount_all(const char *path)
{
	for (int i = 0; i < 64 && umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) == 0; i++) {
	}
}

/* Unmount what is mounted on the entries of DIR, DEPTH levels down. */
static void unmount_entries(const char *dir, int depth)
{
	DIR *d = dir ? opendir(dir) : NULL;
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		cleanup_free char *p = xasprintf("%s/%s", dir, de->d_name);
		unmount_all(p);
		if (depth > 1)
			unmount_entries(p, depth - 1);
	}
	closedir(d);
}

void vol_teardown(const struct vol_pod *vp)
{
	/* every mount found there, not only those the spec names: the spec
	 * may be gone, or changed, since they were made */
	unmount_entries(vp->mem_dir, 1);
	unmount_entries(vp->subpath_dir, 2);
	if (vp->subpath_dir)
		util_rm_rf(vp->subpath_dir);
	if (vp->mem_dir)
		util_rm_rf(vp->mem_dir);
	if (vp->disk_dir)
		util_rm_rf(vp->disk_dir);
}

/* ---- subPath -------------------------------------------------------------- */

int vol_open_beneath(int rootfd, const char *sub, bool create)
{
	if (create) {
		int fd = util_walk_at(rootfd, sub, UTIL_WALK_BENEATH | UTIL_WALK_MKDIR,
				      O_PATH | O_CLOEXEC);
		if (fd < 0)
			return fd;
		if (vol_no_openat2)
			return fd;
		close(fd);
	}
	static bool no_openat2;
	if (!vol_no_openat2 && !__atomic_load_n(&no_openat2, __ATOMIC_RELAXED)) {
		struct open_how how = {
		    .flags = O_PATH | O_CLOEXEC,
		    .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
		};
		int fd = (int)syscall(SYS_openat2, rootfd, sub, &how, sizeof(how));
		if (fd >= 0)
			return fd;
		if (errno != ENOSYS && errno != EPERM)
			return -errno;
		__atomic_store_n(&no_openat2, true, __ATOMIC_RELAXED);
	}
	return util_walk_at(rootfd, sub, UTIL_WALK_BENEATH, O_PATH | O_CLOEXEC);
}

void vol_sources_free(struct vol_sources *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->src[i]);
	free(s->src);
	memset(s, 0, sizeof(*s));
}

/* Bind the O_PATH descriptor FD at TARGET (a directory or an empty file,
 * as FD is), replacing an earlier bind there. */
static int bind_fd(int fd, const char *target)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	unmount_all(target);
	if (S_ISDIR(st.st_mode)) {
		if (mkdir(target, 0755) < 0 && errno != EEXIST)
			return -errno;
	} else {
		int t = open(target, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (t < 0)
			return -errno;
		close(t);
	}
	cleanup_free char *src = xasprintf("/proc/self/fd/%d", fd);
	if (mount(src, target, NULL, MS_BIND, NULL) < 0)
		return -errno;
	return 0;
}

int vol_container_sources(const struct vol_pod *vp, const struct spec_container *c,
			  char *const *vpaths, struct vol_sources *out, char **err)
{
	const struct spec_pod *spec = vp->spec;
	*err = NULL;
	out->n = c->nmounts;
	out->src = xcalloc(c->nmounts + 1, sizeof(char *));
	for (size_t i = 0; i < c->nmounts; i++) {
		const struct spec_mount *m = &c->mounts[i];
		if (!m->sub_path || !*m->sub_path)
			continue;
		const char *vpath = NULL;
		for (size_t j = 0; j < spec->nvolumes; j++)
			if (m->name && spec->volumes[j].name &&
			    !strcmp(spec->volumes[j].name, m->name))
				vpath = vpaths[j];
		int r = -ENOENT;
		const char *step = "resolve";
		cleanup_free char *dir = xasprintf("%s/%s", vp->subpath_dir, c->name);
		cleanup_free char *target = xasprintf("%s/%zu", dir, i);
		if (vpath) {
			int root = open(vpath, O_PATH | O_DIRECTORY | O_CLOEXEC);
			int fd = root < 0 ? -errno : vol_open_beneath(root, m->sub_path, true);
			if (root >= 0)
				close(root);
			r = fd;
			if (fd >= 0) {
				step = "bind";
				r = util_mkdir_p(dir, 0755);
				if (r >= 0)
					r = bind_fd(fd, target);
				close(fd);
			}
		}
		if (r < 0) {
			fprintf(stderr, "podfs: subPath \"%s\" of volume \"%s\" (%s): %s: %s\n",
				m->sub_path, m->name ? m->name : "", vpath ? vpath : "?", step,
				strerror(-r));
			*err = xasprintf("failed to prepare subPath for volumeMount \"%s\" of "
					 "container \"%s\"",
					 m->name ? m->name : "", c->name);
			vol_sources_free(out);
			return -EINVAL;
		}
		out->src[i] = steal_pointer(&target);
	}
	return 0;
}
