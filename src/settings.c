/*
 * settings.c: reading the configuration file. Every setting is described
 * once in a table, so that defaults, type checks, range checks and the
 * refusal of unknown names all come from the same place.
 */
#include "settings.h"

#include <errno.h>
#include <libconfig.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bdfarm.h"
#include "netrange.h"
#include "xmalloc.h"

enum setting_type {
	SETTING_INT,
	SETTING_INT64,
	SETTING_STRING,
	SETTING_BOOL,
	SETTING_COMMAND		/* a program: a string, or a list of strings */
};

struct setting_def {
	const char		*group;
	const char		*name;
	enum setting_type	 type;
	size_t			 offset;
	int64_t			 min;
	int64_t			 max;
	int64_t			 def;
	const char		*def_string;
};

#define S(field) offsetof(struct settings, field)
#define GIB ((int64_t)1 << 30)

static const struct setting_def setting_defs[] = {
	{ "server", "listen", SETTING_STRING, S(listen), 0, 0, 0, "" },
	{ "server", "peer_timeout", SETTING_INT, S(peer_timeout),
	    1, 86400, 10, NULL },
	{ "server", "client_timeout", SETTING_INT, S(client_timeout),
	    2, 86400, 30, NULL },
	{ "server", "redistribute_delay", SETTING_INT, S(redistribute_delay),
	    0, 86400 * 7, 180, NULL },
	{ "server", "rescan_interval", SETTING_INT, S(rescan_interval),
	    1, 3600, 5, NULL },
	{ "server", "blend_check_interval", SETTING_INT,
	    S(blend_check_interval), 1, 3600, 2, NULL },
	{ "server", "state_save_delay", SETTING_INT, S(state_save_delay),
	    0, 60000, 200, NULL },
	{ "server", "max_frame_size", SETTING_INT64, S(max_frame_size),
	    1, 64 * GIB, 2 * GIB, NULL },
	{ "server", "max_peers", SETTING_INT, S(max_peers),
	    0, 100000, 0, NULL },
	{ "server", "max_frames_held", SETTING_INT, S(max_frames_held),
	    1, 100000, 16, NULL },
	{ "server", "max_peers_per_address", SETTING_INT,
	    S(max_peers_per_address), 0, 100000, 64, NULL },
	{ "server", "max_sessions_per_key", SETTING_INT,
	    S(max_sessions_per_key), 1, 100000, 16, NULL },
	{ "server", "greeting_timeout", SETTING_INT, S(greeting_timeout),
	    1, 86400, 10, NULL },
	{ "server", "forget_hosts", SETTING_INT, S(forget_hosts),
	    0, 86400 * 3650, 86400 * 7, NULL },
	{ "server", "log_file", SETTING_STRING, S(log_file), 0, 0, 0, "" },
	{ "server", "plain_allow", SETTING_STRING, S(plain_allow), 0, 0, 0,
	    SETTINGS_PLAIN_ALLOW },
	{ "server", "on_job_done", SETTING_COMMAND, S(on_job_done), 0, 0, 0,
	    NULL },
	{ "server", "on_job_done_timeout", SETTING_INT,
	    S(on_job_done_timeout), 1, 86400 * 7, 600, NULL },

	{ "client", "renderers", SETTING_INT, S(renderers), 1, 1024, 1, NULL },
	{ "client", "prefetch", SETTING_INT, S(prefetch), -1, 100000, -1, NULL },
	{ "client", "blender", SETTING_STRING, S(blender), 0, 0, 0, "blender" },
	{ "client", "workdir", SETTING_STRING, S(workdir), 0, 0, 0, "" },
	{ "client", "none_wait", SETTING_INT, S(none_wait), 1, 86400, 180, NULL },
	{ "client", "busy_wait", SETTING_INT, S(busy_wait), 1, 86400, 15, NULL },
	{ "client", "retry_min", SETTING_INT, S(retry_min), 1, 86400, 5, NULL },
	{ "client", "retry_max", SETTING_INT, S(retry_max), 1, 86400, 60, NULL },
	{ "client", "cache_idle", SETTING_INT, S(cache_idle), 1, 86400 * 30,
	    360, NULL },
	{ "client", "render_timeout", SETTING_INT, S(render_timeout),
	    0, 86400 * 7, 0, NULL },
	{ "client", "batch_frames", SETTING_INT, S(batch_frames), 1, 1000, 4,
	    NULL },
	{ "client", "fresh_blender", SETTING_BOOL, S(fresh_blender), 0, 1, 0,
	    NULL },
	{ "client", "warm_frames", SETTING_INT, S(warm_frames), 1, 1000000,
	    500, NULL },
	{ "client", "warm_memory", SETTING_INT, S(warm_memory), 0,
	    1024 * 1024, 0, NULL },
	{ "client", "warm_idle", SETTING_INT, S(warm_idle), 1, 86400, 300,
	    NULL },
	{ "client", "warm_start_timeout", SETTING_INT, S(warm_start_timeout),
	    1, 86400, 600, NULL },
	{ "client", "max_blend_size", SETTING_INT64, S(max_blend_size),
	    1, 1024 * GIB, 64 * GIB, NULL },
	{ "client", "auto_updates", SETTING_BOOL, S(auto_updates), 0, 1, 1,
	    NULL },
	{ "client", "heartbeat_interval", SETTING_INT, S(heartbeat_interval),
	    1, 3600, 5, NULL },
	{ "client", "server_timeout", SETTING_INT, S(server_timeout),
	    1, 86400, 30, NULL },
	{ "client", "extensions", SETTING_BOOL, S(extensions), 0, 1, 1, NULL },
	{ "client", "allow_scripts", SETTING_BOOL, S(allow_scripts), 0, 1, 0,
	    NULL },
};

