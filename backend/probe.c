/* probe.c: see probe.h. The messages are the kubelet's own words (K
 * pkg/probe/{exec,http,tcp,grpc}, pkg/kubelet/prober), Go's error strings
 * included, so what a user reads in an event can be searched for. */
#include "backend/probe.h"
#include "backend/util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#define MAX_REDIRECTS 10 /* Go's default: the 10th redirect is refused */

/* ---- time ----------------------------------------------------------------- */

/* Milliseconds left until DEADLINE (0 = none: -1, poll's "forever"). */
static int ms_left(int64_t deadline)
{
	if (!deadline)
		return -1;
	int64_t left = deadline - util_now_ms();
	if (left <= 0)
		return 0;
	return left > INT32_MAX ? INT32_MAX : (int)left;
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

char *probe_go_duration(int64_t ms)
{
	if (ms == 0)
		return xstrdup("0s");
	if (ms < 0)
		ms = -ms; /* not used with negative values */
	if (ms < 1000)
		return xasprintf("%lldms", (long long)ms);
	struct strbuf sb;
	sb_init(&sb);
	long long h = ms / 3600000, m = ms / 60000 % 60, s = ms / 1000 % 60, frac = ms % 1000;
	if (h)
		sb_printf(&sb, "%lldh%lldm", h, m);
	else if (m)
		sb_printf(&sb, "%lldm", m);
	sb_printf(&sb, "%lld", s);
	if (frac) {
		char f[8];
		snprintf(f, sizeof(f), "%03lld", frac);
		for (size_t n = strlen(f); n && f[n - 1] == '0'; n--)
			f[n - 1] = '\0';
		sb_printf(&sb, ".%s", f);
	}
	sb_putc(&sb, 's');
	return sb_steal(&sb);
}

/* strerror as Go words it: "connection refused", not "Connection refused". */
static char *go_errno(int e)
{
	char buf[128];
	char *s = xstrdup(strerror_r(e, buf, sizeof(buf)));
	if (s[0] && isupper((unsigned char)s[0]) && !isupper((unsigned char)s[1]))
		s[0] = (char)tolower((unsigned char)s[0]);
	return s;
}

/* ---- sockets in the pod's network namespace ------------------------------- */

/* The calling thread's own network namespace, opened once per thread (a
 * probe worker makes a socket every period; opening /proc each time cost
 * more than the setns calls). Closed when the thread ends. */
static pthread_once_t own_netns_once = PTHREAD_ONCE_INIT;
static pthread_key_t own_netns_key;

static void own_netns_close(void *v)
{
	close((int)((intptr_t)v - 1));
}

static void own_netns_init(void)
{
	if (pthread_key_create(&own_netns_key, own_netns_close) != 0)
		abort();
}

static int own_netns(char **err)
{
	pthread_once(&own_netns_once, own_netns_init);
	intptr_t v = (intptr_t)pthread_getspecific(own_netns_key);
	if (v)
		return (int)(v - 1);
	int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		*err = xasprintf("open /proc/thread-self/ns/net: %s", strerror(e));
		return -e;
	}
	pthread_setspecific(own_netns_key, (void *)((intptr_t)fd + 1));
	return fd;
}

/* A socket created in the network namespace pinned at NETNS (NULL: the
 * calling thread's). The calling thread enters the namespace only for the
 * socket() call; a socket keeps the namespace it was created in, so every
 * connect through it happens inside the pod. Returns the fd, or -errno with
 * *err (caller frees). */
static int socket_in_netns(const char *netns, int domain, int type, int proto, char **err)
{
	if (!netns) {
		int fd = socket(domain, type | SOCK_CLOEXEC, proto);
		if (fd < 0) {
			int e = errno;
			char *m = go_errno(e);
			*err = xasprintf("socket: %s", m);
			free(m);
			return -e;
		}
		return fd;
	}
	int self = own_netns(err);
	if (self < 0)
		return self;
	cleanup_close int target = open(netns, O_RDONLY | O_CLOEXEC);
	if (target < 0) {
		int e = errno;
		*err = xasprintf("open network namespace %s: %s", netns, strerror(e));
		return -e;
	}
	if (setns(target, CLONE_NEWNET) < 0) {
		int e = errno;
		*err = xasprintf("enter network namespace %s: %s", netns, strerror(e));
		return -e;
	}
	int fd = socket(domain, type | SOCK_CLOEXEC, proto);
	int e = errno;
	/* setns() changes only this thread; a thread left in a pod's
	 * namespace would make every later probe and request of podfs on it
	 * go to the wrong place, so failing to return is fatal. */
	if (setns(self, CLONE_NEWNET) < 0) {
		fprintf(stderr, "podfs: cannot return to the original network namespace: %s\n",
			strerror(errno));
		abort();
	}
	if (fd < 0) {
		char *m = go_errno(e);
		*err = xasprintf("socket: %s", m);
		free(m);
		return -e;
	}
	return fd;
}

/* Close with a reset rather than a FIN (no TIME_WAIT), as the kubelet's
 * probe dialer does. */
static void set_linger0(int fd)
{
	struct linger l = {.l_onoff = 1, .l_linger = 0};
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
}

/* "host:port", with brackets for an IPv6 host. */
static char *join_host_port(const char *host, int port)
{
	if (strchr(host, ':') && host[0] != '[')
		return xasprintf("[%s]:%d", host, port);
	return xasprintf("%s:%d", host, port);
}

/* ---- ports ---------------------------------------------------------------- */

int probe_resolve_port(const struct spec_port_ref *ref, const struct spec_container *c, int *port,
		       char **msg)
{
	int64_t v = -1;
	if (!ref->set) {
		*msg = xstrdup("no port given");
		return -EINVAL;
	}
	if (ref->is_name) {
		bool found = false;
		for (size_t i = 0; c && i < c->nports; i++) {
			if (c->ports[i].name && !strcmp(c->ports[i].name, ref->name)) {
				v = c->ports[i].container_port;
				found = true;
				break;
			}
		}
		if (!found) {
			if (c && c->name)
				*msg = xasprintf("port \"%s\" not found in container \"%s\"",
						 ref->name, c->name);
			else
				*msg = xasprintf("port \"%s\" not found", ref->name);
			return -ENOENT;
		}
	} else {
		v = ref->num;
	}
	if (v <= 0 || v > 65535) {
		*msg = xasprintf("invalid port number: %lld", (long long)v);
		return -EINVAL;
	}
	*port = (int)v;
	return 0;
}

/* ---- exec ----------------------------------------------------------------- */

