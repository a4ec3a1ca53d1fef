/* pod.c: the pod lifecycle, as the kubelet runs it, driven by one
 * supervisor thread. Facts come in (a manifest applied, a container exited,
 * a timer fired, a deletion asked for); sync_pod() compares what is with
 * what should be and acts: sandbox, init containers in order, app
 * containers, restarts by policy with CrashLoopBackOff, termination with a
 * grace period. Phases change only in compute_phase(). */
#include "backend/pod.h"
#include "backend/podlog.h"
#include "backend/netns.h"
#include "backend/oci.h"
#include "backend/util.h"
#include "backend/volume.h"

#include <dirent.h>
#include <jansson.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/stat.h>

#define BACKOFF_INITIAL_MS   10000
#define BACKOFF_MAX_MS	     300000
#define MIN_GRACE_MS	     2000 /* kubelet's minimumGracePeriodInSeconds */
#define MAX_EVENTS	     1000
#define EVENTS_SAVE_DELAY_MS 5000 /* events lost in a crash: at most this much */

int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void realtime_now(struct timespec *ts)
{
	clock_gettime(CLOCK_REALTIME, ts);
}

static int64_t scaled(struct backend *b, int64_t ms)
{
	double v = (double)ms * b->backoff_scale;
	return v < 1 ? 1 : (int64_t)v;
}

struct pod *pod_find(struct backend *b, const char *name)
{
	for (size_t i = 0; i < b->npods; i++)
		if (!strcmp(b->pods[i]->name, name))
			return b->pods[i];
	return NULL;
}

void pod_wake(struct backend *b)
{
	uint64_t one = 1;
	if (write(b->wake_fd, &one, sizeof(one)) < 0) {
		/* the counter is saturated: the supervisor is awake anyway */
	}
}

static void announce(struct backend *b, enum backend_change what, const char *pod,
		     const char *container, enum backend_file file)
{
	if (b->change_cb)
		b->change_cb(b->change_arg, what, pod, container, file);
}

void pod_event(struct backend *b, struct pod *p, bool warning, const char *reason,
	       const char *object, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	if (p->nev == MAX_EVENTS) {
		/* keep the newest; the file is rewritten, not appended */
		free(p->ev[0].reason);
		free(p->ev[0].object);
		free(p->ev[0].message);
		memmove(p->ev, p->ev + 1, (p->nev - 1) * sizeof(*p->ev));
		p->nev--;
	}
	p->ev = xrealloc(p->ev, (p->nev + 1) * sizeof(*p->ev));
	struct event *e = &p->ev[p->nev++];
	realtime_now(&e->when);
	e->warning = warning;
	e->reason = xstrdup(reason);
	e->object = xstrdup(object ? object : "");
	e->message = msg;
	e->count = 1;
	p->events_mtime = e->when;
	p->events_unsaved = true;
	char *text = status_events_text(p);
	p->events_size = strlen(text);
	free(text);
	announce(b, BC_MODIFIED, p->name, NULL, BF_EVENTS);
}

/* ---- container status helpers ------------------------------------------- */

static void set_waiting(struct container *c, const char *reason, const char *message)
{
	c->phase = C_WAITING;
	free(c->waiting_reason);
	free(c->waiting_message);
	c->waiting_reason = reason ? xstrdup(reason) : NULL;
	c->waiting_message = message ? xstrdup(message) : NULL;
	c->ready = false;
	c->started = false;
}

static void cterm_copy(struct cterm *dst, const struct cterm *src);

void pod_container_wait(struct container *c, const char *reason, const char *message)
{
	if (c->phase == C_TERMINATED) {
		cterm_copy(&c->last, &c->term);
		c->has_last = true;
	}
	set_waiting(c, reason, message);
}

static void cterm_clear(struct cterm *t)
{
	free(t->reason);
	free(t->message);
	memset(t, 0, sizeof(*t));
}

static void cterm_copy(struct cterm *dst, const struct cterm *src)
{
	cterm_clear(dst);
	*dst = *src;
	dst->reason = src->reason ? xstrdup(src->reason) : NULL;
	dst->message = src->message ? xstrdup(src->message) : NULL;
}

static const char *default_waiting_reason(struct pod *p)
{
	return p->ninit ? "PodInitializing" : "ContainerCreating";
}

static void container_free(struct container *c)
{
	free(c->name);
	free(c->waiting_reason);
	free(c->waiting_message);
	cterm_clear(&c->term);
	cterm_clear(&c->last);
	free(c->image_ref);
	free(c->image_id);
	oci_strv_free(c->env);
	podlog_reset(&c->log);
	podlog_reset(&c->prevlog);
	for (int k = 0; k < PK_COUNT; k++)
		free(c->probes[k].last_failure);
	free(c->kill_message);
	free(c->kill_reason);
	podimage_release(c);
}

/* Build the container table for a (new) spec. */
static void pod_set_spec(struct pod *p, struct spec_pod *spec, char *yaml, size_t len)
{
	for (size_t i = 0; i < p->nc; i++)
		container_free(&p->c[i]);
	free(p->c);
	spec_pod_free(p->spec);
	for (size_t i = 0; i < p->nold_specs; i++)
		spec_pod_free(p->old_specs[i]);
	free(p->old_specs);
	p->old_specs = NULL;
	p->nold_specs = 0;
	free(p->spec_yaml);
	p->spec = spec;
	p->spec_yaml = yaml;
	p->spec_len = len;
	realtime_now(&p->spec_mtime);
	p->ninit = spec ? spec->ninit : 0;
	p->nc = spec ? spec->ninit + spec->ncont : 0;
	p->c = xcalloc(p->nc ? p->nc : 1, sizeof(*p->c));
	for (size_t i = 0; i < p->nc; i++) {
		struct container *c = &p->c[i];
		bool init = i < p->ninit;
		c->spec = init ? &spec->init_containers[i] : &spec->containers[i - p->ninit];
		c->name = xstrdup(c->spec->name);
		c->init = init;
		c->sidecar =
		    init && c->spec->restart_policy && !strcmp(c->spec->restart_policy, "Always");
		c->log.wd = c->prevlog.wd = -1;
		c->image_ref = xstrdup(c->spec->image);
		set_waiting(c, default_waiting_reason(p), NULL);
	}
	p->phase = spec ? PHASE_PENDING : PHASE_NONE;
	free(p->reason);
	free(p->message);
	p->reason = p->message = NULL;
	p->has_start_time = false;
	p->evicted = false;
}

void pod_free(struct pod *p)
{
	if (!p)
		return;
	pod_set_spec(p, NULL, NULL, 0);
	free(p->c);
	free(p->name);
	free(p->pending_yaml);
	spec_pod_free(p->pending);
	free(p->reason);
	free(p->message);
	free(p->rundir);
	cni_ips_free(p->pod_ips);
	free(p->apply_error);
	for (size_t i = 0; i < p->nev; i++) {
		free(p->ev[i].reason);
		free(p->ev[i].object);
		free(p->ev[i].message);
	}
	free(p->ev);
	json_decref(p->r_tree);
	free(p->r_status);
	free(p->r_json);
	free(p->r_phase);
	free(p->r_pskey);
	free(p->saved_state);
	free(p->static_src);
	free(p);
}

/* ---- phase (kubelet's getPhase) ------------------------------------------ */

/* kubelet's isInitContainerFailed: an OOM kill fails it even with exit 0 */
static bool term_failed(const struct cterm *t)
{
	return t->exit_code != 0 || (t->reason && !strcmp(t->reason, "OOMKilled"));
}

