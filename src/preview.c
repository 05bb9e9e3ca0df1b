/*
 * preview.c: a frame's picture for the console, decoded in a worker thread
 * so that the single event loop never waits for a file or a decoder. The
 * loop hands the worker one request at a time; a newer request supersedes
 * the pending one, and the worker, which looks between rows whether its
 * request is still wanted, drops what is stale. A finished result comes
 * back through a pipe that the loop watches. PNG and JPEG are decoded,
 * through libpng and libjpeg, whose errors return by longjmp; any other
 * format is told by its header only.
 */
#include "bdfarm.h"

#include <sys/stat.h>

#include <errno.h>
#include <event2/event.h>
#include <event2/util.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* After stdio.h, for FILE. */
#include <jpeglib.h>
#include <png.h>

#include "fileio.h"
#include "log.h"
#include "preview.h"
#include "xmalloc.h"

/* How much of a file's start is read to tell its format. */
#define PREVIEW_HEAD		65536

/* The largest interlaced PNG, which is decoded whole, in bytes. */
#define PREVIEW_WHOLE_MAX	((uint64_t)64 << 20)

/* The most a PNG chunk or libjpeg may take, in bytes. */
#define PREVIEW_CHUNK_MAX	((png_alloc_size_t)8 << 20)
#define PREVIEW_JPEG_MEMORY	(64L << 20)

/* One request, as the worker takes it and gives it back. */
struct preview_job {
	struct preview		*preview;
	unsigned		 generation;
	char			*path;
	int			 cols;
	int			 rows;

	enum preview_state	 state;
	struct picture		 picture;
	char			*error;
};

struct preview {
	struct event_base	*base;
	void			(*ready)(void *);
	void			*arg;

	int			 fds[2];	/* worker to loop */
	struct event		*ev;

	pthread_t		 thread;
	int			 started;
	pthread_mutex_t		 lock;
	pthread_cond_t		 wake;
	int			 quit;		/* under lock */
	struct preview_job	*want;		/* under lock: to decode */
	struct preview_job	*done;		/* under lock: decoded */
	atomic_uint		 generation;	/* of the request wanted */

	/* The loop's: what was asked for last, and what came of it. */
	struct file_id		 id;
	int			 cols;
	int			 rows;
	struct preview_result	 result;
};

/* libpng's state beside ours, on the heap so that longjmp spares it. */
struct preview_png {
	char			 error[256];
	int			 ok;
	uint8_t			*row;
	uint8_t			*image;	/* an interlaced image, whole */
	struct picture_scale	 scale;
};

/* libjpeg's state beside ours; the error manager comes first. */
struct preview_jpeg {
	struct jpeg_error_mgr		 pub;
	jmp_buf				 jump;
	char				 error[JMSG_LENGTH_MAX];
	int				 created;
	int				 ok;
	struct jpeg_decompress_struct	 cinfo;
	uint8_t				*row;
	struct picture_scale		 scale;
};

/* Free a request and what the worker made of it. */
static void
preview_job_free(struct preview_job *job)
{
	if (job == NULL)
		return;
	free(job->path);
	picture_free(&job->picture);
	free(job->error);
	free(job);
}

/* Forget a result, leaving it with nothing asked for. */
static void
preview_result_clear(struct preview_result *r)
{
	free(r->path);
	picture_free(&r->picture);
	free(r->error);
	memset(r, 0, sizeof *r);
}

/* Whether a source of w × h pixels is beyond what is scaled down. */
static int
preview_too_large(uint32_t w, uint32_t h, char **cause)
{
	if (w == 0 || h == 0) {
		xasprintf(cause, _("the image has no pixels"));
		return 1;
	}
	if (w > PICTURE_MAX_SIDE || h > PICTURE_MAX_SIDE ||
	    (uint64_t)w * h > PICTURE_MAX_PIXELS) {
		xasprintf(cause, _("%u×%u pixels: too large to preview"), w, h);
		return 1;
	}
	return 0;
}

/* Whether the decoding must stop, with *cause set if so. */
static int
preview_stop(preview_cancel_cb cancel, void *arg, char **cause)
{
	if (cancel == NULL || !cancel(arg))
		return 0;
	xasprintf(cause, _("the preview was cancelled"));
	return 1;
}

/* Keep libpng's message for the caller and return to the setjmp. */
static void
preview_png_error(png_structp png, png_const_charp message)
{
	struct preview_png	*ctx = png_get_error_ptr(png);

	snprintf(ctx->error, sizeof ctx->error, "%s", message);
	png_longjmp(png, 1);
}

