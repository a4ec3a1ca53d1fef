/* oci.c: OCI runtime configs for a pod's containers, and the Kubernetes rules
 * for a container's process: command/args over the image's Entrypoint/Cmd,
 * the environment ($(VAR) expansion, downward API, resourceFieldRef), the
 * user (names resolved inside the rootfs), capabilities and cgroup values.
 * See oci.h; runtime-notes.md sections 2 and 4.8, kubelet-semantics.md 8-9. */
#include "backend/oci.h"
#include "backend/resources.h"
#include "backend/util.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SANDBOX_CPU_SHARES 2 /* containerd's DefaultSandboxCPUshares */
#define MAX_ID		   2147483647LL /* runc's and Kubernetes' upper bound for ids */
#define ROOTFS_FILE_MAX	   (16 << 20)

/* The default PATH containerd and Docker put first in every container's env,
 * so a command without a slash is found even if the image sets no PATH. */
#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static void set_err(char **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void set_err(char **err, const char *fmt, ...)
{
	if (!err)
		return;
	va_list ap;
	va_start(ap, fmt);
	free(*err);
	*err = xvasprintf(fmt, ap);
	va_end(ap);
}

void oci_strv_free(char **v)
{
	if (!v)
		return;
	for (size_t i = 0; v[i]; i++)
		free(v[i]);
	free(v);
}

/* A strv's array handed out, never NULL (an empty strv has no array). */
static char **strv_steal(struct strv *sv)
{
	char **v = sv->v ? sv->v : xcalloc(1, sizeof(char *));
	sv->v = NULL;
	sv->n = sv->cap = 0;
	return v;
}

/* ---- JSON helpers -------------------------------------------------------- */

/* Length of the UTF-8 sequence at P, 0 if it is not valid UTF-8. */
static size_t utf8_len(const unsigned char *p)
{
	unsigned char c = p[0];
	size_t n;
	unsigned char lo = 0x80, hi = 0xbf; /* range of the second byte */
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		lo = c == 0xe0 ? 0xa0 : 0x80;
		hi = c == 0xed ? 0x9f : 0xbf; /* no surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		lo = c == 0xf0 ? 0x90 : 0x80;
		hi = c == 0xf4 ? 0x8f : 0xbf;
	} else
		return 0;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/* A JSON string. jansson refuses bytes that are not UTF-8 (a host path
 * could have them); they become U+FFFD, which is what runc's Go decoder
 * would have made of them, rather than a string silently left out. */
static json_t *jstring(const char *s)
{
	json_t *j = json_string(s);
	if (j)
		return j;
	struct strbuf sb;
	sb_init(&sb);
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		size_t n = utf8_len(p);
		if (n == 0) {
			sb_puts(&sb, "\xef\xbf\xbd");
			p++;
			continue;
		}
		sb_add(&sb, (const char *)p, n);
		p += n;
	}
	j = json_string(sb.buf ? sb.buf : "");
	sb_free(&sb);
	return j;
}

static json_t *jstrv(char *const *v)
{
	json_t *a = json_array();
	for (size_t i = 0; v && v[i]; i++)
		json_array_append_new(a, jstring(v[i]));
	return a;
}

/* A JSON array from a comma-separated list ("nosuid,noexec"). */
static json_t *jcsv(const char *csv)
{
	json_t *a = json_array();
	const char *p = csv;
	while (p && *p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		char *opt = xstrndup(p, n);
		json_array_append_new(a, jstring(opt));
		free(opt);
		p = comma ? comma + 1 : NULL;
	}
	return a;
}

static json_t *jnamespace(const char *type, const char *path)
{
	json_t *o = json_object();
	json_object_set_new(o, "type", jstring(type));
	if (path)
		json_object_set_new(o, "path", jstring(path));
	return o;
}

static char *jdump(json_t *root)
{
	char *s = json_dumps(root, JSON_INDENT(2));
	json_decref(root);
	if (!s) {
		fprintf(stderr, "podfs: out of memory rendering config.json\n");
		abort();
	}
	return s;
}

static char *cgroups_path(const struct oci_pod *pod, const char *id)
{
	const char *parent = pod->cgroup_parent ? pod->cgroup_parent : "/podfs";
	size_t n = strlen(parent);
	while (n > 0 && parent[n - 1] == '/')
		n--;
	return xasprintf("%.*s/%s", (int)n, parent, id);
}

/* ---- masked and read-only paths ------------------------------------------ */

/* containerd's lists (runtime-notes 2.3). */
/* clang-format off */
static const char *const masked_paths[] = {
	"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
	"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
	"/sys/devices/virtual/powercap", "/proc/scsi", NULL,
};
/* clang-format on */

static const char *const readonly_paths[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL};

static void add_path_lists(json_t *linux_obj)
{
	json_object_set_new(linux_obj, "maskedPaths", jstrv((char *const *)masked_paths));
	json_object_set_new(linux_obj, "readonlyPaths", jstrv((char *const *)readonly_paths));
}

/* ---- mounts ---------------------------------------------------------------- */

struct mnt {
	char *dst, *type, *src, *opts; /* opts comma-separated */
};

struct mntlist {
	struct mnt *v;
	size_t n, cap;
};

static void mnt_add(struct mntlist *l, const char *dst, const char *type, const char *src,
		    const char *opts)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	struct mnt *m = &l->v[l->n++];
	m->dst = xstrdup(dst);
	m->type = xstrdup(type);
	m->src = xstrdup(src);
	m->opts = xstrdup(opts);
}

static void mnt_free_one(struct mnt *m)
{
	free(m->dst);
	free(m->type);
	free(m->src);
	free(m->opts);
}