static enum pod_phase compute_phase(struct pod *p)
{
	if (!p->spec)
		return PHASE_NONE;
	/* terminal phases are sticky */
	if (p->phase == PHASE_SUCCEEDED || p->phase == PHASE_FAILED)
		return p->phase;
	const char *policy = p->spec->restart_policy;
	bool initialized = false;
	for (size_t i = p->ninit; i < p->nc; i++)
		if (p->c[i].ever_started)
			initialized = true;
	bool pending_init = false, failed_init = false;
	int waiting = 0, running = 0, stopped = 0, succeeded = 0, unknown = 0;
	for (size_t i = 0; i < p->ninit; i++) {
		struct container *c = &p->c[i];
		if (c->sidecar) {
			if ((c->phase == C_RUNNING && !c->started) ||
			    (c->phase == C_WAITING && !c->has_last)) {
				if (!initialized)
					pending_init = true;
				if (c->phase == C_WAITING)
					waiting++;
			}
			continue;
		}
		if (c->phase == C_TERMINATED && term_failed(&c->term))
			failed_init = true;
		else if (c->phase == C_WAITING && c->has_last && term_failed(&c->last))
			failed_init = true;
		else if (c->phase == C_RUNNING || (c->phase == C_WAITING && !c->has_last))
			pending_init = true;
		/* Waiting after a success (init containers run again in a new
		 * sandbox) is neither pending nor failed, as in getPhase */
	}
	for (size_t i = p->ninit; i < p->nc; i++) {
		struct container *c = &p->c[i];
		if (c->phase == C_RUNNING && c->poststart_pending) {
			waiting++;
		} else if (c->phase == C_RUNNING ||
			   (c->phase == C_TERMINATED && c->spec_restart)) {
			running++; /* (being replaced by its new definition) */
		} else if (c->phase == C_TERMINATED) {
			stopped++;
			if (c->term.exit_code == 0)
				succeeded++;
		} else if (c->has_last) {
			stopped++;
		} else {
			waiting++;
		}
	}
	if (failed_init && !strcmp(policy, "Never"))
		return PHASE_FAILED;
	if (pending_init || failed_init || waiting > 0)
		return PHASE_PENDING;
	if (running > 0 && unknown == 0)
		return PHASE_RUNNING;
	if (running == 0 && stopped > 0 && unknown == 0) {
		if (!strcmp(policy, "Always"))
			return PHASE_RUNNING;
		if (stopped == succeeded)
			return PHASE_SUCCEEDED;
		if (!strcmp(policy, "Never"))
			return PHASE_FAILED;
		return PHASE_RUNNING;
	}
	return PHASE_PENDING;
}

/* ---- sandbox ------------------------------------------------------------- */

static char *pod_path(struct pod *p, const char *leaf)
{
	return xasprintf("%s/%s", p->rundir, leaf);
}

/* /etc/hosts as the kubelet writes it: its managed header and a line per
 * pod IP for the hostname; with hostNetwork, the node's own /etc/hosts.
 * Then the HostAliases. */
static int write_pod_files(struct backend *b, struct pod *p, char *const *ips, char **err)
{
	const char *hostname = p->spec->hostname ? p->spec->hostname : p->name;
	struct strbuf sb;
	sb_init(&sb);
	char *node_hosts = NULL;
	size_t nlen = 0;
	if (p->spec->host_network &&
	    util_read_file("/etc/hosts", 1 << 20, &node_hosts, &nlen) == 0) {
		sb_add(&sb, node_hosts, nlen);
		if (nlen && node_hosts[nlen - 1] != '\n')
			sb_putc(&sb, '\n');
		free(node_hosts);
	} else {
		sb_puts(&sb, "# Kubernetes-managed hosts file.\n"
			     "127.0.0.1\tlocalhost\n"
			     "::1\tlocalhost ip6-localhost ip6-loopback\n"
			     "fe00::0\tip6-localnet\n"
			     "fe00::0\tip6-mcastprefix\n"
			     "fe00::1\tip6-allnodes\n"
			     "fe00::2\tip6-allrouters\n");
		for (size_t i = 0; ips && ips[i]; i++)
			sb_printf(&sb, "%s\t%s\n", ips[i], hostname);
		if (!ips || !ips[0]) /* no address: the name still resolves */
			sb_printf(&sb, "127.0.1.1\t%s\n", hostname);
	}
	if (p->spec->nhost_aliases) {
		sb_puts(&sb, "\n# Entries added by HostAliases.\n");
		for (size_t i = 0; i < p->spec->nhost_aliases; i++) {
			sb_puts(&sb, p->spec->host_aliases[i].ip);
			for (size_t j = 0; j < p->spec->host_aliases[i].hostnames.n; j++)
				sb_printf(&sb, "\t%s", p->spec->host_aliases[i].hostnames.v[j]);
			sb_putc(&sb, '\n');
		}
	}
	char *path = pod_path(p, "hosts");
	int r = util_write_file(path, sb.buf, sb.len, 0644);
	free(path);
	sb_free(&sb);
	if (r < 0)
		goto fail;
	char *hn = xasprintf("%s\n", hostname);
	path = pod_path(p, "hostname");
	r = util_write_file(path, hn, strlen(hn), 0644);
	free(path);
	free(hn);
	if (r < 0)
		goto fail;
	/* No cluster DNS: ClusterFirst falls back to the node's resolver, as
	 * the kubelet does without --cluster-dns. */
	char *resolv = NULL;
	size_t rlen = 0;
	if (util_read_file("/etc/resolv.conf", 65536, &resolv, &rlen) < 0) {
		resolv = xstrdup("");
		rlen = 0;
	}
	path = pod_path(p, "resolv.conf");
	r = util_write_file(path, resolv, rlen, 0644);
	free(path);
	free(resolv);
	if (r < 0)
		goto fail;
	(void)b;
	return 0;
fail:
	*err = xasprintf("write pod files in %s: %s", p->rundir, strerror(-r));
	return r;
}

static char *cgroup_parent(struct pod *p)
{
	return podres_cgroup_path(p);
}

/* Build the sandbox: run dir, /dev/shm, pinned netns and its CNI network
 * (ADD before the infra container, as containerd does), pod files, infra
 * container (catatonit -P), pinned ipc and uts. *IPS gets the pod's IPs
 * (the node's with hostNetwork); on failure whatever was set up, network
 * included, is left for sandbox_destroy. Lock NOT held. */