char **probe_exec_argv(const char *runc, const char *runc_root, const char *cid,
		       const char *pid_file, char *const *cmd)
{
	struct strv sv = {0};
	strv_push(&sv, runc);
	if (runc_root) {
		char *root = xasprintf("--root=%s", runc_root);
		strv_push(&sv, root);
		free(root);
	}
	strv_push(&sv, "exec");
	strv_push(&sv, "--pid-file");
	strv_push(&sv, pid_file);
	/* runc stops parsing its options at the container ID: the command's
	 * own options pass through untouched */
	strv_push(&sv, cid);
	for (size_t i = 0; cmd[i]; i++)
		strv_push(&sv, cmd[i]);
	return sv.v;
}

void probe_argv_free(char **argv)
{
	if (!argv)
		return;
	for (size_t i = 0; argv[i]; i++)
		free(argv[i]);
	free(argv);
}

char *probe_exec_cmdline(char *const *cmd)
{
	struct strbuf sb;
	sb_init(&sb);
	for (size_t i = 0; cmd[i]; i++) {
		if (i)
			sb_putc(&sb, ' ');
		sb_puts(&sb, cmd[i]);
	}
	return sb_steal(&sb);
}

/* The value of env var NAME (N bytes) as the prober's expansion sees it:
 * every entry of the container's env counts, the last one of a name wins,
 * and an entry with valueFrom has the empty value (K
 * ExpandContainerCommandOnlyStatic, EnvVarsToMap). NULL if not defined. */
static const char *static_env(const struct spec_container *c, const char *name, size_t n)
{
	const char *val = NULL;
	for (size_t i = 0; c && i < c->nenv; i++) {
		const struct spec_env *e = &c->env[i];
		if (e->name && strlen(e->name) == n && !strncmp(e->name, name, n))
			val = e->source == SPEC_ENV_VALUE && e->value ? e->value : "";
	}
	return val;
}

/* Kubernetes' $(VAR) expansion (third_party/forked/golang/expansion):
 * defined names are replaced, others kept as written; $$ is $; an
 * unterminated $( is copied and scanning goes on after it; $ before
 * anything else is copied with that character. */
static char *expand_static(const char *in, const struct spec_container *c)
{
	struct strbuf sb;
	sb_init(&sb);
	for (const char *p = in; *p;) {
		if (p[0] != '$' || !p[1]) {
			sb_putc(&sb, *p++);
			continue;
		}
		if (p[1] == '(') {
			const char *close = strchr(p + 2, ')');
			if (!close) {
				sb_add(&sb, p, 2);
				p += 2;
				continue;
			}
			const char *v = static_env(c, p + 2, (size_t)(close - p - 2));
			if (v)
				sb_puts(&sb, v);
			else
				sb_add(&sb, p, (size_t)(close + 1 - p));
			p = close + 1;
		} else {
			/* "$$" is one '$'; "$x" stays "$x" */
			sb_add(&sb, p, p[1] == '$' ? 1 : 2);
			p += 2;
		}
	}
	return sb_steal(&sb);
}

char **probe_exec_command(char *const *cmd, const struct spec_container *c)
{
	struct strv sv = {0};
	for (size_t i = 0; cmd[i]; i++) {
		char *s = c ? expand_static(cmd[i], c) : xstrdup(cmd[i]);
		strv_push(&sv, s);
		free(s);
	}
	if (!sv.v)
		sv.v = xcalloc(1, sizeof(char *));
	return sv.v;
}

/* Is H one of C's probes (not a lifecycle hook)? The kubelet expands $(VAR)
 * in a probe's exec command but runs a hook's as written. */
static bool is_probe_of(const struct spec_handler *h, const struct spec_container *c)
{
	return c &&
	       ((c->liveness && h == &c->liveness->h) || (c->readiness && h == &c->readiness->h) ||
		(c->startup && h == &c->startup->h));
}

static int pidfd_open_(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

/* Has child PID exited? Reaps it then, with its status in *status. */
static bool child_reaped(pid_t pid, int *status)
{
	int st;
	pid_t r;
	while ((r = waitpid(pid, &st, WNOHANG)) < 0 && errno == EINTR)
		;
	if (r != pid)
		return r < 0; /* ECHILD: someone else reaped it */
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return true;
}

/* Wait up to TIMEOUT_MS for child PID to exit; false if it still runs. */
static bool child_wait(pid_t pid, int pidfd, int timeout_ms, int *status)
{
	int64_t deadline = util_now_ms() + timeout_ms;
	while (!child_reaped(pid, status)) {
		int left = ms_left(deadline);
		if (left == 0)
			return false;
		if (pidfd >= 0) {
			struct pollfd p = {.fd = pidfd, .events = POLLIN};
			poll(&p, 1, left);
		} else {
			sleep_ms(left < 10 ? left : 10);
		}
	}
	return true;
}

/* The exec'd process' pid as runc recorded it (host pid namespace), or 0. */
static pid_t read_pid_file(const char *path)
{
	char *buf = NULL;
	size_t len;
	if (util_read_file(path, 64, &buf, &len) < 0)
		return 0;
	long v = strtol(buf, NULL, 10);
	free(buf);
	return v > 1 ? (pid_t)v : 0;
}

/* The parent of PID per /proc, or 0. */
static pid_t parent_of(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	char *buf = NULL;
	size_t len;
	if (util_read_file(path, 4096, &buf, &len) < 0)
		return 0;
	int ppid = 0;
	const char *p = strrchr(buf, ')'); /* the name may hold anything */
	if (!p || sscanf(p + 1, " %*c %d", &ppid) != 1)
		ppid = 0;
	free(buf);
	return ppid;
}

/* SIGKILL the exec'd process CPID while it is still the child of runc
 * (RUNC_PID, a subreaper for it): once runc has reaped it, the number may
 * belong to another process. A pidfd taken before the check pins the
 * process the check saw. RUNC_PID 0: no check (runc is gone). */
static void kill_exec_process(pid_t cpid, pid_t runc_pid)
{
	int fd = pidfd_open_(cpid);
	if (runc_pid && parent_of(cpid) != runc_pid) {
		if (fd >= 0)
			close(fd);
		return;
	}
#ifdef SYS_pidfd_send_signal
	if (fd >= 0 && syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0) == 0) {
		close(fd);
		return;
	}
#endif
	if (fd >= 0)
		close(fd);
	kill(cpid, SIGKILL);
}

