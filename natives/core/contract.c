/*
** contract.c -- index contractions: einsum, tensordot and ncon.
** All three reduce to one engine over integer labels.  Each operand first
** loses its repeated labels (a diagonal view) and the labels nobody else
** needs (a sum); then operands are contracted two at a time, each pair
** permuted so that its batch labels lead and its contracted labels form
** the inner dimension, and handed to hebb_matmul as a batch of GEMMs.
*/
#include <stdio.h>
#include <string.h>

#include "core.h"

#define MAXLAB 256    /* distinct labels in one contraction */
#define MAXOPS 64     /* operands of one contraction */
/* einsum: the dimensions that "..." covers get label names ELL + k, k
   counted from the last of them, so that they line up from the right */
#define ELL 1000

/* an operand on its way: a tensor (owned) and a label id per dimension */
typedef struct term {
  hebb_tensor *t;
  int n;
  int lab[HEBB_MAXDIM];
} term;

/* what the engine knows about the labels, and how to name them */
typedef struct ctx {
  const char *who;
  int chars;                 /* einsum: a label is a letter */
  int nell;                  /* einsum: dimensions under "..." (most) */
  int nlab;
  int64_t name[MAXLAB];      /* a label as the caller wrote it */
  int64_t size[MAXLAB];
  int need[MAXLAB];          /* terms holding the label, +1 if output */
} ctx;

static const char *label_str(const ctx *c, int id, char *buf, size_t n) {
  if (c->chars && c->name[id] >= ELL)
    snprintf(buf, n, "dimension %d from the end of '...'",
             (int)(c->name[id] - ELL + 1));
  else if (c->chars) snprintf(buf, n, "index '%c'", (char)c->name[id]);
  else snprintf(buf, n, "label %lld", (long long)c->name[id]);
  return buf;
}

/* the id of a label name, created on first sight */
static int label_id(ctx *c, int64_t name) {
  int i;
  for (i = 0; i < c->nlab; i++)
    if (c->name[i] == name) return i;
  if (c->nlab == MAXLAB)
    return hebb_fail(HEBB_ERR_ARG, "%s: more than %d distinct labels",
                     c->who, MAXLAB), -1;
  c->name[c->nlab] = name;
  c->size[c->nlab] = -1;
  return c->nlab++;
}

/* Records the sizes of the labels of operand k (its dimension sizes must
   agree with earlier sightings of the same label). */
static int note_sizes(ctx *c, const term *tm, int k, int *first) {
  char b[64];
  int i;
  for (i = 0; i < tm->n; i++) {
    int id = tm->lab[i];
    int64_t s = tm->t->shape[i];
    if (c->size[id] < 0) { c->size[id] = s; first[id] = k; }
    else if (c->size[id] != s)
      return hebb_fail(HEBB_ERR_SHAPE, "%s: %s has size %lld in operand %d "
                       "but %lld in operand %d", c->who,
                       label_str(c, id, b, sizeof b), (long long)c->size[id],
                       first[id] + 1, (long long)s, k + 1);
  }
  return HEBB_OK;
}

static void set_term(term *tm, hebb_tensor *t) {
  hebb_release(tm->t);
  tm->t = t;
}

static void drop_label(term *tm, int i) {
  memmove(tm->lab + i, tm->lab + i + 1, (size_t)(tm->n - i - 1) * sizeof(int));
  tm->n--;
}

/* Takes the diagonal over every repeated label of tm ("ii->i"). */
static int take_diagonals(term *tm) {
  int i, j;
  for (i = 0; i < tm->n; i++)
    for (j = i + 1; j < tm->n; j++)
      if (tm->lab[i] == tm->lab[j]) {
        int l = tm->lab[i];
        hebb_tensor *d = hebb_diagonal(tm->t, 0, i, j);
        if (!d) return hebb_last_status();
        set_term(tm, d);
        drop_label(tm, j);   /* the diagonal becomes the last dim */
        drop_label(tm, i);
        tm->lab[tm->n++] = l;
        i = -1;
        break;
      }
  return HEBB_OK;
}

/* Sums tm over the labels that no other term and not the output holds. */
static int sum_private(ctx *c, term *tm) {
  int dims[HEBB_MAXDIM], nd = 0, i, k = 0;
  hebb_tensor *r = NULL;
  for (i = 0; i < tm->n; i++)
    if (c->need[tm->lab[i]] == 1) dims[nd++] = i;
  if (nd == 0) return HEBB_OK;
  if (hebb_reduce(HEBB_SUM, tm->t, nd, dims, false, 0, &r))
    return hebb_last_status();
  set_term(tm, r);
  for (i = 0; i < tm->n; i++)
    if (c->need[tm->lab[i]] != 1) tm->lab[k++] = tm->lab[i];
  tm->n = k;
  return HEBB_OK;
}

