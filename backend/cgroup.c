/* cgroup.c: see cgroup.h. */
#include "backend/cgroup.h"
#include "backend/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* /proc/self/mounts escapes space, tab, newline and backslash as \ooo. */
static char *unescape_mount_field(const char *s)
{
	char *out = xmalloc(strlen(s) + 1), *o = out;
	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else {
			*o++ = *s++;
		}
	}
	*o = '\0';
	return out;
}

/* Is TOKEN one of the comma-separated OPTS? */
static bool has_opt(const char *opts, const char *token)
{
	size_t n = strlen(token);
	for (const char *p = opts; p && *p;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (len == n && !strncmp(p, token, n))
			return true;
		p = comma ? comma + 1 : NULL;
	}
	return false;
}

void cg_host_free(struct cg_host *h)
{
	for (size_t i = 0; i < h->nmounts; i++)
		free(h->mounts[i]);
	free(h->unified);
	memset(h, 0, sizeof(*h));
}

int cg_host_detect(struct cg_host *h, const char *mounts_path)
{
	memset(h, 0, sizeof(*h));
	FILE *f = fopen(mounts_path, "re");
	if (!f)
		return -errno;
	char *line = NULL;
	size_t cap = 0;
	char *v2 = NULL;
	while (getline(&line, &cap, f) > 0) {
		char dev[256], dir[4096], type[64], opts[1024];
		if (sscanf(line, "%255s %4095s %63s %1023s", dev, dir, type, opts) != 4)
			continue;
		bool v1 = !strcmp(type, "cgroup");
		if (!v1 && strcmp(type, "cgroup2"))
			continue;
		char *mp = unescape_mount_field(dir);
		if (!v1 && !v2)
			v2 = xstrdup(mp);
		if (h->nmounts == CG_MAX_MOUNTS) {
			free(mp);
			continue;
		}
		h->mounts[h->nmounts++] = mp;
		if (v1 && has_opt(opts, "cpu") && !h->cpu)
			h->cpu = mp;
		if (v1 && has_opt(opts, "memory") && !h->memory)
			h->memory = mp;
	}
	free(line);
	fclose(f);
	if (h->memory || h->cpu) {
		h->version = 1;
		free(v2);
		char *p = xasprintf("%s/memory.memsw.limit_in_bytes", h->memory ? h->memory : "");
		h->swap = h->memory && access(p, F_OK) == 0;
		free(p);
	} else if (v2) {
		h->version = 2;
		h->unified = v2;
		/* runc ignores a memory.swap.max it cannot write when asked for
		 * "no swap", so asking is always safe */
		h->swap = true;
	}
	return 0;
}

static struct cg_host default_host;

static void default_init(void)
{
	cg_host_detect(&default_host, "/proc/self/mounts");
}

const struct cg_host *cg_host_default(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, default_init);
	return &default_host;
}

static int write_value(const char *dir, const char *file, const char *value, char **err)
{
	char *p = xasprintf("%s/%s", dir, file);
	int fd = open(p, O_WRONLY | O_TRUNC | O_CLOEXEC); /* as `echo v >file` */
	int r = 0;
	if (fd < 0 || write(fd, value, strlen(value)) < 0)
		r = -errno;
	if (fd >= 0)
		close(fd);
	if (r < 0 && err)
		*err = xasprintf("write \"%s\" to %s: %s", value, p, strerror(-r));
	free(p);
	return r;
}

static int write_int(const char *dir, const char *file, int64_t v, char **err)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%" PRId64, v);
	return write_value(dir, file, buf, err);
}

static int make_dir(const char *dir, char **err)
{
	int r = util_mkdir_p(dir, 0755);
	if (r < 0 && err)
		*err = xasprintf("create cgroup %s: %s", dir, strerror(-r));
	return r;
}

int64_t cg_shares_to_weight(int64_t shares)
{
	if (shares <= 0)
		return 0;
	return 1 + (shares - 2) * 9999 / 262142;
}

