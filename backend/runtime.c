/* runtime.c: see runtime.h. */
#include "backend/runtime.h"
#include "backend/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

static char *find_binary(const char *name, const char *const *dirs)
{
	for (size_t i = 0; dirs[i]; i++) {
		char *p = xasprintf("%s/%s", dirs[i], name);
		if (access(p, X_OK) == 0)
			return p;
		free(p);
	}
	return NULL;
}

int rt_init(struct rt *rt, const char *run_dir, char **err)
{
	static const char *const dirs[] = {"/usr/sbin",	      "/usr/bin",	"/sbin", "/bin",
					   "/usr/local/sbin", "/usr/local/bin", NULL};
	memset(rt, 0, sizeof(*rt));
	rt->run_dir = xstrdup(run_dir);
	rt->runc_root = xasprintf("%s/runc", run_dir);
	rt->exit_dir = xasprintf("%s/exits", run_dir);
	rt->sock_dir = xasprintf("%s/s", run_dir);
	const char *want[] = {rt->run_dir, rt->runc_root, rt->exit_dir, rt->sock_dir};
	for (size_t i = 0; i < 4; i++) {
		int r = util_mkdir_p(want[i], 0700);
		if (r < 0) {
			*err = xasprintf("cannot create %s: %s", want[i], strerror(-r));
			return r;
		}
	}
	rt->runc = find_binary("runc", dirs);
	rt->conmon = find_binary("conmon", dirs);
	if (!rt->runc || !rt->conmon) {
		*err = xasprintf("%s not found (scripts/install-deps.sh installs it)",
				 !rt->runc ? "runc" : "conmon");
		return -ENOENT;
	}
	return 0;
}

/* Remove the files (never directories) directly in DIR. */
static void remove_files_in(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d)))
		if (de->d_type == DT_REG || de->d_type == DT_LNK)
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
}

void rt_remove_dirs(const struct rt *rt)
{
	/* exit files and socket links of containers gone for good (an
	 * infra container's exit file can come after it was forgotten) */
	remove_files_in(rt->exit_dir);
	remove_files_in(rt->sock_dir);
	const char *dirs[] = {rt->runc_root, rt->exit_dir, rt->sock_dir};
	for (size_t i = 0; i < 3; i++)
		if (dirs[i])
			rmdir(dirs[i]);
	char *pods = xasprintf("%s/pods", rt->run_dir);
	rmdir(pods);
	free(pods);
	rmdir(rt->run_dir);
}

void rt_fini(struct rt *rt)
{
	free(rt->run_dir);
	free(rt->runc_root);
	free(rt->exit_dir);
	free(rt->sock_dir);
	free(rt->runc);
	free(rt->conmon);
	memset(rt, 0, sizeof(*rt));
}

void rt_argv_free(char **argv)
{
	if (!argv)
		return;
	for (size_t i = 0; argv[i]; i++)
		free(argv[i]);
	free(argv);
}

char **rt_conmon_argv(const struct rt *rt, const char *cid, const char *bundle,
		      const char *log_path)
{
	struct strv sv = {0};
	strv_push(&sv, rt->conmon);
	strv_push(&sv, "--api-version");
	strv_push(&sv, "1");
	strv_push(&sv, "-c");
	strv_push(&sv, cid);
	strv_push(&sv, "-u");
	strv_push(&sv, cid);
	strv_push(&sv, "-n");
	strv_push(&sv, cid);
	strv_push(&sv, "-r");
	strv_push(&sv, rt->runc);
	char *root = xasprintf("--root=%s", rt->runc_root);
	strv_push(&sv, "--runtime-arg");
	strv_push(&sv, root);
	free(root);
	strv_push(&sv, "-b");
	strv_push(&sv, bundle);
	char *p = xasprintf("%s/pidfile", bundle);
	strv_push(&sv, "-p");
	strv_push(&sv, p);
	free(p);
	p = xasprintf("k8s-file:%s", log_path);
	strv_push(&sv, "-l");
	strv_push(&sv, p);
	free(p);
	strv_push(&sv, "--exit-dir");
	strv_push(&sv, rt->exit_dir);
	strv_push(&sv, "--socket-dir-path");
	strv_push(&sv, rt->sock_dir);
	p = xasprintf("%s/conmon.pid", bundle);
	strv_push(&sv, "--conmon-pidfile");
	strv_push(&sv, p);
	free(p);
	/* conmon dies before writing the exit file if this dir is missing */
	p = xasprintf("%s/persist", bundle);
	strv_push(&sv, "--persist-dir");
	strv_push(&sv, p);
	free(p);
	strv_push(&sv, "--log-level=error");
	strv_push(&sv, "--syslog");
	return sv.v;
}