static void mntlist_free(struct mntlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		mnt_free_one(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

/* Number of components in an absolute path: "/" 0, "/dev/shm" 2. */
static size_t path_depth(const char *p)
{
	size_t d = 0;
	for (size_t i = 0; p[i]; i++)
		if (p[i] != '/' && (i == 0 || p[i - 1] == '/'))
			d++;
	return d;
}

/* Stable sort of L from index FROM by destination depth, so a parent
 * directory is mounted before what is mounted inside it (as containerd
 * orders a container's mounts). */
static void mnt_sort_from(struct mntlist *l, size_t from)
{
	for (size_t i = from + 1; i < l->n; i++) {
		struct mnt m = l->v[i];
		size_t d = path_depth(m.dst);
		size_t j = i;
		while (j > from && path_depth(l->v[j - 1].dst) > d) {
			l->v[j] = l->v[j - 1];
			j--;
		}
		l->v[j] = m;
	}
}

/* Clean an absolute path: no repeated slashes, no "." components, no
 * trailing slash. Caller frees. */
static char *clean_abs_path(const char *p)
{
	struct strbuf sb;
	sb_init(&sb);
	const char *q = p;
	while (*q) {
		while (*q == '/')
			q++;
		const char *e = q;
		while (*e && *e != '/')
			e++;
		size_t n = (size_t)(e - q);
		if (n > 0 && !(n == 1 && q[0] == '.')) {
			sb_putc(&sb, '/');
			sb_add(&sb, q, n);
		}
		q = e;
	}
	if (sb.len == 0)
		sb_putc(&sb, '/');
	return sb_steal(&sb);
}

static json_t *mntlist_json(const struct mntlist *l)
{
	json_t *a = json_array();
	for (size_t i = 0; i < l->n; i++) {
		const struct mnt *m = &l->v[i];
		json_t *o = json_object();
		json_object_set_new(o, "destination", jstring(m->dst));
		json_object_set_new(o, "type", jstring(m->type));
		json_object_set_new(o, "source", jstring(m->src));
		json_object_set_new(o, "options", jcsv(m->opts));
		json_array_append_new(a, o);
	}
	return a;
}

/* The default filesystems (runtime-notes 2.2, `runc spec` with containerd's
 * /proc options). */
/* clang-format off */
static const struct {
	const char *dst, *type, *src, *opts;
	bool infra; /* the infra container gets it too */
} default_mounts[] = {
	{"/proc", "proc", "proc", "nosuid,noexec,nodev", true},
	{"/dev", "tmpfs", "tmpfs", "nosuid,strictatime,mode=755,size=65536k", true},
	{"/dev/pts", "devpts", "devpts", "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5",
	 true},
	{"/dev/shm", "tmpfs", "shm", "nosuid,noexec,nodev,mode=1777,size=65536k", true},
	{"/dev/mqueue", "mqueue", "mqueue", "nosuid,noexec,nodev", true},
	{"/sys", "sysfs", "sysfs", "nosuid,noexec,nodev,ro", true},
	{"/sys/fs/cgroup", "cgroup", "cgroup", "nosuid,noexec,nodev,relatime,ro", false},
};
/* clang-format on */

/* The default mounts, with the pod's shm tmpfs bound over /dev/shm when
 * there is one. PRIVILEGED makes /sys and the cgroup mount read-write, as
 * containerd does. */
static void add_default_mounts(struct mntlist *l, const struct oci_pod *pod, bool infra,
			       bool privileged)
{
	for (size_t i = 0; i < sizeof(default_mounts) / sizeof(default_mounts[0]); i++) {
		if (infra && !default_mounts[i].infra)
			continue;
		const char *dst = default_mounts[i].dst;
		if (!strcmp(dst, "/dev/shm") && pod->shm_path) {
			mnt_add(l, "/dev/shm", "bind", pod->shm_path,
				"rbind,rprivate,nosuid,nodev,noexec");
			continue;
		}
		if (privileged && (!strcmp(dst, "/sys") || !strcmp(dst, "/sys/fs/cgroup"))) {
			cleanup_free char *opts = xstrdup(default_mounts[i].opts);
			size_t n = strlen(opts);
			if (n >= 2 && !strcmp(opts + n - 2, "ro"))
				opts[n - 1] = 'w';
			mnt_add(l, dst, default_mounts[i].type, default_mounts[i].src, opts);
			continue;
		}
		mnt_add(l, dst, default_mounts[i].type, default_mounts[i].src,
			default_mounts[i].opts);
	}
}

/* ---- capabilities ---------------------------------------------------------- */

/* Indexed by capability number (linux/capability.h). */
/* clang-format off */
static const char *const cap_names[] = {
	/*  0 */ "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID",
	/*  5 */ "KILL", "SETGID", "SETUID", "SETPCAP", "LINUX_IMMUTABLE",
	/* 10 */ "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK",
	/* 15 */ "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE",
	/* 20 */ "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE",
	/* 25 */ "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE",
	/* 30 */ "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
	/* 35 */ "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF",
	/* 40 */ "CHECKPOINT_RESTORE",
};
/* clang-format on */
#define NCAPS ((int)(sizeof(cap_names) / sizeof(cap_names[0])))

/* Docker's 14 defaults (runtime-notes 2.3). */
/* clang-format off */
static const char *const default_caps[] = {
	"CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD", "NET_RAW", "SETGID", "SETUID",
	"SETFCAP", "SETPCAP", "NET_BIND_SERVICE", "SYS_CHROOT", "KILL", "AUDIT_WRITE", NULL,
};
/* clang-format on */

/* NAME with or without "CAP_", any case; -1 if unknown. */
static int cap_number(const char *name)
{
	if (!strncasecmp(name, "CAP_", 4))
		name += 4;
	for (int i = 0; i < NCAPS; i++)
		if (!strcasecmp(name, cap_names[i]))
			return i;
	return -1;
}

/* The capabilities podfs itself can hand out: its bounding set. runc
 * cannot raise a capability the supervisor lacks (this host has no
 * CAP_SYS_RESOURCE), so "all" means all of these, as containerd's
 * WithAllCurrentCapabilities does for privileged containers. */
static uint64_t caps_available(void)
{
	uint64_t m = 0;
	for (int i = 0; i < NCAPS; i++) {
		int r = prctl(PR_CAPBSET_READ, (unsigned long)i, 0, 0, 0);
		if (r == 1)
			m |= 1ULL << i;
	}
	return m;
}

static bool strlist_has(const struct spec_strlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i], s))
			return true;
	return false;
}

/* The container's capability set: defaults, then add/drop as containerd
 * applies them ("ALL" first, then individual names, so add: [ALL] with
 * drop: [CHOWN] is everything but CHOWN). */
