/* spec.h: the Pod manifest as typed C structs, and the one entry point that
 * turns manifest text into a defaulted, validated spec (as the API server
 * would: strict about unknown fields, every error with its field path and
 * YAML position). Parsing lives in spec_decode.c, defaults and validation
 * in spec_validate.c, the normalized JSON rendering in spec_json.c. */
#ifndef PODFS_SPEC_H
#define PODFS_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/diag.h"

struct spec_kv {
	char *key, *value;
};

struct spec_kvlist {
	struct spec_kv *v;
	size_t n;
};

struct spec_strlist {
	char **v; /* NULL-terminated when n > 0 */
	size_t n;
	bool set; /* present in the manifest (an empty list counts) */
};

/* A port given as a number or as a named container port. */
struct spec_port_ref {
	bool set;
	bool is_name;
	int64_t num;
	char *name;
};

enum spec_handler_kind {
	SPEC_H_NONE,
	SPEC_H_EXEC,
	SPEC_H_HTTP,
	SPEC_H_TCP,
	SPEC_H_GRPC,
	SPEC_H_SLEEP,
};

/* A probe or lifecycle-hook action. */
struct spec_handler {
	enum spec_handler_kind kind;
	struct spec_strlist exec_command;
	char *host; /* httpGet, tcpSocket; NULL = the pod IP */
	char *path; /* httpGet, defaulted to "/" */
	char *scheme; /* httpGet: HTTP | HTTPS */
	struct spec_port_ref port;
	struct spec_kvlist http_headers; /* name -> value */
	char *grpc_service; /* NULL = "" */
	int64_t sleep_seconds;
};

struct spec_probe {
	struct spec_handler h;
	int64_t initial_delay_seconds, timeout_seconds, period_seconds;
	int64_t success_threshold, failure_threshold;
	bool has_termination_grace;
	int64_t termination_grace_seconds;
};

enum spec_env_source { SPEC_ENV_VALUE, SPEC_ENV_FIELD, SPEC_ENV_RESOURCE };

struct spec_env {
	char *name;
	char *value; /* SPEC_ENV_VALUE; "" when absent */
	enum spec_env_source source;
	char *field_path, *field_api_version; /* SPEC_ENV_FIELD */
	char *resource, *container_name; /* SPEC_ENV_RESOURCE */
	char *divisor; /* as written, defaulted to "1" */
	__int128 divisor_milli; /* the divisor in milli-units (1Ei does not fit in 64 bits) */
};

struct spec_port {
	char *name; /* may be NULL */
	int64_t container_port, host_port;
	char *host_ip;
	char *protocol; /* TCP | UDP | SCTP */
};

/* One resource list (requests or limits). CPU in milli-CPU, memory and
 * ephemeral storage in bytes. */
struct spec_rlist {
	bool has_cpu, has_memory, has_ephemeral;
	int64_t cpu_milli, memory, ephemeral;
};

struct spec_resources {
	struct spec_rlist requests, limits;
};

struct spec_mount {
	char *name, *mount_path, *sub_path;
	bool read_only;
};

struct spec_security {
	bool set;
	bool has_run_as_user, has_run_as_group, has_run_as_non_root, has_privileged,
		has_read_only_root, has_allow_priv_esc;
	int64_t run_as_user, run_as_group;
	bool run_as_non_root, privileged, read_only_root, allow_priv_esc;
	struct spec_strlist cap_add, cap_drop;
};

struct spec_container {
	char *name, *image, *image_pull_policy;
	struct spec_strlist command, args;
	char *working_dir;
	struct spec_port *ports;
	size_t nports;
	struct spec_env *env;
	size_t nenv;
	struct spec_resources resources;
	struct spec_probe *liveness, *readiness, *startup; /* NULL if absent */
	struct spec_handler *post_start, *pre_stop; /* NULL if absent */
	struct spec_mount *mounts;
	size_t nmounts;
	struct spec_security security;
	char *termination_message_path, *termination_message_policy;
	char *restart_policy; /* init containers only: "Always" makes a sidecar */
	bool stdin_open, tty;
	bool is_init;
};

enum spec_volume_kind { SPEC_VOL_EMPTYDIR, SPEC_VOL_HOSTPATH };

struct spec_volume {
	char *name;
	enum spec_volume_kind kind;
	char *medium; /* emptyDir: "" or "Memory" */
	bool has_size_limit;
	int64_t size_limit; /* bytes */
	char *host_path, *host_path_type; /* hostPath */
};

struct spec_host_alias {
	char *ip;
	struct spec_strlist hostnames;
};

struct spec_pod {
	char *name; /* NULL when the manifest leaves it to the directory */
	char *namespace;
	char *uid; /* as given; NULL if not */
	struct spec_kvlist labels, annotations;
	struct spec_container *init_containers, *containers;
	size_t ninit, ncont;
	char *restart_policy;
	bool has_termination_grace;
	int64_t termination_grace_seconds;
	bool has_active_deadline;
	int64_t active_deadline_seconds;
	struct spec_volume *volumes;
	size_t nvolumes;
	char *hostname, *subdomain, *node_name, *service_account_name;
	bool host_network, share_process_namespace;
	struct spec_host_alias *host_aliases;
	size_t nhost_aliases;
	struct spec_security security; /* pod-level: runAsUser/Group/NonRoot */
	bool has_fs_group;
	int64_t fs_group;
};

/* Parse, default and validate a manifest. On success return 0 and a spec in
 * *out (owned by the caller, free with spec_pod_free). On failure return
 * -EINVAL, *out NULL, and every problem found in ERRS, sorted by position. */
int spec_parse(const char *buf, size_t len, struct spec_pod **out, struct diag_list *errs);
void spec_pod_free(struct spec_pod *pod);

/* The normalized spec (defaults applied) as a Pod object in JSON, indented.
 * Caller frees. */
char *spec_to_json(const struct spec_pod *pod);

/* What applying manifest NEW over the applied OLD changes: nothing that
 * counts (comments, layout, quoting, key order: SPEC_SAME), only the image
 * of some containers (SPEC_IMAGES, which Kubernetes updates in place), or
 * anything else (SPEC_REPLACE; also when either does not parse). */
enum spec_change { SPEC_SAME, SPEC_IMAGES, SPEC_REPLACE };
enum spec_change spec_compare(const char *old, size_t olen, const char *new, size_t nlen);

/* Exposed for tests and other modules. */
bool spec_is_dns1123_label(const char *s);
bool spec_is_dns1123_subdomain(const char *s);
/* The default container: the annotation kubectl.kubernetes.io/default-container
 * if it names a container, else the first app container. */
const struct spec_container *spec_default_container(const struct spec_pod *pod);
const char *spec_annotation(const struct spec_pod *pod, const char *key);

/* Internal, between the spec_*.c files. */
struct yt_node;
int spec_decode(const struct yt_node *root, struct spec_pod *pod, struct diag_list *errs);
void spec_apply_defaults(struct spec_pod *pod);
void spec_validate(const struct spec_pod *pod, const struct yt_node *root,
		   struct diag_list *errs);

#endif
