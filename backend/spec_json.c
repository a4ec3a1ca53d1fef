/* spec_json.c: a validated spec rendered back as a Kubernetes Pod object in
 * JSON, with every default filled in (what `podfs validate` prints). */
#include "backend/spec.h"
#include "backend/quantity.h"
#include "backend/util.h"

#include <jansson.h>

static json_t *jstr_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *strlist_json(const struct spec_strlist *l)
{
	json_t *a = json_array();
	for (size_t i = 0; i < l->n; i++)
		json_array_append_new(a, json_string(l->v[i]));
	return a;
}

static json_t *kv_object(const struct spec_kvlist *l)
{
	json_t *o = json_object();
	for (size_t i = 0; i < l->n; i++)
		json_object_set_new(o, l->v[i].key, json_string(l->v[i].value));
	return o;
}

static json_t *port_ref_json(const struct spec_port_ref *p)
{
	return p->is_name ? json_string(p->name) : json_integer(p->num);
}

static json_t *handler_json(const struct spec_handler *h)
{
	json_t *o = json_object();
	json_t *a = json_object();
	switch (h->kind) {
	case SPEC_H_EXEC:
		json_object_set_new(a, "command", strlist_json(&h->exec_command));
		json_object_set_new(o, "exec", a);
		break;
	case SPEC_H_HTTP:
		json_object_set_new(a, "path", jstr_or_null(h->path));
		json_object_set_new(a, "port", port_ref_json(&h->port));
		if (h->host)
			json_object_set_new(a, "host", json_string(h->host));
		json_object_set_new(a, "scheme", jstr_or_null(h->scheme));
		if (h->http_headers.n) {
			json_t *hs = json_array();
			for (size_t i = 0; i < h->http_headers.n; i++)
				json_array_append_new(hs,
						      json_pack("{s:s?,s:s?}", "name",
								h->http_headers.v[i].key, "value",
								h->http_headers.v[i].value));
			json_object_set_new(a, "httpHeaders", hs);
		}
		json_object_set_new(o, "httpGet", a);
		break;
	case SPEC_H_TCP:
		json_object_set_new(a, "port", port_ref_json(&h->port));
		if (h->host)
			json_object_set_new(a, "host", json_string(h->host));
		json_object_set_new(o, "tcpSocket", a);
		break;
	case SPEC_H_GRPC:
		json_object_set_new(a, "port", json_integer(h->port.num));
		json_object_set_new(a, "service", json_string(h->grpc_service ? h->grpc_service : ""));
		json_object_set_new(o, "grpc", a);
		break;
	case SPEC_H_SLEEP:
		json_object_set_new(a, "seconds", json_integer(h->sleep_seconds));
		json_object_set_new(o, "sleep", a);
		break;
	case SPEC_H_NONE:
		json_decref(a);
		break;
	}
	return o;
}

static json_t *probe_json(const struct spec_probe *p)
{
	json_t *o = handler_json(&p->h);
	json_object_set_new(o, "initialDelaySeconds", json_integer(p->initial_delay_seconds));
	json_object_set_new(o, "timeoutSeconds", json_integer(p->timeout_seconds));
	json_object_set_new(o, "periodSeconds", json_integer(p->period_seconds));
	json_object_set_new(o, "successThreshold", json_integer(p->success_threshold));
	json_object_set_new(o, "failureThreshold", json_integer(p->failure_threshold));
	if (p->has_termination_grace)
		json_object_set_new(o, "terminationGracePeriodSeconds",
				    json_integer(p->termination_grace_seconds));
	return o;
}

static json_t *rlist_json(const struct spec_rlist *r)
{
	json_t *o = json_object();
	char buf[64];
	if (r->has_cpu)
		json_object_set_new(o, "cpu",
				    json_string(qty_format_milli(r->cpu_milli, buf, sizeof(buf))));
	if (r->has_ephemeral)
		json_object_set_new(o, "ephemeral-storage",
				    json_string(qty_format_bytes(r->ephemeral, buf, sizeof(buf))));
	if (r->has_memory)
		json_object_set_new(o, "memory",
				    json_string(qty_format_bytes(r->memory, buf, sizeof(buf))));
	return o;
}