static int container_caps(const struct spec_container *c, uint64_t *out, char **err)
{
	const struct spec_security *s = &c->security;
	uint64_t avail = caps_available();
	if (s->has_privileged && s->privileged) {
		*out = avail;
		return 0;
	}
	uint64_t caps = 0;
	for (size_t i = 0; default_caps[i]; i++)
		caps |= 1ULL << cap_number(default_caps[i]);
	caps &= avail;
	if (strlist_has(&s->cap_add, "ALL"))
		caps = avail;
	if (strlist_has(&s->cap_drop, "ALL"))
		caps = 0;
	for (size_t i = 0; i < s->cap_add.n; i++) {
		const char *name = s->cap_add.v[i];
		if (!strcmp(name, "ALL"))
			continue;
		int n = cap_number(name);
		if (n < 0) {
			set_err(err,
				"container %s: securityContext.capabilities.add: unknown "
				"capability \"%s\"",
				c->name, name);
			return -EINVAL;
		}
		if (!(avail & (1ULL << n))) {
			set_err(err,
				"container %s: securityContext.capabilities.add: \"%s\" is not "
				"in podfs's capability bounding set on this host, so no container "
				"can have it",
				c->name, name);
			return -EPERM;
		}
		caps |= 1ULL << n;
	}
	for (size_t i = 0; i < s->cap_drop.n; i++) {
		int n = cap_number(s->cap_drop.v[i]);
		if (n >= 0)
			caps &= ~(1ULL << n);
	}
	*out = caps;
	return 0;
}

static json_t *caps_json(uint64_t caps)
{
	json_t *list = json_array();
	for (int i = 0; i < NCAPS; i++)
		if (caps & (1ULL << i)) {
			char *name = xasprintf("CAP_%s", cap_names[i]);
			json_array_append_new(list, jstring(name));
			free(name);
		}
	json_t *o = json_object();
	json_object_set(o, "bounding", list);
	json_object_set(o, "effective", list);
	json_object_set(o, "permitted", list);
	json_object_set_new(o, "inheritable", json_array());
	json_object_set_new(o, "ambient", json_array());
	json_decref(list);
	return o;
}

/* ---- $(VAR) expansion ------------------------------------------------------ */

/* What $(VAR) may refer to: the variables the container's env declares
 * (its first UPTO entries), as the kubelet knows no others (not the
 * image's Env, not the runtime's PATH or HOSTNAME). C NULL: any. */
struct expand_scope {
	const struct spec_container *c;
	size_t upto;
};

/* The value of NAME (LEN bytes) in ENV ("K=V", NULL-terminated; may be
 * NULL) if SCOPE lets it be seen, or NULL. */
static const char *env_get(char *const *env, const struct expand_scope *scope, const char *name,
			   size_t len)
{
	if (memchr(name, '=', len))
		return NULL;
	if (scope && scope->c) {
		bool found = false;
		for (size_t i = 0; i < scope->upto && !found; i++) {
			const char *n = scope->c->env[i].name;
			found = n && strlen(n) == len && !memcmp(n, name, len);
		}
		if (!found)
			return NULL;
	}
	for (size_t i = 0; env && env[i]; i++)
		if (!strncmp(env[i], name, len) && env[i][len] == '=')
			return env[i] + len + 1;
	return NULL;
}

/* Kubernetes' expansion (third_party/forked/golang/expansion): $(VAR) is
 * replaced when VAR is defined and kept literally when not; $$ is a
 * literal $; an unterminated $( stays as it is; $ before anything else is
 * copied with that character. Caller frees. */
static char *expand_vars(const char *in, char *const *env, const struct expand_scope *scope)
{
	struct strbuf sb;
	sb_init(&sb);
	const char *p = in;
	while (*p) {
		if (p[0] != '$' || p[1] == '\0') {
			const char *d = strchr(p + 1, '$');
			size_t n = d ? (size_t)(d - p) : strlen(p);
			sb_add(&sb, p, n);
			p += n;
			continue;
		}
		if (p[1] == '$') {
			sb_putc(&sb, '$');
			p += 2;
		} else if (p[1] == '(') {
			const char *close = strchr(p + 2, ')');
			if (!close) {
				/* Go copies "$(" and rescans from after the '(' */
				sb_add(&sb, "$(", 2);
				p += 2;
				continue;
			}
			const char *val = env_get(env, scope, p + 2, (size_t)(close - p - 2));
			if (val)
				sb_puts(&sb, val);
			else
				sb_add(&sb, p, (size_t)(close + 1 - p));
			p = close + 1;
		} else {
			sb_add(&sb, p, 2);
			p += 2;
		}
	}
	return sb_steal(&sb);
}

/* ---- environment ----------------------------------------------------------- */

/* Set NAME=VALUE in SV: replace in place if NAME is there (keeping its
 * position, as containerd's replaceOrAppendEnvValues does), else append. */
static void env_set(struct strv *sv, const char *name, size_t namelen, const char *value)
{
	char *kv = xasprintf("%.*s=%s", (int)namelen, name, value);
	for (size_t i = 0; i < sv->n; i++)
		if (!strncmp(sv->v[i], name, namelen) && sv->v[i][namelen] == '=') {
			free(sv->v[i]);
			sv->v[i] = kv;
			return;
		}
	strv_push(sv, kv);
	free(kv);
}

static const char *kv_get(const struct spec_kvlist *l, const char *key)
{
	const char *v = NULL;
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].key, key))
			v = l->v[i].value;
	return v;
}

static const char *or_empty(const char *a, const char *b)
{
	return a ? a : b ? b : "";
}

/* The value of a downward-API fieldPath, or NULL if it is not one podfs
 * knows. Caller frees. */
static char *field_value(const struct spec_pod *spec, const struct oci_facts *f, const char *fp)
{
	static const struct {
		const char *prefix;
		bool labels;
	} subs[] = {{"metadata.labels['", true}, {"metadata.annotations['", false}};
	for (size_t i = 0; i < 2; i++) {
		size_t pl = strlen(subs[i].prefix);
		size_t n = strlen(fp);
		if (strncmp(fp, subs[i].prefix, pl) || n < pl + 2 || strcmp(fp + n - 2, "']"))
			continue;
		cleanup_free char *key = xstrndup(fp + pl, n - pl - 2);
		const char *v = kv_get(subs[i].labels ? &spec->labels : &spec->annotations, key);
		return xstrdup(v ? v : "");
	}
	if (!strcmp(fp, "metadata.name"))
		return xstrdup(or_empty(f->pod_name, spec->name));
	if (!strcmp(fp, "metadata.namespace"))
		return xstrdup(or_empty(f->namespace, spec->namespace));
	if (!strcmp(fp, "metadata.uid"))
		return xstrdup(or_empty(f->pod_uid, spec->uid));
	if (!strcmp(fp, "spec.nodeName"))
		return xstrdup(or_empty(f->node_name, spec->node_name));
	if (!strcmp(fp, "spec.serviceAccountName"))
		return xstrdup(or_empty(f->service_account, spec->service_account_name));
	/* the facts carry one address, so the plural is that one */
	if (!strcmp(fp, "status.hostIP") || !strcmp(fp, "status.hostIPs"))
		return xstrdup(or_empty(f->host_ip, NULL));
	if (!strcmp(fp, "status.podIP") || !strcmp(fp, "status.podIPs"))
		return xstrdup(or_empty(f->pod_ip, NULL));
	return NULL;
}