static int sandbox_create(struct backend *b, struct pod *p, char ***ips, char **err)
{
	*ips = NULL;
	int r = util_mkdir_p(p->rundir, 0711);
	if (r < 0) {
		*err = xasprintf("create %s: %s", p->rundir, strerror(-r));
		return r;
	}
	char *shm = pod_path(p, "shm");
	mkdir(shm, 0755);
	umount2(shm, MNT_DETACH);
	if (mount("shm", shm, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k") <
	    0) {
		r = -errno;
		*err = xasprintf("mount /dev/shm for the pod: %s", strerror(errno));
		free(shm);
		return r;
	}
	free(shm);
	char *net = pod_path(p, "net");
	ns_unpin(net);
	char cid[40];
	util_random_hex(cid);
	if (!p->spec->host_network) {
		if ((r = netns_create(net, err)) < 0) {
			free(net);
			return r;
		}
		char *rec = pod_path(p, "cni.json");
		struct cni_pod cp = {.container_id = cid,
				     .netns = net,
				     .name = p->name,
				     .namespace = p->spec->namespace,
				     .uid = p->uid};
		r = cni_add(&b->net, &cp, rec, ips, err);
		free(rec);
		if (r < 0) {
			free(net);
			return r;
		}
	} else if (*b->host_ip) {
		*ips = xcalloc(2, sizeof(char *));
		(*ips)[0] = xstrdup(b->host_ip);
	}
	if ((r = write_pod_files(b, p, *ips, err)) < 0) {
		free(net);
		return r;
	}
	char *bundle = xasprintf("%s/containers/%s", b->state_dir, cid);
	util_mkdir_p(bundle, 0700);
	char *cg = cgroup_parent(p);
	char *hs = pod_path(p, "hostname"), *ho = pod_path(p, "hosts"),
	     *rs = pod_path(p, "resolv.conf");
	char *shm2 = pod_path(p, "shm");
	struct oci_pod op = {
	    .hostname = p->spec->hostname ? p->spec->hostname : p->name,
	    .netns_path = p->spec->host_network ? NULL : net,
	    .hosts_path = ho,
	    .hostname_path = hs,
	    .resolv_path = rs,
	    .shm_path = shm2,
	    .cgroup_parent = cg,
	    .has_oom_score_adj = true,
	    .oom_score_adj = podres_sandbox_oom_score_adj(),
	};
	char *json = oci_infra_config(&op, b->infra_rootfs, cid);
	char *cfg = xasprintf("%s/config.json", bundle);
	r = util_write_file(cfg, json, strlen(json), 0600);
	free(cfg);
	free(json);
	free(cg);
	free(hs);
	free(ho);
	free(rs);
	free(shm2);
	char *log = pod_path(p, "infra.log");
	pid_t pid = 0;
	if (r >= 0)
		r = rt_create(&b->rt, cid, bundle, log, &pid, err);
	else
		*err = xasprintf("write infra config: %s", strerror(-r));
	free(log);
	if (r >= 0)
		r = rt_start(&b->rt, cid, err);
	free(bundle);
	free(net);
	if (r < 0)
		return r;
	char *ipc = pod_path(p, "ipc"), *uts = pod_path(p, "uts"), *pidns = pod_path(p, "pidns");
	ns_unpin(ipc);
	ns_unpin(uts);
	ns_unpin(pidns);
	r = ns_pin(pid, "ipc", ipc, err);
	if (r >= 0)
		r = ns_pin(pid, "uts", uts, err);
	if (r >= 0)
		r = ns_pin(pid, "pid", pidns, err);
	free(ipc);
	free(uts);
	free(pidns);
	memcpy(p->infra_cid, cid, sizeof(cid));
	p->infra_pid = pid;
	return r;
}

static void container_dir_remove(struct backend *b, const char *cid)
{
	if (!*cid)
		return;
	char *bundle = xasprintf("%s/containers/%s", b->state_dir, cid);
	char *rootfs = xasprintf("%s/rootfs", bundle);
	umount2(rootfs, MNT_DETACH);
	util_rm_rf(bundle);
	free(rootfs);
	free(bundle);
}

/* Forget a stopped container: runc's state, its bundle and rootfs, and
 * conmon's exit file (lock NOT held). */
static void container_forget(struct backend *b, const char *cid)
{
	if (!*cid)
		return;
	rt_delete(&b->rt, cid, NULL);
	container_dir_remove(b, cid);
	char *ex = xasprintf("%s/%s", b->rt.exit_dir, cid);
	unlink(ex);
	free(ex);
	/* conmon's short link to the bundle, for its socket paths */
	char *sock = xasprintf("%s/%s", b->rt.sock_dir, cid);
	unlink(sock);
	free(sock);
}

/* Tear down the sandbox: the infra container, then the network (CNI DEL
 * from the saved record, also after a failed ADD or a podfs restart), then
 * the namespaces and the run dir. Returns NULL, or what went wrong with
 * the network (the caller reports it). Lock NOT held. */
static char *sandbox_destroy(struct backend *b, struct pod *p)
{
	if (*p->infra_cid) {
		rt_kill(&b->rt, p->infra_cid, SIGKILL, true, NULL);
		container_forget(b, p->infra_cid);
	}
	char *net_err = NULL;
	char *rec = pod_path(p, "cni.json");
	char *parked = xasprintf("%s/cni-parked", b->rt.run_dir);
	cni_retry_parked(&b->net, parked);
	if (cni_del(&b->net, rec, &net_err) < 0) {
		fprintf(stderr, "podfs: pod %s: %s\n", p->name, net_err);
		cni_park(rec, parked); /* tried again at the next teardown */
	}
	free(parked);
	free(rec);
	const char *pins[] = {"net", "ipc", "uts", "pidns"};
	for (size_t i = 0; i < 4; i++) {
		char *path = pod_path(p, pins[i]);
		ns_unpin(path);
		free(path);
	}
	char *shm = pod_path(p, "shm");
	umount2(shm, MNT_DETACH);
	free(shm);
	util_rm_rf(p->rundir);
	podres_cgroup_remove(p);
	p->infra_cid[0] = '\0';
	p->infra_pid = 0;
	p->sandbox_ready = false;
	return net_err;
}

/* The kubelet's event when a sandbox's network cannot be torn down. Lock
 * held; takes ERR. */
static void report_kill_error(struct backend *b, struct pod *p, char *err)
{
	if (!err)
		return;
	pod_event(b, p, true, "FailedKillPod", NULL,
		  "error killing pod: failed to \"KillPodSandbox\" for \"%s\" with "
		  "KillPodSandboxError: \"%s\"",
		  p->uid, err);
	free(err);
}

/* ---- containers ---------------------------------------------------------- */

struct start_result {
	int r;
	char *err;
	const char *reason; /* waiting reason on failure, or NULL = StartError */
	char cid[40];
	pid_t pid;
	char *image_id;
	char **env;
	int stop_signal;
	char *image; /* the spec's image it was made from */
};

/* "SIGTERM", "TERM" or "15" to a number; 0 if unknown. */
static int parse_signal(const char *s)
{
	static const struct {
		const char *name;
		int sig;
	} sigs[] = {{"TERM", SIGTERM}, {"INT", SIGINT},	  {"QUIT", SIGQUIT}, {"KILL", SIGKILL},
		    {"HUP", SIGHUP},   {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"WINCH", SIGWINCH},
		    {"PWR", SIGPWR},   {"STOP", SIGSTOP}};
	if (!s || !*s)
		return 0;
	if (*s >= '0' && *s <= '9')
		return atoi(s);
	if (!strncmp(s, "SIG", 3))
		s += 3;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (!strcmp(s, sigs[i].name))
			return sigs[i].sig;
	return 0;
}

static int mount_rootfs(const char *bundle, const struct image_info *img, char **err)
{
	char *rootfs = xasprintf("%s/rootfs", bundle), *upper = xasprintf("%s/upper", bundle),
	     *work = xasprintf("%s/work", bundle);
	mkdir(rootfs, 0755);
	mkdir(upper, 0755);
	mkdir(work, 0700);
	struct strbuf opts;
	sb_init(&opts);
	sb_puts(&opts, "lowerdir=");
	/* overlayfs lists the top layer first */
	for (size_t i = img->nlayers; i-- > 0;)
		sb_printf(&opts, "%s%s", img->layer_dirs[i], i ? ":" : "");
	sb_printf(&opts, ",upperdir=%s,workdir=%s", upper, work);
	/* with an upper dir, one lower layer is enough for overlayfs */
	int r = 0;
	if (mount("overlay", rootfs, "overlay", 0, opts.buf) < 0) {
		r = -errno;
		*err = xasprintf("mount the container's root file system: %s", strerror(errno));
	}
	sb_free(&opts);
	free(rootfs);
	free(upper);
	free(work);
	return r;
}

/* Create and start one container. Lock NOT held; reads only CS (C's spec
 * when the start began), the pod's spec (an in-place update changes no more
 * than images, and keeps the old spec alive) and fixed pod fields. */
static void container_start(struct backend *b, struct pod *p, struct container *c,
			    const struct spec_container *cs, int attempt, struct start_result *res)
{
	memset(res, 0, sizeof(*res));
	struct image_info *img = NULL;
	struct vol_sources srcs = {0};
	char *bundle = NULL, *json = NULL, *log = NULL;
	int r = image_lookup(b->images, cs->image, &img, &res->err);
	if (r < 0) {
		res->reason = r == -EINVAL ? "InvalidImageName" : "ErrImagePull";
		goto out;
	}
	res->image_id = xstrdup(img->digest);
	res->image = xstrdup(cs->image);
	res->stop_signal = parse_signal(img->config.stop_signal);
	util_random_hex(res->cid);
	bundle = xasprintf("%s/containers/%s", b->state_dir, res->cid);
	if ((r = util_mkdir_p(bundle, 0700)) < 0) {
		res->err = xasprintf("create %s: %s", bundle, strerror(-r));
		goto out;
	}
	if ((r = mount_rootfs(bundle, img, &res->err)) < 0)
		goto out;
	char *rootfs = xasprintf("%s/rootfs", bundle);
	struct oci_facts facts = {
	    .pod_name = p->name,
	    .namespace = p->spec->namespace,
	    .pod_uid = p->uid,
	    .node_name = b->node_name,
	    .service_account =
		p->spec->service_account_name ? p->spec->service_account_name : "default",
	    /* written by this (the supervisor) thread only */
	    .pod_ip = p->pod_ips && p->pod_ips[0] ? p->pod_ips[0] : "",
	    .host_ip = b->host_ip,
	    .node_milli_cpu = b->node_milli_cpu,
	    .node_memory = b->alloc_memory,
	    .node_ephemeral_storage = b->alloc_ephemeral > 0 ? b->alloc_ephemeral : 0,
	};
	r = oci_container_env(p->spec, cs, &img->config, &facts, &res->env, &res->err);
	if (r < 0) {
		res->reason = "CreateContainerConfigError";
		free(rootfs);
		goto out;
	}
	char *net = pod_path(p, "net"), *ipc = pod_path(p, "ipc"), *uts = pod_path(p, "uts"),
	     *pidns = pod_path(p, "pidns"), *hs = pod_path(p, "hostname"),
	     *ho = pod_path(p, "hosts"), *rs = pod_path(p, "resolv.conf"),
	     *shm = pod_path(p, "shm"), *cg = cgroup_parent(p),
	     *tl = xasprintf("%s/termination-log", bundle);
	util_write_file(tl, "", 0, 0666);
	struct oci_pod op = {
	    .netns_path = p->spec->host_network ? NULL : net,
	    .ipc_path = ipc,
	    .uts_path = uts,
	    .pid_path = p->spec->share_process_namespace ? pidns : NULL,
	    .hosts_path = ho,
	    .hostname_path = hs,
	    .resolv_path = rs,
	    .shm_path = shm,
	    .cgroup_parent = cg,
	    .termlog_path = tl,
	    .has_oom_score_adj = true,
	    .no_swap = podres_no_swap(),
	};
	/* volumes (made ready by podres_volumes_setup); subPaths resolved
	 * beneath them and bound where runc can mount them from */
	char **vpaths = podres_volume_paths(b, p);
	r = podres_subpaths(b, p, cs, vpaths, &srcs, &res->err);
	op.oom_score_adj = podres_oom_score_adj(b, p, cs);
	op.mount_sources = srcs.src;
	if (r >= 0)
		r = oci_container_config(&op, p->spec, cs, &img->config, rootfs, res->cid,
					 res->env, (const char *const *)vpaths, &json, &res->err);
	vol_paths_free(vpaths);
	free(net);
	free(ipc);
	free(uts);
	free(pidns);
	free(hs);
	free(ho);
	free(rs);
	free(shm);
	free(cg);
	free(tl);
	free(rootfs);
	if (r < 0) {
		res->reason = "CreateContainerConfigError";
		goto out;
	}
	char *cfg = xasprintf("%s/config.json", bundle);
	r = util_write_file(cfg, json, strlen(json), 0600);
	free(cfg);
	if (r < 0) {
		res->err = xasprintf("write config.json: %s", strerror(-r));
		goto out;
	}
	char *dir = podlog_dir(b, p, c);
	util_mkdir_p(dir, 0755);
	log = xasprintf("%s/%d.log", dir, attempt);
	free(dir);
	unlink(log);
	if ((r = rt_create(&b->rt, res->cid, bundle, log, &res->pid, &res->err)) < 0)
		goto out;
	if ((r = rt_start(&b->rt, res->cid, &res->err)) < 0)
		goto out;
out:
	vol_sources_free(&srcs);
	if (r < 0 && *res->cid && !res->reason) {
		/* leave nothing of a failed start behind */
		rt_delete(&b->rt, res->cid, NULL);
		container_dir_remove(b, res->cid);
	} else if (r < 0 && bundle) {
		container_dir_remove(b, res->cid);
	}
	res->r = r < 0 ? r : 0;
	image_info_free(img);
	free(bundle);
	free(json);
	free(log);
}

/* Restart decision, kubelet's ShouldContainerBeRestarted. */
static bool should_restart(struct pod *p, struct container *c)
{
	if (p->deleting || p->pending)
		return false;
	if (c->phase != C_TERMINATED)
		return c->phase == C_WAITING;
	if (c->sidecar || c->spec_restart)
		return true;
	const char *policy = p->spec->restart_policy;
	if (c->init)
		return term_failed(&c->term) && strcmp(policy, "Never") != 0;
	if (!strcmp(policy, "Never"))
		return false;
	if (!strcmp(policy, "OnFailure"))
		return c->term.exit_code != 0;
	return true;
}

static int64_t finished_mono(const struct cterm *t)
{
	struct timespec now;
	realtime_now(&now);
	int64_t ago = (int64_t)(now.tv_sec - t->finished_at.tv_sec) * 1000 +
		      (now.tv_nsec - t->finished_at.tv_nsec) / 1000000;
	return mono_ms() - (ago > 0 ? ago : 0);
}

/* CrashLoopBackOff: may C start now? If not, set the waiting state and the
 * time to try again. Implements flowcontrol.Backoff as the kubelet uses it:
 * the first restart is immediate, then 10 s, 20 s, ... 300 s; an entry
 * idle for twice the maximum starts over. */
static bool backoff_allows(struct backend *b, struct pod *p, struct container *c, int64_t *wake)
{
	int64_t max = scaled(b, BACKOFF_MAX_MS);
	int64_t fin = finished_mono(&c->term);
	int64_t now = mono_ms();
	bool expired = c->backoff_ms > 0 && fin - c->backoff_updated_ms > 2 * max;
	if (c->backoff_ms > 0 && !expired && now - fin < c->backoff_ms) {
		int64_t at = fin + c->backoff_ms;
		if (!*wake || at < *wake)
			*wake = at;
		if (!c->waiting_reason || strcmp(c->waiting_reason, "CrashLoopBackOff")) {
			char *msg = xasprintf("back-off %llds restarting failed container=%s "
					      "pod=%s_%s(%s)",
					      (long long)((c->backoff_ms + 999) / 1000), c->name,
					      p->name, p->spec->namespace, p->uid);
			/* the last termination moves to lastState while waiting */
			cterm_copy(&c->last, &c->term);
			c->has_last = true;
			set_waiting(c, "CrashLoopBackOff", msg);
			free(msg);
			pod_event(b, p, true, "BackOff", c->name,
				  "Back-off restarting failed container %s in pod %s_%s(%s)",
				  c->name, p->name, p->spec->namespace, p->uid);
		}
		return false;
	}
	if (c->backoff_ms == 0 || expired)
		c->backoff_ms = scaled(b, BACKOFF_INITIAL_MS);
	else
		c->backoff_ms = c->backoff_ms * 2 > max ? max : c->backoff_ms * 2;
	c->backoff_updated_ms = now;
	return true;
}

/* A new instance (or a podfs restart): probes start over. Started once
 * the startup probe succeeds (at once without one); ready once the
 * readiness probe does (init containers never are). The first probes wait
 * out initialDelaySeconds for a new instance only. */
static void probes_begin(struct container *c, bool new_instance)
{
	podprobe_reset(c);
	c->started = !c->spec->startup;
	c->ready = c->started && !c->spec->readiness && (!c->init || c->sidecar);
	int64_t now = mono_ms();
	for (int k = 0; k < PK_COUNT; k++)
		if (c->probes[k].spec)
			c->probes[k].next_ms =
			    now +
			    (new_instance ? c->probes[k].spec->initial_delay_seconds * 1000 : 0);
}

/* Has C terminated and not been started again (it may be waiting out its
 * back-off in CrashLoopBackOff)? */
static bool crashed(const struct container *c)
{
	return c->phase == C_TERMINATED || (c->phase == C_WAITING && c->waiting_reason &&
					    !strcmp(c->waiting_reason, "CrashLoopBackOff"));
}

static void log_pump_announce(struct backend *b, struct pod *p, struct container *c);

/* Start C (lock held on entry and exit; dropped inside). */
static void do_start(struct backend *b, struct pod *p, struct container *c)
{
	bool restart = c->ever_started;
	int attempt = restart ? c->attempt + 1 : c->attempt;
	if (restart && c->phase == C_TERMINATED) {
		cterm_copy(&c->last, &c->term);
		c->has_last = true;
	}
	char old_cid[40];
	memcpy(old_cid, c->cid, sizeof(old_cid));
	c->cid[0] = '\0';
	/* an in-place update may swap c->spec while the lock is dropped */
	const struct spec_container *cs = c->spec;
	pthread_mutex_unlock(&b->lock);
	container_forget(b, old_cid);
	struct start_result res;
	container_start(b, p, c, cs, attempt, &res);
	pthread_mutex_lock(&b->lock);
	if (res.reason) {
		/* not created: Waiting with the reason, retried later */
		if (!c->waiting_reason || strcmp(c->waiting_reason, res.reason) ||
		    !c->waiting_message || strcmp(c->waiting_message, res.err))
			pod_event(b, p, true,
				  !strcmp(res.reason, "ErrImagePull") ? "Failed" : "Failed",
				  c->name, "Error: %s: %s", res.reason, res.err);
		set_waiting(c, res.reason, res.err);
		c->next_start_ms = mono_ms() + scaled(b, BACKOFF_INITIAL_MS);
		free(res.err);
		free(res.image_id);
		free(res.image);
		oci_strv_free(res.env);
		return;
	}
	c->spec_restart = false;
	if (res.image) {
		free(c->image_ref);
		c->image_ref = res.image;
	}
	if (restart) {
		c->restart_count++;
		podlog_unwatch(b, &c->prevlog);
		podlog_reset(&c->prevlog);
		c->prevlog = c->log;
		c->prevlog.wd = -1;
		podlog_unwatch(b, &c->log);
		memset(&c->log, 0, sizeof(c->log));
		c->log.wd = -1;
	}
	c->attempt = attempt;
	c->ever_started = true;
	free(c->image_id);
	c->image_id = res.image_id;
	oci_strv_free(c->env);
	c->env = res.env;
	podlog_open(b, p, c, &c->log, attempt);
	podlog_watch(b, &c->log);
	/* what the container wrote between the first pump and the watch
	 * raised no event: pump once more, now that the watch is there */
	log_pump_announce(b, p, c);
	if (res.r < 0) {
		/* runc refused: the instance ended before it began (containerd's
		 * StartError, exit code 128) */
		cterm_clear(&c->term);
		c->term.exit_code = 128;
		c->term.reason = xstrdup("StartError");
		c->term.message = res.err;
		realtime_now(&c->term.started_at);
		c->term.finished_at = c->term.started_at;
		c->phase = C_TERMINATED;
		c->ready = c->started = false;
		pod_event(b, p, true, "Failed", c->name, "Error: %s", c->term.message);
		return;
	}
	memcpy(c->cid, res.cid, sizeof(c->cid));
	c->pid = res.pid;
	c->phase = C_RUNNING;
	c->stop_signal = res.stop_signal;
	realtime_now(&c->started_at);
	free(c->waiting_reason);
	free(c->waiting_message);
	c->waiting_reason = c->waiting_message = NULL;
	c->killing = false;
	probes_begin(c, true);
	pod_event(b, p, false, "Created", c->name, "Created container %s", c->name);
	pod_event(b, p, false, "Started", c->name, "Started container %s", c->name);
	podprobe_poststart(b, p, c);
	p->dirty = true; /* what may start next (after a sidecar) is decided on the next pass */
}

/* The kubelet's termination message: the file at terminationMessagePath
 * (at most 4096 bytes), else with FallbackToLogsOnError and a failure the
 * last 80 lines of the log (at most 2048 bytes); else why podfs killed it. */
static char *termination_message(struct backend *b, struct container *c, int code)
{
	char *path = xasprintf("%s/containers/%s/termination-log", b->state_dir, c->cid);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	free(path);
	char *msg = NULL;
	if (fd >= 0) {
		char buf[4097];
		ssize_t n = read(fd, buf, 4096);
		close(fd);
		if (n > 0) {
			buf[n] = '\0';
			msg = xstrdup(buf);
		}
	}
	if (!msg && code != 0 && c->spec->termination_message_policy &&
	    !strcmp(c->spec->termination_message_policy, "FallbackToLogsOnError"))
		msg = podlog_tail(&c->log, 80, 2048);
	if (!msg && c->kill_message)
		msg = xstrdup(c->kill_message);
	return msg;
}

/* A container's exit, from conmon's exit file. Lock held. */
static void container_exited(struct backend *b, struct pod *p, struct container *c, int code)
{
	char *bundle = xasprintf("%s/containers/%s", b->state_dir, c->cid);
	/* conmon's oom file, or the cgroup's counter (read before runc
	 * delete removes it; conmon may write its file after the exit) */
	bool oom = rt_oom_killed(bundle) || podres_oom_killed(p, c->cid);
	free(bundle);
	cterm_clear(&c->term);
	c->term.exit_code = code;
	c->term.reason = xstrdup(oom ? "OOMKilled" : code == 0 ? "Completed" : "Error");
	c->term.started_at = c->started_at;
	realtime_now(&c->term.finished_at);
	memcpy(c->term.cid, c->cid, sizeof(c->cid));
	c->phase = C_TERMINATED;
	c->ready = false;
	c->started = false;
	c->pid = 0;
	podlog_pump(&c->log);
	c->term.message = termination_message(b, c, code);
	c->stop = STOP_NONE;
	c->killing = false;
	c->poststart_pending = false;
	announce(b, BC_MODIFIED, p->name, c->name, BF_LOGS);
	(void)p;
}

/* ---- sync ---------------------------------------------------------------- */

static bool any_running(struct pod *p)
{
	for (size_t i = 0; i < p->nc; i++)
		if (p->c[i].phase == C_RUNNING)
			return true;
	return false;
}

static bool any_running_where(struct pod *p, bool sidecars)
{
	for (size_t i = 0; i < p->nc; i++)
		if (p->c[i].phase == C_RUNNING && (p->c[i].init == sidecars))
			return true;
	return false;
}

/* Stop every running container, as the kubelet kills a pod: app
 * containers first (each with the pod's grace period), then sidecars in
 * reverse order, one after another. Returns true once none runs. */
static bool stop_all(struct backend *b, struct pod *p, const char *why, int64_t *wake)
{
	int64_t grace = p->spec ? p->spec->termination_grace_seconds * 1000 : 30000;
	if (p->evicted)
		grace = 0; /* the eviction manager's override: no preStop, 2 s */
	bool apps = any_running_where(p, false);
	for (size_t i = p->nc; i-- > 0;) {
		struct container *c = &p->c[i];
		if (c->phase != C_RUNNING)
			continue;
		if (c->init && apps)
			continue; /* sidecars wait for the app containers */
		if (c->stop == STOP_NONE) {
			char *msg = xasprintf("%s %s", why, c->name);
			container_stop_begin(b, p, c, grace, msg);
			free(msg);
		}
		container_stop_advance(b, p, c, wake);
		if (c->init)
			break; /* one sidecar at a time, last first */
	}
	return !any_running(p);
}

/* Remove the containers' runtime state and the sandbox (lock held; it is
 * dropped inside). */
static void teardown(struct backend *b, struct pod *p)
{
	char **cids = xcalloc(p->nc + 1, sizeof(char *));
	for (size_t i = 0; i < p->nc; i++) {
		struct container *c = &p->c[i];
		podlog_pump(&c->log);
		podlog_unwatch(b, &c->log);
		cids[i] = xstrdup(*c->cid ? c->cid : c->term.cid);
		c->cid[0] = '\0';
	}
	pthread_mutex_unlock(&b->lock);
	for (size_t i = 0; i < p->nc; i++) {
		container_forget(b, cids[i]);
		free(cids[i]);
	}
	free(cids);
	char *net_err = sandbox_destroy(b, p);
	pthread_mutex_lock(&b->lock);
	report_kill_error(b, p, net_err);
}

/* Stop everything (deletion or replacement). Returns true when done. */
static bool sync_terminate(struct backend *b, struct pod *p)
{
	int64_t wake = 0;
	if (!stop_all(b, p, "Stopping container", &wake)) {
		p->wake_ms = wake;
		return false;
	}
	if (p->jobs > 0)
		return false; /* a probe or hook still holds the spec; it will wake us */
	teardown(b, p);
	return true;
}

static void pod_remove(struct backend *b, struct pod *p)
{
	for (size_t i = 0; i < b->npods; i++)
		if (b->pods[i] == p) {
			memmove(b->pods + i, b->pods + i + 1,
				(b->npods - i - 1) * sizeof(*b->pods));
			b->npods--;
			break;
		}
	podstore_remove(b, p->name);
	announce(b, BC_POD_REMOVED, p->name, NULL, BF_SPEC);
	status_ps_changed(b);
	status_render_node(b);
	p->gone = true;
	pthread_cond_broadcast(&b->cond);
	if (p->deleters == 0)
		pod_free(p);
}

/* podfs's clean shutdown (--stop-pods-on-exit): stop as for a deletion,
 * tear the sandbox down, keep spec, records and logs; nothing restarts
 * until a podfs starts again. */
static void sync_shutdown(struct backend *b, struct pod *p)
{
	if (p->shut_down)
		return;
	if (p->spec && !sync_terminate(b, p)) {
		status_render_pod(b, p);
		return;
	}
	if (p->jobs > 0)
		return;
	p->shut_down = true;
	podstore_save_state(b, p);
	status_render_pod(b, p);
	pthread_cond_broadcast(&b->cond);
}

static bool any_ever_started(struct pod *p)
{
	for (size_t i = 0; i < p->nc; i++)
		if (p->c[i].ever_started)
			return true;
	return false;
}

/* A sandbox that died is re-created only if something would start in it
 * (kubelet's computePodActions): not with restartPolicy Never, and with
 * OnFailure not if every app container succeeded. */
static bool sandbox_wanted(struct pod *p)
{
	const char *policy = p->spec->restart_policy;
	if (!strcmp(policy, "Never"))
		return false;
	for (size_t i = p->ninit; i < p->nc; i++) {
		struct container *c = &p->c[i];
		if (!strcmp(policy, "OnFailure") && c->phase == C_TERMINATED &&
		    c->term.exit_code == 0)
			continue;
		return true;
	}
	return false;
}

/* A new sandbox runs the init containers again, from the first (kubelet's
 * purgeInitContainers): each waits as PodInitializing with its last run as
 * lastState; the next run counts as a restart. App containers restart once
 * initialization is done again. */
static void init_containers_rerun(struct pod *p)
{
	for (size_t i = 0; i < p->ninit; i++) {
		struct container *c = &p->c[i];
		if (c->phase == C_RUNNING)
			continue; /* cannot be: they were stopped with the sandbox */
		if (c->phase == C_TERMINATED) {
			cterm_copy(&c->last, &c->term);
			c->has_last = true;
		}
		set_waiting(c, "PodInitializing", NULL);
		c->next_start_ms = 0;
	}
}

static void sync_pod(struct backend *b, struct pod *p)
{
	p->dirty = false;
	p->wake_ms = 0;
	p->probe_wake_ms = 0;
	if (b->shutting_down && !p->deleting) {
		sync_shutdown(b, p);
		return;
	}
	if (p->deleting || p->pending) {
		if (p->spec && !sync_terminate(b, p)) {
			status_render_pod(b, p);
			return;
		}
		if (p->jobs > 0)
			return; /* jobs still hold the spec; they wake us when done */
		if (p->spec) {
			pthread_mutex_unlock(&b->lock);
			podres_volumes_teardown(b, p);
			pthread_mutex_lock(&b->lock);
		}
		if (p->deleting) {
			pod_remove(b, p);
			return;
		}
		/* replace: the old pod is gone, start the new one */
		pod_event(b, p, false, "Replaced", NULL, "manifest changed; pod recreated");
		pod_set_spec(p, p->pending, p->pending_yaml, p->pending_len);
		p->pending = NULL;
		p->pending_yaml = NULL;
		util_random_hex(p->uid);
		free(p->rundir);
		p->rundir = xasprintf("%s/pods/%s", b->rt.run_dir, p->uid);
		podstore_save_state(b, p);
	}
	if (!p->spec)
		return;
	if (p->phase == PHASE_SUCCEEDED || p->phase == PHASE_FAILED) {
		/* a finished pod keeps its records; what still runs (sidecars,
		 * or everything after a deadline) is stopped, then the sandbox */
		int64_t wake = 0;
		if (!stop_all(b, p, "Stopping container", &wake))
			p->wake_ms = wake;
		else if (p->sandbox_ready && p->jobs == 0)
			teardown(b, p);
		podstore_save_state(b, p);
		status_render_pod(b, p);
		return;
	}
	if (!p->has_start_time) {
		/* the kubelet's admission: a pod that does not fit fails */
		if (!podres_admit(b, p)) {
			podstore_save_state(b, p);
			status_render_pod(b, p);
			status_render_node(b);
			return;
		}
		realtime_now(&p->start_time);
		p->has_start_time = true;
	}
	if (p->spec->has_active_deadline) {
		struct timespec now;
		realtime_now(&now);
		int64_t active_ms = (int64_t)(now.tv_sec - p->start_time.tv_sec) * 1000 +
				    (now.tv_nsec - p->start_time.tv_nsec) / 1000000;
		int64_t limit = p->spec->active_deadline_seconds * 1000;
		if (active_ms >= limit) {
			p->phase = PHASE_FAILED;
			free(p->reason);
			free(p->message);
			p->reason = xstrdup("DeadlineExceeded");
			p->message = xstrdup("Pod was active on the node longer than the specified "
					     "deadline");
			pod_event(b, p, true, "DeadlineExceeded", NULL, "%s", p->message);
			p->dirty = true;
			podstore_save_state(b, p);
			status_render_pod(b, p);
			return;
		}
		p->wake_ms = mono_ms() + (limit - active_ms);
	}
	if (!p->sandbox_ready) {
		/* a new sandbox needs the old containers gone first */
		int64_t w = 0;
		if (any_running(p) && !stop_all(b, p, "Stopping container", &w)) {
			p->wake_ms = w;
			status_render_pod(b, p);
			return;
		}
		bool again = any_ever_started(p);
		if (again && !sandbox_wanted(p)) {
			/* nothing would run in a new sandbox: the kubelet makes
			 * none, and the phase follows from the containers' exits */
			if (*p->infra_cid)
				teardown(b, p);
			enum pod_phase ph = compute_phase(p);
			if (ph != p->phase) {
				p->phase = ph;
				p->dirty = true;
			}
			podstore_save_state(b, p);
			status_render_pod(b, p);
			return;
		}
		char *err = NULL, **ips = NULL;
		pthread_mutex_unlock(&b->lock);
		char *net_err = sandbox_destroy(b, p); /* leftovers of an earlier try */
		int r = podres_volumes_setup(b, p, &err);
		bool mount_failed = r < 0;
		if (r >= 0)
			r = podres_cgroup_setup(b, p, &err);
		if (r >= 0)
			r = sandbox_create(b, p, &ips, &err);
		pthread_mutex_lock(&b->lock);
		report_kill_error(b, p, net_err);
		if (ips) {
			cni_ips_free(p->pod_ips);
			p->pod_ips = ips;
		}
		if (mount_failed) {
			/* the kubelet retries; one event per distinct failure */
			const struct event *last = NULL;
			for (size_t i = p->nev; i-- > 0 && !last;)
				if (!strcmp(p->ev[i].reason, "FailedMount"))
					last = &p->ev[i];
			if (!last || strcmp(last->message, err))
				pod_event(b, p, true, "FailedMount", NULL, "%s", err);
			free(err);
			p->wake_ms = mono_ms() + scaled(b, BACKOFF_INITIAL_MS);
			status_render_pod(b, p);
			return;
		}
		if (r < 0) {
			pod_event(b, p, true, "FailedCreatePodSandBox", NULL,
				  "Failed to create pod sandbox: %s", err);
			free(err);
			p->wake_ms = mono_ms() + scaled(b, BACKOFF_INITIAL_MS);
			status_render_pod(b, p);
			return;
		}
		p->sandbox_ready = true;
		if (again)
			init_containers_rerun(p);
		podstore_save_state(b, p);
	}
	int64_t wake = p->wake_ms;
	int64_t now = mono_ms();
	/* init containers, in order; sidecars keep running */
	bool init_done = true;
	for (size_t i = 0; i < p->ninit; i++) {
		struct container *c = &p->c[i];
		if (c->sidecar) {
			if (c->phase == C_RUNNING) {
				if (c->started)
					continue;
				init_done = false;
				break;
			}
		} else if (c->phase == C_TERMINATED && !term_failed(&c->term)) {
			continue;
		} else if (c->phase == C_RUNNING) {
			init_done = false;
			break;
		}
		init_done = false;
		if (c->phase == C_TERMINATED && !should_restart(p, c))
			break; /* failed with restartPolicy Never: the pod fails */
		if (c->next_start_ms > now) {
			if (!wake || c->next_start_ms < wake)
				wake = c->next_start_ms;
			break;
		}
		/* (a pull in flight was already let through the back-off) */
		if (crashed(c) && !c->pull && !backoff_allows(b, p, c, &wake))
			break;
		if (!podimage_ready(b, p, c, &wake))
			break;
		do_start(b, p, c);
		if (c->phase == C_RUNNING && c->sidecar)
			continue; /* the next init container may start */
		break;
	}
	if (init_done) {
		for (size_t i = p->ninit; i < p->nc; i++) {
			struct container *c = &p->c[i];
			if (c->phase == C_RUNNING)
				continue;
			if (c->phase == C_TERMINATED && !should_restart(p, c))
				continue;
			if (c->next_start_ms > now) {
				if (!wake || c->next_start_ms < wake)
					wake = c->next_start_ms;
				continue;
			}
			if (crashed(c) && !c->pull && !backoff_allows(b, p, c, &wake))
				continue;
			if (!podimage_ready(b, p, c, &wake))
				continue;
			do_start(b, p, c);
			if (p->deleting || p->pending)
				break;
		}
	}
	/* a container whose image changed in place (kubelet: its hash
	 * changed): killed, then started again whatever the restart policy */
	for (size_t i = 0; i < p->nc; i++) {
		struct container *c = &p->c[i];
		if (c->phase != C_RUNNING || c->stop != STOP_NONE || (c->init && !c->sidecar) ||
		    !c->image_ref || !strcmp(c->image_ref, c->spec->image))
			continue;
		cleanup_free char *why =
		    xasprintf("Container %s definition changed, will be restarted", c->name);
		c->spec_restart = true;
		c->backoff_ms = 0; /* a new definition has a back-off of its own */
		container_stop_begin(b, p, c, p->spec->termination_grace_seconds * 1000, why);
	}
	/* running containers (those just started too): stops in progress,
	 * probes due */
	int64_t pwake = 0;
	for (size_t i = 0; i < p->nc; i++) {
		container_stop_advance(b, p, &p->c[i], &wake);
		podprobe_schedule(b, p, &p->c[i], &pwake);
	}
	p->probe_wake_ms = pwake;
	enum pod_phase ph = compute_phase(p);
	if (ph != p->phase) {
		p->phase = ph;
		if (ph == PHASE_SUCCEEDED || ph == PHASE_FAILED)
			p->dirty = true; /* stop what still runs, on the next pass */
	}
	if (wake && (!p->wake_ms || wake < p->wake_ms))
		p->wake_ms = wake;
	podstore_save_state(b, p);
	status_render_pod(b, p);
}

/* After light probe results (podprobe.c), or when a probe is due: the next
 * probes, and the status with the new counters. Nothing else changed, so
 * no full sync and no state save (state.json holds no probe state). */
static void sync_probes(struct backend *b, struct pod *p)
{
	p->probed = false;
	p->probe_wake_ms = 0;
	if (!p->spec || p->deleting || p->pending)
		return;
	int64_t wake = 0;
	for (size_t i = 0; i < p->nc; i++)
		podprobe_schedule(b, p, &p->c[i], &wake);
	p->probe_wake_ms = wake;
	status_probes_changed(b, p);
	/* a failing probe adds an Unhealthy event every period: state.json
	 * (fsynced) takes them at most every few seconds, not each time */
	if (p->events_unsaved) {
		int64_t due = p->state_saved_ms + EVENTS_SAVE_DELAY_MS;
		if (mono_ms() >= due)
			podstore_save_state(b, p);
		else if (!p->wake_ms || due < p->wake_ms)
			p->wake_ms = due;
	}
}

/* ---- the supervisor loop -------------------------------------------------- */

static void handle_exit_file(struct backend *b, const char *cid)
{
	for (size_t i = 0; i < b->npods; i++) {
		struct pod *p = b->pods[i];
		if (!strcmp(p->infra_cid, cid)) {
			if (!p->deleting && !p->pending && p->sandbox_ready) {
				/* the sandbox died: the kubelet makes a new one and
				 * restarts every container */
				pod_event(b, p, true, "SandboxChanged", NULL,
					  "Pod sandbox changed, it will be killed and re-created.");
				p->sandbox_ready = false;
			}
			p->dirty = true;
			return;
		}
		for (size_t j = 0; j < p->nc; j++) {
			struct container *c = &p->c[j];
			if (strcmp(c->cid, cid) || c->phase != C_RUNNING)
				continue;
			int code;
			if (rt_read_exit(&b->rt, cid, &code) < 0)
				return;
			container_exited(b, p, c, code);
			p->dirty = true;
			return;
		}
	}
}

/* Convert what is new in C's log and announce it. Lock held. */
static void log_pump_announce(struct backend *b, struct pod *p, struct container *c)
{
	if (podlog_pump(&c->log)) {
		announce(b, BC_MODIFIED, p->name, c->name, BF_LOGS);
		if (c->spec == spec_default_container(p->spec))
			announce(b, BC_MODIFIED, p->name, NULL, BF_LOGS);
	}
}

static void handle_log_modify(struct backend *b, int wd)
{
	for (size_t i = 0; i < b->npods; i++) {
		struct pod *p = b->pods[i];
		for (size_t j = 0; j < p->nc; j++) {
			struct container *c = &p->c[j];
			if (c->log.wd == wd) {
				log_pump_announce(b, p, c);
				return;
			}
		}
	}
}

static void drain_inotify(struct backend *b)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	for (;;) {
		ssize_t n = read(b->ino_fd, buf, sizeof(buf));
		if (n <= 0)
			return;
		for (char *q = buf; q < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)q;
			if (ev->wd == b->exit_wd && ev->len)
				handle_exit_file(b, ev->name);
			else if (ev->mask & IN_MODIFY)
				handle_log_modify(b, ev->wd);
			q += sizeof(*ev) + ev->len;
		}
	}
}