/* runc logs in logfmt: the msg="..." part is what the user needs. */
static char *runc_message(const char *text)
{
	const char *m = strstr(text, "msg=\"");
	struct strbuf sb;
	sb_init(&sb);
	if (!m) {
		sb_puts(&sb, text);
		while (sb.len && isspace((unsigned char)sb.buf[sb.len - 1]))
			sb.buf[--sb.len] = '\0';
		return sb_steal(&sb);
	}
	for (m += 5; *m && *m != '"'; m++) {
		if (*m == '\\' && m[1])
			m++;
		sb_putc(&sb, *m);
	}
	return sb_steal(&sb);
}

static char *trim_trailing_space(const char *s)
{
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return xstrndup(s, n);
}

static enum probe_result run_exec(const struct spec_handler *h, const struct probe_target *t,
				  int timeout_ms, char **msg, char **output)
{
	if (!h->exec_command.n || !h->exec_command.v) {
		*msg = xstrdup("exec: no command given");
		return PROBE_ERROR;
	}
	if (!t || !t->runc || !t->cid) {
		*msg = xstrdup("exec: no container to run the command in");
		return PROBE_ERROR;
	}
	if (access(t->runc, X_OK) < 0) {
		*msg = xasprintf("runc exec: cannot run %s: %s", t->runc, strerror(errno));
		return PROBE_FAILURE;
	}
	const char *tmp = getenv("TMPDIR");
	cleanup_free char *dir = xasprintf("%s/podfs-exec-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		*msg = xasprintf("exec: cannot create a directory in %s: %s", tmp ? tmp : "/tmp",
				 strerror(errno));
		return PROBE_ERROR;
	}
	cleanup_free char *pid_file = xasprintf("%s/pid", dir);
	char **cmd = probe_exec_command(h->exec_command.v,
					is_probe_of(h, t->container) ? t->container : NULL);
	cleanup_free char *cmdline = probe_exec_cmdline(cmd);
	char **argv = probe_exec_argv(t->runc, t->runc_root, t->cid, pid_file, cmd);
	probe_argv_free(cmd);

	enum probe_result res = PROBE_FAILURE;
	struct strbuf out;
	sb_init(&out);
	int pfd[2] = {-1, -1};
	pid_t pid = 0;
	int pidfd = -1, r;
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		*msg = xasprintf("exec: pipe: %s", strerror(errno));
		res = PROBE_ERROR;
		goto out;
	}
	r = util_spawn(argv, NULL, (int[3]){-1, pfd[1], pfd[1]}, -1, &pid);
	close(pfd[1]);
	pfd[1] = -1;
	if (r < 0) {
		*msg = xasprintf("runc exec: cannot run %s: %s", t->runc, strerror(-r));
		goto out;
	}
	pidfd = pidfd_open_(pid);

	/* Read the output until runc exits: runc returns once the command has
	 * exited and its output is closed (a daemon the command leaves behind
	 * holding stdout keeps it waiting, as in any CRI runtime, until the
	 * timeout). */
	int64_t deadline = timeout_ms > 0 ? util_now_ms() + timeout_ms : 0;
	int status = -1;
	bool exited = false, timed_out = false;
	while (!exited) {
		int left = ms_left(deadline);
		if (left == 0) {
			timed_out = true;
			break;
		}
		struct pollfd p[2] = {{.fd = pfd[0], .events = POLLIN},
				      {.fd = pidfd, .events = POLLIN}};
		int wait = left;
		if (pidfd < 0 && (wait < 0 || wait > 20))
			wait = 20; /* no pidfd: look at the child now and then */
		if (pfd[0] < 0 && pidfd < 0) {
			sleep_ms(wait);
		} else if (poll(p, 2, wait) < 0 && errno != EINTR) {
			sleep_ms(10);
		}
		if (pfd[0] >= 0 && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			char buf[4096];
			ssize_t got = read(pfd[0], buf, sizeof(buf));
			if (got > 0) {
				size_t keep = PROBE_MAX_OUTPUT - out.len;
				sb_add(&out, buf, (size_t)got < keep ? (size_t)got : keep);
			} else if (got == 0 || errno != EINTR) {
				close(pfd[0]);
				pfd[0] = -1;
			}
		}
		exited = child_reaped(pid, &status);
	}
	if (exited && pfd[0] >= 0) {
		/* what the command wrote before it exited is in the pipe */
		fcntl(pfd[0], F_SETFL, O_NONBLOCK);
		char buf[4096];
		ssize_t got;
		while ((got = read(pfd[0], buf, sizeof(buf))) > 0) {
			size_t keep = PROBE_MAX_OUTPUT - out.len;
			sb_add(&out, buf, (size_t)got < keep ? (size_t)got : keep);
		}
	}
	if (timed_out) {
		/* Kill the command itself (runc would only forward a signal it
		 * can catch), then reap runc, which returns once it is gone. */
		pid_t cpid = read_pid_file(pid_file);
		if (cpid > 0)
			kill_exec_process(cpid, pid);
		if (!child_wait(pid, pidfd, 1000, &status)) {
			kill(pid, SIGKILL);
			child_wait(pid, pidfd, 60000, &status);
			/* runc may have started it after all */
			pid_t late = read_pid_file(pid_file);
			if (late > 0 && late != cpid)
				kill_exec_process(late, 0);
		}
		*msg = xasprintf("command \"%s\" timed out", cmdline);
		goto out;
	}
	if (access(pid_file, F_OK) < 0 && status != 0) {
		/* runc never started the command: its own error */
		char *m = runc_message(out.buf ? out.buf : "");
		*msg = xasprintf("runc exec: %s", *m ? m : "failed");
		free(m);
		goto out;
	}
	if (status == 0) {
		res = PROBE_SUCCESS;
		goto out;
	}
	char *text = trim_trailing_space(out.buf ? out.buf : "");
	if (*text)
		*msg = xasprintf("command \"%s\" exited with %d: %s", cmdline, status, text);
	else
		*msg = xasprintf("command \"%s\" exited with %d", cmdline, status);
	free(text);
out:
	if (output)
		*output = sb_steal(&out);
	sb_free(&out);
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pidfd >= 0)
		close(pidfd);
	probe_argv_free(argv);
	util_rm_rf(dir);
	return res;
}

/* ---- HTTP (httpGet, and the transport of grpc) ---------------------------- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct xfer {
	const char *netns;
	char *sock_err; /* why a socket could not be made (namespace) */
	struct strbuf body;
	size_t limit;
	bool truncated;
	char *location; /* the last Location header, raw */
	char *content_type;
	bool has_grpc_status;
	int grpc_status;
	char *grpc_message;
};

static void xfer_free(struct xfer *x)
{
	free(x->sock_err);
	sb_free(&x->body);
	free(x->location);
	free(x->content_type);
	free(x->grpc_message);
}