static const struct spec_container *find_container(const struct spec_pod *spec, const char *name)
{
	for (size_t i = 0; i < spec->ncont; i++)
		if (spec->containers[i].name && !strcmp(spec->containers[i].name, name))
			return &spec->containers[i];
	for (size_t i = 0; i < spec->ninit; i++)
		if (spec->init_containers[i].name && !strcmp(spec->init_containers[i].name, name))
			return &spec->init_containers[i];
	return NULL;
}

/* A resourceFieldRef's value, divided by the divisor and rounded up as the
 * kubelet does; a missing limit is the node's allocatable amount, a missing
 * request is 0. */
static int resource_value(const struct spec_pod *spec, const struct spec_container *self,
			  const struct spec_env *e, const struct oci_facts *f, char **out,
			  char **err)
{
	const struct spec_container *c = self;
	if (e->container_name && *e->container_name) {
		c = find_container(spec, e->container_name);
		if (!c) {
			set_err(err,
				"container %s: env %s: resourceFieldRef: no container named "
				"\"%s\" in this pod",
				self->name, e->name, e->container_name);
			return -EINVAL;
		}
	}
	const char *res = e->resource ? e->resource : "";
	bool limits = !strncmp(res, "limits.", 7);
	if (!limits && strncmp(res, "requests.", 9)) {
		set_err(err, "container %s: env %s: resourceFieldRef: unsupported resource \"%s\"",
			self->name, e->name, res);
		return -EINVAL;
	}
	const struct spec_rlist *rl = limits ? &c->resources.limits : &c->resources.requests;
	const char *what = res + (limits ? 7 : 9);
	__int128 milli; /* the value in milli-units */
	if (!strcmp(what, "cpu"))
		milli = rl->has_cpu ? rl->cpu_milli : limits ? f->node_milli_cpu : 0;
	else if (!strcmp(what, "memory"))
		milli = (__int128)(rl->has_memory ? rl->memory
				   : limits	  ? f->node_memory
						  : 0) *
			1000;
	else if (!strcmp(what, "ephemeral-storage"))
		milli = (__int128)(rl->has_ephemeral ? rl->ephemeral
				   : limits	     ? f->node_ephemeral_storage
						     : 0) *
			1000;
	else {
		set_err(err, "container %s: env %s: resourceFieldRef: unsupported resource \"%s\"",
			self->name, e->name, res);
		return -EINVAL;
	}
	__int128 div = e->divisor_milli > 0 ? e->divisor_milli : 1000;
	if (milli < 0)
		milli = 0;
	__int128 v = (milli + div - 1) / div;
	*out = xasprintf("%" PRId64, v > INT64_MAX ? INT64_MAX : (int64_t)v);
	return 0;
}

/* The pod's hostname as the kubelet computes it: spec.hostname or the pod
 * name, cut to 63 characters without a trailing '-' or '.'; the node's name
 * with hostNetwork. Caller frees; NULL if nothing is known. */
static char *pod_hostname(const struct spec_pod *spec, const struct oci_facts *f)
{
	if (f->hostname)
		return xstrdup(f->hostname);
	if (spec->host_network) {
		char buf[256];
		if (gethostname(buf, sizeof(buf)) == 0) {
			buf[sizeof(buf) - 1] = '\0';
			return xstrdup(buf);
		}
		return NULL;
	}
	const char *h = spec->hostname ? spec->hostname : f->pod_name ? f->pod_name : spec->name;
	if (!h)
		return NULL;
	size_t n = strlen(h);
	if (n > 63) {
		n = 63;
		while (n > 0 && (h[n - 1] == '-' || h[n - 1] == '.'))
			n--;
	}
	return xstrndup(h, n);
}

int oci_container_env(const struct spec_pod *spec, const struct spec_container *c,
		      const struct image_config *img, const struct oci_facts *facts, char ***env,
		      char **err)
{
	static const struct oci_facts no_facts;
	const struct oci_facts *f = facts ? facts : &no_facts;
	struct strv sv = {0};

	*env = NULL;
	if (err)
		*err = NULL;

	/* containerd's order: its default PATH, HOSTNAME, the image's Env,
	 * then the container's env; a later name replaces an earlier one in
	 * place. */
	strv_push(&sv, DEFAULT_PATH);
	cleanup_free char *host = pod_hostname(spec, f);
	if (host)
		env_set(&sv, "HOSTNAME", 8, host);
	for (size_t i = 0; img && img->env && img->env[i]; i++) {
		const char *kv = img->env[i];
		const char *eq = strchr(kv, '=');
		if (!eq || eq == kv)
			continue; /* runc refuses entries without a name or '=' */
		env_set(&sv, kv, (size_t)(eq - kv), eq + 1);
	}
	for (size_t i = 0; i < c->nenv; i++) {
		const struct spec_env *e = &c->env[i];
		char *val = NULL;
		switch (e->source) {
		case SPEC_ENV_VALUE: {
			/* expanded against what the pod defined so far */
			struct expand_scope scope = {c, i};
			val = expand_vars(e->value ? e->value : "", sv.v, &scope);
			break;
		}
		case SPEC_ENV_FIELD:
			val = field_value(spec, f, e->field_path ? e->field_path : "");
			if (!val) {
				set_err(err,
					"container %s: env %s: fieldRef: unsupported fieldPath "
					"\"%s\"",
					c->name, e->name, e->field_path ? e->field_path : "");
				strv_free(&sv);
				return -EINVAL;
			}
			break;
		case SPEC_ENV_RESOURCE: {
			int r = resource_value(spec, c, e, f, &val, err);
			if (r < 0) {
				strv_free(&sv);
				return r;
			}
			break;
		}
		}
		env_set(&sv, e->name, strlen(e->name), val);
		free(val);
	}
	*env = strv_steal(&sv);
	return 0;
}

/* ---- process args -------------------------------------------------------- */