/* Ignore libpng's warnings: a picture that decodes is shown. */
static void
preview_png_warning(png_structp png, png_const_charp message)
{
}

/* Read a PNG's rows into the grid; libpng's errors longjmp out. */
static int
preview_png_read(png_structp png, png_infop info, struct preview_png *ctx,
    int cols, int rows, preview_cancel_cb cancel, void *arg,
    struct picture *pic, char **cause)
{
	png_uint_32	w, h, y;
	size_t		rowbytes;
	int		depth, colour, interlace, passes, pass, gw, gh;
	int		channels;

	png_read_info(png, info);
	png_get_IHDR(png, info, &w, &h, &depth, &colour, &interlace, NULL,
	    NULL);
	pic->src_width = w;
	pic->src_height = h;
	if (preview_too_large(w, h, cause))
		return -1;

	png_set_expand(png);
	png_set_scale_16(png);
	passes = png_set_interlace_handling(png);
	png_read_update_info(png, info);
	channels = png_get_channels(png, info);
	rowbytes = png_get_rowbytes(png, info);
	if (channels < 1 || channels > 4 || rowbytes != (size_t)w * channels) {
		xasprintf(cause, _("unexpected PNG layout"));
		return -1;
	}
	if (picture_fit(w, h, cols, rows, &gw, &gh) != 0) {
		xasprintf(cause, _("no room for the picture"));
		return -1;
	}
	if (passes > 1 && (uint64_t)rowbytes * h > PREVIEW_WHOLE_MAX) {
		xasprintf(cause, _("%u×%u pixels, interlaced: too large to "
		    "preview"), w, h);
		return -1;
	}
	if (picture_scale_start(&ctx->scale, pic, w, h, gw, gh, cause) != 0)
		return -1;

	if (passes == 1) {
		ctx->row = xmalloc(rowbytes);
		for (y = 0; y < h; y++) {
			if (preview_stop(cancel, arg, cause))
				return -1;
			png_read_row(png, ctx->row, NULL);
			picture_scale_row(&ctx->scale, ctx->row, channels);
		}
		return 0;
	}

	ctx->image = xcalloc(h, rowbytes);
	for (pass = 0; pass < passes; pass++) {
		for (y = 0; y < h; y++) {
			if (preview_stop(cancel, arg, cause))
				return -1;
			png_read_row(png, ctx->image + (size_t)y * rowbytes,
			    NULL);
		}
	}
	for (y = 0; y < h; y++)
		picture_scale_row(&ctx->scale, ctx->image + (size_t)y * rowbytes,
		    channels);
	return 0;
}

/* Decode a PNG from f into pic's grid; 0 on success, -1 with *cause. */
static int
preview_png(FILE *f, int cols, int rows, preview_cancel_cb cancel,
    void *arg, struct picture *pic, char **cause)
{
	struct preview_png	*ctx = xcalloc(1, sizeof *ctx);
	png_structp		 png;
	png_infop		 info = NULL;
	int			 ok;

	png = png_create_read_struct(PNG_LIBPNG_VER_STRING, ctx,
	    preview_png_error, preview_png_warning);
	if (png == NULL || (info = png_create_info_struct(png)) == NULL) {
		xasprintf(cause, _("out of memory for PNG"));
		goto out;
	}
	if (setjmp(png_jmpbuf(png))) {
		free(*cause);
		xasprintf(cause, _("bad PNG: %s"), ctx->error);
		goto out;
	}
	png_set_chunk_malloc_max(png, PREVIEW_CHUNK_MAX);
	png_init_io(png, f);
	if (preview_png_read(png, info, ctx, cols, rows, cancel, arg, pic,
	    cause) == 0)
		ctx->ok = 1;
out:
	picture_scale_end(&ctx->scale);
	png_destroy_read_struct(&png, &info, NULL);
	free(ctx->row);
	free(ctx->image);
	ok = ctx->ok;
	free(ctx);
	return ok ? 0 : -1;
}

/* Keep libjpeg's message for the caller and return to the setjmp. */
static void
preview_jpeg_error(j_common_ptr cinfo)
{
	struct preview_jpeg	*ctx = (struct preview_jpeg *)cinfo->err;

	cinfo->err->format_message(cinfo, ctx->error);
	longjmp(ctx->jump, 1);
}

/* Say nothing of libjpeg's warnings: a picture that decodes is shown. */
static void
preview_jpeg_message(j_common_ptr cinfo)
{
}