static size_t body_cb(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * n, room = x->limit - x->body.len;
	if (len > room) {
		/* enough read: stop the transfer (curl reports a write error) */
		sb_add(&x->body, p, room);
		x->truncated = true;
		return 0;
	}
	sb_add(&x->body, p, len);
	return len;
}

/* Headers and, for HTTP/2, trailers: one "Name: value\r\n" line a call. */
static size_t header_cb(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * n;
	const char *colon = memchr(p, ':', len);
	if (!colon)
		return len;
	size_t nlen = (size_t)(colon - p);
	const char *v = colon + 1, *end = p + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
		end--;
	char **slot = NULL;
#define HNAME(s) (nlen == strlen(s) && !strncasecmp(p, s, nlen))
	if (HNAME("location")) {
		slot = &x->location;
	} else if (HNAME("content-type")) {
		slot = &x->content_type;
	} else if (HNAME("grpc-message")) {
		slot = &x->grpc_message;
	} else if (HNAME("grpc-status")) {
		char *s = xstrndup(v, (size_t)(end - v));
		char *e;
		long st = strtol(s, &e, 10);
		if (*s && !*e && st >= 0 && st <= INT32_MAX) {
			x->has_grpc_status = true;
			x->grpc_status = (int)st;
		}
		free(s);
	}
#undef HNAME
	if (slot) {
		free(*slot);
		*slot = xstrndup(v, (size_t)(end - v));
	}
	return len;
}

static curl_socket_t open_socket_cb(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct xfer *x = arg;
	char *err = NULL;
	(void)purpose;
	int fd = socket_in_netns(x->netns, a->family, a->socktype, a->protocol, &err);
	if (fd < 0) {
		free(x->sock_err);
		x->sock_err = err;
		return CURL_SOCKET_BAD;
	}
	set_linger0(fd);
	return fd;
}

/* A fresh handle for one request: no proxy, no connection reuse, no
 * certificate checks, connections made by open_socket_cb. */
static CURL *easy_new(struct xfer *x, const char *url, int timeout_ms, struct curl_slist *hdrs,
		      char *errbuf)
{
	pthread_once(&curl_once, curl_init_once);
	CURL *c = curl_easy_init();
	if (!c)
		return NULL;
	errbuf[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	if (timeout_ms > 0)
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_socket_cb);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, x);
	return c;
}

/* A part of URL (CURLUPART_HOST: "[::1]" for IPv6), or NULL. */
static char *url_part(const char *url, CURLUPart what)
{
	CURLU *u = curl_url();
	char *part = NULL, *ret = NULL;
	if (!u)
		return NULL;
	if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
	    curl_url_get(u, what, &part, what == CURLUPART_PORT ? CURLU_DEFAULT_PORT : 0) ==
		CURLUE_OK)
		ret = xstrdup(part);
	curl_free(part);
	curl_url_cleanup(u);
	return ret;
}

/* "host:port" of URL, as Go's dial errors name the address. */
static char *url_hostport(const char *url)
{
	cleanup_free char *host = url_part(url, CURLUPART_HOST);
	cleanup_free char *port = url_part(url, CURLUPART_PORT);
	return xasprintf("%s:%s", host ? host : "", port ? port : "");
}

static bool connected(CURL *c)
{
	curl_off_t t = 0;
	return curl_easy_getinfo(c, CURLINFO_CONNECT_TIME_T, &t) == CURLE_OK && t > 0;
}

/* The dial error of a failed connection, in Go's words (no "Get ..."). */
static char *dial_error(CURL *c, CURLcode rc, const struct xfer *x, const char *url,
			const char *errbuf)
{
	if (x->sock_err)
		return xstrdup(x->sock_err);
	cleanup_free char *addr = url_hostport(url);
	if (rc == CURLE_COULDNT_RESOLVE_HOST) {
		cleanup_free char *host = url_part(url, CURLUPART_HOST);
		return xasprintf("dial tcp: lookup %s: no such host", host ? host : "");
	}
	long e = 0;
	curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &e);
	if (rc == CURLE_COULDNT_CONNECT && e > 0) {
		cleanup_free char *m = go_errno((int)e);
		return xasprintf("dial tcp %s: connect: %s", addr, m);
	}
	if (rc == CURLE_OPERATION_TIMEDOUT)
		return xasprintf("dial tcp %s: i/o timeout", addr);
	return xasprintf("dial tcp %s: %s", addr, *errbuf ? errbuf : curl_easy_strerror(rc));
}

char *probe_http_url(const struct spec_handler *h, const char *host, int port)
{
	struct strbuf sb;
	sb_init(&sb);
	const char *scheme = h->scheme && *h->scheme ? h->scheme : "HTTP";
	for (const char *s = scheme; *s; s++)
		sb_putc(&sb, (char)tolower((unsigned char)*s));
	sb_puts(&sb, "://");
	char *hp = join_host_port(host, port);
	sb_puts(&sb, hp);
	free(hp);
	const char *path = h->path ? h->path : "";
	if (*path != '/')
		sb_putc(&sb, '/');
	/* Go escapes what a URL cannot carry; '%' is left alone (an
	 * already-escaped path stays as written) */
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if (*p <= 0x20 || *p >= 0x7f || strchr("\"<>\\^`{|}", *p))
			sb_printf(&sb, "%%%02X", *p);
		else
			sb_putc(&sb, (char)*p);
	}
	return sb_steal(&sb);
}

static bool header_is(const struct spec_kv *kv, const char *name)
{
	return kv->key && !strcasecmp(kv->key, name);
}

/* The request headers of an httpGet handler: the handler's own, then
 * User-Agent and Accept unless it names them (an empty Accept or
 * User-Agent removes the header, as Go's client does). NULL with *msg if a
 * header cannot be sent. */
