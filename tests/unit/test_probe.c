/* test_probe.c: unit tests for backend/probe.c. Handlers come from small Pod
 * manifests through spec_parse() or are built by hand; they run against
 * servers started by this test on 127.0.0.1 (an HTTP/1.1 server, a minimal
 * HTTP/2 cleartext gRPC health server, a listener that never accepts), in a
 * network namespace made by the test, and, when runc is there and we are
 * root, in a throwaway runc container running busybox.
 *
 * Environment: PODFS_TEST_NO_NETNS=1 skips the network namespace test and
 * PODFS_TEST_NO_RUNC=1 the runc container test (each prints a "# skip"
 * line); both also skip by themselves without root. */
#include "backend/netns.h"
#include "backend/probe.h"
#include "backend/util.h"
#include "tests/unit/testhelp.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* ---- helpers -------------------------------------------------------------- */

/* A pod with one container "app" with a port named "http" (HTTP_PORT) and
 * one named "tcp" (TCP_PORT), and the readiness probe PROBE (lines
 * indented 6 spaces, under readinessProbe). */
static struct spec_pod *probe_pod(int http_port, int tcp_port, const char *probe)
{
	char *y = xasprintf("apiVersion: v1\n"
			    "kind: Pod\n"
			    "metadata:\n"
			    "  name: web\n"
			    "spec:\n"
			    "  containers:\n"
			    "  - name: app\n"
			    "    image: busybox\n"
			    "    ports:\n"
			    "    - name: http\n"
			    "      containerPort: %d\n"
			    "    - name: tcp\n"
			    "      containerPort: %d\n"
			    "    readinessProbe:\n"
			    "%s",
			    http_port, tcp_port, probe);
	struct spec_pod *pod = th_parse_pod(y);
	free(y);
	return pod;
}

/* A handler built by hand: KIND on a numeric PORT. */
static struct spec_handler handler(enum spec_handler_kind kind, int port, const char *path)
{
	struct spec_handler h;
	memset(&h, 0, sizeof(h));
	h.kind = kind;
	h.port.set = true;
	h.port.num = port;
	h.path = (char *)path;
	h.scheme = (char *)"HTTP";
	return h;
}

static const struct probe_target local = {.host = "127.0.0.1"};

static int listen_on(const char *ip, int *port, int backlog)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in a = {.sin_family = AF_INET};
	inet_pton(AF_INET, ip, &a.sin_addr);
	socklen_t len = sizeof(a);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, backlog) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

/* A port nothing listens on (bound, then closed). */
static int closed_port(void)
{
	int port = 0;
	int fd = listen_on("127.0.0.1", &port, 1);
	if (fd >= 0)
		close(fd);
	return port;
}

static void send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

/* Read exactly N bytes within TIMEOUT_MS; 0 or -1. */
static int read_full(int fd, void *buf, size_t n, int timeout_ms)
{
	char *p = buf;
	int64_t deadline = util_now_ms() + timeout_ms;
	while (n) {
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		int left = (int)(deadline - util_now_ms());
		if (left <= 0 || poll(&pf, 1, left) <= 0)
			return -1;
		ssize_t got = read(fd, p, n);
		if (got <= 0)
			return -1;
		p += got;
		n -= (size_t)got;
	}
	return 0;
}

/* Wait until the peer closes FD (or TIMEOUT_MS pass), discarding input. */
static void wait_close(int fd, int timeout_ms)
{
	int64_t deadline = util_now_ms() + timeout_ms;
	for (;;) {
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		int left = (int)(deadline - util_now_ms());
		if (left <= 0 || poll(&pf, 1, left) <= 0)
			return;
		char buf[512];
		if (read(fd, buf, sizeof(buf)) <= 0)
			return;
	}
}

/* ---- an HTTP/1.1 server ---------------------------------------------------- */

struct http_srv {
	int lfd, port;
	pthread_t th;
	atomic_bool stop;
	pthread_mutex_t mu;
	struct strbuf log; /* the requested paths, one a line */
	char *last;	   /* the last request's head */
};

static struct http_srv srv;

static void respond(int fd, const char *status, const char *headers, const char *body)
{
	char *r = xasprintf("HTTP/1.1 %s\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n%s",
			    status, strlen(body), headers, body);
	send_all(fd, r, strlen(r));
	free(r);
}

static void http_handle(struct http_srv *s, int fd)
{
	char buf[8192];
	size_t len = 0;
	while (len < sizeof(buf) - 1) {
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		if (poll(&pf, 1, 2000) <= 0)
			return;
		ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			return;
		len += (size_t)n;
		buf[len] = '\0';
		if (strstr(buf, "\r\n\r\n"))
			break;
	}
	if (strncmp(buf, "GET ", 4) != 0) {
		respond(fd, "400 Bad Request", "", "bad request");
		return;
	}
	char *path = buf + 4, *sp = strchr(path, ' ');
	if (!sp)
		return;
	pthread_mutex_lock(&s->mu);
	sb_add(&s->log, path, (size_t)(sp - path));
	sb_putc(&s->log, '\n');
	free(s->last);
	s->last = xstrdup(buf);
	pthread_mutex_unlock(&s->mu);
	*sp = '\0';
	if (!strcmp(path, "/ok") || !strcmp(path, "/headers")) {
		respond(fd, "200 OK", "", "ok");
	} else if (!strcmp(path, "/fail")) {
		respond(fd, "500 Internal Server Error", "", "boom");
	} else if (!strcmp(path, "/redirect-same")) {
		respond(fd, "302 Found", "Location: /ok\r\n", "");
	} else if (!strcmp(path, "/redirect-abs")) {
		char *h = xasprintf("Location: http://127.0.0.1:%d/ok\r\n", s->port);
		respond(fd, "301 Moved Permanently", h, "");
		free(h);
	} else if (!strcmp(path, "/redirect-other")) {
		char *h = xasprintf("Location: http://127.0.0.2:%d/ok\r\n", s->port);
		respond(fd, "302 Found", h, "moved");
		free(h);
	} else if (!strcmp(path, "/redirect-loop")) {
		respond(fd, "302 Found", "Location: /redirect-loop\r\n", "");
	} else if (!strcmp(path, "/no-location")) {
		respond(fd, "302 Found", "", "nowhere");
	} else if (!strcmp(path, "/big")) {
		char *body = xmalloc(30001);
		memset(body, 'x', 30000);
		body[30000] = '\0';
		respond(fd, "200 OK", "", body);
		free(body);
	} else if (!strcmp(path, "/slow")) {
		wait_close(fd, 2000); /* until the prober gives up */
		respond(fd, "200 OK", "", "late");
	} else {
		respond(fd, "404 Not Found", "", "not found");
	}
}

static void *http_main(void *arg)
{
	struct http_srv *s = arg;
	while (!atomic_load(&s->stop)) {
		struct pollfd pf = {.fd = s->lfd, .events = POLLIN};
		if (poll(&pf, 1, 50) <= 0)
			continue;
		int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		http_handle(s, fd);
		close(fd);
	}
	return NULL;
}

static int http_start(void)
{
	srv.lfd = listen_on("127.0.0.1", &srv.port, 64);
	if (srv.lfd < 0)
		return -1;
	pthread_mutex_init(&srv.mu, NULL);
	sb_init(&srv.log);
	atomic_store(&srv.stop, false);
	return pthread_create(&srv.th, NULL, http_main, &srv) == 0 ? 0 : -1;
}

static void http_stop(void)
{
	atomic_store(&srv.stop, true);
	pthread_join(srv.th, NULL);
	close(srv.lfd);
	sb_free(&srv.log);
	free(srv.last);
	pthread_mutex_destroy(&srv.mu);
}