static int wait_status(pid_t pid)
{
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int rt_run(char *const *argv, int timeout_ms, int *status, char **out)
{
	return util_run(argv, NULL, NULL, timeout_ms, 65536, status, out, NULL);
}

/* runc logs in logfmt: keep the msg="..." part for the user. */
static char *runc_message(const char *text)
{
	const char *m = strstr(text, "msg=\"");
	if (!m) {
		char *s = xstrdup(text);
		size_t n = strlen(s);
		while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
			s[--n] = '\0';
		return s;
	}
	m += 5;
	struct strbuf sb;
	sb_init(&sb);
	for (; *m && *m != '"'; m++) {
		if (*m == '\\' && m[1]) {
			m++;
			if (*m == 'n') {
				sb_putc(&sb, ' ');
				continue;
			}
		}
		sb_putc(&sb, *m);
	}
	return sb_steal(&sb);
}

static int runc_cmd(const struct rt *rt, char **err, const char *what, ...)
{
	struct strv sv = {0};
	strv_push(&sv, rt->runc);
	char *root = xasprintf("--root=%s", rt->runc_root);
	strv_push(&sv, root);
	free(root);
	va_list ap;
	va_start(ap, what);
	strv_push(&sv, what);
	const char *a;
	while ((a = va_arg(ap, const char *)))
		strv_push(&sv, a);
	va_end(ap);
	int status = 0;
	char *out = NULL;
	int r = rt_run(sv.v, 30000, &status, &out);
	strv_free(&sv);
	if (r == 0 && status != 0) {
		if (err) {
			char *m = runc_message(out ? out : "");
			*err = xasprintf("runc %s: %s", what, m);
			free(m);
		}
		r = -EIO;
	} else if (r < 0 && err) {
		*err = xasprintf("runc %s: %s", what, strerror(-r));
	}
	free(out);
	return r;
}

int rt_create(const struct rt *rt, const char *cid, const char *bundle, const char *log_path,
	      pid_t *pid, char **err)
{
	/* conmon reports the create through _OCI_SYNCPIPE: {"data": PID} or
	 * {"data": -1, "message": "..."}. It writes the exit status there too
	 * when the container ends, long after podfs may be gone; a write to a
	 * pipe without readers would kill it (SIGPIPE) before it records the
	 * exit. So the "pipe" is a FIFO that conmon holds open read-write. */
	char *persist = xasprintf("%s/persist", bundle);
	char *fifo = xasprintf("%s/sync", bundle);
	int r = 0, fd = -1;
	char **argv = NULL;
	char **envp = NULL;
	if (mkdir(persist, 0700) < 0 && errno != EEXIST) {
		r = -errno;
		*err = xasprintf("create %s: %s", persist, strerror(errno));
		goto out;
	}
	unlink(fifo);
	if (mkfifo(fifo, 0600) < 0 || (fd = open(fifo, O_RDWR | O_CLOEXEC | O_NONBLOCK)) < 0) {
		r = -errno;
		*err = xasprintf("sync fifo %s: %s", fifo, strerror(errno));
		goto out;
	}
	argv = rt_conmon_argv(rt, cid, bundle, log_path);
	size_t n = 0;
	while (environ[n])
		n++;
	envp = xcalloc(n + 2, sizeof(char *));
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "_OCI_", 5))
			envp[k++] = environ[i];
	char *syncvar = xasprintf("_OCI_SYNCPIPE=%d", fd);
	envp[k++] = syncvar;
	pid_t cpid;
	r = util_spawn(argv, envp, (int[3]){-1, -1, -1}, fd, &cpid);
	free(syncvar);
	if (r < 0) {
		*err = xasprintf("cannot run conmon: %s", strerror(-r));
		goto out;
	}
	int st = wait_status(cpid);
	if (st != 0) {
		r = -EIO;
		*err = xasprintf("conmon exited with status %d before creating the container", st);
		goto out;
	}
	/* wait for the sync message */
	struct strbuf sb;
	sb_init(&sb);
	int64_t deadline = util_now_ms() + 60000;
	while (!memchr(sb.buf ? sb.buf : "", '\n', sb.len)) {
		int64_t left = deadline - util_now_ms();
		if (left <= 0) {
			r = -ETIMEDOUT;
			*err = xasprintf("runc create did not finish within 60 s");
			sb_free(&sb);
			goto out;
		}
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		char buf[4096];
		ssize_t got = read(fd, buf, sizeof(buf));
		if (got > 0)
			sb_add(&sb, buf, (size_t)got);
	}
	/* {"data": N} or {"data": -1, "message": "..."}: parse by hand to keep
	 * JSON types inside the modules that own them */
	const char *d = strstr(sb.buf, "\"data\":");
	long v = d ? strtol(d + 7, NULL, 10) : -1;
	if (v <= 0) {
		const char *m = strstr(sb.buf, "\"message\": \"");
		struct strbuf msg;
		sb_init(&msg);
		for (m = m ? m + 12 : ""; *m && *m != '\n'; m++) {
			if (*m == '"' && m[-1] != '\\')
				break;
			if (*m == '\\' && m[1]) {
				m++;
				if (*m == 'n')
					continue;
			}
			sb_putc(&msg, *m);
		}
		char *text = runc_message(msg.buf ? msg.buf : "container create failed");
		*err = text;
		sb_free(&msg);
		r = -EIO;
	} else {
		*pid = (pid_t)v;
	}
	sb_free(&sb);