static int has_label(const term *tm, int l) {
  int i;
  for (i = 0; i < tm->n; i++)
    if (tm->lab[i] == l) return 1;
  return 0;
}

/* The labels of the contraction of a and b, as four groups: batch (in
   both, still needed later), contracted (in both, needed by nobody else),
   a's own and b's own.  'need' counts a and b as holders. */
typedef struct split {
  int nb, nk, na, nbb;
  int batch[HEBB_MAXDIM], con[HEBB_MAXDIM];
  int own_a[HEBB_MAXDIM], own_b[HEBB_MAXDIM];
} split;

static void split_pair(const ctx *c, const term *a, const term *b,
                       split *s) {
  int i;
  s->nb = s->nk = s->na = s->nbb = 0;
  for (i = 0; i < a->n; i++) {
    int l = a->lab[i];
    if (!has_label(b, l)) s->own_a[s->na++] = l;
    else if (c->need[l] > 2) s->batch[s->nb++] = l;
    else s->con[s->nk++] = l;
  }
  for (i = 0; i < b->n; i++)
    if (!has_label(a, b->lab[i])) s->own_b[s->nbb++] = b->lab[i];
}

static int64_t group_size(const ctx *c, int n, const int *lab) {
  int64_t p = 1;
  int i;
  for (i = 0; i < n; i++) p *= c->size[lab[i]];
  return p;
}

static int position(const term *tm, int l) {
  int i;
  for (i = 0; i < tm->n; i++)
    if (tm->lab[i] == l) return i;
  return -1;
}

/* tm permuted to the label groups g[0..ng-1] and reshaped to one dimension
   per group: a 3-d {batch, rows, cols} operand for matmul */
static hebb_tensor *gemm_operand(const ctx *c, const term *tm, int ng,
                                 const int *const *g, const int *gn) {
  int perm[HEBB_MAXDIM], k = 0, i, j;
  int64_t shape[3];
  hebb_tensor *p, *r;
  for (i = 0; i < ng; i++) {
    for (j = 0; j < gn[i]; j++) perm[k++] = position(tm, g[i][j]);
    shape[i] = group_size(c, gn[i], g[i]);
  }
  p = hebb_permute(tm->t, perm);
  if (!p) return NULL;
  r = hebb_reshape(p, ng, shape);
  hebb_release(p);
  return r;
}

/* Replaces a by the contraction of a and b (b is emptied). */
static int contract_pair(ctx *c, term *a, term *b) {
  split s;
  hebb_tensor *ta = NULL, *tb = NULL, *r = NULL, *v;
  int64_t shape[HEBB_MAXDIM];
  int i, n = 0, st;
  split_pair(c, a, b, &s);
  if (s.nb + s.na + s.nbb > HEBB_MAXDIM)
    return hebb_fail(HEBB_ERR_SHAPE, "%s: an intermediate result would have "
                     "%d dimensions (at most %d)", c->who,
                     s.nb + s.na + s.nbb, HEBB_MAXDIM);
  {
    const int *ga[3] = {s.batch, s.own_a, s.con};
    const int *gb[3] = {s.batch, s.con, s.own_b};
    int na[3] = {s.nb, s.na, s.nk}, nb[3] = {s.nb, s.nk, s.nbb};
    ta = gemm_operand(c, a, 3, ga, na);
    if (ta) tb = gemm_operand(c, b, 3, gb, nb);
  }
  st = ta && tb ? hebb_matmul(ta, tb, &r) : hebb_last_status();
  hebb_release(ta);
  hebb_release(tb);
  if (st != HEBB_OK) return st;
  for (i = 0; i < s.nb; i++) shape[n++] = c->size[s.batch[i]];
  for (i = 0; i < s.na; i++) shape[n++] = c->size[s.own_a[i]];
  for (i = 0; i < s.nbb; i++) shape[n++] = c->size[s.own_b[i]];
  v = hebb_reshape(r, n, shape);
  hebb_release(r);
  if (!v) return hebb_last_status();
  set_term(a, v);
  set_term(b, NULL);
  a->n = 0;
  for (i = 0; i < s.nb; i++) a->lab[a->n++] = s.batch[i];
  for (i = 0; i < s.na; i++) a->lab[a->n++] = s.own_a[i];
  for (i = 0; i < s.nbb; i++) a->lab[a->n++] = s.own_b[i];
  for (i = 0; i < s.nk; i++) c->need[s.con[i]] = 0;
  for (i = 0; i < s.nb; i++) c->need[s.batch[i]]--;
  return HEBB_OK;
}

