/*
 * proto.h: the farm's line protocol, parsed and checked without any I/O,
 * for both sides of the connection.
 */
#ifndef PROTO_H
#define PROTO_H

#include <stddef.h>
#include <stdint.h>

#define PROTO_MAX_LINE		4096	/* longest line either side accepts */
#define PROTO_MAX_NAME		255	/* longest blend or image name */
#define PROTO_DIGEST_LEN	32	/* MD5 in lower-case hex */
#define PROTO_EXT_NAME		"bdfarm"	/* token prefix of the extension */
#define PROTO_EXT_VERSION	4	/* the newest this program speaks */

enum proto_cmd {
	PROTO_HELO,
	PROTO_REQUESTBLENDERDIST,
	PROTO_REQUESTJOB,
	PROTO_REQUESTBLENDERFILE,
	PROTO_RESULTS,
	PROTO_GOODBYE,

	/* The extension, between bdfarm peers only (doc/protocol.md). */
	PROTO_FACTS,
	PROTO_ALIVE,
	PROTO_WAITJOB,
	PROTO_PROGRESS,
	PROTO_FAILED,

	/* Version 2 of the extension. */
	PROTO_RETURN,
	PROTO_HOLD,
	PROTO_HELD,

	/* Version 3: the files a .blend names. */
	PROTO_REQUESTFILES,
	PROTO_REQUESTFILE,
	PROTO_MISSING,

	/* Version 4: the client's warm Blenders. */
	PROTO_WARM
};

#define PROTO_MAX_FAILURE_LINES	20	/* output lines after FAILED */
#define PROTO_MAX_MISSING	1024	/* longest path in MISSING */
#define PROTO_MAX_WARM		16	/* warm Blenders one WARM names */
#define PROTO_MAX_LIVED		1000000000 /* frames one of them rendered */

/* One request from a client; strings point into the parsed line. */
struct proto_request {
	enum proto_cmd	 cmd;
	const char	*host;		/* HELO */
	int		 ext_version;	/* HELO: 0 for an old client */
	const char	*instance;	/* HELO with the extension, or NULL */
	int		 available;	/* REQUESTJOB, WAITJOB */
	const char	*blend;		/* REQUESTBLENDERFILE, RESULTS, ... */
	const char	*digest;	/* REQUESTBLENDERFILE, RESULTS, ... */
	long		 frame;		/* RESULTS, PROGRESS, FAILED, ... */
	const char	*image;		/* RESULTS */
	uint64_t	 size;		/* RESULTS */
	int		 renderers;	/* FACTS */
	int		 cores;		/* FACTS */
	const char	*blender;	/* FACTS: Blender's version */
	unsigned	 permille;	/* PROGRESS */
	int		 lines;		/* FAILED: output lines that follow */
	const char	*reason;	/* FAILED: the rest of the line */
	const char	*file_digest;	/* REQUESTFILE */
	const char	*path;		/* MISSING: the rest of the line */
	int		 nwarm;		/* WARM: warm Blenders named */
	long		 warm[PROTO_MAX_WARM]; /* WARM: frames each rendered,
					   or -1 while it loads */
};

/* The server's answer to HELO. */
struct proto_helo_reply {
	const char	*digest;
	int		 todo;		/* 1, 0, or -1 for STOPPING */
	int		 ext_version;	/* 0 for an old server */
};

/* The server's answer to REQUESTJOB; blend is NULL for None. */
struct proto_job_reply {
	const char	*blend;
	const char	*digest;
	long		 frame;
};

int	 proto_split(char *, char **, int);
char	*proto_split_rest(char *, char **, int);
int	 proto_parse_request(char *, struct proto_request *, const char **);
int	 proto_parse_helo_reply(char *, struct proto_helo_reply *);
int	 proto_parse_job_reply(char *, struct proto_job_reply *);
int	 proto_parse_size(const char *, uint64_t, uint64_t *);
int	 proto_parse_frame(const char *, long *);
int	 proto_parse_ext(const char *);
int	 proto_valid_digest(const char *);
int	 proto_valid_host(const char *);
int	 proto_valid_file_name(const char *);
void	 proto_sanitize_name(const char *, char *, size_t);
size_t	 proto_sanitize_text(char *);

/* Version 3: the files a job's scene needs, as the server lists them. */
#define PROTO_MAX_FILES		100000	/* entries in one FILES answer */
#define PROTO_MAX_PATH		4000	/* bytes of a server path */
#define PROTO_FILES_FLAGS	32	/* room for the flags of FILES */

/* The head of the answer to REQUESTFILES; nok is set for NOK. */
struct proto_files_reply {
	int		 nok;
	long		 count;
	int		 allow_missing;
	int		 fresh_blender;	/* version 4 */
};

/* One line of a FILES answer; digest is NULL for a file the server lacks. */
struct proto_file_entry {
	const char	*digest;
	uint64_t	 size;
	const char	*path;
};

int	 proto_parse_files_reply(char *, struct proto_files_reply *);
void	 proto_files_flags(int, int, int, char *);
int	 proto_parse_file_entry(char *, struct proto_file_entry *);
int	 proto_valid_path(const char *);

#endif
