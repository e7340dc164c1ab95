/*
 * ut_vmargs.c - vmnet in the extra QEMU arguments.
 *
 * UTM stores QEMU.AdditionalArguments (legacy: System.AddArgs) as plain
 * strings, one per line of its settings page, and splits each string at
 * whitespace before passing it to QEMU; a "..." section may hold spaces and
 * a token wrapped in quotes loses them (parsedUserArguments in
 * UTMQemuConfiguration+Arguments.swift).  So "-netdev vmnet-shared,id=n1" may
 * be one string or two.  We split the same way, look at the token stream,
 * and edit tokens, rebuilding only the strings that change.
 *
 * A vmnet netdev is the value after -netdev/-nic/-net (or --x, or "-x=...")
 * that starts with "vmnet-" or names type=vmnet-...; any other "vmnet-..."
 * token counts too unless it follows an option that may take a value.  The fix removes it, except that a -netdev whose id a
 * remaining "netdev=<id>" still uses becomes "user,id=<id>", and a -nic
 * becomes "user" with its model= and mac= kept, so the NIC stays.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ut_plist.h"
#include "ut_vm_internal.h"

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
/* A character of [^"\s]. */
static int is_plain(char c) { return c != '"' && !is_space(c); }

static int push_tok(struct vm_args_plan *pl, const char *s, unsigned entry, size_t start, size_t end)
{
	struct vm_tok *nt = realloc(pl->toks, (pl->ntoks + 1) * sizeof(*nt));
	if (!nt)
		return ut_fail(UT_ENOMEM, "out of memory");
	pl->toks = nt;
	size_t a = start, b = end;
	if (b - a >= 2 && s[a] == '"' && s[b - 1] == '"') {
		a++;
		b--;
	}
	char *v = malloc(b - a + 1);
	if (!v)
		return ut_fail(UT_ENOMEM, "out of memory");
	memcpy(v, s + a, b - a);
	v[b - a] = '\0';
	nt[pl->ntoks++] = (struct vm_tok){ entry, start, end, v };
	return 0;
}

int vm_args_tokenize(struct vm_args_plan *pl, const char *s, unsigned entry)
{
	/* The regex ((?:[^"\s]*"[^"]*"[^"\s]*)+|[^"\s]+), applied left to right. */
	size_t n = strlen(s), i = 0;
	while (i < n) {
		if (is_space(s[i])) {
			i++;
			continue;
		}
		size_t p = i;
		int matched = 0;
		for (;;) {
			size_t q = p;
			while (q < n && is_plain(s[q]))
				q++;
			if (q >= n || s[q] != '"')
				break;
			const char *close = memchr(s + q + 1, '"', n - q - 1);
			if (!close)
				break;
			q = (size_t)(close - s) + 1;
			while (q < n && is_plain(s[q]))
				q++;
			p = q;
			matched = 1;
		}
		if (!matched && is_plain(s[i])) {
			p = i;
			while (p < n && is_plain(s[p]))
				p++;
			matched = 1;
		}
		if (!matched) { /* a quote without a partner: skipped */
			i++;
			continue;
		}
		int rc = push_tok(pl, s, entry, i, p);
		if (rc)
			return rc;
		i = p;
	}
	return 0;
}

/* ---- recognising vmnet ---- */

enum opt_kind { OPT_NONE, OPT_NETDEV, OPT_NIC, OPT_NET };

static enum opt_kind opt_of(const char *t, size_t len)
{
	if (len == 0 || t[0] != '-')
		return OPT_NONE;
	if (len > 0 && t[0] == '-') {
		t++;
		len--;
	}
	if (len > 0 && t[0] == '-') {
		t++;
		len--;
	}
	if (len == 6 && strncmp(t, "netdev", 6) == 0)
		return OPT_NETDEV;
	if (len == 3 && strncmp(t, "nic", 3) == 0)
		return OPT_NIC;
	if (len == 3 && strncmp(t, "net", 3) == 0)
		return OPT_NET;
	return OPT_NONE;
}

