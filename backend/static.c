/* static.c: static pods (--manifest-dir), as the kubelet's
 * --pod-manifest-path. A thread watches the directory with inotify and
 * rescans it fully every 20 s; every scan compares the whole directory
 * with the static pods (a level, not an edge: lost events, editor saves
 * and podfs restarts all end in the same state). Events only trigger a
 * scan, after 300 ms of quiet, so the steps of an editor's save (rename to
 * a backup, write, rename into place) are seen as their result. A pod
 * whose file is missing is deleted only if it is still missing a second
 * later. */
#include "backend/static.h"
#include "backend/pod.h"
#include "backend/util.h"
#include "backend/yamltree.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#define QUIET_MS	300  /* events settle this long before a scan */
#define QUIET_MAX_MS	2000 /* ... but a steady stream waits no longer */
#define GONE_CONFIRM_MS 1000 /* a missing file must stay missing this long */

struct static_err {
	char *file, *msg;
};

struct static_dir {
	struct backend *b;
	char *dir;
	int ino_fd, wd, stop_fd;
	dev_t dev;
	ino_t ino;
	pthread_t thread;
	bool started;
	/* under b->lock: what the node file shows */
	struct static_err *errs;
	size_t nerrs;
	char *dir_error;
	/* the thread's own */
	int64_t retry_ms;
};

/* One file of a scan. */
struct entry {
	char *name, *path;
	char *buf;
	size_t len;
	struct spec_pod *spec;
	char *pod; /* NAME-NODENAME */
	char *err;
};

static bool has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);
	return n >= m && !strcmp(s + n - m, suf);
}

bool static_ignored_name(const char *name)
{
	static const char *const suffixes[] = {
	    "~",	 ".swp",      ".swo",	 ".swx",      ".bak",	   ".tmp",
	    ".orig",	 ".rej",      ".save",	 ".dpkg-new", ".dpkg-old", ".dpkg-dist",
	    ".dpkg-tmp", ".dpkg-bak", ".rpmnew", ".rpmsave",  NULL};
	if (!*name || name[0] == '.' || name[0] == '#' || !strcmp(name, "4913"))
		return true;
	for (size_t i = 0; suffixes[i]; i++)
		if (has_suffix(name, suffixes[i]))
			return true;
	return strstr(name, ".ucf-") != NULL;
}