static int shares_label(const term *a, const term *b) {
  int i;
  for (i = 0; i < a->n; i++)
    if (has_label(b, a->lab[i])) return 1;
  return 0;
}

/* Greedy order: among the pairs that share a label (all pairs if none
   do), the one whose result has the fewest elements; ties go to the
   pair (i, j) that comes first. */
static void greedy_pair(const ctx *c, const term *tm, int n, int *pi,
                        int *pj) {
  int i, j, any = 0;
  int64_t best = -1;
  *pi = 0; *pj = 1;
  for (i = 0; i < n; i++)
    for (j = i + 1; j < n; j++) any |= shares_label(&tm[i], &tm[j]);
  for (i = 0; i < n; i++)
    for (j = i + 1; j < n; j++) {
      split s;
      int64_t cost;
      if (any && !shares_label(&tm[i], &tm[j])) continue;
      split_pair(c, &tm[i], &tm[j], &s);
      cost = group_size(c, s.nb, s.batch) * group_size(c, s.na, s.own_a) *
             group_size(c, s.nbb, s.own_b);
      if (best < 0 || cost < best) { best = cost; *pi = i; *pj = j; }
    }
}

/* Order by labels: the two terms holding the first label of 'order' that
   is still open; the first two terms when none is. */
static void ordered_pair(const term *tm, int n, const int *order, int norder,
                         int *pi, int *pj) {
  int k, i;
  for (k = 0; k < norder; k++) {
    int found = 0;
    for (i = 0; i < n && found < 2; i++)
      if (has_label(&tm[i], order[k])) {
        if (found++ == 0) *pi = i; else *pj = i;
      }
    if (found == 2) return;
  }
  *pi = 0; *pj = 1;
}

/* The final term, permuted to the output labels, into *out. */
static int finish(const ctx *c, term *tm, int nout, const int *outlab,
                  int n, hebb_tensor *const *ops, hebb_tensor **out) {
  int perm[HEBB_MAXDIM], i, st, fresh = 1;
  hebb_tensor *p;
  for (i = 0; i < nout; i++) perm[i] = position(tm, outlab[i]);
  p = hebb_permute(tm->t, perm);
  if (!p) return hebb_last_status();
  for (i = 0; i < n; i++)
    if (hebb_same_storage(p, ops[i])) fresh = 0;
  /* a fresh contiguous result is handed over; a view of an input never */
  if (*out == NULL && fresh && hebb_is_contiguous(p)) {
    *out = p;
    return HEBB_OK;
  }
  st = hebb_prepare_out(out, p->dtype, nout, p->shape, c->who);
  if (st == HEBB_OK) st = hebb_copy(*out, p);
  hebb_release(p);
  return st;
}

/* The engine.  tm[k] holds ops[k] and its label ids; order (norder ids)
   picks the pairs, or NULL for the greedy order. */
static int contract(ctx *c, int n, hebb_tensor *const *ops, term *tm,
                    int nout, const int *outlab, const int *order,
                    int norder, hebb_tensor **out) {
  int first[MAXLAB], i, j, k, st = HEBB_OK, left = n;
  memset(c->need, 0, sizeof c->need);
  for (k = 0; k < n; k++) {
    st = note_sizes(c, &tm[k], k, first);
    if (st != HEBB_OK) return st;
  }
  for (i = 0; i < nout; i++) c->need[outlab[i]]++;
  for (k = 0; k < n; k++)
    for (i = 0; i < tm[k].n; i++)
      if (position(&tm[k], tm[k].lab[i]) == i) c->need[tm[k].lab[i]]++;
  for (k = 0; k < n && st == HEBB_OK; k++) {
    st = take_diagonals(&tm[k]);
    if (st == HEBB_OK) st = sum_private(c, &tm[k]);
  }
  while (st == HEBB_OK && left > 1) {
    if (order) ordered_pair(tm, left, order, norder, &i, &j);
    else greedy_pair(c, tm, left, &i, &j);
    st = contract_pair(c, &tm[i], &tm[j]);
    if (st == HEBB_OK) {
      tm[j] = tm[--left];
      tm[left].t = NULL;
      st = sum_private(c, &tm[i]);
    }
  }
  if (st == HEBB_OK) st = finish(c, &tm[0], nout, outlab, n, ops, out);
  return st;
}