int oci_process_args(const struct spec_container *c, const struct image_config *img,
		     char *const *env, char ***args, char **err)
{
	struct strv sv = {0};

	*args = NULL;
	if (err)
		*err = NULL;
	/* Kubernetes expands only the pod's command and args (kubelet's
	 * ExpandContainerCommandAndArgs); the image's Entrypoint and Cmd
	 * are passed as they are, so a "$$" in an image's shell Cmd stays. */
	struct expand_scope scope = {c, c->nenv};
	if (c->command.n > 0) {
		for (size_t i = 0; i < c->command.n; i++) {
			char *s = expand_vars(c->command.v[i], env, &scope);
			strv_push(&sv, s);
			free(s);
		}
	} else if (img && img->entrypoint &&
		   !(img->entrypoint[0] && !img->entrypoint[0][0] && !img->entrypoint[1])) {
		/* an Entrypoint of [""] means none (containerd) */
		for (size_t i = 0; img->entrypoint[i]; i++)
			strv_push(&sv, img->entrypoint[i]);
	}
	if (c->args.n > 0) {
		for (size_t i = 0; i < c->args.n; i++) {
			char *s = expand_vars(c->args.v[i], env, &scope);
			strv_push(&sv, s);
			free(s);
		}
	} else if (c->command.n == 0 && img && img->cmd) {
		for (size_t i = 0; img->cmd[i]; i++)
			strv_push(&sv, img->cmd[i]);
	}
	if (sv.n == 0) {
		set_err(err,
			"container %s: no command: the image has no Entrypoint or Cmd and the "
			"container sets no command",
			c->name);
		return -EINVAL;
	}
	*args = strv_steal(&sv);
	return 0;
}

/* ---- users ------------------------------------------------------------------ */

bool oci_no_openat2;

/* Open PATH (absolute, as the container sees it) inside ROOTFS for
 * reading. Symlinks resolve inside the rootfs (openat2 RESOLVE_IN_ROOT), so
 * an image's /etc/passwd -> ../../../etc/shadow cannot reach the host's
 * files. Returns an fd or -errno. */
static int open_in_root(const char *rootfs, const char *path)
{
	cleanup_close int rfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rfd < 0)
		return -errno;
	const int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
	/* remembered, so an old kernel (or valgrind) is asked only once */
	static bool no_openat2;
	if (!oci_no_openat2 && !__atomic_load_n(&no_openat2, __ATOMIC_RELAXED)) {
		struct open_how how = {
		    .flags = (uint64_t)flags,
		    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
		};
		int fd = (int)syscall(SYS_openat2, rfd, path, &how, sizeof(how));
		if (fd >= 0)
			return fd;
		/* ENOSYS: before Linux 5.6; EPERM: a seccomp filter */
		if (errno != ENOSYS && errno != EPERM)
			return -errno;
		if (errno == ENOSYS)
			__atomic_store_n(&no_openat2, true, __ATOMIC_RELAXED);
	}
	return util_walk_at(rfd, path, 0, flags);
}

/* Read /etc/passwd or /etc/group of ROOTFS into *OUT. -ENOENT if absent,
 * -EINVAL if not a regular file, -EFBIG past 16 MiB. */
static int read_rootfs_file(const char *rootfs, const char *path, char **out)
{
	*out = NULL;
	cleanup_close int fd = open_in_root(rootfs, path);
	if (fd < 0)
		return fd;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL; /* a FIFO or device would block or never end */
	struct strbuf sb;
	sb_init(&sb);
	char buf[8192];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int r = -errno;
			sb_free(&sb);
			return r;
		}
		if (n == 0)
			break;
		if (sb.len + (size_t)n > ROOTFS_FILE_MAX) {
			sb_free(&sb);
			return -EFBIG;
		}
		sb_add(&sb, buf, (size_t)n);
	}
	*out = sb_steal(&sb);
	return 0;
}

/* A user or group id: decimal digits, 0..2^31-1. */
static bool parse_id(const char *s, uint32_t *out)
{
	if (!*s)
		return false;
	int64_t v = 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (*p - '0');
		if (v > MAX_ID)
			return false;
	}
	*out = (uint32_t)v;
	return true;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\r')
		s++;
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

/* Split LINE at ':' in place into at most MAX fields; returns the count. */
static size_t split_fields(char *line, char **f, size_t max)
{
	size_t n = 0;
	f[n++] = line;
	for (char *p = line; *p && n < max; p++)
		if (*p == ':') {
			*p = '\0';
			f[n++] = p + 1;
		}
	return n;
}

/* Call FN for each "a:b:c:d" line of BUF with at least 4 fields; stop and
 * return true when FN does. */
static bool for_each_entry(const char *buf, bool (*fn)(char **f, void *arg), void *arg)
{
	if (!buf)
		return false;
	cleanup_free char *copy = xstrdup(buf);
	char *save = NULL;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		line = trim(line);
		if (!*line || *line == '#')
			continue;
		char *f[7];
		if (split_fields(line, f, 7) < 4)
			continue;
		if (fn(f, arg))
			return true;
	}
	return false;
}

struct id_query {
	const char *arg; /* a name or a number */
	bool numeric;
	uint32_t num;
	char *name;	  /* out: the entry's name */
	uint32_t id, gid; /* out: uid (or gid for groups), passwd's gid */
};

/* passwd: name:password:uid:gid:gecos:home:shell */
static bool passwd_match(char **f, void *arg)
{
	struct id_query *q = arg;
	uint32_t uid, gid;
	if (!parse_id(f[2], &uid) || !parse_id(f[3], &gid))
		return false;
	if (strcmp(f[0], q->arg) && !(q->numeric && uid == q->num))
		return false;
	q->name = xstrdup(f[0]);
	q->id = uid;
	q->gid = gid;
	return true;
}

/* group: name:password:gid:member,member */
static bool group_match(char **f, void *arg)
{
	struct id_query *q = arg;
	uint32_t gid;
	if (!parse_id(f[2], &gid))
		return false;
	if (strcmp(f[0], q->arg) && !(q->numeric && gid == q->num))
		return false;
	q->id = gid;
	return true;
}

struct user_ids {
	uint32_t uid, gid;
	uint32_t *gids; /* additional */
	size_t ngids;
};

static void add_gid(struct user_ids *u, uint32_t gid)
{
	for (size_t i = 0; i < u->ngids; i++)
		if (u->gids[i] == gid)
			return;
	u->gids = xrealloc(u->gids, (u->ngids + 1) * sizeof(*u->gids));
	u->gids[u->ngids++] = gid;
}

struct member_query {
	const char *user;
	struct user_ids *u;
};

static bool group_lists_user(char **f, void *arg)
{
	struct member_query *q = arg;
	uint32_t gid;
	if (!parse_id(f[2], &gid))
		return false;
	char *save = NULL;
	for (char *m = strtok_r(f[3], ",", &save); m; m = strtok_r(NULL, ",", &save))
		if (!strcmp(trim(m), q->user))
			add_gid(q->u, gid);
	return false;
}

