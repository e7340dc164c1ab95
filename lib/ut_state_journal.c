/*
 * ut_state_journal.c - the journal: one record per line,
 *
 *   <seq> <TYPE> key=value ... crc=<crc32 of everything before " crc=", 8 hex>
 *
 * appended and fsync'ed one at a time.  A last record that is incomplete or
 * fails its checksum is torn (the process died while writing it) and is
 * ignored; it is cut off before anything is appended.  Format and recovery
 * rules: docs/transaction.md.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "ut_file.h"
#include "ut_state_int.h"

static const char *const jtype_names[] = {
	NULL, "BEGIN", "BACKUP", "STEP", "VERIFIED", "COMMIT", "ROLLBACK-BEGIN", "RESTORED", "ROLLBACK-DONE",
};

const char *st_jtype_name(int type)
{
	return type >= ST_J_BEGIN && type <= ST_J_ROLLBACK_DONE ? jtype_names[type] : "?";
}

static const char *const action_names[] = { NULL, "write", "replace", "delete", "symlink", "mkdir" };

const char *st_action_name(int action)
{
	return action >= ST_ACT_WRITE && action <= ST_ACT_MKDIR ? action_names[action] : "?";
}

static int name_index(const char *const *names, int hi, const char *s)
{
	for (int i = 1; s && i <= hi; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return 0;
}

static void jrec_release(struct st_jrec *r)
{
	free(r->id);
	free(r->tool);
	free(r->what);
	free(r->bundle);
	ut_entry_release(&r->e);
	memset(r, 0, sizeof(*r));
}

void st_journal_release(struct st_journal *j)
{
	if (!j)
		return;
	for (size_t i = 0; i < j->n; i++)
		jrec_release(&j->r[i]);
	free(j->r);
	memset(j, 0, sizeof(*j));
}

static const char *store_name(int store) { return store == ST_STORE_UNDO ? "undo" : "pristine"; }
static const char *rbmode_name(int m) { return m == ST_RB_UNDO ? "undo" : "pristine"; }

int st_jrec_format(const struct st_jrec *r, struct ut_buf *out)
{
	size_t start = out->len;
	int rc = ut_buf_printf(out, "%llu %s", (unsigned long long)r->seq, st_jtype_name(r->type));
	switch (r->type) {
	case ST_J_BEGIN:
	case ST_J_ROLLBACK_BEGIN:
		if (!rc && r->type == ST_J_ROLLBACK_BEGIN)
			rc = st_put(out, "mode", rbmode_name(r->rbmode));
		if (!rc)
			rc = st_put(out, "id", r->id ? r->id : "");
		if (!rc)
			rc = st_put(out, "tool", r->tool ? r->tool : "");
		if (!rc && r->type == ST_J_BEGIN)
			rc = st_put(out, "what", r->what ? r->what : "");
		if (!rc)
			rc = st_put(out, "bundle", r->bundle ? r->bundle : "");
		break;
	case ST_J_BACKUP:
		if (!rc)
			rc = st_put(out, "store", store_name(r->store));
		if (!rc)
			rc = st_entry_put(out, &r->e);
		break;
	case ST_J_STEP:
		if (!rc)
			rc = st_put_u64(out, "n", r->step);
		if (!rc)
			rc = st_put(out, "action", st_action_name(r->action));
		if (!rc)
			rc = st_entry_put(out, &r->e);
		break;
	case ST_J_RESTORED:
		if (!rc)
			rc = st_put(out, "path", r->e.path);
		if (!rc)
			rc = st_put(out, "action", ut_restore_action_name(r->action));
		break;
	case ST_J_ROLLBACK_DONE:
		if (!rc)
			rc = st_put(out, "mode", rbmode_name(r->rbmode));
		break;
	}
	if (!rc) {
		uint32_t crc = (uint32_t)crc32(0L, out->p + start, (uInt)(out->len - start));
		rc = ut_buf_printf(out, " crc=%08x\n", (unsigned)crc);
	}
	return rc;
}

/* Fills r from a checked line (without seq and crc). */
static int jrec_get(struct st_jrec *r, const struct st_line *l)
{
	int rc = 0;
	r->type = name_index(jtype_names, ST_J_ROLLBACK_DONE, l->word);
	switch (r->type) {
	case ST_J_BEGIN:
	case ST_J_ROLLBACK_BEGIN: {
		rc = st_line_allow(l, r->type == ST_J_BEGIN ? "id tool what bundle" : "mode id tool bundle");
		const char *id = st_line_get(l, "id"), *tool = st_line_get(l, "tool");
		const char *what = st_line_get(l, "what"), *bundle = st_line_get(l, "bundle");
		if (!rc && (!id || !*id || !tool || !bundle || (r->type == ST_J_BEGIN && !what)))
			rc = ut_fail(UT_EMALFORMED, "%s without id, tool, what or bundle", l->word);
		if (!rc && r->type == ST_J_ROLLBACK_BEGIN &&
		    !(r->rbmode = name_index((const char *const[]){ NULL, "undo", "pristine" }, 2, st_line_get(l, "mode"))))
			rc = ut_fail(UT_EMALFORMED, "%s with a bad mode", l->word);
		if (!rc) {
			r->id = strdup(id);
			r->tool = strdup(tool);
			r->what = what ? strdup(what) : NULL;
			r->bundle = strdup(bundle);
			if (!r->id || !r->tool || !r->bundle || (what && !r->what))
				rc = ut_fail(UT_ENOMEM, "out of memory");
		}
		break;
	}
	case ST_J_BACKUP:
		rc = st_line_allow(l, "store path kind mode size sha256 target cdhash");
		if (!rc && !(r->store = name_index((const char *const[]){ NULL, "pristine", "undo" }, 2,
						   st_line_get(l, "store"))))
			rc = ut_fail(UT_EMALFORMED, "BACKUP with a bad store");
		if (!rc)
			rc = st_entry_get(&r->e, l);
		break;
	case ST_J_STEP:
		rc = st_line_allow(l, "n action path kind mode size sha256 target");
		if (!rc)
			rc = st_get_u64(l, "n", UT_STATE_MAX_RECORDS, &r->step);
		if (!rc && !(r->action = name_index(action_names, ST_ACT_MKDIR, st_line_get(l, "action"))))
			rc = ut_fail(UT_EMALFORMED, "STEP with a bad action");
		if (!rc)
			rc = st_entry_get(&r->e, l);
		break;
	case ST_J_RESTORED: {
		rc = st_line_allow(l, "path action");
		const char *path = st_line_get(l, "path"), *act = st_line_get(l, "action");
		r->action = -1;
		for (int a = UT_RESTORE_UNCHANGED; act && a <= UT_RESTORE_MKDIR; a++)
			if (strcmp(act, ut_restore_action_name(a)) == 0)
				r->action = a;
		if (!rc && (!path || st_relpath_check(path) != 0 || r->action < 0))
			rc = ut_fail(UT_EMALFORMED, "RESTORED with a bad path or action");
		if (!rc && !(r->e.path = strdup(path)))
			rc = ut_fail(UT_ENOMEM, "out of memory");
		break;
	}
	case ST_J_VERIFIED:
	case ST_J_COMMIT:
		rc = st_line_allow(l, "");
		break;
	case ST_J_ROLLBACK_DONE:
		rc = st_line_allow(l, "mode");
		if (!rc &&
		    !(r->rbmode = name_index((const char *const[]){ NULL, "undo", "pristine" }, 2, st_line_get(l, "mode"))))
			rc = ut_fail(UT_EMALFORMED, "%s with a bad mode", l->word);
		break;
	default:
		rc = ut_fail(UT_EMALFORMED, "unknown record type '%s'", l->word);
	}
	return rc;
}

