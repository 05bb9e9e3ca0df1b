/*
 * deppath.c: the paths a .blend file gives for the files it needs, made
 * into paths on the server. Blender writes "//" for the folder of the
 * .blend that holds the path (a linked library's own folder for what the
 * library names), and may have written it on Windows, with backslashes.
 * A numbered image sequence names one of its files: the others share the
 * text before and after the last run of digits in the name. A set of
 * UDIM tiles names them all with a token, <UDIM> (four digits, from 1001)
 * or <UVTILE> (u<column>_v<row>), or, in files older than the tokens, by
 * the name of the first tile, 1001.
 */
#include "bdfarm.h"
#include "deppath.h"

#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

#define DEPPATH_UDIM	"<UDIM>"
#define DEPPATH_UVTILE	"<UVTILE>"

/* The file name in path: what follows its last slash. */
const char *
deppath_base(const char *path)
{
	const char	*slash = strrchr(path, '/');

	return slash != NULL ? slash + 1 : path;
}

/*
 * Append the components of path to the normalised absolute path in out
 * (of len bytes so far, "" for the root): "." goes, ".." takes one back
 * (never above the root), empty components go. Returns the new length.
 */
static size_t
deppath_append(char *out, size_t len, const char *path)
{
	const char	*p = path, *end;
	size_t		 n;

	while (*p != '\0') {
		while (*p == '/')
			p++;
		if ((end = strchr(p, '/')) == NULL)
			end = p + strlen(p);
		n = (size_t)(end - p);
		if (n == 0 || (n == 1 && p[0] == '.'))
			;
		else if (n == 2 && p[0] == '.' && p[1] == '.') {
			while (len > 0 && out[len - 1] != '/')
				len--;
			if (len > 0)
				len--;
		} else {
			out[len++] = '/';
			memcpy(out + len, p, n);
			len += n;
		}
		p = end;
	}
	out[len] = '\0';
	return len;
}

/*
 * The absolute, normalised path on the server of path, as the .blend at
 * blend (an absolute path) gives it; a new string, or NULL for a path
 * that means nothing here: empty, or absolute on Windows.
 */
char *
deppath_resolve(const char *blend, const char *path)
{
	char	*out, *rel, *p;
	size_t	 len;

	if (path[0] == '\0' || path[1] == ':' ||
	    (path[0] == '\\' && path[1] == '\\'))
		return NULL;
	out = xmalloc(strlen(blend) + strlen(path) + 2);
	if (strncmp(path, "//", 2) == 0) {
		rel = xstrdup(path + 2);
		for (p = rel; *p != '\0'; p++) {
			if (*p == '\\')
				*p = '/';
		}
		len = deppath_append(out, 0, blend);
		while (len > 0 && out[len - 1] != '/')
			len--;
		if (len > 0)
			len--;
		out[len] = '\0';
		len = deppath_append(out, len, rel);
		free(rel);
	} else if (path[0] == '/')
		len = deppath_append(out, 0, path);
	else {
		free(out);
		return NULL;
	}
	if (len == 0) {
		out[0] = '/';
		out[1] = '\0';
	}
	return out;
}

/* The last run of digits in name, before its extension: start and end. */
static int
deppath_digits(const char *name, size_t *start, size_t *end)
{
	const char	*dot = strrchr(name, '.');
	size_t		 i = dot != NULL && dot != name ?
			    (size_t)(dot - name) : strlen(name);

	while (i > 0 && (name[i - 1] < '0' || name[i - 1] > '9'))
		i--;
	if (i == 0)
		return -1;
	*end = i;
	while (i > 0 && name[i - 1] >= '0' && name[i - 1] <= '9')
		i--;
	*start = i;
	return 0;
}

/* Whether s[0..n) is one or more digits. */
static int
deppath_all_digits(const char *s, size_t n)
{
	size_t	i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
	}
	return 1;
}

/*
 * Whether name is a file of the numbered sequence one of whose files is
 * called first: the same text around a run of digits.
 */
int
deppath_sequence_match(const char *first, const char *name)
{
	size_t	start, end, head, tail, len = strlen(name);

	if (deppath_digits(first, &start, &end) != 0)
		return strcmp(first, name) == 0;
	head = start;
	tail = strlen(first) - end;
	if (len < head + tail + 1 || strncmp(first, name, head) != 0 ||
	    strcmp(first + end, name + len - tail) != 0)
		return 0;
	return deppath_all_digits(name + head, len - head - tail);
}

/*
 * The file name pattern of a set of tiles named by name: name itself if
 * it holds a token, else with its "1001" made the <UDIM> token; a new
 * string, or NULL if name names one file only.
 */
char *
deppath_tiles_pattern(const char *name)
{
	const char	*at, *p;
	char		*out;

	if (strstr(name, DEPPATH_UDIM) != NULL ||
	    strstr(name, DEPPATH_UVTILE) != NULL)
		return xstrdup(name);
	for (at = NULL, p = name; (p = strstr(p, "1001")) != NULL; p++)
		at = p;
	if (at == NULL)
		return NULL;
	xasprintf(&out, "%.*s%s%s", (int)(at - name), name, DEPPATH_UDIM,
	    at + 4);
	return out;
}

/* Whether s starts with a tile number as the token at tok stands for. */
static size_t
deppath_tile_length(const char *s, int uvtile)
{
	size_t	n = 0, m;

	if (!uvtile) {
		if (!deppath_all_digits(s, 4) || s[0] == '0')
			return 0;
		return 4;
	}
	if (s[n++] != 'u')
		return 0;
	for (m = 0; s[n] >= '0' && s[n] <= '9'; n++)
		m++;
	if (m == 0 || s[n++] != '_' || s[n++] != 'v')
		return 0;
	for (m = 0; s[n] >= '0' && s[n] <= '9'; n++)
		m++;
	return m == 0 ? 0 : n;
}

/* Whether name is one of the tiles the pattern (with a token) names. */
int
deppath_tiles_match(const char *pattern, const char *name)
{
	const char	*tok;
	size_t		 head, toklen, n;
	int		 uvtile;

	if ((tok = strstr(pattern, DEPPATH_UDIM)) != NULL) {
		uvtile = 0;
		toklen = strlen(DEPPATH_UDIM);
	} else if ((tok = strstr(pattern, DEPPATH_UVTILE)) != NULL) {
		uvtile = 1;
		toklen = strlen(DEPPATH_UVTILE);
	} else
		return strcmp(pattern, name) == 0;
	head = (size_t)(tok - pattern);
	if (strncmp(pattern, name, head) != 0)
		return 0;
	if ((n = deppath_tile_length(name + head, uvtile)) == 0)
		return 0;
	return strcmp(tok + toklen, name + head + n) == 0;
}