/* The paths requested since the last call, one a line; caller frees. */
static char *http_log(void)
{
	pthread_mutex_lock(&srv.mu);
	char *s = sb_steal(&srv.log);
	pthread_mutex_unlock(&srv.mu);
	return s;
}

static char *http_last(void)
{
	pthread_mutex_lock(&srv.mu);
	char *s = xstrdup(srv.last ? srv.last : "");
	pthread_mutex_unlock(&srv.mu);
	return s;
}

/* Run H against the local host; returns the result, message in *msg. */
static enum probe_result run(const struct spec_handler *h, const struct probe_target *t,
			     int timeout_ms, char **msg)
{
	free(http_log());
	return probe_run(h, t, timeout_ms, msg, NULL);
}

/* ---- httpGet --------------------------------------------------------------- */

TEST(http_success_and_status)
{
	char *msg, *out;
	struct spec_handler h = handler(SPEC_H_HTTP, srv.port, "/ok");
	free(http_log());
	CHECK(probe_run(&h, &local, 1000, &msg, &out) == PROBE_SUCCESS);
	CHECK(msg == NULL);
	CHECK_STREQ(out, "ok");
	free(out);
	char *req = http_last();
	CHECK_CONTAINS(req, "GET /ok HTTP/1.1\r\n");
	CHECK_CONTAINS(req, "User-Agent: kube-probe/1.30\r\n");
	CHECK_CONTAINS(req, "Accept: */*\r\n");
	CHECK_CONTAINS(req, "Connection: close\r\n");
	free(req);

	h.path = (char *)"/fail";
	CHECK(run(&h, &local, 1000, &msg) == PROBE_FAILURE);
	CHECK_STREQ(msg, "HTTP probe failed with statuscode: 500");
	free(msg);

	h.path = (char *)"/missing";
	CHECK(run(&h, &local, 1000, &msg) == PROBE_FAILURE);
	CHECK_STREQ(msg, "HTTP probe failed with statuscode: 404");
	free(msg);

	/* the body is read up to 10 KiB, and that is not an error */
	h.path = (char *)"/big";
	free(http_log());
	CHECK(probe_run(&h, &local, 1000, &msg, &out) == PROBE_SUCCESS);
	CHECK(msg == NULL);
	CHECK(out && strlen(out) == PROBE_MAX_OUTPUT);
	free(out);
}

TEST(http_redirects)
{
	char *msg, *log;
	struct spec_handler h = handler(SPEC_H_HTTP, srv.port, "/redirect-same");
	CHECK(run(&h, &local, 1000, &msg) == PROBE_SUCCESS);
	CHECK(msg == NULL);
	log = http_log();
	CHECK_STREQ(log, "/redirect-same\n/ok\n");
	free(log);
	char *req = http_last();
	/* headers carry over, and Go's client adds a Referer */
	CHECK_CONTAINS(req, "User-Agent: kube-probe/1.30\r\n");
	char *ref = xasprintf("Referer: http://127.0.0.1:%d/redirect-same\r\n", srv.port);
	CHECK_CONTAINS(req, ref);
	free(ref);
	free(req);

	h.path = (char *)"/redirect-abs";
	CHECK(run(&h, &local, 1000, &msg) == PROBE_SUCCESS);
	log = http_log();
	CHECK_STREQ(log, "/redirect-abs\n/ok\n");
	free(log);

	/* another host: not followed, a warning with the body */
	h.path = (char *)"/redirect-other";
	CHECK(run(&h, &local, 1000, &msg) == PROBE_WARNING);
	CHECK_STREQ(msg, "Probe terminated redirects, Response body: moved");
	free(msg);
	log = http_log();
	CHECK_STREQ(log, "/redirect-other\n");
	free(log);

	/* a 3xx without Location is a final answer too */
	h.path = (char *)"/no-location";
	CHECK(run(&h, &local, 1000, &msg) == PROBE_WARNING);
	CHECK_STREQ(msg, "Probe terminated redirects, Response body: nowhere");
	free(msg);

	/* the 10th redirect is refused (Go's default policy) */
	h.path = (char *)"/redirect-loop";
	CHECK(run(&h, &local, 2000, &msg) == PROBE_FAILURE);
	CHECK_STREQ(msg, "Get \"/redirect-loop\": stopped after 10 redirects");
	free(msg);
	log = http_log();
	size_t n = 0;
	for (char *p = log; (p = strchr(p, '\n')); p++)
		n++;
	CHECK(n == 10);
	free(log);
}

TEST(http_timeout)
{
	char *msg;
	struct spec_handler h = handler(SPEC_H_HTTP, srv.port, "/slow");
	int64_t t0 = util_now_ms();
	CHECK(run(&h, &local, 300, &msg) == PROBE_FAILURE);
	int64_t took = util_now_ms() - t0;
	CHECK(took >= 250 && took < 1500);
	char *want = xasprintf("Get \"http://127.0.0.1:%d/slow\": context deadline exceeded "
			       "(Client.Timeout exceeded while awaiting headers)",
			       srv.port);
	CHECK_STREQ(msg, want);
	free(want);
	free(msg);
}

TEST(http_refused)
{
	char *msg;
	int port = closed_port();
	struct spec_handler h = handler(SPEC_H_HTTP, port, "/");
	CHECK(run(&h, &local, 1000, &msg) == PROBE_FAILURE);
	char *want = xasprintf("Get \"http://127.0.0.1:%d/\": dial tcp 127.0.0.1:%d: connect: "
			       "connection refused",
			       port, port);
	CHECK_STREQ(msg, want);
	free(want);
	free(msg);
}

TEST(http_headers_and_named_port)
{
	struct spec_pod *pod = probe_pod(srv.port, 1,
					 "      httpGet:\n"
					 "        path: /headers\n"
					 "        port: http\n"
					 "        httpHeaders:\n"
					 "        - name: X-Probe\n"
					 "          value: hello\n"
					 "        - name: X-Empty\n"
					 "          value: \"\"\n"
					 "        - name: Accept\n"
					 "          value: \"\"\n"
					 "        - name: User-Agent\n"
					 "          value: custom/1\n");
	CHECK(pod != NULL);
	if (!pod)
		return;
	const struct spec_container *c = &pod->containers[0];
	CHECK(c->readiness != NULL);
	struct probe_target t = {.host = "127.0.0.1", .container = c};
	char *msg;
	CHECK(run(&c->readiness->h, &t, 1000, &msg) == PROBE_SUCCESS);
	CHECK(msg == NULL);
	char *req = http_last();
	CHECK_CONTAINS(req, "GET /headers HTTP/1.1\r\n");
	CHECK_CONTAINS(req, "X-Probe: hello\r\n");
	CHECK_CONTAINS(req, "X-Empty:");
	CHECK_CONTAINS(req, "User-Agent: custom/1\r\n");
	CHECK(!strstr(req, "kube-probe"));
	CHECK(!strstr(req, "Accept:"));
	free(req);
	spec_pod_free(pod);
}

TEST(http_bad_header)
{
	struct spec_kv kv = {.key = (char *)"X-Bad", .value = (char *)"a\r\nInjected: yes"};
	struct spec_handler h = handler(SPEC_H_HTTP, srv.port, "/ok");
	h.http_headers.v = &kv;
	h.http_headers.n = 1;
	char *msg;
	CHECK(run(&h, &local, 1000, &msg) == PROBE_FAILURE);
	char *want = xasprintf("Get \"http://127.0.0.1:%d/ok\": net/http: invalid header field "
			       "value for \"X-Bad\"",
			       srv.port);
	CHECK_STREQ(msg, want);
	free(want);
	free(msg);
	char *log = http_log();
	CHECK_STREQ(log, "");
	free(log);
}