static json_t *security_json(const struct spec_security *s)
{
	json_t *o = json_object();
	if (s->has_run_as_user)
		json_object_set_new(o, "runAsUser", json_integer(s->run_as_user));
	if (s->has_run_as_group)
		json_object_set_new(o, "runAsGroup", json_integer(s->run_as_group));
	if (s->has_run_as_non_root)
		json_object_set_new(o, "runAsNonRoot", json_boolean(s->run_as_non_root));
	if (s->has_privileged)
		json_object_set_new(o, "privileged", json_boolean(s->privileged));
	if (s->has_read_only_root)
		json_object_set_new(o, "readOnlyRootFilesystem", json_boolean(s->read_only_root));
	if (s->has_allow_priv_esc)
		json_object_set_new(o, "allowPrivilegeEscalation", json_boolean(s->allow_priv_esc));
	if (s->cap_add.set || s->cap_drop.set) {
		json_t *caps = json_object();
		if (s->cap_add.set)
			json_object_set_new(caps, "add", strlist_json(&s->cap_add));
		if (s->cap_drop.set)
			json_object_set_new(caps, "drop", strlist_json(&s->cap_drop));
		json_object_set_new(o, "capabilities", caps);
	}
	return o;
}

static json_t *container_json(const struct spec_container *c)
{
	json_t *o = json_object();
	json_object_set_new(o, "name", json_string(c->name));
	json_object_set_new(o, "image", json_string(c->image));
	json_object_set_new(o, "imagePullPolicy", json_string(c->image_pull_policy));
	if (c->command.set)
		json_object_set_new(o, "command", strlist_json(&c->command));
	if (c->args.set)
		json_object_set_new(o, "args", strlist_json(&c->args));
	if (c->working_dir)
		json_object_set_new(o, "workingDir", json_string(c->working_dir));
	if (c->nports) {
		json_t *a = json_array();
		for (size_t i = 0; i < c->nports; i++) {
			const struct spec_port *p = &c->ports[i];
			json_t *po = json_object();
			if (p->name)
				json_object_set_new(po, "name", json_string(p->name));
			json_object_set_new(po, "containerPort", json_integer(p->container_port));
			if (p->host_port)
				json_object_set_new(po, "hostPort", json_integer(p->host_port));
			if (p->host_ip)
				json_object_set_new(po, "hostIP", json_string(p->host_ip));
			json_object_set_new(po, "protocol", json_string(p->protocol));
			json_array_append_new(a, po);
		}
		json_object_set_new(o, "ports", a);
	}
	if (c->nenv) {
		json_t *a = json_array();
		for (size_t i = 0; i < c->nenv; i++) {
			const struct spec_env *e = &c->env[i];
			json_t *eo = json_object();
			json_object_set_new(eo, "name", json_string(e->name));
			if (e->source == SPEC_ENV_VALUE) {
				json_object_set_new(eo, "value", json_string(e->value));
			} else if (e->source == SPEC_ENV_FIELD) {
				json_object_set_new(
					eo, "valueFrom",
					json_pack("{s:{s:s,s:s}}", "fieldRef", "apiVersion",
						  e->field_api_version, "fieldPath", e->field_path));
			} else {
				json_t *r = json_pack("{s:s,s:s}", "resource", e->resource, "divisor",
						      e->divisor);
				if (e->container_name)
					json_object_set_new(r, "containerName",
							    json_string(e->container_name));
				json_object_set_new(eo, "valueFrom",
						    json_pack("{s:o}", "resourceFieldRef", r));
			}
			json_array_append_new(a, eo);
		}
		json_object_set_new(o, "env", a);
	}
	json_object_set_new(o, "resources",
			    json_pack("{s:o,s:o}", "limits", rlist_json(&c->resources.limits),
				      "requests", rlist_json(&c->resources.requests)));
	if (c->liveness)
		json_object_set_new(o, "livenessProbe", probe_json(c->liveness));
	if (c->readiness)
		json_object_set_new(o, "readinessProbe", probe_json(c->readiness));
	if (c->startup)
		json_object_set_new(o, "startupProbe", probe_json(c->startup));
	if (c->post_start || c->pre_stop) {
		json_t *l = json_object();
		if (c->post_start)
			json_object_set_new(l, "postStart", handler_json(c->post_start));
		if (c->pre_stop)
			json_object_set_new(l, "preStop", handler_json(c->pre_stop));
		json_object_set_new(o, "lifecycle", l);
	}
	if (c->nmounts) {
		json_t *a = json_array();
		for (size_t i = 0; i < c->nmounts; i++) {
			const struct spec_mount *m = &c->mounts[i];
			json_t *mo = json_pack("{s:s,s:s}", "name", m->name, "mountPath",
					       m->mount_path);
			if (m->sub_path)
				json_object_set_new(mo, "subPath", json_string(m->sub_path));
			if (m->read_only)
				json_object_set_new(mo, "readOnly", json_true());
			json_array_append_new(a, mo);
		}
		json_object_set_new(o, "volumeMounts", a);
	}
	if (c->security.set)
		json_object_set_new(o, "securityContext", security_json(&c->security));
	json_object_set_new(o, "terminationMessagePath", json_string(c->termination_message_path));
	json_object_set_new(o, "terminationMessagePolicy",
			    json_string(c->termination_message_policy));
	if (c->restart_policy)
		json_object_set_new(o, "restartPolicy", json_string(c->restart_policy));
	if (c->stdin_open)
		json_object_set_new(o, "stdin", json_true());
	if (c->tty)
		json_object_set_new(o, "tty", json_true());
	return o;
}