char *static_pod_name(const char *name, const char *node)
{
	char *n = xasprintf("%s-%s", name, node);
	for (char *c = n + strlen(name); *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c += 'a' - 'A';
	if (!spec_is_dns1123_label(n)) {
		free(n);
		return NULL;
	}
	return n;
}

void static_config_hash(const struct backend *b, const struct pod *p, char out[33])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	if (p->spec_yaml)
		EVP_DigestUpdate(ctx, p->spec_yaml, p->spec_len);
	EVP_DigestUpdate(ctx, "host:", 5);
	EVP_DigestUpdate(ctx, b->node_name, strlen(b->node_name));
	EVP_DigestFinal_ex(ctx, md, &n);
	EVP_MD_CTX_free(ctx);
	for (int i = 0; i < 16; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
}

static void entry_free(struct entry *e)
{
	free(e->name);
	free(e->path);
	free(e->buf);
	spec_pod_free(e->spec);
	free(e->pod);
	free(e->err);
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

/* Read and check one manifest (no lock: files only). */
static void entry_load(struct static_dir *s, struct entry *e)
{
	int r = util_read_file(e->path, YT_MAX_BYTES + 1, &e->buf, &e->len);
	if (r == -EFBIG) {
		e->err = xasprintf("%s: manifest is larger than the limit of %d bytes (1 MiB)",
				   e->path, YT_MAX_BYTES);
		return;
	}
	if (r < 0) {
		e->err = xasprintf("%s: cannot read: %s", e->path, strerror(-r));
		return;
	}
	struct diag_list errs = {0};
	if (spec_parse(e->buf, e->len, &e->spec, &errs) < 0) {
		char *m = diag_format_all(&errs, e->path);
		size_t n = strlen(m);
		if (n && m[n - 1] == '\n')
			m[n - 1] = '\0';
		e->err = m;
	} else if (!e->spec->name) {
		/* the kubelet's words */
		e->err = xasprintf("%s: invalid pod: name is needed for the pod (metadata.name)",
				   e->path);
	} else if (!(e->pod = static_pod_name(e->spec->name, s->b->node_name))) {
		e->err =
		    xasprintf("%s: metadata.name: static pod name \"%s-%s\" (the name, '-' and "
			      "the node name) must be a DNS-1123 label of at most 63 characters",
			      e->path, e->spec->name, s->b->node_name);
	}
	diag_list_free(&errs);
	if (e->err) {
		spec_pod_free(e->spec);
		e->spec = NULL;
	}
}

/* (Re)watch the directory if it is new or was replaced (a symlink turned
 * to another directory). -errno if it is not a directory now. */
static int watch_dir(struct static_dir *s, char **err)
{
	struct stat st;
	int r = stat(s->dir, &st) < 0 ? -errno : !S_ISDIR(st.st_mode) ? -ENOTDIR : 0;
	if (r < 0) {
		*err = xasprintf("manifest dir %s: %s", s->dir, strerror(-r));
		if (s->wd >= 0)
			inotify_rm_watch(s->ino_fd, s->wd);
		s->wd = -1;
		return r;
	}
	if (s->wd >= 0 && st.st_dev == s->dev && st.st_ino == s->ino)
		return 0;
	if (s->wd >= 0)
		inotify_rm_watch(s->ino_fd, s->wd);
	s->wd =
	    inotify_add_watch(s->ino_fd, s->dir,
			      IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE |
				  IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR);
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	return 0;
}

static void announce_added(struct backend *b, struct pod *p)
{
	if (b->change_cb)
		b->change_cb(b->change_arg, BC_POD_ADDED, p->name, NULL, BF_SPEC);
}

static void delete_pod(struct backend *b, struct pod *p, const char *why)
{
	fprintf(stderr, "podfs: static pod %s: %s; deleting it\n", p->name, why);
	pod_event(b, p, false, "SourceRemoved", NULL, "%s; deleting the pod", why);
	podstore_mark_deleting(b, p->name);
	p->deleting = true;
	p->dirty = true;
	status_render_pod(b, p);
	pod_wake(b);
}

/* A valid manifest E: create, replace, or nothing. Lock held. Returns the
 * pod now standing for E, or NULL (E->err says why). */
static struct pod *apply_entry(struct static_dir *s, struct entry *e)
{
	struct backend *b = s->b;
	struct pod *p = pod_find(b, e->pod);
	if (p && !p->static_src) {
		e->err = xasprintf("%s: a pod named %s exists and was not made from a manifest "
				   "file; this file is skipped until it is gone",
				   e->path, e->pod);
		return NULL;
	}
	if (p && p->deleting) {
		s->retry_ms = mono_ms() + 500; /* the name is free once it is gone */
		return p;
	}
	char *err = NULL;
	if (!p) {
		if (podstore_save_source(b, e->pod, e->path) < 0 ||
		    podstore_save_spec(b, e->pod, e->buf, e->len, &err) < 0) {
			e->err =
			    xasprintf("%s: store the pod: %s", e->path, err ? err : "I/O error");
			free(err);
			podstore_remove(b, e->pod);
			return NULL;
		}
		p = pod_new(b, e->pod);
		p->static_src = xstrdup(e->path);
		fprintf(stderr, "podfs: static pod %s from %s\n", p->name, e->path);
		pod_apply_parsed(b, p, e->spec, e->buf, e->len);
		e->spec = NULL;
		announce_added(b, p);
		status_ps_changed(b);
		status_render_node(b);
		return p;
	}
	p->static_missing_ms = 0;
	if (strcmp(p->static_src, e->path)) {
		/* moved or renamed: the same pod, now from here */
		podstore_save_source(b, p->name, e->path);
		free(p->static_src);
		p->static_src = xstrdup(e->path);
		status_render_pod(b, p);
	}
	const char *cur = p->pending ? p->pending_yaml : p->spec_yaml;
	size_t curlen = p->pending ? p->pending_len : p->spec_len;
	if (cur && curlen == e->len && !memcmp(cur, e->buf, e->len)) {
		if (p->apply_error) { /* fixed back to what runs */
			free(p->apply_error);
			p->apply_error = NULL;
			status_render_pod(b, p);
		}
		return p;
	}
	if (podstore_save_spec(b, p->name, e->buf, e->len, &err) < 0) {
		pod_event(b, p, true, "FailedApply", NULL, "%s changed but cannot be stored: %s",
			  e->path, err);
		free(err);
		return p;
	}
	fprintf(stderr, "podfs: static pod %s: %s changed; replacing the pod\n", p->name, e->path);
	pod_event(b, p, false, "SourceChanged", NULL, "%s changed; the pod is replaced", e->path);
	pod_apply_parsed(b, p, e->spec, e->buf, e->len);
	e->spec = NULL;
	return p;
}

static void set_errors(struct static_dir *s, struct entry *ents, size_t n)
{
	struct static_err *errs = xcalloc(n + 1, sizeof(*errs));
	size_t ne = 0;
	for (size_t i = 0; i < n; i++) {
		if (!ents[i].err)
			continue;
		bool known = false;
		for (size_t k = 0; k < s->nerrs; k++)
			if (!strcmp(s->errs[k].file, ents[i].name) &&
			    !strcmp(s->errs[k].msg, ents[i].err))
				known = true;
		if (!known) /* said once, not every 20 s */
			fprintf(stderr, "podfs: could not process manifest file %s, skipped:\n%s\n",
				ents[i].path, ents[i].err);
		errs[ne].file = xstrdup(ents[i].name);
		errs[ne].msg = xstrdup(ents[i].err);
		ne++;
	}
	for (size_t k = 0; k < s->nerrs; k++) {
		free(s->errs[k].file);
		free(s->errs[k].msg);
	}
	free(s->errs);
	s->errs = errs;
	s->nerrs = ne;
}

static void set_dir_error(struct static_dir *s, char *err)
{
	if (err && (!s->dir_error || strcmp(s->dir_error, err)))
		fprintf(stderr, "podfs: %s; static pods stay as they are\n", err);
	free(s->dir_error);
	s->dir_error = err;
}

/* One full pass: the directory against the static pods. */
static void scan(struct static_dir *s, bool initial)
{
	struct backend *b = s->b;
	char *err = NULL;
	struct entry *ents = NULL;
	size_t n = 0, cap = 0;
	s->retry_ms = 0;
	DIR *d = NULL;
	if (watch_dir(s, &err) == 0 && !(d = opendir(s->dir)))
		err = xasprintf("manifest dir %s: %s", s->dir, strerror(errno));
	if (!d) {
		pthread_mutex_lock(&b->lock);
		set_dir_error(s, err);
		status_render_node(b);
		pthread_mutex_unlock(&b->lock);
		return;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (static_ignored_name(de->d_name))
			continue;
		char *path = xasprintf("%s/%s", s->dir, de->d_name);
		struct stat st;
		if (stat(path, &st) < 0 || S_ISDIR(st.st_mode)) {
			free(path); /* not recursed into, as the kubelet; gone meanwhile */
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			ents = xrealloc(ents, cap * sizeof(*ents));
		}
		struct entry *e = &ents[n++];
		memset(e, 0, sizeof(*e));
		e->name = xstrdup(de->d_name);
		e->path = path;
		if (!S_ISREG(st.st_mode))
			e->err = xasprintf("%s: not a regular file", path);
	}
	closedir(d);
	if (n)
		qsort(ents, n, sizeof(*ents), cmp_entry);
	for (size_t i = 0; i < n; i++)
		if (!ents[i].err)
			entry_load(s, &ents[i]);

	pthread_mutex_lock(&b->lock);
	set_dir_error(s, NULL);
	struct pod **keep = xcalloc(n + 1, sizeof(*keep));
	for (size_t i = 0; i < n; i++) {
		struct entry *e = &ents[i];
		if (!e->err) {
			for (size_t k = 0; k < i; k++)
				if (ents[k].pod && !strcmp(ents[k].pod, e->pod) && !ents[k].err) {
					e->err =
					    xasprintf("%s: static pod %s is already defined by %s; "
						      "this file is skipped",
						      e->path, e->pod, ents[k].path);
					break;
				}
		}
		if (!e->err)
			keep[i] = apply_entry(s, e);
		if (e->err) {
			/* the pod of a file that turned invalid keeps running its
			 * last valid manifest, as a refused spec.yaml write */
			for (size_t k = 0; k < b->npods; k++) {
				struct pod *p = b->pods[k];
				if (!p->static_src || p->deleting || strcmp(p->static_src, e->path))
					continue;
				keep[i] = p;
				p->static_missing_ms = 0;
				if (p->apply_error && !strcmp(p->apply_error, e->err))
					break;
				free(p->apply_error);
				p->apply_error = xstrdup(e->err);
				pod_event(b, p, true, "FailedApply", NULL,
					  "manifest %s refused; the pod keeps its last valid "
					  "manifest: %s",
					  e->path, e->err);
				status_render_pod(b, p);
				break;
			}
		}
	}
	/* static pods no file stands for any more */
	int64_t now = mono_ms();
	for (size_t k = 0; k < b->npods; k++) {
		struct pod *p = b->pods[k];
		if (!p->static_src || p->deleting)
			continue;
		bool kept = false;
		for (size_t i = 0; i < n && !kept; i++)
			kept = keep[i] == p;
		if (kept)
			continue;
		char *why = xasprintf("its manifest %s is gone", p->static_src);
		if (initial) {
			delete_pod(b, p, why);
		} else if (!p->static_missing_ms) {
			p->static_missing_ms = now;
			s->retry_ms = now + GONE_CONFIRM_MS;
		} else if (now - p->static_missing_ms >= GONE_CONFIRM_MS) {
			delete_pod(b, p, why);
		} else if (!s->retry_ms || p->static_missing_ms + GONE_CONFIRM_MS < s->retry_ms) {
			s->retry_ms = p->static_missing_ms + GONE_CONFIRM_MS;
		}
		free(why);
	}
	free(keep);
	set_errors(s, ents, n);
	status_render_node(b);
	pthread_mutex_unlock(&b->lock);
	for (size_t i = 0; i < n; i++)
		entry_free(&ents[i]);
	free(ents);
}

/* Is this inotify event worth a scan? */
static bool relevant(const struct inotify_event *ev)
{
	if (ev->mask & (IN_Q_OVERFLOW | IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED))
		return true;
	return ev->len && !static_ignored_name(ev->name);
}

static void *static_main(void *arg)
{
	struct static_dir *s = arg;
	int64_t next_full = mono_ms() + STATIC_RESCAN_MS, due = 0, first = 0;
	for (;;) {
		int64_t now = mono_ms();
		int64_t at = next_full;
		if (due && due < at)
			at = due;
		if (s->retry_ms && s->retry_ms < at)
			at = s->retry_ms;
		struct pollfd pf[2] = {{.fd = s->stop_fd, .events = POLLIN},
				       {.fd = s->ino_fd, .events = POLLIN}};
		int r = poll(pf, 2, at > now ? (int)(at - now) : 0);
		if (r > 0 && (pf[0].revents & POLLIN))
			break;
		now = mono_ms();
		if (r > 0 && (pf[1].revents & POLLIN)) {
			char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
			ssize_t len;
			while ((len = read(s->ino_fd, buf, sizeof(buf))) > 0) {
				for (char *q = buf; q < buf + len;) {
					struct inotify_event *ev = (struct inotify_event *)q;
					if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED))
						s->wd = -1; /* watched again on the scan */
					if (relevant(ev)) {
						if (!due)
							first = now;
						due = now + QUIET_MS;
						if (due > first + QUIET_MAX_MS)
							due = first + QUIET_MAX_MS;
					}
					q += sizeof(*ev) + ev->len;
				}
			}
		}
		bool full = now >= next_full;
		if (full || (due && now >= due) || (s->retry_ms && now >= s->retry_ms)) {
			scan(s, false);
			due = 0;
			if (full)
				next_full = now + STATIC_RESCAN_MS;
		}
	}
	return NULL;
}

