/* backend.c: the entry points of backend.h. Opens the state, starts the
 * supervisor, and serves the FUSE layer's reads and requests from memory
 * under the backend lock. */
#include "backend/backend.h"
#include "backend/cni.h"
#include "backend/evict.h"
#include "backend/pod.h"
#include "backend/probe.h"
#include "backend/registry.h"
#include "backend/resources.h"
#include "backend/spec.h"
#include "backend/static.h"
#include "backend/util.h"
#include "backend/yamltree.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysinfo.h>
#include <unistd.h>

int backend_validate_buf(const char *name, const char *buf, size_t len, char **json, char **errors)
{
	struct diag_list errs = {0};
	struct spec_pod *pod = NULL;
	*json = NULL;
	*errors = NULL;
	int r = spec_parse(buf, len, &pod, &errs);
	if (r < 0) {
		*errors = diag_format_all(&errs, name);
	} else {
		*json = spec_to_json(pod);
		spec_pod_free(pod);
	}
	diag_list_free(&errs);
	return r;
}

int backend_validate_file(const char *file, char **json, char **errors)
{
	char *buf = NULL;
	size_t len = 0;
	*json = NULL;
	*errors = NULL;
	/* read one byte past the limit so "too large" is reported as such */
	int r =
	    util_read_file(strcmp(file, "-") ? file : "/dev/stdin", YT_MAX_BYTES + 1, &buf, &len);
	if (r == -EFBIG) {
		*errors = xasprintf("%s: manifest is larger than the limit of %d bytes (1 MiB)\n",
				    file, YT_MAX_BYTES);
		return -EINVAL;
	}
	if (r < 0) {
		*errors = xasprintf("%s: cannot read: %s\n", file, strerror(-r));
		return r;
	}
	r = backend_validate_buf(file, buf, len, json, errors);
	free(buf);
	return r;
}

int backend_lock_state(const char *state_dir, char **err)
{
	int r = util_mkdir_p(state_dir, 0700);
	if (r < 0) {
		*err = xasprintf("create state dir %s: %s", state_dir, strerror(-r));
		return r;
	}
	char *lock = xasprintf("%s/lock", state_dir);
	int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = -errno;
		*err = xasprintf("open %s: %s", lock, strerror(errno));
	} else if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		r = errno == EWOULDBLOCK ? -EBUSY : -errno;
		char holder[32] = "";
		ssize_t n = pread(fd, holder, sizeof(holder) - 1, 0);
		holder[n > 0 ? n : 0] = '\0';
		holder[strcspn(holder, "\n")] = '\0';
		*err =
		    xasprintf("state dir %s is in use by another podfs%s%s%s (it holds %s); "
			      "one state dir serves one podfs: unmount that one first or use "
			      "another --state-dir",
			      state_dir, *holder ? " (pid " : "", holder, *holder ? ")" : "", lock);
		close(fd);
		fd = -1;
	}
	free(lock);
	return fd < 0 ? r : fd;
}

/* /run/podfs/<first 12 hex of sha256(state dir)>: per state dir, on tmpfs,
 * gone after a reboot along with the containers it describes. */
static char *run_dir_for(const char *state_dir)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	EVP_Digest(state_dir, strlen(state_dir), md, &n, EVP_sha256(), NULL);
	char hex[13];
	for (int i = 0; i < 6; i++)
		sprintf(hex + 2 * i, "%02x", md[i]);
	return xasprintf("/run/podfs/%s", hex);
}

int backend_check_pod_cidr(const char *cidr, char **err)
{
	return cni_parse_cidr(cidr, NULL, err);
}

/* The node's address for status.hostIP: its first non-loopback IPv4
 * address, not on a pod bridge (hostNetwork pods' IP, probes dial it). */
static void find_host_ip(struct backend *b)
{
	struct ifaddrs *ifs = NULL;
	b->host_ip[0] = '\0';
	if (getifaddrs(&ifs) < 0)
		return;
	for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET ||
		    (i->ifa_flags & IFF_LOOPBACK) || cni_is_podfs_bridge(i->ifa_name))
			continue;
		struct sockaddr_in *sin = (struct sockaddr_in *)i->ifa_addr;
		inet_ntop(AF_INET, &sin->sin_addr, b->host_ip, sizeof(b->host_ip));
		break;
	}
	freeifaddrs(ifs);
}