TEST(http_unknown_named_port)
{
	struct spec_pod *pod = probe_pod(srv.port, 1,
					 "      httpGet:\n"
					 "        path: /ok\n"
					 "        port: nosuch\n");
	CHECK(pod != NULL);
	if (!pod)
		return;
	const struct spec_container *c = &pod->containers[0];
	struct probe_target t = {.host = "127.0.0.1", .container = c};
	char *msg;
	CHECK(run(&c->readiness->h, &t, 1000, &msg) == PROBE_ERROR);
	CHECK_STREQ(msg, "port \"nosuch\" not found in container \"app\"");
	free(msg);
	/* nothing was requested */
	char *log = http_log();
	CHECK_STREQ(log, "");
	free(log);
	spec_pod_free(pod);
}

/* Spawn ARGV with /dev/null for stdio; its pid, or -1. */
static pid_t spawn_quiet(char *const *argv)
{
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	pid_t pid;
	int r = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	return r == 0 ? pid : -1;
}

/* Run ARGV with /dev/null for stdio; its exit code, or -1. */
static int run_quiet(char *const *argv)
{
	pid_t pid = spawn_quiet(argv);
	int st;
	if (pid < 0)
		return -1;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* HTTPS skips certificate checks: openssl s_server with a self-signed
 * certificate for another name answers 200. */
TEST(https_insecure)
{
	if (access("/usr/bin/openssl", X_OK) != 0) {
		printf("# skip: no /usr/bin/openssl\n");
		return;
	}
	char dir[] = "/tmp/podfs-probe-tls-XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	char *key = xasprintf("%s/key.pem", dir), *crt = xasprintf("%s/crt.pem", dir);
	char *req[] = {"/usr/bin/openssl",
		       "req",
		       "-x509",
		       "-newkey",
		       "ec",
		       "-pkeyopt",
		       "ec_paramgen_curve:prime256v1",
		       "-nodes",
		       "-days",
		       "1",
		       "-subj",
		       "/CN=elsewhere.example",
		       "-keyout",
		       key,
		       "-out",
		       crt,
		       NULL};
	int port = closed_port();
	char *accept = xasprintf("127.0.0.1:%d", port);
	char *serve[] = {
	    "/usr/bin/openssl", "s_server", "-accept", accept, "-cert", crt, "-key", key, "-www",
	    "-quiet",		NULL};
	pid_t pid = -1;
	CHECK(run_quiet(req) == 0);
	pid = spawn_quiet(serve);
	CHECK(pid > 0);
	/* wait for it to listen */
	struct spec_handler tcp = handler(SPEC_H_TCP, port, NULL);
	char *msg = NULL;
	for (int i = 0; i < 150; i++) {
		free(msg);
		if (probe_run(&tcp, &local, 1000, &msg, NULL) == PROBE_SUCCESS)
			break;
		usleep(20000);
	}
	CHECK(msg == NULL);
	free(msg);
	struct spec_handler h = handler(SPEC_H_HTTP, port, "/");
	h.scheme = (char *)"HTTPS";
	char *out;
	CHECK(probe_run(&h, &local, 2000, &msg, &out) == PROBE_SUCCESS);
	CHECK(msg == NULL);
	free(msg);
	free(out);
	/* plain HTTP to a TLS port: the server closes or garbles; not a success */
	h.scheme = (char *)"HTTP";
	CHECK(probe_run(&h, &local, 1000, &msg, NULL) != PROBE_SUCCESS);
	CHECK_CONTAINS(msg, "Get \"http://127.0.0.1:");
	free(msg);
	if (pid > 0) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
	}
	util_rm_rf(dir);
	free(key);
	free(crt);
	free(accept);
}

TEST(http_url)
{
	struct spec_handler h = handler(SPEC_H_HTTP, 8080, "/healthz?x=1");
	char *u = probe_http_url(&h, "10.0.0.1", 8080);
	CHECK_STREQ(u, "http://10.0.0.1:8080/healthz?x=1");
	free(u);
	h.scheme = (char *)"HTTPS";
	h.path = (char *)"ready now";
	u = probe_http_url(&h, "::1", 443);
	CHECK_STREQ(u, "https://[::1]:443/ready%20now");
	free(u);
	h.path = NULL;
	u = probe_http_url(&h, "example.com", 80);
	CHECK_STREQ(u, "https://example.com:80/");
	free(u);
}

/* ---- tcpSocket ------------------------------------------------------------- */

TEST(tcp_probes)
{
	int lport = 0;
	int lfd = listen_on("127.0.0.1", &lport, 16); /* never accepts: the backlog does */
	CHECK(lfd >= 0);
	struct spec_pod *pod = probe_pod(1, lport,
					 "      tcpSocket:\n"
					 "        port: tcp\n");
	CHECK(pod != NULL);
	if (!pod) {
		close(lfd);
		return;
	}
	const struct spec_container *c = &pod->containers[0];
	struct probe_target t = {.host = "127.0.0.1", .container = c};
	char *msg;
	CHECK(probe_run(&c->readiness->h, &t, 1000, &msg, NULL) == PROBE_SUCCESS);
	CHECK(msg == NULL);

	struct spec_handler h = handler(SPEC_H_TCP, lport, NULL);
	CHECK(probe_run(&h, &local, 1000, &msg, NULL) == PROBE_SUCCESS);
	CHECK(msg == NULL);

	int port = closed_port();
	h.port.num = port;
	CHECK(probe_run(&h, &local, 1000, &msg, NULL) == PROBE_FAILURE);
	char *want = xasprintf("dial tcp 127.0.0.1:%d: connect: connection refused", port);
	CHECK_STREQ(msg, want);
	free(want);
	free(msg);

	/* the handler's host wins over the target's */
	h.port.num = lport;
	h.host = (char *)"127.0.0.1";
	struct probe_target other = {.host = "192.0.2.1"};
	CHECK(probe_run(&h, &other, 1000, &msg, NULL) == PROBE_SUCCESS);

	h.port.is_name = true;
	h.port.name = (char *)"nope";
	CHECK(probe_run(&h, &t, 1000, &msg, NULL) == PROBE_ERROR);
	CHECK_STREQ(msg, "port \"nope\" not found in container \"app\"");
	free(msg);

	h.port.is_name = false;
	h.port.num = 70000;
	CHECK(probe_run(&h, &t, 1000, &msg, NULL) == PROBE_ERROR);
	CHECK_STREQ(msg, "invalid port number: 70000");
	free(msg);

	/* no address at all */
	h.host = NULL;
	h.port.num = lport;
	struct probe_target none = {0};
	CHECK(probe_run(&h, &none, 1000, &msg, NULL) == PROBE_ERROR);
	CHECK(msg != NULL);
	free(msg);

	spec_pod_free(pod);
	close(lfd);
}

/* A connect that hangs: a listener whose accept queue is full drops SYNs.
 * Whether it does is up to the kernel's settings, so a connect that
 * succeeds anyway skips the check. */