static bool cid_known(struct backend *b, const char *cid)
{
	for (size_t i = 0; i < b->npods; i++) {
		struct pod *p = b->pods[i];
		if (!strcmp(p->infra_cid, cid))
			return true;
		for (size_t j = 0; j < p->nc; j++)
			if (!strcmp(p->c[j].cid, cid) || !strcmp(p->c[j].term.cid, cid))
				return true;
	}
	return false;
}

/* Exit files nobody will read: an infra container's, written by conmon
 * after the sandbox was already forgotten. Only old ones go: a container
 * being started has no id in its pod yet. Lock held. */
static void sweep_exit_files(struct backend *b)
{
	DIR *d = opendir(b->rt.exit_dir);
	if (!d)
		return;
	time_t now = time(NULL);
	struct dirent *de;
	while ((de = readdir(d))) {
		struct stat st;
		if (de->d_name[0] == '.' ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode) || now - st.st_mtime < 60 || cid_known(b, de->d_name))
			continue;
		unlinkat(dirfd(d), de->d_name, 0);
	}
	closedir(d);
}

void *pod_supervisor(void *arg)
{
	struct backend *b = arg;
	int64_t last_check = mono_ms(), last_sweep = mono_ms();
	pthread_mutex_lock(&b->lock);
	for (size_t i = 0; i < b->npods; i++)
		b->pods[i]->dirty = true;
	while (!b->stop) {
		drain_inotify(b);
		int64_t now = mono_ms();
		/* sync every pod that asked for it; a sync may remove pods */
		bool again = true;
		while (again && !b->stop) {
			again = false;
			for (size_t i = 0; i < b->npods; i++) {
				struct pod *p = b->pods[i];
				if (p->dirty || (p->wake_ms && p->wake_ms <= now)) {
					p->probed = false;
					sync_pod(b, p);
					again = true;
					drain_inotify(b);
					now = mono_ms();
					break;
				}
				if (p->probed || (p->probe_wake_ms && p->probe_wake_ms <= now)) {
					sync_probes(b, p);
					again = true;
					drain_inotify(b);
					now = mono_ms();
					break;
				}
			}
		}
		status_render_node(b);
		if (mono_ms() - last_check >= 2000) {
			pod_check_exits(b);
			last_check = mono_ms();
		}
		if (mono_ms() - last_sweep >= 60000) {
			sweep_exit_files(b);
			last_sweep = mono_ms();
		}
		int64_t next = 0;
		for (size_t i = 0; i < b->npods; i++) {
			struct pod *p = b->pods[i];
			if (p->wake_ms && (!next || p->wake_ms < next))
				next = p->wake_ms;
			if (p->probe_wake_ms && (!next || p->probe_wake_ms < next))
				next = p->probe_wake_ms;
		}
		int timeout = 2000; /* also a periodic check, as the kubelet resyncs */
		if (next) {
			int64_t d = next - mono_ms();
			timeout = d < 0 ? 0 : d < timeout ? (int)d : timeout;
		}
		pthread_mutex_unlock(&b->lock);
		struct pollfd pf[2] = {{.fd = b->wake_fd, .events = POLLIN},
				       {.fd = b->ino_fd, .events = POLLIN}};
		poll(pf, 2, timeout);
		if (pf[0].revents & POLLIN) {
			uint64_t v;
			if (read(b->wake_fd, &v, sizeof(v)) < 0) {
				/* spurious */
			}
		}
		pthread_mutex_lock(&b->lock);
	}
	pthread_mutex_unlock(&b->lock);
	return NULL;
}

