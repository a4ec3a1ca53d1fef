/* backend.c: entry points of backend.h that tie the modules together. */
#include "backend/backend.h"
#include "backend/spec.h"
#include "backend/util.h"
#include "backend/yamltree.h"

#include <errno.h>
#include <string.h>

int backend_validate_buf(const char *name, const char *buf, size_t len, char **json,
			 char **errors)
{
	struct diag_list errs = {0};
	struct spec_pod *pod = NULL;
	*json = NULL;
	*errors = NULL;
	int r = spec_parse(buf, len, &pod, &errs);
	if (r < 0) {
		*errors = diag_format_all(&errs, name);
	} else {
		*json = spec_to_json(pod);
		spec_pod_free(pod);
	}
	diag_list_free(&errs);
	return r;
}

int backend_validate_file(const char *file, char **json, char **errors)
{
	char *buf = NULL;
	size_t len = 0;
	*json = NULL;
	*errors = NULL;
	/* read one byte past the limit so "too large" is reported as such */
	int r = util_read_file(strcmp(file, "-") ? file : "/dev/stdin", YT_MAX_BYTES + 1, &buf, &len);
	if (r == -EFBIG) {
		*errors = xasprintf("%s: manifest is larger than the limit of %d bytes (1 MiB)\n", file,
				    YT_MAX_BYTES);
		return -EINVAL;
	}
	if (r < 0) {
		*errors = xasprintf("%s: cannot read: %s\n", file, strerror(-r));
		return r;
	}
	r = backend_validate_buf(file, buf, len, json, errors);
	free(buf);
	return r;
}