static int setup_v1(const struct cg_host *h, const char *path, const struct res_cgroup *v,
		    char **err)
{
	int r;
	if (h->cpu) {
		cleanup_free char *d = xasprintf("%s%s", h->cpu, path);
		if ((r = make_dir(d, err)) < 0 ||
		    (r = write_int(d, "cpu.shares", v->shares, err)) < 0)
			return r;
		if (v->quota > 0 && ((r = write_int(d, "cpu.cfs_period_us", v->period, err)) < 0 ||
				     (r = write_int(d, "cpu.cfs_quota_us", v->quota, err)) < 0))
			return r;
	}
	if (h->memory) {
		cleanup_free char *d = xasprintf("%s%s", h->memory, path);
		if ((r = make_dir(d, err)) < 0)
			return r;
		if (v->memory > 0 &&
		    (r = write_int(d, "memory.limit_in_bytes", v->memory, err)) < 0)
			return r;
	}
	return 0;
}

static int setup_v2(const struct cg_host *h, const char *path, const struct res_cgroup *v,
		    char **err)
{
	cleanup_free char *d = xasprintf("%s%s", h->unified, path);
	int r = make_dir(d, err);
	if (r < 0)
		return r;
	/* the controllers must be enabled in every ancestor for the pod's
	 * files to exist; runc does the same below the pod */
	struct strbuf sb;
	sb_init(&sb);
	sb_puts(&sb, h->unified);
	for (const char *p = path;;) {
		write_value(sb.buf, "cgroup.subtree_control", "+cpu +memory", NULL);
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *e = strchrnul(p, '/');
		sb_putc(&sb, '/');
		sb_add(&sb, p, (size_t)(e - p));
		p = e;
	}
	sb_free(&sb);
	if ((r = write_int(d, "cpu.weight", cg_shares_to_weight(v->shares), err)) < 0)
		return r;
	char buf[64];
	if (v->quota > 0)
		snprintf(buf, sizeof(buf), "%" PRId64 " %" PRId64, v->quota, v->period);
	else
		snprintf(buf, sizeof(buf), "max %" PRId64, v->period);
	if ((r = write_value(d, "cpu.max", buf, err)) < 0)
		return r;
	if (v->memory > 0)
		return write_int(d, "memory.max", v->memory, err);
	return 0;
}

int cg_pod_setup(const struct cg_host *h, const char *path, const struct res_cgroup *v, char **err)
{
	if (h->version == 1)
		return setup_v1(h, path, v, err);
	if (h->version == 2)
		return setup_v2(h, path, v, err);
	if (err)
		*err = xstrdup("no cgroup file system is mounted");
	return -ENOENT;
}

/* rmdir DIR's subdirectories, deepest first, then DIR. Returns how many
 * could not be removed. */
static int remove_tree(const char *dir)
{
	int left = 0;
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : 1;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char *sub = xasprintf("%s/%s", dir, de->d_name);
		left += remove_tree(sub);
		free(sub);
	}
	closedir(d);
	if (rmdir(dir) < 0 && errno != ENOENT)
		left++;
	return left;
}

int cg_remove(const struct cg_host *h, const char *path)
{
	int left = 0;
	if (!path || path[0] != '/' || !path[1])
		return 0; /* never the root */
	for (size_t i = 0; i < h->nmounts; i++) {
		char *d = xasprintf("%s%s", h->mounts[i], path);
		left += remove_tree(d);
		free(d);
	}
	if (h->unified) {
		char *d = xasprintf("%s%s", h->unified, path);
		left += remove_tree(d);
		free(d);
	}
	return left;
}

bool cg_exists(const struct cg_host *h, const char *path)
{
	struct stat st;
	for (size_t i = 0; i < h->nmounts; i++) {
		cleanup_free char *d = xasprintf("%s%s", h->mounts[i], path);
		if (stat(d, &st) == 0)
			return true;
	}
	if (h->unified) {
		cleanup_free char *d = xasprintf("%s%s", h->unified, path);
		if (stat(d, &st) == 0)
			return true;
	}
	return false;
}

int64_t cg_oom_kills(const struct cg_host *h, const char *path)
{
	const char *base = h->version == 1 ? h->memory : h->version == 2 ? h->unified : NULL;
	if (!base)
		return -ENOENT;
	cleanup_free char *file = xasprintf(
	    "%s%s/%s", base, path, h->version == 1 ? "memory.oom_control" : "memory.events");
	cleanup_free char *buf = NULL;
	size_t len;
	int r = util_read_file(file, 65536, &buf, &len);
	if (r < 0)
		return r;
	for (char *line = buf; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (!strncmp(line, "oom_kill ", 9))
			return strtoll(line + 9, NULL, 10);
		line = nl ? nl + 1 : NULL;
	}
	return 0;
}