void pod_install_spec(struct pod *p, struct spec_pod *spec, char *yaml, size_t len)
{
	pod_set_spec(p, spec, yaml, len);
}

void pod_update_in_place(struct pod *p, struct spec_pod *spec, char *yaml, size_t len)
{
	p->old_specs = xrealloc(p->old_specs, (p->nold_specs + 1) * sizeof(*p->old_specs));
	p->old_specs[p->nold_specs++] = p->spec;
	p->spec = spec;
	free(p->spec_yaml);
	p->spec_yaml = yaml;
	p->spec_len = len;
	realtime_now(&p->spec_mtime);
	for (size_t i = 0; i < p->nc; i++) {
		struct container *c = &p->c[i];
		const struct spec_container *old = c->spec;
		c->spec = c->init ? &spec->init_containers[i] : &spec->containers[i - p->ninit];
		/* the probes are the same, but must point into the new spec */
		for (int k = 0; k < PK_COUNT; k++)
			if (c->probes[k].spec)
				c->probes[k].spec = podprobe_spec_of(c->spec, k);
		if (!strcmp(old->image, c->spec->image))
			continue;
		/* a new image is a new definition: its own pull and crash
		 * back-offs (the kubelet keys both by image or spec hash) */
		c->pull_backoff_ms = c->pull_next_ms = 0;
		c->backoff_ms = 0;
		c->next_start_ms = 0;
		if (!c->ever_started) {
			free(c->image_ref);
			c->image_ref = xstrdup(c->spec->image);
		}
	}
}