static const char *rootfs_err(int r)
{
	return r == -ENOENT ? "" : strerror(-r);
}

/* Resolve USER (a name or uid) and GROUP (a name or gid; NULL when not
 * given) as runc's GetExecUser does: names from the rootfs' /etc/passwd and
 * /etc/group; a number not in the file is used as it is, with gid 0; with
 * no group, the passwd gid and every group listing the user. */
static int resolve_user(const char *rootfs, const char *user, const char *group, struct user_ids *u,
			char **err)
{
	cleanup_free char *passwd = NULL, *groups = NULL;
	int pr = read_rootfs_file(rootfs, "/etc/passwd", &passwd);
	struct id_query q = {.arg = user};
	q.numeric = parse_id(user, &q.num);
	if (for_each_entry(passwd, passwd_match, &q)) {
		u->uid = q.id;
		u->gid = q.gid;
	} else if (q.numeric) {
		u->uid = q.num;
		u->gid = 0;
	} else {
		set_err(err, "unable to find user \"%s\": no matching entries in passwd file%s%s",
			user, pr < 0 && pr != -ENOENT ? ": " : "", pr < 0 ? rootfs_err(pr) : "");
		return -EINVAL;
	}
	cleanup_free char *name = q.name;

	int gr = 0;
	if (group || name)
		gr = read_rootfs_file(rootfs, "/etc/group", &groups);
	if (group) {
		struct id_query g = {.arg = group};
		g.numeric = parse_id(group, &g.num);
		if (for_each_entry(groups, group_match, &g)) {
			u->gid = g.id;
		} else if (g.numeric) {
			u->gid = g.num;
		} else {
			set_err(
			    err,
			    "unable to find group \"%s\": no matching entries in group file%s%s",
			    group, gr < 0 && gr != -ENOENT ? ": " : "",
			    gr < 0 ? rootfs_err(gr) : "");
			return -EINVAL;
		}
	} else if (name) {
		struct member_query m = {.user = name, .u = u};
		for_each_entry(groups, group_lists_user, &m);
	}
	return 0;
}

/* The container's uid, gid and additional gids: runAsUser/runAsGroup
 * (container over pod) over the image's User, runAsNonRoot checked as the
 * kubelet does (it cannot check a user name, so it refuses one), fsGroup
 * added to the additional gids. */
static int container_user(const struct spec_pod *spec, const struct spec_container *c,
			  const struct image_config *img, const char *rootfs, struct user_ids *u,
			  char **err)
{
	const struct spec_security *cs = &c->security, *ps = &spec->security;
	bool has_uid = cs->has_run_as_user || ps->has_run_as_user;
	int64_t ruid = cs->has_run_as_user ? cs->run_as_user : ps->run_as_user;
	bool has_gid = cs->has_run_as_group || ps->has_run_as_group;
	int64_t rgid = cs->has_run_as_group ? cs->run_as_group : ps->run_as_group;
	bool non_root = cs->has_run_as_non_root	  ? cs->run_as_non_root
			: ps->has_run_as_non_root ? ps->run_as_non_root
						  : false;

	if ((has_uid && (ruid < 0 || ruid > MAX_ID)) || (has_gid && (rgid < 0 || rgid > MAX_ID))) {
		set_err(err, "container %s: runAsUser and runAsGroup must be between 0 and %lld",
			c->name, MAX_ID);
		return -EINVAL;
	}

	cleanup_free char *user = NULL, *group = NULL;
	if (has_uid) {
		user = xasprintf("%" PRId64, ruid);
	} else {
		const char *iu = img && img->user ? img->user : "";
		const char *colon = strchr(iu, ':');
		user = colon ? xstrndup(iu, (size_t)(colon - iu)) : xstrdup(iu);
		if (colon && colon[1])
			group = xstrdup(colon + 1);
	}
	if (has_gid) {
		free(group);
		group = xasprintf("%" PRId64, rgid);
	}
	if (!*user) {
		free(user);
		user = xstrdup("0");
	}

	if (non_root) {
		const char *why = NULL;
		uint32_t id;
		if (has_uid && ruid == 0)
			why = "container's runAsUser breaks non-root policy";
		else if (!has_uid && parse_id(user, &id) && id == 0)
			why = "container has runAsNonRoot and image will run as root";
		if (why) {
			set_err(err, "%s (pod: \"%s_%s\", container: %s)", why,
				spec->name ? spec->name : "",
				spec->namespace ? spec->namespace : "", c->name);
			return -EINVAL;
		}
		if (!has_uid && !parse_id(user, &id)) {
			set_err(err,
				"container has runAsNonRoot and image has non-numeric user (%s), "
				"cannot verify user is non-root (pod: \"%s_%s\", container: %s)",
				user, spec->name ? spec->name : "",
				spec->namespace ? spec->namespace : "", c->name);
			return -EINVAL;
		}
	}

	int r = resolve_user(rootfs, user, group, u, err);
	if (r < 0) {
		char *inner = err ? steal_pointer(err) : NULL;
		set_err(err, "container %s: %s", c->name, inner ? inner : "cannot resolve user");
		free(inner);
		return r;
	}
	if (spec->has_fs_group && spec->fs_group >= 0 && spec->fs_group <= MAX_ID)
		add_gid(u, (uint32_t)spec->fs_group);
	return 0;
}

/* ---- the container config ------------------------------------------------- */

static bool path_has_dotdot(const char *s)
{
	for (const char *p = s; *p;) {
		const char *e = strchrnul(p, '/');
		if (e - p == 2 && p[0] == '.' && p[1] == '.')
			return true;
		p = *e ? e + 1 : e;
	}
	return false;
}

/* Defaults, the pod's /etc files, then the volumeMounts; a volume mounted
 * where a default or pod file would go replaces it (as kubelet and
 * containerd let a volume at /dev/shm or /etc/hosts win). */