/* Turn a row of CMYK, inverted as Adobe writes it or not, into RGB. */
static void
preview_jpeg_cmyk(uint8_t *row, JDIMENSION width, int inverted)
{
	JDIMENSION	x;
	unsigned	c, m, y, k;

	for (x = 0; x < width; x++) {
		c = row[x * 4];
		m = row[x * 4 + 1];
		y = row[x * 4 + 2];
		k = row[x * 4 + 3];
		if (!inverted) {
			c = 255 - c;
			m = 255 - m;
			y = 255 - y;
			k = 255 - k;
		}
		row[x * 3] = (uint8_t)(c * k / 255);
		row[x * 3 + 1] = (uint8_t)(m * k / 255);
		row[x * 3 + 2] = (uint8_t)(y * k / 255);
	}
}

/*
 * Read a JPEG's rows into the grid, decoded at the smallest of libjpeg's
 * scales that still has a pixel for each of the grid's; errors longjmp.
 */
static int
preview_jpeg_read(struct preview_jpeg *ctx, FILE *f, int cols, int rows,
    preview_cancel_cb cancel, void *arg, struct picture *pic, char **cause)
{
	struct jpeg_decompress_struct	*c = &ctx->cinfo;
	JSAMPROW			 row;
	uint32_t			 w, h;
	unsigned			 denom;
	int				 gw, gh, cmyk;

	jpeg_stdio_src(c, f);
	c->mem->max_memory_to_use = PREVIEW_JPEG_MEMORY;
	jpeg_read_header(c, TRUE);
	w = c->image_width;
	h = c->image_height;
	pic->src_width = w;
	pic->src_height = h;
	if (preview_too_large(w, h, cause))
		return -1;
	if (picture_fit(w, h, cols, rows, &gw, &gh) != 0) {
		xasprintf(cause, _("no room for the picture"));
		return -1;
	}

	cmyk = c->jpeg_color_space == JCS_CMYK ||
	    c->jpeg_color_space == JCS_YCCK;
	if (c->jpeg_color_space == JCS_GRAYSCALE)
		c->out_color_space = JCS_GRAYSCALE;
	else
		c->out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
	for (denom = 8; denom > 1; denom /= 2) {
		if ((w + denom - 1) / denom >= (uint32_t)gw &&
		    (h + denom - 1) / denom >= (uint32_t)gh)
			break;
	}
	c->scale_num = 1;
	c->scale_denom = denom;
	c->do_fancy_upsampling = FALSE;
	jpeg_start_decompress(c);

	if (c->output_components < 1 || c->output_components > 4) {
		xasprintf(cause, _("unexpected JPEG layout"));
		return -1;
	}
	if ((uint32_t)gw > c->output_width)
		gw = (int)c->output_width;
	if ((uint32_t)gh > c->output_height)
		gh = (int)c->output_height;
	if (picture_scale_start(&ctx->scale, pic, c->output_width,
	    c->output_height, gw, gh, cause) != 0)
		return -1;
	ctx->row = xreallocarray(NULL, c->output_width,
	    (size_t)c->output_components);
	row = ctx->row;
	while (c->output_scanline < c->output_height) {
		if (preview_stop(cancel, arg, cause))
			return -1;
		if (jpeg_read_scanlines(c, &row, 1) != 1)
			break;
		if (cmyk) {
			preview_jpeg_cmyk(ctx->row, c->output_width,
			    c->saw_Adobe_marker);
			picture_scale_row(&ctx->scale, ctx->row, 3);
		} else
			picture_scale_row(&ctx->scale, ctx->row,
			    c->output_components);
	}
	return 0;
}

/* Decode a JPEG from f into pic's grid; 0 on success, -1 with *cause. */
static int
preview_jpeg(FILE *f, int cols, int rows, preview_cancel_cb cancel,
    void *arg, struct picture *pic, char **cause)
{
	struct preview_jpeg	*ctx = xcalloc(1, sizeof *ctx);
	int			 ok;

	ctx->cinfo.err = jpeg_std_error(&ctx->pub);
	ctx->pub.error_exit = preview_jpeg_error;
	ctx->pub.output_message = preview_jpeg_message;
	if (setjmp(ctx->jump)) {
		free(*cause);
		xasprintf(cause, _("bad JPEG: %s"), ctx->error);
		goto out;
	}
	jpeg_create_decompress(&ctx->cinfo);
	ctx->created = 1;
	if (preview_jpeg_read(ctx, f, cols, rows, cancel, arg, pic,
	    cause) == 0)
		ctx->ok = 1;
out:
	picture_scale_end(&ctx->scale);
	if (ctx->created)
		jpeg_destroy_decompress(&ctx->cinfo);
	free(ctx->row);
	ok = ctx->ok;
	free(ctx);
	return ok ? 0 : -1;
}