static int is_vmnet_value(const char *v)
{
	return strncmp(v, "vmnet-", 6) == 0 || strncmp(v, "type=vmnet-", 11) == 0 || strstr(v, ",type=vmnet-") ||
	       strstr(v, "\"vmnet-");
}

/* The value of comma element key=... in v (malloc'd), or NULL. */
static char *element(const char *v, const char *key)
{
	size_t kl = strlen(key);
	for (const char *p = v; p && *p;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (len > kl && strncmp(p, key, kl) == 0 && p[kl] == '=') {
			char *r = malloc(len - kl);
			if (r) {
				memcpy(r, p + kl + 1, len - kl - 1);
				r[len - kl - 1] = '\0';
			}
			return r;
		}
		p = comma ? comma + 1 : NULL;
	}
	return NULL;
}

static int has_element(const char *v, const char *key, const char *val)
{
	char *e = element(v, key);
	int r = e && strcmp(e, val) == 0;
	free(e);
	return r;
}

static int add_edit(struct vm_args_plan *pl, size_t tok, char *replacement)
{
	struct vm_arg_edit *ne = realloc(pl->edits, (pl->nedits + 1) * sizeof(*ne));
	if (!ne) {
		free(replacement);
		return ut_fail(UT_ENOMEM, "out of memory");
	}
	pl->edits = ne;
	ne[pl->nedits++] = (struct vm_arg_edit){ tok, replacement };
	return 0;
}

static int add_hit(struct vm_args_plan *pl, unsigned entry, const char *netdev)
{
	struct vm_arg_hit *nh = realloc(pl->hits, (pl->nhits + 1) * sizeof(*nh));
	if (!nh)
		return ut_fail(UT_ENOMEM, "out of memory");
	pl->hits = nh;
	char *d = strdup(netdev);
	if (!d)
		return ut_fail(UT_ENOMEM, "out of memory");
	nh[pl->nhits++] = (struct vm_arg_hit){ entry, d };
	return 0;
}

/* True when a token other than skip_a/skip_b says netdev=<id>. */
static int id_in_use(const struct vm_args_plan *pl, const char *id, size_t skip_a, size_t skip_b)
{
	for (size_t k = 0; k < pl->ntoks; k++)
		if (k != skip_a && k != skip_b && has_element(pl->toks[k].value, "netdev", id))
			return 1;
	return 0;
}

/* True when s splits into exactly one token as it is: no whitespace, no quotes. */
static int plain_text(const char *s)
{
	for (; s && *s; s++)
		if (!is_plain(*s))
			return 0;
	return 1;
}

/*
 * The value a vmnet netdev becomes, or NULL to remove it (sets *oom on
 * failure).  Pieces copied from the old value must be plain text, so the new
 * value stays one token when UTM splits the string again.
 */
static char *replacement_for(const struct vm_args_plan *pl, enum opt_kind kind, const char *val, size_t a,
			     size_t b, int *oom)
{
	char *r = NULL;
	if (kind == OPT_NETDEV) {
		char *id = element(val, "id");
		int used = id && plain_text(id) && id_in_use(pl, id, a, b);
		if (used)
			r = ui_printf("user,id=%s", id);
		free(id);
		if (!used)
			return NULL;
	} else if (kind == OPT_NIC) {
		char *model = element(val, "model"), *mac = element(val, "mac");
		if (!plain_text(model)) {
			free(model);
			model = NULL;
		}
		if (!plain_text(mac)) {
			free(mac);
			mac = NULL;
		}
		r = ui_printf("user%s%s%s%s", model ? ",model=" : "", model ? model : "", mac ? ",mac=" : "",
			      mac ? mac : "");
		free(model);
		free(mac);
	} else {
		return NULL;
	}
	if (!r)
		*oom = 1;
	return r;
}

