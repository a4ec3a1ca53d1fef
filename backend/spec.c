/* spec.c: the manifest pipeline (load YAML, decode, default, validate) and
 * the destructor for struct spec_pod. */
#include "backend/spec.h"
#include "backend/util.h"
#include "backend/yamltree.h"

#include <errno.h>
#include <string.h>

/* Is P a prefix of PATH at a segment boundary (or equal to it)? */
static bool path_within(const char *path, const char *p)
{
	size_t n = strlen(p);
	return !strncmp(path, p, n) && (path[n] == '\0' || path[n] == '.' || path[n] == '[');
}

int spec_parse(const char *buf, size_t len, struct spec_pod **out, struct diag_list *errs)
{
	*out = NULL;
	struct yt_doc *doc = NULL;
	if (yt_load(buf, len, &doc, errs) < 0)
		return -EINVAL;
	struct spec_pod *pod = xcalloc(1, sizeof(*pod));
	size_t before = errs->n + errs->dropped;
	size_t first = errs->n;
	spec_decode(doc->root, pod, errs);
	if (doc->root && doc->root->kind == YT_MAP) {
		/* Validate even what decoded partly, so all errors come at once;
		 * but drop validation errors under a path that already has a
		 * decode error ("image: required" after "image: expected a
		 * string"). */
		struct diag_list verrs = {0};
		spec_apply_defaults(pod);
		spec_validate(pod, doc->root, &verrs);
		size_t ndecode = errs->n;
		for (size_t i = 0; i < verrs.n; i++) {
			struct diag *d = &verrs.v[i];
			bool shadowed = false;
			for (size_t j = first; j < ndecode && !shadowed; j++)
				shadowed = *errs->v[j].path && path_within(d->path, errs->v[j].path);
			if (!shadowed)
				diag_add(errs, d->path, d->line, d->col, "%s", d->msg);
		}
		errs->dropped += verrs.dropped;
		diag_list_free(&verrs);
	}
	yt_free(doc);
	diag_sort(errs);
	if (errs->n + errs->dropped > before) {
		spec_pod_free(pod);
		return -EINVAL;
	}
	*out = pod;
	return 0;
}

static void strlist_free(struct spec_strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static void kvlist_free(struct spec_kvlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].value);
	}
	free(l->v);
}

static void handler_free(struct spec_handler *h)
{
	if (!h)
		return;
	strlist_free(&h->exec_command);
	free(h->host);
	free(h->path);
	free(h->scheme);
	free(h->port.name);
	kvlist_free(&h->http_headers);
	free(h->grpc_service);
}

static void probe_free(struct spec_probe *p)
{
	if (!p)
		return;
	handler_free(&p->h);
	free(p);
}

static void container_free(struct spec_container *c)
{
	free(c->name);
	free(c->image);
	free(c->image_pull_policy);
	strlist_free(&c->command);
	strlist_free(&c->args);
	free(c->working_dir);
	for (size_t i = 0; i < c->nports; i++) {
		free(c->ports[i].name);
		free(c->ports[i].host_ip);
		free(c->ports[i].protocol);
	}
	free(c->ports);
	for (size_t i = 0; i < c->nenv; i++) {
		struct spec_env *e = &c->env[i];
		free(e->name);
		free(e->value);
		free(e->field_path);
		free(e->field_api_version);
		free(e->resource);
		free(e->container_name);
		free(e->divisor);
	}
	free(c->env);
	probe_free(c->liveness);
	probe_free(c->readiness);
	probe_free(c->startup);
	handler_free(c->post_start);
	free(c->post_start);
	handler_free(c->pre_stop);
	free(c->pre_stop);
	for (size_t i = 0; i < c->nmounts; i++) {
		free(c->mounts[i].name);
		free(c->mounts[i].mount_path);
		free(c->mounts[i].sub_path);
	}
	free(c->mounts);
	strlist_free(&c->security.cap_add);
	strlist_free(&c->security.cap_drop);
	free(c->termination_message_path);
	free(c->termination_message_policy);
	free(c->restart_policy);
}

void spec_pod_free(struct spec_pod *pod)
{
	if (!pod)
		return;
	free(pod->name);
	free(pod->namespace);
	free(pod->uid);
	kvlist_free(&pod->labels);
	kvlist_free(&pod->annotations);
	for (size_t i = 0; i < pod->ninit; i++)
		container_free(&pod->init_containers[i]);
	free(pod->init_containers);
	for (size_t i = 0; i < pod->ncont; i++)
		container_free(&pod->containers[i]);
	free(pod->containers);
	free(pod->restart_policy);
	for (size_t i = 0; i < pod->nvolumes; i++) {
		free(pod->volumes[i].name);
		free(pod->volumes[i].medium);
		free(pod->volumes[i].host_path);
		free(pod->volumes[i].host_path_type);
	}
	free(pod->volumes);
	free(pod->hostname);
	free(pod->subdomain);
	free(pod->node_name);
	free(pod->service_account_name);
	for (size_t i = 0; i < pod->nhost_aliases; i++) {
		free(pod->host_aliases[i].ip);
		strlist_free(&pod->host_aliases[i].hostnames);
	}
	free(pod->host_aliases);
	strlist_free(&pod->security.cap_add);
	strlist_free(&pod->security.cap_drop);
	free(pod);
}

const char *spec_annotation(const struct spec_pod *pod, const char *key)
{
	for (size_t i = 0; i < pod->annotations.n; i++)
		if (!strcmp(pod->annotations.v[i].key, key))
			return pod->annotations.v[i].value;
	return NULL;
}

const struct spec_container *spec_default_container(const struct spec_pod *pod)
{
	const char *want = spec_annotation(pod, "kubectl.kubernetes.io/default-container");
	if (want)
		for (size_t i = 0; i < pod->ncont; i++)
			if (!strcmp(pod->containers[i].name, want))
				return &pod->containers[i];
	return pod->ncont ? &pod->containers[0] : NULL;
}