/* Checks the crc and seq of one complete line and parses it. */
static int parse_record(struct st_jrec *r, const char *p, size_t n, uint64_t want_seq, int *bad_crc)
{
	*bad_crc = 0;
	memset(r, 0, sizeof(*r));
	static const char tag[] = " crc=";
	if (n < 13 || memcmp(p + n - 13, tag, 5) != 0) {
		*bad_crc = 1;
		return ut_fail(UT_EMALFORMED, "no checksum");
	}
	char hex[9];
	memcpy(hex, p + n - 8, 8);
	hex[8] = '\0';
	if (!st_is_hex(hex, 8) || (uint32_t)strtoul(hex, NULL, 16) != (uint32_t)crc32(0L, (const Bytef *)p, (uInt)(n - 13))) {
		*bad_crc = 1;
		return ut_fail(UT_EMALFORMED, "checksum mismatch");
	}
	n -= 13;
	uint64_t seq = 0;
	size_t i = 0;
	while (i < n && i < 20 && p[i] >= '0' && p[i] <= '9')
		seq = seq * 10 + (uint64_t)(p[i++] - '0');
	if (i == 0 || i >= n || p[i] != ' ')
		return ut_fail(UT_EMALFORMED, "no sequence number");
	if (seq != want_seq)
		return ut_fail(UT_EMALFORMED, "sequence number %llu, expected %llu", (unsigned long long)seq,
			       (unsigned long long)want_seq);
	r->seq = seq;
	struct st_line l;
	int rc = st_line_parse(&l, p + i + 1, n - i - 1);
	if (!rc)
		rc = jrec_get(r, &l);
	st_line_release(&l);
	if (rc)
		jrec_release(r);
	return rc;
}

