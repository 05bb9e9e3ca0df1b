/*
 * console-help.c: the help screen, listing every key of the console; any
 * key closes it.
 */
#include "bdfarm.h"

#include <stdio.h>

#include "console-pane.h"

/* Each key and what it does. */
static const struct {
	const char	*keys;
	const char	*what;
} console_help_keys[] = {
	{ N_("Up, k"), N_("select the previous row") },
	{ N_("Down, j"), N_("select the next row") },
	{ N_("PgUp, PgDn"), N_("move a page up or down") },
	{ N_("Home, End"), N_("select the first or the last row") },
	{ N_("Tab"), N_("switch between the jobs and the clients") },
	{ N_("a"), N_("add a job: its .blend (Tab completes), frames and "
	    "name (NAME.job)") },
	{ N_("s, Space"), N_("suspend or resume the selected job "
	    "(NAME.job.suspend)") },
	{ N_("+, ="), N_("raise the selected job's priority") },
	{ N_("-"), N_("lower the selected job's priority") },
	{ N_("r"), N_("hand the selected job's failed frames out again") },
	{ N_("u"), N_("let clients blocked on the selected job render it "
	    "again") },
	{ N_("K"), N_("revoke the selected TLS client's key and cut its "
	    "connections") },
	{ N_("X"), N_("tell every client to stop (STOPPING)") },
	{ N_("q"), N_("save the state and quit") },
	{ N_("Ctrl-L"), N_("draw the screen again") },
	{ N_("?, F1"), N_("show or close this help") },
};

/* What the FILES column says, and what travels with a job. */
static const char *const console_help_files[] = {
	N_("FILES: the files a job's .blend needs (textures, sequences, UDIM "
	    "tiles,"),
	N_("libraries, caches) with the .blend, and their size; each bdfarm "
	    "client"),
	N_("fetches each file once. \"N missing\": not on the server (the "
	    "selected"),
	N_("job names them); \"N missed\": a client's Blender did not find "
	    "them."),
	N_("Packed files travel in the .blend. Paths a script builds and media "
	    "of"),
	N_("sequencer strips do not travel; old clients get the .blend alone.")
};

/* Draw the help over the whole screen. */
void
console_help_draw(struct console *c)
{
	size_t	 i;
	int	 y = 2;

	console_draw_title(c, 0, COLS, _(" bdfarm: keys"), 1);
	console_draw_fill(c, 1, 0, COLS, c->attrs[CONSOLE_C_NORMAL]);
	for (i = 0; i < nitems(console_help_keys) && y < LINES - 2; i++) {
		console_draw_text(c, y, 0, 2, c->attrs[CONSOLE_C_NORMAL], "");
		console_draw_text(c, y, 2, 12, c->attrs[CONSOLE_C_ACTIVE],
		    _(console_help_keys[i].keys));
		console_draw_text(c, y, 14, COLS - 14,
		    c->attrs[CONSOLE_C_NORMAL], _(console_help_keys[i].what));
		y++;
	}
	if (y + 1 + (int)nitems(console_help_files) < LINES - 1) {
		console_draw_fill(c, y++, 0, COLS, c->attrs[CONSOLE_C_NORMAL]);
		for (i = 0; i < nitems(console_help_files); i++) {
			console_draw_text(c, y, 0, 2,
			    c->attrs[CONSOLE_C_NORMAL], "");
			console_draw_text(c, y++, 2, COLS - 2,
			    c->attrs[CONSOLE_C_NORMAL],
			    _(console_help_files[i]));
		}
	}
	for (; y < LINES - 1; y++)
		console_draw_fill(c, y, 0, COLS, c->attrs[CONSOLE_C_NORMAL]);
	console_draw_text(c, LINES - 1, 0, COLS, c->attrs[CONSOLE_C_DIM],
	    _(" Quitting or stopping the clients asks first while frames are "
	    "out. Press any key to go back."));
}

/* Any key closes the help. */
void
console_help_key(struct console *c, int key)
{
	c->help = 0;
	console_dirty(c);
}