static int make_infra_rootfs(struct backend *b, char **err)
{
	b->infra_rootfs = xasprintf("%s/infra/rootfs", b->state_dir);
	const char *dirs[] = {"proc", "dev", "sys", "etc"};
	for (size_t i = 0; i < 4; i++) {
		char *d = xasprintf("%s/%s", b->infra_rootfs, dirs[i]);
		util_mkdir_p(d, 0755);
		free(d);
	}
	char *dst = xasprintf("%s/catatonit", b->infra_rootfs);
	int r = 0;
	if (access(dst, X_OK) != 0) {
		char *buf = NULL;
		size_t len = 0;
		r = util_read_file("/usr/bin/catatonit", 64 * 1024 * 1024, &buf, &len);
		if (r == 0)
			r = util_write_atomic(dst, buf, len, 0755);
		if (r < 0)
			*err = xasprintf("copy /usr/bin/catatonit into the infra rootfs: %s (is "
					 "catatonit installed?)",
					 strerror(-r));
		free(buf);
	}
	free(dst);
	return r;
}

int backend_open(const struct backend_opts *opts, struct backend **out, char **err)
{
	struct backend *b = xcalloc(1, sizeof(*b));
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->cond, NULL);
	b->wake_fd = b->ino_fd = -1;
	const char *sd = opts->state_dir ? opts->state_dir : "/var/lib/podfs";
	int r = util_mkdir_p(sd, 0700);
	if (r < 0) {
		*err = xasprintf("create state dir %s: %s", sd, strerror(-r));
		goto fail;
	}
	char *real = realpath(sd, NULL);
	b->state_dir = real ? real : xstrdup(sd);
	b->backoff_scale = opts->backoff_scale > 0 ? opts->backoff_scale : 1.0;
	if (opts->node_name) {
		b->node_name = xstrdup(opts->node_name);
	} else {
		char hn[256] = "localhost";
		gethostname(hn, sizeof(hn) - 1);
		for (char *c = hn; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c += 'a' - 'A';
		b->node_name = xstrdup(hn);
	}
	/* one podfs per state dir */
	int lfd = opts->lock_fd > 0 ? opts->lock_fd : backend_lock_state(b->state_dir, err);
	if (lfd < 0) {
		r = lfd;
		goto fail;
	}
	/* lfd stays open (and locked) for the process's life; it names us */
	if (ftruncate(lfd, 0) == 0) {
		char pid[32];
		int n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
		if (pwrite(lfd, pid, (size_t)n, 0) < 0) {
			/* only informative */
		}
	}
	char *run = run_dir_for(b->state_dir);
	r = rt_init(&b->rt, run, err);
	free(run);
	if (r < 0)
		goto fail;
	char *pr = xasprintf("%s/pods", b->rt.run_dir);
	util_mkdir_p(pr, 0711);
	free(pr);
	char *cdir = xasprintf("%s/containers", b->state_dir);
	util_mkdir_p(cdir, 0700);
	free(cdir);
	if ((r = make_infra_rootfs(b, err)) < 0)
		goto fail;
	if ((r = image_store_open(b->state_dir, &b->images, err)) < 0)
		goto fail;
	if ((r = backend_registry_setup(opts, b->state_dir, &b->registry, err)) < 0)
		goto fail;
	find_host_ip(b);
	if ((r = cni_net_init(&b->net, opts->pod_cidr ? opts->pod_cidr : CNI_DEFAULT_CIDR,
			      opts->cni_bin_dir, NULL, b->host_ip, err)) < 0)
		goto fail;
	b->node_milli_cpu = (int64_t)sysconf(_SC_NPROCESSORS_ONLN) * 1000;
	/* the kubelet's nodefs: the file system its root dir (here the
	 * state dir: writable layers, logs, emptyDirs) lives on */
	struct statvfs vfs;
	b->node_ephemeral =
	    statvfs(b->state_dir, &vfs) == 0 ? (int64_t)vfs.f_blocks * (int64_t)vfs.f_frsize : -1;
	struct sysinfo si;
	if (sysinfo(&si) == 0)
		b->node_memory = (int64_t)si.totalram * si.mem_unit;
	res_node_allocatable(b->node_memory, b->node_ephemeral, &b->alloc_memory,
			     &b->alloc_ephemeral);
	b->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	b->ino_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (b->wake_fd < 0 || b->ino_fd < 0) {
		r = -errno;
		*err = xasprintf("eventfd/inotify: %s", strerror(errno));
		goto fail;
	}
	b->exit_wd = inotify_add_watch(b->ino_fd, b->rt.exit_dir, IN_CLOSE_WRITE | IN_MOVED_TO);
	b->pool = probe_pool_start(4);
	pthread_mutex_lock(&b->lock);
	r = pod_load_all(b, err);
	if (r == 0 && !opts->manifest_dir)
		static_forget_all(b); /* their source is gone, as for the kubelet */
	status_render_node(b);
	pthread_mutex_unlock(&b->lock);
	if (r < 0)
		goto fail;
	if (opts->manifest_dir && (r = static_start(b, opts->manifest_dir, &b->statics, err)) < 0)
		goto fail;
	*out = b;
	return 0;
fail:
	backend_close(b, false);
	return r;
}