int st_journal_parse(struct st_journal *j, const uint8_t *p, size_t len)
{
	memset(j, 0, sizeof(*j));
	if (len > UT_STATE_MAX_FILE)
		return ut_fail(UT_EMALFORMED, "journal of %zu bytes is too large", len);
	size_t at = 0;
	int rc = 0;
	while (at < len && !rc) {
		const uint8_t *nl = memchr(p + at, '\n', len - at);
		if (!nl) {
			j->torn = 1; /* the last record lost its end */
			break;
		}
		size_t n = (size_t)(nl - (p + at));
		int last = (size_t)(nl - p) + 1 == len;
		if (j->n == UT_STATE_MAX_RECORDS) {
			rc = ut_fail(UT_EMALFORMED, "journal has more than %d records", UT_STATE_MAX_RECORDS);
			break;
		}
		if (j->n == j->cap) {
			size_t cap = j->cap ? j->cap * 2 : 16;
			struct st_jrec *nr = realloc(j->r, cap * sizeof(*nr));
			if (!nr) {
				rc = ut_fail(UT_ENOMEM, "out of memory");
				break;
			}
			j->r = nr;
			j->cap = cap;
		}
		int bad_crc;
		rc = parse_record(&j->r[j->n], (const char *)p + at, n, j->n + 1, &bad_crc);
		if (rc && bad_crc && last) {
			j->torn = 1;
			rc = 0;
			break;
		}
		if (rc) {
			rc = ut_ctx(rc, "journal record %zu", j->n + 1);
			break;
		}
		j->n++;
		at += n + 1;
		j->valid_len = at;
	}
	if (rc)
		st_journal_release(j);
	return rc;
}

/* ---- meaning ---- */

static int jfail(const struct st_jrec *r, const char *why)
{
	return ut_fail(UT_EMALFORMED, "journal record %llu: %s %s", (unsigned long long)r->seq, st_jtype_name(r->type),
		       why);
}

