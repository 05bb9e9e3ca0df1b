/*
 * console-help.c: the help screen, listing every key of the console; any
 * key closes it.
 */
#include "bdfarm.h"

#include <stdio.h>

#include "console-pane.h"

/* Keys that work on every page. */
static const struct console_help_key console_help_everywhere[] = {
	{ N_("?, F1"), N_("show this help; the arrows, PgUp, PgDn, Home and "
	    "End scroll it, any other key closes it") },
	{ N_("Esc"), N_("go back from a job's or a client's page") },
	{ N_("X"), N_("tell every client to stop (STOPPING)") },
	{ N_("q"), N_("save the state and quit; on a console opened with "
	    "--attach, close it and leave the server running") },
	{ N_("Ctrl-L"), N_("draw the screen again") },
	{ N_("mouse"), N_("a click selects a row or a frame, a double click "
	    "opens its page, the wheel scrolls") },
};

/* Keys of the main page. */
static const struct console_help_key console_help_main[] = {
	{ N_("Up, k"), N_("select the previous row") },
	{ N_("Down, j"), N_("select the next row") },
	{ N_("PgUp, PgDn"), N_("move a page up or down") },
	{ N_("Home, End"), N_("select the first or the last row") },
	{ N_("Tab"), N_("switch between the jobs and the clients") },
	{ N_("Enter"), N_("open the selected job's or client's page") },
	{ N_("a"), N_("add a job: asks for the .blend, the frames and the "
	    "name, then writes NAME.job") },
	{ N_("s, Space"), N_("suspend or resume the selected job "
	    "(NAME.job.suspend)") },
	{ N_("+, ="), N_("raise the selected job's priority") },
	{ N_("-"), N_("lower the selected job's priority") },
	{ N_("r"), N_("hand the selected job's failed frames out again") },
	{ N_("u"), N_("let clients blocked on the selected job render it "
	    "again") },
	{ N_("K"), N_("revoke the selected TLS client's key and cut its "
	    "connections") },
};

/* Keys of a job's page. */
static const struct console_help_key console_help_job[] = {
	{ N_("Left, h"), N_("select the previous frame") },
	{ N_("Right, l"), N_("select the next frame") },
	{ N_("Up, k"), N_("select the frame a row of the map above") },
	{ N_("Down, j"), N_("select the frame a row of the map below") },
	{ N_("PgUp, PgDn"), N_("move a page of the map up or down") },
	{ N_("Home, End"), N_("select the first or the last frame") },
	{ N_("m"), N_("mark the selected frame as one end of a range; again "
	    "to unmark") },
	{ N_("R"), N_("render the selected frame or the marked range again; "
	    "old files go to .replaced/") },
	{ N_("s, Space"), N_("suspend or resume the job") },
	{ N_("+, -"), N_("raise or lower the job's priority") },
	{ N_("r"), N_("hand the job's failed frames out again") },
	{ N_("u"), N_("let clients blocked on the job render it again") },
};

/* Keys while adding a job. */
static const struct console_help_key console_help_add[] = {
	{ N_("Tab"), N_("complete the file name") },
	{ N_("Enter"), N_("accept the answer and go on") },
	{ N_("Esc, Ctrl-G"), N_("cancel: nothing is written") },
	{ N_("Left, Right"), N_("move the cursor; Home, End, Ctrl-A, Ctrl-E "
	    "to the ends") },
	{ N_("Backspace"), N_("delete a character; Ctrl-U the line, Ctrl-W a "
	    "word") },
};

static const size_t console_help_neverywhere =
    nitems(console_help_everywhere);
static const size_t console_help_nmain = nitems(console_help_main);
static const size_t console_help_njob = nitems(console_help_job);
static const size_t console_help_nadd = nitems(console_help_add);