/* The kubelet's eviction manager looks every 10 s. */
#define EVICT_INTERVAL_MS 10000

static void start_supervisor(struct backend *b)
{
	static pthread_once_t dummy = PTHREAD_ONCE_INIT;
	(void)dummy;
	if (!b->thread)
		pthread_create(&b->thread, NULL, pod_supervisor, b);
	if (!b->evictor)
		b->evictor = evict_start(b, EVICT_INTERVAL_MS);
}

void backend_set_change_cb(struct backend *b, backend_change_cb cb, void *arg)
{
	pthread_mutex_lock(&b->lock);
	b->change_cb = cb;
	b->change_arg = arg;
	pthread_mutex_unlock(&b->lock);
	/* the supervisor starts once someone listens, so no change is missed */
	start_supervisor(b);
}

void backend_close(struct backend *b, bool stop_pods)
{
	if (!b)
		return;
	static_stop(b->statics); /* no static pod comes or goes from here on */
	b->statics = NULL;
	evict_stop(b->evictor);
	b->evictor = NULL;
	if (stop_pods && b->thread) {
		/* as a node shutdown: every pod stops, nothing restarts; the
		 * supervisor marks each one shut_down (deletions finish) */
		pthread_mutex_lock(&b->lock);
		b->shutting_down = true;
		for (size_t i = 0; i < b->npods; i++) {
			b->pods[i]->dirty = true;
			if (b->pods[i]->spec)
				pod_event(b, b->pods[i], false, "Shutdown", NULL,
					  "podfs is shutting down (--stop-pods-on-exit): stopping "
					  "the pod; it starts again with the next podfs");
		}
		pod_wake(b);
		for (;;) {
			bool done = true;
			for (size_t i = 0; i < b->npods; i++)
				if (!b->pods[i]->shut_down)
					done = false;
			if (done)
				break;
			pthread_cond_wait(&b->cond, &b->lock);
		}
		pthread_mutex_unlock(&b->lock);
	}
	if (b->thread) {
		pthread_mutex_lock(&b->lock);
		b->stop = true;
		pthread_mutex_unlock(&b->lock);
		pod_wake(b);
		pthread_join(b->thread, NULL);
	}
	if (b->pool)
		probe_pool_stop(b->pool); /* jobs finish; the pods are still there */
	podimage_shutdown(b);
	/* nothing runs any more (no pods, or all stopped): the run dir goes,
	 * as far as it is empty; with running pods conmon still needs it */
	if (b->thread && (b->npods == 0 || stop_pods))
		rt_remove_dirs(&b->rt);
	for (size_t i = 0; i < b->npods; i++)
		pod_free(b->pods[i]);
	free(b->pods);
	image_store_close(b->images);
	cni_net_fini(&b->net);
	registry_free(b->registry);
	rt_fini(&b->rt);
	if (b->wake_fd >= 0)
		close(b->wake_fd);
	if (b->ino_fd >= 0)
		close(b->ino_fd);
	free(b->state_dir);
	free(b->node_name);
	free(b->infra_rootfs);
	free(b->r_node);
	free(b);
}