out:
	if (fd >= 0)
		close(fd);
	unlink(fifo);
	free(fifo);
	free(persist);
	free(envp);
	rt_argv_free(argv);
	return r;
}

int rt_start(const struct rt *rt, const char *cid, char **err)
{
	return runc_cmd(rt, err, "start", cid, NULL);
}

int rt_kill(const struct rt *rt, const char *cid, int sig, bool all, char **err)
{
	char s[16];
	snprintf(s, sizeof(s), "%d", sig);
	int r = all ? runc_cmd(rt, err, "kill", "--all", cid, s, NULL)
		    : runc_cmd(rt, err, "kill", cid, s, NULL);
	return r == -EIO ? -ESRCH : r;
}

int rt_delete(const struct rt *rt, const char *cid, char **err)
{
	char *e = NULL;
	int r = runc_cmd(rt, &e, "delete", "--force", cid, NULL);
	if (r == -EIO && e && strstr(e, "does not exist"))
		r = 0;
	if (r < 0 && err)
		*err = steal_pointer(&e);
	free(e);
	return r;
}

char *rt_state(const struct rt *rt, const char *cid, pid_t *pid)
{
	char *root = xasprintf("--root=%s", rt->runc_root);
	char *argv[] = {rt->runc, root, "state", (char *)cid, NULL};
	int status = 1;
	char *out = NULL;
	int r = rt_run(argv, 10000, &status, &out);
	free(root);
	char *state = NULL;
	if (r == 0 && status == 0 && out) {
		const char *s = strstr(out, "\"status\": \"");
		if (s) {
			s += 11;
			const char *e = strchr(s, '"');
			if (e)
				state = xstrndup(s, (size_t)(e - s));
		}
		const char *p = strstr(out, "\"pid\": ");
		if (p && pid)
			*pid = (pid_t)strtol(p + 7, NULL, 10);
	}
	free(out);
	return state;
}

int rt_read_exit(const struct rt *rt, const char *cid, int *code)
{
	char *path = xasprintf("%s/%s", rt->exit_dir, cid);
	char *buf = NULL;
	size_t len;
	int r = util_read_file(path, 64, &buf, &len);
	free(path);
	if (r < 0)
		return r;
	char *end;
	long v = strtol(buf, &end, 10);
	bool ok = end != buf;
	free(buf);
	if (!ok)
		return -ENOENT; /* being written: conmon writes it atomically, but be safe */
	*code = (int)v;
	return 0;
}

bool rt_oom_killed(const char *bundle)
{
	char *p = xasprintf("%s/persist/oom", bundle);
	bool yes = access(p, F_OK) == 0;
	free(p);
	return yes;
}