static const char *label(const char *where, int is_array, unsigned entry, char *buf, size_t n)
{
	if (is_array)
		snprintf(buf, n, "%s[%u]", where, entry);
	else
		snprintf(buf, n, "%s", where);
	return buf;
}

/* One vmnet netdev: opt token a (or SIZE_MAX), value token b, value text val. */
static int plan_one(struct vm_args_plan *pl, enum opt_kind kind, size_t a, size_t b, const char *prefix,
		    const char *val, const char *where, int is_array)
{
	int oom = 0;
	int rc = add_hit(pl, pl->toks[b].entry, val);
	if (rc)
		return rc;
	char *rep = replacement_for(pl, kind, val, a, b, &oom);
	if (oom)
		return ut_fail(UT_ENOMEM, "out of memory");
	char lb[96];
	label(where, is_array, pl->toks[b].entry, lb, sizeof(lb));
	if (rep) {
		char *full = ui_printf("%s%s", prefix, rep);
		free(rep);
		if (!full)
			return ut_fail(UT_ENOMEM, "out of memory");
		rc = vm_strs_add(&pl->changes, &pl->nchanges, "%s: '%s' -> '%s'", lb, pl->toks[b].value, full);
		return rc ? rc : add_edit(pl, b, full);
	}
	if (a != (size_t)-1)
		rc = vm_strs_add(&pl->changes, &pl->nchanges, "%s: removed '%s %s'", lb, pl->toks[a].value,
				 pl->toks[b].value);
	else
		rc = vm_strs_add(&pl->changes, &pl->nchanges, "%s: removed '%s'", lb, pl->toks[b].value);
	if (!rc && a != (size_t)-1)
		rc = add_edit(pl, a, NULL);
	return rc ? rc : add_edit(pl, b, NULL);
}

/*
 * A "vmnet-..." token that is not the value of an option ("-name vmnet-x" is
 * a name): a netdev value cut loose.  Only the token before counts, not how
 * the tokens are spread over strings, so the verdict survives the rewrite.
 */
static int stray(const struct vm_args_plan *pl, size_t k)
{
	if (k == 0)
		return 1;
	const char *prev = pl->toks[k - 1].value;
	return prev[0] != '-' || strchr(prev, '=') != NULL;
}

int vm_args_plan(struct vm_args_plan *pl, const char *const *entries, size_t n, const char *where, int is_array)
{
	memset(pl, 0, sizeof(*pl));
	int rc = 0;
	for (size_t e = 0; e < n && !rc; e++)
		rc = vm_args_tokenize(pl, entries[e], (unsigned)e);
	for (size_t k = 0; k < pl->ntoks && !rc; k++) {
		const char *t = pl->toks[k].value;
		const char *eq = strchr(t, '=');
		enum opt_kind kind = opt_of(t, strlen(t));
		if (kind != OPT_NONE && k + 1 < pl->ntoks && is_vmnet_value(pl->toks[k + 1].value)) {
			rc = plan_one(pl, kind, k, k + 1, "", pl->toks[k + 1].value, where, is_array);
			k++;
		} else if (t[0] == '-' && eq && (kind = opt_of(t, (size_t)(eq - t))) != OPT_NONE &&
			   is_vmnet_value(eq + 1)) {
			char prefix[16];
			size_t pl_len = (size_t)(eq - t) + 1;
			memcpy(prefix, t, pl_len);
			prefix[pl_len] = '\0';
			rc = plan_one(pl, kind, (size_t)-1, k, prefix, eq + 1, where, is_array);
		} else if (strncmp(t, "vmnet-", 6) == 0 && stray(pl, k)) {
			rc = plan_one(pl, OPT_NONE, (size_t)-1, k, "", t, where, is_array);
		}
	}
	if (rc)
		vm_args_plan_release(pl);
	return rc;
}