/*
 * Decode the image in f, whose name is name, into pic fitted to cols ×
 * rows cells: READY with the grid, OTHER with the facts of a format that
 * is not decoded, or ERROR with *cause. cancel, if not NULL, is asked
 * between rows whether to give up.
 */
enum preview_state
preview_decode(FILE *f, const char *name, int cols, int rows,
    preview_cancel_cb cancel, void *arg, struct picture *pic, char **cause)
{
	uint8_t		*head;
	size_t		 len;
	uint32_t	 w, h;
	int		 known, error;

	*cause = NULL;
	head = xmalloc(PREVIEW_HEAD);
	len = fread(head, 1, PREVIEW_HEAD, f);
	error = ferror(f) ? errno : 0;
	known = picture_probe(head, len, name, pic->format,
	    sizeof pic->format, &w, &h) == 0;
	free(head);
	if (error != 0) {
		xasprintf(cause, "%s", strerror(error));
		return PREVIEW_ERROR;
	}
	if (!known) {
		xasprintf(cause, _("not an image format bdfarm knows"));
		return PREVIEW_ERROR;
	}
	pic->src_width = w;
	pic->src_height = h;
	if (strcmp(pic->format, "PNG") != 0 &&
	    strcmp(pic->format, "JPEG") != 0)
		return PREVIEW_OTHER;

	if (fseek(f, 0, SEEK_SET) != 0) {
		xasprintf(cause, "%s", strerror(errno));
		return PREVIEW_ERROR;
	}
	if (strcmp(pic->format, "PNG") == 0)
		error = preview_png(f, cols, rows, cancel, arg, pic, cause);
	else
		error = preview_jpeg(f, cols, rows, cancel, arg, pic, cause);
	if (error != 0) {
		free(pic->rgb);
		pic->rgb = NULL;
		pic->width = pic->height = 0;
		return PREVIEW_ERROR;
	}
	return PREVIEW_READY;
}

/* Whether a job is no longer the request wanted. */
static int
preview_cancelled(void *arg)
{
	struct preview_job	*job = arg;

	return atomic_load(&job->preview->generation) != job->generation;
}

/*
 * Decode one request in the worker. Only a regular file is read, and it
 * is opened without waiting, so that a FIFO cannot hold the worker.
 */