static int container_mounts(const struct oci_pod *pod, const struct spec_pod *spec,
			    const struct spec_container *c, bool ro_root, bool privileged,
			    const char *const *volume_paths, struct mntlist *l, char **err)
{
	add_default_mounts(l, pod, false, privileged);
	size_t first = l->n;
	const char *fopts = ro_root ? "rbind,rprivate,ro,nosuid,nodev,noexec"
				    : "rbind,rprivate,nosuid,nodev,noexec";
	if (pod->hostname_path)
		mnt_add(l, "/etc/hostname", "bind", pod->hostname_path, fopts);
	if (pod->hosts_path)
		mnt_add(l, "/etc/hosts", "bind", pod->hosts_path, fopts);
	if (pod->resolv_path)
		mnt_add(l, "/etc/resolv.conf", "bind", pod->resolv_path, fopts);
	if (pod->termlog_path && c->termination_message_path &&
	    c->termination_message_path[0] == '/') {
		/* the kubelet binds a host file there, so the message outlives
		 * the container's /dev tmpfs */
		cleanup_free char *tdst = clean_abs_path(c->termination_message_path);
		mnt_add(l, tdst, "bind", pod->termlog_path, "rbind,rprivate,rw");
	}

	for (size_t i = 0; i < c->nmounts; i++) {
		const struct spec_mount *m = &c->mounts[i];
		size_t vi = spec->nvolumes;
		for (size_t j = 0; m->name && j < spec->nvolumes; j++)
			if (spec->volumes[j].name && !strcmp(spec->volumes[j].name, m->name)) {
				vi = j;
				break;
			}
		if (vi == spec->nvolumes || !volume_paths || !volume_paths[vi]) {
			set_err(err, "container %s: volumeMounts[%zu]: %s \"%s\"", c->name, i,
				vi == spec->nvolumes ? "no volume named"
						     : "no host path for volume",
				m->name ? m->name : "");
			return -EINVAL;
		}
		if (!m->mount_path || m->mount_path[0] != '/') {
			set_err(err,
				"container %s: volumeMounts[%zu].mountPath: must be an absolute "
				"path",
				c->name, i);
			return -EINVAL;
		}
		cleanup_free char *src = NULL;
		if (pod->mount_sources && pod->mount_sources[i]) {
			src = xstrdup(pod->mount_sources[i]);
		} else if (m->sub_path && *m->sub_path) {
			if (m->sub_path[0] == '/' || path_has_dotdot(m->sub_path)) {
				set_err(err,
					"container %s: volumeMounts[%zu].subPath: \"%s\" must be "
					"a relative path without '..'",
					c->name, i, m->sub_path);
				return -EINVAL;
			}
			src = xasprintf("%s/%s", volume_paths[vi], m->sub_path);
		} else {
			src = xstrdup(volume_paths[vi]);
		}
		cleanup_free char *dst = clean_abs_path(m->mount_path);
		for (size_t j = 0; j < l->n;) {
			if (strcmp(l->v[j].dst, dst)) {
				j++;
				continue;
			}
			mnt_free_one(&l->v[j]);
			memmove(&l->v[j], &l->v[j + 1], (l->n - j - 1) * sizeof(*l->v));
			l->n--;
			if (j < first)
				first--;
		}
		mnt_add(l, dst, "bind", src,
			m->read_only ? "rbind,rprivate,ro" : "rbind,rprivate,rw");
	}
	mnt_sort_from(l, first);
	return 0;
}

/* cgroup values by the kubelet's rules (kubelet-semantics 8). */
static json_t *container_resources(const struct oci_pod *pod, const struct spec_container *c,
				   bool privileged)
{
	const struct spec_resources *r = &c->resources;
	json_t *res = json_object();
	json_t *dev = json_object();
	json_object_set_new(dev, "allow", json_boolean(privileged));
	json_object_set_new(dev, "access", jstring("rwm"));
	json_t *devs = json_array();
	json_array_append_new(devs, dev);
	json_object_set_new(res, "devices", devs);

	json_t *cpu = json_object();
	/* requests default to limits (spec_validate), so shares from the
	 * request is the kubelet's rule; a zero limit is no limit */
	json_object_set_new(cpu, "shares",
			    json_integer(res_milli_to_shares(r->requests.has_cpu ? r->requests.cpu_milli
										 : 0)));
	if (r->limits.has_cpu && r->limits.cpu_milli > 0) {
		json_object_set_new(cpu, "quota",
				    json_integer(res_milli_to_quota(r->limits.cpu_milli)));
		json_object_set_new(cpu, "period", json_integer(RES_CFS_PERIOD));
	}
	json_object_set_new(res, "cpu", cpu);
	if (r->limits.has_memory && r->limits.memory > 0) {
		json_t *mem = json_object();
		json_object_set_new(mem, "limit", json_integer(r->limits.memory));
		if (pod->no_swap)
			json_object_set_new(mem, "swap", json_integer(r->limits.memory));
		json_object_set_new(res, "memory", mem);
	}
	return res;
}

/* RLIMIT_NOFILE at the current hard limit: runc could not raise it further
 * without CAP_SYS_RESOURCE, which this host does not give. NULL when the
 * limit is unlimited or unknown (then the container inherits it). */
static json_t *container_rlimits(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_max == RLIM_INFINITY ||
	    rl.rlim_max > (rlim_t)INT64_MAX)
		return NULL;
	json_t *o = json_object();
	json_object_set_new(o, "type", jstring("RLIMIT_NOFILE"));
	json_object_set_new(o, "hard", json_integer((json_int_t)rl.rlim_max));
	json_object_set_new(o, "soft", json_integer((json_int_t)rl.rlim_max));
	json_t *a = json_array();
	json_array_append_new(a, o);
	return a;
}

/* What oci_container_config computed before rendering. */
struct ctr_parts {
	char **args;
	struct user_ids user;
	uint64_t caps;
	struct mntlist mounts;
	bool privileged, ro_root;
};

static json_t *container_process(const struct oci_pod *pod, const struct spec_container *c,
				 const struct image_config *img, char *const *env,
				 const struct ctr_parts *cp)
{
	const struct spec_security *s = &c->security;
	json_t *proc = json_object();
	json_object_set_new(proc, "terminal", json_false());
	json_t *user = json_object();
	json_object_set_new(user, "uid", json_integer(cp->user.uid));
	json_object_set_new(user, "gid", json_integer(cp->user.gid));
	if (cp->user.ngids > 0) {
		json_t *g = json_array();
		for (size_t i = 0; i < cp->user.ngids; i++)
			json_array_append_new(g, json_integer(cp->user.gids[i]));
		json_object_set_new(user, "additionalGids", g);
	}
	json_object_set_new(proc, "user", user);
	json_object_set_new(proc, "args", jstrv(cp->args));
	json_object_set_new(proc, "env", jstrv(env));
	const char *wd = c->working_dir && *c->working_dir		? c->working_dir
			 : img && img->working_dir && *img->working_dir ? img->working_dir
									: "/";
	cleanup_free char *cwd = clean_abs_path(wd); /* runc wants it absolute */
	json_object_set_new(proc, "cwd", jstring(cwd));
	json_object_set_new(proc, "capabilities", caps_json(cp->caps));
	json_t *rl = container_rlimits();
	if (rl)
		json_object_set_new(proc, "rlimits", rl);
	bool nnp = !cp->privileged && s->has_allow_priv_esc && !s->allow_priv_esc;
	json_object_set_new(proc, "noNewPrivileges", json_boolean(nnp));
	if (pod->has_oom_score_adj)
		json_object_set_new(proc, "oomScoreAdj", json_integer(pod->oom_score_adj));
	return proc;
}