char *spec_to_json(const struct spec_pod *pod)
{
	json_t *meta = json_object();
	if (pod->name)
		json_object_set_new(meta, "name", json_string(pod->name));
	json_object_set_new(meta, "namespace", json_string(pod->namespace));
	if (pod->uid)
		json_object_set_new(meta, "uid", json_string(pod->uid));
	if (pod->labels.n)
		json_object_set_new(meta, "labels", kv_object(&pod->labels));
	if (pod->annotations.n)
		json_object_set_new(meta, "annotations", kv_object(&pod->annotations));

	json_t *spec = json_object();
	if (pod->ninit) {
		json_t *a = json_array();
		for (size_t i = 0; i < pod->ninit; i++)
			json_array_append_new(a, container_json(&pod->init_containers[i]));
		json_object_set_new(spec, "initContainers", a);
	}
	json_t *a = json_array();
	for (size_t i = 0; i < pod->ncont; i++)
		json_array_append_new(a, container_json(&pod->containers[i]));
	json_object_set_new(spec, "containers", a);
	json_object_set_new(spec, "restartPolicy", json_string(pod->restart_policy));
	json_object_set_new(spec, "terminationGracePeriodSeconds",
			    json_integer(pod->termination_grace_seconds));
	if (pod->has_active_deadline)
		json_object_set_new(spec, "activeDeadlineSeconds",
				    json_integer(pod->active_deadline_seconds));
	if (pod->nvolumes) {
		json_t *vs = json_array();
		for (size_t i = 0; i < pod->nvolumes; i++) {
			const struct spec_volume *v = &pod->volumes[i];
			json_t *vo = json_pack("{s:s}", "name", v->name);
			if (v->kind == SPEC_VOL_EMPTYDIR) {
				json_t *ed = json_object();
				if (*v->medium)
					json_object_set_new(ed, "medium", json_string(v->medium));
				if (v->has_size_limit) {
					char buf[64];
					json_object_set_new(ed, "sizeLimit",
							    json_string(qty_format_bytes(
								    v->size_limit, buf, sizeof(buf))));
				}
				json_object_set_new(vo, "emptyDir", ed);
			} else {
				json_object_set_new(vo, "hostPath",
						    json_pack("{s:s,s:s}", "path", v->host_path,
							      "type", v->host_path_type));
			}
			json_array_append_new(vs, vo);
		}
		json_object_set_new(spec, "volumes", vs);
	}
	if (pod->hostname)
		json_object_set_new(spec, "hostname", json_string(pod->hostname));
	if (pod->subdomain)
		json_object_set_new(spec, "subdomain", json_string(pod->subdomain));
	if (pod->node_name)
		json_object_set_new(spec, "nodeName", json_string(pod->node_name));
	if (pod->service_account_name)
		json_object_set_new(spec, "serviceAccountName",
				    json_string(pod->service_account_name));
	if (pod->host_network)
		json_object_set_new(spec, "hostNetwork", json_true());
	if (pod->share_process_namespace)
		json_object_set_new(spec, "shareProcessNamespace", json_true());
	if (pod->nhost_aliases) {
		json_t *ha = json_array();
		for (size_t i = 0; i < pod->nhost_aliases; i++)
			json_array_append_new(
				ha, json_pack("{s:s,s:o}", "ip", pod->host_aliases[i].ip, "hostnames",
					      strlist_json(&pod->host_aliases[i].hostnames)));
		json_object_set_new(spec, "hostAliases", ha);
	}
	if (pod->security.set) {
		json_t *sc = security_json(&pod->security);
		if (pod->has_fs_group)
			json_object_set_new(sc, "fsGroup", json_integer(pod->fs_group));
		json_object_set_new(spec, "securityContext", sc);
	}

	json_t *root = json_pack("{s:s,s:s,s:o,s:o}", "apiVersion", "v1", "kind", "Pod", "metadata",
				 meta, "spec", spec);
	char *s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	char *out = xstrdup(s ? s : "{}");
	free(s);
	return out;
}