static void
preview_work(struct preview_job *job)
{
	struct stat	 st;
	FILE		*f;
	char		*cause = NULL;
	int		 fd;

	job->state = PREVIEW_ERROR;
	if ((fd = open(job->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		xasprintf(&job->error, "%s", strerror(errno));
		return;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		xasprintf(&job->error, _("not a regular file"));
		close(fd);
		return;
	}
	if ((f = fdopen(fd, "rb")) == NULL) {
		xasprintf(&job->error, "%s", strerror(errno));
		close(fd);
		return;
	}
	job->state = preview_decode(f, job->path, job->cols, job->rows,
	    preview_cancelled, job, &job->picture, &cause);
	fclose(f);
	job->error = cause;
}

/* The worker: decode each request handed over until told to stop. */
static void *
preview_worker(void *arg)
{
	struct preview		*p = arg;
	struct preview_job	*job;
	int			 wake;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->quit && p->want == NULL)
			pthread_cond_wait(&p->wake, &p->lock);
		if (p->quit)
			break;
		job = p->want;
		p->want = NULL;
		pthread_mutex_unlock(&p->lock);

		preview_work(job);

		pthread_mutex_lock(&p->lock);
		wake = 0;
		if (!preview_cancelled(job)) {
			preview_job_free(p->done);
			p->done = job;
			wake = 1;
		} else
			preview_job_free(job);
		while (wake && write(p->fds[1], "", 1) == -1 && errno == EINTR)
			continue;
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* Take a result from the worker on the loop and tell the owner. */
static void
preview_arrived(evutil_socket_t fd, short events, void *arg)
{
	struct preview		*p = arg;
	struct preview_job	*job;
	char			 buf[64];

	while (read(fd, buf, sizeof buf) > 0)
		continue;
	pthread_mutex_lock(&p->lock);
	job = p->done;
	p->done = NULL;
	pthread_mutex_unlock(&p->lock);
	if (job == NULL)
		return;
	if (preview_cancelled(job)) {
		preview_job_free(job);
		return;
	}
	p->result.state = job->state;
	picture_free(&p->result.picture);
	p->result.picture = job->picture;
	memset(&job->picture, 0, sizeof job->picture);
	free(p->result.error);
	p->result.error = job->error;
	job->error = NULL;
	preview_job_free(job);
	if (p->ready != NULL)
		p->ready(p->arg);
}

/* Make a previewer whose results are taken on base; ready is told each. */
struct preview *
preview_new(struct event_base *base, void (*ready)(void *), void *arg)
{
	struct preview	*p = xcalloc(1, sizeof *p);

	p->base = base;
	p->ready = ready;
	p->arg = arg;
	if (pipe(p->fds) != 0)
		fatal("pipe");
	if (evutil_make_socket_nonblocking(p->fds[0]) != 0 ||
	    evutil_make_socket_nonblocking(p->fds[1]) != 0 ||
	    evutil_make_socket_closeonexec(p->fds[0]) != 0 ||
	    evutil_make_socket_closeonexec(p->fds[1]) != 0)
		fatal("preview: cannot set up its pipe");
	p->ev = event_new(base, p->fds[0], EV_READ | EV_PERSIST,
	    preview_arrived, p);
	if (p->ev == NULL || event_add(p->ev, NULL) != 0)
		fatalx("preview: cannot watch its pipe");
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->wake, NULL);
	atomic_init(&p->generation, 0);
	return p;
}

/* Start the worker with every signal blocked: the loop takes them all. */
static int
preview_start(struct preview *p)
{
	sigset_t	all, old;
	int		error;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	error = pthread_create(&p->thread, NULL, preview_worker, p);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (error != 0) {
		p->result.state = PREVIEW_ERROR;
		xasprintf(&p->result.error, _("cannot start a thread: %s"),
		    strerror(error));
		return -1;
	}
	p->started = 1;
	return 0;
}

/*
 * Ask for the picture of path fitted to cols × rows cells. The same file,
 * unchanged, in the same box as the last request is not decoded again; any
 * request still pending is dropped.
 */
void
preview_request(struct preview *p, const char *path, int cols, int rows)
{
	struct preview_job	*job, *old;
	struct picture		 kept;
	struct stat		 st;
	struct file_id		 id;

	if (stat(path, &st) != 0) {
		atomic_fetch_add(&p->generation, 1);
		preview_result_clear(&p->result);
		memset(&p->id, 0, sizeof p->id);
		p->result.state = PREVIEW_ERROR;
		p->result.path = xstrdup(path);
		xasprintf(&p->result.error, "%s", strerror(errno));
		return;
	}
	fileio_id(&st, &id);
	if (p->result.state != PREVIEW_NONE && p->result.path != NULL &&
	    strcmp(p->result.path, path) == 0 && fileio_id_equal(&id, &p->id) &&
	    cols == p->cols && rows == p->rows)
		return;

	job = xcalloc(1, sizeof *job);
	job->preview = p;
	job->generation = atomic_fetch_add(&p->generation, 1) + 1;
	job->path = xstrdup(path);
	job->cols = cols;
	job->rows = rows;

	/* The last picture stays on show while the next one decodes. */
	memset(&kept, 0, sizeof kept);
	if (p->result.state == PREVIEW_READY && cols == p->cols &&
	    rows == p->rows) {
		kept = p->result.picture;
		memset(&p->result.picture, 0, sizeof p->result.picture);
	}
	preview_result_clear(&p->result);
	p->result.picture = kept;
	p->result.state = PREVIEW_DECODING;
	p->result.path = xstrdup(path);
	p->result.size = (uint64_t)st.st_size;
	p->id = id;
	p->cols = cols;
	p->rows = rows;

	pthread_mutex_lock(&p->lock);
	old = p->want;
	p->want = job;
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
	preview_job_free(old);

	if (!p->started && preview_start(p) != 0) {
		pthread_mutex_lock(&p->lock);
		p->want = NULL;
		pthread_mutex_unlock(&p->lock);
		preview_job_free(job);
	}
}

/* The picture asked for last, or where it stands. */
const struct preview_result *
preview_get(struct preview *p)
{
	return &p->result;
}

/* Stop the worker, waiting for it, and free everything. */
void
preview_free(struct preview *p)
{
	if (p->started) {
		pthread_mutex_lock(&p->lock);
		p->quit = 1;
		atomic_fetch_add(&p->generation, 1);
		pthread_cond_signal(&p->wake);
		pthread_mutex_unlock(&p->lock);
		pthread_join(p->thread, NULL);
	}
	preview_job_free(p->want);
	preview_job_free(p->done);
	event_free(p->ev);
	close(p->fds[0]);
	close(p->fds[1]);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
	preview_result_clear(&p->result);
	free(p);
}