/* Runs the engine over terms that already hold retained tensors, and
   releases them. */
static int run(ctx *c, int n, hebb_tensor *const *ops, term *tm, int nout,
               const int *outlab, const int *order, int norder,
               hebb_tensor **out) {
  int st = contract(c, n, ops, tm, nout, outlab, order, norder, out), k;
  for (k = 0; k < n; k++) hebb_release(tm[k].t);
  return st;
}

static int check_ops(const char *who, int n, hebb_tensor *const *ops,
                     term *tm) {
  int k;
  if (n < 1 || n > MAXOPS)
    return hebb_fail(HEBB_ERR_ARG, "%s: %d operands (1 to %d allowed)", who,
                     n, MAXOPS);
  for (k = 0; k < n; k++) {
    if (hebb_check_dtype_any(ops[k]->dtype, who)) return hebb_last_status();
    tm[k].t = NULL;
    tm[k].n = ops[k]->ndim;
  }
  return HEBB_OK;
}

static void hold_ops(int n, hebb_tensor *const *ops, term *tm) {
  int k;
  for (k = 0; k < n; k++) {
    hebb_retain(ops[k]);
    tm[k].t = ops[k];
  }
}

/* --- einsum ------------------------------------------------------------ */

static int is_letter(int ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

/* Reads one operand's subscripts from *p up to ',' or '-' or the end:
   letters, and at most one "..." for the dimensions no letter names. */
static int read_term(ctx *c, const char **p, int k, int ndim, term *tm) {
  const char *s = *p, *start = s;
  int name[HEBB_MAXDIM + 1], n = 0, ell = -1, e, i, j = 0;
  for (; *s && *s != ',' && *s != '-'; s++) {
    if (*s == ' ') continue;
    if (strncmp(s, "...", 3) == 0 && ell < 0) { ell = n; s += 2; continue; }
    if (!is_letter((unsigned char)*s))
      return hebb_fail(HEBB_ERR_ARG, "einsum: bad character '%c' in the "
                       "subscripts (letters a-z and A-Z name indices)", *s);
    if (n == HEBB_MAXDIM)
      return hebb_fail(HEBB_ERR_ARG, "einsum: operand %d has more than %d "
                       "indices", k + 1, HEBB_MAXDIM);
    name[n++] = *s;
  }
  e = ndim - n;
  if (e < 0 || (e > 0 && ell < 0))
    return hebb_fail(HEBB_ERR_SHAPE, "einsum: operand %d has %d dimensions "
                     "but its subscripts '%.*s' name %d", k + 1, ndim,
                     (int)(s - start), start, n);
  for (i = 0; i <= n; i++) {
    if (i == ell)
      while (e > 0) tm->lab[j++] = label_id(c, ELL + --e);
    if (i < n) tm->lab[j++] = label_id(c, name[i]);
  }
  if (ell >= 0 && ndim - n > c->nell) c->nell = ndim - n;
  *p = s;
  return HEBB_OK;
}

/* the ids of the "..." dimensions, leftmost first */
static int ellipsis_ids(const ctx *c, int *outlab, int n) {
  int k, i;
  for (k = c->nell - 1; k >= 0; k--)
    for (i = 0; i < c->nlab; i++)
      if (c->name[i] == ELL + k) outlab[n++] = i;
  return n;
}

static int count_terms(const char *s) {
  int n = 1;
  for (; *s && *s != '-'; s++) n += *s == ',';
  return n;
}

/* the explicit output after "->" */
static int read_output(ctx *c, const char *s, int *outlab, int *nout) {
  int n = 0, i;
  for (; *s; s++) {
    int id = -1;
    if (*s == ' ') continue;
    if (strncmp(s, "...", 3) == 0) {
      if (n + c->nell > HEBB_MAXDIM)
        return hebb_fail(HEBB_ERR_ARG, "einsum: more than %d output "
                         "indices", HEBB_MAXDIM);
      n = ellipsis_ids(c, outlab, n);
      s += 2;
      continue;
    }
    if (!is_letter((unsigned char)*s))
      return hebb_fail(HEBB_ERR_ARG, "einsum: bad character '%c' in the "
                       "output subscripts", *s);
    for (i = 0; i < c->nlab; i++)
      if (c->name[i] == *s) id = i;
    if (id < 0)
      return hebb_fail(HEBB_ERR_ARG, "einsum: output index '%c' appears in "
                       "no operand", *s);
    for (i = 0; i < n; i++)
      if (outlab[i] == id)
        return hebb_fail(HEBB_ERR_ARG, "einsum: output index '%c' appears "
                         "twice", *s);
    if (n == HEBB_MAXDIM)
      return hebb_fail(HEBB_ERR_ARG, "einsum: more than %d output indices",
                       HEBB_MAXDIM);
    outlab[n++] = id;
  }
  *nout = n;
  return HEBB_OK;
}

/* NumPy's implicit output: the indices that appear once, alphabetically
   (in ASCII order, so capitals first) */
static void implicit_output(const ctx *c, int n, const term *tm, int *outlab,
                            int *nout) {
  int count[MAXLAB] = {0}, ch, i, k, m = ellipsis_ids(c, outlab, 0);
  for (k = 0; k < n; k++)
    for (i = 0; i < tm[k].n; i++) count[tm[k].lab[i]]++;
  for (ch = 'A'; ch <= 'z'; ch++)
    for (i = 0; i < c->nlab; i++)
      if (c->name[i] == ch && count[i] == 1 && m < HEBB_MAXDIM)
        outlab[m++] = i;
  *nout = m;
}

hebb_status hebb_einsum(const char *subscripts, int n, hebb_tensor *const *ops,
                        hebb_tensor **out) {
  ctx c;
  term tm[MAXOPS];
  int outlab[HEBB_MAXDIM], nout = 0, k, nsub;
  const char *p = subscripts, *arrow;
  c.who = "einsum";
  c.chars = 1;
  c.nell = c.nlab = 0;
  if (check_ops("einsum", n, ops, tm)) return hebb_last_status();
  nsub = count_terms(subscripts);
  if (nsub != n)
    return hebb_fail(HEBB_ERR_ARG, "einsum: the subscripts name %d "
                     "operand%s but %d were given", nsub, nsub == 1 ? "" : "s",
                     n);
  for (k = 0; k < n; k++) {
    if (read_term(&c, &p, k, ops[k]->ndim, &tm[k])) return hebb_last_status();
    if (*p == ',') p++;
  }
  arrow = strstr(subscripts, "->");
  if (*p && p != arrow)
    return hebb_fail(HEBB_ERR_ARG, "einsum: bad character '%c' in the "
                     "subscripts ('->' introduces the output)", *p);
  if (arrow) {
    if (read_output(&c, arrow + 2, outlab, &nout)) return hebb_last_status();
  }
  else implicit_output(&c, n, tm, outlab, &nout);
  hold_ops(n, ops, tm);
  return run(&c, n, ops, tm, nout, outlab, NULL, 0, out);
}

/* --- tensordot --------------------------------------------------------- */

hebb_status hebb_tensordot(const hebb_tensor *a, const hebb_tensor *b, int nd,
                           const int *da, const int *db, hebb_tensor **out) {
  ctx c;
  term tm[2];
  hebb_tensor *ops[2] = {hebb_unconst(a), hebb_unconst(b)};
  int outlab[HEBB_MAXDIM], used[2][HEBB_MAXDIM] = {{0}}, nout = 0, i, k;
  c.who = "tensordot";
  c.chars = 0;
  c.nell = c.nlab = 0;
  if (check_ops("tensordot", 2, ops, tm)) return hebb_last_status();
  if (nd < 0 || nd > a->ndim || nd > b->ndim)
    return hebb_fail(HEBB_ERR_ARG, "tensordot: cannot contract %d dimensions "
                     "of tensors with %d and %d", nd, a->ndim, b->ndim);
  for (i = 0; i < nd; i++) {
    if (hebb_check_dim(a, da[i], "tensordot") ||
        hebb_check_dim(b, db[i], "tensordot"))
      return hebb_last_status();
    if (used[0][da[i]]++ || used[1][db[i]]++)
      return hebb_fail(HEBB_ERR_ARG, "tensordot: dimension %d of %s is "
                       "listed twice", used[0][da[i]] > 1 ? da[i] + 1 :
                       db[i] + 1, used[0][da[i]] > 1 ? "a" : "b");
    if (a->shape[da[i]] != b->shape[db[i]])
      return hebb_fail(HEBB_ERR_SHAPE, "tensordot: dimension %d of a has "
                       "size %lld but dimension %d of b has size %lld",
                       da[i] + 1, (long long)a->shape[da[i]], db[i] + 1,
                       (long long)b->shape[db[i]]);
  }
  if (a->ndim + b->ndim - 2 * nd > HEBB_MAXDIM)
    return hebb_fail(HEBB_ERR_SHAPE, "tensordot: the result would have %d "
                     "dimensions (at most %d)", a->ndim + b->ndim - 2 * nd,
                     HEBB_MAXDIM);
  /* a's dims are labels 0.., b's free dims follow; contracted dims of b
     take the label of their partner in a */
  for (k = 0; k < a->ndim; k++) tm[0].lab[k] = label_id(&c, k);
  for (k = 0; k < b->ndim; k++) tm[1].lab[k] = label_id(&c, a->ndim + k);
  for (i = 0; i < nd; i++) tm[1].lab[db[i]] = da[i];
  for (k = 0; k < a->ndim; k++)
    if (!used[0][k]) outlab[nout++] = k;
  for (k = 0; k < b->ndim; k++)
    if (!used[1][k]) outlab[nout++] = tm[1].lab[k];
  hold_ops(2, ops, tm);
  return run(&c, 2, ops, tm, nout, outlab, NULL, 0, out);
}

/* --- ncon -------------------------------------------------------------- */

/* Checks the network: every positive label twice, the negative ones once
   each and exactly -1, -2, ..., -nout. */
static int check_network(ctx *c, int *count, int *nout) {
  int i, nneg = 0;
  for (i = 0; i < c->nlab; i++)
    if (c->name[i] == 0)
      return hebb_fail(HEBB_ERR_ARG, "ncon: label 0 (labels are positive: "
                       "contracted, or negative: open)");
  for (i = 0; i < c->nlab; i++) {
    int64_t l = c->name[i];
    if (l > 0 && count[i] != 2)
      return hebb_fail(HEBB_ERR_ARG, "ncon: label %lld appears %d time%s (a "
                       "positive label is contracted: exactly twice)",
                       (long long)l, count[i], count[i] == 1 ? "" : "s");
    if (l < 0 && count[i] != 1)
      return hebb_fail(HEBB_ERR_ARG, "ncon: open label %lld appears %d "
                       "times (a negative label appears once)", (long long)l,
                       count[i]);
    nneg += l < 0;
  }
  for (i = 0; i < c->nlab; i++)
    if (c->name[i] < -nneg || nneg > HEBB_MAXDIM)
      return hebb_fail(HEBB_ERR_ARG, "ncon: the %d open labels must be -1 "
                       "to -%d, found %lld", nneg, nneg,
                       (long long)c->name[i]);
  *nout = nneg;
  return HEBB_OK;
}

/* the positive label ids in ascending order of the labels */
static int ascending(const ctx *c, int *order) {
  int n = 0, i, j;
  for (i = 0; i < c->nlab; i++) {
    if (c->name[i] < 0) continue;
    for (j = n; j > 0 && c->name[order[j - 1]] > c->name[i]; j--)
      order[j] = order[j - 1];
    order[j] = i;
    n++;
  }
  return n;
}

hebb_status hebb_ncon(int n, hebb_tensor *const *ops,
                      const int64_t *const *labels, bool greedy,
                      hebb_tensor **out) {
  ctx c;
  term tm[MAXOPS];
  int count[MAXLAB] = {0}, outlab[HEBB_MAXDIM], order[MAXLAB], nout = 0;
  int i, k;
  c.who = "ncon";
  c.chars = 0;
  c.nell = c.nlab = 0;
  if (check_ops("ncon", n, ops, tm)) return hebb_last_status();
  for (k = 0; k < n; k++)
    for (i = 0; i < ops[k]->ndim; i++) {
      int id = label_id(&c, labels[k][i]);
      if (id < 0) return hebb_last_status();
      tm[k].lab[i] = id;
      count[id]++;
    }
  if (check_network(&c, count, &nout)) return hebb_last_status();
  for (i = 0; i < c.nlab; i++)
    if (c.name[i] < 0) outlab[-c.name[i] - 1] = i;
  k = ascending(&c, order);
  hold_ops(n, ops, tm);
  return run(&c, n, ops, tm, nout, outlab, greedy ? NULL : order, k, out);
}
