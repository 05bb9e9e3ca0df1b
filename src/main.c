/*
 * main.c: command-line parsing and the choice between server and client.
 */
#include "bdfarm.h"

#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attach.h"
#include "client.h"
#include "keys.h"
#include "log.h"
#include "server.h"
#include "settings.h"
#include "xmalloc.h"

enum {
	OPT_CLIENT = 256,
	OPT_RENDERERS,
	OPT_PREFETCH,
	OPT_NO_AUTO_UPDATES,
	OPT_BLENDER,
	OPT_WORKDIR,
	OPT_HEADLESS,
	OPT_LISTEN,
	OPT_INVITE,
	OPT_REVOKE,
	OPT_JOIN,
	OPT_ATTACH
};

static const struct option main_options[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ "config", required_argument, NULL, 'c' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "port", required_argument, NULL, 'p' },
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "headless", no_argument, NULL, OPT_HEADLESS },
	{ "invite", required_argument, NULL, OPT_INVITE },
	{ "revoke", required_argument, NULL, OPT_REVOKE },
	{ "client", no_argument, NULL, OPT_CLIENT },
	{ "renderers", required_argument, NULL, OPT_RENDERERS },
	{ "prefetch", required_argument, NULL, OPT_PREFETCH },
	{ "no-auto-updates", no_argument, NULL, OPT_NO_AUTO_UPDATES },
	{ "blender", required_argument, NULL, OPT_BLENDER },
	{ "workdir", required_argument, NULL, OPT_WORKDIR },
	{ "join", required_argument, NULL, OPT_JOIN },
	{ "attach", no_argument, NULL, OPT_ATTACH },
	{ NULL, 0, NULL, 0 }
};

/* What the command line said, to apply over the configuration file. */
struct main_args {
	const char	*config;
	const char	*port;
	const char	*listen;
	const char	*blender;
	const char	*workdir;
	const char	*invite;
	const char	*revoke;
	const char	*join;
	int		 client;
	int		 attach;
	int		 headless;
	int		 verbose;
	int		 renderers;
	int		 prefetch;
	int		 no_auto_updates;
};

/* Print the usage summary to f. */
static void
main_usage(FILE *f)
{
	fprintf(f, _("Usage: %s [OPTION]... --port PORT JOBDIR RENDERDIR\n"
	    "       %s [OPTION]... --client HOST PORT\n"
	    "       %s [OPTION]... --invite NAME [--port PORT] JOBDIR "
	    "[RENDERDIR]\n"
	    "       %s [OPTION]... --revoke NAME JOBDIR [RENDERDIR]\n"
	    "       %s --attach JOBDIR\n"),
	    PACKAGE, PACKAGE, PACKAGE, PACKAGE, PACKAGE);
}

/* Print the full help. */
static void
main_help(void)
{
	main_usage(stdout);
	fputs(_("\n"
"A render farm for Blender. As a server, hand out the frames of the jobs\n"
"in JOBDIR and store the rendered frames under RENDERDIR. As a client,\n"
"render frames for the server at HOST and PORT with Blender.\n"
"\n"
"Server options:\n"
"  -p, --port PORT        listen on this TCP port\n"
"      --listen ADDRESS   listen on this address only (default: all)\n"
"      --headless         log to standard error instead of the console\n"
"      --attach           open the console of the server that runs on\n"
"                         JOBDIR in this terminal; q closes it, the\n"
"                         server runs on\n"
"      --invite NAME      make a key for the client NAME, in JOBDIR, and\n"
"                         print the command line that lets it join\n"
"      --revoke NAME      remove the key of the client NAME from JOBDIR;\n"
"                         a running server cuts its connections\n"
"\n"
"Client options:\n"
"      --client           run as a client of the server at HOST PORT\n"
"      --renderers N      render N frames at once (default 1)\n"
"      --prefetch N       queue up to N frames ahead (default 3 + 2 * N)\n"
"      --blender PATH     the Blender program (default: blender)\n"
"      --workdir DIR      where .blend files and frames are kept\n"
"                         (default: $XDG_CACHE_HOME/bdfarm)\n"
"      --no-auto-updates  never replace this program with the server's\n"
"      --join TOKEN       keep the key that TOKEN holds for HOST PORT, and\n"
"                         use it from now on (from --invite)\n"
"\n"
"Common options:\n"
"  -c, --config FILE      read settings from FILE (default:\n"
"                         $XDG_CONFIG_HOME/bdfarm/bdfarm.conf, then\n"
"                         the system-wide bdfarm.conf)\n"
"  -v, --verbose          log more detail\n"
"  -h, --help             show this help and exit\n"
"  -V, --version          show the version and exit\n"), stdout);
}

