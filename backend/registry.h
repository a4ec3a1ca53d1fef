/* registry.h: the OCI distribution (v2) client that pulls images into the
 * image store: endpoints (mirrors, plain HTTP for insecure registries),
 * authentication (anonymous, Bearer tokens from WWW-Authenticate, Basic
 * from a Docker-style auths file), manifests by tag or digest with an
 * index resolved to linux/amd64, blobs streamed into the store's verifying
 * sinks. Registry replies are hostile input: sizes capped, every digest
 * checked, no credentials sent to a redirect target on another host.
 *
 * Endpoints of a registry, tried in order: its mirrors (--registry-mirror
 * REG=URL), then the registry itself (https://HOST, or http://HOST for an
 * --insecure-registry HOST:PORT and for loopback hosts: localhost,
 * 127.0.0.0/8, [::1]; docker.io is https://registry-1.docker.io). The next
 * endpoint is tried only when one cannot be reached or answers 5xx/429; a
 * definite answer (not found, denied, bad content) is final. */
#ifndef PODFS_REGISTRY_H
#define PODFS_REGISTRY_H

#include "backend/image.h"

#include <stdbool.h>
#include <stdint.h>

struct registry;

/* A client with its settings and token cache; thread-safe. */
struct registry *registry_new(void);
void registry_free(struct registry *r);
/* "REG=URL", e.g. "docker.io=http://127.0.0.1:5000". -EINVAL with *err. */
int registry_add_mirror(struct registry *r, const char *spec, char **err);
/* "HOST[:PORT]": talk plain HTTP to it. */
int registry_add_insecure(struct registry *r, const char *hostport, char **err);
/* The Docker-style credentials file ({"auths": {"HOST": {"auth":
 * base64(user:pass)} or {"username","password"}}}); read at each pull. A
 * missing file means anonymous. */
void registry_set_auth_file(struct registry *r, const char *path);
/* TLS per registry, as Docker's certs.d: DIR/HOST:PORT/ holds *.crt (CA
 * certificates, trusted on top of the system's) and NAME.cert with
 * NAME.key (a client certificate). A registry with such a directory is
 * spoken to over HTTPS, even on loopback. NULL: none. */
void registry_set_certs_dir(struct registry *r, const char *dir);
/* Abort pulls in flight (their transfers fail with "cancelled"). */
void registry_cancel(struct registry *r);

struct registry_progress {
	void (*cb)(void *arg, int64_t done, int64_t total);
	void *arg;
};

/* Pull REF into ST (normalized reference; by tag or digest). Concurrent
 * pulls of one reference (threads or processes) are serialized, and the
 * second finds the layers in the store. Errors (with *err in the user's
 * terms): -EINVAL InvalidImageName, -ENOENT tag or repository not found,
 * -EACCES authentication, -EHOSTUNREACH registry unreachable, -EBADMSG bad
 * content, others. */
int registry_pull(struct registry *r, struct image_store *st, const char *ref,
		  const struct registry_progress *prog, struct image_ingest_result *res,
		  char **err);

/* A client set up from the command line's options (backend_opts):
 * mirrors, insecure registries, the credentials file (default
 * STATE_DIR/auth.json). In imagecmd.c. */
struct backend_opts;
int backend_registry_setup(const struct backend_opts *o, const char *state_dir,
			   struct registry **out, char **err);

/* ---- exposed for unit tests -------------------------------------------- */

/* One challenge of a WWW-Authenticate header: the Bearer one if there is
 * one, else Basic. Returns 0, or -EINVAL if neither is there. */
struct registry_challenge {
	char *scheme; /* "Bearer" or "Basic" */
	char *realm, *service, *scope;
};
int registry_parse_challenge(const char *header, struct registry_challenge *out);
void registry_challenge_clear(struct registry_challenge *c);

/* The endpoint base URL for a registry host ("docker.io",
 * "127.0.0.1:5000") without mirrors: https://..., or http:// if insecure. */
char *registry_endpoint_url(struct registry *r, const char *host);

/* Basic credentials ("user:pass") for HOST from the auths file's JSON
 * text, or NULL. */
char *registry_auth_lookup(const char *json, size_t len, const char *host);

/* Tags close to WANT among TAGS (NULL-terminated): "\"a\"" or "\"a\" or
 * \"b\"", or NULL. */
char *registry_close_tags(const char *want, char *const *tags);

/* Parsers of registry replies (hostile input), used by the pull and
 * exposed for tests/fuzz/fuzz_registry.c. */
/* A token service's reply ({"token" or "access_token", "expires_in"}): 0,
 * *TOKEN (printable ASCII, under 16 KiB; caller frees) and *TTL_S
 * (expires_in, default 60, at most a day), or -EINVAL. */
int registry_parse_token(const char *body, size_t len, char **token, int64_t *ttl_s);
/* Push the tags of a tags/list reply ({"tags": [...]}) onto TAGS: the
 * strings of at most 128 bytes, up to 100000 in all. */
struct strv;
void registry_parse_tags(const char *body, size_t len, struct strv *tags);
/* The registry's words from an error body ({"errors":[{"code",
 * "message"}]}): "MESSAGE (CODE)", printable, at most 300 bytes, or "";
 * the first error's code into CODE_OUT (may be NULL). Caller frees. */
char *registry_error_message(const char *body, size_t len, char *code_out, size_t code_len);

#endif