static struct curl_slist *http_headers(const struct spec_handler *h, char **msg)
{
	struct curl_slist *l = NULL, *n;
	bool has_ua = false, has_accept = false, accept_empty = false, has_conn = false;
	for (size_t i = 0; i < h->http_headers.n; i++) {
		const struct spec_kv *kv = &h->http_headers.v[i];
		if (!kv->key)
			continue;
		const char *v = kv->value ? kv->value : "";
		bool bad_name = !*kv->key || strpbrk(kv->key, ": \t\r\n");
		if (bad_name || strpbrk(v, "\r\n")) {
			/* Go's transport refuses them (and curl would send them) */
			*msg =
			    bad_name
				? xasprintf("net/http: invalid header field name \"%s\"", kv->key)
				: xasprintf("net/http: invalid header field value for \"%s\"",
					    kv->key);
			curl_slist_free_all(l);
			return NULL;
		}
		if (header_is(kv, "Accept") && !has_accept) {
			has_accept = true;
			accept_empty = !*v;
		}
		has_ua |= header_is(kv, "User-Agent");
		has_conn |= header_is(kv, "Connection");
	}
	for (size_t i = 0; i < h->http_headers.n; i++) {
		const struct spec_kv *kv = &h->http_headers.v[i];
		if (!kv->key)
			continue;
		const char *v = kv->value ? kv->value : "";
		char *line;
		if (header_is(kv, "Accept") && accept_empty)
			continue;
		if (!*v && header_is(kv, "User-Agent"))
			continue;
		if (!*v)
			line = xasprintf("%s;", kv->key); /* curl: send it empty */
		else
			line = xasprintf("%s: %s", kv->key, v);
		n = curl_slist_append(l, line);
		free(line);
		if (!n)
			goto oom;
		l = n;
	}
	const char *defaults[] = {
	    has_ua ? NULL : "User-Agent: " PROBE_USER_AGENT,
	    !has_accept ? "Accept: */*" : (accept_empty ? "Accept:" : NULL),
	    has_conn ? NULL : "Connection: close", /* keep-alives off */
	};
	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
		if (!defaults[i])
			continue;
		if (!(n = curl_slist_append(l, defaults[i])))
			goto oom;
		l = n;
	}
	return l;
oom:
	fprintf(stderr, "podfs: out of memory\n");
	abort();
}

static bool is_redirect(long code)
{
	return code == 301 || code == 302 || code == 303 || code == 307 || code == 308;
}

static enum probe_result run_http(const struct spec_handler *h, const char *netns, const char *host,
				  int port, int timeout_ms, char **msg, char **output)
{
	char *hmsg = NULL;
	struct curl_slist *hdrs = http_headers(h, &hmsg);
	cleanup_free char *url = probe_http_url(h, host, port);
	if (!hdrs) {
		*msg = xasprintf("Get \"%s\": %s", url, hmsg);
		free(hmsg);
		return PROBE_FAILURE;
	}
	cleanup_free char *first_host = url_part(url, CURLUPART_HOST);
	cleanup_free char *referer = NULL;
	int64_t deadline = timeout_ms > 0 ? util_now_ms() + timeout_ms : 0;
	enum probe_result res = PROBE_FAILURE;
	char errbuf[CURL_ERROR_SIZE];
	for (int redirects = 0;; redirects++) {
		struct xfer x = {.netns = netns, .limit = PROBE_MAX_OUTPUT};
		int left = ms_left(deadline);
		if (left == 0) {
			*msg = xasprintf("Get \"%s\": context deadline exceeded (Client.Timeout "
					 "exceeded while awaiting headers)",
					 url);
			break;
		}
		CURL *c = easy_new(&x, url, left < 0 ? 0 : left, hdrs, errbuf);
		if (!c) {
			*msg = xstrdup("httpGet: cannot initialize libcurl");
			res = PROBE_ERROR;
			break;
		}
		if (referer)
			curl_easy_setopt(c, CURLOPT_REFERER, referer);
		curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
		CURLcode rc = curl_easy_perform(c);
		long code = 0;
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
		if (rc == CURLE_WRITE_ERROR && x.truncated)
			rc = CURLE_OK; /* the body is read as far as it is used */
		if (rc != CURLE_OK) {
			if (rc == CURLE_OPERATION_TIMEDOUT && code > 0) {
				/* the kubelet returns an error, not a result, when
				 * reading the body fails: no state change */
				*msg = xasprintf("Get \"%s\": context deadline exceeded "
						 "(Client.Timeout or context cancellation while "
						 "reading body)",
						 url);
				res = PROBE_ERROR;
			} else if (rc == CURLE_OPERATION_TIMEDOUT && connected(c)) {
				*msg = xasprintf("Get \"%s\": context deadline exceeded "
						 "(Client.Timeout exceeded while awaiting headers)",
						 url);
			} else if (rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_COULDNT_CONNECT ||
				   rc == CURLE_COULDNT_RESOLVE_HOST || x.sock_err) {
				cleanup_free char *d = dial_error(c, rc, &x, url, errbuf);
				*msg = xasprintf("Get \"%s\": %s%s", url, d,
						 rc == CURLE_OPERATION_TIMEDOUT
						     ? " (Client.Timeout exceeded while "
						       "awaiting headers)"
						     : "");
			} else if (rc == CURLE_GOT_NOTHING) {
				*msg = xasprintf("Get \"%s\": EOF", url);
			} else {
				*msg = xasprintf("Get \"%s\": %s", url,
						 *errbuf ? errbuf : curl_easy_strerror(rc));
			}
			curl_easy_cleanup(c);
			xfer_free(&x);
			break;
		}
		char *next = NULL;
		if (is_redirect(code) && x.location)
			curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &next);
		cleanup_free char *next_host = next ? url_part(next, CURLUPART_HOST) : NULL;
		if (next && next_host && first_host && !strcasecmp(next_host, first_host)) {
			if (redirects + 1 >= MAX_REDIRECTS) {
				*msg = xasprintf("Get \"%s\": stopped after %d redirects",
						 x.location, MAX_REDIRECTS);
				curl_easy_cleanup(c);
				xfer_free(&x);
				break;
			}
			/* same host: follow, as Go's client does (with a Referer,
			 * unless that would leak an https URL to http) */
			free(referer);
			referer = NULL;
			if (strncasecmp(url, "https:", 6) || !strncasecmp(next, "https:", 6))
				referer = xstrdup(url);
			free(url);
			url = xstrdup(next);
			curl_easy_cleanup(c);
			xfer_free(&x);
			continue;
		}
		/* a final answer, or a redirect elsewhere that is not followed */
		curl_easy_cleanup(c);
		const char *body = x.body.buf ? x.body.buf : "";
		if (code >= 200 && code < 400) {
			if (code >= 300) {
				*msg = xasprintf("Probe terminated redirects, Response body: %s",
						 body);
				res = PROBE_WARNING;
			} else {
				res = PROBE_SUCCESS;
			}
		} else {
			*msg = xasprintf("HTTP probe failed with statuscode: %ld", code);
		}
		if (output)
			*output = sb_steal(&x.body);
		xfer_free(&x);
		break;
	}
	curl_slist_free_all(hdrs);
	return res;
}

/* ---- tcpSocket ------------------------------------------------------------ */

