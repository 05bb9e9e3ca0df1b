/*
 * console-pane.h: what the parts of the console share: its state, the
 * panes that draw from the model and take keys, and the drawing helpers.
 * Each pane is one file with a *_draw() and, if it takes keys, a *_key().
 */
#ifndef CONSOLE_PANE_H
#define CONSOLE_PANE_H

#include <curses.h>
#include <stdio.h>
#include <sys/queue.h>

#include "eta.h"
#include "farm.h"
#include "log.h"

struct bufferevent;
struct console_add;
struct event;
struct preview_result;
struct server;

/* The pane that arrows and Tab act on. */
enum console_focus {
	CONSOLE_FOCUS_JOBS,
	CONSOLE_FOCUS_CLIENTS
};

/* The page on the screen. */
enum console_page {
	CONSOLE_PAGE_MAIN,	/* jobs, clients and events */
	CONSOLE_PAGE_JOB,	/* one job's frames */
	CONSOLE_PAGE_CLIENT	/* one client's facts and results */
};

/* What a y/n prompt is about. */
enum console_ask {
	CONSOLE_ASK_NONE,
	CONSOLE_ASK_QUIT,
	CONSOLE_ASK_STOP,
	CONSOLE_ASK_REVOKE,	/* the key named in ask_key */
	CONSOLE_ASK_AGAIN	/* the job page's marked range */
};

/* Colour pairs, with a monochrome attribute for each. */
enum console_colour {
	CONSOLE_C_NORMAL,
	CONSOLE_C_TITLE,	/* pane titles and the header */
	CONSOLE_C_DIM,		/* done, idle, dashes */
	CONSOLE_C_ACTIVE,	/* rendering, connected */
	CONSOLE_C_PAUSED,	/* suspended */
	CONSOLE_C_BAD,		/* invalid, warnings */
	CONSOLE_C_BAR,		/* the done part of a bar */
	CONSOLE_C_OUT,		/* the in-flight part of a bar */
	CONSOLE_C_SELECT,	/* the selected row */
	CONSOLE_C_PROMPT,	/* the y/n question */
	CONSOLE_NCOLOURS
};

/* One selectable list (jobs or clients): a selected name and a scroll. */
struct console_list {
	char		*selected;	/* job or host name; NULL: the first */
	int		 top;		/* first row shown */
	int		 rows;		/* rows drawn last time */
	int		 y;		/* the screen row of the first shown */
};

struct console_job_file;

/* The job page's own state. */
struct console_job_page {
	long			 frame;		/* the selected frame */
	long			 mark;		/* the range's other end, or
						   LONG_MIN */
	struct console_list	 map;		/* the map's rows, scrolled */
	int			 cols;		/* cells per map row, as drawn */
	int			 map_x;		/* where the map's cells start */
	struct console_job_file	*files;		/* the render folder, listed */
	size_t			 nfiles;
	farm_time		 listed;	/* when, or 0 */
	size_t			 listed_done;	/* frames done then */
};

/* The client page's own state: how far its list of frames is scrolled. */
struct console_client_page {
	int			 top;
	int			 most;		/* the largest top that shows
						   something */
	int			 page;		/* rows of frames shown */
};

struct console {
	struct server		*server;
	SCREEN			*screen;
	struct bufferevent	*sock;		/* an attached terminal's socket */
	char			*term;		/* its TERM */
	FILE			*in;		/* its keys, or NULL: stdin */
	FILE			*out;		/* what curses draws for it (a
						   memory file), or NULL */
	void			(*detach)(void *); /* NULL: the server's own */
	void			*detach_arg;
	int			 detaching;	/* q was pressed: close it */
	int			 tty[3];	/* which of fds 0-2 were the
						   server's terminal */
	int			 active;	/* curses owns the terminal */
	int			 utf8;
	int			 colours;
	attr_t			 attrs[CONSOLE_NCOLOURS];

	struct event		*input_ev;
	struct event		*winch_ev;
	struct event		*redraw_ev;
	struct event		*stderr_ev;
	int			 empty_reads;	/* wake-ups with no key */
	int			 dirty;
	farm_time		 last_draw;
	unsigned long		 draws;

	int			 stderr_saved;	/* the real stderr, or -1 */
	int			 stderr_pipe;	/* our end of fd 2, or -1 */
	char			 stderr_buf[512];
	size_t			 stderr_len;