/* Where a setting's value lives inside a settings structure. */
static void *
settings_field(struct settings *s, const struct setting_def *d)
{
	return (char *)s + d->offset;
}

/* Store a value of the definition's type. */
static void
settings_store(struct settings *s, const struct setting_def *d, int64_t v,
    const char *str)
{
	void	*field = settings_field(s, d);
	char	**sp;

	switch (d->type) {
	case SETTING_INT:
	case SETTING_BOOL:
		*(int *)field = (int)v;
		break;
	case SETTING_INT64:
		*(int64_t *)field = v;
		break;
	case SETTING_STRING:
		sp = field;
		free(*sp);
		*sp = xstrdup(str);
		break;
	case SETTING_COMMAND:
		break;
	}
}

/*
 * Read a program to run: a string names it alone, a list of strings gives
 * it and its arguments, taken as they are (no shell splits or expands
 * them). An empty string or list means none. The program is an absolute
 * path or a bare name looked up in PATH: a relative path would depend on
 * the folder the program runs in.
 */
static int
settings_command(struct settings *s, const struct setting_def *d,
    config_setting_t *cs, char **why)
{
	char		***field = settings_field(s, d), **argv;
	const char	*arg;
	int		 n, i;

	if (config_setting_type(cs) == CONFIG_TYPE_STRING)
		n = *config_setting_get_string(cs) == '\0' ? 0 : 1;
	else if (config_setting_is_array(cs) || config_setting_is_list(cs))
		n = config_setting_length(cs);
	else
		return -1;
	argv = xcalloc((size_t)n + 1, sizeof *argv);
	for (i = 0; i < n; i++) {
		if (config_setting_type(cs) == CONFIG_TYPE_STRING)
			arg = config_setting_get_string(cs);
		else
			arg = config_setting_get_string_elem(cs, i);
		if (arg == NULL) {
			xfreestrings(argv);
			return -1;
		}
		argv[i] = xstrdup(arg);
	}
	if (n > 0 && (*argv[0] == '\0' ||
	    (*argv[0] != '/' && strchr(argv[0], '/') != NULL))) {
		*why = xstrdup(_("the program must be an absolute path or a "
		    "name to look up in PATH"));
		xfreestrings(argv);
		return -1;
	}
	xfreestrings(*field);
	*field = n > 0 ? argv : NULL;
	if (n == 0)
		free(argv);
	return 0;
}

/* Fill s with the built-in defaults. */
void
settings_defaults(struct settings *s)
{
	const struct setting_def	*d;

	memset(s, 0, sizeof *s);
	for (d = setting_defs; d < setting_defs + nitems(setting_defs); d++)
		settings_store(s, d, d->def, d->def_string);
}

/* Release the strings a settings structure holds. */
void
settings_free(struct settings *s)
{
	const struct setting_def	*d;

	for (d = setting_defs; d < setting_defs + nitems(setting_defs); d++) {
		if (d->type == SETTING_STRING) {
			free(*(char **)settings_field(s, d));
			*(char **)settings_field(s, d) = NULL;
		} else if (d->type == SETTING_COMMAND) {
			xfreestrings(*(char ***)settings_field(s, d));
			*(char ***)settings_field(s, d) = NULL;
		}
	}
}

/*
 * The file to read when none is named: the user's, if it exists, else the
 * system-wide one, if it exists, else NULL (built-in defaults only).
 */
char *
settings_default_path(void)
{
	const char	*xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	char		*path = NULL;

	if (xdg != NULL && *xdg != '\0')
		xasprintf(&path, "%s/bdfarm/bdfarm.conf", xdg);
	else if (home != NULL && *home != '\0')
		xasprintf(&path, "%s/.config/bdfarm/bdfarm.conf", home);
	if (path != NULL && access(path, F_OK) == 0)
		return path;
	free(path);
	if (access(SYSCONFDIR "/bdfarm.conf", F_OK) == 0)
		return xstrdup(SYSCONFDIR "/bdfarm.conf");
	return NULL;
}