/* After a podfs restart, a running container's probes go on where they
 * were (results, counts, ready, started from state.json) and are due at
 * once; without saved state they start over, as after a kubelet restart. */
static void probes_resume(struct container *c)
{
	struct probe_state saved[PK_COUNT];
	bool loaded = c->probes_loaded, ready = c->ready, started = c->started;
	memcpy(saved, c->probes, sizeof(saved));
	for (int k = 0; k < PK_COUNT; k++)
		c->probes[k].last_failure = NULL;
	probes_begin(c, false);
	for (int k = 0; k < PK_COUNT; k++) {
		struct probe_state *ps = &c->probes[k];
		if (!loaded || !ps->spec) {
			free(saved[k].last_failure);
			continue;
		}
		ps->result = saved[k].result;
		ps->successes = saved[k].successes;
		ps->failures = saved[k].failures;
		ps->errors = saved[k].errors;
		ps->has_last = saved[k].has_last;
		ps->last_time = saved[k].last_time;
		ps->last_outcome = saved[k].last_outcome;
		ps->last_failure = saved[k].last_failure;
		ps->last_failure_time = saved[k].last_failure_time;
	}
	if (loaded) {
		c->ready = ready;
		c->started = started;
	}
	c->probes_loaded = false;
}

/* Containers no pod knows of: started by a podfs killed before it could
 * record them (between runc create and state.json). The kubelet removes
 * such containers too; left alone they would run twice. Lock held, before
 * the supervisor runs. */