static json_t *container_linux(const struct oci_pod *pod, const struct spec_pod *spec,
			       const struct spec_container *c, const char *id,
			       const struct ctr_parts *cp)
{
	json_t *lx = json_object();
	cleanup_free char *cg = cgroups_path(pod, id);
	json_object_set_new(lx, "cgroupsPath", jstring(cg));
	json_object_set_new(lx, "resources", container_resources(pod, c, cp->privileged));
	json_t *ns = json_array();
	json_array_append_new(
	    ns, jnamespace("pid", spec->share_process_namespace ? pod->pid_path : NULL));
	json_array_append_new(ns, jnamespace("mount", NULL));
	if (pod->netns_path)
		json_array_append_new(ns, jnamespace("network", pod->netns_path));
	json_array_append_new(ns, jnamespace("ipc", pod->ipc_path));
	json_array_append_new(ns, jnamespace("uts", pod->uts_path));
	json_object_set_new(lx, "namespaces", ns);
	if (!cp->privileged)
		add_path_lists(lx);
	return lx;
}

int oci_container_config(const struct oci_pod *pod, const struct spec_pod *spec,
			 const struct spec_container *c, const struct image_config *img,
			 const char *rootfs, const char *id, char *const *env,
			 const char *const *volume_paths, char **json, char **err)
{
	const struct spec_security *s = &c->security;
	struct ctr_parts cp = {
	    .privileged = s->has_privileged && s->privileged,
	    .ro_root = s->has_read_only_root && s->read_only_root,
	};
	int r;

	*json = NULL;
	if (err)
		*err = NULL;
	r = oci_process_args(c, img, env, &cp.args, err);
	if (r < 0)
		goto out;
	r = container_user(spec, c, img, rootfs, &cp.user, err);
	if (r < 0)
		goto out;
	r = container_caps(c, &cp.caps, err);
	if (r < 0)
		goto out;
	r = container_mounts(pod, spec, c, cp.ro_root, cp.privileged, volume_paths, &cp.mounts,
			     err);
	if (r < 0)
		goto out;

	json_t *root = json_object();
	json_object_set_new(root, "ociVersion", jstring("1.0.2"));
	json_t *jroot = json_object();
	json_object_set_new(jroot, "path", jstring(rootfs));
	json_object_set_new(jroot, "readonly", json_boolean(cp.ro_root));
	json_object_set_new(root, "root", jroot);
	json_object_set_new(root, "process", container_process(pod, c, img, env, &cp));
	/* no "hostname": the uts namespace is the infra's, already named, and
	 * runc would set it again in the shared namespace */
	json_object_set_new(root, "mounts", mntlist_json(&cp.mounts));
	json_object_set_new(root, "linux", container_linux(pod, spec, c, id, &cp));
	*json = jdump(root);
out:
	oci_strv_free(cp.args);
	free(cp.user.gids);
	mntlist_free(&cp.mounts);
	return r;
}

/* ---- the infra container -------------------------------------------------- */

char *oci_infra_config(const struct oci_pod *pod, const char *rootfs, const char *id)
{
	static const char *const args[] = {"/catatonit", "-P", NULL};
	static const char *const env[] = {"PATH=/", NULL};
	json_t *root = json_object();
	json_object_set_new(root, "ociVersion", jstring("1.0.2"));

	json_t *jroot = json_object();
	json_object_set_new(jroot, "path", jstring(rootfs));
	json_object_set_new(jroot, "readonly", json_true());
	json_object_set_new(root, "root", jroot);

	json_t *proc = json_object();
	json_object_set_new(proc, "terminal", json_false());
	json_t *user = json_object();
	json_object_set_new(user, "uid", json_integer(65535));
	json_object_set_new(user, "gid", json_integer(65535));
	json_object_set_new(proc, "user", user);
	json_object_set_new(proc, "args", jstrv((char *const *)args));
	json_object_set_new(proc, "env", jstrv((char *const *)env));
	json_object_set_new(proc, "cwd", jstring("/"));
	json_object_set_new(proc, "noNewPrivileges", json_true());
	json_object_set_new(proc, "capabilities", caps_json(0));
	if (pod->has_oom_score_adj)
		json_object_set_new(proc, "oomScoreAdj", json_integer(pod->oom_score_adj));
	json_object_set_new(root, "process", proc);

	/* runc refuses a hostname without a uts entry; the infra has a new one */
	if (pod->hostname)
		json_object_set_new(root, "hostname", jstring(pod->hostname));

	struct mntlist ml = {0};
	add_default_mounts(&ml, pod, true, false);
	json_object_set_new(root, "mounts", mntlist_json(&ml));
	mntlist_free(&ml);

	json_t *lx = json_object();
	cleanup_free char *cg = cgroups_path(pod, id);
	json_object_set_new(lx, "cgroupsPath", jstring(cg));
	json_t *res = json_object();
	json_t *dev = json_object();
	json_object_set_new(dev, "allow", json_false());
	json_object_set_new(dev, "access", jstring("rwm"));
	json_t *devs = json_array();
	json_array_append_new(devs, dev);
	json_object_set_new(res, "devices", devs);
	json_t *cpu = json_object();
	json_object_set_new(cpu, "shares", json_integer(SANDBOX_CPU_SHARES));
	json_object_set_new(res, "cpu", cpu);
	json_object_set_new(lx, "resources", res);
	json_t *ns = json_array();
	json_array_append_new(ns, jnamespace("pid", NULL));
	json_array_append_new(ns, jnamespace("ipc", NULL));
	json_array_append_new(ns, jnamespace("uts", NULL));
	json_array_append_new(ns, jnamespace("mount", NULL));
	if (pod->netns_path)
		json_array_append_new(ns, jnamespace("network", pod->netns_path));
	json_object_set_new(lx, "namespaces", ns);
	add_path_lists(lx);
	json_object_set_new(root, "linux", lx);
	return jdump(root);
}