	enum console_focus	 focus;
	enum console_ask	 ask;
	char			*ask_key;	/* the key to revoke */
	int			 help;
	int			 help_top;	/* the first help line shown */
	enum console_page	 page;
	char			*page_name;	/* the job or host shown */
	struct console_job_page	 job;
	struct preview		*preview;	/* the job page's picture */
	struct console_client_page client;
	struct console_list	 jobs;
	struct console_list	 clients;

	struct console_host_row	*hosts;	/* while drawing: every host */
	size_t			 nhosts;

	char			*status;	/* the last key's outcome */
	struct console_add	*add;		/* a job being added, or NULL */

	TAILQ_ENTRY(console)	 entry;
};

/* console.c */
void	console_dirty(struct console *);
void	console_set_status(struct console *, const char *, ...)
	    BDFARM_PRINTF(2, 3);

/* console-draw.c */
void	console_draw_init(struct console *);
void	console_draw_text(struct console *, int, int, int, attr_t,
	    const char *);
void	console_draw_right(struct console *, int, int, int, attr_t,
	    const char *);
void	console_draw_fill(struct console *, int, int, int, attr_t);
void	console_draw_bar(struct console *, int, int, int, size_t, size_t,
	    size_t);
void	console_draw_title(struct console *, int, int, const char *, int);
void	console_draw_clock(farm_time, char *, size_t);
void	console_list_place(struct console_list *, int, int, int);

/* console-header.c */
void	console_header_draw(struct console *, int, farm_time);

/* console-jobs.c */
int	console_jobs_count(struct console *);
const char *console_jobs_state(struct console *, const struct job *,
	    attr_t *, char *, size_t);
void	console_jobs_size(uint64_t, char *, size_t);
int	console_jobs_click(struct console *, int);
void	console_jobs_draw(struct console *, int, int, farm_time);
void	console_jobs_key(struct console *, int);
int	console_jobs_act(struct console *, struct job *, int);
struct job *console_jobs_current(struct console *);

/* console-job.c */
struct job *console_job_current(struct console *);
void	console_job_open(struct console *, struct job *);
void	console_job_close(struct console *);
void	console_job_range(struct console *, long *, long *);
void	console_job_again(struct console *);
void	console_job_draw(struct console *, farm_time);
int	console_job_key(struct console *, int);
int	console_job_click(struct console *, int, int);

/* console-clients.c */
struct console_frame_ref {
	struct job	*job;
	size_t		 index;
};
struct console_host_row {
	struct host			*host;
	size_t				 out;	/* frames out to it now */
	struct console_frame_ref	*frames;
};
struct console_host_row *console_clients_collect(struct console *, size_t *);
void	console_clients_release(struct console_host_row *, size_t);
int	console_clients_count(struct console *);
void	console_clients_draw(struct console *, int, int, farm_time);
void	console_clients_key(struct console *, int);
void	console_clients_revoke(struct console *);
int	console_clients_click(struct console *, int);
size_t	console_clients_busy(const struct console_host_row *, size_t *);
void	console_clients_ask_revoke(struct console *, const struct host *);

/* console-client.c */
struct console_help_key {
	const char	*keys;
	const char	*what;
};
extern const struct console_help_key console_client_help[];
extern const size_t console_client_nhelp;
void	console_client_draw(struct console *, const char *, farm_time);
int	console_client_key(struct console *, const char *, int);

/* console-events.c */
void	console_events_draw(struct console *, int, int);

/* console-prompt.c */
enum console_prompt_key {
	CONSOLE_PROMPT_EDITED,	/* the text or the cursor may have moved */
	CONSOLE_PROMPT_IGNORED,
	CONSOLE_PROMPT_ACCEPT,	/* Enter */
	CONSOLE_PROMPT_CANCEL,	/* Esc, Ctrl-G */
	CONSOLE_PROMPT_TAB
};
struct console_prompt;
struct console_prompt *console_prompt_new(void);
void	console_prompt_free(struct console_prompt *);
void	console_prompt_set(struct console_prompt *, const char *);
const char *console_prompt_text(struct console_prompt *);
enum console_prompt_key console_prompt_key(struct console_prompt *, int);
void	console_prompt_draw(struct console *, struct console_prompt *, int,
	    const char *, const char *, int);
char	*console_prompt_expand(const char *);
void	console_prompt_complete(struct console_prompt *, char **);

/* console-add.c */
void	console_add_start(struct console *);
void	console_add_key(struct console *, int);
void	console_add_draw(struct console *, int);
void	console_add_free(struct console_add *);

/* console-picture.c */
void	console_picture_draw(struct console *, int, int, int, int,
	    const struct preview_result *);

/* console-help.c */
void	console_help_draw(struct console *);
void	console_help_key(struct console *, int);

#endif
