/* fuzz_image.c: libFuzzer target for the image JSON parsers of
 * backend/image.c (image_parse.h), fed by layouts, archives and registries
 * (hostile input). Every input is given to each of them, so a seed is
 * simply a real document:
 *   - an image manifest (image_parse_manifest), then its layer media types;
 *   - an image index and the platform choice (image_parse_index), then the
 *     reference names of its entries (image_normalize_ref);
 *   - an image config (image_parse_config);
 *   - a short input as an image reference (image_normalize_ref).
 * Besides the sanitizers' findings, a broken promise of image_parse.h
 * aborts. See docs/fuzzing.md. */
#include "backend/image_parse.h"
#include "backend/util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_digest(const char *d)
{
	if (!d || strlen(d) != 71 || strncmp(d, "sha256:", 7) != 0)
		abort();
	for (const char *c = d + 7; *c; c++)
		if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
			abort();
}

static void check_desc(const struct desc *d)
{
	check_digest(d->digest);
	if (d->size < 0)
		abort();
}

static void check_ref(const char *ref)
{
	char *err = NULL;
	char *n = image_normalize_ref(ref, &err);
	if (!n == !err)
		abort();
	if (n) {
		/* a normalized reference normalizes to itself */
		char *err2 = NULL;
		char *again = image_normalize_ref(n, &err2);
		if (!again || strcmp(again, n) != 0)
			abort();
		free(again);
	}
	free(n);
	free(err);
}

static void check_manifest(const char *data, size_t size)
{
	struct manifest m;
	char *err = NULL;
	if (image_parse_manifest(data, size, &m, &err) < 0) {
		if (!err || m.layers || m.nlayers || m.config.digest)
			abort();
		free(err);
		return;
	}
	if (err || m.nlayers > 256)
		abort();
	check_desc(&m.config);
	for (size_t i = 0; i < m.nlayers; i++) {
		check_desc(&m.layers[i]);
		(void)image_layer_type_ok(m.layers[i].media_type);
	}
	image_manifest_free(&m);
}

static void check_index(const char *data, size_t size)
{
	struct desc *ds = NULL;
	size_t n = 0, pick = 0;
	char *err = NULL;
	if (image_parse_index(data, size, &ds, &n, &pick, &err) < 0) {
		if (!err || ds || n)
			abort();
		free(err);
		return;
	}
	if (err || pick >= n || n > 4096 || ds[pick].attestation)
		abort();
	for (size_t i = 0; i < n; i++) {
		check_desc(&ds[i]);
		if (ds[i].ref_name && i < 8)
			check_ref(ds[i].ref_name);
	}
	image_descs_free(ds, n);
}

static void check_config(const char *data, size_t size)
{
	struct parsed_config pc;
	char *err = NULL;
	if (image_parse_config(data, size, &pc, &err) < 0) {
		if (!err || pc.diff_ids || pc.cfg.env)
			abort();
		free(err);
		return;
	}
	if (err || !pc.cfg.env || !pc.diff_ids)
		abort();
	if (pc.cfg.has_entrypoint != !!pc.cfg.entrypoint || pc.cfg.has_cmd != !!pc.cfg.cmd)
		abort();
	size_t n = 0;
	for (; pc.diff_ids[n]; n++)
		check_digest(pc.diff_ids[n]);
	if (n != pc.ndiff)
		abort();
	if ((pc.cfg.working_dir && !*pc.cfg.working_dir) || (pc.cfg.user && !*pc.cfg.user))
		abort();
	image_parsed_config_free(&pc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_manifest((const char *)data, size);
	check_index((const char *)data, size);
	check_config((const char *)data, size);
	if (size < 512) {
		char *s = xstrndup((const char *)data, size);
		check_ref(s);
		free(s);
	}
	return 0;
}