TEST(tcp_timeout)
{
	int port = 0;
	int lfd = listen_on("127.0.0.1", &port, 0);
	CHECK(lfd >= 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	int c[4];
	for (int i = 0; i < 4; i++) {
		c[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		connect(c[i], (struct sockaddr *)&a, sizeof(a));
	}
	usleep(50000);
	struct spec_handler h = handler(SPEC_H_TCP, port, NULL);
	char *msg;
	int64_t t0 = util_now_ms();
	enum probe_result r = probe_run(&h, &local, 200, &msg, NULL);
	int64_t took = util_now_ms() - t0;
	if (r == PROBE_SUCCESS) {
		printf("# skip: the kernel accepted a connection beyond the backlog\n");
	} else {
		CHECK(r == PROBE_FAILURE);
		char *want = xasprintf("dial tcp 127.0.0.1:%d: i/o timeout", port);
		CHECK_STREQ(msg, want);
		free(want);
		CHECK(took >= 190 && took < 1500);
		free(msg);
		h.kind = SPEC_H_HTTP;
		h.path = (char *)"/";
		CHECK(probe_run(&h, &local, 200, &msg, NULL) == PROBE_FAILURE);
		want = xasprintf("Get \"http://127.0.0.1:%d/\": dial tcp 127.0.0.1:%d: i/o timeout "
				 "(Client.Timeout exceeded while awaiting headers)",
				 port, port);
		CHECK_STREQ(msg, want);
		free(want);
		free(msg);
		h.kind = SPEC_H_GRPC;
		CHECK(probe_run(&h, &local, 200, &msg, NULL) == PROBE_FAILURE);
		want =
		    xasprintf("timeout: failed to connect service \"127.0.0.1:%d\" within 200ms: "
			      "context deadline exceeded",
			      port);
		CHECK_STREQ(msg, want);
		free(want);
		free(msg);
	}
	for (int i = 0; i < 4; i++)
		close(c[i]);
	close(lfd);
}

/* ---- sleep ----------------------------------------------------------------- */

TEST(sleep_handler)
{
	struct spec_handler h = {.kind = SPEC_H_SLEEP, .sleep_seconds = 5};
	char *msg;
	int64_t t0 = util_now_ms();
	CHECK(probe_run(&h, NULL, 200, &msg, NULL) == PROBE_SUCCESS);
	int64_t took = util_now_ms() - t0;
	CHECK(msg == NULL);
	CHECK(took >= 190 && took < 1000); /* bounded by the timeout */
	h.sleep_seconds = 0;
	t0 = util_now_ms();
	CHECK(probe_run(&h, NULL, 200, &msg, NULL) == PROBE_SUCCESS);
	CHECK(util_now_ms() - t0 < 100);

	struct spec_handler none = {.kind = SPEC_H_NONE};
	CHECK(probe_run(&none, &local, 200, &msg, NULL) == PROBE_ERROR);
	free(msg);
}

/* ---- grpc ------------------------------------------------------------------ */

TEST(grpc_encoding)
{
	size_t len;
	unsigned char *b = probe_grpc_request(NULL, &len);
	CHECK(len == 5 && !memcmp(b, "\0\0\0\0\0", 5));
	free(b);
	b = probe_grpc_request("", &len);
	CHECK(len == 5);
	free(b);
	b = probe_grpc_request("foo", &len);
	CHECK(len == 10 && !memcmp(b,
				   "\0\0\0\0\x05\x0a\x03"
				   "foo",
				   10));
	free(b);
	char long_name[201];
	memset(long_name, 'a', 200);
	long_name[200] = '\0';
	b = probe_grpc_request(long_name, &len);
	/* length 203 = 0xcb; the string length 200 as a two-byte varint */
	CHECK(len == 208 && b[4] == 203 && b[5] == 0x0a && b[6] == 0xc8 && b[7] == 0x01);
	free(b);

	int st = -1;
	char *err = NULL;
	CHECK(probe_grpc_parse_response((const unsigned char *)"\0\0\0\0\x02\x08\x01", 7, &st,
					&err) == 0);
	CHECK(st == PROBE_GRPC_SERVING);
	CHECK(probe_grpc_parse_response((const unsigned char *)"\0\0\0\0\x02\x08\x02", 7, &st,
					&err) == 0);
	CHECK(st == PROBE_GRPC_NOT_SERVING);
	/* an absent field is 0 (proto3) */
	CHECK(probe_grpc_parse_response((const unsigned char *)"\0\0\0\0\0", 5, &st, &err) == 0);
	CHECK(st == PROBE_GRPC_UNKNOWN);
	/* unknown fields are skipped: field 2 bytes "hi", field 3 fixed32 */
	const unsigned char extra[] = {0,   0,	  0, 0, 11, 0x12, 2,	'h',
				       'i', 0x1d, 1, 2, 3,  4,	  0x08, 1};
	CHECK(probe_grpc_parse_response(extra, sizeof(extra), &st, &err) == 0);
	CHECK(st == PROBE_GRPC_SERVING);

	CHECK(probe_grpc_parse_response((const unsigned char *)"\0\0\0\0\x05\x08\x01", 7, &st,
					&err) == -EBADMSG);
	CHECK_CONTAINS(err, "truncated");
	free(err);
	CHECK(probe_grpc_parse_response((const unsigned char *)"\x01\0\0\0\x02\x08\x01", 7, &st,
					&err) == -EBADMSG);
	CHECK_CONTAINS(err, "compressed");
	free(err);
	CHECK(probe_grpc_parse_response((const unsigned char *)"\0\0\0\0\x01\x08", 6, &st, &err) ==
	      -EBADMSG);
	free(err);
	CHECK(probe_grpc_parse_response((const unsigned char *)"", 0, &st, &err) == -EBADMSG);
	free(err);

	char *n = probe_grpc_status_name(2);
	CHECK_STREQ(n, "NOT_SERVING");
	free(n);
	n = probe_grpc_status_name(9);
	CHECK_STREQ(n, "9");
	free(n);
}

/* A minimal HTTP/2 cleartext server for one gRPC health Check: the
 * connection preface, SETTINGS and their ACK, the request's DATA, then an
 * answer chosen by the requested service name. Header blocks are HPACK
 * literals without indexing (no Huffman), which every decoder accepts. */
struct h2srv {
	int lfd, port;
	pthread_t th;
	char service[256]; /* the service the request named */
	bool got;
};

static void h2_frame(int fd, int type, int flags, unsigned sid, const void *p, size_t len)
{
	unsigned char h[9] = {(unsigned char)(len >> 16), (unsigned char)(len >> 8),
			      (unsigned char)len,	  (unsigned char)type,
			      (unsigned char)flags,	  (unsigned char)(sid >> 24 & 0x7f),
			      (unsigned char)(sid >> 16), (unsigned char)(sid >> 8),
			      (unsigned char)sid};
	send_all(fd, h, 9);
	if (len)
		send_all(fd, p, len);
}

static void hpack_lit(struct strbuf *sb, const char *name, const char *value)
{
	sb_putc(sb, 0x00);
	sb_putc(sb, (char)strlen(name));
	sb_puts(sb, name);
	sb_putc(sb, (char)strlen(value));
	sb_puts(sb, value);
}

enum { H2_DATA = 0, H2_HEADERS = 1, H2_SETTINGS = 4, H2_GOAWAY = 7 };
enum { H2_END_STREAM = 1, H2_ACK = 1, H2_END_HEADERS = 4 };

static void h2_serve(struct h2srv *s, int fd)
{
	char preface[24];
	if (read_full(fd, preface, 24, 3000) < 0 ||
	    memcmp(preface, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24) != 0)
		return;
	h2_frame(fd, H2_SETTINGS, 0, 0, NULL, 0);
	struct strbuf data;
	sb_init(&data);
	unsigned sid = 0;
	for (bool done = false; !done;) {
		unsigned char fh[9];
		if (read_full(fd, fh, 9, 3000) < 0)
			goto out;
		size_t len = (size_t)fh[0] << 16 | (size_t)fh[1] << 8 | fh[2];
		unsigned stream = ((unsigned)fh[5] & 0x7f) << 24 | (unsigned)fh[6] << 16 |
				  (unsigned)fh[7] << 8 | fh[8];
		char *payload = xmalloc(len + 1);
		if (len && read_full(fd, payload, len, 3000) < 0) {
			free(payload);
			goto out;
		}
		if (fh[3] == H2_SETTINGS && !(fh[4] & H2_ACK))
			h2_frame(fd, H2_SETTINGS, H2_ACK, 0, NULL, 0);
		if (fh[3] == H2_HEADERS)
			sid = stream;
		if (fh[3] == H2_DATA) {
			sb_add(&data, payload, len);
			done = fh[4] & H2_END_STREAM;
		}
		if (fh[3] == H2_GOAWAY)
			done = true;
		free(payload);
	}
	/* the request: 5-byte prefix, then {1: service} */
	s->got = true;
	if (data.len > 7 && data.buf[5] == 0x0a && (unsigned char)data.buf[6] < 128 &&
	    (size_t)data.buf[6] + 7 <= data.len)
		snprintf(s->service, sizeof(s->service), "%.*s", data.buf[6], data.buf + 7);
	struct strbuf hb;
	sb_init(&hb);
	if (!strcmp(s->service, "slow")) {
		wait_close(fd, 2000);
	} else if (!strcmp(s->service, "http404")) {
		sb_putc(&hb, (char)0x8d); /* static table: ":status: 404" */
		h2_frame(fd, H2_HEADERS, H2_END_HEADERS | H2_END_STREAM, sid, hb.buf, hb.len);
	} else if (!strcmp(s->service, "unimplemented")) {
		/* Trailers-Only: the status in the only header block */
		sb_putc(&hb, (char)0x88); /* ":status: 200" */
		hpack_lit(&hb, "content-type", "application/grpc");
		hpack_lit(&hb, "grpc-status", "12");
		hpack_lit(&hb, "grpc-message", "unknown%20service");
		h2_frame(fd, H2_HEADERS, H2_END_HEADERS | H2_END_STREAM, sid, hb.buf, hb.len);
	} else {
		unsigned char st = !strcmp(s->service, "sick")	? 2
				   : !strcmp(s->service, "odd") ? 7
								: 1;
		sb_putc(&hb, (char)0x88);
		hpack_lit(&hb, "content-type", "application/grpc");
		h2_frame(fd, H2_HEADERS, H2_END_HEADERS, sid, hb.buf, hb.len);
		unsigned char msg[7] = {0, 0, 0, 0, 2, 0x08, st};
		h2_frame(fd, H2_DATA, 0, sid, msg, sizeof(msg));
		sb_free(&hb);
		hpack_lit(&hb, "grpc-status", "0");
		h2_frame(fd, H2_HEADERS, H2_END_HEADERS | H2_END_STREAM, sid, hb.buf, hb.len);
	}
	sb_free(&hb);
	wait_close(fd, 1000);
out:
	sb_free(&data);
}

static void *h2_main(void *arg)
{
	struct h2srv *s = arg;
	struct pollfd pf = {.fd = s->lfd, .events = POLLIN};
	if (poll(&pf, 1, 3000) <= 0)
		return NULL;
	int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return NULL;
	h2_serve(s, fd);
	close(fd);
	return NULL;
}

/* One gRPC Check of SERVICE against a fresh h2 server; *msg as probe_run. */
static enum probe_result grpc_check(const char *service, int timeout_ms, char **msg,
				    struct h2srv *s)
{
	memset(s, 0, sizeof(*s));
	s->lfd = listen_on("127.0.0.1", &s->port, 4);
	if (s->lfd < 0)
		return PROBE_ERROR;
	pthread_create(&s->th, NULL, h2_main, s);
	struct spec_handler h = handler(SPEC_H_GRPC, s->port, NULL);
	h.grpc_service = (char *)service;
	enum probe_result r = probe_run(&h, &local, timeout_ms, msg, NULL);
	pthread_join(s->th, NULL);
	close(s->lfd);
	return r;
}

TEST(grpc_health)
{
	struct h2srv s;
	char *msg;
	CHECK(grpc_check(NULL, 1000, &msg, &s) == PROBE_SUCCESS);
	CHECK(msg == NULL);
	CHECK(s.got);
	CHECK_STREQ(s.service, "");

	CHECK(grpc_check("sick", 1000, &msg, &s) == PROBE_FAILURE);
	CHECK_STREQ(s.service, "sick");
	CHECK_STREQ(msg, "service unhealthy (responded with \"NOT_SERVING\")");
	free(msg);

	CHECK(grpc_check("odd", 1000, &msg, &s) == PROBE_FAILURE);
	CHECK_STREQ(msg, "service unhealthy (responded with \"7\")");
	free(msg);

	CHECK(grpc_check("unimplemented", 1000, &msg, &s) == PROBE_FAILURE);
	CHECK_STREQ(msg, "error: this server does not implement the grpc health protocol "
			 "(grpc.health.v1.Health): unknown service");
	free(msg);

	CHECK(grpc_check("http404", 1000, &msg, &s) == PROBE_FAILURE);
	CHECK_STREQ(msg, "error: this server does not implement the grpc health protocol "
			 "(grpc.health.v1.Health): unexpected HTTP status code received from "
			 "server: 404 (Not Found)");
	free(msg);

	int64_t t0 = util_now_ms();
	CHECK(grpc_check("slow", 300, &msg, &s) == PROBE_FAILURE);
	CHECK(util_now_ms() - t0 < 1500);
	CHECK_STREQ(msg, "timeout: health rpc did not complete within 300ms");
	free(msg);
}

TEST(grpc_errors)
{
	char *msg;
	/* an HTTP/1.1 server does not speak HTTP/2 */
	struct spec_handler h = handler(SPEC_H_GRPC, srv.port, NULL);
	CHECK(probe_run(&h, &local, 1000, &msg, NULL) == PROBE_FAILURE);
	CHECK_CONTAINS(msg,
		       "error: health rpc probe failed: rpc error: code = Unavailable desc = ");
	free(msg);

	/* a refused connection is dialled again until the timeout (the
	 * kubelet's blocking dial), which is what is reported */
	int port = closed_port();
	h.port.num = port;
	int64_t t0 = util_now_ms();
	CHECK(probe_run(&h, &local, 300, &msg, NULL) == PROBE_FAILURE);
	int64_t took = util_now_ms() - t0;
	CHECK(took >= 290 && took < 2000);
	char *want = xasprintf("timeout: failed to connect service \"127.0.0.1:%d\" within "
			       "300ms: context deadline exceeded",
			       port);
	CHECK_STREQ(msg, want);
	free(want);
	free(msg);
}

/* ---- helpers of exec and messages ------------------------------------------ */

TEST(exec_argv)
{
	char *cmd[] = {"sh", "-c", "exit 3", NULL};
	char **argv =
	    probe_exec_argv("/usr/sbin/runc", "/run/podfs/x/runc", "c1", "/tmp/d/pid", cmd);
	const char *want[] = {"/usr/sbin/runc",
			      "--root=/run/podfs/x/runc",
			      "exec",
			      "--pid-file",
			      "/tmp/d/pid",
			      "c1",
			      "sh",
			      "-c",
			      "exit 3",
			      NULL};
	for (size_t i = 0; want[i]; i++)
		CHECK_STREQ(argv[i], want[i]);
	CHECK(argv[9] == NULL);
	probe_argv_free(argv);

	argv = probe_exec_argv("runc", NULL, "c2", "/p", cmd);
	CHECK_STREQ(argv[1], "exec");
	probe_argv_free(argv);
	probe_argv_free(NULL);

	char *line = probe_exec_cmdline(cmd);
	CHECK_STREQ(line, "sh -c exit 3");
	free(line);
}

TEST(exec_expansion)
{
	struct spec_pod *pod = th_parse_pod("apiVersion: v1\n"
					    "kind: Pod\n"
					    "metadata: {name: web}\n"
					    "spec:\n"
					    "  containers:\n"
					    "  - name: app\n"
					    "    image: busybox\n"
					    "    env:\n"
					    "    - {name: A, value: \"1\"}\n"
					    "    - name: B\n"
					    "      valueFrom:\n"
					    "        fieldRef: {fieldPath: spec.nodeName}\n");
	CHECK(pod != NULL);
	if (!pod)
		return;
	char *cmd[] = {"sh", "-c", "$(A)-$(B)-$(C)-$$-$(-$x-end$", NULL};
	char **got = probe_exec_command(cmd, &pod->containers[0]);
	CHECK_STREQ(got[0], "sh");
	CHECK_STREQ(got[2], "1--$(C)-$-$(-$x-end$");
	CHECK(got[3] == NULL);
	probe_argv_free(got);
	got = probe_exec_command(cmd, NULL);
	CHECK_STREQ(got[2], cmd[2]);
	probe_argv_free(got);
	char *none[] = {NULL};
	got = probe_exec_command(none, &pod->containers[0]);
	CHECK(got && got[0] == NULL);
	probe_argv_free(got);
	spec_pod_free(pod);
}

TEST(go_durations)
{
	const struct {
		int64_t ms;
		const char *s;
	} tab[] = {{0, "0s"},	     {1, "1ms"},	  {500, "500ms"},	{1000, "1s"},
		   {1500, "1.5s"},   {1250, "1.25s"},	  {1001, "1.001s"},	{60000, "1m0s"},
		   {90000, "1m30s"}, {3600000, "1h0m0s"}, {3723500, "1h2m3.5s"}};
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		char *d = probe_go_duration(tab[i].ms);
		CHECK_STREQ(d, tab[i].s);
		free(d);
	}
}

TEST(exec_runc_errors)
{
	char *cmd[] = {"true", NULL};
	struct spec_handler h = {.kind = SPEC_H_EXEC, .exec_command = {.v = cmd, .n = 1}};
	char *msg, *out;
	struct probe_target t = {.runc = "/nonexistent/runc", .runc_root = "/tmp", .cid = "x"};
	CHECK(probe_run(&h, &t, 1000, &msg, &out) == PROBE_FAILURE);
	CHECK_CONTAINS(msg, "runc exec: cannot run /nonexistent/runc");
	free(msg);
	free(out);

	/* no container to run in: not a probe result */
	t.cid = NULL;
	CHECK(probe_run(&h, &t, 1000, &msg, NULL) == PROBE_ERROR);
	free(msg);

	const char *runc = access("/usr/sbin/runc", X_OK) == 0	? "/usr/sbin/runc"
			   : access("/usr/bin/runc", X_OK) == 0 ? "/usr/bin/runc"
								: NULL;
	if (!runc) {
		printf("# skip: runc not installed\n");
		return;
	}
	char root[] = "/tmp/podfs-probe-root-XXXXXX";
	CHECK(mkdtemp(root) != NULL);
	t.runc = runc;
	t.runc_root = root;
	t.cid = "nosuch";
	CHECK(probe_run(&h, &t, 5000, &msg, &out) == PROBE_FAILURE);
	CHECK_STREQ(msg, "runc exec: exec failed: container does not exist");
	free(msg);
	free(out);
	util_rm_rf(root);
}

/* ---- exec in a real container ---------------------------------------------- */

/* Is a live (not zombie) process running with exactly the command line
 * CMDLINE (arguments separated by NUL bytes, LEN bytes with the last NUL)? */
static bool process_running(const char *cmdline, size_t len)
{
	DIR *d = opendir("/proc");
	if (!d)
		return false;
	bool found = false;
	struct dirent *e;
	while (!found && (e = readdir(d))) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		char *p = xasprintf("/proc/%s/cmdline", e->d_name);
		char *buf = NULL;
		size_t n = 0;
		if (util_read_file(p, 4096, &buf, &n) == 0)
			found = n == len && !memcmp(buf, cmdline, len);
		free(buf);
		free(p);
	}
	closedir(d);
	return found;
}