static enum probe_result run_tcp(const char *netns, const char *host, int port, int timeout_ms,
				 char **msg)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
	struct addrinfo *res = NULL;
	char ps[16];
	snprintf(ps, sizeof(ps), "%d", port);
	int r = getaddrinfo(host, ps, &hints, &res);
	if (r != 0) {
		if (r == EAI_NONAME || r == EAI_NODATA)
			*msg = xasprintf("dial tcp: lookup %s: no such host", host);
		else
			*msg = xasprintf("dial tcp: lookup %s: %s", host, gai_strerror(r));
		return PROBE_FAILURE;
	}
	int64_t deadline = timeout_ms > 0 ? util_now_ms() + timeout_ms : 0;
	enum probe_result ret = PROBE_FAILURE;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		char ip[INET6_ADDRSTRLEN] = "";
		getnameinfo(ai->ai_addr, ai->ai_addrlen, ip, sizeof(ip), NULL, 0, NI_NUMERICHOST);
		cleanup_free char *addr = join_host_port(ip, port);
		char *err = NULL;
		free(*msg);
		*msg = NULL;
		cleanup_close int fd =
		    socket_in_netns(netns, ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK, 0, &err);
		if (fd < 0) {
			*msg = xasprintf("dial tcp %s: %s", addr, err);
			free(err);
			break; /* the namespace, not the address */
		}
		set_linger0(fd);
		int e = 0;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
			e = errno;
			if (e == EINPROGRESS || e == EINTR) {
				struct pollfd p = {.fd = fd, .events = POLLOUT};
				int n;
				while ((n = poll(&p, 1, ms_left(deadline))) < 0 && errno == EINTR)
					;
				socklen_t sl = sizeof(e);
				if (n == 0)
					e = ETIMEDOUT;
				else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &sl) < 0)
					e = errno;
			}
		}
		if (e == 0) {
			ret = PROBE_SUCCESS;
			break;
		}
		if (e == ETIMEDOUT) {
			*msg = xasprintf("dial tcp %s: i/o timeout", addr);
			break;
		}
		cleanup_free char *m = go_errno(e);
		*msg = xasprintf("dial tcp %s: connect: %s", addr, m);
		if (ms_left(deadline) == 0)
			break;
	}
	freeaddrinfo(res);
	if (ret == PROBE_SUCCESS) {
		free(*msg);
		*msg = NULL;
	} else if (!*msg) {
		*msg = xasprintf("dial tcp %s:%d: no address", host, port);
	}
	return ret;
}

/* ---- grpc ----------------------------------------------------------------- */

static void put_varint(struct strbuf *sb, uint64_t v)
{
	while (v >= 0x80) {
		sb_putc(sb, (char)(v | 0x80));
		v >>= 7;
	}
	sb_putc(sb, (char)v);
}

unsigned char *probe_grpc_request(const char *service, size_t *len)
{
	struct strbuf pb;
	sb_init(&pb);
	if (service && *service) {
		sb_putc(&pb, 0x0a); /* field 1, length-delimited */
		put_varint(&pb, strlen(service));
		sb_puts(&pb, service);
	}
	size_t n = pb.len;
	unsigned char *buf = xmalloc(5 + n);
	buf[0] = 0; /* not compressed */
	buf[1] = (unsigned char)(n >> 24);
	buf[2] = (unsigned char)(n >> 16);
	buf[3] = (unsigned char)(n >> 8);
	buf[4] = (unsigned char)n;
	if (n)
		memcpy(buf + 5, pb.buf, n);
	sb_free(&pb);
	*len = 5 + n;
	return buf;
}

static int get_varint(const unsigned char **p, const unsigned char *end, uint64_t *v)
{
	*v = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		if (*p >= end)
			return -1;
		unsigned char b = *(*p)++;
		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return 0;
	}
	return -1;
}

int probe_grpc_parse_response(const unsigned char *buf, size_t len, int *status, char **err)
{
	if (len < 5) {
		*err = xstrdup(len ? "truncated message" : "no response message");
		return -EBADMSG;
	}
	if (buf[0] != 0) {
		*err = xstrdup("compressed message, but no compression was asked for");
		return -EBADMSG;
	}
	uint64_t n =
	    (uint64_t)buf[1] << 24 | (uint64_t)buf[2] << 16 | (uint64_t)buf[3] << 8 | buf[4];
	if (n > len - 5) {
		*err = xstrdup("truncated message");
		return -EBADMSG;
	}
	if (n < len - 5) {
		*err = xstrdup("more than one response message");
		return -EBADMSG;
	}
	const unsigned char *p = buf + 5, *end = p + n;
	int st = PROBE_GRPC_UNKNOWN; /* proto3: an absent field is 0 */
	while (p < end) {
		uint64_t key, v;
		if (get_varint(&p, end, &key) < 0)
			goto bad;
		unsigned field = (unsigned)(key >> 3), wire = (unsigned)(key & 7);
		if (field == 0)
			goto bad;
		switch (wire) {
		case 0:
			if (get_varint(&p, end, &v) < 0)
				goto bad;
			if (field == 1)
				st = (int)(int32_t)v;
			break;
		case 1:
			if (end - p < 8)
				goto bad;
			p += 8;
			break;
		case 2:
			if (get_varint(&p, end, &v) < 0 || v > (uint64_t)(end - p))
				goto bad;
			p += v;
			break;
		case 5:
			if (end - p < 4)
				goto bad;
			p += 4;
			break;
		default:
			goto bad;
		}
	}
	*status = st;
	return 0;
bad:
	*err = xstrdup("proto: cannot parse invalid wire-format data");
	return -EBADMSG;
}

char *probe_grpc_status_name(int status)
{
	static const char *const names[] = {"UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"};
	if (status >= 0 && status < 4)
		return xstrdup(names[status]);
	return xasprintf("%d", status);
}

enum {
	GRPC_OK = 0,
	GRPC_UNKNOWN = 2,
	GRPC_DEADLINE_EXCEEDED = 4,
	GRPC_UNIMPLEMENTED = 12,
	GRPC_INTERNAL = 13,
	GRPC_UNAVAILABLE = 14,
};

static const char *grpc_code_name(int code)
{
	static const char *const names[] = {
	    "OK",
	    "Canceled",
	    "Unknown",
	    "InvalidArgument",
	    "DeadlineExceeded",
	    "NotFound",
	    "AlreadyExists",
	    "PermissionDenied",
	    "ResourceExhausted",
	    "FailedPrecondition",
	    "Aborted",
	    "OutOfRange",
	    "Unimplemented",
	    "Internal",
	    "Unavailable",
	    "DataLoss",
	    "Unauthenticated",
	};
	if (code >= 0 && code < (int)(sizeof(names) / sizeof(names[0])))
		return names[code];
	return NULL;
}