bool backend_idle(struct backend *b)
{
	pthread_mutex_lock(&b->lock);
	bool idle = b->npods == 0;
	pthread_mutex_unlock(&b->lock);
	return idle;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **backend_pod_names(struct backend *b)
{
	pthread_mutex_lock(&b->lock);
	char **v = xcalloc(b->npods + 1, sizeof(char *));
	for (size_t i = 0; i < b->npods; i++)
		v[i] = xstrdup(b->pods[i]->name);
	size_t n = b->npods;
	pthread_mutex_unlock(&b->lock);
	qsort(v, n, sizeof(char *), cmp_str);
	return v;
}

void backend_free_names(char **names)
{
	if (!names)
		return;
	for (size_t i = 0; names[i]; i++)
		free(names[i]);
	free(names);
}

bool backend_pod_exists(struct backend *b, const char *pod)
{
	pthread_mutex_lock(&b->lock);
	bool yes = pod_find(b, pod) != NULL;
	pthread_mutex_unlock(&b->lock);
	return yes;
}

char **backend_container_names(struct backend *b, const char *pod)
{
	pthread_mutex_lock(&b->lock);
	struct pod *p = pod_find(b, pod);
	char **v = NULL;
	if (p) {
		v = xcalloc(p->nc + 1, sizeof(char *));
		for (size_t i = 0; i < p->nc; i++)
			v[i] = xstrdup(p->c[i].name);
	}
	pthread_mutex_unlock(&b->lock);
	return v;
}

struct pod *pod_new(struct backend *b, const char *name)
{
	struct pod *p = xcalloc(1, sizeof(*p));
	p->name = xstrdup(name);
	util_random_hex(p->uid);
	realtime_now(&p->created);
	p->rundir = xasprintf("%s/pods/%s", b->rt.run_dir, p->uid);
	pod_install_spec(p, NULL, NULL, 0);
	if (b->npods == b->cappods) {
		b->cappods = b->cappods ? b->cappods * 2 : 16;
		b->pods = xrealloc(b->pods, b->cappods * sizeof(*b->pods));
	}
	b->pods[b->npods++] = p;
	return p;
}

int backend_pod_create(struct backend *b, const char *pod, char **err)
{
	if (!spec_is_dns1123_label(pod)) {
		if (err)
			*err = xasprintf(
			    "pod name \"%s\" must be a DNS-1123 label (lowercase letters, "
			    "digits and '-', starting and ending with a letter or digit, "
			    "at most 63 characters)",
			    pod);
		return -EINVAL;
	}
	pthread_mutex_lock(&b->lock);
	if (pod_find(b, pod)) {
		pthread_mutex_unlock(&b->lock);
		return -EEXIST;
	}
	char *dir = podstore_pod_dir(b, pod);
	int r = util_mkdir_p(dir, 0700);
	free(dir);
	if (r < 0) {
		pthread_mutex_unlock(&b->lock);
		return r;
	}
	struct pod *p = pod_new(b, pod);
	status_render_pod(b, p);
	status_render_node(b);
	status_ps_changed(b);
	pthread_mutex_unlock(&b->lock);
	return 0;
}

int backend_pod_delete(struct backend *b, const char *pod)
{
	pthread_mutex_lock(&b->lock);
	struct pod *p = pod_find(b, pod);
	if (!p) {
		pthread_mutex_unlock(&b->lock);
		return -ENOENT;
	}
	if (p->static_src && !p->deleting) {
		pod_event(b, p, true, "FailedDelete", NULL,
			  "static pod: remove its manifest %s to delete it", p->static_src);
		pthread_mutex_unlock(&b->lock);
		return -EPERM;
	}
	if (!p->deleting)
		podstore_mark_deleting(b, p->name);
	p->deleting = true;
	p->dirty = true;
	p->deleters++;
	status_render_pod(b, p);
	pod_wake(b);
	while (!p->gone)
		pthread_cond_wait(&b->cond, &b->lock);
	if (--p->deleters == 0)
		pod_free(p);
	pthread_mutex_unlock(&b->lock);
	return 0;
}

static void spec_refuse_static(struct backend *b, struct pod *p);

int backend_pod_apply(struct backend *b, const char *pod, const char *buf, size_t len, char **err)
{
	struct diag_list errs = {0};
	struct spec_pod *spec = NULL;
	int r = spec_parse(buf, len, &spec, &errs);
	char *msg = NULL;
	if (r < 0) {
		msg = diag_format_all(&errs, "spec.yaml");
	} else if (spec->name && strcmp(spec->name, pod)) {
		msg =
		    xasprintf("spec.yaml: metadata.name: \"%s\" does not match the pod's directory "
			      "name \"%s\"; leave it out or make them equal\n",
			      spec->name, pod);
		r = -EINVAL;
	}
	diag_list_free(&errs);
	pthread_mutex_lock(&b->lock);
	struct pod *p = pod_find(b, pod);
	if (!p || p->deleting) {
		pthread_mutex_unlock(&b->lock);
		spec_pod_free(spec);
		free(msg);
		return -ENOENT;
	}
	if (p->static_src) {
		spec_pod_free(spec);
		free(msg);
		spec_refuse_static(b, p);
		if (err)
			*err = xasprintf("static pod: spec.yaml is read-only; edit %s instead\n",
					 p->static_src);
		pthread_mutex_unlock(&b->lock);
		return -EROFS;
	}
	if (r < 0) {
		/* refused: the running pod is untouched; say so three ways */
		spec_pod_free(spec);
		free(p->apply_error);
		p->apply_error = xstrdup(msg);
		size_t n = strlen(msg);
		char *oneline = xstrdup(msg);
		for (size_t i = 0; i < n; i++)
			if (oneline[i] == '\n')
				oneline[i] = i + 1 == n ? '\0' : ';';
		pod_event(b, p, true, "FailedApply", NULL, "manifest refused: %s", oneline);
		free(oneline);
		status_render_pod(b, p);
		pthread_mutex_unlock(&b->lock);
		if (err)
			*err = msg;
		else
			free(msg);
		return -EINVAL;
	}
	bool same =
	    p->spec_yaml && p->spec_len == len && !memcmp(p->spec_yaml, buf, len) && !p->pending;
	if (same) {
		spec_pod_free(spec);
		if (p->apply_error) {
			free(p->apply_error);
			p->apply_error = NULL;
			status_render_pod(b, p);
		}
		pthread_mutex_unlock(&b->lock);
		return 0;
	}
	char *serr = NULL;
	r = podstore_save_spec(b, pod, buf, len, &serr);
	if (r < 0) {
		spec_pod_free(spec);
		pthread_mutex_unlock(&b->lock);
		if (err)
			*err = serr;
		else
			free(serr);
		return -EIO;
	}
	pod_apply_parsed(b, p, spec, buf, len);
	pthread_mutex_unlock(&b->lock);
	return 0;
}

/* Act on a manifest already validated and stored: the first spec of a slot
 * starts the pod, a later one replaces it. Lock held. */
void pod_apply_parsed(struct backend *b, struct pod *p, struct spec_pod *spec, const char *buf,
		      size_t len)
{
	free(p->apply_error);
	p->apply_error = NULL;
	char *yaml = xstrndup(buf, len);
	enum spec_change ch = SPEC_REPLACE;
	/* as the API server: only images may change in place, and a manifest
	 * that means the same is no change (static pods: the kubelet makes a
	 * new pod of any change to the file) */
	if (p->spec && !p->pending && !p->deleting && !p->static_src)
		ch = spec_compare(p->spec_yaml, p->spec_len, buf, len);
	/* a finished pod has nothing to keep running: a new image runs it
	 * again as a new pod, as any other change does */
	if (ch == SPEC_IMAGES && (p->phase == PHASE_SUCCEEDED || p->phase == PHASE_FAILED))
		ch = SPEC_REPLACE;
	if (!p->spec) {
		pod_install_spec(p, spec, yaml, len);
		pod_event(b, p, false, "Scheduled", NULL, "Successfully assigned %s/%s to %s",
			  spec->namespace, p->name, b->node_name);
	} else if (ch != SPEC_REPLACE) {
		pod_update_in_place(p, spec, yaml, len);
	} else {
		spec_pod_free(p->pending);
		free(p->pending_yaml);
		p->pending = spec;
		p->pending_yaml = yaml;
		p->pending_len = len;
	}
	p->dirty = true;
	status_render_pod(b, p);
	pod_wake(b);
}

/* A write to a static pod's spec.yaml: refused, and the events say where
 * the pod really comes from. Lock held. */
static void spec_refuse_static(struct backend *b, struct pod *p)
{
	pod_event(b, p, true, "FailedApply", NULL,
		  "static pod: spec.yaml is read-only; edit %s instead", p->static_src);
}

int backend_spec_writable(struct backend *b, const char *pod, bool report)
{
	pthread_mutex_lock(&b->lock);
	struct pod *p = pod_find(b, pod);
	int r = !p ? -ENOENT : p->static_src ? -EROFS : 0;
	if (r == -EROFS && report)
		spec_refuse_static(b, p);
	pthread_mutex_unlock(&b->lock);
	return r;
}

static struct container *find_container(struct pod *p, const char *name)
{
	if (!name) {
		if (!p->spec)
			return NULL;
		const struct spec_container *sc = spec_default_container(p->spec);
		for (size_t i = 0; sc && i < p->nc; i++)
			if (p->c[i].spec == sc)
				return &p->c[i];
		return NULL;
	}
	for (size_t i = 0; i < p->nc; i++)
		if (!strcmp(p->c[i].name, name))
			return &p->c[i];
	return NULL;
}

static char *env_text(const struct container *c)
{
	struct strbuf sb;
	sb_init(&sb);
	for (size_t i = 0; c->env && c->env[i]; i++)
		sb_printf(&sb, "%s\n", c->env[i]);
	return sb_steal(&sb);
}

/* Render FILE into a fresh buffer. Lock held. */
static int render(struct backend *b, const char *pod, const char *container, enum backend_file file,
		  char **buf, struct timespec *mtime)
{
	if (file == BF_PS) {
		*buf = status_ps_table(b);
		*mtime = b->r_ps_mtime;
		return 0;
	}
	if (file == BF_NODE) {
		*buf = xstrdup(b->r_node ? b->r_node : "");
		*mtime = b->r_node_mtime;
		return 0;
	}
	struct pod *p = pod_find(b, pod);
	if (!p)
		return -ENOENT;
	struct container *c = NULL;
	if (container || file == BF_ENV) {
		c = find_container(p, container);
		if (!c && container)
			return -ENOENT;
	}
	switch (file) {
	case BF_SPEC:
		*buf = p->spec_yaml ? xstrndup(p->spec_yaml, p->spec_len) : xstrdup("");
		*mtime = p->spec_yaml ? p->spec_mtime : p->created;
		return 0;
	case BF_STATUS:
	case BF_STATUS_JSON:
		*buf = xstrdup(status_pod_text(p, file));
		*mtime = p->r_mtime;
		return 0;
	case BF_PHASE:
		*buf = xstrdup(p->r_phase ? p->r_phase : "");
		*mtime = p->r_mtime;
		return 0;
	case BF_EVENTS:
		*buf = status_events_text(p);
		*mtime = p->nev ? p->events_mtime : p->created;
		return 0;
	case BF_ENV:
		*buf = c ? env_text(c) : xstrdup("");
		*mtime = c ? c->started_at : p->created;
		return 0;
	case BF_CSTATUS:
		*buf = status_container_text(p, c);
		*mtime = p->r_mtime;
		return 0;
	default:
		return -EINVAL;
	}
}

int backend_read(struct backend *b, const char *pod, const char *container, enum backend_file file,
		 char **buf, size_t *len, struct timespec *mtime)
{
	pthread_mutex_lock(&b->lock);
	int r = render(b, pod, container, file, buf, mtime);
	pthread_mutex_unlock(&b->lock);
	if (r == 0)
		*len = strlen(*buf);
	return r;
}

int backend_log(struct backend *b, const char *pod, const char *container, enum backend_file file,
		char **path, size_t *len, struct timespec *mtime)
{
	pthread_mutex_lock(&b->lock);
	struct pod *p = pod_find(b, pod);
	struct container *c = p ? find_container(p, container) : NULL;
	int r = -ENOENT;
	if (c) {
		struct plainlog *l = file == BF_PREVIOUS_LOG ? &c->prevlog : &c->log;
		if (l->plain_path) {
			*path = xstrdup(l->plain_path);
			*len = l->plain_size;
			*mtime = l->mtime;
			r = 0;
		} else {
			*path = NULL;
			*len = 0;
			*mtime = p->created;
			r = 0;
		}
	}
	pthread_mutex_unlock(&b->lock);
	return r;
}

int backend_stat(struct backend *b, const char *pod, const char *container, enum backend_file file,
		 size_t *len, struct timespec *mtime)
{
	if (file == BF_LOGS || file == BF_PREVIOUS_LOG) {
		char *path = NULL;
		int r = backend_log(b, pod, container, file, &path, len, mtime);
		free(path);
		return r;
	}
	pthread_mutex_lock(&b->lock);
	int r = 0;
	struct pod *p = pod ? pod_find(b, pod) : NULL;
	if (pod && !p) {
		r = -ENOENT;
	} else if ((file == BF_STATUS || file == BF_STATUS_JSON) && p) {
		*len = strlen(status_pod_text(p, file));
		*mtime = p->r_mtime;
	} else if (file == BF_PHASE && p) {
		*len = p->r_phase ? strlen(p->r_phase) : 0;
		*mtime = p->r_mtime;
	} else if (file == BF_SPEC && p) {
		*len = p->spec_len;
		*mtime = p->spec_yaml ? p->spec_mtime : p->created;
	} else if (file == BF_EVENTS && p) {
		*len = p->events_size;
		*mtime = p->nev ? p->events_mtime : p->created;
	} else {
		char *buf = NULL;
		r = render(b, pod, container, file, &buf, mtime);
		*len = buf ? strlen(buf) : 0;
		free(buf);
	}
	pthread_mutex_unlock(&b->lock);
	return r;
}