int vm_args_apply(const struct vm_args_plan *pl, const char *const *entries, unsigned e, char **out, int *drop)
{
	*out = NULL;
	*drop = 0;
	int touched = 0;
	for (size_t i = 0; i < pl->nedits; i++)
		touched |= pl->toks[pl->edits[i].tok].entry == e;
	if (!touched)
		return 0;
	size_t cap = strlen(entries[e]) + 1;
	for (size_t i = 0; i < pl->nedits; i++)
		if (pl->edits[i].replacement)
			cap += strlen(pl->edits[i].replacement) + 1;
	char *s = malloc(cap);
	if (!s)
		return ut_fail(UT_ENOMEM, "out of memory");
	size_t len = 0;
	int kept = 0;
	for (size_t k = 0; k < pl->ntoks; k++) {
		const struct vm_tok *t = &pl->toks[k];
		if (t->entry != e)
			continue;
		const struct vm_arg_edit *ed = NULL;
		for (size_t i = 0; i < pl->nedits; i++)
			if (pl->edits[i].tok == k)
				ed = &pl->edits[i];
		if (ed && !ed->replacement)
			continue;
		const char *src = ed ? ed->replacement : entries[e] + t->start;
		size_t sl = ed ? strlen(ed->replacement) : t->end - t->start;
		if (kept++)
			s[len++] = ' ';
		memcpy(s + len, src, sl);
		len += sl;
	}
	s[len] = '\0';
	*out = s;
	*drop = kept == 0;
	return 0;
}

void vm_args_plan_release(struct vm_args_plan *pl)
{
	for (size_t i = 0; i < pl->ntoks; i++)
		free(pl->toks[i].value);
	free(pl->toks);
	for (size_t i = 0; i < pl->nhits; i++)
		free(pl->hits[i].netdev);
	free(pl->hits);
	for (size_t i = 0; i < pl->nedits; i++)
		free(pl->edits[i].replacement);
	free(pl->edits);
	vm_strs_free(pl->changes, pl->nchanges);
	memset(pl, 0, sizeof(*pl));
}

/* ---- the check ---- */

void vm_check_args(struct vm_parse *ps, plist_t args, const char *where)
{
	int is_array = vm_is(args, PLIST_ARRAY);
	size_t n = is_array ? plist_array_get_size(args) : 1;
	const char **entries = calloc(n ? n : 1, sizeof(*entries));
	if (!entries) {
		ps->oom = 1;
		return;
	}
	int bad = 0;
	for (size_t i = 0; i < n; i++) {
		plist_t item = is_array ? plist_array_get_item(args, (uint32_t)i) : args;
		entries[i] = ut_plist_str(item);
		if (!entries[i]) {
			vm_invalid(ps, "wrong type for '%s[%zu]': %s, expected string", where, i, vm_type_name(item));
			bad = 1;
		}
	}
	struct vm_args_plan pl;
	if (bad || vm_args_plan(&pl, entries, n, where, is_array) != 0) {
		if (!bad)
			ps->oom = 1;
		free(entries);
		return;
	}
	struct ut_vm_config *vm = ps->vm;
	for (size_t h = 0; h < pl.nhits; h++) {
		struct ut_vm_arg *na = realloc(vm->args, (vm->nargs + 1) * sizeof(*na));
		if (!na) {
			ps->oom = 1;
			break;
		}
		vm->args = na;
		unsigned e = pl.hits[h].entry;
		struct ut_vm_arg *a = &na[vm->nargs++];
		a->index = e;
		a->value = strdup(entries[e]);
		a->netdev = strdup(pl.hits[h].netdev);
		if (!a->value || !a->netdev)
			ps->oom = 1;
		char lb[96];
		vm_needs_vmnet(ps, "%s: '%s' uses vmnet, which needs com.apple.vm.networking",
			       label(where, is_array, e, lb, sizeof(lb)), pl.hits[h].netdev);
	}
	vm_args_plan_release(&pl);
	free(entries);
}