/* grpc-go's mapping of an HTTP status that is not 200 to a gRPC code. */
static int grpc_code_of_http(long status, const char **text)
{
	static const struct {
		long status;
		int code;
		const char *text;
	} tab[] = {
	    {400, GRPC_INTERNAL, "Bad Request"},
	    {401, 16, "Unauthorized"},
	    {403, 7, "Forbidden"},
	    {404, GRPC_UNIMPLEMENTED, "Not Found"},
	    {405, GRPC_UNKNOWN, "Method Not Allowed"},
	    {429, GRPC_UNAVAILABLE, "Too Many Requests"},
	    {500, GRPC_UNKNOWN, "Internal Server Error"},
	    {502, GRPC_UNAVAILABLE, "Bad Gateway"},
	    {503, GRPC_UNAVAILABLE, "Service Unavailable"},
	    {504, GRPC_UNAVAILABLE, "Gateway Timeout"},
	};
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		if (tab[i].status == status) {
			*text = tab[i].text;
			return tab[i].code;
		}
	}
	*text = NULL;
	return GRPC_UNKNOWN;
}

/* grpc-message is percent-encoded. */
static char *percent_decode(const char *s)
{
	struct strbuf sb;
	sb_init(&sb);
	for (; *s; s++) {
		if (*s == '%' && isxdigit((unsigned char)s[1]) && isxdigit((unsigned char)s[2])) {
			char hex[3] = {s[1], s[2], 0};
			sb_putc(&sb, (char)strtol(hex, NULL, 16));
			s += 2;
		} else {
			sb_putc(&sb, *s);
		}
	}
	return sb_steal(&sb);
}

/* The kubelet's message for a failed health RPC with CODE and DESC. */
static char *grpc_rpc_error(int code, const char *desc, int timeout_ms)
{
	if (code == GRPC_UNIMPLEMENTED)
		return xasprintf("error: this server does not implement the grpc health protocol "
				 "(grpc.health.v1.Health): %s",
				 desc);
	if (code == GRPC_DEADLINE_EXCEEDED) {
		cleanup_free char *d = probe_go_duration(timeout_ms);
		return xasprintf("timeout: health rpc did not complete within %s", d);
	}
	const char *name = grpc_code_name(code);
	if (name)
		return xasprintf("error: health rpc probe failed: rpc error: code = %s desc = %s",
				 name, desc);
	return xasprintf("error: health rpc probe failed: rpc error: code = Code(%d) desc = %s",
			 code, desc);
}

static bool grpc_content_type(const char *ct)
{
	static const char base[] = "application/grpc";
	if (!ct || strncasecmp(ct, base, sizeof(base) - 1))
		return false;
	char c = ct[sizeof(base) - 1];
	return c == '\0' || c == '+' || c == ';';
}

static enum probe_result grpc_attempt(const char *netns, const char *host, int port,
				      const char *service, int timeout_ms, int probe_timeout_ms,
				      char **msg, bool *dial_failed)
{
	*dial_failed = false;
	const curl_version_info_data *vi = curl_version_info(CURLVERSION_NOW);
	if (!(vi->features & CURL_VERSION_HTTP2)) {
		*msg = xstrdup("error: grpc probes need HTTP/2, which this libcurl lacks");
		return PROBE_FAILURE;
	}
	cleanup_free char *addr = join_host_port(host, port);
	cleanup_free char *url = xasprintf("http://%s/grpc.health.v1.Health/Check", addr);
	size_t reqlen;
	cleanup_free unsigned char *req = probe_grpc_request(service, &reqlen);
	struct curl_slist *hdrs = NULL;
	const char *lines[] = {"Content-Type: application/grpc", "TE: trailers",
			       "User-Agent: " PROBE_USER_AGENT, "Accept:", "Expect:"};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct curl_slist *n = curl_slist_append(hdrs, lines[i]);
		if (!n) {
			fprintf(stderr, "podfs: out of memory\n");
			abort();
		}
		hdrs = n;
	}
	struct xfer x = {.netns = netns, .limit = 64 * 1024};
	char errbuf[CURL_ERROR_SIZE];
	enum probe_result res = PROBE_FAILURE;
	CURL *c = easy_new(&x, url, timeout_ms, hdrs, errbuf);
	if (!c) {
		*msg = xstrdup("grpc: cannot initialize libcurl");
		res = PROBE_ERROR;
		goto out;
	}
	curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, (const char *)req);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)reqlen);
	CURLcode rc = curl_easy_perform(c);
	long code = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (rc == CURLE_OPERATION_TIMEDOUT) {
		/* the probe's timeout, not what was left of it for this dial */
		cleanup_free char *d = probe_go_duration(probe_timeout_ms);
		if (connected(c))
			*msg = xasprintf("timeout: health rpc did not complete within %s", d);
		else
			*msg = xasprintf("timeout: failed to connect service \"%s\" within %s: "
					 "context deadline exceeded",
					 addr, d);
	} else if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST || x.sock_err) {
		cleanup_free char *d = dial_error(c, rc, &x, url, errbuf);
		*msg = xasprintf("error: failed to connect service at \"%s\": %s", addr, d);
		*dial_failed = rc == CURLE_COULDNT_CONNECT && !x.sock_err;
	} else if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && x.truncated)) {
		*msg = grpc_rpc_error(GRPC_UNAVAILABLE, *errbuf ? errbuf : curl_easy_strerror(rc),
				      timeout_ms);
	} else if (code != 200) {
		const char *text;
		int gc = grpc_code_of_http(code, &text);
		cleanup_free char *desc =
		    text ? xasprintf("unexpected HTTP status code received from server: %ld "
				     "(%s)",
				     code, text)
			 : xasprintf("unexpected HTTP status code received from server: %ld", code);
		*msg = grpc_rpc_error(gc, desc, timeout_ms);
	} else if (!grpc_content_type(x.content_type)) {
		cleanup_free char *desc =
		    x.content_type ? xasprintf("transport: received unexpected content-type \"%s\"",
					       x.content_type)
				   : xstrdup("malformed header: missing HTTP content-type");
		*msg = grpc_rpc_error(GRPC_UNKNOWN, desc, timeout_ms);
	} else if (!x.has_grpc_status) {
		*msg = grpc_rpc_error(GRPC_INTERNAL,
				      "server closed the stream without sending "
				      "trailers",
				      timeout_ms);
	} else if (x.grpc_status != GRPC_OK) {
		cleanup_free char *desc = percent_decode(x.grpc_message ? x.grpc_message : "");
		*msg = grpc_rpc_error(x.grpc_status, desc, timeout_ms);
	} else {
		int st = 0;
		char *err = NULL;
		if (probe_grpc_parse_response((const unsigned char *)(x.body.buf ? x.body.buf : ""),
					      x.body.len, &st, &err) < 0) {
			cleanup_free char *desc =
			    xasprintf("grpc: failed to unmarshal the received message: %s", err);
			free(err);
			*msg = grpc_rpc_error(GRPC_INTERNAL, desc, timeout_ms);
		} else if (st != PROBE_GRPC_SERVING) {
			cleanup_free char *name = probe_grpc_status_name(st);
			*msg = xasprintf("service unhealthy (responded with \"%s\")", name);
		} else {
			res = PROBE_SUCCESS;
		}
	}
	curl_easy_cleanup(c);