int static_start(struct backend *b, const char *dir, struct static_dir **out, char **err)
{
	struct static_dir *s = xcalloc(1, sizeof(*s));
	s->b = b;
	s->dir = xstrdup(dir);
	s->wd = -1;
	s->ino_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	s->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->ino_fd < 0 || s->stop_fd < 0) {
		*err = xasprintf("manifest dir: inotify/eventfd: %s", strerror(errno));
		static_stop(s);
		return -EIO;
	}
	char *werr = NULL;
	int r = watch_dir(s, &werr);
	if (r < 0) {
		*err = werr;
		static_stop(s);
		return r;
	}
	pthread_mutex_lock(&b->lock);
	*out = s;
	pthread_mutex_unlock(&b->lock);
	scan(s, true); /* before any FUSE request: the pods are there at mount */
	pthread_create(&s->thread, NULL, static_main, s);
	s->started = true;
	return 0;
}

void static_stop(struct static_dir *s)
{
	if (!s)
		return;
	if (s->started) {
		uint64_t one = 1;
		if (write(s->stop_fd, &one, sizeof(one)) < 0) {
			/* cannot fail for an eventfd below its maximum */
		}
		pthread_join(s->thread, NULL);
	}
	if (s->ino_fd >= 0)
		close(s->ino_fd);
	if (s->stop_fd >= 0)
		close(s->stop_fd);
	/* the node file stops showing it; the lock orders this with readers */
	pthread_mutex_lock(&s->b->lock);
	if (s->b->statics == s)
		s->b->statics = NULL;
	pthread_mutex_unlock(&s->b->lock);
	for (size_t k = 0; k < s->nerrs; k++) {
		free(s->errs[k].file);
		free(s->errs[k].msg);
	}
	free(s->errs);
	free(s->dir_error);
	free(s->dir);
	free(s);
}

