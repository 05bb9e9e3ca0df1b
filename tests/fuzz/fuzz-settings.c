/*
 * fuzz-settings.c: a libFuzzer target for the configuration reader. Each
 * input is written as a configuration file and loaded over the defaults;
 * whatever libconfig makes of it, the settings must either be refused with
 * a reason naming the file, or all lie within their ranges.
 */
#include "bdfarm.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "settings.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Stop the run, so that libFuzzer keeps the input, when a promise breaks. */
#define FUZZ_ASSERT(e) do {						\
	if (!(e))							\
		abort();						\
} while (0)

static char	fuzz_settings_dir[4096];
static char	fuzz_settings_path[4096 + 16];

/* Remove the scratch file and its folder. */
static void
fuzz_settings_cleanup(void)
{
	unlink(fuzz_settings_path);
	rmdir(fuzz_settings_dir);
}

/* Make a scratch folder for the file, once, under $TMPDIR or /tmp. */
static void
fuzz_settings_init(void)
{
	const char	*tmp = getenv("TMPDIR");

	if (fuzz_settings_path[0] != '\0')
		return;
	if (tmp == NULL || *tmp == '\0' || strlen(tmp) > 1024)
		tmp = "/tmp";
	snprintf(fuzz_settings_dir, sizeof fuzz_settings_dir,
	    "%s/fuzz-settings.XXXXXX", tmp);
	FUZZ_ASSERT(mkdtemp(fuzz_settings_dir) != NULL);
	snprintf(fuzz_settings_path, sizeof fuzz_settings_path,
	    "%s/bdfarm.conf", fuzz_settings_dir);
	atexit(fuzz_settings_cleanup);
}

/* Check that every setting lies within its range. */
static void
fuzz_settings_check(const struct settings *s)
{
	FUZZ_ASSERT(s->listen != NULL && s->log_file != NULL);
	FUZZ_ASSERT(s->blender != NULL && s->workdir != NULL);
	FUZZ_ASSERT(s->peer_timeout >= 1 && s->peer_timeout <= 86400);
	FUZZ_ASSERT(s->redistribute_delay >= 0);
	FUZZ_ASSERT(s->rescan_interval >= 1 && s->rescan_interval <= 3600);
	FUZZ_ASSERT(s->blend_check_interval >= 1);
	FUZZ_ASSERT(s->state_save_delay >= 0 && s->state_save_delay <= 60000);
	FUZZ_ASSERT(s->max_frame_size >= 1);
	FUZZ_ASSERT(s->max_peers >= 0 && s->max_peers <= 100000);
	FUZZ_ASSERT(s->renderers >= 1 && s->renderers <= 1024);
	FUZZ_ASSERT(s->prefetch >= -1 && s->prefetch <= 100000);
	FUZZ_ASSERT(s->heartbeat_interval >= 1 && s->none_wait >= 1);
	FUZZ_ASSERT(s->server_timeout >= 1 && s->server_timeout <= 86400);
	FUZZ_ASSERT(s->busy_wait >= 1 && s->cache_idle >= 1);
	FUZZ_ASSERT(s->retry_min >= 1 && s->retry_max >= s->retry_min);
	FUZZ_ASSERT(s->render_timeout >= 0);
	FUZZ_ASSERT(s->batch_frames >= 1 && s->batch_frames <= 1000);
	FUZZ_ASSERT(s->max_blend_size >= 1);
	FUZZ_ASSERT(s->auto_updates == 0 || s->auto_updates == 1);
	FUZZ_ASSERT(s->allow_scripts == 0 || s->allow_scripts == 1);
}

/* Load one input as a configuration file and check the result. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct settings	 s;
	FILE		*f;
	char		*cause = NULL;

	/*
	 * An @include reads whatever file it names, which is libconfig's
	 * business and not this reader's: such inputs are left out.
	 */
	if (memchr(data, '@', size) != NULL)
		return 0;

	fuzz_settings_init();
	f = fopen(fuzz_settings_path, "w");
	FUZZ_ASSERT(f != NULL);
	FUZZ_ASSERT(fwrite(data, 1, size, f) == size);
	FUZZ_ASSERT(fclose(f) == 0);

	settings_defaults(&s);
	if (settings_load(&s, fuzz_settings_path, 1, &cause) == 0) {
		FUZZ_ASSERT(cause == NULL);
		fuzz_settings_check(&s);
	} else {
		FUZZ_ASSERT(cause != NULL);
		FUZZ_ASSERT(strncmp(cause, fuzz_settings_path,
		    strlen(fuzz_settings_path)) == 0);
		free(cause);
	}
	settings_free(&s);
	return 0;
}
