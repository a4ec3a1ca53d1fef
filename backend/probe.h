/* probe.h: the probe and hook handlers, as the kubelet runs them: exec in
 * the container (through runc, killed at the timeout), httpGet and
 * tcpSocket dialled from podfs (at the pod IP from the node, or inside the
 * pod's network namespace when it has no IP), grpc's
 * standard health check, and sleep. Each call is synchronous and bounded
 * by its timeout; the lifecycle runs them on a small pool of worker threads
 * (probe_pool) so one timer facility drives every probe and hook. */
#ifndef PODFS_PROBE_H
#define PODFS_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "backend/spec.h"

enum probe_result {
	PROBE_SUCCESS,
	PROBE_WARNING, /* success, with a warning (a redirect to another host) */
	PROBE_FAILURE,
	PROBE_ERROR, /* could not probe (unknown named port): no state change */
};

/* Where to reach the container. */
struct probe_target {
	const char *netns_path; /* the pod's pinned network namespace; NULL = the node's */
	/* default address when the handler has none: the pod IP (dialled
	 * from the node, netns_path NULL), or "127.0.0.1" inside netns_path
	 * for a pod without an IP */
	const char *host;
	const char *runc, *runc_root, *cid;	/* for exec */
	const struct spec_container *container; /* for named ports */
};

/* Run handler H against T within TIMEOUT_MS. Returns the result and, for
 * anything but a plain success, a message in *msg in Kubernetes' words
 * ("HTTP probe failed with statuscode: 500", "dial tcp 127.0.0.1:81:
 * connect: connection refused", "command timed out", "command \"false\"
 * exited with 1"); caller frees. For exec, *output (if non-NULL) gets up
 * to 10 KiB of the command's output.
 *
 * Details: TIMEOUT_MS <= 0 means no limit. For httpGet, *output gets the
 * response body (up to 10 KiB). sleep sleeps its seconds, cut short at
 * TIMEOUT_MS, and succeeds. PROBE_ERROR also when T lacks what H needs (no
 * host, no container for exec) or the port is out of range. Exec messages
 * quote the command: "command \"sh -c exit 3\" exited with 3: OUTPUT",
 * "command \"sleep 10\" timed out", and "runc exec: ..." when runc could
 * not start it (the container is not running). Safe to call from several
 * threads at once. */
enum probe_result probe_run(const struct spec_handler *h, const struct probe_target *t,
			    int timeout_ms, char **msg, char **output);

/* A fixed pool of worker threads running jobs in submission order. */
struct probe_pool;
typedef void (*probe_job_fn)(void *arg);
/* Start THREADS workers (at least 1), which block every signal but the
 * faults (SIGSEGV...). NULL with errno if no thread could be started. */
struct probe_pool *probe_pool_start(int threads);
/* Queue FN(ARG); never blocks. */
void probe_pool_submit(struct probe_pool *p, probe_job_fn fn, void *arg);
/* Finish the queued jobs and stop the threads; frees P (NULL is a no-op).
 * No submit may race with or follow it. */
void probe_pool_stop(struct probe_pool *p);

/* ---- Internal, exposed for tests (tests/unit/test_probe.c) ---------------- */

/* Output and response bodies are kept up to this many bytes. */
#define PROBE_MAX_OUTPUT (10 * 1024)
#define PROBE_USER_AGENT "kube-probe/1.30"

/* runc's argv for an exec probe: RUNC [--root=ROOT] exec --pid-file PID_FILE
 * CID CMD... (no tty, not detached). NULL-terminated, every string owned:
 * free with probe_argv_free. */
char **probe_exec_argv(const char *runc, const char *runc_root, const char *cid,
		       const char *pid_file, char *const *cmd);
void probe_argv_free(char **argv);
/* CMD with $(VAR) expanded from C's env as the kubelet does for an exec
 * probe (all of C's env names count, valueFrom ones as ""; $$ is $;
 * undefined names stay as written); C NULL: a copy. probe_run expands
 * the exec command of C's probes, not of its lifecycle hooks (the kubelet
 * runs those as written). Free with probe_argv_free. */
char **probe_exec_command(char *const *cmd, const struct spec_container *c);
/* CMD joined by spaces, as messages quote it: "sh -c exit 3". Caller frees. */
char *probe_exec_cmdline(char *const *cmd);

/* Resolve a port reference: a number, or a name looked up in C's
 * ports[].name (C may be NULL). Returns 0 and *port (1..65535), or -ENOENT
 * (unknown name) / -EINVAL (no port, out of range) with *msg. */
int probe_resolve_port(const struct spec_port_ref *ref, const struct spec_container *c, int *port,
		       char **msg);

/* The URL an httpGet handler requests: scheme://host:port/path, IPv6 hosts
 * in brackets, bytes not allowed in a URL percent-encoded. Caller frees. */
char *probe_http_url(const struct spec_handler *h, const char *host, int port);

/* A Go time.Duration as Go prints it, from milliseconds: "1s", "1.5s",
 * "500ms", "1m30s". Caller frees. */
char *probe_go_duration(int64_t ms);

/* gRPC health checking (grpc.health.v1). */
enum probe_grpc_serving {
	PROBE_GRPC_UNKNOWN = 0,
	PROBE_GRPC_SERVING = 1,
	PROBE_GRPC_NOT_SERVING = 2,
	PROBE_GRPC_SERVICE_UNKNOWN = 3,
};
/* A framed HealthCheckRequest{service}: the 5-byte gRPC message prefix
 * (uncompressed, big-endian length) and the protobuf. Caller frees. */
unsigned char *probe_grpc_request(const char *service, size_t *len);
/* Parse a framed HealthCheckResponse. 0 and *status, or -EBADMSG with *err
 * (caller frees). */
int probe_grpc_parse_response(const unsigned char *buf, size_t len, int *status, char **err);
/* "SERVING", "NOT_SERVING", ... or the number for values outside the enum;
 * caller frees. */
char *probe_grpc_status_name(int status);

#endif