/* The sections of the help, in order, each with its count of keys. */
static const struct {
	const char			*title;
	const struct console_help_key	*keys;
	const size_t			*n;
} console_help_sections[] = {
	{ N_(" EVERY PAGE"), console_help_everywhere,
	    &console_help_neverywhere },
	{ N_(" MAIN PAGE"), console_help_main, &console_help_nmain },
	{ N_(" A JOB'S PAGE"), console_help_job, &console_help_njob },
	{ N_(" A CLIENT'S PAGE"), console_client_help, &console_client_nhelp },
	{ N_(" ADDING A JOB (a)"), console_help_add, &console_help_nadd },
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

/*
 * Draw line i of the help (counting from its top) at screen row y: a
 * section title, a key, a blank or a line on files; -1 past the end.
 */
static int
console_help_line(struct console *c, int i, int y)
{
	const struct console_help_key	*k;
	size_t				 s, n;

	for (s = 0; s < nitems(console_help_sections); s++) {
		n = *console_help_sections[s].n;
		if (i == 0) {
			console_draw_title(c, y, COLS,
			    _(console_help_sections[s].title), 0);
			return 0;
		}
		if (i <= (int)n) {
			k = &console_help_sections[s].keys[i - 1];
			console_draw_text(c, y, 0, 2,
			    c->attrs[CONSOLE_C_NORMAL], "");
			console_draw_text(c, y, 2, 13,
			    c->attrs[CONSOLE_C_ACTIVE], _(k->keys));
			console_draw_text(c, y, 15, COLS - 15,
			    c->attrs[CONSOLE_C_NORMAL], _(k->what));
			return 0;
		}
		i -= (int)n + 1;
	}
	if (i == 0) {
		console_draw_title(c, y, COLS, _(" WHAT TRAVELS WITH A JOB"), 0);
		return 0;
	}
	if (i - 1 < (int)nitems(console_help_files)) {
		console_draw_text(c, y, 0, 2, c->attrs[CONSOLE_C_NORMAL], "");
		console_draw_text(c, y, 2, COLS - 2, c->attrs[CONSOLE_C_NORMAL],
		    _(console_help_files[i - 1]));
		return 0;
	}
	return -1;
}

/* How many lines the help has. */
static int
console_help_lines(void)
{
	size_t	s;
	int	n = 1 + (int)nitems(console_help_files);

	for (s = 0; s < nitems(console_help_sections); s++)
		n += 1 + (int)*console_help_sections[s].n;
	return n;
}

/* Draw the help over the whole screen, from line help_top on. */
void
console_help_draw(struct console *c)
{
	int	y, rows = LINES - 2, most = console_help_lines() - rows;

	if (c->help_top > most)
		c->help_top = most;
	if (c->help_top < 0)
		c->help_top = 0;
	console_draw_title(c, 0, COLS, _(" bdfarm: keys"), 1);
	for (y = 1; y < LINES - 1; y++) {
		if (console_help_line(c, c->help_top + y - 1, y) != 0)
			console_draw_fill(c, y, 0, COLS,
			    c->attrs[CONSOLE_C_NORMAL]);
	}
	console_draw_text(c, LINES - 1, 0, COLS, c->attrs[CONSOLE_C_DIM],
	    most > 0 ? _(" Arrows, PgUp, PgDn, Home, End scroll; any other key "
	    "goes back. Quitting or stopping the clients asks first while frames "
	    "are out.") : _(" Any key goes back. Quitting or stopping the "
	    "clients asks first while frames are out."));
}

/* Arrows scroll the help; any other key closes it. */
void
console_help_key(struct console *c, int key)
{
	switch (key) {
	case KEY_UP:
	case 'k':
		c->help_top--;
		break;
	case KEY_DOWN:
	case 'j':
		c->help_top++;
		break;
	case KEY_PPAGE:
		c->help_top -= LINES - 3;
		break;
	case KEY_NPAGE:
	case ' ':
		c->help_top += LINES - 3;
		break;
	case KEY_HOME:
	case 'g':
		c->help_top = 0;
		break;
	case KEY_END:
	case 'G':
		c->help_top = console_help_lines();
		break;
	case KEY_MOUSE:
		break;
	default:
		c->help = 0;
		break;
	}
	console_dirty(c);
}