#define RUNNING(lit) process_running(lit, sizeof(lit))

TEST(exec_in_container)
{
	const char *runc = access("/usr/sbin/runc", X_OK) == 0	? "/usr/sbin/runc"
			   : access("/usr/bin/runc", X_OK) == 0 ? "/usr/bin/runc"
								: NULL;
	if (getenv("PODFS_TEST_NO_RUNC") || geteuid() != 0 || !runc ||
	    access("/bin/busybox", X_OK) != 0) {
		printf("# skip: a runc container needs root, runc and /bin/busybox\n");
		return;
	}
	char dir[] = "/tmp/podfs-probe-ctr-XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	char *root = xasprintf("%s/root", dir), *bundle = xasprintf("%s/b", dir);
	char *rootfs = xasprintf("%s/rootfs", bundle);
	char *cid = xasprintf("podfs-probe-test-%d", (int)getpid());
	util_mkdir_p(root, 0700);
	util_mkdir_p(rootfs, 0755);
	const char *sub[] = {"bin", "proc", "dev", "tmp"};
	for (size_t i = 0; i < 4; i++) {
		char *p = xasprintf("%s/%s", rootfs, sub[i]);
		mkdir(p, 0755);
		free(p);
	}
	char *bb = xasprintf("%s/bin/busybox", rootfs);
	util_write_file(bb, "", 0, 0755);
	free(bb);
	const char *config =
	    "{\"ociVersion\": \"1.0.2\",\n"
	    " \"process\": {\"terminal\": false, \"user\": {\"uid\": 0, \"gid\": 0},\n"
	    "   \"args\": [\"/bin/busybox\", \"sleep\", \"1000\"],\n"
	    "   \"env\": [\"PATH=/bin\"], \"cwd\": \"/\", \"noNewPrivileges\": true},\n"
	    " \"root\": {\"path\": \"rootfs\", \"readonly\": true},\n"
	    " \"hostname\": \"probe-test\",\n"
	    " \"mounts\": [\n"
	    "  {\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},\n"
	    "  {\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\",\n"
	    "   \"options\": [\"nosuid\", \"mode=755\", \"size=1024k\"]},\n"
	    "  {\"destination\": \"/bin/busybox\", \"type\": \"bind\", \"source\": "
	    "\"/bin/busybox\",\n"
	    "   \"options\": [\"rbind\", \"ro\"]}],\n"
	    " \"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"mount\"},\n"
	    "   {\"type\": \"ipc\"}, {\"type\": \"uts\"}]}}\n";
	char *cfg = xasprintf("%s/config.json", bundle);
	util_write_file(cfg, config, strlen(config), 0644);
	free(cfg);
	char *rootarg = xasprintf("--root=%s", root);
	char *run_argv[] = {(char *)runc, rootarg, "run", "-d", "--bundle", bundle, cid, NULL};
	if (run_quiet(run_argv) != 0) {
		printf("# skip: runc cannot run a container here\n");
		goto out;
	}

	struct probe_target t = {.runc = runc, .runc_root = root, .cid = cid};
	char *msg, *out;
	char *ok_cmd[] = {"/bin/busybox", "true", NULL};
	struct spec_handler h = {.kind = SPEC_H_EXEC, .exec_command = {.v = ok_cmd, .n = 2}};
	CHECK(probe_run(&h, &t, 5000, &msg, &out) == PROBE_SUCCESS);
	CHECK(msg == NULL);
	CHECK_STREQ(out, "");
	free(out);

	char *fail_cmd[] = {"/bin/busybox", "sh", "-c", "echo hi; exit 3", NULL};
	h.exec_command.v = fail_cmd;
	h.exec_command.n = 4;
	CHECK(probe_run(&h, &t, 5000, &msg, &out) == PROBE_FAILURE);
	CHECK_STREQ(msg, "command \"/bin/busybox sh -c echo hi; exit 3\" exited with 3: hi");
	CHECK_STREQ(out, "hi\n");
	free(msg);
	free(out);
	/* stderr too (runc copies the two streams apart: no order between them) */
	char *err_cmd[] = {"/bin/busybox", "sh", "-c", "echo oops >&2; exit 4", NULL};
	h.exec_command.v = err_cmd;
	CHECK(probe_run(&h, &t, 5000, &msg, &out) == PROBE_FAILURE);
	CHECK_STREQ(msg,
		    "command \"/bin/busybox sh -c echo oops >&2; exit 4\" exited with 4: oops");
	CHECK_STREQ(out, "oops\n");
	free(msg);
	free(out);
	char *quiet_cmd[] = {"/bin/busybox", "false", NULL};
	h.exec_command.v = quiet_cmd;
	h.exec_command.n = 2;
	CHECK(probe_run(&h, &t, 5000, &msg, &out) == PROBE_FAILURE);
	CHECK_STREQ(msg, "command \"/bin/busybox false\" exited with 1");
	free(msg);
	free(out);
	h.exec_command.n = 4;

	/* $(VAR) is expanded in a probe's command, not in a hook's */
	struct spec_pod *pod =
	    th_parse_pod("apiVersion: v1\n"
			 "kind: Pod\n"
			 "metadata: {name: web}\n"
			 "spec:\n"
			 "  containers:\n"
			 "  - name: app\n"
			 "    image: busybox\n"
			 "    env:\n"
			 "    - {name: GREETING, value: hello}\n"
			 "    readinessProbe:\n"
			 "      exec:\n"
			 "        command: [/bin/busybox, echo, $(GREETING)]\n"
			 "    lifecycle:\n"
			 "      postStart:\n"
			 "        exec:\n"
			 "          command: [/bin/busybox, echo, $(GREETING)]\n");
	CHECK(pod != NULL);
	if (pod) {
		const struct spec_container *sc = &pod->containers[0];
		struct probe_target ts = t;
		ts.container = sc;
		CHECK(probe_run(&sc->readiness->h, &ts, 5000, &msg, &out) == PROBE_SUCCESS);
		CHECK_STREQ(out, "hello\n");
		free(out);
		CHECK(probe_run(sc->post_start, &ts, 5000, &msg, &out) == PROBE_SUCCESS);
		CHECK_STREQ(out, "$(GREETING)\n");
		free(out);
		spec_pod_free(pod);
	}

	/* a command the container does not have: runc's error */
	char *missing_cmd[] = {"/nosuch", NULL};
	h.exec_command.v = missing_cmd;
	h.exec_command.n = 1;
	CHECK(probe_run(&h, &t, 5000, &msg, &out) == PROBE_FAILURE);
	CHECK_CONTAINS(msg, "runc exec: ");
	CHECK_CONTAINS(msg, "/nosuch");
	free(msg);
	free(out);
	h.exec_command.n = 4;

	/* output kept up to 10 KiB */
	char *big_cmd[] = {"/bin/busybox", "sh", "-c", "yes | head -c 20000", NULL};
	h.exec_command.v = big_cmd;
	CHECK(probe_run(&h, &t, 5000, &msg, &out) == PROBE_SUCCESS);
	CHECK(out && strlen(out) == PROBE_MAX_OUTPUT);
	free(out);

	/* a daemon the command leaves behind does not hold the probe (runc
	 * itself waits for the output to close, so it must not hold that) */
	char *bg_cmd[] = {"/bin/busybox", "sh", "-c", "sleep 7 >/dev/null 2>&1 & echo started",
			  NULL};
	h.exec_command.v = bg_cmd;
	int64_t t0 = util_now_ms();
	CHECK(probe_run(&h, &t, 5000, &msg, &out) == PROBE_SUCCESS);
	CHECK(util_now_ms() - t0 < 2000);
	CHECK_STREQ(out, "started\n");
	free(out);

	/* the timeout kills the command itself (its seconds unique to this
	 * test process, so parallel runs do not see each other's) */
	char secs[16], *want = NULL;
	snprintf(secs, sizeof(secs), "%d", 100000 + (int)getpid());
	char *slow_cmd[] = {"/bin/busybox", "sleep", secs, NULL};
	h.exec_command.v = slow_cmd;
	h.exec_command.n = 3;
	t0 = util_now_ms();
	CHECK(probe_run(&h, &t, 300, &msg, &out) == PROBE_FAILURE);
	int64_t took = util_now_ms() - t0;
	CHECK(took >= 290 && took < 2500);
	want = xasprintf("command \"/bin/busybox sleep %s\" timed out", secs);
	CHECK_STREQ(msg, want);
	free(want);
	free(msg);
	free(out);
	char line[64];
	size_t n = (size_t)snprintf(line, sizeof(line), "/bin/busybox%csleep%c%s", 0, 0, secs);
	CHECK(!process_running(line, n + 1));
	CHECK(RUNNING("/bin/busybox\0sleep\0"
		      "1000")); /* the check sees processes */

	char *kill_argv[] = {(char *)runc, rootarg, "kill", cid, "KILL", NULL};
	run_quiet(kill_argv);
	/* a stopped container: runc's own error */
	for (int i = 0; i < 100; i++) {
		h.exec_command.v = ok_cmd;
		h.exec_command.n = 2;
		enum probe_result r = probe_run(&h, &t, 5000, &msg, &out);
		free(out);
		if (r == PROBE_FAILURE && msg && strstr(msg, "runc exec: "))
			break;
		free(msg);
		msg = NULL;
		usleep(20000);
	}
	CHECK_CONTAINS(msg, "runc exec: ");
	free(msg);
out:;
	char *del_argv[] = {(char *)runc, rootarg, "delete", "--force", cid, NULL};
	run_quiet(del_argv);
	util_rm_rf(dir);
	free(rootarg);
	free(root);
	free(bundle);
	free(rootfs);
	free(cid);
}