/* Report a usage error in one line, show the usage, and exit 2. */
BDFARM_DEAD BDFARM_PRINTF(1, 2) static void
main_usage_error(const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "%s: ", PACKAGE);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	main_usage(stderr);
	fprintf(stderr, _("Try '%s --help' for more information.\n"), PACKAGE);
	exit(2);
}

/* Parse a whole number from min to max for option name, or exit 2. */
static int
main_number(const char *name, const char *arg, long min, long max)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (*arg == '\0' || *end != '\0' || errno != 0 || v < min || v > max)
		main_usage_error(_("%s: invalid value '%s' (a whole number "
		    "from %ld to %ld)"), name, arg, min, max);
	return (int)v;
}

/* Check that a port is a number from 1 to 65535, or exit 2. */
static void
main_check_port(const char *port)
{
	main_number("PORT", port, 1, 65535);
}

/* Set up translations, preferring BDFARM_LOCALEDIR for uninstalled runs. */
static void
main_locale(void)
{
	const char	*dir = getenv("BDFARM_LOCALEDIR");

	setlocale(LC_ALL, "");
	bindtextdomain(PACKAGE, dir != NULL && *dir != '\0' ? dir : LOCALEDIR);
	textdomain(PACKAGE);
}

/* Read the configuration file and lay the command line over it. */
static void
main_settings(struct settings *s, const struct main_args *a)
{
	char	*path, *cause = NULL;

	settings_defaults(s);
	path = a->config != NULL ? xstrdup(a->config) : settings_default_path();
	if (path != NULL && settings_load(s, path, a->config != NULL,
	    &cause) != 0) {
		fprintf(stderr, "%s: %s\n", PACKAGE, cause);
		exit(1);
	}
	free(path);

	if (a->listen != NULL) {
		free(s->listen);
		s->listen = xstrdup(a->listen);
	}
	if (a->blender != NULL) {
		free(s->blender);
		s->blender = xstrdup(a->blender);
	}
	if (a->workdir != NULL) {
		free(s->workdir);
		s->workdir = xstrdup(a->workdir);
	}
	if (a->renderers > 0)
		s->renderers = a->renderers;
	if (a->prefetch >= 0)
		s->prefetch = a->prefetch;
	if (s->prefetch < 0)
		s->prefetch = 3 + 2 * s->renderers;
	if (a->no_auto_updates)
		s->auto_updates = 0;
}