int st_journal_analyze(const struct st_journal *j, struct st_jstate *s)
{
	memset(s, 0, sizeof(*s));
	uint64_t step = 0;
	for (size_t i = 0; i < j->n; i++) {
		const struct st_jrec *r = &j->r[i];
		int rb = s->rb_mode != 0;
		s->last = r;
		switch (r->type) {
		case ST_J_BEGIN:
			if (i != 0)
				return jfail(r, "after the first record");
			s->install = 1;
			s->begin = r;
			break;
		case ST_J_BACKUP:
			if (!s->install || step || s->verified || s->committed || rb)
				return jfail(r, "out of order");
			for (size_t k = 1; k < i; k++)
				if (j->r[k].type == ST_J_BACKUP && strcmp(j->r[k].e.path, r->e.path) == 0)
					return jfail(r, "repeats a path");
			s->nbackup++;
			s->last_path = r;
			break;
		case ST_J_STEP: {
			if (!s->install || s->verified || s->committed || rb)
				return jfail(r, "out of order");
			if (r->step != step + 1)
				return jfail(r, "number out of sequence");
			int planned = 0;
			for (size_t k = 1; k < i && !planned; k++)
				planned = j->r[k].type == ST_J_BACKUP && strcmp(j->r[k].e.path, r->e.path) == 0;
			if (!planned)
				return jfail(r, "changes a path without a backup");
			step = r->step;
			s->last_step = s->last_path = r;
			break;
		}
		case ST_J_VERIFIED:
			if (!s->install || s->verified || s->committed || rb)
				return jfail(r, "out of order");
			s->verified = 1;
			break;
		case ST_J_COMMIT:
			if (!s->verified || s->committed || rb)
				return jfail(r, "out of order");
			s->committed = 1;
			break;
		case ST_J_ROLLBACK_BEGIN:
			if (i == 0)
				s->begin = r;
			if ((rb && s->rb_done) || (r->rbmode == ST_RB_UNDO && (!s->install || s->committed)) ||
			    (r->rbmode == ST_RB_UNDO && s->rb_mode == ST_RB_PRISTINE))
				return jfail(r, "out of order");
			s->rb_mode = r->rbmode;
			break;
		case ST_J_RESTORED:
			if (!rb || s->rb_done)
				return jfail(r, "out of order");
			s->last_path = r;
			break;
		case ST_J_ROLLBACK_DONE:
			if (!rb || s->rb_done || r->rbmode != s->rb_mode)
				return jfail(r, "out of order");
			s->rb_done = 1;
			break;
		}
	}
	return 0;
}

/* ---- writer ---- */

int st_jwriter_open(struct st_jwriter *w, const char *path, const struct st_journal *j, unsigned fail_after)
{
	memset(w, 0, sizeof(*w));
	w->fd = -1;
	w->fail_after = fail_after;
	w->next_seq = j ? j->n + 1 : 1;
	w->path = strdup(path);
	if (!w->path)
		return ut_fail(UT_ENOMEM, "out of memory");
	int flags = O_WRONLY | O_APPEND | O_CLOEXEC | (j ? 0 : O_CREAT | O_EXCL);
	w->fd = open(path, flags, 0600);
	if (w->fd < 0) {
		int e = errno;
		st_jwriter_close(w);
		return ut_fail_errno(e == EEXIST ? UT_EEXIST : UT_EIO, e, "cannot open journal '%s'", path);
	}
	int rc = 0;
	if (j && ftruncate(w->fd, (off_t)j->valid_len) != 0)
		rc = ut_fail_errno(UT_EIO, errno, "cannot cut the torn end of journal '%s'", path);
	if (!rc && fsync(w->fd) != 0)
		rc = ut_fail_errno(UT_EIO, errno, "cannot fsync journal '%s'", path);
	if (!rc && !j)
		rc = ut_fsync_parent(path);
	if (rc)
		st_jwriter_close(w);
	return rc;
}

int st_jwriter_add(struct st_jwriter *w, struct st_jrec *r)
{
	if (w->fd < 0)
		return ut_fail(UT_EINVAL, "journal is not open");
	r->seq = w->next_seq;
	struct ut_buf b;
	ut_buf_init(&b, UT_STATE_MAX_LINE + 64);
	int rc = st_jrec_format(r, &b);
	off_t before = lseek(w->fd, 0, SEEK_END);
	for (size_t off = 0; !rc && off < b.len;) {
		ssize_t n = write(w->fd, b.p + off, b.len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			rc = ut_fail_errno(UT_EIO, errno, "cannot write journal '%s'", w->path);
		else
			off += (size_t)n;
	}
	ut_buf_release(&b);
	if (!rc && fsync(w->fd) != 0)
		rc = ut_fail_errno(UT_EIO, errno, "cannot fsync journal '%s'", w->path);
	if (rc) {
		/* keep the journal parseable: drop the partial record (best effort) */
		if (before >= 0 && ftruncate(w->fd, before) == 0)
			(void)fsync(w->fd);
		return rc;
	}
	w->next_seq++;
	w->written++;
	if (w->fail_after && w->written == w->fail_after)
		raise(SIGKILL); /* test hook: die right after journaled step n */
	return 0;
}

void st_jwriter_close(struct st_jwriter *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	free(w->path);
	memset(w, 0, sizeof(*w));
	w->fd = -1;
}