void static_forget_all(struct backend *b)
{
	for (size_t k = 0; k < b->npods; k++) {
		struct pod *p = b->pods[k];
		if (p->static_src && !p->deleting)
			delete_pod(b, p, "podfs runs without --manifest-dir, so it has no source");
	}
}

static void yaml_str(struct strbuf *sb, const char *s)
{
	json_t *j = json_string(s);
	char *t = json_dumps(j, JSON_ENCODE_ANY);
	sb_puts(sb, t ? t : "\"\"");
	free(t);
	json_decref(j);
}

void static_node_text(struct backend *b, struct strbuf *sb)
{
	struct static_dir *s = b->statics;
	if (!s)
		return;
	size_t np = 0;
	for (size_t k = 0; k < b->npods; k++)
		if (b->pods[k]->static_src)
			np++;
	sb_puts(sb, "staticPods:\n  manifestDir: ");
	yaml_str(sb, s->dir);
	sb_printf(sb, "\n  pods: %zu\n", np);
	if (s->dir_error) {
		sb_puts(sb, "  error: ");
		yaml_str(sb, s->dir_error);
		sb_putc(sb, '\n');
	}
	if (!s->nerrs) {
		sb_puts(sb, "  skipped: []\n");
		return;
	}
	sb_puts(sb, "  skipped:\n");
	for (size_t k = 0; k < s->nerrs; k++) {
		sb_puts(sb, "  - file: ");
		yaml_str(sb, s->errs[k].file);
		sb_puts(sb, "\n    error: ");
		yaml_str(sb, s->errs[k].msg);
		sb_putc(sb, '\n');
	}
}