int
main(int argc, char **argv)
{
	struct main_args	a;
	struct settings		s;
	int			ch, rc;

	main_locale();
	memset(&a, 0, sizeof a);
	a.prefetch = -1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":hVc:vp:", main_options,
	    NULL)) != -1) {
		switch (ch) {
		case 'h':
			main_help();
			return 0;
		case 'V':
			printf("%s %s\n", PACKAGE, VERSION);
			return 0;
		case 'c':
			a.config = optarg;
			break;
		case 'v':
			a.verbose = 1;
			break;
		case 'p':
			main_check_port(optarg);
			a.port = optarg;
			break;
		case OPT_LISTEN:
			a.listen = optarg;
			break;
		case OPT_HEADLESS:
			a.headless = 1;
			break;
		case OPT_INVITE:
			a.invite = optarg;
			break;
		case OPT_REVOKE:
			a.revoke = optarg;
			break;
		case OPT_JOIN:
			a.join = optarg;
			break;
		case OPT_CLIENT:
			a.client = 1;
			break;
		case OPT_ATTACH:
			a.attach = 1;
			break;
		case OPT_RENDERERS:
			a.renderers = main_number("--renderers", optarg, 1, 1024);
			break;
		case OPT_PREFETCH:
			a.prefetch = main_number("--prefetch", optarg, 0, 100000);
			break;
		case OPT_NO_AUTO_UPDATES:
			a.no_auto_updates = 1;
			break;
		case OPT_BLENDER:
			a.blender = optarg;
			break;
		case OPT_WORKDIR:
			a.workdir = optarg;
			break;
		case ':':
			main_usage_error(_("option '%s' needs a value"),
			    argv[optind - 1]);
		default:
			if (optopt != 0)
				main_usage_error(_("unknown option '-%c'"),
				    optopt);
			main_usage_error(_("unknown option '%s'"),
			    argv[optind - 1]);
		}
	}
	argc -= optind;
	log_init(a.verbose);

	if (a.join != NULL && !a.client)
		main_usage_error(_("--join goes with --client"));
	if (a.invite != NULL && a.revoke != NULL)
		main_usage_error(_("--invite and --revoke do not go together"));
	if (a.attach) {
		if (a.client || a.invite != NULL || a.revoke != NULL)
			main_usage_error(_("--attach goes alone"));
		if (argc != 1)
			main_usage_error(_("--attach needs the server's JOBDIR"));
		return attach_main(argv[optind]);
	}
	if (a.invite != NULL) {
		if (a.client)
			main_usage_error(_("--invite runs on the server's "
			    "machine, not with --client"));
		if (argc != 1 && argc != 2)
			main_usage_error(_("--invite needs the server's "
			    "JOBDIR"));
		if (!keys_valid_name(a.invite))
			main_usage_error(_("'%s' cannot name a key: use up to "
			    "%d letters, digits, dots, dashes and underscores"),
			    a.invite, KEYS_NAME_MAX);
		main_settings(&s, &a);
		rc = server_keys_invite(&s, a.port, argv[optind], a.invite);
	} else if (a.revoke != NULL) {
		if (a.client)
			main_usage_error(_("--revoke runs on the server's "
			    "machine, not with --client"));
		if (argc != 1 && argc != 2)
			main_usage_error(_("--revoke needs the server's "
			    "JOBDIR"));
		if (!keys_valid_name(a.revoke))
			main_usage_error(_("'%s' cannot name a key: use up to "
			    "%d letters, digits, dots, dashes and underscores"),
			    a.revoke, KEYS_NAME_MAX);
		rc = server_keys_revoke_command(argv[optind], a.revoke);
	} else if (a.client) {
		struct client_options	co;

		if (argc != 2)
			main_usage_error(_("--client needs HOST and PORT"));
		main_check_port(argv[optind + 1]);
		main_settings(&s, &a);
		co.host = argv[optind];
		co.port = argv[optind + 1];
		co.argv = argv;
		if (a.join != NULL && client_keys_join(co.host, co.port,
		    a.join) != 0) {
			settings_free(&s);
			return 1;
		}
		rc = client_main(&s, &co);
	} else {
		struct server_options	so;

		if (a.port == NULL)
			main_usage_error(_("--port is required"));
		if (argc != 2)
			main_usage_error(_("JOBDIR and RENDERDIR are "
			    "required"));
		main_settings(&s, &a);
		so.port = a.port;
		so.jobdir = argv[optind];
		so.renderdir = argv[optind + 1];
		so.headless = a.headless;
		so.config = a.config;
		so.argv = argv;
		rc = server_main(&s, &so);
	}
	settings_free(&s);
	return rc;
}