/* ---- network namespaces ---------------------------------------------------- */

static ino_t my_netns(void)
{
	struct stat st;
	if (stat("/proc/thread-self/ns/net", &st) < 0)
		return 0;
	return st.st_ino;
}

/* A server thread in the namespace NS: it enters NS (setns affects only
 * this thread), listens on 127.0.0.1 and answers every connection with an
 * HTTP 200 "ns" until stop is set. */
struct ns_srv {
	const char *ns;
	pthread_t th;
	int lfd, port, err;
	atomic_bool stop;
	sem_t ready;
};

static void *ns_main(void *arg)
{
	struct ns_srv *s = arg;
	int fd = open(s->ns, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
		s->err = errno;
		if (fd >= 0)
			close(fd);
		sem_post(&s->ready);
		return NULL;
	}
	close(fd);
	s->lfd = listen_on("127.0.0.1", &s->port, 16);
	s->err = s->lfd < 0 ? errno : 0;
	sem_post(&s->ready);
	while (s->lfd >= 0 && !atomic_load(&s->stop)) {
		struct pollfd p = {.fd = s->lfd, .events = POLLIN};
		if (poll(&p, 1, 50) <= 0)
			continue;
		int c = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		struct pollfd pc = {.fd = c, .events = POLLIN};
		char buf[1024];
		if (poll(&pc, 1, 500) > 0 && read(c, buf, sizeof(buf)) > 0) {
			static const char r[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
						"Connection: close\r\n\r\nns";
			send_all(c, r, sizeof(r) - 1);
		}
		close(c);
	}
	if (s->lfd >= 0)
		close(s->lfd);
	return NULL;
}

/* A probe run on the pool, for the concurrent checks. */
struct pool_probe {
	struct spec_handler h;
	struct probe_target t;
	enum probe_result r;
};

static void pool_probe_job(void *arg)
{
	struct pool_probe *pp = arg;
	char *msg;
	pp->r = probe_run(&pp->h, &pp->t, 2000, &msg, NULL);
	free(msg);
}

TEST(netns_probes)
{
	if (getenv("PODFS_TEST_NO_NETNS") || geteuid() != 0) {
		printf("# skip: network namespaces need root\n");
		return;
	}
	char dir[] = "/tmp/podfs-probe-ns-XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	char *ns = xasprintf("%s/net", dir), *err = NULL;
	if (netns_create(ns, &err) < 0) {
		printf("# skip: %s\n", err);
		free(err);
		free(ns);
		rmdir(dir);
		return;
	}
	struct ns_srv s = {.ns = ns, .lfd = -1};
	sem_init(&s.ready, 0, 0);
	atomic_store(&s.stop, false);
	CHECK(pthread_create(&s.th, NULL, ns_main, &s) == 0);
	sem_wait(&s.ready);
	CHECK(s.err == 0 && s.port > 0);
	int port = s.port;

	ino_t before = my_netns();
	struct spec_handler h = handler(SPEC_H_TCP, port, NULL);
	struct probe_target in_ns = {.host = "127.0.0.1", .netns_path = ns};
	char *msg;
	CHECK(probe_run(&h, &in_ns, 1000, &msg, NULL) == PROBE_SUCCESS);
	CHECK(msg == NULL);
	/* the same port on the node: nobody listens */
	CHECK(probe_run(&h, &local, 1000, &msg, NULL) == PROBE_FAILURE);
	CHECK_CONTAINS(msg, "connection refused");
	free(msg);

	struct spec_handler hh = handler(SPEC_H_HTTP, port, "/");
	char *out;
	CHECK(probe_run(&hh, &in_ns, 1000, &msg, &out) == PROBE_SUCCESS);
	CHECK_STREQ(out, "ns");
	free(out);
	CHECK(probe_run(&hh, &local, 1000, &msg, NULL) == PROBE_FAILURE);
	CHECK_CONTAINS(msg, "connection refused");
	free(msg);

	/* a namespace that is gone */
	char *gone = xasprintf("%s/nosuch", dir);
	struct probe_target bad = {.host = "127.0.0.1", .netns_path = gone};
	CHECK(probe_run(&h, &bad, 1000, &msg, NULL) == PROBE_FAILURE);
	CHECK_CONTAINS(msg, "open network namespace");
	free(msg);
	CHECK(probe_run(&hh, &bad, 1000, &msg, NULL) == PROBE_FAILURE);
	CHECK_CONTAINS(msg, "open network namespace");
	free(msg);
	free(gone);
	/* and this thread is back in its own namespace after each */
	CHECK(before != 0 && my_netns() == before);

	/* threads entering the namespace do not disturb each other: probes
	 * into the pod and to the node at once on a pool */
	struct pool_probe pp[40];
	struct probe_pool *pool = probe_pool_start(4);
	CHECK(pool != NULL);
	for (int i = 0; pool && i < 40; i++) {
		if (i % 2) {
			pp[i].h = handler(SPEC_H_TCP, port, NULL);
			pp[i].t = in_ns;
		} else {
			pp[i].h = handler(SPEC_H_HTTP, srv.port, "/ok");
			pp[i].t = local;
		}
		pp[i].r = PROBE_ERROR;
		probe_pool_submit(pool, pool_probe_job, &pp[i]);
	}
	probe_pool_stop(pool);
	int ok = 0;
	for (int i = 0; i < 40; i++)
		ok += pp[i].r == PROBE_SUCCESS;
	CHECK(ok == 40);

	atomic_store(&s.stop, true);
	pthread_join(s.th, NULL);
	sem_destroy(&s.ready);
	CHECK(ns_unpin(ns) == 0);
	CHECK(rmdir(dir) == 0);
	free(ns);
}

/* ---- the pool -------------------------------------------------------------- */

struct pool_rec {
	pthread_mutex_t mu;
	int order[100];
	int n;
	pthread_t seen[8];
	int nseen;
	atomic_int done;
};

struct pool_arg {
	struct pool_rec *rec;
	int i;
	int sleep_us;
};

static void pool_job(void *arg)
{
	struct pool_arg *a = arg;
	if (a->sleep_us)
		usleep((useconds_t)a->sleep_us);
	pthread_mutex_lock(&a->rec->mu);
	a->rec->order[a->rec->n++] = a->i;
	bool known = false;
	for (int k = 0; k < a->rec->nseen; k++)
		known |= pthread_equal(a->rec->seen[k], pthread_self()) != 0;
	if (!known && a->rec->nseen < 8)
		a->rec->seen[a->rec->nseen++] = pthread_self();
	pthread_mutex_unlock(&a->rec->mu);
	atomic_fetch_add(&a->rec->done, 1);
}

static void pool_round(int threads, int sleep_us, struct pool_rec *rec)
{
	static struct pool_arg args[100];
	memset(rec, 0, sizeof(*rec));
	pthread_mutex_init(&rec->mu, NULL);
	struct probe_pool *p = probe_pool_start(threads);
	CHECK(p != NULL);
	if (!p)
		return;
	for (int i = 0; i < 100; i++) {
		args[i] = (struct pool_arg){.rec = rec, .i = i, .sleep_us = sleep_us};
		probe_pool_submit(p, pool_job, &args[i]);
	}
	probe_pool_stop(p); /* drains the queue first */
	CHECK(atomic_load(&rec->done) == 100);
	CHECK(rec->n == 100);
	pthread_mutex_destroy(&rec->mu);
}

TEST(pool)
{
	struct pool_rec rec;
	pool_round(4, 2000, &rec);
	CHECK(rec.nseen > 1);
	/* one thread: strictly first in, first out */
	pool_round(1, 0, &rec);
	bool in_order = true;
	for (int i = 0; i < 100; i++)
		in_order &= rec.order[i] == i;
	CHECK(in_order);
	CHECK(rec.nseen == 1);
	probe_pool_stop(NULL);
	/* stop with nothing queued */
	struct probe_pool *p = probe_pool_start(2);
	CHECK(p != NULL);
	probe_pool_stop(p);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	if (http_start() < 0) {
		perror("http server");
		return 1;
	}
	RUN(http_success_and_status);
	RUN(http_redirects);
	RUN(http_timeout);
	RUN(http_refused);
	RUN(http_headers_and_named_port);
	RUN(http_bad_header);
	RUN(http_unknown_named_port);
	RUN(http_url);
	RUN(https_insecure);
	RUN(tcp_probes);
	RUN(tcp_timeout);
	RUN(sleep_handler);
	RUN(grpc_encoding);
	RUN(grpc_health);
	RUN(grpc_errors);
	RUN(exec_argv);
	RUN(exec_expansion);
	RUN(go_durations);
	RUN(exec_runc_errors);
	RUN(exec_in_container);
	RUN(netns_probes);
	RUN(pool);
	http_stop();
	return th_report();
}