/* Find the definition for group.name. */
static const struct setting_def *
settings_find(const char *group, const char *name)
{
	const struct setting_def	*d;

	for (d = setting_defs; d < setting_defs + nitems(setting_defs); d++) {
		if (strcmp(d->group, group) == 0 && strcmp(d->name, name) == 0)
			return d;
	}
	return NULL;
}

/* Check one setting's type and range and store it, or say why not. */
static int
settings_apply(struct settings *s, const char *group, config_setting_t *cs,
    const char *file, char **cause)
{
	const struct setting_def	*d;
	const char			*name = config_setting_name(cs);
	int				 type = config_setting_type(cs);
	int				 line = config_setting_source_line(cs);
	int64_t				 v = 0;
	char				*why = NULL;

	if ((d = settings_find(group, name)) == NULL) {
		xasprintf(cause, _("%s:%d: unknown setting %s.%s"), file, line,
		    group, name);
		return -1;
	}
	switch (d->type) {
	case SETTING_STRING:
		if (type != CONFIG_TYPE_STRING)
			goto wrong_type;
		settings_store(s, d, 0, config_setting_get_string(cs));
		return 0;
	case SETTING_COMMAND:
		if (settings_command(s, d, cs, &why) == 0)
			return 0;
		if (why == NULL)
			goto wrong_type;
		xasprintf(cause, "%s:%d: %s.%s: %s", file, line, group, name,
		    why);
		free(why);
		return -1;
	case SETTING_BOOL:
		if (type != CONFIG_TYPE_BOOL)
			goto wrong_type;
		v = config_setting_get_bool(cs);
		break;
	case SETTING_INT:
	case SETTING_INT64:
		if (type == CONFIG_TYPE_INT)
			v = config_setting_get_int(cs);
		else if (type == CONFIG_TYPE_INT64)
			v = config_setting_get_int64(cs);
		else
			goto wrong_type;
		break;
	}
	if (v < d->min || v > d->max) {
		xasprintf(cause, _("%s:%d: %s.%s must be between %lld and %lld"),
		    file, line, group, name, (long long)d->min,
		    (long long)d->max);
		return -1;
	}
	settings_store(s, d, v, NULL);
	return 0;

wrong_type:
	xasprintf(cause, _("%s:%d: %s.%s must be %s"), file, line, group, name,
	    d->type == SETTING_STRING ? _("a string") :
	    d->type == SETTING_COMMAND ? _("a string or a list of strings") :
	    d->type == SETTING_BOOL ? _("true or false") : _("a whole number"));
	return -1;
}

/*
 * Read path into s. A missing file is fine unless the user named it
 * (required); anything else wrong gives -1 with the file, line and reason.
 */
int
settings_load(struct settings *s, const char *path, int required,
    char **cause)
{
	config_t		 cfg;
	config_setting_t	*root, *group, *cs;
	struct netrange		*ranges;
	size_t			 nranges;
	const char		*gname;
	char			*why = NULL;
	int			 i, j, rc = -1;

	if (access(path, F_OK) != 0 && !required)
		return 0;
	config_init(&cfg);
	if (!config_read_file(&cfg, path)) {
		if (config_error_type(&cfg) == CONFIG_ERR_FILE_IO)
			xasprintf(cause, _("%s: cannot read: %s"), path,
			    strerror(errno));
		else
			xasprintf(cause, "%s:%d: %s", path,
			    config_error_line(&cfg), config_error_text(&cfg));
		goto out;
	}
	root = config_root_setting(&cfg);
	for (i = 0; i < config_setting_length(root); i++) {
		group = config_setting_get_elem(root, i);
		gname = config_setting_name(group);
		if (config_setting_type(group) != CONFIG_TYPE_GROUP ||
		    (strcmp(gname, "server") != 0 &&
		    strcmp(gname, "client") != 0)) {
			xasprintf(cause, _("%s:%d: unknown setting %s"), path,
			    config_setting_source_line(group), gname);
			goto out;
		}
		for (j = 0; j < config_setting_length(group); j++) {
			cs = config_setting_get_elem(group, j);
			if (settings_apply(s, gname, cs, path, cause) != 0)
				goto out;
		}
	}
	if (netrange_parse(s->plain_allow, &ranges, &nranges, &why) != 0) {
		xasprintf(cause, _("%s: server.plain_allow: %s"), path, why);
		free(why);
		goto out;
	}
	free(ranges);
	if (s->retry_max < s->retry_min) {
		xasprintf(cause, _("%s: client.retry_max is below "
		    "client.retry_min"), path);
		goto out;
	}
	rc = 0;
out:
	config_destroy(&cfg);
	return rc;
}