static void gc_orphans(struct backend *b)
{
	for (size_t i = 0; i < b->npods; i++)
		if (!b->pods[i]->spec && b->pods[i]->apply_error)
			return; /* a stored spec this podfs refuses: its containers are unknown */
	char *dir = xasprintf("%s/containers", b->state_dir);
	DIR *d = opendir(dir);
	free(dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || strlen(de->d_name) >= 40)
			continue;
		bool known = false;
		for (size_t i = 0; i < b->npods && !known; i++) {
			struct pod *p = b->pods[i];
			known = !strcmp(p->infra_cid, de->d_name);
			for (size_t j = 0; j < p->nc && !known; j++)
				known = !strcmp(p->c[j].cid, de->d_name) ||
					!strcmp(p->c[j].term.cid, de->d_name) ||
					!strcmp(p->c[j].last.cid, de->d_name);
		}
		if (known)
			continue;
		fprintf(stderr, "podfs: removing container %s, which no pod knows of\n",
			de->d_name);
		container_forget(b, de->d_name);
	}
	closedir(d);
}

/* After a podfs restart: what happened to each container while we were
 * away? conmon's exit files say who exited (and with what); runc says who
 * still runs. Lock held. */
static void pod_reconcile(struct backend *b, struct pod *p)
{
	for (size_t i = 0; i < p->nc; i++) {
		struct container *c = &p->c[i];
		if (c->ever_started) {
			podlog_open(b, p, c, &c->log, c->attempt);
			if (c->attempt > 0 && c->restart_count > 0)
				podlog_open(b, p, c, &c->prevlog, c->attempt - 1);
		}
		if (c->phase != C_RUNNING || !*c->cid)
			continue;
		int code;
		if (rt_read_exit(&b->rt, c->cid, &code) == 0) {
			/* exited while podfs was away: when conmon wrote it */
			struct stat st;
			char *ex = xasprintf("%s/%s", b->rt.exit_dir, c->cid);
			bool have = stat(ex, &st) == 0;
			free(ex);
			container_exited(b, p, c, code);
			if (have)
				c->term.finished_at = st.st_mtim;
			continue;
		}
		pid_t pid = 0;
		char *state = rt_state(&b->rt, c->cid, &pid);
		if (state && (!strcmp(state, "running") || !strcmp(state, "created"))) {
			podlog_watch(b, &c->log);
			podlog_pump(&c->log);
			probes_resume(c);
		} else {
			/* gone without a trace: the kubelet's ContainerStatusUnknown */
			cterm_clear(&c->term);
			c->term.exit_code = 137;
			c->term.reason = xstrdup("ContainerStatusUnknown");
			c->term.message = xstrdup("The container could not be located when the pod "
						  "was terminated/deleted");
			c->term.started_at = c->started_at;
			realtime_now(&c->term.finished_at);
			memcpy(c->term.cid, c->cid, sizeof(c->cid));
			c->phase = C_TERMINATED;
			c->ready = c->started = false;
		}
		free(state);
	}
	if (p->sandbox_ready && *p->infra_cid) {
		/* the sandbox's network as CNI ADD returned it */
		char *rec = xasprintf("%s/cni.json", p->rundir);
		char **ips = NULL;
		if (cni_record_ips(rec, &ips) == 0) {
			cni_ips_free(p->pod_ips);
			p->pod_ips = ips;
		}
		free(rec);
		pid_t pid = 0;
		char *state = rt_state(&b->rt, p->infra_cid, &pid);
		if (!state || strcmp(state, "running")) {
			pod_event(b, p, true, "SandboxChanged", NULL,
				  "Pod sandbox changed, it will be killed and re-created.");
			p->sandbox_ready = false;
		}
		free(state);
	}
	p->dirty = true;
}