out:
	curl_slist_free_all(hdrs);
	xfer_free(&x);
	return res;
}

/* The kubelet dials with grpc.WithBlock: a refused connection is tried
 * again (grpc-go's back-off: 1 s, then x1.6) until the timeout, which is
 * then what the probe reports. */
static enum probe_result run_grpc(const char *netns, const char *host, int port,
				  const char *service, int timeout_ms, char **msg)
{
	int64_t deadline = util_now_ms() + timeout_ms;
	int64_t backoff = 1000;
	for (;;) {
		int64_t left = deadline - util_now_ms();
		bool dial_failed;
		enum probe_result r = grpc_attempt(netns, host, port, service,
						   left > 0 ? (int)left : 1, timeout_ms, msg,
						   &dial_failed);
		if (!dial_failed)
			return r;
		left = deadline - util_now_ms();
		if (left > 0) {
			int64_t nap = backoff < left ? backoff : left;
			struct timespec ts = {nap / 1000, (long)(nap % 1000) * 1000000L};
			nanosleep(&ts, NULL);
			backoff = backoff * 8 / 5;
		}
		if (util_now_ms() >= deadline) {
			free(*msg);
			cleanup_free char *addr = join_host_port(host, port);
			cleanup_free char *d = probe_go_duration(timeout_ms);
			*msg = xasprintf("timeout: failed to connect service \"%s\" within %s: "
					 "context deadline exceeded",
					 addr, d);
			return PROBE_FAILURE;
		}
		free(*msg);
		*msg = NULL;
	}
}

/* ---- dispatch ------------------------------------------------------------- */

enum probe_result probe_run(const struct spec_handler *h, const struct probe_target *t,
			    int timeout_ms, char **msg, char **output)
{
	*msg = NULL;
	if (output)
		*output = NULL;
	if (h->kind == SPEC_H_EXEC)
		return run_exec(h, t, timeout_ms, msg, output);
	if (h->kind == SPEC_H_SLEEP) {
		int64_t ms = h->sleep_seconds <= 0		   ? 0
			     : h->sleep_seconds > INT32_MAX / 1000 ? INT32_MAX
								   : h->sleep_seconds * 1000;
		if (timeout_ms > 0 && ms > timeout_ms)
			ms = timeout_ms;
		sleep_ms(ms);
		return PROBE_SUCCESS;
	}
	if (h->kind != SPEC_H_HTTP && h->kind != SPEC_H_TCP && h->kind != SPEC_H_GRPC) {
		*msg = xstrdup("no handler to run");
		return PROBE_ERROR;
	}
	const char *host = h->kind != SPEC_H_GRPC && h->host && *h->host ? h->host
			   : t						 ? t->host
									 : NULL;
	if (!host || !*host) {
		*msg = xstrdup("no address to probe: the pod has no IP");
		return PROBE_ERROR;
	}
	int port;
	if (probe_resolve_port(&h->port, t ? t->container : NULL, &port, msg) < 0)
		return PROBE_ERROR;
	const char *netns = t ? t->netns_path : NULL;
	if (h->kind == SPEC_H_HTTP)
		return run_http(h, netns, host, port, timeout_ms, msg, output);
	if (h->kind == SPEC_H_TCP)
		return run_tcp(netns, host, port, timeout_ms, msg);
	return run_grpc(netns, host, port, h->grpc_service, timeout_ms, msg);
}

/* ---- the worker pool ------------------------------------------------------ */

struct pool_job {
	probe_job_fn fn;
	void *arg;
	struct pool_job *next;
};

struct probe_pool {
	pthread_mutex_t mu;  /* protects everything below */
	pthread_cond_t cond; /* a job was queued, or stopping was set */
	struct pool_job *head, *tail;
	bool stopping;
	int nthreads;
	pthread_t *threads;
};

static void *pool_worker(void *arg)
{
	struct probe_pool *p = arg;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->head && !p->stopping)
			pthread_cond_wait(&p->cond, &p->mu);
		struct pool_job *j = p->head;
		if (!j)
			break; /* stopping, and the queue is drained */
		p->head = j->next;
		if (!p->head)
			p->tail = NULL;
		pthread_mutex_unlock(&p->mu);
		j->fn(j->arg);
		free(j);
		pthread_mutex_lock(&p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

struct probe_pool *probe_pool_start(int threads)
{
	struct probe_pool *p = xcalloc(1, sizeof(*p));
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cond, NULL);
	if (threads < 1)
		threads = 1;
	p->threads = xcalloc((size_t)threads, sizeof(*p->threads));
	/* Workers block every signal: signals are for podfs' main loop, and a
	 * SIGPIPE from a probe's socket must not kill the process. A fault
	 * stays deliverable, so a crash is reported where it happens. */
	sigset_t all, old;
	sigfillset(&all);
	static const int faults[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT};
	for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++)
		sigdelset(&all, faults[i]);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int r = 0;
	for (int i = 0; i < threads; i++) {
		r = pthread_create(&p->threads[i], NULL, pool_worker, p);
		if (r != 0)
			break;
		p->nthreads++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (p->nthreads == 0) {
		pthread_cond_destroy(&p->cond);
		pthread_mutex_destroy(&p->mu);
		free(p->threads);
		free(p);
		errno = r;
		return NULL;
	}
	return p;
}

void probe_pool_submit(struct probe_pool *p, probe_job_fn fn, void *arg)
{
	struct pool_job *j = xmalloc(sizeof(*j));
	j->fn = fn;
	j->arg = arg;
	j->next = NULL;
	pthread_mutex_lock(&p->mu);
	if (p->tail)
		p->tail->next = j;
	else
		p->head = j;
	p->tail = j;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->mu);
}

void probe_pool_stop(struct probe_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stopping = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->mu);
	free(p->threads);
	free(p);
}