int pod_load_all(struct backend *b, char **err)
{
	char *dir = xasprintf("%s/pods", b->state_dir);
	util_mkdir_p(dir, 0700);
	DIR *d = opendir(dir);
	if (!d) {
		*err = xasprintf("open %s: %s", dir, strerror(errno));
		free(dir);
		return -errno;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || !spec_is_dns1123_label(de->d_name))
			continue;
		struct pod *p = NULL;
		char *e = NULL;
		if (podstore_load(b, de->d_name, &p, &e) < 0) {
			fprintf(stderr, "podfs: skipping pod %s: %s\n", de->d_name, e ? e : "");
			free(e);
			continue;
		}
		if (b->npods == b->cappods) {
			b->cappods = b->cappods ? b->cappods * 2 : 16;
			b->pods = xrealloc(b->pods, b->cappods * sizeof(*b->pods));
		}
		b->pods[b->npods++] = p;
		pod_reconcile(b, p);
		status_render_pod(b, p);
	}
	closedir(d);
	free(dir);
	gc_orphans(b);
	return 0;
}

/* Exit files are also checked on the periodic pass, in case an inotify
 * event was lost (the queue overflowed). Lock held. */
void pod_check_exits(struct backend *b)
{
	for (size_t i = 0; i < b->npods; i++) {
		struct pod *p = b->pods[i];
		for (size_t j = 0; j < p->nc; j++) {
			struct container *c = &p->c[j];
			int code;
			if (c->phase == C_RUNNING && *c->cid &&
			    rt_read_exit(&b->rt, c->cid, &code) == 0) {
				container_exited(b, p, c, code);
				p->dirty = true;
			}
		}
	}
}
